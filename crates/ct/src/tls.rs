//! The TLS presentation language encoding (RFC 8446 §3) that RFC 6962 structures use:
//! big-endian integers and vectors with 1-, 2- or 3-byte length prefixes.

use core::fmt;

/// Why TLS-encoded bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The field being read.
    pub field: &'static str,
    /// Byte offset of the field in the input.
    pub offset: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ended inside the field.
    Truncated,
    /// Bytes were left over after the structure.
    TrailingBytes(usize),
    /// A length or enum value outside what the structure allows.
    Invalid(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::Truncated => {
                write!(f, "{} at offset {}: truncated", self.field, self.offset)
            }
            DecodeErrorKind::TrailingBytes(n) => {
                write!(
                    f,
                    "{} at offset {}: {n} trailing bytes",
                    self.field, self.offset
                )
            }
            DecodeErrorKind::Invalid(why) => {
                write!(f, "{} at offset {}: {why}", self.field, self.offset)
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a structure could not be TLS-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A vector is longer (or shorter) than its length prefix allows.
    Length {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The smallest length allowed.
        min: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// The structure is inconsistent (e.g. precertificate data on an X.509 entry).
    Inconsistent(&'static str),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::Length {
                field,
                len,
                min,
                max,
            } => write!(f, "{field} is {len} bytes; it must be {min} to {max}"),
            EncodeError::Inconsistent(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for EncodeError {}

/// A bounded cursor over TLS-encoded bytes.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// The offset of the next byte.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// An error about `field` at the current offset.
    pub fn error(&self, field: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            field,
            offset: self.pos,
            kind,
        }
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.error(field, DecodeErrorKind::Truncated))?;
        let out = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.error(field, DecodeErrorKind::Truncated))?;
        self.pos = end;
        Ok(out)
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let at = self.pos;
        <[u8; N]>::try_from(self.bytes(N, field)?).map_err(|_| DecodeError {
            field,
            offset: at,
            kind: DecodeErrorKind::Truncated,
        })
    }

    /// An unsigned big-endian integer of `n` bytes (at most 8).
    pub fn uint(&mut self, n: usize, field: &'static str) -> Result<u64, DecodeError> {
        let bytes = self.bytes(n.min(8), field)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    /// A `uint8`.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let [b] = self.array(field)?;
        Ok(b)
    }

    /// A `uint16`.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// A `uint64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A vector `opaque field<min..max>` whose length prefix is `prefix` bytes.
    pub fn vec(
        &mut self,
        prefix: usize,
        min: usize,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let len = self.uint(prefix, field)?;
        let len =
            usize::try_from(len).map_err(|_| self.error(field, DecodeErrorKind::Truncated))?;
        if len < min {
            return Err(DecodeError {
                field,
                offset: at,
                kind: DecodeErrorKind::Invalid(format!("length {len} is below the minimum {min}")),
            });
        }
        self.bytes(len, field)
    }

    /// Fails unless everything has been read.
    pub fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.buf.len().saturating_sub(self.pos) {
            0 => Ok(()),
            n => Err(self.error(field, DecodeErrorKind::TrailingBytes(n))),
        }
    }
}

/// Appends `value` as a `prefix`-byte big-endian integer (`prefix` at most 8).
pub fn put_uint(out: &mut Vec<u8>, prefix: usize, value: u64) {
    let bytes = value.to_be_bytes();
    out.extend_from_slice(bytes.get(8 - prefix.min(8)..).unwrap_or(&[]));
}

/// Appends `data` as `opaque field<min..2^(8*prefix)-1>`.
pub fn put_vec(
    out: &mut Vec<u8>,
    prefix: usize,
    min: usize,
    data: &[u8],
    field: &'static str,
) -> Result<(), EncodeError> {
    let max = (1usize << (8 * prefix.min(3))) - 1;
    if data.len() < min || data.len() > max {
        return Err(EncodeError::Length {
            field,
            len: data.len(),
            min,
            max,
        });
    }
    put_uint(out, prefix, data.len() as u64);
    out.extend_from_slice(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_vectors() {
        let mut out = Vec::new();
        put_vec(&mut out, 3, 1, b"abc", "x").unwrap();
        put_vec(&mut out, 2, 0, b"", "y").unwrap();
        put_uint(&mut out, 5, 0x01_0203_0405);
        assert_eq!(out, b"\x00\x00\x03abc\x00\x00\x01\x02\x03\x04\x05");
        let mut r = Reader::new(&out);
        assert_eq!(r.vec(3, 1, "x").unwrap(), b"abc");
        assert_eq!(r.vec(2, 0, "y").unwrap(), b"");
        assert_eq!(r.uint(5, "z").unwrap(), 0x01_0203_0405);
        r.finish("end").unwrap();
    }

    #[test]
    fn rejects_bad_lengths() {
        let mut out = Vec::new();
        assert!(put_vec(&mut out, 3, 1, b"", "cert").is_err());
        assert!(put_vec(&mut out, 1, 0, &[0; 256], "short").is_err());
        let mut r = Reader::new(b"\x00\x00\x05ab");
        let e = r.vec(3, 1, "cert").unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Truncated);
        let mut r = Reader::new(b"\x00\x00");
        assert!(matches!(
            r.vec(2, 1, "ext").unwrap_err().kind,
            DecodeErrorKind::Invalid(_)
        ));
        let r = Reader::new(b"\x01");
        assert_eq!(
            r.finish("end").unwrap_err().kind,
            DecodeErrorKind::TrailingBytes(1)
        );
    }
}
