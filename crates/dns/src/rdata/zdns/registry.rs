//! The small numeric registries the ZDNS record types share: key algorithms, hash
//! algorithms, proof systems, transports, content networks, identity key purposes and
//! governance models (docs/zdns-records.md, "Registries").
//!
//! Each is a one-byte newtype: registered values have a constant and a mnemonic, and any
//! other value is kept and printed as a decimal number, as DNSSEC algorithm numbers are
//! (RFC 4034 Appendix A.1). The presentation form accepts the mnemonic in any case or the
//! number.

use std::fmt;

use crate::text::{Fields, TextError};

/// Declares a one-byte registry.
macro_rules! registry {
    (
        $(#[$doc:meta])*
        $ty:ident, $what:expr;
        $($(#[$cdoc:meta])* $name:ident = $value:expr, $text:expr;)*
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(pub u8);

        impl $ty {
            $($(#[$cdoc])* pub const $name: $ty = $ty($value);)*

            /// The mnemonic of a registered value.
            pub fn mnemonic(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($text),)*
                    _ => None,
                }
            }

            /// Looks up a mnemonic (ASCII case-insensitive) or a decimal number.
            pub fn from_text(text: &[u8]) -> Option<$ty> {
                $(
                    if text.eq_ignore_ascii_case($text.as_bytes()) {
                        return Some($ty($value));
                    }
                )*
                if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                std::str::from_utf8(text).ok()?.parse().ok().map($ty)
            }

            /// Reads the field from presentation text.
            pub(crate) fn parse_field(f: &mut Fields<'_>) -> Result<$ty, TextError> {
                let t = f.word($what)?;
                $ty::from_text(t.text).ok_or_else(|| {
                    t.error(format!(
                        "expected {} (a mnemonic or 0-255), found '{}'",
                        $what,
                        t.lossy()
                    ))
                })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.mnemonic() {
                    Some(m) => f.write_str(m),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

registry! {
    /// Public-key algorithms: signature schemes (with the DNSSEC numbers of RFC 8624 where
    /// DNSSEC has one) and key-agreement schemes.
    Algorithm, "key algorithm";
    /// ECDSA P-256 with SHA-256 (RFC 6605), DNSSEC algorithm 13.
    ECDSAP256SHA256 = 13, "ECDSAP256SHA256";
    /// ECDSA P-384 with SHA-384 (RFC 6605), DNSSEC algorithm 14.
    ECDSAP384SHA384 = 14, "ECDSAP384SHA384";
    /// Ed25519 (RFC 8080), DNSSEC algorithm 15.
    ED25519 = 15, "ED25519";
    /// Ed448 (RFC 8080), DNSSEC algorithm 16.
    ED448 = 16, "ED448";
    /// ML-DSA-44 (FIPS 204, "Dilithium2"). Provisional ZDNS number.
    MLDSA44 = 200, "MLDSA44";
    /// ML-DSA-65 (FIPS 204, "Dilithium3"). Provisional ZDNS number.
    MLDSA65 = 201, "MLDSA65";
    /// ML-DSA-87 (FIPS 204, "Dilithium5"). Provisional ZDNS number.
    MLDSA87 = 202, "MLDSA87";
    /// X25519 key agreement (RFC 7748).
    X25519 = 210, "X25519";
    /// ML-KEM-512 (FIPS 203, "Kyber512").
    MLKEM512 = 211, "MLKEM512";
    /// ML-KEM-768 (FIPS 203, "Kyber768").
    MLKEM768 = 212, "MLKEM768";
    /// ML-KEM-1024 (FIPS 203, "Kyber1024").
    MLKEM1024 = 213, "MLKEM1024";
}

impl Algorithm {
    /// Whether this is a registered key-agreement (KEM) algorithm, which cannot sign.
    pub fn is_key_agreement(self) -> bool {
        matches!(
            self,
            Algorithm::X25519 | Algorithm::MLKEM512 | Algorithm::MLKEM768 | Algorithm::MLKEM1024
        )
    }

    /// Whether this is one of the post-quantum signature algorithms (ML-DSA).
    pub fn is_post_quantum_signature(self) -> bool {
        matches!(
            self,
            Algorithm::MLDSA44 | Algorithm::MLDSA65 | Algorithm::MLDSA87
        )
    }
}

registry! {
    /// Hash algorithms for content digests.
    HashAlgorithm, "hash algorithm";
    /// SHA-256 (FIPS 180-4), 32 bytes.
    SHA256 = 1, "SHA256";
    /// SHA-384 (FIPS 180-4), 48 bytes.
    SHA384 = 2, "SHA384";
    /// SHA-512 (FIPS 180-4), 64 bytes.
    SHA512 = 3, "SHA512";
    /// SHA3-256 (FIPS 202), 32 bytes.
    SHA3_256 = 4, "SHA3-256";
    /// BLAKE3 with its default 32-byte output.
    BLAKE3 = 5, "BLAKE3";
}

impl HashAlgorithm {
    /// The digest length of a registered algorithm; `None` for unknown ones.
    pub fn digest_len(self) -> Option<usize> {
        match self {
            HashAlgorithm::SHA256 | HashAlgorithm::SHA3_256 | HashAlgorithm::BLAKE3 => Some(32),
            HashAlgorithm::SHA384 => Some(48),
            HashAlgorithm::SHA512 => Some(64),
            _ => None,
        }
    }
}

registry! {
    /// Zero-knowledge proof systems; the proof encodings are those of lib-proofs.
    ProofSystem, "proof system";
    /// Groth16 over BN254.
    GROTH16 = 1, "GROTH16";
    /// PLONK over BN254 with KZG commitments.
    PLONK = 2, "PLONK";
    /// Halo2 (IPA over the Pasta curves).
    HALO2 = 3, "HALO2";
    /// A FRI-based STARK.
    STARK = 4, "STARK";
    /// Bulletproofs over Ristretto255.
    BULLETPROOFS = 5, "BULLETPROOFS";
}

registry! {
    /// Transports a mesh endpoint is reached over.
    Transport, "transport";
    /// QUIC (RFC 9000) over UDP.
    QUIC = 1, "QUIC";
    /// Plain UDP datagrams.
    UDP = 2, "UDP";
    /// TCP.
    TCP = 3, "TCP";
}

registry! {
    /// Content networks: where content identifiers are resolved and which DHT a node serves.
    Network, "content network";
    /// The Sovereign Network (ZHTP) DHT.
    ZHTP = 1, "ZHTP";
    /// IPFS (libp2p Kademlia DHT, Bitswap).
    IPFS = 2, "IPFS";
}

registry! {
    /// What an identity key may be used for (the verification relationships of W3C DID
    /// Core §5.3).
    KeyPurpose, "key purpose";
    /// Authenticating as the identity.
    AUTH = 1, "AUTH";
    /// Signing statements (assertions, record signatures) for the identity.
    ASSERT = 2, "ASSERT";
    /// Key agreement: encrypting to the identity.
    AGREE = 3, "AGREE";
    /// Invoking capabilities (authorising actions) of the identity.
    INVOKE = 4, "INVOKE";
    /// Delegating capabilities of the identity to others.
    DELEGATE = 5, "DELEGATE";
}

registry! {
    /// How a DAO counts votes.
    GovernanceModel, "governance model";
    /// One vote per token held.
    TOKEN = 1, "TOKEN";
    /// One vote per member.
    MEMBER = 2, "MEMBER";
    /// Quadratic voting: votes cost the square of their number in tokens.
    QUADRATIC = 3, "QUADRATIC";
    /// A fixed council votes.
    COUNCIL = 4, "COUNCIL";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mnemonics_and_numbers() {
        assert_eq!(Algorithm::from_text(b"mldsa65"), Some(Algorithm::MLDSA65));
        assert_eq!(Algorithm::from_text(b"201"), Some(Algorithm::MLDSA65));
        assert_eq!(Algorithm::from_text(b"99"), Some(Algorithm(99)));
        assert_eq!(Algorithm::from_text(b"256"), None);
        assert_eq!(Algorithm::from_text(b""), None);
        assert_eq!(Algorithm::from_text(b"RSA"), None);
        assert_eq!(Algorithm(99).to_string(), "99");
        assert_eq!(Algorithm::ED25519.to_string(), "ED25519");
        assert_eq!(
            HashAlgorithm::from_text(b"sha3-256"),
            Some(HashAlgorithm::SHA3_256)
        );
        assert_eq!(HashAlgorithm::SHA384.digest_len(), Some(48));
        assert_eq!(HashAlgorithm(77).digest_len(), None);
        assert!(Algorithm::MLKEM768.is_key_agreement());
        assert!(!Algorithm::MLDSA44.is_key_agreement());
        assert!(Algorithm::MLDSA87.is_post_quantum_signature());
    }
}
