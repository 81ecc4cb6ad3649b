//! A fast, non-cryptographic hash of lowercase wire names for the zone tables.
//!
//! Zone contents are chosen by the operator, not by clients, so flooding one bucket
//! needs control of the zone; the multiply-rotate mix (the one rustc's FxHash uses) is
//! enough and costs a few nanoseconds per name.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// The hash of a name's wire form (already lowercase).
pub(crate) fn hash_name(wire: &[u8]) -> u64 {
    let mut h = wire.len() as u64;
    let mut chunks = wire.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    // The multiply only carries differences upwards; the table index takes the low
    // bits, so finish with MurmurHash3's fmix64 avalanche.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A [`Hasher`] over [`hash_name`], for the small maps of the answering path (zone
/// apexes, delegation nodes), where SipHash would cost more than the lookup.
#[derive(Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0 = self.0.rotate_left(5) ^ hash_name(bytes);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`NameHasher`]s.
pub(crate) type NameBuild = BuildHasherDefault<NameHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differs_by_length_and_content() {
        assert_ne!(hash_name(b"\x01a\x00"), hash_name(b"\x01b\x00"));
        assert_ne!(hash_name(b"\x00"), hash_name(b"\x00\x00"));
        assert_eq!(
            hash_name(b"\x03www\x07example\x00"),
            hash_name(b"\x03www\x07example\x00")
        );
    }
}
