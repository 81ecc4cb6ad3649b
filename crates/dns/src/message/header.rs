//! The 12-byte message header (RFC 1035 §4.1.1, with AD and CD from RFC 4035 §3.1.6).

use crate::types::Opcode;
use crate::wire::{WireError, WireReader, WireWriter};

/// Length of the header in bytes.
pub const HEADER_LEN: usize = 12;

/// The single-bit header flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags {
    /// QR: this is a response.
    pub qr: bool,
    /// AA: authoritative answer.
    pub aa: bool,
    /// TC: truncated.
    pub tc: bool,
    /// RD: recursion desired.
    pub rd: bool,
    /// RA: recursion available.
    pub ra: bool,
    /// Z: the reserved bit, which must be zero (RFC 1035 §4.1.1); kept as read.
    pub z: bool,
    /// AD: authentic data (RFC 4035 §3.1.6, RFC 6840 §5.7).
    pub ad: bool,
    /// CD: checking disabled (RFC 4035 §3.1.6).
    pub cd: bool,
}

impl Flags {
    /// The flag bits of the second header word (opcode and rcode bits zero).
    pub fn to_bits(self) -> u16 {
        let bit = |set: bool, mask: u16| if set { mask } else { 0 };
        bit(self.qr, 0x8000)
            | bit(self.aa, 0x0400)
            | bit(self.tc, 0x0200)
            | bit(self.rd, 0x0100)
            | bit(self.ra, 0x0080)
            | bit(self.z, 0x0040)
            | bit(self.ad, 0x0020)
            | bit(self.cd, 0x0010)
    }

    /// The flags of a second header word (opcode and rcode bits ignored).
    pub fn from_bits(bits: u16) -> Flags {
        Flags {
            qr: bits & 0x8000 != 0,
            aa: bits & 0x0400 != 0,
            tc: bits & 0x0200 != 0,
            rd: bits & 0x0100 != 0,
            ra: bits & 0x0080 != 0,
            z: bits & 0x0040 != 0,
            ad: bits & 0x0020 != 0,
            cd: bits & 0x0010 != 0,
        }
    }

    /// The set flags' names in header order, lowercase, as dig prints them.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        [
            (self.qr, "qr"),
            (self.aa, "aa"),
            (self.tc, "tc"),
            (self.rd, "rd"),
            (self.ra, "ra"),
            (self.ad, "ad"),
            (self.cd, "cd"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
    }
}

/// A message header as it is on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// The query identifier.
    pub id: u16,
    /// The kind of query.
    pub opcode: Opcode,
    /// The flag bits.
    pub flags: Flags,
    /// The low 4 bits of the response code (EDNS adds 8 more, RFC 6891 §6.1.3).
    pub rcode_low: u8,
    /// Number of questions.
    pub qdcount: u16,
    /// Number of answer records.
    pub ancount: u16,
    /// Number of authority records.
    pub nscount: u16,
    /// Number of additional records, OPT included.
    pub arcount: u16,
}

impl Header {
    /// Reads the header at the reader's position.
    pub fn parse(r: &mut WireReader<'_>) -> Result<Header, WireError> {
        let id = r.u16()?;
        let bits = r.u16()?;
        Ok(Header {
            id,
            opcode: Opcode::new((bits >> 11) as u8),
            flags: Flags::from_bits(bits),
            rcode_low: (bits & 0x000f) as u8,
            qdcount: r.u16()?,
            ancount: r.u16()?,
            nscount: r.u16()?,
            arcount: r.u16()?,
        })
    }

    /// Reads a header from the start of `msg`.
    pub fn from_bytes(msg: &[u8]) -> Result<Header, WireError> {
        Header::parse(&mut WireReader::new(msg))
    }

    /// The 12 bytes of the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let bits = self.flags.to_bits()
            | u16::from(self.opcode.value()) << 11
            | u16::from(self.rcode_low & 0x0f);
        let mut out = [0u8; HEADER_LEN];
        for (slot, word) in out.chunks_exact_mut(2).zip([
            self.id,
            bits,
            self.qdcount,
            self.ancount,
            self.nscount,
            self.arcount,
        ]) {
            slot.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Appends the header.
    pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_bytes(&self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_each_bit() {
        let all = Flags {
            qr: true,
            aa: true,
            tc: true,
            rd: true,
            ra: true,
            z: true,
            ad: true,
            cd: true,
        };
        assert_eq!(all.to_bits(), 0x87f0);
        assert_eq!(Flags::from_bits(0xffff), all);
        assert_eq!(Flags::from_bits(0x0020).names().collect::<Vec<_>>(), ["ad"]);
        assert_eq!(
            Flags::from_bits(0x8580).names().collect::<Vec<_>>(),
            ["qr", "aa", "rd", "ra"]
        );
    }

    #[test]
    fn header_round_trip() {
        // RFC 1035-style response: id 0x1234, QR, opcode UPDATE, AA, RD, CD, rcode 3.
        let bytes = [0x12, 0x34, 0xad, 0x13, 0, 1, 0, 2, 0, 3, 0, 4];
        let h = Header::from_bytes(&bytes).unwrap();
        assert_eq!(h.id, 0x1234);
        assert_eq!(h.opcode, Opcode::UPDATE);
        assert!(h.flags.qr && h.flags.aa && h.flags.rd && h.flags.cd);
        assert!(!h.flags.tc && !h.flags.ra && !h.flags.ad && !h.flags.z);
        assert_eq!(h.rcode_low, 3);
        assert_eq!((h.qdcount, h.ancount, h.nscount, h.arcount), (1, 2, 3, 4));
        assert_eq!(h.to_bytes(), bytes);
        assert!(Header::from_bytes(&bytes[..11]).is_err());
    }
}
