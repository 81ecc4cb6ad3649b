//! Aggressive use of the DNSSEC-validated cache (RFC 8198): NSEC and NSEC3 records that
//! came with Secure negative answers are kept per zone, in canonical (or hash) order,
//! and a later question that they already answer is answered NXDOMAIN or NODATA at once,
//! without asking:
//!
//! - NSEC (RFC 8198 §5.1): a name inside a span the chain proves empty, with the
//!   wildcard at its closest encloser proven absent too; or a name whose NSEC lacks the
//!   type.
//! - NSEC3 (RFC 8198 §4, RFC 5155 §8): a closest encloser proof built from cached records
//!   (an ancestor's matching NSEC3, the NSEC3 covering the next closer name, the one
//!   covering the wildcard at the encloser); or a matching NSEC3 that lacks the type.
//!   An NSEC3 with the opt-out flag never serves for NXDOMAIN: its span may hold
//!   unsigned delegations (RFC 5155 §6), so only a query can tell.
//!
//! Entries live for the negative TTL of seed 003 §12.1 computed from the zone's SOA, so
//! synthesised denials follow the same 60 s cap as cached ones, and they are dropped
//! with the negative cache on a topology change or zone update hint (§12.2 rule 3).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use lib_dns::rdata::{Nsec, Nsec3};
use lib_dns::{Name, RData, Rcode, Record, Rtype};
use zdns_dnssec::nsec3::{nsec3_hash, owner_hash};
use zdns_dnssec::validate::{
    Nsec3Ref, NsecRef, nsec_covers, nsec_nodata, nsec_nxdomain, nsec3_nodata, nsec3_nxdomain,
};

use crate::cache::negative_ttl;

/// The most NSEC records kept per zone.
const MAX_NSECS_PER_ZONE: usize = 2_000;

/// The most zones with NSEC records kept.
const MAX_ZONES: usize = 1_000;

/// One validated NSEC record with its signatures.
#[derive(Debug)]
struct Link {
    nsec: Nsec,
    /// The NSEC record and its RRSIGs, for clients that set DO.
    records: Vec<Record>,
    expires: u64,
}

/// One validated NSEC3 record with its signatures.
#[derive(Debug)]
struct HashedLink {
    owner: Name,
    nsec3: Nsec3,
    /// The NSEC3 record and its RRSIGs, for clients that set DO.
    records: Vec<Record>,
    expires: u64,
}

/// What is known of one zone's NSEC or NSEC3 chain.
#[derive(Debug)]
struct Chain {
    /// The zone's SOA and its RRSIGs, for the authority section.
    soa: Vec<Record>,
    links: BTreeMap<Name, Link>,
    /// NSEC3 records by the hash their owner name holds (hash order is the chain's).
    hashed: BTreeMap<Vec<u8>, HashedLink>,
}

impl Chain {
    /// The fresh NSEC3 record whose owner hash is `h`.
    fn matching(&self, h: &[u8], now: u64) -> Option<&HashedLink> {
        self.hashed.get(h).filter(|l| l.expires > now)
    }

    /// The fresh NSEC3 record that may cover `h`: the one before it in hash order, or
    /// the last one (whose span wraps to the first). The proof check says if it does.
    fn before(&self, h: &[u8], now: u64) -> Option<&HashedLink> {
        self.hashed
            .range(..h.to_vec())
            .next_back()
            .or_else(|| self.hashed.iter().next_back())
            .map(|(_, l)| l)
            .filter(|l| l.expires > now)
    }

    /// The denial of (`qname`, `qtype`) in `zone` the cached NSEC3 records prove, as
    /// the rcode and the records used (RFC 5155 §8.4 NXDOMAIN, §8.5 NODATA).
    fn nsec3_denial(
        &self,
        zone: &Name,
        qname: &Name,
        qtype: Rtype,
        now: u64,
    ) -> Option<(Rcode, Vec<&HashedLink>)> {
        let first = self.hashed.values().find(|l| l.expires > now)?;
        let (salt, iterations) = (&first.nsec3.hash.salt, first.nsec3.hash.iterations);
        let hash = |name: &Name| nsec3_hash(name, salt, iterations);
        if let Some(m) = self.matching(&hash(qname), now) {
            nsec3_nodata(qname, qtype, zone, &hashed_refs(&[m])).ok()?;
            return Some((Rcode::NOERROR, vec![m]));
        }
        // The closest encloser: the nearest ancestor with a cached matching NSEC3. An
        // ancestor that exists but is not cached makes the next closer name's cover
        // check fail (its hash is matched, not covered), so nothing is made up.
        let mut next_closer = qname.clone();
        let mut cur = qname.parent();
        let encloser = loop {
            let name = cur?;
            if !name.is_subdomain_of(zone) {
                return None;
            }
            if let Some(m) = self.matching(&hash(&name), now) {
                break (name, m);
            }
            cur = name.parent();
            next_closer = name;
        };
        let cover = self.before(&hash(&next_closer), now)?;
        let wildcard = encloser.0.child(b"*").ok()?;
        let wild_cover = self.before(&hash(&wildcard), now)?;
        let mut used = vec![encloser.1];
        for link in [cover, wild_cover] {
            if used.iter().all(|u| u.owner != link.owner) {
                used.push(link);
            }
        }
        if used.iter().any(|l| l.nsec3.opt_out()) {
            // RFC 5155 §6, RFC 8198 §4: an opt-out span may hide unsigned delegations.
            return None;
        }
        nsec3_nxdomain(qname, zone, &hashed_refs(&used)).ok()?;
        Some((Rcode::NXDOMAIN, used))
    }
}

/// A denial synthesised from cached NSEC or NSEC3 records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synthesised {
    /// NXDOMAIN or NOERROR (NODATA).
    pub rcode: Rcode,
    /// The zone's SOA, its TTL counted down.
    pub soa: Record,
    /// The NSEC or NSEC3 records and the RRSIGs of the SOA and of those records.
    pub proof: Vec<Record>,
}

/// Validated NSEC and NSEC3 chains by zone.
#[derive(Debug, Default)]
pub(super) struct NsecCache {
    zones: Mutex<HashMap<Name, Chain>>,
}

/// The records of `used` as the proof checks take them.
fn hashed_refs<'a>(used: &[&'a HashedLink]) -> Vec<Nsec3Ref<'a>> {
    used.iter()
        .map(|l| Nsec3Ref {
            owner: &l.owner,
            nsec3: &l.nsec3,
        })
        .collect()
}

/// The answer made of the zone's SOA and the `used` records (with when each expires),
/// every TTL counted down to the earliest expiry.
fn synthesised<'a>(
    chain: &Chain,
    rcode: Rcode,
    used: impl Iterator<Item = (u64, &'a [Record])> + Clone,
    now: u64,
) -> Option<Synthesised> {
    let expires = used.clone().map(|(e, _)| e).min()?;
    let ttl = u32::try_from(expires.saturating_sub(now)).unwrap_or(u32::MAX);
    let mut soa = chain.soa.first()?.clone();
    soa.ttl = ttl;
    let proof = chain
        .soa
        .iter()
        .skip(1)
        .chain(used.flat_map(|(_, records)| records))
        .map(|r| Record { ttl, ..r.clone() })
        .collect();
    Some(Synthesised { rcode, soa, proof })
}

/// Keeps one validated NSEC3 record of `zone` (owner one label below the apex, signed
/// by the zone) in `chain`. Records with other hash parameters than those kept replace
/// them all: the zone was re-salted, and a proof must not mix the two chains.
fn learn_nsec3(
    chain: &mut Chain,
    zone: &Name,
    record: &Record,
    nsec3: &Nsec3,
    proof: &[Record],
    now: u64,
    expires: u64,
) {
    if record.owner.parent().as_ref() != Some(zone) {
        return;
    }
    let Some(hash) = owner_hash(&record.owner) else {
        return;
    };
    let sigs: Vec<Record> = proof
        .iter()
        .filter(|r| is_sig_over(r, &record.owner, Rtype::NSEC3))
        .filter(|r| matches!(&r.data, RData::Rrsig(s) if s.signer == *zone))
        .cloned()
        .collect();
    if sigs.is_empty() {
        return;
    }
    let params = |n: &Nsec3| (n.hash.algorithm, n.hash.iterations, n.hash.salt.clone());
    if chain
        .hashed
        .values()
        .any(|l| params(&l.nsec3) != params(nsec3))
    {
        chain.hashed.clear();
    }
    if chain.hashed.len() >= MAX_NSECS_PER_ZONE {
        chain.hashed.retain(|_, l| l.expires > now);
        if chain.hashed.len() >= MAX_NSECS_PER_ZONE {
            return;
        }
    }
    chain.hashed.insert(
        hash,
        HashedLink {
            owner: record.owner.to_lowercase(),
            nsec3: nsec3.clone(),
            records: std::iter::once(record.clone()).chain(sigs).collect(),
            expires,
        },
    );
}

/// The number of labels `a` and `b` share from the right.
fn common_labels(a: &Name, b: &Name) -> usize {
    let la: Vec<&[u8]> = a.labels().collect();
    let lb: Vec<&[u8]> = b.labels().collect();
    la.iter()
        .rev()
        .zip(lb.iter().rev())
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
        .count()
}

fn is_sig_over(r: &Record, owner: &Name, rtype: Rtype) -> bool {
    r.owner == *owner && matches!(&r.data, RData::Rrsig(s) if s.type_covered == rtype)
}

impl NsecCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<Name, Chain>> {
        self.zones.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the NSEC records of `proof` (already validated, with their RRSIGs) for
    /// `zone`, whose SOA is `soa`.
    pub(super) fn learn(&self, zone: &Name, soa: &Record, proof: &[Record], now: u64) {
        let RData::Soa(fields) = &soa.data else {
            return;
        };
        let ttl = negative_ttl(fields.minimum, soa.ttl);
        if ttl == 0 {
            return;
        }
        let mut zones = self.lock();
        if !zones.contains_key(zone) && zones.len() >= MAX_ZONES {
            zones.retain(|_, chain| chain.links.values().any(|l| l.expires > now));
            if zones.len() >= MAX_ZONES {
                return;
            }
        }
        let chain = zones.entry(zone.to_lowercase()).or_insert_with(|| Chain {
            soa: Vec::new(),
            links: BTreeMap::new(),
            hashed: BTreeMap::new(),
        });
        chain.soa = std::iter::once(soa.clone())
            .chain(
                proof
                    .iter()
                    .filter(|r| is_sig_over(r, &soa.owner, Rtype::SOA))
                    .cloned(),
            )
            .collect();
        for record in proof {
            if let RData::Nsec3(nsec3) = &record.data {
                let expires = now.saturating_add(u64::from(ttl.min(record.ttl)));
                learn_nsec3(chain, zone, record, nsec3, proof, now, expires);
                continue;
            }
            let RData::Nsec(nsec) = &record.data else {
                continue;
            };
            if !record.owner.is_subdomain_of(zone) {
                continue;
            }
            if chain.links.len() >= MAX_NSECS_PER_ZONE {
                chain.links.retain(|_, l| l.expires > now);
                if chain.links.len() >= MAX_NSECS_PER_ZONE {
                    return;
                }
            }
            // Only NSECs the judgement verified: those signed by the zone itself.
            let sigs: Vec<Record> = proof
                .iter()
                .filter(|r| is_sig_over(r, &record.owner, Rtype::NSEC))
                .filter(|r| matches!(&r.data, RData::Rrsig(s) if s.signer == *zone))
                .cloned()
                .collect();
            if sigs.is_empty() {
                continue;
            }
            let records = std::iter::once(record.clone()).chain(sigs).collect();
            let expires = now.saturating_add(u64::from(ttl.min(record.ttl)));
            chain.links.insert(
                record.owner.to_lowercase(),
                Link {
                    nsec: (**nsec).clone(),
                    records,
                    expires,
                },
            );
        }
    }

    /// The denial of (`qname`, `qtype`) the cached NSEC or NSEC3 records prove, if
    /// they do.
    pub(super) fn synthesise(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<Synthesised> {
        let zones = self.lock();
        let (zone, chain) = zones
            .iter()
            .filter(|(zone, _)| qname.is_subdomain_of(zone))
            .max_by_key(|(zone, _)| zone.label_count())?;
        if !chain.hashed.is_empty() {
            let (rcode, used) = chain.nsec3_denial(zone, qname, qtype, now)?;
            let records = used.iter().map(|l| (l.expires, l.records.as_slice()));
            return synthesised(chain, rcode, records, now);
        }
        // The NSEC at or before `name` in canonical order, if still fresh.
        let before = |name: &Name| {
            chain
                .links
                .range(..=name.clone())
                .next_back()
                .filter(|(_, link)| link.expires > now)
        };
        let (owner, link) = before(qname)?;
        let mut used: Vec<(&Name, &Link)> = vec![(owner, link)];
        let rcode = if owner == qname {
            let refs = [NsecRef {
                owner,
                nsec: &link.nsec,
            }];
            nsec_nodata(qname, qtype, &refs).ok()?;
            Rcode::NOERROR
        } else {
            let cover = NsecRef {
                owner,
                nsec: &link.nsec,
            };
            if !nsec_covers(cover, qname) {
                return None;
            }
            let shared = common_labels(qname, owner).max(common_labels(qname, &link.nsec.next));
            let wildcard = qname.suffix(shared).child(b"*").ok()?;
            let (w_owner, w_link) = before(&wildcard)?;
            if *w_owner == wildcard {
                // The wildcard exists: its answer is not ours to make up.
                return None;
            }
            if w_owner != owner {
                used.push((w_owner, w_link));
            }
            let refs: Vec<NsecRef<'_>> = used
                .iter()
                .map(|&(owner, link)| NsecRef {
                    owner,
                    nsec: &link.nsec,
                })
                .collect();
            nsec_nxdomain(qname, &refs).ok()?;
            Rcode::NXDOMAIN
        };
        let records = used.iter().map(|(_, l)| (l.expires, l.records.as_slice()));
        synthesised(chain, rcode, records, now)
    }

    /// Drops the chains of zones at or below `zone`, or all of them.
    pub(super) fn flush(&self, zone: Option<&Name>) -> usize {
        let mut zones = self.lock();
        let before = zones.len();
        match zone {
            Some(z) => zones.retain(|name, _| !name.is_subdomain_of(z)),
            None => zones.clear(),
        }
        before - zones.len()
    }
}
