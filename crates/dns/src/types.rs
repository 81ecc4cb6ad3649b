//! The small numeric types of the protocol: record types, classes, opcodes and response
//! codes, with their mnemonics from the IANA "Domain Name System (DNS) Parameters"
//! registry. Unknown values print and parse in the RFC 3597 forms `TYPE123`, `CLASS45`.

use std::fmt;

/// A resource record type (RFC 1035 §3.2.2 and the IANA registry).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rtype(pub u16);

/// Declares the known record types: an associated constant each and the mnemonic table.
macro_rules! rtypes {
    ($($name:ident = $value:expr, $text:expr;)*) => {
        impl Rtype {
            $(
                #[doc = concat!("`", $text, "`")]
                pub const $name: Rtype = Rtype($value);
            )*

            /// The registered mnemonic, if this type has one.
            pub fn mnemonic(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }

            /// Looks up a mnemonic (ASCII case-insensitive), or the `TYPEnnn` form.
            pub fn from_mnemonic(text: &[u8]) -> Option<Rtype> {
                $(
                    if text.eq_ignore_ascii_case($text.as_bytes()) {
                        return Some(Rtype($value));
                    }
                )*
                parse_generic(text, b"TYPE").map(Rtype)
            }
        }
    };
}

rtypes! {
    A = 1, "A";
    NS = 2, "NS";
    MD = 3, "MD";
    MF = 4, "MF";
    CNAME = 5, "CNAME";
    SOA = 6, "SOA";
    MB = 7, "MB";
    MG = 8, "MG";
    MR = 9, "MR";
    NULL = 10, "NULL";
    WKS = 11, "WKS";
    PTR = 12, "PTR";
    HINFO = 13, "HINFO";
    MINFO = 14, "MINFO";
    MX = 15, "MX";
    TXT = 16, "TXT";
    RP = 17, "RP";
    AFSDB = 18, "AFSDB";
    X25 = 19, "X25";
    ISDN = 20, "ISDN";
    RT = 21, "RT";
    NSAP = 22, "NSAP";
    NSAP_PTR = 23, "NSAP-PTR";
    SIG = 24, "SIG";
    KEY = 25, "KEY";
    PX = 26, "PX";
    GPOS = 27, "GPOS";
    AAAA = 28, "AAAA";
    LOC = 29, "LOC";
    NXT = 30, "NXT";
    EID = 31, "EID";
    NIMLOC = 32, "NIMLOC";
    SRV = 33, "SRV";
    ATMA = 34, "ATMA";
    NAPTR = 35, "NAPTR";
    KX = 36, "KX";
    CERT = 37, "CERT";
    A6 = 38, "A6";
    DNAME = 39, "DNAME";
    SINK = 40, "SINK";
    OPT = 41, "OPT";
    APL = 42, "APL";
    DS = 43, "DS";
    SSHFP = 44, "SSHFP";
    IPSECKEY = 45, "IPSECKEY";
    RRSIG = 46, "RRSIG";
    NSEC = 47, "NSEC";
    DNSKEY = 48, "DNSKEY";
    DHCID = 49, "DHCID";
    NSEC3 = 50, "NSEC3";
    NSEC3PARAM = 51, "NSEC3PARAM";
    TLSA = 52, "TLSA";
    SMIMEA = 53, "SMIMEA";
    HIP = 55, "HIP";
    NINFO = 56, "NINFO";
    RKEY = 57, "RKEY";
    TALINK = 58, "TALINK";
    CDS = 59, "CDS";
    CDNSKEY = 60, "CDNSKEY";
    OPENPGPKEY = 61, "OPENPGPKEY";
    CSYNC = 62, "CSYNC";
    ZONEMD = 63, "ZONEMD";
    SVCB = 64, "SVCB";
    HTTPS = 65, "HTTPS";
    DSYNC = 66, "DSYNC";
    SPF = 99, "SPF";
    UINFO = 100, "UINFO";
    UID = 101, "UID";
    GID = 102, "GID";
    UNSPEC = 103, "UNSPEC";
    NID = 104, "NID";
    L32 = 105, "L32";
    L64 = 106, "L64";
    LP = 107, "LP";
    EUI48 = 108, "EUI48";
    EUI64 = 109, "EUI64";
    TKEY = 249, "TKEY";
    TSIG = 250, "TSIG";
    IXFR = 251, "IXFR";
    AXFR = 252, "AXFR";
    MAILB = 253, "MAILB";
    MAILA = 254, "MAILA";
    ANY = 255, "ANY";
    URI = 256, "URI";
    CAA = 257, "CAA";
    AVC = 258, "AVC";
    DOA = 259, "DOA";
    AMTRELAY = 260, "AMTRELAY";
    RESINFO = 261, "RESINFO";
    WALLET = 262, "WALLET";
    TA = 32768, "TA";
    DLV = 32769, "DLV";
    // ZDNS extension types in the private-use range 65280–65534 (RFC 6895 §3.1);
    // 65280 itself is left free. Formats: docs/zdns-records.md.
    MESH = 65281, "MESH";
    ZK = 65282, "ZK";
    ID = 65283, "ID";
    DAO = 65284, "DAO";
    ECON = 65285, "ECON";
    CONTENT = 65286, "CONTENT";
    MULTISIG = 65287, "MULTISIG";
    PQS = 65288, "PQS";
    WEB4 = 65289, "WEB4";
    WEB4CONTENT = 65290, "WEB4CONTENT";
    WEB4OWNER = 65291, "WEB4OWNER";
    WEB4DHT = 65292, "WEB4DHT";
    WEB4MESH = 65293, "WEB4MESH";
}

impl Rtype {
    /// Meta and query-only types (RFC 6895 §3.1: 128–255 and OPT), which never appear in
    /// zone data.
    pub fn is_meta(self) -> bool {
        self == Rtype::OPT || (128..=255).contains(&self.0)
    }

    /// Whether records of this type may stand beside a CNAME at the same owner
    /// (RFC 2181 §10.1, RFC 4035 §2.5).
    pub fn may_coexist_with_cname(self) -> bool {
        matches!(
            self,
            Rtype::RRSIG | Rtype::NSEC | Rtype::NXT | Rtype::KEY | Rtype::SIG
        )
    }
}

impl fmt::Display for Rtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

impl fmt::Debug for Rtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A record class (RFC 1035 §3.2.4, RFC 2136 §2.4 for NONE and ANY).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Class(pub u16);

impl Class {
    /// The Internet.
    pub const IN: Class = Class(1);
    /// Chaos.
    pub const CH: Class = Class(3);
    /// Hesiod.
    pub const HS: Class = Class(4);
    /// NONE, used by UPDATE (RFC 2136).
    pub const NONE: Class = Class(254);
    /// ANY (`*`), in queries and UPDATE.
    pub const ANY: Class = Class(255);

    /// The registered mnemonic, if any.
    pub fn mnemonic(self) -> Option<&'static str> {
        match self {
            Class::IN => Some("IN"),
            Class::CH => Some("CH"),
            Class::HS => Some("HS"),
            Class::NONE => Some("NONE"),
            Class::ANY => Some("ANY"),
            _ => None,
        }
    }

    /// Looks up a mnemonic (`CHAOS` too), or the `CLASSnnn` form.
    pub fn from_mnemonic(text: &[u8]) -> Option<Class> {
        const NAMES: [(&str, Class); 6] = [
            ("IN", Class::IN),
            ("CH", Class::CH),
            ("CHAOS", Class::CH),
            ("HS", Class::HS),
            ("NONE", Class::NONE),
            ("ANY", Class::ANY),
        ];
        NAMES
            .iter()
            .find(|(name, _)| text.eq_ignore_ascii_case(name.as_bytes()))
            .map(|&(_, class)| class)
            .or_else(|| parse_generic(text, b"CLASS").map(Class))
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "CLASS{}", self.0),
        }
    }
}

impl fmt::Debug for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A message opcode (RFC 1035 §4.1.1, 4 bits).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Opcode(u8);

impl Opcode {
    /// Standard query.
    pub const QUERY: Opcode = Opcode(0);
    /// Inverse query (obsolete, RFC 3425).
    pub const IQUERY: Opcode = Opcode(1);
    /// Server status request.
    pub const STATUS: Opcode = Opcode(2);
    /// NOTIFY (RFC 1996).
    pub const NOTIFY: Opcode = Opcode(4);
    /// UPDATE (RFC 2136).
    pub const UPDATE: Opcode = Opcode(5);
    /// DNS Stateful Operations (RFC 8490).
    pub const DSO: Opcode = Opcode(6);

    /// The opcode with this 4-bit value (higher bits are dropped).
    pub const fn new(value: u8) -> Opcode {
        Opcode(value & 0x0f)
    }

    /// The 4-bit value.
    pub const fn value(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Opcode::QUERY => f.write_str("QUERY"),
            Opcode::IQUERY => f.write_str("IQUERY"),
            Opcode::STATUS => f.write_str("STATUS"),
            Opcode::NOTIFY => f.write_str("NOTIFY"),
            Opcode::UPDATE => f.write_str("UPDATE"),
            Opcode::DSO => f.write_str("DSO"),
            Opcode(v) => write!(f, "RESERVED{v}"),
        }
    }
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A response code: 4 bits in the header, extended to 12 bits by EDNS (RFC 6891 §6.1.3);
/// TSIG and TKEY carry 16-bit error values of the same registry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rcode(pub u16);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// Format error.
    pub const FORMERR: Rcode = Rcode(1);
    /// Server failure.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// Non-existent domain.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// Not implemented.
    pub const NOTIMP: Rcode = Rcode(4);
    /// Query refused.
    pub const REFUSED: Rcode = Rcode(5);
    /// Name exists when it should not (RFC 2136).
    pub const YXDOMAIN: Rcode = Rcode(6);
    /// RRset exists when it should not (RFC 2136).
    pub const YXRRSET: Rcode = Rcode(7);
    /// RRset that should exist does not (RFC 2136).
    pub const NXRRSET: Rcode = Rcode(8);
    /// Not authoritative / not authorized (RFC 2136, RFC 8945).
    pub const NOTAUTH: Rcode = Rcode(9);
    /// Name not contained in zone (RFC 2136).
    pub const NOTZONE: Rcode = Rcode(10);
    /// DSO-TYPE not implemented (RFC 8490).
    pub const DSOTYPENI: Rcode = Rcode(11);
    /// Bad OPT version (RFC 6891); in TSIG the same value is BADSIG.
    pub const BADVERS: Rcode = Rcode(16);
    /// TSIG signature failure (RFC 8945).
    pub const BADSIG: Rcode = Rcode(16);
    /// Key not recognized (RFC 8945).
    pub const BADKEY: Rcode = Rcode(17);
    /// Signature out of time window (RFC 8945).
    pub const BADTIME: Rcode = Rcode(18);
    /// Bad TKEY mode (RFC 2930).
    pub const BADMODE: Rcode = Rcode(19);
    /// Duplicate key name (RFC 2930).
    pub const BADNAME: Rcode = Rcode(20);
    /// Algorithm not supported (RFC 2930).
    pub const BADALG: Rcode = Rcode(21);
    /// Bad truncation (RFC 8945).
    pub const BADTRUNC: Rcode = Rcode(22);
    /// Bad or missing server cookie (RFC 7873).
    pub const BADCOOKIE: Rcode = Rcode(23);

    /// The low 4 bits, which go in the header.
    pub fn header_bits(self) -> u8 {
        (self.0 & 0x0f) as u8
    }

    /// The high 8 bits of a 12-bit rcode, which go in the OPT record's TTL field.
    pub fn extended_bits(self) -> u8 {
        ((self.0 >> 4) & 0xff) as u8
    }

    /// Joins the header bits and the OPT extension.
    pub fn from_parts(header: u8, extended: u8) -> Rcode {
        Rcode(u16::from(extended) << 4 | u16::from(header & 0x0f))
    }

    /// The mnemonic, as dig prints it.
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self.0 {
            0 => "NOERROR",
            1 => "FORMERR",
            2 => "SERVFAIL",
            3 => "NXDOMAIN",
            4 => "NOTIMP",
            5 => "REFUSED",
            6 => "YXDOMAIN",
            7 => "YXRRSET",
            8 => "NXRRSET",
            9 => "NOTAUTH",
            10 => "NOTZONE",
            11 => "DSOTYPENI",
            16 => "BADVERS",
            17 => "BADKEY",
            18 => "BADTIME",
            19 => "BADMODE",
            20 => "BADNAME",
            21 => "BADALG",
            22 => "BADTRUNC",
            23 => "BADCOOKIE",
            _ => return None,
        })
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(m) => f.write_str(m),
            None => write!(f, "RESERVED{}", self.0),
        }
    }
}

impl fmt::Debug for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Parses `PREFIXnnn` (case-insensitive prefix, decimal u16).
fn parse_generic(text: &[u8], prefix: &[u8]) -> Option<u16> {
    let (head, digits) = (text.get(..prefix.len())?, text.get(prefix.len()..)?);
    if !head.eq_ignore_ascii_case(prefix) || digits.is_empty() || digits.len() > 5 {
        return None;
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtype_text() {
        assert_eq!(Rtype::from_mnemonic(b"aaaa"), Some(Rtype::AAAA));
        assert_eq!(Rtype::from_mnemonic(b"TYPE65280"), Some(Rtype(65280)));
        assert_eq!(Rtype::from_mnemonic(b"type1"), Some(Rtype::A));
        assert_eq!(Rtype::from_mnemonic(b"TYPE65536"), None);
        assert_eq!(Rtype::from_mnemonic(b"TYPE"), None);
        assert_eq!(Rtype::from_mnemonic(b"BOGUS"), None);
        assert_eq!(Rtype(65280).to_string(), "TYPE65280");
        assert_eq!(Rtype::NSAP_PTR.to_string(), "NSAP-PTR");
        assert_eq!(Rtype::MESH.to_string(), "MESH");
    }

    #[test]
    fn class_text() {
        assert_eq!(Class::from_mnemonic(b"in"), Some(Class::IN));
        assert_eq!(Class::from_mnemonic(b"CHAOS"), Some(Class::CH));
        assert_eq!(Class::from_mnemonic(b"CLASS32"), Some(Class(32)));
        assert_eq!(Class(32).to_string(), "CLASS32");
    }

    #[test]
    fn rcode_parts() {
        let r = Rcode::BADCOOKIE;
        assert_eq!(Rcode::from_parts(r.header_bits(), r.extended_bits()), r);
        assert_eq!(Rcode::BADVERS.extended_bits(), 1);
        assert_eq!(Rcode::BADVERS.header_bits(), 0);
    }
}
