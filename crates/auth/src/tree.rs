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
use crate::prepared::Sections;

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

/// Bytes of one RRset's entry in a chunk's directory: type (2), tag (1: 0 none,
/// 1 inline, 2 external; 0x80 = AA), pad (1), inline offset or prepared index (4),
/// length (2), counts (3 × 2).
const DIR_ENTRY: usize = 16;

/// Bytes of a chunk's header after the name: index (4), kind (1), wildcard child (1),
/// RRset count (1), referral index (4), delegation name length (1).
const HEADER: usize = 12;

/// Where the prepared sections of an RRset are, for [`ZoneTree::pack`].
pub(crate) enum BlobSource<'a> {
    /// Not prepared: the general path answers.
    None,
    /// Copied into the chunk.
    Inline(Sections<'a>),
    /// Kept in the zone's prepared set under this index (they need relocation).
    External(u32, Sections<'a>),
}

/// The packed, hot data of one node: name, index, kind, referral, RRset directory.
#[derive(Clone, Copy)]
pub(crate) struct Chunk<'a> {
    bytes: &'a [u8],
    name_len: usize,
}

/// A chunk's directory entry for one RRset type.
pub(crate) enum Prepped<'a> {
    /// The RRset exists but the general path answers for it.
    Unprepared,
    /// Its sections, inline.
    Inline(Sections<'a>),
    /// Its sections are the zone's prepared entry of this index.
    External(u32),
}

impl<'a> Chunk<'a> {
    fn u32_at(&self, at: usize) -> u32 {
        self.bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(NONE, u32::from_be_bytes)
    }

    fn u16_at(&self, at: usize) -> u16 {
        self.bytes
            .get(at..at + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map_or(0, u16::from_be_bytes)
    }

    /// The node's index.
    pub fn index(&self) -> u32 {
        self.u32_at(self.name_len)
    }

    /// What the node is.
    pub fn kind(&self) -> NodeKind {
        match self.bytes.get(self.name_len + 4) {
            Some(1) => NodeKind::Delegation,
            Some(2) => NodeKind::BelowCut,
            Some(3) => NodeKind::BelowDname,
            _ => NodeKind::Auth,
        }
    }

    /// Whether `*.<name>` exists.
    pub fn wildcard_child(&self) -> bool {
        self.bytes.get(self.name_len + 5) == Some(&1)
    }

    fn count(&self) -> usize {
        usize::from(self.bytes.get(self.name_len + 6).copied().unwrap_or(0))
    }

    /// For a delegation point or a node below one: the prepared referral's index and
    /// the length of the delegation point's name.
    pub fn referral(&self) -> Option<(u32, usize)> {
        let index = self.u32_at(self.name_len + 7);
        let len = usize::from(*self.bytes.get(self.name_len + 11)?);
        (index != NONE).then_some((index, len))
    }

    /// Whether the node has an RRset of `rtype`.
    pub fn has(&self, rtype: Rtype) -> bool {
        self.entry_at(rtype).is_some()
    }

    fn entry_at(&self, rtype: Rtype) -> Option<usize> {
        let dir = self.name_len + HEADER;
        (0..self.count())
            .map(|k| dir + k * DIR_ENTRY)
            .find(|&at| self.u16_at(at) == rtype.0)
    }

    /// The prepared sections of the RRset of `rtype`, if the node has one.
    pub fn prepared(&self, rtype: Rtype) -> Option<Prepped<'a>> {
        let at = self.entry_at(rtype)?;
        let tag = *self.bytes.get(at + 2)?;
        let reference = self.u32_at(at + 4);
        Some(match tag & 0x7f {
            1 => {
                let start = reference as usize;
                let len = usize::from(self.u16_at(at + 8));
                Prepped::Inline(Sections {
                    bytes: self.bytes.get(start..start + len)?,
                    relocs: &[],
                    counts: [
                        self.u16_at(at + 10),
                        self.u16_at(at + 12),
                        self.u16_at(at + 14),
                    ],
                    aa: tag & 0x80 != 0,
                })
            }
            2 => Prepped::External(reference),
            _ => Prepped::Unprepared,
        })
    }
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
}

/// The data of one zone.
pub struct ZoneTree {
    apex: Name,
    class: Class,
    /// Owner names; once packed ([`ZoneTree::pack`]), each name followed by the node's
    /// hot data (see [`Chunk`]).
    names: Vec<u8>,
    /// Whether the table's entries hold chunk offsets (packed) or node indices.
    packed: bool,
    nodes: Vec<Node>,
    /// Open addressing with linear probing: per slot, the upper 32 bits of the name's
    /// hash (compared before the name) and the node index; [`EMPTY`] when free.
    table: Vec<u64>,
    rrsets: Vec<Rrset>,
    /// Per record: a big-endian u16 length, then the data in uncompressed wire form.
    rdata: Vec<u8>,
    /// TTL and data of the SOA for negative answers (RFC 2308 §3).
    soa_negative_ttl: u32,
    /// The zone's authenticated denial, when it is signed.
    denial: Denial,
}

/// What a signed zone denies existence with: its NSEC owners in canonical order, or
/// its NSEC3 owner hashes in order with the chain's salt and iterations.
#[derive(Debug, Clone, Default)]
pub(crate) struct Denial {
    /// Whether the apex has a DNSKEY RRset (the zone is signed).
    pub signed: bool,
    /// Nodes with an NSEC RRset, by owner in canonical order (RFC 4034 §6.1).
    pub nsec: Vec<(Name, u32)>,
    /// Nodes with an NSEC3 RRset, by the hash their owner holds.
    pub nsec3: Vec<(Vec<u8>, u32)>,
    /// The NSEC3PARAM salt and iterations (RFC 5155 §4).
    pub nsec3_param: Option<(Vec<u8>, u16)>,
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
            packed: false,
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
            denial: Denial::default(),
        };
        tree.insert(apex.as_wire())?;
        // (node, type, record index), then sorted: RRsets become runs.
        let mut entries: Vec<(u32, u16, u32)> = Vec::with_capacity(zone.records().len());
        let mut lower = [0u8; 255];
        let mut last: Option<(&Name, u32)> = None;
        for (i, rec) in zone.records().iter().enumerate() {
            if rec.class != zone.class() {
                continue;
            }
            // Zone files list an owner's records together: skip the lookup then.
            let node = match last {
                Some((owner, node)) if owner.eq_exact(&rec.owner) => node,
                _ => {
                    if !rec.owner.is_subdomain_of(&apex) {
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
        tree.denial = tree.index_denial();
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

    /// Finds the NSEC and NSEC3 records of a signed zone (RFC 4035 §2.3, RFC 5155 §7).
    fn index_denial(&self) -> Denial {
        let mut d = Denial {
            signed: self.rrset(0, Rtype::DNSKEY).is_some(),
            ..Denial::default()
        };
        if !d.signed {
            return d;
        }
        for i in 0..to_u32(self.nodes.len()).unwrap_or(0) {
            if self.rrset(i, Rtype::NSEC).is_some() {
                d.nsec.push((self.node_owner(i), i));
            }
            if self.rrset(i, Rtype::NSEC3).is_some()
                && let Some(h) = zdns_dnssec::nsec3::owner_hash(&self.node_owner(i))
            {
                d.nsec3.push((h, i));
            }
        }
        d.nsec.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        d.nsec3.sort_unstable();
        d.nsec3_param = self.rrset(0, Rtype::NSEC3PARAM).and_then(|set| {
            match self.decoded(&self.apex, &set).first().map(|r| &r.data) {
                Some(RData::Nsec3param(p)) => Some((p.hash.salt.clone(), p.hash.iterations)),
                _ => None,
            }
        });
        d
    }

    /// The zone's authenticated denial records, when it is signed.
    pub(crate) fn denial(&self) -> &Denial {
        &self.denial
    }

    /// Whether the zone is signed (has a DNSKEY RRset at its apex).
    pub fn is_signed(&self) -> bool {
        self.denial.signed
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
            if e >> 32 == hash >> 32 {
                if self.packed {
                    if let Some(chunk) = self.chunk_at(e as u32, wire) {
                        return Some(chunk.index());
                    }
                } else if self.node_name(e as u32) == wire {
                    return Some(e as u32);
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The packed data of the node of a lowercase wire name (after [`ZoneTree::pack`]).
    pub(crate) fn find_chunk(&self, wire: &[u8]) -> Option<Chunk<'_>> {
        let mask = self.table.len() - 1;
        let hash = hash_name(wire);
        let mut slot = hash as usize & mask;
        loop {
            let e = *self.table.get(slot)?;
            if e == EMPTY {
                return None;
            }
            if e >> 32 == hash >> 32
                && let Some(chunk) = self.chunk_at(e as u32, wire)
            {
                return Some(chunk);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The chunk at `off` if its name is `wire`.
    fn chunk_at(&self, off: u32, wire: &[u8]) -> Option<Chunk<'_>> {
        let start = off as usize;
        let rest = self.names.get(start..)?;
        if rest.get(..wire.len())? != wire {
            return None;
        }
        Some(Chunk {
            bytes: rest,
            name_len: wire.len(),
        })
    }

    /// Lays the nodes out for the prepared path: each node's name, then its index,
    /// kind, wildcard flag, the referral that answers below a delegation
    /// (`referral(delegation node)`) and a directory of its RRsets with the prepared
    /// sections (`blob(node, type)`, asked in node and type order; `inline_bytes` bounds
    /// their total size) copied inline when they need no relocation. The
    /// table then points at these chunks, so a hit costs the table slot and one
    /// contiguous chunk.
    pub(crate) fn pack<'a>(
        &mut self,
        inline_bytes: usize,
        referral: impl Fn(u32) -> u32,
        mut blob: impl FnMut(u32, Rtype) -> BlobSource<'a>,
    ) -> Result<(), BuildError> {
        // Reserved in one go (an upper bound: every prepared section inline), since
        // growing a vector of this size would copy it and hold twice its memory.
        let size = self.names.len() + self.nodes.len() * HEADER + self.rrsets.len() * DIR_ENTRY;
        let mut chunks = Vec::with_capacity(size + inline_bytes);
        for i in 0..self.nodes.len() as u32 {
            let Some(node) = self.nodes.get(i as usize).copied() else {
                continue;
            };
            let start = chunks.len();
            let name = self.node_name(i);
            chunks.extend_from_slice(name);
            chunks.extend_from_slice(&i.to_be_bytes());
            chunks.push(node.kind as u8);
            chunks.push(u8::from(node.wildcard_child));
            let sets = self.rrsets(i);
            chunks.push(u8::try_from(sets.len()).map_err(|_| BuildError::TooLarge)?);
            let cut = match node.kind {
                NodeKind::Delegation => i,
                NodeKind::BelowCut => node.cut,
                _ => NONE,
            };
            let (index, len) = if cut == NONE {
                (NONE, 0)
            } else {
                // The name's length from the node: names of nodes packed already
                // have moved to `chunks`.
                let len = self.nodes.get(cut as usize).map_or(0, |n| n.name_len);
                (referral(cut), usize::from(len))
            };
            chunks.extend_from_slice(&index.to_be_bytes());
            chunks.push(u8::try_from(len).map_err(|_| BuildError::TooLarge)?);
            let dir = chunks.len();
            chunks.resize(dir + sets.len() * DIR_ENTRY, 0);
            for (k, set) in sets.iter().enumerate() {
                let (tag, reference, s) = match blob(i, set.rtype) {
                    BlobSource::None => (0u8, 0u32, None),
                    BlobSource::External(p, s) => (2, p, Some(s)),
                    BlobSource::Inline(s) => {
                        let rel = to_u32(chunks.len() - start)?;
                        chunks.extend_from_slice(s.bytes);
                        (1, rel, Some(s))
                    }
                };
                let (len, counts, aa) =
                    s.map_or((0, [0; 3], false), |s| (s.bytes.len(), s.counts, s.aa));
                let mut e = [0u8; DIR_ENTRY];
                e[..2].copy_from_slice(&set.rtype.0.to_be_bytes());
                e[2] = tag | if aa { 0x80 } else { 0 };
                e[4..8].copy_from_slice(&reference.to_be_bytes());
                e[8..10].copy_from_slice(
                    &u16::try_from(len)
                        .map_err(|_| BuildError::TooLarge)?
                        .to_be_bytes(),
                );
                e[10..12].copy_from_slice(&counts[0].to_be_bytes());
                e[12..14].copy_from_slice(&counts[1].to_be_bytes());
                e[14..16].copy_from_slice(&counts[2].to_be_bytes());
                let at = dir + k * DIR_ENTRY;
                if let Some(slot) = chunks.get_mut(at..at + DIR_ENTRY) {
                    slot.copy_from_slice(&e);
                }
            }
            if let Some(n) = self.nodes.get_mut(i as usize) {
                n.name_off = to_u32(start)?;
            }
        }
        chunks.shrink_to_fit();
        self.names = chunks;
        let offsets: Vec<u32> = self.nodes.iter().map(|n| n.name_off).collect();
        for e in self.table.iter_mut().filter(|e| **e != EMPTY) {
            let off = offsets.get((*e as u32) as usize).copied().unwrap_or(0);
            *e = (*e & 0xffff_ffff_0000_0000) | u64::from(off);
        }
        self.packed = true;
        Ok(())
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

    /// Every record of the zone, decoded: the SOA first, then each node's RRsets
    /// (owners lowercase, one TTL per RRset, duplicates merged, as the tree holds
    /// them). Zone transfers and updates work from this, so a served zone does not
    /// keep a second copy of its records.
    pub fn to_records(&self) -> Vec<Record> {
        let mut out = Vec::with_capacity(self.rdata.len() / 16);
        if let Some(soa) = self.rrset(0, Rtype::SOA) {
            out.extend(self.decoded(&self.apex, &soa));
        }
        for i in 0..to_u32(self.nodes.len()).unwrap_or(u32::MAX) {
            let sets = self.rrsets(i);
            if sets.is_empty() {
                continue;
            }
            let owner = self.node_owner(i);
            for set in sets {
                if i == 0 && set.rtype == Rtype::SOA {
                    continue;
                }
                out.extend(self.decoded(&owner, set));
            }
        }
        out
    }

    /// The records of type `rtype` at the owners whose lowercase wire name passes
    /// `owner` (decoding only those: for finding, say, every `_scope` TXT record).
    pub fn records_where(&self, rtype: Rtype, owner: impl Fn(&[u8]) -> bool) -> Vec<Record> {
        let mut out = Vec::new();
        for i in 0..to_u32(self.nodes.len()).unwrap_or(u32::MAX) {
            if let Some(set) = self.rrset(i, rtype)
                && owner(self.node_name(i))
            {
                out.extend(self.decoded(&self.node_owner(i), &set));
            }
        }
        out
    }

    /// The zone's SOA record.
    pub fn soa(&self) -> Option<Record> {
        let set = self.rrset(0, Rtype::SOA)?;
        self.decoded(&self.apex, &set).into_iter().next()
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
    fn to_records_gives_back_every_record_soa_first() {
        let z = zone(
            "$ORIGIN example.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n\
             www A 192.0.2.2\nwww A 192.0.2.3\nsub NS ns.sub\nns.sub A 192.0.2.9\n\
             *.w TXT \"x\"\na.b.c MX 10 www\n",
        );
        let tree = ZoneTree::build(&z).unwrap();
        let back = tree.to_records();
        assert_eq!(back[0].rtype(), Rtype::SOA);
        assert_eq!(tree.soa().as_ref(), Some(&back[0]));
        let text = |v: &[Record]| {
            let mut t: Vec<String> = v.iter().map(|r| r.to_string()).collect();
            t.sort();
            t
        };
        assert_eq!(text(&back), text(z.records()));
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
