//! Zone signing keys: generation, the DNSKEY record of a key, and signing.
//!
//! A [`SigningKey`] holds the private key in two forms: the raw numbers a BIND key file
//! stores ([`crate::bind`] writes and reads them) and a ring key pair that signs. Its
//! `Debug` output never shows private material.

use std::fmt;

use lib_dns::rdata::{Algorithm, Dnskey};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

/// The DNSKEY flags of a zone key (RFC 4034 §2.1.1).
pub const FLAGS_ZSK: u16 = Dnskey::ZONE;
/// The DNSKEY flags of a key-signing key: zone key plus Secure Entry Point (RFC 4034
/// §2.1.1, RFC 3757).
pub const FLAGS_KSK: u16 = Dnskey::ZONE | Dnskey::SEP;

/// The smallest RSA modulus this crate generates or signs with (bits).
pub const MIN_RSA_BITS: usize = 2048;

/// The algorithms this crate signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignAlgorithm {
    /// RSA/SHA-256, algorithm 8 (RFC 5702).
    RsaSha256,
    /// ECDSA P-256 with SHA-256, algorithm 13 (RFC 6605).
    EcdsaP256Sha256,
    /// ECDSA P-384 with SHA-384, algorithm 14 (RFC 6605).
    EcdsaP384Sha384,
    /// Ed25519, algorithm 15 (RFC 8080).
    Ed25519,
    /// ML-DSA-44 (FIPS 204) as PRIVATEOID, algorithm 254 ([`crate::mldsa`]).
    MlDsa44,
}

impl SignAlgorithm {
    /// The DNSSEC algorithm number.
    pub fn number(self) -> Algorithm {
        match self {
            SignAlgorithm::RsaSha256 => Algorithm(8),
            SignAlgorithm::EcdsaP256Sha256 => Algorithm(13),
            SignAlgorithm::EcdsaP384Sha384 => Algorithm(14),
            SignAlgorithm::Ed25519 => Algorithm(15),
            SignAlgorithm::MlDsa44 => crate::mldsa::PRIVATEOID,
        }
    }

    /// The algorithm with this number, if this crate signs with it.
    pub fn from_number(alg: Algorithm) -> Option<SignAlgorithm> {
        match alg.0 {
            8 => Some(SignAlgorithm::RsaSha256),
            13 => Some(SignAlgorithm::EcdsaP256Sha256),
            14 => Some(SignAlgorithm::EcdsaP384Sha384),
            15 => Some(SignAlgorithm::Ed25519),
            254 => Some(SignAlgorithm::MlDsa44),
            _ => None,
        }
    }

    /// The name used on the command line: `rsasha256`, `ecdsap256`, `ecdsap384`,
    /// `ed25519`, `mldsa44` (the BIND mnemonics are accepted too).
    pub fn from_name(name: &str) -> Option<SignAlgorithm> {
        match name.to_ascii_lowercase().as_str() {
            "rsasha256" | "8" => Some(SignAlgorithm::RsaSha256),
            "ecdsap256" | "ecdsap256sha256" | "13" => Some(SignAlgorithm::EcdsaP256Sha256),
            "ecdsap384" | "ecdsap384sha384" | "14" => Some(SignAlgorithm::EcdsaP384Sha384),
            "ed25519" | "15" => Some(SignAlgorithm::Ed25519),
            "mldsa44" | "ml-dsa-44" | "254" => Some(SignAlgorithm::MlDsa44),
            _ => None,
        }
    }

    /// The BIND mnemonic (`RSASHA256`, `ECDSAP256SHA256`, …), as in key files.
    pub fn mnemonic(self) -> &'static str {
        match self {
            SignAlgorithm::RsaSha256 => "RSASHA256",
            SignAlgorithm::EcdsaP256Sha256 => "ECDSAP256SHA256",
            SignAlgorithm::EcdsaP384Sha384 => "ECDSAP384SHA384",
            SignAlgorithm::Ed25519 => "ED25519",
            SignAlgorithm::MlDsa44 => "PRIVATEOID",
        }
    }
}

/// Why a key could not be made, loaded or used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The algorithm is not one this crate signs with.
    UnsupportedAlgorithm(u8),
    /// The key material is inconsistent or malformed (the reason says how).
    Rejected(String),
    /// The system random source failed.
    Random,
    /// Signing failed (the reason says how).
    Sign(String),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::UnsupportedAlgorithm(a) => write!(f, "unsupported DNSSEC algorithm {a}"),
            KeyError::Rejected(why) => write!(f, "key rejected: {why}"),
            KeyError::Random => f.write_str("the system random source failed"),
            KeyError::Sign(why) => write!(f, "signing failed: {why}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// The private numbers of an RSA key, big-endian without leading zeros (the fields of
/// a BIND `Private-key-format: v1.3` file).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivate {
    /// Modulus.
    pub n: Vec<u8>,
    /// Public exponent.
    pub e: Vec<u8>,
    /// Private exponent.
    pub d: Vec<u8>,
    /// First prime.
    pub p: Vec<u8>,
    /// Second prime.
    pub q: Vec<u8>,
    /// d mod (p-1).
    pub dp: Vec<u8>,
    /// d mod (q-1).
    pub dq: Vec<u8>,
    /// q⁻¹ mod p.
    pub qinv: Vec<u8>,
}

/// The private half of a key, as stored in a key file.
#[derive(Clone, PartialEq, Eq)]
pub enum PrivateKey {
    /// An Ed25519 seed (32 bytes, RFC 8032 §5.1.5).
    Ed25519([u8; 32]),
    /// An ECDSA scalar (32 bytes for P-256, 48 for P-384).
    Ecdsa(Vec<u8>),
    /// RSA components.
    Rsa(Box<RsaPrivate>),
    /// An ML-DSA seed (32 bytes, FIPS 204 ML-DSA.KeyGen).
    MlDsa([u8; 32]),
}

enum Pair {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    MlDsa(crate::mldsa::MlDsaKey),
}

/// A key that signs for a zone: algorithm, DNSKEY flags, private key.
pub struct SigningKey {
    algorithm: SignAlgorithm,
    flags: u16,
    private: PrivateKey,
    pair: Pair,
    public: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("flags", &self.flags)
            .field("key_tag", &self.key_tag())
            .finish_non_exhaustive()
    }
}

fn ecdsa_signing(alg: SignAlgorithm) -> Option<&'static signature::EcdsaSigningAlgorithm> {
    match alg {
        SignAlgorithm::EcdsaP256Sha256 => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
        SignAlgorithm::EcdsaP384Sha384 => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
        _ => None,
    }
}

fn scalar_len(alg: SignAlgorithm) -> usize {
    if alg == SignAlgorithm::EcdsaP384Sha384 {
        48
    } else {
        32
    }
}

/// The private scalar inside a PKCS#8 document that ring generated: the OCTET STRING
/// right after `version 1` of the ECPrivateKey (RFC 5915 §3).
fn pkcs8_ec_scalar(doc: &[u8], len: usize) -> Option<Vec<u8>> {
    let marker = [0x02, 0x01, 0x01, 0x04, u8::try_from(len).ok()?];
    let at = doc.windows(marker.len()).position(|w| w == marker)? + marker.len();
    doc.get(at..at + len).map(<[u8]>::to_vec)
}

fn trimmed(bytes: &[u8]) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    bytes.get(zeros..).unwrap_or_default().to_vec()
}

/// The RFC 3110 §2 public key: exponent length (one byte, or zero and two bytes),
/// exponent, modulus.
pub fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + e.len() + n.len());
    match u8::try_from(e.len()) {
        Ok(len) if len > 0 => out.push(len),
        _ => {
            out.push(0);
            out.extend_from_slice(&u16::try_from(e.len()).unwrap_or(u16::MAX).to_be_bytes());
        }
    }
    out.extend_from_slice(e);
    out.extend_from_slice(n);
    out
}

/// Splits an RFC 3110 public key into (exponent, modulus).
pub fn split_rsa_public_key(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = key.split_first()?;
    let (elen, rest) = if first == 0 {
        let &[hi, lo] = rest.get(..2)? else {
            return None;
        };
        (usize::from(u16::from_be_bytes([hi, lo])), rest.get(2..)?)
    } else {
        (usize::from(first), rest)
    };
    let e = rest.get(..elen)?;
    let n = rest.get(elen..)?;
    if e.is_empty() || n.is_empty() {
        return None;
    }
    Some((e, n))
}

impl SigningKey {
    /// A new key from the system random source. `flags` is [`FLAGS_ZSK`] or
    /// [`FLAGS_KSK`]; RSA keys are [`MIN_RSA_BITS`] long.
    pub fn generate(algorithm: SignAlgorithm, flags: u16) -> Result<SigningKey, KeyError> {
        let rng = SystemRandom::new();
        let private = match algorithm {
            SignAlgorithm::Ed25519 => {
                let mut seed = [0u8; 32];
                ring::rand::SecureRandom::fill(&rng, &mut seed).map_err(|_| KeyError::Random)?;
                PrivateKey::Ed25519(seed)
            }
            SignAlgorithm::EcdsaP256Sha256 | SignAlgorithm::EcdsaP384Sha384 => {
                let alg = ecdsa_signing(algorithm)
                    .ok_or(KeyError::UnsupportedAlgorithm(algorithm.number().0))?;
                let doc = EcdsaKeyPair::generate_pkcs8(alg, &rng).map_err(|_| KeyError::Random)?;
                let scalar = pkcs8_ec_scalar(doc.as_ref(), scalar_len(algorithm))
                    .ok_or_else(|| KeyError::Rejected("unexpected PKCS#8 layout".into()))?;
                PrivateKey::Ecdsa(scalar)
            }
            SignAlgorithm::RsaSha256 => PrivateKey::Rsa(Box::new(generate_rsa(MIN_RSA_BITS)?)),
            SignAlgorithm::MlDsa44 => {
                let mut seed = [0u8; 32];
                ring::rand::SecureRandom::fill(&rng, &mut seed).map_err(|_| KeyError::Random)?;
                PrivateKey::MlDsa(seed)
            }
        };
        SigningKey::from_private(algorithm, flags, private)
    }

    /// A key from its private half; the public key is derived and checked against it.
    pub fn from_private(
        algorithm: SignAlgorithm,
        flags: u16,
        private: PrivateKey,
    ) -> Result<SigningKey, KeyError> {
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected(e.to_string());
        let (pair, public) = match (&private, algorithm) {
            (PrivateKey::Ed25519(seed), SignAlgorithm::Ed25519) => {
                let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(rejected)?;
                let public = pair.public_key().as_ref().to_vec();
                (Pair::Ed25519(pair), public)
            }
            (PrivateKey::Ecdsa(scalar), SignAlgorithm::EcdsaP256Sha256)
            | (PrivateKey::Ecdsa(scalar), SignAlgorithm::EcdsaP384Sha384) => {
                let alg = ecdsa_signing(algorithm)
                    .ok_or(KeyError::UnsupportedAlgorithm(algorithm.number().0))?;
                if scalar.len() != scalar_len(algorithm) {
                    return Err(KeyError::Rejected(format!(
                        "ECDSA private key is {} bytes, expected {}",
                        scalar.len(),
                        scalar_len(algorithm)
                    )));
                }
                let public = ecdsa_public_from_scalar(algorithm, scalar)?;
                let rng = SystemRandom::new();
                let pair =
                    EcdsaKeyPair::from_private_key_and_public_key(alg, scalar, &public, &rng)
                        .map_err(rejected)?;
                // DNSKEY holds x || y without the SEC1 0x04 prefix (RFC 6605 §4).
                let public = public.get(1..).unwrap_or_default().to_vec();
                (Pair::Ecdsa(pair), public)
            }
            (PrivateKey::Rsa(k), SignAlgorithm::RsaSha256) => {
                let pair = RsaKeyPair::from_components(&ring::rsa::KeyPairComponents {
                    public_key: ring::rsa::PublicKeyComponents { n: &k.n, e: &k.e },
                    d: &k.d,
                    p: &k.p,
                    q: &k.q,
                    dP: &k.dp,
                    dQ: &k.dq,
                    qInv: &k.qinv,
                })
                .map_err(rejected)?;
                if pair.public().modulus_len() * 8 < MIN_RSA_BITS {
                    return Err(KeyError::Rejected(format!(
                        "RSA modulus shorter than {MIN_RSA_BITS} bits"
                    )));
                }
                (Pair::Rsa(pair), rsa_public_key(&k.n, &k.e))
            }
            (PrivateKey::MlDsa(seed), SignAlgorithm::MlDsa44) => {
                let key = crate::mldsa::MlDsaKey::from_seed(seed);
                let public = key.public_key().to_vec();
                (Pair::MlDsa(key), public)
            }
            _ => {
                return Err(KeyError::Rejected(
                    "private key does not match the algorithm".into(),
                ));
            }
        };
        Ok(SigningKey {
            algorithm,
            flags,
            private,
            pair,
            public,
        })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SignAlgorithm {
        self.algorithm
    }

    /// The DNSKEY flags.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// Whether this is a key-signing key (SEP flag set).
    pub fn is_ksk(&self) -> bool {
        self.flags & Dnskey::SEP != 0
    }

    /// The private half, for writing a key file.
    pub fn private(&self) -> &PrivateKey {
        &self.private
    }

    /// The public key in DNSKEY format (RFC 3110, RFC 6605 §4, RFC 8080 §3).
    pub fn public_key(&self) -> &[u8] {
        &self.public
    }

    /// The DNSKEY record data of this key (protocol 3, RFC 4034 §2.1.2).
    pub fn dnskey(&self) -> Dnskey {
        Dnskey {
            flags: self.flags,
            protocol: 3,
            algorithm: self.algorithm.number(),
            public_key: self.public.clone(),
        }
    }

    /// The key tag (RFC 4034 Appendix B).
    pub fn key_tag(&self) -> u16 {
        self.dnskey().key_tag()
    }

    /// Signs `data`: Ed25519 (RFC 8080 §4), ECDSA as fixed-size r || s (RFC 6605 §4),
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 5702 §3), ML-DSA-44 ([`crate::mldsa`]).
    pub fn sign(&self, data: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.pair {
            Pair::Ed25519(p) => Ok(p.sign(data).as_ref().to_vec()),
            Pair::Ecdsa(p) => p
                .sign(&SystemRandom::new(), data)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| KeyError::Sign("ECDSA".into())),
            Pair::Rsa(p) => {
                let mut sig = vec![0; p.public().modulus_len()];
                p.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    data,
                    &mut sig,
                )
                .map_err(|_| KeyError::Sign("RSA".into()))?;
                Ok(sig)
            }
            Pair::MlDsa(k) => k.sign(data),
        }
    }
}

/// The SEC1 uncompressed public point (0x04 || x || y) of an ECDSA scalar.
fn ecdsa_public_from_scalar(algorithm: SignAlgorithm, scalar: &[u8]) -> Result<Vec<u8>, KeyError> {
    let rejected = |e: p256::elliptic_curve::Error| KeyError::Rejected(format!("ECDSA key: {e}"));
    let point = if algorithm == SignAlgorithm::EcdsaP384Sha384 {
        p384::SecretKey::from_slice(scalar)
            .map_err(rejected)?
            .public_key()
            .to_sec1_bytes()
    } else {
        p256::SecretKey::from_slice(scalar)
            .map_err(rejected)?
            .public_key()
            .to_sec1_bytes()
    };
    Ok(point.to_vec())
}

fn generate_rsa(bits: usize) -> Result<RsaPrivate, KeyError> {
    use rsa::traits::{PrivateKeyParts, PublicKeyParts};
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let key = rsa::RsaPrivateKey::new(&mut rng, bits)
        .map_err(|e| KeyError::Rejected(format!("RSA generation: {e}")))?;
    let primes = key.primes();
    let (Some(p), Some(q)) = (primes.first(), primes.get(1)) else {
        return Err(KeyError::Rejected("RSA key without two primes".into()));
    };
    let (Some(dp), Some(dq), Some(qinv)) = (key.dp(), key.dq(), key.crt_coefficient()) else {
        return Err(KeyError::Rejected("RSA key without CRT values".into()));
    };
    Ok(RsaPrivate {
        n: trimmed(&key.n().as_ref().to_be_bytes()),
        e: trimmed(&key.e().to_be_bytes()),
        d: trimmed(&key.d().to_be_bytes()),
        p: trimmed(&p.as_ref().to_be_bytes()),
        q: trimmed(&q.as_ref().to_be_bytes()),
        dp: trimmed(&dp.to_be_bytes()),
        dq: trimmed(&dq.to_be_bytes()),
        qinv: trimmed(&qinv.to_be_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_keys_round_trip_through_the_scalar() {
        for alg in [
            SignAlgorithm::EcdsaP256Sha256,
            SignAlgorithm::EcdsaP384Sha384,
        ] {
            let k = SigningKey::generate(alg, FLAGS_ZSK).unwrap();
            assert_eq!(k.public_key().len(), 2 * scalar_len(alg));
            let again = SigningKey::from_private(alg, FLAGS_ZSK, k.private().clone()).unwrap();
            assert_eq!(again.public_key(), k.public_key());
            assert_eq!(k.sign(b"x").unwrap().len(), 2 * scalar_len(alg));
        }
    }

    #[test]
    fn mismatched_or_short_material_is_rejected() {
        assert!(matches!(
            SigningKey::from_private(
                SignAlgorithm::Ed25519,
                FLAGS_ZSK,
                PrivateKey::Ecdsa(vec![1; 32])
            ),
            Err(KeyError::Rejected(_))
        ));
        assert!(
            SigningKey::from_private(
                SignAlgorithm::EcdsaP256Sha256,
                FLAGS_ZSK,
                PrivateKey::Ecdsa(vec![1; 31])
            )
            .is_err()
        );
        // The zero scalar is not a valid private key.
        assert!(
            SigningKey::from_private(
                SignAlgorithm::EcdsaP256Sha256,
                FLAGS_ZSK,
                PrivateKey::Ecdsa(vec![0; 32])
            )
            .is_err()
        );
    }

    #[test]
    fn rsa_public_key_format() {
        let k = rsa_public_key(&[0xc0, 0x01], &[1, 0, 1]);
        assert_eq!(k, [3, 1, 0, 1, 0xc0, 0x01]);
        assert_eq!(
            split_rsa_public_key(&k),
            Some((&[1u8, 0, 1][..], &[0xc0u8, 0x01][..]))
        );
        let long_e = vec![1u8; 300];
        let k = rsa_public_key(&[7], &long_e);
        assert_eq!(k.get(..3), Some(&[0u8, 1, 44][..]));
        assert_eq!(split_rsa_public_key(&k), Some((&long_e[..], &[7u8][..])));
        assert_eq!(split_rsa_public_key(&[]), None);
        assert_eq!(split_rsa_public_key(&[5, 1, 2]), None);
        assert_eq!(split_rsa_public_key(&[1, 3]), None);
    }
}
