//! `zdns serve` with a zone signed by `zdns zone sign`, checked by BIND's `delv` with
//! the zone's KSK as a local trust anchor: positive answers, NXDOMAIN, NODATA (empty
//! non-terminals too), wildcard answers and wildcard NODATA validate, for NSEC and
//! NSEC3; a damaged signature does not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::process::Command;

use common::{ZDNS, peer, start};

const ZONE: &str = "\
$ORIGIN example.
$TTL 3600
@        IN SOA ns1 hostmaster 2026120101 7200 3600 1209600 300
@        IN NS  ns1
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
*.wild   IN TXT \"wildcard\"
a.b.c    IN A   192.0.2.3
insecure IN NS  ns.insecure
ns.insecure IN A 192.0.2.5
";

/// Signs the zone in a temporary directory; returns the signed text and the trust
/// anchor file for delv.
fn signed(extra: &[&str]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("example.zone"), ZONE).unwrap();
    let zdns = |args: &[&str]| {
        let out = Command::new(ZDNS)
            .current_dir(d)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    zdns(&[
        "key",
        "generate",
        "--zone",
        "example.",
        "--alg",
        "ecdsap256",
        "--ksk",
        "--dir",
        "ring",
    ]);
    zdns(&[
        "key",
        "generate",
        "--zone",
        "example.",
        "--alg",
        "ecdsap256",
        "--dir",
        "ring",
    ]);
    let mut args = vec![
        "zone",
        "sign",
        "example.zone",
        "--keys",
        "ring",
        "-o",
        "signed.zone",
    ];
    args.extend_from_slice(extra);
    zdns(&args);
    let ksk = fs::read_dir(d.join("ring"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .find_map(|t| {
            t.lines()
                .find(|l| l.contains("DNSKEY 257"))
                .map(|l| l.split_whitespace().last().unwrap().to_string())
        })
        .unwrap();
    fs::write(
        d.join("anchor.conf"),
        format!("trust-anchors {{ \"example.\" static-key 257 3 13 \"{ksk}\"; }};\n"),
    )
    .unwrap();
    let text = fs::read_to_string(d.join("signed.zone")).unwrap();
    (dir, text)
}

fn delv(
    delv: &std::path::Path,
    anchor: &std::path::Path,
    port: u16,
    name: &str,
    rtype: &str,
) -> String {
    let out = Command::new(delv)
        .args(["@127.0.0.1", "-p", &port.to_string(), "-a"])
        .arg(anchor)
        .args(["+root=example.", name, rtype])
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn validates(extra: &[&str]) {
    let Some(delv_bin) = peer("delv_validates_served_zones", &["delv"]) else {
        return;
    };
    let (keys, text) = signed(extra);
    let anchor = keys.path().join("anchor.conf");
    let server = start("", &[("example.", "example.zone", &text)]);
    let port = server.dns.port();
    for (name, rtype, want) in [
        ("mail.example.", "A", "; fully validated"),
        ("example.", "MX", "; fully validated"),
        ("x.wild.example.", "TXT", "; fully validated"),
        ("nope.example.", "A", "; negative response, fully validated"),
        (
            "mail.example.",
            "TXT",
            "; negative response, fully validated",
        ),
        ("b.c.example.", "A", "; negative response, fully validated"),
        (
            "x.wild.example.",
            "A",
            "; negative response, fully validated",
        ),
        (
            "insecure.example.",
            "DS",
            "; negative response, fully validated",
        ),
    ] {
        let out = delv(&delv_bin, &anchor, port, name, rtype);
        // With opt-out, the NSEC3 that covers the next closer name could hide an
        // unsigned delegation, so BIND takes a wildcard answer as insecure (RFC 5155
        // §9.2): the proof is there, the status is what opt-out allows.
        let want = if extra.contains(&"--opt-out") && name == "x.wild.example." && rtype == "TXT" {
            "; unsigned answer"
        } else {
            want
        };
        assert!(out.contains(want), "{extra:?} {name} {rtype}:\n{out}");
    }
    drop(server);

    // One damaged signature: delv refuses the answer.
    let line = text
        .lines()
        .find(|l| l.starts_with("mail.example.") && l.contains("RRSIG\tA "))
        .unwrap();
    let mut bad = line.to_string();
    let at = bad.len() - 10;
    let c = if &bad[at..at + 1] == "A" { "B" } else { "A" };
    bad.replace_range(at..at + 1, c);
    let server = start(
        "",
        &[("example.", "example.zone", &text.replace(line, &bad))],
    );
    let out = delv(&delv_bin, &anchor, server.dns.port(), "mail.example.", "A");
    assert!(!out.contains("; fully validated"), "{out}");
    assert!(out.contains("resolution failed"), "{out}");
}

#[test]
fn delv_validates_nsec_zone() {
    validates(&[]);
}

#[test]
fn delv_validates_nsec3_zone() {
    validates(&["--nsec3"]);
}

#[test]
fn delv_validates_nsec3_opt_out_zone() {
    validates(&["--nsec3", "--opt-out"]);
}
