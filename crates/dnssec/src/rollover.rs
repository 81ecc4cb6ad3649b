//! Key rollovers on a schedule, as a pure state machine: time comes in as seconds, the
//! state goes out as text (kept on disk by the caller, so a restart in the middle of a
//! rollover carries on where it was), and what each key does at each moment comes out
//! as a [`KeyUse`] for [`crate::sign::resign_zone`].
//!
//! Three rollovers, with the waits of RFC 6781 §4.1 and RFC 7583 §3:
//!
//! - **ZSK pre-publish** (RFC 6781 §4.1.1.1): the new ZSK is published; after the
//!   DNSKEY TTL (and propagation) it signs in place of the old one; after the largest
//!   TTL of the zone's signed data the old one is removed.
//! - **KSK double signature** (RFC 6781 §4.1.2): the new KSK is published and signs
//!   the DNSKEY RRset beside the old one, and the CDS/CDNSKEY RRsets (RFC 7344) name
//!   the new KSK only; once the parent's DS has changed ([`Schedule::ds_seen`]) and the
//!   old DS has left caches (DS TTL), the old KSK is removed.
//! - **Algorithm rollover** (RFC 6781 §4.1.4, the conservative way): the new KSK and
//!   ZSK sign first without being published, for the largest TTL of the signed data;
//!   then they are published, for the DNSKEY TTL; then the CDS names the new KSK and
//!   the parent's DS changes; after the DS TTL the old keys are unpublished while their
//!   signatures stay for the DNSKEY TTL; then the old keys go.
//!
//! The schedule starts a ZSK or KSK rollover when the active key's lifetime has
//! passed ([`Next::Due`]); the caller generates the new key and calls
//! [`Schedule::start`]. An algorithm rollover is started by the operator.

use std::fmt;

use crate::sign::KeyUse;

/// A key in the schedule: its key tag, algorithm number and whether it is a KSK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    /// The key tag (RFC 4034 Appendix B).
    pub tag: u16,
    /// The DNSSEC algorithm number.
    pub algorithm: u8,
    /// Whether it is a key-signing key (SEP flag).
    pub ksk: bool,
}

/// The waits of a rollover, in seconds (RFC 7583 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// The TTL of the zone's DNSKEY RRset.
    pub dnskey_ttl: u32,
    /// The largest TTL of the zone's signed RRsets (RFC 7583 "MaxZoneTTL").
    pub max_zone_ttl: u32,
    /// The TTL of the DS RRset at the parent.
    pub ds_ttl: u32,
    /// How long a change takes to reach every secondary ("PropDelay").
    pub propagation: u32,
    /// A ZSK is rolled this long after it became active (0: never).
    pub zsk_lifetime: u64,
    /// A KSK is rolled this long after it became active (0: never).
    pub ksk_lifetime: u64,
}

/// Which rollover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollKind {
    /// A zone-signing key, pre-published.
    Zsk,
    /// A key-signing key, double signature with CDS/CDNSKEY.
    Ksk,
    /// Both keys to a new algorithm.
    Algorithm,
}

impl RollKind {
    fn word(self) -> &'static str {
        match self {
            RollKind::Zsk => "zsk",
            RollKind::Ksk => "ksk",
            RollKind::Algorithm => "algorithm",
        }
    }
}

/// A rollover under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roll {
    /// Which rollover.
    pub kind: RollKind,
    /// Its step, from 0 (see the module documentation).
    pub step: u8,
    /// When the step began (seconds since 1970).
    pub since: u64,
    /// The keys going out.
    pub old: Vec<KeyId>,
    /// The keys coming in.
    pub new: Vec<KeyId>,
    /// When the parent's DS was seen to name the new KSK, once it was.
    pub ds_seen: Option<u64>,
}

impl Roll {
    /// Whether this step publishes the new KSK's CDS and waits for the parent's DS.
    fn waits_for_ds(&self) -> bool {
        matches!(
            (self.kind, self.step),
            (RollKind::Ksk, 1) | (RollKind::Algorithm, 2)
        )
    }
}

/// What the schedule waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing to do before this time (seconds since 1970).
    At(u64),
    /// The parent's DS RRset must come to name the new KSK: call [`Schedule::ds_seen`]
    /// when it does.
    Ds,
    /// A key's lifetime is over: generate a new key of this kind and call
    /// [`Schedule::start`].
    Due(RollKind),
    /// No rollover is scheduled.
    Idle,
}

/// Why a rollover cannot start or the saved state cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollError {
    /// Another rollover is under way.
    Busy,
    /// The keys given do not fit the rollover (wrong kind, unknown, or already in use).
    BadKeys(String),
    /// The saved state does not parse.
    Parse(String),
}

impl fmt::Display for RollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RollError::Busy => f.write_str("a key rollover is already under way"),
            RollError::BadKeys(why) => write!(f, "keys do not fit the rollover: {why}"),
            RollError::Parse(why) => write!(f, "bad rollover state: {why}"),
        }
    }
}

impl std::error::Error for RollError {}

/// The rollover schedule of one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The keys in ordinary use (published, signing).
    pub active: Vec<KeyId>,
    /// When the active ZSK became active.
    pub zsk_since: u64,
    /// When the active KSK became active.
    pub ksk_since: u64,
    /// The rollover under way.
    pub roll: Option<Roll>,
}

impl Schedule {
    /// A schedule whose keys `active` are in ordinary use since `now`.
    pub fn new(active: Vec<KeyId>, now: u64) -> Schedule {
        Schedule {
            active,
            zsk_since: now,
            ksk_since: now,
            roll: None,
        }
    }

    /// Starts a rollover at `now` to the keys `new` (a ZSK for [`RollKind::Zsk`], a
    /// KSK for [`RollKind::Ksk`], a KSK and a ZSK of one new algorithm for
    /// [`RollKind::Algorithm`]). What the keys do changes at once: sign the zone
    /// again.
    pub fn start(&mut self, kind: RollKind, new: Vec<KeyId>, now: u64) -> Result<(), RollError> {
        if self.roll.is_some() {
            return Err(RollError::Busy);
        }
        if new.iter().any(|k| self.active.contains(k)) {
            return Err(RollError::BadKeys("a new key is already active".into()));
        }
        let old: Vec<KeyId> = match kind {
            RollKind::Zsk | RollKind::Ksk => {
                let ksk = kind == RollKind::Ksk;
                if new.len() != 1 || new.iter().any(|k| k.ksk != ksk) {
                    return Err(RollError::BadKeys(format!(
                        "a {} rollover takes one new {}",
                        kind.word(),
                        if ksk { "KSK" } else { "ZSK" }
                    )));
                }
                self.active
                    .iter()
                    .filter(|k| k.ksk == ksk)
                    .copied()
                    .collect()
            }
            RollKind::Algorithm => {
                let alg = new.first().map(|k| k.algorithm);
                let one_alg = new.iter().all(|k| Some(k.algorithm) == alg);
                let both = new.iter().any(|k| k.ksk) && new.iter().any(|k| !k.ksk);
                if !one_alg || !both || self.active.iter().any(|k| Some(k.algorithm) == alg) {
                    return Err(RollError::BadKeys(
                        "an algorithm rollover takes a KSK and a ZSK of a new algorithm".into(),
                    ));
                }
                self.active.clone()
            }
        };
        self.roll = Some(Roll {
            kind,
            step: 0,
            since: now,
            old,
            new,
            ds_seen: None,
        });
        Ok(())
    }

    /// Records that the parent's DS RRset names the new KSK (seen at `now`). Only
    /// heard while the rollover waits for it ([`Next::Ds`]): a DS seen before the CDS
    /// named the new key proves nothing.
    pub fn ds_seen(&mut self, now: u64) {
        if let Some(roll) = &mut self.roll
            && roll.waits_for_ds()
            && roll.ds_seen.is_none()
        {
            roll.ds_seen = Some(now);
        }
    }

    /// Moves the rollover on as far as `now` allows and says what comes next. Returns
    /// whether any key's use changed (the zone must be signed again).
    pub fn advance(&mut self, now: u64, t: &Timings) -> (bool, Next) {
        let mut changed = false;
        loop {
            let Some(roll) = &mut self.roll else {
                return (changed, self.due(now, t));
            };
            let wait = |secs: u32| u64::from(secs) + u64::from(t.propagation);
            let until = if roll.waits_for_ds() {
                // The old DS leaves caches a DS TTL after the parent changed it.
                roll.ds_seen
                    .map(|seen| seen.max(roll.since) + wait(t.ds_ttl))
            } else {
                // A new key enters caches in a DNSKEY TTL; old signatures leave them in
                // the largest TTL of the signed data.
                Some(match (roll.kind, roll.step) {
                    (RollKind::Zsk, 1) | (RollKind::Algorithm, 0) => {
                        roll.since + wait(t.max_zone_ttl)
                    }
                    _ => roll.since + wait(t.dnskey_ttl),
                })
            };
            let Some(until) = until else {
                return (changed, Next::Ds);
            };
            if now < until {
                return (changed, Next::At(until));
            }
            roll.step += 1;
            roll.since = until;
            changed = true;
            let last = match roll.kind {
                RollKind::Zsk | RollKind::Ksk => 2,
                RollKind::Algorithm => 4,
            };
            if roll.step >= last {
                let (kind, old, new, at) = (roll.kind, roll.old.clone(), roll.new.clone(), until);
                self.active.retain(|k| !old.contains(k));
                self.active.extend(new);
                if matches!(kind, RollKind::Zsk | RollKind::Algorithm) {
                    self.zsk_since = at;
                }
                if matches!(kind, RollKind::Ksk | RollKind::Algorithm) {
                    self.ksk_since = at;
                }
                self.roll = None;
            }
        }
    }

    /// With no rollover under way: when the next one is due.
    fn due(&self, now: u64, t: &Timings) -> Next {
        let ksk_at = (t.ksk_lifetime > 0).then(|| self.ksk_since + t.ksk_lifetime);
        let zsk_at = (t.zsk_lifetime > 0).then(|| self.zsk_since + t.zsk_lifetime);
        match (ksk_at, zsk_at) {
            (Some(k), _) if k <= now => Next::Due(RollKind::Ksk),
            (_, Some(z)) if z <= now => Next::Due(RollKind::Zsk),
            (Some(k), Some(z)) => Next::At(k.min(z)),
            (Some(at), None) | (None, Some(at)) => Next::At(at),
            (None, None) => Next::Idle,
        }
    }

    /// What `key` does now: [`None`] for a key the schedule no longer uses (it may be
    /// deleted from the keyring).
    pub fn key_use(&self, key: KeyId) -> Option<KeyUse> {
        const PUBLISHED: KeyUse = KeyUse {
            publish: true,
            sign: false,
            cds: false,
        };
        const SIGN_ONLY: KeyUse = KeyUse {
            publish: false,
            sign: true,
            cds: false,
        };
        const NO_CDS: KeyUse = KeyUse {
            publish: true,
            sign: true,
            cds: false,
        };
        let Some(roll) = &self.roll else {
            return self.active.contains(&key).then_some(KeyUse::ACTIVE);
        };
        let (old, new) = (roll.old.contains(&key), roll.new.contains(&key));
        if !old && !new {
            return self.active.contains(&key).then_some(KeyUse::ACTIVE);
        }
        Some(match (roll.kind, roll.step, new) {
            // ZSK: the new key is published, then signs while the old stays published.
            (RollKind::Zsk, step, new) if (step == 0) == new => PUBLISHED,
            (RollKind::Zsk, _, _) => KeyUse::ACTIVE,
            // KSK: both sign the DNSKEY RRset; the CDS names the old one, then the new.
            (RollKind::Ksk, 0, true) | (RollKind::Ksk, 1.., false) => NO_CDS,
            (RollKind::Ksk, _, _) => KeyUse::ACTIVE,
            // Algorithm: new keys sign, then are published, then take the CDS; the old
            // keys give up the CDS, then are unpublished while their signatures stay.
            (RollKind::Algorithm, 0, true) | (RollKind::Algorithm, 3.., false) => SIGN_ONLY,
            (RollKind::Algorithm, 1, true) | (RollKind::Algorithm, 2, false) => NO_CDS,
            (RollKind::Algorithm, _, _) => KeyUse::ACTIVE,
        })
    }

    /// The state as text, one fact per line, for the caller to keep on disk.
    pub fn to_text(&self) -> String {
        let keys = |ks: &[KeyId]| {
            ks.iter()
                .map(|k| {
                    format!(
                        "{}/{}/{}",
                        k.tag,
                        k.algorithm,
                        if k.ksk { "ksk" } else { "zsk" }
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut out = format!(
            "active {}\nzsk-since {}\nksk-since {}\n",
            keys(&self.active),
            self.zsk_since,
            self.ksk_since
        );
        if let Some(r) = &self.roll {
            out.push_str(&format!(
                "roll {} {} {}\nold {}\nnew {}\n",
                r.kind.word(),
                r.step,
                r.since,
                keys(&r.old),
                keys(&r.new)
            ));
            if let Some(seen) = r.ds_seen {
                out.push_str(&format!("ds-seen {seen}\n"));
            }
        }
        out
    }

    /// The state from [`Schedule::to_text`].
    pub fn from_text(text: &str) -> Result<Schedule, RollError> {
        let bad = |why: String| RollError::Parse(why);
        let key = |w: &str| -> Result<KeyId, RollError> {
            let mut parts = w.split('/');
            let tag = parts.next().and_then(|p| p.parse().ok());
            let alg = parts.next().and_then(|p| p.parse().ok());
            let ksk = match parts.next() {
                Some("ksk") => Some(true),
                Some("zsk") => Some(false),
                _ => None,
            };
            match (tag, alg, ksk, parts.next()) {
                (Some(tag), Some(algorithm), Some(ksk), None) => Ok(KeyId {
                    tag,
                    algorithm,
                    ksk,
                }),
                _ => Err(bad(format!("bad key `{w}`"))),
            }
        };
        let keys = |rest: &[&str]| rest.iter().map(|w| key(w)).collect::<Result<Vec<_>, _>>();
        let number = |w: Option<&&str>, what: &str| -> Result<u64, RollError> {
            w.and_then(|w| w.parse().ok())
                .ok_or_else(|| bad(format!("bad {what}")))
        };
        let mut s = Schedule::new(Vec::new(), 0);
        let mut roll: Option<Roll> = None;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (head, rest) = words
                .split_first()
                .ok_or_else(|| bad("empty line".into()))?;
            match *head {
                "active" => s.active = keys(rest)?,
                "zsk-since" => s.zsk_since = number(rest.first(), "zsk-since")?,
                "ksk-since" => s.ksk_since = number(rest.first(), "ksk-since")?,
                "roll" => {
                    let kind = match rest.first().copied() {
                        Some("zsk") => RollKind::Zsk,
                        Some("ksk") => RollKind::Ksk,
                        Some("algorithm") => RollKind::Algorithm,
                        other => return Err(bad(format!("bad rollover kind {other:?}"))),
                    };
                    let step = u8::try_from(number(rest.get(1), "step")?)
                        .map_err(|_| bad("bad step".into()))?;
                    roll = Some(Roll {
                        kind,
                        step,
                        since: number(rest.get(2), "since")?,
                        old: Vec::new(),
                        new: Vec::new(),
                        ds_seen: None,
                    });
                }
                "old" | "new" | "ds-seen" => {
                    let r = roll
                        .as_mut()
                        .ok_or_else(|| bad(format!("`{head}` before `roll`")))?;
                    match *head {
                        "old" => r.old = keys(rest)?,
                        "new" => r.new = keys(rest)?,
                        _ => r.ds_seen = Some(number(rest.first(), "ds-seen")?),
                    }
                }
                other => return Err(bad(format!("unknown line `{other}`"))),
            }
        }
        s.roll = roll;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(tag: u16, algorithm: u8, ksk: bool) -> KeyId {
        KeyId {
            tag,
            algorithm,
            ksk,
        }
    }

    #[test]
    fn state_round_trips_through_text() {
        let mut s = Schedule::new(vec![k(1, 13, true), k(2, 13, false)], 100);
        assert_eq!(Schedule::from_text(&s.to_text()).unwrap(), s);
        s.start(RollKind::Ksk, vec![k(3, 13, true)], 200).unwrap();
        s.ds_seen(300);
        assert_eq!(Schedule::from_text(&s.to_text()).unwrap(), s);
        assert!(Schedule::from_text("roll zsk x 1\n").is_err());
        assert!(Schedule::from_text("old 1/13/ksk\n").is_err());
        assert!(Schedule::from_text("active 1/13\n").is_err());
    }

    #[test]
    fn rollovers_refuse_wrong_keys() {
        let mut s = Schedule::new(vec![k(1, 13, true), k(2, 13, false)], 0);
        assert!(s.start(RollKind::Zsk, vec![k(3, 13, true)], 1).is_err());
        assert!(
            s.start(
                RollKind::Algorithm,
                vec![k(3, 13, true), k(4, 13, false)],
                1
            )
            .is_err()
        );
        assert!(
            s.start(RollKind::Algorithm, vec![k(3, 15, true)], 1)
                .is_err()
        );
        s.start(RollKind::Zsk, vec![k(3, 13, false)], 1).unwrap();
        assert_eq!(
            s.start(RollKind::Ksk, vec![k(4, 13, true)], 1),
            Err(RollError::Busy)
        );
    }
}
