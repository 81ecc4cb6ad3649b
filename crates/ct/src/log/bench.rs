//! Support for benchmarks: the sequencing time of recent periods, and pre-filling a
//! log with synthetic entries through the same pool, sequencer and commit path as real
//! submissions (without chain validation and SCT signing, whose cost does not depend on
//! the tree size), to measure appends to a large tree.

use super::driver::Waiter;
use super::*;

/// How many recent sequencing times are kept.
pub(super) const COMMIT_TIMES: usize = 4096;

/// How often pre-filling looks for room in the pool.
const PREFILL_POLL: Duration = Duration::from_millis(5);

/// How long one sequencing period's commit took, step by step (see the commit order
/// in [`crate::sequencer`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitTiming {
    /// How many submissions the batch held.
    pub entries: usize,
    /// Sequencing: appending to the tree (encoding and hashing the leaves, building
    /// the tiles) and signing the tree head.
    pub sequence: Duration,
    /// Writing the batch's new issuers and the staging bundle.
    pub staging: Duration,
    /// The compare-and-swap of the lock checkpoint.
    pub lock: Duration,
    /// Writing the tiles (and appending the deduplication index meanwhile).
    pub tiles: Duration,
    /// Publishing the checkpoint (with witness cosignatures when configured).
    pub publish: Duration,
    /// The whole commit.
    pub total: Duration,
}

impl Shared {
    pub(super) fn record_commit(&self, timing: CommitTiming) {
        if let Ok(mut times) = self.commit_times.lock() {
            if times.len() == COMMIT_TIMES {
                times.pop_front();
            }
            times.push_back(timing);
        }
    }
}

/// A synthetic certificate entry: a DER SEQUENCE holding `index`, unique per index.
fn synthetic(index: u64, not_before: u64) -> Submission {
    let mut der = vec![0x30, 0x0a, 0x02, 0x08];
    der.extend_from_slice(&index.to_be_bytes());
    Submission::new(
        crate::entry::SignedEntry::X509(der),
        None,
        Vec::new(),
        not_before,
    )
}

impl Log {
    /// How long each recent non-empty sequencing period took to commit (oldest first,
    /// at most the last 4096).
    pub fn commit_times(&self) -> Vec<Duration> {
        self.commit_timings().iter().map(|t| t.total).collect()
    }

    /// The steps of each recent non-empty sequencing period's commit (oldest first, at
    /// most the last 4096).
    pub fn commit_timings(&self) -> Vec<CommitTiming> {
        self.shared
            .commit_times
            .lock()
            .map(|t| t.iter().copied().collect())
            .unwrap_or_default()
    }

    /// For benchmarks: appends `count` synthetic entries (numbered from `first`)
    /// through the pool and the sequencer, filling the pool as fast as it drains and
    /// waking the sequencer as soon as the pool is full (rather than at the end of the
    /// period), and returns once they are all published.
    pub async fn prefill_synthetic(&self, first: u64, count: u64) -> Result<(), LogError> {
        let target = self.head().sth.size + count;
        let now = now_ms() / 1000;
        let mut next = first;
        let end = first + count;
        while next < end {
            {
                let mut state = self.shared.pool.lock().map_err(poisoned)?;
                while next < end {
                    let (tx, _rx): (Waiter, _) = oneshot::channel();
                    if state
                        .pool
                        .add(
                            Arc::new(synthetic(next, now)),
                            crate::sequencer::Priority::Fresh,
                            tx,
                        )
                        .is_err()
                    {
                        break;
                    }
                    next += 1;
                }
            }
            self.shared.kick.notify_one();
            tokio::time::sleep(PREFILL_POLL).await;
        }
        while self.head().sth.size < target {
            self.shared.kick.notify_one();
            tokio::time::sleep(PREFILL_POLL).await;
        }
        Ok(())
    }
}
