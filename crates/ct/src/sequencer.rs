//! The sans-I/O sequencing core: the bounded pool of pending submissions, turning a pool
//! into a batch (leaf indexes, SCTs, tiles, the signed tree head), the staging bundle
//! that makes a batch's commit crash-safe, and the records of the deduplication index.
//! The async driver that runs it on a timer and talks to storage is [`crate::log`].
//!
//! A batch is committed in this order (static-ct-api logs, as Sunlight does it):
//! 1. the staging bundle (every tile of the batch) is written;
//! 2. the lock checkpoint is compare-and-swapped from the previous tree head to the new
//!    one: from here the batch is committed;
//! 3. the tiles are written, and meanwhile the deduplication index is appended;
//! 4. the public `checkpoint` is written (with witness cosignatures when the log has
//!    witnesses), and the SCTs are returned.
//!
//! A crash before 2 loses the batch, for which no SCT was issued; a crash after 2 is
//! recovered by re-applying the staging bundle of the lock checkpoint ([`Staging`]).

use core::borrow::Borrow;
use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::cert::CertError;
use crate::chain::{ValidChain, fingerprint};
use crate::checkpoint::rfc6962::SignedTreeHead;
use crate::entry::{SignedEntry, leaf_index_extensions};
use crate::keys::LogKey;
use crate::merkle::Hash;
use crate::tiles::TileId;
use crate::tiles::data::TileLeaf;
use crate::tiles::writer::{Flush, TileWriter, WriterError};
use crate::tls::{EncodeError, Reader, put_uint, put_vec};

/// A validated submission waiting to be sequenced, with the hashes the pool, the
/// deduplication index and the data tile need computed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    entry: SignedEntry,
    pre_certificate: Option<Vec<u8>>,
    issuers: Vec<Vec<u8>>,
    issuer_fingerprints: Vec<[u8; 32]>,
    not_before: u64,
    key: [u8; 32],
}

impl Submission {
    /// A submission of `entry`, with for a precertificate the precertificate as
    /// submitted, the issuers (DER, leaf's issuer first, ending with the root) and the
    /// leaf's `notBefore` in seconds since the Unix epoch (0 when unreadable, which
    /// makes it old: what [`Priority`] is decided from).
    pub fn new(
        entry: SignedEntry,
        pre_certificate: Option<Vec<u8>>,
        issuers: Vec<Vec<u8>>,
        not_before: u64,
    ) -> Self {
        let key = match (&entry, &pre_certificate) {
            (SignedEntry::X509(cert), _) => dedup_key(false, cert),
            (SignedEntry::Precert(_), Some(pre)) => dedup_key(true, pre),
            (SignedEntry::Precert(p), None) => dedup_key(true, &p.tbs_certificate),
        };
        let issuer_fingerprints = issuers.iter().map(|der| fingerprint(der)).collect();
        Submission {
            entry,
            pre_certificate,
            issuers,
            issuer_fingerprints,
            not_before,
            key,
        }
    }

    /// The submission for a validated chain, which it takes apart without copying.
    pub fn from_chain(chain: ValidChain) -> Result<Self, CertError> {
        let not_before = crate::cert::not_before(chain.leaf()).unwrap_or(0);
        let (entry, pre_certificate, issuers) = chain.into_parts()?;
        Ok(Submission::new(entry, pre_certificate, issuers, not_before))
    }

    /// The entry the SCT signs.
    pub fn entry(&self) -> &SignedEntry {
        &self.entry
    }

    /// For a precertificate, the precertificate as submitted.
    pub fn pre_certificate(&self) -> Option<&[u8]> {
        self.pre_certificate.as_deref()
    }

    /// The issuers (DER), leaf's issuer first, ending with the root.
    pub fn issuers(&self) -> &[Vec<u8>] {
        &self.issuers
    }

    /// The leaf's `notBefore`, seconds since the Unix epoch.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// The priority of this submission when the pool holds it at `now` (seconds since
    /// the Unix epoch).
    pub fn priority(&self, now: u64) -> Priority {
        Priority::of(self.not_before, now)
    }

    /// The deduplication key: SHA-256 of the entry type and the submitted leaf, so
    /// that the same certificate (or precertificate) gets the same SCT whatever chain
    /// it came with (computed once, by [`Submission::new`]).
    pub fn dedup_key(&self) -> [u8; 32] {
        self.key
    }

    /// The data tile entry for this submission at `leaf_index`, sequenced at
    /// `timestamp`.
    pub fn tile_leaf(&self, timestamp: u64, leaf_index: u64) -> Result<TileLeaf, EncodeError> {
        let extensions = leaf_index_extensions(leaf_index).ok_or(EncodeError::Length {
            field: "leaf_index",
            len: 6,
            min: 0,
            max: 5,
        })?;
        Ok(TileLeaf {
            entry: crate::entry::TimestampedEntry {
                timestamp,
                entry: self.entry.clone(),
                extensions,
            },
            pre_certificate: self.pre_certificate.clone(),
            chain: self.issuer_fingerprints.clone(),
        })
    }
}

/// The deduplication key of a leaf: SHA-256 of a type byte (1 for a precertificate)
/// and the leaf's fingerprint, so that it can be found from a fingerprint alone.
pub fn dedup_key(precert: bool, der: &[u8]) -> [u8; 32] {
    fingerprint_key(precert, &fingerprint(der))
}

/// The deduplication key of a leaf with SHA-256 fingerprint `fp`.
pub fn fingerprint_key(precert: bool, fp: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([u8::from(precert)]);
    h.update(fp);
    h.finalize().into()
}

/// The deduplication key of a stored entry.
pub fn leaf_dedup_key(leaf: &TileLeaf) -> [u8; 32] {
    match (&leaf.entry.entry, &leaf.pre_certificate) {
        (SignedEntry::X509(cert), _) => dedup_key(false, cert),
        (SignedEntry::Precert(_), Some(pre)) => dedup_key(true, pre),
        (SignedEntry::Precert(p), None) => dedup_key(true, &p.tbs_certificate),
    }
}

/// How far back a certificate's `notBefore` may lie for it to count as fresh: the 48
/// hours of backdating the CA/Browser Forum Baseline Requirements allow (§7.1.2.7).
pub const FRESH_WINDOW_SECS: u64 = 48 * 3600;

/// The share of the pool (one part in this many) that old submissions may fill, so the
/// rest stays for fresh ones.
pub const OLD_SHARE_DIVISOR: usize = 2;

/// How urgently a submission needs its SCT. Sunlight's rule for old certificates
/// (FiloSottile/sunlight#32): a CA waiting on an SCT to issue submits a fresh
/// (pre)certificate, while bulk resubmission of old entries copied from other logs can
/// wait. Old submissions may fill only part of the pool, and a fresh submission that
/// finds the pool full evicts the newest old one rather than being refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// `notBefore` within [`FRESH_WINDOW_SECS`] of now (or in the future).
    Fresh,
    /// Issued earlier than that.
    Old,
}

impl Priority {
    /// The priority of a leaf with `not_before` submitted at `now` (both seconds since
    /// the Unix epoch).
    pub fn of(not_before: u64, now: u64) -> Priority {
        if now.saturating_sub(not_before) > FRESH_WINDOW_SECS {
            Priority::Old
        } else {
            Priority::Fresh
        }
    }
}

/// The pool has no room for the submission: the submitter should retry later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolFull;

/// One pending submission with its waiters.
#[derive(Debug)]
struct Pending<W> {
    submission: Arc<Submission>,
    waiters: Vec<W>,
}

/// The bounded pool of submissions for the next batch. A submission already pending
/// joins it (its waiter gets the same SCT) rather than taking a slot; old submissions
/// are admitted by the rules of [`Priority`].
#[derive(Debug)]
pub struct Pool<W> {
    /// In arrival order; `None` where an old submission was evicted.
    slots: Vec<Option<Pending<W>>>,
    index: HashMap<[u8; 32], usize>,
    /// Slots of pending old submissions, in arrival order.
    old: Vec<usize>,
    live: usize,
    limit: usize,
}

impl<W> Pool<W> {
    /// A pool of at most `limit` distinct submissions, of which at most
    /// `limit / OLD_SHARE_DIVISOR` (but at least one) old ones.
    pub fn new(limit: usize) -> Self {
        Pool {
            slots: Vec::new(),
            index: HashMap::new(),
            old: Vec::new(),
            live: 0,
            limit,
        }
    }

    /// Adds a submission of `priority` with the waiter to tell. Returns the waiters of
    /// an old submission evicted to make room (to be told to retry), or [`PoolFull`].
    pub fn add(
        &mut self,
        submission: Arc<Submission>,
        priority: Priority,
        waiter: W,
    ) -> Result<Vec<W>, PoolFull> {
        let key = submission.dedup_key();
        if let Some(&at) = self.index.get(&key)
            && let Some(Some(pending)) = self.slots.get_mut(at)
        {
            pending.waiters.push(waiter);
            return Ok(Vec::new());
        }
        let mut evicted = Vec::new();
        match priority {
            Priority::Old => {
                if self.live >= self.limit || self.old.len() >= self.old_limit() {
                    return Err(PoolFull);
                }
            }
            Priority::Fresh => {
                if self.live >= self.limit {
                    evicted = self.evict_old().ok_or(PoolFull)?;
                }
            }
        }
        let at = self.slots.len();
        self.index.insert(key, at);
        if priority == Priority::Old {
            self.old.push(at);
        }
        self.slots.push(Some(Pending {
            submission,
            waiters: vec![waiter],
        }));
        self.live += 1;
        Ok(evicted)
    }

    /// How many old submissions may be pending: their share of the pool, at least one
    /// (a fresh submission can still evict it).
    fn old_limit(&self) -> usize {
        (self.limit / OLD_SHARE_DIVISOR).max(1)
    }

    /// Evicts the newest pending old submission; its waiters, or `None` if none is
    /// pending.
    fn evict_old(&mut self) -> Option<Vec<W>> {
        let at = self.old.pop()?;
        let pending = self.slots.get_mut(at)?.take()?;
        self.index.remove(&pending.submission.dedup_key());
        self.live -= 1;
        Some(pending.waiters)
    }

    /// Whether the submission with deduplication key `key` is pending.
    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.index.contains_key(key)
    }

    /// How many distinct submissions are pending.
    pub fn len(&self) -> usize {
        self.live
    }

    /// How many of them are old.
    pub fn old_len(&self) -> usize {
        self.old.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Takes every pending submission, in arrival order.
    pub fn take(&mut self) -> Vec<(Arc<Submission>, Vec<W>)> {
        self.index.clear();
        self.old.clear();
        self.live = 0;
        std::mem::take(&mut self.slots)
            .into_iter()
            .flatten()
            .map(|p| (p.submission, p.waiters))
            .collect()
    }
}

/// One sequenced entry of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequenced {
    /// Its leaf index.
    pub leaf_index: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// Its deduplication key.
    pub key: [u8; 32],
}

/// A sequenced batch, ready to commit.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The entries, in pool order (an error where a submission could not be encoded;
    /// its waiters get it).
    pub entries: Vec<Result<Sequenced, EncodeError>>,
    /// The tiles to write and the new tree head.
    pub flush: Flush,
    /// The signed tree head of the new tree.
    pub sth: SignedTreeHead,
    /// The issuers the batch's entries reference: fingerprint and DER.
    pub issuers: Vec<([u8; 32], Vec<u8>)>,
}

/// Why a batch could not be sequenced (the writer must then be rebuilt from storage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceError {
    /// Appending to the tree failed.
    Writer(WriterError),
}

impl fmt::Display for SequenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceError::Writer(e) => write!(f, "sequencing: {e:?}"),
        }
    }
}

impl std::error::Error for SequenceError {}

/// Sequences `submissions` at `timestamp` (milliseconds): appends each to `writer` and
/// signs the new tree head. Each entry's SCT is `Sct::issue(key, timestamp, entry,
/// leaf_index)`, signed by whoever answers its submitter once the batch is durable, so
/// that signing runs in parallel outside the sequencer.
pub fn sequence<S: Borrow<Submission>>(
    writer: &mut TileWriter,
    submissions: &[S],
    timestamp: u64,
    key: &LogKey,
) -> Result<Batch, SequenceError> {
    let mut entries = Vec::with_capacity(submissions.len());
    let mut issuers: HashMap<[u8; 32], Vec<u8>> = HashMap::new();
    for sub in submissions {
        let sub = sub.borrow();
        let leaf = match sub.tile_leaf(timestamp, writer.size()) {
            Ok(leaf) => leaf,
            Err(e) => {
                entries.push(Err(e));
                continue;
            }
        };
        // Only an encodable leaf reaches the tree: the writer encodes it before it
        // appends anything.
        let (index, leaf_hash) = match writer.append(&leaf) {
            Ok(placed) => placed,
            Err(WriterError::Encode(e)) => {
                entries.push(Err(e));
                continue;
            }
            Err(e) => return Err(SequenceError::Writer(e)),
        };
        for (fp, der) in sub.issuer_fingerprints.iter().zip(&sub.issuers) {
            issuers.entry(*fp).or_insert_with(|| der.clone());
        }
        entries.push(Ok(Sequenced {
            leaf_index: index,
            leaf_hash,
            key: sub.key,
        }));
    }
    let flush = writer.flush();
    let sth = SignedTreeHead::sign(key, timestamp, flush.size, flush.root);
    Ok(Batch {
        entries,
        flush,
        sth,
        issuers: issuers.into_iter().collect(),
    })
}

/// The staging bundle: a batch's tiles with the tree head they lead to, written before
/// the lock checkpoint moves, so that a commit interrupted after it can be finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staging {
    /// The tree size.
    pub size: u64,
    /// The tree hash.
    pub root: Hash,
    /// The tiles.
    pub tiles: Vec<(TileId, Vec<u8>)>,
}

impl Staging {
    /// Encodes: size, root, then each tile as a path (u16 length) and contents (u32
    /// length).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        put_uint(&mut out, 8, self.size);
        out.extend_from_slice(&self.root.0);
        for (id, bytes) in &self.tiles {
            put_vec(&mut out, 2, 1, id.path().as_bytes(), "tile path")?;
            put_vec(&mut out, 4, 0, bytes, "tile")?;
        }
        Ok(out)
    }

    /// Decodes a bundle; an error for anything malformed.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader::new(bytes);
        let size = r.u64("size").map_err(|e| e.to_string())?;
        let root = Hash(r.array("root").map_err(|e| e.to_string())?);
        let mut tiles = Vec::new();
        while !r.is_empty() {
            let path = r.vec(2, 1, "tile path").map_err(|e| e.to_string())?;
            let path = std::str::from_utf8(path).map_err(|e| e.to_string())?;
            let id = TileId::parse_path(path).map_err(|e| e.to_string())?;
            let data = r.vec(4, 0, "tile").map_err(|e| e.to_string())?;
            tiles.push((id, data.to_vec()));
        }
        Ok(Staging { size, root, tiles })
    }
}

/// One record of the deduplication index: an entry's key, leaf hash, index and
/// timestamp (from which its SCT is re-issued, identical, since signing is
/// deterministic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexRecord {
    /// The deduplication key.
    pub key: [u8; 32],
    /// The leaf hash (for `get-proof-by-hash`).
    pub leaf_hash: Hash,
    /// The leaf index.
    pub leaf_index: u64,
    /// The SCT timestamp.
    pub timestamp: u64,
}

/// The size of an encoded [`IndexRecord`].
pub const INDEX_RECORD_LEN: usize = 80;

impl IndexRecord {
    /// The fixed-size encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.key);
        out.extend_from_slice(&self.leaf_hash.0);
        out.extend_from_slice(&self.leaf_index.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
    }

    /// The records of an index file; a torn last record (a crash mid-append) is
    /// ignored. Returns the records and the length of the whole records.
    pub fn decode_all(bytes: &[u8]) -> (Vec<IndexRecord>, usize) {
        let mut out = Vec::with_capacity(bytes.len() / INDEX_RECORD_LEN);
        for chunk in bytes.chunks_exact(INDEX_RECORD_LEN) {
            let mut r = Reader::new(chunk);
            let rec = (|| {
                Some(IndexRecord {
                    key: r.array("key").ok()?,
                    leaf_hash: Hash(r.array("leaf hash").ok()?),
                    leaf_index: r.u64("index").ok()?,
                    timestamp: r.u64("timestamp").ok()?,
                })
            })();
            if let Some(rec) = rec {
                out.push(rec);
            }
        }
        let whole = out.len() * INDEX_RECORD_LEN;
        (out, whole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::MemoryTree;
    use crate::sct::Sct;

    fn submission(n: u8, not_before: u64) -> Submission {
        Submission::new(
            SignedEntry::X509(vec![0x30, 0x01, n]),
            None,
            vec![vec![0x30, 0x01, 0xff]],
            not_before,
        )
    }

    fn sub(n: u8) -> Arc<Submission> {
        Arc::new(submission(n, 0))
    }

    #[test]
    fn pool_is_bounded_and_merges_duplicates() {
        let fresh = Priority::Fresh;
        let mut pool = Pool::new(2);
        assert!(pool.add(sub(1), fresh, 'a').unwrap().is_empty());
        pool.add(sub(1), fresh, 'b').unwrap();
        pool.add(sub(2), fresh, 'c').unwrap();
        assert_eq!(pool.add(sub(3), fresh, 'd'), Err(PoolFull));
        // A duplicate of a pending entry still joins a full pool.
        pool.add(sub(2), fresh, 'e').unwrap();
        let taken = pool.take();
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[0].1, vec!['a', 'b']);
        assert_eq!(taken[1].1, vec!['c', 'e']);
        assert!(pool.is_empty());
        pool.add(sub(3), fresh, 'f').unwrap();
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn priority_is_decided_by_the_48_hour_backdating_window() {
        let now = 1_000_000_000;
        assert_eq!(Priority::of(now, now), Priority::Fresh);
        assert_eq!(Priority::of(now + 3600, now), Priority::Fresh);
        assert_eq!(Priority::of(now - FRESH_WINDOW_SECS, now), Priority::Fresh);
        assert_eq!(
            Priority::of(now - FRESH_WINDOW_SECS - 1, now),
            Priority::Old
        );
        assert_eq!(Priority::of(0, now), Priority::Old);
        assert_eq!(submission(1, now - 60).priority(now), Priority::Fresh);
    }

    #[test]
    fn old_submissions_fill_only_their_share_and_yield_to_fresh_ones() {
        let (fresh, old) = (Priority::Fresh, Priority::Old);
        let mut pool = Pool::new(4);
        // Old entries may take half the pool.
        pool.add(sub(1), old, 1).unwrap();
        pool.add(sub(2), old, 2).unwrap();
        assert_eq!(pool.add(sub(3), old, 3), Err(PoolFull));
        assert_eq!(pool.old_len(), 2);
        // A duplicate of a pending old entry still joins.
        assert!(pool.add(sub(2), old, 22).unwrap().is_empty());
        // Fresh entries take the rest...
        pool.add(sub(4), fresh, 4).unwrap();
        pool.add(sub(5), fresh, 5).unwrap();
        assert_eq!(pool.len(), 4);
        // ...and then evict the newest old entry, whose waiters are handed back.
        assert_eq!(pool.add(sub(6), fresh, 6).unwrap(), vec![2, 22]);
        assert!(!pool.contains(&sub(2).dedup_key()));
        assert_eq!(pool.add(sub(7), fresh, 7).unwrap(), vec![1]);
        assert_eq!(pool.old_len(), 0);
        // With no old entry left, a full pool refuses fresh ones too.
        assert_eq!(pool.add(sub(8), fresh, 8), Err(PoolFull));
        assert_eq!(pool.add(sub(9), old, 9), Err(PoolFull));
        let order: Vec<_> = pool.take().into_iter().map(|(_, w)| w).collect();
        assert_eq!(order, vec![vec![4], vec![5], vec![6], vec![7]]);
        // The evicted entry can come back in the next pool.
        assert!(pool.add(sub(2), old, 2).unwrap().is_empty());
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn batches_issue_verifiable_scts_for_the_tree_they_build() {
        let key = LogKey::from_scalar(&[3; 32]).unwrap();
        let mut writer = TileWriter::new();
        let mut tree = MemoryTree::new();
        let subs: Vec<_> = (0..5).map(sub).collect();
        let batch = sequence(&mut writer, &subs, 1000, &key).unwrap();
        assert_eq!(batch.flush.size, 5);
        for (i, (e, s)) in batch.entries.iter().zip(&subs).enumerate() {
            let e = e.as_ref().unwrap();
            assert_eq!(e.leaf_index, i as u64);
            let (sct, stored) = Sct::issue(&key, 1000, s.entry.clone(), e.leaf_index).unwrap();
            assert_eq!(sct.leaf_index().unwrap(), Some(i as u64));
            assert_eq!(stored.leaf_hash().unwrap(), e.leaf_hash);
            assert_eq!(e.key, s.dedup_key());
            tree.append(e.leaf_hash).unwrap();
        }
        assert_eq!(batch.sth.root, tree.root());
        batch.sth.verify(key.public()).unwrap();
        assert_eq!(batch.issuers.len(), 1);
        // The staging bundle round-trips.
        let staging = Staging {
            size: batch.flush.size,
            root: batch.flush.root,
            tiles: batch.flush.tiles.clone(),
        };
        assert_eq!(
            Staging::decode(&staging.encode().unwrap()).unwrap(),
            staging
        );
        assert!(Staging::decode(&[0; 39]).is_err());
        let mut bad = staging.encode().unwrap();
        bad.push(0);
        assert!(Staging::decode(&bad).is_err());
    }

    #[test]
    fn index_records_round_trip_and_ignore_a_torn_tail() {
        let recs: Vec<_> = (0..3u8)
            .map(|i| IndexRecord {
                key: [i; 32],
                leaf_hash: Hash([i + 10; 32]),
                leaf_index: u64::from(i),
                timestamp: 77,
            })
            .collect();
        let mut bytes = Vec::new();
        for r in &recs {
            r.encode(&mut bytes);
        }
        assert_eq!(bytes.len(), 3 * INDEX_RECORD_LEN);
        bytes.extend_from_slice(&[1, 2, 3]);
        let (back, whole) = IndexRecord::decode_all(&bytes);
        assert_eq!(back, recs);
        assert_eq!(whole, 3 * INDEX_RECORD_LEN);
    }
}
