//! Service location and rewriting: SRV (RFC 2782), NAPTR (RFC 3403) and URI (RFC 7553).

use std::fmt;

use super::RecordData;
use crate::name::Name;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// The location of a service (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Srv {
    /// Lower values are tried first.
    pub priority: u16,
    /// Relative weight among targets of the same priority.
    pub weight: u16,
    /// The port the service listens on.
    pub port: u16,
    /// The host; the root name means the service is not available here.
    pub target: Name,
}

impl RecordData for Srv {
    const RTYPE: Rtype = Rtype::SRV;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Srv {
            priority: r.u16()?,
            weight: r.u16()?,
            port: r.u16()?,
            target: r.name()?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.priority)?;
        w.put_u16(self.weight)?;
        w.put_u16(self.port)?;
        // RFC 2782: "name compression is not to be used for this field"; RFC 4034 §6.2
        // lowercases it in canonical form.
        w.put_name(&self.target, NameKind::Canonical)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Srv {
            priority: f.u16("priority")?,
            weight: f.u16("weight")?,
            port: f.u16("port")?,
            target: f.name("target")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.priority, self.weight, self.port, self.target
        )
    }
}

/// A naming authority pointer: one rewrite rule of a DDDS application (RFC 3403 §4.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Naptr {
    order: u16,
    preference: u16,
    flags: Vec<u8>,
    services: Vec<u8>,
    regexp: Vec<u8>,
    replacement: Name,
}

impl Naptr {
    /// A rule from its fields. Fails with the reason if a string is longer than 255
    /// bytes or the regexp is not a substitution expression of RFC 3403 §3.2.
    pub fn new(
        order: u16,
        preference: u16,
        flags: Vec<u8>,
        services: Vec<u8>,
        regexp: Vec<u8>,
        replacement: Name,
    ) -> Result<Naptr, &'static str> {
        if flags.len() > 255 || services.len() > 255 || regexp.len() > 255 {
            return Err("NAPTR string longer than 255 bytes");
        }
        check_regexp(&regexp)?;
        Ok(Naptr {
            order,
            preference,
            flags,
            services,
            regexp,
            replacement,
        })
    }

    /// Rules are applied in increasing order.
    pub fn order(&self) -> u16 {
        self.order
    }

    /// Preference among rules of the same order.
    pub fn preference(&self) -> u16 {
        self.preference
    }

    /// The flags (`S`, `A`, `U`, `P`, ...), uninterpreted.
    pub fn flags(&self) -> &[u8] {
        &self.flags
    }

    /// The service parameters, uninterpreted.
    pub fn services(&self) -> &[u8] {
        &self.services
    }

    /// The substitution expression, empty when `replacement` is used instead.
    pub fn regexp(&self) -> &[u8] {
        &self.regexp
    }

    /// The next name to look up, the root name when `regexp` is used instead.
    pub fn replacement(&self) -> &Name {
        &self.replacement
    }
}

/// Checks a NAPTR regexp field: empty, or `delim ERE delim replacement delim flags`
/// (RFC 3403 §3.2), where the delimiter is not a digit, a backslash or the flag `i`, the
/// only flag is `i`, back-references `\1`–`\9` refer to groups of the ERE, and groups
/// and bracket expressions are closed. BIND validates the ERE fully; beyond this the ERE
/// is not checked here.
fn check_regexp(re: &[u8]) -> Result<(), &'static str> {
    let Some((&delim, rest)) = re.split_first() else {
        return Ok(());
    };
    if delim.is_ascii_digit() || delim == b'\\' || delim == b'i' || delim == 0 {
        return Err("NAPTR regexp delimiter may not be a digit, '\\', 'i' or NUL");
    }
    // 0: in the ERE, 1: in the replacement, 2: in the flags.
    let mut part = 0u8;
    let mut groups = 0u8;
    let mut max_backref = 0u8;
    let mut in_bracket = false;
    let mut open = 0u8;
    let mut iter = rest.iter().copied();
    while let Some(c) = iter.next() {
        if c == 0 {
            return Err("NUL byte in NAPTR regexp");
        }
        if part == 2 {
            if c != b'i' {
                return Err("NAPTR regexp flag other than 'i'");
            }
            continue;
        }
        if c == delim {
            part += 1;
            continue;
        }
        if c == b'\\' {
            let escaped = iter.next().ok_or("NAPTR regexp ends in a backslash")?;
            if escaped == 0 {
                return Err("NUL byte in NAPTR regexp");
            }
            if part == 1 && escaped.is_ascii_digit() {
                if escaped == b'0' {
                    return Err("NAPTR regexp back-reference \\0");
                }
                max_backref = max_backref.max(escaped - b'0');
            }
            continue;
        }
        if part == 0 {
            match c {
                b'[' if !in_bracket => in_bracket = true,
                b']' if in_bracket => in_bracket = false,
                b'(' if !in_bracket => {
                    groups = groups.saturating_add(1);
                    open = open.saturating_add(1);
                }
                b')' if !in_bracket && open > 0 => open -= 1,
                _ => {}
            }
        }
        if part == 1 && (open > 0 || in_bracket) {
            return Err("NAPTR regexp with an unclosed '(' or '['");
        }
    }
    if part != 2 {
        return Err("NAPTR regexp needs three delimiters");
    }
    if max_backref > groups {
        return Err("NAPTR regexp back-reference to a missing group");
    }
    Ok(())
}

impl RecordData for Naptr {
    const RTYPE: Rtype = Rtype::NAPTR;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let order = r.u16()?;
        let preference = r.u16()?;
        let flags = r.char_string()?.to_vec();
        let services = r.char_string()?.to_vec();
        let at = r.pos();
        let regexp = r.char_string()?.to_vec();
        let replacement = r.name()?;
        Naptr::new(order, preference, flags, services, regexp, replacement)
            .map_err(|reason| WireError::BadRdata { at, reason })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.order)?;
        w.put_u16(self.preference)?;
        w.put_char_string(&self.flags)?;
        w.put_char_string(&self.services)?;
        w.put_char_string(&self.regexp)?;
        // Not compressed (RFC 3403 §4.1), lowercased in canonical form (RFC 4034 §6.2).
        w.put_name(&self.replacement, NameKind::Canonical)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let order = f.u16("order")?;
        let preference = f.u16("preference")?;
        let flags = f.char_string("flags")?;
        let services = f.char_string("services")?;
        let pos = f.pos();
        let regexp = f.char_string("regexp")?;
        check_regexp(&regexp).map_err(|e| TextError::new(pos, e))?;
        let replacement = f.name("replacement")?;
        Ok(Naptr {
            order,
            preference,
            flags,
            services,
            regexp,
            replacement,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.order, self.preference)?;
        for s in [&self.flags, &self.services, &self.regexp] {
            write_char_string(s, f)?;
            f.write_str(" ")?;
        }
        write!(f, "{}", self.replacement)
    }
}

/// A URI for a service (RFC 7553).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Uri {
    /// Lower values are tried first.
    pub priority: u16,
    /// Relative weight among targets of the same priority.
    pub weight: u16,
    /// The URI, the rest of the record data (not a `<character-string>`, so it may be
    /// longer than 255 bytes).
    pub target: Vec<u8>,
}

impl RecordData for Uri {
    const RTYPE: Rtype = Rtype::URI;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Uri {
            priority: r.u16()?,
            weight: r.u16()?,
            target: r.rest().to_vec(),
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.priority)?;
        w.put_u16(self.weight)?;
        w.put_bytes(&self.target)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let priority = f.u16("priority")?;
        let weight = f.u16("weight")?;
        // RFC 7553 §4.4: the target is a quoted string.
        let t = f.token("target")?;
        if !t.quoted {
            return Err(t.error(format!(
                "URI target must be a quoted string, found '{}'",
                t.lossy()
            )));
        }
        Ok(Uri {
            priority,
            weight,
            target: t.unescaped()?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.priority, self.weight)?;
        write_char_string(&self.target, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn srv() {
        // RFC 2782 example (target made relative to the test origin).
        assert_round_trip(
            Rtype::SRV,
            "0 5 5060 sipserver",
            Some("0 5 5060 sipserver.example."),
        );
        assert_round_trip(Rtype::SRV, "65535 65535 65535 .", None);
        assert_round_trip(Rtype::SRV, "1 2 3 @", Some("1 2 3 example."));
        let wire = assert_round_trip(Rtype::SRV, "0 0 0 A.b.", None);
        assert_eq!(wire, [0, 0, 0, 0, 0, 0, 1, b'A', 1, b'b', 0]);

        assert_text_rejected(Rtype::SRV, "0 0 a");
        assert_text_rejected(Rtype::SRV, "1 2 65536 a");
        assert_text_rejected(Rtype::SRV, "1 2 3 a b");
        assert_wire_rejected(Rtype::SRV, &[0, 0, 0, 0, 0]);
        assert_wire_rejected(Rtype::SRV, &[0, 0, 0, 0, 0, 0]);
        assert_wire_rejected(Rtype::SRV, &[0, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn naptr() {
        // RFC 3403 §6.2 and §6.3 examples, as BIND prints them.
        assert_round_trip(
            Rtype::NAPTR,
            r#"100 10 "" "" "!^urn:cid:.+@([^\\.]+\\.)(.*)$!\\2!i" ."#,
            None,
        );
        assert_round_trip(
            Rtype::NAPTR,
            r#"100 50 "a" "z3950+N2L+N2C" "" cidserver"#,
            Some(r#"100 50 "a" "z3950+N2L+N2C" "" cidserver.example."#),
        );
        assert_round_trip(
            Rtype::NAPTR,
            r#"10 0 u E2U+sip "!^.*$!sip:info@example.com!" ."#,
            Some(r#"10 0 "u" "E2U+sip" "!^.*$!sip:info@example.com!" ."#),
        );
        assert_round_trip(Rtype::NAPTR, r#"1 2 "\255" "" "" a."#, None);
        assert_round_trip(Rtype::NAPTR, r#"1 2 "" "" "/(a)/\\1/" ."#, None);
        assert_round_trip(Rtype::NAPTR, r#"1 2 "" "" "!(a)(b)!\\2!" ."#, None);
        assert_round_trip(Rtype::NAPTR, r#"1 2 "" "" "!a)!x!" ."#, None);
        assert_round_trip(Rtype::NAPTR, r##"1 2 "" "" "#[(]#x#" ."##, None);

        for bad in [
            r#"1 2 "" "" "z" ."#,
            r#"1 2 "" "" "bad" ."#,
            r#"1 2 "" "" "!a!b!x" ."#,
            r#"1 2 "" "" "!a!b!i!" ."#,
            r#"1 2 "" "" "1a1b1" ."#,
            r#"1 2 "" "" "/a/\\1/" ."#,
            r#"1 2 "" "" "/(a)/\\0/" ."#,
            r#"1 2 "" "" "/a/b\\" ."#,
            r#"1 2 "" "" "!(!x!" ."#,
            r#"1 2 "" "" "![a!x!" ."#,
            r#"1 2 "" "" "!\\(a)!\\1!" ."#,
            r#"1 2 "" "" "!x!y!I" ."#,
            r#"1 2 "" "" "" "#,
            r#"1 2 "" "" "" """#,
            r#"70000 2 "" "" "" ."#,
        ] {
            assert_text_rejected(Rtype::NAPTR, bad);
        }
        let mut long = String::from("1 2 \"");
        long.push_str(&"x".repeat(256));
        long.push_str("\" \"\" \"\" .");
        assert_text_rejected(Rtype::NAPTR, &long);

        assert_wire_rejected(Rtype::NAPTR, &[0, 1, 0, 2, 0, 0, 0]);
        assert_wire_rejected(Rtype::NAPTR, &[0, 1, 0, 2, 0, 0, 1, b'x', 0]);
        assert_wire_rejected(Rtype::NAPTR, &[0, 1, 0, 2, 0, 0, 0, 0, 0]);
        assert_wire_rejected(Rtype::NAPTR, &[0, 1, 0, 2, 0, 0, 5, b'!', b'a', 0]);
    }

    #[test]
    fn uri() {
        // RFC 7553 §4.5 examples.
        assert_round_trip(Rtype::URI, r#"10 1 "ftp://ftp1.example.com/public""#, None);
        assert_round_trip(Rtype::URI, r#"10 1 "http://www.example.com/path""#, None);
        assert_round_trip(Rtype::URI, r#"10 1 """#, None);
        assert_round_trip(Rtype::URI, r#"65535 0 "a\"b\\c\255""#, None);
        let long = format!("1 1 \"{}\"", "a".repeat(300));
        let wire = assert_round_trip(Rtype::URI, &long, None);
        assert_eq!(wire.len(), 304);

        assert_text_rejected(Rtype::URI, "10 1 ftp://x");
        assert_text_rejected(Rtype::URI, "10 1");
        assert_text_rejected(Rtype::URI, r#"10 1 "a" "b""#);
        assert_text_rejected(Rtype::URI, r#"10 65536 "a""#);
        assert_wire_rejected(Rtype::URI, &[0, 10, 0]);
    }
}
