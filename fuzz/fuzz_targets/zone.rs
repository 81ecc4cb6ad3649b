//! Zone files: the streaming reader, the zone checks and the canonical writer on arbitrary
//! text. A zone that reads without errors must write canonically and read back to the
//! same records.
#![no_main]

use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(origin) = Name::parse("example.") else {
        return;
    };
    let mut loaded = Zone::read(origin.clone(), Class::IN, "fuzz.zone", data, &mut NoIncludes);
    if loaded.has_errors() {
        return;
    }
    let _ = loaded.zone.check();
    let mut text = Vec::new();
    loaded
        .zone
        .write_canonical(&mut text)
        .expect("writing to memory cannot fail");
    let again = Zone::read(origin, Class::IN, "canonical", text.as_slice(), &mut NoIncludes);
    assert!(
        !again.has_errors(),
        "canonical output does not read back: {:?}\n{}",
        again.diagnostics,
        String::from_utf8_lossy(&text)
    );
    let mut first: Vec<String> = loaded.zone.records().iter().map(|r| r.to_string()).collect();
    let mut second: Vec<String> = again.zone.records().iter().map(|r| r.to_string()).collect();
    first.sort();
    first.dedup();
    second.sort();
    assert_eq!(first, second);
});
