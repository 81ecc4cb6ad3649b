//! DNSSEC validation in the resolver (RFC 4033–4035, RFC 5155 §8, RFC 6840), on the
//! validation core of `zdns-dnssec`.
//!
//! The [`Validator`] holds the trust anchors, the negative trust anchors (RFC 7646) and
//! what it has learned about zones: each zone's validated DNSKEY RRset, the parent's
//! validated DS RRset awaiting the DNSKEYs, or the proof that the zone is insecure or
//! its chain broken. Keys are validated once per TTL and then reused, so a warm
//! resolver verifies one signature per RRset and no chain.
//!
//! [`Validator::judge`] is pure over what the validator knows: it says whether an
//! answer is Secure, Insecure, Bogus or Indeterminate (RFC 4035 §4.3), or which DS or
//! DNSKEY RRset it must see first ([`Fetch`]). The iteration fetches that RRset through
//! the hierarchy (a DS from the parent's servers, RFC 4035 §4.2), hands the reply to
//! [`Validator::learn`], and asks again; a chain of trust is built one zone cut at a
//! time, from the closest trust anchor down to the zone that signed the data. DS RRsets
//! and their denials that came with referrals on the way down are used instead of a
//! query.

mod aggressive;
pub mod anchor;
pub mod rfc5011;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use lib_dns::rdata::{Dnskey, Ds, Nsec, Nsec3, Rrsig};
use lib_dns::{Class, Name, RData, Rcode, Record, Rtype};
use zdns_dnssec::ds::ds_matches;
use zdns_dnssec::validate::{
    Nsec3Ref, NsecRef, nsec_insecure_delegation, nsec_nodata, nsec_nxdomain, nsec_wildcard_answer,
    nsec_wildcard_nodata, nsec3_insecure_delegation, nsec3_nodata, nsec3_nxdomain,
    nsec3_wildcard_answer, nsec3_wildcard_nodata, validate_dnskeys, verify_rrset,
};
use zdns_dnssec::verify::RrsetRef;

use rfc5011::Managed;

pub use aggressive::Synthesised;
pub use anchor::TrustAnchor;
pub use zdns_dnssec::validate::{Ede, Failure, Security};

/// How long a broken chain is remembered before it is tried again (RFC 9520 §3.2 asks
/// for failures to be cached, for at most five minutes).
const BOGUS_TTL: u32 = 60;

/// How long a zone whose keys could not be fetched at all is remembered.
const UNREACHABLE_TTL: u32 = 5;

/// The longest a validated DNSKEY or DS RRset is kept (seconds).
const MAX_KEY_TTL: u32 = 86_400;

/// What the validator trusts from the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationConfig {
    /// Trust anchors (RFC 4035 §4.4), at most one entry per zone.
    pub anchors: Vec<TrustAnchor>,
    /// Negative trust anchors (RFC 7646): names at and below them are treated as
    /// insecure whatever their signatures say.
    pub negative_anchors: Vec<Name>,
}

/// A DS or DNSKEY RRset the validator must see before it can judge.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fetch {
    /// The zone's DNSKEY RRset (from the zone's own servers).
    Dnskey(Name),
    /// The zone's DS RRset (from its parent's servers, RFC 4035 §4.2).
    Ds(Name),
}

impl Fetch {
    /// The question that fetches it.
    pub fn question(&self) -> (Name, Rtype) {
        match self {
            Fetch::Dnskey(zone) => (zone.clone(), Rtype::DNSKEY),
            Fetch::Ds(zone) => (zone.clone(), Rtype::DS),
        }
    }
}

/// The outcome of validating an answer: its status and, unless Secure, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Secure, Insecure, Bogus or Indeterminate.
    pub security: Security,
    /// What failed (the Extended DNS Error to send with it), if anything.
    pub failure: Option<Failure>,
}

impl Verdict {
    /// Every RRset verified along a chain of trust.
    pub const SECURE: Verdict = Verdict {
        security: Security::Secure,
        failure: None,
    };

    fn failed(failure: Failure) -> Verdict {
        Verdict::from(failure)
    }

    /// The worse of two verdicts, for an answer made of several RRsets: Bogus over
    /// Indeterminate over Insecure over Secure; the first failure is kept.
    fn worse(self, other: Verdict) -> Verdict {
        let rank = |s: Security| match s {
            Security::Secure => 0,
            Security::Insecure => 1,
            Security::Indeterminate => 2,
            Security::Bogus => 3,
        };
        let security = if rank(other.security) > rank(self.security) {
            other.security
        } else {
            self.security
        };
        Verdict {
            security,
            failure: self.failure.or(other.failure),
        }
    }
}

impl From<Failure> for Verdict {
    fn from(failure: Failure) -> Verdict {
        Verdict {
            security: failure.security,
            failure: Some(failure),
        }
    }
}

/// An answer to judge, as the iteration collected it.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The question.
    pub qname: &'a Name,
    /// The type asked.
    pub qtype: Rtype,
    /// NOERROR or NXDOMAIN.
    pub rcode: Rcode,
    /// The answer section: aliases followed, then the RRset asked for (no RRSIGs).
    pub answers: &'a [Record],
    /// The authority section of a negative answer (its SOA).
    pub authority: &'a [Record],
    /// The RRSIG, NSEC and NSEC3 records of the responses the answer came from.
    pub proof: &'a [Record],
    /// The zone cuts of the servers that gave the answer, for unsigned RRsets.
    pub zones: &'a [Name],
}

/// A reply to a [`Fetch`].
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// NOERROR or NXDOMAIN.
    pub rcode: Rcode,
    /// The answer section (the DS or DNSKEY RRset, when there is one).
    pub answers: &'a [Record],
    /// The RRSIG, NSEC and NSEC3 records of the response.
    pub proof: &'a [Record],
}

/// What is known about one zone.
#[derive(Debug, Clone)]
enum Known {
    /// Its DNSKEY RRset, validated.
    Keys(Arc<[Dnskey]>),
    /// The parent's validated DS RRset; the DNSKEYs are yet to be fetched.
    Delegated(Arc<[Ds]>),
    /// Proven insecure (no DS, only unsupported algorithms, opt-out).
    Insecure(Option<Failure>),
    /// The chain of trust breaks here.
    Bogus(Failure),
    /// Not a zone cut: the parent proved the name has neither DS nor NS.
    NotCut,
}

#[derive(Debug)]
struct Entry {
    known: Known,
    expires: u64,
}

/// The state of a zone's keys as [`Validator::judge`] uses it.
enum ZoneState {
    Secure(Arc<[Dnskey]>),
    Insecure(Option<Failure>),
    Indeterminate,
    Bogus(Failure),
}

impl ZoneState {
    fn verdict(&self) -> Verdict {
        match self {
            ZoneState::Secure(_) => Verdict::SECURE,
            ZoneState::Insecure(failure) => Verdict {
                security: Security::Insecure,
                failure: *failure,
            },
            ZoneState::Indeterminate => Verdict {
                security: Security::Indeterminate,
                failure: None,
            },
            ZoneState::Bogus(failure) => Verdict::failed(*failure),
        }
    }
}

/// The validator the resolver shares between queries.
#[derive(Debug)]
pub struct Validator {
    anchors: RwLock<Vec<TrustAnchor>>,
    negative: RwLock<Vec<Name>>,
    zones: Mutex<HashMap<Name, Entry>>,
    /// Zone cuts learned from signer names, beyond those the cache knows from referrals.
    cuts: Mutex<HashSet<Name>>,
    /// Validated NSEC chains for aggressive negative answers (RFC 8198).
    denials: aggressive::NsecCache,
    /// The RFC 5011 state of each anchored zone.
    managed: Mutex<HashMap<Name, Managed>>,
    /// The anchors in force changed since [`Validator::take_anchor_changes`] last said.
    anchors_changed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The low 32 bits of the time, as RRSIG validity periods count it (RFC 4034 §3.1.5).
fn now32(now: u64) -> u32 {
    (now & u64::from(u32::MAX)) as u32
}

/// The RRSIGs in `proof` over the RRset (`owner`, `rtype`).
fn rrsigs_for(proof: &[Record], owner: &Name, rtype: Rtype) -> Vec<Rrsig> {
    proof
        .iter()
        .filter(|r| r.owner == *owner)
        .filter_map(|r| match &r.data {
            RData::Rrsig(sig) if sig.type_covered == rtype => Some((**sig).clone()),
            _ => None,
        })
        .collect()
}

/// The zone that signed an RRset at `owner`: the deepest signer name at or above it.
fn signer_zone(sigs: &[Rrsig], owner: &Name) -> Option<Name> {
    sigs.iter()
        .map(|s| &s.signer)
        .filter(|s| owner.is_subdomain_of(s))
        .max_by_key(|s| s.label_count())
        .cloned()
}

/// The deepest of `zones` at or above `name`.
fn zone_hint(name: &Name, zones: &[Name]) -> Option<Name> {
    zones
        .iter()
        .filter(|z| name.is_subdomain_of(z))
        .max_by_key(|z| z.label_count())
        .cloned()
}

/// The zone an unsigned RRset at `name` belongs to: the deepest of the zones of the
/// servers that answered and of the cuts the cache knows (an answer part taken from
/// the cache has no server of its own), else the root.
fn enclosing_zone(name: &Name, zones: &[Name], is_cut: &dyn Fn(&Name) -> bool) -> Name {
    let hint = zone_hint(name, zones);
    let depth = hint.as_ref().map_or(0, Name::label_count);
    let mut cur = Some(name.clone());
    while let Some(n) = cur {
        if n.label_count() <= depth {
            break;
        }
        if is_cut(&n) {
            return n;
        }
        cur = n.parent();
    }
    hint.unwrap_or_else(Name::root)
}

/// The RRsets of `records` in order of first appearance: owner, type, data, TTL.
fn rrsets_in(records: &[Record]) -> Vec<(Name, Rtype, Vec<RData>)> {
    let mut sets: Vec<(Name, Rtype, Vec<RData>)> = Vec::new();
    for r in records {
        match sets
            .iter_mut()
            .find(|(o, t, _)| *o == r.owner && *t == r.rtype())
        {
            Some((_, _, data)) => data.push(r.data.clone()),
            None => sets.push((r.owner.clone(), r.rtype(), vec![r.data.clone()])),
        }
    }
    sets
}

fn min_ttl(records: &[&Record]) -> u32 {
    records
        .iter()
        .map(|r| r.ttl)
        .min()
        .unwrap_or(BOGUS_TTL)
        .min(MAX_KEY_TTL)
}

/// Denial records whose signatures verified: NSECs and NSEC3s with their owners.
type Denials = (Vec<(Name, Nsec)>, Vec<(Name, Nsec3)>);

/// The NSEC and NSEC3 records of `proof` signed by `zone`, each verified with `keys`.
/// Records signed by other zones are left out; one that fails to verify fails all.
fn verified_denials(
    proof: &[Record],
    zone: &Name,
    keys: &[Dnskey],
    now: u32,
) -> Result<Denials, Failure> {
    let mut nsecs = Vec::new();
    let mut nsec3s = Vec::new();
    for record in proof {
        let rtype = record.rtype();
        if !matches!(rtype, Rtype::NSEC | Rtype::NSEC3) || !record.owner.is_subdomain_of(zone) {
            continue;
        }
        let sigs: Vec<Rrsig> = rrsigs_for(proof, &record.owner, rtype)
            .into_iter()
            .filter(|s| s.signer == *zone)
            .collect();
        if sigs.is_empty() {
            continue;
        }
        let rdatas = [record.data.clone()];
        let rrset = RrsetRef {
            owner: &record.owner,
            class: Class::IN,
            rtype,
            rdatas: &rdatas,
        };
        verify_rrset(rrset, &sigs, zone, keys, now)?;
        match &record.data {
            RData::Nsec(n) => nsecs.push((record.owner.clone(), (**n).clone())),
            RData::Nsec3(n) => nsec3s.push((record.owner.clone(), (**n).clone())),
            _ => {}
        }
    }
    Ok((nsecs, nsec3s))
}

fn nsec_refs(nsecs: &[(Name, Nsec)]) -> Vec<NsecRef<'_>> {
    nsecs
        .iter()
        .map(|(owner, nsec)| NsecRef { owner, nsec })
        .collect()
}

fn nsec3_refs(nsec3s: &[(Name, Nsec3)]) -> Vec<Nsec3Ref<'_>> {
    nsec3s
        .iter()
        .map(|(owner, nsec3)| Nsec3Ref { owner, nsec3 })
        .collect()
}

const NO_DENIAL: Failure = Failure {
    security: Security::Bogus,
    ede: Ede::NsecMissing,
    reason: "no signed NSEC or NSEC3 proves the denial",
};

/// The authenticated denial of (`name`, `qtype`) in `zone` (RFC 4035 §5.4, RFC 5155
/// §8.4–§8.7): NXDOMAIN when `nxdomain`, else NODATA (a wildcard NODATA included).
fn denial_proven(
    name: &Name,
    qtype: Rtype,
    nxdomain: bool,
    zone: &Name,
    denials: &Denials,
) -> Result<(), Failure> {
    let (nsecs, nsec3s) = denials;
    if !nsecs.is_empty() {
        let refs = nsec_refs(nsecs);
        return if nxdomain {
            nsec_nxdomain(name, &refs).map(|_| ())
        } else {
            nsec_nodata(name, qtype, &refs)
                .or_else(|e| nsec_wildcard_nodata(name, qtype, &refs).map_err(|_| e))
        };
    }
    if !nsec3s.is_empty() {
        let refs = nsec3_refs(nsec3s);
        return if nxdomain {
            nsec3_nxdomain(name, zone, &refs).map(|_| ())
        } else {
            nsec3_nodata(name, qtype, zone, &refs).or_else(|e| {
                if e.security == Security::Insecure {
                    return Err(e);
                }
                nsec3_wildcard_nodata(name, qtype, zone, &refs).map_err(|_| e)
            })
        };
    }
    Err(NO_DENIAL)
}

impl Validator {
    /// A validator with `config`'s anchors and negative anchors.
    pub fn new(config: &ValidationConfig) -> Validator {
        let anchors = anchor::merge_anchors(config.anchors.clone());
        let managed = anchors
            .iter()
            .map(|a| (a.zone.clone(), Managed::new(a.clone())))
            .collect();
        Validator {
            managed: Mutex::new(managed),
            anchors_changed: AtomicBool::new(false),
            anchors: RwLock::new(anchors),
            negative: RwLock::new(config.negative_anchors.clone()),
            zones: Mutex::new(HashMap::new()),
            cuts: Mutex::new(HashSet::new()),
            denials: aggressive::NsecCache::default(),
        }
    }

    /// The NXDOMAIN or NODATA for (`qname`, `qtype`) that NSEC records of earlier
    /// Secure answers already prove (RFC 8198 §5.1), if any: the answer needs no query.
    pub fn synthesise(&self, qname: &Name, qtype: Rtype, now: u64) -> Option<Synthesised> {
        if self.under_negative_anchor(qname) {
            return None;
        }
        self.denials.synthesise(qname, qtype, now)
    }

    /// Keeps the validated NSEC records of a Secure negative answer from `zone` (whose
    /// SOA is `soa`) for [`Validator::synthesise`].
    pub fn remember_denial(&self, zone: &Name, soa: &Record, proof: &[Record], now: u64) {
        self.denials.learn(zone, soa, proof, now);
    }

    /// Forgets the NSEC chains of zones at or below `zone`, or all (with the negative
    /// cache, seed 003 §12.2 rule 3). Returns how many zones' chains went.
    pub fn flush_denials(&self, zone: Option<&Name>) -> usize {
        self.denials.flush(zone)
    }

    /// The trust anchors in use.
    pub fn anchors(&self) -> Vec<TrustAnchor> {
        self.anchors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the trust anchors of `anchor.zone` (an RFC 5011 update) and forgets
    /// what was learned through the old ones.
    pub fn set_anchor(&self, anchor: TrustAnchor) {
        let zone = anchor.zone.clone();
        {
            let mut anchors = self.anchors.write().unwrap_or_else(PoisonError::into_inner);
            anchors.retain(|a| a.zone != zone);
            anchors.push(anchor);
        }
        self.forget(&zone);
    }

    /// The RFC 5011 state of `zone`'s anchor as text, to keep in the data directory.
    pub fn anchor_state(&self, zone: &Name) -> Option<String> {
        lock(&self.managed).get(zone).map(Managed::to_text)
    }

    /// Puts back the RFC 5011 state of `zone`'s anchor that [`Validator::anchor_state`]
    /// gave before a restart; the anchor in force becomes what it says.
    pub fn restore_anchor_state(&self, zone: &Name, text: &str) -> Result<(), String> {
        let mut managed = lock(&self.managed);
        let Some(current) = managed.get(zone) else {
            return Err(format!("no trust anchor for {zone}"));
        };
        let restored = Managed::from_text(current.initial.clone(), text)?;
        let anchor = restored.anchor();
        managed.insert(zone.clone(), restored);
        drop(managed);
        self.set_anchor(anchor);
        Ok(())
    }

    /// The anchored zones whose DNSKEY RRset is due for its RFC 5011 active refresh
    /// (§2.3): the caller forgets their keys ([`Validator::forget_keys`]) and asks for
    /// the RRset afresh, which validates and watches it again.
    pub fn refresh_due(&self, now: u64) -> Vec<Name> {
        lock(&self.managed)
            .iter()
            .filter(|(_, m)| m.refresh_at <= now)
            .map(|(zone, _)| zone.clone())
            .collect()
    }

    /// Forgets the validated keys of `zone` alone (not of zones below it), so the next
    /// judgement that needs them fetches and checks its DNSKEY RRset again.
    pub fn forget_keys(&self, zone: &Name) {
        lock(&self.zones).remove(zone);
    }

    /// Whether the anchors in force changed (an RFC 5011 event) since the last call:
    /// the caller should save [`Validator::anchor_state`].
    pub fn take_anchor_changes(&self) -> bool {
        self.anchors_changed.swap(false, Ordering::AcqRel)
    }

    /// The negative trust anchors in use.
    pub fn negative_anchors(&self) -> Vec<Name> {
        self.negative
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Adds a negative trust anchor (RFC 7646): `name` and everything below it are
    /// treated as insecure. Returns false if it was there already.
    pub fn add_negative_anchor(&self, name: Name) -> bool {
        let mut negative = self
            .negative
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if negative.contains(&name) {
            return false;
        }
        negative.push(name);
        true
    }

    /// Removes a negative trust anchor and forgets what was learned below it, so the
    /// zone is validated again. Returns whether it was there.
    pub fn remove_negative_anchor(&self, name: &Name) -> bool {
        let removed = {
            let mut negative = self
                .negative
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let before = negative.len();
            negative.retain(|n| n != name);
            negative.len() != before
        };
        if removed {
            self.forget(name);
        }
        removed
    }

    /// Forgets every zone at or below `name`.
    fn forget(&self, name: &Name) {
        lock(&self.zones).retain(|zone, _| !zone.is_subdomain_of(name));
    }

    fn under_negative_anchor(&self, name: &Name) -> bool {
        self.negative
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|n| name.is_subdomain_of(n))
    }

    fn anchor_for(&self, zone: &Name) -> Option<TrustAnchor> {
        self.anchors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|a| a.zone == *zone)
            .cloned()
    }

    fn anchored(&self, name: &Name) -> bool {
        self.anchors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|a| name.is_subdomain_of(&a.zone))
    }

    fn known(&self, zone: &Name, now: u64) -> Option<Known> {
        let mut zones = lock(&self.zones);
        match zones.get(zone) {
            Some(entry) if entry.expires > now => Some(entry.known.clone()),
            Some(_) => {
                zones.remove(zone);
                None
            }
            None => None,
        }
    }

    fn store(&self, zone: &Name, known: Known, ttl: u32, now: u64) {
        if let Known::Bogus(failure) = &known {
            tracing::info!(%zone, %failure, "DNSSEC chain of trust broken");
        }
        let entry = Entry {
            known,
            expires: now.saturating_add(u64::from(ttl.max(1))),
        };
        lock(&self.zones).insert(zone.to_lowercase(), entry);
    }

    fn store_failure(&self, zone: &Name, failure: Failure, ttl: u32, now: u64) {
        let known = match failure.security {
            Security::Insecure => Known::Insecure(Some(failure)),
            _ => Known::Bogus(failure),
        };
        self.store(zone, known, ttl, now);
    }

    /// The closest enclosing zone of `zone` the validator knows of: a trust anchor, a
    /// zone it holds keys or proofs for, a cut learned from a signer name, or one
    /// `is_cut` says the cache holds a delegation for.
    fn parent_zone(&self, zone: &Name, is_cut: &dyn Fn(&Name) -> bool) -> Option<Name> {
        let mut cur = zone.parent();
        while let Some(name) = cur {
            let known = self.anchor_for(&name).is_some()
                || lock(&self.zones)
                    .get(&name)
                    .is_some_and(|e| !matches!(e.known, Known::NotCut))
                || lock(&self.cuts).contains(&name)
                || is_cut(&name);
            if known {
                return Some(name);
            }
            cur = name.parent();
        }
        None
    }

    /// The keys of `zone`, or the RRset to fetch on the way to them.
    fn zone_state(
        &self,
        zone: &Name,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) -> Result<ZoneState, Fetch> {
        if self.under_negative_anchor(zone) {
            return Ok(ZoneState::Insecure(None));
        }
        if !self.anchored(zone) {
            // RFC 4033 §5: no trust anchor says whether this should be signed.
            return Ok(ZoneState::Indeterminate);
        }
        match self.known(zone, now) {
            Some(Known::Keys(keys)) => return Ok(ZoneState::Secure(keys)),
            Some(Known::Delegated(_)) => return Err(Fetch::Dnskey(zone.clone())),
            Some(Known::Insecure(failure)) => return Ok(ZoneState::Insecure(failure)),
            Some(Known::Bogus(failure)) => return Ok(ZoneState::Bogus(failure)),
            Some(Known::NotCut) | None => {}
        }
        if self.anchor_for(zone).is_some() {
            return Err(Fetch::Dnskey(zone.clone()));
        }
        let Some(parent) = self.parent_zone(zone, is_cut) else {
            return Ok(ZoneState::Indeterminate);
        };
        match self.zone_state(&parent, is_cut, now)? {
            ZoneState::Secure(_) => Err(Fetch::Ds(zone.clone())),
            other => Ok(other),
        }
    }

    /// Judges an answer (RFC 4035 §5): every RRset of the answer section against its
    /// signer's keys, a wildcard expansion against its proof that the name itself does
    /// not exist, and a negative answer against its NSEC or NSEC3 proof. `is_cut` says
    /// whether the cache knows a delegation at a name. Returns the RRset to fetch when
    /// a link of a chain of trust is missing.
    pub fn judge(
        &self,
        evidence: &Evidence<'_>,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) -> Result<Verdict, Fetch> {
        let mut verdict = Verdict::SECURE;
        let mut end = evidence.qname.clone();
        let mut answered = false;
        let mut dname: Option<Name> = None;
        for (owner, rtype, rdatas) in rrsets_in(evidence.answers) {
            let target = rdatas.first().and_then(|d| match d {
                RData::Cname(c) => Some(c.0.clone()),
                _ => None,
            });
            // A CNAME synthesised from a DNAME is proven by the DNAME (RFC 6672 §5.3.1).
            let synthesised = rtype == Rtype::CNAME
                && dname
                    .as_ref()
                    .is_some_and(|d| owner.is_subdomain_of(d) && owner != *d);
            if rtype == evidence.qtype && owner == end {
                answered = true;
            } else if rtype == Rtype::CNAME {
                end = target.unwrap_or(end);
            } else if rtype == Rtype::DNAME {
                dname = Some(owner.clone());
            }
            if synthesised {
                continue;
            }
            let judged = self.judge_rrset(&owner, rtype, &rdatas, evidence, is_cut, now)?;
            verdict = verdict.worse(judged);
            if verdict.security == Security::Bogus {
                return Ok(verdict);
            }
        }
        if !answered {
            let judged = self.judge_denial(&end, evidence, is_cut, now)?;
            verdict = verdict.worse(judged);
        }
        Ok(verdict)
    }

    fn judge_rrset(
        &self,
        owner: &Name,
        rtype: Rtype,
        rdatas: &[RData],
        evidence: &Evidence<'_>,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) -> Result<Verdict, Fetch> {
        let sigs = rrsigs_for(evidence.proof, owner, rtype);
        let zone = signer_zone(&sigs, owner)
            .unwrap_or_else(|| enclosing_zone(owner, evidence.zones, is_cut));
        let keys = match self.zone_state(&zone, is_cut, now)? {
            ZoneState::Secure(keys) => keys,
            other => return Ok(other.verdict()),
        };
        if sigs.is_empty()
            && let Some(verdict) = self.probe_cuts(&zone, owner, now)?
        {
            return Ok(verdict);
        }
        let rrset = RrsetRef {
            owner,
            class: Class::IN,
            rtype,
            rdatas,
        };
        let sig = match verify_rrset(rrset, &sigs, &zone, &keys, now32(now)) {
            Ok(sig) => sig,
            Err(failure) => return Ok(Verdict::failed(failure)),
        };
        // RFC 4035 §5.3.4: an answer expanded from a wildcard needs the proof that the
        // name itself does not exist.
        if usize::from(sig.labels) < owner.label_count() && !owner.is_wildcard() {
            let denials = match verified_denials(evidence.proof, &zone, &keys, now32(now)) {
                Ok(d) => d,
                Err(failure) => return Ok(Verdict::failed(failure)),
            };
            let proven = if denials.0.is_empty() {
                nsec3_wildcard_answer(owner, sig.labels, &nsec3_refs(&denials.1))
            } else {
                nsec_wildcard_answer(owner, sig.labels, &nsec_refs(&denials.0))
            };
            if let Err(failure) = proven {
                return Ok(Verdict::failed(failure));
            }
        }
        Ok(Verdict::SECURE)
    }

    /// For an unsigned RRset at `owner` in the signed `zone`: the verdict of an insecure
    /// delegation between them the resolver did not see (answers from a forwarder come
    /// without referrals), found by asking for the DS RRset of each name from the zone
    /// down (RFC 4035 §5.2), or `None` if there is none and the RRset should have been
    /// signed.
    fn probe_cuts(&self, zone: &Name, owner: &Name, now: u64) -> Result<Option<Verdict>, Fetch> {
        let depth = zone.label_count();
        for labels in depth + 1..=owner.label_count() {
            let name = owner.suffix(labels);
            if self.under_negative_anchor(&name) {
                return Ok(Some(ZoneState::Insecure(None).verdict()));
            }
            match self.known(&name, now) {
                Some(Known::Insecure(failure)) => {
                    return Ok(Some(ZoneState::Insecure(failure).verdict()));
                }
                Some(Known::Bogus(failure)) => return Ok(Some(Verdict::failed(failure))),
                Some(Known::Delegated(_)) => return Err(Fetch::Dnskey(name)),
                Some(Known::Keys(_) | Known::NotCut) => {}
                None => return Err(Fetch::Ds(name)),
            }
        }
        Ok(None)
    }

    fn judge_denial(
        &self,
        name: &Name,
        evidence: &Evidence<'_>,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) -> Result<Verdict, Fetch> {
        let soa = evidence
            .authority
            .iter()
            .find(|r| r.rtype() == Rtype::SOA && name.is_subdomain_of(&r.owner));
        let denial_signer = evidence
            .proof
            .iter()
            .filter_map(|r| match &r.data {
                RData::Rrsig(s) if matches!(s.type_covered, Rtype::NSEC | Rtype::NSEC3) => {
                    Some(s.signer.clone())
                }
                _ => None,
            })
            .filter(|s| name.is_subdomain_of(s))
            .max_by_key(|s| s.label_count());
        let zone = soa
            .map(|r| r.owner.clone())
            .or(denial_signer)
            .unwrap_or_else(|| enclosing_zone(name, evidence.zones, is_cut));
        let keys = match self.zone_state(&zone, is_cut, now)? {
            ZoneState::Secure(keys) => keys,
            other => return Ok(other.verdict()),
        };
        let now = now32(now);
        if let Some(soa) = soa {
            // The SOA sets the negative TTL: it must be the zone's own.
            let rdatas = [soa.data.clone()];
            let rrset = RrsetRef {
                owner: &soa.owner,
                class: Class::IN,
                rtype: Rtype::SOA,
                rdatas: &rdatas,
            };
            let sigs = rrsigs_for(evidence.proof, &soa.owner, Rtype::SOA);
            if let Err(failure) = verify_rrset(rrset, &sigs, &zone, &keys, now) {
                return Ok(Verdict::failed(failure));
            }
        }
        let denials = match verified_denials(evidence.proof, &zone, &keys, now) {
            Ok(d) => d,
            Err(failure) => return Ok(Verdict::failed(failure)),
        };
        let nxdomain = evidence.rcode == Rcode::NXDOMAIN;
        Ok(
            match denial_proven(name, evidence.qtype, nxdomain, &zone, &denials) {
                Ok(()) => Verdict::SECURE,
                Err(failure) => Verdict::failed(failure),
            },
        )
    }

    /// Takes in the reply to a [`Fetch`] (`None` when no server gave one) and records
    /// what it proves: the zone's validated keys, the DS RRset that leads to them, or
    /// that the zone is insecure or bogus. `is_cut` is as for [`Validator::judge`].
    pub fn learn(
        &self,
        fetch: &Fetch,
        reply: Option<Reply<'_>>,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) {
        match fetch {
            Fetch::Dnskey(zone) => self.learn_dnskey(zone, reply, now),
            Fetch::Ds(zone) => self.learn_ds(zone, reply, is_cut, now),
        }
    }

    fn learn_dnskey(&self, zone: &Name, reply: Option<Reply<'_>>, now: u64) {
        let Some(reply) = reply else {
            let failure = Failure {
                security: Security::Bogus,
                ede: Ede::DnskeyMissing,
                reason: "no server gave the zone's DNSKEY RRset",
            };
            self.store_failure(zone, failure, UNREACHABLE_TTL, now);
            return;
        };
        let records: Vec<&Record> = reply
            .answers
            .iter()
            .filter(|r| r.owner == *zone && r.rtype() == Rtype::DNSKEY)
            .collect();
        let keys: Vec<Dnskey> = records
            .iter()
            .filter_map(|r| match &r.data {
                RData::Dnskey(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        if keys.is_empty() {
            let failure = Failure {
                security: Security::Bogus,
                ede: Ede::DnskeyMissing,
                reason: "the zone has no DNSKEY RRset",
            };
            self.store_failure(zone, failure, BOGUS_TTL, now);
            return;
        }
        let sigs = rrsigs_for(reply.proof, zone, Rtype::DNSKEY);
        let rdatas: Vec<RData> = keys.iter().cloned().map(RData::Dnskey).collect();
        let rrset = RrsetRef {
            owner: zone,
            class: Class::IN,
            rtype: Rtype::DNSKEY,
            rdatas: &rdatas,
        };
        let now32 = now32(now);
        let result = if let Some(anchor) = self.anchor_for(zone) {
            let by_ds = (!anchor.ds.is_empty())
                .then(|| validate_dnskeys(zone, &keys, &sigs, &anchor.ds, now32));
            match by_ds {
                Some(Ok(())) => Ok(()),
                by_ds => {
                    // DNSKEY-form anchors: an anchored key must sign the RRset.
                    let trusted: Vec<Dnskey> =
                        keys.iter()
                            .filter(|k| {
                                anchor.dnskeys.iter().any(|a| {
                                    a.algorithm == k.algorithm && a.public_key == k.public_key
                                })
                            })
                            .cloned()
                            .collect();
                    if trusted.is_empty() {
                        by_ds.unwrap_or(Err(Failure {
                            security: Security::Bogus,
                            ede: Ede::DnskeyMissing,
                            reason: "no DNSKEY matches the trust anchor",
                        }))
                    } else {
                        verify_rrset(rrset, &sigs, zone, &trusted, now32).map(|_| ())
                    }
                }
            }
        } else if let Some(Known::Delegated(ds)) = self.known(zone, now) {
            validate_dnskeys(zone, &keys, &sigs, &ds, now32)
        } else {
            return;
        };
        let ttl = min_ttl(&records);
        if result.is_ok()
            && let Some(anchor) = self.anchor_for(zone)
        {
            // RFC 5011: every validated DNSKEY RRset of an anchored zone is watched for
            // new and revoked key-signing keys.
            let trusted: Vec<Dnskey> = keys
                .iter()
                .filter(|k| {
                    anchor.dnskeys.iter().any(|a| a.public_key == k.public_key)
                        || anchor.ds.iter().any(|d| ds_matches(zone, k, d))
                })
                .cloned()
                .collect();
            let changed = lock(&self.managed).get_mut(zone).map(|m| {
                m.refresh_at = now.saturating_add(rfc5011::active_refresh(ttl));
                (m.observe(&keys, &sigs, &trusted, now), m.anchor())
            });
            if let Some((true, anchor)) = changed {
                self.anchors
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .retain(|a| a.zone != *zone);
                self.anchors
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(anchor);
                self.anchors_changed.store(true, Ordering::Release);
            }
        }
        match result {
            Ok(()) => self.store(zone, Known::Keys(keys.into()), ttl, now),
            Err(failure) if failure.security == Security::Insecure => {
                self.store_failure(zone, failure, ttl, now);
            }
            Err(failure) => self.store_failure(zone, failure, BOGUS_TTL, now),
        }
    }

    fn learn_ds(
        &self,
        zone: &Name,
        reply: Option<Reply<'_>>,
        is_cut: &dyn Fn(&Name) -> bool,
        now: u64,
    ) {
        let Some(parent) = self.parent_zone(zone, is_cut) else {
            return;
        };
        let Some(Known::Keys(keys)) = self.known(&parent, now) else {
            return;
        };
        let Some(reply) = reply else {
            let failure = Failure {
                security: Security::Bogus,
                ede: Ede::DnssecBogus,
                reason: "no server of the parent gave the DS RRset or its denial",
            };
            self.store_failure(zone, failure, UNREACHABLE_TTL, now);
            return;
        };
        // A signer between the parent we assumed and the zone is a cut we did not know
        // of: learn it, and the next judgement starts from there.
        let missed = reply
            .proof
            .iter()
            .filter_map(|r| match &r.data {
                RData::Rrsig(s) => Some(&s.signer),
                _ => None,
            })
            .find(|s| {
                **s != parent && s.is_subdomain_of(&parent) && zone.is_subdomain_of(s) && *s != zone
            });
        if let Some(cut) = missed {
            lock(&self.cuts).insert(cut.to_lowercase());
            return;
        }
        let now32 = now32(now);
        let records: Vec<&Record> = reply
            .answers
            .iter()
            .filter(|r| r.owner == *zone && r.rtype() == Rtype::DS)
            .collect();
        if !records.is_empty() {
            let ds: Vec<Ds> = records
                .iter()
                .filter_map(|r| match &r.data {
                    RData::Ds(d) => Some(d.clone()),
                    _ => None,
                })
                .collect();
            let rdatas: Vec<RData> = ds.iter().cloned().map(RData::Ds).collect();
            let rrset = RrsetRef {
                owner: zone,
                class: Class::IN,
                rtype: Rtype::DS,
                rdatas: &rdatas,
            };
            let sigs = rrsigs_for(reply.proof, zone, Rtype::DS);
            match verify_rrset(rrset, &sigs, &parent, &keys, now32) {
                Ok(_) => self.store(zone, Known::Delegated(ds.into()), min_ttl(&records), now),
                Err(failure) => self.store_failure(zone, failure, BOGUS_TTL, now),
            }
            return;
        }
        // No DS: the parent must prove there is none (RFC 4035 §5.2), and whether the
        // name is an insecure delegation or no zone cut at all.
        let proof_records: Vec<&Record> = reply.proof.iter().collect();
        let ttl = min_ttl(&proof_records);
        let denials = match verified_denials(reply.proof, &parent, &keys, now32) {
            Ok(d) => d,
            Err(failure) => return self.store_failure(zone, failure, BOGUS_TTL, now),
        };
        if reply.rcode == Rcode::NXDOMAIN {
            let failure = Failure {
                security: Security::Bogus,
                ede: Ede::DnssecBogus,
                reason: "the parent says the zone does not exist",
            };
            return self.store_failure(zone, failure, BOGUS_TTL, now);
        }
        match denial_proven(zone, Rtype::DS, false, &parent, &denials) {
            Ok(()) => {
                let delegation = nsec_insecure_delegation(zone, &nsec_refs(&denials.0)).is_ok()
                    || (!denials.1.is_empty()
                        && nsec3_insecure_delegation(zone, &parent, &nsec3_refs(&denials.1))
                            .is_ok());
                let known = if delegation {
                    Known::Insecure(None)
                } else {
                    Known::NotCut
                };
                self.store(zone, known, ttl, now);
            }
            Err(failure) if failure.security == Security::Insecure => {
                self.store_failure(zone, failure, ttl, now);
            }
            Err(failure) => self.store_failure(zone, failure, BOGUS_TTL, now),
        }
    }
}
