//! Log entries as RFC 6962 hashes them: `TimestampedEntry` and `MerkleTreeLeaf`
//! (RFC 6962 §3.4), the precertificate entry (§3.2), and the static-ct-api `CtExtensions`
//! with its `leaf_index` extension.

use crate::merkle::{Hash, leaf_hash};
use crate::tls::{DecodeError, DecodeErrorKind, EncodeError, Reader, put_uint, put_vec};

/// `LogEntryType` (RFC 6962 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogEntryType {
    /// `x509_entry(0)`: a certificate.
    X509,
    /// `precert_entry(1)`: a precertificate.
    Precert,
}

impl LogEntryType {
    /// The wire value.
    pub fn code(self) -> u16 {
        match self {
            LogEntryType::X509 => 0,
            LogEntryType::Precert => 1,
        }
    }

    /// The entry type with wire value `code`.
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0 => Some(LogEntryType::X509),
            1 => Some(LogEntryType::Precert),
            _ => None,
        }
    }
}

/// `PreCert` (RFC 6962 §3.2): what an SCT for a precertificate signs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreCert {
    /// SHA-256 of the issuer's DER `SubjectPublicKeyInfo` (the real issuer, not a
    /// precertificate signing certificate).
    pub issuer_key_hash: [u8; 32],
    /// The DER `TBSCertificate` with the poison extension removed (and the issuer
    /// rewritten when a precertificate signing certificate issued it).
    pub tbs_certificate: Vec<u8>,
}

/// The `signed_entry` of a `TimestampedEntry`: a certificate or a precertificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignedEntry {
    /// `ASN.1Cert`: the DER certificate.
    X509(Vec<u8>),
    /// `PreCert`.
    Precert(PreCert),
}

impl SignedEntry {
    /// The entry type.
    pub fn entry_type(&self) -> LogEntryType {
        match self {
            SignedEntry::X509(_) => LogEntryType::X509,
            SignedEntry::Precert(_) => LogEntryType::Precert,
        }
    }

    /// Appends `entry_type` and the entry (RFC 6962 §3.4), as an SCT's signed data and
    /// a `TimestampedEntry` both carry them.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_uint(out, 2, u64::from(self.entry_type().code()));
        match self {
            SignedEntry::X509(cert) => put_vec(out, 3, 1, cert, "ASN.1Cert"),
            SignedEntry::Precert(p) => {
                out.extend_from_slice(&p.issuer_key_hash);
                put_vec(out, 3, 1, &p.tbs_certificate, "TBSCertificate")
            }
        }
    }

    /// Reads `entry_type` and the entry.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let code = r.u16("entry_type")?;
        match LogEntryType::from_code(code) {
            Some(LogEntryType::X509) => Ok(SignedEntry::X509(r.vec(3, 1, "ASN.1Cert")?.to_vec())),
            Some(LogEntryType::Precert) => Ok(SignedEntry::Precert(PreCert {
                issuer_key_hash: r.array("issuer_key_hash")?,
                tbs_certificate: r.vec(3, 1, "TBSCertificate")?.to_vec(),
            })),
            None => Err(DecodeError {
                field: "entry_type",
                offset: at,
                kind: DecodeErrorKind::Invalid(format!("unknown entry type {code}")),
            }),
        }
    }
}

/// `TimestampedEntry` (RFC 6962 §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TimestampedEntry {
    /// Milliseconds since the Unix epoch, the SCT's timestamp.
    pub timestamp: u64,
    /// The certificate or precertificate.
    pub entry: SignedEntry,
    /// `CtExtensions`: the SCT's extensions (see [`leaf_index_extensions`]).
    pub extensions: Vec<u8>,
}

impl TimestampedEntry {
    /// Appends the TLS encoding.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        put_uint(out, 8, self.timestamp);
        self.entry.encode(out)?;
        put_vec(out, 2, 0, &self.extensions, "CtExtensions")
    }

    /// Reads one entry.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(TimestampedEntry {
            timestamp: r.u64("timestamp")?,
            entry: SignedEntry::decode(r)?,
            extensions: r.vec(2, 0, "CtExtensions")?.to_vec(),
        })
    }

    /// The `MerkleTreeLeaf` (RFC 6962 §3.4): version `v1(0)`, `timestamped_entry(0)`,
    /// then this entry.
    pub fn merkle_tree_leaf(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0, 0];
        self.encode(&mut out)?;
        Ok(out)
    }

    /// The leaf hash of this entry in the log's tree.
    pub fn leaf_hash(&self) -> Result<Hash, EncodeError> {
        Ok(leaf_hash(&self.merkle_tree_leaf()?))
    }
}

/// The largest leaf index the 5-byte `leaf_index` extension can carry.
pub const MAX_LEAF_INDEX: u64 = (1 << 40) - 1;

/// `CtExtensions` holding just the static-ct-api `leaf_index(0)` extension with a
/// 40-bit index, as every SCT of a static-ct-api log carries; `None` past 2^40 - 1.
pub fn leaf_index_extensions(index: u64) -> Option<Vec<u8>> {
    if index > MAX_LEAF_INDEX {
        return None;
    }
    let mut out = vec![0, 0, 5];
    put_uint(&mut out, 5, index);
    Some(out)
}

/// The `leaf_index` in `CtExtensions`, if there is one; an error for a malformed list,
/// a repeated or malformed `leaf_index`.
pub fn parse_leaf_index(extensions: &[u8]) -> Result<Option<u64>, DecodeError> {
    let mut r = Reader::new(extensions);
    let mut found = None;
    while !r.is_empty() {
        let at = r.offset();
        let kind = r.u8("extension_type")?;
        let data = r.vec(2, 0, "extension_data")?;
        if kind == 0 {
            let invalid = |why: &str| DecodeError {
                field: "leaf_index",
                offset: at,
                kind: DecodeErrorKind::Invalid(why.to_string()),
            };
            if found.is_some() {
                return Err(invalid("repeated"));
            }
            if data.len() != 5 {
                return Err(invalid("not 5 bytes"));
            }
            found = Some(Reader::new(data).uint(5, "leaf_index")?);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(entry: SignedEntry) -> TimestampedEntry {
        TimestampedEntry {
            timestamp: 1_700_000_000_123,
            entry,
            extensions: leaf_index_extensions(0x01_0203_0405).unwrap(),
        }
    }

    #[test]
    fn timestamped_entry_round_trip() {
        for e in [
            sample(SignedEntry::X509(vec![0x30, 0x03, 1, 2, 3])),
            sample(SignedEntry::Precert(PreCert {
                issuer_key_hash: [7; 32],
                tbs_certificate: vec![0x30, 0],
            })),
        ] {
            let mut out = Vec::new();
            e.encode(&mut out).unwrap();
            let mut r = Reader::new(&out);
            assert_eq!(TimestampedEntry::decode(&mut r).unwrap(), e);
            r.finish("end").unwrap();
            assert_eq!(e.merkle_tree_leaf().unwrap()[..2], [0, 0]);
        }
    }

    #[test]
    fn x509_entry_layout() {
        let e = TimestampedEntry {
            timestamp: 1,
            entry: SignedEntry::X509(vec![0xaa]),
            extensions: Vec::new(),
        };
        let mut out = Vec::new();
        e.encode(&mut out).unwrap();
        assert_eq!(out, [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0xaa, 0, 0]);
    }

    #[test]
    fn rejects_unknown_entry_type_and_empty_cert() {
        let bad = [0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 0, 1, 0xaa, 0, 0];
        assert!(TimestampedEntry::decode(&mut Reader::new(&bad)).is_err());
        let empty = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
        assert!(TimestampedEntry::decode(&mut Reader::new(&empty)).is_err());
        let e = TimestampedEntry {
            timestamp: 1,
            entry: SignedEntry::X509(Vec::new()),
            extensions: Vec::new(),
        };
        assert!(e.encode(&mut Vec::new()).is_err());
    }

    #[test]
    fn leaf_index_extension() {
        assert_eq!(
            leaf_index_extensions(0x01_0203_0405).unwrap(),
            [0, 0, 5, 1, 2, 3, 4, 5]
        );
        assert_eq!(leaf_index_extensions(MAX_LEAF_INDEX + 1), None);
        assert_eq!(
            parse_leaf_index(&[0, 0, 5, 0, 0, 0, 1, 0]).unwrap(),
            Some(256)
        );
        assert_eq!(parse_leaf_index(&[]).unwrap(), None);
        assert_eq!(parse_leaf_index(&[9, 0, 1, 7]).unwrap(), None);
        assert!(parse_leaf_index(&[0, 0, 4, 0, 0, 1, 0]).is_err());
        assert!(parse_leaf_index(&[0, 0, 5, 0, 0, 0, 1]).is_err());
        let twice = [0, 0, 5, 0, 0, 0, 0, 1, 0, 0, 5, 0, 0, 0, 0, 2];
        assert!(parse_leaf_index(&twice).is_err());
    }
}
