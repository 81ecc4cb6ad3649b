//! Automated updates of DNSSEC trust anchors (RFC 5011), sans-I/O.
//!
//! Every time the DNSKEY RRset of an anchored zone validates through the anchors in
//! force, [`Managed::observe`] looks at its key-signing keys (SEP flag):
//!
//! - a new key is `AddPend` from that moment, and becomes `Valid` (a trust anchor) once
//!   it has been seen for the add hold-down time, 30 days (§2.4.1), and again after it;
//! - a `Valid` key missing from the RRset is `Missing`, still trusted (§4);
//! - a key published with the REVOKE bit, whose own signature over the RRset verifies
//!   (§2.1), is `Revoked` and trusted no more; it is forgotten after the remove
//!   hold-down time, 30 days (§2.4.2);
//! - a pending key that disappears is forgotten.
//!
//! The state is written as text ([`Managed::to_text`]) for the node to keep in its
//! data directory, so a restart keeps the anchors it learned; time is passed in.

use lib_dns::rdata::{Dnskey, Rrsig};
use lib_dns::{Class, Name, RData};
use zdns_dnssec::canonical::{canonical_rdatas, signed_data};
use zdns_dnssec::verify::{check_validity, verify_signature};

use super::anchor::TrustAnchor;

/// The add hold-down time (RFC 5011 §2.4.1): 30 days.
pub const ADD_HOLD_DOWN: u64 = 30 * 86_400;

/// The remove hold-down time (RFC 5011 §2.4.2): 30 days.
pub const REMOVE_HOLD_DOWN: u64 = 30 * 86_400;

/// The active refresh interval (RFC 5011 §2.3) for a DNSKEY RRset of TTL `ttl`: half
/// the TTL, at least an hour and at most 15 days.
pub fn active_refresh(ttl: u32) -> u64 {
    (u64::from(ttl) / 2).clamp(3600, 15 * 86_400)
}

/// The state of one managed key (RFC 5011 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// Seen since this time, waiting out the add hold-down.
    AddPend(u64),
    /// A trust anchor.
    Valid,
    /// A trust anchor no longer published.
    Missing,
    /// Revoked by its owner at this time; no longer trusted.
    Revoked(u64),
}

/// One managed key: the DNSKEY (REVOKE bit clear) and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedKey {
    /// The key as a trust anchor (REVOKE bit clear).
    pub key: Dnskey,
    /// Where it stands.
    pub state: KeyState,
}

/// The managed keys of one anchored zone, with the configured anchor they started
/// from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Managed {
    /// The configured anchor (DS or DNSKEY form), trusted until a key is `Valid`.
    pub initial: TrustAnchor,
    /// The keys seen.
    pub keys: Vec<ManagedKey>,
    /// When the DNSKEY RRset is next due to be fetched and looked at (RFC 5011 §2.3);
    /// 0 until it has been once.
    pub refresh_at: u64,
}

fn same_key(a: &Dnskey, b: &Dnskey) -> bool {
    a.algorithm == b.algorithm && a.public_key == b.public_key && a.protocol == b.protocol
}

/// Whether `key`'s own signature over the DNSKEY RRset (`rdatas`) is among `sigs`
/// and verifies: the proof that its owner revoked it (RFC 5011 §2.1).
fn self_signed(zone: &Name, key: &Dnskey, rdatas: &[RData], sigs: &[Rrsig], now: u32) -> bool {
    let Ok(canonical) = canonical_rdatas(rdatas) else {
        return false;
    };
    sigs.iter()
        .filter(|s| s.key_tag == key.key_tag() && s.algorithm == key.algorithm)
        .filter(|s| s.signer == *zone && check_validity(s, now).is_ok())
        .any(|s| {
            signed_data(s, zone, Class::IN, &canonical).is_ok_and(|data| {
                verify_signature(key.algorithm, &key.public_key, &data, &s.signature).is_ok()
            })
        })
}

impl Managed {
    /// Management starting from a configured anchor: its DNSKEYs are `Valid`.
    pub fn new(initial: TrustAnchor) -> Managed {
        let keys = initial
            .dnskeys
            .iter()
            .map(|k| ManagedKey {
                key: k.clone(),
                state: KeyState::Valid,
            })
            .collect();
        Managed {
            initial,
            keys,
            refresh_at: 0,
        }
    }

    /// The anchor in force: the `Valid` and `Missing` keys, or the configured anchor
    /// while no key is.
    pub fn anchor(&self) -> TrustAnchor {
        let trusted: Vec<Dnskey> = self
            .keys
            .iter()
            .filter(|k| matches!(k.state, KeyState::Valid | KeyState::Missing))
            .map(|k| k.key.clone())
            .collect();
        if trusted.is_empty() {
            return self.initial.clone();
        }
        TrustAnchor {
            zone: self.initial.zone.clone(),
            ds: Vec::new(),
            dnskeys: trusted,
        }
    }

    /// Takes in the zone's DNSKEY RRset `keys`, with its RRSIGs, just validated through
    /// the anchor in force at `now`; `trusted` are the keys of the set that anchor
    /// vouched for. Returns whether the anchor in force changed.
    pub fn observe(
        &mut self,
        keys: &[Dnskey],
        sigs: &[Rrsig],
        trusted: &[Dnskey],
        now: u64,
    ) -> bool {
        let before = self.keys.clone();
        let zone = self.initial.zone.clone();
        let rdatas: Vec<RData> = keys.iter().cloned().map(RData::Dnskey).collect();
        let now32 = (now & u64::from(u32::MAX)) as u32;
        let seps: Vec<&Dnskey> = keys
            .iter()
            .filter(|k| k.flags & Dnskey::SEP != 0 && k.flags & Dnskey::ZONE != 0)
            .collect();
        // Keys the configured anchor vouched for are trusted from the start.
        for key in trusted {
            if key.flags & Dnskey::REVOKE == 0
                && key.flags & Dnskey::SEP != 0
                && !self.keys.iter().any(|m| same_key(&m.key, key))
            {
                self.keys.push(ManagedKey {
                    key: key.clone(),
                    state: KeyState::Valid,
                });
            }
        }
        for key in &seps {
            let revoked = key.flags & Dnskey::REVOKE != 0;
            let mut plain = (*key).clone();
            plain.flags &= !Dnskey::REVOKE;
            let known = self.keys.iter_mut().find(|m| same_key(&m.key, &plain));
            match (known, revoked) {
                (Some(m), true) => {
                    if !matches!(m.state, KeyState::Revoked(_))
                        && self_signed(&zone, key, &rdatas, sigs, now32)
                    {
                        tracing::warn!(%zone, key_tag = plain.key_tag(), "trust anchor revoked (RFC 5011)");
                        m.state = KeyState::Revoked(now);
                    }
                }
                (Some(m), false) => match m.state {
                    KeyState::AddPend(since) if now.saturating_sub(since) >= ADD_HOLD_DOWN => {
                        tracing::info!(%zone, key_tag = plain.key_tag(), "new trust anchor after hold-down (RFC 5011)");
                        m.state = KeyState::Valid;
                    }
                    KeyState::Missing => m.state = KeyState::Valid,
                    _ => {}
                },
                (None, false) => {
                    tracing::info!(%zone, key_tag = plain.key_tag(), "new key-signing key, add hold-down starts (RFC 5011)");
                    self.keys.push(ManagedKey {
                        key: plain,
                        state: KeyState::AddPend(now),
                    });
                }
                // A revoked key we never trusted: nothing to do.
                (None, true) => {}
            }
        }
        let published = |m: &ManagedKey| {
            seps.iter().any(|k| {
                let mut plain = (*k).clone();
                plain.flags &= !Dnskey::REVOKE;
                same_key(&plain, &m.key)
            })
        };
        for m in &mut self.keys {
            if m.state == KeyState::Valid && !published(m) {
                m.state = KeyState::Missing;
            }
        }
        self.keys.retain(|m| match m.state {
            KeyState::AddPend(_) => published(m),
            KeyState::Revoked(at) => now.saturating_sub(at) < REMOVE_HOLD_DOWN,
            _ => true,
        });
        self.keys != before
    }

    /// The state as text, one key a line:
    /// `STATE SINCE FLAGS PROTOCOL ALGORITHM BASE64-KEY` with STATE one of `addpend`,
    /// `valid`, `missing`, `revoked` (SINCE is 0 for valid and missing). The zone and
    /// configured anchor are not written: they come from the configuration.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for m in &self.keys {
            let (state, since) = match m.state {
                KeyState::AddPend(t) => ("addpend", t),
                KeyState::Valid => ("valid", 0),
                KeyState::Missing => ("missing", 0),
                KeyState::Revoked(t) => ("revoked", t),
            };
            out.push_str(&format!(
                "{state} {since} {}\n",
                RData::Dnskey(m.key.clone())
            ));
        }
        out
    }

    /// Reads the state [`Managed::to_text`] wrote, for the anchor `initial`.
    pub fn from_text(initial: TrustAnchor, text: &str) -> Result<Managed, String> {
        let mut keys = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let bad = |what: &str| format!("trust anchor state line {}: {what}", n + 1);
            let mut fields = line.splitn(3, ' ');
            let state = fields.next().ok_or_else(|| bad("empty"))?;
            let since: u64 = fields
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("bad time"))?;
            let key_text = fields.next().ok_or_else(|| bad("no key"))?;
            let record = format!(". IN DNSKEY {key_text}\n");
            let parsed =
                super::anchor::parse_anchors(&record, "trust anchor state").map_err(|e| bad(&e))?;
            let key = parsed
                .into_iter()
                .flat_map(|a| a.dnskeys)
                .next()
                .ok_or_else(|| bad("not a DNSKEY"))?;
            let state = match state {
                "addpend" => KeyState::AddPend(since),
                "valid" => KeyState::Valid,
                "missing" => KeyState::Missing,
                "revoked" => KeyState::Revoked(since),
                other => return Err(bad(&format!("unknown state `{other}`"))),
            };
            keys.push(ManagedKey { key, state });
        }
        Ok(Managed {
            initial,
            keys,
            refresh_at: 0,
        })
    }
}
