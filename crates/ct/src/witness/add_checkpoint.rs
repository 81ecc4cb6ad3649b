//! The C2SP tlog-witness `add-checkpoint` request, sans-I/O: its wire format and every
//! check the spec asks of a witness, each with its HTTP status code ([`WitnessError`]).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::Checkpoint;
use crate::checkpoint::note::{NoteError, NoteVerifier, SignedNote};
use crate::merkle::{Hash, verify_consistency};

/// The most consistency proof lines a request may carry (tlog-witness).
pub const MAX_PROOF_LINES: usize = 63;

/// The content type of a 409 response body that carries the latest cosigned size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub note: SignedNote,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// Why a witness refused a checkpoint, with the status code tlog-witness gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitnessError {
    /// The request is malformed, or the old size is past the checkpoint's (400).
    BadRequest(String),
    /// No signature from a trusted key of the origin verifies (403).
    Forbidden,
    /// The checkpoint's origin is not a log this witness knows (404).
    UnknownLog(String),
    /// The old size is not the size the witness last cosigned (409, body: that size).
    Conflict {
        /// The size of the latest cosigned checkpoint.
        latest: u64,
    },
    /// Same size as the latest cosigned checkpoint with another root hash: a split
    /// view (409).
    SplitView {
        /// The size of the latest cosigned checkpoint.
        latest: u64,
    },
    /// The consistency proof does not verify (422).
    BadProof(String),
    /// The witness could not persist its state (500).
    Internal(String),
}

impl WitnessError {
    /// The HTTP status code tlog-witness prescribes.
    pub fn status(&self) -> u16 {
        match self {
            WitnessError::BadRequest(_) => 400,
            WitnessError::Forbidden => 403,
            WitnessError::UnknownLog(_) => 404,
            WitnessError::Conflict { .. } | WitnessError::SplitView { .. } => 409,
            WitnessError::BadProof(_) => 422,
            WitnessError::Internal(_) => 500,
        }
    }

    /// The response body and its content type: the latest size for a 409, else a
    /// message.
    pub fn body(&self) -> (&'static str, String) {
        match self {
            WitnessError::Conflict { latest } | WitnessError::SplitView { latest } => {
                (SIZE_CONTENT_TYPE, format!("{latest}\n"))
            }
            other => ("text/plain; charset=utf-8", format!("{other}\n")),
        }
    }
}

impl core::fmt::Display for WitnessError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WitnessError::BadRequest(why) => write!(f, "bad request: {why}"),
            WitnessError::Forbidden => write!(f, "no signature from a trusted log key verifies"),
            WitnessError::UnknownLog(origin) => write!(f, "unknown log {origin:?}"),
            WitnessError::Conflict { latest } => {
                write!(
                    f,
                    "the old size does not match the latest cosigned size {latest}"
                )
            }
            WitnessError::SplitView { latest } => write!(
                f,
                "a different root hash for the cosigned size {latest}: split view"
            ),
            WitnessError::BadProof(why) => {
                write!(f, "the consistency proof does not verify: {why}")
            }
            WitnessError::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for WitnessError {}

fn bad(why: impl Into<String>) -> WitnessError {
    WitnessError::BadRequest(why.into())
}

impl AddCheckpoint {
    /// Parses a request body: `old <size>`, proof lines, an empty line, the checkpoint.
    pub fn parse(body: &[u8]) -> Result<Self, WitnessError> {
        let body = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
        let (head, note) = body
            .split_once("\n\n")
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| bad("the first line is not an old size line"))?;
        let old_size = parse_decimal(old).ok_or_else(|| bad(format!("bad old size {old:?}")))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad(format!("more than {MAX_PROOF_LINES} proof lines")));
            }
            let bytes = STANDARD
                .decode(line)
                .map_err(|_| bad(format!("proof line {line:?} is not base64")))?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| bad(format!("proof line {line:?} is not a 32-byte hash")))?;
            proof.push(Hash(hash));
        }
        let note = SignedNote::parse(note).map_err(|e| bad(e.to_string()))?;
        let checkpoint = Checkpoint::parse_text(&note.text).map_err(|e| bad(e.to_string()))?;
        Ok(AddCheckpoint {
            old_size,
            proof,
            note,
            checkpoint,
        })
    }

    /// Encodes a request body for the signed checkpoint `note`.
    pub fn encode(old_size: u64, proof: &[Hash], note: &str) -> String {
        let mut body = format!("old {old_size}\n");
        for h in proof {
            body.push_str(&STANDARD.encode(h.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        body
    }

    /// Runs the tlog-witness checks against the log's trusted keys (`None` if the
    /// origin is unknown) and the latest checkpoint cosigned for the origin (`None` if
    /// none yet). On success the checkpoint is the witness's new latest for the origin.
    pub fn check(
        &self,
        keys: Option<&[&dyn NoteVerifier]>,
        latest: Option<&Checkpoint>,
    ) -> Result<(), WitnessError> {
        let keys = keys.ok_or_else(|| WitnessError::UnknownLog(self.checkpoint.origin.clone()))?;
        match self.note.verify(keys) {
            Ok(_) => {}
            Err(NoteError::Malformed(why)) => return Err(bad(why)),
            Err(NoteError::NoKnownSignature | NoteError::BadSignature { .. }) => {
                return Err(WitnessError::Forbidden);
            }
        }
        let size = self.checkpoint.size;
        if self.old_size > size {
            return Err(bad(format!(
                "the old size {} is past the checkpoint size {size}",
                self.old_size
            )));
        }
        let latest_size = latest.map_or(0, |c| c.size);
        if self.old_size != latest_size {
            return Err(WitnessError::Conflict {
                latest: latest_size,
            });
        }
        let Some(latest) = latest.filter(|c| c.size > 0) else {
            if !self.proof.is_empty() {
                return Err(WitnessError::BadProof(
                    "the proof from size zero must be empty".into(),
                ));
            }
            return Ok(());
        };
        if latest.size == size {
            if latest.root != self.checkpoint.root {
                return Err(WitnessError::SplitView { latest: size });
            }
            if !self.proof.is_empty() {
                return Err(WitnessError::BadProof(
                    "the proof for equal sizes must be empty".into(),
                ));
            }
            return Ok(());
        }
        verify_consistency(
            latest.size,
            size,
            &self.proof,
            &latest.root,
            &self.checkpoint.root,
        )
        .map_err(|e| WitnessError::BadProof(format!("{e:?}")))
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::rfc6962::{Rfc6962Verifier, SignedTreeHead};
    use crate::keys::LogKey;
    use crate::merkle::{MemoryTree, consistency_proof, leaf_hash, root_at};

    const ORIGIN: &str = "log.example";

    fn tree(n: u64) -> MemoryTree {
        let mut t = MemoryTree::new();
        for i in 0..n {
            t.append(leaf_hash(&i.to_be_bytes())).unwrap();
        }
        t
    }

    fn note(key: &LogKey, size: u64, root: Hash) -> String {
        SignedTreeHead::sign(key, 1, size, root)
            .to_note(ORIGIN, key.public())
            .unwrap()
    }

    #[test]
    fn every_check_has_its_status_code() {
        let key = LogKey::from_scalar(&[5; 32]).unwrap();
        let v = Rfc6962Verifier::new(ORIGIN, key.public().clone());
        let keys: &[&dyn NoteVerifier] = &[&v];
        let t = tree(20);
        let at = |n| Checkpoint {
            origin: ORIGIN.into(),
            size: n,
            root: root_at(&t, n).unwrap(),
            extensions: vec![],
        };
        let req = |old, proof: &[Hash], size| {
            AddCheckpoint::parse(
                AddCheckpoint::encode(old, proof, &note(&key, size, root_at(&t, size).unwrap()))
                    .as_bytes(),
            )
            .unwrap()
        };
        // First contact: old 0, empty proof.
        req(0, &[], 10).check(Some(keys), None).unwrap();
        // Unknown origin, unknown key.
        assert_eq!(req(0, &[], 10).check(None, None).unwrap_err().status(), 404);
        let other = LogKey::from_scalar(&[6; 32]).unwrap();
        let ov = Rfc6962Verifier::new(ORIGIN, other.public().clone());
        assert_eq!(
            req(0, &[], 10)
                .check(Some(&[&ov]), None)
                .unwrap_err()
                .status(),
            403
        );
        // A consistent extension.
        let proof = consistency_proof(&t, 10, 15).unwrap();
        req(10, &proof, 15)
            .check(Some(keys), Some(&at(10)))
            .unwrap();
        // A bad proof: 422.
        let mut wrong = proof.clone();
        wrong[0] = leaf_hash(b"no");
        let e = req(10, &wrong, 15)
            .check(Some(keys), Some(&at(10)))
            .unwrap_err();
        assert_eq!(e.status(), 422);
        // A rollback (old size behind the cosigned one): 409 with the latest size.
        let e = req(5, &consistency_proof(&t, 5, 8).unwrap(), 8)
            .check(Some(keys), Some(&at(10)))
            .unwrap_err();
        assert_eq!(e, WitnessError::Conflict { latest: 10 });
        assert_eq!(e.body(), (SIZE_CONTENT_TYPE, "10\n".to_string()));
        // The size going backwards (old past the checkpoint): 400.
        assert_eq!(
            req(10, &[], 8)
                .check(Some(keys), Some(&at(10)))
                .unwrap_err()
                .status(),
            400
        );
        // Same size, other root: a split view, 409.
        let forked = note(&key, 10, leaf_hash(b"fork"));
        let e = AddCheckpoint::parse(AddCheckpoint::encode(10, &[], &forked).as_bytes())
            .unwrap()
            .check(Some(keys), Some(&at(10)))
            .unwrap_err();
        assert_eq!(e, WitnessError::SplitView { latest: 10 });
        assert_eq!(e.status(), 409);
        // Same size, same root: accepted again.
        req(10, &[], 10).check(Some(keys), Some(&at(10))).unwrap();
    }

    #[test]
    fn malformed_requests_are_400() {
        let key = LogKey::from_scalar(&[5; 32]).unwrap();
        let n = note(&key, 3, tree(3).root());
        let long: Vec<Hash> = (0..64).map(|i| leaf_hash(&[i])).collect();
        for body in [
            String::new(),
            "old 1\n".into(),
            format!("old 01\n\n{n}"),
            format!("old -1\n\n{n}"),
            format!("new 1\n\n{n}"),
            format!("old 1\n!!\n\n{n}"),
            format!("old 1\nAAAA\n\n{n}"),
            AddCheckpoint::encode(0, &long, &n),
            "old 0\n\nnot a note".into(),
            "old 0\n\nx\n1\nAA==\n\n\u{2014} x AAAAAAAA\n".into(),
        ] {
            let e = AddCheckpoint::parse(body.as_bytes()).unwrap_err();
            assert_eq!(e.status(), 400, "{body:?}");
        }
        assert!(AddCheckpoint::parse(&[0xff, b'\n', b'\n']).is_err());
    }
}
