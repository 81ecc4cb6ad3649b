//! The validation core: RRsets against DNSKEYs, DS → DNSKEY, and each NSEC / NSEC3
//! denial proof (NXDOMAIN, NODATA, wildcard answer, wildcard NODATA, insecure
//! delegation) over zones the crate signed, each with the failures it must report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use lib_dns::Name;
use lib_dns::rdata::{Dnskey, Ds, Nsec, Nsec3, RData, Rrsig};
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::zone::{NoIncludes, Zone};
use zdns_dnssec::ds::{DIGEST_SHA256, ds};
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
use zdns_dnssec::nsec3::{nsec3_hash, owner_hash};
use zdns_dnssec::sign::{Denial, Nsec3Options, SignOptions, sign_zone};
use zdns_dnssec::validate::*;
use zdns_dnssec::verify::RrsetRef;

const NOW: u32 = 1_800_000_000;

const ZONE: &str = "\
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
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

struct Signed {
    origin: Name,
    records: Vec<Record>,
    keys: Vec<SigningKey>,
}

fn n(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn signed(denial: Denial) -> Signed {
    let origin = n("example.");
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        "z",
        ZONE.as_bytes(),
        &mut NoIncludes,
    );
    let keys = vec![
        SigningKey::generate(SignAlgorithm::Ed25519, FLAGS_KSK).unwrap(),
        SigningKey::generate(SignAlgorithm::Ed25519, FLAGS_ZSK).unwrap(),
    ];
    let opts = SignOptions {
        denial,
        ..SignOptions::new(u64::from(NOW))
    };
    let records = sign_zone(&origin, loaded.zone.records().to_vec(), &keys, &opts).unwrap();
    Signed {
        origin,
        records,
        keys,
    }
}

impl Signed {
    fn rdatas(&self, owner: &str, t: Rtype) -> Vec<RData> {
        let owner = n(owner);
        self.records
            .iter()
            .filter(|r| r.owner == owner && r.rtype() == t)
            .map(|r| r.data.clone())
            .collect()
    }
    fn sigs(&self, owner: &str, t: Rtype) -> Vec<Rrsig> {
        self.rdatas(owner, Rtype::RRSIG)
            .into_iter()
            .filter_map(|d| match d {
                RData::Rrsig(s) if s.type_covered == t => Some(*s),
                _ => None,
            })
            .collect()
    }
    fn dnskeys(&self) -> Vec<Dnskey> {
        self.rdatas("example.", Rtype::DNSKEY)
            .into_iter()
            .filter_map(|d| match d {
                RData::Dnskey(k) => Some(k),
                _ => None,
            })
            .collect()
    }
    fn nsecs(&self) -> Vec<(Name, Nsec)> {
        self.records
            .iter()
            .filter_map(|r| match &r.data {
                RData::Nsec(x) => Some((r.owner.clone(), (**x).clone())),
                _ => None,
            })
            .collect()
    }
    fn nsec3s(&self) -> Vec<(Name, Nsec3)> {
        self.records
            .iter()
            .filter_map(|r| match &r.data {
                RData::Nsec3(x) => Some((r.owner.clone(), (**x).clone())),
                _ => None,
            })
            .collect()
    }
}

fn nsec_refs<'a>(all: &'a [(Name, Nsec)], owners: &[&str]) -> Vec<NsecRef<'a>> {
    all.iter()
        .filter(|(o, _)| owners.iter().any(|w| *o == n(w)))
        .map(|(owner, nsec)| NsecRef { owner, nsec })
        .collect()
}

fn nsec3_refs<'a>(all: &'a [(Name, Nsec3)], skip: Option<&Name>) -> Vec<Nsec3Ref<'a>> {
    all.iter()
        .filter(|(o, _)| Some(o) != skip)
        .map(|(owner, nsec3)| Nsec3Ref { owner, nsec3 })
        .collect()
}

/// The owner of the NSEC3 that covers (or matches) `name`'s hash.
fn nsec3_for(all: &[(Name, Nsec3)], name: &str) -> Name {
    let h = nsec3_hash(&n(name), &[], 0);
    let mut owners: Vec<(Vec<u8>, &Name)> = all
        .iter()
        .map(|(o, _)| (owner_hash(o).unwrap(), o))
        .collect();
    owners.sort();
    owners
        .iter()
        .rev()
        .find(|(oh, _)| *oh <= h)
        .or(owners.last())
        .map(|(_, o)| (*o).clone())
        .unwrap()
}

#[test]
fn rrsets_verify_or_fail_with_the_right_ede() {
    let z = signed(Denial::Nsec);
    let keys = z.dnskeys();
    let data = z.rdatas("mail.example.", Rtype::A);
    let owner = n("mail.example.");
    let set = RrsetRef {
        owner: &owner,
        class: Class::IN,
        rtype: Rtype::A,
        rdatas: &data,
    };
    let sigs = z.sigs("mail.example.", Rtype::A);
    assert!(verify_rrset(set, &sigs, &z.origin, &keys, NOW).is_ok());
    let fail = |sigs: &[Rrsig], keys: &[Dnskey], at: u32| {
        verify_rrset(set, sigs, &z.origin, keys, at).unwrap_err()
    };
    assert_eq!(fail(&[], &keys, NOW).ede, Ede::RrsigsMissing);
    assert_eq!(
        fail(&sigs, &keys, NOW + 40 * 86_400).ede,
        Ede::SignatureExpired
    );
    assert_eq!(
        fail(&sigs, &keys, NOW - 7200).ede,
        Ede::SignatureNotYetValid
    );
    let other = SigningKey::generate(SignAlgorithm::Ed25519, FLAGS_ZSK)
        .unwrap()
        .dnskey();
    assert_eq!(fail(&sigs, &[other], NOW).ede, Ede::DnskeyMissing);
    let mut bad = sigs.clone();
    bad[0].signature[0] ^= 1;
    let f = fail(&bad, &keys, NOW);
    assert_eq!((f.security, f.ede), (Security::Bogus, Ede::DnssecBogus));
    // A tampered RRset fails the same way.
    let tampered = [RData::parse_str(Rtype::A, "192.0.2.99", None).unwrap()];
    let set2 = RrsetRef {
        rdatas: &tampered,
        ..set
    };
    assert_eq!(
        verify_rrset(set2, &sigs, &z.origin, &keys, NOW)
            .unwrap_err()
            .ede,
        Ede::DnssecBogus
    );
    // An RRSIG whose algorithm was changed to one we do not know, in a zone whose keys
    // we support: Bogus (RFC 6840 §5.11), so the change cannot make a forgery insecure.
    let mut unknown = sigs.clone();
    unknown[0].algorithm = lib_dns::rdata::Algorithm(200);
    let f = fail(&unknown, &keys, NOW);
    assert_eq!((f.security, f.ede), (Security::Bogus, Ede::RrsigsMissing));
    // Keys and signatures of unknown algorithms only: Insecure.
    let unknown_keys: Vec<Dnskey> = keys
        .iter()
        .cloned()
        .map(|mut k| {
            k.algorithm = lib_dns::rdata::Algorithm(200);
            k
        })
        .collect();
    let f = fail(&unknown, &unknown_keys, NOW);
    assert_eq!(
        (f.security, f.ede),
        (Security::Insecure, Ede::UnsupportedDnskeyAlgorithm)
    );
}

#[test]
fn dnskeys_validate_from_ds() {
    let z = signed(Denial::Nsec);
    let keys = z.dnskeys();
    let sigs = z.sigs("example.", Rtype::DNSKEY);
    let ksk = z.keys[0].dnskey();
    let good: Ds = ds(&z.origin, &ksk, DIGEST_SHA256).unwrap();
    validate_dnskeys(&z.origin, &keys, &sigs, std::slice::from_ref(&good), NOW).unwrap();
    // Wrong digest: no key matches.
    let mut wrong = good.clone();
    wrong.digest[0] ^= 1;
    let f = validate_dnskeys(&z.origin, &keys, &sigs, &[wrong], NOW).unwrap_err();
    assert_eq!((f.security, f.ede), (Security::Bogus, Ede::DnskeyMissing));
    // DS of the ZSK only: the ZSK did not sign the DNSKEY RRset.
    let zsk_ds = ds(&z.origin, &z.keys[1].dnskey(), DIGEST_SHA256).unwrap();
    let f = validate_dnskeys(&z.origin, &keys, &sigs, &[zsk_ds], NOW).unwrap_err();
    assert_eq!(f.security, Security::Bogus);
    // Unsupported algorithm or digest only: Insecure.
    let mut alg = good.clone();
    alg.algorithm = lib_dns::rdata::Algorithm(3);
    let f = validate_dnskeys(&z.origin, &keys, &sigs, &[alg], NOW).unwrap_err();
    assert_eq!(
        (f.security, f.ede),
        (Security::Insecure, Ede::UnsupportedDnskeyAlgorithm)
    );
    let mut digest = good.clone();
    digest.digest_type = 3;
    let f = validate_dnskeys(&z.origin, &keys, &sigs, &[digest], NOW).unwrap_err();
    assert_eq!(
        (f.security, f.ede),
        (Security::Insecure, Ede::UnsupportedDsDigestType)
    );
    // The DS-matching key without the Zone flag.
    let mut no_zone = ksk.clone();
    no_zone.flags = Dnskey::SEP;
    let no_zone_ds = ds(&z.origin, &no_zone, DIGEST_SHA256).unwrap();
    let f = validate_dnskeys(&z.origin, &[no_zone], &sigs, &[no_zone_ds], NOW).unwrap_err();
    assert_eq!(f.ede, Ede::NoZoneKeyBitSet);
    // No signature over the DNSKEY RRset.
    let f = validate_dnskeys(&z.origin, &keys, &[], &[good], NOW).unwrap_err();
    assert_eq!(f.ede, Ede::RrsigsMissing);
}

#[test]
fn nsec_proofs() {
    let z = signed(Denial::Nsec);
    let all = z.nsecs();
    // NXDOMAIN: nope.example. lies between mail. and ns1.; *.example. before a.b.c.
    let proof = nsec_refs(&all, &["mail.example.", "example."]);
    assert_eq!(
        nsec_nxdomain(&n("nope.example."), &proof).unwrap(),
        n("example.")
    );
    let f = nsec_nxdomain(&n("nope.example."), &nsec_refs(&all, &["mail.example."])).unwrap_err();
    assert_eq!((f.security, f.ede), (Security::Bogus, Ede::NsecMissing));
    assert!(nsec_nxdomain(&n("nope.example."), &nsec_refs(&all, &["example."])).is_err());
    // An existing name cannot be denied.
    assert!(nsec_nxdomain(&n("mail.example."), &proof).is_err());
    // Below an insecure delegation: the parent-side NSEC proves nothing.
    let cut = nsec_refs(&all, &["insecure.example.", "example."]);
    assert!(nsec_nxdomain(&n("x.insecure.example."), &cut).is_err());

    // NODATA.
    let mail = nsec_refs(&all, &["mail.example."]);
    nsec_nodata(&n("mail.example."), Rtype::TXT, &mail).unwrap();
    assert_eq!(
        nsec_nodata(&n("mail.example."), Rtype::A, &mail)
            .unwrap_err()
            .ede,
        Ede::DnssecBogus
    );
    assert_eq!(
        nsec_nodata(&n("ns1.example."), Rtype::TXT, &mail)
            .unwrap_err()
            .ede,
        Ede::NsecMissing
    );
    // NODATA at an empty non-terminal: the NSEC covering it points below it.
    nsec_nodata(
        &n("b.c.example."),
        Rtype::A,
        &nsec_refs(&all, &["example."]),
    )
    .unwrap();
    assert!(nsec_nodata(&n("b.c.example."), Rtype::A, &mail).is_err());
    assert!(
        nsec_nodata(
            &n("nope.example."),
            Rtype::A,
            &nsec_refs(&all, &["mail.example."])
        )
        .is_err()
    );
    let insecure = nsec_refs(&all, &["insecure.example."]);
    assert!(nsec_nodata(&n("insecure.example."), Rtype::A, &insecure).is_err());
    nsec_nodata(&n("insecure.example."), Rtype::DS, &insecure).unwrap();

    // Wildcard answer: x.wild.example. from *.wild.example. (RRSIG labels 2).
    let wild = nsec_refs(&all, &["*.wild.example."]);
    nsec_wildcard_answer(&n("x.wild.example."), 2, &wild).unwrap();
    nsec_wildcard_answer(&n("x.wild.example."), 3, &[]).unwrap();
    assert_eq!(
        nsec_wildcard_answer(&n("x.wild.example."), 2, &mail)
            .unwrap_err()
            .ede,
        Ede::NsecMissing
    );
    // Wildcard NODATA: x.wild.example. A.
    nsec_wildcard_nodata(&n("x.wild.example."), Rtype::A, &wild).unwrap();
    assert!(nsec_wildcard_nodata(&n("x.wild.example."), Rtype::TXT, &wild).is_err());

    // Insecure delegation, and a secure one that is not.
    nsec_insecure_delegation(&n("insecure.example."), &insecure).unwrap();
    let secure = nsec_refs(&all, &["secure.example."]);
    assert!(nsec_insecure_delegation(&n("secure.example."), &secure).is_err());
    assert!(nsec_insecure_delegation(&n("mail.example."), &mail).is_err());
}

#[test]
fn nsec3_proofs() {
    for opt_out in [false, true] {
        let z = signed(Denial::Nsec3(Nsec3Options {
            opt_out,
            ..Nsec3Options::default()
        }));
        let all = z.nsec3s();
        let every = nsec3_refs(&all, None);
        let zone = &z.origin;
        // NXDOMAIN; without the NSEC3 covering the next closer name, or the wildcard's.
        assert_eq!(
            nsec3_nxdomain(&n("nope.example."), zone, &every).unwrap(),
            n("example.")
        );
        let nc = nsec3_for(&all, "nope.example.");
        let f =
            nsec3_nxdomain(&n("nope.example."), zone, &nsec3_refs(&all, Some(&nc))).unwrap_err();
        assert_eq!((f.security, f.ede), (Security::Bogus, Ede::NsecMissing));
        let wc = nsec3_for(&all, "*.example.");
        if wc != nc {
            assert!(
                nsec3_nxdomain(&n("nope.example."), zone, &nsec3_refs(&all, Some(&wc))).is_err()
            );
        }
        assert!(nsec3_nxdomain(&n("mail.example."), zone, &every).is_err());
        // Empty non-terminal b.c.example. exists: no NXDOMAIN, but NODATA.
        assert!(nsec3_nxdomain(&n("b.c.example."), zone, &every).is_err());
        nsec3_nodata(&n("b.c.example."), Rtype::A, zone, &every).unwrap();

        // NODATA.
        nsec3_nodata(&n("mail.example."), Rtype::TXT, zone, &every).unwrap();
        assert_eq!(
            nsec3_nodata(&n("mail.example."), Rtype::A, zone, &every)
                .unwrap_err()
                .ede,
            Ede::DnssecBogus
        );
        let own = nsec3_for(&all, "mail.example.");
        assert_eq!(
            nsec3_nodata(
                &n("mail.example."),
                Rtype::TXT,
                zone,
                &nsec3_refs(&all, Some(&own))
            )
            .unwrap_err()
            .ede,
            Ede::NsecMissing
        );

        // Wildcard answer and wildcard NODATA.
        nsec3_wildcard_answer(&n("x.wild.example."), 2, &every).unwrap();
        let nc = nsec3_for(&all, "x.wild.example.");
        assert!(
            nsec3_wildcard_answer(&n("x.wild.example."), 2, &nsec3_refs(&all, Some(&nc))).is_err()
        );
        nsec3_wildcard_nodata(&n("x.wild.example."), Rtype::A, zone, &every).unwrap();
        assert!(nsec3_wildcard_nodata(&n("x.wild.example."), Rtype::TXT, zone, &every).is_err());

        // Insecure delegation: a matching NSEC3, or with opt-out a covering one.
        nsec3_insecure_delegation(&n("insecure.example."), zone, &every).unwrap();
        assert!(nsec3_insecure_delegation(&n("secure.example."), zone, &every).is_err());
        let ds = nsec3_nodata(&n("insecure.example."), Rtype::DS, zone, &every);
        if opt_out {
            assert_eq!(ds.unwrap_err().security, Security::Insecure);
        } else {
            ds.unwrap();
        }
    }
}

#[test]
fn nsec3_with_too_many_iterations_is_insecure() {
    let z = signed(Denial::Nsec3(Nsec3Options {
        iterations: 200,
        ..Nsec3Options::default()
    }));
    let all = z.nsec3s();
    let f = nsec3_nxdomain(&n("nope.example."), &z.origin, &nsec3_refs(&all, None)).unwrap_err();
    assert_eq!(
        (f.security, f.ede),
        (Security::Insecure, Ede::UnsupportedNsec3Iterations)
    );
    assert_eq!(f.ede.code(), 27);
    assert!(nsec3_nxdomain(&n("nope.example."), &z.origin, &[]).is_err());
}
