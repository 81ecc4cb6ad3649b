//! Keys and key fingerprints published for other protocols: SSHFP (RFC 4255), IPSECKEY
//! (RFC 4025), DHCID (RFC 4701) and OPENPGPKEY (RFC 7929).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::RecordData;
use crate::encoding;
use crate::name::Name;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// An SSH host key fingerprint (RFC 4255 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sshfp {
    algorithm: u8,
    fp_type: u8,
    fingerprint: Vec<u8>,
}

impl Sshfp {
    /// A fingerprint; fails with the reason if it is empty, or not 20 bytes for SHA-1
    /// (type 1, RFC 4255 §3.1.2) or 32 bytes for SHA-256 (type 2, RFC 6594 §3), as BIND
    /// checks.
    pub fn new(algorithm: u8, fp_type: u8, fingerprint: Vec<u8>) -> Result<Sshfp, &'static str> {
        match (fp_type, fingerprint.len()) {
            (_, 0) => Err("SSHFP without fingerprint"),
            (1, n) if n != 20 => Err("SSHFP SHA-1 fingerprint is not 20 bytes"),
            (2, n) if n != 32 => Err("SSHFP SHA-256 fingerprint is not 32 bytes"),
            _ => Ok(Sshfp {
                algorithm,
                fp_type,
                fingerprint,
            }),
        }
    }

    /// The key algorithm (1 RSA, 2 DSA, 3 ECDSA, 4 Ed25519, ...).
    pub fn algorithm(&self) -> u8 {
        self.algorithm
    }

    /// The fingerprint type (1 SHA-1, 2 SHA-256).
    pub fn fp_type(&self) -> u8 {
        self.fp_type
    }

    /// The fingerprint.
    pub fn fingerprint(&self) -> &[u8] {
        &self.fingerprint
    }
}

impl RecordData for Sshfp {
    const RTYPE: Rtype = Rtype::SSHFP;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let algorithm = r.u8()?;
        let fp_type = r.u8()?;
        let at = r.pos();
        Sshfp::new(algorithm, fp_type, r.rest().to_vec())
            .map_err(|reason| WireError::BadRdata { at, reason })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.algorithm)?;
        w.put_u8(self.fp_type)?;
        w.put_bytes(&self.fingerprint)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let algorithm = f.u8("algorithm")?;
        let fp_type = f.u8("fingerprint type")?;
        let pos = f.pos();
        let fingerprint = f.hex_rest("fingerprint")?;
        Sshfp::new(algorithm, fp_type, fingerprint).map_err(|e| TextError::new(pos, e))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.algorithm, self.fp_type)?;
        encoding::hex_encode(&self.fingerprint, f)
    }
}

/// The gateway of an IPSECKEY record (RFC 4025 §2.3, §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IpsecGateway {
    /// Type 0: no gateway, written `.`.
    None,
    /// Type 1: an IPv4 address.
    Ipv4(Ipv4Addr),
    /// Type 2: an IPv6 address.
    Ipv6(Ipv6Addr),
    /// Type 3: a domain name (never compressed).
    Name(Name),
}

impl IpsecGateway {
    /// The gateway type number.
    pub fn gateway_type(&self) -> u8 {
        match self {
            IpsecGateway::None => 0,
            IpsecGateway::Ipv4(_) => 1,
            IpsecGateway::Ipv6(_) => 2,
            IpsecGateway::Name(_) => 3,
        }
    }
}

/// An IPsec keying entry (RFC 4025 §2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ipseckey {
    /// Lower values are preferred.
    pub precedence: u8,
    /// Where to connect.
    pub gateway: IpsecGateway,
    /// The public key algorithm (0: no key, 1 DSA, 2 RSA, 3 ECDSA, ...).
    pub algorithm: u8,
    /// The public key, possibly empty (RFC 4025 §2.6).
    pub public_key: Vec<u8>,
}

impl RecordData for Ipseckey {
    const RTYPE: Rtype = Rtype::IPSECKEY;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let precedence = r.u8()?;
        let at = r.pos();
        let gateway_type = r.u8()?;
        let algorithm = r.u8()?;
        let gateway = match gateway_type {
            0 => IpsecGateway::None,
            1 => IpsecGateway::Ipv4(Ipv4Addr::from(r.array::<4>()?)),
            2 => IpsecGateway::Ipv6(Ipv6Addr::from(r.array::<16>()?)),
            // RFC 4025 §2.5: the name is not compressed, so no pointers are followed.
            3 => IpsecGateway::Name(read_uncompressed_name(r)?),
            _ => {
                return Err(WireError::BadRdata {
                    at,
                    reason: "IPSECKEY gateway type other than 0-3",
                });
            }
        };
        Ok(Ipseckey {
            precedence,
            gateway,
            algorithm,
            public_key: r.rest().to_vec(),
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.precedence)?;
        w.put_u8(self.gateway.gateway_type())?;
        w.put_u8(self.algorithm)?;
        match &self.gateway {
            IpsecGateway::None => {}
            IpsecGateway::Ipv4(a) => w.put_bytes(&a.octets())?,
            IpsecGateway::Ipv6(a) => w.put_bytes(&a.octets())?,
            IpsecGateway::Name(n) => w.put_name(n, NameKind::Plain)?,
        }
        w.put_bytes(&self.public_key)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let precedence = f.u8("precedence")?;
        let t = f.word("gateway type")?;
        let gateway_type: u8 = crate::text::parse_int(&t)
            .filter(|&g: &u8| g <= 3)
            .ok_or_else(|| t.error(format!("expected gateway type 0-3, found '{}'", t.lossy())))?;
        let algorithm = f.u8("algorithm")?;
        let t = f.word("gateway")?;
        let addr = |what: &str| t.error(format!("expected {what} gateway, found '{}'", t.lossy()));
        let text = std::str::from_utf8(t.text).unwrap_or_default();
        let gateway = match gateway_type {
            0 if t.text == b"." => IpsecGateway::None,
            0 => return Err(addr("'.' as the empty")),
            1 => IpsecGateway::Ipv4(text.parse().map_err(|_| addr("an IPv4 address as"))?),
            2 => IpsecGateway::Ipv6(text.parse().map_err(|_| addr("an IPv6 address as"))?),
            _ => IpsecGateway::Name(
                Name::parse_relative(t.text, f.origin())
                    .map_err(|e| crate::text::name_error(&t, "gateway", e))?,
            ),
        };
        let public_key = if f.is_empty() {
            Vec::new()
        } else {
            f.base64_rest("public key")?
        };
        Ok(Ipseckey {
            precedence,
            gateway,
            algorithm,
            public_key,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ",
            self.precedence,
            self.gateway.gateway_type(),
            self.algorithm
        )?;
        match &self.gateway {
            IpsecGateway::None => f.write_str(".")?,
            IpsecGateway::Ipv4(a) => write!(f, "{a}")?,
            IpsecGateway::Ipv6(a) => write!(f, "{a}")?,
            IpsecGateway::Name(n) => write!(f, "{n}")?,
        }
        if !self.public_key.is_empty() {
            f.write_str(" ")?;
            encoding::base64_encode(&self.public_key, f)?;
        }
        Ok(())
    }
}

/// Reads a name that must not use compression pointers.
fn read_uncompressed_name(r: &mut WireReader<'_>) -> Result<Name, WireError> {
    let at = r.pos();
    let mut len = 0usize;
    let mut probe = r.clone();
    loop {
        let label = probe.u8()?;
        if label & 0xc0 != 0 {
            return Err(WireError::BadRdata {
                at,
                reason: "compressed name where compression is not allowed",
            });
        }
        probe.bytes(usize::from(label))?;
        len += 1 + usize::from(label);
        if label == 0 {
            break;
        }
    }
    let wire = r.bytes(len)?;
    Name::from_wire(wire).map_err(|_| WireError::NameTooLong { at })
}

/// Declares a type whose data is one non-empty Base64 blob.
macro_rules! base64_blob {
    ($(#[$doc:meta])* $ty:ident, $rtype:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(Vec<u8>);

        impl $ty {
            #[doc = concat!("The data; `None` if empty (BIND requires ", $what, ").")]
            pub fn new(data: Vec<u8>) -> Option<$ty> {
                (!data.is_empty()).then_some($ty(data))
            }

            #[doc = concat!("The ", $what, ".")]
            pub fn data(&self) -> &[u8] {
                &self.0
            }
        }

        impl RecordData for $ty {
            const RTYPE: Rtype = $rtype;

            fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
                let at = r.pos();
                $ty::new(r.rest().to_vec()).ok_or(WireError::BadRdata {
                    at,
                    reason: concat!("empty ", $what),
                })
            }

            fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                w.put_bytes(&self.0)
            }

            fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
                let pos = f.pos();
                $ty::new(f.base64_rest($what)?)
                    .ok_or_else(|| TextError::new(pos, concat!("empty ", $what)))
            }

            fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                encoding::base64_encode(&self.0, f)
            }
        }
    };
}

base64_blob!(
    /// A DHCP client identifier digest (RFC 4701 §3).
    Dhcid, Rtype::DHCID, "DHCID digest"
);
base64_blob!(
    /// An OpenPGP transferable public key (RFC 7929 §2).
    Openpgpkey, Rtype::OPENPGPKEY, "OpenPGP key"
);

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    const SHA1: &str = "123456789ABCDEF67890123456789ABCDEF67890";
    const SHA256: &str = "0123456789012345678901234567890123456789012345678901234567890123";

    #[test]
    fn sshfp() {
        // RFC 4255 §3.3 example.
        assert_round_trip(
            Rtype::SSHFP,
            "2 1 123456789abcdef67890123456789abcdef67890",
            Some(&format!("2 1 {SHA1}")),
        );
        assert_round_trip(Rtype::SSHFP, &format!("4 2 {SHA256}"), None);
        assert_round_trip(Rtype::SSHFP, "1 3 0123", None);
        assert_round_trip(Rtype::SSHFP, "255 0 01 23", Some("255 0 0123"));

        for bad in [
            "1 1 0123",
            "1 2 0123",
            &format!("1 2 {SHA1}"),
            &format!("1 1 {SHA1}00"),
            "1 1",
            "256 1 00",
            "1 1 0g",
            "1 1 012",
        ] {
            assert_text_rejected(Rtype::SSHFP, bad);
        }
        assert_wire_rejected(Rtype::SSHFP, &[1, 1]);
        assert_wire_rejected(Rtype::SSHFP, &[1, 2, 0]);
        assert_wire_rejected(Rtype::SSHFP, &[1]);
    }

    #[test]
    fn ipseckey() {
        // RFC 4025 §3.1 examples.
        const KEY: &str = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==";
        for text in [
            format!("10 1 2 192.0.2.38 {KEY}"),
            format!("10 0 2 . {KEY}"),
            format!("10 1 2 192.0.2.3 {KEY}"),
            format!("10 3 2 mygateway.example.com. {KEY}"),
            format!("10 2 2 2001:db8:0:8002::2000:1 {KEY}"),
        ] {
            assert_round_trip(Rtype::IPSECKEY, &text, None);
        }
        assert_round_trip(
            Rtype::IPSECKEY,
            &format!("10 2 2 2001:0DB8:0:8002::2000:1 {KEY}"),
            Some(&format!("10 2 2 2001:db8:0:8002::2000:1 {KEY}")),
        );
        assert_round_trip(
            Rtype::IPSECKEY,
            "10 3 2 @ AA==",
            Some("10 3 2 example. AA=="),
        );
        assert_round_trip(Rtype::IPSECKEY, "255 2 255 ::ffff:1.2.3.4 AA==", None);
        // No key (RFC 4025 §2.6; BIND insists on one, Knot does not).
        let wire = assert_round_trip(Rtype::IPSECKEY, "0 0 0 .", None);
        assert_eq!(wire, [0, 0, 0]);
        assert_round_trip(Rtype::IPSECKEY, "0 1 0 0.0.0.0", None);

        for bad in [
            "10 4 2 . AA==",
            "10 0 2 x AA==",
            "10 1 2 ::1 AA==",
            "10 2 2 1.2.3.4 AA==",
            "10 1 2 1.2.3 AA==",
            "256 0 2 . AA==",
            "10 0 2",
            "10 0 2 . AA=",
        ] {
            assert_text_rejected(Rtype::IPSECKEY, bad);
        }
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 0]);
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 4, 2, 0]);
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 1, 2, 192, 0, 2]);
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 2, 2, 0, 0, 0, 0]);
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 3, 2, 1, b'a']);
        assert_wire_rejected(Rtype::IPSECKEY, &[10, 3, 2, 0xc0, 0]);
    }

    #[test]
    fn dhcid_and_openpgpkey() {
        // RFC 4701 §3.6 example.
        assert_round_trip(
            Rtype::DHCID,
            "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA=",
            None,
        );
        assert_round_trip(Rtype::DHCID, "AA AA", Some("AAAA"));
        assert_round_trip(Rtype::OPENPGPKEY, "AQ ID BA==", Some("AQIDBA=="));
        assert_round_trip(Rtype::OPENPGPKEY, "AA==", None);
        for rtype in [Rtype::DHCID, Rtype::OPENPGPKEY] {
            assert_text_rejected(rtype, "");
            assert_text_rejected(rtype, "AA=");
            assert_text_rejected(rtype, "A!==");
            assert_wire_rejected(rtype, &[]);
        }
    }
}
