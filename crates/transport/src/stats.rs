//! Connection counters of one encrypted listener, kept by the server loops and read by
//! whoever exports metrics (the node's `/metrics`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// What one transport's listeners count, shared by all of them.
#[derive(Debug, Default)]
pub struct ListenerStats {
    /// Connections open now.
    pub open: AtomicI64,
    /// Connections accepted since start.
    pub accepted: AtomicU64,
    /// Connections refused at the connection limit.
    pub refused: AtomicU64,
    /// TLS or QUIC handshakes that failed or did not finish in time.
    pub handshake_failures: AtomicU64,
}

impl ListenerStats {
    /// A place under `max` open connections, given back when the returned guard drops;
    /// `None` (and the refusal counted) when the limit is reached.
    pub fn admit(self: &Arc<Self>, max: usize) -> Option<ConnectionSlot> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        if self.open.fetch_add(1, Ordering::Relaxed) >= max {
            self.open.fetch_sub(1, Ordering::Relaxed);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.accepted.fetch_add(1, Ordering::Relaxed);
        Some(ConnectionSlot(Arc::clone(self)))
    }

    /// Counts a failed handshake.
    pub fn handshake_failed(&self) {
        self.handshake_failures.fetch_add(1, Ordering::Relaxed);
    }
}

/// One open connection under the limit; dropping it frees the place.
#[derive(Debug)]
pub struct ConnectionSlot(Arc<ListenerStats>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_kept_and_places_come_back() {
        let stats = Arc::new(ListenerStats::default());
        let a = stats.admit(2).unwrap();
        let _b = stats.admit(2).unwrap();
        assert!(stats.admit(2).is_none());
        assert_eq!(stats.refused.load(Ordering::Relaxed), 1);
        drop(a);
        assert!(stats.admit(2).is_some());
        assert_eq!(stats.open.load(Ordering::Relaxed), 1);
    }
}
