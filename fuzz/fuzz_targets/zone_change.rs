//! Zone changes from untrusted peers: UPDATE messages evaluated against a zone
//! (RFC 2136) and transfer responses read by a secondary (AXFR/IXFR). Nothing may
//! panic, and what is accepted must be consistent: an update's diff applies to the
//! zone it was computed from, and a complete transfer holds the zone's SOA first.
//!
//! The first byte picks the mode (even: UPDATE; odd: a transfer response, the rest
//! being 2-byte-length-prefixed messages, the mode's second bit asking IXFR).
#![no_main]

use std::sync::OnceLock;

use lib_dns::message::Message;
use lib_dns::types::Rtype;
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name};
use libfuzzer_sys::fuzz_target;
use zdns_auth::update::{UpdateOutcome, evaluate};
use zdns_auth::xfr_in::{Transfer, TransferReader};

const ZONE: &str = include_str!("../../crates/auth/tests/data/example.test.zone");

fn zone() -> &'static Zone {
    static ZONE_DATA: OnceLock<Zone> = OnceLock::new();
    ZONE_DATA.get_or_init(|| {
        let origin = Name::parse("example.test.").expect("origin");
        Zone::read(origin, Class::IN, "example.test.zone", ZONE.as_bytes(), &mut NoIncludes).zone
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let z = zone();
    if mode & 1 == 0 {
        let Ok(msg) = Message::parse(rest) else { return };
        if let Ok(UpdateOutcome::Changed(diff)) = evaluate(&msg, z.origin(), Class::IN, z.records()) {
            diff.apply(z.records()).expect("an evaluated update applies to its zone");
        }
        return;
    }
    let serial = (mode & 2 != 0).then_some(2024010101);
    let mut reader = TransferReader::new(0, z.origin().clone(), Class::IN, serial, 10_000);
    let mut input = rest;
    while let [hi, lo, tail @ ..] = input {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (msg, next) = tail.split_at(len);
        input = next;
        let Ok(msg) = Message::parse(msg) else { return };
        match reader.push(&msg) {
            Ok(Some(Transfer::Full(records))) => {
                assert_eq!(records.first().map(|r| r.rtype()), Some(Rtype::SOA));
                return;
            }
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => {}
        }
    }
});
