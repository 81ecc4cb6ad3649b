//! Recovery on open and after a failed commit: finish an interrupted commit from the
//! staging bundle, rebuild the tile writer, and fill the deduplication index.

use super::*;

/// The sequencer's own state: the tree being built and the lock's version.
pub(super) struct State {
    pub(super) writer: TileWriter,
    pub(super) lock: Version,
    pub(super) known_issuers: HashSet<[u8; 32]>,
    /// Whether the committed head still waits to be published (with the cosignatures
    /// its witnesses must give first).
    pub(super) publish_due: bool,
}

/// Recovers storage to a consistent log (finishing an interrupted commit), fills the
/// deduplication index from the tiles it lacks, and returns the sequencer state.
pub(super) async fn recover(shared: &Shared) -> Result<State, LogError> {
    let storage = &shared.storage;
    let origin = shared.config.origin.as_str();
    let public = shared.key.public();
    let witnessed = shared.config.witnesses.is_some();
    let mut publish_due = false;
    let (lock_sth, lock_note, lock) = match storage.get_versioned(LOCK_KEY).await? {
        None => {
            let sth = SignedTreeHead::sign(&shared.key, now_ms(), 0, empty_root());
            let note = sth.to_note(origin, public).map_err(note_err)?;
            let v = storage
                .put_if(LOCK_KEY, note.as_bytes().to_vec(), None)
                .await?;
            if witnessed {
                publish_due = true;
            } else {
                storage
                    .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
                    .await?;
            }
            (sth, note, v)
        }
        Some((data, v)) => {
            let note = String::from_utf8(data)
                .map_err(|_| LogError::Corrupt("the lock checkpoint is not UTF-8".into()))?;
            let sth = SignedTreeHead::from_note(&note, origin, public).map_err(note_err)?;
            let published = storage.get(CHECKPOINT_KEY).await?;
            // A witnessed log publishes the lock checkpoint with cosignatures: the same
            // head is published when the public note is the lock's plus signature lines.
            let same_head = published
                .as_deref()
                .is_some_and(|p| p == note.as_bytes() || (witnessed && same_body(p, &note)));
            if !same_head {
                apply_staging(storage.as_ref(), &sth).await?;
                if witnessed {
                    publish_due = true;
                } else {
                    storage
                        .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
                        .await?;
                }
            }
            (sth, note, v)
        }
    };
    // A witnessed log serves the last checkpoint published with its cosignatures, and
    // publishes again if that one lacks the cosignatures its policy now asks for.
    let (sth, note) = match (storage.get(CHECKPOINT_KEY).await?, &shared.config.witnesses) {
        (Some(p), Some(set)) => {
            let p = String::from_utf8(p)
                .map_err(|_| LogError::Corrupt("the checkpoint is not UTF-8".into()))?;
            let sth = SignedTreeHead::from_note(&p, origin, public).map_err(note_err)?;
            let verifier = crate::checkpoint::rfc6962::Rfc6962Verifier::new(origin, public.clone());
            if set.policy().verify(&p, &verifier).is_err() {
                publish_due = true;
            }
            (sth, p)
        }
        _ => (lock_sth.clone(), lock_note),
    };
    let size = lock_sth.size;
    let writer = shared
        .with_tiles(|reader| TileWriter::resume(reader, size))
        .await?
        .map_err(|e| LogError::Corrupt(e.to_string()))?;
    if writer.root() != lock_sth.root {
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
        publish_due,
    })
}

/// Whether the published note `published` is the lock note `lock` with more signature
/// lines (the witnesses' cosignatures).
fn same_body(published: &[u8], lock: &str) -> bool {
    let Some(body) = lock.strip_suffix('\n') else {
        return false;
    };
    published.starts_with(body.as_bytes())
        && std::str::from_utf8(published)
            .is_ok_and(|p| crate::checkpoint::note::SignedNote::parse(p).is_ok())
}

pub(super) fn note_err(e: NoteError) -> LogError {
    LogError::Corrupt(format!("checkpoint: {e}"))
}

/// Re-applies the staging bundle of the lock checkpoint: its tiles.
pub(super) async fn apply_staging(
    storage: &dyn Storage,
    sth: &SignedTreeHead,
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
    Ok(())
}

/// Adds the entries `[index.next, size)` to the deduplication index from the data
/// tiles (after a crash between a commit and the index append).
pub(super) async fn fill_index(shared: &Shared, size: u64) -> Result<(), LogError> {
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
