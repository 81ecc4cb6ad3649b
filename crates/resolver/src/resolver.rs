//! The resolver as the node holds it: configuration, the cache, what is known about
//! upstream servers, and the two ways to answer — from the cache alone
//! ([`Resolver::from_cache`], the hit path, which touches nothing but memory), or by a
//! [`Iteration`] state machine the edge drives over the network.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use lib_dns::message::ExtendedError;
use lib_dns::rdata::Cname;
use lib_dns::{Name, RData, Rcode, Record, Rtype};

use crate::answer::{Answer, EDE_STALE_ANSWER};
use crate::cache::{Cache, CacheKey, NegativeKind, Rank};
use crate::iterate::Iteration;
use crate::scope::{Policy, ScopeTable};
use crate::servers::{Random, ServerStats};
use crate::validator::{Security, ValidationConfig, Validator};

/// A zone whose names are sent to recursive upstreams instead of being resolved
/// iteratively (a forward zone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardZone {
    /// The zone: names at or below it are forwarded (the longest matching zone wins).
    pub zone: Name,
    /// The upstreams, tried in SRTT order with failover.
    pub upstreams: Vec<SocketAddr>,
    /// The upstreams are inside the local mesh partition, so names of local-scope zones
    /// may be sent to them (seed 003 §16.1 class A).
    pub in_partition: bool,
}

/// Bounds on the work one query may cause, so that no answer can make the resolver
/// loop or amplify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Queries sent upstream for one client question, all lookups included.
    pub max_upstream_queries: u32,
    /// Referrals followed for one client question.
    pub max_referrals: u32,
    /// CNAME/DNAME records in one answer chain.
    pub max_cname_chain: usize,
    /// Nested lookups of name server addresses (a lookup inside a lookup…).
    pub max_ns_lookup_depth: usize,
    /// Failures (timeouts, lame answers) tolerated per server and zone cut.
    pub max_tries_per_server: u8,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_upstream_queries: 64,
            max_referrals: 24,
            max_cname_chain: 12,
            max_ns_lookup_depth: 4,
            max_tries_per_server: 2,
        }
    }
}

/// How the resolver finds answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverConfig {
    /// Addresses of the root servers (ports included, so tests can use their own).
    pub root_hints: Vec<SocketAddr>,
    /// Zones sent to recursive upstreams.
    pub forward_zones: Vec<ForwardZone>,
    /// The port for name server addresses learned from glue and lookups.
    pub upstream_port: u16,
    /// QNAME minimisation (RFC 9156).
    pub qname_minimisation: bool,
    /// Whether to use IPv6 addresses of name servers.
    pub use_ipv6: bool,
    /// The UDP payload size offered upstream and to clients (RFC 6891 §6.2.5).
    pub edns_udp_size: u16,
    /// Work limits per query.
    pub limits: Limits,
    /// DNSSEC validation, with its trust anchors; `None` turns it off.
    pub validation: Option<ValidationConfig>,
}

impl Default for ResolverConfig {
    fn default() -> ResolverConfig {
        ResolverConfig {
            root_hints: Vec::new(),
            forward_zones: Vec::new(),
            upstream_port: 53,
            qname_minimisation: true,
            use_ipv6: false,
            edns_udp_size: 1232,
            limits: Limits::default(),
            validation: None,
        }
    }
}

/// An answer found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheHit {
    /// The answer.
    pub answer: Answer,
    /// Part of it is popular and near expiry: refresh it in the background.
    pub prefetch: bool,
}

/// The resolver: shared by every query (it is `Sync`), driven by the edge.
#[derive(Debug)]
pub struct Resolver {
    config: ResolverConfig,
    cache: Cache,
    servers: ServerStats,
    random: Random,
    /// Zone scopes (seed 003 §16.1), replaced whole when the node's zones change.
    scopes: ArcSwap<ScopeTable>,
    /// The DNSSEC validator, when validation is on.
    validator: Option<Validator>,
}

impl Resolver {
    /// A resolver over `cache`.
    pub fn new(config: ResolverConfig, cache: Cache) -> Resolver {
        Resolver {
            validator: config.validation.as_ref().map(Validator::new),
            config,
            cache,
            servers: ServerStats::default(),
            random: Random::default(),
            scopes: ArcSwap::from_pointee(ScopeTable::default()),
        }
    }

    /// Replaces the known zone scopes.
    pub fn set_scopes(&self, scopes: ScopeTable) {
        self.scopes.store(Arc::new(scopes));
    }

    /// What the scopes say about `name`.
    pub fn policy(&self, name: &Name) -> Policy {
        self.scopes.load().policy(name)
    }

    /// Marks `answer` external when any of its records belongs to an external-scope
    /// zone (seed 003 §16.1 class C).
    pub(crate) fn mark_external(&self, answer: &mut Answer) {
        let scopes = self.scopes.load();
        if scopes.is_empty() {
            return;
        }
        answer.external |= answer
            .answers
            .iter()
            .any(|r| scopes.policy(&r.owner) == Policy::External);
    }

    /// The configuration.
    pub fn config(&self) -> &ResolverConfig {
        &self.config
    }

    /// The DNSSEC validator, when validation is on.
    pub fn validator(&self) -> Option<&Validator> {
        self.validator.as_ref()
    }

    /// Whether the cache holds a delegation (an NS RRset from a referral or an answer)
    /// at `name`: a zone cut the validator can start a DS lookup from.
    pub(crate) fn is_cut(&self, name: &Name, now: u64) -> bool {
        self.cache
            .get(&CacheKey::new(name.clone(), Rtype::NS), now)
            .is_some()
    }

    /// The cache.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// What is known about upstream servers.
    pub fn servers(&self) -> &ServerStats {
        &self.servers
    }

    pub(crate) fn random(&self) -> &Random {
        &self.random
    }

    /// A state machine resolving (`qname`, `qtype`); start it with
    /// [`Iteration::start`].
    pub fn resolve(&self, qname: Name, qtype: Rtype) -> Iteration {
        Iteration::new(qname, qtype)
    }

    /// The answer from fresh cached data alone, following cached CNAMEs, or `None`. This
    /// is the hit path: memory only, no I/O, no waiting beyond one shard lock per step
    /// (seed 003 §15 invariant 6). Only data that arrived as an authoritative answer is
    /// served; glue and referral NS records are for the resolver's own use.
    pub fn from_cache(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<CacheHit> {
        let mut chain: Vec<Record> = Vec::new();
        let mut sigs = Signatures::default();
        let mut name = qname.clone();
        let mut contested = false;
        let mut prefetch = false;
        for _ in 0..=self.config.limits.max_cname_chain {
            let key = CacheKey::new(name.clone(), qtype);
            if let Some(hit) = self.cache.get(&key, now).filter(|h| h.rank == Rank::Answer) {
                contested |= hit.contested;
                prefetch |= hit.prefetch;
                sigs.add(hit.security, hit.rrsigs);
                chain.extend(hit.records);
                let mut answer = positive(chain, contested, false);
                sigs.apply(&mut answer);
                self.mark_external(&mut answer);
                return Some(CacheHit { answer, prefetch });
            }
            if qtype != Rtype::CNAME {
                let alias = CacheKey::new(name.clone(), Rtype::CNAME);
                if let Some(hit) = self
                    .cache
                    .get(&alias, now)
                    .filter(|h| h.rank == Rank::Answer)
                {
                    let target = cname_target(&hit.records)?;
                    contested |= hit.contested;
                    prefetch |= hit.prefetch;
                    sigs.add(hit.security, hit.rrsigs);
                    chain.extend(hit.records);
                    name = target;
                    continue;
                }
            }
            let negative = self.cache.get_negative(&key, now)?;
            sigs.add(negative.security, Vec::new());
            let mut answer = Answer {
                rcode: match negative.kind {
                    NegativeKind::NxDomain => Rcode::NXDOMAIN,
                    NegativeKind::NoData => Rcode::NOERROR,
                },
                answers: chain,
                authority: vec![negative.soa],
                stale: false,
                contested,
                external: false,
                extended_error: None,
                nx_metadata: negative.metadata,
                security: Security::Indeterminate,
                rrsigs: Vec::new(),
                proof: negative.proof,
            };
            sigs.apply(&mut answer);
            return Some(CacheHit { answer, prefetch });
        }
        None
    }

    /// The NXDOMAIN or NODATA that validated NSEC records already prove (RFC 8198), as
    /// a Secure answer, or `None`. Memory only, like [`Resolver::from_cache`], so the
    /// hit path can use it too.
    pub fn synthesised(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<Answer> {
        let denial = self.validator.as_ref()?.synthesise(qname, qtype, now)?;
        Some(Answer {
            rcode: denial.rcode,
            authority: vec![denial.soa],
            proof: denial.proof,
            security: Security::Secure,
            ..Answer::positive(Vec::new())
        })
    }

    /// The answer from cached data that may have expired less than
    /// `max_stale_serve_time` ago (RFC 8767), flagged stale with EDE 3 if any of it is,
    /// or `None` (the caller answers SERVFAIL). Negative answers are never served stale.
    /// With validation on, expired data is served only if it was validated Secure or
    /// proven Insecure when it was cached (seed 003 §11.3).
    pub fn stale(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<Answer> {
        let servable = |hit: &crate::cache::CachedRrset| {
            hit.rank == Rank::Answer
                && (self.validator.is_none()
                    || !hit.stale
                    || matches!(hit.security, Security::Secure | Security::Insecure))
        };
        let mut chain: Vec<Record> = Vec::new();
        let mut sigs = Signatures::default();
        let mut name = qname.clone();
        let mut stale = false;
        let mut contested = false;
        for _ in 0..=self.config.limits.max_cname_chain {
            let key = CacheKey::new(name.clone(), qtype);
            if let Some(hit) = self.cache.get_stale(&key, now).filter(servable) {
                stale |= hit.stale;
                contested |= hit.contested;
                sigs.add(hit.security, hit.rrsigs);
                chain.extend(hit.records);
                let mut answer = positive(chain, contested, stale);
                sigs.apply(&mut answer);
                self.mark_external(&mut answer);
                return Some(answer);
            }
            let alias = CacheKey::new(name.clone(), Rtype::CNAME);
            let hit = self
                .cache
                .get_stale(&alias, now)
                .filter(|h| servable(h) && qtype != Rtype::CNAME)?;
            name = cname_target(&hit.records)?;
            stale |= hit.stale;
            contested |= hit.contested;
            sigs.add(hit.security, hit.rrsigs);
            chain.extend(hit.records);
        }
        None
    }
}

fn positive(answers: Vec<Record>, contested: bool, stale: bool) -> Answer {
    Answer {
        stale,
        contested,
        extended_error: stale.then(|| ExtendedError::new(EDE_STALE_ANSWER, "")),
        ..Answer::positive(answers)
    }
}

/// The DNSSEC side of an answer put together from cached RRsets: their RRSIGs, and the
/// weakest status among them (Secure only if every part is).
struct Signatures {
    rrsigs: Vec<Record>,
    /// The NSEC/NSEC3 proof of wildcard expansions, for the authority section.
    proof: Vec<Record>,
    security: Security,
}

impl Default for Signatures {
    fn default() -> Signatures {
        Signatures {
            rrsigs: Vec::new(),
            proof: Vec::new(),
            security: Security::Secure,
        }
    }
}

impl Signatures {
    fn add(&mut self, security: Security, rrsigs: Vec<Record>) {
        for r in rrsigs {
            let denial = match &r.data {
                RData::Nsec(_) | RData::Nsec3(_) => true,
                RData::Rrsig(sig) => matches!(sig.type_covered, Rtype::NSEC | Rtype::NSEC3),
                _ => false,
            };
            if denial {
                self.proof.push(r);
            } else {
                self.rrsigs.push(r);
            }
        }
        self.security = match (self.security, security) {
            (Security::Secure, other) => other,
            (Security::Indeterminate, _) | (_, Security::Indeterminate) => Security::Indeterminate,
            (current, _) => current,
        };
    }

    fn apply(self, answer: &mut Answer) {
        answer.security = self.security;
        answer.rrsigs = self.rrsigs;
        answer.proof.extend(self.proof);
    }
}

fn cname_target(records: &[Record]) -> Option<Name> {
    records.iter().find_map(|r| match &r.data {
        RData::Cname(Cname(target)) => Some(target.clone()),
        _ => None,
    })
}
