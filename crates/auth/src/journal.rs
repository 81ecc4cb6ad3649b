//! The zone journal: an append-only sequence of checksummed entries, each a zone diff or
//! a snapshot of the whole zone, replayed at start and served as IXFR.
//!
//! An entry is `magic (4) | payload length (u32) | CRC-32 of the payload (u32) | payload`,
//! integers big-endian. The payload is a kind byte, then records in uncompressed wire
//! form: for a diff, the RFC 1995 sequence (old SOA, removed records, new SOA, added
//! records: the second SOA marks the boundary); for a snapshot, the SOA then every other
//! record of the zone. An entry that is cut short or fails its checksum ends the
//! journal: with an fsync after every append, only the last entry can be torn by a
//! crash, and everything before it was acknowledged whole.
//!
//! [`Journal`] keeps the decoded diffs and decides what to serve and what to compact;
//! [`file::JournalFile`] is the filesystem edge.

pub mod file;

use std::fmt;

use lib_dns::record::Record;
use lib_dns::types::Rtype;
use lib_dns::wire::{WireError, WireReader, WireWriter};

use crate::diff::{DiffError, ZoneDiff, soa_serial};

/// The first four bytes of every entry.
pub const MAGIC: [u8; 4] = *b"ZDJ1";

/// The bytes before an entry's payload.
pub const HEADER_LEN: usize = 12;

const KIND_DIFF: u8 = 0;
const KIND_SNAPSHOT: u8 = 1;

/// One decoded journal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A change from one serial to the next.
    Diff(ZoneDiff),
    /// The whole zone, SOA first: later diffs apply to it.
    Snapshot(Vec<Record>),
}

/// Why the entries stopped before the end of the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailError {
    /// The bytes end inside an entry.
    Truncated,
    /// The entry does not start with [`MAGIC`].
    BadMagic,
    /// The payload does not match its checksum.
    BadChecksum,
    /// The checksum matches but the payload is not a valid entry.
    BadPayload(String),
}

impl fmt::Display for TailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailError::Truncated => f.write_str("entry cut short"),
            TailError::BadMagic => f.write_str("entry without the journal magic"),
            TailError::BadChecksum => f.write_str("entry fails its checksum"),
            TailError::BadPayload(why) => write!(f, "entry payload invalid: {why}"),
        }
    }
}

/// The entries read from a journal's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The valid entries, in order.
    pub entries: Vec<Entry>,
    /// How many leading bytes hold those entries: the length to truncate the file to.
    pub valid_len: usize,
    /// Why reading stopped early, if it did.
    pub tail: Option<TailError>,
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) lookup table.
// Built at compile time: an index out of bounds would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The CRC-32 of `bytes`, as zlib and gzip compute it.
pub fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        let slot = CRC_TABLE.get(usize::from((c as u8) ^ b)).copied();
        slot.unwrap_or(0) ^ (c >> 8)
    })
}

/// Wraps a payload into an entry.
fn frame(payload: &[u8]) -> Result<Vec<u8>, WireError> {
    let len = u32::try_from(payload.len()).map_err(|_| WireError::BadMessage {
        reason: "journal entry longer than 4 GiB",
    })?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&crc32(payload).to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

fn payload<'a>(
    kind: u8,
    records: impl IntoIterator<Item = &'a Record>,
) -> Result<Vec<u8>, WireError> {
    let mut w = WireWriter::plain();
    w.put_u8(kind)?;
    for r in records {
        r.write_wire(&mut w)?;
    }
    Ok(w.into_bytes())
}

/// The journal entry of a diff.
pub fn encode(diff: &ZoneDiff) -> Result<Vec<u8>, WireError> {
    frame(&payload(
        KIND_DIFF,
        diff.removed().iter().chain(diff.added()),
    )?)
}

/// The journal entry of a whole zone; its SOA is written first wherever it is in
/// `records`, and a zone without a SOA is refused.
pub fn encode_snapshot(records: &[Record]) -> Result<Vec<u8>, WireError> {
    let soa = records
        .iter()
        .find(|r| r.rtype() == Rtype::SOA)
        .ok_or(WireError::BadMessage {
            reason: "a journal snapshot needs the zone's SOA",
        })?;
    let rest = records.iter().filter(|r| r.rtype() != Rtype::SOA);
    frame(&payload(KIND_SNAPSHOT, std::iter::once(soa).chain(rest))?)
}

/// Decodes a payload (kind byte and records).
fn decode_payload(bytes: &[u8]) -> Result<Entry, String> {
    let mut r = WireReader::new(bytes);
    let kind = r.u8().map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    while !r.is_empty() {
        records.push(Record::parse_wire(&mut r).map_err(|e| e.to_string())?);
    }
    match kind {
        KIND_DIFF => {
            // The second SOA starts the added side (RFC 1995 §4).
            let split = records
                .iter()
                .skip(1)
                .position(|r| r.rtype() == Rtype::SOA)
                .ok_or("diff without its new SOA")?
                + 1;
            let added = records.split_off(split);
            ZoneDiff::new(records, added)
                .map(Entry::Diff)
                .map_err(|e| e.to_string())
        }
        KIND_SNAPSHOT => match records.first().and_then(soa_serial) {
            Some(_) => Ok(Entry::Snapshot(records)),
            None => Err("snapshot does not start with a SOA".into()),
        },
        other => Err(format!("unknown entry kind {other}")),
    }
}

/// Reads the entries of a journal, stopping at the first one that is cut short or
/// corrupt.
pub fn decode(bytes: &[u8]) -> Decoded {
    let mut entries = Vec::new();
    let mut at = 0;
    let tail = loop {
        let Some(rest) = bytes.get(at..).filter(|r| !r.is_empty()) else {
            break None;
        };
        let magic = rest.get(..MAGIC.len()).unwrap_or(rest);
        if !MAGIC.starts_with(magic) {
            break Some(TailError::BadMagic);
        }
        let word = |at: usize| {
            rest.get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
        };
        let (Some(len), Some(sum)) = (word(4), word(8)) else {
            break Some(TailError::Truncated);
        };
        let Some(body) = usize::try_from(len)
            .ok()
            .and_then(|len| rest.get(HEADER_LEN..HEADER_LEN.checked_add(len)?))
        else {
            break Some(TailError::Truncated);
        };
        if crc32(body) != sum {
            break Some(TailError::BadChecksum);
        }
        match decode_payload(body) {
            Ok(entry) => entries.push(entry),
            Err(why) => break Some(TailError::BadPayload(why)),
        }
        at += HEADER_LEN + body.len();
    };
    Decoded {
        entries,
        valid_len: at,
        tail,
    }
}

/// Why a journal does not fit its zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalError {
    /// A diff does not start where the previous one (or the zone) ends.
    Gap {
        /// The serial the journal is at.
        at: u32,
        /// The serial the diff starts from.
        from: u32,
    },
    /// No diff of the journal starts at the zone's serial.
    NoMatch {
        /// The zone's serial.
        serial: u32,
    },
    /// Applying a diff failed.
    Diff(DiffError),
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Gap { at, from } => {
                write!(
                    f,
                    "journal at serial {at} cannot take a diff from serial {from}"
                )
            }
            JournalError::NoMatch { serial } => {
                write!(f, "no journal entry starts at the zone's serial {serial}")
            }
            JournalError::Diff(e) => write!(f, "journal diff does not apply: {e}"),
        }
    }
}

impl std::error::Error for JournalError {}

impl From<DiffError> for JournalError {
    fn from(e: DiffError) -> JournalError {
        JournalError::Diff(e)
    }
}

/// The serial of a zone's records.
fn zone_serial(records: &[Record]) -> Result<u32, JournalError> {
    records
        .iter()
        .find_map(soa_serial)
        .ok_or(JournalError::Diff(DiffError::ZoneWithoutSoa))
}

/// Brings a base zone up to date with a chain of diffs. Diffs the base already contains
/// (those before the one starting at its serial) are skipped; a base at the serial the
/// chain ends with is returned as it is.
pub fn replay(base: &[Record], diffs: &[ZoneDiff]) -> Result<Vec<Record>, JournalError> {
    let serial = zone_serial(base)?;
    let start = match diffs.last() {
        None => return Ok(base.to_vec()),
        Some(last) if last.to_serial() == serial => return Ok(base.to_vec()),
        Some(_) => diffs
            .iter()
            .position(|d| d.from_serial() == serial)
            .ok_or(JournalError::NoMatch { serial })?,
    };
    let mut zone = base.to_vec();
    for d in diffs.iter().skip(start) {
        zone = d.apply(&zone)?;
    }
    Ok(zone)
}

/// The diffs of one zone, chained serial to serial, with their encoded sizes.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    entries: Vec<(ZoneDiff, usize)>,
    bytes: usize,
}

impl Journal {
    /// An empty journal.
    pub fn new() -> Journal {
        Journal::default()
    }

    /// Appends a diff, which must start at the serial the last one ends with.
    pub fn push(&mut self, diff: ZoneDiff) -> Result<(), JournalError> {
        if let Some((last, _)) = self.entries.last()
            && last.to_serial() != diff.from_serial()
        {
            return Err(JournalError::Gap {
                at: last.to_serial(),
                from: diff.from_serial(),
            });
        }
        let size = encode(&diff).map_or(0, |e| e.len());
        self.bytes += size;
        self.entries.push((diff, size));
        Ok(())
    }

    /// The diffs, oldest first.
    pub fn diffs(&self) -> impl Iterator<Item = &ZoneDiff> {
        self.entries.iter().map(|(d, _)| d)
    }

    /// How many diffs there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no diff.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The total encoded size of the diffs.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The diffs that take a client at `serial` to the journal's last serial (RFC 1995
    /// §4): empty when the client is at that serial, `None` when the journal does not
    /// reach back to it (the caller then falls back to a full transfer).
    pub fn diffs_since(&self, serial: u32) -> Option<Vec<&ZoneDiff>> {
        if self
            .entries
            .last()
            .is_some_and(|(d, _)| d.to_serial() == serial)
        {
            return Some(Vec::new());
        }
        let start = self
            .entries
            .iter()
            .position(|(d, _)| d.from_serial() == serial)?;
        Some(self.diffs().skip(start).collect())
    }

    /// When the journal holds more than `max_bytes`, drops its oldest diffs until it
    /// holds at most half of that; returns whether it did. (IXFR from a serial older
    /// than the first diff left falls back to AXFR.)
    pub fn trim(&mut self, max_bytes: usize) -> bool {
        if self.bytes <= max_bytes {
            return false;
        }
        let target = max_bytes / 2;
        let mut n = 0;
        for (_, size) in &self.entries {
            if self.bytes <= target {
                break;
            }
            self.bytes -= size;
            n += 1;
        }
        self.entries.drain(..n);
        true
    }

    /// When the journal holds more than `max_bytes`, merges its oldest diffs into
    /// `base` until it holds at most half of that (so compaction does not run again at
    /// the next append), and returns the new base. The base must be at the serial of the
    /// journal's first diff or later (diffs it already contains are dropped unapplied).
    pub fn compact(
        &mut self,
        base: &[Record],
        max_bytes: usize,
    ) -> Result<Option<Vec<Record>>, JournalError> {
        if self.bytes <= max_bytes {
            return Ok(None);
        }
        let target = max_bytes / 2;
        let mut drop_bytes = 0;
        let mut n = 0;
        for (_, size) in &self.entries {
            if self.bytes - drop_bytes <= target {
                break;
            }
            drop_bytes += size;
            n += 1;
        }
        let merged: Vec<ZoneDiff> = self.diffs().take(n).cloned().collect();
        let new_base = replay(base, &merged)?;
        self.entries.drain(..n);
        self.bytes -= drop_bytes;
        Ok(Some(new_base))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::diff::tests::{base, records, soa};

    /// A diff from `from` to `from + 1` that adds `host{from} A`.
    pub(crate) fn step(from: u32) -> ZoneDiff {
        let mut added = vec![soa(from + 1)];
        added.extend(records(&format!("host{from} A 192.0.2.{}\n", from % 250)));
        ZoneDiff::new(vec![soa(from)], added).unwrap()
    }

    /// A diff from `from` to `from + 1` that removes `www A 192.0.2.2` and adds it back
    /// with another address.
    fn swap(from: u32) -> ZoneDiff {
        let mut removed = vec![soa(from)];
        removed.extend(records("www A 192.0.2.2\n"));
        let mut added = vec![soa(from + 1)];
        added.extend(records("www A 192.0.2.200\n"));
        ZoneDiff::new(removed, added).unwrap()
    }

    #[test]
    fn trim_drops_the_oldest_diffs() {
        let mut j = Journal::new();
        for s in 1..=20 {
            j.push(step(s)).unwrap();
        }
        let total = j.bytes();
        assert!(!j.trim(total));
        assert!(j.trim(total / 2));
        assert!(j.bytes() <= total / 4);
        let first = j.diffs().next().unwrap().from_serial();
        assert!(first > 1);
        assert_eq!(j.diffs().last().unwrap().to_serial(), 21);
        assert!(j.diffs_since(1).is_none());
        assert!(j.diffs_since(first).is_some());
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn entries_round_trip() {
        let mut bytes = encode_snapshot(&base()).unwrap();
        bytes.extend(encode(&swap(1)).unwrap());
        bytes.extend(encode(&step(2)).unwrap());
        let d = decode(&bytes);
        assert_eq!(d.tail, None);
        assert_eq!(d.valid_len, bytes.len());
        assert_eq!(d.entries.len(), 3);
        let Entry::Snapshot(snap) = &d.entries[0] else {
            panic!("not a snapshot")
        };
        assert_eq!(snap.len(), base().len());
        assert_eq!(soa_serial(&snap[0]), Some(1));
        assert_eq!(d.entries[1], Entry::Diff(swap(1)));
        assert_eq!(d.entries[2], Entry::Diff(step(2)));
    }

    #[test]
    fn diff_with_empty_sides_round_trips() {
        let d = ZoneDiff::new(vec![soa(7)], vec![soa(8)]).unwrap();
        let bytes = encode(&d).unwrap();
        assert_eq!(decode(&bytes).entries, vec![Entry::Diff(d)]);
    }

    #[test]
    fn decoding_stops_at_a_torn_or_corrupt_tail() {
        let first = encode(&step(1)).unwrap();
        let second = encode(&step(2)).unwrap();
        let all = [first.clone(), second.clone()].concat();
        for cut in first.len()..all.len() {
            let d = decode(&all[..cut]);
            assert_eq!(d.entries, vec![Entry::Diff(step(1))], "cut at {cut}");
            assert_eq!(d.valid_len, first.len());
            let expected = if cut == first.len() {
                None
            } else {
                Some(TailError::Truncated)
            };
            assert_eq!(d.tail, expected, "cut at {cut}");
        }
        // A flipped bit anywhere in the second entry's payload fails the checksum.
        for i in first.len() + HEADER_LEN..all.len() {
            let mut bad = all.clone();
            bad[i] ^= 0x10;
            let d = decode(&bad);
            assert_eq!(d.valid_len, first.len());
            assert_eq!(d.tail, Some(TailError::BadChecksum));
        }
        let mut bad = all.clone();
        bad[first.len()] = b'X';
        assert_eq!(decode(&bad).tail, Some(TailError::BadMagic));
        let mut junk = first.clone();
        junk.extend_from_slice(b"garbage!");
        assert_eq!(decode(&junk).tail, Some(TailError::BadMagic));
    }

    #[test]
    fn a_checksummed_but_invalid_payload_is_reported() {
        let bytes = frame(&[9]).unwrap();
        assert_eq!(
            decode(&bytes).tail,
            Some(TailError::BadPayload("unknown entry kind 9".into()))
        );
        let no_new_soa = frame(&payload(KIND_DIFF, [&soa(1)]).unwrap()).unwrap();
        assert_eq!(
            decode(&no_new_soa).tail,
            Some(TailError::BadPayload("diff without its new SOA".into()))
        );
    }

    #[test]
    fn replay_applies_the_chain_and_skips_what_the_base_has() {
        let diffs = vec![swap(1), step(2), step(3)];
        let zone = replay(&base(), &diffs).unwrap();
        assert_eq!(zone_serial(&zone).unwrap(), 4);
        assert!(zone.iter().any(|r| r.to_string().contains("192.0.2.200")));
        assert!(zone.iter().any(|r| r.owner.to_string() == "host3.example."));
        // A base already at serial 3 only takes the last diff.
        let at3 = replay(&base(), &diffs[..2]).unwrap();
        let again = replay(&at3, &diffs).unwrap();
        assert_eq!(again, zone);
        // A base at the last serial is unchanged.
        assert_eq!(replay(&zone, &diffs).unwrap(), zone);
        // A base the journal does not reach is an error.
        assert_eq!(
            replay(&base(), &diffs[1..]),
            Err(JournalError::NoMatch { serial: 1 })
        );
    }

    #[test]
    fn journal_serves_diffs_since_a_serial() {
        let mut j = Journal::new();
        for s in 1..5 {
            j.push(step(s)).unwrap();
        }
        assert_eq!(j.push(step(9)), Err(JournalError::Gap { at: 5, from: 9 }));
        let since2: Vec<u32> = j
            .diffs_since(2)
            .unwrap()
            .iter()
            .map(|d| d.from_serial())
            .collect();
        assert_eq!(since2, vec![2, 3, 4]);
        assert_eq!(j.diffs_since(5).unwrap().len(), 0);
        assert!(j.diffs_since(0).is_none());
        assert!(j.diffs_since(77).is_none());
    }

    #[test]
    fn compaction_merges_the_oldest_diffs_into_the_base() {
        let mut j = Journal::new();
        for s in 1..11 {
            j.push(step(s)).unwrap();
        }
        let total = j.bytes();
        assert_eq!(j.compact(&base(), total).unwrap(), None);
        let new_base = j.compact(&base(), total - 1).unwrap().unwrap();
        assert!(j.bytes() <= (total - 1) / 2);
        assert!(!j.is_empty());
        let first_kept = j.diffs().next().unwrap().from_serial();
        assert_eq!(zone_serial(&new_base).unwrap(), first_kept);
        // The new base plus the rest equals the old base plus everything.
        let all: Vec<ZoneDiff> = (1..11).map(step).collect();
        let rest: Vec<ZoneDiff> = j.diffs().cloned().collect();
        assert_eq!(
            replay(&new_base, &rest).unwrap(),
            replay(&base(), &all).unwrap()
        );
        // Clients older than the new base now get a full transfer.
        assert!(j.diffs_since(1).is_none());
        assert!(j.diffs_since(first_kept).is_some());
    }
}
