//! The resolver's Prometheus metrics: what answered (cache, resolution, stale data),
//! failures, upstream queries, names queried too often (seed 003 §15.1 invariant 3), and
//! the cache's size, collected on scrape; with DNSSEC validation, the verdicts on
//! resolved answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::Recursor;

/// The resolver's counters.
#[derive(Debug, Default)]
pub struct RecursorMetrics {
    /// Answered from the cache alone.
    pub cache_hits: AtomicU64,
    /// Answered after resolving upstream.
    pub resolved: AtomicU64,
    /// Answered with stale data (RFC 8767).
    pub stale: AtomicU64,
    /// Answered SERVFAIL.
    pub servfail: AtomicU64,
    /// Answered by joining a resolution of the same question already under way.
    pub coalesced: AtomicU64,
    /// Queries sent upstream.
    pub upstream_queries: AtomicU64,
    /// Times a name went above 10 queries in a second.
    pub hot_names: AtomicU64,
    /// Resolved answers validated Secure.
    pub secure: AtomicU64,
    /// Resolved answers proven Insecure.
    pub insecure: AtomicU64,
    /// Resolved answers found Bogus (SERVFAIL to clients without CD).
    pub bogus: AtomicU64,
    /// Resolved answers whose status could not be told (no trust anchor above).
    pub indeterminate: AtomicU64,
}

impl RecursorMetrics {
    /// Adds one to `counter`.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The recursor's counters, cache sizes and resolutions under way, read on scrape.
pub struct Collected {
    /// The recursor.
    pub recursor: Arc<Recursor>,
}

impl std::fmt::Debug for Collected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Collected")
    }
}

impl Collector for Collected {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &self.recursor.metrics;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        {
            let mut family = encoder.encode_descriptor(
                "zdns_resolver_answers",
                "Recursive answers by where they came from",
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for (source, n) in [
                ("cache", load(&m.cache_hits)),
                ("resolution", load(&m.resolved)),
                ("stale", load(&m.stale)),
                ("servfail", load(&m.servfail)),
                ("coalesced", load(&m.coalesced)),
            ] {
                ConstCounter::new(n).encode(family.encode_family(&[("source", source)])?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "zdns_resolver_validations",
                "DNSSEC verdicts on resolved answers (with validation on)",
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for (security, n) in [
                ("secure", load(&m.secure)),
                ("insecure", load(&m.insecure)),
                ("bogus", load(&m.bogus)),
                ("indeterminate", load(&m.indeterminate)),
            ] {
                ConstCounter::new(n).encode(family.encode_family(&[("security", security)])?)?;
            }
        }
        for (name, help, n) in [
            (
                "zdns_resolver_upstream_queries",
                "Queries sent to upstream servers",
                load(&m.upstream_queries),
            ),
            (
                "zdns_resolver_hot_names",
                "Times one name was asked more than 10 times in a second (seed 003 §15.1)",
                load(&m.hot_names),
            ),
        ] {
            ConstCounter::new(n).encode(encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?)?;
        }
        let cache = self.recursor.resolver.cache();
        for (name, help, n) in [
            (
                "zdns_resolver_cache_rrsets",
                "Positive RRsets held in the resolver cache (fresh and stale)",
                cache.positive_len(),
            ),
            (
                "zdns_resolver_negative_entries",
                "Entries held in the negative cache (at most 1000)",
                cache.negative_len(),
            ),
            (
                "zdns_resolver_resolutions_in_flight",
                "Questions being resolved upstream right now",
                self.recursor.inflight.len(),
            ),
        ] {
            let gauge = ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX));
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}
