use std::net::Ipv4Addr;

use lib_dns::rdata::{A, Soa};

use super::*;

const T0: u64 = 1_800_000_000;

fn name(text: &str) -> Name {
    Name::parse(text).unwrap()
}

fn a(owner: &str, ttl: u32, last: u8) -> Record {
    Record::new(name(owner), ttl, A(Ipv4Addr::new(192, 0, 2, last)))
}

fn soa(zone: &str, ttl: u32, minimum: u32) -> Record {
    Record::new(
        name(zone),
        ttl,
        Soa {
            mname: name(&format!("ns.{zone}")),
            rname: name(&format!("hostmaster.{zone}")),
            serial: 1,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            minimum,
        },
    )
}

fn key(owner: &str, rtype: Rtype) -> CacheKey {
    CacheKey::new(name(owner), rtype)
}

fn cache() -> Cache {
    Cache::new(CacheConfig::default())
}

#[test]
fn ttl_counts_down_and_expires() {
    let c = cache();
    assert!(c.insert(vec![a("www.example.", 300, 1)], Rank::Answer, T0));
    let k = key("WWW.Example.", Rtype::A);
    let hit = c.get(&k, T0 + 100).unwrap();
    assert_eq!(hit.ttl, 200);
    assert_eq!(hit.records[0].ttl, 200);
    assert!(!hit.stale);
    assert_eq!(c.get(&k, T0 + 299).unwrap().ttl, 1);
    assert_eq!(c.get(&k, T0 + 300), None, "expired at stored_at + ttl");
    assert_eq!(c.lookup(&k, T0 + 300), Lookup::Miss);
}

#[test]
fn rrset_ttl_is_smallest_and_capped() {
    let c = Cache::new(CacheConfig {
        max_ttl: 1000,
        ..CacheConfig::default()
    });
    c.insert(
        vec![a("x.example.", 500, 1), a("x.example.", 400, 2)],
        Rank::Answer,
        T0,
    );
    assert_eq!(c.get(&key("x.example.", Rtype::A), T0).unwrap().ttl, 400);
    c.insert(vec![a("y.example.", 999_999, 1)], Rank::Answer, T0);
    assert_eq!(c.get(&key("y.example.", Rtype::A), T0).unwrap().ttl, 1000);
}

#[test]
fn refuses_ttl_zero_empty_and_mixed_sets() {
    let c = cache();
    assert!(!c.insert(vec![a("z.example.", 0, 1)], Rank::Answer, T0));
    assert!(!c.insert(vec![], Rank::Answer, T0));
    assert!(!c.insert(
        vec![a("z.example.", 60, 1), a("other.example.", 60, 2)],
        Rank::Answer,
        T0
    ));
    assert_eq!(c.positive_len(), 0);
}

#[test]
fn lower_rank_never_replaces_fresh_higher_rank() {
    let c = cache();
    c.insert(vec![a("ns.example.", 300, 1)], Rank::Answer, T0);
    assert!(!c.insert(vec![a("ns.example.", 300, 66)], Rank::Additional, T0 + 1));
    let hit = c.get(&key("ns.example.", Rtype::A), T0 + 2).unwrap();
    assert_eq!(
        hit.records[0].data,
        RData::A(A(Ipv4Addr::new(192, 0, 2, 1)))
    );
    // Once the answer expired, glue may take its place.
    assert!(c.insert(vec![a("ns.example.", 300, 66)], Rank::Additional, T0 + 300));
    // And an answer replaces glue at any time.
    assert!(c.insert(vec![a("ns.example.", 300, 2)], Rank::Answer, T0 + 301));
}

#[test]
fn stale_served_up_to_seven_days_then_gone() {
    let c = cache();
    c.insert(vec![a("s.example.", 60, 1)], Rank::Answer, T0);
    let k = key("s.example.", Rtype::A);
    let expired = T0 + 60;
    assert_eq!(c.get(&k, expired), None, "get never serves stale data");
    let stale = c.get_stale(&k, expired).unwrap();
    assert!(stale.stale);
    assert_eq!(stale.ttl, STALE_ANSWER_TTL);
    assert_eq!(stale.records[0].ttl, STALE_ANSWER_TTL);
    let last_second = expired + DEFAULT_MAX_STALE_SERVE_TIME - 1;
    assert!(c.get_stale(&k, last_second).unwrap().stale);
    assert_eq!(
        c.get_stale(&k, last_second + 1),
        None,
        "7 days after expiry: SERVFAIL"
    );
    assert_eq!(c.positive_len(), 0, "dropped once past the window");
}

#[test]
fn stale_lookup_of_fresh_data_is_not_stale() {
    let c = cache();
    c.insert(vec![a("f.example.", 60, 1)], Rank::Answer, T0);
    let hit = c.get_stale(&key("f.example.", Rtype::A), T0 + 10).unwrap();
    assert!(!hit.stale);
    assert_eq!(hit.ttl, 50);
}

#[test]
fn configurable_stale_window() {
    let c = Cache::new(CacheConfig {
        max_stale_serve_time: 3600,
        ..CacheConfig::default()
    });
    c.insert(vec![a("s.example.", 60, 1)], Rank::Answer, T0);
    let k = key("s.example.", Rtype::A);
    assert!(c.get_stale(&k, T0 + 60 + 3599).is_some());
    assert!(c.get_stale(&k, T0 + 60 + 3600).is_none());
}

#[test]
fn prefetch_signalled_once_for_popular_names_near_expiry() {
    let c = cache();
    c.insert(vec![a("p.example.", 100, 1)], Rank::Answer, T0);
    c.insert(vec![a("q.example.", 100, 1)], Rank::Answer, T0);
    let p = key("p.example.", Rtype::A);
    assert!(!c.get(&p, T0).unwrap().prefetch, "far from expiry");
    assert!(!c.get(&p, T0 + 50).unwrap().prefetch);
    assert!(c.get(&p, T0 + 91).unwrap().prefetch, "last 10% of the TTL");
    assert!(!c.get(&p, T0 + 92).unwrap().prefetch, "signalled once");
    // A name hit only once is not popular: no prefetch.
    assert!(
        !c.get(&key("q.example.", Rtype::A), T0 + 95)
            .unwrap()
            .prefetch
    );
    // A refreshed copy can signal again.
    c.insert(vec![a("p.example.", 100, 1)], Rank::Answer, T0 + 95);
    c.get(&p, T0 + 96);
    assert!(c.get(&p, T0 + 191).unwrap().prefetch);
}

#[test]
fn size_bound_holds_and_clock_keeps_recently_used() {
    let c = Cache::new(CacheConfig {
        max_rrsets: 64,
        shards: 1,
        ..CacheConfig::default()
    });
    let hot = key("hot.example.", Rtype::A);
    c.insert(vec![a("hot.example.", 3600, 1)], Rank::Answer, T0);
    for i in 0..1000u32 {
        c.get(&hot, T0);
        c.insert(
            vec![a(&format!("n{i}.example."), 3600, 1)],
            Rank::Answer,
            T0,
        );
        assert!(c.positive_len() <= 64);
    }
    assert_eq!(c.positive_len(), 64);
    assert!(
        c.get(&hot, T0 + 1).is_some(),
        "the referenced RRset survived the scan"
    );
    assert!(c.get(&key("n0.example.", Rtype::A), T0 + 1).is_none());
    assert!(c.get(&key("n999.example.", Rtype::A), T0 + 1).is_some());
}

#[test]
fn sharded_bound() {
    let c = Cache::new(CacheConfig {
        max_rrsets: 1000,
        shards: 8,
        ..CacheConfig::default()
    });
    for i in 0..10_000u32 {
        c.insert(
            vec![a(&format!("n{i}.example."), 3600, 1)],
            Rank::Answer,
            T0,
        );
    }
    assert!(c.positive_len() <= 1000, "{}", c.positive_len());
    assert!(c.positive_len() > 900, "{}", c.positive_len());
}

#[test]
fn negative_ttl_formula() {
    // min(SOA minimum, 60, positive / 10), each term binding in turn.
    assert_eq!(negative_ttl(30, 3600), 30);
    assert_eq!(negative_ttl(3600, 3600), 60);
    assert_eq!(negative_ttl(3600, 300), 30);
    assert_eq!(
        negative_ttl(86400, 86400),
        60,
        "hard cap even with large SOA values"
    );
    assert_eq!(negative_ttl(3600, 9), 0);
    assert_eq!(negative_ttl(0, 3600), 0);
}

#[test]
fn negative_answer_cached_with_formula_ttl_and_expires() {
    let c = cache();
    let k = key("nope.example.", Rtype::A);
    let got = c.insert_negative(
        &k,
        NegativeKind::NxDomain,
        &soa("example.", 3600, 86400),
        T0,
    );
    assert_eq!(got, NegativeInsert::Cached { ttl: 60 });
    let Lookup::Negative(neg) = c.lookup(&k, T0 + 59) else {
        panic!("expected a negative hit");
    };
    assert_eq!(neg.kind, NegativeKind::NxDomain);
    assert_eq!(neg.ttl, 1);
    assert_eq!(neg.soa.ttl, 1);
    assert_eq!(neg.zone, name("example."));
    // NXDOMAIN covers every type of the name.
    assert!(
        c.get_negative(&key("nope.example.", Rtype::MX), T0 + 1)
            .is_some()
    );
    assert_eq!(c.lookup(&k, T0 + 60), Lookup::Miss, "60 s cap");

    let short = c.insert_negative(&k, NegativeKind::NxDomain, &soa("example.", 120, 300), T0);
    assert_eq!(
        short,
        NegativeInsert::Cached { ttl: 12 },
        "positive TTL / 10"
    );
    assert!(c.get_negative(&k, T0 + 12).is_none());
}

#[test]
fn nodata_covers_only_its_type() {
    let c = cache();
    let k = key("host.example.", Rtype::AAAA);
    c.insert_negative(&k, NegativeKind::NoData, &soa("example.", 3600, 300), T0);
    assert!(c.get_negative(&k, T0 + 1).is_some());
    assert!(
        c.get_negative(&key("host.example.", Rtype::A), T0 + 1)
            .is_none()
    );
}

#[test]
fn negative_needs_an_soa() {
    let c = cache();
    let got = c.insert_negative(
        &key("x.example.", Rtype::A),
        NegativeKind::NxDomain,
        &a("example.", 300, 1),
        T0,
    );
    assert_eq!(got, NegativeInsert::NotCached);
    assert_eq!(c.negative_len(), 0);
}

#[test]
fn negative_cache_holds_at_most_1000_with_lru_eviction() {
    let c = cache();
    let soa = soa("example.", 3600, 300);
    let nth = |i: u32| key(&format!("n{i}.example."), Rtype::A);
    for i in 0..1000 {
        c.insert_negative(&nth(i), NegativeKind::NxDomain, &soa, T0);
    }
    assert_eq!(c.negative_len(), 1000);
    // Use entry 0, so entry 1 is now the least recently used.
    assert!(c.get_negative(&nth(0), T0 + 1).is_some());
    c.insert_negative(&nth(1000), NegativeKind::NxDomain, &soa, T0 + 2);
    assert_eq!(c.negative_len(), 1000);
    assert!(c.get_negative(&nth(0), T0 + 3).is_some());
    assert!(
        c.get_negative(&nth(1), T0 + 3).is_none(),
        "LRU entry evicted"
    );
    assert!(c.get_negative(&nth(1000), T0 + 3).is_some());
    for i in 1001..5000 {
        c.insert_negative(&nth(i), NegativeKind::NxDomain, &soa, T0 + 4);
        assert!(c.negative_len() <= 1000);
    }
}

#[test]
fn flush_all_and_per_zone() {
    let c = cache();
    let soa_a = soa("a.example.", 3600, 300);
    let soa_b = soa("b.example.", 3600, 300);
    c.insert_negative(
        &key("x.a.example.", Rtype::A),
        NegativeKind::NxDomain,
        &soa_a,
        T0,
    );
    c.insert_negative(
        &key("y.x.a.example.", Rtype::A),
        NegativeKind::NxDomain,
        &soa_a,
        T0,
    );
    c.insert_negative(
        &key("x.b.example.", Rtype::A),
        NegativeKind::NoData,
        &soa_b,
        T0,
    );
    assert_eq!(c.flush_negative_zone(&name("A.example.")), 2);
    assert!(c.get_negative(&key("x.a.example.", Rtype::A), T0).is_none());
    assert!(c.get_negative(&key("x.b.example.", Rtype::A), T0).is_some());
    assert_eq!(c.flush_negative(), 1);
    assert_eq!(c.negative_len(), 0);
}

#[test]
fn absence_never_overwrites_presence() {
    let c = cache();
    c.insert(vec![a("alice.example.", 3600, 1)], Rank::Answer, T0);
    let k = key("alice.example.", Rtype::A);
    let got = c.insert_negative(
        &k,
        NegativeKind::NxDomain,
        &soa("example.", 3600, 300),
        T0 + 10,
    );
    assert_eq!(
        got,
        NegativeInsert::Contested {
            rrsets: 1,
            requery_after: NEGATIVE_TTL_CAP
        }
    );
    assert_eq!(c.negative_len(), 0, "the negative answer was not cached");
    let hit = c.get(&k, T0 + 20).unwrap();
    assert!(hit.contested);
    assert_eq!(hit.ttl, 50, "TTL shortened to the re-query time");
    assert!(
        !hit.prefetch,
        "contested data is re-queried, not prefetched"
    );
    assert!(
        c.get(&k, T0 + 70).is_none(),
        "expires so that it is asked again"
    );
    // Once it expired, the absence may be cached.
    let got = c.insert_negative(
        &k,
        NegativeKind::NxDomain,
        &soa("example.", 3600, 300),
        T0 + 70,
    );
    assert_eq!(got, NegativeInsert::Cached { ttl: 60 });
}

#[test]
fn nodata_contests_only_the_same_type() {
    let c = cache();
    c.insert(vec![a("bob.example.", 30, 1)], Rank::Answer, T0);
    let soa = soa("example.", 3600, 300);
    let got = c.insert_negative(
        &key("bob.example.", Rtype::A),
        NegativeKind::NoData,
        &soa,
        T0,
    );
    assert_eq!(
        got,
        NegativeInsert::Contested {
            rrsets: 1,
            requery_after: 30
        },
        "already shorter than the cap: TTL kept"
    );
    let got = c.insert_negative(
        &key("bob.example.", Rtype::TXT),
        NegativeKind::NoData,
        &soa,
        T0,
    );
    assert_eq!(got, NegativeInsert::Cached { ttl: 60 });
}

#[test]
fn presence_clears_absence() {
    let c = cache();
    let k = key("new.example.", Rtype::A);
    c.insert_negative(&k, NegativeKind::NxDomain, &soa("example.", 3600, 300), T0);
    c.insert(vec![a("new.example.", 300, 1)], Rank::Answer, T0 + 1);
    assert!(c.get_negative(&k, T0 + 2).is_none());
    assert!(matches!(c.lookup(&k, T0 + 2), Lookup::Positive(_)));
}

#[test]
fn contest_caps_ttl_for_ownership_disputes() {
    let c = cache();
    c.insert(vec![a("d.example.", 3600, 1)], Rank::Answer, T0);
    let k = key("d.example.", Rtype::A);
    assert!(c.contest(&k, 60, T0 + 5));
    let hit = c.get(&k, T0 + 5).unwrap();
    assert!(hit.contested);
    assert_eq!(hit.ttl, 60);
    assert!(!c.contest(&key("none.example.", Rtype::A), 60, T0));
}

#[test]
fn concurrent_use_is_consistent() {
    let c = std::sync::Arc::new(Cache::new(CacheConfig {
        max_rrsets: 500,
        ..CacheConfig::default()
    }));
    let workers: Vec<_> = (0..4u32)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..2000u32 {
                    let owner = format!("n{}.example.", (i * 7 + t) % 800);
                    c.insert(vec![a(&owner, 600, 1)], Rank::Answer, T0);
                    if let Some(hit) = c.get(&key(&owner, Rtype::A), T0 + 1) {
                        assert_eq!(hit.ttl, 599);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(c.positive_len() <= 500);
}
