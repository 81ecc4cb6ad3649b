//! The validation core a resolver builds on, sans-I/O (RFC 4033–4035, RFC 5155 §8,
//! RFC 6840): an RRset against its zone's DNSKEYs (RFC 4035 §5.3), a DNSKEY RRset against
//! the parent's DS RRset (§5.2), and the authenticated-denial proofs of NSEC (§5.4) and
//! NSEC3 (RFC 5155 §8) for NXDOMAIN, NODATA, wildcard answers and insecure delegations.
//! Each outcome is Secure, Insecure, Bogus or Indeterminate with the Extended DNS Error
//! (RFC 8914) that says why.
//!
//! The denial functions take NSEC/NSEC3 records whose signatures the caller has already
//! checked with [`verify_rrset`]; they judge only what the records prove.

use std::cmp::Ordering;
use std::fmt;

use lib_dns::Name;
use lib_dns::rdata::{Dnskey, Ds, Nsec, Nsec3, Rrsig};
use lib_dns::types::Rtype;

use crate::ds::ds_matches;
use crate::nsec3::{nsec3_hash, owner_hash};
use crate::verify::{RrsetRef, SigError, is_supported, verify_rrsig};

/// The highest NSEC3 iteration count accepted; above it answers are treated as
/// Insecure (RFC 9276 §3.2 allows validators to do so; BIND and Unbound use 150).
pub const MAX_NSEC3_ITERATIONS: u16 = 150;

/// The security status of data (RFC 4033 §5, RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// A chain of signed DNSKEY and DS records leads from a trust anchor to the data.
    Secure,
    /// Proven to have no chain of trust (an insecure delegation, or only algorithms
    /// the validator does not implement).
    Insecure,
    /// A chain of trust should exist but the data fails to verify.
    Bogus,
    /// Whether the data should be signed cannot be told.
    Indeterminate,
}

/// Extended DNS Error codes for DNSSEC outcomes (RFC 8914 §4, RFC 9276 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum Ede {
    /// 1: Unsupported DNSKEY Algorithm.
    UnsupportedDnskeyAlgorithm = 1,
    /// 2: Unsupported DS Digest Type.
    UnsupportedDsDigestType = 2,
    /// 5: DNSSEC Indeterminate.
    DnssecIndeterminate = 5,
    /// 6: DNSSEC Bogus.
    DnssecBogus = 6,
    /// 7: Signature Expired.
    SignatureExpired = 7,
    /// 8: Signature Not Yet Valid.
    SignatureNotYetValid = 8,
    /// 9: DNSKEY Missing.
    DnskeyMissing = 9,
    /// 10: RRSIGs Missing.
    RrsigsMissing = 10,
    /// 11: No Zone Key Bit Set.
    NoZoneKeyBitSet = 11,
    /// 12: NSEC Missing.
    NsecMissing = 12,
    /// 27: Unsupported NSEC3 Iterations Value.
    UnsupportedNsec3Iterations = 27,
}

impl Ede {
    /// The INFO-CODE of the EDNS option.
    pub fn code(self) -> u16 {
        self as u16
    }
}

/// A validation outcome other than Secure: status, Extended DNS Error, and a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Insecure, Bogus or Indeterminate.
    pub security: Security,
    /// The Extended DNS Error to report.
    pub ede: Ede,
    /// What was wrong, for logs and EXTRA-TEXT.
    pub reason: &'static str,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} (EDE {}): {}",
            self.security,
            self.ede.code(),
            self.reason
        )
    }
}

impl std::error::Error for Failure {}

const fn bogus(ede: Ede, reason: &'static str) -> Failure {
    Failure {
        security: Security::Bogus,
        ede,
        reason,
    }
}

const fn insecure(ede: Ede, reason: &'static str) -> Failure {
    Failure {
        security: Security::Insecure,
        ede,
        reason,
    }
}

/// Validates an RRset with its RRSIGs against the zone's validated DNSKEYs (RFC 4035
/// §5.3): Secure if one RRSIG verifies; otherwise the most telling failure. The RRSIG
/// that verified is returned (its Labels field tells a wildcard expansion).
pub fn verify_rrset<'s>(
    rrset: RrsetRef<'_>,
    rrsigs: &'s [Rrsig],
    zone: &Name,
    dnskeys: &[Dnskey],
    now: u32,
) -> Result<&'s Rrsig, Failure> {
    let mut errors = Vec::new();
    for sig in rrsigs.iter().filter(|s| s.type_covered == rrset.rtype) {
        match verify_rrsig(rrset, sig, zone, dnskeys, now) {
            Ok(_) => return Ok(sig),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        return Err(bogus(Ede::RrsigsMissing, "no RRSIG covers the RRset"));
    }
    // Only unsupported algorithms: the zone is as good as unsigned (RFC 4035 §5.2) —
    // unless it has keys of an algorithm we support, whose signatures must then be
    // there (RFC 6840 §5.11): otherwise changing an RRSIG's algorithm field would turn
    // a forgery into an insecure answer.
    if errors
        .iter()
        .all(|e| matches!(e, SigError::UnsupportedAlgorithm(_)))
    {
        if dnskeys.iter().any(|k| is_supported(k.algorithm)) {
            return Err(bogus(
                Ede::RrsigsMissing,
                "no RRSIG of the algorithms of the zone's keys",
            ));
        }
        return Err(insecure(
            Ede::UnsupportedDnskeyAlgorithm,
            "only unsupported signature algorithms",
        ));
    }
    let worst = [
        (
            SigError::BadSignature,
            Ede::DnssecBogus,
            "signature does not verify",
        ),
        (
            SigError::Expired,
            Ede::SignatureExpired,
            "signature expired",
        ),
        (
            SigError::NotYetValid,
            Ede::SignatureNotYetValid,
            "signature not yet valid",
        ),
        (
            SigError::NoKey,
            Ede::DnskeyMissing,
            "no DNSKEY for the RRSIG",
        ),
        (SigError::BadKey, Ede::DnssecBogus, "malformed DNSKEY"),
        (
            SigError::Mismatch,
            Ede::DnssecBogus,
            "RRSIG does not fit the RRset",
        ),
    ];
    let (_, ede, reason) = worst
        .iter()
        .find(|(e, _, _)| errors.contains(e))
        .copied()
        .unwrap_or((SigError::BadSignature, Ede::DnssecBogus, "RRSIG invalid"));
    Err(bogus(ede, reason))
}

/// Validates a zone's DNSKEY RRset from its parent's validated DS RRset (RFC 4035 §5.2):
/// some DNSKEY with the Zone flag must match a DS of a supported algorithm and digest
/// and sign the DNSKEY RRset. Returns the DNSKEYs, now trusted. A DS RRset with no
/// supported algorithm or digest makes the zone Insecure.
pub fn validate_dnskeys(
    zone: &Name,
    dnskeys: &[Dnskey],
    rrsigs: &[Rrsig],
    ds_set: &[Ds],
    now: u32,
) -> Result<(), Failure> {
    let usable: Vec<&Ds> = ds_set
        .iter()
        .filter(|d| is_supported(d.algorithm) && matches!(d.digest_type, 1 | 2 | 4))
        .collect();
    if usable.is_empty() {
        let ede = if ds_set.iter().any(|d| is_supported(d.algorithm)) {
            Ede::UnsupportedDsDigestType
        } else {
            Ede::UnsupportedDnskeyAlgorithm
        };
        return Err(insecure(ede, "no DS of a supported algorithm and digest"));
    }
    let matching: Vec<&Dnskey> = dnskeys
        .iter()
        .filter(|k| usable.iter().any(|d| ds_matches(zone, k, d)))
        .collect();
    if matching.is_empty() {
        return Err(bogus(Ede::DnskeyMissing, "no DNSKEY matches the DS RRset"));
    }
    let zone_keys: Vec<Dnskey> = matching
        .iter()
        .filter(|k| k.flags & Dnskey::ZONE != 0 && k.flags & Dnskey::REVOKE == 0)
        .map(|k| (*k).clone())
        .collect();
    if zone_keys.is_empty() {
        return Err(bogus(
            Ede::NoZoneKeyBitSet,
            "the DNSKEY matching the DS has no Zone flag",
        ));
    }
    let rrset_data: Vec<lib_dns::RData> = dnskeys
        .iter()
        .cloned()
        .map(lib_dns::RData::Dnskey)
        .collect();
    let rrset = RrsetRef {
        owner: zone,
        class: lib_dns::Class::IN,
        rtype: Rtype::DNSKEY,
        rdatas: &rrset_data,
    };
    verify_rrset(rrset, rrsigs, zone, &zone_keys, now).map(|_| ())
}

/// An NSEC record with its owner.
#[derive(Debug, Clone, Copy)]
pub struct NsecRef<'a> {
    /// The owner name.
    pub owner: &'a Name,
    /// The record data.
    pub nsec: &'a Nsec,
}

/// An NSEC3 record with its owner (the hashed name under the zone apex).
#[derive(Debug, Clone, Copy)]
pub struct Nsec3Ref<'a> {
    /// The owner name.
    pub owner: &'a Name,
    /// The record data.
    pub nsec3: &'a Nsec3,
}

/// Whether the NSEC at `owner` covers `name`: `owner < name < next` in canonical order,
/// or past `owner` for the last NSEC of the chain (whose next name is the apex).
pub fn nsec_covers(n: NsecRef<'_>, name: &Name) -> bool {
    let after_owner = n.owner.cmp(name) == Ordering::Less;
    let wraps = n.nsec.next.cmp(n.owner) != Ordering::Greater;
    after_owner && (wraps || name.cmp(&n.nsec.next) == Ordering::Less)
}

/// Whether an NSEC at `owner` is from a parent zone's side of a cut above or at `name`
/// (NS without SOA): it proves nothing about names below the cut (RFC 6840 §4.1).
fn is_delegation(n: NsecRef<'_>) -> bool {
    n.nsec.types.contains(Rtype::NS) && !n.nsec.types.contains(Rtype::SOA)
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

fn wildcard_of(name: &Name) -> Option<Name> {
    name.child(b"*").ok()
}

const NSEC_MISSING: Failure = bogus(Ede::NsecMissing, "no NSEC proves the denial");

/// NODATA with NSEC (RFC 4035 §5.4): an NSEC at `qname` whose bitmap has neither
/// `qtype` nor CNAME, or for an empty non-terminal an NSEC covering `qname` whose next
/// name is below it. For a type other than DS, an NSEC from the parent side of a cut
/// does not count (RFC 6840 §4.1); for DS, one from the child apex does not.
pub fn nsec_nodata(qname: &Name, qtype: Rtype, nsecs: &[NsecRef<'_>]) -> Result<(), Failure> {
    let Some(n) = nsecs.iter().find(|n| n.owner == qname) else {
        // An empty non-terminal: an NSEC covers it and its next name lies below it.
        return match covering(qname, nsecs) {
            Some(c) if c.nsec.next.is_subdomain_of(qname) && c.nsec.next != *qname => Ok(()),
            _ => Err(NSEC_MISSING),
        };
    };
    if n.nsec.types.contains(qtype) || n.nsec.types.contains(Rtype::CNAME) {
        return Err(bogus(Ede::DnssecBogus, "the NSEC lists the queried type"));
    }
    if qtype == Rtype::DS && n.nsec.types.contains(Rtype::SOA) && !qname.is_root() {
        return Err(bogus(Ede::DnssecBogus, "a child-side NSEC cannot deny DS"));
    }
    if qtype != Rtype::DS && is_delegation(*n) {
        return Err(bogus(
            Ede::DnssecBogus,
            "a parent-side NSEC cannot deny data below a cut",
        ));
    }
    Ok(())
}

/// The NSEC covering `name`, if it is not from above a cut over `name`.
fn covering<'a>(name: &Name, nsecs: &'a [NsecRef<'a>]) -> Option<&'a NsecRef<'a>> {
    nsecs
        .iter()
        .find(|n| nsec_covers(**n, name) && !(is_delegation(**n) && name.is_subdomain_of(n.owner)))
}

/// NXDOMAIN with NSEC (RFC 4035 §5.4): an NSEC covers `qname`, and one covers the
/// wildcard at the closest encloser (the longest name the covering NSEC's owner or next
/// name shares with `qname`). Returns the closest encloser.
pub fn nsec_nxdomain(qname: &Name, nsecs: &[NsecRef<'_>]) -> Result<Name, Failure> {
    let cover = covering(qname, nsecs).ok_or(NSEC_MISSING)?;
    let shared = common_labels(qname, cover.owner).max(common_labels(qname, &cover.nsec.next));
    let encloser = qname.suffix(shared);
    let wildcard = wildcard_of(&encloser).ok_or(NSEC_MISSING)?;
    if covering(&wildcard, nsecs).is_none() {
        return Err(bogus(Ede::NsecMissing, "no NSEC denies the wildcard"));
    }
    Ok(encloser)
}

/// A wildcard answer with NSEC (RFC 4035 §5.3.4): the RRSIG's `labels` say the answer
/// was expanded from `*.<the labels rightmost labels of qname>`; an NSEC must cover
/// `qname` to show it did not exist itself.
pub fn nsec_wildcard_answer(
    qname: &Name,
    labels: u8,
    nsecs: &[NsecRef<'_>],
) -> Result<(), Failure> {
    if usize::from(labels) >= qname.label_count() {
        return Ok(()); // Not an expansion.
    }
    covering(qname, nsecs).map(|_| ()).ok_or(bogus(
        Ede::NsecMissing,
        "no NSEC shows the name did not exist",
    ))
}

/// A wildcard NODATA with NSEC: NXDOMAIN proof for `qname` except that the wildcard at
/// the closest encloser exists and its NSEC lacks `qtype` (RFC 4035 §3.1.3.4).
pub fn nsec_wildcard_nodata(
    qname: &Name,
    qtype: Rtype,
    nsecs: &[NsecRef<'_>],
) -> Result<(), Failure> {
    let cover = covering(qname, nsecs).ok_or(NSEC_MISSING)?;
    let shared = common_labels(qname, cover.owner).max(common_labels(qname, &cover.nsec.next));
    let wildcard = wildcard_of(&qname.suffix(shared)).ok_or(NSEC_MISSING)?;
    nsec_nodata(&wildcard, qtype, nsecs)
}

/// An insecure delegation with NSEC: the NSEC at the delegation point has NS but
/// neither DS nor SOA (RFC 4035 §5.2).
pub fn nsec_insecure_delegation(cut: &Name, nsecs: &[NsecRef<'_>]) -> Result<(), Failure> {
    let n = nsecs.iter().find(|n| n.owner == cut).ok_or(NSEC_MISSING)?;
    if !n.nsec.types.contains(Rtype::NS) || n.nsec.types.contains(Rtype::SOA) {
        return Err(bogus(Ede::DnssecBogus, "the NSEC is not of a delegation"));
    }
    if n.nsec.types.contains(Rtype::DS) {
        return Err(bogus(Ede::DnssecBogus, "the delegation has a DS"));
    }
    Ok(())
}

/// The NSEC3 records' common parameters, refusing more iterations than
/// [`MAX_NSEC3_ITERATIONS`] (the answer is then Insecure, RFC 9276 §3.2).
fn nsec3_params<'a>(nsec3s: &[Nsec3Ref<'a>]) -> Result<(&'a [u8], u16), Failure> {
    let first = nsec3s.first().ok_or(NSEC_MISSING)?;
    let (salt, iterations) = (&first.nsec3.hash.salt, first.nsec3.hash.iterations);
    if iterations > MAX_NSEC3_ITERATIONS {
        return Err(insecure(
            Ede::UnsupportedNsec3Iterations,
            "NSEC3 iterations above the limit",
        ));
    }
    if first.nsec3.hash.algorithm != crate::nsec3::NSEC3_SHA1 {
        return Err(insecure(
            Ede::DnssecIndeterminate,
            "unknown NSEC3 hash algorithm",
        ));
    }
    if nsec3s
        .iter()
        .any(|n| n.nsec3.hash.salt != *salt || n.nsec3.hash.iterations != iterations)
    {
        return Err(bogus(
            Ede::DnssecBogus,
            "NSEC3 records disagree on parameters",
        ));
    }
    Ok((salt, iterations))
}

fn nsec3_matching<'a>(h: &[u8], nsec3s: &'a [Nsec3Ref<'a>]) -> Option<&'a Nsec3Ref<'a>> {
    nsec3s
        .iter()
        .find(|n| owner_hash(n.owner).is_some_and(|o| o == h))
}

fn nsec3_covering<'a>(h: &[u8], nsec3s: &'a [Nsec3Ref<'a>]) -> Option<&'a Nsec3Ref<'a>> {
    nsec3s.iter().find(|n| {
        let Some(owner) = owner_hash(n.owner) else {
            return false;
        };
        let next = n.nsec3.next_hashed.as_slice();
        let after = owner.as_slice() < h;
        let wraps = next <= owner.as_slice();
        (after && (wraps || h < next)) || (wraps && h < next)
    })
}

/// The closest encloser proof (RFC 5155 §8.3): the closest encloser (an ancestor of
/// `qname` with a matching NSEC3, not a delegation's unless `qname` is it) and the NSEC3
/// covering the next closer name.
fn closest_encloser<'a>(
    qname: &Name,
    zone: &Name,
    nsec3s: &'a [Nsec3Ref<'a>],
) -> Result<(Name, &'a Nsec3Ref<'a>), Failure> {
    let (salt, iterations) = nsec3_params(nsec3s)?;
    let mut next_closer: Option<Name> = None;
    let mut cur = Some(qname.clone());
    while let Some(name) = cur {
        if !name.is_subdomain_of(zone) {
            break;
        }
        let h = nsec3_hash(&name, salt, iterations);
        if let Some(m) = nsec3_matching(&h, nsec3s) {
            let Some(nc) = next_closer else {
                return Err(bogus(Ede::DnssecBogus, "the name itself exists"));
            };
            // A parent-side NSEC3 at a cut above qname proves nothing below it.
            if m.nsec3.types.contains(Rtype::NS) && !m.nsec3.types.contains(Rtype::SOA)
                || m.nsec3.types.contains(Rtype::DNAME)
            {
                return Err(bogus(
                    Ede::DnssecBogus,
                    "closest encloser is a delegation or DNAME",
                ));
            }
            let hnc = nsec3_hash(&nc, salt, iterations);
            let cover = nsec3_covering(&hnc, nsec3s).ok_or(bogus(
                Ede::NsecMissing,
                "no NSEC3 covers the next closer name",
            ))?;
            return Ok((name, cover));
        }
        next_closer = Some(name.clone());
        cur = name.parent();
    }
    Err(bogus(Ede::NsecMissing, "no closest encloser proof"))
}

/// NXDOMAIN with NSEC3 (RFC 5155 §8.4): a closest encloser proof and an NSEC3 covering
/// the wildcard at the closest encloser. Returns the closest encloser.
pub fn nsec3_nxdomain(qname: &Name, zone: &Name, nsec3s: &[Nsec3Ref<'_>]) -> Result<Name, Failure> {
    let (salt, iterations) = nsec3_params(nsec3s)?;
    let (encloser, _) = closest_encloser(qname, zone, nsec3s)?;
    let wildcard = wildcard_of(&encloser).ok_or(NSEC_MISSING)?;
    let h = nsec3_hash(&wildcard, salt, iterations);
    nsec3_covering(&h, nsec3s).ok_or(bogus(Ede::NsecMissing, "no NSEC3 denies the wildcard"))?;
    Ok(encloser)
}

/// NODATA with NSEC3 (RFC 5155 §8.5, §8.6): an NSEC3 matching `qname` without `qtype` or
/// CNAME. For DS with no matching NSEC3, a closest encloser proof whose next closer
/// name is covered by an opt-out NSEC3 makes the delegation Insecure.
pub fn nsec3_nodata(
    qname: &Name,
    qtype: Rtype,
    zone: &Name,
    nsec3s: &[Nsec3Ref<'_>],
) -> Result<(), Failure> {
    let (salt, iterations) = nsec3_params(nsec3s)?;
    let h = nsec3_hash(qname, salt, iterations);
    match nsec3_matching(&h, nsec3s) {
        Some(m) => {
            if m.nsec3.types.contains(qtype) || m.nsec3.types.contains(Rtype::CNAME) {
                return Err(bogus(Ede::DnssecBogus, "the NSEC3 lists the queried type"));
            }
            if qtype == Rtype::DS && m.nsec3.types.contains(Rtype::SOA) && qname != zone {
                return Err(bogus(Ede::DnssecBogus, "a child-side NSEC3 cannot deny DS"));
            }
            if qtype != Rtype::DS
                && m.nsec3.types.contains(Rtype::NS)
                && !m.nsec3.types.contains(Rtype::SOA)
            {
                return Err(bogus(
                    Ede::DnssecBogus,
                    "a parent-side NSEC3 cannot deny data below a cut",
                ));
            }
            Ok(())
        }
        None if qtype == Rtype::DS => {
            let (_, cover) = closest_encloser(qname, zone, nsec3s)?;
            if cover.nsec3.opt_out() {
                Err(insecure(
                    Ede::DnssecIndeterminate,
                    "opt-out covers the delegation",
                ))
            } else {
                Err(bogus(Ede::NsecMissing, "no NSEC3 matches the name"))
            }
        }
        None => Err(bogus(Ede::NsecMissing, "no NSEC3 matches the name")),
    }
}

/// Wildcard NODATA with NSEC3 (RFC 5155 §8.7): a closest encloser proof and an NSEC3
/// matching the wildcard at the closest encloser without `qtype` or CNAME.
pub fn nsec3_wildcard_nodata(
    qname: &Name,
    qtype: Rtype,
    zone: &Name,
    nsec3s: &[Nsec3Ref<'_>],
) -> Result<(), Failure> {
    let (encloser, _) = closest_encloser(qname, zone, nsec3s)?;
    let wildcard = wildcard_of(&encloser).ok_or(NSEC_MISSING)?;
    nsec3_nodata(&wildcard, qtype, zone, nsec3s)
}

/// A wildcard answer with NSEC3 (RFC 5155 §8.8): the NSEC3 covering the next closer
/// name (one label more than the RRSIG's `labels`).
pub fn nsec3_wildcard_answer(
    qname: &Name,
    labels: u8,
    nsec3s: &[Nsec3Ref<'_>],
) -> Result<(), Failure> {
    let labels = usize::from(labels);
    if labels >= qname.label_count() {
        return Ok(());
    }
    let (salt, iterations) = nsec3_params(nsec3s)?;
    let next_closer = qname.suffix(labels + 1);
    let h = nsec3_hash(&next_closer, salt, iterations);
    nsec3_covering(&h, nsec3s).map(|_| ()).ok_or(bogus(
        Ede::NsecMissing,
        "no NSEC3 covers the next closer name",
    ))
}

/// An insecure delegation with NSEC3 (RFC 5155 §8.9): an NSEC3 matching the cut with NS
/// and neither DS nor SOA, or (opt-out) a closest encloser proof whose next closer name
/// is covered by an opt-out NSEC3.
pub fn nsec3_insecure_delegation(
    cut: &Name,
    zone: &Name,
    nsec3s: &[Nsec3Ref<'_>],
) -> Result<(), Failure> {
    let (salt, iterations) = nsec3_params(nsec3s)?;
    let h = nsec3_hash(cut, salt, iterations);
    if let Some(m) = nsec3_matching(&h, nsec3s) {
        let t = &m.nsec3.types;
        return if t.contains(Rtype::NS) && !t.contains(Rtype::DS) && !t.contains(Rtype::SOA) {
            Ok(())
        } else {
            Err(bogus(
                Ede::DnssecBogus,
                "the NSEC3 is not of an unsigned delegation",
            ))
        };
    }
    let (_, cover) = closest_encloser(cut, zone, nsec3s)?;
    if cover.nsec3.opt_out() {
        Ok(())
    } else {
        Err(bogus(
            Ede::NsecMissing,
            "no opt-out NSEC3 covers the delegation",
        ))
    }
}
