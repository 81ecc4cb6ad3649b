//! The DNSSEC key and signature types: DS and CDS (RFC 4034 §5, RFC 7344), DNSKEY and
//! CDNSKEY (RFC 4034 §2, RFC 7344), RRSIG (RFC 4034 §3), and the algorithm numbers they
//! share.
//!
//! The child copies CDS and CDNSKEY have the same format as DS and DNSKEY (RFC 7344 §3.1,
//! §3.2), so each pair is one generic type instantiated with two type codes. Their delete
//! forms `0 0 0 00` and `0 3 0 AA==` (RFC 8078 §4) are ordinary data here.

use std::fmt;

use super::RecordData;
use super::time::{SigTime, parse_sig_time};
use crate::encoding;
use crate::name::Name;
use crate::text::{Fields, TextError, Token};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// A DNSSEC algorithm number (IANA "DNS Security Algorithm Numbers"). Printed as a
/// number, as BIND prints it; read as a number or one of BIND's mnemonics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Algorithm(pub u8);

/// The mnemonics BIND 9.18 accepts, the registry's name first where BIND has two.
const ALGORITHM_NAMES: &[(u8, &str)] = &[
    (1, "RSAMD5"),
    (2, "DH"),
    (3, "DSA"),
    (5, "RSASHA1"),
    (6, "NSEC3DSA"),
    (7, "NSEC3RSASHA1"),
    (8, "RSASHA256"),
    (10, "RSASHA512"),
    (12, "ECCGOST"),
    (13, "ECDSAP256SHA256"),
    (13, "ECDSA256"),
    (14, "ECDSAP384SHA384"),
    (14, "ECDSA384"),
    (15, "ED25519"),
    (16, "ED448"),
    (252, "INDIRECT"),
    (253, "PRIVATEDNS"),
    (254, "PRIVATEOID"),
];

impl Algorithm {
    /// RSA/MD5 (RFC 3110; deprecated), whose key tag is computed differently.
    pub const RSAMD5: Algorithm = Algorithm(1);
    /// RSA/SHA-256 (RFC 5702).
    pub const RSASHA256: Algorithm = Algorithm(8);
    /// ECDSA P-256 with SHA-256 (RFC 6605).
    pub const ECDSAP256SHA256: Algorithm = Algorithm(13);
    /// Ed25519 (RFC 8080).
    pub const ED25519: Algorithm = Algorithm(15);

    /// The mnemonic, if the algorithm has one.
    pub fn mnemonic(self) -> Option<&'static str> {
        ALGORITHM_NAMES
            .iter()
            .find(|&&(n, _)| n == self.0)
            .map(|&(_, name)| name)
    }

    /// Looks up a mnemonic (ASCII case-insensitive) or a decimal number.
    pub fn from_text(text: &[u8]) -> Option<Algorithm> {
        if !text.is_empty() && text.iter().all(u8::is_ascii_digit) {
            return std::str::from_utf8(text).ok()?.parse().ok().map(Algorithm);
        }
        ALGORITHM_NAMES
            .iter()
            .find(|(_, name)| text.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(n, _)| Algorithm(n))
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Algorithm, TextError> {
        let t = f.word("algorithm")?;
        Algorithm::from_text(t.text).ok_or_else(|| {
            t.error(format!(
                "expected algorithm number (0-255) or mnemonic, found '{}'",
                t.lossy()
            ))
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The digest length a DS digest type requires, for the types BIND checks (RFC 4034
/// §5.1.4 SHA-1, RFC 4509 SHA-256, RFC 6605 SHA-384).
fn digest_len(digest_type: u8) -> Option<usize> {
    match digest_type {
        1 => Some(20),
        2 => Some(32),
        4 => Some(48),
        _ => None,
    }
}

/// Reads a digest type: a number, or a mnemonic as BIND accepts them.
fn parse_digest_type(f: &mut Fields<'_>) -> Result<u8, TextError> {
    let t = f.word("digest type")?;
    const NAMES: &[(u8, &str)] = &[
        (1, "SHA-1"),
        (1, "SHA1"),
        (2, "SHA-256"),
        (2, "SHA256"),
        (3, "GOST"),
        (4, "SHA-384"),
        (4, "SHA384"),
    ];
    if let Some(n) = crate::text::parse_int::<u8>(&t) {
        return Ok(n);
    }
    NAMES
        .iter()
        .find(|(_, name)| t.text.eq_ignore_ascii_case(name.as_bytes()))
        .map(|&(n, _)| n)
        .ok_or_else(|| {
            t.error(format!(
                "expected digest type (0-255 or SHA-1, SHA-256, GOST, SHA-384), found '{}'",
                t.lossy()
            ))
        })
}

/// Turns a data check failure into a wire error at `at`.
fn bad_wire(at: usize) -> impl Fn(&'static str) -> WireError {
    move |reason| WireError::BadRdata { at, reason }
}

/// Turns a data check failure into a text error at `t`.
fn bad_text(t: Token<'_>) -> impl Fn(&'static str) -> TextError + '_ {
    move |reason| t.error(reason)
}

/// A delegation signer: the digest of a child zone's key (RFC 4034 §5). `T` is the type
/// code: [`Ds`] in the parent, [`Cds`] published by the child (RFC 7344 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DelegationSigner<const T: u16> {
    /// The key tag of the key digested (RFC 4034 Appendix B).
    pub key_tag: u16,
    /// The algorithm of that key.
    pub algorithm: Algorithm,
    /// How the digest was made (IANA "Delegation Signer (DS) Resource Record Digest
    /// Algorithms").
    pub digest_type: u8,
    /// The digest: non-empty, and of the exact length for SHA-1, SHA-256 and SHA-384.
    pub digest: Vec<u8>,
}

/// DS record data (RFC 4034 §5).
pub type Ds = DelegationSigner<{ Rtype::DS.0 }>;
/// CDS record data (RFC 7344 §3.1).
pub type Cds = DelegationSigner<{ Rtype::CDS.0 }>;

impl<const T: u16> DelegationSigner<T> {
    fn check(&self) -> Result<(), &'static str> {
        if self.digest.is_empty() {
            return Err("DS digest is empty");
        }
        match digest_len(self.digest_type) {
            Some(len) if self.digest.len() != len => {
                Err("DS digest length does not match its digest type")
            }
            _ => Ok(()),
        }
    }
}

impl<const T: u16> RecordData for DelegationSigner<T> {
    const RTYPE: Rtype = Rtype(T);

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let ds = DelegationSigner {
            key_tag: r.u16()?,
            algorithm: Algorithm(r.u8()?),
            digest_type: r.u8()?,
            digest: r.rest().to_vec(),
        };
        ds.check().map_err(bad_wire(at))?;
        Ok(ds)
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.check().map_err(bad_wire(w.len()))?;
        w.put_u16(self.key_tag)?;
        w.put_u8(self.algorithm.0)?;
        w.put_u8(self.digest_type)?;
        w.put_bytes(&self.digest)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let key_tag = f.u16("key tag")?;
        let algorithm = Algorithm::parse_text(f)?;
        let digest_type = parse_digest_type(f)?;
        let at = f.peek();
        let ds = DelegationSigner {
            key_tag,
            algorithm,
            digest_type,
            digest: f.hex_rest("digest")?,
        };
        if let Some(t) = at {
            ds.check().map_err(bad_text(t))?;
        }
        Ok(ds)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ",
            self.key_tag, self.algorithm, self.digest_type
        )?;
        encoding::hex_encode(&self.digest, f)
    }
}

/// A zone's public key (RFC 4034 §2). `T` is the type code: [`Dnskey`] in the zone,
/// [`Cdnskey`] published for the parent (RFC 7344 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicKey<const T: u16> {
    /// Flags: Zone Key (256), Secure Entry Point (1), REVOKE (128, RFC 5011).
    pub flags: u16,
    /// Always 3 for DNSSEC (RFC 4034 §2.1.2); other values are kept but mean the key
    /// must not be used.
    pub protocol: u8,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// The key material in the algorithm's format; never empty.
    pub public_key: Vec<u8>,
}

/// DNSKEY record data (RFC 4034 §2).
pub type Dnskey = PublicKey<{ Rtype::DNSKEY.0 }>;
/// CDNSKEY record data (RFC 7344 §3.2).
pub type Cdnskey = PublicKey<{ Rtype::CDNSKEY.0 }>;

impl<const T: u16> PublicKey<T> {
    /// The Zone Key flag (RFC 4034 §2.1.1).
    pub const ZONE: u16 = 0x0100;
    /// The Secure Entry Point flag (RFC 4034 §2.1.1).
    pub const SEP: u16 = 0x0001;
    /// The REVOKE flag (RFC 5011 §3).
    pub const REVOKE: u16 = 0x0080;

    /// The key tag that DS and RRSIG records use to refer to this key (RFC 4034
    /// Appendix B): a checksum of the record data, or for RSA/MD5 the 16 bits before
    /// the last byte of the modulus (Appendix B.1).
    pub fn key_tag(&self) -> u16 {
        if self.algorithm == Algorithm::RSAMD5 {
            let len = self.public_key.len();
            return match self
                .public_key
                .get(len.saturating_sub(3)..len.saturating_sub(1))
            {
                Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
                _ => 0,
            };
        }
        let [f0, f1] = self.flags.to_be_bytes();
        let header = [f0, f1, self.protocol, self.algorithm.0];
        let mut acc: u32 = 0;
        for (i, &b) in header.iter().chain(&self.public_key).enumerate() {
            acc += if i % 2 == 0 {
                u32::from(b) << 8
            } else {
                u32::from(b)
            };
        }
        acc += (acc >> 16) & 0xffff;
        (acc & 0xffff) as u16
    }

    fn check(&self) -> Result<(), &'static str> {
        if self.public_key.is_empty() {
            Err("DNSKEY public key is empty")
        } else {
            Ok(())
        }
    }
}

impl<const T: u16> RecordData for PublicKey<T> {
    const RTYPE: Rtype = Rtype(T);

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let key = PublicKey {
            flags: r.u16()?,
            protocol: r.u8()?,
            algorithm: Algorithm(r.u8()?),
            public_key: r.rest().to_vec(),
        };
        key.check().map_err(bad_wire(at))?;
        Ok(key)
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.check().map_err(bad_wire(w.len()))?;
        w.put_u16(self.flags)?;
        w.put_u8(self.protocol)?;
        w.put_u8(self.algorithm.0)?;
        w.put_bytes(&self.public_key)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let flags = f.u16("flags")?;
        let protocol = f.u8("protocol")?;
        let algorithm = Algorithm::parse_text(f)?;
        let at = f.peek();
        let key = PublicKey {
            flags,
            protocol,
            algorithm,
            public_key: f.base64_rest("public key")?,
        };
        if let Some(t) = at {
            key.check().map_err(bad_text(t))?;
        }
        Ok(key)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.flags, self.protocol, self.algorithm)?;
        encoding::base64_encode(&self.public_key, f)
    }
}

/// A signature over an RRset (RFC 4034 §3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rrsig {
    /// The type of the RRset signed.
    pub type_covered: Rtype,
    /// The signing algorithm.
    pub algorithm: Algorithm,
    /// Labels in the original owner name, not counting the root or a leading `*`.
    pub labels: u8,
    /// The TTL of the RRset as it is in the zone.
    pub original_ttl: u32,
    /// End of validity, seconds since 1970 modulo 2^32 (RFC 4034 §3.1.5).
    pub expiration: u32,
    /// Start of validity, in the same form.
    pub inception: u32,
    /// The key tag of the signing key.
    pub key_tag: u16,
    /// The zone that signed: never compressed, lowercased in canonical form (RFC 4034
    /// §3.1.7, §6.2).
    pub signer: Name,
    /// The signature; never empty.
    pub signature: Vec<u8>,
}

impl Rrsig {
    fn check(&self) -> Result<(), &'static str> {
        if self.signature.is_empty() {
            Err("RRSIG signature is empty")
        } else {
            Ok(())
        }
    }
}

/// Reads a signature time field (RFC 4034 §3.2).
fn parse_time_field(f: &mut Fields<'_>, what: &str) -> Result<u32, TextError> {
    let t = f.word(what)?;
    parse_sig_time(t.text).ok_or_else(|| {
        t.error(format!(
            "expected {what} as YYYYMMDDHHmmSS (UTC) or seconds since 1970, found '{}'",
            t.lossy()
        ))
    })
}

impl RecordData for Rrsig {
    const RTYPE: Rtype = Rtype::RRSIG;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let sig = Rrsig {
            type_covered: Rtype(r.u16()?),
            algorithm: Algorithm(r.u8()?),
            labels: r.u8()?,
            original_ttl: r.u32()?,
            expiration: r.u32()?,
            inception: r.u32()?,
            key_tag: r.u16()?,
            signer: r.name()?,
            signature: r.rest().to_vec(),
        };
        sig.check().map_err(bad_wire(at))?;
        Ok(sig)
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.check().map_err(bad_wire(w.len()))?;
        w.put_u16(self.type_covered.0)?;
        w.put_u8(self.algorithm.0)?;
        w.put_u8(self.labels)?;
        w.put_u32(self.original_ttl)?;
        w.put_u32(self.expiration)?;
        w.put_u32(self.inception)?;
        w.put_u16(self.key_tag)?;
        w.put_name(&self.signer, NameKind::Canonical)?;
        w.put_bytes(&self.signature)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let t = f.word("type covered")?;
        let type_covered = Rtype::from_mnemonic(t.text)
            .ok_or_else(|| t.error(format!("unknown record type '{}'", t.lossy())))?;
        let algorithm = Algorithm::parse_text(f)?;
        let labels = f.u8("labels")?;
        // A plain decimal number (RFC 4034 §3.2), as BIND requires: no TTL units.
        let original_ttl = f.u32("original TTL")?;
        let expiration = parse_time_field(f, "signature expiration")?;
        let inception = parse_time_field(f, "signature inception")?;
        let key_tag = f.u16("key tag")?;
        let signer = f.name("signer name")?;
        let at = f.peek();
        let sig = Rrsig {
            type_covered,
            algorithm,
            labels,
            original_ttl,
            expiration,
            inception,
            key_tag,
            signer,
            signature: f.base64_rest("signature")?,
        };
        if let Some(t) = at {
            sig.check().map_err(bad_text(t))?;
        }
        Ok(sig)
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} {} {} ",
            self.type_covered,
            self.algorithm,
            self.labels,
            self.original_ttl,
            SigTime(self.expiration),
            SigTime(self.inception),
            self.key_tag,
            self.signer
        )?;
        encoding::base64_encode(&self.signature, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use super::*;
    use crate::rdata::RData;

    // RFC 4034 §5.4: the key and its DS record (key tag 60485).
    const RFC4034_KEY: &str = "256 3 5 ( AQOeiiR0GOMYkDshWoSKz9Xz fwJr1AYtsmx3TGkJaNXVbfi/ \
        2pHm822aJ5iI9BMzNXxeYCmZ DRD99WYwYqUSdjMmmAphXdvx egXd/M5+X7OrzKBaMbCVdFLU \
        Uh6DhweJBjEVv5f2wwjM9Xzc nOf+EPbtG9DMBmADjFDc2w/r ljwvFw== )";
    const RFC4034_KEY_PRINTED: &str = "256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/\
        2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2\
        wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";

    fn dnskey(text: &str) -> Dnskey {
        let origin = Name::parse("example.").unwrap();
        match RData::parse_str(Rtype::DNSKEY, text, Some(&origin)).unwrap() {
            RData::Dnskey(k) => k,
            other => panic!("not a DNSKEY: {other:?}"),
        }
    }

    #[test]
    fn ds_rfc4034_example() {
        assert_round_trip(
            Rtype::DS,
            "60485 5 1 ( 2BB183AF5F22588179A53B0A9 8631FAD1A292118 )",
            Some("60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
        );
        // Mnemonics on input, numbers on output, as BIND.
        assert_round_trip(
            Rtype::CDS,
            "60485 RSASHA1 SHA-1 2bb183af5f22588179a53b0a98631fad1a292118",
            Some("60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"),
        );
        let sha256 = "AA".repeat(32);
        assert_round_trip(
            Rtype::DS,
            &format!("1 ecdsap256sha256 2 {sha256}"),
            Some(&format!("1 13 2 {sha256}")),
        );
        let sha384 = "0F".repeat(48);
        assert_round_trip(Rtype::DS, &format!("65535 14 4 {sha384}"), None);
        // Unchecked digest types take any non-empty digest.
        assert_round_trip(Rtype::DS, "1 253 9 2BB1", None);
    }

    #[test]
    fn cds_cdnskey_delete_forms() {
        // RFC 8078 §4.
        let wire = assert_round_trip(Rtype::CDS, "0 0 0 00", None);
        assert_eq!(wire, [0, 0, 0, 0, 0]);
        let wire = assert_round_trip(Rtype::CDNSKEY, "0 3 0 AA==", None);
        assert_eq!(wire, [0, 0, 3, 0, 0]);
    }

    #[test]
    fn ds_rejects() {
        assert!(assert_text_rejected(Rtype::DS, "60485 5 1 2BB1").contains("length"));
        assert_text_rejected(Rtype::DS, "60485 5 1");
        assert_text_rejected(
            Rtype::DS,
            "60485 5 2 2BB183AF5F22588179A53B0A98631FAD1A292118",
        );
        assert_text_rejected(Rtype::DS, "60485 RSA 1 00");
        assert_text_rejected(Rtype::DS, "60485 256 1 00");
        assert_text_rejected(Rtype::DS, "65536 5 1 00");
        assert_text_rejected(Rtype::DS, "1 5 MD5 00");
        assert_text_rejected(Rtype::DS, "1 5 0 0G");
        assert_text_rejected(Rtype::CDS, "0 0 0");
        assert_wire_rejected(Rtype::DS, &[0, 1, 5, 0]);
        assert_wire_rejected(Rtype::DS, &[0, 1, 5, 1, 0xaa]);
        assert_wire_rejected(Rtype::DS, &[0, 1, 5]);
    }

    #[test]
    fn dnskey_rfc4034_examples() {
        assert_round_trip(Rtype::DNSKEY, RFC4034_KEY, Some(RFC4034_KEY_PRINTED));
        assert_round_trip(Rtype::CDNSKEY, RFC4034_KEY, Some(RFC4034_KEY_PRINTED));
        // RFC 4034 §2.3.
        assert_round_trip(
            Rtype::DNSKEY,
            "256 3 5 ( AQPSKmynfzW4kyBv015MUG2DeIQ3 \
             Cbl+BBZH4b/0PY1kxkmvHjcZc8no \
             kfzj31GajIQKY+5CptLr3buXA10h \
             WqTkF7H6RfoRqXQeogmMHfpftf6z \
             Mv1LyBUgia7za6ZEzOJBOztyvhjL \
             742iU/TpPSEDhm2SNKLijfUppn1U \
             aNvv4w==  )",
            Some(
                "256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5C\
                 ptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSE\
                 Dhm2SNKLijfUppn1UaNvv4w==",
            ),
        );
        assert_round_trip(Rtype::DNSKEY, "257 3 ED25519 AQID", Some("257 3 15 AQID"));
        assert_round_trip(Rtype::DNSKEY, "257 3 ECDSA384 AQID", Some("257 3 14 AQID"));
    }

    #[test]
    fn key_tags() {
        // RFC 4034 §5.4: the key the DS example refers to has tag 60485.
        assert_eq!(dnskey(RFC4034_KEY).key_tag(), 60485);
        // RFC 4034 §2.3 / §3.3: the example key signs with tag 2642.
        let k = dnskey(
            "256 3 5 AQPSKmynfzW4kyBv015MUG2DeIQ3Cbl+BBZH4b/0PY1kxkmvHjcZc8nokfzj31GajIQKY+5C\
             ptLr3buXA10hWqTkF7H6RfoRqXQeogmMHfpftf6zMv1LyBUgia7za6ZEzOJBOztyvhjL742iU/TpPSE\
             Dhm2SNKLijfUppn1UaNvv4w==",
        );
        assert_eq!(k.key_tag(), 2642);
        // RFC 4034 Appendix B.1: RSA/MD5 takes the bytes before the last of the modulus.
        assert_eq!(dnskey("256 3 1 AQIDBAU=").key_tag(), 0x0304);
        assert_eq!(dnskey("256 3 1 AQ==").key_tag(), 0);
        // A carry out of 16 bits is folded back in.
        assert_eq!(dnskey("65535 255 255 ////").key_tag(), 0xff00);
    }

    #[test]
    fn dnskey_rejects() {
        assert_text_rejected(Rtype::DNSKEY, "256 3 5");
        assert_text_rejected(Rtype::DNSKEY, "256 3 5 AQI");
        assert_text_rejected(Rtype::DNSKEY, "256 3 SM2SM3 AQID");
        assert_text_rejected(Rtype::DNSKEY, "65536 3 5 AQID");
        assert_text_rejected(Rtype::DNSKEY, "256 256 5 AQID");
        assert_text_rejected(Rtype::DNSKEY, "256 3 5 \"AQID\"");
        assert_wire_rejected(Rtype::DNSKEY, &[1, 0, 3, 5]);
        assert_wire_rejected(Rtype::CDNSKEY, &[1, 0, 3]);
    }

    #[test]
    fn rrsig_rfc4034_example() {
        // RFC 4034 §3.3.
        let wire = assert_round_trip(
            Rtype::RRSIG,
            "A 5 3 86400 20030322173103 ( 20030220173103 2642 example.com. \
             oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr \
             PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o \
             B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t \
             GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkG \
             J5D6fwFm8nN+6pBzeDQfsS3Ap3o= )",
            Some(
                "A 5 3 86400 20030322173103 20030220173103 2642 example.com. \
                 oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3D\
                 TJXUAfI/M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBz\
                 eDQfsS3Ap3o=",
            ),
        );
        assert_eq!(
            wire.get(..18).unwrap(),
            [
                0, 1, 5, 3, 0, 1, 0x51, 0x80, 0x3e, 0x7c, 0x9d, 0xd7, 0x3e, 0x55, 0x10, 0xd7, 0x0a,
                0x52
            ]
        );
    }

    #[test]
    fn rrsig_forms() {
        // Decimal times, mnemonic algorithm, unknown covered type, relative signer.
        assert_round_trip(
            Rtype::RRSIG,
            "TYPE65000 PRIVATEDNS 0 3600 1048354263 0 65535 @ AQID",
            Some("TYPE65000 253 0 3600 20030322173103 19700101000000 65535 example. AQID"),
        );
        assert_round_trip(
            Rtype::RRSIG,
            "NSEC3PARAM 13 2 0 21060207062815 20380119031408 1 Sub.Example.ORG. AQID",
            None,
        );
        // The signer keeps its case but is lowercased in canonical form.
        let origin = Name::parse("example.").unwrap();
        let d =
            RData::parse_str(Rtype::RRSIG, "A 5 1 0 0 0 1 EXAMPLE. AQID", Some(&origin)).unwrap();
        let canonical = d.to_canonical_wire().unwrap();
        assert_eq!(canonical.get(18..27).unwrap(), b"\x07example\x00");
    }

    #[test]
    fn rrsig_rejects() {
        let ok = "A 5 3 86400 20030322173103 20030220173103 2642 example.com.";
        assert!(assert_text_rejected(Rtype::RRSIG, ok).contains("signature"));
        assert_text_rejected(Rtype::RRSIG, &format!("{ok} AQI"));
        assert_text_rejected(
            Rtype::RRSIG,
            "FOO 5 3 86400 20030322173103 20030220173103 2642 example.com. AQID",
        );
        assert_text_rejected(
            Rtype::RRSIG,
            "A 5 3 86400 20031322173103 20030220173103 2642 example.com. AQID",
        );
        assert_text_rejected(
            Rtype::RRSIG,
            "A 5 3 86400 200303221731 20030220173103 2642 example.com. AQID",
        );
        assert_text_rejected(
            Rtype::RRSIG,
            "A 5 256 86400 20030322173103 20030220173103 2642 example.com. AQID",
        );
        let mut wire = vec![
            0, 1, 5, 3, 0, 1, 0x51, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0,
        ];
        assert_wire_rejected(Rtype::RRSIG, &wire);
        wire.push(0xaa);
        let d = RData::parse_wire(Rtype::RRSIG, &mut WireReader::new(&wire)).unwrap();
        assert_eq!(
            d.to_string(),
            "A 5 3 86400 19700101000001 19700101000000 1 . qg=="
        );
        assert_wire_rejected(Rtype::RRSIG, wire.get(..17).unwrap());
        // The signer name runs past the data.
        assert_wire_rejected(
            Rtype::RRSIG,
            &[
                0, 1, 5, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, b'a',
            ],
        );
    }

    #[test]
    fn algorithm_table() {
        assert_eq!(
            Algorithm::from_text(b"RSASHA256"),
            Some(Algorithm::RSASHA256)
        );
        assert_eq!(
            Algorithm::from_text(b"ecdsap256sha256"),
            Some(Algorithm(13))
        );
        assert_eq!(Algorithm::from_text(b"ECDSA256"), Some(Algorithm(13)));
        assert_eq!(Algorithm::from_text(b"255"), Some(Algorithm(255)));
        assert_eq!(Algorithm::from_text(b"256"), None);
        assert_eq!(Algorithm::from_text(b"ECC-GOST"), None);
        assert_eq!(Algorithm(13).mnemonic(), Some("ECDSAP256SHA256"));
        assert_eq!(Algorithm(11).mnemonic(), None);
        assert_eq!(Algorithm::ED25519.to_string(), "15");
    }
}
