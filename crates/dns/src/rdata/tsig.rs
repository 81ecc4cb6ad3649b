//! The transaction meta-records TSIG (RFC 8945 §4.2) and TKEY (RFC 2930 §2).
//!
//! Neither appears in zone data; their presentation forms are those BIND prints (in dig
//! output), which BIND itself refuses to read in zone files: TSIG as
//! `algorithm time fudge mac-size mac original-id error other-size other`, TKEY as
//! `algorithm inception expiration mode error key-size key other-size other`, with the
//! MAC, key and other data in Base64 (omitted when empty) and times in decimal seconds.

use std::fmt;

use super::RecordData;
use crate::encoding;
use crate::name::Name;
use crate::text::{Fields, TextError};
use crate::types::{Rcode, Rtype};
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// A 48-bit count of seconds since the Unix epoch, as TSIG carries it (RFC 8945 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time48(u64);

impl Time48 {
    /// The largest value that fits in 48 bits.
    pub const MAX: Time48 = Time48((1 << 48) - 1);

    /// The time `secs`, if it fits in 48 bits.
    pub const fn new(secs: u64) -> Option<Time48> {
        if secs <= Time48::MAX.0 {
            Some(Time48(secs))
        } else {
            None
        }
    }

    /// Seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Time48 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A transaction signature (RFC 8945 §4.2). The algorithm name is never compressed and
/// keeps its case (RFC 8945 §4.2, RFC 3597 §4); the MAC digest lowercases it itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tsig {
    /// The MAC algorithm, e.g. `hmac-sha256.` (RFC 8945 §6).
    pub algorithm: Name,
    /// When the message was signed.
    pub time_signed: Time48,
    /// Permitted clock error in seconds.
    pub fudge: u16,
    /// The message authentication code (at most 65535 bytes).
    pub mac: Vec<u8>,
    /// The message ID at the time of signing.
    pub original_id: u16,
    /// The TSIG error (BADSIG, BADKEY, BADTIME, BADTRUNC or NOERROR).
    pub error: Rcode,
    /// Other data: the server's time in BADTIME responses, else empty (at most 65535
    /// bytes).
    pub other: Vec<u8>,
}

impl RecordData for Tsig {
    const RTYPE: Rtype = Rtype::TSIG;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let algorithm = r.name()?;
        let time_signed = Time48(r.u48()?);
        let fudge = r.u16()?;
        let mac_len = r.u16()?;
        let mac = r.bytes(usize::from(mac_len))?.to_vec();
        let original_id = r.u16()?;
        let error = Rcode(r.u16()?);
        let other_len = r.u16()?;
        let other = r.bytes(usize::from(other_len))?.to_vec();
        Ok(Tsig {
            algorithm,
            time_signed,
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_name(&self.algorithm, NameKind::Plain)?;
        w.put_u48(self.time_signed.0)?;
        w.put_u16(self.fudge)?;
        put_sized(w, &self.mac, "TSIG MAC longer than 65535 bytes")?;
        w.put_u16(self.original_id)?;
        w.put_u16(self.error.0)?;
        put_sized(w, &self.other, "TSIG other data longer than 65535 bytes")
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let algorithm = f.name("algorithm name")?;
        let t = f.word("time signed")?;
        let time_signed = crate::text::parse_int(&t)
            .and_then(Time48::new)
            .ok_or_else(|| t.error("expected time signed (0 to 2^48-1 seconds)"))?;
        let fudge = f.u16("fudge")?;
        let mac_len = f.u16("MAC size")?;
        let mac = base64_exact(f, mac_len, "MAC")?;
        let original_id = f.u16("original ID")?;
        let error = tsig_error(f)?;
        let other_len = f.u16("other data size")?;
        let other = base64_exact(f, other_len, "other data")?;
        Ok(Tsig {
            algorithm,
            time_signed,
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.algorithm,
            self.time_signed,
            self.fudge,
            self.mac.len()
        )?;
        write_base64(&self.mac, f)?;
        write!(f, " {} ", self.original_id)?;
        write_tsig_error(self.error, f)?;
        write!(f, " {}", self.other.len())?;
        write_base64(&self.other, f)
    }
}

/// A transaction key establishment record (RFC 2930 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tkey {
    /// The algorithm the key is for.
    pub algorithm: Name,
    /// Start of the key's validity, seconds since the epoch (RFC 2930 §2.3).
    pub inception: u32,
    /// End of the key's validity, seconds since the epoch.
    pub expiration: u32,
    /// Key agreement mode (RFC 2930 §2.5: 3 Diffie-Hellman, 5 deletion, ...).
    pub mode: u16,
    /// The TKEY error (RFC 2930 §2.6: BADMODE, BADNAME, BADALG, or a TSIG error).
    pub error: Rcode,
    /// Key exchange data (at most 65535 bytes).
    pub key: Vec<u8>,
    /// Other data, not defined yet (at most 65535 bytes).
    pub other: Vec<u8>,
}

impl RecordData for Tkey {
    const RTYPE: Rtype = Rtype::TKEY;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let algorithm = r.name()?;
        let inception = r.u32()?;
        let expiration = r.u32()?;
        let mode = r.u16()?;
        let error = Rcode(r.u16()?);
        let key_len = r.u16()?;
        let key = r.bytes(usize::from(key_len))?.to_vec();
        let other_len = r.u16()?;
        let other = r.bytes(usize::from(other_len))?.to_vec();
        Ok(Tkey {
            algorithm,
            inception,
            expiration,
            mode,
            error,
            key,
            other,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        // RFC 2930 §2.1: the algorithm name is not compressed.
        w.put_name(&self.algorithm, NameKind::Plain)?;
        w.put_u32(self.inception)?;
        w.put_u32(self.expiration)?;
        w.put_u16(self.mode)?;
        w.put_u16(self.error.0)?;
        put_sized(w, &self.key, "TKEY key data longer than 65535 bytes")?;
        put_sized(w, &self.other, "TKEY other data longer than 65535 bytes")
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let algorithm = f.name("algorithm name")?;
        let inception = f.u32("inception")?;
        let expiration = f.u32("expiration")?;
        let mode = f.u16("mode")?;
        let error = tsig_error(f)?;
        let key_len = f.u16("key size")?;
        let key = base64_exact(f, key_len, "key data")?;
        let other_len = f.u16("other data size")?;
        let other = base64_exact(f, other_len, "other data")?;
        Ok(Tkey {
            algorithm,
            inception,
            expiration,
            mode,
            error,
            key,
            other,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} ",
            self.algorithm, self.inception, self.expiration, self.mode
        )?;
        write_tsig_error(self.error, f)?;
        write!(f, " {}", self.key.len())?;
        write_base64(&self.key, f)?;
        write!(f, " {}", self.other.len())?;
        write_base64(&self.other, f)
    }
}

/// Writes a 16-bit length and the bytes.
fn put_sized(w: &mut WireWriter, data: &[u8], reason: &'static str) -> Result<(), WireError> {
    let len = u16::try_from(data.len()).map_err(|_| WireError::BadRdata {
        at: w.len(),
        reason,
    })?;
    w.put_u16(len)?;
    w.put_bytes(data)
}

/// Writes ` <base64>` unless `data` is empty.
fn write_base64(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if data.is_empty() {
        return Ok(());
    }
    f.write_str(" ")?;
    encoding::base64_encode(data, f)
}

/// The TSIG/TKEY error mnemonics as BIND prints them: the RCODE names, with 16 as
/// BADSIG rather than BADVERS (RFC 8945 §3); other values in decimal.
fn write_tsig_error(error: Rcode, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match error {
        Rcode::BADSIG => f.write_str("BADSIG"),
        e => match e.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "{}", e.0),
        },
    }
}

/// Reads a TSIG/TKEY error: a mnemonic or a decimal value.
fn tsig_error(f: &mut Fields<'_>) -> Result<Rcode, TextError> {
    let t = f.word("error")?;
    if t.text.eq_ignore_ascii_case(b"BADSIG") {
        return Ok(Rcode::BADSIG);
    }
    if let Some(v) = crate::text::parse_int::<u16>(&t) {
        return Ok(Rcode(v));
    }
    (0..=u16::from(u8::MAX))
        .map(Rcode)
        .find(|r| {
            r.mnemonic()
                .is_some_and(|m| t.text.eq_ignore_ascii_case(m.as_bytes()))
        })
        .ok_or_else(|| t.error(format!("expected error code, found '{}'", t.lossy())))
}

/// Reads Base64 tokens until exactly `len` bytes are decoded (nothing when `len` is 0),
/// as BIND reads a sized field followed by more fields.
fn base64_exact(f: &mut Fields<'_>, len: u16, what: &str) -> Result<Vec<u8>, TextError> {
    let len = usize::from(len);
    if len == 0 {
        return Ok(Vec::new());
    }
    let first = f.word(what)?;
    let mut text = first.text.to_vec();
    while decoded_len(&text) < len {
        let t = f.word(what)?;
        text.extend_from_slice(t.text);
    }
    let mut out = Vec::with_capacity(len);
    encoding::base64_decode(&text, &mut out)
        .map_err(|e| first.error(format!("{what}: {e} in Base64 data")))?;
    if out.len() != len {
        return Err(first.error(format!(
            "{what} size is {len} but {} bytes are given",
            out.len()
        )));
    }
    Ok(out)
}

/// How many bytes Base64 text decodes to, counting only complete quanta.
fn decoded_len(text: &[u8]) -> usize {
    let quanta = text.len() / 4;
    let padding = text.iter().rev().take_while(|&&c| c == b'=').count().min(2);
    if text.len().is_multiple_of(4) {
        quanta * 3 - padding.min(quanta * 3)
    } else {
        quanta * 3
    }
}

#[cfg(test)]
mod tests {
    use super::super::RData;
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use super::*;

    #[test]
    fn tsig_round_trip() {
        // The form dig prints in its TSIG pseudosection.
        let text = "hmac-sha256. 1700000000 300 32 \
                    q2OvZl6cXEwKPT8LL8/GL0OWSEOQv3cXNS3fK9KcQ4s= 4660 NOERROR 0";
        let wire = assert_round_trip(Rtype::TSIG, text, None);
        assert_eq!(wire.len(), 13 + 6 + 2 + 2 + 32 + 2 + 2 + 2);
        assert_round_trip(
            Rtype::TSIG,
            "hmac-sha1. 1700000000 300 0 4660 BADKEY 0",
            None,
        );
        // BADTIME with the server time in other data; error given as a number.
        assert_round_trip(
            Rtype::TSIG,
            "hmac-sha512. 281474976710655 65535 10 AAECAwQFBgcICQ== 0 18 6 AABlU/EA",
            Some("hmac-sha512. 281474976710655 65535 10 AAECAwQFBgcICQ== 0 BADTIME 6 AABlU/EA"),
        );
        assert_round_trip(
            Rtype::TSIG,
            "hmac-sha256. 1 2 3 AAEC 5 BADSIG 0",
            Some("hmac-sha256. 1 2 3 AAEC 5 BADSIG 0"),
        );
        // Base64 split over tokens, unknown error value.
        assert_round_trip(
            Rtype::TSIG,
            "hmac-sha256. 1 2 6 AAEC AwQF 5 999 0",
            Some("hmac-sha256. 1 2 6 AAECAwQF 5 999 0"),
        );
    }

    #[test]
    fn tsig_rejects() {
        assert_text_rejected(
            Rtype::TSIG,
            "hmac-sha256. 281474976710656 300 0 1 NOERROR 0",
        );
        assert!(
            assert_text_rejected(Rtype::TSIG, "hmac-sha256. 1 300 4 AAEC 1 NOERROR 0")
                .contains("size is 4")
        );
        assert_text_rejected(Rtype::TSIG, "hmac-sha256. 1 300 0 1 BOGUS 0");
        assert_text_rejected(Rtype::TSIG, "hmac-sha256. 1 300 0 1 NOERROR");
        assert_text_rejected(Rtype::TSIG, "hmac-sha256. 1 300 0 1 NOERROR 0 AAAA");
        let good = RData::parse_str(Rtype::TSIG, "a. 1 2 3 AAEC 5 BADSIG 2 AAE=", None)
            .unwrap()
            .to_generic_string()
            .unwrap();
        assert!(good.starts_with("\\# 24 "));
        let mut w = WireWriter::plain();
        RData::parse_str(Rtype::TSIG, "a. 1 2 3 AAEC 5 BADSIG 2 AAE=", None)
            .unwrap()
            .write_wire(&mut w)
            .unwrap();
        let wire = w.into_bytes();
        for cut in 0..wire.len() {
            assert_wire_rejected(Rtype::TSIG, &wire[..cut]);
        }
        let mut long = wire.clone();
        long.push(0);
        assert_wire_rejected(Rtype::TSIG, &long);
    }

    #[test]
    fn tsig_sizes_checked_on_write() {
        let t = Tsig {
            algorithm: Name::parse("hmac-sha256.").unwrap(),
            time_signed: Time48::MAX,
            fudge: 0,
            mac: vec![0; 65536],
            original_id: 0,
            error: Rcode::NOERROR,
            other: Vec::new(),
        };
        assert!(t.write_wire(&mut WireWriter::plain()).is_err());
        assert_eq!(Time48::new(1 << 48), None);
        assert_eq!(Time48::new(5).map(Time48::secs), Some(5));
    }

    #[test]
    fn tkey_round_trip() {
        assert_round_trip(
            Rtype::TKEY,
            "gss-tsig. 1700000000 1700086400 3 NOERROR 4 AAECAw== 0",
            None,
        );
        assert_round_trip(Rtype::TKEY, "hmac-sha256. 0 0 5 BADMODE 0 0", None);
        assert_round_trip(
            Rtype::TKEY,
            "a. 4294967295 1 65535 BADALG 1 AA== 2 AAE=",
            None,
        );
        assert_text_rejected(Rtype::TKEY, "a. 4294967296 1 2 NOERROR 0 0");
        assert_text_rejected(Rtype::TKEY, "a. 1 1 65536 NOERROR 0 0");
        assert_text_rejected(Rtype::TKEY, "a. 1 1 2 NOERROR 2 AA== 0");
        assert_wire_rejected(Rtype::TKEY, b"\x01a\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\x01");
        assert_wire_rejected(Rtype::TKEY, b"\x01a\x00\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
    }
}
