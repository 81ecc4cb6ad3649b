//! The positive cache: RRsets by (name, type, class), sharded by name, bounded in size.
//!
//! Each shard is a `Mutex` over a map from owner name to that name's RRsets, so every
//! RRset of one name sits in one shard (an NXDOMAIN must find all of them, seed 003
//! §12.2 rule 5) and a lookup takes one short lock. Eviction is CLOCK (second chance):
//! each shard keeps a ring of its RRsets and a hand; a hit sets the RRset's reference
//! bit, and when the shard is full the hand clears set bits until it finds an RRset
//! that was not used since the last sweep, or one past its serve-stale window, and
//! evicts it. This approximates LRU without touching shared state on a hit beyond the
//! bit, and scans are resistant: a burst of one-time names cannot flush the popular ones.
//!
//! Expired RRsets are kept (for serve-stale) until `max_stale_serve_time` after their
//! expiry; then lookups drop them.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use lib_dns::{Class, Name, Record, Rtype};

use super::{CacheConfig, CacheKey, CachedRrset, Rank, Signed, StoredRrset};

/// One cached RRset.
#[derive(Debug)]
struct Entry {
    rtype: Rtype,
    class: Class,
    /// The records; their TTL fields are ignored (`ttl` is the RRset's TTL).
    records: Arc<[Record]>,
    /// Their RRSIGs and what validation made of them.
    signed: Signed,
    rank: Rank,
    /// When the RRset was stored.
    stored_at: u64,
    /// Its TTL when stored, after capping; shortened when it is contested.
    ttl: u32,
    /// The TTL it arrived with (after capping), for the negative-TTL formula.
    original_ttl: u32,
    /// Fresh hits since it was stored.
    hits: u32,
    /// The CLOCK reference bit.
    referenced: bool,
    /// Whether the prefetch signal has been given for this copy.
    prefetch_signalled: bool,
    /// An NXDOMAIN or NODATA contradicted it (seed 003 §12.2 rule 5), or two owners
    /// claim it (§11.2 case B).
    contested: bool,
    /// Its slot in the shard's CLOCK ring.
    slot: usize,
}

impl Entry {
    fn expires_at(&self) -> u64 {
        self.stored_at.saturating_add(u64::from(self.ttl))
    }

    fn remaining(&self, now: u64) -> Option<u32> {
        let left = self.expires_at().checked_sub(now)?;
        (left > 0).then(|| u32::try_from(left).unwrap_or(u32::MAX))
    }

    fn dead(&self, now: u64, max_stale: u64) -> bool {
        now >= self.expires_at().saturating_add(max_stale)
    }

    fn view(&self, ttl: u32, stale: bool, prefetch: bool) -> CachedRrset {
        CachedRrset {
            records: self
                .records
                .iter()
                .map(|r| Record { ttl, ..r.clone() })
                .collect(),
            rrsigs: self
                .signed
                .rrsigs
                .iter()
                .map(|r| Record { ttl, ..r.clone() })
                .collect(),
            security: self.signed.security,
            ttl,
            rank: self.rank,
            stale,
            contested: self.contested,
            prefetch,
        }
    }
}

/// One shard: names to their RRsets, and the CLOCK ring over the RRsets.
#[derive(Debug, Default)]
struct Shard {
    names: HashMap<Name, Vec<Entry>>,
    /// Slot → the RRset in it (`None` when free).
    ring: Vec<Option<CacheKey>>,
    free: Vec<usize>,
    hand: usize,
    len: usize,
}

impl Shard {
    fn entry_mut(&mut self, key: &CacheKey) -> Option<&mut Entry> {
        self.names
            .get_mut(&key.name)?
            .iter_mut()
            .find(|e| e.rtype == key.rtype && e.class == key.class)
    }

    fn remove(&mut self, key: &CacheKey) -> Option<Entry> {
        let sets = self.names.get_mut(&key.name)?;
        let at = sets
            .iter()
            .position(|e| e.rtype == key.rtype && e.class == key.class)?;
        let entry = sets.swap_remove(at);
        if sets.is_empty() {
            self.names.remove(&key.name);
        }
        if let Some(slot) = self.ring.get_mut(entry.slot) {
            *slot = None;
        }
        self.free.push(entry.slot);
        self.len -= 1;
        Some(entry)
    }

    /// A slot for a new RRset, evicting one if the shard holds `capacity` already.
    fn take_slot(&mut self, capacity: usize, now: u64, max_stale: u64) -> usize {
        if self.len >= capacity {
            self.evict_one(now, max_stale);
        }
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        self.ring.push(None);
        self.ring.len() - 1
    }

    /// Runs the CLOCK hand until one RRset is evicted. Two sweeps always suffice: the
    /// first clears every reference bit it passes.
    fn evict_one(&mut self, now: u64, max_stale: u64) {
        let slots = self.ring.len();
        for _ in 0..slots.saturating_mul(2) {
            let at = self.hand % slots.max(1);
            self.hand = at + 1;
            let Some(Some(key)) = self.ring.get(at).cloned() else {
                continue;
            };
            let Some(entry) = self.entry_mut(&key) else {
                continue;
            };
            if entry.referenced && !entry.dead(now, max_stale) {
                entry.referenced = false;
                continue;
            }
            self.remove(&key);
            return;
        }
    }
}

/// The sharded positive cache.
#[derive(Debug)]
pub(super) struct PositiveCache {
    /// Never empty: `new` makes at least one shard.
    shards: Box<[Mutex<Shard>]>,
    /// Stands in if a shard index were ever out of range, so lookups need no panic.
    spare: Mutex<Shard>,
    hasher: RandomState,
    shard_capacity: usize,
}

impl PositiveCache {
    pub(super) fn new(config: &CacheConfig) -> PositiveCache {
        // Never more shards than RRsets, so the per-shard bounds add up to at most
        // `max_rrsets`.
        let count = config.shards.min(config.max_rrsets).max(1);
        PositiveCache {
            shards: (0..count).map(|_| Mutex::new(Shard::default())).collect(),
            spare: Mutex::new(Shard::default()),
            hasher: RandomState::new(),
            shard_capacity: (config.max_rrsets / count).max(1),
        }
    }

    fn shard(&self, name: &Name) -> MutexGuard<'_, Shard> {
        let index = self.hasher.hash_one(name) as usize % self.shards.len().max(1);
        // A poisoned lock only means another thread panicked while holding it; the map
        // is still structurally sound, so keep serving from it.
        self.shards
            .get(index)
            .unwrap_or(&self.spare)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores an RRset received at `stored_at` unless a fresh one of higher rank is
    /// already there (RFC 2181 §5.4.1: additional data never replaces an answer).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert(
        &self,
        key: CacheKey,
        records: Arc<[Record]>,
        signed: Signed,
        ttl: u32,
        rank: Rank,
        stored_at: u64,
        now: u64,
        config: &CacheConfig,
    ) -> bool {
        let max_stale = config.max_stale_serve_time;
        let mut shard = self.shard(&key.name);
        if let Some(old) = shard.entry_mut(&key) {
            if old.rank > rank && old.remaining(now).is_some() {
                return false;
            }
            *old = Entry {
                records,
                signed,
                rank,
                stored_at,
                ttl,
                original_ttl: ttl,
                hits: 0,
                referenced: old.referenced,
                prefetch_signalled: false,
                contested: false,
                slot: old.slot,
                rtype: key.rtype,
                class: key.class,
            };
            return true;
        }
        let slot = shard.take_slot(self.shard_capacity, now, max_stale);
        if let Some(ring_slot) = shard.ring.get_mut(slot) {
            *ring_slot = Some(key.clone());
        }
        shard.len += 1;
        shard.names.entry(key.name).or_default().push(Entry {
            rtype: key.rtype,
            class: key.class,
            records,
            signed,
            rank,
            stored_at,
            ttl,
            original_ttl: ttl,
            hits: 0,
            referenced: false,
            prefetch_signalled: false,
            contested: false,
            slot,
        });
        true
    }

    /// A fresh RRset with its TTL counted down, marking it used; the prefetch signal is
    /// given once per stored copy, when the RRset is popular and near expiry.
    pub(super) fn get(
        &self,
        key: &CacheKey,
        now: u64,
        config: &CacheConfig,
    ) -> Option<CachedRrset> {
        let mut shard = self.shard(&key.name);
        let entry = shard.entry_mut(key)?;
        let ttl = entry.remaining(now)?;
        entry.referenced = true;
        entry.hits = entry.hits.saturating_add(1);
        let near_expiry =
            u64::from(ttl) * 100 <= u64::from(entry.ttl) * u64::from(config.prefetch_percent);
        let prefetch = !entry.prefetch_signalled
            && entry.hits >= config.prefetch_min_hits
            && near_expiry
            && !entry.contested;
        if prefetch {
            entry.prefetch_signalled = true;
        }
        Some(entry.view(ttl, false, prefetch))
    }

    /// An expired RRset still inside its serve-stale window, with the stale-answer TTL;
    /// an RRset past the window is dropped.
    pub(super) fn get_stale(
        &self,
        key: &CacheKey,
        now: u64,
        config: &CacheConfig,
    ) -> Option<CachedRrset> {
        let mut shard = self.shard(&key.name);
        let entry = shard.entry_mut(key)?;
        if let Some(ttl) = entry.remaining(now) {
            entry.referenced = true;
            return Some(entry.view(ttl, false, false));
        }
        if entry.dead(now, config.max_stale_serve_time) {
            shard.remove(key);
            return None;
        }
        entry.referenced = true;
        Some(entry.view(config.stale_answer_ttl, true, false))
    }

    /// The largest original TTL among fresh RRsets of `name` (any type), if any.
    pub(super) fn fresh_ttl_at(&self, name: &Name, class: Class, now: u64) -> Option<u32> {
        let shard = self.shard(name);
        shard
            .names
            .get(name)?
            .iter()
            .filter(|e| e.class == class && e.remaining(now).is_some())
            .map(|e| e.original_ttl)
            .max()
    }

    /// Marks fresh RRsets at `name` contested and shortens their remaining TTL to at
    /// most `cap` seconds; only `rtype` when given, else every type. Returns how many
    /// RRsets were marked and the longest remaining TTL among them.
    pub(super) fn contest(
        &self,
        name: &Name,
        class: Class,
        rtype: Option<Rtype>,
        cap: u32,
        now: u64,
    ) -> (usize, u32) {
        let mut shard = self.shard(name);
        let Some(sets) = shard.names.get_mut(name) else {
            return (0, 0);
        };
        let mut marked = 0;
        let mut longest = 0;
        for entry in sets
            .iter_mut()
            .filter(|e| e.class == class && rtype.is_none_or(|t| t == e.rtype))
        {
            let Some(left) = entry.remaining(now) else {
                continue;
            };
            entry.contested = true;
            if left > cap {
                let age = u32::try_from(now.saturating_sub(entry.stored_at)).unwrap_or(u32::MAX);
                entry.ttl = age.saturating_add(cap);
            }
            longest = longest.max(left.min(cap));
            marked += 1;
        }
        (marked, longest)
    }

    /// Every RRset still inside its serve-stale window and not contested, as stored.
    pub(super) fn snapshot(&self, now: u64, max_stale: u64) -> Vec<StoredRrset> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for entry in shard.names.values().flatten() {
                if entry.dead(now, max_stale) || entry.contested {
                    continue;
                }
                out.push(StoredRrset {
                    records: entry.records.to_vec(),
                    rank: entry.rank,
                    stored_at: entry.stored_at,
                    ttl: entry.ttl,
                    rrsigs: entry.signed.rrsigs.to_vec(),
                    security: entry.signed.security,
                });
            }
        }
        out
    }

    /// How many RRsets are held (fresh, stale or not yet dropped).
    pub(super) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).len)
            .sum()
    }
}
