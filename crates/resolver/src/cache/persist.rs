//! The on-disk form of a cached RRset, for the L2 cache that lets a restart (or a node
//! that was offline) start warm (seed 003 §7.1, §8.3). Storage itself is the node's
//! business; this is the format, read back without trusting it.
//!
//! Format (version 2): `02`, stored-at (u64), TTL (u32), rank (u8: 0 additional,
//! 1 authority, 2 answer), record count (u16), then each record in uncompressed wire
//! form (RFC 1035 §4.1.3); then the DNSSEC status it was cached with (u8: 0
//! indeterminate or not validated, 1 secure, 2 insecure), the RRSIG count (u16) and the
//! RRSIGs in the same form, so that data restored after a restart is served stale only
//! if it was validated (seed 003 §11.3). All integers big-endian. Version 1 (no DNSSEC
//! part) is still read, as not validated.

use lib_dns::wire::{WireError, WireReader, WireWriter};
use lib_dns::{Record, Rtype};

use super::{CacheKey, Rank};
use crate::validator::Security;

const VERSION: u8 = 2;
const VERSION_1: u8 = 1;

/// A cached RRset as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRrset {
    /// The records (their TTL fields are not used).
    pub records: Vec<Record>,
    /// How it was ranked.
    pub rank: Rank,
    /// When it was stored (seconds since the epoch).
    pub stored_at: u64,
    /// Its TTL when stored.
    pub ttl: u32,
    /// Its RRSIGs.
    pub rrsigs: Vec<Record>,
    /// What validation made of it.
    pub security: Security,
}

/// Why a stored RRset could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersistError {
    /// A version this code does not know.
    Version(u8),
    /// A rank byte out of range.
    Rank(u8),
    /// A DNSSEC status byte out of range, or RRSIGs that are not RRSIGs.
    Security(u8),
    /// No records, or records of different owners, types or classes.
    NotAnRrset,
    /// The bytes are not well-formed.
    Wire(WireError),
}

impl std::fmt::Display for PersistError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PersistError::Version(v) => write!(f, "unknown cache entry version {v}"),
            PersistError::Rank(r) => write!(f, "bad rank {r}"),
            PersistError::Security(s) => write!(f, "bad DNSSEC status {s}"),
            PersistError::NotAnRrset => f.write_str("not one RRset"),
            PersistError::Wire(e) => write!(f, "malformed cache entry: {e}"),
        }
    }
}

impl std::error::Error for PersistError {}

impl From<WireError> for PersistError {
    fn from(e: WireError) -> PersistError {
        PersistError::Wire(e)
    }
}

impl StoredRrset {
    /// The cache key (lowercase owner), or `None` if the records are not one RRset.
    pub fn key(&self) -> Option<CacheKey> {
        let first = self.records.first()?;
        let key = CacheKey {
            name: first.owner.to_lowercase(),
            rtype: first.rtype(),
            class: first.class,
        };
        self.records
            .iter()
            .all(|r| r.owner == key.name && r.rtype() == key.rtype && r.class == key.class)
            .then_some(key)
    }

    /// The key in bytes, for a key-value store: lowercase owner in wire form, type,
    /// class.
    pub fn key_bytes(&self) -> Option<Vec<u8>> {
        let key = self.key()?;
        let mut bytes = key.name.as_wire().to_vec();
        bytes.extend_from_slice(&key.rtype.0.to_be_bytes());
        bytes.extend_from_slice(&key.class.0.to_be_bytes());
        Some(bytes)
    }

    /// The bytes of the format above.
    pub fn encode(&self) -> Result<Vec<u8>, PersistError> {
        let count = u16::try_from(self.records.len()).map_err(|_| PersistError::NotAnRrset)?;
        let mut w = WireWriter::plain();
        w.put_u8(VERSION)?;
        w.put_u32((self.stored_at >> 32) as u32)?;
        w.put_u32(self.stored_at as u32)?;
        w.put_u32(self.ttl)?;
        w.put_u8(match self.rank {
            Rank::Additional => 0,
            Rank::Authority => 1,
            Rank::Answer => 2,
        })?;
        w.put_u16(count)?;
        for record in &self.records {
            record.write_wire(&mut w)?;
        }
        w.put_u8(match self.security {
            Security::Secure => 1,
            Security::Insecure => 2,
            Security::Indeterminate | Security::Bogus => 0,
        })?;
        let sigs = u16::try_from(self.rrsigs.len()).map_err(|_| PersistError::NotAnRrset)?;
        w.put_u16(sigs)?;
        for sig in &self.rrsigs {
            sig.write_wire(&mut w)?;
        }
        Ok(w.into_bytes())
    }

    /// Reads the format above; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<StoredRrset, PersistError> {
        let mut r = WireReader::new(bytes);
        let version = r.u8()?;
        if version != VERSION && version != VERSION_1 {
            return Err(PersistError::Version(version));
        }
        let stored_at = (u64::from(r.u32()?) << 32) | u64::from(r.u32()?);
        let ttl = r.u32()?;
        let rank = match r.u8()? {
            0 => Rank::Additional,
            1 => Rank::Authority,
            2 => Rank::Answer,
            other => return Err(PersistError::Rank(other)),
        };
        let count = r.u16()?;
        let mut records = Vec::with_capacity(usize::from(count).min(r.remaining() / 11 + 1));
        for _ in 0..count {
            records.push(Record::parse_wire(&mut r)?);
        }
        let mut security = Security::Indeterminate;
        let mut rrsigs = Vec::new();
        if version == VERSION {
            security = match r.u8()? {
                0 => Security::Indeterminate,
                1 => Security::Secure,
                2 => Security::Insecure,
                other => return Err(PersistError::Security(other)),
            };
            let sigs = r.u16()?;
            for _ in 0..sigs {
                let sig = Record::parse_wire(&mut r)?;
                if sig.rtype() != Rtype::RRSIG {
                    return Err(PersistError::Security(0));
                }
                rrsigs.push(sig);
            }
        }
        r.finish()?;
        let stored = StoredRrset {
            records,
            rank,
            stored_at,
            ttl,
            rrsigs,
            security,
        };
        stored.key().ok_or(PersistError::NotAnRrset)?;
        Ok(stored)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use lib_dns::Name;
    use lib_dns::rdata::{A, Txt};

    use super::*;
    use crate::cache::{Cache, CacheConfig};

    const T0: u64 = 1_800_000_000;

    fn a(owner: &str, last: u8) -> Record {
        Record::new(
            Name::parse(owner).unwrap(),
            300,
            A(Ipv4Addr::new(192, 0, 2, last)),
        )
    }

    #[test]
    fn round_trip_and_hostile_bytes() {
        let stored = StoredRrset {
            records: vec![a("www.Example.", 1), a("www.Example.", 2)],
            rank: Rank::Answer,
            stored_at: T0,
            ttl: 300,
            rrsigs: Vec::new(),
            security: Security::Secure,
        };
        let bytes = stored.encode().unwrap();
        assert_eq!(StoredRrset::decode(&bytes).unwrap(), stored);
        // Version 1 has no DNSSEC part: read as not validated.
        let mut v1 = bytes[..bytes.len() - 3].to_vec();
        v1[0] = 1;
        let old = StoredRrset::decode(&v1).unwrap();
        assert_eq!(old.security, Security::Indeterminate);
        assert_eq!(old.records, stored.records);
        for cut in 0..bytes.len() {
            assert!(StoredRrset::decode(&bytes[..cut]).is_err());
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(StoredRrset::decode(&trailing).is_err());
        let mut version = bytes.clone();
        version[0] = 9;
        assert_eq!(StoredRrset::decode(&version), Err(PersistError::Version(9)));
        let mut rank = bytes.clone();
        rank[13] = 7;
        assert_eq!(StoredRrset::decode(&rank), Err(PersistError::Rank(7)));
        let mixed = StoredRrset {
            records: vec![a("a.example.", 1), a("b.example.", 1)],
            ..stored.clone()
        };
        assert_eq!(
            StoredRrset::decode(&mixed.encode().unwrap()),
            Err(PersistError::NotAnRrset)
        );
        assert_eq!(stored.key_bytes().unwrap()[..5], [3, b'w', b'w', b'w', 7]);
    }

    #[test]
    fn snapshot_and_restore_keep_expiry_and_stale_window() {
        let c = Cache::new(CacheConfig::default());
        c.insert(vec![a("fresh.example.", 1)], Rank::Answer, T0);
        c.insert(vec![a("old.example.", 1)], Rank::Answer, T0 - 8 * 86400);
        let txt = Record::new(
            Name::parse("t.example.").unwrap(),
            60,
            Txt::new(&["x"]).unwrap(),
        );
        c.insert(vec![txt], Rank::Answer, T0 - 100);
        let snapshot = c.snapshot(T0 + 10);
        assert_eq!(
            snapshot.len(),
            2,
            "the RRset past its stale window is not kept"
        );
        let warm = Cache::new(CacheConfig::default());
        let bytes: Vec<Vec<u8>> = snapshot.iter().map(|s| s.encode().unwrap()).collect();
        let decoded = bytes
            .iter()
            .map(|b| StoredRrset::decode(b).unwrap())
            .collect();
        assert_eq!(warm.restore(decoded, T0 + 20), 2);
        let k = CacheKey::new(Name::parse("fresh.example.").unwrap(), lib_dns::Rtype::A);
        assert_eq!(
            warm.get(&k, T0 + 20).unwrap().ttl,
            280,
            "expires as it would have"
        );
        let t = CacheKey::new(Name::parse("t.example.").unwrap(), lib_dns::Rtype::TXT);
        assert!(warm.get(&t, T0 + 20).is_none());
        assert!(
            warm.get_stale(&t, T0 + 20).unwrap().stale,
            "still servable stale"
        );
    }
}
