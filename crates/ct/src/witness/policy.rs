//! Witness policies on the client side: a checkpoint is trusted when the log signed it
//! and at least `threshold` of a set of witnesses cosigned it (e.g. "2 of these 3").

use crate::checkpoint::Checkpoint;
use crate::checkpoint::note::{NoteError, NoteVerifier, SignedNote};

use super::cosignature::CosignatureVerifier;

/// A witness policy: `threshold` distinct cosignatures from `witnesses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    /// The witnesses whose cosignatures count.
    pub witnesses: Vec<CosignatureVerifier>,
    /// How many of them must have cosigned.
    pub threshold: usize,
}

/// Why a checkpoint was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The note is malformed or a known key's signature does not verify.
    Note(NoteError),
    /// The log's own signature is missing.
    NoLogSignature,
    /// Too few witnesses cosigned.
    NotMet {
        /// How many did.
        cosigned: usize,
        /// How many must.
        threshold: usize,
    },
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PolicyError::Note(e) => write!(f, "{e}"),
            PolicyError::NoLogSignature => write!(f, "the log did not sign the checkpoint"),
            PolicyError::NotMet {
                cosigned,
                threshold,
            } => write!(
                f,
                "{cosigned} witness cosignature(s), the policy needs {threshold}"
            ),
        }
    }
}

impl std::error::Error for PolicyError {}

impl WitnessPolicy {
    /// Whether the names of the cosigners in `signed` meet the policy; the count.
    pub fn count(&self, signed: &[String]) -> usize {
        self.witnesses
            .iter()
            .filter(|w| signed.iter().any(|s| s == w.name()))
            .count()
    }

    /// Verifies a checkpoint `note` signed by `log` and cosigned by witnesses: accepts
    /// it (returning its body) if the log's signature verifies, every signature from a
    /// known key verifies, and at least `threshold` policy witnesses cosigned.
    pub fn verify(&self, note: &str, log: &dyn NoteVerifier) -> Result<Checkpoint, PolicyError> {
        let parsed = SignedNote::parse(note).map_err(PolicyError::Note)?;
        let mut keys: Vec<&dyn NoteVerifier> = vec![log];
        keys.extend(self.witnesses.iter().map(|w| w as &dyn NoteVerifier));
        let signed = match parsed.verify(&keys) {
            Ok(signed) => signed,
            Err(NoteError::NoKnownSignature) => return Err(PolicyError::NoLogSignature),
            Err(e) => return Err(PolicyError::Note(e)),
        };
        // A log signature must be there; a cosigner that shares the log's name does not
        // count as the log.
        let log_signed = parsed
            .signatures
            .iter()
            .any(|s| s.name == log.name() && s.key_id == log.key_id());
        if !log_signed {
            return Err(PolicyError::NoLogSignature);
        }
        let checkpoint = Checkpoint::parse_text(&parsed.text).map_err(PolicyError::Note)?;
        if checkpoint.origin != log.name() {
            return Err(PolicyError::Note(NoteError::Malformed(format!(
                "origin {:?} is not the log {:?}",
                checkpoint.origin,
                log.name()
            ))));
        }
        let cosigned = self.count(&signed);
        if cosigned < self.threshold {
            return Err(PolicyError::NotMet {
                cosigned,
                threshold: self.threshold,
            });
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::rfc6962::{Rfc6962Verifier, SignedTreeHead};
    use crate::keys::LogKey;
    use crate::merkle::leaf_hash;
    use crate::witness::cosignature::CosignerKey;

    #[test]
    fn two_of_three_is_met_and_not_met() {
        let log = LogKey::from_scalar(&[1; 32]).unwrap();
        let lv = Rfc6962Verifier::new("log.example", log.public().clone());
        let note = SignedTreeHead::sign(&log, 5, 7, leaf_hash(b"r"))
            .to_note("log.example", log.public())
            .unwrap();
        let text = SignedNote::parse(&note).unwrap().text;
        let w: Vec<_> = (0..3u8)
            .map(|i| CosignerKey::from_seed(&format!("w{i}.example"), &[i + 10; 32]).unwrap())
            .collect();
        let policy = WitnessPolicy {
            witnesses: w.iter().map(CosignerKey::verifier).collect(),
            threshold: 2,
        };
        let with = |signers: &[&CosignerKey]| {
            let mut n = SignedNote::parse(&note).unwrap();
            for s in signers {
                n.signatures.push(s.cosign(&text, 1_700_000_000));
            }
            n.to_string()
        };
        // Log only, one witness, a witness twice: not met.
        for signers in [&[][..], &[&w[0]], &[&w[1], &w[1]]] {
            assert_eq!(
                policy.verify(&with(signers), &lv).unwrap_err(),
                PolicyError::NotMet {
                    cosigned: 1.min(signers.len()),
                    threshold: 2
                }
            );
        }
        // Two distinct witnesses, in any order, plus an unknown one: met.
        let stranger = CosignerKey::from_seed("stranger", &[99; 32]).unwrap();
        let ok = policy
            .verify(&with(&[&w[2], &stranger, &w[0]]), &lv)
            .unwrap();
        assert_eq!(ok.size, 7);
        // A known witness with a bad cosignature spoils the note.
        let mut n = SignedNote::parse(&with(&[&w[0], &w[1]])).unwrap();
        n.signatures[2].signature[20] ^= 1;
        assert!(matches!(
            policy.verify(&n.to_string(), &lv),
            Err(PolicyError::Note(NoteError::BadSignature { .. }))
        ));
        // Cosignatures without the log's signature are not enough.
        let mut n = SignedNote::parse(&with(&[&w[0], &w[1]])).unwrap();
        n.signatures.remove(0);
        assert_eq!(
            policy.verify(&n.to_string(), &lv).unwrap_err(),
            PolicyError::NoLogSignature
        );
        // Cosignatures over another checkpoint do not verify.
        let other = SignedTreeHead::sign(&log, 5, 8, leaf_hash(b"r"))
            .to_note("log.example", log.public())
            .unwrap();
        let mut n = SignedNote::parse(&other).unwrap();
        n.signatures.push(w[0].cosign(&text, 1));
        n.signatures.push(w[1].cosign(&text, 1));
        assert!(policy.verify(&n.to_string(), &lv).is_err());
    }
}
