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
use crate::chain::{ChainError, ChainKind, Roots, validate};
use crate::checkpoint::note::NoteError;
use crate::checkpoint::rfc6962::SignedTreeHead;
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
/// The deduplication index in the data directory.
pub const INDEX_FILE: &str = "dedup.idx";
/// The file locked by the process running the log, in the data directory.
pub const LOCK_FILE: &str = "lock";

/// How a log is run.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// The checkpoint origin and key name: the submission URL without scheme or
    /// trailing slash (static-ct-api), e.g. `127.0.0.1:8053/ct`.
    pub origin: String,
    /// The submission prefix URL, e.g. `http://127.0.0.1:8053/ct/`.
    pub url: String,
    /// A description for the log list entry.
    pub description: String,
    /// The log's own directory: key, roots, deduplication index.
    pub data_dir: PathBuf,
    /// How often the pool is sequenced.
    pub period: Duration,
    /// The most distinct submissions waiting for the next batch.
    pub pool_size: usize,
    /// Maximum merge delay promised in the log list, seconds.
    pub mmd: u64,
    /// Whether to generate a key when the data directory has none.
    pub generate_key: bool,
}

impl LogConfig {
    /// The embedded default: one log under `data_dir` (the node's `<data dir>/ct`),
    /// served at `http://127.0.0.1:8053/ct/`, sequenced every second.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        LogConfig {
            origin: "127.0.0.1:8053/ct".into(),
            url: "http://127.0.0.1:8053/ct/".into(),
            description: "zdns embedded CT log".into(),
            data_dir: data_dir.into(),
            period: Duration::from_secs(1),
            pool_size: 100_000,
            mmd: 60,
            generate_key: true,
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

/// The deduplication index in memory, and its file.
struct Index {
    by_key: HashMap<[u8; 32], (u64, u64)>,
    by_hash: HashMap<[u8; 32], u64>,
    next: u64,
    path: PathBuf,
}

impl Index {
    fn load(path: PathBuf) -> Result<Self, LogError> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(LogError::Io(format!("{}: {e}", path.display()))),
        };
        let (records, whole) = IndexRecord::decode_all(&bytes);
        if whole != bytes.len() {
            truncate(&path, whole as u64)?;
        }
        let mut index = Index {
            by_key: HashMap::new(),
            by_hash: HashMap::new(),
            next: 0,
            path,
        };
        index.insert(&records);
        Ok(index)
    }

    fn insert(&mut self, records: &[IndexRecord]) {
        for r in records {
            self.by_key.insert(r.key, (r.leaf_index, r.timestamp));
            self.by_hash.insert(r.leaf_hash.0, r.leaf_index);
            self.next = self.next.max(r.leaf_index + 1);
        }
    }

    /// Appends records durably, then adds them in memory.
    fn append(&mut self, records: &[IndexRecord]) -> Result<(), LogError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(records.len() * INDEX_RECORD_LEN);
        for r in records {
            r.encode(&mut bytes);
        }
        let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", self.path.display()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_data().map_err(io)?;
        self.insert(records);
        Ok(())
    }

    fn reset(&mut self) -> Result<(), LogError> {
        truncate(&self.path, 0)?;
        self.by_key.clear();
        self.by_hash.clear();
        self.next = 0;
        Ok(())
    }
}

fn truncate(path: &Path, len: u64) -> Result<(), LogError> {
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io)?;
    f.set_len(len).map_err(io)?;
    f.sync_all().map_err(io)
}

type Waiter = oneshot::Sender<Result<Sct, AddError>>;

/// The pool and the submissions being committed.
struct PoolState {
    pool: Pool<Waiter>,
    inflight: HashMap<[u8; 32], Vec<Waiter>>,
}

/// What the log's parts share.
struct Shared {
    config: LogConfig,
    key: LogKey,
    storage: Arc<dyn Storage>,
    roots: RwLock<Arc<Roots>>,
    roots_stamp: Mutex<Option<SystemTime>>,
    pool: Mutex<PoolState>,
    index: Mutex<Index>,
    head: RwLock<Arc<Head>>,
    tiles: Mutex<HashMap<TileId, Arc<Vec<u8>>>>,
    /// Held (locked) while the log runs, so that one process owns the data directory.
    _lock: std::fs::File,
}

/// The most tiles kept in the read cache.
const TILE_CACHE: usize = 4096;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn poisoned<T>(_: T) -> LogError {
    LogError::Io("a log task panicked while holding a lock".into())
}

/// A tile reader over prefetched tiles that records the first tile it lacks, so that
/// the sync cores can run over async storage: run, fetch what was missing, run again.
struct Prefetched<'a> {
    tiles: &'a HashMap<TileId, Arc<Vec<u8>>>,
    missing: RefCell<Option<TileId>>,
}

/// A tile the reader did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Missing(TileId);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile {} not loaded", self.0.path())
    }
}

impl TileReader for &Prefetched<'_> {
    type Error = Missing;

    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, Missing> {
        match self.tiles.get(&tile) {
            Some(t) => Ok(t.as_ref().clone()),
            None => {
                self.missing.borrow_mut().get_or_insert(tile);
                Err(Missing(tile))
            }
        }
    }
}

impl Shared {
    fn head(&self) -> Arc<Head> {
        self.head
            .read()
            .map(|h| Arc::clone(&h))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Tile `id` from the cache or storage (a full tile stands in for a missing
    /// partial one, the hashes being the same).
    async fn tile(&self, id: TileId) -> Result<Option<Arc<Vec<u8>>>, StorageError> {
        if let Some(t) = self.tiles.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(Some(t));
        }
        let mut data = self.storage.get(&id.path()).await?;
        if data.is_none() && !id.is_full() {
            data = self.storage.get(&id.full().path()).await?;
        }
        let Some(data) = data else {
            return Ok(None);
        };
        let data = Arc::new(data);
        if let Ok(mut cache) = self.tiles.lock() {
            if cache.len() >= TILE_CACHE {
                cache.clear();
            }
            cache.insert(id, Arc::clone(&data));
        }
        Ok(Some(data))
    }

    /// Runs `f` over a tile reader, fetching each tile it lacks and running it again.
    async fn with_tiles<T, E>(
        &self,
        f: impl Fn(&Prefetched<'_>) -> Result<T, E>,
    ) -> Result<Result<T, E>, StorageError> {
        let mut tiles = HashMap::new();
        loop {
            let reader = Prefetched {
                tiles: &tiles,
                missing: RefCell::new(None),
            };
            let result = f(&reader);
            let missing = reader.missing.into_inner();
            match (result, missing) {
                (Err(_), Some(id)) => match self.tile(id).await? {
                    Some(t) => {
                        tiles.insert(id, t);
                    }
                    None => {
                        return Err(StorageError::Io(format!("tile {} is missing", id.path())));
                    }
                },
                (result, _) => return Ok(result),
            }
        }
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
}

fn load_roots(path: &Path) -> Result<Roots, LogError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Roots::from_pem(&text).map_err(LogError::Roots),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Roots::new()),
        Err(e) => Err(LogError::Io(format!("{}: {e}", path.display()))),
    }
}

/// Appends PEM roots to a log's `roots.pem` durably (what `zdns ct roots add` does); a
/// running log picks them up within a sequencing period. Returns how many were new.
pub fn add_roots_file(data_dir: &Path, pem: &str) -> Result<usize, LogError> {
    let path = data_dir.join(ROOTS_FILE);
    let mut roots = load_roots(&path)?;
    let added = roots.add_pem(pem).map_err(LogError::Roots)?;
    if added == 0 {
        return Ok(0);
    }
    let mut text = String::new();
    for der in roots.certs() {
        text.push_str(
            &pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der)
                .map_err(|e| LogError::Io(e.to_string()))?,
        );
    }
    write_durably(&path, text.as_bytes())?;
    Ok(added)
}

/// Writes a local file: temporary file, fsync, rename, fsync the directory.
fn write_durably(path: &Path, data: &[u8]) -> Result<(), LogError> {
    let dir = path
        .parent()
        .ok_or_else(|| LogError::Io(format!("{} has no directory", path.display())))?;
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let nonce = getrandom::u64().map_err(|e| LogError::Io(e.to_string()))?;
    let tmp = dir.join(format!(".{file}.{nonce:016x}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(data).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// Locks the data directory's lock file, waiting a few seconds for a log that is
/// closing in this process to release it.
async fn lock_dir(dir: &Path) -> Result<std::fs::File, LogError> {
    let path = dir.join(LOCK_FILE);
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    for _ in 0..500 {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    Err(LogError::Io(format!(
        "{} is locked: another process runs this log",
        path.display()
    )))
}

/// Loads the log key from `data_dir/log.key`, generating it if allowed and missing.
fn load_key(config: &LogConfig) -> Result<LogKey, LogError> {
    let path = config.data_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(der) => LogKey::from_pkcs8_der(&der).map_err(|e| LogError::Key(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config.generate_key => {
            let key = generate_key()?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| LogError::Key(e.to_string()))?;
            write_durably(&path, &der)?;
            Ok(key)
        }
        Err(e) => Err(LogError::Key(format!("{}: {e}", path.display()))),
    }
}

/// A new key from the operating system's random source.
fn generate_key() -> Result<LogKey, LogError> {
    let mut last = String::new();
    // A random 32-byte string is a valid P-256 scalar but with negligible probability.
    for _ in 0..8 {
        let mut scalar = [0u8; 32];
        getrandom::fill(&mut scalar).map_err(|e| LogError::Key(e.to_string()))?;
        match LogKey::from_scalar(&scalar) {
            Ok(key) => return Ok(key),
            Err(e) => last = e.to_string(),
        }
    }
    Err(LogError::Key(last))
}

/// The sequencer's own state: the tree being built and the lock's version.
struct State {
    writer: TileWriter,
    lock: Version,
    known_issuers: HashSet<[u8; 32]>,
}

/// Recovers storage to a consistent log (finishing an interrupted commit), fills the
/// deduplication index from the tiles it lacks, and returns the sequencer state.
async fn recover(shared: &Shared) -> Result<State, LogError> {
    let storage = &shared.storage;
    let origin = shared.config.origin.as_str();
    let public = shared.key.public();
    let (sth, note, lock) = match storage.get_versioned(LOCK_KEY).await? {
        None => {
            let sth = SignedTreeHead::sign(&shared.key, now_ms(), 0, empty_root());
            let note = sth.to_note(origin, public).map_err(note_err)?;
            let v = storage
                .put_if(LOCK_KEY, note.as_bytes().to_vec(), None)
                .await?;
            storage
                .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
                .await?;
            (sth, note, v)
        }
        Some((data, v)) => {
            let note = String::from_utf8(data)
                .map_err(|_| LogError::Corrupt("the lock checkpoint is not UTF-8".into()))?;
            let sth = SignedTreeHead::from_note(&note, origin, public).map_err(note_err)?;
            let published = storage.get(CHECKPOINT_KEY).await?;
            if published.as_deref() != Some(note.as_bytes()) {
                finish_commit(storage.as_ref(), &sth, &note).await?;
            }
            (sth, note, v)
        }
    };
    let size = sth.size;
    let writer = shared
        .with_tiles(|reader| TileWriter::resume(reader, size))
        .await?
        .map_err(|e| LogError::Corrupt(e.to_string()))?;
    if writer.root() != sth.root {
        return Err(LogError::Corrupt(
            "the tiles do not hash to the checkpoint".into(),
        ));
    }
    fill_index(shared, size).await?;
    *shared.head.write().map_err(poisoned)? = Arc::new(Head { sth, note });
    Ok(State {
        writer,
        lock,
        known_issuers: HashSet::new(),
    })
}

fn note_err(e: NoteError) -> LogError {
    LogError::Corrupt(format!("checkpoint: {e}"))
}

/// Re-applies the staging bundle of the lock checkpoint: its tiles, then the public
/// checkpoint.
async fn finish_commit(
    storage: &dyn Storage,
    sth: &SignedTreeHead,
    note: &str,
) -> Result<(), LogError> {
    if sth.size > 0 {
        let bundle = storage
            .get(STAGING_KEY)
            .await?
            .ok_or_else(|| LogError::Corrupt("no staging bundle to finish a commit".into()))?;
        let staging = Staging::decode(&bundle).map_err(LogError::Corrupt)?;
        if staging.size != sth.size || staging.root != sth.root {
            return Err(LogError::Corrupt(
                "the staging bundle is not for the lock checkpoint".into(),
            ));
        }
        for (id, data) in staging.tiles {
            storage.put(&id.path(), data).await?;
        }
    }
    storage
        .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
        .await?;
    Ok(())
}

/// Adds the entries `[index.next, size)` to the deduplication index from the data
/// tiles (after a crash between a commit and the index append).
async fn fill_index(shared: &Shared, size: u64) -> Result<(), LogError> {
    let next = shared.index.lock().map_err(poisoned)?.next;
    if next > size {
        shared.index.lock().map_err(poisoned)?.reset()?;
    }
    let mut next = shared.index.lock().map_err(poisoned)?.next;
    while next < size {
        let tile = next / u64::from(TILE_WIDTH);
        let end = ((tile + 1) * u64::from(TILE_WIDTH)).min(size);
        let width = u16::try_from(end - tile * u64::from(TILE_WIDTH))
            .map_err(|_| LogError::Corrupt("tile width".into()))?;
        let id = TileId::new(TileKind::Data, tile, width)
            .ok_or_else(|| LogError::Corrupt("data tile id".into()))?;
        let data = shared
            .tile(id)
            .await?
            .ok_or_else(|| LogError::Corrupt(format!("missing {}", id.path())))?;
        let leaves = read_data_tile(&data, id)?;
        let mut records = Vec::new();
        for (i, leaf) in (tile * u64::from(TILE_WIDTH)..).zip(&leaves) {
            if i < next {
                continue;
            }
            records.push(IndexRecord {
                key: leaf_dedup_key(leaf),
                leaf_hash: leaf
                    .leaf_hash()
                    .map_err(|e| LogError::Corrupt(e.to_string()))?,
                leaf_index: i,
                timestamp: leaf.entry.timestamp,
            });
        }
        shared.index.lock().map_err(poisoned)?.append(&records)?;
        next = end;
    }
    Ok(())
}

/// Decodes a data tile of width `id.width()` (a full tile standing in for a partial
/// one yields its first `width` entries).
fn read_data_tile(data: &[u8], id: TileId) -> Result<Vec<TileLeaf>, LogError> {
    let decoded = decode_data_tile(data, id.width()).or_else(|_| {
        decode_data_tile(data, TILE_WIDTH).map(|mut all| {
            all.truncate(usize::from(id.width()));
            all
        })
    });
    decoded.map_err(|e| LogError::Corrupt(format!("{}: {e}", id.path())))
}

/// The single-node sequencer: a pool sequenced every period by a task, committing each
/// batch in the crash-safe order of [`crate::sequencer`].
#[derive(Clone)]
pub struct LocalSequencer {
    shared: Arc<Shared>,
}

impl Sequencer for LocalSequencer {
    fn submit(&self, submission: Submission) -> BoxFuture<'_, Result<Sct, AddError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            {
                let key = submission.dedup_key();
                let mut state = self
                    .shared
                    .pool
                    .lock()
                    .map_err(|_| AddError::Unavailable("the pool lock is poisoned".into()))?;
                // Checked again under the pool lock: the sequencer records a batch in the
                // index before it releases its in-flight entries.
                if let Some(sct) = self.shared.known_sct(&submission)? {
                    return Ok(sct);
                }
                if let Some(waiters) = state.inflight.get_mut(&key) {
                    waiters.push(tx);
                } else {
                    state.pool.add(submission, tx).map_err(|_| AddError::Busy {
                        retry_after: self.shared.config.period.max(Duration::from_secs(1)),
                    })?;
                }
            }
            rx.await
                .map_err(|_| AddError::Unavailable("the sequencer stopped".into()))?
        })
    }

    fn head(&self) -> Arc<Head> {
        self.shared.head()
    }
}

impl Shared {
    /// The SCT of an entry already in the log, re-issued (identical: same timestamp and
    /// index, deterministic signature).
    fn known_sct(&self, submission: &Submission) -> Result<Option<Sct>, AddError> {
        let found = self
            .index
            .lock()
            .map_err(|_| AddError::Unavailable("the index lock is poisoned".into()))?
            .by_key
            .get(&submission.dedup_key())
            .copied();
        let Some((index, timestamp)) = found else {
            return Ok(None);
        };
        Sct::issue(&self.key, timestamp, submission.entry.clone(), index)
            .map(|(sct, _)| Some(sct))
            .map_err(|e| AddError::Unavailable(e.to_string()))
    }
}

/// Commits one batch; returns the SCTs in pool order.
async fn commit(
    shared: &Shared,
    state: &mut State,
    subs: &[Submission],
) -> Result<Vec<Result<Sct, String>>, LogError> {
    let last = shared.head().sth.timestamp;
    let timestamp = now_ms().max(last);
    let batch = sequence(&mut state.writer, subs, timestamp, &shared.key)
        .map_err(|e| LogError::Corrupt(e.to_string()))?;
    let storage = &shared.storage;
    for (fp, der) in &batch.issuers {
        if state.known_issuers.insert(*fp) {
            storage
                .put(&format!("issuer/{}", hex(fp)), der.clone())
                .await?;
        }
    }
    let staging = Staging {
        size: batch.flush.size,
        root: batch.flush.root,
        tiles: batch.flush.tiles,
    };
    let bundle = staging
        .encode()
        .map_err(|e| LogError::Corrupt(e.to_string()))?;
    storage.put(STAGING_KEY, bundle).await?;
    let note = batch
        .sth
        .to_note(&shared.config.origin, shared.key.public())
        .map_err(note_err)?;
    state.lock = storage
        .put_if(LOCK_KEY, note.as_bytes().to_vec(), Some(&state.lock))
        .await?;
    let mut puts = tokio::task::JoinSet::new();
    for (id, data) in staging.tiles {
        let storage = Arc::clone(storage);
        puts.spawn(async move { storage.put(&id.path(), data).await });
    }
    while let Some(done) = puts.join_next().await {
        done.map_err(|e| LogError::Io(format!("tile upload task: {e}")))??;
    }
    storage
        .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
        .await?;
    let records: Vec<IndexRecord> = batch
        .entries
        .iter()
        .filter_map(|e| e.as_ref().ok())
        .map(|e| IndexRecord {
            key: e.key,
            leaf_hash: e.leaf_hash,
            leaf_index: e.leaf_index,
            timestamp,
        })
        .collect();
    shared.index.lock().map_err(poisoned)?.append(&records)?;
    *shared.head.write().map_err(poisoned)? = Arc::new(Head {
        sth: batch.sth,
        note,
    });
    Ok(batch
        .entries
        .into_iter()
        .map(|e| e.map(|s| s.sct).map_err(|e| e.to_string()))
        .collect())
}

/// How long a head may go unrefreshed when nothing is submitted.
const REFRESH: Duration = Duration::from_secs(30);

/// The sequencer task: every period, take the pool, commit it, answer the waiters. On
/// a failure, fail the batch's waiters and rebuild the state from storage.
async fn run(weak: Weak<Shared>, mut state: Option<State>) {
    let period = match weak.upgrade() {
        Some(s) => s.config.period,
        None => return,
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let _ = shared.reload_roots();
        let mut current = match state.take() {
            Some(s) => s,
            None => match recover(&shared).await {
                Ok(s) => s,
                Err(_) => continue,
            },
        };
        let items = match shared.pool.lock() {
            Ok(mut p) => {
                let items = p.pool.take();
                for (sub, _) in &items {
                    p.inflight.insert(sub.dedup_key(), Vec::new());
                }
                items
            }
            Err(_) => return,
        };
        let stale = now_ms().saturating_sub(shared.head().sth.timestamp)
            > u64::try_from(REFRESH.as_millis()).unwrap_or(u64::MAX);
        if items.is_empty() && !stale {
            state = Some(current);
            continue;
        }
        let (subs, mut waiters): (Vec<Submission>, Vec<Vec<Waiter>>) = items.into_iter().unzip();
        let result = commit(&shared, &mut current, &subs).await;
        if let Ok(mut p) = shared.pool.lock() {
            for (sub, w) in subs.iter().zip(waiters.iter_mut()) {
                if let Some(more) = p.inflight.remove(&sub.dedup_key()) {
                    w.extend(more);
                }
            }
        }
        match result {
            Ok(scts) => {
                for (sct, ws) in scts.into_iter().zip(waiters) {
                    for w in ws {
                        let _ = w.send(sct.clone().map_err(AddError::Unavailable));
                    }
                }
                state = Some(current);
            }
            Err(e) => {
                for w in waiters.into_iter().flatten() {
                    let _ = w.send(Err(AddError::Unavailable(e.to_string())));
                }
                state = None;
            }
        }
    }
}

/// A running CT log.
pub struct Log {
    shared: Arc<Shared>,
    sequencer: Arc<dyn Sequencer>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Log {
    fn drop(&mut self) {
        self.task.abort();
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
    /// sequencer task (so it must run inside a Tokio runtime).
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
        let index = Index::load(config.data_dir.join(INDEX_FILE))?;
        let placeholder = SignedTreeHead::sign(&key, 0, 0, empty_root());
        let pool_size = config.pool_size;
        let shared = Arc::new(Shared {
            config,
            key,
            storage,
            roots: RwLock::new(Arc::new(roots)),
            roots_stamp: Mutex::new(roots_stamp),
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
            _lock: lock,
        });
        let state = recover(&shared).await?;
        let task = tokio::spawn(run(Arc::downgrade(&shared), Some(state)));
        Ok(Log {
            sequencer: Arc::new(LocalSequencer {
                shared: Arc::clone(&shared),
            }),
            shared,
            task,
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
        let roots = self.roots();
        let valid = validate(chain, &roots, kind).map_err(AddError::Chain)?;
        let submission = Submission::from_chain(&valid).map_err(AddError::Cert)?;
        if let Some(sct) = self.shared.known_sct(&submission)? {
            return Ok(sct);
        }
        self.sequencer.submit(submission).await
    }

    /// The latest published head.
    pub fn head(&self) -> Arc<Head> {
        self.sequencer.head()
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
