//! Certification Authority Authorization: CAA (RFC 8659).

use std::fmt;

use super::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// One CAA property (RFC 8659 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caa {
    flags: u8,
    tag: Vec<u8>,
    value: Vec<u8>,
}

impl Caa {
    /// The issuer-critical flag (RFC 8659 §4.1).
    pub const ISSUER_CRITICAL: u8 = 0x80;

    /// A property; fails with the reason unless the tag is 1–255 ASCII letters and
    /// digits (RFC 8659 §4.1, checked as BIND does, without the RFC's 15-byte limit).
    pub fn new(flags: u8, tag: Vec<u8>, value: Vec<u8>) -> Result<Caa, &'static str> {
        if tag.is_empty() || tag.len() > 255 {
            return Err("CAA tag must be 1-255 bytes");
        }
        if !tag.iter().all(u8::is_ascii_alphanumeric) {
            return Err("CAA tag may only contain ASCII letters and digits");
        }
        Ok(Caa { flags, tag, value })
    }

    /// The flags.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// The property tag (`issue`, `issuewild`, `iodef`, ...), case preserved.
    pub fn tag(&self) -> &[u8] {
        &self.tag
    }

    /// The property value, uninterpreted.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

impl RecordData for Caa {
    const RTYPE: Rtype = Rtype::CAA;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let flags = r.u8()?;
        let at = r.pos();
        let tag = r.char_string()?.to_vec();
        Caa::new(flags, tag, r.rest().to_vec()).map_err(|reason| WireError::BadRdata { at, reason })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.flags)?;
        w.put_char_string(&self.tag)?;
        w.put_bytes(&self.value)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let flags = f.u8("flags")?;
        // The tag is taken as written: escapes are not letters or digits.
        let t = f.word("tag")?;
        let tag = t.text.to_vec();
        let value = f.token("value")?.unescaped()?;
        Caa::new(flags, tag, value).map_err(|e| t.error(format!("{e}, found '{}'", t.lossy())))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.flags)?;
        // Letters and digits only, so the tag prints as it is.
        f.write_str(&String::from_utf8_lossy(&self.tag))?;
        f.write_str(" ")?;
        write_char_string(&self.value, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn round_trips() {
        // RFC 8659 §4 examples.
        assert_round_trip(Rtype::CAA, r#"0 issue "ca.example.net""#, None);
        assert_round_trip(
            Rtype::CAA,
            r#"0 issue "ca.example.net; account=230123""#,
            None,
        );
        assert_round_trip(Rtype::CAA, r#"0 issue ";""#, None);
        assert_round_trip(Rtype::CAA, r#"0 iodef "mailto:security@example.com""#, None);
        assert_round_trip(Rtype::CAA, r#"128 tbs "Unknown""#, None);
        // As BIND reads and prints them.
        assert_round_trip(
            Rtype::CAA,
            "0 issue ca.example.net",
            Some(r#"0 issue "ca.example.net""#),
        );
        assert_round_trip(Rtype::CAA, r#"0 ISSUE """#, None);
        assert_round_trip(Rtype::CAA, r#"0 issue "a\"b;\255 \\""#, None);
        assert_round_trip(Rtype::CAA, r#"0 tbs "\000\127""#, None);
        assert_round_trip(
            Rtype::CAA,
            r#"0 issuewild "a\tb""#,
            Some(r#"0 issuewild "atb""#),
        );
        let long = format!("255 {} \"{}\"", "t".repeat(255), "v".repeat(300));
        let wire = assert_round_trip(Rtype::CAA, &long, None);
        assert_eq!(wire.len(), 1 + 1 + 255 + 300);
    }

    #[test]
    fn rejects() {
        for bad in [
            r#"0 "" "x""#,
            r#"0 "issue" "x""#,
            r#"0 is-sue "x""#,
            r#"0 iss\101 "x""#,
            r#"256 issue "x""#,
            "0 issue",
            r#"0 issue "a" "b""#,
        ] {
            assert_text_rejected(Rtype::CAA, bad);
        }
        assert_text_rejected(Rtype::CAA, &format!("0 {} \"x\"", "t".repeat(256)));
        assert_wire_rejected(Rtype::CAA, &[0, 0]);
        assert_wire_rejected(Rtype::CAA, &[0, 0, b'x']);
        assert_wire_rejected(Rtype::CAA, &[0, 1, 0]);
        assert_wire_rejected(Rtype::CAA, &[0, 2, b'a']);
        assert_wire_rejected(Rtype::CAA, &[0]);
    }
}
