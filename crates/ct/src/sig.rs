//! Checking that a certificate was signed by its issuer's key, for chain validation:
//! RSA PKCS#1 v1.5 (RFC 8017 §8.2) with MD2, SHA-1, SHA-256, SHA-384 or SHA-512, and
//! ECDSA (RFC 5758 §3.2) on P-256 or P-384 with SHA-1, SHA-256, SHA-384 or SHA-512.
//!
//! Weak hashes (MD2, SHA-1) are verified, not refused: a CT log must accept every chain
//! that reaches one of its roots (RFC 6962 §3.1), and old chains use them.

use core::fmt;

use der::asn1::ObjectIdentifier;
use der::{Decode, Sequence};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use sha2::Digest;

const MD2_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.2");
const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const RSA_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigError {
    /// The signature algorithm is not one this log checks.
    UnsupportedAlgorithm(String),
    /// The issuer's key is malformed, of an unsupported type, or does not fit the
    /// signature algorithm.
    Key(String),
    /// The signature is malformed or does not verify.
    Invalid,
}

impl fmt::Display for SigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigError::UnsupportedAlgorithm(a) => write!(f, "unsupported signature algorithm {a}"),
            SigError::Key(why) => write!(f, "issuer key: {why}"),
            SigError::Invalid => write!(f, "the signature does not verify"),
        }
    }
}

impl std::error::Error for SigError {}

/// An `AlgorithmIdentifier` (RFC 5280 §4.1.1.2), parameters kept raw.
#[derive(Sequence)]
struct AlgorithmIdentifier {
    algorithm: ObjectIdentifier,
    parameters: Option<der::Any>,
}

/// The hash a signature algorithm uses.
#[derive(Debug, Clone, Copy)]
enum HashAlg {
    Md2,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Md2 => md2::Md2::digest(data).to_vec(),
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1v15(self) -> Pkcs1v15Sign {
        match self {
            HashAlg::Md2 => Pkcs1v15Sign::new::<md2::Md2>(),
            HashAlg::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            HashAlg::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            HashAlg::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            HashAlg::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// Verifies `signature` (the BIT STRING bytes) over `signed` with the algorithm of the
/// raw `AlgorithmIdentifier` `algorithm`, by the key of the raw `SubjectPublicKeyInfo`
/// `spki`.
pub fn verify_signature(
    signed: &[u8],
    algorithm: &[u8],
    signature: &[u8],
    spki: &[u8],
) -> Result<(), SigError> {
    let alg = AlgorithmIdentifier::from_der(algorithm)
        .map_err(|e| SigError::UnsupportedAlgorithm(format!("(malformed: {e})")))?;
    let (rsa, hash) = match alg.algorithm {
        MD2_RSA => (true, HashAlg::Md2),
        SHA1_RSA => (true, HashAlg::Sha1),
        SHA256_RSA => (true, HashAlg::Sha256),
        SHA384_RSA => (true, HashAlg::Sha384),
        SHA512_RSA => (true, HashAlg::Sha512),
        ECDSA_SHA1 => (false, HashAlg::Sha1),
        ECDSA_SHA256 => (false, HashAlg::Sha256),
        ECDSA_SHA384 => (false, HashAlg::Sha384),
        ECDSA_SHA512 => (false, HashAlg::Sha512),
        other => return Err(SigError::UnsupportedAlgorithm(other.to_string())),
    };
    let key = AlgorithmIdentifier::from_der(spki_algorithm(spki)?)
        .map_err(|e| SigError::Key(format!("malformed algorithm: {e}")))?;
    if !rsa && key.algorithm == EC_KEY {
        let curve = key
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        if let Some(alg) = ring_ecdsa(curve, hash) {
            // The common modern case, checked by ring (several times faster than the
            // pure-Rust arithmetic below, which handles the rest).
            let point = spki_key_bits(spki)?;
            return ring::signature::UnparsedPublicKey::new(alg, point)
                .verify(signed, signature)
                .map_err(|_| SigError::Invalid);
        }
    }
    if rsa {
        if key.algorithm != RSA_KEY {
            return Err(SigError::Key(format!(
                "an RSA signature, but a {} key",
                key.algorithm
            )));
        }
        if let Some(alg) = ring_rsa(hash)
            && ring::signature::UnparsedPublicKey::new(alg, spki_key_bits(spki)?)
                .verify(signed, signature)
                .is_ok()
        {
            // ring accepted it (several times faster). What ring refuses (a key size
            // outside its range, a short signature, a bad one) gets the final word from
            // the `rsa` crate below.
            return Ok(());
        }
        let key =
            RsaPublicKey::from_public_key_der(spki).map_err(|e| SigError::Key(e.to_string()))?;
        return key
            .verify(hash.pkcs1v15(), &hash.digest(signed), signature)
            .map_err(|_| SigError::Invalid);
    }
    if key.algorithm != EC_KEY {
        return Err(SigError::Key(format!(
            "an ECDSA signature, but a {} key",
            key.algorithm
        )));
    }
    let curve = key
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .ok_or_else(|| SigError::Key("an EC key without a named curve".into()))?;
    let digest = hash.digest(signed);
    match curve {
        P256_CURVE => {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(spki)
                .map_err(|e| SigError::Key(e.to_string()))?;
            let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| SigError::Invalid)
        }
        P384_CURVE => {
            let key = p384::ecdsa::VerifyingKey::from_public_key_der(spki)
                .map_err(|e| SigError::Key(e.to_string()))?;
            let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| SigError::Invalid)?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| SigError::Invalid)
        }
        other => Err(SigError::Key(format!("unsupported curve {other}"))),
    }
}

/// ring's verification algorithm for ECDSA on `curve` with `hash`, where it has one.
fn ring_ecdsa(
    curve: Option<ObjectIdentifier>,
    hash: HashAlg,
) -> Option<&'static ring::signature::EcdsaVerificationAlgorithm> {
    use ring::signature as rs;
    match (curve?, hash) {
        (P256_CURVE, HashAlg::Sha256) => Some(&rs::ECDSA_P256_SHA256_ASN1),
        (P256_CURVE, HashAlg::Sha384) => Some(&rs::ECDSA_P256_SHA384_ASN1),
        (P384_CURVE, HashAlg::Sha256) => Some(&rs::ECDSA_P384_SHA256_ASN1),
        (P384_CURVE, HashAlg::Sha384) => Some(&rs::ECDSA_P384_SHA384_ASN1),
        _ => None,
    }
}

/// ring's verification algorithm for RSA PKCS#1 v1.5 with `hash` (RFC 8017 §8.2.2),
/// where it has one; the key (an `RSAPublicKey`, RFC 8017 §A.1.1) is the SPKI's
/// `subjectPublicKey`.
fn ring_rsa(hash: HashAlg) -> Option<&'static ring::signature::RsaParameters> {
    use ring::signature as rs;
    match hash {
        HashAlg::Md2 => None,
        HashAlg::Sha1 => Some(&rs::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY),
        HashAlg::Sha256 => Some(&rs::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY),
        HashAlg::Sha384 => Some(&rs::RSA_PKCS1_2048_8192_SHA384),
        HashAlg::Sha512 => Some(&rs::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY),
    }
}

/// The `subjectPublicKey` bits of a raw `SubjectPublicKeyInfo`.
fn spki_key_bits(spki: &[u8]) -> Result<&[u8], SigError> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki)
        .map_err(|e| SigError::Key(format!("malformed SubjectPublicKeyInfo: {e}")))?;
    info.subject_public_key
        .as_bytes()
        .ok_or_else(|| SigError::Key("the public key is not whole bytes".into()))
}

/// The raw `AlgorithmIdentifier` of a raw `SubjectPublicKeyInfo`.
fn spki_algorithm(spki: &[u8]) -> Result<&[u8], SigError> {
    use der::{Header, Reader, SliceReader};
    let bad = |e: der::Error| SigError::Key(format!("malformed SubjectPublicKeyInfo: {e}"));
    let mut r = SliceReader::new(spki).map_err(bad)?;
    let header = Header::decode(&mut r).map_err(bad)?;
    let body = r.read_slice(header.length()).map_err(bad)?;
    let mut inner = SliceReader::new(body).map_err(bad)?;
    inner.tlv_bytes().map_err(bad)
}
