//! A zone's online signing: its policy, the keys of its keyring and, with a rollover
//! policy, the rollover schedule (`zdns_dnssec::rollover`) kept beside the keys in
//! `<keys>/<zone>rollover.state`, written (synced, renamed) at every change so that a
//! restart in the middle of a rollover carries on.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use lib_dns::Name;
use lib_dns::record::Record;
use lib_dns::types::Rtype;
use zdns_dnssec::SigningKey;
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK};
use zdns_dnssec::rollover::{KeyId, Next, RollKind, Schedule, Timings};
use zdns_dnssec::sign::{KeyUse, Reuse, SignOptions, earliest_expiration, resign_zone};

use crate::cmd::key::{load_keyring, store};
use crate::config::SigningPolicy;

/// What a key the rollover schedule does not know does: nothing.
const UNUSED: KeyUse = KeyUse {
    publish: false,
    sign: false,
    cds: false,
};

/// The schedule's identity of a key.
pub fn key_id(k: &SigningKey) -> KeyId {
    KeyId {
        tag: k.key_tag(),
        algorithm: k.algorithm().number().0,
        ksk: k.is_ksk(),
    }
}

/// Where the rollover state of `zone` is kept in the keyring `dir`.
pub fn state_path(dir: &Path, zone: &Name) -> PathBuf {
    dir.join(format!("{}rollover.state", zone.to_lowercase()))
}

/// Writes `text` to `path` atomically (temporary file synced, then renamed).
pub fn write_state(path: &Path, text: &str) -> Result<(), String> {
    let tmp = path.with_extension("state.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Gives every RRSIG at an owner the lowest TTL among them. The served tree keeps one
/// TTL per owner and type, and the RRSIGs at an owner are one RRset there: without
/// this, what is served (and journaled) would differ from what was signed whenever
/// RRsets at one owner have different TTLs (NSEC3PARAM's 0 at the apex, say), and the
/// zone would look changed at every re-signing. Validators use the lowest of the
/// RRset's and the RRSIG's TTLs anyway (RFC 4035 §5.3.3).
fn one_rrsig_ttl_per_owner(records: &mut [Record]) {
    let mut lowest: HashMap<Name, u32> = HashMap::new();
    for r in records.iter().filter(|r| r.rtype() == Rtype::RRSIG) {
        lowest
            .entry(r.owner.clone())
            .and_modify(|t| *t = (*t).min(r.ttl))
            .or_insert(r.ttl);
    }
    for r in records.iter_mut().filter(|r| r.rtype() == Rtype::RRSIG) {
        if let Some(&t) = lowest.get(&r.owner) {
            r.ttl = t;
        }
    }
}

/// A zone's online signing.
pub struct Signer {
    /// The policy from the configuration.
    pub policy: SigningPolicy,
    keys: Vec<SigningKey>,
    /// The rollover schedule, with a rollover policy.
    schedule: Option<Schedule>,
    /// What the schedule waits for, as of the last [`Signer::step`].
    next: Option<Next>,
}

impl Signer {
    /// Reads the keyring of `origin` that `policy` names (it must hold a key) and, with
    /// a rollover policy, the schedule (begun at `now` with every key of the keyring
    /// active when there is none yet).
    pub fn load(origin: &Name, policy: &SigningPolicy, now: u64) -> Result<Signer, String> {
        let keys = load_keyring(&policy.keys, origin)?;
        if keys.is_empty() {
            return Err(format!(
                "no DNSSEC keys for {origin} in {}",
                policy.keys.display()
            ));
        }
        let schedule = match &policy.rollover {
            None => None,
            Some(_) => {
                let path = state_path(&policy.keys, origin);
                let schedule = match fs::read_to_string(&path) {
                    Ok(text) => Schedule::from_text(&text)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        let s = Schedule::new(keys.iter().map(key_id).collect(), now);
                        write_state(&path, &s.to_text())?;
                        s
                    }
                    Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                };
                for k in &keys {
                    if schedule.key_use(key_id(k)).is_none() {
                        tracing::info!(zone = %origin, key_tag = k.key_tag(), "key not in the rollover schedule: not used");
                    }
                }
                Some(schedule)
            }
        };
        Ok(Signer {
            policy: policy.clone(),
            keys,
            schedule,
            next: None,
        })
    }

    /// What each key does now (in the order of `keys`).
    fn uses(&self) -> Vec<KeyUse> {
        match &self.schedule {
            None => vec![KeyUse::ACTIVE; self.keys.len()],
            Some(s) => self
                .keys
                .iter()
                .map(|k| s.key_use(key_id(k)).unwrap_or(UNUSED))
                .collect(),
        }
    }

    /// `records` signed at `now`, keeping every signature of `previous` (the zone as
    /// last signed) whose RRset is unchanged and that has more than the refresh time to
    /// run: incremental re-signing and refresh before expiry in one.
    pub fn sign(
        &self,
        origin: &Name,
        records: Vec<Record>,
        previous: &[Record],
        now: u64,
    ) -> Result<Vec<Record>, String> {
        let p = &self.policy;
        let mut opts = SignOptions::new(now);
        opts.expiration = (now as u32).wrapping_add(p.validity);
        opts.jitter = p.jitter;
        opts.denial = p.denial.clone();
        opts.cds = p.cds;
        opts.zonemd = p.zonemd;
        let reuse = Reuse::new(origin, previous, now, p.refresh);
        let mut signed = resign_zone(
            origin,
            records,
            &self.keys,
            &self.uses(),
            &opts,
            Some(&reuse),
        )
        .map_err(|e| format!("cannot sign zone {origin}: {e}"))?;
        one_rrsig_ttl_per_owner(&mut signed);
        Ok(signed)
    }

    /// Moves the rollover schedule on to `now` for the zone in `records`: starts a
    /// ZSK or KSK rollover whose time has come (generating the new key into the
    /// keyring, same algorithm as the key it replaces) and saves the state. Returns
    /// whether any key's use changed.
    pub fn step(&mut self, origin: &Name, records: &[Record], now: u64) -> Result<bool, String> {
        let (Some(schedule), Some(r)) = (&mut self.schedule, &self.policy.rollover) else {
            return Ok(false);
        };
        let dnskey_ttl = records
            .iter()
            .find(|x| x.owner == *origin && x.rtype() == Rtype::DNSKEY)
            .or_else(|| records.iter().find(|x| x.rtype() == Rtype::SOA))
            .map_or(0, |x| x.ttl);
        let max_zone_ttl = records.iter().map(|x| x.ttl).max().unwrap_or(0);
        let timings = Timings {
            dnskey_ttl,
            max_zone_ttl,
            ds_ttl: r.parent_ds_ttl,
            propagation: r.propagation,
            zsk_lifetime: r.zsk_lifetime,
            ksk_lifetime: r.ksk_lifetime,
        };
        let before = schedule.clone();
        let (mut changed, mut next) = schedule.advance(now, &timings);
        if let Next::Due(kind) = next {
            let ksk = kind == RollKind::Ksk;
            let algorithm = self
                .keys
                .iter()
                .find(|k| k.is_ksk() == ksk && schedule.active.contains(&key_id(k)))
                .map(SigningKey::algorithm)
                .ok_or_else(|| format!("no active {} to roll", if ksk { "KSK" } else { "ZSK" }))?;
            let key = SigningKey::generate(algorithm, if ksk { FLAGS_KSK } else { FLAGS_ZSK })
                .map_err(|e| e.to_string())?;
            store(&self.policy.keys, origin, &key)?;
            schedule
                .start(kind, vec![key_id(&key)], now)
                .map_err(|e| e.to_string())?;
            tracing::info!(zone = %origin, ?kind, key_tag = key.key_tag(), "key rollover started");
            self.keys.push(key);
            changed = true;
            next = schedule.advance(now, &timings).1;
        }
        if let Next::Ds = next
            && !matches!(self.next, Some(Next::Ds))
        {
            tracing::warn!(zone = %origin, "key rollover waits for the parent's DS to name the new KSK (see CDS); then run `zdns key ds-seen`");
        }
        self.next = Some(next);
        if *schedule != before {
            write_state(&state_path(&self.policy.keys, origin), &schedule.to_text())?;
        }
        Ok(changed)
    }

    /// When the zone in `records` next needs work (seconds since 1970): signatures to
    /// refresh (the earliest expiration less the refresh time) or a rollover step.
    pub fn due(&self, records: &[Record], now: u64) -> Option<u64> {
        let refresh = earliest_expiration(records, now).map(|first| {
            let left = i64::from(first.wrapping_sub(now as u32).cast_signed());
            u64::try_from(now as i64 + left - i64::from(self.policy.refresh)).unwrap_or(0)
        });
        let roll = match self.next {
            Some(Next::At(at)) => Some(at),
            Some(Next::Due(_)) => Some(now),
            _ => None,
        };
        match (refresh, roll) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
