//! Host information: HINFO (RFC 1035 §3.3.2).

use std::fmt;

use super::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// The CPU and operating system of a host (RFC 1035 §3.3.2), and the minimal answer to
/// ANY queries of RFC 8482 §4.2.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hinfo {
    cpu: Vec<u8>,
    os: Vec<u8>,
}

impl Hinfo {
    /// Host information; `None` if either string is longer than 255 bytes.
    pub fn new(cpu: Vec<u8>, os: Vec<u8>) -> Option<Hinfo> {
        (cpu.len() <= 255 && os.len() <= 255).then_some(Hinfo { cpu, os })
    }

    /// The CPU type.
    pub fn cpu(&self) -> &[u8] {
        &self.cpu
    }

    /// The operating system.
    pub fn os(&self) -> &[u8] {
        &self.os
    }
}

impl RecordData for Hinfo {
    const RTYPE: Rtype = Rtype::HINFO;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Hinfo {
            cpu: r.char_string()?.to_vec(),
            os: r.char_string()?.to_vec(),
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_char_string(&self.cpu)?;
        w.put_char_string(&self.os)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Hinfo {
            cpu: f.char_string("CPU")?,
            os: f.char_string("OS")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_char_string(&self.cpu, f)?;
        f.write_str(" ")?;
        write_char_string(&self.os, f)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn round_trips() {
        assert_round_trip(
            Rtype::HINFO,
            r#""PC-Intel-700mhz" "Redhat Linux 7.1""#,
            None,
        );
        assert_round_trip(Rtype::HINFO, "PC linux", Some(r#""PC" "linux""#));
        assert_round_trip(Rtype::HINFO, r#""" """#, None);
        assert_round_trip(Rtype::HINFO, r#""\255" "x y""#, None);
        // RFC 8482 §4.2.
        assert_round_trip(Rtype::HINFO, r#""RFC8482" """#, None);
        let max = format!("\"{0}\" \"{0}\"", "x".repeat(255));
        assert_round_trip(Rtype::HINFO, &max, None);
    }

    #[test]
    fn rejects() {
        assert_text_rejected(Rtype::HINFO, "a");
        assert_text_rejected(Rtype::HINFO, "a b c");
        assert_text_rejected(Rtype::HINFO, "");
        assert_text_rejected(Rtype::HINFO, &format!("\"{}\" x", "x".repeat(256)));
        assert_wire_rejected(Rtype::HINFO, &[0]);
        assert_wire_rejected(Rtype::HINFO, &[]);
        assert_wire_rejected(Rtype::HINFO, &[0, 2, b'a']);
        assert_wire_rejected(Rtype::HINFO, &[0, 0, 0]);
    }
}
