//! Zones signed by BIND's `dnssec-signzone` and by `ldns-signzone` (NSEC and NSEC3) pass
//! the crate's zone checker, and every single-byte corruption of a signature, a removed
//! NSEC or NSEC3 and an expired RRSIG in them are found. Skips when the tools are
//! missing; fails instead under `ZDNS_REQUIRE_PEERS=1`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use lib_dns::Name;
use lib_dns::rdata::RData;
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::zone::{NoIncludes, Zone};
use zdns_dnssec::check::{Problem, check_zone};
use zdns_dnssec::verify::SigError;

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
secure   IN NS  ns.secure
secure   IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure IN A  192.0.2.4
insecure IN NS  ns.insecure
ns.insecure IN A 192.0.2.5
";

fn peer(test: &str, name: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = PathBuf::from(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    assert!(
        std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
        "{test}: {name} not found and ZDNS_REQUIRE_PEERS=1"
    );
    eprintln!("{test}: skipped, {name} not installed");
    None
}

fn run(dir: &Path, program: &Path, args: &[&str]) -> String {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program:?} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

fn read(path: &Path) -> (Name, Vec<Record>) {
    let origin = Name::parse("example.").unwrap();
    let text = fs::read(path).unwrap();
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        "signed",
        &text[..],
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    (origin, loaded.zone.records().to_vec())
}

fn problems(origin: &Name, records: Vec<Record>, at: u32) -> Vec<Problem> {
    check_zone(origin, records, at)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.problem)
        .collect()
}

/// The signed zone checks clean, and each kind of damage is found.
fn check_signed(label: &str, path: &Path) {
    let (origin, records) = read(path);
    if let Err(p) = check_zone(&origin, records.clone(), now()) {
        panic!("{label}: {p:#?}");
    }
    // Every single-byte corruption of the MX signature.
    let at = records
        .iter()
        .position(|r| matches!(&r.data, RData::Rrsig(s) if s.type_covered == Rtype::MX))
        .unwrap();
    let RData::Rrsig(sig) = &records[at].data else {
        unreachable!()
    };
    for i in 0..sig.signature.len() {
        let mut bad = records.clone();
        if let RData::Rrsig(s) = &mut bad[at].data {
            s.signature[i] ^= 0x01;
        }
        assert!(
            problems(&origin, bad, now()).contains(&Problem::BadRrsig(SigError::BadSignature)),
            "{label}: corrupting byte {i} went unnoticed"
        );
    }
    // A removed NSEC or NSEC3 (and its signature).
    let denial = records
        .iter()
        .find(|r| matches!(r.rtype(), Rtype::NSEC | Rtype::NSEC3) && r.owner != origin)
        .unwrap();
    let (owner, rtype) = (denial.owner.clone(), denial.rtype());
    let bad: Vec<Record> = records
        .iter()
        .filter(|r| {
            r.owner != owner
                || !(r.rtype() == rtype
                    || matches!(&r.data, RData::Rrsig(s) if s.type_covered == rtype))
        })
        .cloned()
        .collect();
    // A name lost its denial; with opt-out the removed record may have covered only
    // insecure delegations, and then what is found is the NSEC3 chain's gap.
    let p = problems(&origin, bad, now());
    let found = if label.ends_with("optout") {
        p.contains(&Problem::MissingDenial) || p.contains(&Problem::BrokenChain)
    } else {
        p.contains(&Problem::MissingDenial)
    };
    assert!(found, "{label}: {p:?}");
    // Expired: 40 days on, past BIND's and ldns's default validity.
    let p = problems(&origin, records, now() + 40 * 86_400);
    assert!(
        p.contains(&Problem::BadRrsig(SigError::Expired)),
        "{label}: {p:?}"
    );
}

#[test]
fn dnssec_signzone_zones_check_clean_and_damage_is_found() {
    let test = "dnssec_signzone_zones_check_clean_and_damage_is_found";
    let (Some(keygen), Some(signzone)) =
        (peer(test, "dnssec-keygen"), peer(test, "dnssec-signzone"))
    else {
        return;
    };
    for alg in ["ECDSAP256SHA256", "ED25519", "RSASHA256"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("example.zone"), ZONE).unwrap();
        run(d, &keygen, &["-q", "-a", alg, "-f", "KSK", "example."]);
        run(d, &keygen, &["-q", "-a", alg, "example."]);
        for (out, extra) in [
            ("nsec", &[][..]),
            ("nsec3", &["-3", "-", "-H", "0"][..]),
            ("optout", &["-3", "-", "-H", "0", "-A"][..]),
        ] {
            let mut args = vec!["-q", "-o", "example.", "-S", "-K", ".", "-f", out];
            args.extend_from_slice(extra);
            args.push("example.zone");
            run(d, &signzone, &args);
            check_signed(&format!("dnssec-signzone {alg} {out}"), &d.join(out));
        }
    }
}

#[test]
fn ldns_signzone_zones_check_clean_and_damage_is_found() {
    let test = "ldns_signzone_zones_check_clean_and_damage_is_found";
    let (Some(keygen), Some(signzone)) = (peer(test, "ldns-keygen"), peer(test, "ldns-signzone"))
    else {
        return;
    };
    for alg in ["ECDSAP256SHA256", "ED25519"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("example.zone"), ZONE).unwrap();
        let ksk = run(d, &keygen, &["-a", alg, "-k", "example."]);
        let zsk = run(d, &keygen, &["-a", alg, "example."]);
        let (ksk, zsk) = (ksk.trim(), zsk.trim());
        for (out, extra) in [
            ("nsec", &[][..]),
            ("nsec3", &["-n", "-t", "0", "-s", ""][..]),
        ] {
            let mut args = vec!["-o", "example.", "-f", out];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["example.zone", ksk, zsk]);
            run(d, &signzone, &args);
            check_signed(&format!("ldns-signzone {alg} {out}"), &d.join(out));
        }
    }
}
