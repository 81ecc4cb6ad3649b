//! Authenticated denial of existence: NSEC (RFC 4034 §4), NSEC3 and NSEC3PARAM
//! (RFC 5155 §3, §4).

use std::fmt;

use super::RecordData;
use super::bitmap::TypeBitmap;
use crate::encoding;
use crate::name::Name;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// The next owner name in the zone and the types at this one (RFC 4034 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec {
    /// The next owner name in canonical order. Never compressed, and written as is in
    /// canonical form: RFC 6840 §5.1 took NSEC off the lowercasing list of RFC 4034 §6.2.
    pub next: Name,
    /// The types present at the owner name.
    pub types: TypeBitmap,
}

impl RecordData for Nsec {
    const RTYPE: Rtype = Rtype::NSEC;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Nsec {
            next: r.name()?,
            types: TypeBitmap::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        // Plain, not Canonical: RFC 6840 §5.1.
        w.put_name(&self.next, NameKind::Plain)?;
        self.types.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Nsec {
            next: f.name("next domain name")?,
            types: TypeBitmap::parse_text(f)?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.next)?;
        if !self.types.types().is_empty() {
            write!(f, " {}", self.types)?;
        }
        Ok(())
    }
}

/// The hash parameters shared by NSEC3 and NSEC3PARAM (RFC 5155 §3.1.1–§3.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nsec3Hash {
    /// The hash algorithm: 1 is SHA-1 (RFC 5155 §11).
    pub algorithm: u8,
    /// Flags: Opt-Out (1) in NSEC3; zero in NSEC3PARAM as published (RFC 5155 §4.1.2).
    pub flags: u8,
    /// Additional hash iterations.
    pub iterations: u16,
    /// The salt, at most 255 bytes; shown as `-` when empty.
    pub salt: Vec<u8>,
}

impl Nsec3Hash {
    fn parse_wire(r: &mut WireReader<'_>) -> Result<Nsec3Hash, WireError> {
        let algorithm = r.u8()?;
        let flags = r.u8()?;
        let iterations = r.u16()?;
        let salt = r.char_string()?.to_vec();
        Ok(Nsec3Hash {
            algorithm,
            flags,
            iterations,
            salt,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.algorithm)?;
        w.put_u8(self.flags)?;
        w.put_u16(self.iterations)?;
        w.put_char_string(&self.salt)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Nsec3Hash, TextError> {
        let algorithm = f.u8("hash algorithm")?;
        let flags = f.u8("flags")?;
        let iterations = f.u16("iterations")?;
        let t = f.word("salt")?;
        let mut salt = Vec::new();
        if t.text != b"-" {
            encoding::hex_decode(t.text, &mut salt).map_err(|e| {
                t.error(format!(
                    "expected salt in hexadecimal or '-', found '{}': {e}",
                    t.lossy()
                ))
            })?;
            if salt.is_empty() || salt.len() > 255 {
                return Err(t.error("salt must be 1 to 255 bytes, or '-' for none"));
            }
        }
        Ok(Nsec3Hash {
            algorithm,
            flags,
            iterations,
            salt,
        })
    }
}

impl fmt::Display for Nsec3Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.algorithm, self.flags, self.iterations)?;
        if self.salt.is_empty() {
            f.write_str("-")
        } else {
            encoding::hex_encode(&self.salt, f)
        }
    }
}

/// The SHA-1 hash algorithm of NSEC3 (RFC 5155 §11), whose hashes are 20 bytes.
const SHA1: u8 = 1;

/// The next hashed owner name in the hash order and the types at this one (RFC 5155 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nsec3 {
    /// How the owner names are hashed.
    pub hash: Nsec3Hash,
    /// The next hashed owner name, as the raw hash: 1–255 bytes, 20 for SHA-1.
    pub next_hashed: Vec<u8>,
    /// The types present at the original owner name.
    pub types: TypeBitmap,
}

impl Nsec3 {
    /// Whether the Opt-Out flag is set (RFC 5155 §3.1.2.1).
    pub fn opt_out(&self) -> bool {
        self.hash.flags & 1 != 0
    }

    fn check(&self) -> Result<(), &'static str> {
        let len = self.next_hashed.len();
        if self.hash.salt.len() > 255 {
            Err("NSEC3 salt longer than 255 bytes")
        } else if !(1..=255).contains(&len) {
            Err("NSEC3 next hashed owner name must be 1 to 255 bytes")
        } else if self.hash.algorithm == SHA1 && len != 20 {
            Err("NSEC3 SHA-1 hash must be 20 bytes")
        } else {
            Ok(())
        }
    }
}

impl RecordData for Nsec3 {
    const RTYPE: Rtype = Rtype::NSEC3;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let nsec3 = Nsec3 {
            hash: Nsec3Hash::parse_wire(r)?,
            next_hashed: r.char_string()?.to_vec(),
            types: TypeBitmap::parse_wire(r)?,
        };
        nsec3
            .check()
            .map_err(|reason| WireError::BadRdata { at, reason })?;
        Ok(nsec3)
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.check().map_err(|reason| WireError::BadRdata {
            at: w.len(),
            reason,
        })?;
        self.hash.write_wire(w)?;
        w.put_char_string(&self.next_hashed)?;
        self.types.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let hash = Nsec3Hash::parse_text(f)?;
        let t = f.word("next hashed owner name")?;
        let mut next_hashed = Vec::new();
        encoding::base32hex_decode(t.text, &mut next_hashed).map_err(|e| {
            t.error(format!(
                "expected next hashed owner name in Base32hex, found '{}': {e}",
                t.lossy()
            ))
        })?;
        let nsec3 = Nsec3 {
            hash,
            next_hashed,
            types: TypeBitmap::parse_text(f)?,
        };
        nsec3.check().map_err(|reason| t.error(reason))?;
        Ok(nsec3)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash)?;
        encoding::base32hex_encode(&self.next_hashed, f)?;
        if !self.types.types().is_empty() {
            write!(f, " {}", self.types)?;
        }
        Ok(())
    }
}

/// The NSEC3 parameters of a zone, at its apex (RFC 5155 §4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nsec3param {
    /// The parameters.
    pub hash: Nsec3Hash,
}

impl RecordData for Nsec3param {
    const RTYPE: Rtype = Rtype::NSEC3PARAM;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Nsec3param {
            hash: Nsec3Hash::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.hash.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Nsec3param {
            hash: Nsec3Hash::parse_text(f)?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.hash)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use super::*;
    use crate::rdata::RData;

    #[test]
    fn nsec_rfc4034_example() {
        // RFC 4034 §4.3.
        let wire = assert_round_trip(
            Rtype::NSEC,
            "host.example.com. ( A MX RRSIG NSEC TYPE1234 )",
            Some("host.example.com. A MX RRSIG NSEC TYPE1234"),
        );
        let mut expected = b"\x04host\x07example\x03com\x00".to_vec();
        expected.extend_from_slice(&[0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03]);
        expected.extend_from_slice(&[0x04, 0x1b]);
        expected.extend_from_slice(&[0; 26]);
        expected.push(0x20);
        assert_eq!(wire, expected);
    }

    #[test]
    fn nsec_forms() {
        assert_round_trip(Rtype::NSEC, "next", Some("next.example."));
        assert_round_trip(Rtype::NSEC, "\\000.X.example. NS SOA TYPE65535", None);
        // The next name keeps its case even in canonical form (RFC 6840 §5.1).
        let origin = Name::parse("example.").unwrap();
        let d = RData::parse_str(Rtype::NSEC, "Host.Example. A", Some(&origin)).unwrap();
        assert!(
            d.to_canonical_wire()
                .unwrap()
                .starts_with(b"\x04Host\x07Example\x00")
        );
        assert_text_rejected(Rtype::NSEC, "host.example. FOO");
        assert_text_rejected(Rtype::NSEC, "");
        assert_wire_rejected(Rtype::NSEC, b"\x04host");
        assert_wire_rejected(Rtype::NSEC, b"\x00\x00\x00");
    }

    #[test]
    fn nsec3_rfc5155_examples() {
        // RFC 5155 Appendix A.
        assert_round_trip(
            Rtype::NSEC3,
            "1 1 12 aabbccdd ( 2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG )",
            Some(
                "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA MX RRSIG DNSKEY NSEC3PARAM",
            ),
        );
        let wire = assert_round_trip(
            Rtype::NSEC3,
            "1 1 12 aabbccdd ( 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG )",
            Some("1 1 12 AABBCCDD 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S A RRSIG"),
        );
        assert_eq!(
            wire.get(..10).unwrap(),
            [1, 1, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd, 20]
        );
        assert_eq!(wire.get(30..).unwrap(), [0, 6, 0x40, 0, 0, 0, 0, 2]);
        // An empty non-terminal has no types.
        assert_round_trip(
            Rtype::NSEC3,
            "1 1 12 aabbccdd ( k8udemvp1j2f7eg6jebps17vp3n8i58h )",
            Some("1 1 12 AABBCCDD K8UDEMVP1J2F7EG6JEBPS17VP3N8I58H"),
        );
        assert_round_trip(Rtype::NSEC3, "2 0 0 - 00", None);
        let d = RData::parse_str(
            Rtype::NSEC3,
            "1 1 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr",
            None,
        )
        .unwrap();
        assert!(matches!(d, RData::Nsec3(n) if n.opt_out()));
    }

    #[test]
    fn nsec3_rejects() {
        let hash = "2T7B4G4VSA5SMI47K61MV5BV1A22BOJR";
        assert!(assert_text_rejected(Rtype::NSEC3, "1 1 12 - 00").contains("20 bytes"));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 12 - {hash}="));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 12 - {hash}W"));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 12 xyz {hash}"));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 12 \"\" {hash}"));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 65536 - {hash}"));
        assert_text_rejected(Rtype::NSEC3, &format!("1 1 12 - {hash} BOGUS"));
        assert_text_rejected(Rtype::NSEC3, "1 1 12 -");
        // Hash length zero, SHA-1 hash of the wrong length, short salt, bad bitmap.
        assert_wire_rejected(Rtype::NSEC3, &[2, 0, 0, 0, 0, 0]);
        assert_wire_rejected(Rtype::NSEC3, &[1, 0, 0, 0, 0, 1, 0]);
        assert_wire_rejected(Rtype::NSEC3, &[1, 0, 0, 0, 4, 0xaa]);
        assert_wire_rejected(Rtype::NSEC3, &[2, 0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn nsec3param_forms() {
        // RFC 5155 Appendix A.
        let wire = assert_round_trip(
            Rtype::NSEC3PARAM,
            "1 0 12 aabbccdd",
            Some("1 0 12 AABBCCDD"),
        );
        assert_eq!(wire, [1, 0, 0, 12, 4, 0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(
            assert_round_trip(Rtype::NSEC3PARAM, "1 0 0 -", None),
            [1, 0, 0, 0, 0]
        );
        let max = "AB".repeat(255);
        assert_round_trip(Rtype::NSEC3PARAM, &format!("1 0 65535 {max}"), None);
        assert_text_rejected(Rtype::NSEC3PARAM, &format!("1 0 0 {max}AB"));
        assert_text_rejected(Rtype::NSEC3PARAM, "1 0 0 abc");
        assert_text_rejected(Rtype::NSEC3PARAM, "1 0 0 0");
        assert_text_rejected(Rtype::NSEC3PARAM, "1 0 0");
        assert_wire_rejected(Rtype::NSEC3PARAM, &[1, 0, 0, 0, 1]);
        assert_wire_rejected(Rtype::NSEC3PARAM, &[1, 0, 0, 0, 0, 0]);
    }
}
