//! Ed25519 cosignatures (C2SP tlog-cosignature, `cosignature/v1`): the cosigner's key,
//! the timestamped signed message, and a [`NoteVerifier`] for cosignature lines; and
//! Ed25519 note signatures of logs (C2SP signed-note, type 0x01), with verifier keys
//! (`vkey`s) for both.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::checkpoint::note::{NoteSignature, NoteVerifier, key_id, valid_key_name};
use crate::checkpoint::rfc6962::{Rfc6962Verifier, SIGNATURE_TYPE as RFC6962_TYPE};
use crate::keys::LogPublicKey;

/// The signature type of an Ed25519 cosignature (tlog-cosignature "Format").
pub const COSIGNATURE_TYPE: u8 = 0x04;
/// The signature type of a plain Ed25519 note signature (signed-note).
pub const ED25519_TYPE: u8 = 0x01;
/// The length of an Ed25519 `timestamped_signature`: u64 timestamp and 64 bytes.
pub const COSIGNATURE_LEN: usize = 8 + 64;

/// The message an Ed25519 cosignature signs (tlog-cosignature "Ed25519 signed message"):
/// the header line, the timestamp line, and the whole checkpoint note text.
pub fn cosigned_message(text: &str, timestamp: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {timestamp}\n").into_bytes();
    m.extend_from_slice(text.as_bytes());
    m
}

/// Why a key could not be loaded or parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VkeyError(pub String);

impl core::fmt::Display for VkeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "verifier key: {}", self.0)
    }
}

impl std::error::Error for VkeyError {}

/// A cosigner (witness) signing key: a name and an Ed25519 key pair.
pub struct CosignerKey {
    name: String,
    pair: Ed25519KeyPair,
    key_id: u32,
}

impl core::fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CosignerKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CosignerKey {
    /// The key named `name` with the Ed25519 private key `seed` (RFC 8032 §5.1.5).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, VkeyError> {
        if !valid_key_name(name) {
            return Err(VkeyError(format!("bad cosigner name {name:?}")));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| VkeyError("bad Ed25519 seed".into()))?;
        let key_id = key_id(name, COSIGNATURE_TYPE, pair.public_key().as_ref());
        Ok(CosignerKey {
            name: name.to_string(),
            pair,
            key_id,
        })
    }

    /// The cosigner name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier for this key's cosignatures.
    pub fn verifier(&self) -> CosignatureVerifier {
        let mut public = [0; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        CosignatureVerifier {
            name: self.name.clone(),
            public,
            key_id: self.key_id,
        }
    }

    /// Cosigns the checkpoint note `text` at `timestamp` (seconds since the Unix epoch).
    pub fn cosign(&self, text: &str, timestamp: u64) -> NoteSignature {
        let sig = self.pair.sign(&cosigned_message(text, timestamp));
        let mut signature = timestamp.to_be_bytes().to_vec();
        signature.extend_from_slice(sig.as_ref());
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature,
        }
    }
}

/// Verifies one cosigner's `cosignature/v1` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    public: [u8; 32],
    key_id: u32,
}

impl CosignatureVerifier {
    /// The verifier of cosigner `name` with Ed25519 public key `public`.
    pub fn new(name: &str, public: [u8; 32]) -> Result<Self, VkeyError> {
        if !valid_key_name(name) {
            return Err(VkeyError(format!("bad cosigner name {name:?}")));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            key_id: key_id(name, COSIGNATURE_TYPE, &public),
            public,
        })
    }

    /// Parses a cosigner vkey: `<name>+<key ID hex>+<base64(0x04 || public key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Self, VkeyError> {
        let (name, id, key) = split_vkey(vkey)?;
        let Some((&COSIGNATURE_TYPE, public)) = key.split_first() else {
            return Err(VkeyError(format!("{name}: not an Ed25519 cosigner key")));
        };
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| VkeyError(format!("{name}: an Ed25519 key is 32 bytes")))?;
        let v = CosignatureVerifier::new(name, public)?;
        if v.key_id != id {
            return Err(VkeyError(format!(
                "{name}: the key ID does not match the key"
            )));
        }
        Ok(v)
    }

    /// The vkey encoding of this verifier.
    pub fn vkey(&self) -> String {
        let mut key = vec![COSIGNATURE_TYPE];
        key.extend_from_slice(&self.public);
        format!("{}+{:08x}+{}", self.name, self.key_id, STANDARD.encode(key))
    }

    /// The timestamp of a cosignature, if `signature` has the right length.
    pub fn timestamp(signature: &[u8]) -> Option<u64> {
        let (ts, _) = signature.split_first_chunk::<8>()?;
        (signature.len() == COSIGNATURE_LEN).then(|| u64::from_be_bytes(*ts))
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        let Some(timestamp) = Self::timestamp(signature) else {
            return false;
        };
        // tlog-cosignature: the timestamp must not exceed 2^63 - 1.
        if timestamp > i64::MAX as u64 {
            return false;
        }
        let sig = signature.get(8..).unwrap_or(&[]);
        UnparsedPublicKey::new(&ED25519, &self.public)
            .verify(&cosigned_message(text, timestamp), sig)
            .is_ok()
    }
}

/// Verifies a log's plain Ed25519 note signatures (signed-note type 0x01).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: String,
    public: [u8; 32],
    key_id: u32,
}

impl Ed25519Verifier {
    /// The verifier of key `name` with Ed25519 public key `public`.
    pub fn new(name: &str, public: [u8; 32]) -> Self {
        Ed25519Verifier {
            name: name.to_string(),
            key_id: key_id(name, ED25519_TYPE, &public),
            public,
        }
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public)
            .verify(text.as_bytes(), signature)
            .is_ok()
    }
}

/// A log verifier key, as a witness is configured with.
pub type LogVerifier = Box<dyn NoteVerifier + Send + Sync>;

/// Parses a log's vkey: type 0x01 (Ed25519, 32-byte key) or 0x05 (static-ct-api
/// `RFC6962NoteSignature`, the DER `SubjectPublicKeyInfo` of the log's P-256 key).
pub fn log_verifier_from_vkey(vkey: &str) -> Result<LogVerifier, VkeyError> {
    let (name, id, key) = split_vkey(vkey)?;
    let verifier: LogVerifier = match key.split_first() {
        Some((&ED25519_TYPE, public)) => {
            let public: [u8; 32] = public
                .try_into()
                .map_err(|_| VkeyError(format!("{name}: an Ed25519 key is 32 bytes")))?;
            Box::new(Ed25519Verifier::new(name, public))
        }
        Some((&RFC6962_TYPE, spki)) => {
            let key = LogPublicKey::from_spki_der(spki)
                .map_err(|e| VkeyError(format!("{name}: {e:?}")))?;
            Box::new(Rfc6962Verifier::new(name, key))
        }
        _ => return Err(VkeyError(format!("{name}: unsupported signature type"))),
    };
    if verifier.key_id() != id {
        return Err(VkeyError(format!(
            "{name}: the key ID does not match the key"
        )));
    }
    Ok(verifier)
}

/// The vkey of a CT log's checkpoint key (type 0x05, the key's DER SPKI).
pub fn rfc6962_vkey(origin: &str, key: &LogPublicKey) -> String {
    let mut material = vec![RFC6962_TYPE];
    material.extend_from_slice(key.spki_der());
    format!(
        "{origin}+{:08x}+{}",
        crate::checkpoint::rfc6962::note_key_id(origin, key),
        STANDARD.encode(material)
    )
}

fn split_vkey(vkey: &str) -> Result<(&str, u32, Vec<u8>), VkeyError> {
    let mut parts = vkey.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(VkeyError(format!("{vkey:?} is not name+id+key")));
    };
    if !valid_key_name(name) {
        return Err(VkeyError(format!("bad key name {name:?}")));
    }
    if id.len() != 8 {
        return Err(VkeyError(format!("{name}: the key ID is not 8 hex digits")));
    }
    let id = u32::from_str_radix(id, 16)
        .map_err(|_| VkeyError(format!("{name}: the key ID is not hex")))?;
    let key = STANDARD
        .decode(key)
        .map_err(|_| VkeyError(format!("{name}: the key is not base64")))?;
    Ok((name, id, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::note::SignedNote;

    const TEXT: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_signed_message_is_the_spec_example() {
        assert_eq!(
            cosigned_message(TEXT, 1679315147),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn cosignatures_verify_and_tampering_is_caught() {
        let key = CosignerKey::from_seed("witness.example/w1", &[7; 32]).unwrap();
        let v = key.verifier();
        let sig = key.cosign(TEXT, 1_700_000_000);
        assert_eq!(sig.signature.len(), COSIGNATURE_LEN);
        assert_eq!(
            CosignatureVerifier::timestamp(&sig.signature),
            Some(1_700_000_000)
        );
        assert!(v.verify(TEXT, &sig.signature));
        assert!(!v.verify("example.com/behind-the-sofa\n1\nAA==\n", &sig.signature));
        let mut bad = sig.signature.clone();
        bad[3] ^= 1; // another timestamp
        assert!(!v.verify(TEXT, &bad));
        assert!(!v.verify(TEXT, &sig.signature[..71]));
        // Through the note format, with the vkey round trip.
        let parsed = CosignatureVerifier::from_vkey(&v.vkey()).unwrap();
        assert_eq!(parsed, v);
        let note = SignedNote {
            text: TEXT.into(),
            signatures: vec![sig],
        };
        let back = SignedNote::parse(&note.to_string()).unwrap();
        assert_eq!(back.verify(&[&parsed]).unwrap(), vec!["witness.example/w1"]);
    }

    #[test]
    fn bad_vkeys_are_refused() {
        let v = CosignerKey::from_seed("w", &[1; 32]).unwrap().verifier();
        let good = v.vkey();
        for bad in [
            "",
            "w",
            "w+1234abcd",
            "w+zzzzzzzz+AA==",
            "w+1234+AA==",
            "w+1234abcd+!!",
            &good.replace("+", "+0"),
        ] {
            assert!(CosignatureVerifier::from_vkey(bad).is_err(), "{bad}");
            assert!(log_verifier_from_vkey(bad).is_err(), "{bad}");
        }
        // A cosigner key is not a log key, and a wrong key ID is caught.
        assert!(log_verifier_from_vkey(&good).is_err());
        let (head, _) = good.rsplit_once('+').unwrap();
        let other = CosignerKey::from_seed("w", &[2; 32])
            .unwrap()
            .verifier()
            .vkey();
        let (_, key) = other.rsplit_once('+').unwrap();
        assert!(CosignatureVerifier::from_vkey(&format!("{head}+{key}")).is_err());
    }

    #[test]
    fn log_vkeys_of_both_types_verify_their_signatures() {
        let log = crate::keys::LogKey::from_scalar(&[9; 32]).unwrap();
        let sth = crate::checkpoint::rfc6962::SignedTreeHead::sign(
            &log,
            1,
            3,
            crate::merkle::leaf_hash(b"x"),
        );
        let note = sth.to_note("log.example", log.public()).unwrap();
        let v = log_verifier_from_vkey(&rfc6962_vkey("log.example", log.public())).unwrap();
        let parsed = SignedNote::parse(&note).unwrap();
        assert_eq!(parsed.verify(&[v.as_ref()]).unwrap(), vec!["log.example"]);

        let pair = Ed25519KeyPair::from_seed_unchecked(&[4; 32]).unwrap();
        let public: [u8; 32] = pair.public_key().as_ref().try_into().unwrap();
        let ed = Ed25519Verifier::new("ed.example", public);
        let mut material = vec![ED25519_TYPE];
        material.extend_from_slice(&public);
        let vkey = format!(
            "ed.example+{:08x}+{}",
            ed.key_id(),
            STANDARD.encode(material)
        );
        let v = log_verifier_from_vkey(&vkey).unwrap();
        let sig = pair.sign(TEXT.as_bytes());
        assert!(v.verify(TEXT, sig.as_ref()));
        assert!(!v.verify("other\n", sig.as_ref()));
    }
}
