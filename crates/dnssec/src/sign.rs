//! Zone signing: DNSKEY (and CDS/CDNSKEY) publication, an NSEC or NSEC3 chain, RRSIGs
//! over every authoritative RRset and, last, ZONEMD.
//!
//! [`sign_zone`] takes the zone's records and returns them signed; time comes in through
//! [`SignOptions`]. Existing RRSIG, NSEC, NSEC3 and NSEC3PARAM records are dropped and
//! made anew, so a signed zone can be signed again. RRsets are signed in parallel (one
//! job per RRset, on every core).

use std::collections::HashMap;
use std::fmt;

use lib_dns::Name;
use lib_dns::name::NameError;
use lib_dns::rdata::{
    Cdnskey, Dnskey, Nsec, Nsec3, Nsec3Hash, Nsec3param, RData, Rrsig, TypeBitmap, Zonemd,
};
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::wire::WireError;
use rayon::prelude::*;

use crate::canonical::{canonical_rdatas, rrsig_labels, signed_data};
use crate::ds::{DIGEST_SHA256, ds};
use crate::index::{Status, ZoneIndex};
use crate::key::{KeyError, SigningKey};
use crate::nsec3::{NSEC3_SHA1, hashed_owner, nsec3_hash};
use crate::verify::RrsetRef;
use crate::zonemd::zonemd;

/// How long signatures are valid by default: 30 days.
pub const DEFAULT_VALIDITY: u32 = 30 * 86_400;
/// How much earlier than the full validity a signature may expire by default: up to
/// 3 days, so re-signing spreads out instead of coming all at once.
pub const DEFAULT_JITTER: u32 = 3 * 86_400;
/// How far back inception is put by default, for validators with slow clocks: 1 hour.
pub const DEFAULT_BACKDATE: u32 = 3600;

/// NSEC3 parameters (RFC 5155 §3.1; defaults per RFC 9276 §3.1: no extra iterations, no
/// salt).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nsec3Options {
    /// Extra hash iterations (RFC 9276 says 0).
    pub iterations: u16,
    /// The salt (RFC 9276 says none).
    pub salt: Vec<u8>,
    /// Opt-out: insecure delegations get no NSEC3 record (RFC 5155 §6).
    pub opt_out: bool,
}

/// Which authenticated denial the zone uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// An NSEC chain (RFC 4034 §4).
    Nsec,
    /// An NSEC3 chain (RFC 5155).
    Nsec3(Nsec3Options),
}

/// How to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// Signature inception (seconds since 1970, low 32 bits).
    pub inception: u32,
    /// Latest signature expiration.
    pub expiration: u32,
    /// Each RRset's expiration is moved earlier by up to this many seconds, by a hash
    /// of its owner and type (so the same zone signs the same way).
    pub jitter: u32,
    /// NSEC or NSEC3.
    pub denial: Denial,
    /// Add a ZONEMD record (RFC 8976, SIMPLE, SHA-384). A zone that has one at its apex
    /// gets it recomputed either way.
    pub zonemd: bool,
    /// Publish CDS (SHA-256) and CDNSKEY records for the key-signing keys (RFC 7344).
    pub cds: bool,
}

impl SignOptions {
    /// Defaults at time `now` (seconds since 1970): valid from an hour ago for 30 days
    /// with 3 days of jitter, NSEC, no ZONEMD, no CDS.
    pub fn new(now: u64) -> SignOptions {
        let now = now as u32;
        SignOptions {
            inception: now.wrapping_sub(DEFAULT_BACKDATE),
            expiration: now.wrapping_add(DEFAULT_VALIDITY),
            jitter: DEFAULT_JITTER,
            denial: Denial::Nsec,
            zonemd: false,
            cds: false,
        }
    }
}

/// Why a zone could not be signed.
#[derive(Debug)]
pub enum SignError {
    /// There is no SOA record at the apex.
    NoSoa,
    /// No keys were given.
    NoKeys,
    /// A record lies outside the zone.
    OutOfZone(Name),
    /// A record could not be put in wire form.
    Wire(WireError),
    /// A hashed owner name could not be made.
    Name(NameError),
    /// A key failed to sign.
    Key(KeyError),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NoSoa => f.write_str("the zone has no SOA record at its apex"),
            SignError::NoKeys => f.write_str("no signing keys"),
            SignError::OutOfZone(n) => write!(f, "record {n} is outside the zone"),
            SignError::Wire(e) => write!(f, "{e}"),
            SignError::Name(e) => write!(f, "{e}"),
            SignError::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<WireError> for SignError {
    fn from(e: WireError) -> SignError {
        SignError::Wire(e)
    }
}

impl From<KeyError> for SignError {
    fn from(e: KeyError) -> SignError {
        SignError::Key(e)
    }
}

/// Types signing makes itself: dropped from the input.
fn is_generated(rtype: Rtype) -> bool {
    matches!(
        rtype,
        Rtype::RRSIG | Rtype::NSEC | Rtype::NSEC3 | Rtype::NSEC3PARAM
    )
}

/// FNV-1a over the owner (lowercase) and type: the per-RRset jitter.
fn jitter_for(owner: &Name, rtype: Rtype, jitter: u32) -> u32 {
    if jitter == 0 {
        return 0;
    }
    let mut h: u32 = 0x811c_9dc5;
    for &b in owner
        .to_lowercase()
        .as_wire()
        .iter()
        .chain(&rtype.0.to_be_bytes())
    {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h % jitter
}

/// One RRset to sign.
struct Job<'a> {
    owner: &'a Name,
    rtype: Rtype,
    ttl: u32,
    rdatas: &'a [RData],
}

/// Signs one RRset (whose TTL is `ttl`) with each key; the RRSIG records.
pub fn sign_rrset(
    rrset: RrsetRef<'_>,
    ttl: u32,
    apex: &Name,
    keys: &[&SigningKey],
    opts: &SignOptions,
) -> Result<Vec<Record>, SignError> {
    let RrsetRef {
        owner,
        class,
        rtype,
        rdatas,
    } = rrset;
    let canonical = canonical_rdatas(rdatas)?;
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let sig = sign_canonical(owner, class, rtype, ttl, &canonical, apex, key, opts)?;
        out.push(Record {
            owner: owner.clone(),
            class,
            ttl,
            data: RData::Rrsig(Box::new(sig)),
        });
    }
    Ok(out)
}

/// One RRSIG by `key` over the RRset at `owner` whose canonical RDATAs are `canonical`
/// (RFC 4034 §3.1.8.1), expiring `opts.expiration` less this RRset's jitter.
#[allow(clippy::too_many_arguments)]
fn sign_canonical(
    owner: &Name,
    class: Class,
    rtype: Rtype,
    ttl: u32,
    canonical: &[Vec<u8>],
    apex: &Name,
    key: &SigningKey,
    opts: &SignOptions,
) -> Result<Rrsig, SignError> {
    let mut sig = Rrsig {
        type_covered: rtype,
        algorithm: key.algorithm().number(),
        labels: rrsig_labels(owner),
        original_ttl: ttl,
        expiration: opts
            .expiration
            .wrapping_sub(jitter_for(owner, rtype, opts.jitter)),
        inception: opts.inception,
        key_tag: key.key_tag(),
        signer: apex.to_lowercase(),
        signature: Vec::new(),
    };
    let data = signed_data(&sig, owner, class, canonical)?;
    sig.signature = key.sign(&data)?;
    Ok(sig)
}

/// Whether serial-number time `a` is after `b` (RFC 4034 §3.1.5, RFC 1982).
fn after(a: u32, b: u32) -> bool {
    a != b && a.wrapping_sub(b) < 1 << 31
}

/// One RRset of the zone as last signed, with its signatures.
#[derive(Debug, Default)]
struct Previous {
    ttl: u32,
    rdatas: Vec<RData>,
    sigs: Vec<Rrsig>,
}

/// The zone as it was last signed, so that signing it again keeps every signature that
/// still fits: online signing re-signs only what an UPDATE or a transfer changed, and
/// refreshes only the signatures that come close to expiring.
///
/// A signature is kept when its RRset is unchanged (same TTL, same data in canonical
/// form), it was made by a key that signs now and was in the previous DNSKEY RRset,
/// its owner, labels, original TTL and signer still fit, it is already valid at `now`,
/// and it expires more than `refresh` seconds after `now`.
#[derive(Debug)]
pub struct Reuse {
    sets: HashMap<Name, HashMap<Rtype, Previous>>,
    keys: Vec<Dnskey>,
    now: u32,
    refresh: u32,
}

impl Reuse {
    /// From the records of the zone at `apex` as last signed, at time `now` (seconds
    /// since 1970), keeping signatures with more than `refresh` seconds to run.
    pub fn new(apex: &Name, previous: &[Record], now: u64, refresh: u32) -> Reuse {
        let mut sets: HashMap<Name, HashMap<Rtype, Previous>> = HashMap::new();
        let mut keys = Vec::new();
        for r in previous {
            let at = sets.entry(r.owner.clone()).or_default();
            match &r.data {
                RData::Rrsig(sig) => at
                    .entry(sig.type_covered)
                    .or_default()
                    .sigs
                    .push((**sig).clone()),
                data => {
                    if let (RData::Dnskey(k), true) = (data, r.owner == *apex) {
                        keys.push(k.clone());
                    }
                    let set = at.entry(r.rtype()).or_default();
                    set.ttl = r.ttl;
                    set.rdatas.push(data.clone());
                }
            }
        }
        Reuse {
            sets,
            keys,
            now: now as u32,
            refresh,
        }
    }

    /// The previous RRset at `owner` of type `rtype`, if it had this TTL and data.
    fn unchanged(
        &self,
        owner: &Name,
        rtype: Rtype,
        ttl: u32,
        canonical: &[Vec<u8>],
    ) -> Option<&Previous> {
        let p = self.sets.get(owner)?.get(&rtype)?;
        if p.ttl != ttl || p.rdatas.is_empty() {
            return None;
        }
        let same = canonical_rdatas(&p.rdatas).is_ok_and(|c| c == canonical);
        same.then_some(p)
    }

    /// Whether `sig` is valid now and has more than the refresh time left.
    fn still_good(&self, sig: &Rrsig) -> bool {
        !after(sig.inception, self.now)
            && after(sig.expiration, self.now.wrapping_add(self.refresh))
    }
}

/// The earliest expiration of the RRSIGs among `records`, in serial-number time
/// relative to `now` (seconds since 1970): when the first signature needs refreshing.
pub fn earliest_expiration(records: &[Record], now: u64) -> Option<u32> {
    let now = now as u32;
    records
        .iter()
        .filter_map(|r| match &r.data {
            RData::Rrsig(s) => Some(s.expiration),
            _ => None,
        })
        .min_by_key(|&e| e.wrapping_sub(now).cast_signed())
}

/// Signs the zone at `apex`: returns its records with DNSKEYs, denial records,
/// signatures and (if asked) CDS/CDNSKEY and ZONEMD, grouped by owner in canonical
/// order, each RRset followed by its RRSIGs.
///
/// Keys with the SEP flag sign the DNSKEY, CDS and CDNSKEY RRsets, the others sign
/// the rest; if only one kind is given, it signs everything (a combined signing key).
pub fn sign_zone(
    apex: &Name,
    records: Vec<Record>,
    keys: &[SigningKey],
    opts: &SignOptions,
) -> Result<Vec<Record>, SignError> {
    resign_zone(apex, records, keys, &[], opts, None)
}

/// What a key does in the zone at a moment of a rollover (`crate::rollover`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// Its DNSKEY is in the zone's DNSKEY RRset.
    pub publish: bool,
    /// It makes signatures (a KSK over DNSKEY, CDS and CDNSKEY, a ZSK over the rest).
    pub sign: bool,
    /// A KSK's CDS and CDNSKEY are published (with [`SignOptions::cds`]).
    pub cds: bool,
}

impl KeyUse {
    /// A key in ordinary use: published, signing, its CDS/CDNSKEY published.
    pub const ACTIVE: KeyUse = KeyUse {
        publish: true,
        sign: true,
        cds: true,
    };
}

/// Signs the zone at `apex` as [`sign_zone`] does, each key as `uses` says (the
/// same order as `keys`; a key without an entry is [`KeyUse::ACTIVE`]), keeping the
/// signatures of `reuse` (the zone as last signed) that still fit: only changed
/// RRsets, RRsets whose signatures come close to expiring, and RRsets of new keys are
/// signed again.
pub fn resign_zone(
    apex: &Name,
    records: Vec<Record>,
    keys: &[SigningKey],
    uses: &[KeyUse],
    opts: &SignOptions,
    reuse: Option<&Reuse>,
) -> Result<Vec<Record>, SignError> {
    let use_of = |i: usize| uses.get(i).copied().unwrap_or(KeyUse::ACTIVE);
    let signing: Vec<(usize, &SigningKey)> = keys
        .iter()
        .enumerate()
        .filter(|&(i, _)| use_of(i).sign)
        .collect();
    if signing.is_empty() {
        return Err(SignError::NoKeys);
    }
    let ours: Vec<_> = keys.iter().map(SigningKey::dnskey).collect();
    // A ZONEMD already in the zone is recomputed: left alone it would no longer match.
    let had_zonemd = records
        .iter()
        .any(|r| r.owner == *apex && r.rtype() == Rtype::ZONEMD);
    let opts = &SignOptions {
        zonemd: opts.zonemd || had_zonemd,
        ..opts.clone()
    };
    let records: Vec<Record> = records
        .into_iter()
        .filter(|r| !is_generated(r.rtype()))
        .filter(|r| {
            let at_apex = r.owner == *apex;
            match &r.data {
                RData::Zonemd(_) => !(at_apex && opts.zonemd),
                RData::Cds(_) | RData::Cdnskey(_) => !(at_apex && opts.cds),
                RData::Dnskey(k) => !(at_apex && ours.contains(k)),
                _ => true,
            }
        })
        .collect();
    let (mut index, outside) = ZoneIndex::new(apex, records);
    if let Some(r) = outside.first() {
        return Err(SignError::OutOfZone(r.owner.clone()));
    }
    let (soa_ttl, negative_ttl, serial) = index.soa_ttls().ok_or(SignError::NoSoa)?;
    let class = index.class;

    let ksks: Vec<&SigningKey> = signing
        .iter()
        .map(|&(_, k)| k)
        .filter(|k| k.is_ksk())
        .collect();
    let zsks: Vec<&SigningKey> = signing
        .iter()
        .map(|&(_, k)| k)
        .filter(|k| !k.is_ksk())
        .collect();
    let ksks = if ksks.is_empty() { zsks.clone() } else { ksks };
    let zsks = if zsks.is_empty() { ksks.clone() } else { zsks };

    let dnskey_ttl = index
        .nodes
        .get(apex)
        .and_then(|n| n.rrsets.get(&Rtype::DNSKEY))
        .map_or(soa_ttl, |s| s.ttl);
    for (i, key) in keys.iter().enumerate() {
        if use_of(i).publish {
            index.insert(apex, dnskey_ttl, RData::Dnskey(key.dnskey()));
        }
    }
    if opts.cds {
        let published = keys.iter().enumerate().filter(|&(i, k)| {
            let u = use_of(i);
            u.publish && u.cds && (k.is_ksk() || ksks.iter().any(|s| s.key_tag() == k.key_tag()))
        });
        for (_, key) in published {
            index.insert(apex, dnskey_ttl, RData::Cds(cds_of(apex, key)?));
            let k = key.dnskey();
            let cdnskey = Cdnskey {
                flags: k.flags,
                protocol: k.protocol,
                algorithm: k.algorithm,
                public_key: k.public_key,
            };
            index.insert(apex, dnskey_ttl, RData::Cdnskey(cdnskey));
        }
    }
    if opts.zonemd {
        let placeholder = Zonemd::new(serial, Zonemd::SCHEME_SIMPLE, Zonemd::SHA384, vec![0; 48])
            .map_err(|reason| WireError::BadRdata { at: 0, reason })?;
        index.insert(apex, soa_ttl, RData::Zonemd(placeholder));
    }
    match &opts.denial {
        Denial::Nsec => add_nsec_chain(&mut index, negative_ttl),
        Denial::Nsec3(p) => add_nsec3_chain(&mut index, p, negative_ttl)?,
    }

    let mut jobs = Vec::new();
    for (name, node) in &index.nodes {
        let status = index.status(name);
        for (&rtype, set) in &node.rrsets {
            if !ZoneIndex::is_signed(rtype, status) || (opts.zonemd && rtype == Rtype::ZONEMD) {
                continue;
            }
            jobs.push(Job {
                owner: &node.owner,
                rtype,
                ttl: set.ttl,
                rdatas: &set.rdatas,
            });
        }
    }
    // Signatures are kept only from keys known to have made them: keys that were
    // in the previous DNSKEY RRset, or that sign without being published (an
    // algorithm rollover's first step), so a new key whose tag collides with an old
    // one's does not inherit its signatures.
    let known: Vec<(u16, u8)> = match reuse {
        Some(r) => signing
            .iter()
            .filter(|&&(i, k)| !use_of(i).publish || r.keys.contains(&k.dnskey()))
            .map(|(_, k)| (k.key_tag(), k.algorithm().number().0))
            .collect(),
        None => Vec::new(),
    };
    let sign_job = |job: &Job<'_>| -> Result<Vec<Record>, SignError> {
        let by = if matches!(job.rtype, Rtype::DNSKEY | Rtype::CDS | Rtype::CDNSKEY) {
            &ksks
        } else {
            &zsks
        };
        let canonical = canonical_rdatas(job.rdatas)?;
        let previous = reuse.and_then(|r| r.unchanged(job.owner, job.rtype, job.ttl, &canonical));
        let mut out = Vec::with_capacity(by.len());
        for key in by {
            let kept = previous.zip(reuse).and_then(|(p, r)| {
                let id = (key.key_tag(), key.algorithm().number().0);
                if !known.contains(&id) {
                    return None;
                }
                p.sigs.iter().find(|s| {
                    (s.key_tag, s.algorithm.0) == id
                        && s.original_ttl == job.ttl
                        && s.labels == rrsig_labels(job.owner)
                        && s.signer == *apex
                        && r.still_good(s)
                })
            });
            let sig = match kept {
                Some(s) => s.clone(),
                None => sign_canonical(
                    job.owner, class, job.rtype, job.ttl, &canonical, apex, key, opts,
                )?,
            };
            out.push(Record {
                owner: job.owner.clone(),
                class,
                ttl: job.ttl,
                data: RData::Rrsig(Box::new(sig)),
            });
        }
        Ok(out)
    };
    let sigs: Vec<Vec<Record>> = jobs.par_iter().map(sign_job).collect::<Result<_, _>>()?;
    let mut by_set: HashMap<(Name, Rtype), Vec<Record>> = HashMap::with_capacity(sigs.len());
    for set in sigs {
        if let Some(first) = set.first()
            && let RData::Rrsig(s) = &first.data
        {
            by_set.insert((first.owner.clone(), s.type_covered), set);
        }
    }

    let mut out = Vec::with_capacity(index.nodes.len() * 4);
    for node in index.nodes.values() {
        for (&rtype, set) in &node.rrsets {
            for rdata in &set.rdatas {
                out.push(Record {
                    owner: node.owner.clone(),
                    class,
                    ttl: set.ttl,
                    data: rdata.clone(),
                });
            }
            if let Some(sigs) = by_set.remove(&(node.owner.clone(), rtype)) {
                out.extend(sigs);
            }
        }
    }
    if opts.zonemd {
        let md = zonemd(apex, serial, &out)?;
        let data = [RData::Zonemd(md)];
        // Signed like every other RRset, so an unchanged digest keeps its signature.
        let sigs = sign_job(&Job {
            owner: apex,
            rtype: Rtype::ZONEMD,
            ttl: soa_ttl,
            rdatas: &data,
        })?;
        let [md] = data;
        for r in &mut out {
            if r.owner == *apex && r.rtype() == Rtype::ZONEMD {
                r.data = md.clone();
            }
        }
        out.extend(sigs);
    }
    Ok(out)
}

fn cds_of(apex: &Name, key: &SigningKey) -> Result<lib_dns::rdata::Cds, SignError> {
    let d = ds(apex, &key.dnskey(), DIGEST_SHA256)?;
    Ok(lib_dns::rdata::Cds {
        key_tag: d.key_tag,
        algorithm: d.algorithm,
        digest_type: d.digest_type,
        digest: d.digest,
    })
}

/// NSEC records for every chained name (RFC 4034 §4.1, RFC 4035 §2.3).
fn add_nsec_chain(index: &mut ZoneIndex, ttl: u32) {
    let names: Vec<(Name, Status)> = index
        .chain_names()
        .into_iter()
        .map(|(n, s)| (n.clone(), s))
        .collect();
    let mut nsecs = Vec::with_capacity(names.len());
    for (i, (name, status)) in names.iter().enumerate() {
        let next = names
            .get(i + 1)
            .map_or(&index.apex, |(n, _)| n)
            .to_lowercase();
        let mut types = index.denial_types(name, *status);
        types.push(Rtype::NSEC);
        if ZoneIndex::is_signed(Rtype::NSEC, *status) {
            types.push(Rtype::RRSIG);
        }
        nsecs.push((
            name.clone(),
            Nsec {
                next,
                types: TypeBitmap::new(types),
            },
        ));
    }
    for (name, nsec) in nsecs {
        index.insert(&name, ttl, RData::Nsec(Box::new(nsec)));
    }
}

/// NSEC3 records for every chained name and empty non-terminal, and NSEC3PARAM at the
/// apex (RFC 5155 §7.1). With opt-out, delegations without DS get none.
fn add_nsec3_chain(index: &mut ZoneIndex, p: &Nsec3Options, ttl: u32) -> Result<(), SignError> {
    let apex = index.apex.clone();
    let param = Nsec3Hash {
        algorithm: NSEC3_SHA1,
        flags: 0,
        iterations: p.iterations,
        salt: p.salt.clone(),
    };
    index.insert(
        &apex,
        0,
        RData::Nsec3param(Nsec3param {
            hash: param.clone(),
        }),
    );
    let mut hashed: Vec<(Vec<u8>, Vec<Rtype>)> = Vec::new();
    for (name, status) in index.chain_names() {
        let types = index.denial_types(name, status);
        let has_ds = types.contains(&Rtype::DS);
        if p.opt_out && status == Status::Delegation && !has_ds {
            continue;
        }
        let mut types = types;
        if status == Status::Authoritative || has_ds {
            types.push(Rtype::RRSIG);
        }
        hashed.push((nsec3_hash(name, &p.salt, p.iterations), types));
    }
    for ent in index.empty_non_terminals() {
        hashed.push((nsec3_hash(&ent, &p.salt, p.iterations), Vec::new()));
    }
    hashed.sort_by(|a, b| a.0.cmp(&b.0));
    hashed.dedup_by(|a, b| a.0 == b.0);
    let hash = Nsec3Hash {
        flags: u8::from(p.opt_out),
        ..param
    };
    let mut records = Vec::with_capacity(hashed.len());
    for (i, (h, types)) in hashed.iter().enumerate() {
        let next = hashed
            .get(i + 1)
            .or(hashed.first())
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        records.push((
            hashed_owner(h, &apex).map_err(SignError::Name)?,
            Nsec3 {
                hash: hash.clone(),
                next_hashed: next,
                types: TypeBitmap::new(types.clone()),
            },
        ));
    }
    for (owner, nsec3) in records {
        index.insert(&owner, ttl, RData::Nsec3(Box::new(nsec3)));
    }
    Ok(())
}
