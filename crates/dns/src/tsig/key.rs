//! Shared secret keys (RFC 8945 §3) and the keyring a verifier looks them up in.

use std::fmt;

use super::Algorithm;
use crate::name::Name;

/// Why a key could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is empty.
    EmptySecret,
    /// The MAC length is outside what RFC 8945 §5.2.2.1 allows for the algorithm.
    BadMacLength {
        /// The algorithm.
        algorithm: Algorithm,
        /// The length asked for.
        len: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::EmptySecret => f.write_str("the key secret is empty"),
            KeyError::BadMacLength { algorithm, len } => write!(
                f,
                "a {len}-byte MAC is not allowed for {algorithm}: it must be {} to {} bytes",
                algorithm.min_mac_len(),
                algorithm.output_len()
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// A TSIG key: its name, algorithm and shared secret, and the MAC length it signs with
/// and accepts at minimum (the full hash output unless truncation was configured).
#[derive(Clone, PartialEq, Eq)]
pub struct TsigKey {
    name: Name,
    algorithm: Algorithm,
    secret: Vec<u8>,
    mac_len: usize,
}

impl TsigKey {
    /// A key with full-length MACs.
    pub fn new(name: Name, algorithm: Algorithm, secret: Vec<u8>) -> Result<TsigKey, KeyError> {
        if secret.is_empty() {
            return Err(KeyError::EmptySecret);
        }
        Ok(TsigKey {
            name,
            algorithm,
            secret,
            mac_len: algorithm.output_len(),
        })
    }

    /// The same key, signing with MACs truncated to `len` bytes and accepting MACs of at
    /// least that length (RFC 8945 §5.2.2.1: at least 10 bytes and half the hash).
    pub fn with_mac_len(mut self, len: usize) -> Result<TsigKey, KeyError> {
        if len < self.algorithm.min_mac_len() || len > self.algorithm.output_len() {
            return Err(KeyError::BadMacLength {
                algorithm: self.algorithm,
                len,
            });
        }
        self.mac_len = len;
        Ok(self)
    }

    /// The key name, which is the TSIG record's owner.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The shared secret.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The MAC length this key signs with, and the shortest it accepts.
    pub fn mac_len(&self) -> usize {
        self.mac_len
    }
}

impl fmt::Debug for TsigKey {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("mac_len", &self.mac_len)
            .finish_non_exhaustive()
    }
}

/// The keys a verifier knows, looked up by name and algorithm (RFC 8945 §5.2.1).
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: Vec<TsigKey>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Adds a key, replacing one with the same name and algorithm.
    pub fn insert(&mut self, key: TsigKey) {
        self.keys
            .retain(|k| !(k.name == key.name && k.algorithm == key.algorithm));
        self.keys.push(key);
    }

    /// The key with this name (case-insensitive) and algorithm.
    pub fn get(&self, name: &Name, algorithm: Algorithm) -> Option<&TsigKey> {
        self.keys
            .iter()
            .find(|k| k.name == *name && k.algorithm == algorithm)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<TsigKey> for Keyring {
    fn from_iter<I: IntoIterator<Item = TsigKey>>(iter: I) -> Keyring {
        let mut ring = Keyring::new();
        for key in iter {
            ring.insert(key);
        }
        ring
    }
}
