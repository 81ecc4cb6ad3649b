//! Iterative and forwarding resolution over an in-process hierarchy of our own
//! authoritative servers, with injected time: referrals, glue, QNAME minimisation,
//! CNAME/DNAME across zones, negative answers, failover, TCP on TC, EDNS fallback,
//! serve-stale, and hostile upstreams.
// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::Ipv4Addr;

use common::*;
use lib_dns::message::{EdnsOption, ExtendedError};
use lib_dns::rdata::A;
use lib_dns::{Message, RData, Rcode, Record, Rtype};
use zdns_resolver::answer::{EDE_NO_REACHABLE_AUTHORITY, EDE_STALE_ANSWER};
use zdns_resolver::cache::Rank;
use zdns_resolver::nxmeta::Responder;
use zdns_resolver::scope::{Scope, ScopeTable};
use zdns_resolver::{CacheKey, ForwardZone, Limits, ResolverConfig, Transport};

fn addrs(answer: &zdns_resolver::Answer) -> Vec<Ipv4Addr> {
    answer
        .answers
        .iter()
        .filter_map(|r| match r.data {
            RData::A(A(ip)) => Some(ip),
            _ => None,
        })
        .collect()
}

#[test]
fn iterative_with_referrals_glue_and_minimisation() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(
        addrs(&answer),
        vec![Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)]
    );
    let questions = net.questions();
    // RFC 9156: the root only hears "test.", the TLD only "example.test.".
    assert_eq!(questions[0], (1, "test.".into(), Rtype::A));
    assert_eq!(questions[1], (2, "example.test.".into(), Rtype::A));
    let last = questions.last().unwrap();
    assert!(last.0 == 3 || last.0 == 4);
    assert_eq!((last.1.as_str(), last.2), ("www.example.test.", Rtype::A));
    assert!(questions.len() <= 4, "{questions:?}");
}

#[test]
fn without_minimisation_every_server_gets_the_full_name() {
    let r = resolver(ResolverConfig {
        qname_minimisation: false,
        ..config()
    });
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 2);
    let questions = net.questions();
    assert_eq!(questions.len(), 3);
    assert!(
        questions
            .iter()
            .all(|q| q.1 == "www.example.test." && q.2 == Rtype::A)
    );
}

#[test]
fn cache_hit_sends_nothing_and_counts_ttl_down() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    net.resolve(&r, "www.example.test.", Rtype::A, T0);
    let sent = net.sent.len();
    let mut resolution = r.resolve(name("www.example.test."), Rtype::A);
    let zdns_resolver::Step::Done(answer) = resolution.start(&r, T0 + 100) else {
        panic!("a cache hit must finish without sending");
    };
    assert_eq!(resolution.queries_sent(), 0);
    assert_eq!(net.sent.len(), sent);
    assert_eq!(answer.answers[0].ttl, 200);
    // Other names under the cached cut start there, not at the root.
    net.sent.clear();
    net.resolve(&r, "mail.example.test.", Rtype::MX, T0 + 1);
    assert!(
        net.questions().iter().all(|q| q.0 == 3 || q.0 == 4),
        "{:?}",
        net.questions()
    );
    // After expiry it is asked again.
    net.sent.clear();
    net.resolve(&r, "www.example.test.", Rtype::A, T0 + 300);
    assert_eq!(net.sent.len(), 1);
}

#[test]
fn cname_within_and_across_zones() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "deep.example.test.", Rtype::A, T0);
    assert_eq!(answer.answers.len(), 4, "{:?}", answer.answers);
    assert_eq!(answer.answers[0].rtype(), Rtype::CNAME);
    assert_eq!(addrs(&answer).len(), 2);

    let answer = net.resolve(&r, "ext.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(answer.answers[0].rtype(), Rtype::CNAME);
    assert_eq!(addrs(&answer), vec![Ipv4Addr::new(192, 0, 2, 50)]);
    // The chain is cached: the next ask is answered from memory.
    net.sent.clear();
    let again = net.resolve(&r, "ext.example.test.", Rtype::A, T0 + 1);
    assert!(net.sent.is_empty());
    assert_eq!(addrs(&again), vec![Ipv4Addr::new(192, 0, 2, 50)]);
}

#[test]
fn dname_across_zones() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.old.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(answer.answers[0].rtype(), Rtype::DNAME);
    assert_eq!(answer.answers[1].rtype(), Rtype::CNAME);
    assert_eq!(addrs(&answer), vec![Ipv4Addr::new(192, 0, 2, 50)]);
}

#[test]
fn nxdomain_and_nodata_are_cached_per_seed_rules() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "nope.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NXDOMAIN);
    assert_eq!(answer.authority[0].rtype(), Rtype::SOA);
    // Seed 003 §12.2 rule 4: who said so, and how much of the authority was asked
    // (one of the zone's two servers).
    let meta = answer.nx_metadata.clone().unwrap();
    let responder = net.sent.last().unwrap().server.ip();
    assert_eq!(meta.responder, Responder::Address(responder));
    assert_eq!(meta.coverage_bp, Some(5000));
    assert!(meta.partition.is_empty());
    let mut query = Message::query(1, name("nope.example.test."), Rtype::A);
    query.edns = Some(Default::default());
    let wire = answer.to_response(&query, 1232).to_wire(1232).unwrap();
    let back = zdns_resolver::Answer::from_response(&Message::parse(&wire).unwrap());
    assert_eq!(back.nx_metadata, Some(meta.clone()));
    // The server sends the SOA with TTL min(300, 120) = 120 (RFC 2308 §3), so the
    // negative TTL is min(SOA minimum 120, 60, 120 / 10) = 12 s.
    let neg = r
        .cache()
        .get_negative(&CacheKey::new(name("nope.example.test."), Rtype::A), T0)
        .unwrap();
    assert_eq!(neg.ttl, 12);
    net.sent.clear();
    let cached = net.resolve(&r, "nope.example.test.", Rtype::A, T0 + 11);
    assert_eq!(cached.rcode, Rcode::NXDOMAIN);
    assert_eq!(
        cached.nx_metadata,
        Some(meta),
        "kept with the cached NXDOMAIN"
    );
    assert!(net.sent.is_empty());
    net.resolve(&r, "nope.example.test.", Rtype::A, T0 + 12);
    assert!(!net.sent.is_empty(), "expired after 12 s");

    let answer = net.resolve(&r, "www.example.test.", Rtype::AAAA, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert!(answer.answers.is_empty());
    assert_eq!(answer.authority[0].rtype(), Rtype::SOA);

    // Minimised: a missing name in the middle ends the search (RFC 8020).
    net.sent.clear();
    let answer = net.resolve(&r, "a.b.c.missing.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::NXDOMAIN);
    assert!(
        net.questions().iter().all(|q| q.1 == "missing.test."),
        "{:?}",
        net.questions()
    );
}

#[test]
fn glueless_delegation_looks_up_the_name_server() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "host.glueless.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer), vec![Ipv4Addr::new(192, 0, 2, 60)]);
    assert!(net.questions().iter().any(|q| q.1 == "ns.hosting.other."));
}

#[test]
fn failover_to_the_second_name_server() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    net.down.insert(addr(3));
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 2);
    // Whatever the first choice was, the dead server is now the slow one.
    if let Some(srtt) = r.servers().srtt_ms(addr(3)) {
        assert!(
            srtt >= 700 || net.sent.iter().all(|t| t.server != addr(3)),
            "{srtt}"
        );
    }
    net.sent.clear();
    net.resolve(&r, "mail.example.test.", Rtype::MX, T0);
    assert!(net.sent.iter().all(|t| t.server == addr(4)));
}

#[test]
fn truncated_udp_answer_is_asked_again_over_tcp() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "big.example.test.", Rtype::TXT, T0);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert_eq!(answer.answers.len(), 3);
    let last = net.sent.last().unwrap();
    assert_eq!(last.transport, Transport::Tcp);
    assert_eq!(net.sent[net.sent.len() - 2].transport, Transport::Udp);
}

#[test]
fn truncation_over_tcp_too_fails_that_server() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            Box::new(|_, mut reply| {
                reply[2] |= 0x02; // TC, even over TCP
                reply
            }),
        );
    }
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
}

#[test]
fn edns_fallback_after_formerr() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    // ns1 and ns2 of example.test. refuse EDNS with FORMERR.
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            Box::new(|query, reply| {
                let q = Message::parse(query).unwrap();
                if q.edns.is_none() {
                    return reply;
                }
                let mut m = Message::response_to(&q);
                m.rcode = Rcode::FORMERR;
                m.to_wire(512).unwrap()
            }),
        );
    }
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 2);
    let last = Message::parse(&net.sent.last().unwrap().message).unwrap();
    assert!(last.edns.is_none());
    let used = net.sent.last().unwrap().server;
    assert!(r.servers().no_edns(used));
}

#[test]
fn serve_stale_after_failure_for_seven_days_then_servfail_then_recovery() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    net.resolve(&r, "alias.example.test.", Rtype::A, T0);
    for last in 1..=6 {
        net.down.insert(addr(last));
    }
    let later = T0 + 3600;
    let answer = net.resolve(&r, "alias.example.test.", Rtype::A, later);
    assert_eq!(answer.rcode, Rcode::NOERROR);
    assert!(answer.stale);
    assert_eq!(answer.answers.len(), 3);
    assert!(answer.answers.iter().all(|r| r.ttl == 30));
    assert_eq!(
        answer.extended_error,
        Some(ExtendedError::new(EDE_STALE_ANSWER, ""))
    );
    let query = Message::query(1, name("alias.example.test."), Rtype::A);
    let mut query_edns = query.clone();
    query_edns.edns = Some(Default::default());
    let wire = answer.to_response(&query_edns, 1232).to_wire(1232).unwrap();
    let parsed = Message::parse(&wire).unwrap();
    assert!(matches!(
        parsed.edns.unwrap().options[0],
        EdnsOption::ExtendedError(ExtendedError { info_code: 3, .. })
    ));

    // Expired at T0 + 300; stale until T0 + 300 + 7 days.
    let week = 7 * 24 * 3600;
    assert!(
        net.resolve(&r, "alias.example.test.", Rtype::A, T0 + 300 + week - 1)
            .stale
    );
    let gone = net.resolve(&r, "alias.example.test.", Rtype::A, T0 + 300 + week);
    assert_eq!(gone.rcode, Rcode::SERVFAIL);
    assert_eq!(
        gone.extended_error.unwrap().info_code,
        EDE_NO_REACHABLE_AUTHORITY
    );

    net.down.clear();
    let back = net.resolve(&r, "alias.example.test.", Rtype::A, T0 + 300 + week + 1);
    assert_eq!(back.rcode, Rcode::NOERROR);
    assert!(!back.stale);
    assert_eq!(back.answers.len(), 3);
}

#[test]
fn forwarding_with_failover() {
    let r = resolver(ResolverConfig {
        forward_zones: vec![ForwardZone {
            zone: name("example.test."),
            upstreams: vec![addr(9), addr(3)],
            in_partition: false,
        }],
        ..config()
    });
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 2);
    assert!(
        net.sent
            .iter()
            .all(|t| t.server == addr(9) || t.server == addr(3))
    );
    let first = Message::parse(&net.sent[0].message).unwrap();
    assert!(first.flags.rd, "forwarded queries ask for recursion");
    assert_eq!(first.question().unwrap().qname, name("www.example.test."));
}

#[test]
fn negative_answer_for_cached_name_marks_it_contested() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    net.resolve(&r, "www.example.test.", Rtype::A, T0);
    // The zone changes: www is gone.
    let changed = EXAMPLE
        .replace("www     A   192.0.2.1\n", "")
        .replace("www     A   192.0.2.2\n", "");
    let example = server(&[zone("example.test.", &changed)]);
    net.servers.insert(addr(3), example.clone());
    net.servers.insert(addr(4), example);
    let answer = net.resolve(&r, "www.example.test.", Rtype::AAAA, T0 + 10);
    assert_eq!(answer.rcode, Rcode::NXDOMAIN);
    // Absence did not overwrite presence: the A RRset is still there, contested, with
    // its TTL cut to at most 60 s.
    let hit = r
        .from_cache(&name("www.example.test."), Rtype::A, T0 + 11)
        .unwrap();
    assert!(hit.answer.contested);
    assert!(hit.answer.answers[0].ttl <= 59);
    assert!(
        r.cache()
            .get_negative(
                &CacheKey::new(name("www.example.test."), Rtype::AAAA),
                T0 + 11
            )
            .is_none()
    );
    // Once it expires it is asked again and the absence can be believed.
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0 + 71);
    assert_eq!(answer.rcode, Rcode::NXDOMAIN);
}

// ---- hostile upstreams ----

fn rewrite(f: impl Fn(&mut Message) + 'static) -> Tamper {
    Box::new(move |_, reply| {
        let mut m = Message::parse(&reply).unwrap();
        f(&mut m);
        m.to_wire(65535).unwrap()
    })
}

#[test]
fn forged_glue_and_out_of_bailiwick_records_are_never_cached() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    // The TLD server adds an address for a name in another TLD, and an answer record
    // for it, to its referral.
    net.tamper.insert(
        addr(2),
        rewrite(|m| {
            let forged = Record::new(
                name("www.example.other."),
                86400,
                A(Ipv4Addr::new(6, 6, 6, 6)),
            );
            m.additional.push(forged.clone());
            m.answers.push(forged);
            m.additional.push(Record::new(
                name("ns1.example.test."),
                86400,
                A(Ipv4Addr::new(6, 6, 6, 7)),
            ));
        }),
    );
    // The example.test. servers add an answer for a name outside their zone.
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            rewrite(|m| {
                m.answers.push(Record::new(
                    name("www.example.other."),
                    86400,
                    A(Ipv4Addr::new(6, 6, 6, 6)),
                ));
            }),
        );
    }
    net.resolve(&r, "www.example.test.", Rtype::A, T0);
    let cache = r.cache();
    let victim = CacheKey::new(name("www.example.other."), Rtype::A);
    assert!(
        cache.get_stale(&victim, T0).is_none(),
        "out-of-bailiwick data cached"
    );
    // Glue for a real name server of the referral, in bailiwick, is kept but only as
    // additional data; the forged second address came in the same RRset.
    let glue = cache
        .get(&CacheKey::new(name("ns1.example.test."), Rtype::A), T0)
        .unwrap();
    assert_eq!(glue.rank, Rank::Additional);
    // The real answer for www.example.other. is unaffected.
    let answer = net.resolve(&r, "www.example.other.", Rtype::A, T0);
    assert_eq!(addrs(&answer), vec![Ipv4Addr::new(192, 0, 2, 50)]);
}

#[test]
fn referral_loops_and_upward_referrals_end_in_servfail() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    // example.test. servers refer back up to the root.
    for last in [3, 4] {
        net.tamper.insert(
            addr(last),
            rewrite(|m| {
                m.flags.aa = false;
                m.answers.clear();
                m.authority = vec![Record::new(
                    name("test."),
                    3600,
                    lib_dns::rdata::Ns(name("ns.test.")),
                )];
            }),
        );
    }
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
    assert!(net.sent.len() <= 10, "{}", net.sent.len());
}

#[test]
fn endless_downward_delegation_hits_the_referral_limit() {
    let r = resolver(ResolverConfig {
        qname_minimisation: false,
        limits: Limits {
            max_referrals: 5,
            ..Limits::default()
        },
        ..config()
    });
    let mut net = Net::hierarchy();
    // example.test. servers delegate one label deeper each time, to themselves.
    let depth = std::rc::Rc::new(std::cell::Cell::new(3usize));
    for last in [3, 4] {
        let depth = depth.clone();
        net.tamper.insert(
            addr(last),
            Box::new(move |query, _| {
                let q = Message::parse(query).unwrap();
                let qname = &q.question().unwrap().qname;
                let mut m = Message::response_to(&q);
                let cut = qname.suffix(depth.get().min(qname.label_count()));
                depth.set(depth.get() + 1);
                m.authority = vec![Record::new(
                    cut,
                    3600,
                    lib_dns::rdata::Ns(name("ns1.example.test.")),
                )];
                m.to_wire(65535).unwrap()
            }),
        );
    }
    let answer = net.resolve(&r, "a.b.c.d.e.f.g.h.i.j.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
    // Root → test. → example.test. are two referrals; three more of the loop make five,
    // and the sixth is refused.
    assert_eq!(depth.get(), 3 + 4);
    assert!(net.sent.len() <= 9, "{}", net.sent.len());
}

#[test]
fn garbage_truncated_and_mismatched_replies() {
    let r = resolver(config());
    let mut net = Net::hierarchy();
    net.tamper.insert(
        addr(3),
        Box::new(|_, reply| reply[..reply.len() / 2].to_vec()),
    );
    net.tamper.insert(addr(4), Box::new(|_, _| vec![0xff; 7]));
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);

    // A reply with another id is not the answer: keep waiting.
    let r = resolver(config());
    let mut resolution = r.resolve(name("www.example.test."), Rtype::A);
    let zdns_resolver::Step::Send(t) = resolution.start(&r, T0) else {
        panic!("expected a query");
    };
    let mut wrong = Message::parse(&t.message).unwrap();
    wrong.id ^= 1;
    wrong.flags.qr = true;
    let step = resolution.on_reply(
        &r,
        &wrong.to_wire(512).unwrap(),
        std::time::Duration::ZERO,
        T0,
    );
    assert_eq!(step, zdns_resolver::Step::Wait);
    // Nor is a reply to another question.
    let mut other = Message::parse(&t.message).unwrap();
    other.flags.qr = true;
    other.questions[0].qname = name("evil.test.");
    let step = resolution.on_reply(
        &r,
        &other.to_wire(512).unwrap(),
        std::time::Duration::ZERO,
        T0,
    );
    assert_eq!(step, zdns_resolver::Step::Wait);
}

#[test]
fn query_budget_bounds_work() {
    let r = resolver(ResolverConfig {
        limits: Limits {
            max_upstream_queries: 3,
            ..Limits::default()
        },
        ..config()
    });
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "host.glueless.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
    assert_eq!(net.sent.len(), 3);
}

// ---- zone scoping (seed 003 §16.1) ----

#[test]
fn local_scope_names_never_leave_the_partition() {
    let r = resolver(config());
    r.set_scopes(ScopeTable::new([(name("example.test."), Scope::Local)]));
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
    assert!(net.sent.is_empty(), "asked {:?}", net.questions());
    assert!(answer.extended_error.unwrap().text.contains("local-scope"));
    // A CNAME from elsewhere into the local zone stops there as well.
    let r = resolver(config());
    r.set_scopes(ScopeTable::new([(name("example.other."), Scope::Local)]));
    let answer = net.resolve(&r, "ext.example.test.", Rtype::A, T0);
    assert_eq!(answer.rcode, Rcode::SERVFAIL);
    assert!(
        net.questions()
            .iter()
            .all(|q| !q.1.ends_with("example.other."))
    );
}

#[test]
fn local_scope_names_go_to_forwarders_inside_the_partition() {
    let r = resolver(ResolverConfig {
        forward_zones: vec![ForwardZone {
            zone: name("example.test."),
            upstreams: vec![addr(3)],
            in_partition: true,
        }],
        ..config()
    });
    r.set_scopes(ScopeTable::new([(name("example.test."), Scope::Local)]));
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.test.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 2);
    assert!(net.sent.iter().all(|t| t.server == addr(3)));
}

#[test]
fn external_scope_answers_are_marked() {
    let r = resolver(config());
    r.set_scopes(ScopeTable::new([(name("other."), Scope::External)]));
    let mut net = Net::hierarchy();
    let answer = net.resolve(&r, "www.example.other.", Rtype::A, T0);
    assert_eq!(addrs(&answer).len(), 1);
    assert!(answer.external);
    let cached = net.resolve(&r, "www.example.other.", Rtype::A, T0 + 1);
    assert!(cached.external, "marked on the hit path too");
    // A chain that ends outside is marked; one that stays inside is not.
    assert!(net.resolve(&r, "ext.example.test.", Rtype::A, T0).external);
    assert!(!net.resolve(&r, "www.example.test.", Rtype::A, T0).external);
    let mut query = Message::query(1, name("www.example.other."), Rtype::A);
    query.edns = Some(Default::default());
    let wire = answer.to_response(&query, 1232).to_wire(1232).unwrap();
    assert!(zdns_resolver::Answer::from_response(&Message::parse(&wire).unwrap()).external);
}

/// Mutated replies (bit flips, truncations, garbled bytes) from every server below the
/// root: the machine must end with an answer, never panic, stay within its query
/// budget, and never cache a name outside the zones of the servers that sent it.
/// Deterministic (xorshift, fixed seed).
#[test]
fn mutated_replies_never_panic_or_poison() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let names = [
        "www.example.test.",
        "ext.example.test.",
        "host.glueless.test.",
        "www.old.example.test.",
    ];
    for round in 0..1500 {
        let r = resolver(config());
        let mut net = Net::hierarchy();
        let qname = names[round % names.len()];
        let mut resolution = r.resolve(name(qname), Rtype::A);
        let mut step = resolution.start(&r, T0);
        let mut rounds = 0;
        let answer = loop {
            rounds += 1;
            assert!(rounds < 500, "did not end");
            step = match step {
                zdns_resolver::Step::Done(answer) => break answer,
                zdns_resolver::Step::Wait => resolution.on_timeout(&r, T0),
                zdns_resolver::Step::Send(t) => match net.exchange(&t, T0) {
                    None => resolution.on_timeout(&r, T0),
                    // The root may vouch for any name; every other server is
                    // mutated, and its bailiwick is what the assertion below checks.
                    Some(reply) if t.server == addr(1) => {
                        resolution.on_reply(&r, &reply, std::time::Duration::from_millis(1), T0)
                    }
                    Some(mut reply) => {
                        match next() % 4 {
                            0 => {}
                            1 => {
                                for _ in 0..1 + next() % 4 {
                                    let at = (next() as usize) % reply.len();
                                    reply[at] ^= 1 << (next() % 8);
                                }
                            }
                            2 => reply.truncate((next() as usize) % (reply.len() + 1)),
                            _ => {
                                // Keep the id and question, garble what follows.
                                let keep = 12.min(reply.len());
                                for b in reply.iter_mut().skip(keep + (next() as usize) % 20) {
                                    *b = next() as u8;
                                }
                            }
                        }
                        resolution.on_reply(&r, &reply, std::time::Duration::from_millis(1), T0)
                    }
                },
            };
        };
        assert!(matches!(
            answer.rcode,
            Rcode::NOERROR | Rcode::NXDOMAIN | Rcode::SERVFAIL
        ));
        assert!(resolution.queries_sent() <= r.config().limits.max_upstream_queries);
        // Whatever was cached lies inside the zones the hierarchy serves.
        for stored in r.cache().snapshot(T0) {
            let owner = &stored.records[0].owner;
            assert!(
                owner.is_subdomain_of(&name("test."))
                    || owner.is_subdomain_of(&name("other."))
                    || owner.is_subdomain_of(&name("root."))
                    || owner.is_root(),
                "{owner} cached in round {round}"
            );
        }
    }
}
