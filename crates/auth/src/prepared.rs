//! Prepared answers (NSD-style precompiled responses): the bytes of a response's
//! sections, written once at load with the question name at offset 12, so answering is
//! a copy.
//!
//! A blob written for question `Q0` serves any question whose name is `Q0` in another
//! case (positive answers), and, after relocation, any name *below* `Q0` (referrals
//! from a cut, negative answers with the apex SOA): in a message whose question name is
//! `delta` bytes longer, `Q0` is the name's suffix at `12 + delta`, and everything after
//! the question moved by `delta` too, so every compression pointer of the blob moves by
//! exactly `delta`. The offsets of those pointers are kept beside the blob.
//!
//! Wildcard answers (RFC 4592 §3.4.3) work the same way with one exception: a blob
//! written for the question `*.X` serves `<labels>.X`, whose records are owned by the
//! question name itself, so pointers to offset 12 stay where they are.

use lib_dns::message::HEADER_LEN;
use lib_dns::types::{Class, Rtype};

/// One prepared set of sections.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared {
    off: u32,
    len: u16,
    /// Answer, authority and additional counts.
    pub counts: [u16; 3],
    /// Whether the response is authoritative.
    pub aa: bool,
    relocs_off: u32,
    relocs_len: u16,
}

/// A prepared set of sections, wherever it is stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sections<'a> {
    /// The bytes, starting right after the question.
    pub bytes: &'a [u8],
    /// Offsets (in `bytes`) of the compression pointers to move.
    pub relocs: &'a [u16],
    /// Answer, authority and additional counts.
    pub counts: [u16; 3],
    /// Whether the response is authoritative.
    pub aa: bool,
}

impl Sections<'_> {
    /// Appends the sections to `out`, moving their pointers by `delta` (the question
    /// name's length minus that of the name they were prepared for); for a wildcard's
    /// sections, pointers to the question name itself (offset 12) are kept. Returns
    /// `false` (with `out` partly written) if a pointer would leave the 14-bit range.
    pub fn append(&self, delta: usize, wildcard: bool, out: &mut Vec<u8>) -> bool {
        let base = out.len();
        out.extend_from_slice(self.bytes);
        if delta == 0 {
            return true;
        }
        for &at in self.relocs {
            let at = base + usize::from(at);
            let Some(slot) = out.get_mut(at..at + 2) else {
                return false;
            };
            let Ok(word) = <[u8; 2]>::try_from(&*slot) else {
                return false;
            };
            let target = usize::from(u16::from_be_bytes(word) & 0x3fff);
            if wildcard && target == HEADER_LEN {
                continue;
            }
            let target = target + delta;
            if target >= 0x4000 {
                return false;
            }
            slot.copy_from_slice(&(0xc000 | target as u16).to_be_bytes());
        }
        true
    }
}

/// The prepared answers of one zone.
#[derive(Debug, Default)]
pub(crate) struct PreparedSet {
    bytes: Vec<u8>,
    relocs: Vec<u16>,
    entries: Vec<Prepared>,
}

impl PreparedSet {
    /// Keeps the sections of `msg`, a response whose question name is `qname_len` bytes
    /// long, with the offsets of its compression pointers when `relocatable`. Returns
    /// the entry's index, or `None` if the message cannot be prepared (too long, or
    /// truncated).
    pub fn add_message(&mut self, msg: &[u8], qname_len: usize, relocatable: bool) -> Option<u32> {
        let flags = u16::from_be_bytes([*msg.get(2)?, *msg.get(3)?]);
        if flags & 0x0200 != 0 {
            return None;
        }
        let count = |at: usize| Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]));
        let counts = [count(6)?, count(8)?, count(10)?];
        let start = HEADER_LEN + qname_len + 4;
        let sections = msg.get(start..)?;
        let relocs_off = u32::try_from(self.relocs.len()).ok()?;
        let mut relocs_len = 0u16;
        if relocatable {
            let found = pointers(msg, start, counts.iter().map(|&c| usize::from(c)).sum())?;
            relocs_len = u16::try_from(found.len()).ok()?;
            self.relocs.extend(found);
        }
        self.push(
            sections,
            counts,
            flags & 0x0400 != 0,
            relocs_off,
            relocs_len,
        )
    }

    /// Prepares a positive answer directly from record data that holds no compressible
    /// names: each record is a pointer to the question name, then its fields.
    pub fn add_direct<'a>(
        &mut self,
        rtype: Rtype,
        class: Class,
        ttl: u32,
        records: impl Iterator<Item = &'a [u8]>,
    ) -> Option<u32> {
        let start = self.bytes.len();
        let mut n = 0u16;
        for data in records {
            self.bytes.extend_from_slice(&[0xc0, 0x0c]);
            self.bytes.extend_from_slice(&rtype.0.to_be_bytes());
            self.bytes.extend_from_slice(&class.0.to_be_bytes());
            self.bytes.extend_from_slice(&ttl.to_be_bytes());
            self.bytes
                .extend_from_slice(&u16::try_from(data.len()).ok()?.to_be_bytes());
            self.bytes.extend_from_slice(data);
            n = n.checked_add(1)?;
        }
        let len = u16::try_from(self.bytes.len() - start).ok()?;
        let index = u32::try_from(self.entries.len()).ok()?;
        self.entries.push(Prepared {
            off: u32::try_from(start).ok()?,
            len,
            counts: [n, 0, 0],
            aa: true,
            relocs_off: 0,
            relocs_len: 0,
        });
        Some(index)
    }

    fn push(
        &mut self,
        sections: &[u8],
        counts: [u16; 3],
        aa: bool,
        relocs_off: u32,
        relocs_len: u16,
    ) -> Option<u32> {
        let index = u32::try_from(self.entries.len()).ok()?;
        self.entries.push(Prepared {
            off: u32::try_from(self.bytes.len()).ok()?,
            len: u16::try_from(sections.len()).ok()?,
            counts,
            aa,
            relocs_off,
            relocs_len,
        });
        self.bytes.extend_from_slice(sections);
        Some(index)
    }

    /// Gives back the spare capacity of the arrays once everything is prepared.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.relocs.shrink_to_fit();
        self.entries.shrink_to_fit();
    }

    /// The sections of an entry.
    pub fn sections(&self, i: u32) -> Option<Sections<'_>> {
        let p = self.entries.get(i as usize)?;
        let start = p.off as usize;
        let r = p.relocs_off as usize;
        Some(Sections {
            bytes: self.bytes.get(start..start + usize::from(p.len))?,
            relocs: self.relocs.get(r..r + usize::from(p.relocs_len))?,
            counts: p.counts,
            aa: p.aa,
        })
    }

    /// Copies entry `i` of `from` into this set; returns its index here.
    pub fn copy_from(&mut self, from: &PreparedSet, i: u32) -> Option<u32> {
        let s = from.sections(i)?;
        let relocs_off = u32::try_from(self.relocs.len()).ok()?;
        self.relocs.extend_from_slice(s.relocs);
        let relocs_len = u16::try_from(s.relocs.len()).ok()?;
        self.push(s.bytes, s.counts, s.aa, relocs_off, relocs_len)
    }

    /// Bytes of all sections kept.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.relocs.capacity() * 2
            + self.entries.capacity() * std::mem::size_of::<Prepared>()
    }
}

/// Offsets (from `start`) of every compression pointer in the `n` records at `start`:
/// in owner names and in the data of the types whose names are compressed (RFC 3597
/// §4: NS, CNAME, PTR, SOA, MX are the ones our writer compresses).
fn pointers(msg: &[u8], start: usize, n: usize) -> Option<Vec<u16>> {
    let mut found = Vec::new();
    let mut pos = start;
    for _ in 0..n {
        pos = name_pointers(msg, pos, start, &mut found)?;
        let rtype = Rtype(u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]));
        let rdlen = usize::from(u16::from_be_bytes([*msg.get(pos + 8)?, *msg.get(pos + 9)?]));
        let data = pos + 10;
        match rtype {
            Rtype::NS | Rtype::CNAME | Rtype::PTR => {
                name_pointers(msg, data, start, &mut found)?;
            }
            Rtype::MX => {
                name_pointers(msg, data + 2, start, &mut found)?;
            }
            Rtype::SOA => {
                let next = name_pointers(msg, data, start, &mut found)?;
                name_pointers(msg, next, start, &mut found)?;
            }
            _ => {}
        }
        pos = data + rdlen;
    }
    (pos == msg.len()).then_some(found)
}

/// Steps over the name at `pos`, noting a pointer's offset; returns the end.
fn name_pointers(msg: &[u8], mut pos: usize, start: usize, found: &mut Vec<u16>) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        match len & 0xc0 {
            0xc0 => {
                found.push(u16::try_from(pos.checked_sub(start)?).ok()?);
                return Some(pos + 2);
            }
            0x00 if len == 0 => return Some(pos + 1),
            0x00 => pos += usize::from(len) + 1,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_found_and_moved() {
        // Question "a." (3 bytes), then one NS record "a." -> "ns.a." compressed.
        let mut msg = vec![0u8; 12];
        msg[7] = 1; // ancount 1
        msg.extend_from_slice(&[1, b'a', 0, 0, 2, 0, 1]);
        msg.extend_from_slice(&[0xc0, 12, 0, 2, 0, 1, 0, 0, 0, 60, 0, 5]);
        msg.extend_from_slice(&[2, b'n', b's', 0xc0, 12]);
        let mut set = PreparedSet::default();
        let i = set.add_message(&msg, 3, true).unwrap();
        let p = set.sections(i).unwrap();
        assert_eq!(p.counts, [1, 0, 0]);
        let mut out = Vec::new();
        assert!(p.append(4, false, &mut out));
        assert_eq!(&out[..2], &[0xc0, 16]);
        assert_eq!(&out[out.len() - 2..], &[0xc0, 16]);
        out.clear();
        // A wildcard's owner pointer stays on the question name.
        assert!(p.append(4, true, &mut out));
        assert_eq!(&out[..2], &[0xc0, 12]);
        assert_eq!(&out[out.len() - 2..], &[0xc0, 12]);
        out.clear();
        assert!(!p.append(0x4000, false, &mut out));
    }
}
