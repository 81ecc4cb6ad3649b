//! The single-node sequencer: the pool and the task that sequences it every period,
//! committing each batch in the crash-safe order of [`crate::sequencer`].

use super::recover::{State, note_err};
use super::*;

/// Told the leaf index and timestamp of its entry once the batch is durable.
pub(super) type Waiter = oneshot::Sender<Result<(u64, u64), AddError>>;

/// The pool and the submissions being committed.
pub(super) struct PoolState {
    pub(super) pool: Pool<Waiter>,
    pub(super) inflight: HashMap<[u8; 32], Vec<Waiter>>,
}

/// The single-node sequencer: a pool sequenced every period by a task, committing each
/// batch in the crash-safe order of [`crate::sequencer`].
#[derive(Clone)]
pub struct LocalSequencer {
    pub(super) shared: Arc<Shared>,
}

impl Sequencer for LocalSequencer {
    fn submit(&self, submission: Submission) -> BoxFuture<'_, Result<Sct, AddError>> {
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            let submission = Arc::new(submission);
            let key = submission.dedup_key();
            let batch_due = {
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
                let retry_after = self.shared.config.period.max(Duration::from_secs(1));
                if let Some(waiters) = state.inflight.get_mut(&key) {
                    waiters.push(tx);
                } else {
                    let priority = submission.priority(now_ms() / 1000);
                    let evicted = state
                        .pool
                        .add(Arc::clone(&submission), priority, tx)
                        .map_err(|_| AddError::Busy { retry_after })?;
                    for waiter in evicted {
                        let _ = waiter.send(Err(AddError::Busy { retry_after }));
                    }
                }
                let batch = self.shared.config.batch_size;
                batch > 0 && state.pool.len() >= batch
            };
            if batch_due {
                self.shared.kick.notify_one();
            }
            let (index, timestamp) = rx
                .await
                .map_err(|_| AddError::Unavailable("the sequencer stopped".into()))??;
            issue_sct(&self.shared.key, timestamp, submission.entry(), index)
        })
    }

    fn head(&self) -> Arc<Head> {
        self.shared.head()
    }
}

/// The static-ct-api SCT of `entry` sequenced at `leaf_index` and `timestamp`.
fn issue_sct(
    key: &LogKey,
    timestamp: u64,
    entry: &crate::entry::SignedEntry,
    leaf_index: u64,
) -> Result<Sct, AddError> {
    let extensions = crate::entry::leaf_index_extensions(leaf_index).ok_or_else(|| {
        AddError::Unavailable(format!("leaf index {leaf_index} is past 2^40 - 1"))
    })?;
    Sct::sign(key, timestamp, entry, extensions).map_err(|e| AddError::Unavailable(e.to_string()))
}

impl Shared {
    /// The SCT of an entry already in the log, re-issued (identical: same timestamp and
    /// index, deterministic signature).
    pub(super) fn known_sct(&self, submission: &Submission) -> Result<Option<Sct>, AddError> {
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
        issue_sct(&self.key, timestamp, submission.entry(), index).map(Some)
    }
}

/// Each entry's leaf index and timestamp, in pool order (an error where an entry could
/// not be encoded).
type Placed = Vec<Result<(u64, u64), String>>;

/// Tells a batch's waiters (and those that joined its entries meanwhile) where their
/// entries are, or why the batch failed, and releases the entries from `inflight`.
fn answer(
    shared: &Shared,
    subs: &[Arc<Submission>],
    mut waiters: Vec<Vec<Waiter>>,
    result: Result<Placed, String>,
) {
    if let Ok(mut p) = shared.pool.lock() {
        for (sub, w) in subs.iter().zip(waiters.iter_mut()) {
            if let Some(more) = p.inflight.remove(&sub.dedup_key()) {
                w.extend(more);
            }
        }
    }
    match result {
        Ok(placed) => {
            for (at, ws) in placed.into_iter().zip(waiters) {
                for w in ws {
                    let _ = w.send(at.clone().map_err(AddError::Unavailable));
                }
            }
        }
        Err(e) => {
            for w in waiters.into_iter().flatten() {
                let _ = w.send(Err(AddError::Unavailable(e.clone())));
            }
        }
    }
}

/// Commits one batch; returns where each entry went, and fills in how long each step
/// took.
pub(super) async fn commit(
    shared: &Shared,
    state: &mut State,
    subs: &[Arc<Submission>],
    timing: &mut CommitTiming,
) -> Result<Placed, LogError> {
    let mut step = std::time::Instant::now();
    let mut lap = || {
        let now = std::time::Instant::now();
        let took = now - step;
        step = now;
        took
    };
    let last = shared.head().sth.timestamp;
    let timestamp = now_ms().max(last);
    let batch = sequence(&mut state.writer, subs, timestamp, &shared.key)
        .map_err(|e| LogError::Corrupt(e.to_string()))?;
    let note = batch
        .sth
        .to_note(&shared.config.origin, shared.key.public())
        .map_err(note_err)?;
    timing.sequence = lap();
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
    timing.staging = lap();
    state.lock = storage
        .put_if(LOCK_KEY, note.as_bytes().to_vec(), Some(&state.lock))
        .await?;
    timing.lock = lap();
    let mut puts = tokio::task::JoinSet::new();
    for (id, data) in staging.tiles {
        let storage = Arc::clone(storage);
        puts.spawn(async move { storage.put(&id.path(), data).await });
    }
    // Let the tile writes start, and append the deduplication index (the batch is
    // committed since the CAS) while they run.
    tokio::task::yield_now().await;
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
    while let Some(done) = puts.join_next().await {
        done.map_err(|e| LogError::Io(format!("tile upload task: {e}")))??;
    }
    timing.tiles = lap();
    let published = publish(shared, state, &note, batch.flush.size).await?;
    timing.publish = lap();
    if let Some(note) = published {
        *shared.head.write().map_err(poisoned)? = Arc::new(Head {
            sth: batch.sth,
            note,
        });
    }
    Ok(batch
        .entries
        .into_iter()
        .map(|e| {
            e.map(|s| (s.leaf_index, timestamp))
                .map_err(|e| e.to_string())
        })
        .collect())
}

/// Publishes the committed checkpoint `note` of tree `size` as the public
/// `checkpoint`, first gathering witness cosignatures when the log has witnesses.
/// Returns the published note, or `None` when too few witnesses cosigned: the entries
/// stay committed (and their SCTs are issued), and the next period tries again.
pub(super) async fn publish(
    shared: &Shared,
    state: &mut State,
    note: &str,
    size: u64,
) -> Result<Option<String>, LogError> {
    let note = match &shared.config.witnesses {
        None => note.to_string(),
        Some(set) => {
            let (cosigned_note, cosigned) = shared.cosign(set, note, size).await?;
            if cosigned < set.threshold {
                tracing::warn!(
                    size,
                    cosigned,
                    threshold = set.threshold,
                    "too few witness cosignatures: checkpoint not published"
                );
                state.publish_due = true;
                return Ok(None);
            }
            cosigned_note
        }
    };
    shared
        .storage
        .put(CHECKPOINT_KEY, note.as_bytes().to_vec())
        .await?;
    state.publish_due = false;
    Ok(Some(note))
}

/// How long a head may go unrefreshed when nothing is submitted.
pub(super) const REFRESH: Duration = Duration::from_secs(30);

/// The sequencer task: every period, take the pool, commit it, answer the waiters. On
/// a failure, fail the batch's waiters and rebuild the state from storage.
pub(super) async fn run(
    weak: Weak<Shared>,
    mut state: Option<State>,
    stop: Arc<tokio::sync::Notify>,
) {
    let period = match weak.upgrade() {
        Some(s) => s.config.period,
        None => return,
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let kicked = async {
            match weak.upgrade() {
                Some(shared) => shared.kick.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick() => {}
            _ = kicked => {}
            _ = stop.notified() => return,
        }
        let Some(shared) = weak.upgrade() else {
            return;
        };
        let _ = shared.reload_roots();
        if let Err(e) = shared.reload_crls() {
            tracing::warn!(error = %e, "CRLs not reloaded");
        }
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
        if items.is_empty() && !stale && !current.publish_due {
            state = Some(current);
            continue;
        }
        let (subs, waiters): (Vec<Arc<Submission>>, Vec<Vec<Waiter>>) = items.into_iter().unzip();
        let started = std::time::Instant::now();
        let mut timing = CommitTiming {
            entries: subs.len(),
            ..CommitTiming::default()
        };
        let result = commit(&shared, &mut current, &subs, &mut timing).await;
        timing.total = started.elapsed();
        shared.record_commit(timing);
        let failed = result.is_err();
        answer(&shared, &subs, waiters, result.map_err(|e| e.to_string()));
        state = if failed { None } else { Some(current) };
    }
}
