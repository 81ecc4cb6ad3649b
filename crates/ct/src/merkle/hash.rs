//! The Merkle tree hash function of RFC 6962 §2.1 (SHA-256 with domain separation).

use core::fmt;

use sha2::{Digest, Sha256};

/// Length in bytes of a tree hash (SHA-256).
pub const HASH_LEN: usize = 32;

/// A SHA-256 Merkle tree hash: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// The bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; HASH_LEN]> for Hash {
    fn from(bytes: [u8; HASH_LEN]) -> Self {
        Hash(bytes)
    }
}

/// A byte string that is not 32 bytes long was offered as a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLengthError {
    /// The length that was offered.
    pub len: usize,
}

impl fmt::Display for HashLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a hash is {HASH_LEN} bytes, got {}", self.len)
    }
}

impl std::error::Error for HashLengthError {}

impl TryFrom<&[u8]> for Hash {
    type Error = HashLengthError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; HASH_LEN]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| HashLengthError { len: bytes.len() })
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

impl fmt::Display for Hash {
    /// Lower-case hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The root of the empty tree: `MTH({}) = SHA-256()` (RFC 6962 §2.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// The hash of a leaf: `SHA-256(0x00 || data)` (RFC 6962 §2.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// The hash of an interior node: `SHA-256(0x01 || left || right)` (RFC 6962 §2.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(
            empty_root().to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn leaf_and_node_are_domain_separated() {
        // RFC 6962 reference tree: the leaf hash of the empty input.
        assert_eq!(
            leaf_hash(b"").to_string(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let l = leaf_hash(b"");
        assert_ne!(node_hash(&l, &l), leaf_hash(&[l.0, l.0].concat()));
    }

    #[test]
    fn try_from_checks_length() {
        assert_eq!(
            Hash::try_from(&[0u8; 31][..]),
            Err(HashLengthError { len: 31 })
        );
        assert_eq!(Hash::try_from(&[7u8; 32][..]), Ok(Hash([7; 32])));
    }
}
