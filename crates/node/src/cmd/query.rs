//! `zdns query`: a small dig. Sends queries over UDP (TCP with `+tcp`, or when the UDP
//! answer is truncated), or over TLS, HTTPS or QUIC (`+tls`, `+https`, `+quic`, with
//! `zdns-transport`'s client, one connection for all the queries of the invocation), and
//! prints the answers as dig does.

use std::hash::{BuildHasher, RandomState};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use lib_dns::message::Edns;
use lib_dns::{Message, Name, Rtype};
use zdns_transport::client::{Client, Protocol, Upstream};
use zdns_transport::padding::{QUERY_BLOCK, pad};
use zdns_transport::tls::Verify;

/// The node's embedded default listener, asked when no `@SERVER` is given.
const DEFAULT_SERVER: &str = "127.0.0.1:5353";
/// The embedded default's DoT and DoQ listener, asked by `+tls`/`+quic` with no server.
const DEFAULT_DOT_SERVER: &str = "127.0.0.1:8853";
/// The embedded default's DoH listener, asked by `+https` with no server.
const DEFAULT_DOH_SERVER: &str = "127.0.0.1:8443";
/// dig's exit status when no server could be reached.
const EXIT_NETWORK: u8 = 9;

/// Arguments of `zdns query`.
#[derive(Args)]
#[command(after_long_help = "\
ARGS, in any order:
  NAME             the name to ask about (default: the root). Several NAME [TYPE]
                   pairs make several queries, sent in turn (over one connection
                   with +tls, +https and +quic)
  TYPE             A, AAAA, MX, TYPE65534, ... (default: A; PTR with -x)
  @SERVER[:PORT]   where to ask: an address or host name, port 53 unless given
                   (853 with +tls/+quic, 443 with +https; IPv6 with a port:
                   @[::1]:5353). Default: 127.0.0.1:5353, the embedded default
                   node (127.0.0.1:8853 with +tls/+quic, 127.0.0.1:8443 with +https)
  -p PORT          the server's port
  -x ADDR          reverse lookup: asks ADDR's in-addr.arpa/ip6.arpa name, type PTR
  +tcp             use TCP from the start
  +tls             DNS over TLS (RFC 7858)
  +https[=PATH]    DNS over HTTPS (RFC 8484), POST to PATH (default /dns-query)
  +quic            DNS over QUIC (RFC 9250)
  +tls-ca=FILE     verify the server's certificate against the CA certificates in
  --ca FILE        FILE (PEM) and the server name (RFC 8310 strict profile)
  +tls-pin=BASE64  accept only a certificate whose SPKI SHA-256 is BASE64 (RFC 7858
  --pin BASE64     §4.2; the node logs its pin at start)
  +tls-hostname=N  the name to verify and send as SNI (default: the server as given)
                   Without +tls-ca/+tls-pin the certificate is not verified
                   (opportunistic privacy, RFC 8310 §5, as kdig +tls), and said so.
  +dnssec          set the DO bit (RFC 3225)
  +norecurse       clear the RD bit
  +bufsize=N       EDNS UDP payload size (default 1232); +bufsize=0 sends no EDNS
  +timeout=S       seconds to wait for an answer (default 5)

The answer is printed as dig prints it. A truncated UDP answer is retried over TCP.
Encrypted queries carry EDNS padding (RFC 8467, 128-byte blocks).
Exit status 9 when no answer could be had (as dig).")]
pub struct QueryArgs {
    /// NAME, TYPE, @SERVER and options, as dig takes them (see below).
    #[arg(allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
    pub args: Vec<String>,
}

/// How the queries travel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// UDP, TCP when truncated.
    Udp,
    /// TCP from the start.
    Tcp,
    /// DNS over TLS.
    Tls,
    /// DNS over HTTPS, POST to this path.
    Https(String),
    /// DNS over QUIC.
    Quic,
}

/// How an encrypted server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    /// Not at all (opportunistic).
    None,
    /// Against the CA certificates of a file.
    Ca(String),
    /// Against an SPKI pin.
    Pin(String),
}

/// What to ask, and how.
#[derive(Debug, PartialEq)]
struct Plan {
    queries: Vec<(Name, Rtype)>,
    server: String,
    port: Option<u16>,
    via: Via,
    check: Check,
    tls_hostname: Option<String>,
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
        queries: Vec::new(),
        server: String::new(),
        port: None,
        via: Via::Udp,
        check: Check::None,
        tls_hostname: None,
        dnssec: false,
        recurse: true,
        bufsize: 1232,
        timeout: Duration::from_secs(5),
    };
    // The question being read: a new NAME after a NAME starts the next one (as dig).
    let (mut name, mut rtype): (Option<Name>, Option<Rtype>) = (None, None);
    let finish = |name: &mut Option<Name>, rtype: &mut Option<Rtype>| {
        if name.is_none() && rtype.is_none() {
            return None;
        }
        Some((
            name.take().unwrap_or_else(Name::root),
            rtype.take().unwrap_or(Rtype::A),
        ))
    };
    let mut queries = Vec::new();
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
            if name.is_some() {
                queries.extend(finish(&mut name, &mut rtype));
            }
            name = Some(reverse_name(addr)?);
            rtype = rtype.or(Some(Rtype::PTR));
        } else if arg == "-p" {
            let port = it.next().ok_or("-p needs a port")?;
            plan.port = Some(port.parse().map_err(|_| format!("bad port `{port}`"))?);
        } else if arg == "--ca" {
            let file = it.next().ok_or("--ca needs a file")?;
            plan.check = Check::Ca(file.clone());
        } else if arg == "--pin" {
            let pin = it.next().ok_or("--pin needs a base64 SPKI pin")?;
            plan.check = Check::Pin(pin.clone());
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(format!("unknown option `{arg}`"));
        } else if let Some(t) = rtype
            .is_none()
            .then(|| Rtype::from_mnemonic(arg.as_bytes()))
            .flatten()
        {
            // As dig: the first word that names a type is the question's type.
            rtype = Some(t);
        } else {
            let parsed = Name::parse(arg).map_err(|e| format!("bad name `{arg}`: {e}"))?;
            if name.is_some() {
                queries.extend(finish(&mut name, &mut rtype));
            }
            name = Some(parsed);
        }
    }
    queries.extend(finish(&mut name, &mut rtype));
    if queries.is_empty() {
        queries.push((Name::root(), Rtype::A));
    }
    plan.queries = queries;
    Ok(plan)
}

fn plus_option(plan: &mut Plan, option: &str) -> Result<(), String> {
    let (key, value) = option.split_once('=').unwrap_or((option, ""));
    match key {
        "tcp" | "vc" => plan.via = Via::Tcp,
        "notcp" | "novc" => plan.via = Via::Udp,
        "tls" => plan.via = Via::Tls,
        "https" => {
            let path = if value.is_empty() {
                zdns_transport::doh::DEFAULT_PATH
            } else {
                value
            };
            if !path.starts_with('/') {
                return Err(format!(
                    "+https needs a path starting with `/`, got `{value}`"
                ));
            }
            plan.via = Via::Https(path.to_owned());
        }
        "quic" => plan.via = Via::Quic,
        "tls-ca" if !value.is_empty() => plan.check = Check::Ca(value.to_owned()),
        "tls-pin" if !value.is_empty() => plan.check = Check::Pin(value.to_owned()),
        "tls-hostname" if !value.is_empty() => plan.tls_hostname = Some(value.to_owned()),
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
    let (default_server, default_port) = match plan.via {
        Via::Udp | Via::Tcp => (DEFAULT_SERVER, 53),
        Via::Tls | Via::Quic => (DEFAULT_DOT_SERVER, 853),
        Via::Https(_) => (DEFAULT_DOH_SERVER, 443),
    };
    let text = if plan.server.is_empty() {
        default_server
    } else {
        plan.server.as_str()
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, plan.port.unwrap_or(default_port)));
    }
    if let Ok(mut addr) = text.parse::<SocketAddr>() {
        if let Some(p) = plan.port {
            addr.set_port(p);
        }
        return Ok(addr);
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| format!("bad port in `{text}`"))?),
        None => (text, default_port),
    };
    (host, plan.port.unwrap_or(port))
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve server `{host}`: {e}"))?
        .next()
        .ok_or_else(|| format!("server `{host}` has no address"))
}

/// Sends the queries and formats the answers with dig's footer lines.
fn ask(plan: &Plan) -> Result<String, String> {
    let server = server_addr(plan)?;
    match &plan.via {
        Via::Udp | Via::Tcp => {
            let mut text = String::new();
            for (name, rtype) in &plan.queries {
                text.push_str(&ask_plain(plan, server, name, *rtype)?);
            }
            Ok(text)
        }
        Via::Tls => ask_encrypted(plan, server, Protocol::Tls),
        Via::Https(path) => ask_encrypted(plan, server, Protocol::Https { path: path.clone() }),
        Via::Quic => ask_encrypted(plan, server, Protocol::Quic),
    }
}

/// A query in wire form with a random ID.
fn build_query(plan: &Plan, name: &Name, rtype: Rtype) -> Result<(u16, Vec<u8>), String> {
    let id = u16::try_from(RandomState::new().hash_one(Instant::now()) & 0xffff).unwrap_or(0);
    let mut query = Message::query(id, name.clone(), rtype);
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
    Ok((id, wire))
}

/// The answer printed as dig prints it, with the footer.
fn describe_answer(
    answer: &[u8],
    id: u16,
    elapsed: Duration,
    server: SocketAddr,
    via: &str,
) -> Result<String, String> {
    let message =
        Message::parse(answer).map_err(|e| format!("the answer is not a valid message: {e}"))?;
    if message.id != id {
        return Err(format!(
            "answer id {} does not match query id {id}",
            message.id
        ));
    }
    Ok(format!(
        ";; Got answer:\n{message};; Query time: {} msec\n;; SERVER: {}#{}({}) ({via})\n;; MSG SIZE  rcvd: {}\n\n",
        elapsed.as_millis(),
        server.ip(),
        server.port(),
        server.ip(),
        answer.len()
    ))
}

/// One query over UDP (TCP when truncated, or with +tcp).
fn ask_plain(plan: &Plan, server: SocketAddr, name: &Name, rtype: Rtype) -> Result<String, String> {
    let (id, wire) = build_query(plan, name, rtype)?;
    let mut text = String::new();
    let started = Instant::now();
    let (answer, over_tcp) = if plan.via == Via::Tcp {
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
    let via = if over_tcp { "TCP" } else { "UDP" };
    text.push_str(&describe_answer(
        &answer,
        id,
        started.elapsed(),
        server,
        via,
    )?);
    Ok(text)
}

/// The name an encrypted server's certificate is checked against (and sent as SNI):
/// `+tls-hostname`, else the server as written when it is a host name, else its address.
fn tls_server_name(plan: &Plan, server: SocketAddr) -> String {
    if let Some(name) = &plan.tls_hostname {
        return name.clone();
    }
    let text = plan.server.as_str();
    if text.is_empty() || text.parse::<IpAddr>().is_ok() || text.parse::<SocketAddr>().is_ok() {
        return server.ip().to_string();
    }
    text.rsplit_once(':')
        .map_or(text, |(host, _)| host)
        .to_owned()
}

/// Every query of the plan over one encrypted connection.
fn ask_encrypted(plan: &Plan, server: SocketAddr, protocol: Protocol) -> Result<String, String> {
    let mut text = String::new();
    let verify = match &plan.check {
        Check::None => {
            text.push_str(
                ";; Certificate not verified (opportunistic privacy); use +tls-ca= or +tls-pin=\n",
            );
            Verify::Opportunistic
        }
        Check::Ca(file) => {
            Verify::ca_file(std::path::Path::new(file)).map_err(|e| e.to_string())?
        }
        Check::Pin(pin) => Verify::pin(pin).map_err(|e| e.to_string())?,
    };
    let server_name = tls_server_name(plan, server);
    let via = protocol.name();
    let mut client = Client::new(Upstream {
        addr: server,
        server_name,
        protocol,
        verify,
        timeout: plan.timeout,
    })
    .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    for (name, rtype) in &plan.queries {
        let (id, mut wire) = build_query(plan, name, *rtype)?;
        pad(&mut wire, QUERY_BLOCK);
        let started = Instant::now();
        let answer = runtime
            .block_on(client.query(&wire))
            .map_err(|e| format!("communications error to {server} over {via}: {e}"))?;
        text.push_str(&describe_answer(
            &answer,
            id,
            started.elapsed(),
            server,
            via,
        )?);
    }
    if plan.queries.len() > 1 {
        text.push_str(&format!(
            ";; {} queries over {} {via} connection(s)\n",
            plan.queries.len(),
            client.connections_opened()
        ));
    }
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
        assert_eq!(
            a.queries,
            vec![(Name::parse("alice.sovereign.").unwrap(), Rtype::AAAA)]
        );
        assert_eq!(server_addr(&a).unwrap().port(), 5300);
        assert!(a.via == Via::Tcp && a.dnssec && a.recurse);
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
        assert_eq!(
            b.queries,
            vec![(Name::parse("example.").unwrap(), Rtype::MX)]
        );
        assert_eq!(server_addr(&b).unwrap(), "[::1]:5353".parse().unwrap());
        assert!(!b.recurse);
        assert_eq!(b.bufsize, 4096);
        let d = p(&[]).unwrap();
        assert_eq!(server_addr(&d).unwrap(), DEFAULT_SERVER.parse().unwrap());
        assert_eq!(d.queries, vec![(Name::root(), Rtype::A)]);
    }

    #[test]
    fn the_first_word_naming_a_type_is_the_type() {
        let a = p(&["a", "ns"]).unwrap();
        assert_eq!(a.queries, vec![(Name::parse("ns.").unwrap(), Rtype::A)]);
    }

    #[test]
    fn reverse_names() {
        let a = p(&["-x", "192.0.2.1"]).unwrap();
        assert_eq!(
            a.queries,
            vec![(Name::parse("1.2.0.192.in-addr.arpa.").unwrap(), Rtype::PTR)]
        );
        let b = p(&["-x", "2001:db8::1"]).unwrap();
        let name = b.queries[0].0.to_string();
        assert!(name.starts_with("1.0.0.0.0.0.0.0."));
        assert!(name.ends_with("8.b.d.0.1.0.0.2.ip6.arpa."));
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(p(&["+bogus"]).unwrap_err().contains("+bogus"));
        assert!(p(&["+bufsize=x"]).unwrap_err().contains("bufsize"));
        assert!(p(&["-x"]).unwrap_err().contains("-x"));
        assert!(p(&["-q"]).unwrap_err().contains("-q"));
        assert!(p(&["+https=dns-query"]).unwrap_err().contains("/"));
        assert!(p(&["--pin"]).unwrap_err().contains("pin"));
    }

    #[test]
    fn several_questions_in_one_invocation() {
        let a = p(&["a.", "b.", "AAAA", "c.", "MX", "d."]).unwrap();
        let n = |s| Name::parse(s).unwrap();
        assert_eq!(
            a.queries,
            vec![
                (n("a."), Rtype::A),
                (n("b."), Rtype::AAAA),
                (n("c."), Rtype::MX),
                (n("d."), Rtype::A)
            ]
        );
    }

    #[test]
    fn encrypted_transports_and_their_defaults() {
        let t = p(&["+tls", "+tls-pin=AAAA"]).unwrap();
        assert_eq!(t.via, Via::Tls);
        assert_eq!(t.check, Check::Pin("AAAA".to_owned()));
        assert_eq!(
            server_addr(&t).unwrap(),
            DEFAULT_DOT_SERVER.parse().unwrap()
        );
        let h = p(&["+https", "--ca", "ca.pem", "@192.0.2.1"]).unwrap();
        assert_eq!(h.via, Via::Https("/dns-query".to_owned()));
        assert_eq!(h.check, Check::Ca("ca.pem".to_owned()));
        let addr = server_addr(&h).unwrap();
        assert_eq!(addr, "192.0.2.1:443".parse().unwrap());
        assert_eq!(tls_server_name(&h, addr), "192.0.2.1");
        let named = p(&["+tls", "@dns.example:853", "+tls-hostname=other.example"]).unwrap();
        assert_eq!(tls_server_name(&named, addr), "other.example");
        let named = p(&["+tls", "@localhost:853"]).unwrap();
        assert_eq!(tls_server_name(&named, addr), "localhost");
        let q = p(&["+quic", "@::1", "--pin", "x"]).unwrap();
        assert_eq!(server_addr(&q).unwrap(), "[::1]:853".parse().unwrap());
        let h = p(&["+https=/q", "@127.0.0.1:8443"]).unwrap();
        assert_eq!(h.via, Via::Https("/q".to_owned()));
        assert_eq!(server_addr(&h).unwrap().port(), 8443);
    }
}
