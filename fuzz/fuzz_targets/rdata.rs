//! Record data and names: wire and presentation parsers on arbitrary input.
//!
//! The first two bytes pick the record type; the rest is fed to the wire parser and, as
//! text, to the presentation parser. Whatever parses must print and re-parse to the
//! same data.
#![no_main]

use lib_dns::wire::{WireReader, WireWriter};
use lib_dns::{Name, RData, Rtype};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let rtype = Rtype(u16::from_be_bytes(*head));
    if let Ok(parsed) = RData::parse_wire(rtype, &mut WireReader::new(rest)) {
        let mut w = WireWriter::plain();
        if parsed.write_wire(&mut w).is_ok() {
            let again = RData::parse_wire(rtype, &mut WireReader::new(w.as_bytes()))
                .expect("written record data must parse");
            assert_eq!(again, parsed);
        }
    }
    let _ = Name::from_wire(rest);
    if let Ok(text) = std::str::from_utf8(rest) {
        let origin = Name::root();
        if let Ok(parsed) = RData::parse_str(rtype, text, Some(&origin)) {
            let printed = parsed.to_string();
            let again = RData::parse_str(rtype, &printed, Some(&origin))
                .unwrap_or_else(|e| panic!("printed form {printed:?} must parse: {e}"));
            assert_eq!(again, parsed);
        }
        let _ = Name::parse(text);
    }
});
