//! The resolver's in-memory (L1) cache: positive RRsets, negative answers, and the rules
//! that tie them together.
//!
//! - Positive RRsets ([`Cache::insert`], [`Cache::get`]): TTLs are capped at
//!   [`CacheConfig::max_ttl`] when stored and counted down on the way out; a TTL of 0 is
//!   not cached (RFC 1035 §3.2.1). A fresh RRset of higher [`Rank`] is never replaced by
//!   one of lower rank (RFC 2181 §5.4.1). A hit on a popular RRset in the last
//!   [`CacheConfig::prefetch_percent`] of its TTL carries a prefetch signal, once.
//! - Serve-stale ([`Cache::get_stale`], RFC 8767, seed 003 §11.3): when upstreams fail,
//!   an expired RRset is served with a stale flag and a TTL of
//!   [`CacheConfig::stale_answer_ttl`] for up to [`CacheConfig::max_stale_serve_time`]
//!   (7 days) after it expired; after that it is gone and the caller answers SERVFAIL.
//! - Negative answers ([`Cache::insert_negative`], seed 003 §12.1–§12.2): TTL from
//!   [`negative_ttl`], at most [`NEGATIVE_TTL_CAP`] seconds, at most
//!   [`CacheConfig::negative_max_entries`] entries with LRU eviction, flushed entirely by
//!   [`Cache::flush_negative`] and per zone by [`Cache::flush_negative_zone`].
//! - Absence never overwrites presence (seed 003 §12.2 rule 5): a negative answer for a
//!   name or type the cache holds fresh positive data for is not cached; the positive
//!   data is marked contested, its TTL shortened to at most [`NEGATIVE_TTL_CAP`], and
//!   the caller is told to query again when that runs out.

mod negative;
mod persist;
mod positive;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use lib_dns::{Class, Name, RData, Record, Rtype};

use crate::nxmeta::NxMetadata;
use crate::validator::Security;

use negative::NegativeCache;
pub use negative::{CachedNegative, NegativeKind};
pub use persist::{PersistError, StoredRrset};
use positive::PositiveCache;

/// The hard cap on a negative TTL in seconds (seed 003 §12.2 rule 1).
pub const NEGATIVE_TTL_CAP: u32 = 60;

/// The default serve-stale window: 7 days (seed 003 §11.3 `max_stale_serve_time`).
pub const DEFAULT_MAX_STALE_SERVE_TIME: u64 = 7 * 24 * 3600;

/// The TTL a stale answer is served with: 30 s, as RFC 8767 §4 recommends.
pub const STALE_ANSWER_TTL: u32 = 30;

/// The default bound on negative entries (seed 003 §12.2 rule 2).
pub const DEFAULT_NEGATIVE_MAX_ENTRIES: usize = 1000;

/// The negative TTL of seed 003 §12.1: `min(soa_minimum, 60 s, positive_ttl / 10)`.
///
/// `soa_minimum` is the MINIMUM field of the zone's SOA and `positive_ttl` the TTL of the
/// zone's positive data as the negative answer shows it (the SOA record's own TTL), so a
/// negative entry always lives strictly shorter than positive data of that zone (for a
/// positive TTL of 10 s or more; below that the result is 0 and nothing is cached).
pub fn negative_ttl(soa_minimum: u32, positive_ttl: u32) -> u32 {
    soa_minimum.min(NEGATIVE_TTL_CAP).min(positive_ttl / 10)
}

/// What a cached RRset is keyed by. Names compare and hash without regard to ASCII case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// The owner name.
    pub name: Name,
    /// The record type.
    pub rtype: Rtype,
    /// The class.
    pub class: Class,
}

impl CacheKey {
    /// A key of class IN.
    pub fn new(name: Name, rtype: Rtype) -> CacheKey {
        CacheKey {
            name,
            rtype,
            class: Class::IN,
        }
    }
}

/// How much an RRset is trusted, from where it appeared in a response (RFC 2181 §5.4.1),
/// lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// The additional section (glue, addresses of name servers).
    Additional,
    /// The authority section of a referral or negative answer (NS, SOA).
    Authority,
    /// The answer section of an authoritative answer.
    Answer,
}

/// The DNSSEC side of a cached RRset or negative answer: its signatures (for a
/// negative answer, the NSEC/NSEC3 proof and its signatures) and what validation made
/// of it. Bogus data is never cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// RRSIG records (and denial records, for a negative answer).
    pub rrsigs: Arc<[Record]>,
    /// Secure or Insecure when validated; Indeterminate when not validated.
    pub security: Security,
}

impl Signed {
    /// Data cached without validation.
    pub fn unchecked() -> Signed {
        Signed {
            rrsigs: Arc::new([]),
            security: Security::Indeterminate,
        }
    }
}

/// An RRset as the cache hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRrset {
    /// The records, each with the TTL below.
    pub records: Vec<Record>,
    /// Seconds left (fresh), or the stale-answer TTL (stale).
    pub ttl: u32,
    /// Where the RRset came from.
    pub rank: Rank,
    /// Expired, served under serve-stale: the answer carries EDE 3 (RFC 8914 §4.4).
    pub stale: bool,
    /// Contradicted by a negative answer or claimed by two owners.
    pub contested: bool,
    /// Popular and near expiry: the caller should refresh it in the background.
    pub prefetch: bool,
    /// Its RRSIGs, with the TTL above.
    pub rrsigs: Vec<Record>,
    /// What validation made of it.
    pub security: Security,
}

/// What [`Cache::lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Fresh positive data.
    Positive(CachedRrset),
    /// A fresh negative answer.
    Negative(CachedNegative),
    /// Nothing fresh: resolve (and fall back to [`Cache::get_stale`] if that fails).
    Miss,
}

/// What became of a negative answer given to [`Cache::insert_negative`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegativeInsert {
    /// Cached for this many seconds.
    Cached {
        /// The negative TTL.
        ttl: u32,
    },
    /// Not cached: the TTL came out 0, or the authority record was not an SOA.
    NotCached,
    /// Not cached because the cache holds fresh positive data it contradicts; that data
    /// is now contested and expires within `requery_after` seconds, when the caller
    /// should query again.
    Contested {
        /// How many RRsets were marked.
        rrsets: usize,
        /// Seconds until the contested data expires.
        requery_after: u32,
    },
}

/// Cache limits and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most positive RRsets held (fresh and stale together).
    pub max_rrsets: usize,
    /// How many shards the positive cache is split into (a lock each).
    pub shards: usize,
    /// TTLs above this are cut to it when stored (seconds).
    pub max_ttl: u32,
    /// How long after expiry an RRset may still be served stale (seconds).
    pub max_stale_serve_time: u64,
    /// The TTL a stale RRset is served with (seconds).
    pub stale_answer_ttl: u32,
    /// Hits an RRset needs before it counts as popular for prefetch.
    pub prefetch_min_hits: u32,
    /// The last part of the TTL, in percent, in which a hit signals prefetch.
    pub prefetch_percent: u8,
    /// The most negative entries held.
    pub negative_max_entries: usize,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            max_rrsets: 200_000,
            shards: 16,
            max_ttl: 86_400,
            max_stale_serve_time: DEFAULT_MAX_STALE_SERVE_TIME,
            stale_answer_ttl: STALE_ANSWER_TTL,
            prefetch_min_hits: 2,
            prefetch_percent: 10,
            negative_max_entries: DEFAULT_NEGATIVE_MAX_ENTRIES,
        }
    }
}

/// The L1 cache. Shared between threads by reference; every method takes `now` in
/// seconds since the Unix epoch and never waits on anything but a shard lock held for
/// one map operation.
#[derive(Debug)]
pub struct Cache {
    config: CacheConfig,
    positive: PositiveCache,
    negative: NegativeCache,
}

impl Cache {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Cache {
        Cache {
            positive: PositiveCache::new(&config),
            negative: NegativeCache::new(config.negative_max_entries),
            config,
        }
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// Stores an RRset (all `records` must share owner, type and class; their smallest
    /// TTL is the RRset's, RFC 2181 §5.2). Returns whether it was stored: not when empty,
    /// mixed, of TTL 0, or when a fresh RRset of higher rank is held. A stored RRset
    /// clears the negative answers it disproves.
    pub fn insert(&self, records: Vec<Record>, rank: Rank, now: u64) -> bool {
        self.insert_signed(records, Signed::unchecked(), rank, now)
    }

    /// [`Cache::insert`] with the RRset's signatures and validation status.
    pub fn insert_signed(
        &self,
        records: Vec<Record>,
        signed: Signed,
        rank: Rank,
        now: u64,
    ) -> bool {
        if signed.security == Security::Bogus {
            return false;
        }
        let Some(first) = records.first() else {
            return false;
        };
        let key = CacheKey {
            name: first.owner.to_lowercase(),
            rtype: first.rtype(),
            class: first.class,
        };
        let same_set = records
            .iter()
            .all(|r| r.owner == key.name && r.rtype() == key.rtype && r.class == key.class);
        let ttl = records.iter().map(|r| r.ttl).min().unwrap_or(0);
        if !same_set || ttl == 0 {
            return false;
        }
        let ttl = ttl.min(self.config.max_ttl);
        self.negative.forget(&key.name, key.rtype, key.class);
        let records: Arc<[Record]> = records.into();
        self.positive
            .insert(key, records, signed, ttl, rank, now, now, &self.config)
    }

    /// The positive RRsets worth keeping across a restart (the L2 snapshot): everything
    /// still inside its serve-stale window, except contested data.
    pub fn snapshot(&self, now: u64) -> Vec<StoredRrset> {
        self.positive
            .snapshot(now, self.config.max_stale_serve_time)
    }

    /// Puts RRsets from a snapshot back, with the time and TTL they were stored with, so
    /// they expire (and go stale) when they would have. Returns how many were restored;
    /// malformed ones and ones past the stale window are skipped.
    pub fn restore(&self, rrsets: Vec<StoredRrset>, now: u64) -> usize {
        let max_stale = self.config.max_stale_serve_time;
        let mut restored = 0;
        for stored in rrsets {
            let Some(key) = stored.key() else {
                continue;
            };
            let expires = stored.stored_at.saturating_add(u64::from(stored.ttl));
            if stored.ttl == 0 || now >= expires.saturating_add(max_stale) {
                continue;
            }
            let ttl = stored.ttl.min(self.config.max_ttl);
            let records: Arc<[Record]> = stored.records.into();
            let signed = Signed {
                rrsigs: stored.rrsigs.into(),
                security: stored.security,
            };
            if self.positive.insert(
                key,
                records,
                signed,
                ttl,
                stored.rank,
                stored.stored_at,
                now,
                &self.config,
            ) {
                restored += 1;
            }
        }
        restored
    }

    /// The fresh RRset for `key`, TTL counted down. Never returns expired data.
    pub fn get(&self, key: &CacheKey, now: u64) -> Option<CachedRrset> {
        self.positive.get(key, now, &self.config)
    }

    /// The RRset for `key` when fresh, else when expired less than
    /// `max_stale_serve_time` ago (flagged stale, with the stale-answer TTL). For use
    /// after resolution failed; past the window there is nothing and the answer is
    /// SERVFAIL.
    pub fn get_stale(&self, key: &CacheKey, now: u64) -> Option<CachedRrset> {
        self.positive.get_stale(key, now, &self.config)
    }

    /// The fresh negative answer covering `key`, if any.
    pub fn get_negative(&self, key: &CacheKey, now: u64) -> Option<CachedNegative> {
        self.negative.get(&key.name, key.rtype, key.class, now)
    }

    /// Fresh positive data for `key`, else a fresh negative answer, else a miss.
    pub fn lookup(&self, key: &CacheKey, now: u64) -> Lookup {
        if let Some(found) = self.get(key, now) {
            return Lookup::Positive(found);
        }
        match self.get_negative(key, now) {
            Some(found) => Lookup::Negative(found),
            None => Lookup::Miss,
        }
    }

    /// Caches a negative answer for `key` whose authority section held `soa`, applying
    /// [`negative_ttl`] and "absence never overwrites presence".
    pub fn insert_negative(
        &self,
        key: &CacheKey,
        kind: NegativeKind,
        soa: &Record,
        now: u64,
    ) -> NegativeInsert {
        self.insert_negative_with(key, kind, soa, None, now)
    }

    /// [`Cache::insert_negative_signed`] without DNSSEC proof (not validated).
    pub fn insert_negative_with(
        &self,
        key: &CacheKey,
        kind: NegativeKind,
        soa: &Record,
        metadata: Option<NxMetadata>,
        now: u64,
    ) -> NegativeInsert {
        self.insert_negative_signed(key, kind, soa, metadata, Signed::unchecked(), now)
    }

    /// [`Cache::insert_negative`], keeping the NXDOMAIN's metadata to send with it and
    /// the proof of the denial with its validation status (Bogus is not cached).
    pub fn insert_negative_signed(
        &self,
        key: &CacheKey,
        kind: NegativeKind,
        soa: &Record,
        metadata: Option<NxMetadata>,
        signed: Signed,
        now: u64,
    ) -> NegativeInsert {
        if signed.security == Security::Bogus {
            return NegativeInsert::NotCached;
        }
        let RData::Soa(fields) = &soa.data else {
            return NegativeInsert::NotCached;
        };
        let contradicted_type = match kind {
            NegativeKind::NxDomain => None,
            NegativeKind::NoData => Some(key.rtype),
        };
        let (marked, requery_after) = self.positive.contest(
            &key.name,
            key.class,
            contradicted_type,
            NEGATIVE_TTL_CAP,
            now,
        );
        if marked > 0 {
            tracing::info!(
                name = %key.name,
                rtype = %key.rtype,
                rrsets = marked,
                "negative answer contradicts cached data; marked contested"
            );
            return NegativeInsert::Contested {
                rrsets: marked,
                requery_after,
            };
        }
        let ttl = negative_ttl(fields.minimum, soa.ttl);
        if ttl == 0 {
            return NegativeInsert::NotCached;
        }
        self.negative.insert(
            &key.name,
            key.rtype,
            key.class,
            kind,
            soa.owner.clone(),
            soa.clone(),
            metadata,
            signed,
            ttl,
            now,
        );
        NegativeInsert::Cached { ttl }
    }

    /// Marks the fresh RRset `key` contested (two owners claim it, seed 003 §11.2 case
    /// B) and caps its remaining TTL at `cap` seconds. Returns whether it was held.
    pub fn contest(&self, key: &CacheKey, cap: u32, now: u64) -> bool {
        self.positive
            .contest(&key.name, key.class, Some(key.rtype), cap, now)
            .0
            > 0
    }

    /// Drops the whole negative cache: the mesh topology changed or a new peer appeared
    /// (seed 003 §12.2 rule 3, §12.3 step 1). Returns how many entries went.
    pub fn flush_negative(&self) -> usize {
        let count = self.negative.flush_all();
        tracing::info!(entries = count, "negative cache flushed");
        count
    }

    /// Drops the negative entries at or below `zone`: a ZDNS_UPDATE hint for it arrived
    /// (seed 003 §12.2 rule 3). Returns how many entries went.
    pub fn flush_negative_zone(&self, zone: &Name) -> usize {
        let count = self.negative.flush_zone(zone);
        tracing::info!(%zone, entries = count, "negative cache flushed for zone");
        count
    }

    /// The largest stored TTL among fresh positive RRsets at `name`, if any.
    pub fn fresh_ttl_at(&self, name: &Name, class: Class, now: u64) -> Option<u32> {
        self.positive.fresh_ttl_at(name, class, now)
    }

    /// How many positive RRsets are held.
    pub fn positive_len(&self) -> usize {
        self.positive.len()
    }

    /// How many negative entries are held.
    pub fn negative_len(&self) -> usize {
        self.negative.len()
    }
}
