//! Round-trip checks shared by the tests of every record type.

use super::RData;
use crate::name::Name;
use crate::types::Rtype;
use crate::wire::{WireReader, WireWriter};

/// Checks presentation → wire → presentation → wire for one record: both wire forms must
/// be identical, the printed form must be `expected` (or `text` itself when `None`), the
/// generic form must read back to the same data, and the wire form must decode alone.
pub(crate) fn assert_round_trip(rtype: Rtype, text: &str, expected: Option<&str>) -> Vec<u8> {
    let origin = Name::parse("example.").unwrap();
    let data = RData::parse_str(rtype, text, Some(&origin))
        .unwrap_or_else(|e| panic!("{rtype} '{text}' does not parse: {e}"));
    assert_eq!(data.rtype(), rtype);
    let mut w = WireWriter::plain();
    data.write_wire(&mut w).unwrap();
    let wire = w.into_bytes();

    let printed = data.to_string();
    assert_eq!(printed, expected.unwrap_or(text), "{rtype} presentation");

    let again = RData::parse_str(rtype, &printed, Some(&origin))
        .unwrap_or_else(|e| panic!("{rtype} printed form '{printed}' does not parse: {e}"));
    let mut w = WireWriter::plain();
    again.write_wire(&mut w).unwrap();
    assert_eq!(
        w.as_bytes(),
        wire.as_slice(),
        "{rtype} wire differs after round trip"
    );

    let from_wire = RData::parse_wire(rtype, &mut WireReader::new(&wire)).unwrap();
    assert_eq!(from_wire, data, "{rtype} wire decode");

    let generic = data.to_generic_string().unwrap();
    let from_generic = RData::parse_str(rtype, &generic, Some(&origin))
        .unwrap_or_else(|e| panic!("{rtype} generic '{generic}' does not parse: {e}"));
    assert_eq!(from_generic, data, "{rtype} generic form");
    wire
}

/// Checks that `text` is rejected for `rtype`, returning the message.
pub(crate) fn assert_text_rejected(rtype: Rtype, text: &str) -> String {
    let origin = Name::parse("example.").unwrap();
    match RData::parse_str(rtype, text, Some(&origin)) {
        Ok(d) => panic!("{rtype} '{text}' should be rejected, got {d}"),
        Err(e) => e.message,
    }
}

/// Checks that `wire` is rejected for `rtype`.
pub(crate) fn assert_wire_rejected(rtype: Rtype, wire: &[u8]) {
    let r = RData::parse_wire(rtype, &mut WireReader::new(wire));
    assert!(
        r.is_err(),
        "{rtype} wire {wire:02x?} should be rejected, got {r:?}"
    );
}

#[test]
fn basic_types() {
    assert_round_trip(Rtype::A, "192.0.2.1", None);
    assert_round_trip(Rtype::AAAA, "2001:db8::1", None);
    assert_round_trip(Rtype::AAAA, "2001:DB8:0:0:0:0:0:1", Some("2001:db8::1"));
    assert_round_trip(Rtype::AAAA, "::ffff:192.0.2.1", None);
    assert_round_trip(Rtype::NS, "ns1", Some("ns1.example."));
    assert_round_trip(Rtype::CNAME, "Target.Example.ORG.", None);
    assert_round_trip(Rtype::PTR, "@", Some("example."));
    assert_round_trip(Rtype::DNAME, "other.", None);
    assert_round_trip(Rtype::MX, "10 mail", Some("10 mail.example."));
    assert_round_trip(
        Rtype::SOA,
        "ns1 admin.example.org. 2024010101 1h 15m 2w 1d",
        Some("ns1.example. admin.example.org. 2024010101 3600 900 1209600 86400"),
    );
    assert_round_trip(
        Rtype::TXT,
        r#""hello world" unquoted "a\"b" "\255""#,
        Some(r#""hello world" "unquoted" "a\"b" "\255""#),
    );
    assert_round_trip(Rtype::TXT, r#""""#, None);
    assert_round_trip(Rtype::SPF, r#""v=spf1 -all""#, None);
}

#[test]
fn basic_rejects() {
    assert_text_rejected(Rtype::A, "192.0.2");
    assert_text_rejected(Rtype::A, "192.0.2.256");
    assert_text_rejected(Rtype::AAAA, "2001:db8:::1");
    assert_text_rejected(Rtype::MX, "mail");
    assert_text_rejected(Rtype::TXT, "");
    assert_text_rejected(Rtype::SOA, "ns1 admin 1 2 3 4");
    assert_text_rejected(Rtype::TXT, &format!("\"{}\"", "x".repeat(256)));
    assert_wire_rejected(Rtype::A, &[1, 2, 3]);
    assert_wire_rejected(Rtype::A, &[1, 2, 3, 4, 5]);
    assert_wire_rejected(Rtype::TXT, &[]);
    assert_wire_rejected(Rtype::TXT, &[3, b'a']);
    assert_wire_rejected(Rtype::NS, &[0xc0, 0x00]);
}

#[test]
fn generic_form() {
    // Unknown type: kept as bytes.
    assert_round_trip(Rtype(65280), r"\# 4 0A000001", None);
    assert_round_trip(Rtype(65280), r"\# 0", None);
    // Known type in generic form is decoded (RFC 3597 §5).
    let origin = Name::parse("example.").unwrap();
    let a = RData::parse_str(Rtype::A, r"\# 4 C0000201", Some(&origin)).unwrap();
    assert_eq!(a.to_string(), "192.0.2.1");
    // Hex may be split across tokens.
    let t = RData::parse_str(Rtype::TXT, r"\# 6 05 68656c6c6f", Some(&origin)).unwrap();
    assert_eq!(t.to_string(), r#""hello""#);
    assert!(assert_text_rejected(Rtype::A, r"\# 5 C000020101").contains("not valid A"));
    assert!(assert_text_rejected(Rtype(65280), r"\# 4 0A0000").contains("length is 4"));
    assert_text_rejected(Rtype(65280), r"\# 1 zz");
    assert!(assert_text_rejected(Rtype(65280), "abc").contains("generic form"));
}
