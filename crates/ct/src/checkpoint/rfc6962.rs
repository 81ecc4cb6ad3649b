//! The static-ct-api checkpoint signature: an RFC 6962 `TreeHeadSignature` (§3.5) carried
//! as a signed-note signature of type 0x05 (`RFC6962NoteSignature`), so that a checkpoint
//! and a `get-sth` response convert into each other without the private key.

use super::Checkpoint;
use super::note::{NoteError, NoteSignature, NoteVerifier, SignedNote, key_id};
use crate::keys::{DigitallySigned, LogKey, LogPublicKey, SignatureError};
use crate::merkle::Hash;
use crate::tls::Reader;

/// The signed-note signature type of `RFC6962NoteSignature`.
pub const SIGNATURE_TYPE: u8 = 0x05;

/// The data a `TreeHeadSignature` signs (RFC 6962 §3.5): version `v1(0)`, signature
/// type `tree_hash(1)`, timestamp, tree size and root hash.
pub fn tree_head_signature_input(timestamp: u64, size: u64, root: &Hash) -> Vec<u8> {
    let mut out = Vec::with_capacity(50);
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&root.0);
    out
}

/// The key ID of a log's checkpoint signatures: from `SHA-256(origin || 0x0A || 0x05 ||
/// log ID)` (static-ct-api "Checkpoints").
pub fn note_key_id(origin: &str, key: &LogPublicKey) -> u32 {
    key_id(origin, SIGNATURE_TYPE, key.log_id())
}

/// A signed tree head: what `get-sth` returns and what a checkpoint signature carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTreeHead {
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The tree size.
    pub size: u64,
    /// The tree hash.
    pub root: Hash,
    /// The `TreeHeadSignature`.
    pub signature: DigitallySigned,
}

impl SignedTreeHead {
    /// Signs the tree head (deterministically).
    pub fn sign(key: &LogKey, timestamp: u64, size: u64, root: Hash) -> Self {
        SignedTreeHead {
            timestamp,
            size,
            root,
            signature: key.sign(&tree_head_signature_input(timestamp, size, &root)),
        }
    }

    /// Verifies the signature.
    pub fn verify(&self, key: &LogPublicKey) -> Result<(), SignatureError> {
        key.verify(
            &tree_head_signature_input(self.timestamp, self.size, &self.root),
            &self.signature,
        )
    }

    /// The checkpoint note for this tree head, the log's origin being `origin` (it is
    /// the key name, and the checkpoint has no extension lines).
    pub fn to_note(&self, origin: &str, key: &LogPublicKey) -> Result<String, NoteError> {
        let text = Checkpoint {
            origin: origin.to_string(),
            size: self.size,
            root: self.root,
            extensions: Vec::new(),
        }
        .to_text()?;
        let mut signature = self.timestamp.to_be_bytes().to_vec();
        self.signature
            .encode(&mut signature)
            .map_err(|e| NoteError::Malformed(e.to_string()))?;
        let note = SignedNote {
            text,
            signatures: vec![NoteSignature {
                name: origin.to_string(),
                key_id: note_key_id(origin, key),
                signature,
            }],
        };
        Ok(note.to_string())
    }

    /// Reads and verifies the log's signature on a checkpoint note: the note must parse,
    /// its origin be `origin` with no extension lines, and every signature by the log's
    /// key (name `origin`, its key ID) verify; other signatures (witnesses) are ignored.
    pub fn from_note(note: &str, origin: &str, key: &LogPublicKey) -> Result<Self, NoteError> {
        let parsed = SignedNote::parse(note)?;
        let id = note_key_id(origin, key);
        let mut found = None;
        for sig in parsed
            .signatures
            .iter()
            .filter(|s| s.name == origin && s.key_id == id)
        {
            let sth = check_signature(&parsed.text, origin, key, &sig.signature)?;
            found.get_or_insert(sth);
        }
        found.ok_or(NoteError::NoKnownSignature)
    }
}

/// Verifies one `RFC6962NoteSignature` over checkpoint text.
fn check_signature(
    text: &str,
    origin: &str,
    key: &LogPublicKey,
    signature: &[u8],
) -> Result<SignedTreeHead, NoteError> {
    let checkpoint = Checkpoint::parse_text(text)?;
    if checkpoint.origin != origin {
        return Err(NoteError::Malformed(format!(
            "origin {:?} is not the log's {origin:?}",
            checkpoint.origin
        )));
    }
    if !checkpoint.extensions.is_empty() {
        return Err(NoteError::Malformed(
            "an RFC 6962 signed checkpoint has extension lines".into(),
        ));
    }
    let mut r = Reader::new(signature);
    let bad = |e: crate::tls::DecodeError| NoteError::Malformed(e.to_string());
    let timestamp = r.u64("timestamp").map_err(bad)?;
    let signature = DigitallySigned::decode(&mut r).map_err(bad)?;
    r.finish("RFC6962NoteSignature").map_err(bad)?;
    let sth = SignedTreeHead {
        timestamp,
        size: checkpoint.size,
        root: checkpoint.root,
        signature,
    };
    sth.verify(key).map_err(|_| NoteError::BadSignature {
        name: origin.to_string(),
    })?;
    Ok(sth)
}

/// A [`NoteVerifier`] for a CT log's checkpoint signatures, to verify a checkpoint
/// together with other keys (e.g. witnesses) through [`SignedNote::verify`].
#[derive(Debug, Clone)]
pub struct Rfc6962Verifier {
    origin: String,
    key: LogPublicKey,
    key_id: u32,
}

impl Rfc6962Verifier {
    /// The verifier for the log `origin` with public key `key`.
    pub fn new(origin: &str, key: LogPublicKey) -> Self {
        Rfc6962Verifier {
            origin: origin.to_string(),
            key_id: note_key_id(origin, &key),
            key,
        }
    }
}

impl NoteVerifier for Rfc6962Verifier {
    fn name(&self) -> &str {
        &self.origin
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        check_signature(text, &self.origin, &self.key, signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    const ORIGIN: &str = "ct.example.com/2026h1";

    fn key() -> LogKey {
        LogKey::from_scalar(&[0x42; 32]).unwrap()
    }

    #[test]
    fn sign_to_note_and_back() {
        let k = key();
        let sth = SignedTreeHead::sign(&k, 1_700_000_000_000, 12, leaf_hash(b"r"));
        let note = sth.to_note(ORIGIN, k.public()).unwrap();
        assert!(note.starts_with("ct.example.com/2026h1\n12\n"));
        assert!(note.contains("\n\n\u{2014} ct.example.com/2026h1 "));
        assert_eq!(
            SignedTreeHead::from_note(&note, ORIGIN, k.public()).unwrap(),
            sth
        );
        let v = Rfc6962Verifier::new(ORIGIN, k.public().clone());
        let parsed = SignedNote::parse(&note).unwrap();
        assert_eq!(parsed.verify(&[&v]).unwrap(), vec![ORIGIN.to_string()]);
        // Signature bytes: key ID, timestamp, then a DigitallySigned.
        assert_eq!(parsed.signatures[0].key_id, note_key_id(ORIGIN, k.public()));
        assert_eq!(parsed.signatures[0].signature[8..10], [4, 3]);
    }

    #[test]
    fn rejects_tampering_and_strangers() {
        let k = key();
        let sth = SignedTreeHead::sign(&k, 5, 12, leaf_hash(b"r"));
        let note = sth.to_note(ORIGIN, k.public()).unwrap();
        let forged = note.replacen("\n12\n", "\n13\n", 1);
        assert_eq!(
            SignedTreeHead::from_note(&forged, ORIGIN, k.public()),
            Err(NoteError::BadSignature {
                name: ORIGIN.into()
            })
        );
        let other = LogKey::from_scalar(&[0x43; 32]).unwrap();
        assert_eq!(
            SignedTreeHead::from_note(&note, ORIGIN, other.public()),
            Err(NoteError::NoKnownSignature)
        );
        assert_eq!(
            SignedTreeHead::from_note(&note, "other.example", k.public()),
            Err(NoteError::NoKnownSignature)
        );
        // A witness signature beside the log's is ignored.
        let with_witness = format!("{note}\u{2014} witness.example AAAAAQI=\n");
        assert_eq!(
            SignedTreeHead::from_note(&with_witness, ORIGIN, k.public()).unwrap(),
            sth
        );
    }

    #[test]
    fn tree_head_input_layout() {
        let input = tree_head_signature_input(1, 2, &Hash([9; 32]));
        assert_eq!(input.len(), 50);
        assert_eq!(
            input[..18],
            [0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]
        );
    }
}
