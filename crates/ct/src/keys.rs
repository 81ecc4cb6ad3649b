//! The log's ECDSA P-256 key (RFC 6962 §2.1.4: SHA-256 with ECDSA over NIST P-256), its
//! log ID (§3.2), and the TLS `DigitallySigned` struct (RFC 5246 §4.7) its signatures
//! travel in. Signing is deterministic (RFC 6979), so the same data always gets the
//! same signature: byte for byte what `p256`'s `SigningKey` produces, computed with the
//! faster fixed-base multiplication of [`base_mul`].

mod base_mul;

use core::fmt;

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::bigint::U256;
use p256::elliptic_curve::ops::{Invert, Reduce};
use p256::elliptic_curve::{Curve, NonZeroScalar, PrimeField};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use p256::{FieldBytes, NistP256, Scalar};
use sha2::{Digest, Sha256};

use crate::tls::{DecodeError, EncodeError, Reader, put_vec};

/// `HashAlgorithm.sha256` (RFC 5246 §7.4.1.4.1).
pub const HASH_SHA256: u8 = 4;

/// `SignatureAlgorithm.ecdsa` (RFC 5246 §7.4.1.4.1).
pub const SIGNATURE_ECDSA: u8 = 3;

/// A TLS `DigitallySigned` value: algorithms and the (DER ECDSA) signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DigitallySigned {
    /// `HashAlgorithm` (4 = SHA-256).
    pub hash_algorithm: u8,
    /// `SignatureAlgorithm` (3 = ECDSA).
    pub signature_algorithm: u8,
    /// The signature: for ECDSA, a DER `Ecdsa-Sig-Value`.
    pub signature: Vec<u8>,
}

impl DigitallySigned {
    /// Appends the TLS encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(self.hash_algorithm);
        out.push(self.signature_algorithm);
        put_vec(out, 2, 0, &self.signature, "signature")
    }

    /// Reads one value.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DigitallySigned {
            hash_algorithm: r.u8("hash_algorithm")?,
            signature_algorithm: r.u8("signature_algorithm")?,
            signature: r.vec(2, 0, "signature")?.to_vec(),
        })
    }

    /// The TLS encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Decodes exactly one value from `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let out = Self::decode(&mut r)?;
        r.finish("DigitallySigned")?;
        Ok(out)
    }
}

/// Why a key could not be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bad key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The `DigitallySigned` names algorithms other than SHA-256 with ECDSA.
    Algorithm {
        /// The hash algorithm named.
        hash: u8,
        /// The signature algorithm named.
        signature: u8,
    },
    /// The signature is not a DER ECDSA signature.
    Encoding,
    /// The signature does not match the data and key.
    Invalid,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Algorithm { hash, signature } => write!(
                f,
                "hash algorithm {hash} with signature algorithm {signature} is not SHA-256 with ECDSA"
            ),
            SignatureError::Encoding => write!(f, "the signature is not DER ECDSA"),
            SignatureError::Invalid => write!(f, "the signature does not verify"),
        }
    }
}

impl std::error::Error for SignatureError {}

/// A log's public key: the P-256 key, its DER `SubjectPublicKeyInfo` and the log ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPublicKey {
    key: VerifyingKey,
    spki: Vec<u8>,
    log_id: [u8; 32],
}

impl LogPublicKey {
    /// Imports a DER `SubjectPublicKeyInfo` holding a P-256 key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_der(der).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self::with_spki(key, der.to_vec()))
    }

    fn from_key(key: VerifyingKey) -> Result<Self, KeyError> {
        let spki = key
            .to_public_key_der()
            .map_err(|e| KeyError(e.to_string()))?
            .as_bytes()
            .to_vec();
        Ok(Self::with_spki(key, spki))
    }

    fn with_spki(key: VerifyingKey, spki: Vec<u8>) -> Self {
        let log_id = Sha256::digest(&spki).into();
        LogPublicKey { key, spki, log_id }
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// The log ID: SHA-256 of the DER `SubjectPublicKeyInfo` (RFC 6962 §3.2).
    pub fn log_id(&self) -> &[u8; 32] {
        &self.log_id
    }

    /// Verifies a SHA-256/ECDSA `DigitallySigned` over `data`.
    pub fn verify(&self, data: &[u8], signed: &DigitallySigned) -> Result<(), SignatureError> {
        if signed.hash_algorithm != HASH_SHA256 || signed.signature_algorithm != SIGNATURE_ECDSA {
            return Err(SignatureError::Algorithm {
                hash: signed.hash_algorithm,
                signature: signed.signature_algorithm,
            });
        }
        let sig = Signature::from_der(&signed.signature).map_err(|_| SignatureError::Encoding)?;
        self.key
            .verify(data, &sig)
            .map_err(|_| SignatureError::Invalid)
    }
}

/// A log's private key, with its public half.
#[derive(Clone)]
pub struct LogKey {
    key: SigningKey,
    public: LogPublicKey,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// Imports a DER SEC1 `ECPrivateKey` (the `EC PRIVATE KEY` PEM label).
    pub fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let secret = p256::SecretKey::from_sec1_der(der).map_err(|e| KeyError(e.to_string()))?;
        Self::from_signing(SigningKey::from(secret))
    }

    /// Imports a DER PKCS #8 `PrivateKeyInfo` (the `PRIVATE KEY` PEM label).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_signing(SigningKey::from_pkcs8_der(der).map_err(|e| KeyError(e.to_string()))?)
    }

    /// A key from its 32-byte big-endian scalar, e.g. fresh random bytes when generating
    /// a log key (this crate does not read a random source itself).
    pub fn from_scalar(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(&(*bytes).into()).map_err(|e| KeyError(e.to_string()))?;
        Self::from_signing(key)
    }

    fn from_signing(key: SigningKey) -> Result<Self, KeyError> {
        let public = LogPublicKey::from_key(*key.verifying_key())?;
        Ok(LogKey { key, public })
    }

    /// The private key as PKCS#8 DER, for storing it.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        use p256::pkcs8::EncodePrivateKey;
        self.key
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|e| KeyError(e.to_string()))
    }

    /// The public key.
    pub fn public(&self) -> &LogPublicKey {
        &self.public
    }

    /// Signs `data` with SHA-256/ECDSA, deterministically (RFC 6979).
    pub fn sign(&self, data: &[u8]) -> DigitallySigned {
        let sig = self.sign_ecdsa(data);
        DigitallySigned {
            hash_algorithm: HASH_SHA256,
            signature_algorithm: SIGNATURE_ECDSA,
            signature: sig.to_der().as_bytes().to_vec(),
        }
    }

    /// ECDSA (FIPS 186-5 §6.4.1) over SHA-256 of `data`, with the nonce of RFC 6979 §3.2
    /// (HMAC-DRBG with SHA-256, no extra data), as `p256`'s `SigningKey::sign` computes
    /// it: `r = x(k·G) mod n`, `s = k⁻¹(z + r·d) mod n`.
    fn sign_ecdsa(&self, data: &[u8]) -> Signature {
        let z: [u8; 32] = Sha256::digest(data).into();
        let d = self.key.as_nonzero_scalar();
        let order: &U256 = &NistP256::ORDER;
        let mut nonces = rfc6979::KGenerator::<Sha256, U256>::new(&d.to_repr(), &z, &[], order);
        let z = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(&z));
        loop {
            let mut k = FieldBytes::default();
            nonces.fill_next_k(&mut k);
            // The generator only yields 0 < k < n; the checks are RFC 6979 §3.4's.
            let Some(k) = NonZeroScalar::<NistP256>::from_repr(k).into_option() else {
                continue;
            };
            let x = base_mul::base_mul_x(&k);
            let r = <Scalar as Reduce<U256>>::reduce(&U256::from_be_slice(&x));
            let s = *k.invert() * (z + r * d.as_ref());
            // `from_scalars` refuses r = 0 or s = 0: then the next k is tried.
            if let Ok(sig) = Signature::from_scalars(r, s) {
                return sig;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LogKey {
        LogKey::from_scalar(&[0x11; 32]).unwrap()
    }

    #[test]
    fn sign_verify_deterministic() {
        let k = key();
        let a = k.sign(b"data");
        assert_eq!(a, k.sign(b"data"));
        k.public().verify(b"data", &a).unwrap();
        assert_eq!(k.public().verify(b"datb", &a), Err(SignatureError::Invalid));
        let mut wrong_alg = a.clone();
        wrong_alg.hash_algorithm = 2;
        assert!(matches!(
            k.public().verify(b"data", &wrong_alg),
            Err(SignatureError::Algorithm { .. })
        ));
        let mut garbage = a.clone();
        garbage.signature = vec![1, 2, 3];
        assert_eq!(
            k.public().verify(b"data", &garbage),
            Err(SignatureError::Encoding)
        );
    }

    #[test]
    fn spki_round_trip_and_log_id() {
        let k = key();
        let p = LogPublicKey::from_spki_der(k.public().spki_der()).unwrap();
        assert_eq!(&p, k.public());
        let id: [u8; 32] = Sha256::digest(p.spki_der()).into();
        assert_eq!(p.log_id(), &id);
        assert!(LogPublicKey::from_spki_der(&[0x30, 0]).is_err());
        assert!(LogKey::from_scalar(&[0; 32]).is_err());
    }

    /// The RFC 6979 §A.2.5 vector: P-256, SHA-256, message "sample".
    #[test]
    fn rfc6979_vector() {
        let k = LogKey::from_scalar(&hex32(
            "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
        ))
        .unwrap();
        let sig = k.sign_ecdsa(b"sample");
        let (r, s) = sig.split_bytes();
        assert_eq!(
            r.as_slice(),
            hex32("efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716")
        );
        assert_eq!(
            s.as_slice(),
            hex32("f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8")
        );
    }

    fn hex32(h: &str) -> [u8; 32] {
        let mut out = [0; 32];
        for (o, pair) in out.iter_mut().zip(h.as_bytes().chunks(2)) {
            *o = u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap();
        }
        out
    }

    /// Oracle: byte-identical to `p256`'s RFC 6979 signer for many keys and messages
    /// (so the same nonce), and accepted by ring's and `p256`'s verifiers.
    #[test]
    fn identical_to_p256_and_verified_by_ring() {
        use p256::ecdsa::signature::Signer;
        let mut state = Sha256::digest(b"seed");
        for i in 0..200u32 {
            state = Sha256::digest(state);
            let scalar: [u8; 32] = state.into();
            let Ok(k) = LogKey::from_scalar(&scalar) else {
                continue;
            };
            let data: Vec<u8> = (0..i * 7).map(|j| (j ^ i) as u8).collect();
            let ours = k.sign(&data);
            let theirs: Signature = k.key.sign(&data);
            assert_eq!(ours.signature, theirs.to_der().as_bytes(), "message {i}");
            k.public().verify(&data, &ours).unwrap();
            let point = &k.public().spki_der()[k.public().spki_der().len() - 65..];
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_ASN1,
                point,
            )
            .verify(&data, &ours.signature)
            .unwrap();
        }
    }

    /// Extreme keys: d = 1 (the public key is G) and d = n - 1.
    #[test]
    fn extreme_keys() {
        use p256::ecdsa::signature::Signer;
        let one = {
            let mut b = [0; 32];
            b[31] = 1;
            b
        };
        let n_minus_1 = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550");
        for scalar in [one, n_minus_1] {
            let k = LogKey::from_scalar(&scalar).unwrap();
            for msg in [&b""[..], b"a", &[0xff; 1000]] {
                let theirs: Signature = k.key.sign(msg);
                assert_eq!(k.sign(msg).signature, theirs.to_der().as_bytes());
            }
        }
    }

    #[test]
    fn digitally_signed_round_trip() {
        let d = key().sign(b"x");
        let bytes = d.to_bytes().unwrap();
        assert_eq!(bytes[..2], [4, 3]);
        assert_eq!(DigitallySigned::from_bytes(&bytes).unwrap(), d);
        assert!(DigitallySigned::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}
