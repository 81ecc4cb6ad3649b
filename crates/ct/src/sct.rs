//! Signed certificate timestamps (RFC 6962 §3.2): the TLS encoding, the data they sign,
//! signing with the log key and verifying; the static-ct-api `leaf_index` extension
//! (an SCT is only issued once its entry is sequenced); and SCT lists (§3.3).

use core::fmt;

use crate::entry::{SignedEntry, TimestampedEntry, leaf_index_extensions, parse_leaf_index};
use crate::keys::{DigitallySigned, LogKey, LogPublicKey, SignatureError};
use crate::tls::{DecodeError, DecodeErrorKind, EncodeError, Reader, put_vec};

/// A `SignedCertificateTimestamp`, version v1 (the only version RFC 6962 defines).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sct {
    /// The log ID: SHA-256 of the log's DER public key.
    pub log_id: [u8; 32],
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// `CtExtensions` (for a static-ct-api log, the `leaf_index` extension).
    pub extensions: Vec<u8>,
    /// The signature over [`Sct::signed_data`].
    pub signature: DigitallySigned,
}

/// Why an SCT was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SctError {
    /// The SCT is from another log.
    WrongLog,
    /// The entry or extensions could not be encoded.
    Encode(EncodeError),
    /// The signature did not verify.
    Signature(SignatureError),
}

impl fmt::Display for SctError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SctError::WrongLog => write!(f, "the SCT's log ID is not this log's"),
            SctError::Encode(e) => write!(f, "encoding the signed data: {e}"),
            SctError::Signature(e) => write!(f, "SCT signature: {e}"),
        }
    }
}

impl std::error::Error for SctError {}

/// The data an SCT signs (RFC 6962 §3.2): version `v1(0)`, signature type
/// `certificate_timestamp(0)`, timestamp, entry type, entry, extensions. It is byte for
/// byte the `MerkleTreeLeaf` of the same `TimestampedEntry`.
pub fn sct_signed_data(
    timestamp: u64,
    entry: &SignedEntry,
    extensions: &[u8],
) -> Result<Vec<u8>, EncodeError> {
    let mut out = vec![0, 0];
    out.extend_from_slice(&timestamp.to_be_bytes());
    entry.encode(&mut out)?;
    put_vec(&mut out, 2, 0, extensions, "CtExtensions")?;
    Ok(out)
}

impl Sct {
    /// Signs an SCT for `entry` at `timestamp` with `extensions`.
    pub fn sign(
        key: &LogKey,
        timestamp: u64,
        entry: &SignedEntry,
        extensions: Vec<u8>,
    ) -> Result<Sct, EncodeError> {
        let data = sct_signed_data(timestamp, entry, &extensions)?;
        Ok(Sct {
            log_id: *key.public().log_id(),
            timestamp,
            extensions,
            signature: key.sign(&data),
        })
    }

    /// Issues the static-ct-api SCT for `entry`, sequenced at `leaf_index`: the SCT with
    /// the `leaf_index` extension, and the `TimestampedEntry` the log stores (same
    /// timestamp and extensions, so its leaf hash is what the SCT promises). Fails for
    /// an index past 2^40 - 1.
    pub fn issue(
        key: &LogKey,
        timestamp: u64,
        entry: SignedEntry,
        leaf_index: u64,
    ) -> Result<(Sct, TimestampedEntry), EncodeError> {
        let extensions = leaf_index_extensions(leaf_index).ok_or(EncodeError::Length {
            field: "leaf_index",
            len: 6,
            min: 0,
            max: 5,
        })?;
        let sct = Sct::sign(key, timestamp, &entry, extensions.clone())?;
        Ok((
            sct,
            TimestampedEntry {
                timestamp,
                entry,
                extensions,
            },
        ))
    }

    /// The data this SCT signs for `entry`.
    pub fn signed_data(&self, entry: &SignedEntry) -> Result<Vec<u8>, EncodeError> {
        sct_signed_data(self.timestamp, entry, &self.extensions)
    }

    /// Verifies the SCT for `entry` against the log key.
    pub fn verify(&self, key: &LogPublicKey, entry: &SignedEntry) -> Result<(), SctError> {
        if &self.log_id != key.log_id() {
            return Err(SctError::WrongLog);
        }
        let data = self.signed_data(entry).map_err(SctError::Encode)?;
        key.verify(&data, &self.signature)
            .map_err(SctError::Signature)
    }

    /// The static-ct-api `leaf_index`, if the SCT has one.
    pub fn leaf_index(&self) -> Result<Option<u64>, DecodeError> {
        parse_leaf_index(&self.extensions)
    }

    /// Appends the TLS encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.push(0);
        out.extend_from_slice(&self.log_id);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        put_vec(out, 2, 0, &self.extensions, "CtExtensions")?;
        self.signature.encode(out)
    }

    /// The TLS encoding.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }

    /// Reads one SCT.
    pub fn decode(r: &mut Reader<'_>) -> Result<Sct, DecodeError> {
        let at = r.offset();
        let version = r.u8("sct_version")?;
        if version != 0 {
            return Err(DecodeError {
                field: "sct_version",
                offset: at,
                kind: DecodeErrorKind::Invalid(format!("version {version} is not v1")),
            });
        }
        Ok(Sct {
            log_id: r.array("log_id")?,
            timestamp: r.u64("timestamp")?,
            extensions: r.vec(2, 0, "CtExtensions")?.to_vec(),
            signature: DigitallySigned::decode(r)?,
        })
    }

    /// Decodes exactly one SCT from `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Sct, DecodeError> {
        let mut r = Reader::new(bytes);
        let sct = Sct::decode(&mut r)?;
        r.finish("SignedCertificateTimestamp")?;
        Ok(sct)
    }
}

/// Decodes a `SignedCertificateTimestampList` (RFC 6962 §3.3): a non-empty list of
/// non-empty serialized SCTs.
pub fn decode_sct_list(bytes: &[u8]) -> Result<Vec<Sct>, DecodeError> {
    let mut outer = Reader::new(bytes);
    let list = outer.vec(2, 1, "sct_list")?;
    outer.finish("SignedCertificateTimestampList")?;
    let mut r = Reader::new(list);
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(Sct::from_bytes(r.vec(2, 1, "SerializedSCT")?)?);
    }
    Ok(out)
}

/// Encodes a `SignedCertificateTimestampList`.
pub fn encode_sct_list(scts: &[Sct]) -> Result<Vec<u8>, EncodeError> {
    let mut list = Vec::new();
    for sct in scts {
        put_vec(&mut list, 2, 1, &sct.to_bytes()?, "SerializedSCT")?;
    }
    let mut out = Vec::new();
    put_vec(&mut out, 2, 1, &list, "sct_list")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::PreCert;

    fn key() -> LogKey {
        LogKey::from_scalar(&[0x24; 32]).unwrap()
    }

    #[test]
    fn issue_verify_round_trip() {
        let k = key();
        let entry = SignedEntry::X509(vec![0x30, 0x03, 1, 2, 3]);
        let (sct, te) = Sct::issue(&k, 1_700_000_000_000, entry.clone(), 1234).unwrap();
        sct.verify(k.public(), &entry).unwrap();
        assert_eq!(sct.leaf_index().unwrap(), Some(1234));
        assert_eq!(sct.extensions.len(), 8);
        // The signed data is the Merkle tree leaf of the stored entry.
        assert_eq!(
            sct.signed_data(&entry).unwrap(),
            te.merkle_tree_leaf().unwrap()
        );
        let bytes = sct.to_bytes().unwrap();
        assert_eq!(Sct::from_bytes(&bytes).unwrap(), sct);
        // Deterministic: the same submission gets the same SCT.
        assert_eq!(
            Sct::issue(&k, 1_700_000_000_000, entry.clone(), 1234)
                .unwrap()
                .0,
            sct
        );
        let other = SignedEntry::X509(vec![0x30, 0x03, 1, 2, 4]);
        assert!(matches!(
            sct.verify(k.public(), &other),
            Err(SctError::Signature(SignatureError::Invalid))
        ));
        let stranger = LogKey::from_scalar(&[0x25; 32]).unwrap();
        assert_eq!(
            sct.verify(stranger.public(), &entry),
            Err(SctError::WrongLog)
        );
        assert!(Sct::issue(&k, 1, entry, 1 << 40).is_err());
    }

    #[test]
    fn precert_sct() {
        let k = key();
        let entry = SignedEntry::Precert(PreCert {
            issuer_key_hash: [1; 32],
            tbs_certificate: vec![0x30, 0],
        });
        let sct = Sct::sign(&k, 7, &entry, Vec::new()).unwrap();
        sct.verify(k.public(), &entry).unwrap();
        assert_eq!(sct.leaf_index().unwrap(), None);
    }

    #[test]
    fn rejects_malformed() {
        let sct = Sct::issue(&key(), 1, SignedEntry::X509(vec![1]), 0)
            .unwrap()
            .0;
        let bytes = sct.to_bytes().unwrap();
        let mut v2 = bytes.clone();
        v2[0] = 1;
        assert!(Sct::from_bytes(&v2).is_err());
        assert!(Sct::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(Sct::from_bytes(&long).is_err());
        let list = encode_sct_list(&[sct.clone(), sct.clone()]).unwrap();
        assert_eq!(decode_sct_list(&list).unwrap(), vec![sct.clone(), sct]);
        assert!(decode_sct_list(&[0, 0]).is_err());
        assert!(decode_sct_list(&[0, 2, 0, 0]).is_err());
    }
}
