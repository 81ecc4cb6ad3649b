//! DS records for a DNSKEY (RFC 4034 §5.1.4; SHA-256 RFC 4509, SHA-384 RFC 6605 §2).

use lib_dns::Name;
use lib_dns::rdata::{Ds, RecordData};
use lib_dns::wire::{WireError, WireWriter};
use ring::digest;

/// DS digest type SHA-1 (RFC 4034 §5.1.3), read for validation only.
pub const DIGEST_SHA1: u8 = 1;
/// DS digest type SHA-256 (RFC 4509 §2).
pub const DIGEST_SHA256: u8 = 2;
/// DS digest type SHA-384 (RFC 6605 §2).
pub const DIGEST_SHA384: u8 = 4;

/// The digest of `owner | DNSKEY RDATA` for a digest type, or `None` if the type is
/// not supported.
pub fn key_digest(
    owner: &Name,
    key: &lib_dns::rdata::Dnskey,
    digest_type: u8,
) -> Result<Option<Vec<u8>>, WireError> {
    let alg = match digest_type {
        DIGEST_SHA1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        DIGEST_SHA256 => &digest::SHA256,
        DIGEST_SHA384 => &digest::SHA384,
        _ => return Ok(None),
    };
    let mut w = WireWriter::canonical();
    w.put_owner(owner)?;
    key.write_wire(&mut w)?;
    Ok(Some(digest::digest(alg, w.as_bytes()).as_ref().to_vec()))
}

/// The DS record data for `key` at `owner` with digest type SHA-256 or SHA-384.
pub fn ds(owner: &Name, key: &lib_dns::rdata::Dnskey, digest_type: u8) -> Result<Ds, WireError> {
    let digest = key_digest(owner, key, digest_type)?.ok_or(WireError::BadRdata {
        at: 0,
        reason: "unsupported DS digest type",
    })?;
    Ok(Ds {
        key_tag: key.key_tag(),
        algorithm: key.algorithm,
        digest_type,
        digest,
    })
}

/// Whether `ds` matches `key` at `owner` (tag, algorithm and digest; RFC 4035 §5.2).
pub fn ds_matches(owner: &Name, key: &lib_dns::rdata::Dnskey, ds: &Ds) -> bool {
    ds.key_tag == key.key_tag()
        && ds.algorithm == key.algorithm
        && matches!(key_digest(owner, key, ds.digest_type), Ok(Some(d)) if d == ds.digest)
}
