//! The data of one zone, laid out for answering: owner names in one byte arena, an
//! open-addressing hash table over their lowercase wire form, RRsets sorted by type per
//! node, record data in uncompressed wire form in a second arena.
//!
//! Every name the answering logic can meet as a closest encloser is a node: owners,
//! empty non-terminals (RFC 4592 §2.2.2) and the apex. Each node knows what it is
//! (authoritative data, a delegation point, data below a cut or below a DNAME), so a
//! lookup is one hash probe for an exact match and one per label for the closest
//! encloser.

use lib_dns::rdata::RData;
use lib_dns::types::{Class, Rtype};
use lib_dns::wire::{WireReader, WireWriter};
use lib_dns::zone::Zone;
use lib_dns::{Name, Record};

use crate::hash::hash_name;

/// "No node".
pub(crate) const NONE: u32 = u32::MAX;
/// An empty slot of the hash table.
const EMPTY: u64 = u64::MAX;

/// Whether a table of `slots` must grow before holding `nodes` (load factor 0.7).
fn too_full(nodes: usize, slots: usize) -> bool {
    nodes * 10 > slots * 7
}

/// A table entry: the hash's upper half as a tag, the node index below.
fn entry(hash: u64, index: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | u64::from(index)
}

/// What a node is for answering (RFC 1034 §4.3.2 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// Authoritative data (or an empty non-terminal, or the apex).
    Auth,
    /// A delegation point: NS records below the apex (RFC 1034 §4.2.1).
    Delegation,
    /// Below a delegation point: glue or occluded data; answered by a referral from
    /// the node's `cut`.
    BelowCut,
    /// Below a DNAME owner: occluded (RFC 6672 §2.4); answered by substitution at the
    /// node's `cut`.
    BelowDname,
}

/// One name of the zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node {
    name_off: u32,
    name_len: u8,
    /// What the node is.
    pub kind: NodeKind,
    /// Whether `*.<this name>` is a node (RFC 4592 §2.2.1 "source of synthesis").
    pub wildcard_child: bool,
    rrsets_start: u32,
    rrsets_len: u16,
    /// The delegation or DNAME node this one lies below, or [`NONE`].
    pub cut: u32,
}

/// One RRset of a node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rrset {
    /// The type.
    pub rtype: Rtype,
    /// The TTL (of the first record read; RFC 2181 §5.2 wants them equal).
    pub ttl: u32,
    data_start: u32,
    count: u16,
    /// The prepared positive answer for this (owner, type), or [`NONE`].
    pub prepared: u32,
}

/// The data of one zone.
pub struct ZoneTree {
    apex: Name,
    class: Class,
    names: Vec<u8>,
    nodes: Vec<Node>,
    /// Open addressing with linear probing: per slot, the upper 32 bits of the name's
    /// hash (compared before the name) and the node index; [`EMPTY`] when free.
    table: Vec<u64>,
    rrsets: Vec<Rrset>,
    /// Per record: a big-endian u16 length, then the data in uncompressed wire form.
    rdata: Vec<u8>,
    /// TTL and data of the SOA for negative answers (RFC 2308 §3).
    soa_negative_ttl: u32,
}

/// Why a zone could not be turned into a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// The zone has no SOA record at its apex.
    NoSoa,
    /// A record's data could not be written in wire form.
    BadRecord(String),
    /// The zone holds more data than the compact layout can address (4 GiB).
    TooLarge,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BuildError::NoSoa => f.write_str("the zone has no SOA record at its apex"),
            BuildError::BadRecord(r) => write!(f, "record cannot be encoded: {r}"),
            BuildError::TooLarge => f.write_str("the zone is too large for the zone tree"),
        }
    }
}

impl std::error::Error for BuildError {}

fn to_u32(n: usize) -> Result<u32, BuildError> {
    u32::try_from(n).map_err(|_| BuildError::TooLarge)
}

/// An owner name's wire form with the first label removed, or `None` at the root.
pub(crate) fn parent_wire(wire: &[u8]) -> Option<&[u8]> {
    let len = usize::from(*wire.first()?);
    if len == 0 {
        return None;
    }
    wire.get(len + 1..)
}

impl ZoneTree {
    /// Builds the tree of a zone whose checks passed. Records outside the zone, and
    /// records of another class, are left out; duplicates are merged.
    pub fn build(zone: &Zone) -> Result<ZoneTree, BuildError> {
        let apex = zone.origin().to_lowercase();
        let mut tree = ZoneTree {
            apex: apex.clone(),
            class: zone.class(),
            names: Vec::new(),
            nodes: Vec::new(),
            table: vec![
                EMPTY;
                (zone.records().len() * 10 / 7)
                    .max(1024)
                    .next_power_of_two()
            ],
            rrsets: Vec::new(),
            rdata: Vec::new(),
            soa_negative_ttl: 0,
        };
        tree.insert(apex.as_wire())?;
        // (node, type, record index), then sorted: RRsets become runs.
        let mut entries: Vec<(u32, u16, u32)> = Vec::with_capacity(zone.records().len());
        let mut lower = [0u8; 255];
        let mut last: Option<(&Name, u32)> = None;
        for (i, rec) in zone.records().iter().enumerate() {
            // Zone files list an owner's records together: skip the lookup then.
            let node = match last {
                Some((owner, node)) if owner.eq_exact(&rec.owner) => node,
                _ => {
                    if rec.class != zone.class() || !rec.owner.is_subdomain_of(&apex) {
                        continue;
                    }
                    let wire = rec.owner.as_wire();
                    let Some(buf) = lower.get_mut(..wire.len()) else {
                        continue;
                    };
                    buf.copy_from_slice(wire);
                    buf.make_ascii_lowercase();
                    tree.insert(buf)?
                }
            };
            last = Some((&rec.owner, node));
            entries.push((node, rec.rtype().0, to_u32(i)?));
        }
        let parents = tree.add_empty_non_terminals()?;
        entries.sort_unstable();
        tree.fill_rrsets(zone.records(), &entries)?;
        tree.classify(&parents);
        let soa = tree
            .rrset(0, Rtype::SOA)
            .and_then(|s| tree.records(&s).next().map(|d| (s.ttl, d)))
            .ok_or(BuildError::NoSoa)?;
        let minimum = soa.1.len().checked_sub(4).and_then(|at| soa.1.get(at..));
        let minimum = minimum
            .and_then(|m| <[u8; 4]>::try_from(m).ok())
            .map_or(0, u32::from_be_bytes);
        tree.soa_negative_ttl = soa.0.min(minimum);
        tree.names.shrink_to_fit();
        tree.nodes.shrink_to_fit();
        tree.rrsets.shrink_to_fit();
        tree.rdata.shrink_to_fit();
        Ok(tree)
    }

    /// Adds a node for `wire` (lowercase) unless there is one; returns its index.
    fn insert(&mut self, wire: &[u8]) -> Result<u32, BuildError> {
        if too_full(self.nodes.len() + 1, self.table.len()) {
            self.grow();
        }
        let mask = self.table.len() - 1;
        let hash = hash_name(wire);
        let mut slot = hash as usize & mask;
        loop {
            match self.table.get(slot) {
                Some(&EMPTY) | None => break,
                Some(&e) if e >> 32 == hash >> 32 && self.node_name(e as u32) == wire => {
                    return Ok(e as u32);
                }
                Some(_) => slot = (slot + 1) & mask,
            }
        }
        let index = to_u32(self.nodes.len())?;
        self.nodes.push(Node {
            name_off: to_u32(self.names.len())?,
            name_len: u8::try_from(wire.len()).map_err(|_| BuildError::TooLarge)?,
            kind: NodeKind::Auth,
            wildcard_child: false,
            rrsets_start: 0,
            rrsets_len: 0,
            cut: NONE,
        });
        self.names.extend_from_slice(wire);
        if let Some(s) = self.table.get_mut(slot) {
            *s = entry(hash, index);
        }
        Ok(index)
    }

    fn grow(&mut self) {
        self.table = vec![EMPTY; self.table.len() * 2];
        let mask = self.table.len() - 1;
        for i in 0..self.nodes.len() as u32 {
            let hash = hash_name(self.node_name(i));
            let mut slot = hash as usize & mask;
            while let Some(s) = self.table.get_mut(slot) {
                if *s == EMPTY {
                    *s = entry(hash, i);
                    break;
                }
                slot = (slot + 1) & mask;
            }
        }
    }

    /// Every ancestor of an owner name, up to the apex, becomes a node (empty
    /// non-terminals). Returns each node's parent ([`NONE`] for the apex).
    fn add_empty_non_terminals(&mut self) -> Result<Vec<u32>, BuildError> {
        let mut parents = Vec::with_capacity(self.nodes.len() + self.nodes.len() / 4);
        let mut name = [0u8; 255];
        let mut i = 0u32;
        while (i as usize) < self.nodes.len() {
            let parent = if i == 0 {
                NONE
            } else {
                let wire = self.node_name(i);
                let len = wire.len();
                let Some(buf) = name.get_mut(..len) else {
                    return Err(BuildError::TooLarge);
                };
                buf.copy_from_slice(wire);
                match parent_wire(buf) {
                    Some(p) => self.insert(p)?,
                    None => NONE,
                }
            };
            parents.push(parent);
            i += 1;
        }
        Ok(parents)
    }

    /// Turns the sorted (node, type, record) runs into RRsets, deduplicating records.
    fn fill_rrsets(
        &mut self,
        records: &[Record],
        entries: &[(u32, u16, u32)],
    ) -> Result<(), BuildError> {
        let mut w = WireWriter::plain();
        let mut run = 0usize;
        while let Some(&(node, rtype, _)) = entries.get(run) {
            let end = entries
                .iter()
                .skip(run)
                .position(|&(n, t, _)| n != node || t != rtype)
                .map_or(entries.len(), |p| run + p);
            let data_start = to_u32(self.rdata.len())?;
            let mut count = 0u16;
            let mut ttl = None;
            for &(_, _, rec) in entries.get(run..end).unwrap_or_default() {
                let Some(rec) = records.get(rec as usize) else {
                    continue;
                };
                w.truncate(0);
                rec.data
                    .write_wire(&mut w)
                    .map_err(|e| BuildError::BadRecord(format!("{rec}: {e}")))?;
                let bytes = w.as_bytes();
                let probe = Rrset {
                    rtype: Rtype(rtype),
                    ttl: 0,
                    data_start,
                    count,
                    prepared: NONE,
                };
                if self.records(&probe).any(|d| d == bytes) {
                    continue;
                }
                let len = u16::try_from(bytes.len()).map_err(|_| BuildError::TooLarge)?;
                self.rdata.extend_from_slice(&len.to_be_bytes());
                self.rdata.extend_from_slice(bytes);
                count = count.saturating_add(1);
                ttl.get_or_insert(rec.ttl);
            }
            let index = to_u32(self.rrsets.len())?;
            self.rrsets.push(Rrset {
                rtype: Rtype(rtype),
                ttl: ttl.unwrap_or(0),
                data_start,
                count,
                prepared: NONE,
            });
            if let Some(n) = self.nodes.get_mut(node as usize) {
                if n.rrsets_len == 0 {
                    n.rrsets_start = index;
                }
                n.rrsets_len = n.rrsets_len.saturating_add(1);
            }
            run = end;
        }
        Ok(())
    }

    /// Sets each node's kind, cut and wildcard flag, parents before children.
    fn classify(&mut self, parents: &[u32]) {
        let mut done = vec![false; self.nodes.len()];
        let mut stack = Vec::new();
        for start in 0..self.nodes.len() as u32 {
            let mut at = start;
            while done.get(at as usize) == Some(&false) {
                stack.push(at);
                at = parents.get(at as usize).copied().unwrap_or(NONE);
            }
            while let Some(i) = stack.pop() {
                let parent = parents.get(i as usize).copied().unwrap_or(NONE);
                self.classify_one(i, parent);
                if let Some(d) = done.get_mut(i as usize) {
                    *d = true;
                }
            }
        }
    }

    /// Classifies node `i`, whose parent is classified already.
    fn classify_one(&mut self, i: u32, parent: u32) {
        let has_ns = self.rrset(i, Rtype::NS).is_some();
        let wildcard = self.node_name(i).starts_with(&[1, b'*']);
        let (kind, cut) = match self.nodes.get(parent as usize).copied() {
            None => (NodeKind::Auth, NONE),
            Some(n) if n.kind == NodeKind::BelowCut => (NodeKind::BelowCut, n.cut),
            Some(n) if n.kind == NodeKind::BelowDname => (NodeKind::BelowDname, n.cut),
            Some(n) if n.kind == NodeKind::Delegation => (NodeKind::BelowCut, parent),
            Some(_) if self.rrset(parent, Rtype::DNAME).is_some() => (NodeKind::BelowDname, parent),
            Some(_) if has_ns => (NodeKind::Delegation, NONE),
            Some(_) => (NodeKind::Auth, NONE),
        };
        if wildcard && let Some(p) = self.nodes.get_mut(parent as usize) {
            p.wildcard_child = true;
        }
        if let Some(n) = self.nodes.get_mut(i as usize) {
            n.kind = kind;
            n.cut = cut;
        }
    }

    /// The zone's apex, lowercase.
    pub fn apex(&self) -> &Name {
        &self.apex
    }

    /// The zone's class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The TTL of the SOA in negative answers: min(SOA TTL, SOA MINIMUM), RFC 2308 §3.
    pub fn negative_ttl(&self) -> u32 {
        self.soa_negative_ttl
    }

    /// Number of nodes (owner names, empty non-terminals and the apex).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of RRsets.
    pub fn rrset_count(&self) -> usize {
        self.rrsets.len()
    }

    /// Bytes held by the tree's arrays (not counting prepared answers).
    pub fn heap_bytes(&self) -> usize {
        self.names.capacity()
            + self.nodes.capacity() * std::mem::size_of::<Node>()
            + self.table.capacity() * 8
            + self.rrsets.capacity() * std::mem::size_of::<Rrset>()
            + self.rdata.capacity()
    }

    /// The node of a lowercase wire name.
    pub(crate) fn find(&self, wire: &[u8]) -> Option<u32> {
        let mask = self.table.len() - 1;
        let hash = hash_name(wire);
        let mut slot = hash as usize & mask;
        loop {
            let e = *self.table.get(slot)?;
            if e == EMPTY {
                return None;
            }
            if e >> 32 == hash >> 32 && self.node_name(e as u32) == wire {
                return Some(e as u32);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// A node by index.
    pub(crate) fn node(&self, i: u32) -> Option<&Node> {
        self.nodes.get(i as usize)
    }

    /// A node's lowercase wire name.
    pub(crate) fn node_name(&self, i: u32) -> &[u8] {
        self.nodes
            .get(i as usize)
            .and_then(|n| {
                let start = n.name_off as usize;
                self.names.get(start..start + usize::from(n.name_len))
            })
            .unwrap_or_default()
    }

    /// A node's name as a [`Name`].
    pub(crate) fn node_owner(&self, i: u32) -> Name {
        Name::from_wire(self.node_name(i)).unwrap_or_else(|_| self.apex.clone())
    }

    /// The RRsets of a node, sorted by type.
    pub(crate) fn rrsets(&self, i: u32) -> &[Rrset] {
        self.nodes
            .get(i as usize)
            .and_then(|n| {
                let start = n.rrsets_start as usize;
                self.rrsets.get(start..start + usize::from(n.rrsets_len))
            })
            .unwrap_or_default()
    }

    /// The RRset of a type at a node.
    pub(crate) fn rrset(&self, i: u32, rtype: Rtype) -> Option<Rrset> {
        self.rrsets(i).iter().find(|s| s.rtype == rtype).copied()
    }

    /// Sets the prepared answer of the RRset of `rtype` at node `i`.
    pub(crate) fn set_prepared(&mut self, i: u32, rtype: Rtype, prepared: u32) {
        let Some(n) = self.nodes.get(i as usize) else {
            return;
        };
        let start = n.rrsets_start as usize;
        let end = start + usize::from(n.rrsets_len);
        if let Some(set) = self
            .rrsets
            .get_mut(start..end)
            .and_then(|s| s.iter_mut().find(|s| s.rtype == rtype))
        {
            set.prepared = prepared;
        }
    }

    /// The records' data of an RRset, each in uncompressed wire form.
    pub(crate) fn records(&self, set: &Rrset) -> impl Iterator<Item = &[u8]> {
        let mut at = set.data_start as usize;
        (0..set.count).map_while(move |_| {
            let len = self
                .rdata
                .get(at..at + 2)
                .and_then(|b| <[u8; 2]>::try_from(b).ok())
                .map(u16::from_be_bytes)?;
            let data = self.rdata.get(at + 2..at + 2 + usize::from(len))?;
            at += 2 + usize::from(len);
            Some(data)
        })
    }

    /// The records of an RRset decoded, with `owner` as their owner.
    pub(crate) fn decoded(&self, owner: &Name, set: &Rrset) -> Vec<Record> {
        self.records(set)
            .filter_map(|d| RData::parse_wire(set.rtype, &mut WireReader::new(d)).ok())
            .map(|data| Record {
                owner: owner.clone(),
                class: self.class,
                ttl: set.ttl,
                data,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::zone::NoIncludes;

    pub(crate) fn zone(text: &str) -> Zone {
        let loaded = Zone::read(
            Name::parse("example.").unwrap(),
            Class::IN,
            "test",
            text.as_bytes(),
            &mut NoIncludes,
        );
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded.zone
    }

    const ZONE: &str = "$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.1\n\
        ns A 192.0.2.1\na.b.c A 192.0.2.2\nsub NS ns.sub\nns.sub A 192.0.2.3\n\
        *.w TXT x\nd DNAME example.net.\nx.d A 192.0.2.4\nMiXeD A 192.0.2.5\n";

    fn find(t: &ZoneTree, name: &str) -> Option<u32> {
        t.find(Name::parse(name).unwrap().as_wire())
    }

    #[test]
    fn nodes_and_kinds() {
        let t = ZoneTree::build(&zone(ZONE)).unwrap();
        let kind = |n: &str| t.node(find(&t, n).unwrap()).unwrap().kind;
        assert_eq!(kind("example."), NodeKind::Auth);
        assert_eq!(kind("b.c.example."), NodeKind::Auth);
        assert_eq!(kind("c.example."), NodeKind::Auth);
        assert!(t.rrsets(find(&t, "c.example.").unwrap()).is_empty());
        assert_eq!(kind("sub.example."), NodeKind::Delegation);
        assert_eq!(kind("ns.sub.example."), NodeKind::BelowCut);
        assert_eq!(kind("x.d.example."), NodeKind::BelowDname);
        assert_eq!(kind("mixed.example."), NodeKind::Auth);
        assert!(
            t.node(find(&t, "w.example.").unwrap())
                .unwrap()
                .wildcard_child
        );
        assert!(find(&t, "nope.example.").is_none());
        assert_eq!(t.negative_ttl(), 60);
        // The duplicate A record of ns is merged.
        let ns = t.rrset(find(&t, "ns.example.").unwrap(), Rtype::A).unwrap();
        assert_eq!(t.records(&ns).count(), 1);
    }

    #[test]
    fn rrsets_sorted_by_type() {
        let t = ZoneTree::build(&zone(ZONE)).unwrap();
        let types: Vec<_> = t.rrsets(0).iter().map(|s| s.rtype).collect();
        assert_eq!(types, [Rtype::NS, Rtype::SOA]);
    }

    #[test]
    fn grows_past_initial_table() {
        let mut text = String::from("$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.1\n");
        for i in 0..3000 {
            text.push_str(&format!("h{i}.e{} A 192.0.2.9\n", i % 7));
        }
        let t = ZoneTree::build(&zone(&text)).unwrap();
        assert!(find(&t, "h2999.e3.example.").is_some());
        assert!(find(&t, "e6.example.").is_some());
        assert_eq!(t.node_count(), 3000 + 7 + 2);
    }
}
