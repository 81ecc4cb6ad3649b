//! A zone's records grouped by owner and type, with the status of each owner: the
//! apex and ordinary names hold authoritative data, a delegation point holds only its
//! DS (and NSEC) authoritatively, and names below a cut or a DNAME are occluded
//! (RFC 4035 §2.2, RFC 6672 §2.4). Signing and checking both start here.

use std::collections::{BTreeMap, BTreeSet};

use lib_dns::Name;
use lib_dns::rdata::{RData, Rrsig};
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};

/// The records of one type at one owner.
#[derive(Debug, Clone)]
pub struct RrSet {
    /// The TTL (of the first record read; RFC 2181 §5.2 wants them equal).
    pub ttl: u32,
    /// The record data, duplicates removed.
    pub rdatas: Vec<RData>,
}

/// One owner name and its data.
#[derive(Debug, Clone)]
pub struct Node {
    /// The owner as first written (case kept).
    pub owner: Name,
    /// The RRsets, RRSIG excluded.
    pub rrsets: BTreeMap<Rtype, RrSet>,
    /// The RRSIGs at this owner, with their TTLs.
    pub sigs: Vec<(u32, Rrsig)>,
}

/// What the data at an owner name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The apex or an ordinary name in the zone: every RRset is signed.
    Authoritative,
    /// A zone cut below the apex: only DS and the denial records are the zone's.
    Delegation,
    /// Below a zone cut (glue) or a DNAME: not part of the zone's signed data.
    Occluded,
}

/// A zone grouped by owner, in canonical order (RFC 4034 §6.1).
#[derive(Debug, Clone)]
pub struct ZoneIndex {
    /// The apex.
    pub apex: Name,
    /// The class of the zone (of its first record).
    pub class: Class,
    /// Every owner name with data, in canonical order.
    pub nodes: BTreeMap<Name, Node>,
    cuts: BTreeSet<Name>,
    dnames: BTreeSet<Name>,
}

impl ZoneIndex {
    /// Groups `records`; those outside the zone are returned separately.
    pub fn new(apex: &Name, records: impl IntoIterator<Item = Record>) -> (ZoneIndex, Vec<Record>) {
        let mut nodes: BTreeMap<Name, Node> = BTreeMap::new();
        let mut outside = Vec::new();
        let mut class = None;
        for r in records {
            if !r.owner.is_subdomain_of(apex) {
                outside.push(r);
                continue;
            }
            class.get_or_insert(r.class);
            let node = nodes.entry(r.owner.clone()).or_insert_with(|| Node {
                owner: r.owner.clone(),
                rrsets: BTreeMap::new(),
                sigs: Vec::new(),
            });
            let rtype = r.rtype();
            if let RData::Rrsig(sig) = r.data {
                node.sigs.push((r.ttl, *sig));
                continue;
            }
            let set = node.rrsets.entry(rtype).or_insert_with(|| RrSet {
                ttl: r.ttl,
                rdatas: Vec::new(),
            });
            if !set.rdatas.contains(&r.data) {
                set.rdatas.push(r.data);
            }
        }
        let mut index = ZoneIndex {
            apex: apex.clone(),
            class: class.unwrap_or(Class::IN),
            nodes,
            cuts: BTreeSet::new(),
            dnames: BTreeSet::new(),
        };
        index.refresh_cuts();
        (index, outside)
    }

    /// Recomputes the zone cuts and DNAMEs after nodes were added or changed.
    pub fn refresh_cuts(&mut self) {
        self.cuts = self
            .nodes
            .iter()
            .filter(|(name, n)| **name != self.apex && n.rrsets.contains_key(&Rtype::NS))
            .map(|(name, _)| name.clone())
            .collect();
        self.dnames = self
            .nodes
            .iter()
            .filter(|(_, n)| n.rrsets.contains_key(&Rtype::DNAME))
            .map(|(name, _)| name.clone())
            .collect();
    }

    /// The status of `name` (which need not have data).
    pub fn status(&self, name: &Name) -> Status {
        let mut cur = name.parent();
        while let Some(n) = cur {
            if n.label_count() < self.apex.label_count() {
                break;
            }
            if self.cuts.contains(&n) || self.dnames.contains(&n) {
                return Status::Occluded;
            }
            if n == self.apex {
                break;
            }
            cur = n.parent();
        }
        if self.cuts.contains(name) {
            Status::Delegation
        } else {
            Status::Authoritative
        }
    }

    /// Adds one record (used for the records signing generates).
    pub fn insert(&mut self, owner: &Name, ttl: u32, data: RData) {
        let node = self.nodes.entry(owner.clone()).or_insert_with(|| Node {
            owner: owner.clone(),
            rrsets: BTreeMap::new(),
            sigs: Vec::new(),
        });
        let set = node.rrsets.entry(data.rtype()).or_insert_with(|| RrSet {
            ttl,
            rdatas: Vec::new(),
        });
        if !set.rdatas.contains(&data) {
            set.rdatas.push(data);
        }
    }

    /// The SOA TTL and the negative-answer TTL: min(SOA TTL, SOA MINIMUM) (RFC 9077 §3).
    pub fn soa_ttls(&self) -> Option<(u32, u32, u32)> {
        let set = self.nodes.get(&self.apex)?.rrsets.get(&Rtype::SOA)?;
        match set.rdatas.first()? {
            RData::Soa(soa) => Some((set.ttl, set.ttl.min(soa.minimum), soa.serial)),
            _ => None,
        }
    }

    /// The names in the zone's denial chain, in canonical order: every name that is not
    /// occluded (the apex, ordinary names and delegation points) and holds more than
    /// NSEC3 records (hashed owners are not names of the zone's data).
    pub fn chain_names(&self) -> Vec<(&Name, Status)> {
        self.nodes
            .iter()
            .filter(|(_, node)| node.rrsets.keys().any(|&t| t != Rtype::NSEC3))
            .map(|(n, _)| (n, self.status(n)))
            .filter(|(_, s)| *s != Status::Occluded)
            .collect()
    }

    /// The empty non-terminals: names between the apex and a chained name that have no
    /// data of their own (RFC 5155 §7.1 gives them NSEC3 records).
    pub fn empty_non_terminals(&self) -> BTreeSet<Name> {
        let mut out = BTreeSet::new();
        for (name, _) in self.chain_names() {
            let mut cur = name.parent();
            while let Some(n) = cur {
                if n.label_count() <= self.apex.label_count() {
                    break;
                }
                if !self.nodes.contains_key(&n) {
                    out.insert(n.clone());
                }
                cur = n.parent();
            }
        }
        out
    }

    /// The types a denial record at `name` lists (RRSIG and NSEC/NSEC3 aside): all of
    /// them at an authoritative name; NS and DS at a delegation point.
    pub fn denial_types(&self, name: &Name, status: Status) -> Vec<Rtype> {
        let Some(node) = self.nodes.get(name) else {
            return Vec::new();
        };
        node.rrsets
            .keys()
            .copied()
            .filter(|&t| {
                t != Rtype::NSEC
                    && t != Rtype::NSEC3
                    && (status == Status::Authoritative || t == Rtype::NS || t == Rtype::DS)
            })
            .collect()
    }

    /// Whether the RRset of `rtype` at a name of status `status` is signed.
    pub fn is_signed(rtype: Rtype, status: Status) -> bool {
        match status {
            Status::Authoritative => true,
            Status::Delegation => rtype == Rtype::DS || rtype == Rtype::NSEC,
            Status::Occluded => false,
        }
    }
}
