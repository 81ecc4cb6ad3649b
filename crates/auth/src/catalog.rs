//! The zones we serve, each with its tree and prepared answers, and the choice of zone
//! for a name (the longest apex that is a suffix of it).
//!
//! A [`Catalog`] is immutable once built: a changed zone gives a new catalog
//! ([`Catalog::with_zone`]), sharing the unchanged zones, which the server swaps in
//! atomically.

use std::collections::HashMap;
use std::sync::Arc;

use lib_dns::types::{Class, Opcode, Rcode, Rtype};
use lib_dns::zone::Zone;

use crate::hash::NameBuild;
use crate::prepared::{PreparedSet, Sections};
use crate::resolve::{self, Resolution};
use crate::response::{self, Echo};
use crate::tree::{BlobSource, BuildError, Chunk, NONE, NodeKind, Prepped, ZoneTree, parent_wire};

/// One served zone: its data and its prepared answers.
pub struct ServedZone {
    tree: ZoneTree,
    prepared: PreparedSet,
    /// The SOA authority section of negative answers, relocatable.
    negative: u32,
}

impl ServedZone {
    /// Builds the tree of a zone and prepares its answers.
    pub fn build(zone: &Zone) -> Result<ServedZone, BuildError> {
        ServedZone::prepare(ZoneTree::build(zone)?)
    }

    /// [`ServedZone::build`] from a zone that is no longer needed: its records are
    /// freed as soon as the tree holds them, which lowers the peak memory of a load.
    pub fn from_zone(zone: Zone) -> Result<ServedZone, BuildError> {
        let tree = ZoneTree::build(&zone)?;
        drop(zone);
        ServedZone::prepare(tree)
    }

    /// Prepares the answers of a built tree and packs it.
    fn prepare(mut tree: ZoneTree) -> Result<ServedZone, BuildError> {
        let mut prepared = PreparedSet::default();
        let mut msg = Vec::new();
        let apex = tree.apex().as_wire().to_vec();
        let mut neg = Resolution::status(Rcode::NOERROR);
        neg.aa = true;
        resolve::negative(&tree, &mut neg);
        write_for(&mut msg, &apex, Rtype::SOA, tree.class(), &neg);
        let negative = prepared
            .add_message(&msg, apex.len(), true)
            .ok_or(BuildError::TooLarge)?;
        let mut referrals: HashMap<u32, u32, NameBuild> = HashMap::default();
        // Positive answers go to a scratch set first: most are copied into the packed
        // nodes, and only those that need relocation stay in `prepared`.
        let mut scratch = PreparedSet::default();
        let mut positive = Vec::new();
        for i in 0..tree.node_count() as u32 {
            let Some(node) = tree.node(i) else { continue };
            match node.kind {
                NodeKind::Delegation => {
                    let mut res = Resolution::status(Rcode::NOERROR);
                    resolve::referral(&tree, i, &mut res);
                    let name = tree.node_name(i).to_vec();
                    write_for(&mut msg, &name, Rtype::NS, tree.class(), &res);
                    if let Some(p) = prepared.add_message(&msg, name.len(), true) {
                        referrals.insert(i, p);
                    }
                }
                NodeKind::Auth => {
                    for set in tree.rrsets(i) {
                        let p = match set.rtype {
                            Rtype::DNAME => continue,
                            t if !is_direct(t) => {
                                let name = tree.node_name(i).to_vec();
                                let res = resolve::exact(&tree, i, set.rtype);
                                write_for(&mut msg, &name, set.rtype, tree.class(), &res);
                                // A wildcard's answers are moved to the query name.
                                let wildcard = name.starts_with(&[1, b'*']);
                                scratch.add_message(&msg, name.len(), wildcard)
                            }
                            _ => scratch.add_direct(
                                set.rtype,
                                tree.class(),
                                set.ttl,
                                tree.records(set),
                            ),
                        };
                        if let Some(p) = p {
                            positive.push((i, set.rtype, p));
                        }
                    }
                }
                NodeKind::BelowCut | NodeKind::BelowDname => {}
            }
        }
        // (node, type, scratch index, index in `prepared` when kept there); in node and
        // type order, as generated.
        let mut placed = Vec::with_capacity(positive.len());
        for (i, rtype, p) in positive {
            let external = match scratch.sections(p) {
                Some(s) if !s.relocs.is_empty() => prepared.copy_from(&scratch, p),
                _ => None,
            };
            placed.push((i, rtype.0, p, external));
        }
        // `pack` asks in node and type order, the order of `placed`: a cursor finds
        // each entry.
        let mut cursor = 0usize;
        let referral = |cut: u32| referrals.get(&cut).copied().unwrap_or(NONE);
        tree.pack(scratch.byte_len(), referral, |i, rtype| {
            let key = (i, rtype.0);
            while placed.get(cursor).is_some_and(|&(n, t, _, _)| (n, t) < key) {
                cursor += 1;
            }
            let Some(&(_, _, p, external)) = placed.get(cursor).filter(|e| (e.0, e.1) == key)
            else {
                return BlobSource::None;
            };
            match (scratch.sections(p), external) {
                (Some(s), Some(e)) => BlobSource::External(e, s),
                (Some(s), None) => BlobSource::Inline(s),
                (None, _) => BlobSource::None,
            }
        })?;
        prepared.shrink_to_fit();
        Ok(ServedZone {
            tree,
            prepared,
            negative,
        })
    }

    /// The zone's data.
    pub fn tree(&self) -> &ZoneTree {
        &self.tree
    }

    /// Bytes held by the zone's tables and prepared answers.
    pub fn heap_bytes(&self) -> usize {
        self.tree.heap_bytes() + self.prepared.heap_bytes()
    }
}

/// Writes an uncompressed-limit response to a query for (`qname`, `qtype`) into `msg`.
fn write_for(msg: &mut Vec<u8>, qname: &[u8], qtype: Rtype, class: Class, res: &Resolution) {
    let echo = Echo {
        id: 0,
        opcode: Opcode::QUERY,
        rd: false,
        cd: false,
        question: Some((qname, qtype, class)),
    };
    response::write(msg, &echo, res, 65535, None);
}

/// A prepared answer found for a question.
pub(crate) struct Hit<'a> {
    /// The sections.
    pub sections: Sections<'a>,
    /// How far to move their compression pointers.
    pub delta: usize,
    /// Whether the sections are a wildcard's, synthesized for the query name.
    pub wildcard: bool,
    /// Answer records that follow a CNAME in `sections`: each record's owner becomes
    /// a pointer to the CNAME's target name.
    pub chain: Option<Sections<'a>>,
    /// The response code.
    pub rcode: Rcode,
}

/// The zones we serve.
#[derive(Default, Clone)]
pub struct Catalog {
    zones: Vec<Arc<ServedZone>>,
    by_apex: HashMap<Box<[u8]>, usize, NameBuild>,
    /// Wire lengths of the apexes, longest first.
    apex_lens: Vec<usize>,
}

impl Catalog {
    /// A catalog without zones.
    pub fn new() -> Catalog {
        Catalog::default()
    }

    /// A catalog of the given zones, built one by one.
    pub fn build<'a>(zones: impl IntoIterator<Item = &'a Zone>) -> Result<Catalog, BuildError> {
        let mut c = Catalog::new();
        for z in zones {
            c = c.with_zone(Arc::new(ServedZone::build(z)?));
        }
        Ok(c)
    }

    /// This catalog with `zone` added, or replacing the zone of the same apex.
    pub fn with_zone(&self, zone: Arc<ServedZone>) -> Catalog {
        let mut next = self.clone();
        let apex: Box<[u8]> = zone.tree.apex().as_wire().into();
        match next.by_apex.get(&apex) {
            Some(&i) => {
                if let Some(slot) = next.zones.get_mut(i) {
                    *slot = zone;
                }
            }
            None => {
                next.by_apex.insert(apex.clone(), next.zones.len());
                next.zones.push(zone);
                if !next.apex_lens.contains(&apex.len()) {
                    next.apex_lens.push(apex.len());
                    next.apex_lens.sort_unstable_by(|a, b| b.cmp(a));
                }
            }
        }
        next
    }

    /// This catalog without the zone of the given apex (lowercase wire form).
    pub fn without_zone(&self, apex: &[u8]) -> Catalog {
        let mut next = Catalog::new();
        for z in &self.zones {
            if z.tree.apex().as_wire() != apex {
                next = next.with_zone(z.clone());
            }
        }
        next
    }

    /// The served zones.
    pub fn zones(&self) -> impl Iterator<Item = &ServedZone> {
        self.zones.iter().map(|z| &**z)
    }

    /// The zone a lowercase wire name belongs to: the one with the longest apex.
    pub(crate) fn served_for(&self, lower: &[u8]) -> Option<&ServedZone> {
        for &len in &self.apex_lens {
            let Some(start) = lower.len().checked_sub(len) else {
                continue;
            };
            if !on_label_boundary(lower, start) {
                continue;
            }
            if let Some(&i) = lower.get(start..).and_then(|s| self.by_apex.get(s)) {
                return self.zones.get(i).map(|z| &**z);
            }
        }
        None
    }

    /// The tree of the zone a lowercase wire name belongs to.
    pub(crate) fn zone_for(&self, lower: &[u8]) -> Option<&ZoneTree> {
        self.served_for(lower).map(|z| &z.tree)
    }

    /// The prepared answer for a question, when one applies; `None` sends the question
    /// down the general path. Never allocates.
    pub(crate) fn fast(&self, lower: &[u8], qtype: Rtype, qclass: Class) -> Option<Hit<'_>> {
        let zone = self.served_for(lower)?;
        let tree = &zone.tree;
        if tree.class() != qclass || qtype == Rtype::ANY {
            return None;
        }
        let hit = |sections, delta, wildcard, rcode| {
            Some(Hit {
                sections,
                delta,
                wildcard,
                chain: None,
                rcode,
            })
        };
        let negative = |rcode| {
            let delta = lower.len() - tree.apex().wire_len();
            hit(zone.prepared.sections(zone.negative)?, delta, false, rcode)
        };
        let referral = |chunk: Chunk<'_>| {
            let (index, cut_len) = chunk.referral()?;
            let sections = zone.prepared.sections(index)?;
            hit(
                sections,
                lower.len().checked_sub(cut_len)?,
                false,
                Rcode::NOERROR,
            )
        };
        if let Some(chunk) = tree.find_chunk(lower) {
            return match chunk.kind() {
                // The DS RRset of an apex is the parent zone's (RFC 4035 §3.1.4.1).
                NodeKind::Auth if chunk.index() == 0 && qtype == Rtype::DS => None,
                NodeKind::Auth => match chunk.prepared(qtype) {
                    Some(Prepped::Inline(s)) => hit(s, 0, false, Rcode::NOERROR),
                    Some(Prepped::External(p)) => {
                        hit(zone.prepared.sections(p)?, 0, false, Rcode::NOERROR)
                    }
                    Some(Prepped::Unprepared) => None,
                    None => match chunk.prepared(Rtype::CNAME) {
                        Some(Prepped::Inline(cname)) => cname_hit(self, zone, cname, qtype),
                        Some(_) => None,
                        None => negative(Rcode::NOERROR),
                    },
                },
                NodeKind::Delegation if qtype != Rtype::DS => referral(chunk),
                NodeKind::BelowCut => referral(chunk),
                _ => None,
            };
        }
        let mut at = parent_wire(lower);
        while let Some(wire) = at {
            if let Some(ce) = tree.find_chunk(wire) {
                return match ce.kind() {
                    NodeKind::Auth if ce.has(Rtype::DNAME) => None,
                    NodeKind::Auth if ce.wildcard_child() => {
                        wildcard(zone, wire, lower, qtype, negative(Rcode::NOERROR))
                    }
                    NodeKind::Auth => negative(Rcode::NXDOMAIN),
                    NodeKind::Delegation | NodeKind::BelowCut => referral(ce),
                    NodeKind::BelowDname => None,
                };
            }
            at = parent_wire(wire);
        }
        None
    }
}

/// The prepared answer synthesized from the wildcard below the closest encloser `ce`
/// (RFC 4592 §3.3.1): its RRset of `qtype`, or `nodata` when it has none (and no CNAME).
fn wildcard<'a>(
    zone: &'a ServedZone,
    ce: &[u8],
    lower: &[u8],
    qtype: Rtype,
    nodata: Option<Hit<'a>>,
) -> Option<Hit<'a>> {
    let mut star = [0u8; 255];
    let len = ce.len() + 2;
    let buf = star.get_mut(..len)?;
    buf.get_mut(..2)?.copy_from_slice(&[1, b'*']);
    buf.get_mut(2..)?.copy_from_slice(ce);
    let w: Chunk<'_> = zone.tree.find_chunk(buf)?;
    let sections = match w.prepared(qtype) {
        Some(Prepped::Inline(s)) => s,
        Some(Prepped::External(p)) => zone.prepared.sections(p)?,
        Some(Prepped::Unprepared) => return None,
        None if w.has(Rtype::CNAME) => return None,
        None => return nodata,
    };
    Some(Hit {
        sections,
        delta: lower.len().checked_sub(len)?,
        wildcard: true,
        chain: None,
        rcode: Rcode::NOERROR,
    })
}

/// Whether answers of this type are prepared as plain records (owner pointer, fixed
/// fields, data without compressed names and no additional processing), which can be
/// moved to another owner by rewriting the owner pointer.
fn is_direct(rtype: Rtype) -> bool {
    !matches!(
        rtype,
        Rtype::NS | Rtype::PTR | Rtype::SOA | Rtype::MX | Rtype::SRV | Rtype::DNAME
    )
}

/// A CNAME answered from prepared sections (RFC 1034 §4.3.2 step 3a): the CNAME, then
/// the target's RRset of `qtype` when the target is a plain node of the same zone, or
/// the CNAME alone when the target is outside every zone we serve. Anything else
/// (chains, NODATA or NXDOMAIN at the target, other zones) takes the general path.
fn cname_hit<'a>(
    catalog: &Catalog,
    zone: &'a ServedZone,
    cname: Sections<'a>,
    qtype: Rtype,
) -> Option<Hit<'a>> {
    // One record: owner pointer (2), type, class, TTL, length (10), target name.
    let target = cname.bytes.get(12..)?;
    let mut lower = [0u8; 255];
    let lower = lower.get_mut(..target.len())?;
    lower.copy_from_slice(target);
    lower.make_ascii_lowercase();
    let hit = |chain| {
        Some(Hit {
            sections: cname,
            delta: 0,
            wildcard: false,
            chain,
            rcode: Rcode::NOERROR,
        })
    };
    let Some(target_zone) = catalog.served_for(lower) else {
        return hit(None);
    };
    if !std::ptr::eq(target_zone, zone) || !is_direct(qtype) || qtype == Rtype::CNAME {
        return None;
    }
    let node = zone.tree.find_chunk(lower)?;
    match (node.kind(), node.prepared(qtype)?) {
        (NodeKind::Auth, Prepped::Inline(s)) => hit(Some(s)),
        _ => None,
    }
}

/// Whether a label starts at `at` in the wire name.
fn on_label_boundary(wire: &[u8], at: usize) -> bool {
    let mut pos = 0usize;
    while pos < at {
        match wire.get(pos) {
            Some(&len) if len != 0 => pos += usize::from(len) + 1,
            _ => return false,
        }
    }
    pos == at
}
