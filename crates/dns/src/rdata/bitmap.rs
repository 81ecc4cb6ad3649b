//! The type bit maps of NSEC, NSEC3 and CSYNC (RFC 4034 §4.1.2).

use std::fmt;

use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// A set of record types, kept sorted and without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeBitmap {
    types: Vec<Rtype>,
}

impl TypeBitmap {
    /// A bitmap of the given types (sorted and deduplicated here).
    pub fn new(mut types: Vec<Rtype>) -> TypeBitmap {
        types.sort_unstable();
        types.dedup();
        TypeBitmap { types }
    }

    /// The types, in increasing order.
    pub fn types(&self) -> &[Rtype] {
        &self.types
    }

    /// Whether `t` is in the set.
    pub fn contains(&self, t: Rtype) -> bool {
        self.types.binary_search(&t).is_ok()
    }

    /// Reads window blocks up to the end of the reader. Windows must be in increasing
    /// order, each 1–32 bytes long, with no trailing zero byte (RFC 4034 §4.1.2).
    pub fn parse_wire(r: &mut WireReader<'_>) -> Result<TypeBitmap, WireError> {
        let mut types = Vec::new();
        let mut last_window: Option<u8> = None;
        while !r.is_empty() {
            let at = r.pos();
            let window = r.u8()?;
            let len = r.u8()?;
            if last_window.is_some_and(|w| window <= w) {
                return Err(WireError::BadRdata {
                    at,
                    reason: "type bitmap windows out of order",
                });
            }
            if !(1..=32).contains(&len) {
                return Err(WireError::BadRdata {
                    at,
                    reason: "type bitmap window length not in 1..=32",
                });
            }
            let bits = r.bytes(usize::from(len))?;
            if bits.last() == Some(&0) {
                return Err(WireError::BadRdata {
                    at,
                    reason: "type bitmap window with trailing zero byte",
                });
            }
            for (i, &byte) in bits.iter().enumerate() {
                for bit in 0..8 {
                    if byte & (0x80 >> bit) != 0 {
                        let low = (i * 8 + bit) as u16;
                        types.push(Rtype(u16::from(window) << 8 | low));
                    }
                }
            }
            last_window = Some(window);
        }
        Ok(TypeBitmap { types })
    }

    /// Writes the window blocks.
    pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        let mut i = 0usize;
        while let Some(first) = self.types.get(i) {
            let window = (first.0 >> 8) as u8;
            let mut bits = [0u8; 32];
            let mut used = 0usize;
            while let Some(t) = self.types.get(i) {
                if (t.0 >> 8) as u8 != window {
                    break;
                }
                let low = usize::from(t.0 & 0xff);
                if let Some(b) = bits.get_mut(low / 8) {
                    *b |= 0x80 >> (low % 8);
                }
                used = low / 8 + 1;
                i += 1;
            }
            w.put_u8(window)?;
            w.put_u8(used as u8)?;
            w.put_bytes(bits.get(..used).unwrap_or_default())?;
        }
        Ok(())
    }

    /// Reads type mnemonics up to the end of the entry (an empty set is allowed).
    pub fn parse_text(f: &mut Fields<'_>) -> Result<TypeBitmap, TextError> {
        let mut types = Vec::new();
        while !f.is_empty() {
            let t = f.word("record type")?;
            let rtype = Rtype::from_mnemonic(t.text)
                .ok_or_else(|| t.error(format!("unknown record type '{}'", t.lossy())))?;
            types.push(rtype);
        }
        Ok(TypeBitmap::new(types))
    }
}

impl fmt::Display for TypeBitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.types.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4034_example() {
        // RFC 4034 §4.3: A MX RRSIG NSEC TYPE1234.
        let mut wire = vec![0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03, 0x04, 0x1b];
        wire.extend_from_slice(&[0; 26]);
        wire.push(0x20);
        let bm = TypeBitmap::parse_wire(&mut WireReader::new(&wire)).unwrap();
        assert_eq!(bm.to_string(), "A MX RRSIG NSEC TYPE1234");
        let mut w = WireWriter::plain();
        bm.write_wire(&mut w).unwrap();
        assert_eq!(w.as_bytes(), wire);
    }

    #[test]
    fn bad_windows() {
        for bad in [&[0u8, 0][..], &[0, 1, 0], &[1, 1, 1, 0, 1, 1], &[0, 33]] {
            assert!(TypeBitmap::parse_wire(&mut WireReader::new(bad)).is_err());
        }
    }
}
