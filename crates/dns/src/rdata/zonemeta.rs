//! Records about the zone itself: CSYNC (RFC 7477) and ZONEMD (RFC 8976).

use std::fmt;

use super::RecordData;
use super::bitmap::TypeBitmap;
use crate::encoding;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// Child-to-parent synchronization (RFC 7477 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csync {
    /// The SOA serial of the child zone the data was taken from.
    pub serial: u32,
    /// Flags: `immediate` (bit 0) and `soaminimum` (bit 1) (RFC 7477 §2.1.1.2).
    pub flags: u16,
    /// The types the parent should copy.
    pub types: TypeBitmap,
}

impl Csync {
    /// Process immediately, without checking the serial (RFC 7477 §2.1.1.2.1).
    pub const IMMEDIATE: u16 = 0x0001;
    /// Check that the SOA serial is at least `serial` (RFC 7477 §2.1.1.2.2).
    pub const SOAMINIMUM: u16 = 0x0002;
}

impl RecordData for Csync {
    const RTYPE: Rtype = Rtype::CSYNC;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Csync {
            serial: r.u32()?,
            flags: r.u16()?,
            types: TypeBitmap::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u32(self.serial)?;
        w.put_u16(self.flags)?;
        self.types.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Csync {
            serial: f.u32("SOA serial")?,
            flags: f.u16("flags")?,
            types: TypeBitmap::parse_text(f)?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.serial, self.flags)?;
        if !self.types.types().is_empty() {
            write!(f, " {}", self.types)?;
        }
        Ok(())
    }
}

/// A message digest of the whole zone (RFC 8976 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Zonemd {
    serial: u32,
    scheme: u8,
    hash_algorithm: u8,
    digest: Vec<u8>,
}

impl Zonemd {
    /// The SIMPLE scheme (RFC 8976 §2.2.2).
    pub const SCHEME_SIMPLE: u8 = 1;
    /// SHA-384 (RFC 8976 §2.2.3).
    pub const SHA384: u8 = 1;
    /// SHA-512 (RFC 8976 §2.2.3).
    pub const SHA512: u8 = 2;

    /// A digest; fails with the reason if it is shorter than 12 bytes (RFC 8976 §2.2.4)
    /// or, as BIND checks, not 48 bytes for SHA-384 or 64 bytes for SHA-512.
    pub fn new(
        serial: u32,
        scheme: u8,
        hash_algorithm: u8,
        digest: Vec<u8>,
    ) -> Result<Zonemd, &'static str> {
        match (hash_algorithm, digest.len()) {
            (_, n) if n < 12 => Err("ZONEMD digest shorter than 12 bytes"),
            (Zonemd::SHA384, n) if n != 48 => Err("ZONEMD SHA-384 digest is not 48 bytes"),
            (Zonemd::SHA512, n) if n != 64 => Err("ZONEMD SHA-512 digest is not 64 bytes"),
            _ => Ok(Zonemd {
                serial,
                scheme,
                hash_algorithm,
                digest,
            }),
        }
    }

    /// The SOA serial of the zone the digest was computed over.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// How the zone is ordered and serialized for digesting.
    pub fn scheme(&self) -> u8 {
        self.scheme
    }

    /// The hash algorithm.
    pub fn hash_algorithm(&self) -> u8 {
        self.hash_algorithm
    }

    /// The digest.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }
}

impl RecordData for Zonemd {
    const RTYPE: Rtype = Rtype::ZONEMD;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let serial = r.u32()?;
        let scheme = r.u8()?;
        let hash_algorithm = r.u8()?;
        let at = r.pos();
        Zonemd::new(serial, scheme, hash_algorithm, r.rest().to_vec())
            .map_err(|reason| WireError::BadRdata { at, reason })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u32(self.serial)?;
        w.put_u8(self.scheme)?;
        w.put_u8(self.hash_algorithm)?;
        w.put_bytes(&self.digest)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let serial = f.u32("serial")?;
        let scheme = f.u8("scheme")?;
        let hash_algorithm = f.u8("hash algorithm")?;
        let pos = f.pos();
        let digest = f.hex_rest("digest")?;
        Zonemd::new(serial, scheme, hash_algorithm, digest).map_err(|e| TextError::new(pos, e))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ",
            self.serial, self.scheme, self.hash_algorithm
        )?;
        encoding::hex_encode(&self.digest, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn csync() {
        // RFC 7477 §2.2 example.
        assert_round_trip(Rtype::CSYNC, "66 3 A NS AAAA", None);
        assert_round_trip(Rtype::CSYNC, "0 0", None);
        assert_round_trip(
            Rtype::CSYNC,
            "4294967295 65535 TYPE65535 a",
            Some("4294967295 65535 A TYPE65535"),
        );
        let wire = assert_round_trip(Rtype::CSYNC, "1 1 A", None);
        assert_eq!(wire, [0, 0, 0, 1, 0, 1, 0, 1, 0x40]);

        assert_text_rejected(Rtype::CSYNC, "1 65536");
        assert_text_rejected(Rtype::CSYNC, "1");
        assert_text_rejected(Rtype::CSYNC, "1 0 BOGUS");
        assert_wire_rejected(Rtype::CSYNC, &[0, 0, 0, 1, 0]);
        assert_wire_rejected(Rtype::CSYNC, &[0, 0, 0, 1, 0, 0, 0]);
        assert_wire_rejected(Rtype::CSYNC, &[0, 0, 0, 1, 0, 0, 0, 1, 0]);
    }

    #[test]
    fn zonemd() {
        // RFC 8976 Appendix A.1 example (SHA-384).
        const A1: &str = "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9\
                          a9713b3c9ae5cc27777f98b8e730044c";
        assert_round_trip(
            Rtype::ZONEMD,
            &format!("2018031900 1 1 {A1}"),
            Some(&format!("2018031900 1 1 {}", A1.to_uppercase())),
        );
        let sha512 = "AB".repeat(64);
        assert_round_trip(Rtype::ZONEMD, &format!("1 1 2 {sha512}"), None);
        assert_round_trip(
            Rtype::ZONEMD,
            "1 1 3 0102030405060708090a0b0c",
            Some("1 1 3 0102030405060708090A0B0C"),
        );
        assert_round_trip(
            Rtype::ZONEMD,
            "1 0 0 0102030405060708090A0B 0C",
            Some("1 0 0 0102030405060708090A0B0C"),
        );

        for bad in [
            "1 1 1 0102030405060708090a0b0c",
            "1 1 2 0102030405060708090a0b0c",
            "1 1 3 0102030405060708090a0b",
            &format!("1 1 1 {A1}00"),
            "1 1 3",
            "1 256 3 0102030405060708090a0b0c",
        ] {
            assert_text_rejected(Rtype::ZONEMD, bad);
        }
        let mut wire = vec![0, 0, 0, 1, 1, 3];
        wire.extend_from_slice(&[0; 11]);
        assert_wire_rejected(Rtype::ZONEMD, &wire);
        wire[5] = 1;
        wire.extend_from_slice(&[0; 38]);
        assert_wire_rejected(Rtype::ZONEMD, &wire);
        assert_wire_rejected(Rtype::ZONEMD, &[0, 0, 0, 1, 1]);
    }
}
