//! Property tests of names: presentation and wire forms round-trip for arbitrary labels.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use lib_dns::Name;
use lib_dns::wire::{NameKind, WireReader, WireWriter};
use proptest::prelude::*;

/// Arbitrary names: up to 8 labels of 1–63 arbitrary bytes, within 255 bytes in total.
fn arb_name() -> impl Strategy<Value = Name> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 1..=63), 0..8).prop_filter_map(
        "name longer than 255 bytes",
        |labels| {
            let mut wire = Vec::new();
            for l in &labels {
                wire.push(l.len() as u8);
                wire.extend_from_slice(l);
            }
            wire.push(0);
            Name::from_wire(&wire).ok()
        },
    )
}

proptest! {
    #[test]
    fn text_round_trip(name in arb_name()) {
        let text = name.to_string();
        let again = Name::parse(&text).unwrap();
        prop_assert!(again.eq_exact(&name), "{text} read back as {again}");
    }

    #[test]
    fn wire_round_trip(a in arb_name(), b in arb_name()) {
        let mut w = WireWriter::message(65535);
        w.put_owner(&a).unwrap();
        w.put_owner(&b).unwrap();
        w.put_name(&a, NameKind::Compressible).unwrap();
        w.put_name(&b, NameKind::Plain).unwrap();
        let bytes = w.into_bytes();
        let mut r = WireReader::new(&bytes);
        for want in [&a, &b, &a, &b] {
            let got = r.name().unwrap();
            prop_assert_eq!(&got, want);
        }
        prop_assert!(r.is_empty());
    }

    #[test]
    fn lowercase_and_order_agree(a in arb_name(), b in arb_name()) {
        prop_assert_eq!(a == b, a.to_lowercase().eq_exact(&b.to_lowercase()));
        prop_assert_eq!(a.cmp(&b) == std::cmp::Ordering::Equal, a == b);
    }
}
