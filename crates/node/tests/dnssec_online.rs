//! Online signing end to end: `zdns serve` signs a zone with a `[zone.dnssec]` policy
//! at load, re-signs it on `nsupdate` UPDATEs and refreshes signatures before they
//! expire; each time an AXFR of the live zone (by `dig`) passes BIND's `dnssec-verify`,
//! answers with DO (`dig +dnssec`) carry RRSIGs and proofs, answers without DO carry
//! none, and a SIGKILL restart serves the same signatures under the same serial. A ZSK
//! rollover runs on its schedule (short TTLs) across a restart, an algorithm rollover
//! runs with `zdns key roll` and `zdns key ds-seen`; DNSViz finds no errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Server, ZDNS, free_port, peer};

const ZONE: &str = "\
$ORIGIN example.
$TTL 300
@        IN SOA ns hostmaster 1 3600 900 604800 300
@        IN NS  ns
ns       IN A   192.0.2.1
www      IN A   192.0.2.2
mail     IN MX  10 www
sub      IN NS  ns.sub
ns.sub   IN A   192.0.2.9
";

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn dig(server: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("dig")
        .arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string(), "+time=5", "+tries=2"])
        .args(args)
        .output()
        .unwrap();
    text(&out)
}

fn serial_at(server: SocketAddr) -> Option<u32> {
    let out = dig(server, &["+short", "example.", "SOA"]);
    out.split_whitespace().nth(2)?.parse().ok()
}

/// The live zone by AXFR, written to `to`; checked with `dnssec-verify`.
fn axfr_verifies(server: &Server, to: &Path) -> String {
    let zone = dig(
        server.dns,
        &[
            "+tcp", "+nocmd", "+nostats", "+noall", "+answer", "example.", "AXFR",
        ],
    );
    assert!(zone.contains("RRSIG"), "unsigned AXFR:\n{zone}");
    // An AXFR ends with the SOA again: the zone file takes it once.
    let mut soa_seen = false;
    let file: String = zone
        .lines()
        .filter(|l| {
            let soa = l.split_whitespace().nth(3) == Some("SOA");
            let keep = !(soa && soa_seen);
            soa_seen |= soa;
            keep
        })
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(to, file).unwrap();
    let out = Command::new("dnssec-verify")
        .args(["-o", "example."])
        .arg(to)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "dnssec-verify failed: {}\n{zone}\nlog:\n{}",
        text(&out),
        server.log()
    );
    zone
}

fn nsupdate(server: SocketAddr, script: &str) {
    let mut child = Command::new("nsupdate")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let full = format!(
        "server {} {}\nzone example.\n{script}\nsend\n",
        server.ip(),
        server.port()
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(full.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "nsupdate: {}", text(&out));
}

/// A node serving `example.` signed online with a fresh KSK and ZSK, policy `dnssec`
/// (lines of the `[zone.dnssec]` table after `keys`).
fn start_signed(dnssec: &str) -> Server {
    start_signed_zone(ZONE, dnssec)
}

/// [`start_signed`] with the zone text `zone`.
fn start_signed_zone(zone: &str, dnssec: &str) -> Server {
    start_signed_with(zone, dnssec, "ecdsap256")
}

/// [`start_signed_zone`] with keys of the algorithm `alg`.
fn start_signed_with(zone: &str, dnssec: &str, alg: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("example.zone"), zone).unwrap();
    for ksk in [true, false] {
        let mut args = vec![
            "key", "generate", "--zone", "example.", "--alg", alg, "--dir", "keys",
        ];
        if ksk {
            args.push("--ksk");
        }
        let out = Command::new(ZDNS)
            .current_dir(d)
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let config = format!(
        "[[zone]]\norigin = \"example.\"\nfile = \"example.zone\"\n\
         allow_transfer = [{{ address = \"127.0.0.0/8\" }}]\n\
         allow_update = [{{ address = \"127.0.0.1\" }}]\n\
         [zone.dnssec]\nkeys = \"keys\"\n{dnssec}\n"
    );
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    common::start_in(dir, dns, &config)
}

fn peers(test: &str) -> bool {
    peer(test, &["dig"]).is_some()
        && peer(test, &["nsupdate"]).is_some()
        && peer(test, &["dnssec-verify"]).is_some()
}

fn signed_at_load_on_update_and_across_a_restart(dnssec: &str) {
    let mut server = start_signed(dnssec);
    let dir = server.dir.path().to_path_buf();
    assert_eq!(serial_at(server.dns), Some(1));
    axfr_verifies(&server, &dir.join("axfr1"));

    // With DO: the answer and its RRSIG; without: the prepared answer, no RRSIG.
    let with_do = dig(server.dns, &["+dnssec", "+norec", "www.example.", "A"]);
    assert!(
        with_do.contains("RRSIG\tA 13 2 300"),
        "no RRSIG with DO:\n{with_do}"
    );
    let without = dig(server.dns, &["+norec", "www.example.", "A"]);
    assert!(without.contains("192.0.2.2") && !without.contains("RRSIG"));

    nsupdate(
        server.dns,
        "update add new.example. 300 A 192.0.2.50\nupdate delete www.example. A",
    );
    assert_eq!(serial_at(server.dns), Some(2));
    let new = dig(server.dns, &["+dnssec", "+norec", "new.example.", "A"]);
    assert!(
        new.contains("192.0.2.50") && new.contains("RRSIG\tA"),
        "{new}"
    );
    let gone = dig(server.dns, &["+dnssec", "+norec", "www.example.", "A"]);
    assert!(gone.contains("NXDOMAIN"), "{gone}");
    let proofs = gone
        .lines()
        .filter(|l| matches!(l.split_whitespace().nth(3), Some("NSEC" | "NSEC3")))
        .count();
    assert!(proofs > 0, "no denial proof:\n{gone}");
    let after_update = axfr_verifies(&server, &dir.join("axfr2"));

    // IXFR from serial 1: the signed difference.
    let ixfr = dig(
        server.dns,
        &["+tcp", "+noall", "+answer", "example.", "IXFR=1"],
    );
    assert!(
        ixfr.contains("192.0.2.50") && ixfr.contains("RRSIG"),
        "{ixfr}"
    );

    server.kill_and_restart();
    assert_eq!(serial_at(server.dns), Some(2));
    let restarted = axfr_verifies(&server, &dir.join("axfr3"));
    let sorted = |zone: &str| {
        let mut lines: Vec<&str> = zone.lines().collect();
        lines.sort_unstable();
        lines.join("\n")
    };
    assert_eq!(
        sorted(&restarted),
        sorted(&after_update),
        "a restart must serve the journaled signatures"
    );
}

#[test]
fn nsec_zone_signed_online() {
    if peers("nsec_zone_signed_online") {
        signed_at_load_on_update_and_across_a_restart("");
    }
}

#[test]
fn nsec3_zone_signed_online() {
    if peers("nsec3_zone_signed_online") {
        signed_at_load_on_update_and_across_a_restart("nsec3 = true\ncds = true");
    }
}

#[test]
fn signatures_are_refreshed_before_they_expire() {
    if !peers("signatures_are_refreshed_before_they_expire") {
        return;
    }
    // Signatures valid for 30 s, refreshed when less than 24 s are left: the first
    // refresh comes about 6 s after start, with the next serial.
    let server = start_signed("validity = 30\njitter = 0\nrefresh = 24");
    assert_eq!(serial_at(server.dns), Some(1));
    let deadline = Instant::now() + Duration::from_secs(60);
    while serial_at(server.dns).is_none_or(|s| s < 2) {
        assert!(
            Instant::now() < deadline,
            "not re-signed:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    axfr_verifies(&server, &server.dir.path().join("refreshed"));
    assert!(server.log().contains("zone re-signed"));
}

/// Runs `dnsviz` with a shim for Debian 12, whose dnsviz 0.9.4 looks for
/// `pygraphviz.release`, which its pygraphviz 1.7 no longer has (grok would refuse to
/// run); bounded by `timeout` so a probe that goes astray cannot hang the test.
fn dnsviz(dnsviz: &Path, dir: &Path, args: &[&str]) -> Output {
    const SHIM: &str = "import runpy, sys, types\n\
        import pygraphviz\n\
        if not hasattr(pygraphviz, 'release'):\n    \
            m = types.ModuleType('pygraphviz.release')\n    \
            m.version = pygraphviz.__version__\n    \
            sys.modules['pygraphviz.release'] = m\n    \
            pygraphviz.release = m\n\
        script = sys.argv[1]\n\
        sys.argv = ['dnsviz'] + sys.argv[2:]\n\
        runpy.run_path(script, run_name='__main__')\n";
    Command::new("timeout")
        .current_dir(dir)
        .args(["180", "/usr/bin/python3", "-c", SHIM])
        .arg(dnsviz)
        .args(args)
        .output()
        .unwrap()
}

/// DNSViz (`dnsviz probe` against the live server, `dnsviz grok` with the zone's KSK as
/// the trust anchor) reports no errors and no warnings for a zone signed online (NSEC3,
/// CDS/CDNSKEY), and finds it secure.
#[test]
fn dnsviz_finds_no_errors() {
    let test = "dnsviz_finds_no_errors";
    let Some(program) = peer(test, &["dnsviz"]) else {
        return;
    };
    if !peers(test) {
        return;
    }
    let server = start_signed("nsec3 = true\ncds = true");
    let d = server.dir.path();
    let mut anchors = String::new();
    for entry in fs::read_dir(d.join("keys")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "key") {
            let body = fs::read_to_string(&path).unwrap();
            for line in body.lines().filter(|l| l.contains(" IN DNSKEY 257 ")) {
                anchors.push_str(&line.replacen(" IN ", " 3600 IN ", 1));
                anchors.push('\n');
            }
        }
    }
    assert!(!anchors.is_empty(), "no KSK in the keyring");
    fs::write(d.join("anchors"), anchors).unwrap();
    // The zone's servers are given (`example+`: nothing is asked above it); the KSK
    // is the trust anchor; loopback addresses are allowed (-P).
    let at = format!("example+:ns.example={}", server.dns);
    let names = ["example", "www.example", "nothere.example"];
    let mut probe_args = vec!["probe", "-4", "-A", "-a", "example", "-x", &at];
    probe_args.extend(["-o", "probe.json"]);
    probe_args.extend(names);
    let probe = dnsviz(&program, d, &probe_args);
    assert!(probe.status.success(), "dnsviz probe: {}", text(&probe));
    let grok = |level: Option<&str>| {
        let mut args = vec!["grok", "-P", "-t", "anchors", "-r", "probe.json"];
        if let Some(level) = level {
            args.extend(["-l", level]);
        }
        let out = dnsviz(&program, d, &args);
        assert!(out.status.success(), "dnsviz grok: {}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let problems = grok(Some("warning"));
    assert!(
        !problems.contains("\"errors\"") && !problems.contains("\"warnings\""),
        "DNSViz found problems:\n{problems}\nlog:\n{}",
        server.log()
    );
    let full = grok(None);
    assert!(full.contains("\"SECURE\""), "not secure:\n{full}");
    assert!(!full.contains("\"BOGUS\""), "bogus:\n{full}");
}

/// The ZSKs (DNSKEY flags 256) in an AXFR as dig prints it.
fn zsks(axfr: &str) -> Vec<String> {
    let mut keys: Vec<String> = axfr
        .lines()
        .filter_map(|l| l.split_once("\tDNSKEY\t256 "))
        .map(|(_, key)| key.to_owned())
        .collect();
    keys.sort();
    keys
}

/// A ZSK lifetime of 3 s with 1 s TTLs: the schedule publishes a new ZSK, switches the
/// signing to it and removes the old one, each step passing dnssec-verify; the node is
/// killed in the middle and carries on from its saved rollover state.
#[test]
fn zsk_rolls_on_schedule_across_a_restart() {
    if !peers("zsk_rolls_on_schedule_across_a_restart") {
        return;
    }
    let zone = ZONE
        .replace("$TTL 300", "$TTL 1")
        .replace("604800 300", "604800 1");
    let mut server = start_signed_zone(&zone, "zsk_lifetime = 3\npropagation = 0");
    let dir = server.dir.path().to_path_buf();
    let first = zsks(&axfr_verifies(&server, &dir.join("roll0")));
    assert_eq!(first.len(), 1);
    let mut restarted = false;
    let mut seen_two = false;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last_serial = serial_at(server.dns);
    loop {
        assert!(
            Instant::now() < deadline,
            "ZSK not rolled:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(200));
        let serial = serial_at(server.dns);
        if serial == last_serial {
            continue;
        }
        last_serial = serial;
        let keys = zsks(&axfr_verifies(&server, &dir.join("roll")));
        if keys.len() == 2 {
            seen_two = true;
            if !restarted {
                server.kill_and_restart();
                restarted = true;
            }
        } else if keys.len() == 1 && keys != first {
            break;
        }
    }
    assert!(
        seen_two,
        "the new ZSK was never published beside the old one"
    );
    assert!(restarted);
    let state = fs::read_to_string(dir.join("keys/example.rollover.state")).unwrap();
    assert!(
        !state.contains("roll "),
        "rollover still under way:\n{state}"
    );
}

/// A zone signed online with ML-DSA-44 (PRIVATEOID): a DO answer outgrows UDP, comes
/// back truncated (TC), and `dig` gets it whole over TCP.
#[test]
fn ml_dsa_answers_truncate_over_udp_and_come_whole_over_tcp() {
    if peer("ml_dsa_answers_truncate_over_udp", &["dig"]).is_none() {
        return;
    }
    let server = start_signed_with(ZONE, "", "mldsa44");
    let udp = dig(
        server.dns,
        &["+dnssec", "+norec", "+ignore", "www.example.", "A"],
    );
    let flags = udp
        .lines()
        .find(|l| l.contains(";; flags:"))
        .unwrap_or_default();
    assert!(flags.contains(" tc"), "not truncated:\n{udp}");
    let tcp = dig(server.dns, &["+dnssec", "+norec", "www.example.", "A"]);
    assert!(
        tcp.contains("RRSIG\tA 254 2 300"),
        "no ML-DSA RRSIG over TCP:\n{tcp}"
    );
    assert!(tcp.contains("192.0.2.2"));
}

/// A zdns secondary signs what it transfers in: an unsigned zdns primary takes an
/// `nsupdate`, NOTIFYs the secondary, and the secondary's IXFR-in is re-signed
/// incrementally under the primary's serial; its AXFR passes dnssec-verify.
#[test]
fn a_signing_secondary_signs_transfers_in() {
    if !peers("a_signing_secondary_signs_transfers_in") {
        return;
    }
    let primary_dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let secondary_dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let primary_dir = tempfile::tempdir().unwrap();
    fs::write(primary_dir.path().join("example.zone"), ZONE).unwrap();
    let primary = common::start_in(
        primary_dir,
        primary_dns,
        &format!(
            "[[zone]]\norigin = \"example.\"\nfile = \"example.zone\"\n\
             allow_transfer = [{{ address = \"127.0.0.0/8\" }}]\n\
             allow_update = [{{ address = \"127.0.0.1\" }}]\n\
             notify = [{{ address = \"{secondary_dns}\" }}]\n"
        ),
    );
    let secondary_dir = tempfile::tempdir().unwrap();
    for ksk in [true, false] {
        let mut args = vec![
            "key", "generate", "--zone", "example.", "--alg", "ed25519", "--dir", "keys",
        ];
        if ksk {
            args.push("--ksk");
        }
        let out = Command::new(ZDNS)
            .current_dir(secondary_dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let secondary = common::start_in(
        secondary_dir,
        secondary_dns,
        &format!(
            "[[zone]]\norigin = \"example.\"\nprimaries = [{{ address = \"{primary_dns}\" }}]\n\
             allow_transfer = [{{ address = \"127.0.0.0/8\" }}]\n\
             [zone.dnssec]\nkeys = \"keys\"\nnsec3 = true\n"
        ),
    );
    let wait_serial = |serial: u32| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while serial_at(secondary_dns) != Some(serial) {
            assert!(
                Instant::now() < deadline,
                "secondary not at serial {serial}:\n{}",
                secondary.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_serial(1);
    let dir = secondary.dir.path().to_path_buf();
    axfr_verifies(&secondary, &dir.join("axfr1"));

    nsupdate(primary.dns, "update add new.example. 300 A 192.0.2.50");
    wait_serial(2);
    let new = dig(secondary_dns, &["+dnssec", "+norec", "new.example.", "A"]);
    assert!(
        new.contains("192.0.2.50") && new.contains("RRSIG\tA 15 2 300"),
        "{new}"
    );
    axfr_verifies(&secondary, &dir.join("axfr2"));
    assert!(
        secondary.log().contains("kind=\"ixfr\"") || secondary.log().contains("kind=ixfr"),
        "not an IXFR:\n{}",
        secondary.log()
    );
}

/// The DNSKEY algorithms (field 3 of the RDATA) in an AXFR as dig prints it.
fn dnskey_algorithms(axfr: &str) -> Vec<String> {
    let mut algs: Vec<String> = axfr
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("DNSKEY"))
        .filter_map(|l| l.split_whitespace().nth(6).map(str::to_owned))
        .collect();
    algs.sort();
    algs.dedup();
    algs
}

/// An operator's algorithm rollover, ECDSA P-256 to Ed25519, with 1 s TTLs: `zdns key
/// roll` and a reload start it; the new keys sign, are published, and take the CDS;
/// `zdns key ds-seen` and a reload let it finish with only Ed25519 keys. The zone at
/// each publication step passes dnssec-verify.
#[test]
fn algorithm_rollover_driven_by_zdns_key_roll_and_ds_seen() {
    if !peers("algorithm_rollover_driven_by_zdns_key_roll_and_ds_seen") {
        return;
    }
    let zone = ZONE
        .replace("$TTL 300", "$TTL 1")
        .replace("604800 300", "604800 1");
    let server = start_signed_zone(
        &zone,
        "ksk_lifetime = 1000000\nparent_ds_ttl = 1\npropagation = 0\ncds = true",
    );
    let dir = server.dir.path().to_path_buf();
    let zdns = |args: &[&str]| {
        let out = Command::new(ZDNS)
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "zdns {args:?}: {}", text(&out));
    };
    let reload = || zdns(&["reload", "--http", &server.http.to_string()]);
    let wait_for = |what: &str, done: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let zone = dig(
                server.dns,
                &["+tcp", "+noall", "+answer", "example.", "AXFR"],
            );
            if done(&zone) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never {what}:\n{zone}\nlog:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    assert_eq!(
        dnskey_algorithms(&axfr_verifies(&server, &dir.join("alg0"))),
        ["13"]
    );
    zdns(&[
        "key", "roll", "--zone", "example.", "--dir", "keys", "--alg", "ed25519",
    ]);
    reload();
    // Published beside the old keys, and then named by the CDS.
    wait_for("both algorithms published", &|z| {
        dnskey_algorithms(z) == ["13", "15"]
    });
    wait_for("a CDS for the new KSK", &|z| {
        z.lines()
            .any(|l| l.split_whitespace().nth(3) == Some("CDS") && l.contains(" 15 2 "))
    });
    axfr_verifies(&server, &dir.join("alg2"));
    zdns(&["key", "ds-seen", "--zone", "example.", "--dir", "keys"]);
    reload();
    wait_for("only the new algorithm", &|z| {
        dnskey_algorithms(z) == ["15"] && !z.contains("RRSIG\tSOA 13 ")
    });
    axfr_verifies(&server, &dir.join("alg4"));
    let state = fs::read_to_string(dir.join("keys/example.rollover.state")).unwrap();
    assert!(
        !state.contains("roll "),
        "rollover still under way:\n{state}"
    );
}
