//! The rollover schedule run with injected time: a ZSK pre-publish rollover, a KSK
//! double-signature rollover with CDS, then an algorithm rollover (Ed25519 to ECDSA
//! P-256). After every change the zone is signed as the schedule says, and a
//! validating resolver is simulated with the validation core as the oracle: every
//! combination of a parent DS RRset, a DNSKEY RRset and a data RRset that a resolver
//! may still hold in its cache (served until the next change, plus propagation, plus
//! the TTL) must validate. The schedule's state goes through its text form halfway, as
//! a restart would.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use lib_dns::Name;
use lib_dns::rdata::{Ds, RData, Rrsig};
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::zone::{NoIncludes, Zone};
use zdns_dnssec::ds::{DIGEST_SHA256, ds};
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
use zdns_dnssec::rollover::{KeyId, Next, RollKind, Schedule, Timings};
use zdns_dnssec::sign::{KeyUse, SignOptions, resign_zone};
use zdns_dnssec::validate::{validate_dnskeys, verify_rrset};
use zdns_dnssec::verify::RrsetRef;

const START: u64 = 1_800_000_000;

const ZONE: &str = "\
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@        IN NS  ns1
ns1      IN A   192.0.2.1
www 7200 IN A   192.0.2.2
";

const TIMINGS: Timings = Timings {
    dnskey_ttl: 3600,
    max_zone_ttl: 7200,
    ds_ttl: 86_400,
    propagation: 300,
    zsk_lifetime: 86_400,
    ksk_lifetime: 3 * 86_400,
};

/// What was served (by the zone, or the parent) from `from` until `until`.
struct Served<T> {
    until: Option<u64>,
    data: T,
}

impl<T> Served<T> {
    /// Whether a resolver may still hold it at `now`, with this TTL.
    fn fresh(&self, now: u64, ttl: u32) -> bool {
        self.until
            .is_none_or(|u| now < u + u64::from(TIMINGS.propagation) + u64::from(ttl))
    }
}

fn id(k: &SigningKey) -> KeyId {
    KeyId {
        tag: k.key_tag(),
        algorithm: k.algorithm().number().0,
        ksk: k.is_ksk(),
    }
}

fn origin() -> Name {
    Name::parse("example.").unwrap()
}

fn records() -> Vec<Record> {
    let loaded = Zone::read(origin(), Class::IN, "z", ZONE.as_bytes(), &mut NoIncludes);
    assert!(!loaded.has_errors());
    loaded.zone.records().to_vec()
}

/// The zone signed as the schedule says at `now`.
fn sign(schedule: &Schedule, keys: &[SigningKey], now: u64) -> Vec<Record> {
    // A key the schedule no longer uses is neither published nor signing.
    let unused = KeyUse {
        publish: false,
        sign: false,
        cds: false,
    };
    let uses: Vec<KeyUse> = keys
        .iter()
        .map(|k| schedule.key_use(id(k)).unwrap_or(unused))
        .collect();
    let opts = SignOptions {
        cds: true,
        ..SignOptions::new(now)
    };
    resign_zone(&origin(), records(), keys, &uses, &opts, None).unwrap()
}

/// The RRset of `rtype` at `owner` and the RRSIGs over it.
fn rrset(records: &[Record], owner: &Name, rtype: Rtype) -> (Vec<RData>, Vec<Rrsig>) {
    let at = records.iter().filter(|r| r.owner == *owner);
    let data = at
        .clone()
        .filter(|r| r.rtype() == rtype)
        .map(|r| r.data.clone())
        .collect();
    let sigs = at
        .filter_map(|r| match &r.data {
            RData::Rrsig(s) if s.type_covered == rtype => Some((**s).clone()),
            _ => None,
        })
        .collect();
    (data, sigs)
}

fn dnskeys(records: &[Record]) -> (Vec<lib_dns::rdata::Dnskey>, Vec<Rrsig>) {
    let (data, sigs) = rrset(records, &origin(), Rtype::DNSKEY);
    let keys = data
        .into_iter()
        .map(|d| match d {
            RData::Dnskey(k) => k,
            _ => unreachable!(),
        })
        .collect();
    (keys, sigs)
}

/// The DS RRset the parent makes from the zone's CDS RRset (RFC 7344 §4).
fn ds_from_cds(records: &[Record]) -> Vec<Ds> {
    let (cds, _) = rrset(records, &origin(), Rtype::CDS);
    assert!(!cds.is_empty(), "no CDS published");
    cds.into_iter()
        .map(|d| match d {
            RData::Cds(c) => Ds {
                key_tag: c.key_tag,
                algorithm: c.algorithm,
                digest_type: c.digest_type,
                digest: c.digest,
            },
            _ => unreachable!(),
        })
        .collect()
}

/// Every combination a resolver may hold at `now` validates.
fn resolvers_validate(now: u64, parent: &[Served<Vec<Ds>>], zone: &[Served<Vec<Record>>]) {
    let apex = origin();
    let www = Name::parse("www.example.").unwrap();
    let mut combos = 0;
    for ds_set in parent.iter().filter(|p| p.fresh(now, TIMINGS.ds_ttl)) {
        for keys_from in zone.iter().filter(|z| z.fresh(now, TIMINGS.dnskey_ttl)) {
            let (keys, key_sigs) = dnskeys(&keys_from.data);
            if let Err(f) = validate_dnskeys(&apex, &keys, &key_sigs, &ds_set.data, now as u32) {
                panic!(
                    "at +{}s: cached DS and DNSKEY do not validate: {f}",
                    now - START
                );
            }
            for data_from in zone.iter().filter(|z| z.fresh(now, TIMINGS.max_zone_ttl)) {
                for (owner, rtype) in [(&apex, Rtype::SOA), (&www, Rtype::A), (&apex, Rtype::NSEC)]
                {
                    let (rdatas, sigs) = rrset(&data_from.data, owner, rtype);
                    let set = RrsetRef {
                        owner,
                        class: Class::IN,
                        rtype,
                        rdatas: &rdatas,
                    };
                    if let Err(f) = verify_rrset(set, &sigs, &apex, &keys, now as u32) {
                        panic!(
                            "at +{}s: cached {rtype} does not validate with cached DNSKEYs: {f}",
                            now - START
                        );
                    }
                    combos += 1;
                }
            }
        }
    }
    assert!(combos > 0);
}

#[test]
fn rollovers_keep_cached_keys_validating() {
    let alg = SignAlgorithm::Ed25519;
    let mut keys = vec![
        SigningKey::generate(alg, FLAGS_KSK).unwrap(),
        SigningKey::generate(alg, FLAGS_ZSK).unwrap(),
    ];
    let mut schedule = Schedule::new(keys.iter().map(id).collect(), START);
    let mut now = START;
    let first = sign(&schedule, &keys, now);
    let mut parent = vec![Served {
        until: None,
        data: vec![ds(&origin(), &keys[0].dnskey(), DIGEST_SHA256).unwrap()],
    }];
    let mut zone = vec![Served {
        until: None,
        data: first,
    }];
    let mut done: Vec<RollKind> = Vec::new();
    let mut restarted = false;
    // A rollover that starts changes what the keys do at once.
    let mut started = false;
    for _ in 0..60 {
        let rolling = schedule.roll.as_ref().map(|r| r.kind);
        let (changed, next) = schedule.advance(now, &TIMINGS);
        if changed || std::mem::take(&mut started) {
            if let (Some(kind), None) = (rolling, &schedule.roll) {
                done.push(kind);
            }
            zone.last_mut().unwrap().until = Some(now);
            zone.push(Served {
                until: None,
                data: sign(&schedule, &keys, now),
            });
            resolvers_validate(now, &parent, &zone);
        }
        if done.contains(&RollKind::Algorithm) {
            break;
        }
        if !restarted
            && schedule
                .roll
                .as_ref()
                .is_some_and(|r| r.kind == RollKind::Ksk)
        {
            // A restart in the middle of the KSK rollover: the state comes back from text.
            let text = schedule.to_text();
            schedule = Schedule::from_text(&text).unwrap();
            restarted = true;
        }
        match next {
            Next::At(at) => {
                assert!(at > now, "the schedule does not move on");
                now = at;
            }
            Next::Ds => {
                // The parent takes the CDS and publishes the new DS at once.
                parent.last_mut().unwrap().until = Some(now);
                parent.push(Served {
                    until: None,
                    data: ds_from_cds(&zone.last().unwrap().data),
                });
                resolvers_validate(now, &parent, &zone);
                schedule.ds_seen(now);
            }
            Next::Due(_) if done.contains(&RollKind::Zsk) && done.contains(&RollKind::Ksk) => {
                // The operator moves the zone to a new algorithm.
                let to = SignAlgorithm::EcdsaP256Sha256;
                let new = [
                    SigningKey::generate(to, FLAGS_KSK).unwrap(),
                    SigningKey::generate(to, FLAGS_ZSK).unwrap(),
                ];
                schedule
                    .start(RollKind::Algorithm, new.iter().map(id).collect(), now)
                    .unwrap();
                keys.extend(new);
                started = true;
            }
            Next::Due(kind) => {
                let flags = if kind == RollKind::Ksk {
                    FLAGS_KSK
                } else {
                    FLAGS_ZSK
                };
                let key = SigningKey::generate(alg, flags).unwrap();
                schedule.start(kind, vec![id(&key)], now).unwrap();
                keys.push(key);
                started = true;
            }
            Next::Idle => panic!("the schedule went idle"),
        }
        if !started {
            // Between changes, resolvers keep validating as their caches age.
            resolvers_validate(now, &parent, &zone);
        }
    }
    assert!(
        done.contains(&RollKind::Algorithm),
        "rollovers done: {done:?}"
    );
    assert!(done.contains(&RollKind::Zsk) && done.contains(&RollKind::Ksk));
    assert!(restarted);
    let active: Vec<KeyId> = schedule.active.clone();
    assert_eq!(active.len(), 2);
    assert!(active.iter().all(|k| k.algorithm == 13), "{active:?}");
    // The old keys are gone from the zone; the last zone names the new KSK in its CDS.
    let last = &zone.last().unwrap().data;
    let (published, _) = dnskeys(last);
    assert_eq!(published.len(), 2);
    assert!(published.iter().all(|k| k.algorithm.0 == 13));
    let cds = ds_from_cds(last);
    assert_eq!(cds.len(), 1);
    assert_eq!(cds[0].algorithm.0, 13);
}
