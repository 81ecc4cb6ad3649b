//! Zone-level checks on a loaded zone, with the conditions and ratings of BIND's
//! `named-checkzone`: the SOA (exactly one, at the apex), NS at the apex, addresses for
//! in-zone name servers, CNAME exclusivity (RFC 2181 §10.1, RFC 4035 §2.5), singleton
//! types, TTLs within an RRset (RFC 2181 §5.2), and data occluded by a delegation or a
//! DNAME (RFC 6672 §2.4).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::Zone;
use super::diagnostic::{Diagnostic, Severity};
use super::hash::FxBuild;
use crate::rdata::RData;
use crate::record::Record;
use crate::types::Rtype;

/// An owner name's wire form, compared and hashed ignoring ASCII case.
#[derive(Clone, Copy)]
struct Key<'a>(&'a [u8]);

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for Key<'_> {}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut chunks = self.0.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            w.make_ascii_lowercase();
            state.write_u64(u64::from_le_bytes(w));
        }
        for &b in chunks.remainder() {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl<'a> Key<'a> {
    /// The parent name's key, or `None` at the root.
    fn parent(self) -> Option<Key<'a>> {
        let len = usize::from(*self.0.first()?);
        if len == 0 {
            return None;
        }
        self.0.get(len + 1..).map(Key)
    }
}

/// What one owner name holds.
#[derive(Clone, Copy)]
struct Owner {
    /// The first record read at this name.
    first: u32,
    flags: u16,
    /// How many of `rrsets` are used.
    len: u8,
    /// The first record of each RRset, for the first few types (more go to
    /// [`Owners::more`]).
    rrsets: [(Rtype, u32); INLINE_RRSETS],
}

/// RRsets per owner kept inline; most names have fewer types.
const INLINE_RRSETS: usize = 3;

/// The owner names of a zone: an index by name into a table in first-read order.
///
/// Records of one name mostly follow each other in a zone file, so the last name looked
/// up is remembered and a run of records at one name costs a single hash lookup.
struct Owners<'a> {
    records: &'a [Record],
    index: HashMap<Key<'a>, u32, FxBuild>,
    table: Vec<Owner>,
    /// RRsets beyond the inline ones: (owner's table index, type) -> first record.
    more: HashMap<(u32, Rtype), u32, FxBuild>,
    last: Option<(Key<'a>, u32)>,
}

impl<'a> Owners<'a> {
    fn new(records: &'a [Record]) -> Owners<'a> {
        let mut index = HashMap::default();
        index.reserve(records.len());
        Owners {
            records,
            index,
            table: Vec::with_capacity(records.len()),
            more: HashMap::default(),
            last: None,
        }
    }

    /// The table index of `key`, added with `record` as its first record if new.
    fn slot(&mut self, key: Key<'a>, record: u32) -> u32 {
        if let Some((k, slot)) = self.last
            && k.0 == key.0
        {
            return slot;
        }
        let next = u32::try_from(self.table.len()).unwrap_or(u32::MAX);
        let slot = *self.index.entry(key).or_insert(next);
        if slot == next {
            self.table.push(Owner {
                first: record,
                flags: 0,
                len: 0,
                rrsets: [(Rtype(0), 0); INLINE_RRSETS],
            });
        }
        self.last = Some((key, slot));
        slot
    }

    fn owner_mut(&mut self, slot: u32) -> Option<&mut Owner> {
        let i = usize::try_from(slot).ok()?;
        self.table.get_mut(i)
    }

    /// The first record of the RRset `(slot, rtype)`, which is `record` if it is new.
    fn rrset_first(&mut self, slot: u32, rtype: Rtype, record: u32) -> u32 {
        let Some(owner) = self.owner_mut(slot) else {
            return record;
        };
        let used = usize::from(owner.len).min(INLINE_RRSETS);
        if let Some(&(_, first)) = owner.rrsets.iter().take(used).find(|(t, _)| *t == rtype) {
            return first;
        }
        if let Some(free) = owner.rrsets.get_mut(used) {
            *free = (rtype, record);
            owner.len += 1;
            return record;
        }
        *self.more.entry((slot, rtype)).or_insert(record)
    }

    fn get(&self, key: &Key<'_>) -> Option<&Owner> {
        let slot = usize::try_from(*self.index.get(key)?).ok()?;
        self.table.get(slot)
    }

    /// The owner names with what they hold, in the order first read.
    fn iter(&self) -> impl Iterator<Item = (Key<'a>, &Owner)> {
        let records = self.records;
        self.table.iter().filter_map(move |o| {
            let r = records.get(usize::try_from(o.first).ok()?)?;
            Some((Key(r.owner.as_wire()), o))
        })
    }
}

/// Delegation points and DNAME owners: name -> (first record, is a DNAME).
type Cuts<'a> = HashMap<Key<'a>, (u32, bool), FxBuild>;

const CNAME: u16 = 1;
/// Data that may not stand beside a CNAME.
const NOT_WITH_CNAME: u16 = 1 << 1;
const NS: u16 = 1 << 2;
const ADDRESS: u16 = 1 << 3;
const DNAME: u16 = 1 << 4;
/// Anything but A and AAAA (not glue when below a delegation).
const NOT_GLUE: u16 = 1 << 5;
/// Anything but NS, DS, RRSIG and NSEC (occluded at a delegation point).
const NOT_AT_CUT: u16 = 1 << 6;
/// CNAME and other data reported already.
const REPORTED: u16 = 1 << 7;

fn flags_of(t: Rtype) -> u16 {
    let mut f = match t {
        Rtype::CNAME => CNAME,
        Rtype::NS => NS,
        Rtype::A | Rtype::AAAA => ADDRESS,
        Rtype::DNAME => DNAME,
        _ => 0,
    };
    if t != Rtype::CNAME && !t.may_coexist_with_cname() {
        f |= NOT_WITH_CNAME;
    }
    if !matches!(t, Rtype::A | Rtype::AAAA) {
        f |= NOT_GLUE;
    }
    if !matches!(t, Rtype::NS | Rtype::DS | Rtype::RRSIG | Rtype::NSEC) {
        f |= NOT_AT_CUT;
    }
    f
}

/// A finding, kept with its record index so the list can be sorted.
struct Finding {
    at: usize,
    severity: Severity,
    message: String,
}

impl Zone {
    /// Checks the zone as `named-checkzone` does and returns what it found, errors and
    /// warnings in file order. Where BIND repairs the zone on loading, so does this:
    /// records whose TTL differs from the first of their RRset get that TTL
    /// (RFC 2181 §5.2).
    pub fn check(&mut self) -> Vec<Diagnostic> {
        let mut findings = Vec::new();
        let mut ttl_fixes = Vec::new();
        let owners = self.scan(&mut findings, &mut ttl_fixes);
        self.check_apex(&owners, &mut findings);
        let cuts = self.cuts(&owners);
        self.check_name_servers(&owners, &cuts, &mut findings);
        self.check_occlusion(&owners, &cuts, &mut findings);
        drop(owners);
        for (i, ttl) in ttl_fixes {
            if let Some(r) = self.records.get_mut(i) {
                r.ttl = ttl;
            }
        }
        findings.sort_by_key(|f| f.at);
        findings
            .into_iter()
            .map(|f| self.diagnostic_at(f.at, f.severity, f.message))
            .collect()
    }

    /// One pass over the records: per-owner summaries, RRset TTLs, singletons, CNAME
    /// exclusivity and SOA placement.
    fn scan(&self, findings: &mut Vec<Finding>, ttl_fixes: &mut Vec<(usize, u32)>) -> Owners<'_> {
        let mut owners = Owners::new(&self.records);
        for (i, r) in self.records.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let key = Key(r.owner.as_wire());
            let rtype = r.rtype();
            let slot = owners.slot(key, index);
            let first = owners.rrset_first(slot, rtype, index);
            if first != index
                && let Some(prior) = usize::try_from(first)
                    .ok()
                    .and_then(|f| self.records.get(f))
            {
                if prior.ttl != r.ttl {
                    findings.push(Finding {
                        at: i,
                        severity: Severity::Warning,
                        message: format!("TTL set to prior TTL ({})", prior.ttl),
                    });
                    ttl_fixes.push((i, prior.ttl));
                }
                let singleton = matches!(rtype, Rtype::CNAME | Rtype::SOA | Rtype::DNAME);
                if singleton && prior.data != r.data {
                    findings.push(Finding {
                        at: i,
                        severity: Severity::Error,
                        message: format!("{}: multiple RRs of singleton type {rtype}", r.owner),
                    });
                }
            }
            let add = flags_of(rtype);
            let Some(owner) = owners.owner_mut(slot) else {
                continue;
            };
            let had = owner.flags;
            owner.flags |= add;
            let conflict = (had & CNAME != 0 && add & NOT_WITH_CNAME != 0)
                || (add & CNAME != 0 && had & NOT_WITH_CNAME != 0);
            if conflict && had & REPORTED == 0 {
                owner.flags |= REPORTED;
                findings.push(Finding {
                    at: i,
                    severity: Severity::Error,
                    message: format!("{}: CNAME and other data", r.owner),
                });
            }
            if rtype == Rtype::SOA && r.owner != self.origin {
                findings.push(Finding {
                    at: i,
                    severity: Severity::Error,
                    message: format!("SOA record not at top of zone ({})", r.owner),
                });
            }
        }
        owners
    }

    /// An SOA and NS records at the apex.
    fn check_apex(&self, owners: &Owners<'_>, findings: &mut Vec<Finding>) {
        let apex = owners.get(&Key(self.origin.as_wire()));
        let has_soa = self
            .records
            .iter()
            .any(|r| r.rtype() == Rtype::SOA && r.owner == self.origin);
        let at = apex.map_or(0, |o| usize::try_from(o.first).unwrap_or(0));
        if !has_soa {
            findings.push(Finding {
                at,
                severity: Severity::Error,
                message: format!("zone {}: has no SOA record at the apex", self.origin),
            });
        }
        if apex.is_none_or(|o| o.flags & NS == 0) {
            findings.push(Finding {
                at,
                severity: Severity::Error,
                message: format!("zone {}: has no NS records at the apex", self.origin),
            });
        }
    }

    /// In-zone name servers need addresses; below a delegation they need glue.
    fn check_name_servers(
        &self,
        owners: &Owners<'_>,
        cuts: &Cuts<'_>,
        findings: &mut Vec<Finding>,
    ) {
        for (i, r) in self.records.iter().enumerate() {
            let RData::Ns(ns) = &r.data else {
                continue;
            };
            let target = &ns.0;
            if !target.is_subdomain_of(&self.origin) {
                continue;
            }
            let key = Key(target.as_wire());
            let has_address = owners.get(&key).is_some_and(|o| o.flags & ADDRESS != 0);
            if has_address {
                continue;
            }
            let below_cut = self.cut_above(cuts, key).is_some();
            let (severity, message) = if below_cut {
                (
                    Severity::Warning,
                    format!(
                        "{}/NS '{target}' (below a delegation) has no glue (A or AAAA)",
                        r.owner
                    ),
                )
            } else {
                (
                    Severity::Error,
                    format!("NS '{target}' has no address records (A or AAAA)"),
                )
            };
            findings.push(Finding {
                at: i,
                severity,
                message,
            });
        }
    }

    /// The delegation points (NS below the apex) and DNAME owners, which are few: looking
    /// ancestors up in this small table instead of the table of all owners keeps the
    /// occlusion checks in cache.
    fn cuts<'a>(&self, owners: &Owners<'a>) -> Cuts<'a> {
        let apex_len = self.origin.wire_len();
        owners
            .iter()
            .filter_map(|(k, o)| {
                if o.flags & DNAME != 0 {
                    Some((k, (o.first, true)))
                } else if o.flags & NS != 0 && k.0.len() > apex_len {
                    Some((k, (o.first, false)))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The nearest strict ancestor of `key` below the apex that is a delegation point
    /// (has NS), or one at or below the apex with a DNAME: `(ancestor's first record,
    /// is a DNAME)`.
    fn cut_above(&self, cuts: &Cuts<'_>, key: Key<'_>) -> Option<(u32, bool)> {
        if cuts.is_empty() {
            return None;
        }
        let apex_len = self.origin.wire_len();
        let mut k = key;
        while k.0.len() > apex_len {
            k = k.parent()?;
            if let Some(&cut) = cuts.get(&k) {
                return Some(cut);
            }
        }
        None
    }

    /// Data hidden by a delegation (other than glue) or by a DNAME (RFC 6672 §2.4).
    /// BIND loads such zones; they are warnings.
    fn check_occlusion(&self, owners: &Owners<'_>, cuts: &Cuts<'_>, findings: &mut Vec<Finding>) {
        let apex_len = self.origin.wire_len();
        if cuts.is_empty() {
            return;
        }
        for (key, owner) in owners.iter() {
            let at = usize::try_from(owner.first).unwrap_or(0);
            let name = || self.owner_name(owner.first);
            if owner.flags & NS != 0 && key.0.len() > apex_len && owner.flags & NOT_AT_CUT != 0 {
                findings.push(Finding {
                    at,
                    severity: Severity::Warning,
                    message: format!(
                        "{}: data other than NS and DS at a delegation point is occluded",
                        name()
                    ),
                });
            }
            match self.cut_above(cuts, key) {
                Some((cut, true)) => findings.push(Finding {
                    at,
                    severity: Severity::Warning,
                    message: format!(
                        "{}: occluded by the DNAME at {}",
                        name(),
                        self.owner_name(cut)
                    ),
                }),
                Some((cut, false)) if owner.flags & NOT_GLUE != 0 => findings.push(Finding {
                    at,
                    severity: Severity::Warning,
                    message: format!(
                        "{}: occluded by the delegation at {}",
                        name(),
                        self.owner_name(cut)
                    ),
                }),
                _ => {}
            }
        }
    }

    fn owner_name(&self, index: u32) -> String {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.records.get(i))
            .map(|r| r.owner.to_string())
            .unwrap_or_default()
    }
}
