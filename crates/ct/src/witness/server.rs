//! A running witness: the known logs, the cosigner key, and the latest cosigned
//! checkpoint of each log, kept in durable storage. Checking a request against the
//! stored state and persisting the new state happen under one lock, so two concurrent
//! requests cannot roll the state back (tlog-witness "add-checkpoint"), and the state is
//! durable (temp file, fsync, rename) before the cosignature is returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::checkpoint::note::{NoteVerifier, SignedNote};
use crate::storage::{FsStorage, Storage, hex};

use super::add_checkpoint::{AddCheckpoint, WitnessError};
use super::cosignature::{CosignerKey, LogVerifier, VkeyError, log_verifier_from_vkey};

/// The witness's key seed file in its data directory.
pub const WITNESS_KEY_FILE: &str = "witness.key";

/// The largest `add-checkpoint` body accepted: 63 proof lines and a note with up to
/// [`crate::checkpoint::note::MAX_SIGNATURES`] signatures fit well within it.
pub const MAX_BODY: usize = 64 * 1024;

/// How a witness is run.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// The cosigner name, a schema-less URL (e.g. `witness.example/w1`).
    pub name: String,
    /// Where the key seed and the state live.
    pub data_dir: PathBuf,
    /// The vkeys of the logs it cosigns for (their names are the origins).
    pub logs: Vec<String>,
}

/// A running witness.
pub struct Witness {
    key: CosignerKey,
    logs: HashMap<String, Vec<LogVerifier>>,
    state: FsStorage,
    /// Held from reading a log's state to persisting its successor.
    lock: tokio::sync::Mutex<()>,
}

impl core::fmt::Debug for Witness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Witness")
            .field("name", &self.key.name())
            .finish_non_exhaustive()
    }
}

/// Why a witness could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// A key or vkey is unusable.
    Key(VkeyError),
    /// A file could not be read or written.
    Io(String),
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OpenError::Key(e) => write!(f, "{e}"),
            OpenError::Io(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Loads the 32-byte key seed at `path`, generating (and durably writing) one if the
/// file does not exist.
pub fn load_or_generate_seed(path: &Path) -> Result<[u8; 32], OpenError> {
    let io = |e: std::io::Error| OpenError::Io(format!("{}: {e}", path.display()));
    match std::fs::read(path) {
        Ok(bytes) => bytes
            .try_into()
            .map_err(|_| OpenError::Io(format!("{}: a key seed is 32 bytes", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0; 32];
            getrandom::fill(&mut seed).map_err(|e| OpenError::Io(format!("randomness: {e}")))?;
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir).map_err(io)?;
            let tmp = path.with_extension("tmp");
            {
                use std::io::Write;
                let mut f = std::fs::File::create(&tmp).map_err(io)?;
                f.write_all(&seed).map_err(io)?;
                f.sync_all().map_err(io)?;
            }
            std::fs::rename(&tmp, path).map_err(io)?;
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io)?;
            Ok(seed)
        }
        Err(e) => Err(io(e)),
    }
}

fn state_key(origin: &str) -> String {
    format!("witness/{}", hex(&Sha256::digest(origin.as_bytes())))
}

impl Witness {
    /// Opens a witness: loads (or generates) its key under `config.data_dir`, parses
    /// the log vkeys, and opens its state store.
    pub fn open(config: &WitnessConfig) -> Result<Witness, OpenError> {
        let seed = load_or_generate_seed(&config.data_dir.join(WITNESS_KEY_FILE))?;
        let key = CosignerKey::from_seed(&config.name, &seed).map_err(OpenError::Key)?;
        let mut logs: HashMap<String, Vec<LogVerifier>> = HashMap::new();
        for vkey in &config.logs {
            let v = log_verifier_from_vkey(vkey).map_err(OpenError::Key)?;
            logs.entry(v.name().to_string()).or_default().push(v);
        }
        let state = FsStorage::new(config.data_dir.join("state"))
            .map_err(|e| OpenError::Io(e.to_string()))?;
        Ok(Witness {
            key,
            logs,
            state,
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The cosigner key (its verifier is what clients are configured with).
    pub fn key(&self) -> &CosignerKey {
        &self.key
    }

    /// The latest cosigned checkpoint of `origin`, if any.
    pub async fn latest(&self, origin: &str) -> Result<Option<Checkpoint>, WitnessError> {
        let Some(bytes) = self
            .state
            .get(&state_key(origin))
            .await
            .map_err(|e| WitnessError::Internal(e.to_string()))?
        else {
            return Ok(None);
        };
        let note = String::from_utf8(bytes)
            .map_err(|_| WitnessError::Internal("stored state is not UTF-8".into()))?;
        let parsed = SignedNote::parse(&note).map_err(|e| WitnessError::Internal(e.to_string()))?;
        Checkpoint::parse_text(&parsed.text)
            .map(Some)
            .map_err(|e| WitnessError::Internal(e.to_string()))
    }

    /// Handles an `add-checkpoint` body at `now` (seconds since the Unix epoch): checks
    /// it, durably records the checkpoint as the log's latest, and returns the
    /// cosignature lines of the response body.
    pub async fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, WitnessError> {
        let req = AddCheckpoint::parse(body)?;
        let origin = req.checkpoint.origin.clone();
        let _held = self.lock.lock().await;
        let latest = self.latest(&origin).await?;
        self.check(&req, latest.as_ref())?;
        // Record the note with the log's signature as evidence of what was cosigned.
        self.state
            .put(&state_key(&origin), req.note.to_string().into_bytes())
            .await
            .map_err(|e| WitnessError::Internal(e.to_string()))?;
        Ok(self.key.cosign(&req.note.text, now).to_line())
    }
}

impl Witness {
    fn check(&self, req: &AddCheckpoint, latest: Option<&Checkpoint>) -> Result<(), WitnessError> {
        let keys: Option<Vec<&dyn NoteVerifier>> = self
            .logs
            .get(&req.checkpoint.origin)
            .map(|v| v.iter().map(|k| k.as_ref() as &dyn NoteVerifier).collect());
        req.check(keys.as_deref(), latest)
    }
}

/// The witness's routes: `POST <prefix>add-checkpoint`, where `prefix` is the path of
/// the submission prefix ending in `/` (e.g. `/witness/`).
pub fn router(witness: Arc<Witness>, prefix: &str) -> Router {
    Router::new()
        .route(&format!("{prefix}add-checkpoint"), post(add_checkpoint))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    if body.len() > MAX_BODY {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n").into_response();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    match witness.add_checkpoint(&body, now).await {
        Ok(lines) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            lines,
        )
            .into_response(),
        Err(e) => {
            tracing::info!(error = %e, "add-checkpoint refused");
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (content_type, body) = e.body();
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
    }
}
