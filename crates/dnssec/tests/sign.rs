//! Signing whole zones and checking them with the crate's own zone checker: each
//! algorithm, NSEC, NSEC3 (with and without opt-out), CDS/CDNSKEY and ZONEMD; and every
//! kind of damage the checker must find; signing again with the signatures that still
//! fit (online signing).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use lib_dns::Name;
use lib_dns::rdata::RData;
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::zone::{NoIncludes, Zone};
use zdns_dnssec::check::{Problem, check_zone};
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
use zdns_dnssec::sign::{Denial, Nsec3Options, Reuse, SignOptions, resign_zone, sign_zone};
use zdns_dnssec::verify::SigError;

const NOW: u64 = 1_800_000_000;

const ZONE: &str = "\
$TTL 3600
@        IN SOA ns1 hostmaster 2026120101 7200 3600 1209600 300
@        IN NS  ns1
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
         IN AAAA 2001:db8::2
*.wild   IN TXT \"wildcard\"
a.b.c    IN A   192.0.2.3
secure   IN NS  ns.secure
secure   IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure IN A  192.0.2.4
insecure IN NS  ns.insecure
ns.insecure IN A 192.0.2.5
Upper    IN A   192.0.2.6
";

fn zone_records() -> (Name, Vec<Record>) {
    let origin = Name::parse("example.").unwrap();
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        "example.zone",
        ZONE.as_bytes(),
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    (origin, loaded.zone.records().to_vec())
}

fn keys(alg: SignAlgorithm) -> Vec<SigningKey> {
    vec![
        SigningKey::generate(alg, FLAGS_KSK).unwrap(),
        SigningKey::generate(alg, FLAGS_ZSK).unwrap(),
    ]
}

fn signed(denial: Denial, keys: &[SigningKey]) -> (Name, Vec<Record>) {
    let (origin, records) = zone_records();
    let opts = SignOptions {
        denial,
        zonemd: true,
        cds: true,
        ..SignOptions::new(NOW)
    };
    (
        origin.clone(),
        sign_zone(&origin, records, keys, &opts).unwrap(),
    )
}

fn problems(origin: &Name, records: Vec<Record>, now: u64) -> Vec<Problem> {
    match check_zone(origin, records, now as u32) {
        Ok(_) => Vec::new(),
        Err(p) => p.into_iter().map(|p| p.problem).collect(),
    }
}

fn nsec3(opt_out: bool) -> Denial {
    Denial::Nsec3(Nsec3Options {
        opt_out,
        ..Nsec3Options::default()
    })
}

#[test]
fn every_algorithm_and_denial_checks_clean() {
    for alg in [
        SignAlgorithm::Ed25519,
        SignAlgorithm::EcdsaP256Sha256,
        SignAlgorithm::EcdsaP384Sha384,
        SignAlgorithm::MlDsa44,
    ] {
        let keys = keys(alg);
        for denial in [Denial::Nsec, nsec3(false), nsec3(true)] {
            let (origin, records) = signed(denial.clone(), &keys);
            let summary = check_zone(&origin, records.clone(), NOW as u32)
                .unwrap_or_else(|p| panic!("{alg:?} {denial:?}: {p:#?}"));
            assert_eq!(summary.nsec3, denial != Denial::Nsec);
            // Signing a signed zone again gives a zone that checks too.
            let again = sign_zone(&origin, records, &keys, &SignOptions::new(NOW)).unwrap();
            check_zone(&origin, again, NOW as u32).unwrap();
        }
    }
}

#[test]
fn generated_records_follow_the_rules() {
    let keys = keys(SignAlgorithm::Ed25519);
    let (origin, records) = signed(Denial::Nsec, &keys);
    let at = |name: &str, t: Rtype| -> Vec<&Record> {
        let n = Name::parse(name).unwrap();
        records
            .iter()
            .filter(|r| r.owner == n && r.rtype() == t)
            .collect()
    };
    let covered = |name: &str| -> Vec<Rtype> {
        at(name, Rtype::RRSIG)
            .iter()
            .map(|r| match &r.data {
                RData::Rrsig(s) => s.type_covered,
                _ => unreachable!(),
            })
            .collect()
    };
    // Glue and delegation NS are not signed; DS and NSEC at the cut are.
    assert!(covered("ns.secure.example.").is_empty());
    assert!(at("ns.secure.example.", Rtype::NSEC).is_empty());
    let mut cut = covered("secure.example.");
    cut.sort();
    assert_eq!(cut, [Rtype::DS, Rtype::NSEC]);
    assert_eq!(covered("insecure.example."), [Rtype::NSEC]);
    // The DNSKEY RRset is signed by the KSK only; the rest by the ZSK only.
    let ksk = keys[0].key_tag();
    for r in at("example.", Rtype::RRSIG) {
        let RData::Rrsig(s) = &r.data else {
            unreachable!()
        };
        let by_ksk = matches!(s.type_covered, Rtype::DNSKEY | Rtype::CDS | Rtype::CDNSKEY);
        assert_eq!(s.key_tag == ksk, by_ksk, "{r}");
        assert_eq!(s.labels, 1);
    }
    // Wildcard: the RRSIG's labels leave out the '*'.
    let w = at("*.wild.example.", Rtype::RRSIG);
    let RData::Rrsig(s) = &w[0].data else {
        unreachable!()
    };
    assert_eq!(s.labels, 2);
    // CDS and CDNSKEY for the KSK only, ZONEMD present; NSEC TTL is the SOA minimum.
    assert_eq!(at("example.", Rtype::CDS).len(), 1);
    assert_eq!(at("example.", Rtype::CDNSKEY).len(), 1);
    assert_eq!(at("example.", Rtype::ZONEMD).len(), 1);
    assert_eq!(at("example.", Rtype::NSEC)[0].ttl, 300);
    // The chain: the apex NSEC points at the next name in canonical order.
    let RData::Nsec(n) = &at("example.", Rtype::NSEC)[0].data else {
        unreachable!()
    };
    assert_eq!(n.next, Name::parse("a.b.c.example.").unwrap());
    assert!(records.iter().all(|r| r.owner.is_subdomain_of(&origin)));
    // Every expiration lies within the jitter window.
    let opts = SignOptions::new(NOW);
    for r in &records {
        if let RData::Rrsig(s) = &r.data {
            assert!(
                s.expiration <= opts.expiration && s.expiration > opts.expiration - opts.jitter
            );
            assert_eq!(s.inception, opts.inception);
        }
    }
}

#[test]
fn nsec3_opt_out_skips_insecure_delegations_only() {
    let keys = keys(SignAlgorithm::EcdsaP256Sha256);
    let count = |d: Denial| {
        let (_, records) = signed(d, &keys);
        records.iter().filter(|r| r.rtype() == Rtype::NSEC3).count()
    };
    // Names: apex, a.b.c, *.wild, mail, ns1, secure, insecure, upper; ENTs: b.c, c, wild.
    assert_eq!(count(nsec3(false)), 11);
    assert_eq!(count(nsec3(true)), 10);
    let (_, records) = signed(nsec3(true), &keys);
    let param = records
        .iter()
        .find(|r| r.rtype() == Rtype::NSEC3PARAM)
        .unwrap();
    assert_eq!(param.data.to_string(), "1 0 0 -");
    assert_eq!(param.ttl, 0);
}

#[test]
fn every_single_byte_corruption_of_a_signature_is_found() {
    let keys = keys(SignAlgorithm::Ed25519);
    for denial in [Denial::Nsec, nsec3(false)] {
        let (origin, records) = signed(denial, &keys);
        let sig_at = records
            .iter()
            .position(|r| matches!(&r.data, RData::Rrsig(s) if s.type_covered == Rtype::MX))
            .unwrap();
        let len = match &records[sig_at].data {
            RData::Rrsig(s) => s.signature.len(),
            _ => unreachable!(),
        };
        for i in 0..len {
            let mut bad = records.clone();
            if let RData::Rrsig(s) = &mut bad[sig_at].data {
                s.signature[i] ^= 0x5a;
            }
            let p = problems(&origin, bad, NOW);
            assert!(
                p.contains(&Problem::BadRrsig(SigError::BadSignature)),
                "byte {i}: {p:?}"
            );
        }
    }
}

#[test]
fn tampered_data_removed_nsec_and_expiry_are_found() {
    let keys = keys(SignAlgorithm::EcdsaP256Sha256);
    let (origin, records) = signed(Denial::Nsec, &keys);

    // A changed address.
    let mut bad = records.clone();
    let a = bad
        .iter()
        .position(|r| r.rtype() == Rtype::A && r.owner.to_string() == "mail.example.")
        .unwrap();
    bad[a].data = RData::parse_str(Rtype::A, "192.0.2.99", None).unwrap();
    let p = problems(&origin, bad, NOW);
    assert!(
        p.contains(&Problem::BadRrsig(SigError::BadSignature)),
        "{p:?}"
    );
    assert!(p.contains(&Problem::ZonemdMismatch), "{p:?}");

    // A removed NSEC: the chain has a hole and the previous NSEC points past nothing.
    let mut bad = records.clone();
    let mail = Name::parse("mail.example.").unwrap();
    bad.retain(|r| {
        !(r.owner == mail
            && (r.rtype() == Rtype::NSEC
                || matches!(&r.data, RData::Rrsig(s) if s.type_covered == Rtype::NSEC)))
    });
    let p = problems(&origin, bad, NOW);
    assert!(p.contains(&Problem::MissingDenial), "{p:?}");

    // An unsigned RRset.
    let mut bad = records.clone();
    bad.retain(|r| {
        !(r.owner == mail && matches!(&r.data, RData::Rrsig(s) if s.type_covered == Rtype::AAAA))
    });
    let p = problems(&origin, bad, NOW);
    assert!(p.iter().any(|p| matches!(p, Problem::Unsigned(_))), "{p:?}");

    // Expired, and not yet valid.
    let p = problems(&origin, records.clone(), NOW + 31 * 86_400);
    assert!(p.contains(&Problem::BadRrsig(SigError::Expired)), "{p:?}");
    let p = problems(&origin, records.clone(), NOW - 2 * 3600);
    assert!(
        p.contains(&Problem::BadRrsig(SigError::NotYetValid)),
        "{p:?}"
    );

    // A wrong type bitmap.
    let mut bad = records.clone();
    for r in &mut bad {
        if r.owner == mail
            && let RData::Nsec(n) = &mut r.data
        {
            n.types = lib_dns::rdata::TypeBitmap::new(vec![Rtype::A, Rtype::NSEC, Rtype::RRSIG]);
        }
    }
    let p = problems(&origin, bad, NOW);
    assert!(p.contains(&Problem::WrongBitmap), "{p:?}");

    // No chain at all.
    let mut bad = records;
    bad.retain(|r| r.rtype() != Rtype::NSEC);
    let p = problems(&origin, bad, NOW);
    assert!(p.contains(&Problem::NoDenial), "{p:?}");
}

#[test]
fn nsec3_damage_is_found() {
    let keys = keys(SignAlgorithm::Ed25519);
    let (origin, records) = signed(nsec3(false), &keys);
    // Remove one NSEC3: a name loses its record and the chain breaks.
    let mut bad = records.clone();
    let i = bad.iter().position(|r| r.rtype() == Rtype::NSEC3).unwrap();
    let gone = bad.remove(i).owner;
    bad.retain(|r| !(r.owner == gone && r.rtype() == Rtype::RRSIG));
    let p = problems(&origin, bad, NOW);
    assert!(p.contains(&Problem::MissingDenial), "{p:?}");
    assert!(p.contains(&Problem::BrokenChain), "{p:?}");
}

#[test]
fn zones_without_soa_or_keys_are_refused() {
    let (origin, records) = zone_records();
    let no_soa: Vec<Record> = records
        .iter()
        .filter(|r| r.rtype() != Rtype::SOA)
        .cloned()
        .collect();
    let keys = keys(SignAlgorithm::Ed25519);
    let opts = SignOptions::new(NOW);
    assert!(sign_zone(&origin, no_soa, &keys, &opts).is_err());
    assert!(sign_zone(&origin, records.clone(), &[], &opts).is_err());
    let mut outside = records;
    outside.push(Record::new(
        Name::parse("other.").unwrap(),
        60,
        RData::parse_str(Rtype::A, "192.0.2.1", None).unwrap(),
    ));
    assert!(sign_zone(&origin, outside, &keys, &opts).is_err());
}

#[test]
fn rsa_keys_sign_and_check() {
    let keys = vec![SigningKey::generate(SignAlgorithm::RsaSha256, FLAGS_KSK).unwrap()];
    let (origin, records) = signed(Denial::Nsec, &keys);
    check_zone(&origin, records, NOW as u32).unwrap();
    // RFC 3110: exponent length, exponent 65537, 2048-bit modulus.
    assert_eq!(keys[0].public_key().len(), 1 + 3 + 256);
}

/// Signing again with [`Reuse`]: an unchanged zone keeps every signature, a changed
/// RRset gets new ones and nothing else does, and signatures close to expiring are
/// made anew while the rest are kept.
#[test]
fn resigning_keeps_what_still_fits() {
    let keys = keys(SignAlgorithm::EcdsaP256Sha256);
    let (origin, records) = zone_records();
    let first = sign_zone(&origin, records, &keys, &SignOptions::new(NOW)).unwrap();
    let resign = |records: Vec<Record>, now: u64, refresh: u32| {
        let reuse = Reuse::new(&origin, &first, now, refresh);
        let opts = SignOptions::new(now);
        resign_zone(&origin, records, &keys, &[], &opts, Some(&reuse)).unwrap()
    };
    let sigs = |records: &[Record]| -> Vec<Record> {
        records
            .iter()
            .filter(|r| r.rtype() == Rtype::RRSIG)
            .cloned()
            .collect()
    };

    // ECDSA signatures are randomized: equal output means every one was kept.
    let later = NOW + 3600;
    assert_eq!(resign(first.clone(), later, 86_400), first);

    let mail = Name::parse("mail.example.").unwrap();
    let mut changed = first.clone();
    for r in &mut changed {
        if r.owner == mail && r.rtype() == Rtype::A {
            r.data = RData::parse_str(Rtype::A, "192.0.2.99", None).unwrap();
        }
    }
    let after = resign(changed, later, 86_400);
    let (old, new) = (sigs(&first), sigs(&after));
    let differing: Vec<&Record> = new.iter().filter(|r| !old.contains(r)).collect();
    assert!(!differing.is_empty());
    for r in differing {
        let RData::Rrsig(s) = &r.data else {
            unreachable!()
        };
        assert_eq!((&r.owner, s.type_covered), (&mail, Rtype::A));
    }
    assert!(problems(&origin, after, later).is_empty());

    // 26.5 days on, refreshing what has less than a day left: expirations were spread
    // over the last 3 of 30 days, so some signatures are made anew and some kept.
    let late = NOW + 26 * 86_400 + 43_200;
    let refreshed = resign(first.clone(), late, 86_400);
    let new = sigs(&refreshed);
    let kept = new.iter().filter(|r| old.contains(r)).count();
    assert!(kept > 0 && kept < new.len(), "kept {kept} of {}", new.len());
    for r in &new {
        let RData::Rrsig(s) = &r.data else {
            unreachable!()
        };
        assert!(u64::from(s.expiration) > late + 86_400, "{r:?}");
    }
    assert!(problems(&origin, refreshed, late).is_empty());
}
