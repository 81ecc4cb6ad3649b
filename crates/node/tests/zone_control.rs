//! Zone transfers, dynamic updates, NOTIFY and secondaries, end to end with the real
//! binary and with peers no one here wrote: `dig` and `kdig` transfer (AXFR, IXFR,
//! TSIG), `nsupdate` and `knsupdate` update, Knot and NSD run as our secondaries, Knot as
//! our primary. And a crash test: UPDATEs while the server is killed with SIGKILL at random
//! points; every acknowledged update must be there after the restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use lib_dns::Name;
use lib_dns::encoding::base64_string;
use lib_dns::message::Message;
use lib_dns::rdata::A;
use lib_dns::record::Record;
use lib_dns::tsig::{Algorithm, DEFAULT_FUDGE, TsigKey, sign_request};
use lib_dns::types::{Opcode, Rcode, Rtype};

mod common;
use common::{Server, free_port, peer};

const ZONE: &str = "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n\
    @ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\n";

fn secret(tag: u8) -> String {
    base64_string(&[tag; 32])
}

/// Keys `xfr.` and `upd.`; `example.` transferable from loopback with `xfr.`, updatable
/// from loopback with `upd.`, plus `extra` zone keys.
fn primary_config(extra: &str) -> String {
    format!(
        "[[key]]\nname = \"xfr.\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{}\"\n\
         [[key]]\nname = \"upd.\"\nsecret = \"{}\"\n\
         [[zone]]\norigin = \"example.\"\nfile = \"example.zone\"\n\
         allow_transfer = [{{ address = \"127.0.0.0/8\", key = \"xfr.\" }}]\n\
         allow_update = [{{ address = \"127.0.0.1\", key = \"upd.\" }}]\n{extra}\n",
        secret(1),
        secret(2)
    )
}

/// Starts a node whose config (with `[[zone]]` tables) refers to `example.zone`.
fn start_with_zone(config: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.zone"), ZONE).unwrap();
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    common::start_in(dir, dns, config)
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn dig(server: SocketAddr, args: &[&str]) -> String {
    text(&run(Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+time=3", "+tries=1"])
        .args(args)))
}

fn serial_at(server: SocketAddr) -> Option<u32> {
    let out = dig(server, &["+short", "example.", "SOA"]);
    out.split_whitespace().nth(2)?.parse().ok()
}

fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs `program args` with `input` on its standard input.
fn piped(program: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `nsupdate` to `server` for zone `example.`, signed with `key` (name, secret).
fn nsupdate(server: SocketAddr, key: Option<(&str, &str)>, script: &str) -> Output {
    let key = key.map(|(name, secret)| format!("hmac-sha256:{name}:{secret}"));
    let args: Vec<&str> = key.iter().flat_map(|k| ["-y", k.as_str()]).collect();
    let full = format!(
        "server {} {}\nzone example.\n{script}\nsend\n",
        server.ip(),
        server.port()
    );
    piped("nsupdate", &args, &full)
}

/// `knsupdate` to `server` for zone `example.`, signed with `upd.`.
fn knsupdate(server: SocketAddr, script: &str) -> Output {
    let full = format!(
        "server {} {}\nkey hmac-sha256:upd. {}\nzone example.\n{script}\nsend\n",
        server.ip(),
        server.port(),
        secret(2)
    );
    piped("knsupdate", &[], &full)
}

/// Adds `owner A addr` on our primary with nsupdate, then waits for `secondary` (which
/// serves serial 1 now) to serve it at serial 2.
fn update_reaches(primary: SocketAddr, secondary: SocketAddr, owner: &str, addr: &str) {
    let out = nsupdate(
        primary,
        Some(("upd.", &secret(2))),
        &format!("update add {owner} 300 A {addr}"),
    );
    assert!(out.status.success(), "{}", text(&out));
    // Our NOTIFY makes the secondary ask at once (its SOA refresh is an hour away).
    wait_until(
        "the secondary to follow the update",
        Duration::from_secs(30),
        || serial_at(secondary) == Some(2),
    );
    assert!(dig(secondary, &["+short", owner, "A"]).contains(addr));
}

#[test]
fn transfers_need_the_right_key_and_address() {
    let (Some(_), Some(_)) = (peer("transfers", &["dig"]), peer("transfers", &["kdig"])) else {
        return;
    };
    let server = start_with_zone(&primary_config(""));
    let key = format!("hmac-sha256:xfr.:{}", secret(1));
    let out = dig(server.dns, &["-y", &key, "example.", "AXFR"]);
    assert_eq!(out.matches("\tSOA\t").count(), 2, "{out}");
    assert!(
        out.contains("www.example.") && out.contains("192.0.2.2"),
        "{out}"
    );
    assert!(!out.contains("Transfer failed"), "{out}");
    let kdig = text(&run(Command::new("kdig")
        .arg(format!("@{}", server.dns.ip()))
        .args([
            "-p",
            &server.dns.port().to_string(),
            "-y",
            &key,
            "example.",
            "AXFR",
        ])));
    assert_eq!(kdig.matches("\tSOA\t").count(), 2, "{kdig}");
    // No key, the wrong key, a bad secret: refused or rejected.
    assert!(dig(server.dns, &["example.", "AXFR"]).contains("Transfer failed"));
    let wrong = format!("hmac-sha256:upd.:{}", secret(2));
    assert!(dig(server.dns, &["-y", &wrong, "example.", "AXFR"]).contains("Transfer failed"));
    let bad_secret = format!("hmac-sha256:xfr.:{}", secret(9));
    let out = dig(server.dns, &["-y", &bad_secret, "example.", "AXFR"]);
    assert!(!out.contains("192.0.2.2"), "{out}");
    // A signed SOA query is answered and signed.
    let out = dig(server.dns, &["-y", &key, "example.", "SOA"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("TSIG"),
        "{out}"
    );
    server
        .wait_metric("zdns_zone_operations_total{operation=\"transfer_out\",result=\"refused\"} 2");
}

#[test]
fn nsupdate_and_knsupdate_changes_are_served_durable_and_transferred_incrementally() {
    let (Some(_), Some(_)) = (
        peer("updates", &["nsupdate"]),
        peer("updates", &["knsupdate"]),
    ) else {
        return;
    };
    let mut server = start_with_zone(&primary_config(""));
    let upd = secret(2);
    let out = nsupdate(
        server.dns,
        Some(("upd.", &upd)),
        "update add new.example. 300 A 192.0.2.50",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(dig(server.dns, &["+short", "new.example.", "A"]).contains("192.0.2.50"));
    assert_eq!(serial_at(server.dns), Some(2));

    let out = knsupdate(
        server.dns,
        "update add k.example. 300 TXT \"from knsupdate\"\nupdate delete www.example. A",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(dig(server.dns, &["+short", "k.example.", "TXT"]).contains("from knsupdate"));
    assert!(dig(server.dns, &["www.example.", "A"]).contains("status: NXDOMAIN"));
    assert!(
        dig(server.dns, &["+short", "www.example.", "A"])
            .trim()
            .is_empty()
    );
    assert_eq!(serial_at(server.dns), Some(3));

    // Unsigned: refused. A failed prerequisite: YXDOMAIN, nothing changes.
    let out = nsupdate(
        server.dns,
        None,
        "update add evil.example. 300 A 192.0.2.66",
    );
    assert!(text(&out).contains("REFUSED"), "{}", text(&out));
    let out = nsupdate(
        server.dns,
        Some(("upd.", &upd)),
        "prereq nxdomain new.example.\nupdate add evil.example. 300 A 192.0.2.66",
    );
    assert!(text(&out).contains("YXDOMAIN"), "{}", text(&out));
    assert_eq!(serial_at(server.dns), Some(3));

    // IXFR from serial 1: two difference sequences, seen by dig.
    let key = format!("hmac-sha256:xfr.:{}", secret(1));
    let ixfr = dig(server.dns, &["-y", &key, "example.", "IXFR=1"]);
    assert!(
        ixfr.contains("new.example.") && ixfr.contains("k.example."),
        "{ixfr}"
    );
    assert_eq!(ixfr.matches("\tSOA\t").count(), 6, "{ixfr}");
    assert!(
        !ixfr.contains("mail.example."),
        "incremental, not whole: {ixfr}"
    );

    // SIGKILL and restart: the journal brings every acknowledged change back.
    server.kill_and_restart();
    assert_eq!(serial_at(server.dns), Some(3));
    assert!(dig(server.dns, &["+short", "new.example.", "A"]).contains("192.0.2.50"));
    let ixfr = dig(server.dns, &["-y", &key, "example.", "IXFR=2"]);
    assert!(
        ixfr.contains("k.example.") && !ixfr.contains("new.example."),
        "{ixfr}"
    );
    assert!(server.log().contains("journal is newer than the zone file"));
}

/// A Knot server in its own directory, stopped when dropped.
struct Knot {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts knotd on 127.0.0.1:`port` with keys `xfr.` and `upd.` and `body` (remotes,
/// ACLs, zones).
fn knot(bin: &Path, port: u16, body: &str) -> Knot {
    let dir = tempfile::tempdir().unwrap();
    let conf = format!(
        "server:\n  listen: 127.0.0.1@{port}\n  rundir: {d}\ndatabase:\n  storage: {d}\n\
         log:\n  - target: stderr\n    any: info\n\
         key:\n  - id: xfr.\n    algorithm: hmac-sha256\n    secret: {x}\n  \
         - id: upd.\n    algorithm: hmac-sha256\n    secret: {u}\n{body}",
        d = dir.path().display(),
        x = secret(1),
        u = secret(2),
    );
    std::fs::write(dir.path().join("knot.conf"), conf).unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let child = Command::new(bin)
        .arg("-c")
        .arg(dir.path().join("knot.conf"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Knot {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        dir,
    }
}

impl Knot {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

#[test]
fn knot_is_our_secondary_and_follows_our_updates() {
    let (Some(knotd), Some(_)) = (
        peer("knot secondary", &["knotd"]),
        peer("knot secondary", &["nsupdate"]),
    ) else {
        return;
    };
    let knot_port = free_port();
    let server = start_with_zone(&primary_config(&format!(
        "notify = [{{ address = \"127.0.0.1:{knot_port}\", key = \"xfr.\" }}]\n"
    )));
    let kdir = tempfile::tempdir().unwrap();
    let body = format!(
        "remote:\n  - id: primary\n    address: {zdns}\n    key: xfr.\n\
         acl:\n  - id: from_primary\n    address: 127.0.0.1\n    key: xfr.\n    action: notify\n\
         zone:\n  - domain: example.\n    master: primary\n    acl: from_primary\n    \
         file: {d}/example.zone\n",
        zdns = server.dns.to_string().replace(':', "@"),
        d = kdir.path().display(),
    );
    let k = knot(&knotd, knot_port, &body);
    wait_until(
        "Knot's first transfer (AXFR from zdns)",
        Duration::from_secs(20),
        || serial_at(k.addr) == Some(1),
    );
    update_reaches(server.dns, k.addr, "sec.example.", "192.0.2.77");
    let log = k.log();
    assert!(
        log.contains("IXFR") || log.contains("incremental"),
        "Knot used AXFR only:\n{log}"
    );
    server.wait_metric(
        "zdns_zone_operations_total{operation=\"notify_out\",result=\"acknowledged\"} 1",
    );
}

#[test]
fn nsd_is_our_secondary_and_follows_our_updates() {
    let (Some(nsd), Some(_)) = (
        peer("nsd secondary", &["nsd"]),
        peer("nsd secondary", &["nsupdate"]),
    ) else {
        return;
    };
    let nsd_port = free_port();
    let server = start_with_zone(&primary_config(&format!(
        "notify = [{{ address = \"127.0.0.1:{nsd_port}\", key = \"xfr.\" }}]\n"
    )));
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "server:\n  ip-address: 127.0.0.1@{nsd_port}\n  port: {nsd_port}\n  username: \"\"\n  \
         chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  \
         xfrdfile: \"{d}/xfrd.state\"\n  zonelistfile: \"{d}/zone.list\"\n  \
         xfrdir: \"{d}\"\n  logfile: \"{d}/log\"\n  verbosity: 2\n\
         remote-control:\n  control-enable: no\n\
         key:\n  name: \"xfr.\"\n  algorithm: hmac-sha256\n  secret: \"{}\"\n\
         zone:\n  name: \"example.\"\n  zonefile: \"example.zone\"\n  \
         request-xfr: {} xfr.\n  allow-notify: 127.0.0.1 xfr.\n",
        secret(1),
        server.dns.to_string().replace(':', "@"),
    );
    std::fs::write(dir.path().join("nsd.conf"), conf).unwrap();
    let mut child = Command::new(&nsd)
        .args(["-d", "-c"])
        .arg(dir.path().join("nsd.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nsd_addr = SocketAddr::from(([127, 0, 0, 1], nsd_port));
    let log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        wait_until("NSD's first transfer", Duration::from_secs(30), || {
            serial_at(nsd_addr) == Some(1)
        });
        update_reaches(server.dns, nsd_addr, "nsd.example.", "192.0.2.99");
    }));
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = result {
        panic!("{e:?}\nNSD log:\n{}\nzdns log:\n{}", log(), server.log());
    }
}

#[test]
fn we_are_knots_secondary_with_tsig_and_follow_its_updates() {
    let (Some(knotd), Some(_)) = (
        peer("zdns secondary", &["knotd"]),
        peer("zdns secondary", &["knsupdate"]),
    ) else {
        return;
    };
    let zdns_port = free_port();
    let kdir = tempfile::tempdir().unwrap();
    std::fs::write(kdir.path().join("example.zone"), ZONE).unwrap();
    let body = format!(
        "remote:\n  - id: zdns\n    address: 127.0.0.1@{zdns_port}\n    key: xfr.\n\
         acl:\n  - id: xfr\n    address: 127.0.0.1\n    key: xfr.\n    action: transfer\n  \
         - id: upd\n    address: 127.0.0.1\n    key: upd.\n    action: update\n\
         zone:\n  - domain: example.\n    file: {}/example.zone\n    notify: zdns\n    \
         acl: [xfr, upd]\n    zonefile-sync: -1\n",
        kdir.path().display()
    );
    let k = knot(&knotd, free_port(), &body);
    wait_until("Knot serving", Duration::from_secs(20), || {
        serial_at(k.addr) == Some(1)
    });
    let config = format!(
        "[[key]]\nname = \"xfr.\"\nsecret = \"{}\"\n\
         [[zone]]\norigin = \"example.\"\nprimaries = [{{ address = \"{}\", key = \"xfr.\" }}]\n",
        secret(1),
        k.addr
    );
    let zdns = SocketAddr::from(([127, 0, 0, 1], zdns_port));
    let server = common::start_in(tempfile::tempdir().unwrap(), zdns, &config);
    wait_until(
        "our first transfer from Knot",
        Duration::from_secs(20),
        || serial_at(server.dns) == Some(1),
    );
    assert!(dig(server.dns, &["+short", "www.example.", "A"]).contains("192.0.2.2"));
    let out = knsupdate(k.addr, "update add fromknot.example. 300 A 192.0.2.88");
    assert!(out.status.success(), "{}\n{}", text(&out), k.log());
    wait_until(
        "us to follow Knot's update",
        Duration::from_secs(20),
        || serial_at(server.dns) == Some(2),
    );
    assert!(dig(server.dns, &["+short", "fromknot.example.", "A"]).contains("192.0.2.88"));
    server.wait_metric("zdns_zone_operations_total{operation=\"transfer_in\",result=\"ixfr\"} 1");
    server.wait_metric("zdns_zone_operations_total{operation=\"notify_in\",result=\"accepted\"} 1");
}

/// An UPDATE adding `name A 192.0.2.N`, TSIG-signed with `upd.`, over TCP.
fn update_over_tcp(to: SocketAddr, id: u16, name: &str) -> Option<Rcode> {
    let mut m = Message::new(id);
    m.opcode = Opcode::UPDATE;
    m.questions.push(lib_dns::message::Question::new(
        Name::parse("example.").unwrap(),
        Rtype::SOA,
    ));
    m.authority.push(Record::new(
        Name::parse(name).unwrap(),
        300,
        A([192, 0, 2, (id % 250) as u8].into()),
    ));
    let key = TsigKey::new(
        Name::parse("upd.").unwrap(),
        Algorithm::HmacSha256,
        vec![2; 32],
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let wire = sign_request(&m.to_wire(65535).unwrap(), &key, now, DEFAULT_FUDGE)
        .unwrap()
        .message;
    let mut s = TcpStream::connect_timeout(&to, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut framed = (wire.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&wire);
    s.write_all(&framed).ok()?;
    let mut prefix = [0u8; 2];
    s.read_exact(&mut prefix).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    s.read_exact(&mut body).ok()?;
    Some(Message::parse(&body).ok()?.rcode)
}

#[test]
fn acknowledged_updates_survive_sigkill_at_random_points() {
    let mut server = start_with_zone(&primary_config(""));
    let dns = server.dns;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let writer = {
        let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
        std::thread::spawn(move || {
            let mut i: u16 = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let name = format!("crash{i}.example.");
                if update_over_tcp(dns, i, &name) == Some(Rcode::NOERROR) {
                    acknowledged.lock().unwrap().push(name);
                } else {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        })
    };
    // Pseudo-random kill points from the clock, so each run probes other moments.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    for _ in 0..5 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(150 + (seed >> 33) % 400));
        server.kill_and_restart();
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    server.kill_and_restart();
    let acked = acknowledged.lock().unwrap().clone();
    assert!(
        acked.len() > 10,
        "too few updates got through: {}",
        acked.len()
    );
    for name in &acked {
        let mut q = Message::query(1, Name::parse(name).unwrap(), Rtype::A);
        q.flags.rd = false;
        let answer = common::udp_exchange(server.dns, &q);
        assert_eq!(
            answer.rcode,
            Rcode::NOERROR,
            "{name} lost after SIGKILL:\n{}",
            server.log()
        );
        assert_eq!(answer.answers.len(), 1, "{name} lost after SIGKILL");
    }
}
