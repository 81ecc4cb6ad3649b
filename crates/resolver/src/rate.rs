//! The per-name query-rate detector of seed 003 §15.1 invariant 3: a name asked more
//! than [`HOT_NAME_THRESHOLD`] times in one second points at per-packet or hot-path
//! resolution (a bug) or an attack. The detector only reports; the caller logs a
//! warning and counts it in a metric. It never refuses a query.
//!
//! Counts are kept per whole second of the time passed in, in shards (a `Mutex` each)
//! chosen by the name's hash; a shard's counts are dropped when the second changes, and
//! a shard never counts more than [`MAX_NAMES_PER_SHARD`] names in one second, so a
//! flood of distinct names costs bounded memory.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};

use lib_dns::Name;

/// Queries per second for one name above which it is reported.
pub const HOT_NAME_THRESHOLD: u32 = 10;

/// Names counted per shard and second at most.
pub const MAX_NAMES_PER_SHARD: usize = 4096;

const SHARDS: usize = 16;

/// One shard's counts in the current second, by the name's hash (from the detector's
/// randomly keyed hasher): no name is copied, and two names that share a 64-bit hash
/// at worst share a count, which only reports.
#[derive(Debug, Default)]
struct Window {
    second: u64,
    counts: HashMap<u64, u32>,
}

/// Counts queries per name and second.
#[derive(Debug)]
pub struct RateDetector {
    shards: [Mutex<Window>; SHARDS],
    hasher: RandomState,
}

impl Default for RateDetector {
    fn default() -> RateDetector {
        RateDetector {
            shards: std::array::from_fn(|_| Mutex::new(Window::default())),
            hasher: RandomState::new(),
        }
    }
}

impl RateDetector {
    /// Counts one query for `name` at `now` (seconds). Returns the count when it has
    /// just gone above [`HOT_NAME_THRESHOLD`] in this second, once per name and second.
    pub fn record(&self, name: &Name, now: u64) -> Option<u32> {
        let hash = self.hasher.hash_one(name);
        let index = hash as usize % SHARDS;
        let mut window = self
            .shards
            .get(index)?
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if window.second != now {
            window.second = now;
            window.counts.clear();
        }
        let window = &mut *window;
        let full = window.counts.len() >= MAX_NAMES_PER_SHARD;
        let count = match window.counts.get_mut(&hash) {
            Some(count) => {
                *count = count.saturating_add(1);
                *count
            }
            None if !full => {
                window.counts.insert(hash, 1);
                1
            }
            None => return None,
        };
        (count == HOT_NAME_THRESHOLD + 1).then_some(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_eleventh_query_in_a_second_once() {
        let d = RateDetector::default();
        let hot = Name::parse("hot.example.").unwrap();
        let t = 1_800_000_000;
        for _ in 0..10 {
            assert_eq!(d.record(&hot, t), None);
        }
        assert_eq!(d.record(&hot, t), Some(11));
        for _ in 0..100 {
            assert_eq!(d.record(&hot, t), None, "once per second");
        }
        // The next second starts from zero.
        for _ in 0..10 {
            assert_eq!(d.record(&hot, t + 1), None);
        }
        assert_eq!(d.record(&hot, t + 1), Some(11));
        // Case does not make another name.
        let other = Name::parse("HOT.example.").unwrap();
        assert_eq!(d.record(&other, t + 1), None);
    }

    #[test]
    fn ten_a_second_is_fine_and_memory_is_bounded() {
        let d = RateDetector::default();
        let name = Name::parse("ok.example.").unwrap();
        for second in 0..5 {
            for _ in 0..HOT_NAME_THRESHOLD {
                assert_eq!(d.record(&name, second), None);
            }
        }
        for i in 0..200_000u32 {
            d.record(&Name::parse(&format!("n{i}.example.")).unwrap(), 9);
        }
        let held: usize = d
            .shards
            .iter()
            .map(|s| s.lock().unwrap().counts.len())
            .sum();
        assert!(held <= SHARDS * MAX_NAMES_PER_SHARD);
    }
}
