//! Reading and writing the DNS wire format (RFC 1035 §4).
//!
//! [`WireReader`] reads big-endian integers, byte strings and names from a message,
//! following compression pointers (RFC 1035 §4.1.4) only backwards, so that loops and
//! forward references are rejected. [`WireWriter`] appends to a buffer with an optional
//! size limit and optional name compression; in canonical mode (RFC 4034 §6.2) it never
//! compresses and lowercases the names of the types that RFC lists.
//!
//! No operation panics: every read past the end is a [`WireError`].

use std::fmt;

use crate::name::{MAX_NAME_LEN, Name};

/// Why wire data could not be read or written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The data ends before the field at this offset is complete.
    ShortBuffer {
        /// Offset of the field that did not fit.
        at: usize,
    },
    /// A compression pointer points at or after itself (loops and forward pointers).
    BadPointer {
        /// Offset of the pointer.
        at: usize,
    },
    /// A label type other than a plain label or a pointer (RFC 6891 §5 retired them).
    BadLabelType {
        /// Offset of the label.
        at: usize,
    },
    /// A name longer than 255 bytes once decompressed.
    NameTooLong {
        /// Offset where the name started.
        at: usize,
    },
    /// Record data that does not match its type's format.
    BadRdata {
        /// Offset of the record data.
        at: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// Bytes left over after a structure that should have used them all.
    TrailingData {
        /// Offset of the first unused byte.
        at: usize,
    },
    /// A message-level inconsistency (counts, OPT placement, ...).
    BadMessage {
        /// What was wrong.
        reason: &'static str,
    },
    /// Writing would exceed the size limit given to the writer.
    NoSpace,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::ShortBuffer { at } => write!(f, "data ends early at offset {at}"),
            WireError::BadPointer { at } => {
                write!(
                    f,
                    "compression pointer at offset {at} does not point backwards"
                )
            }
            WireError::BadLabelType { at } => write!(f, "unknown label type at offset {at}"),
            WireError::NameTooLong { at } => {
                write!(f, "name at offset {at} is longer than 255 bytes")
            }
            WireError::BadRdata { at, reason } => {
                write!(f, "bad record data at offset {at}: {reason}")
            }
            WireError::TrailingData { at } => write!(f, "unexpected data at offset {at}"),
            WireError::BadMessage { reason } => write!(f, "malformed message: {reason}"),
            WireError::NoSpace => f.write_str("message exceeds its size limit"),
        }
    }
}

impl std::error::Error for WireError {}

/// A cursor over wire data. Names may point anywhere earlier in `msg`; everything else is
/// read between the cursor and `end`.
#[derive(Clone)]
pub struct WireReader<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> WireReader<'a> {
    /// A reader over a whole message (or any standalone wire data).
    pub fn new(msg: &'a [u8]) -> WireReader<'a> {
        WireReader {
            msg,
            pos: 0,
            end: msg.len(),
        }
    }

    /// A reader positioned at `pos` in `msg`, limited to `len` bytes.
    pub fn at(msg: &'a [u8], pos: usize, len: usize) -> Result<WireReader<'a>, WireError> {
        let end = pos
            .checked_add(len)
            .filter(|&e| e <= msg.len())
            .ok_or(WireError::ShortBuffer { at: pos })?;
        Ok(WireReader { msg, pos, end })
    }

    /// The current offset in the message.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left before the limit.
    pub fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// Whether nothing is left before the limit.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.end
    }

    /// The whole message this reader reads from.
    pub fn message(&self) -> &'a [u8] {
        self.msg
    }

    /// Splits off a reader for the next `len` bytes and advances past them.
    pub fn sub(&mut self, len: usize) -> Result<WireReader<'a>, WireError> {
        if len > self.remaining() {
            return Err(WireError::ShortBuffer { at: self.pos });
        }
        let sub = WireReader {
            msg: self.msg,
            pos: self.pos,
            end: self.pos + len,
        };
        self.pos += len;
        Ok(sub)
    }

    /// Fails with [`WireError::TrailingData`] unless everything was read.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(WireError::TrailingData { at: self.pos })
        }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(WireError::ShortBuffer { at: self.pos });
        }
        let out = self
            .msg
            .get(self.pos..self.pos + n)
            .ok_or(WireError::ShortBuffer { at: self.pos })?;
        self.pos += n;
        Ok(out)
    }

    /// All bytes up to the limit.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = self.msg.get(self.pos..self.end).unwrap_or_default();
        self.pos = self.end;
        out
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let at = self.pos;
        self.bytes(N)?
            .try_into()
            .map_err(|_| WireError::ShortBuffer { at })
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, WireError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, WireError> {
        self.array().map(u16::from_be_bytes)
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, WireError> {
        self.array().map(u32::from_be_bytes)
    }

    /// A big-endian 48-bit integer (TSIG time, RFC 8945 §4.2).
    pub fn u48(&mut self) -> Result<u64, WireError> {
        let b: [u8; 6] = self.array()?;
        Ok(b.iter().fold(0u64, |acc, &x| acc << 8 | u64::from(x)))
    }

    /// A `<character-string>`: a length byte and that many bytes (RFC 1035 §3.3).
    pub fn char_string(&mut self) -> Result<&'a [u8], WireError> {
        let len = self.u8()?;
        self.bytes(usize::from(len))
    }

    /// A possibly compressed name, decompressed into an owned [`Name`].
    pub fn name(&mut self) -> Result<Name, WireError> {
        let mut buf = [0u8; MAX_NAME_LEN];
        let len = self.name_into(&mut buf)?;
        Ok(Name::from_valid_slice(buf.get(..len).unwrap_or_default()))
    }

    /// Decompresses the name at the cursor into `buf`, returning its wire length. No
    /// allocation: the query path uses this.
    pub fn name_into(&mut self, buf: &mut [u8; MAX_NAME_LEN]) -> Result<usize, WireError> {
        let start = self.pos;
        let mut pos = self.pos;
        // Where the cursor continues once the name is read: after the first pointer, or
        // after the root label if there is none.
        let mut resume: Option<usize> = None;
        // Every pointer must point before the lowest offset read so far, which forbids
        // both loops and forward references.
        let mut floor = pos;
        let mut out = 0usize;
        loop {
            // Labels and pointers inside record data may not run past the record's end.
            let limit = if resume.is_none() {
                self.end
            } else {
                self.msg.len()
            };
            let data = self.msg.get(..limit).unwrap_or_default();
            // Scan a run of plain labels, then copy the run at once.
            let run_start = pos;
            let ended = loop {
                let len = *data.get(pos).ok_or(WireError::ShortBuffer { at: pos })?;
                match len & 0xc0 {
                    0x00 if len == 0 => {
                        pos += 1;
                        break true;
                    }
                    0x00 => pos += 1 + usize::from(len),
                    0xc0 => break false,
                    _ => return Err(WireError::BadLabelType { at: pos }),
                }
            };
            let run = data
                .get(run_start..pos)
                .ok_or(WireError::ShortBuffer { at: run_start })?;
            buf.get_mut(out..out + run.len())
                .ok_or(WireError::NameTooLong { at: start })?
                .copy_from_slice(run);
            out += run.len();
            if ended {
                self.pos = resume.unwrap_or(pos);
                return Ok(out);
            }
            let (Some(&hi), Some(&lo)) = (data.get(pos), data.get(pos + 1)) else {
                return Err(WireError::ShortBuffer { at: pos });
            };
            let target = usize::from(hi & 0x3f) << 8 | usize::from(lo);
            if target >= floor {
                return Err(WireError::BadPointer { at: pos });
            }
            if resume.is_none() {
                resume = Some(pos + 2);
            }
            floor = target;
            pos = target;
        }
    }
}

/// How a name inside record data is treated when written, by record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// May be compressed (RFC 3597 §4: the types of RFC 1035) and is lowercased in
    /// canonical form.
    Compressible,
    /// Never compressed, lowercased in canonical form (RFC 4034 §6.2, as updated by
    /// RFC 6840 §5.1).
    Canonical,
    /// Never compressed, never lowercased.
    Plain,
}

/// Appends wire data to a buffer, with an optional size limit and name compression.
pub struct WireWriter {
    buf: Vec<u8>,
    limit: usize,
    compress: bool,
    canonical: bool,
    /// Offsets (in `buf`) of names written so far that later names may point to.
    names: Vec<u16>,
}

impl WireWriter {
    /// A writer for a message: compression on, limited to `limit` bytes.
    pub fn message(limit: usize) -> WireWriter {
        WireWriter {
            buf: Vec::with_capacity(limit.min(1232)),
            limit,
            compress: true,
            canonical: false,
            names: Vec::new(),
        }
    }

    /// A writer that appends to `buf` (keeping what is there), compression on.
    pub fn message_into(buf: Vec<u8>, limit: usize) -> WireWriter {
        WireWriter {
            buf,
            limit,
            compress: true,
            canonical: false,
            names: Vec::new(),
        }
    }

    /// A writer without compression or limit: standalone record data, keys, digests.
    pub fn plain() -> WireWriter {
        WireWriter {
            buf: Vec::new(),
            limit: usize::MAX,
            compress: false,
            canonical: false,
            names: Vec::new(),
        }
    }

    /// A writer for the canonical form of RFC 4034 §6.2: no compression, names of the
    /// listed types lowercased.
    pub fn canonical() -> WireWriter {
        WireWriter {
            canonical: true,
            ..WireWriter::plain()
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The size limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the size limit (an OPT record reserves its space this way).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Mutable access to what was written, to patch counts and lengths.
    pub fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The finished buffer.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Cuts the output back to `len` bytes (undoing a record that did not fit), forgetting
    /// compression targets past that point.
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
        self.names.retain(|&off| usize::from(off) < len);
    }

    fn reserve(&self, n: usize) -> Result<(), WireError> {
        if self.buf.len().saturating_add(n) > self.limit {
            Err(WireError::NoSpace)
        } else {
            Ok(())
        }
    }

    /// Appends bytes.
    pub fn put_bytes(&mut self, b: &[u8]) -> Result<(), WireError> {
        self.reserve(b.len())?;
        self.buf.extend_from_slice(b);
        Ok(())
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, v: u8) -> Result<(), WireError> {
        self.put_bytes(&[v])
    }

    /// Appends a big-endian u16.
    pub fn put_u16(&mut self, v: u16) -> Result<(), WireError> {
        self.put_bytes(&v.to_be_bytes())
    }

    /// Appends a big-endian u32.
    pub fn put_u32(&mut self, v: u32) -> Result<(), WireError> {
        self.put_bytes(&v.to_be_bytes())
    }

    /// Appends the low 48 bits of `v`, big-endian.
    pub fn put_u48(&mut self, v: u64) -> Result<(), WireError> {
        self.put_bytes(v.to_be_bytes().get(2..).unwrap_or_default())
    }

    /// Appends a `<character-string>`; fails if `s` is longer than 255 bytes.
    pub fn put_char_string(&mut self, s: &[u8]) -> Result<(), WireError> {
        let len = u8::try_from(s.len()).map_err(|_| WireError::BadRdata {
            at: self.buf.len(),
            reason: "character-string longer than 255 bytes",
        })?;
        self.reserve(1 + s.len())?;
        self.buf.push(len);
        self.buf.extend_from_slice(s);
        Ok(())
    }

    /// Overwrites a u16 written earlier at `at` (counts, RDLENGTH).
    pub fn patch_u16(&mut self, at: usize, v: u16) {
        if let Some(slot) = self.buf.get_mut(at..at + 2) {
            slot.copy_from_slice(&v.to_be_bytes());
        }
    }

    /// Appends a name as record data of the given kind requires.
    pub fn put_name(&mut self, name: &Name, kind: NameKind) -> Result<(), WireError> {
        if self.canonical && kind != NameKind::Plain {
            return self.put_lowercase(name);
        }
        if self.compress && kind == NameKind::Compressible {
            self.put_compressed(name)
        } else {
            self.put_bytes(name.as_wire())
        }
    }

    /// Appends an owner name: compressed in messages, lowercased in canonical form.
    pub fn put_owner(&mut self, name: &Name) -> Result<(), WireError> {
        self.put_name(name, NameKind::Compressible)
    }

    fn put_lowercase(&mut self, name: &Name) -> Result<(), WireError> {
        let start = self.buf.len();
        self.put_bytes(name.as_wire())?;
        if let Some(tail) = self.buf.get_mut(start..) {
            tail.make_ascii_lowercase();
        }
        Ok(())
    }

    /// Writes `name`, replacing its longest suffix already in the buffer by a pointer.
    fn put_compressed(&mut self, name: &Name) -> Result<(), WireError> {
        let wire = name.as_wire();
        let mut pos = 0usize;
        while let Some(&len) = wire.get(pos) {
            if len == 0 {
                break;
            }
            let suffix = wire.get(pos..).unwrap_or_default();
            if let Some(target) = self.find_suffix(suffix) {
                self.reserve(pos + 2)?;
                let head = wire.get(..pos).unwrap_or_default();
                self.remember_labels(head);
                self.buf.extend_from_slice(head);
                self.buf.extend_from_slice(&(0xc000 | target).to_be_bytes());
                return Ok(());
            }
            pos += usize::from(len) + 1;
        }
        self.reserve(wire.len())?;
        self.remember_labels(wire);
        self.buf.extend_from_slice(wire);
        Ok(())
    }

    /// Records the label starts of `labels`, about to be appended at the current end.
    fn remember_labels(&mut self, labels: &[u8]) {
        let base = self.buf.len();
        let mut pos = 0usize;
        while let Some(&len) = labels.get(pos) {
            if len == 0 {
                break;
            }
            if let Ok(off) = u16::try_from(base + pos)
                && off < 0x4000
            {
                self.names.push(off);
            }
            pos += usize::from(len) + 1;
        }
    }

    /// An earlier offset where exactly `suffix` (a name's tail, ending in the root label)
    /// is written, compared case-insensitively.
    fn find_suffix(&self, suffix: &[u8]) -> Option<u16> {
        self.names
            .iter()
            .copied()
            .find(|&off| self.name_at_equals(usize::from(off), suffix))
    }

    fn name_at_equals(&self, mut at: usize, mut want: &[u8]) -> bool {
        let mut hops = 0;
        loop {
            let Some(&len) = self.buf.get(at) else {
                return false;
            };
            if len & 0xc0 == 0xc0 {
                let Some(&lo) = self.buf.get(at + 1) else {
                    return false;
                };
                hops += 1;
                if hops > 127 {
                    return false;
                }
                at = usize::from(len & 0x3f) << 8 | usize::from(lo);
                continue;
            }
            let n = usize::from(len) + 1;
            let (Some(have), Some(expect)) = (self.buf.get(at..at + n), want.get(..n)) else {
                return false;
            };
            if !have.eq_ignore_ascii_case(expect) {
                return false;
            }
            if len == 0 {
                return true;
            }
            at += n;
            want = want.get(n..).unwrap_or_default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn integers() {
        let data = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
        let mut r = WireReader::new(&data);
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(r.u16().unwrap(), 0x0203);
        assert_eq!(r.u32().unwrap(), 0x04050607);
        assert_eq!(r.u48().unwrap(), 0x08090a0b0c0d);
        assert_eq!(r.u8(), Err(WireError::ShortBuffer { at: 13 }));
    }

    #[test]
    fn compression_round_trip() {
        let mut w = WireWriter::message(512);
        w.put_owner(&name("www.example.com.")).unwrap();
        w.put_owner(&name("mail.EXAMPLE.com.")).unwrap();
        w.put_owner(&name("example.com.")).unwrap();
        w.put_name(&name("x.example.com."), NameKind::Plain)
            .unwrap();
        let bytes = w.into_bytes();
        // www.example.com. = 17 bytes, mail + pointer = 7, pointer = 2, plain = 15.
        assert_eq!(bytes.len(), 17 + 7 + 2 + 15);
        let mut r = WireReader::new(&bytes);
        assert_eq!(r.name().unwrap(), name("www.example.com."));
        assert_eq!(r.name().unwrap(), name("mail.example.com."));
        assert_eq!(r.name().unwrap(), name("example.com."));
        assert_eq!(r.name().unwrap(), name("x.example.com."));
        assert!(r.is_empty());
    }

    #[test]
    fn pointer_loops_and_forward_pointers_rejected() {
        // A pointer to itself.
        assert_eq!(
            WireReader::new(&[0xc0, 0x00]).name(),
            Err(WireError::BadPointer { at: 0 })
        );
        // A forward pointer.
        assert_eq!(
            WireReader::new(&[0xc0, 0x02, 0x00]).name(),
            Err(WireError::BadPointer { at: 0 })
        );
        // Two pointers pointing at each other: 0 -> 2 is forward, so caught first.
        let data = [1, b'a', 0xc0, 0x00];
        let mut r = WireReader::at(&data, 0, 4).unwrap();
        assert_eq!(r.name(), Err(WireError::BadPointer { at: 2 }));
    }

    #[test]
    fn reserved_label_types_rejected() {
        assert_eq!(
            WireReader::new(&[0x40, 0]).name(),
            Err(WireError::BadLabelType { at: 0 })
        );
    }

    #[test]
    fn name_too_long_rejected() {
        // 128 one-byte labels = 256 bytes plus root.
        let mut data = Vec::new();
        for _ in 0..128 {
            data.extend_from_slice(&[1, b'a']);
        }
        data.push(0);
        assert_eq!(
            WireReader::new(&data).name(),
            Err(WireError::NameTooLong { at: 0 })
        );
    }

    #[test]
    fn canonical_lowercases() {
        let mut w = WireWriter::canonical();
        w.put_name(&name("A.Example."), NameKind::Canonical)
            .unwrap();
        w.put_name(&name("B.Example."), NameKind::Plain).unwrap();
        assert_eq!(w.as_bytes(), b"\x01a\x07example\x00\x01B\x07Example\x00");
    }

    #[test]
    fn limit_enforced() {
        let mut w = WireWriter::message(3);
        assert_eq!(w.put_u32(1), Err(WireError::NoSpace));
        w.put_u16(1).unwrap();
        assert_eq!(w.len(), 2);
    }
}
