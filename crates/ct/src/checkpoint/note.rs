//! C2SP signed notes: a text followed by a blank line and `— <name> <base64>` signature
//! lines, where the base64 holds a 4-byte big-endian key ID and the signature.

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// At most this many signature lines are accepted in one note (the spec asks for at
/// least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that start a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteError {
    /// The note (or text) is not in the signed-note format; says why.
    Malformed(String),
    /// No signature from a known key was found.
    NoKnownSignature,
    /// A signature from a known key did not verify.
    BadSignature {
        /// The key name.
        name: String,
    },
}

impl fmt::Display for NoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoteError::Malformed(why) => write!(f, "malformed note: {why}"),
            NoteError::NoKnownSignature => write!(f, "no signature from a known key"),
            NoteError::BadSignature { name } => write!(f, "signature by {name} does not verify"),
        }
    }
}

impl std::error::Error for NoteError {}

fn malformed(why: impl Into<String>) -> NoteError {
    NoteError::Malformed(why.into())
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key ID.
    pub key_id: u32,
    /// The signature bytes (after the key ID).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, `— <name> <base64(key ID || signature)>` and a newline.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(bytes))
    }
}

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The note text, ending in a newline.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<NoteSignature>,
}

/// The recommended key ID: the first four bytes of
/// `SHA-256(name || 0x0A || signature type || public key)`, big-endian.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a, signature_type]);
    h.update(public_key);
    let digest: [u8; 32] = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    u32::from_be_bytes([a, b, c, d])
}

/// Whether `name` is a valid key name: non-empty, no Unicode spaces, no `+`.
pub fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Checks note text: non-empty, ending in a newline, no control characters but newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(malformed("the text must end with a newline"));
    }
    if let Some(c) = text.chars().find(|&c| c < ' ' && c != '\n') {
        return Err(malformed(format!(
            "control character U+{:04X} in the text",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Something that can verify note signatures of one key.
pub trait NoteVerifier {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Whether `signature` is a valid signature of this key over `text`.
    fn verify(&self, text: &str, signature: &[u8]) -> bool;
}

impl SignedNote {
    /// Parses a note strictly.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if let Some(c) = note.chars().find(|&c| c < ' ' && c != '\n') {
            return Err(malformed(format!(
                "control character U+{:04X}",
                u32::from(c)
            )));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| malformed("no blank line before the signatures"))?;
        let (text, block) = note.split_at(split + 1);
        let block = block.get(1..).unwrap_or("");
        check_text(text)?;
        if block.is_empty() {
            return Err(malformed("no signatures"));
        }
        let Some(block) = block.strip_suffix('\n') else {
            return Err(malformed(
                "the last signature line does not end with a newline",
            ));
        };
        let mut signatures = Vec::new();
        for line in block.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(malformed(format!("more than {MAX_SIGNATURES} signatures")));
            }
            signatures.push(parse_signature_line(line)?);
        }
        Ok(SignedNote {
            text: text.to_string(),
            signatures,
        })
    }

    /// Verifies the note against `verifiers` (C2SP signed-note "Signatures"): signatures
    /// from unknown keys (name and ID not both matching) are ignored; every signature from
    /// a known key must verify; at least one must. Returns the names of the keys that
    /// signed, in signature order.
    pub fn verify(&self, verifiers: &[&dyn NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut signed = Vec::new();
        for sig in &self.signatures {
            let Some(v) = verifiers
                .iter()
                .find(|v| v.name() == sig.name && v.key_id() == sig.key_id)
            else {
                continue;
            };
            if !v.verify(&self.text, &sig.signature) {
                return Err(NoteError::BadSignature {
                    name: sig.name.clone(),
                });
            }
            if !signed.contains(&sig.name) {
                signed.push(sig.name.clone());
            }
        }
        if signed.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(signed)
    }
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
        malformed(format!(
            "signature line {line:?} does not start with an em dash"
        ))
    })?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or_else(|| malformed(format!("signature line {line:?} has no signature")))?;
    if !valid_key_name(name) {
        return Err(malformed(format!("bad key name {name:?}")));
    }
    let bytes = STANDARD
        .decode(b64)
        .map_err(|_| malformed(format!("signature of {name} is not base64")))?;
    let (id, signature) = bytes
        .split_first_chunk::<4>()
        .filter(|(_, s)| !s.is_empty())
        .ok_or_else(|| malformed(format!("signature of {name} is too short")))?;
    Ok(NoteSignature {
        name: name.to_string(),
        key_id: u32::from_be_bytes(*id),
        signature: signature.to_vec(),
    })
}

impl fmt::Display for SignedNote {
    /// The note in its wire form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.text)?;
        for s in &self.signatures {
            f.write_str(&s.to_line())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example from C2SP signed-note.
    const EXAMPLE: &str = "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

    #[test]
    fn parses_spec_example() {
        let n = SignedNote::parse(EXAMPLE).unwrap();
        assert!(n.text.ends_with("\n\ned è subito sera.\n"));
        assert_eq!(n.signatures.len(), 1);
        assert_eq!(n.signatures[0].name, "quasimodo.example/salvatore");
        assert_eq!(n.signatures[0].key_id, 0x367b_a04b);
        assert_eq!(n.signatures[0].signature.len(), 64);
        assert_eq!(n.to_string(), EXAMPLE);
    }

    #[test]
    fn rejects_malformed_notes() {
        let sig = "— a AAAAAQI=\n";
        for bad in [
            String::new(),
            "text\n".to_string(),
            "text\n\n".to_string(),
            format!("text\n\n{}", sig.trim_end()),
            "text\n\n- a AAAAAQI=\n".to_string(),
            "text\n\n— a+b AAAAAQI=\n".to_string(),
            "text\n\n— AAAAAQI=\n".to_string(),
            "text\n\n— a AAAAAQI\n".to_string(),
            "text\n\n— a AAAAAA==\n".to_string(),
            format!("te\txt\n\n{sig}"),
            format!("text\n\n{sig}\n"),
            format!("text\n\n{}", sig.repeat(MAX_SIGNATURES + 1)),
        ] {
            assert!(SignedNote::parse(&bad).is_err(), "{bad:?}");
        }
        assert!(SignedNote::parse(&format!("text\n\n{}", sig.repeat(16))).is_ok());
    }

    struct Fixed(&'static str, u32, bool);

    impl NoteVerifier for Fixed {
        fn name(&self) -> &str {
            self.0
        }
        fn key_id(&self) -> u32 {
            self.1
        }
        fn verify(&self, _: &str, _: &[u8]) -> bool {
            self.2
        }
    }

    #[test]
    fn verification_rules() {
        let n = SignedNote::parse("t\n\n— a AAAAAQI=\n— b AAAAAgI=\n").unwrap();
        assert_eq!(
            n.verify(&[&Fixed("a", 1, true)]).unwrap(),
            vec!["a".to_string()]
        );
        // Same name, other ID: unknown, ignored.
        assert_eq!(
            n.verify(&[&Fixed("a", 9, false)]),
            Err(NoteError::NoKnownSignature)
        );
        assert_eq!(
            n.verify(&[&Fixed("a", 1, true), &Fixed("b", 2, false)]),
            Err(NoteError::BadSignature { name: "b".into() })
        );
    }

    #[test]
    fn key_id_is_truncated_hash() {
        let d = Sha256::digest(b"name\n\x01key");
        assert_eq!(
            key_id("name", 1, b"key"),
            u32::from_be_bytes([d[0], d[1], d[2], d[3]])
        );
    }
}
