//! Aggressive use of the DNSSEC-validated cache (RFC 8198): NSEC records that came
//! with Secure negative answers are kept per zone, in canonical order, and a later
//! question that one of them already answers (a name inside a span the chain proves
//! empty, with the wildcard at its closest encloser proven absent too; or a name whose
//! NSEC lacks the type) is answered NXDOMAIN or NODATA at once, without asking.
//!
//! Only NSEC is used (RFC 8198 §4 allows NSEC3 too; hashed spans are rarely hit).
//! Entries live for the negative TTL of seed 003 §12.1 computed from the zone's SOA, so
//! synthesised denials follow the same 60 s cap as cached ones, and they are dropped
//! with the negative cache on a topology change or zone update hint (§12.2 rule 3).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use lib_dns::rdata::Nsec;
use lib_dns::{Name, RData, Rcode, Record, Rtype};
use zdns_dnssec::validate::{NsecRef, nsec_covers, nsec_nodata, nsec_nxdomain};

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

/// What is known of one zone's NSEC chain.
#[derive(Debug)]
struct Chain {
    /// The zone's SOA and its RRSIGs, for the authority section.
    soa: Vec<Record>,
    links: BTreeMap<Name, Link>,
}

/// A denial synthesised from cached NSEC records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synthesised {
    /// NXDOMAIN or NOERROR (NODATA).
    pub rcode: Rcode,
    /// The zone's SOA, its TTL counted down.
    pub soa: Record,
    /// The NSEC records and the RRSIGs of the SOA and NSECs.
    pub proof: Vec<Record>,
}

/// Validated NSEC chains by zone.
#[derive(Debug, Default)]
pub(super) struct NsecCache {
    zones: Mutex<HashMap<Name, Chain>>,
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

    /// The denial of (`qname`, `qtype`) the cached NSEC records prove, if they do.
    pub(super) fn synthesise(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<Synthesised> {
        let zones = self.lock();
        let (_, chain) = zones
            .iter()
            .filter(|(zone, _)| qname.is_subdomain_of(zone))
            .max_by_key(|(zone, _)| zone.label_count())?;
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
        let expires = used.iter().map(|(_, l)| l.expires).min()?;
        let ttl = u32::try_from(expires.saturating_sub(now)).unwrap_or(u32::MAX);
        let mut soa = chain.soa.first()?.clone();
        soa.ttl = ttl;
        let proof = chain
            .soa
            .iter()
            .skip(1)
            .chain(used.iter().flat_map(|(_, l)| &l.records))
            .map(|r| Record { ttl, ..r.clone() })
            .collect();
        Some(Synthesised { rcode, soa, proof })
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
