//! DNSSEC validation in the resolver over an in-process hierarchy of signed zones (the
//! root with NSEC, `test.` with NSEC3, `example.test.` with NSEC), with injected time: Secure
//! answers (positive, CNAME, wildcard, NXDOMAIN, NODATA), insecure delegations, and
//! Bogus answers with their Extended DNS Errors (every single-byte corruption of a
//! signature, a tampered RRset, a missing NSEC, expired signatures, a wrong DS), the
//! AD, CD and DO bits on the wire, negative trust anchors, serve-stale of validated
//! data only, and the cost of a warm chain of trust.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use lib_dns::message::{Edns, EdnsOption};
use lib_dns::rdata::{Dnskey, Ds, Rrsig};
use lib_dns::zone::Zone;
use lib_dns::{Class, Message, Name, RData, Rcode, Record, Rtype};
use zdns_dnssec::ds::{DIGEST_SHA256, ds};
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
use zdns_dnssec::sign::{Denial, Nsec3Options, SignOptions, sign_zone};
use zdns_resolver::validator::{Security, TrustAnchor, ValidationConfig};
use zdns_resolver::{Answer, Resolver, ResolverConfig};

/// How a hierarchy is to be broken.
#[derive(Default, Clone, Copy)]
struct Variant {
    /// `example.test.` signed with signatures that expired before T0.
    example_expired: bool,
    /// `test.` publishes a DS for `example.test.` that matches none of its keys.
    wrong_ds: bool,
}

/// A KSK and a ZSK (ECDSA P-256).
fn keys() -> Vec<SigningKey> {
    vec![
        SigningKey::generate(SignAlgorithm::EcdsaP256Sha256, FLAGS_KSK).unwrap(),
        SigningKey::generate(SignAlgorithm::EcdsaP256Sha256, FLAGS_ZSK).unwrap(),
    ]
}

/// Signs `text` as zone `origin` with `keys` at time `at` (valid 30 days), or in the
/// validity `window` if given.
fn sign(
    origin: &str,
    text: &str,
    denial: Denial,
    keys: &[SigningKey],
    at: u64,
    window: Option<(u32, u32)>,
) -> Zone {
    let records = zone(origin, text).records().to_vec();
    let mut opts = SignOptions {
        denial,
        jitter: 0,
        ..SignOptions::new(at)
    };
    if let Some((inception, expiration)) = window {
        opts.inception = inception;
        opts.expiration = expiration;
    }
    let signed = sign_zone(&name(origin), records, keys, &opts).unwrap();
    Zone::from_records(name(origin), Class::IN, signed)
}

/// The DS record of `origin`'s KSK in zone-file form, the last digest byte flipped if
/// `wrong`.
fn ds_line(origin: &str, ksk: &Dnskey, wrong: bool) -> String {
    let mut d = ds(&name(origin), ksk, DIGEST_SHA256).unwrap();
    if wrong && let Some(last) = d.digest.last_mut() {
        *last ^= 0x01;
    }
    format!("{}\n", Record::new(name(origin), 3600, d))
}

const WILDCARD: &str = "*.wild  TXT \"wildcard\"\n";

/// The keys of the signed zones.
struct Keyring {
    root: Vec<SigningKey>,
    test: Vec<SigningKey>,
    example: Vec<SigningKey>,
}

impl Keyring {
    fn new() -> Keyring {
        Keyring {
            root: keys(),
            test: keys(),
            example: keys(),
        }
    }

    /// The DS of the root's (first) KSK: the trust anchor.
    fn root_ds(&self) -> Ds {
        ds(&Name::root(), &self.root[0].dnskey(), DIGEST_SHA256).unwrap()
    }
}

/// The hierarchy signed at `at`: the root and `example.test.` with NSEC, `test.` with
/// NSEC3; `other.` and `glueless.test.` unsigned (insecure delegations).
fn build(v: Variant, k: &Keyring, at: u64) -> Net {
    let expired = v
        .example_expired
        .then(|| ((at - 40 * 86_400) as u32, (at - 86_400) as u32));
    let example = sign(
        "example.test.",
        &format!("{EXAMPLE}{WILDCARD}"),
        Denial::Nsec,
        &k.example,
        at,
        expired,
    );
    let nsec3 = Denial::Nsec3(Nsec3Options::default());
    let test_text = format!(
        "{TEST}{}",
        ds_line("example.test.", &k.example[0].dnskey(), v.wrong_ds)
    );
    let test = sign("test.", &test_text, nsec3, &k.test, at, None);
    let root_text = format!("{ROOT}{}", ds_line("test.", &k.test[0].dnskey(), false));
    let root = sign(".", &root_text, Denial::Nsec, &k.root, at, None);
    let example = server(&[example]);
    let servers = HashMap::from([
        (addr(1), server(&[root])),
        (addr(2), server(&[test])),
        (addr(3), example.clone()),
        (addr(4), example),
        (addr(5), server(&[zone("other.", OTHER)])),
        (addr(6), server(&[zone("glueless.test.", GLUELESS)])),
    ]);
    Net {
        servers,
        down: HashSet::new(),
        tamper: HashMap::new(),
        sent: Vec::new(),
    }
}

/// The hierarchy signed at T0 and the root's DS for the trust anchor.
fn signed_net(v: Variant) -> (Net, Ds) {
    let k = Keyring::new();
    (build(v, &k, T0), k.root_ds())
}

fn validating(root_ds: Ds, negative: Vec<Name>) -> Resolver {
    resolver(ResolverConfig {
        validation: Some(ValidationConfig {
            anchors: vec![TrustAnchor {
                zone: Name::root(),
                ds: vec![root_ds],
                dnskeys: Vec::new(),
            }],
            negative_anchors: negative,
        }),
        ..config()
    })
}

/// The response a client gets: with DO and/or CD as asked.
fn respond(answer: &Answer, qname: &str, qtype: Rtype, dnssec_ok: bool, cd: bool) -> Message {
    let mut query = Message::query(7, name(qname), qtype);
    query.flags.cd = cd;
    let mut edns = Edns::default();
    edns.set_dnssec_ok(dnssec_ok);
    query.edns = Some(edns);
    let wire = answer.to_response(&query, 1232).to_wire(65535).unwrap();
    Message::parse(&wire).unwrap()
}

fn ede(m: &Message) -> Vec<u16> {
    m.edns
        .iter()
        .flat_map(|e| &e.options)
        .filter_map(|o| match o {
            EdnsOption::ExtendedError(e) => Some(e.info_code),
            _ => None,
        })
        .collect()
}

/// The answer's verdict and Extended DNS Error code.
fn verdict(answer: &Answer) -> (Security, Option<u16>) {
    (
        answer.security,
        answer.extended_error.as_ref().map(|e| e.info_code),
    )
}

#[test]
fn secure_answers_of_every_kind() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    for (qname, qtype, rcode) in [
        ("www.example.test.", Rtype::A, Rcode::NOERROR),
        ("alias.example.test.", Rtype::A, Rcode::NOERROR),
        ("deep.example.test.", Rtype::A, Rcode::NOERROR),
        ("x.wild.example.test.", Rtype::TXT, Rcode::NOERROR),
        ("nope.example.test.", Rtype::A, Rcode::NXDOMAIN),
        ("www.example.test.", Rtype::TXT, Rcode::NOERROR),
        ("x.wild.example.test.", Rtype::A, Rcode::NOERROR),
        ("example.test.", Rtype::DNSKEY, Rcode::NOERROR),
        ("nothing.test.", Rtype::A, Rcode::NXDOMAIN),
        ("big.example.test.", Rtype::TXT, Rcode::NOERROR),
    ] {
        let answer = net.resolve(&r, qname, qtype, T0);
        assert_eq!(answer.rcode, rcode, "{qname} {qtype}");
        assert_eq!(
            verdict(&answer),
            (Security::Secure, None),
            "{qname} {qtype}"
        );
        let wire = respond(&answer, qname, qtype, true, false);
        assert!(wire.flags.ad, "{qname} {qtype}: AD with DO");
        let sigs = wire
            .answers
            .iter()
            .chain(&wire.authority)
            .filter(|r| r.rtype() == Rtype::RRSIG)
            .count();
        assert!(sigs > 0, "{qname} {qtype}: RRSIGs for DO");
        let plain = respond(&answer, qname, qtype, false, false);
        assert!(!plain.flags.ad, "no AD without DO or AD");
        assert!(
            plain
                .answers
                .iter()
                .chain(&plain.authority)
                .all(|r| r.rtype() != Rtype::RRSIG),
            "no RRSIGs without DO"
        );
        // From the cache it is still Secure, with its signatures.
        let again = net.resolve(&r, qname, qtype, T0 + 1);
        assert_eq!(again.security, Security::Secure, "{qname} {qtype} cached");
        assert!(respond(&again, qname, qtype, true, false).flags.ad);
    }
}

#[test]
fn referral_ds_and_cached_keys_keep_validation_cheap() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.security, Security::Secure);
    let questions = net.questions();
    // The DS RRsets came with the referrals: none is asked for. One DNSKEY query per
    // zone of the chain.
    assert!(questions.iter().all(|q| q.2 != Rtype::DS), "{questions:?}");
    let dnskeys = questions.iter().filter(|q| q.2 == Rtype::DNSKEY).count();
    assert_eq!(dnskeys, 3, "{questions:?}");
    // Another name of the zone: one query, the keys are cached.
    net.sent.clear();
    let answer = net.resolve(&r, "mail.example.test.", Rtype::MX, T0 + 1);
    assert_eq!(answer.security, Security::Secure);
    assert_eq!(net.sent.len(), 1, "{:?}", net.questions());
}

#[test]
fn insecure_delegations_are_insecure() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    // other. has no DS in the root (NSEC proof); glueless.test. none in test. (NSEC3).
    for qname in ["www.example.other.", "host.glueless.test."] {
        let answer = net.resolve(&r, qname, Rtype::A, T0);
        assert_eq!(answer.rcode, Rcode::NOERROR, "{qname}");
        assert_eq!(answer.security, Security::Insecure, "{qname}");
        assert!(!respond(&answer, qname, Rtype::A, true, false).flags.ad);
    }
    // A secure CNAME into an insecure zone: the answer as a whole is insecure.
    let answer = net.resolve(&r, "ext.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(answer.security, Security::Insecure);
}

/// Rewrites every RRSIG over (`owner`, `rtype`) in replies of the example.test.
/// servers with `f`.
fn tamper_rrsig(
    net: &mut Net,
    owner: &str,
    rtype: Rtype,
    f: impl Fn(&mut Rrsig) + Clone + 'static,
) {
    for last in [3, 4] {
        let f = f.clone();
        let owner = name(owner);
        net.tamper.insert(
            addr(last),
            Box::new(move |_q, reply| {
                let mut m = Message::parse(&reply).unwrap();
                for r in m.answers.iter_mut().chain(m.authority.iter_mut()) {
                    if r.owner == owner
                        && let RData::Rrsig(sig) = &mut r.data
                        && sig.type_covered == rtype
                    {
                        f(sig);
                    }
                }
                m.to_wire(65535).unwrap()
            }),
        );
    }
}

/// Flips one bit in byte `i` of an RRSIG: the 18 bytes of its fixed fields (type
/// covered, algorithm, labels, original TTL, expiration, inception, key tag), then
/// the signature.
fn corrupt(sig: &mut Rrsig, i: usize) {
    match i {
        0..=1 => sig.type_covered.0 ^= 1 << (8 * (1 - i)),
        2 => sig.algorithm.0 ^= 1,
        3 => sig.labels ^= 1,
        4..=7 => sig.original_ttl ^= 1 << (8 * (7 - i)),
        8..=11 => sig.expiration ^= 1 << (8 * (11 - i)),
        12..=15 => sig.inception ^= 1 << (8 * (15 - i)),
        16..=17 => sig.key_tag ^= 1 << (8 * (17 - i)),
        _ => sig.signature[i - 18] ^= 1,
    }
}

#[test]
fn every_single_byte_corruption_of_a_signature_is_bogus() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    // Warm the chain of trust, so each corruption costs one query.
    net.resolve(&r, "mail.example.test.", Rtype::MX, T0);
    let len = 18 + 64; // ECDSA P-256 signatures are 64 bytes.
    for i in 0..len {
        tamper_rrsig(&mut net, "www.example.test.", Rtype::A, move |sig| {
            corrupt(sig, i)
        });
        let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
        let (security, code) = verdict(&answer);
        assert_eq!(security, Security::Bogus, "byte {i}");
        let code = code.unwrap();
        assert!([6, 7, 8, 9, 10].contains(&code), "byte {i}: EDE {code}");
        let wire = respond(&answer, "www.example.test.", Rtype::A, true, false);
        assert_eq!(wire.rcode, Rcode::SERVFAIL, "byte {i}");
        assert!(wire.answers.is_empty());
        assert_eq!(ede(&wire), vec![code]);
        // CD: the data, unvalidated, without AD.
        let cd = respond(&answer, "www.example.test.", Rtype::A, true, true);
        assert_eq!(cd.rcode, Rcode::NOERROR, "byte {i}");
        assert!(!cd.flags.ad && !cd.answers.is_empty());
    }
    // Bogus data was never cached: without tampering it validates.
    net.tamper.clear();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.security, Security::Secure);
}

#[test]
fn tampered_rrset_missing_nsec_expired_and_wrong_ds_are_bogus() {
    // A tampered RRset: DNSSEC Bogus (6).
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds.clone(), Vec::new());
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            Box::new(|_q, reply| {
                let mut m = Message::parse(&reply).unwrap();
                for r in &mut m.answers {
                    if let RData::A(a) = &mut r.data {
                        a.0 = std::net::Ipv4Addr::new(203, 0, 113, 66);
                    }
                }
                m.to_wire(65535).unwrap()
            }),
        );
    }
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(verdict(&answer), (Security::Bogus, Some(6)));
    // A missing NSEC: NSEC Missing (12).
    net.tamper.clear();
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            Box::new(|_q, reply| {
                let mut m = Message::parse(&reply).unwrap();
                m.authority.retain(|r| {
                    r.rtype() != Rtype::NSEC
                        && !matches!(&r.data, RData::Rrsig(s) if s.type_covered == Rtype::NSEC)
                });
                m.to_wire(65535).unwrap()
            }),
        );
    }
    for (qname, qtype) in [
        ("nope.example.test.", Rtype::A),
        ("www.example.test.", Rtype::TXT),
        ("x.wild.example.test.", Rtype::TXT),
    ] {
        let answer = net.resolve(&r, qname, qtype, T0);
        assert_eq!(verdict(&answer), (Security::Bogus, Some(12)), "{qname}");
        assert_eq!(
            respond(&answer, qname, qtype, false, false).rcode,
            Rcode::SERVFAIL
        );
    }
    // Expired signatures: Signature Expired (7).
    let (mut net, root_ds) = signed_net(Variant {
        example_expired: true,
        ..Variant::default()
    });
    let r = validating(root_ds, Vec::new());
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(verdict(&answer), (Security::Bogus, Some(7)));
    // The rest of the tree is unaffected.
    let answer = net.resolve(&r, "host.glueless.test.", Rtype::A, T0);
    assert_eq!(answer.security, Security::Insecure);
    // A DS that matches no key: DNSKEY Missing (9).
    let (mut net, root_ds) = signed_net(Variant {
        wrong_ds: true,
        ..Variant::default()
    });
    let r = validating(root_ds.clone(), Vec::new());
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(verdict(&answer), (Security::Bogus, Some(9)));
    // A wrong trust anchor breaks everything: DNSKEY Missing (9) at the root.
    let mut wrong = root_ds.clone();
    wrong.digest[0] ^= 1;
    let r = validating(wrong, Vec::new());
    let answer = net.resolve(&r, "www.example.other.", Rtype::A, T0);
    assert_eq!(verdict(&answer), (Security::Bogus, Some(9)));
}

#[test]
fn negative_trust_anchors_turn_validation_off_below_them() {
    let (mut net, root_ds) = signed_net(Variant {
        wrong_ds: true,
        ..Variant::default()
    });
    let r = validating(root_ds.clone(), vec![name("example.test.")]);
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(answer.security, Security::Insecure);
    // Removed at run time: validated again (and Bogus again).
    let v = r.validator().unwrap();
    assert!(v.remove_negative_anchor(&name("example.test.")));
    let answer = net.resolve(&r, "mail.example.test.", Rtype::MX, T0);
    assert_eq!(answer.security, Security::Bogus);
    assert!(v.add_negative_anchor(name("example.test.")));
    assert_eq!(v.negative_anchors(), vec![name("example.test.")]);
    let answer = net.resolve(&r, "mail.example.test.", Rtype::MX, T0);
    assert_eq!(answer.security, Security::Insecure);
}

#[test]
fn only_validated_data_is_served_stale() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.security, Security::Secure);
    // Data that reached the cache without validation (here put there directly).
    let unchecked = Record::new(
        name("unchecked.example.test."),
        300,
        lib_dns::rdata::A(std::net::Ipv4Addr::new(192, 0, 2, 77)),
    );
    r.cache()
        .insert(vec![unchecked], zdns_resolver::cache::Rank::Answer, T0);
    net.down.extend([addr(1), addr(2), addr(3), addr(4)]);
    let later = T0 + 3600;
    let stale = net.resolve(&r, "www.example.test.", Rtype::A, later);
    assert!(stale.stale);
    assert_eq!(stale.rcode, Rcode::NOERROR);
    assert_eq!(stale.security, Security::Secure);
    let refused = net.resolve(&r, "unchecked.example.test.", Rtype::A, later);
    assert_eq!(refused.rcode, Rcode::SERVFAIL);
}

#[test]
fn validated_nsec_chains_answer_later_denials_without_asking() {
    let (mut net, root_ds) = signed_net(Variant::default());
    let r = validating(root_ds, Vec::new());
    let answer = net.resolve(&r, "nope.example.test.", Rtype::A, T0);
    assert_eq!(
        (answer.rcode, answer.security),
        (Rcode::NXDOMAIN, Security::Secure)
    );
    // RFC 8198: "mz" lies in the span the NSEC mail → ns1 proves empty, and the NSEC
    // apex → alias covers *.example.test.: NXDOMAIN with no query.
    net.sent.clear();
    let answer = net.resolve(&r, "mz.example.test.", Rtype::AAAA, T0 + 1);
    assert!(net.sent.is_empty(), "{:?}", net.questions());
    assert_eq!(
        (answer.rcode, answer.security),
        (Rcode::NXDOMAIN, Security::Secure)
    );
    let wire = respond(&answer, "mz.example.test.", Rtype::AAAA, true, false);
    assert!(wire.flags.ad);
    assert!(wire.authority.iter().any(|r| r.rtype() == Rtype::SOA));
    assert!(wire.authority.iter().any(|r| r.rtype() == Rtype::NSEC));
    // NODATA from the NSEC at a name.
    net.resolve(&r, "www.example.test.", Rtype::TXT, T0);
    net.sent.clear();
    let answer = net.resolve(&r, "www.example.test.", Rtype::SRV, T0 + 1);
    assert!(net.sent.is_empty(), "{:?}", net.questions());
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert!(answer.answers.is_empty());
    assert_eq!(answer.security, Security::Secure);
    // A name that exists is not denied: www has A.
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0 + 1);
    assert_eq!(answer.answers.len(), 2);
    // The chain lives as long as a negative answer may (seed 003 §12.1: 30 s here).
    net.sent.clear();
    net.resolve(&r, "mq.example.test.", Rtype::A, T0 + 100);
    assert!(!net.sent.is_empty());
    // A flush (topology change) forgets it.
    let v = r.validator().unwrap();
    assert_eq!(v.flush_denials(None), 1);
    net.sent.clear();
    net.resolve(&r, "mr.example.test.", Rtype::A, T0 + 101);
    assert!(!net.sent.is_empty());
}

#[test]
fn rfc5011_rolls_the_root_key_over_with_hold_down() {
    let mut k = Keyring::new();
    let anchor = k.root_ds();
    let r = validating(anchor.clone(), Vec::new());
    let v = r.validator().unwrap();
    let secure = |r: &Resolver, k: &Keyring, at: u64| {
        let mut net = build(Variant::default(), k, at);
        net.resolve(r, "www.example.test.", Rtype::A, at).security
    };
    assert_eq!(secure(&r, &k, T0), Security::Secure);
    // RFC 5011 §2.3: the root's DNSKEY RRset is due again after the active refresh
    // interval (half its TTL, at least an hour); forgetting the keys makes the next
    // fresh DNSKEY lookup fetch and check it.
    assert!(v.refresh_due(T0).is_empty());
    assert_eq!(v.refresh_due(T0 + 16 * 86_400), vec![Name::root()]);
    v.forget_keys(&Name::root());
    let mut net = build(Variant::default(), &k, T0);
    let mut refresh = r.resolve(Name::root(), Rtype::DNSKEY);
    let mut step = refresh.start_fresh(&r, T0 + 1);
    let answer = loop {
        step = match step {
            zdns_resolver::Step::Done(answer) => break answer,
            zdns_resolver::Step::Wait => panic!("no stray replies here"),
            zdns_resolver::Step::Send(t) => match net.exchange(&t, T0 + 1) {
                Some(reply) => refresh.on_reply(&r, &reply, std::time::Duration::ZERO, T0 + 1),
                None => refresh.on_timeout(&r, T0 + 1),
            },
        };
    };
    assert_eq!(answer.security, Security::Secure);
    assert!(v.refresh_due(T0 + 2).is_empty(), "refreshed");
    // The configured DS vouched for the KSK: it is a managed, valid anchor now.
    let state = v.anchor_state(&Name::root()).unwrap();
    assert!(state.starts_with("valid 0 257 3 13 "), "{state}");
    assert!(v.take_anchor_changes());
    // A second KSK is published: pending for 30 days.
    let ksk1 = k.root.remove(0);
    k.root.insert(
        0,
        SigningKey::generate(SignAlgorithm::EcdsaP256Sha256, FLAGS_KSK).unwrap(),
    );
    k.root.push(
        SigningKey::from_private(
            SignAlgorithm::EcdsaP256Sha256,
            FLAGS_KSK,
            ksk1.private().clone(),
        )
        .unwrap(),
    );
    let t1 = T0 + 2 * 86_400;
    assert_eq!(secure(&r, &k, t1), Security::Secure);
    assert!(
        v.anchor_state(&Name::root())
            .unwrap()
            .contains(&format!("addpend {t1} "))
    );
    assert!(v.take_anchor_changes());
    let t2 = t1 + 29 * 86_400;
    assert_eq!(secure(&r, &k, t2), Security::Secure);
    assert_eq!(v.anchors()[0].dnskeys.len(), 1, "still in hold-down");
    let t3 = t1 + 31 * 86_400;
    assert_eq!(secure(&r, &k, t3), Security::Secure);
    assert_eq!(v.anchors()[0].dnskeys.len(), 2, "hold-down over");
    // The state survives a restart: a new validator given it trusts both keys.
    let saved = v.anchor_state(&Name::root()).unwrap();
    let restarted = validating(anchor.clone(), Vec::new());
    let rv = restarted.validator().unwrap();
    rv.restore_anchor_state(&Name::root(), &saved).unwrap();
    assert_eq!(rv.anchors()[0].dnskeys.len(), 2);
    assert!(
        rv.restore_anchor_state(&Name::root(), "valid x y\n")
            .is_err()
    );
    // The old KSK is revoked (published with the REVOKE bit, signing the RRset).
    let old = k.root.pop().unwrap();
    let revoked = SigningKey::from_private(
        SignAlgorithm::EcdsaP256Sha256,
        FLAGS_KSK | Dnskey::REVOKE,
        old.private().clone(),
    )
    .unwrap();
    k.root.push(revoked);
    let t4 = t3 + 86_400 + 1;
    assert_eq!(secure(&r, &k, t4), Security::Secure);
    assert!(
        v.anchor_state(&Name::root())
            .unwrap()
            .contains(&format!("revoked {t4} "))
    );
    assert_eq!(v.anchors()[0].dnskeys.len(), 1);
    // Then removed: the managed validator follows; one that only knows the old DS
    // cannot.
    k.root.pop();
    let t5 = t4 + 86_400 + 1;
    assert_eq!(secure(&r, &k, t5), Security::Secure);
    assert_eq!(
        secure(&validating(anchor, Vec::new()), &k, t5),
        Security::Bogus
    );
}

#[test]
fn forwarded_answers_are_validated_without_referrals() {
    // The "forwarder" is one server authoritative for every zone: its answers come with
    // no referrals, so the validator learns the cuts from signer names and DS probes.
    let k = Keyring::new();
    let forwarder = server(&[
        sign(
            ".",
            &format!("{ROOT}{}", ds_line("test.", &k.test[0].dnskey(), false)),
            Denial::Nsec,
            &k.root,
            T0,
            None,
        ),
        sign(
            "test.",
            &format!(
                "{TEST}{}",
                ds_line("example.test.", &k.example[0].dnskey(), false)
            ),
            Denial::Nsec3(Nsec3Options::default()),
            &k.test,
            T0,
            None,
        ),
        sign(
            "example.test.",
            &format!("{EXAMPLE}{WILDCARD}"),
            Denial::Nsec,
            &k.example,
            T0,
            None,
        ),
        zone("other.", OTHER),
        zone("glueless.test.", GLUELESS),
    ]);
    let mut net = Net {
        servers: HashMap::from([(addr(9), forwarder)]),
        down: HashSet::new(),
        tamper: HashMap::new(),
        sent: Vec::new(),
    };
    let r = resolver(ResolverConfig {
        forward_zones: vec![zdns_resolver::ForwardZone {
            zone: Name::root(),
            upstreams: vec![addr(9)],
            in_partition: false,
        }],
        validation: Some(ValidationConfig {
            anchors: vec![TrustAnchor {
                zone: Name::root(),
                ds: vec![k.root_ds()],
                dnskeys: Vec::new(),
            }],
            negative_anchors: Vec::new(),
        }),
        ..config()
    });
    for (qname, qtype, rcode, security) in [
        (
            "www.example.test.",
            Rtype::A,
            Rcode::NOERROR,
            Security::Secure,
        ),
        (
            "nope.example.test.",
            Rtype::A,
            Rcode::NXDOMAIN,
            Security::Secure,
        ),
        (
            "host.glueless.test.",
            Rtype::A,
            Rcode::NOERROR,
            Security::Insecure,
        ),
        (
            "www.example.other.",
            Rtype::A,
            Rcode::NOERROR,
            Security::Insecure,
        ),
    ] {
        let answer = net.resolve(&r, qname, qtype, T0);
        assert_eq!(
            (answer.rcode, answer.security),
            (rcode, security),
            "{qname}: {:?}",
            answer.extended_error
        );
    }
}
