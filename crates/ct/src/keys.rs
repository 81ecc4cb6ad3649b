//! The log's ECDSA P-256 key (RFC 6962 §2.1.4: SHA-256 with ECDSA over NIST P-256), its
//! log ID (§3.2), and the TLS `DigitallySigned` struct (RFC 5246 §4.7) its signatures
//! travel in. Signing is deterministic (RFC 6979), so the same data always gets the
//! same signature.

use core::fmt;

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
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
        let sig: Signature = self.key.sign(data);
        DigitallySigned {
            hash_algorithm: HASH_SHA256,
            signature_algorithm: SIGNATURE_ECDSA,
            signature: sig.to_der().as_bytes().to_vec(),
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

    #[test]
    fn digitally_signed_round_trip() {
        let d = key().sign(b"x");
        let bytes = d.to_bytes().unwrap();
        assert_eq!(bytes[..2], [4, 3]);
        assert_eq!(DigitallySigned::from_bytes(&bytes).unwrap(), d);
        assert!(DigitallySigned::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    }
}
