//! OPT record data (RFC 6891 §6.1.2): the list of EDNS options.
//!
//! OPT is a pseudo-record that only lives in messages, where [`crate::message::Edns`]
//! gives it meaning. Its presentation form is the RFC 3597 generic form only: there is
//! no zone file syntax for it.

use std::fmt;

use super::RecordData;
use crate::message::EdnsOption;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// The options of an OPT record, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opt(pub Vec<EdnsOption>);

impl RecordData for Opt {
    const RTYPE: Rtype = Rtype::OPT;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let mut options = Vec::new();
        while !r.is_empty() {
            options.push(EdnsOption::parse_wire(r)?);
        }
        Ok(Opt(options))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.0.iter().try_for_each(|o| o.write_wire(w))
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Err(f.error(
            "OPT is a pseudo-record without a presentation format; \
             use the RFC 3597 generic form '\\# <length> <hex>'",
        ))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = WireWriter::plain();
        self.write_wire(&mut w).map_err(|_| fmt::Error)?;
        let data = w.as_bytes();
        write!(f, "\\# {}", data.len())?;
        if !data.is_empty() {
            f.write_str(" ")?;
            crate::encoding::hex_encode(data, f)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_round_trip, assert_text_rejected, assert_wire_rejected};
    use crate::types::Rtype;

    #[test]
    fn generic_form_only() {
        assert_round_trip(Rtype::OPT, r"\# 0", None);
        // NSID "ab", then an unknown option 65001 with no data.
        assert_round_trip(Rtype::OPT, r"\# 10 000300026162FDE90000", None);
        assert!(assert_text_rejected(Rtype::OPT, "NSID").contains("generic form"));
    }

    #[test]
    fn bad_options_rejected() {
        // Option length runs past the data.
        assert_wire_rejected(Rtype::OPT, &[0, 3, 0, 5, b'a']);
        // Half an option header.
        assert_wire_rejected(Rtype::OPT, &[0, 3, 0]);
        // COOKIE of 9 bytes.
        assert_wire_rejected(Rtype::OPT, &[0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
}
