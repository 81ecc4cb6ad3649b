//! The general answering path (RFC 1034 §4.3.2, with RFC 4592 wildcards, RFC 6672
//! DNAME, RFC 2308 negative answers and RFC 8482 ANY): the sections of a response as
//! decoded records, built by walking the zone trees. The fast path serves answers
//! prepared from this same code. With the DO bit and a signed zone, RRSIGs and the
//! NSEC/NSEC3 proofs go into the sections too (`signed`).

use lib_dns::rdata::{Cname, Mx, Ns, RData, Srv};
use lib_dns::types::{Class, Rcode, Rtype};
use lib_dns::{Name, Record};

use crate::catalog::Catalog;
use crate::signed;
use crate::tree::{NONE, NodeKind, ZoneTree, parent_wire};

/// How many CNAME/DNAME steps a chain may take before we stop following it.
const MAX_CHAIN: usize = 16;

/// What a response says, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolution {
    /// The response code.
    pub rcode: Rcode,
    /// Whether the answer is authoritative.
    pub aa: bool,
    /// Answer records.
    pub answer: Vec<Record>,
    /// Authority records.
    pub authority: Vec<Record>,
    /// Glue a referral cannot do without: addresses of name servers below the cut
    /// (RFC 9471 §3: if it does not fit, the response is truncated).
    pub glue: Vec<Record>,
    /// Other additional records (addresses of NS/MX/SRV targets, sibling glue).
    pub additional: Vec<Record>,
    /// Whether the query set DO (RFC 3225): signed zones then add RRSIGs and denial
    /// records (RFC 4035 §3.1).
    pub dnssec: bool,
}

impl Resolution {
    /// A response with only a code.
    pub fn status(rcode: Rcode) -> Resolution {
        Resolution {
            rcode,
            aa: false,
            answer: Vec::new(),
            authority: Vec::new(),
            glue: Vec::new(),
            additional: Vec::new(),
            dnssec: false,
        }
    }
}

/// Whether DNSSEC records go into this response from this zone.
fn signed(tree: &ZoneTree, res: &Resolution) -> bool {
    res.dnssec && tree.is_signed()
}

/// One step of resolution: done, or go on with a new name (CNAME/DNAME target).
pub(crate) enum Step {
    Done,
    Next(Name),
}

/// Resolves a question against our zones; `dnssec` is the query's DO bit.
pub(crate) fn resolve(
    catalog: &Catalog,
    qname: &Name,
    qtype: Rtype,
    qclass: Class,
    dnssec: bool,
) -> Resolution {
    let lower = qname.to_lowercase();
    let Some(first) = zone_for_question(catalog, lower.as_wire(), qtype) else {
        return Resolution::status(Rcode::REFUSED);
    };
    if first.class() != qclass {
        return Resolution::status(Rcode::REFUSED);
    }
    let mut res = Resolution::status(Rcode::NOERROR);
    res.aa = true;
    res.dnssec = dnssec;
    let mut name = qname.clone();
    let mut seen = vec![lower];
    for _ in 0..MAX_CHAIN {
        let Some(lower) = seen.last() else { break };
        let Some(zone) = zone_for_question(catalog, lower.as_wire(), qtype) else {
            break;
        };
        match step(zone, &name, lower.as_wire(), qtype, &mut res) {
            Step::Done => break,
            Step::Next(target) => {
                let lower = target.to_lowercase();
                if seen.contains(&lower) {
                    break;
                }
                seen.push(lower);
                name = target;
            }
        }
    }
    res
}

/// The zone that answers for a name: the one with the longest apex, except that the DS
/// RRset of a zone's apex lives in the parent zone (RFC 4035 §3.1.4.1), when we serve
/// it.
pub(crate) fn zone_for_question<'a>(
    catalog: &'a Catalog,
    lower: &[u8],
    qtype: Rtype,
) -> Option<&'a ZoneTree> {
    let zone = catalog.zone_for(lower)?;
    if qtype == Rtype::DS
        && zone.apex().as_wire() == lower
        && let Some(parent) = parent_wire(lower).and_then(|p| catalog.zone_for(p))
    {
        return Some(parent);
    }
    Some(zone)
}

fn step(tree: &ZoneTree, name: &Name, lower: &[u8], qtype: Rtype, res: &mut Resolution) -> Step {
    if let Some(i) = tree.find(lower) {
        let Some(node) = tree.node(i) else {
            return Step::Done;
        };
        return match node.kind {
            NodeKind::BelowCut => referral(tree, node.cut, res),
            NodeKind::BelowDname => dname(tree, node.cut, name, qtype, res),
            // The DS RRset of a delegation belongs to the parent (RFC 4035 §3.1.4.1).
            NodeKind::Delegation if qtype != Rtype::DS => referral(tree, i, res),
            _ => answer_at(tree, i, name, qtype, res),
        };
    }
    let mut at = parent_wire(lower);
    while let Some(wire) = at {
        if let Some(ce) = tree.find(wire) {
            return from_encloser(tree, ce, name, qtype, res);
        }
        at = parent_wire(wire);
    }
    Step::Done
}

/// The name does not exist; `ce` is its closest encloser (RFC 4592 §3.3.1).
fn from_encloser(
    tree: &ZoneTree,
    ce: u32,
    name: &Name,
    qtype: Rtype,
    res: &mut Resolution,
) -> Step {
    let Some(node) = tree.node(ce) else {
        return Step::Done;
    };
    match node.kind {
        NodeKind::BelowCut => return referral(tree, node.cut, res),
        NodeKind::BelowDname => return dname(tree, node.cut, name, qtype, res),
        NodeKind::Delegation => return referral(tree, ce, res),
        NodeKind::Auth => {}
    }
    if tree.rrset(ce, Rtype::DNAME).is_some() {
        return dname(tree, ce, name, qtype, res);
    }
    if node.wildcard_child {
        let mut star = vec![1u8, b'*'];
        star.extend_from_slice(tree.node_name(ce));
        if let Some(w) = tree.find(&star) {
            let answers = res.answer.len();
            let step = answer_at(tree, w, name, qtype, res);
            if signed(tree, res) {
                let nodata = res.answer.len() == answers;
                let ce = tree.node_owner(ce);
                signed::wildcard_expansion(tree, name, &ce, nodata, &mut res.authority);
            }
            return step;
        }
    }
    res.rcode = Rcode::NXDOMAIN;
    negative(tree, res);
    if signed(tree, res) {
        signed::nxdomain(tree, name, &tree.node_owner(ce), &mut res.authority);
    }
    Step::Done
}

/// The node exists (or is the source of synthesis for `owner`): answer from its data.
fn answer_at(tree: &ZoneTree, i: u32, owner: &Name, qtype: Rtype, res: &mut Resolution) -> Step {
    let sets = tree.rrsets(i);
    // RFC 8482 §4.1: one RRset answers ANY; like Knot, the one of the lowest type.
    let wanted = if qtype == Rtype::ANY {
        sets.first()
    } else {
        sets.iter().find(|s| s.rtype == qtype)
    };
    if let Some(set) = wanted {
        let records = tree.decoded(owner, set);
        add_additional(tree, &records, res);
        extend(tree, i, records, res, Section::Answer);
        return Step::Done;
    }
    if let Some(set) = sets.iter().find(|s| s.rtype == Rtype::CNAME) {
        let records = tree.decoded(owner, set);
        let target = records.iter().find_map(|r| match &r.data {
            RData::Cname(Cname(t)) => Some(t.clone()),
            _ => None,
        });
        extend(tree, i, records, res, Section::Answer);
        return target.map_or(Step::Done, Step::Next);
    }
    negative(tree, res);
    if signed(tree, res) {
        signed::nodata(tree, i, &mut res.authority);
    }
    Step::Done
}

/// A section of a response.
#[derive(Clone, Copy)]
enum Section {
    Answer,
    Authority,
    Additional,
}

/// Adds the records of an RRset of node `i` to a section, with their RRSIGs when the
/// response carries DNSSEC data.
fn extend(tree: &ZoneTree, i: u32, records: Vec<Record>, res: &mut Resolution, to: Section) {
    let with_sigs = signed(tree, res);
    let out = match to {
        Section::Answer => &mut res.answer,
        Section::Authority => &mut res.authority,
        Section::Additional => &mut res.additional,
    };
    if with_sigs {
        signed::push_signed(tree, i, records, out);
    } else {
        out.extend(records);
    }
}

/// The SOA in the authority section of a negative answer (RFC 2308 §3).
pub(crate) fn negative(tree: &ZoneTree, res: &mut Resolution) {
    if let Some(set) = tree.rrset(0, Rtype::SOA) {
        let mut soa = tree.decoded(tree.apex(), &set);
        for r in &mut soa {
            r.ttl = tree.negative_ttl();
        }
        extend(tree, 0, soa, res, Section::Authority);
    }
}

/// A referral to the delegation at `cut`: its NS RRset in authority, glue in
/// additional, no AA (RFC 1034 §4.3.2 step 3b).
pub(crate) fn referral(tree: &ZoneTree, cut: u32, res: &mut Resolution) -> Step {
    if cut == NONE {
        return Step::Done;
    }
    if let Some(set) = tree.rrset(cut, Rtype::NS) {
        let owner = tree.node_owner(cut);
        let ns = tree.decoded(&owner, &set);
        let mut other = Resolution::status(Rcode::NOERROR);
        add_additional(tree, &ns, &mut other);
        for r in other.additional {
            if r.owner.is_subdomain_of(&owner) {
                res.glue.push(r);
            } else {
                res.additional.push(r);
            }
        }
        res.authority.extend(ns);
        if signed(tree, res) {
            signed::delegation(tree, cut, &mut res.authority);
        }
    }
    if res.answer.is_empty() {
        res.aa = false;
    }
    Step::Done
}

/// DNAME substitution at node `d` (RFC 6672 §3.2): the DNAME, a CNAME synthesized with
/// the DNAME's TTL, then the new name.
fn dname(tree: &ZoneTree, d: u32, name: &Name, qtype: Rtype, res: &mut Resolution) -> Step {
    let Some(set) = tree.rrset(d, Rtype::DNAME) else {
        return Step::Done;
    };
    let records = tree.decoded(&tree.node_owner(d), &set);
    let Some(target) = records.iter().find_map(|r| match &r.data {
        RData::Dname(t) => Some(t.0.clone()),
        _ => None,
    }) else {
        return Step::Done;
    };
    extend(tree, d, records, res, Section::Answer);
    let keep = name.wire_len().saturating_sub(tree.node_name(d).len());
    let mut wire = name.as_wire().get(..keep).unwrap_or_default().to_vec();
    wire.extend_from_slice(target.as_wire());
    match Name::from_wire(&wire) {
        Ok(new) => {
            res.answer.push(Record {
                owner: name.clone(),
                class: tree.class(),
                ttl: set.ttl,
                data: RData::Cname(Cname(new.clone())),
            });
            // A question for the CNAME itself is answered by the synthesized one.
            if qtype == Rtype::CNAME {
                Step::Done
            } else {
                Step::Next(new)
            }
        }
        Err(_) => {
            // The substituted name is too long (RFC 6672 §2.2).
            res.rcode = Rcode::YXDOMAIN;
            Step::Done
        }
    }
}

/// A and AAAA records of in-zone NS, MX and SRV targets (RFC 1035 §3.3.9, RFC 2782).
fn add_additional(tree: &ZoneTree, records: &[Record], res: &mut Resolution) {
    for r in records {
        let target = match &r.data {
            RData::Ns(Ns(t)) => t,
            RData::Mx(Mx { exchange, .. }) => exchange,
            RData::Srv(Srv { target, .. }) => target,
            _ => continue,
        };
        let lower = target.to_lowercase();
        let Some(i) = tree.find(lower.as_wire()) else {
            continue;
        };
        if tree.node(i).is_some_and(|n| n.kind == NodeKind::BelowDname) {
            continue;
        }
        for rtype in [Rtype::A, Rtype::AAAA] {
            let Some(set) = tree.rrset(i, rtype) else {
                continue;
            };
            let owner = tree.node_owner(i);
            if res
                .additional
                .iter()
                .any(|a| a.rtype() == rtype && a.owner == owner)
            {
                continue;
            }
            let records = tree.decoded(&owner, &set);
            if tree.node(i).is_some_and(|n| n.kind == NodeKind::Auth) {
                extend(tree, i, records, res, Section::Additional);
            } else {
                res.additional.extend(records);
            }
        }
    }
}

/// The authoritative answer from node `i`'s own data for `qtype` (used to prepare
/// answers at load).
pub(crate) fn exact(tree: &ZoneTree, i: u32, qtype: Rtype) -> Resolution {
    let mut res = Resolution::status(Rcode::NOERROR);
    res.aa = true;
    answer_at(tree, i, &tree.node_owner(i), qtype, &mut res);
    res
}
