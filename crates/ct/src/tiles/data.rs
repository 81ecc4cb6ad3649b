//! static-ct-api data tiles: the `TileLeaf` entries whose leaf hashes make up the
//! matching level-0 hash tile.

use crate::entry::{SignedEntry, TimestampedEntry};
use sha2::{Digest, Sha256};

use crate::merkle::{HASH_LEN, Hash};
use crate::tls::{DecodeError, DecodeErrorKind, EncodeError, Reader, put_vec};

/// One log entry as a data tile stores it (static-ct-api "Log entries").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TileLeaf {
    /// The `TimestampedEntry` that the leaf hash covers.
    pub entry: TimestampedEntry,
    /// For a precertificate entry, the precertificate as submitted (with its poison
    /// extension); `None` for a certificate entry.
    pub pre_certificate: Option<Vec<u8>>,
    /// SHA-256 fingerprints of the DER issuers of the submitted chain, in chain order.
    pub chain: Vec<[u8; 32]>,
}

impl TileLeaf {
    /// Appends the TLS encoding; fails when `pre_certificate` does not match the entry
    /// type or a field is too long.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.entry.encode(out)?;
        self.encode_rest(out)
    }

    /// Appends what follows the `TimestampedEntry`: the precertificate and the chain.
    fn encode_rest(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match (&self.entry.entry, &self.pre_certificate) {
            (SignedEntry::X509(_), None) => {}
            (SignedEntry::Precert(_), Some(pre)) => put_vec(out, 3, 1, pre, "pre_certificate")?,
            (SignedEntry::X509(_), Some(_)) => {
                return Err(EncodeError::Inconsistent(
                    "a certificate entry has no pre_certificate",
                ));
            }
            (SignedEntry::Precert(_), None) => {
                return Err(EncodeError::Inconsistent(
                    "a precertificate entry needs its pre_certificate",
                ));
            }
        }
        let fingerprints: Vec<u8> = self.chain.iter().flatten().copied().collect();
        put_vec(out, 2, 0, &fingerprints, "certificate_chain")
    }

    /// Reads one entry.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let entry = TimestampedEntry::decode(r)?;
        let pre_certificate = match entry.entry {
            SignedEntry::X509(_) => None,
            SignedEntry::Precert(_) => Some(r.vec(3, 1, "pre_certificate")?.to_vec()),
        };
        let at = r.offset();
        let chain = r.vec(2, 0, "certificate_chain")?;
        if !chain.len().is_multiple_of(32) {
            return Err(DecodeError {
                field: "certificate_chain",
                offset: at,
                kind: DecodeErrorKind::Invalid(format!(
                    "{} bytes is not a whole number of fingerprints",
                    chain.len()
                )),
            });
        }
        let chain = chain
            .chunks_exact(32)
            .filter_map(|c| <[u8; 32]>::try_from(c).ok())
            .collect();
        Ok(TileLeaf {
            entry,
            pre_certificate,
            chain,
        })
    }

    /// Appends the TLS encoding, like [`TileLeaf::encode`], and returns the leaf hash,
    /// computed from the `TimestampedEntry` bytes just written (it is their
    /// `MerkleTreeLeaf`, RFC 6962 §3.4) rather than by encoding the entry again. On an
    /// error, `out` is left as it was.
    pub fn encode_hashed(&self, out: &mut Vec<u8>) -> Result<Hash, EncodeError> {
        let start = out.len();
        let hash = self.entry.encode(out).and_then(|()| {
            let entry = out.get(start..).unwrap_or_default();
            let hash = merkle_leaf_hash(entry);
            self.encode_rest(out).map(|()| hash)
        });
        if hash.is_err() {
            out.truncate(start);
        }
        hash
    }

    /// The leaf hash of this entry.
    pub fn leaf_hash(&self) -> Result<Hash, EncodeError> {
        self.entry.leaf_hash()
    }
}

/// The leaf hash (RFC 6962 §2.1: SHA-256 of `0x00` and the leaf) of the
/// `MerkleTreeLeaf` holding the encoded `TimestampedEntry` `entry`: version `v1(0)` and
/// `timestamped_entry(0)` (RFC 6962 §3.4) come before it.
fn merkle_leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00, 0x00, 0x00]);
    h.update(entry);
    Hash(h.finalize().into())
}

/// The bytes of a data tile holding `leaves`.
pub fn encode_data_tile(leaves: &[TileLeaf]) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    for leaf in leaves {
        leaf.encode(&mut out)?;
    }
    Ok(out)
}

/// The entries of a data tile, which must hold exactly `width` of them.
pub fn decode_data_tile(bytes: &[u8], width: u16) -> Result<Vec<TileLeaf>, DecodeError> {
    let mut r = Reader::new(bytes);
    let mut out = Vec::with_capacity(usize::from(width));
    for _ in 0..width {
        out.push(TileLeaf::decode(&mut r)?);
    }
    r.finish("data tile")?;
    Ok(out)
}

/// Checks that a data tile's entries hash to a level-0 hash tile: each entry's leaf
/// hash must be the hash at its slot (for monitors and recovery).
pub fn check_data_tile(data: &[u8], hashes: &[u8], width: u16) -> Result<bool, DecodeError> {
    let leaves = decode_data_tile(data, width)?;
    let mut r = Reader::new(hashes);
    for leaf in &leaves {
        let want: [u8; HASH_LEN] = r.array("leaf hash")?;
        match leaf.leaf_hash() {
            Ok(h) if h.0 == want => {}
            _ => return Ok(false),
        }
    }
    r.finish("hash tile")?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{PreCert, leaf_index_extensions};

    fn leaves() -> Vec<TileLeaf> {
        vec![
            TileLeaf {
                entry: TimestampedEntry {
                    timestamp: 1,
                    entry: SignedEntry::X509(vec![0x30, 0]),
                    extensions: leaf_index_extensions(0).unwrap(),
                },
                pre_certificate: None,
                chain: vec![[1; 32], [2; 32]],
            },
            TileLeaf {
                entry: TimestampedEntry {
                    timestamp: 2,
                    entry: SignedEntry::Precert(PreCert {
                        issuer_key_hash: [3; 32],
                        tbs_certificate: vec![0x30, 1, 0],
                    }),
                    extensions: leaf_index_extensions(1).unwrap(),
                },
                pre_certificate: Some(vec![0x30, 2, 0, 0]),
                chain: vec![],
            },
        ]
    }

    #[test]
    fn data_tile_round_trip() {
        let tile = encode_data_tile(&leaves()).unwrap();
        assert_eq!(decode_data_tile(&tile, 2).unwrap(), leaves());
        assert!(decode_data_tile(&tile, 1).is_err());
        assert!(decode_data_tile(&tile, 3).is_err());
        assert!(decode_data_tile(&tile[..tile.len() - 1], 2).is_err());
    }

    #[test]
    fn x509_leaf_layout() {
        let mut out = Vec::new();
        leaves()[0].encode(&mut out).unwrap();
        let mut te = Vec::new();
        leaves()[0].entry.encode(&mut te).unwrap();
        assert_eq!(out[..te.len()], te[..]);
        assert_eq!(out[te.len()..te.len() + 2], [0, 64]);
        assert_eq!(out.len(), te.len() + 2 + 64);
    }

    #[test]
    fn encode_hashed_is_encode_and_the_leaf_hash() {
        for leaf in leaves() {
            let mut plain = vec![9];
            leaf.encode(&mut plain).unwrap();
            let mut hashed = vec![9];
            assert_eq!(
                leaf.encode_hashed(&mut hashed).unwrap(),
                leaf.leaf_hash().unwrap()
            );
            assert_eq!(hashed, plain);
        }
        // An inconsistent leaf leaves the buffer as it was.
        let mut bad = leaves().remove(1);
        bad.pre_certificate = None;
        let mut out = vec![9];
        assert!(bad.encode_hashed(&mut out).is_err());
        assert_eq!(out, [9]);
    }

    #[test]
    fn rejects_inconsistent_and_ragged() {
        let mut bad = leaves();
        bad[0].pre_certificate = Some(vec![1]);
        assert!(encode_data_tile(&bad).is_err());
        bad = leaves();
        bad[1].pre_certificate = None;
        assert!(encode_data_tile(&bad).is_err());
        let mut out = Vec::new();
        leaves()[0].entry.encode(&mut out).unwrap();
        out.extend_from_slice(&[0, 31]);
        out.extend_from_slice(&[0; 31]);
        assert!(decode_data_tile(&out, 1).is_err());
    }
}
