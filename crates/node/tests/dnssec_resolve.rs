//! The validating resolver of `zdns serve` over a signed hierarchy on loopback: the
//! root (127.0.0.1) and `test.` (127.0.0.2) signed by `zdns zone sign`, and leaf zones
//! (127.0.0.3) signed by BIND's `dnssec-signzone` (NSEC), by `ldns-signzone` (NSEC3)
//! and by `zdns zone sign`, an unsigned one (an insecure delegation) and one with a
//! damaged signature; every zone served by `zdns serve` processes, the root's KSK as
//! the resolver's trust anchor. Checked with `dig` and `kdig` (AD, SERVFAIL with EDE,
//! `+cd`), with BIND's `delv` validating through the resolver with the same anchor,
//! and with negative trust anchors set through `zdns resolver nta`.
//!
//! Peers missing are skipped with a notice, unless `ZDNS_REQUIRE_PEERS=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use common::{Server, ZDNS, all_peers, free_port, start_in};

/// Runs `program ARGS` in `dir`; returns its standard output, failing the test on error.
fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A zone's text with `$ORIGIN` and the usual apex records, plus `extra`.
fn zone_text(origin: &str, ns_addr: &str, extra: &str) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 300\n\
         @ IN SOA ns hostmaster 1 7200 3600 1209600 60\n\
         @ IN NS ns\nns IN A {ns_addr}\nwww IN A 192.0.2.80\n{extra}"
    )
}

/// Signs the zone file `file` of `origin` in `dir` with `zdns key generate` and `zdns
/// zone sign` (`extra` arguments to the latter); returns the signed file's name.
fn zdns_sign(dir: &Path, origin: &str, file: &str, extra: &[&str]) -> String {
    let ring = format!("ring-{origin}");
    for ksk in [true, false] {
        let mut args = vec![
            "key",
            "generate",
            "--zone",
            origin,
            "--alg",
            "ecdsap256",
            "--dir",
            ring.as_str(),
        ];
        if ksk {
            args.push("--ksk");
        }
        run(dir, ZDNS, &args);
    }
    let out = format!("{file}.signed");
    let mut args = vec![
        "zone",
        "sign",
        file,
        "--keys",
        ring.as_str(),
        "-o",
        out.as_str(),
    ];
    args.extend_from_slice(extra);
    run(dir, ZDNS, &args);
    out
}

/// Signs with BIND's dnssec-keygen and dnssec-signzone (NSEC).
fn bind_sign(dir: &Path, origin: &str, file: &str) -> String {
    run(
        dir,
        "dnssec-keygen",
        &[
            "-q",
            "-K",
            ".",
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            origin,
        ],
    );
    run(
        dir,
        "dnssec-keygen",
        &["-q", "-K", ".", "-a", "ECDSAP256SHA256", origin],
    );
    let out = format!("{file}.signed");
    run(
        dir,
        "dnssec-signzone",
        &["-q", "-S", "-K", ".", "-o", origin, "-f", &out, file],
    );
    out
}

/// Signs with ldns-keygen and ldns-signzone (NSEC3).
fn ldns_sign(dir: &Path, origin: &str, file: &str) -> String {
    let ksk = run(dir, "ldns-keygen", &["-a", "ECDSAP256SHA256", "-k", origin]);
    let zsk = run(dir, "ldns-keygen", &["-a", "ECDSAP256SHA256", origin]);
    run(
        dir,
        "ldns-signzone",
        &["-n", "-o", origin, file, zsk.trim(), ksk.trim()],
    );
    format!("{file}.signed")
}

/// The DS records (SHA-256) of the KSKs in a signed zone file.
fn ds_of(dir: &Path, origin: &str, signed: &str) -> String {
    run(dir, "dnssec-dsfromkey", &["-2", "-f", signed, origin])
}

/// The hierarchy's servers and what the resolver needs to know of it.
struct Hierarchy {
    _servers: Vec<Server>,
    port: u16,
    /// The root KSK's DS record, the trust anchor.
    root_ds: String,
    /// The root KSK as a `delv` anchor file.
    delv_anchor: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// Signs every zone and starts one `zdns serve` per address.
fn start_hierarchy() -> Hierarchy {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Leaves on 127.0.0.3.
    let bad_extra = "mail IN A 192.0.2.81\n";
    let leaves = [
        ("example.test.", "bind"),
        ("ldns.test.", "ldns"),
        ("zdns.test.", "zdns"),
        ("bad.test.", "zdns"),
        ("insecure.test.", "none"),
    ];
    let mut leaf_files = Vec::new();
    let mut ds_lines = String::new();
    let mut delegations = String::new();
    for (origin, signer) in leaves {
        let label = origin.trim_end_matches(".test.");
        let file = format!("{label}.zone");
        let extra = if origin == "bad.test." { bad_extra } else { "" };
        std::fs::write(d.join(&file), zone_text(origin, "127.0.0.3", extra)).unwrap();
        let served = match signer {
            "bind" => bind_sign(d, origin, &file),
            "ldns" => ldns_sign(d, origin, &file),
            "zdns" => zdns_sign(d, origin, &file, &[]),
            _ => file.clone(),
        };
        if signer != "none" {
            ds_lines.push_str(&ds_of(d, origin, &served));
        }
        delegations.push_str(&format!(
            "{label} IN NS ns.{label}\nns.{label} IN A 127.0.0.3\n"
        ));
        leaf_files.push((origin, served));
    }
    // One damaged signature in bad.test.: the RRSIG over www's A RRset.
    let bad = leaf_files.iter().find(|(o, _)| *o == "bad.test.").unwrap();
    let text = std::fs::read_to_string(d.join(&bad.1)).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("www.bad.test.") && l.contains("RRSIG\tA "))
        .unwrap();
    let mut damaged = line.to_string();
    let at = damaged.len() - 10;
    let c = if &damaged[at..=at] == "A" { "B" } else { "A" };
    damaged.replace_range(at..=at, c);
    std::fs::write(d.join(&bad.1), text.replace(line, &damaged)).unwrap();

    let test_text = zone_text("test.", "127.0.0.2", &format!("{delegations}{ds_lines}"));
    std::fs::write(d.join("test.zone"), test_text).unwrap();
    let test_signed = zdns_sign(d, "test.", "test.zone", &["--nsec3"]);
    let root_extra = format!(
        "test. IN NS ns.test.\nns.test. IN A 127.0.0.2\n{}",
        ds_of(d, "test.", &test_signed)
    );
    let root_text = zone_text(".", "127.0.0.1", &root_extra);
    std::fs::write(d.join("root.zone"), root_text).unwrap();
    let root_signed = zdns_sign(d, ".", "root.zone", &[]);
    let root_ds = ds_of(d, ".", &root_signed);
    let ksk = std::fs::read_to_string(d.join(&root_signed))
        .unwrap()
        .lines()
        .find(|l| l.contains("DNSKEY\t257 "))
        .map(|l| l.split_whitespace().next_back().unwrap().to_string())
        .unwrap();
    let delv_anchor = d.join("anchor.conf");
    std::fs::write(
        &delv_anchor,
        format!("trust-anchors {{ \".\" static-key 257 3 13 \"{ksk}\"; }};\n"),
    )
    .unwrap();

    let port = free_port();
    let mut servers = Vec::new();
    let serve = |last: u8, zones: &[(&str, &str)]| {
        let sdir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        for (origin, file) in zones {
            std::fs::copy(d.join(file), sdir.path().join(file)).unwrap();
            config.push_str(&format!(
                "[[zone]]\norigin = \"{origin}\"\nfile = \"{file}\"\n"
            ));
        }
        start_in(sdir, SocketAddr::from(([127, 0, 0, last], port)), &config)
    };
    servers.push(serve(1, &[(".", &root_signed)]));
    servers.push(serve(2, &[("test.", &test_signed)]));
    let leaves: Vec<(&str, &str)> = leaf_files.iter().map(|(o, f)| (*o, f.as_str())).collect();
    servers.push(serve(3, &leaves));
    Hierarchy {
        _servers: servers,
        port,
        root_ds,
        delv_anchor,
        _dir: dir,
    }
}

/// `zdns serve` resolving from the hierarchy with the root's DS as its trust anchor.
fn start_resolver(h: &Hierarchy) -> Server {
    let config = format!(
        "[resolver]\nroot_hints = [\"127.0.0.1:{port}\"]\nupstream_port = {port}\n\
         trust_anchors = [\"{ds}\"]\n",
        port = h.port,
        ds = h.root_ds.trim()
    );
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    start_in(tempfile::tempdir().unwrap(), dns, &config)
}

/// `TOOL @resolver NAME TYPE ARGS` output.
fn ask(tool: &str, resolver: &Server, name: &str, rtype: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .arg(format!("@{}", resolver.dns.ip()))
        .args(["-p", &resolver.dns.port().to_string()])
        .args([name, rtype])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether the header of dig/kdig output has the AD flag.
fn ad(text: &str) -> bool {
    text.lines()
        .find_map(|l| {
            let at = l.to_lowercase().find("flags:")?;
            let rest = l.get(at + 6..)?;
            Some(
                rest.split(';')
                    .next()?
                    .split_whitespace()
                    .any(|f| f == "ad"),
            )
        })
        .unwrap_or(false)
}

#[test]
fn validates_zones_signed_by_bind_ldns_and_zdns() {
    let tools = [
        "dnssec-signzone",
        "ldns-signzone",
        "dnssec-dsfromkey",
        "dig",
        "kdig",
    ];
    if !all_peers("validates_zones_signed_by_bind_ldns_and_zdns", &tools) {
        return;
    }
    let h = start_hierarchy();
    let resolver = start_resolver(&h);
    for name in [
        "www.example.test.",
        "www.ldns.test.",
        "www.zdns.test.",
        "ns.example.test.",
    ] {
        let out = ask(
            "dig",
            &resolver,
            name,
            "A",
            &["+dnssec", "+time=10", "+tries=1"],
        );
        assert!(
            out.contains("status: NOERROR"),
            "{name}:\n{out}\n{}",
            resolver.log()
        );
        assert!(ad(&out), "{name} not Secure:\n{out}\n{}", resolver.log());
        assert!(out.contains("RRSIG"), "{name}:\n{out}");
    }
    // Secure denials from each signer (NSEC from BIND and zdns, NSEC3 from ldns).
    for name in [
        "nope.example.test.",
        "nope.ldns.test.",
        "nope.zdns.test.",
        "nope.test.",
    ] {
        let out = ask(
            "dig",
            &resolver,
            name,
            "A",
            &["+dnssec", "+time=10", "+tries=1"],
        );
        assert!(out.contains("status: NXDOMAIN"), "{name}:\n{out}");
        assert!(ad(&out), "{name} not Secure:\n{out}\n{}", resolver.log());
    }
    // RFC 8198: "nop" lies in the span the NSEC example.test. → ns proves empty (with
    // the wildcard): a Secure NXDOMAIN with no upstream query.
    let upstream = |server: &Server| {
        let (_, metrics) = common::http_request(server.http, "GET", "/metrics").unwrap();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("zdns_resolver_upstream_queries_total "))
            .map(|n| n.trim().to_string())
            .unwrap()
    };
    let before = upstream(&resolver);
    let out = ask(
        "dig",
        &resolver,
        "nop.example.test.",
        "A",
        &["+dnssec", "+time=10"],
    );
    assert!(out.contains("status: NXDOMAIN") && ad(&out), "{out}");
    assert!(out.contains("NSEC"), "{out}");
    assert_eq!(
        upstream(&resolver),
        before,
        "asked upstream:\n{}",
        resolver.log()
    );
    let out = ask(
        "kdig",
        &resolver,
        "www.ldns.test.",
        "TXT",
        &["+dnssec", "+time=10"],
    );
    assert!(out.contains("NOERROR") && ad(&out), "{out}");
    // Without DO or AD in the query, no AD in the answer (RFC 6840 §5.7).
    let out = ask(
        "dig",
        &resolver,
        "www.example.test.",
        "A",
        &["+noad", "+time=10"],
    );
    assert!(!ad(&out), "{out}");
    // An insecure delegation: the data, without AD.
    let out = ask(
        "dig",
        &resolver,
        "www.insecure.test.",
        "A",
        &["+dnssec", "+time=10"],
    );
    assert!(
        out.contains("status: NOERROR") && out.contains("192.0.2.80"),
        "{out}"
    );
    assert!(!ad(&out), "{out}");
    // A damaged signature: SERVFAIL with EDE 6; with CD the data, unvalidated.
    let out = ask(
        "dig",
        &resolver,
        "www.bad.test.",
        "A",
        &["+dnssec", "+time=10"],
    );
    assert!(out.contains("status: SERVFAIL"), "{out}");
    assert!(out.contains("EDE: 6"), "{out}");
    let out = ask(
        "dig",
        &resolver,
        "www.bad.test.",
        "A",
        &["+dnssec", "+cd", "+time=10"],
    );
    assert!(
        out.contains("status: NOERROR") && out.contains("192.0.2.80"),
        "{out}"
    );
    assert!(!ad(&out), "{out}");
    let (_, metrics) = common::http_request(resolver.http, "GET", "/metrics").unwrap();
    assert!(
        metrics.lines().any(|l| l
            .starts_with("zdns_resolver_validations_total{security=\"bogus\"} ")
            && !l.ends_with(" 0")),
        "{metrics}"
    );
    // The rest of bad.test. is fine.
    let out = ask(
        "dig",
        &resolver,
        "mail.bad.test.",
        "A",
        &["+dnssec", "+time=10"],
    );
    assert!(ad(&out), "{out}");

    // A negative trust anchor for bad.test.: answered, not validated; then removed.
    let http = resolver.http.to_string();
    let nta = |args: &[&str]| {
        let out = Command::new(ZDNS)
            .args(["resolver", "nta", "--http", &http])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = nta(&["add", "bad.test."]);
    assert!(listed.contains("bad.test."), "{listed}");
    let out = ask(
        "dig",
        &resolver,
        "www.bad.test.",
        "A",
        &["+dnssec", "+time=10"],
    );
    assert!(out.contains("status: NOERROR") && !ad(&out), "{out}");
    assert!(nta(&["list"]).contains("bad.test."));
    nta(&["remove", "bad.test."]);
    assert!(!nta(&["list"]).contains("bad.test."));

    // The root KSK the configured DS vouched for is now a managed anchor (RFC 5011),
    // saved in the data directory at shutdown.
    let status = Command::new("kill")
        .args(["-TERM", &resolver.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut resolver = resolver;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while resolver.child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "did not stop");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let state = resolver.dir.path().join("data/trust-anchor.root.state");
    let text = std::fs::read_to_string(&state).unwrap_or_default();
    assert!(
        text.starts_with("valid 0 257 3 13 "),
        "{text:?}\n{}",
        resolver.log()
    );
}

#[test]
fn delv_validates_through_the_resolver() {
    let tools = [
        "dnssec-signzone",
        "ldns-signzone",
        "dnssec-dsfromkey",
        "delv",
    ];
    if !all_peers("delv_validates_through_the_resolver", &tools) {
        return;
    }
    let h = start_hierarchy();
    let resolver = start_resolver(&h);
    let delv = |name: &str, rtype: &str| {
        let out = Command::new("delv")
            .arg(format!("@{}", resolver.dns.ip()))
            .args(["-p", &resolver.dns.port().to_string(), "-a"])
            .arg(&h.delv_anchor)
            .args(["+root=.", name, rtype])
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    for (name, rtype, want) in [
        ("www.example.test.", "A", "; fully validated"),
        ("www.ldns.test.", "A", "; fully validated"),
        ("www.zdns.test.", "A", "; fully validated"),
        (
            "nope.zdns.test.",
            "A",
            "; negative response, fully validated",
        ),
        ("www.insecure.test.", "A", "; unsigned answer"),
    ] {
        let out = delv(name, rtype);
        assert!(
            out.contains(want),
            "{name} {rtype}:\n{out}\n{}",
            resolver.log()
        );
    }
    // The damaged signature: our resolver refuses it before delv sees it.
    let out = delv("www.bad.test.", "A");
    assert!(!out.contains("; fully validated"), "{out}");
}

/// Unbound, validating with the same trust anchor, with one stub zone per zone of the
/// hierarchy (it cannot be given a port for servers it learns from glue).
struct Unbound {
    child: std::process::Child,
    dns: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_unbound(h: &Hierarchy) -> Unbound {
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let mut conf = format!(
        "server:\n  interface: 127.0.0.1@{listen}\n  port: {listen}\n  do-ip6: no\n\
         \x20 do-not-query-localhost: no\n  username: \"\"\n  chroot: \"\"\n\
         \x20 directory: \"{dir}\"\n  pidfile: \"\"\n  use-syslog: no\n\
         \x20 logfile: \"{dir}/log\"\n  module-config: \"validator iterator\"\n\
         \x20 trust-anchor: \"{ds}\"\n  access-control: 127.0.0.0/8 allow\n\
         \x20 num-threads: 1\n  so-reuseport: no\n  local-zone: \"test.\" nodefault\n",
        dir = dir.path().display(),
        ds = h.root_ds.trim().replace('\t', " ")
    );
    for (zone, last) in [
        (".", 1),
        ("test.", 2),
        ("example.test.", 3),
        ("ldns.test.", 3),
        ("zdns.test.", 3),
        ("bad.test.", 3),
        ("insecure.test.", 3),
    ] {
        conf.push_str(&format!(
            "stub-zone:\n  name: \"{zone}\"\n  stub-addr: 127.0.0.{last}@{}\n",
            h.port
        ));
    }
    let path = dir.path().join("unbound.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new("unbound")
        .args(["-d", "-c"])
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dns = SocketAddr::from(([127, 0, 0, 1], listen));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while Command::new("dig")
        .args([&format!("@{}", dns.ip()), "-p", &listen.to_string()])
        .args(["version.bind", "CH", "TXT", "+time=1", "+tries=1"])
        .output()
        .map(|o| !String::from_utf8_lossy(&o.stdout).contains("status:"))
        .unwrap_or(true)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "unbound did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Unbound {
        child,
        dns,
        _dir: dir,
    }
}

/// `status` and AD of a dig answer with DO from `server`.
fn verdict(server: SocketAddr, name: &str, rtype: &str) -> (String, bool) {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), name, rtype])
        .args(["+dnssec", "+time=10", "+tries=1"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let status = text
        .split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("no answer")
        .to_string();
    (status, ad(&text))
}

#[test]
fn verdicts_match_a_validating_unbound() {
    let tools = [
        "dnssec-signzone",
        "ldns-signzone",
        "dnssec-dsfromkey",
        "dig",
        "unbound",
    ];
    if !all_peers("verdicts_match_a_validating_unbound", &tools) {
        return;
    }
    let h = start_hierarchy();
    let resolver = start_resolver(&h);
    let unbound = start_unbound(&h);
    let mut diffs = Vec::new();
    for (name, rtype) in [
        ("www.example.test.", "A"),
        ("www.ldns.test.", "A"),
        ("www.zdns.test.", "A"),
        ("nope.example.test.", "A"),
        ("nope.ldns.test.", "AAAA"),
        ("www.zdns.test.", "TXT"),
        ("nope.test.", "A"),
        ("www.insecure.test.", "A"),
        ("insecure.test.", "DS"),
        ("example.test.", "DNSKEY"),
        ("www.bad.test.", "A"),
        ("mail.bad.test.", "A"),
    ] {
        let ours = verdict(resolver.dns, name, rtype);
        let theirs = verdict(unbound.dns, name, rtype);
        if ours != theirs {
            diffs.push(format!("{name} {rtype}: zdns {ours:?}, unbound {theirs:?}"));
        }
    }
    assert!(diffs.is_empty(), "{}\n{}", diffs.join("\n"), resolver.log());
}
