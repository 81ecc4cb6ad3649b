//! A running log: the async driver around the sans-I/O cores. [`Log::open`] loads (or
//! generates) the key, the trusted roots and the deduplication index from the data
//! directory, recovers storage to a consistent state, and starts the sequencer task;
//! [`Log::add_chain`] validates and submits; the read methods serve checkpoints, tiles,
//! issuers, entries and proofs computed from the tiles.
//!
//! The sequencer sits behind the [`Sequencer`] trait so a replicated one can replace
//! the single-node [`LocalSequencer`].

use core::fmt;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::oneshot;

use crate::cert::CertError;
use crate::chain::{ChainError, ChainKind, Roots, validate_owned};
use crate::checkpoint::note::NoteError;
use crate::checkpoint::rfc6962::SignedTreeHead;
use crate::crl::{CrlError, Crls};
use crate::keys::LogKey;
use crate::merkle::{Hash, empty_root};
use crate::sct::Sct;
use crate::sequencer::{
    INDEX_RECORD_LEN, IndexRecord, Pool, Staging, Submission, leaf_dedup_key, sequence,
};
use crate::storage::{BoxFuture, FsStorage, Storage, StorageError, Version, hex};
use crate::tiles::data::{TileLeaf, decode_data_tile};
use crate::tiles::hashes::TileReader;
use crate::tiles::writer::TileWriter;
use crate::tiles::{TILE_WIDTH, TileId, TileKind};

mod bench;
mod driver;
mod files;
mod recover;
mod tiles;
mod witnessing;

pub use bench::CommitTiming;
pub use driver::LocalSequencer;
use driver::{PoolState, run};
use files::{Index, load_crls, load_key, load_roots, lock_dir};
pub use files::{add_crls_file, add_roots_file, public_key};
use recover::recover;
use tiles::read_data_tile;
pub use witnessing::{WitnessEndpoint, WitnessSet};

/// The lock checkpoint: the compare-and-swapped head of the log.
pub const LOCK_KEY: &str = "lock/checkpoint";
/// The staging bundle of the last batch.
pub const STAGING_KEY: &str = "staging/bundle";
/// The public checkpoint.
pub const CHECKPOINT_KEY: &str = "checkpoint";
/// The log's key file (PKCS#8 DER) in the data directory.
pub const KEY_FILE: &str = "log.key";
/// The trusted roots (PEM) in the data directory.
pub const ROOTS_FILE: &str = "roots.pem";
/// The certificate revocation lists (PEM) in the data directory.
pub const CRLS_FILE: &str = "crls.pem";
/// The deduplication index in the data directory.
pub const INDEX_FILE: &str = "dedup.idx";
/// The file locked by the process running the log, in the data directory.
pub const LOCK_FILE: &str = "lock";

/// The default [`LogConfig::batch_size`]: four full data tiles.
pub const DEFAULT_BATCH_SIZE: usize = 1024;

/// How a log is run.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The checkpoint origin and key name: the submission prefix without scheme or
    /// trailing slash (static-ct-api "Checkpoints"), e.g. `127.0.0.1:8053`.
    pub origin: String,
    /// The submission prefix: `add-chain` is at `<prefix>ct/v1/add-chain` (RFC 6962
    /// §4 and static-ct-api), e.g. `http://127.0.0.1:8053/`.
    pub submission_url: String,
    /// The monitoring prefix: `checkpoint` and `tile/...` are under it, e.g.
    /// `http://127.0.0.1:8053/ct/`.
    pub monitoring_url: String,
    /// A description for the log list entry.
    pub description: String,
    /// The log's own directory: key, roots, deduplication index.
    pub data_dir: PathBuf,
    /// How often the pool is sequenced.
    pub period: Duration,
    /// The most distinct submissions waiting for the next batch.
    pub pool_size: usize,
    /// Sequence as soon as this many distinct submissions are pending, before the
    /// period is over (0: only every period). Under heavy load a batch then does not
    /// wait for the timer, so submissions wait less and batches stay small.
    pub batch_size: usize,
    /// Maximum merge delay promised in the log list, seconds.
    pub mmd: u64,
    /// Whether to generate a key when the data directory has none.
    pub generate_key: bool,
    /// Witnesses whose cosignatures a checkpoint needs before it is published (none:
    /// published as soon as it is committed).
    pub witnesses: Option<WitnessSet>,
}

impl LogConfig {
    /// The embedded default: one log under `data_dir` (the node's `<data dir>/ct`),
    /// with RFC 6962 under `http://127.0.0.1:8053/ct/v1/` and the static-ct-api files
    /// under `http://127.0.0.1:8053/ct/`, sequenced every second.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        LogConfig {
            origin: "127.0.0.1:8053".into(),
            submission_url: "http://127.0.0.1:8053/".into(),
            monitoring_url: "http://127.0.0.1:8053/ct/".into(),
            description: "zdns embedded CT log".into(),
            data_dir: data_dir.into(),
            period: Duration::from_secs(1),
            pool_size: 100_000,
            batch_size: DEFAULT_BATCH_SIZE,
            mmd: 60,
            generate_key: true,
            witnesses: None,
        }
    }
}

/// Why a log could not be opened or run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogError {
    /// The key is missing or unreadable.
    Key(String),
    /// The roots file is malformed.
    Roots(ChainError),
    /// The CRL file, or a CRL being added, is malformed.
    Crl(CrlError),
    /// Storage failed.
    Storage(StorageError),
    /// Storage holds something inconsistent.
    Corrupt(String),
    /// A local file failed.
    Io(String),
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Key(why) => write!(f, "log key: {why}"),
            LogError::Roots(e) => write!(f, "roots: {e}"),
            LogError::Crl(e) => write!(f, "{e}"),
            LogError::Storage(e) => write!(f, "{e}"),
            LogError::Corrupt(why) => write!(f, "log storage is inconsistent: {why}"),
            LogError::Io(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for LogError {}

impl From<StorageError> for LogError {
    fn from(e: StorageError) -> Self {
        LogError::Storage(e)
    }
}

/// Why a submission was not logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddError {
    /// The chain was refused (HTTP 400).
    Chain(ChainError),
    /// The entry could not be derived from the chain (HTTP 400).
    Cert(CertError),
    /// The pool is full: retry after this long (HTTP 503 with `Retry-After`).
    Busy {
        /// When to retry.
        retry_after: Duration,
    },
    /// The log could not commit the batch (HTTP 503); the submission may be retried.
    Unavailable(String),
}

impl fmt::Display for AddError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddError::Chain(e) => write!(f, "{e}"),
            AddError::Cert(e) => write!(f, "{e}"),
            AddError::Busy { retry_after } => write!(
                f,
                "the log is busy; retry after {} s",
                retry_after.as_secs().max(1)
            ),
            AddError::Unavailable(why) => write!(f, "the log could not commit: {why}"),
        }
    }
}

impl std::error::Error for AddError {}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The request is outside the tree or malformed (HTTP 400).
    BadRequest(String),
    /// Nothing there (HTTP 404).
    NotFound,
    /// Storage failed or is inconsistent (HTTP 500).
    Internal(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::BadRequest(why) => write!(f, "bad request: {why}"),
            ReadError::NotFound => write!(f, "not found"),
            ReadError::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Where a submitted leaf stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafStatus {
    /// In the log.
    Logged {
        /// Whether it was submitted as a precertificate.
        precert: bool,
        /// Its leaf index.
        leaf_index: u64,
        /// Its SCT timestamp.
        timestamp: u64,
    },
    /// Waiting in the pool or being committed.
    Pending {
        /// Whether it was submitted as a precertificate.
        precert: bool,
    },
    /// Never submitted (or lost before it was sequenced).
    Missing,
}

/// The latest published tree head and its checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The signed tree head.
    pub sth: SignedTreeHead,
    /// The checkpoint note (static-ct-api `checkpoint`).
    pub note: String,
}

/// Sequences submissions into the log. The single-node [`LocalSequencer`] implements
/// it; a replicated sequencer can replace it.
pub trait Sequencer: Send + Sync {
    /// Sequences a validated submission; resolves to its SCT once its entry is durable.
    fn submit(&self, submission: Submission) -> BoxFuture<'_, Result<Sct, AddError>>;

    /// The latest published head.
    fn head(&self) -> Arc<Head>;
}

/// What the log's parts share.
struct Shared {
    config: LogConfig,
    key: LogKey,
    storage: Arc<dyn Storage>,
    roots: RwLock<Arc<Roots>>,
    roots_stamp: Mutex<Option<SystemTime>>,
    crls: RwLock<Arc<Crls>>,
    crls_stamp: Mutex<Option<SystemTime>>,
    pool: Mutex<PoolState>,
    index: Mutex<Index>,
    head: RwLock<Arc<Head>>,
    tiles: Mutex<HashMap<TileId, Arc<Vec<u8>>>>,
    /// Wakes the sequencer before its period is over (benchmark pre-filling).
    kick: tokio::sync::Notify,
    /// How long recent sequencing periods took to commit, step by step.
    commit_times: Mutex<std::collections::VecDeque<CommitTiming>>,
    /// The size each configured witness last cosigned, when known.
    witness_sizes: Mutex<Vec<Option<u64>>>,
    /// Held (locked) while the log runs, so that one process owns the data directory.
    _lock: std::fs::File,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn poisoned<T>(_: T) -> LogError {
    LogError::Io("a log task panicked while holding a lock".into())
}

impl Shared {
    fn head(&self) -> Arc<Head> {
        self.head
            .read()
            .map(|h| Arc::clone(&h))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Reloads `roots.pem` if it changed since it was last read.
    fn reload_roots(&self) -> Result<(), LogError> {
        let path = self.config.data_dir.join(ROOTS_FILE);
        let stamp = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut last = self.roots_stamp.lock().map_err(poisoned)?;
        if *last == stamp {
            return Ok(());
        }
        let roots = load_roots(&path)?;
        *self.roots.write().map_err(poisoned)? = Arc::new(roots);
        *last = stamp;
        Ok(())
    }

    /// Reloads `crls.pem` if it changed since it was last read.
    fn reload_crls(&self) -> Result<(), LogError> {
        let path = self.config.data_dir.join(CRLS_FILE);
        let stamp = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut last = self.crls_stamp.lock().map_err(poisoned)?;
        if *last == stamp {
            return Ok(());
        }
        let crls = load_crls(&path)?;
        *self.crls.write().map_err(poisoned)? = Arc::new(crls);
        *last = stamp;
        Ok(())
    }

    fn crls(&self) -> Arc<Crls> {
        self.crls
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }
}

/// A running CT log.
pub struct Log {
    shared: Arc<Shared>,
    sequencer: Arc<dyn Sequencer>,
    sequencer_thread: Option<std::thread::JoinHandle<()>>,
    stop: Arc<tokio::sync::Notify>,
}

impl Drop for Log {
    fn drop(&mut self) {
        // Stop the sequencer between periods (a commit in progress finishes) and wait,
        // so that the data directory is free when this returns.
        self.stop.notify_one();
        if let Some(t) = self.sequencer_thread.take() {
            let _ = t.join();
        }
    }
}

impl fmt::Debug for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Log")
            .field("origin", &self.shared.config.origin)
            .finish_non_exhaustive()
    }
}

impl Log {
    /// Opens the log: key (generated into `config.data_dir` if absent and allowed),
    /// roots, deduplication index; recovers `storage` to a consistent state; starts the
    /// sequencer on its own thread.
    pub async fn open(config: LogConfig, storage: Arc<dyn Storage>) -> Result<Log, LogError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| LogError::Io(format!("{}: {e}", config.data_dir.display())))?;
        let lock = lock_dir(&config.data_dir).await?;
        let key = load_key(&config)?;
        let roots_path = config.data_dir.join(ROOTS_FILE);
        let roots_stamp = std::fs::metadata(&roots_path)
            .and_then(|m| m.modified())
            .ok();
        let roots = load_roots(&roots_path)?;
        let crls_path = config.data_dir.join(CRLS_FILE);
        let crls_stamp = std::fs::metadata(&crls_path)
            .and_then(|m| m.modified())
            .ok();
        let crls = load_crls(&crls_path)?;
        let index = Index::load(config.data_dir.join(INDEX_FILE))?;
        let placeholder = SignedTreeHead::sign(&key, 0, 0, empty_root());
        let pool_size = config.pool_size;
        let shared = Arc::new(Shared {
            config,
            key,
            storage,
            roots: RwLock::new(Arc::new(roots)),
            roots_stamp: Mutex::new(roots_stamp),
            crls: RwLock::new(Arc::new(crls)),
            crls_stamp: Mutex::new(crls_stamp),
            pool: Mutex::new(PoolState {
                pool: Pool::new(pool_size),
                inflight: HashMap::new(),
            }),
            index: Mutex::new(index),
            head: RwLock::new(Arc::new(Head {
                sth: placeholder,
                note: String::new(),
            })),
            tiles: Mutex::new(HashMap::new()),
            witness_sizes: Mutex::new(Vec::new()),
            commit_times: Mutex::new(std::collections::VecDeque::new()),
            kick: tokio::sync::Notify::new(),
            _lock: lock,
        });
        let state = recover(&shared).await?;
        // The sequencer runs on its own thread and runtime, so that a period's commit is
        // not queued behind thousands of request tasks on the caller's workers.
        let stop = Arc::new(tokio::sync::Notify::new());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| LogError::Io(format!("sequencer runtime: {e}")))?;
        let (weak, stopped) = (Arc::downgrade(&shared), Arc::clone(&stop));
        let sequencer_thread = std::thread::Builder::new()
            .name("ct-sequencer".into())
            .spawn(move || runtime.block_on(run(weak, Some(state), stopped)))
            .map_err(|e| LogError::Io(format!("sequencer thread: {e}")))?;
        Ok(Log {
            sequencer: Arc::new(LocalSequencer {
                shared: Arc::clone(&shared),
            }),
            shared,
            sequencer_thread: Some(sequencer_thread),
            stop,
        })
    }

    /// Opens the log with filesystem storage under `config.data_dir/storage`.
    pub async fn open_local(config: LogConfig) -> Result<Log, LogError> {
        let storage = FsStorage::new(config.data_dir.join("storage"))?;
        Log::open(config, Arc::new(storage)).await
    }

    /// The configuration.
    pub fn config(&self) -> &LogConfig {
        &self.shared.config
    }

    /// The log's signing key (its public half identifies the log).
    pub fn key(&self) -> &LogKey {
        &self.shared.key
    }

    /// The trusted roots now in force.
    pub fn roots(&self) -> Arc<Roots> {
        self.shared
            .roots
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Adds trusted roots from PEM, durably (to `roots.pem`) and at once.
    pub fn add_roots(&self, pem: &str) -> Result<usize, LogError> {
        let added = add_roots_file(&self.shared.config.data_dir, pem)?;
        self.shared.reload_roots()?;
        Ok(added)
    }

    /// Validates and logs a chain (leaf first); resolves to the SCT once the entry is
    /// durable. The same leaf submitted again gets the same SCT.
    pub async fn add_chain(&self, chain: &[Vec<u8>], kind: ChainKind) -> Result<Sct, AddError> {
        if chain.is_empty() || chain.len() > crate::chain::MAX_CHAIN_LEN {
            return Err(AddError::Chain(ChainError::Length(chain.len())));
        }
        self.add_chain_owned(chain.to_vec(), kind).await
    }

    /// [`Log::add_chain`] for a chain the caller hands over, whose certificates then
    /// go into the log without being copied.
    pub async fn add_chain_owned(
        &self,
        chain: Vec<Vec<u8>>,
        kind: ChainKind,
    ) -> Result<Sct, AddError> {
        let roots = self.roots();
        let valid = validate_owned(chain, &roots, kind).map_err(AddError::Chain)?;
        let submission = Submission::from_chain(valid).map_err(AddError::Cert)?;
        if let Some(sct) = self.shared.known_sct(&submission)? {
            return Ok(sct);
        }
        self.sequencer.submit(submission).await
    }

    /// The latest published head.
    pub fn head(&self) -> Arc<Head> {
        self.sequencer.head()
    }

    /// How many distinct submissions wait in the pool or are being committed.
    pub fn pending(&self) -> usize {
        self.shared
            .pool
            .lock()
            .map(|p| p.pool.len() + p.inflight.len())
            .unwrap_or(0)
    }

    /// The leaf index of a leaf hash, if logged.
    pub fn index_of(&self, leaf_hash: &Hash) -> Option<u64> {
        self.shared
            .index
            .lock()
            .ok()
            .and_then(|i| i.by_hash.get(&leaf_hash.0).copied())
    }

    /// The status of a submitted leaf (certificate or precertificate) by the SHA-256
    /// fingerprint of its DER.
    pub fn status(&self, fp: &[u8; 32]) -> LeafStatus {
        for precert in [false, true] {
            let key = crate::sequencer::fingerprint_key(precert, fp);
            let logged = self
                .shared
                .index
                .lock()
                .ok()
                .and_then(|i| i.by_key.get(&key).copied());
            if let Some((leaf_index, timestamp)) = logged {
                return LeafStatus::Logged {
                    precert,
                    leaf_index,
                    timestamp,
                };
            }
            let pending = self
                .shared
                .pool
                .lock()
                .is_ok_and(|p| p.inflight.contains_key(&key) || p.pool.contains(&key));
            if pending {
                return LeafStatus::Pending { precert };
            }
        }
        LeafStatus::Missing
    }

    /// The leaf index of a submitted leaf (certificate or precertificate DER), if
    /// logged.
    pub fn index_of_leaf(&self, der: &[u8]) -> Option<u64> {
        match self.status(&crate::chain::fingerprint(der)) {
            LeafStatus::Logged { leaf_index, .. } => Some(leaf_index),
            _ => None,
        }
    }

    /// Whether the entry at `leaf_index` is revoked by one of the log's CRLs (see
    /// [`crate::crl`]). An entry not yet in the published tree is not checked (`false`).
    pub async fn revoked(&self, leaf_index: u64) -> Result<bool, ReadError> {
        let crls = self.shared.crls();
        if crls.is_empty() || leaf_index >= self.head().sth.size {
            return Ok(false);
        }
        let Some((leaf, chain)) = self.entries(leaf_index, leaf_index).await?.pop() else {
            return Ok(false);
        };
        let cert = match (&leaf.entry.entry, &leaf.pre_certificate) {
            (_, Some(precert)) => precert.as_slice(),
            (crate::entry::SignedEntry::X509(der), None) => der.as_slice(),
            (crate::entry::SignedEntry::Precert(_), None) => {
                return Err(ReadError::Internal(format!(
                    "entry {leaf_index} is a precertificate without its pre_certificate"
                )));
            }
        };
        crls.is_revoked(cert, &chain)
            .map_err(|e| ReadError::Internal(format!("entry {leaf_index}: {e}")))
    }

    /// A static-ct-api object by path: `checkpoint`, `tile/...`, `issuer/<hex>`.
    pub async fn read_object(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        if path == CHECKPOINT_KEY {
            return Ok(self.head().note.clone().into_bytes());
        }
        if path.starts_with("tile/") {
            let id = TileId::parse_path(path).map_err(|_| ReadError::NotFound)?;
            let data = self
                .shared
                .storage
                .get(&id.path())
                .await
                .map_err(|e| ReadError::Internal(e.to_string()))?;
            return data.ok_or(ReadError::NotFound);
        }
        if let Some(fp) = path.strip_prefix("issuer/") {
            if fp.len() != 64 || !fp.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(ReadError::NotFound);
            }
            let data = self
                .shared
                .storage
                .get(path)
                .await
                .map_err(|e| ReadError::Internal(e.to_string()))?;
            return data.ok_or(ReadError::NotFound);
        }
        Err(ReadError::NotFound)
    }

    /// The entries `[start, end)` (clamped to the tree and to one data tile's worth
    /// past `start`), with their chains (issuer DER, leaf's issuer first).
    pub async fn entries(
        &self,
        start: u64,
        end: u64,
    ) -> Result<Vec<(TileLeaf, Vec<Vec<u8>>)>, ReadError> {
        let size = self.head().sth.size;
        if start >= size || end < start {
            return Err(ReadError::BadRequest(format!(
                "entries {start} to {end} are not in the tree of {size}"
            )));
        }
        let tile = start / u64::from(TILE_WIDTH);
        let tile_end = ((tile + 1) * u64::from(TILE_WIDTH)).min(size);
        let end = end.saturating_add(1).min(tile_end);
        let width = u16::try_from(tile_end - tile * u64::from(TILE_WIDTH))
            .map_err(|_| ReadError::Internal("tile width".into()))?;
        let id = TileId::new(TileKind::Data, tile, width)
            .ok_or_else(|| ReadError::Internal("tile id".into()))?;
        let data = self
            .shared
            .tile(id)
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?
            .ok_or_else(|| ReadError::Internal(format!("missing {}", id.path())))?;
        let leaves = read_data_tile(&data, id).map_err(|e| ReadError::Internal(e.to_string()))?;
        let mut out = Vec::new();
        for (i, leaf) in (tile * u64::from(TILE_WIDTH)..).zip(leaves) {
            if i < start || i >= end {
                continue;
            }
            let mut chain = Vec::with_capacity(leaf.chain.len());
            for fp in &leaf.chain {
                let der = self
                    .shared
                    .storage
                    .get(&format!("issuer/{}", hex(fp)))
                    .await
                    .map_err(|e| ReadError::Internal(e.to_string()))?
                    .ok_or_else(|| ReadError::Internal(format!("missing issuer {}", hex(fp))))?;
                chain.push(der);
            }
            out.push((leaf, chain));
        }
        Ok(out)
    }

    /// The inclusion proof of leaf `index` in the tree of `size` (at most the current
    /// size), from the tiles.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ReadError> {
        self.check_size(size)?;
        let result = self
            .shared
            .with_tiles(|reader| {
                crate::merkle::inclusion_proof(
                    &crate::tiles::hashes::TileSource::new(reader, size),
                    index,
                    size,
                )
            })
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        result.map_err(|e| ReadError::BadRequest(e.to_string()))
    }

    /// The consistency proof between the trees of `old` and `new` (at most the current
    /// size), from the tiles.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ReadError> {
        self.check_size(new)?;
        let result = self
            .shared
            .with_tiles(|reader| {
                crate::merkle::consistency_proof(
                    &crate::tiles::hashes::TileSource::new(reader, new),
                    old,
                    new,
                )
            })
            .await
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        result.map_err(|e| ReadError::BadRequest(e.to_string()))
    }

    fn check_size(&self, size: u64) -> Result<(), ReadError> {
        let current = self.head().sth.size;
        if size > current {
            return Err(ReadError::BadRequest(format!(
                "tree size {size} is past the current {current}"
            )));
        }
        Ok(())
    }
}
