//! `zdns query`: a small dig. Sends one query over UDP (TCP with `+tcp`, or when the UDP
//! answer is truncated) and prints the answer as dig does.

use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use lib_dns::message::Edns;
use lib_dns::{Message, Name, Rtype};

/// The node's embedded default listener, asked when no `@SERVER` is given.
const DEFAULT_SERVER: &str = "127.0.0.1:5353";
/// dig's exit status when no server could be reached.
const EXIT_NETWORK: u8 = 9;

/// Arguments of `zdns query`.
#[derive(Args)]
#[command(after_long_help = "\
ARGS, in any order:
  NAME             the name to ask about (default: the root)
  TYPE             A, AAAA, MX, TYPE65534, ... (default: A; PTR with -x)
  @SERVER[:PORT]   where to ask: an address or host name, port 53 unless given
                   (IPv6 with a port: @[::1]:5353). Default: 127.0.0.1:5353, the
                   embedded default node.
  -p PORT          the server's port
  -x ADDR          reverse lookup: asks ADDR's in-addr.arpa/ip6.arpa name, type PTR
  +tcp             use TCP from the start
  +dnssec          set the DO bit (RFC 3225)
  +norecurse       clear the RD bit
  +bufsize=N       EDNS UDP payload size (default 1232); +bufsize=0 sends no EDNS
  +timeout=S       seconds to wait for an answer (default 5)

The answer is printed as dig prints it. A truncated UDP answer is retried over TCP.
Exit status 9 when no answer could be had (as dig).")]
pub struct QueryArgs {
    /// NAME, TYPE, @SERVER and options, as dig takes them (see below).
    #[arg(allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub args: Vec<String>,
}

/// What to ask, and how.
#[derive(Debug, PartialEq)]
struct Plan {
    name: Name,
    rtype: Rtype,
    server: String,
    port: Option<u16>,
    tcp: bool,
    dnssec: bool,
    recurse: bool,
    bufsize: u16,
    timeout: Duration,
}

/// Runs `zdns query`.
pub fn run(args: QueryArgs) -> ExitCode {
    let plan = match plan(&args.args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("zdns query: {e}");
            return ExitCode::from(1);
        }
    };
    match ask(&plan) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(";; {e}");
            ExitCode::from(EXIT_NETWORK)
        }
    }
}

fn plan(args: &[String]) -> Result<Plan, String> {
    let mut plan = Plan {
        name: Name::root(),
        rtype: Rtype::A,
        server: String::new(),
        port: None,
        tcp: false,
        dnssec: false,
        recurse: true,
        bufsize: 1232,
        timeout: Duration::from_secs(5),
    };
    let (mut name, mut rtype) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if let Some(server) = arg.strip_prefix('@') {
            plan.server = server.to_owned();
        } else if let Some(option) = arg.strip_prefix('+') {
            plus_option(&mut plan, option)?;
        } else if arg == "-x" {
            let addr: IpAddr = it
                .next()
                .ok_or("-x needs an address")?
                .parse()
                .map_err(|e| format!("-x: {e}"))?;
            name = Some(reverse_name(addr)?);
            rtype = rtype.or(Some(Rtype::PTR));
        } else if arg == "-p" {
            let port = it.next().ok_or("-p needs a port")?;
            plan.port = Some(port.parse().map_err(|_| format!("bad port `{port}`"))?);
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(format!("unknown option `{arg}`"));
        } else if let Some(t) = rtype
            .is_none()
            .then(|| Rtype::from_mnemonic(arg.as_bytes()))
            .flatten()
        {
            // As dig: the first word that names a type is the type.
            rtype = Some(t);
        } else if name.is_none() {
            name = Some(Name::parse(arg).map_err(|e| format!("bad name `{arg}`: {e}"))?);
        } else {
            return Err(format!(
                "unexpected argument `{arg}`: name and type already given"
            ));
        }
    }
    plan.name = name.unwrap_or_else(Name::root);
    plan.rtype = rtype.unwrap_or(Rtype::A);
    Ok(plan)
}

fn plus_option(plan: &mut Plan, option: &str) -> Result<(), String> {
    let (key, value) = option.split_once('=').unwrap_or((option, ""));
    match key {
        "tcp" | "vc" => plan.tcp = true,
        "notcp" | "novc" => plan.tcp = false,
        "dnssec" => plan.dnssec = true,
        "nodnssec" => plan.dnssec = false,
        "norecurse" | "norec" => plan.recurse = false,
        "recurse" | "rec" => plan.recurse = true,
        "bufsize" => {
            plan.bufsize = value
                .parse()
                .map_err(|_| format!("+bufsize needs a number of bytes, got `{value}`"))?;
        }
        "timeout" => {
            let s: u64 = value
                .parse()
                .map_err(|_| format!("+timeout needs seconds, got `{value}`"))?;
            plan.timeout = Duration::from_secs(s.max(1));
        }
        _ => return Err(format!("unknown option `+{option}`")),
    }
    Ok(())
}

/// The reverse-mapping name of an address (RFC 1035 §3.5, RFC 3596 §2.5).
fn reverse_name(addr: IpAddr) -> Result<Name, String> {
    let text = match addr {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            format!("{d}.{c}.{b}.{a}.in-addr.arpa.")
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for byte in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", byte & 0x0f, byte >> 4));
            }
            s + "ip6.arpa."
        }
    };
    Name::parse(&text).map_err(|e| e.to_string())
}

/// Resolves `@SERVER[:PORT]` to one address.
fn server_addr(plan: &Plan) -> Result<SocketAddr, String> {
    let text = if plan.server.is_empty() {
        DEFAULT_SERVER
    } else {
        plan.server.as_str()
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, plan.port.unwrap_or(53)));
    }
    if let Ok(mut addr) = text.parse::<SocketAddr>() {
        if let Some(p) = plan.port {
            addr.set_port(p);
        }
        return Ok(addr);
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| format!("bad port in `{text}`"))?),
        None => (text, 53),
    };
    (host, plan.port.unwrap_or(port))
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve server `{host}`: {e}"))?
        .next()
        .ok_or_else(|| format!("server `{host}` has no address"))
}

/// Sends the query and formats the answer with dig's footer lines.
fn ask(plan: &Plan) -> Result<String, String> {
    let server = server_addr(plan)?;
    let id = u16::try_from(RandomState::new().hash_one(Instant::now()) & 0xffff).unwrap_or(0);
    let mut query = Message::query(id, plan.name.clone(), plan.rtype);
    query.flags.rd = plan.recurse;
    if plan.bufsize > 0 || plan.dnssec {
        let mut edns = Edns {
            udp_payload_size: plan.bufsize.max(512),
            ..Edns::default()
        };
        edns.set_dnssec_ok(plan.dnssec);
        query.edns = Some(edns);
    }
    let wire = query
        .to_wire(usize::from(u16::MAX))
        .map_err(|e| format!("cannot build the query: {e}"))?;
    let mut text = String::new();
    let started = Instant::now();
    let (answer, over_tcp) = if plan.tcp {
        (ask_tcp(server, &wire, plan.timeout)?, true)
    } else {
        let answer = ask_udp(server, &wire, id, plan.timeout)?;
        if answer.get(2).is_some_and(|b| b & 0x02 != 0) {
            text.push_str(";; Truncated, retrying in TCP mode.\n");
            (ask_tcp(server, &wire, plan.timeout)?, true)
        } else {
            (answer, false)
        }
    };
    let elapsed = started.elapsed();
    let message =
        Message::parse(&answer).map_err(|e| format!("the answer is not a valid message: {e}"))?;
    if message.id != id {
        return Err(format!(
            "answer id {} does not match query id {id}",
            message.id
        ));
    }
    text.push_str(";; Got answer:\n");
    text.push_str(&message.to_string());
    text.push_str(&format!(
        ";; Query time: {} msec\n;; SERVER: {}#{}({}) ({})\n;; MSG SIZE  rcvd: {}\n\n",
        elapsed.as_millis(),
        server.ip(),
        server.port(),
        server.ip(),
        if over_tcp { "TCP" } else { "UDP" },
        answer.len()
    ));
    Ok(text)
}

fn ask_udp(server: SocketAddr, wire: &[u8], id: u16, timeout: Duration) -> Result<Vec<u8>, String> {
    let local: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let net = |e: std::io::Error| format!("communications error to {server}: {e}");
    let socket = UdpSocket::bind(local).map_err(net)?;
    socket.connect(server).map_err(net)?;
    socket.send(wire).map_err(net)?;
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| format!("communications error to {server}: timed out"))?;
        socket.set_read_timeout(Some(left)).map_err(net)?;
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("communications error to {server}: timed out"));
            }
            Err(e) => return Err(net(e)),
        };
        let answer = buf.get(..n).unwrap_or_default();
        // Anything not answering our id is someone else's: keep waiting (RFC 5452 §4.3).
        if answer.get(..2) == Some(&id.to_be_bytes()[..]) {
            return Ok(answer.to_vec());
        }
    }
}

fn ask_tcp(server: SocketAddr, wire: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let net = |e: std::io::Error| format!("communications error to {server} over TCP: {e}");
    let len = u16::try_from(wire.len()).map_err(|_| "query too long for TCP".to_owned())?;
    let mut stream = TcpStream::connect_timeout(&server, timeout).map_err(net)?;
    stream.set_read_timeout(Some(timeout)).map_err(net)?;
    stream.set_write_timeout(Some(timeout)).map_err(net)?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(wire);
    stream.write_all(&framed).map_err(net)?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).map_err(net)?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut answer).map_err(net)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Plan, String> {
        plan(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments_in_any_order() {
        let a = p(&[
            "alice.sovereign.",
            "AAAA",
            "@127.0.0.1:5300",
            "+tcp",
            "+dnssec",
        ])
        .unwrap();
        assert_eq!(a.name, Name::parse("alice.sovereign.").unwrap());
        assert_eq!(a.rtype, Rtype::AAAA);
        assert_eq!(server_addr(&a).unwrap().port(), 5300);
        assert!(a.tcp && a.dnssec && a.recurse);
        let b = p(&[
            "+norecurse",
            "@::1",
            "mx",
            "example.",
            "+bufsize=4096",
            "-p",
            "5353",
        ]);
        let b = b.unwrap();
        assert_eq!(b.rtype, Rtype::MX);
        assert_eq!(b.name, Name::parse("example.").unwrap());
        assert_eq!(server_addr(&b).unwrap(), "[::1]:5353".parse().unwrap());
        assert!(!b.recurse);
        assert_eq!(b.bufsize, 4096);
        let d = p(&[]).unwrap();
        assert_eq!(server_addr(&d).unwrap(), DEFAULT_SERVER.parse().unwrap());
        assert_eq!((d.name, d.rtype), (Name::root(), Rtype::A));
    }

    #[test]
    fn the_first_word_naming_a_type_is_the_type() {
        let a = p(&["a", "ns"]).unwrap();
        assert_eq!(a.name, Name::parse("ns.").unwrap());
        assert_eq!(a.rtype, Rtype::A);
    }

    #[test]
    fn reverse_names() {
        let a = p(&["-x", "192.0.2.1"]).unwrap();
        assert_eq!(a.name, Name::parse("1.2.0.192.in-addr.arpa.").unwrap());
        assert_eq!(a.rtype, Rtype::PTR);
        let b = p(&["-x", "2001:db8::1"]).unwrap();
        assert!(b.name.to_string().starts_with("1.0.0.0.0.0.0.0."));
        assert!(b.name.to_string().ends_with("8.b.d.0.1.0.0.2.ip6.arpa."));
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(p(&["+bogus"]).unwrap_err().contains("+bogus"));
        assert!(p(&["+bufsize=x"]).unwrap_err().contains("bufsize"));
        assert!(p(&["-x"]).unwrap_err().contains("-x"));
        assert!(p(&["-q"]).unwrap_err().contains("-q"));
        assert!(
            p(&["a.", "b.", "c."])
                .unwrap_err()
                .contains("already given")
        );
    }
}
