//! Certificates and CRLs stored in the DNS: CERT (RFC 4398).

use std::fmt;

use super::RecordData;
use super::dnssec::Algorithm;
use crate::encoding;
use crate::text::{Fields, TextError, Token, parse_int};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// Certificate type mnemonics (RFC 4398 §2.1).
const CERT_TYPES: [(u16, &str); 10] = [
    (1, "PKIX"),
    (2, "SPKI"),
    (3, "PGP"),
    (4, "IPKIX"),
    (5, "ISPKI"),
    (6, "IPGP"),
    (7, "ACPKIX"),
    (8, "IACPKIX"),
    (253, "URI"),
    (254, "OID"),
];

/// A certificate or certificate revocation list (RFC 4398 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cert {
    cert_type: u16,
    key_tag: u16,
    algorithm: u8,
    certificate: Vec<u8>,
}

impl Cert {
    /// A CERT from its fields; `None` if `certificate` is empty (BIND requires data).
    pub fn new(cert_type: u16, key_tag: u16, algorithm: u8, certificate: Vec<u8>) -> Option<Cert> {
        (!certificate.is_empty()).then_some(Cert {
            cert_type,
            key_tag,
            algorithm,
            certificate,
        })
    }

    /// The certificate type (RFC 4398 §2.1).
    pub fn cert_type(&self) -> u16 {
        self.cert_type
    }

    /// The key tag of the key the certificate is for, or 0.
    pub fn key_tag(&self) -> u16 {
        self.key_tag
    }

    /// The DNSSEC algorithm number of the key, or 0.
    pub fn algorithm(&self) -> u8 {
        self.algorithm
    }

    /// The certificate or CRL.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }
}

/// Reads a number or a mnemonic from `table`, case-insensitively.
fn number_or_mnemonic<T: Copy + std::str::FromStr>(
    t: &Token<'_>,
    table: &[(T, &str)],
    what: &str,
) -> Result<T, TextError> {
    if t.text.first().is_some_and(u8::is_ascii_digit) {
        return parse_int(t)
            .ok_or_else(|| t.error(format!("{what} '{}' is not a number in range", t.lossy())));
    }
    table
        .iter()
        .find(|(_, name)| t.text.eq_ignore_ascii_case(name.as_bytes()))
        .map(|&(n, _)| n)
        .ok_or_else(|| t.error(format!("unknown {what} '{}'", t.lossy())))
}

/// Prints the mnemonic of `n` from `table`, or the number.
fn write_number_or_mnemonic<T: Copy + PartialEq + fmt::Display>(
    n: T,
    table: &[(T, &str)],
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    match table.iter().find(|(v, _)| *v == n) {
        Some((_, name)) => f.write_str(name),
        None => write!(f, "{n}"),
    }
}

impl RecordData for Cert {
    const RTYPE: Rtype = Rtype::CERT;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let cert_type = r.u16()?;
        let key_tag = r.u16()?;
        let algorithm = r.u8()?;
        let at = r.pos();
        Cert::new(cert_type, key_tag, algorithm, r.rest().to_vec()).ok_or(WireError::BadRdata {
            at,
            reason: "CERT without certificate data",
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.cert_type)?;
        w.put_u16(self.key_tag)?;
        w.put_u8(self.algorithm)?;
        w.put_bytes(&self.certificate)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let t = f.word("certificate type")?;
        let cert_type = number_or_mnemonic(&t, &CERT_TYPES, "certificate type")?;
        let key_tag = f.u16("key tag")?;
        let t = f.word("algorithm")?;
        let algorithm = Algorithm::from_text(t.text)
            .ok_or_else(|| t.error(format!("unknown algorithm '{}'", t.lossy())))?
            .0;
        Ok(Cert {
            cert_type,
            key_tag,
            algorithm,
            certificate: f.base64_rest("certificate")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_number_or_mnemonic(self.cert_type, &CERT_TYPES, f)?;
        write!(f, " {} ", self.key_tag)?;
        // RFC 4398 §2.1 takes the DNSSEC algorithm registry; BIND prints its mnemonic.
        match Algorithm(self.algorithm).mnemonic() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "{}", self.algorithm)?,
        }
        f.write_str(" ")?;
        encoding::base64_encode(&self.certificate, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn mnemonics_as_bind_prints_them() {
        assert_round_trip(Rtype::CERT, "PGP 0 0 AQIDBA==", None);
        assert_round_trip(Rtype::CERT, "1 2 3 AQIDBA==", Some("PKIX 2 DSA AQIDBA=="));
        assert_round_trip(Rtype::CERT, "URI 0 RSASHA256 AQIDBA==", None);
        assert_round_trip(Rtype::CERT, "65535 65535 255 AQIDBA==", None);
        assert_round_trip(Rtype::CERT, "IACPKIX 1 PRIVATEOID AQIDBA==", None);
        assert_round_trip(
            Rtype::CERT,
            "OID 1 PRIVATEDNS AQ ID BA==",
            Some("OID 1 PRIVATEDNS AQIDBA=="),
        );
        assert_round_trip(
            Rtype::CERT,
            "pkix 0 rsamd5 AA==",
            Some("PKIX 0 RSAMD5 AA=="),
        );
        for (n, name) in [
            (0, "0"),
            (4, "4"),
            (9, "9"),
            (11, "11"),
            (12, "ECCGOST"),
            (16, "ED448"),
            (252, "INDIRECT"),
        ] {
            assert_round_trip(
                Rtype::CERT,
                &format!("SPKI 0 {n} AA=="),
                Some(&format!("SPKI 0 {name} AA==")),
            );
        }
        for (n, name) in [
            (0, "0"),
            (6, "IPGP"),
            (7, "ACPKIX"),
            (9, "9"),
            (252, "252"),
            (255, "255"),
        ] {
            assert_round_trip(
                Rtype::CERT,
                &format!("{n} 0 0 AA=="),
                Some(&format!("{name} 0 0 AA==")),
            );
        }
    }

    #[test]
    fn rejects() {
        for bad in [
            "PKIX 65536 0 AA==",
            "PKIX 0 256 AA==",
            "PKIX 0 0",
            "PKIX 0 GOST AA==",
            "PKIX 0 DSA-NSEC3-SHA1 AA==",
            "FOO 0 0 AA==",
            "PKIX 0 0 AA=",
            "PKIX 0 0 \"AA==\"",
        ] {
            assert_text_rejected(Rtype::CERT, bad);
        }
        assert_wire_rejected(Rtype::CERT, &[0, 1, 0, 0, 0]);
        assert_wire_rejected(Rtype::CERT, &[0, 1, 0, 0]);
    }
}
