//! NSEC3 owner name hashing (RFC 5155 §5) and hashed owner names.

use lib_dns::Name;
use lib_dns::encoding::base32hex_encode;
use lib_dns::name::NameError;
use ring::digest;

/// NSEC3 hash algorithm SHA-1 (RFC 5155 §11), the only one defined.
pub const NSEC3_SHA1: u8 = 1;

/// The NSEC3 hash of `name`: SHA-1 over the lowercase wire name and salt, then
/// `iterations` more times over the previous digest and salt (RFC 5155 §5).
pub fn nsec3_hash(name: &Name, salt: &[u8], iterations: u16) -> Vec<u8> {
    let mut input = name.to_lowercase().as_wire().to_vec();
    input.extend_from_slice(salt);
    let mut out = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    for _ in 0..iterations {
        let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        ctx.update(out.as_ref());
        ctx.update(salt);
        out = ctx.finish();
    }
    out.as_ref().to_vec()
}

/// The owner of the NSEC3 record for a hash: the Base32hex hash as a label under
/// the zone apex (RFC 5155 §3).
pub fn hashed_owner(hash: &[u8], zone: &Name) -> Result<Name, NameError> {
    let mut label = String::with_capacity(32);
    // Writing into a String cannot fail.
    let _ = base32hex_encode(hash, &mut label);
    zone.child(label.to_ascii_lowercase().as_bytes())
}

/// The hash a hashed owner name holds (its first label, Base32hex), if it is one.
pub fn owner_hash(owner: &Name) -> Option<Vec<u8>> {
    let label = owner.labels().next()?;
    let mut out = Vec::new();
    lib_dns::encoding::base32hex_decode(label, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
    #[test]
    fn rfc5155_appendix_a_hashes() {
        let salt = [0xaa, 0xbb, 0xcc, 0xdd];
        let zone = Name::parse("example.").unwrap();
        for (name, hashed) in [
            ("example.", "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"),
            ("a.example.", "35mthgpgcu1qg68fab165klnsnk3dpvl"),
            ("ai.example.", "gjeqe526plbf1g8mklp59enfd789njgi"),
            ("x.w.example.", "b4um86eghhds6nea196smvmlo4ors995"),
        ] {
            let h = nsec3_hash(&Name::parse(name).unwrap(), &salt, 12);
            let owner = hashed_owner(&h, &zone).unwrap();
            assert_eq!(owner.to_string(), format!("{hashed}.example."));
            assert_eq!(owner_hash(&owner), Some(h));
        }
    }
}
