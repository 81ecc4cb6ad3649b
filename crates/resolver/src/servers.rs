//! What the resolver learns about upstream servers: smoothed round-trip time and EDNS
//! support, shared by every resolution.
//!
//! Selection follows BIND's scheme: the server with the lowest smoothed RTT is asked; a
//! server never measured starts with a small random SRTT so that every server gets
//! tried early (exploration); each time a server is passed over its SRTT decays a
//! little, so one that was slow or timed out is eventually tried again; a timeout
//! doubles the SRTT (at least to the timeout) up to [`MAX_SRTT_MS`].

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The largest SRTT a server can have, in milliseconds.
pub const MAX_SRTT_MS: u32 = 10_000;

/// Weight of the old SRTT in each update, in tenths (0.7 as in BIND).
const SRTT_KEEP_TENTHS: u32 = 7;

/// Decay of a passed-over server's SRTT, in hundredths per selection.
const SRTT_DECAY_PERCENT: u32 = 98;

/// Timeout for a server never measured.
const UNKNOWN_TIMEOUT: Duration = Duration::from_millis(800);

/// Bounds of the timeout derived from a server's SRTT.
const MIN_TIMEOUT_MS: u64 = 200;
const MAX_TIMEOUT_MS: u64 = 3000;

/// Timeout for a query over TCP.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, Default)]
struct ServerInfo {
    srtt_ms: u32,
    /// Whether `srtt_ms` comes from a measurement (or a timeout), not the random start.
    measured: bool,
    /// It answered FORMERR, NOTIMP or garbage to a query with EDNS.
    no_edns: bool,
}

/// Unpredictable numbers for query ids, initial SRTTs and such: SipHash (a keyed PRF)
/// of a counter under the process's random `RandomState` keys.
#[derive(Debug)]
pub struct Random {
    keys: RandomState,
    counter: AtomicU64,
}

impl Default for Random {
    fn default() -> Random {
        Random {
            keys: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }
}

impl Random {
    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        self.keys
            .hash_one(self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// A random query id.
    pub fn next_id(&self) -> u16 {
        (self.next_u64() & 0xffff) as u16
    }
}

/// Shared knowledge about upstream servers.
#[derive(Debug, Default)]
pub struct ServerStats {
    servers: Mutex<HashMap<SocketAddr, ServerInfo>>,
}

impl ServerStats {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, ServerInfo>> {
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Picks the server to ask among `candidates` (which must not be empty to get
    /// `Some`): the lowest SRTT, unknown servers starting at a random 1–32 ms. Decays
    /// the SRTT of the others.
    pub fn choose(&self, candidates: &[SocketAddr], random: &Random) -> Option<usize> {
        let mut servers = self.lock();
        let mut best: Option<(usize, u32)> = None;
        for (i, addr) in candidates.iter().enumerate() {
            let info = servers.entry(*addr).or_insert_with(|| ServerInfo {
                srtt_ms: 1 + (random.next_u64() % 32) as u32,
                measured: false,
                no_edns: false,
            });
            if best.is_none_or(|(_, srtt)| info.srtt_ms < srtt) {
                best = Some((i, info.srtt_ms));
            }
        }
        let (chosen, _) = best?;
        for (i, addr) in candidates.iter().enumerate() {
            if i != chosen
                && let Some(info) = servers.get_mut(addr)
            {
                info.srtt_ms = info.srtt_ms * SRTT_DECAY_PERCENT / 100;
            }
        }
        Some(chosen)
    }

    /// Folds a measured round trip into the server's SRTT.
    pub fn record_rtt(&self, server: SocketAddr, rtt: Duration) {
        let sample = u32::try_from(rtt.as_millis())
            .unwrap_or(MAX_SRTT_MS)
            .min(MAX_SRTT_MS);
        let mut servers = self.lock();
        let info = servers.entry(server).or_default();
        info.srtt_ms = if !info.measured {
            sample
        } else {
            (info.srtt_ms * SRTT_KEEP_TENTHS + sample * (10 - SRTT_KEEP_TENTHS)) / 10
        };
        info.measured = true;
    }

    /// Penalises a timeout: the SRTT at least doubles, to at least the timeout.
    pub fn record_timeout(&self, server: SocketAddr, timeout: Duration) {
        let waited = u32::try_from(timeout.as_millis()).unwrap_or(MAX_SRTT_MS);
        let mut servers = self.lock();
        let info = servers.entry(server).or_default();
        info.srtt_ms = info.srtt_ms.saturating_mul(2).max(waited).min(MAX_SRTT_MS);
        info.measured = true;
    }

    /// The server's SRTT in milliseconds, if it was ever seen.
    pub fn srtt_ms(&self, server: SocketAddr) -> Option<u32> {
        self.lock().get(&server).map(|i| i.srtt_ms)
    }

    /// How long to wait for a UDP answer from `server`: four SRTTs, within 200 ms–3 s,
    /// or 800 ms for a server never measured.
    pub fn timeout(&self, server: SocketAddr) -> Duration {
        match self.lock().get(&server) {
            Some(info) if info.measured => Duration::from_millis(
                (u64::from(info.srtt_ms) * 4).clamp(MIN_TIMEOUT_MS, MAX_TIMEOUT_MS),
            ),
            _ => UNKNOWN_TIMEOUT,
        }
    }

    /// Whether `server` is known not to understand EDNS.
    pub fn no_edns(&self, server: SocketAddr) -> bool {
        self.lock().get(&server).is_some_and(|i| i.no_edns)
    }

    /// Remembers that `server` does not understand EDNS (RFC 6891 §7 fallback).
    pub fn set_no_edns(&self, server: SocketAddr) {
        self.lock().entry(server).or_default().no_edns = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, last], 53))
    }

    #[test]
    fn prefers_the_faster_server_and_explores_unknown_ones() {
        let stats = ServerStats::default();
        let random = Random::default();
        let servers = [addr(1), addr(2), addr(3)];
        stats.record_rtt(addr(1), Duration::from_millis(80));
        stats.record_rtt(addr(2), Duration::from_millis(5));
        // addr(3) was never measured: its random start (at most 32 ms) beats 80 ms but
        // maybe not 5 ms; either way addr(1) is not picked.
        let first = stats.choose(&servers, &random).unwrap();
        assert_ne!(first, 0);
        stats.record_rtt(addr(3), Duration::from_millis(200));
        assert_eq!(stats.choose(&servers, &random), Some(1));
    }

    #[test]
    fn timeouts_penalise_and_decay_brings_a_server_back() {
        let stats = ServerStats::default();
        let random = Random::default();
        let servers = [addr(1), addr(2)];
        stats.record_rtt(addr(1), Duration::from_millis(10));
        stats.record_rtt(addr(2), Duration::from_millis(40));
        stats.record_timeout(addr(1), Duration::from_millis(800));
        assert_eq!(stats.srtt_ms(addr(1)), Some(800));
        assert_eq!(stats.choose(&servers, &random), Some(1));
        // Passed over again and again, the penalised server decays below the other.
        let mut rounds = 0;
        while stats.choose(&servers, &random) == Some(1) {
            rounds += 1;
            assert!(rounds < 200, "never re-explored");
        }
        assert!(rounds > 10);
        for _ in 0..20 {
            stats.record_timeout(addr(1), Duration::from_secs(3));
        }
        assert_eq!(stats.srtt_ms(addr(1)), Some(MAX_SRTT_MS));
    }

    #[test]
    fn smoothing_and_timeouts() {
        let stats = ServerStats::default();
        assert_eq!(stats.timeout(addr(9)), UNKNOWN_TIMEOUT);
        stats.choose(&[addr(9)], &Random::default());
        assert_eq!(
            stats.timeout(addr(9)),
            UNKNOWN_TIMEOUT,
            "a random start is no measure"
        );
        stats.record_rtt(addr(9), Duration::from_millis(100));
        stats.record_rtt(addr(9), Duration::from_millis(200));
        assert_eq!(stats.srtt_ms(addr(9)), Some(130));
        assert_eq!(stats.timeout(addr(9)), Duration::from_millis(520));
        stats.record_rtt(addr(8), Duration::from_millis(1));
        assert_eq!(
            stats.timeout(addr(8)),
            Duration::from_millis(MIN_TIMEOUT_MS)
        );
    }

    #[test]
    fn edns_memory_and_random_ids_vary() {
        let stats = ServerStats::default();
        assert!(!stats.no_edns(addr(1)));
        stats.set_no_edns(addr(1));
        assert!(stats.no_edns(addr(1)));
        let random = Random::default();
        let ids: std::collections::HashSet<u16> = (0..100).map(|_| random.next_id()).collect();
        assert!(ids.len() > 90);
    }
}
