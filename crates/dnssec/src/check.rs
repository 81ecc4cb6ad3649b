//! Checking a whole signed zone, as `dnssec-verify` and `ldns-verify-zone` do: every
//! RRSIG verifies with the apex DNSKEYs and is within its validity period, every
//! authoritative RRset is signed by every algorithm of the DNSKEY RRset, nothing that is
//! not the zone's is signed, the NSEC or NSEC3 chain covers exactly the zone's names
//! with the right type bitmaps, and a ZONEMD (if any) matches.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use lib_dns::Name;
use lib_dns::rdata::{Algorithm, Dnskey, RData, TypeBitmap};
use lib_dns::record::Record;
use lib_dns::types::Rtype;

use crate::index::{Status, ZoneIndex};
use crate::nsec3::{hashed_owner, nsec3_hash};
use crate::verify::{RrsetRef, SigError, verify_rrsig};
use crate::zonemd::check_zonemd;

/// What is wrong at one place in a zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The apex has no DNSKEY the zone can be checked with.
    NoDnskey,
    /// An RRSIG failed (why).
    BadRrsig(SigError),
    /// An RRSIG covers a type with no RRset at its owner.
    OrphanRrsig,
    /// An authoritative RRset lacks a valid signature of this algorithm.
    Unsigned(Algorithm),
    /// The DNSKEY RRset is not signed by a key with the SEP flag.
    DnskeyNotSelfSigned,
    /// Data that is not the zone's (glue, delegation NS) carries an RRSIG.
    SignedNonAuthoritative,
    /// Neither an NSEC nor an NSEC3 chain is present.
    NoDenial,
    /// A name of the zone has no NSEC (or NSEC3) record.
    MissingDenial,
    /// An NSEC/NSEC3 record at a name that should have none.
    ExtraDenial,
    /// The NSEC next name or NSEC3 next hash does not point to the next in the chain.
    BrokenChain,
    /// The type bitmap does not list exactly the types at the name.
    WrongBitmap,
    /// More than one NSEC at a name, or NSEC3 parameters that disagree.
    Inconsistent,
    /// The ZONEMD digest does not match the zone.
    ZonemdMismatch,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoDnskey => f.write_str("no usable DNSKEY at the apex"),
            Problem::BadRrsig(e) => write!(f, "RRSIG: {e}"),
            Problem::OrphanRrsig => f.write_str("RRSIG covers a type absent at its owner"),
            Problem::Unsigned(a) => write!(f, "no valid RRSIG of algorithm {a}"),
            Problem::DnskeyNotSelfSigned => {
                f.write_str("DNSKEY RRset not signed by a key-signing key")
            }
            Problem::SignedNonAuthoritative => f.write_str("non-authoritative data is signed"),
            Problem::NoDenial => f.write_str("no NSEC or NSEC3 chain"),
            Problem::MissingDenial => f.write_str("missing NSEC/NSEC3 record"),
            Problem::ExtraDenial => f.write_str("NSEC/NSEC3 record for no name of the zone"),
            Problem::BrokenChain => f.write_str("NSEC/NSEC3 chain does not link up"),
            Problem::WrongBitmap => f.write_str("type bitmap does not match the types present"),
            Problem::Inconsistent => f.write_str("inconsistent denial records"),
            Problem::ZonemdMismatch => f.write_str("ZONEMD digest does not match"),
        }
    }
}

/// A problem with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneProblem {
    /// The owner name.
    pub owner: Name,
    /// The record type concerned.
    pub rtype: Rtype,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for ZoneProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.owner, self.rtype, self.problem)
    }
}

/// What a clean check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSummary {
    /// RRSIGs that verified.
    pub signatures: usize,
    /// Signed RRsets.
    pub rrsets: usize,
    /// Whether the chain is NSEC3 (else NSEC).
    pub nsec3: bool,
}

/// Checks the signed zone at `apex` at time `now` (seconds since 1970, low 32 bits).
pub fn check_zone(
    apex: &Name,
    records: Vec<Record>,
    now: u32,
) -> Result<ZoneSummary, Vec<ZoneProblem>> {
    let zonemd = check_zonemd(apex, &records);
    let (index, _) = ZoneIndex::new(apex, records);
    let mut problems = Vec::new();
    let mut at = |owner: &Name, rtype: Rtype, problem: Problem| {
        problems.push(ZoneProblem {
            owner: owner.clone(),
            rtype,
            problem,
        });
    };
    match zonemd {
        Ok(Some(false)) | Err(_) => at(apex, Rtype::ZONEMD, Problem::ZonemdMismatch),
        _ => {}
    }
    let keys: Vec<Dnskey> = index
        .nodes
        .get(apex)
        .and_then(|n| n.rrsets.get(&Rtype::DNSKEY))
        .map(|s| {
            s.rdatas
                .iter()
                .filter_map(|d| match d {
                    RData::Dnskey(k) if k.flags & Dnskey::ZONE != 0 => Some(k.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let algorithms: BTreeSet<Algorithm> = keys.iter().map(|k| k.algorithm).collect();
    if keys.is_empty() {
        at(apex, Rtype::DNSKEY, Problem::NoDnskey);
    }
    let has_sep = keys.iter().any(|k| k.flags & Dnskey::SEP != 0);

    let mut signatures = 0;
    let mut rrsets = 0;
    for (name, node) in &index.nodes {
        let status = index.status(name);
        // (type covered) -> algorithms with a valid signature, and whether a SEP key signed.
        let mut valid: BTreeMap<Rtype, (BTreeSet<Algorithm>, bool)> = BTreeMap::new();
        for (_, sig) in &node.sigs {
            let Some(set) = node.rrsets.get(&sig.type_covered) else {
                at(name, sig.type_covered, Problem::OrphanRrsig);
                continue;
            };
            if !ZoneIndex::is_signed(sig.type_covered, status) {
                at(name, sig.type_covered, Problem::SignedNonAuthoritative);
                continue;
            }
            let rrset = RrsetRef {
                owner: &node.owner,
                class: index.class,
                rtype: sig.type_covered,
                rdatas: &set.rdatas,
            };
            match verify_rrsig(rrset, sig, apex, &keys, now) {
                Ok(key) => {
                    signatures += 1;
                    let entry = valid.entry(sig.type_covered).or_default();
                    entry.0.insert(sig.algorithm);
                    entry.1 |= key.flags & Dnskey::SEP != 0;
                }
                Err(e) => at(name, sig.type_covered, Problem::BadRrsig(e)),
            }
        }
        for &rtype in node.rrsets.keys() {
            if !ZoneIndex::is_signed(rtype, status) {
                continue;
            }
            rrsets += 1;
            let (algs, by_sep) = valid.get(&rtype).cloned().unwrap_or_default();
            for alg in algorithms.difference(&algs) {
                at(name, rtype, Problem::Unsigned(*alg));
            }
            if rtype == Rtype::DNSKEY && name == apex && has_sep && !by_sep && !algs.is_empty() {
                at(name, rtype, Problem::DnskeyNotSelfSigned);
            }
        }
    }

    let nsec3 = index
        .nodes
        .get(apex)
        .and_then(|n| n.rrsets.get(&Rtype::NSEC3PARAM))
        .and_then(|s| s.rdatas.first())
        .and_then(|d| match d {
            RData::Nsec3param(p) => Some(p.hash.clone()),
            _ => None,
        });
    let denial = match &nsec3 {
        Some(p) => check_nsec3(&index, p),
        None if index
            .nodes
            .values()
            .any(|n| n.rrsets.contains_key(&Rtype::NSEC)) =>
        {
            check_nsec(&index)
        }
        None => vec![ZoneProblem {
            owner: apex.clone(),
            rtype: Rtype::NSEC,
            problem: Problem::NoDenial,
        }],
    };
    problems.extend(denial);
    if problems.is_empty() {
        Ok(ZoneSummary {
            signatures,
            rrsets,
            nsec3: nsec3.is_some(),
        })
    } else {
        Err(problems)
    }
}

fn problem(owner: &Name, rtype: Rtype, problem: Problem) -> ZoneProblem {
    ZoneProblem {
        owner: owner.clone(),
        rtype,
        problem,
    }
}

fn check_nsec(index: &ZoneIndex) -> Vec<ZoneProblem> {
    let mut out = Vec::new();
    let names = index.chain_names();
    let chained: BTreeSet<&Name> = names.iter().map(|(n, _)| *n).collect();
    for (name, node) in &index.nodes {
        if node.rrsets.contains_key(&Rtype::NSEC) && !chained.contains(name) {
            out.push(problem(name, Rtype::NSEC, Problem::ExtraDenial));
        }
    }
    for (i, (name, status)) in names.iter().enumerate() {
        let Some(set) = index
            .nodes
            .get(*name)
            .and_then(|n| n.rrsets.get(&Rtype::NSEC))
        else {
            out.push(problem(name, Rtype::NSEC, Problem::MissingDenial));
            continue;
        };
        let [RData::Nsec(nsec)] = set.rdatas.as_slice() else {
            out.push(problem(name, Rtype::NSEC, Problem::Inconsistent));
            continue;
        };
        let next = names.get(i + 1).map_or(&index.apex, |(n, _)| *n);
        if nsec.next != *next {
            out.push(problem(name, Rtype::NSEC, Problem::BrokenChain));
        }
        let mut types = index.denial_types(name, *status);
        types.push(Rtype::NSEC);
        if ZoneIndex::is_signed(Rtype::NSEC, *status) {
            types.push(Rtype::RRSIG);
        }
        if nsec.types != TypeBitmap::new(types) {
            out.push(problem(name, Rtype::NSEC, Problem::WrongBitmap));
        }
    }
    out
}

fn check_nsec3(index: &ZoneIndex, param: &lib_dns::rdata::Nsec3Hash) -> Vec<ZoneProblem> {
    let mut out = Vec::new();
    let apex = &index.apex;
    // Every NSEC3 record by the hash its owner holds.
    let mut chain: BTreeMap<Vec<u8>, (&Name, &lib_dns::rdata::Nsec3)> = BTreeMap::new();
    for (name, node) in &index.nodes {
        let Some(set) = node.rrsets.get(&Rtype::NSEC3) else {
            continue;
        };
        for d in &set.rdatas {
            let RData::Nsec3(n) = d else { continue };
            if n.hash.algorithm != param.algorithm
                || n.hash.iterations != param.iterations
                || n.hash.salt != param.salt
                || name.parent().as_ref() != Some(apex)
            {
                out.push(problem(name, Rtype::NSEC3, Problem::Inconsistent));
                continue;
            }
            match crate::nsec3::owner_hash(name) {
                Some(h) => {
                    if chain.insert(h, (name, n)).is_some() {
                        out.push(problem(name, Rtype::NSEC3, Problem::Inconsistent));
                    }
                }
                None => out.push(problem(name, Rtype::NSEC3, Problem::Inconsistent)),
            }
        }
    }
    let opt_out = chain.values().any(|(_, n)| n.opt_out());
    // Each name of the zone must have its NSEC3 (unless opted out), with the right types:
    // (name, types listed, whether signed data is there, whether it may be missing).
    let mut wanted: Vec<(Name, Vec<Rtype>, bool, bool)> = Vec::new();
    for (name, status) in index.chain_names() {
        let types = index.denial_types(name, status);
        // An insecure delegation's bitmap is NS alone: no RRSIG.
        let insecure = status == Status::Delegation && !types.contains(&Rtype::DS);
        wanted.push((name.clone(), types, !insecure, insecure && opt_out));
    }
    for ent in index.empty_non_terminals() {
        wanted.push((ent, Vec::new(), false, opt_out));
    }
    let mut covered: BTreeSet<Vec<u8>> = BTreeSet::new();
    for (name, mut types, signed, may_skip) in wanted {
        let h = nsec3_hash(&name, &param.salt, param.iterations);
        match chain.get(&h) {
            Some((owner, n)) => {
                if signed {
                    types.push(Rtype::RRSIG);
                }
                if n.types != TypeBitmap::new(types) {
                    out.push(problem(owner, Rtype::NSEC3, Problem::WrongBitmap));
                }
            }
            None if may_skip => {}
            None => {
                let owner = hashed_owner(&h, apex).unwrap_or_else(|_| name.clone());
                out.push(problem(&owner, Rtype::NSEC3, Problem::MissingDenial));
            }
        }
        covered.insert(h);
    }
    for (h, (owner, _)) in &chain {
        if !covered.contains(h) {
            out.push(problem(owner, Rtype::NSEC3, Problem::ExtraDenial));
        }
    }
    // The chain: each record's next hash is the following owner's, the last wraps.
    let hashes: Vec<&Vec<u8>> = chain.keys().collect();
    for (i, (owner, n)) in chain.values().enumerate() {
        let next = hashes.get(i + 1).or(hashes.first());
        if next.is_none_or(|h| **h != n.next_hashed) {
            out.push(problem(owner, Rtype::NSEC3, Problem::BrokenChain));
        }
    }
    out
}
