//! Collecting witness cosignatures before a checkpoint is published (C2SP
//! tlog-witness, client side): each witness is sent the new checkpoint with a
//! consistency proof from the size it last cosigned (learnt from a 409 when unknown),
//! its cosignature lines are verified and appended to the note, and the checkpoint is
//! published only when the policy's threshold is met.

use tokio::task::JoinSet;

use super::*;
use crate::checkpoint::note::NoteVerifier;
use crate::client::Client;
use crate::witness::add_checkpoint::SIZE_CONTENT_TYPE;
use crate::witness::{AddCheckpoint, CosignatureVerifier, WitnessPolicy};

/// One witness the log asks for cosignatures.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Its submission prefix, ending in `/` (`add-checkpoint` is appended).
    pub url: String,
    /// Its cosigner key.
    pub verifier: CosignatureVerifier,
}

/// The witnesses a log gathers cosignatures from, and how many it needs before it
/// publishes a checkpoint.
#[derive(Debug, Clone)]
pub struct WitnessSet {
    /// The witnesses.
    pub witnesses: Vec<WitnessEndpoint>,
    /// How many distinct cosignatures a checkpoint needs to be published.
    pub threshold: usize,
    /// How long to wait for each witness.
    pub timeout: Duration,
}

impl WitnessSet {
    /// The policy a client of this log can verify published checkpoints with.
    pub fn policy(&self) -> WitnessPolicy {
        WitnessPolicy {
            witnesses: self.witnesses.iter().map(|w| w.verifier.clone()).collect(),
            threshold: self.threshold,
        }
    }
}

/// The outcome of asking one witness.
enum Answer {
    /// Its verified cosignature lines.
    Cosigned(Vec<crate::checkpoint::note::NoteSignature>),
    /// It has cosigned this size (409 with a `text/x.tlog.size` body).
    At(u64),
    /// It refused or failed.
    Failed(String),
}

async fn ask(
    client: Client,
    url: String,
    body: String,
    verifier: CosignatureVerifier,
    text: String,
) -> Answer {
    let resp = match client.post(&url, "text/plain", body.into_bytes()).await {
        Ok(r) => r,
        Err(e) => return Answer::Failed(e),
    };
    let text_body = String::from_utf8_lossy(&resp.body).to_string();
    if resp.status == 409 && resp.content_type.as_deref() == Some(SIZE_CONTENT_TYPE) {
        return match text_body.strip_suffix('\n').and_then(|s| s.parse().ok()) {
            Some(size) => Answer::At(size),
            None => Answer::Failed(format!("{url}: bad 409 body {text_body:?}")),
        };
    }
    if resp.status != 200 {
        return Answer::Failed(format!("{url}: {} {}", resp.status, text_body.trim()));
    }
    // The response is signature lines: parse them as the signatures of this note and
    // keep the witness's own, which must verify (tlog-witness: ignore unknown keys).
    let note = match crate::checkpoint::note::SignedNote::parse(&format!("{text}\n{text_body}")) {
        Ok(n) => n,
        Err(e) => return Answer::Failed(format!("{url}: {e}")),
    };
    let mine: Vec<_> = note
        .signatures
        .into_iter()
        .filter(|s| s.name == verifier.name() && s.key_id == verifier.key_id())
        .collect();
    if mine.is_empty() || !mine.iter().all(|s| verifier.verify(&text, &s.signature)) {
        return Answer::Failed(format!("{url}: no valid cosignature in the response"));
    }
    Answer::Cosigned(mine)
}

impl Shared {
    /// The consistency proof from `old` to `new` (`new` committed to the tiles).
    async fn proof_between(&self, old: u64, new: u64) -> Result<Vec<Hash>, String> {
        if old == 0 || old >= new {
            return Ok(Vec::new());
        }
        self.with_tiles(|reader| {
            crate::merkle::consistency_proof(
                &crate::tiles::hashes::TileSource::new(reader, new),
                old,
                new,
            )
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }

    /// Asks every witness of `set` to cosign the log-signed checkpoint `note` of tree
    /// `size`; returns the note with the cosignatures it got and how many witnesses
    /// cosigned.
    pub(super) async fn cosign(
        &self,
        set: &WitnessSet,
        note: &str,
        size: u64,
    ) -> Result<(String, usize), LogError> {
        let mut parsed =
            crate::checkpoint::note::SignedNote::parse(note).map_err(recover::note_err)?;
        let client = Client::new(set.timeout);
        let mut known = self.witness_sizes.lock().map_err(poisoned)?.clone();
        known.resize(set.witnesses.len(), None);
        let mut cosigned = 0;
        // Two rounds: the second retries the witnesses that told their size.
        let mut pending: Vec<usize> = (0..set.witnesses.len()).collect();
        for _round in 0..2 {
            let mut asks = JoinSet::new();
            for &i in &pending {
                let Some(w) = set.witnesses.get(i) else {
                    continue;
                };
                let old = known.get(i).copied().flatten().unwrap_or(0).min(size);
                let proof = match self.proof_between(old, size).await {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::warn!(witness = %w.url, error = %e, "consistency proof for witness");
                        continue;
                    }
                };
                let body = AddCheckpoint::encode(old, &proof, note);
                let fut = ask(
                    client.clone(),
                    format!("{}add-checkpoint", w.url),
                    body,
                    w.verifier.clone(),
                    parsed.text.clone(),
                );
                asks.spawn(async move { (i, fut.await) });
            }
            let mut retry = Vec::new();
            while let Some(done) = asks.join_next().await {
                let Ok((i, answer)) = done else { continue };
                match answer {
                    Answer::Cosigned(sigs) => {
                        parsed.signatures.extend(sigs);
                        cosigned += 1;
                        if let Some(k) = known.get_mut(i) {
                            *k = Some(size);
                        }
                    }
                    Answer::At(at) => {
                        if let Some(k) = known.get_mut(i) {
                            *k = Some(at);
                        }
                        retry.push(i);
                    }
                    Answer::Failed(why) => {
                        tracing::warn!(error = %why, "witness did not cosign");
                    }
                }
            }
            pending = retry;
            if pending.is_empty() {
                break;
            }
        }
        *self.witness_sizes.lock().map_err(poisoned)? = known;
        Ok((parsed.to_string(), cosigned))
    }
}
