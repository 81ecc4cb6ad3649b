//! Following a static-ct-api log from its tiles, as `zdns ct watch` does: fetch the
//! checkpoint, check its signature, check from the tiles that they hash to it and that
//! it is consistent with the last checkpoint seen (a consistency proof computed from the
//! tiles, verified against both roots), then read the new entries from the data tiles
//! and report those whose names a watched domain covers.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::checkpoint::Checkpoint;
use crate::checkpoint::note::{NoteVerifier, SignedNote};
use crate::client::Client;
use crate::merkle::{consistency_proof, root_at, verify_consistency};
use crate::tiles::data::decode_data_tile;
use crate::tiles::hashes::{TileReader, TileSource};
use crate::tiles::{TILE_WIDTH, TileId, TileKind};
use crate::witness::cosignature::LogVerifier;

use super::matching::{entry_names, matching};

/// Why following the log failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowError {
    /// The log could not be reached or answered badly.
    Fetch(String),
    /// The checkpoint is malformed or its signature does not verify.
    Checkpoint(String),
    /// The tiles do not hash to the checkpoint.
    Tiles(String),
    /// The new checkpoint is not consistent with the last one seen: the log forked or
    /// rolled back.
    Inconsistent(String),
}

impl core::fmt::Display for FollowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FollowError::Fetch(why) => write!(f, "fetching: {why}"),
            FollowError::Checkpoint(why) => write!(f, "checkpoint: {why}"),
            FollowError::Tiles(why) => write!(f, "tiles: {why}"),
            FollowError::Inconsistent(why) => write!(f, "INCONSISTENT LOG: {why}"),
        }
    }
}

impl std::error::Error for FollowError {}

/// An entry a watched domain matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The watched domain.
    pub domain: String,
    /// The entry's leaf index.
    pub leaf_index: u64,
    /// Whether it is a precertificate entry.
    pub precert: bool,
    /// Its names that the domain covers.
    pub names: Vec<String>,
    /// Its SCT timestamp, milliseconds.
    pub timestamp: u64,
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// The checkpoint now followed.
    pub checkpoint: Checkpoint,
    /// The size of the previous checkpoint it was proven consistent with, if any.
    pub consistent_with: Option<u64>,
    /// The matches among the entries new since the previous checkpoint.
    pub matches: Vec<Match>,
}

/// Tiles fetched so far, offered to the sync cores; records the first one missing.
struct Fetched<'a> {
    tiles: &'a HashMap<TileId, Vec<u8>>,
    missing: RefCell<Option<TileId>>,
}

impl TileReader for &Fetched<'_> {
    type Error = String;

    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, String> {
        match self.tiles.get(&tile) {
            Some(t) => Ok(t.clone()),
            None => {
                self.missing.borrow_mut().get_or_insert(tile);
                Err(format!("{} not fetched", tile.path()))
            }
        }
    }
}

/// Follows one log.
pub struct Follower {
    base: String,
    client: Client,
    verifier: Option<LogVerifier>,
    last: Option<Checkpoint>,
    next_index: u64,
    tiles: HashMap<TileId, Vec<u8>>,
}

impl core::fmt::Debug for Follower {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Follower")
            .field("base", &self.base)
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl Follower {
    /// Follows the log whose monitoring prefix is `base` (e.g.
    /// `http://127.0.0.1:8053/ct/`), checking checkpoint signatures with `verifier`
    /// when given, reporting entries from `from` on.
    pub fn new(base: &str, client: Client, verifier: Option<LogVerifier>, from: u64) -> Self {
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        Follower {
            base,
            client,
            verifier,
            last: None,
            next_index: from,
            tiles: HashMap::new(),
        }
    }

    /// Resumes from a checkpoint seen earlier (its entries already scanned).
    pub fn resume(&mut self, last: Checkpoint) {
        self.next_index = last.size;
        self.last = Some(last);
    }

    /// The last checkpoint verified.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    async fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, FollowError> {
        let url = format!("{}{path}", self.base);
        let resp = self.client.get(&url).await.map_err(FollowError::Fetch)?;
        match resp.status {
            200 => Ok(Some(resp.body)),
            404 => Ok(None),
            s => Err(FollowError::Fetch(format!("{url}: status {s}"))),
        }
    }

    async fn tile(&self, id: TileId) -> Result<Vec<u8>, FollowError> {
        if let Some(t) = self.fetch(&id.path()).await? {
            return Ok(t);
        }
        // A partial tile since completed is served in full (static-ct-api).
        if !id.is_full()
            && let Some(t) = self.fetch(&id.full().path()).await?
        {
            return Ok(t);
        }
        Err(FollowError::Fetch(format!("{} not found", id.path())))
    }

    /// Runs `f` over the fetched tiles, fetching each tile it lacks and running again.
    async fn with_tiles<T>(
        &mut self,
        f: impl Fn(&Fetched<'_>) -> Result<T, String>,
    ) -> Result<T, FollowError> {
        loop {
            let reader = Fetched {
                tiles: &self.tiles,
                missing: RefCell::new(None),
            };
            let result = f(&reader);
            let missing = reader.missing.into_inner();
            match (result, missing) {
                (Err(_), Some(id)) => {
                    let data = self.tile(id).await?;
                    self.tiles.insert(id, data);
                }
                (result, _) => return result.map_err(FollowError::Tiles),
            }
        }
    }

    /// Polls once: verifies the current checkpoint against the tiles and the last one
    /// seen, and returns the matches of `domains` among the new entries.
    pub async fn poll(&mut self, domains: &[String]) -> Result<Round, FollowError> {
        let bytes = self
            .fetch("checkpoint")
            .await?
            .ok_or_else(|| FollowError::Fetch("no checkpoint".into()))?;
        let text =
            String::from_utf8(bytes).map_err(|_| FollowError::Checkpoint("not UTF-8".into()))?;
        let note = SignedNote::parse(&text).map_err(|e| FollowError::Checkpoint(e.to_string()))?;
        if let Some(v) = &self.verifier {
            let keys: [&dyn NoteVerifier; 1] = [v.as_ref()];
            note.verify(&keys)
                .map_err(|e| FollowError::Checkpoint(e.to_string()))?;
        }
        let cp = Checkpoint::parse_text(&note.text)
            .map_err(|e| FollowError::Checkpoint(e.to_string()))?;
        // Drop cached partial tiles: they may have grown.
        self.tiles.retain(|id, _| id.is_full());
        let size = cp.size;
        let root = self
            .with_tiles(|r| root_at(&TileSource::new(r, size), size).map_err(|e| format!("{e:?}")))
            .await?;
        if root != cp.root {
            return Err(FollowError::Tiles(format!(
                "the tiles hash to another root than the checkpoint of size {size}"
            )));
        }
        let mut consistent_with = None;
        if let Some(last) = &self.last {
            let (old, old_root) = (last.size, last.root);
            if size < old {
                return Err(FollowError::Inconsistent(format!(
                    "the tree shrank from {old} to {size}"
                )));
            }
            if old > 0 {
                let proof = self
                    .with_tiles(|r| {
                        consistency_proof(&TileSource::new(r, size), old, size)
                            .map_err(|e| format!("{e:?}"))
                    })
                    .await?;
                verify_consistency(old, size, &proof, &old_root, &cp.root)
                    .map_err(|e| FollowError::Inconsistent(format!("{old} to {size}: {e:?}")))?;
            }
            consistent_with = Some(old);
        }
        let matches = self.scan(domains, size).await?;
        self.last = Some(cp.clone());
        self.next_index = size.max(self.next_index);
        Ok(Round {
            checkpoint: cp,
            consistent_with,
            matches,
        })
    }

    /// Reads the entries `[next_index, size)` from the data tiles and matches them.
    async fn scan(&mut self, domains: &[String], size: u64) -> Result<Vec<Match>, FollowError> {
        let mut matches = Vec::new();
        let width = u64::from(TILE_WIDTH);
        let mut index = self.next_index;
        while index < size {
            let tile = index / width;
            let tile_end = ((tile + 1) * width).min(size);
            let w = u16::try_from(tile_end - tile * width)
                .map_err(|_| FollowError::Tiles("tile width".into()))?;
            let id = TileId::new(TileKind::Data, tile, w)
                .ok_or_else(|| FollowError::Tiles("data tile id".into()))?;
            let data = self.tile(id).await?;
            let leaves = decode_data_tile(&data, w)
                .or_else(|_| {
                    decode_data_tile(&data, TILE_WIDTH).map(|mut all| {
                        all.truncate(usize::from(w));
                        all
                    })
                })
                .map_err(|e| FollowError::Tiles(format!("{}: {e}", id.path())))?;
            for (i, leaf) in (tile * width..).zip(&leaves) {
                if i < index {
                    continue;
                }
                let names = entry_names(leaf);
                for domain in domains {
                    let found = matching(domain, &names);
                    if !found.is_empty() {
                        matches.push(Match {
                            domain: domain.clone(),
                            leaf_index: i,
                            precert: leaf.pre_certificate.is_some(),
                            names: found,
                            timestamp: leaf.entry.timestamp,
                        });
                    }
                }
            }
            index = tile_end;
        }
        Ok(matches)
    }
}
