//! The negative cache (seed 003 §12.2): NXDOMAIN and NODATA answers, at most
//! `negative_max_entries` of them (1,000 by default) with least-recently-used eviction.
//!
//! One `Mutex` guards it: it is small, and the rules that touch it (flush all, flush a
//! zone, evict the least recently used) want one consistent view. Recency is a counter
//! bumped on every insert and hit; a `BTreeMap` from that counter to the key gives the
//! least recently used entry in O(log n).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use lib_dns::{Class, Name, Record, Rtype};

use super::Signed;
use crate::nxmeta::NxMetadata;
use crate::validator::Security;

/// Whether a name does not exist, or exists without the asked type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegativeKind {
    /// NXDOMAIN (RFC 8020: nothing at or below the name).
    NxDomain,
    /// NOERROR with no records of the type (RFC 2308 §2.2, "NODATA").
    NoData,
}

/// A negative answer found in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedNegative {
    /// NXDOMAIN or NODATA.
    pub kind: NegativeKind,
    /// The zone that said so (the SOA owner), for per-zone flushes.
    pub zone: Name,
    /// The SOA record for the authority section, its TTL counted down.
    pub soa: Record,
    /// Seconds left.
    pub ttl: u32,
    /// Who said so (NXDOMAIN only), as received.
    pub metadata: Option<NxMetadata>,
    /// The NSEC/NSEC3 records and RRSIGs that proved it, for clients that set DO.
    pub proof: Vec<Record>,
    /// What validation made of it.
    pub security: Security,
}

/// NXDOMAIN entries have no type: they cover every type of the name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NegativeKey {
    name: Name,
    rtype: Option<Rtype>,
    class: Class,
}

#[derive(Debug)]
struct NegativeEntry {
    kind: NegativeKind,
    zone: Name,
    soa: Record,
    metadata: Option<NxMetadata>,
    signed: Signed,
    expires_at: u64,
    /// Recency stamp; the key of this entry in `Inner::by_use`.
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<NegativeKey, NegativeEntry>,
    by_use: BTreeMap<u64, NegativeKey>,
    clock: u64,
}

impl Inner {
    fn touch(&mut self, key: &NegativeKey) {
        self.clock += 1;
        let stamp = self.clock;
        if let Some(entry) = self.entries.get_mut(key) {
            self.by_use.remove(&entry.used);
            entry.used = stamp;
            self.by_use.insert(stamp, key.clone());
        }
    }

    fn remove(&mut self, key: &NegativeKey) -> bool {
        match self.entries.remove(key) {
            Some(entry) => {
                self.by_use.remove(&entry.used);
                true
            }
            None => false,
        }
    }

    fn remove_where(&mut self, keep: impl Fn(&NegativeKey) -> bool) -> usize {
        let before = self.entries.len();
        self.entries.retain(|k, _| keep(k));
        self.by_use.retain(|_, k| keep(k));
        before - self.entries.len()
    }

    /// The entry for `key` if it has not expired; an expired one is removed.
    fn fresh(&mut self, key: &NegativeKey, now: u64) -> Option<CachedNegative> {
        let entry = self.entries.get(key)?;
        let Some(left) = entry.expires_at.checked_sub(now).filter(|&l| l > 0) else {
            self.remove(key);
            return None;
        };
        let ttl = u32::try_from(left).unwrap_or(u32::MAX);
        let found = CachedNegative {
            kind: entry.kind,
            zone: entry.zone.clone(),
            soa: Record {
                ttl,
                ..entry.soa.clone()
            },
            ttl,
            metadata: entry.metadata.clone(),
            proof: entry
                .signed
                .rrsigs
                .iter()
                .map(|r| Record { ttl, ..r.clone() })
                .collect(),
            security: entry.signed.security,
        };
        self.touch(key);
        Some(found)
    }
}

/// The bounded negative cache.
#[derive(Debug)]
pub(super) struct NegativeCache {
    inner: Mutex<Inner>,
    max_entries: usize,
}

impl NegativeCache {
    pub(super) fn new(max_entries: usize) -> NegativeCache {
        NegativeCache {
            inner: Mutex::new(Inner::default()),
            max_entries,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores a negative answer for `ttl` seconds, evicting the least recently used
    /// entry when full.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn insert(
        &self,
        name: &Name,
        rtype: Rtype,
        class: Class,
        kind: NegativeKind,
        zone: Name,
        soa: Record,
        metadata: Option<NxMetadata>,
        signed: Signed,
        ttl: u32,
        now: u64,
    ) {
        if self.max_entries == 0 || ttl == 0 {
            return;
        }
        let key = NegativeKey {
            name: name.to_lowercase(),
            rtype: (kind == NegativeKind::NoData).then_some(rtype),
            class,
        };
        let mut inner = self.lock();
        inner.remove(&key);
        while inner.entries.len() >= self.max_entries {
            let Some((_, oldest)) = inner.by_use.pop_first() else {
                break;
            };
            inner.entries.remove(&oldest);
        }
        inner.entries.insert(
            key.clone(),
            NegativeEntry {
                kind,
                zone: zone.to_lowercase(),
                soa,
                metadata,
                signed,
                expires_at: now.saturating_add(u64::from(ttl)),
                used: 0,
            },
        );
        inner.touch(&key);
    }

    /// The negative answer covering (`name`, `rtype`): NXDOMAIN for the name first,
    /// then NODATA for the type.
    pub(super) fn get(
        &self,
        name: &Name,
        rtype: Rtype,
        class: Class,
        now: u64,
    ) -> Option<CachedNegative> {
        let mut inner = self.lock();
        let mut key = NegativeKey {
            name: name.clone(),
            rtype: None,
            class,
        };
        if let Some(found) = inner.fresh(&key, now) {
            return Some(found);
        }
        key.rtype = Some(rtype);
        inner.fresh(&key, now)
    }

    /// Drops what a positive answer for (`name`, `rtype`) disproves: the NXDOMAIN of
    /// the name and the NODATA of the type.
    pub(super) fn forget(&self, name: &Name, rtype: Rtype, class: Class) {
        let mut inner = self.lock();
        for rtype in [None, Some(rtype)] {
            inner.remove(&NegativeKey {
                name: name.clone(),
                rtype,
                class,
            });
        }
    }

    /// Drops every entry (seed 003 §12.2 rule 3: topology change, new peer).
    pub(super) fn flush_all(&self) -> usize {
        let mut inner = self.lock();
        let count = inner.entries.len();
        inner.entries.clear();
        inner.by_use.clear();
        count
    }

    /// Drops every entry for a name at or below `zone` (a ZDNS_UPDATE hint for it).
    pub(super) fn flush_zone(&self, zone: &Name) -> usize {
        self.lock().remove_where(|k| !k.name.is_subdomain_of(zone))
    }

    /// How many entries are held (including expired ones not yet looked up).
    pub(super) fn len(&self) -> usize {
        self.lock().entries.len()
    }
}
