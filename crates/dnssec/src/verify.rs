//! Checking one signature: the algorithm's verification over the DNSKEY's public key
//! (RFC 5702 RSA, RFC 6605 ECDSA, RFC 8080 Ed25519), and an RRSIG over an RRset
//! (RFC 4035 §5.3: signer, labels, key, validity period, signature).

use std::fmt;

use lib_dns::Name;
use lib_dns::rdata::{Algorithm, Dnskey, RData, Rrsig};
use lib_dns::types::{Class, Rtype};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};

use crate::canonical::{canonical_rdatas, signed_data};
use crate::key::split_rsa_public_key;

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigError {
    /// The algorithm is not supported here.
    UnsupportedAlgorithm(u8),
    /// The public key is malformed for its algorithm.
    BadKey,
    /// The signature does not verify.
    BadSignature,
    /// The RRSIG's validity period ended before `now` (RFC 4035 §5.3.1).
    Expired,
    /// The RRSIG's validity period begins after `now`.
    NotYetValid,
    /// No DNSKEY with the RRSIG's key tag and algorithm (and the Zone flag, not revoked).
    NoKey,
    /// The RRSIG's fields do not fit the RRset (signer, labels, type, class).
    Mismatch,
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigError::UnsupportedAlgorithm(a) => write!(f, "unsupported algorithm {a}"),
            SigError::BadKey => f.write_str("malformed public key"),
            SigError::BadSignature => f.write_str("signature does not verify"),
            SigError::Expired => f.write_str("signature expired"),
            SigError::NotYetValid => f.write_str("signature not yet valid"),
            SigError::NoKey => f.write_str("no matching DNSKEY"),
            SigError::Mismatch => f.write_str("RRSIG fields do not match the RRset"),
        }
    }
}

impl std::error::Error for SigError {}

/// Whether this crate can verify signatures of `alg`.
pub fn is_supported(alg: Algorithm) -> bool {
    matches!(alg.0, 5 | 7 | 8 | 10 | 13 | 14 | 15 | 254)
}

/// Verifies `sig` over `data` with a DNSKEY public key of algorithm `alg`. RSA keys of
/// 1024 bits and more are accepted for verification (deployed zones still use them).
/// PRIVATEOID (254) is verified when its OID is ML-DSA-44's ([`crate::mldsa`]).
pub fn verify_signature(
    alg: Algorithm,
    public_key: &[u8],
    data: &[u8],
    sig: &[u8],
) -> Result<(), SigError> {
    let ecdsa = |params: &'static signature::EcdsaVerificationAlgorithm, len: usize| {
        if public_key.len() != len {
            return Err(SigError::BadKey);
        }
        let mut point = Vec::with_capacity(len + 1);
        point.push(0x04);
        point.extend_from_slice(public_key);
        UnparsedPublicKey::new(params, point)
            .verify(data, sig)
            .map_err(|_| SigError::BadSignature)
    };
    let rsa = |params: &'static signature::RsaParameters| {
        let (e, n) = split_rsa_public_key(public_key).ok_or(SigError::BadKey)?;
        RsaPublicKeyComponents { n, e }
            .verify(params, data, sig)
            .map_err(|_| SigError::BadSignature)
    };
    match alg.0 {
        5 | 7 => rsa(&signature::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY),
        8 => rsa(&signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        10 => rsa(&signature::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
        13 => ecdsa(&signature::ECDSA_P256_SHA256_FIXED, 64),
        14 => ecdsa(&signature::ECDSA_P384_SHA384_FIXED, 96),
        15 => {
            if public_key.len() != 32 {
                return Err(SigError::BadKey);
            }
            UnparsedPublicKey::new(&signature::ED25519, public_key)
                .verify(data, sig)
                .map_err(|_| SigError::BadSignature)
        }
        254 => crate::mldsa::verify(public_key, data, sig),
        other => Err(SigError::UnsupportedAlgorithm(other)),
    }
}

/// Whether `now` lies in the RRSIG's validity period, in RFC 1982 serial arithmetic
/// (RFC 4034 §3.1.5).
pub fn check_validity(sig: &Rrsig, now: u32) -> Result<(), SigError> {
    if (now.wrapping_sub(sig.inception) as i32) < 0 {
        return Err(SigError::NotYetValid);
    }
    if (sig.expiration.wrapping_sub(now) as i32) < 0 {
        return Err(SigError::Expired);
    }
    Ok(())
}

/// An RRset to check: owner, class, type and record data.
#[derive(Debug, Clone, Copy)]
pub struct RrsetRef<'a> {
    /// The owner name as it appears in the answer (a wildcard expansion included).
    pub owner: &'a Name,
    /// The class.
    pub class: Class,
    /// The type.
    pub rtype: Rtype,
    /// The record data.
    pub rdatas: &'a [RData],
}

/// Checks one RRSIG over an RRset with the zone's DNSKEYs at time `now` (seconds since
/// 1970, low 32 bits), as RFC 4035 §5.3.1–§5.3.3 describe: type covered, signer at or
/// above the owner and equal to `zone`, labels, validity period, a DNSKEY with the tag,
/// algorithm and Zone flag (not revoked), and the signature. Returns the DNSKEY used.
pub fn verify_rrsig<'k>(
    rrset: RrsetRef<'_>,
    sig: &Rrsig,
    zone: &Name,
    dnskeys: &'k [Dnskey],
    now: u32,
) -> Result<&'k Dnskey, SigError> {
    if sig.type_covered != rrset.rtype
        || sig.signer != *zone
        || !rrset.owner.is_subdomain_of(&sig.signer)
        || usize::from(sig.labels) > rrset.owner.label_count()
    {
        return Err(SigError::Mismatch);
    }
    check_validity(sig, now)?;
    if !is_supported(sig.algorithm) {
        return Err(SigError::UnsupportedAlgorithm(sig.algorithm.0));
    }
    let rdatas = canonical_rdatas(rrset.rdatas).map_err(|_| SigError::Mismatch)?;
    let data =
        signed_data(sig, rrset.owner, rrset.class, &rdatas).map_err(|_| SigError::Mismatch)?;
    let mut last = SigError::NoKey;
    for key in dnskeys.iter().filter(|k| {
        k.algorithm == sig.algorithm
            && k.flags & Dnskey::ZONE != 0
            && k.flags & Dnskey::REVOKE == 0
            && k.protocol == 3
            && k.key_tag() == sig.key_tag
    }) {
        match verify_signature(sig.algorithm, &key.public_key, &data, &sig.signature) {
            Ok(()) => return Ok(key),
            Err(e) => last = e,
        }
    }
    Err(last)
}
