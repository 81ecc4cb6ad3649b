//! `zdns serve` end to end: the real binary on free loopback ports with a temporary data
//! directory, queried with `zdns query`, `dig` and raw sockets.
//!
//! These tests check the transports, limits, reloads, metrics and answers; zone
//! transfers, updates and notifies are in `zone_control.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use lib_dns::{Message, Name, Rtype};

mod common;
use common::{Server, ZDNS, free_port, http_post_json, http_request, start};

fn query_wire(id: u16, name: &str) -> Vec<u8> {
    Message::query(id, Name::parse(name).unwrap(), Rtype::SOA)
        .to_wire(512)
        .unwrap()
}

fn framed(wire: &[u8]) -> Vec<u8> {
    let mut f = u16::try_from(wire.len()).unwrap().to_be_bytes().to_vec();
    f.extend_from_slice(wire);
    f
}

/// Reads one framed message; `None` on EOF.
fn read_framed(s: &mut TcpStream) -> Option<Message> {
    let mut prefix = [0u8; 2];
    s.read_exact(&mut prefix).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    s.read_exact(&mut body).ok()?;
    Some(Message::parse(&body).unwrap())
}

/// Whether the server closed the connection (EOF or reset) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

fn tcp_connect(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.dns).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn udp_answer(server: &Server, id: u16) -> Message {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.send_to(&query_wire(id, "example."), server.dns).unwrap();
    let mut buf = [0u8; 4096];
    let n = s.recv(&mut buf).unwrap();
    Message::parse(&buf[..n]).unwrap()
}

const ZONE_V1: &str =
    "$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\nns A 192.0.2.1\n";
const ZONE_V2: &str =
    "$TTL 300\n@ SOA ns hostmaster 2 3600 900 604800 300\n@ NS ns\nns A 192.0.2.1\n";

fn example() -> [(&'static str, &'static str, &'static str); 1] {
    [("example.", "example.zone", ZONE_V1)]
}

#[test]
fn zdns_query_over_udp_and_tcp() {
    let server = start("", &example());
    let udp = server.query(&["ns.example.", "A"]);
    let out = String::from_utf8_lossy(&udp.stdout);
    assert!(
        udp.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&udp.stderr)
    );
    assert!(out.contains(";; Got answer:"), "{out}");
    assert!(out.contains(";ns.example.\t\t\tIN\tA"), "{out}");
    assert!(out.contains(&format!(
        ";; SERVER: 127.0.0.1#{}(127.0.0.1) (UDP)",
        server.dns.port()
    )));
    assert!(out.contains(";; MSG SIZE  rcvd: "), "{out}");
    let tcp = server.query(&["example.", "SOA", "+tcp", "+dnssec"]);
    let out = String::from_utf8_lossy(&tcp.stdout);
    assert!(tcp.status.success(), "{out}");
    assert!(out.contains("(TCP)"), "{out}");
    let m = server.metrics();
    assert!(
        m.contains("zdns_queries_total{transport=\"udp\",opcode=\"QUERY\""),
        "{m}"
    );
    assert!(
        m.contains("zdns_queries_total{transport=\"tcp\",opcode=\"QUERY\""),
        "{m}"
    );
}

#[test]
fn zdns_query_reports_network_failure() {
    let port = free_port();
    let out = Command::new(ZDNS)
        .args([
            "query",
            "example.",
            &format!("@127.0.0.1:{port}"),
            "+tcp",
            "+timeout=1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("communications error"), "{err}");
}

/// `dig`, or `None` with a notice when it is missing and peers are not required.
fn dig() -> Option<&'static str> {
    let found = Command::new("dig").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("ZDNS_REQUIRE_PEERS").is_none(),
            "dig is missing and ZDNS_REQUIRE_PEERS is set"
        );
        eprintln!("skipped: dig is not installed");
        return None;
    }
    Some("dig")
}

#[test]
fn dig_over_udp_and_tcp() {
    let Some(dig) = dig() else { return };
    let server = start("", &example());
    for transport in ["+notcp", "+tcp"] {
        let out = Command::new(dig)
            .args([
                &format!("@{}", server.dns.ip()),
                "-p",
                &server.dns.port().to_string(),
                "example.",
                "SOA",
                transport,
                "+time=5",
                "+tries=1",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains(";; ->>HEADER<<- opcode: QUERY"), "{text}");
        assert!(text.contains(";example.\t\t\tIN\tSOA"), "{text}");
    }
}

#[test]
fn udp_answers_carry_the_query_id() {
    let server = start("", &example());
    for id in [1, 0xbeef] {
        let m = udp_answer(&server, id);
        assert_eq!(m.id, id);
        assert!(m.flags.qr);
    }
    // Garbage gets no answer and is counted as dropped.
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.send_to(b"\x00\x01", server.dns).unwrap();
    server.wait_metric("zdns_queries_dropped_total{transport=\"udp\"} 1");
}

#[test]
fn pipelined_tcp_queries_are_all_answered() {
    let server = start("", &example());
    let mut s = tcp_connect(&server);
    let mut burst = Vec::new();
    for id in 100..110u16 {
        burst.extend(framed(&query_wire(id, "example.")));
    }
    s.write_all(&burst).unwrap();
    let mut ids: Vec<u16> = (0..10).map(|_| read_framed(&mut s).unwrap().id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (100..110).collect::<Vec<_>>());
    // The connection stays open for more.
    s.write_all(&framed(&query_wire(7, "example."))).unwrap();
    assert_eq!(read_framed(&mut s).unwrap().id, 7);
}

#[test]
fn tcp_half_close_still_gets_its_answers() {
    let server = start("", &example());
    let mut s = tcp_connect(&server);
    s.write_all(&framed(&query_wire(1, "example."))).unwrap();
    s.write_all(&framed(&query_wire(2, "example."))).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_framed(&mut s).unwrap().id, 1);
    assert_eq!(read_framed(&mut s).unwrap().id, 2);
    assert!(closed_within(&mut s, Duration::from_secs(5)));
}

#[test]
fn idle_tcp_connections_are_closed() {
    let server = start("[tcp]\nidle_timeout_ms = 300\n", &example());
    let mut s = tcp_connect(&server);
    s.write_all(&framed(&query_wire(1, "example."))).unwrap();
    assert_eq!(read_framed(&mut s).unwrap().id, 1);
    let started = Instant::now();
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    assert!(started.elapsed() >= Duration::from_millis(250));
    // Half-open: a length prefix and part of a message, then silence.
    let mut s = tcp_connect(&server);
    s.write_all(&[0, 40, 0, 1, 2]).unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(5)));
    server.wait_metric("zdns_tcp_connections_open 0");
}

#[test]
fn tcp_connection_limit_is_enforced() {
    let server = start("[tcp]\nmax_connections = 3\n", &example());
    let mut open: Vec<TcpStream> = (0..3).map(|_| tcp_connect(&server)).collect();
    for (i, s) in open.iter_mut().enumerate() {
        let id = u16::try_from(i).unwrap();
        s.write_all(&framed(&query_wire(id, "example."))).unwrap();
        assert_eq!(read_framed(s).unwrap().id, id);
    }
    let mut extra = tcp_connect(&server);
    let _ = extra.write_all(&framed(&query_wire(9, "example.")));
    assert!(closed_within(&mut extra, Duration::from_secs(5)));
    server.wait_metric("zdns_tcp_connections_refused_total 1");
    server.wait_metric("zdns_tcp_connections_open 3");
    drop(open);
    server.wait_metric("zdns_tcp_connections_open 0");
    let mut again = tcp_connect(&server);
    again
        .write_all(&framed(&query_wire(5, "example.")))
        .unwrap();
    assert_eq!(read_framed(&mut again).unwrap().id, 5);
}

#[test]
fn oversized_and_undersized_length_prefixes_close_the_connection() {
    let server = start("[tcp]\nmax_message_size = 512\n", &example());
    for prefix in [[0xff, 0xff], [0x02, 0x01], [0, 0], [0, 11]] {
        let mut s = tcp_connect(&server);
        s.write_all(&prefix).unwrap();
        assert!(closed_within(&mut s, Duration::from_secs(2)), "{prefix:?}");
    }
    let mut s = tcp_connect(&server);
    s.write_all(&framed(&query_wire(3, "example."))).unwrap();
    assert_eq!(read_framed(&mut s).unwrap().id, 3);
}

#[test]
fn a_thousand_idle_tcp_connections_do_not_stop_udp() {
    let server = start(
        "[tcp]\nmax_connections = 1100\nidle_timeout_ms = 60000\n",
        &example(),
    );
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(server.dns).unwrap())
        .collect();
    server.wait_metric("zdns_tcp_connections_open 1000");
    let started = Instant::now();
    for id in 0..20 {
        assert_eq!(udp_answer(&server, id).id, id);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(idle);
}

#[test]
fn sighup_and_zdns_reload_swap_a_changed_zone() {
    let server = start("", &example());
    server.wait_metric("zdns_zone_serial{zone=\"example.\"} 1");
    let zone = server.dir.path().join("example.zone");
    std::fs::write(&zone, ZONE_V2).unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    server.wait_metric("zdns_reloads_total{result=\"ok\"} 1");
    server.wait_metric("zdns_zone_serial{zone=\"example.\"} 2");
    assert!(server.log().contains("SIGHUP: reloading"));
    assert_eq!(
        soa_serial(&server),
        2,
        "answers come from the reloaded zone"
    );

    // A broken zone keeps its previous version; `zdns reload` says why and fails.
    std::fs::write(
        &zone,
        "$TTL 300\n@ SOA ns hostmaster 3 1 1 1 1\nns A 192.0.2\n",
    )
    .unwrap();
    let out = Command::new(ZDNS)
        .args(["reload", "--http", &server.http.to_string()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("example.zone:3:"), "{err}");
    server.wait_metric("zdns_reloads_total{result=\"failed\"} 1");
    server.wait_metric("zdns_zone_serial{zone=\"example.\"} 2");
    assert_eq!(udp_answer(&server, 42).id, 42);

    std::fs::write(&zone, ZONE_V1).unwrap();
    let out = Command::new(ZDNS)
        .args(["reload", "--http", &server.http.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 zone(s) loaded"));
    server.wait_metric("zdns_zone_serial{zone=\"example.\"} 1");
    assert_eq!(soa_serial(&server), 1);
}

/// The serial of the SOA the server answers for `example.`.
fn soa_serial(server: &Server) -> u32 {
    let out = server.query(&["example.", "SOA"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("example.") && l.contains("\tSOA\t"))
        .unwrap_or_else(|| panic!("no SOA in {text}"));
    line.split_whitespace().nth(6).unwrap().parse().unwrap()
}

#[test]
fn answers_come_from_the_zone() {
    let server = start("", &example());
    let out = server.query(&["NS.Example.", "A"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("status: NOERROR"), "{text}");
    assert!(text.contains(";; flags: qr aa rd;"), "{text}");
    assert!(
        text.contains("NS.Example.\t\t300\tIN\tA\t192.0.2.1"),
        "{text}"
    );
    let out = server.query(&["missing.example.", "A"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("status: NXDOMAIN"), "{text}");
    let out = server.query(&["elsewhere.test.", "A"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("status: REFUSED"));
}

#[test]
fn ct_log_is_served_on_the_http_listener() {
    let server = start("", &example());
    let (status, body) = http_request(server.http, "GET", "/ct/log.json").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"log_id\""), "{body}");
    assert!(
        body.contains(&format!("http://{}/ct/", server.http)),
        "{body}"
    );
    let (status, body) = http_request(server.http, "GET", "/ct/checkpoint").unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with(&format!("{}\n0\n", server.http)), "{body}");
    assert!(server.dir.path().join("data/ct/log.key").is_file());
}

#[test]
fn metrics_are_prometheus_text() {
    let server = start("", &example());
    let (status, body) = http_request(server.http, "GET", "/metrics").unwrap();
    assert_eq!(status, 200);
    for line in [
        "# TYPE zdns_queries counter",
        "# TYPE zdns_tcp_connections_open gauge",
        "zdns_zone_serial{zone=\"example.\"} 1",
        "# EOF",
    ] {
        assert!(body.lines().any(|l| l == line), "{line} not in\n{body}");
    }
    assert_eq!(http_request(server.http, "GET", "/nothing").unwrap().0, 404);
}

fn serve_fails(args: &[&str], dir: &Path) -> String {
    let out = Command::new(ZDNS)
        .arg("serve")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_config_and_bad_zone_are_clear_fatal_errors() {
    let dir = tempfile::tempdir().unwrap();
    let conf: PathBuf = dir.path().join("bad.toml");
    std::fs::write(&conf, "listen = [\"127.0.0.1:1\"]\nthreds = 2\n").unwrap();
    let err = serve_fails(&["--config", conf.to_str().unwrap()], dir.path());
    assert!(err.contains("bad.toml") && err.contains("threds"), "{err}");

    let missing = serve_fails(&["--config", "/nonexistent/zdns.toml"], dir.path());
    assert!(missing.contains("cannot read config"), "{missing}");

    let zone = dir.path().join("broken.zone");
    std::fs::write(
        &zone,
        "$TTL 300\n@ SOA ns hostmaster 1 1 1 1 1\n@ NS ns\nns A 300.0.0.1\n",
    )
    .unwrap();
    let port = free_port().to_string();
    let err = serve_fails(
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--http",
            "127.0.0.1:1",
            "--zone",
            &format!("broken.={}", zone.display()),
        ],
        dir.path(),
    );
    assert!(err.contains("broken.zone:4:"), "{err}");
    assert!(err.contains("refusing to start"), "{err}");

    let err = serve_fails(&["--zone", "no-equals-sign"], dir.path());
    assert!(err.contains("ORIGIN=PATH"), "{err}");
}

#[test]
fn reloads_do_not_drop_queries() {
    let server = start("", &example());
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 4096];
    for round in 0..5u16 {
        let zone = if round % 2 == 0 { ZONE_V2 } else { ZONE_V1 };
        std::fs::write(server.dir.path().join("example.zone"), zone).unwrap();
        let http = server.http;
        let reload = std::thread::spawn(move || http_request(http, "POST", "/api/v1/reload"));
        for i in 0..200u16 {
            let id = round * 1000 + i;
            client
                .send_to(&query_wire(id, "example."), server.dns)
                .unwrap();
            let n = client.recv(&mut buf).unwrap();
            assert_eq!(Message::parse(&buf[..n]).unwrap().id, id);
        }
        assert_eq!(reload.join().unwrap().unwrap().0, 200);
    }
    server.wait_metric("zdns_reloads_total{result=\"ok\"} 5");
    server.wait_metric("zdns_zone_serial{zone=\"example.\"} 2");
}

#[test]
fn zdns_query_retries_a_truncated_answer_over_tcp() {
    let port = free_port();
    let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
    let tcp = TcpListener::bind(("127.0.0.1", port)).unwrap();
    // A fake server: UDP echoes the query with QR and TC set, TCP with QR set.
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        if let Ok((n, from)) = udp.recv_from(&mut buf) {
            buf[2] |= 0x82;
            let _ = udp.send_to(&buf[..n], from);
        }
    });
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = tcp.accept() {
            let mut prefix = [0u8; 2];
            s.read_exact(&mut prefix).unwrap();
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
            s.read_exact(&mut q).unwrap();
            q[2] |= 0x80;
            s.write_all(&framed(&q)).unwrap();
        }
    });
    let out = Command::new(ZDNS)
        .args(["query", &format!("@127.0.0.1:{port}"), "example.", "TXT"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with(";; Truncated, retrying in TCP mode.\n"),
        "{text}"
    );
    assert!(text.contains(";; flags: qr rd;"), "{text}");
    assert!(text.contains("(TCP)"), "{text}");
}

#[test]
fn a_client_that_never_reads_its_answers_is_disconnected() {
    let server = start("[tcp]\nidle_timeout_ms = 500\n", &example());
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&server.dns.into()).unwrap();
    let mut stream: TcpStream = socket.into();
    let keep = stream.try_clone().unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    server.wait_metric("zdns_tcp_connections_open 1");
    let query = framed(&query_wire(1, "example."));
    let burst: Vec<u8> = query
        .iter()
        .copied()
        .cycle()
        .take(query.len() * 1000)
        .collect();
    let writer = std::thread::spawn(move || {
        // Stops when the server stops reading (and closes): the error is expected.
        for _ in 0..500 {
            if stream.write_all(&burst).is_err() {
                break;
            }
        }
    });
    server.wait_metric("zdns_tcp_connections_open 0");
    writer.join().unwrap();
    assert!(
        server
            .log()
            .contains("TCP client not reading its answers; closing")
    );
    drop(keep);
}

/// The CT test certificates of `shared/testdata` (under `$ZDNS_TESTDATA` when set, else in
/// the nearest ancestor of the crate that has it), if present; a clone elsewhere skips.
fn ct_testdata() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = std::env::var_os("ZDNS_TESTDATA")
        .map(|d| PathBuf::from(d).join("ct/certs"))
        .into_iter()
        .chain(
            manifest
                .ancestors()
                .map(|a| a.join("shared/testdata/ct/certs")),
        )
        .find(|p| p.is_dir());
    if found.is_none() {
        eprintln!("skipped: shared/testdata not found (set ZDNS_TESTDATA)");
    }
    found
}

/// The base64 DER of each CERTIFICATE block of a PEM file, as add-chain wants them.
fn pem_chain(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            let body = block.split("-----END CERTIFICATE-----").next().unwrap();
            body.split_whitespace().collect::<String>()
        })
        .collect()
}

#[test]
fn ct_roots_added_by_the_cli_are_used_without_a_restart() {
    let Some(certs) = ct_testdata() else {
        return;
    };
    let server = start("", &example());
    let chain: Vec<String> = pem_chain(&certs.join("test-cert.pem"))
        .into_iter()
        .chain(pem_chain(&certs.join("ca-cert.pem")))
        .collect();
    let body = format!(
        "{{\"chain\":[{}]}}",
        chain
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    // Not yet trusted: rejected.
    let (status, _) = http_post_json(server.http, "/ct/v1/add-chain", &body).unwrap();
    assert_eq!(status, 400);
    let out = Command::new(ZDNS)
        .args(["ct", "roots", "add"])
        .arg(certs.join("ca-cert.pem"))
        .arg("--data-dir")
        .arg(server.dir.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1 new root(s)"));
    // The running log picks the root up within a sequencing period.
    let deadline = Instant::now() + Duration::from_secs(10);
    let sct = loop {
        let (status, body) = http_post_json(server.http, "/ct/v1/add-chain", &body).unwrap();
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "still {status}: {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(sct.contains("\"sct_version\":0"), "{sct}");
    let (_, sth) = http_request(server.http, "GET", "/ct/v1/get-sth").unwrap();
    assert!(sth.contains("\"tree_size\":1"), "{sth}");
    // The log's state in the node's metrics.
    let (status, metrics) = http_request(server.http, "GET", "/metrics").unwrap();
    assert_eq!(status, 200);
    for line in [
        "# TYPE zdns_ct_tree_size gauge",
        "zdns_ct_tree_size 1",
        "zdns_ct_pending_submissions 0",
        "# TYPE zdns_ct_sequencing_seconds gauge",
        "zdns_ct_monitor_watches 0",
        "zdns_ct_monitor_undelivered 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} not in\n{metrics}"
        );
    }
    for q in ["0.5", "0.99", "1"] {
        let prefix = format!("zdns_ct_sequencing_seconds{{quantile=\"{q}\"}} ");
        let value: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("{prefix} not in\n{metrics}"))
            .parse()
            .unwrap();
        assert!(value > 0.0 && value < 60.0, "{prefix}{value}");
    }
}
