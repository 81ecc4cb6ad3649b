//! `zdns serve` as a recursive resolver over a DNS hierarchy on loopback: a root, TLDs
//! and leaf zones served by our own authoritative engine (`zdns_auth::AuthServer`
//! behind small UDP and TCP loops) on 127.0.0.1–6 at one high port, with the node's
//! root hints pointing at it. Checked with raw queries, `dig` and `kdig`, and against
//! Unbound pointed at the same servers (stub zones, as Unbound cannot be given a port
//! for servers it learns from glue).
//!
//! Peers missing are skipped with a notice, unless `ZDNS_REQUIRE_PEERS=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../../resolver/tests/common/mod.rs"]
mod hierarchy;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lib_dns::message::Edns;
use lib_dns::{Message, Name, Rcode, Record, Rtype};
use zdns_auth::{Answerer, AuthServer, Outcome, QueryContext, Transport};

const ZDNS: &str = env!("CARGO_BIN_EXE_zdns");

/// The zones of the hierarchy and the loopback address serving each.
fn layout() -> Vec<(u8, Arc<AuthServer>, Vec<&'static str>)> {
    use hierarchy::*;
    let example = server(&[zone("example.test.", EXAMPLE)]);
    vec![
        (1, server(&[zone(".", ROOT)]), vec!["."]),
        (2, server(&[zone("test.", TEST)]), vec!["test."]),
        (3, example.clone(), vec!["example.test."]),
        (4, example, vec!["example.test."]),
        (5, server(&[zone("other.", OTHER)]), vec!["other."]),
        (
            6,
            server(&[zone("glueless.test.", GLUELESS)]),
            vec!["glueless.test."],
        ),
    ]
}

/// Serves `server` on UDP and TCP from background threads, for the life of the test
/// process; while `down` is set, queries go unanswered.
fn serve(server: Arc<AuthServer>, udp: UdpSocket, tcp: TcpListener, down: Arc<AtomicBool>) {
    let s = Arc::clone(&server);
    let udp_down = Arc::clone(&down);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut out = Vec::new();
        while let Ok((len, from)) = udp.recv_from(&mut buf) {
            if udp_down.load(Ordering::SeqCst) {
                continue;
            }
            let ctx = QueryContext {
                client: from,
                transport: Transport::Udp,
                now: 0,
            };
            if s.answer(&buf[..len], &ctx, &mut out) == Outcome::Reply {
                let _ = udp.send_to(&out, from);
            }
        }
    });
    std::thread::spawn(move || {
        for stream in tcp.incoming().flatten() {
            if down.load(Ordering::SeqCst) {
                continue;
            }
            let server = Arc::clone(&server);
            std::thread::spawn(move || tcp_session(&server, stream));
        }
    });
}

fn tcp_session(server: &AuthServer, mut stream: TcpStream) {
    let peer = stream.peer_addr().unwrap();
    let mut out = Vec::new();
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        let ctx = QueryContext {
            client: peer,
            transport: Transport::Stream,
            now: 0,
        };
        if server.answer(&query, &ctx, &mut out) == Outcome::Reply {
            let mut framed = (out.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&out);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }
}

/// The hierarchy's port and its off switch.
struct Hierarchy {
    port: u16,
    down: Arc<AtomicBool>,
}

/// Starts the hierarchy at one free high port on 127.0.0.1–6.
fn start_hierarchy() -> Hierarchy {
    'port: for _ in 0..50 {
        let port = free_port();
        let mut bound = Vec::new();
        for (last, server, _) in layout() {
            let addr = SocketAddr::from(([127, 0, 0, last], port));
            let (Ok(udp), Ok(tcp)) = (UdpSocket::bind(addr), TcpListener::bind(addr)) else {
                continue 'port;
            };
            bound.push((server, udp, tcp));
        }
        let down = Arc::new(AtomicBool::new(false));
        for (server, udp, tcp) in bound {
            serve(server, udp, tcp, Arc::clone(&down));
        }
        return Hierarchy { port, down };
    }
    panic!("no port free on all of 127.0.0.1-6");
}

fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running process, killed when dropped.
struct Process {
    child: Child,
    dir: tempfile::TempDir,
    dns: SocketAddr,
    http: Option<SocketAddr>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Stops it with SIGTERM (a clean shutdown) and hands back its directory.
    fn terminate(mut self) -> tempfile::TempDir {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "did not stop:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Waits until it answers a query (any answer).
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("exited with {status}:\n{}", self.log());
            }
            if exchange(
                self.dns,
                "ready.invalid.",
                Rtype::A,
                false,
                Duration::from_millis(200),
            )
            .is_some()
            {
                return;
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `zdns serve` recursing from the hierarchy at `port`.
fn start_zdns(port: u16) -> Process {
    start_zdns_in(tempfile::tempdir().unwrap(), port)
}

/// `zdns serve` with its config and data directory in `dir`.
fn start_zdns_in(dir: tempfile::TempDir, port: u16) -> Process {
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let http = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let sovereign = concat!(env!("CARGO_MANIFEST_DIR"), "/../../zones/sovereign.zone");
    let text = format!(
        "listen = [\"{dns}\"]\nhttp = \"{http}\"\ndata_dir = \"data\"\nthreads = 2\n\
         [resolver]\nroot_hints = [\"127.0.0.1:{port}\"]\nupstream_port = {port}\n\
         [[zone]]\norigin = \"sovereign.\"\nfile = \"{sovereign}\"\n"
    );
    let conf = dir.path().join("zdns.toml");
    std::fs::write(&conf, text).unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let child = Command::new(ZDNS)
        .args(["serve", "--config"])
        .arg(&conf)
        .current_dir(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut p = Process {
        child,
        dir,
        dns,
        http: Some(http),
    };
    p.wait_ready();
    p
}

/// One UDP query with RD as asked (EDNS on), retried over TCP when truncated.
fn exchange(
    server: SocketAddr,
    name: &str,
    rtype: Rtype,
    rd: bool,
    wait: Duration,
) -> Option<Message> {
    let mut q = Message::query(0x5151, Name::parse(name).unwrap(), rtype);
    q.flags.rd = rd;
    q.edns = Some(Edns::default());
    let wire = q.to_wire(512).unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(wait)).unwrap();
    socket.send_to(&wire, server).ok()?;
    let mut buf = [0u8; 65535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    let reply = Message::parse(&buf[..len]).ok()?;
    if !reply.flags.tc {
        return Some(reply);
    }
    let mut stream = TcpStream::connect_timeout(&server, wait).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    let mut framed = (wire.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&wire);
    stream.write_all(&framed).ok()?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).ok()?;
    Message::parse(&body).ok()
}

fn ask(server: SocketAddr, name: &str, rtype: Rtype) -> Message {
    exchange(server, name, rtype, true, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no answer for {name} {rtype}"))
}

/// The names both resolvers are asked, covering each kind of answer.
const CORPUS: &[(&str, Rtype)] = &[
    ("www.example.test.", Rtype::A),
    ("alias.example.test.", Rtype::A),
    ("deep.example.test.", Rtype::A),
    ("ext.example.test.", Rtype::A),
    ("www.old.example.test.", Rtype::A),
    ("nope.example.test.", Rtype::A),
    ("a.b.nope.example.test.", Rtype::A),
    ("www.example.test.", Rtype::AAAA),
    ("mail.example.test.", Rtype::MX),
    ("big.example.test.", Rtype::TXT),
    ("host.glueless.test.", Rtype::A),
    ("www.example.other.", Rtype::A),
    ("missing.other.", Rtype::A),
    ("nothing.invalid-tld.", Rtype::A),
];

/// The answer section as sorted presentation lines without TTLs, for comparison.
fn answer_lines(m: &Message) -> Vec<String> {
    let mut lines: Vec<String> = m
        .answers
        .iter()
        .map(|r: &Record| {
            let text = r.to_string();
            let mut fields: Vec<&str> = text.split('\t').collect();
            fields.remove(1);
            fields.join(" ").to_lowercase()
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn resolves_the_loopback_hierarchy() {
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    let a = ask(zdns.dns, "www.example.test.", Rtype::A);
    assert_eq!(a.rcode, Rcode::NOERROR, "{}", zdns.log());
    assert!(a.flags.ra && !a.flags.aa);
    assert_eq!(a.answers.len(), 2);
    let cname = ask(zdns.dns, "ext.example.test.", Rtype::A);
    assert_eq!(cname.answers.len(), 2);
    assert_eq!(
        answer_lines(&cname)[1],
        "www.example.other. in a 192.0.2.50"
    );
    let nx = ask(zdns.dns, "nope.example.test.", Rtype::A);
    assert_eq!(nx.rcode, Rcode::NXDOMAIN);
    // The NXDOMAIN metadata option (docs/zdns-records.md §4.1).
    let meta = zdns_resolver::Answer::from_response(&nx)
        .nx_metadata
        .unwrap();
    assert!(matches!(
        meta.responder,
        zdns_resolver::nxmeta::Responder::Address(ip) if ip.is_loopback()
    ));
    assert_eq!(meta.coverage_bp, Some(5000));
    let nodata = ask(zdns.dns, "www.example.test.", Rtype::AAAA);
    assert_eq!(nodata.rcode, Rcode::NOERROR);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.authority[0].rtype(), Rtype::SOA);
    let glueless = ask(zdns.dns, "host.glueless.test.", Rtype::A);
    assert_eq!(
        answer_lines(&glueless),
        vec!["host.glueless.test. in a 192.0.2.60"]
    );
    // Over 1232 bytes: truncated over UDP upstream and to us; TCP both ways.
    let big = ask(zdns.dns, "big.example.test.", Rtype::TXT);
    assert_eq!(big.answers.len(), 3, "{}", zdns.log());
    // The second time comes from the cache, TTL counted down or equal.
    let again = ask(zdns.dns, "www.example.test.", Rtype::A);
    assert!(again.answers[0].ttl <= 300);
    // Without RD, names outside the node's zones are refused, as before.
    let plain = exchange(
        zdns.dns,
        "www.example.test.",
        Rtype::A,
        false,
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(plain.rcode, Rcode::REFUSED);
}

fn peer(tool: &str) -> bool {
    let found = Command::new(tool)
        .arg(if tool == "unbound" { "-V" } else { "-v" })
        .output()
        .is_ok();
    if !found {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "{tool} not found and ZDNS_REQUIRE_PEERS=1"
        );
        eprintln!("recursion: {tool} checks skipped, {tool} not found");
    }
    found
}

#[test]
fn dig_and_kdig_against_the_resolver() {
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    for (tool, once) in [("dig", "+tries=1"), ("kdig", "+retry=0")] {
        if !peer(tool) {
            continue;
        }
        for transport in ["+notcp", "+tcp"] {
            let out = Command::new(tool)
                .arg(format!("@{}", zdns.dns.ip()))
                .args(["-p", &zdns.dns.port().to_string()])
                .args(["alias.example.test.", "A", transport, "+time=5", once])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("NOERROR"),
                "{tool} {transport}: {text}\n{}",
                zdns.log()
            );
            assert!(
                text.contains("192.0.2.1") && text.contains("192.0.2.2"),
                "{tool}: {text}"
            );
            assert!(text.contains("CNAME"), "{tool}: {text}");
        }
        let out = Command::new(tool)
            .arg(format!("@{}", zdns.dns.ip()))
            .args(["-p", &zdns.dns.port().to_string()])
            .args(["nope.example.test.", "A", "+time=5", once])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("NXDOMAIN"), "{tool}: {text}");
    }
}

/// Unbound with one stub zone per zone of the hierarchy (the port is not 53).
fn start_unbound(port: u16) -> Process {
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let mut conf = format!(
        "server:\n  interface: 127.0.0.1@{listen}\n  port: {listen}\n  do-ip6: no\n\
         \x20 do-not-query-localhost: no\n  username: \"\"\n  chroot: \"\"\n\
         \x20 directory: \"{dir}\"\n  pidfile: \"\"\n  use-syslog: no\n\
         \x20 logfile: \"{dir}/log\"\n  module-config: \"iterator\"\n\
         \x20 qname-minimisation: yes\n  access-control: 127.0.0.0/8 allow\n\
         \x20 num-threads: 1\n  so-reuseport: no\n  verbosity: 1\n\
         \x20 local-zone: \"test.\" nodefault\n  local-zone: \"invalid.\" nodefault\n",
        dir = dir.path().display()
    );
    let mut seen = std::collections::BTreeMap::new();
    for (last, _, zones) in layout() {
        for zone in zones {
            seen.entry(zone).or_insert_with(Vec::new).push(last);
        }
    }
    for (zone, lasts) in seen {
        conf.push_str(&format!("stub-zone:\n  name: \"{zone}\"\n"));
        for last in lasts {
            conf.push_str(&format!("  stub-addr: 127.0.0.{last}@{port}\n"));
        }
    }
    let path = dir.path().join("unbound.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new("unbound")
        .args(["-d", "-c"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut p = Process {
        child,
        dir,
        dns: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen),
        http: None,
    };
    p.wait_ready();
    p
}

#[test]
fn answers_match_unbound() {
    if !peer("unbound") {
        return;
    }
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    let unbound = start_unbound(hierarchy.port);
    let mut diffs = Vec::new();
    for &(name, rtype) in CORPUS {
        let ours = ask(zdns.dns, name, rtype);
        let theirs = ask(unbound.dns, name, rtype);
        if ours.rcode != theirs.rcode || answer_lines(&ours) != answer_lines(&theirs) {
            diffs.push(format!(
                "{name} {rtype}: zdns {} {:?}\n  unbound {} {:?}",
                ours.rcode,
                answer_lines(&ours),
                theirs.rcode,
                answer_lines(&theirs)
            ));
        }
        let negative = ours.answers.is_empty();
        if negative && ours.rcode != Rcode::SERVFAIL {
            assert_eq!(
                ours.authority.first().map(|r| r.rtype()),
                Some(Rtype::SOA),
                "{name}"
            );
        }
    }
    assert!(diffs.is_empty(), "{}\n{}", diffs.join("\n"), zdns.log());
}

#[test]
fn upstream_failure_serves_stale_then_recovers() {
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    let fresh = ask(zdns.dns, "fast.example.test.", Rtype::A);
    assert_eq!(
        answer_lines(&fresh),
        vec!["fast.example.test. in a 192.0.2.9"]
    );
    assert!(fresh.edns.unwrap().options.is_empty());
    hierarchy.down.store(true, Ordering::SeqCst);
    // The TTL is 1 s; this wait is real time, as the node's clock is the system's.
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    let stale = ask(zdns.dns, "fast.example.test.", Rtype::A);
    // RFC 8767 §5: stale data after the 1.8 s client response timer, not after every
    // upstream attempt failed.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stale.rcode, Rcode::NOERROR, "{}", zdns.log());
    assert_eq!(
        answer_lines(&stale),
        vec!["fast.example.test. in a 192.0.2.9"]
    );
    assert_eq!(stale.answers[0].ttl, 30, "RFC 8767 stale TTL");
    let options = stale.edns.unwrap().options;
    assert!(
        matches!(&options[..], [lib_dns::message::EdnsOption::ExtendedError(e)] if e.info_code == 3),
        "{options:?}"
    );
    // Never cached, upstreams down: SERVFAIL, within the resolution deadline (10 s).
    let started = Instant::now();
    let failed = exchange(
        zdns.dns,
        "www.example.test.",
        Rtype::A,
        true,
        Duration::from_secs(15),
    );
    assert_eq!(failed.unwrap().rcode, Rcode::SERVFAIL);
    assert!(started.elapsed() < Duration::from_secs(11));
    hierarchy.down.store(false, Ordering::SeqCst);
    let back = ask(zdns.dns, "www.example.test.", Rtype::A);
    assert_eq!(back.rcode, Rcode::NOERROR, "{}", zdns.log());
    assert_eq!(back.answers.len(), 2);
}

fn zdns_cli(process: &Process, args: &[&str]) -> (Option<i32>, String) {
    let http = process.http.unwrap().to_string();
    let out = Command::new(ZDNS)
        .args(args)
        .args(["--http", &http])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn zdns_resolve_json_and_negative_cache_flush() {
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    // A name of the node's own zone (seed 003 §5.4 step 3).
    let (code, out) = zdns_cli(&zdns, &["resolve", "alice.sovereign", "--json"]);
    assert_eq!(code, Some(0), "{out}\n{}", zdns.log());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["name"], "alice.sovereign");
    assert_eq!(v["identity"]["node_id"], "0x7f3a8b2c...");
    assert_eq!(v["protocols"], serde_json::json!(["h3", "h2"]));
    assert_eq!(v["ttl"], 300);
    assert_eq!(v["flags"]["tofu"], true);
    let endpoints = v["endpoints"].as_array().unwrap();
    assert!(endpoints.iter().any(|e| e["host"] == "alice.sovereign"
        && e["port"] == 9333
        && e["priority"] == 10
        && e["source"] == "srv"));
    assert!(
        endpoints
            .iter()
            .any(|e| e["host"] == "10.42.2.7" && e["source"] == "mesh_endpoint")
    );
    // A name resolved recursively.
    let (code, out) = zdns_cli(&zdns, &["resolve", "www.example.test", "--json"]);
    assert_eq!(code, Some(0), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let hosts: Vec<&str> = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, vec!["192.0.2.1", "192.0.2.2"]);
    assert_eq!(v["flags"]["tofu"], false);
    // The readable form.
    let (code, out) = zdns_cli(&zdns, &["resolve", "www.example.test"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("endpoint 192.0.2.1 priority 0 weight 0 (address)"),
        "{out}"
    );
    // A missing name: exit 1, and its NXDOMAINs are now in the negative cache.
    let (code, _) = zdns_cli(&zdns, &["resolve", "nope.example.test"]);
    assert_eq!(code, Some(1));
    let (code, out) = zdns_cli(
        &zdns,
        &["resolver", "flush-negative", "--zone", "other.test"],
    );
    assert_eq!(code, Some(0));
    assert_eq!(out.trim(), r#"{"flushed":0}"#);
    let (code, out) = zdns_cli(
        &zdns,
        &["resolver", "flush-negative", "--zone", "example.test"],
    );
    assert_eq!(code, Some(0));
    let flushed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(flushed["flushed"].as_u64().unwrap() >= 1, "{out}");
    let (_, out) = zdns_cli(&zdns, &["resolver", "flush-negative"]);
    assert_eq!(out.trim(), r#"{"flushed":0}"#);
}

#[test]
fn restart_starts_warm_from_the_disk_cache() {
    let hierarchy = start_hierarchy();
    let zdns = start_zdns(hierarchy.port);
    let first = ask(zdns.dns, "alias.example.test.", Rtype::A);
    assert_eq!(first.answers.len(), 3);
    let dir = zdns.terminate();
    assert!(dir.path().join("data/resolver-cache.redb").is_file());
    // Upstreams gone: whatever the new process answers comes from the disk cache.
    hierarchy.down.store(true, Ordering::SeqCst);
    let zdns = start_zdns_in(dir, hierarchy.port);
    let log = zdns.log();
    assert!(log.contains("resolver cache loaded from disk"), "{log}");
    let started = Instant::now();
    let again = ask(zdns.dns, "alias.example.test.", Rtype::A);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "not a cache hit"
    );
    assert_eq!(answer_lines(&again), answer_lines(&first));
    assert!(again.answers.iter().all(|r| r.ttl <= 300 && r.ttl > 200));
}
