//! The resolver forwarding over DNS over TLS, HTTPS and QUIC: a `zdns serve` forwarder
//! whose forward zones name `tls://`, `https://` and `quic://` upstreams, themselves
//! `zdns serve` nodes with encrypted listeners. Certificates are checked by pin and by
//! CA file, connections are reused across queries, and when the upstream that answered
//! goes down the other one of the zone answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lib_dns::rdata::RData;
use lib_dns::{Message, Name, Rcode, Rtype};
use zdns_transport::tls::Identity;

mod common;
use common::{Server, free_port, start};

/// A zone answering every name below `origin` with `addr`.
fn wildcard_zone(origin: &str, addr: &str) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n\
         @ NS ns\nns A 192.0.2.53\n* A {addr}\n"
    )
}

/// A node serving `zones` (origin, answer address) over DoT, DoQ and DoH, each on its
/// own port (the forwarder tells its upstreams apart by address).
struct Upstream {
    server: Server,
    dot: SocketAddr,
    doq: SocketAddr,
    doh: SocketAddr,
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

fn upstream(zones: &[(&str, &str)]) -> Upstream {
    let (dot, doq, doh) = (loopback(), loopback(), loopback());
    let config = format!("[tls]\ndot = [\"{dot}\"]\ndoq = [\"{doq}\"]\ndoh = [\"{doh}\"]\n");
    let files: Vec<(String, String, String)> = zones
        .iter()
        .enumerate()
        .map(|(i, (origin, addr))| {
            (
                (*origin).to_owned(),
                format!("zone{i}.zone"),
                wildcard_zone(origin, addr),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = files
        .iter()
        .map(|(o, f, z)| (o.as_str(), f.as_str(), z.as_str()))
        .collect();
    Upstream {
        server: start(&config, &refs),
        dot,
        doq,
        doh,
    }
}

impl Upstream {
    fn cert(&self) -> PathBuf {
        self.server.dir.path().join("data/tls/cert.pem")
    }

    fn pin(&self) -> String {
        let key = self.server.dir.path().join("data/tls/key.pem");
        Identity::from_pem_files(&self.cert(), &key)
            .unwrap()
            .pin()
            .unwrap()
    }

    fn metric(&self, name: &str) -> f64 {
        self.server
            .metrics()
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// A forwarder (recursion on, no root hints) with `forward` as its forward zones.
fn forwarder(forward: &str) -> Server {
    start(&format!("[resolver]\nroot_hints = []\n{forward}"), &[])
}

/// Asks `server` for `name` A with RD over UDP; the answer's address, failing the test
/// with the forwarder's log when there is none in time.
fn resolve(server: &Server, name: &str) -> String {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    // Generous: a loaded machine is slow, and a failover waits for a failed exchange.
    socket
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut q = Message::query(4242, Name::parse(name).unwrap(), Rtype::A);
    q.flags.rd = true;
    socket
        .send_to(&q.to_wire(512).unwrap(), server.dns)
        .unwrap();
    let mut buf = [0u8; 4096];
    let started = Instant::now();
    let n = socket
        .recv(&mut buf)
        .unwrap_or_else(|e| panic!("{name}: no answer ({e}):\n{}", server.log()));
    let m = Message::parse(&buf[..n]).unwrap();
    assert_eq!(m.rcode, Rcode::NOERROR, "{name}: {m}\n{}", server.log());
    eprintln!("{name}: answered in {:?}", started.elapsed());
    match m.answers.first().map(|r| &r.data) {
        Some(RData::A(a)) => a.0.to_string(),
        _ => panic!("{name}: no A record: {m}\n{}", server.log()),
    }
}

#[test]
fn forward_zones_over_tls_https_and_quic_reuse_their_connections() {
    let up = upstream(&[
        ("tls.test.", "192.0.2.1"),
        ("https.test.", "192.0.2.2"),
        ("quic.test.", "192.0.2.3"),
    ]);
    let pin = up.pin();
    let cert = up.cert();
    let fwd = forwarder(&format!(
        "[[resolver.forward]]\nzone = \"tls.test.\"\nupstreams = [\"tls://{}\"]\ntls_pin = \"{pin}\"\n\
         [[resolver.forward]]\nzone = \"https.test.\"\nupstreams = [\"https://{}/dns-query\"]\n\
         tls_ca = \"{}\"\n\
         [[resolver.forward]]\nzone = \"quic.test.\"\nupstreams = [\"quic://{}#127.0.0.1\"]\n\
         tls_pin = \"{pin}\"\n",
        up.dot,
        up.doh,
        cert.display(),
        up.doq
    ));
    for (zone, addr, transport) in [
        ("tls.test.", "192.0.2.1", "dot"),
        ("https.test.", "192.0.2.2", "doh"),
        ("quic.test.", "192.0.2.3", "doq"),
    ] {
        for i in 0..4 {
            assert_eq!(resolve(&fwd, &format!("n{i}.{zone}")), addr, "{zone}");
        }
        // Four cache misses, each sent upstream: the connection of the first is reused
        // (a second one only if an exchange outlived the resolver's timeout on a slow
        // machine).
        let queries = up.metric(&format!(
            "zdns_queries_total{{transport=\"{transport}\",opcode=\"QUERY\",rcode=\"NOERROR\"}}"
        ));
        let connections = up.metric(&format!(
            "zdns_encrypted_connections_total{{transport=\"{transport}\"}}"
        ));
        assert!(queries >= 4.0, "{transport}: {queries} queries");
        assert!(
            (1.0..=2.0).contains(&connections),
            "{transport}: {connections} connections for {queries} queries"
        );
    }
}

#[test]
fn forwarding_fails_over_when_the_upstream_that_answered_goes_down() {
    let first = upstream(&[("fail.test.", "192.0.2.1")]);
    let second = upstream(&[("fail.test.", "192.0.2.2")]);
    // One CA file trusting both self-signed certificates.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let both = [first.cert(), second.cert()]
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<String>();
    std::fs::write(&ca, both).unwrap();
    let fwd = forwarder(&format!(
        "[[resolver.forward]]\nzone = \"fail.test.\"\n\
         upstreams = [\"tls://{}\", \"tls://{}\"]\ntls_ca = \"{}\"\n",
        first.dot,
        second.dot,
        ca.display()
    ));
    let answered = resolve(&fwd, "a.fail.test.");
    let mut upstreams = vec![("192.0.2.1", first), ("192.0.2.2", second)];
    let preferred = upstreams
        .iter()
        .position(|(addr, _)| *addr == answered)
        .unwrap();
    // The upstream that answered (the resolver's preferred one, its connection open
    // and pooled) goes away; the other answers from now on.
    drop(upstreams.remove(preferred));
    let survivor = upstreams[0].0;
    for name in ["b.fail.test.", "c.fail.test.", "d.fail.test."] {
        assert_eq!(resolve(&fwd, name), survivor, "{name}");
    }
    if fwd.log().contains("upstream exchange failed") {
        eprintln!("the resolver tried the dead upstream and went on to the other");
    }
}

#[test]
fn a_forward_zone_with_an_unverifiable_upstream_is_a_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zdns.toml"),
        "listen = [\"127.0.0.1:0\"]\n[resolver]\nroot_hints = []\n\
         [[resolver.forward]]\nzone = \"x.test.\"\nupstreams = [\"tls://127.0.0.1:853\"]\n",
    )
    .unwrap();
    let o = std::process::Command::new(common::ZDNS)
        .args(["serve", "--config", "zdns.toml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.contains("tls_ca or tls_pin"), "{err}");
}
