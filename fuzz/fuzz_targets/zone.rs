//! Zone files: the streaming reader, the zone checks and the canonical writer on arbitrary
//! text. A zone that reads without errors must write canonically and read back to the
//! same records.
//!
//! A few bytes of `$GENERATE 1-99999999 x NS y` make a hundred million records, which is
//! legitimate input but not a bug worth the fuzzer's memory: inputs are read through the
//! streaming reader and dropped past [`MAX_RECORDS`].
#![no_main]

use lib_dns::zone::{NoIncludes, Zone, ZoneReader};
use lib_dns::{Class, Name, Record};
use libfuzzer_sys::fuzz_target;

/// Records read from one input before it is set aside.
const MAX_RECORDS: usize = 20_000;

fuzz_target!(|data: &[u8]| {
    let Ok(origin) = Name::parse("example.") else {
        return;
    };
    let mut records = Vec::new();
    for item in ZoneReader::new(
        origin.clone(),
        Class::IN,
        "fuzz.zone",
        data,
        &mut NoIncludes,
    ) {
        match item {
            Ok(read) if records.len() < MAX_RECORDS => records.push(read.record),
            Ok(_) => return,
            Err(d) if d.is_error() => return,
            Err(_) => {}
        }
    }
    let mut zone = Zone::from_records(origin.clone(), Class::IN, records);
    let _ = zone.check();
    let mut text = Vec::new();
    zone.write_canonical(&mut text)
        .expect("writing to memory cannot fail");
    let again = Zone::read(
        origin,
        Class::IN,
        "canonical",
        text.as_slice(),
        &mut NoIncludes,
    );
    assert!(
        !again.has_errors(),
        "canonical output does not read back: {:?}\n{}",
        again.diagnostics,
        String::from_utf8_lossy(&text)
    );
    // Records compare in canonical form (RFC 4034 §6.2: owner and the names in record
    // data without case), which is also how duplicates are recognised.
    let key = |r: &Record| {
        (
            r.owner.to_lowercase().as_wire().to_vec(),
            r.rtype(),
            r.class,
            r.ttl,
            r.data.to_canonical_wire().expect("read data writes"),
        )
    };
    let mut first: Vec<_> = zone.records().iter().map(key).collect();
    let mut second: Vec<_> = again.zone.records().iter().map(key).collect();
    first.sort();
    first.dedup();
    second.sort();
    assert_eq!(first, second);
});
