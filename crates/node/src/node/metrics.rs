//! Prometheus metrics. Hot-path counters live in one [`Counters`] block per UDP worker
//! (and one for TCP), each written by its owner only, and are summed when `/metrics` is
//! scraped, so no cache line is shared between workers per packet.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use lib_dns::{Opcode, Rcode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use zdns_auth::Outcome;
use zdns_transport::stats::ListenerStats;

/// The encrypted transports, in the order of [`Metrics::encrypted`]'s index.
pub const ENCRYPTED: [&str; 3] = ["dot", "doh", "doq"];

/// Opcode and rcode are 4 header bits each: 256 combinations.
const CELLS: usize = 256;

/// The query counters of one worker (or of all TCP connections), aligned to keep
/// workers' blocks on separate cache lines.
#[derive(Debug)]
#[repr(align(128))]
pub struct Counters {
    /// Answered queries, indexed by opcode << 4 | header rcode.
    queries: [AtomicU64; CELLS],
    /// Responses sent with TC set.
    truncated: AtomicU64,
    /// Queries that got no response.
    dropped: AtomicU64,
}

impl Default for Counters {
    fn default() -> Counters {
        Counters {
            queries: std::array::from_fn(|_| AtomicU64::new(0)),
            truncated: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }
}

impl Counters {
    /// Counts one query and what became of it (RFC 1035 §4.1.1 header fields).
    pub fn record(&self, query: &[u8], outcome: Outcome, response: &[u8]) {
        if outcome == Outcome::Drop {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let opcode = query.get(2).map_or(0, |b| (b >> 3) & 0x0f);
        let rcode = response.get(3).map_or(0, |b| b & 0x0f);
        if let Some(c) = self.queries.get(usize::from(opcode << 4 | rcode)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if response.get(2).is_some_and(|b| b & 0x02 != 0) {
            self.truncated.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn add_to(&self, sums: &mut Sums) {
        for (sum, c) in sums.queries.iter_mut().zip(&self.queries) {
            *sum += c.load(Ordering::Relaxed);
        }
        sums.truncated += self.truncated.load(Ordering::Relaxed);
        sums.dropped += self.dropped.load(Ordering::Relaxed);
    }
}

/// Counters summed over workers.
struct Sums {
    queries: [u64; CELLS],
    truncated: u64,
    dropped: u64,
}

/// The facts of one served zone.
#[derive(Debug, Clone)]
pub struct ZoneFacts {
    /// The zone's origin.
    pub origin: String,
    /// Its SOA serial.
    pub serial: u32,
    /// Seconds it took to read and check.
    pub load_seconds: f64,
}

/// All the node's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    udp: Vec<Arc<Counters>>,
    tcp: Arc<Counters>,
    /// Query and connection counters of each of [`ENCRYPTED`].
    encrypted: [(Arc<Counters>, Arc<ListenerStats>); 3],
    /// TCP connections currently open.
    pub tcp_open: AtomicI64,
    /// TCP connections refused because the limit was reached.
    pub tcp_refused: AtomicU64,
    /// Reloads in which every zone loaded.
    pub reloads_ok: AtomicU64,
    /// Reloads in which some zone or the config failed.
    pub reloads_failed: AtomicU64,
    zones: Mutex<Vec<ZoneFacts>>,
    /// Zone operations (transfers, updates, notifies, TSIG) by kind and result.
    control: Mutex<std::collections::BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Metrics for `udp_workers` UDP worker threads.
    pub fn new(udp_workers: usize) -> Metrics {
        Metrics {
            udp: (0..udp_workers).map(|_| Arc::default()).collect(),
            ..Metrics::default()
        }
    }

    /// The counters of UDP worker `i` (a fresh unreported block if `i` is out of range).
    pub fn udp_worker(&self, i: usize) -> Arc<Counters> {
        self.udp.get(i).cloned().unwrap_or_default()
    }

    /// The counters shared by TCP connections.
    pub fn tcp(&self) -> Arc<Counters> {
        Arc::clone(&self.tcp)
    }

    /// Counts one zone operation (`transfer_out`, `transfer_in`, `update`,
    /// `notify_in`, `notify_out`, `tsig`) and its result. Not on the query hot path.
    pub fn count_control(&self, operation: &'static str, result: &'static str) {
        *self
            .control
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((operation, result))
            .or_default() += 1;
    }

    /// The query and connection counters of encrypted transport `i` of [`ENCRYPTED`].
    pub fn encrypted(&self, i: usize) -> (Arc<Counters>, Arc<ListenerStats>) {
        self.encrypted.get(i).cloned().unwrap_or_default()
    }

    /// Replaces the zone facts after a load or reload.
    pub fn set_zones(&self, zones: Vec<ZoneFacts>) {
        *self.zones.lock().unwrap_or_else(PoisonError::into_inner) = zones;
    }

    /// A registry that reads these metrics on every scrape.
    pub fn registry(self: &Arc<Self>) -> Registry {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Arc::clone(self)));
        registry
    }

    fn sums<'a>(blocks: impl Iterator<Item = &'a Arc<Counters>>) -> Sums {
        let mut sums = Sums {
            queries: [0; CELLS],
            truncated: 0,
            dropped: 0,
        };
        for b in blocks {
            b.add_to(&mut sums);
        }
        sums
    }
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut per_transport = vec![
            ("udp", Metrics::sums(self.udp.iter())),
            ("tcp", Metrics::sums(std::iter::once(&self.tcp))),
        ];
        for (name, (counters, _)) in ENCRYPTED.iter().zip(&self.encrypted) {
            per_transport.push((name, Metrics::sums(std::iter::once(counters))));
        }
        {
            let counter = ConstCounter::new(0u64);
            let mut family = encoder.encode_descriptor(
                "zdns_queries",
                "Queries answered, by transport, opcode and response code",
                None,
                counter.metric_type(),
            )?;
            for (transport, sums) in &per_transport {
                for (cell, &n) in sums.queries.iter().enumerate() {
                    if n == 0 {
                        continue;
                    }
                    let opcode = Opcode::new(u8::try_from(cell >> 4).unwrap_or(0)).to_string();
                    let rcode = Rcode(u16::try_from(cell & 0x0f).unwrap_or(0)).to_string();
                    let labels = [
                        ("transport", transport.to_string()),
                        ("opcode", opcode),
                        ("rcode", rcode),
                    ];
                    ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        for (name, help, pick) in [
            (
                "zdns_responses_truncated",
                "Responses sent with the TC bit set",
                (|s: &Sums| s.truncated) as fn(&Sums) -> u64,
            ),
            (
                "zdns_queries_dropped",
                "Queries that got no response",
                |s: &Sums| s.dropped,
            ),
        ] {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for (transport, sums) in &per_transport {
                let labels = [("transport", *transport)];
                ConstCounter::new(pick(sums)).encode(family.encode_family(&labels)?)?;
            }
        }
        let open = ConstGauge::new(self.tcp_open.load(Ordering::Relaxed));
        open.encode(encoder.encode_descriptor(
            "zdns_tcp_connections_open",
            "TCP connections open",
            None,
            open.metric_type(),
        )?)?;
        let refused = ConstCounter::new(self.tcp_refused.load(Ordering::Relaxed));
        refused.encode(encoder.encode_descriptor(
            "zdns_tcp_connections_refused",
            "TCP connections refused at the connection limit",
            None,
            refused.metric_type(),
        )?)?;
        encode_listener_stats(&mut encoder, &self.encrypted)?;
        {
            let mut family = encoder.encode_descriptor(
                "zdns_reloads",
                "Reloads of configuration and zones, by result",
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for (result, n) in [
                ("ok", self.reloads_ok.load(Ordering::Relaxed)),
                ("failed", self.reloads_failed.load(Ordering::Relaxed)),
            ] {
                ConstCounter::new(n).encode(family.encode_family(&[("result", result)])?)?;
            }
        }
        {
            let control = self
                .control
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let mut family = encoder.encode_descriptor(
                "zdns_zone_operations",
                "Zone transfers, updates, notifies and TSIG failures, by operation and result",
                None,
                ConstCounter::new(0u64).metric_type(),
            )?;
            for ((operation, result), n) in control {
                ConstCounter::new(n).encode(
                    family.encode_family(&[("operation", operation), ("result", result)])?,
                )?;
            }
        }
        let zones = self
            .zones
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        {
            let mut family = encoder.encode_descriptor(
                "zdns_zone_serial",
                "SOA serial of each served zone",
                None,
                ConstGauge::new(0i64).metric_type(),
            )?;
            for z in &zones {
                ConstGauge::new(i64::from(z.serial))
                    .encode(family.encode_family(&[("zone", z.origin.as_str())])?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "zdns_zone_load_seconds",
            "Seconds the last successful load of each zone took",
            None,
            ConstGauge::new(0f64).metric_type(),
        )?;
        for z in &zones {
            ConstGauge::new(z.load_seconds)
                .encode(family.encode_family(&[("zone", z.origin.as_str())])?)?;
        }
        Ok(())
    }
}

/// Connections of the encrypted transports, labelled by transport.
fn encode_listener_stats(
    encoder: &mut DescriptorEncoder,
    encrypted: &[(Arc<Counters>, Arc<ListenerStats>); 3],
) -> Result<(), std::fmt::Error> {
    let open = ConstGauge::new(0i64);
    let mut family = encoder.encode_descriptor(
        "zdns_encrypted_connections_open",
        "Encrypted (DoT, DoH, DoQ) connections open",
        None,
        open.metric_type(),
    )?;
    for (name, (_, stats)) in ENCRYPTED.iter().zip(encrypted) {
        ConstGauge::new(stats.open.load(Ordering::Relaxed))
            .encode(family.encode_family(&[("transport", *name)])?)?;
    }
    for (metric, help, pick) in [
        (
            "zdns_encrypted_connections",
            "Encrypted connections accepted",
            (|s: &ListenerStats| s.accepted.load(Ordering::Relaxed)) as fn(&ListenerStats) -> u64,
        ),
        (
            "zdns_encrypted_connections_refused",
            "Encrypted connections refused at the connection limit",
            |s: &ListenerStats| s.refused.load(Ordering::Relaxed),
        ),
        (
            "zdns_tls_handshake_failures",
            "TLS or QUIC handshakes that failed or timed out",
            |s: &ListenerStats| s.handshake_failures.load(Ordering::Relaxed),
        ),
    ] {
        let mut family =
            encoder.encode_descriptor(metric, help, None, ConstCounter::new(0u64).metric_type())?;
        for (name, (_, stats)) in ENCRYPTED.iter().zip(encrypted) {
            ConstCounter::new(pick(stats))
                .encode(family.encode_family(&[("transport", *name)])?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_summed_on_scrape() {
        let m = Arc::new(Metrics::new(2));
        let query = [0u8, 1, 0x01, 0, 0, 1];
        let refused = [0u8, 1, 0x83, 5];
        m.udp_worker(0).record(&query, Outcome::Reply, &refused);
        m.udp_worker(1).record(&query, Outcome::Reply, &refused);
        m.udp_worker(1).record(&query, Outcome::Drop, &[]);
        m.tcp()
            .record(&[0, 1, 0x28], Outcome::Reply, &[0, 1, 0xa8, 0]);
        m.encrypted(2).0.record(&query, Outcome::Reply, &refused);
        let _open = m.encrypted(1).1.admit(10).unwrap();
        m.encrypted(0).1.handshake_failed();
        m.set_zones(vec![ZoneFacts {
            origin: "example.".to_owned(),
            serial: 42,
            load_seconds: 0.5,
        }]);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &m.registry()).unwrap();
        for line in [
            "zdns_queries_total{transport=\"udp\",opcode=\"QUERY\",rcode=\"REFUSED\"} 2",
            "zdns_queries_total{transport=\"tcp\",opcode=\"UPDATE\",rcode=\"NOERROR\"} 1",
            "zdns_queries_dropped_total{transport=\"udp\"} 1",
            "zdns_responses_truncated_total{transport=\"udp\"} 2",
            "zdns_zone_serial{zone=\"example.\"} 42",
            "zdns_reloads_total{result=\"ok\"} 0",
            "zdns_queries_total{transport=\"doq\",opcode=\"QUERY\",rcode=\"REFUSED\"} 1",
            "zdns_encrypted_connections_open{transport=\"doh\"} 1",
            "zdns_tls_handshake_failures_total{transport=\"dot\"} 1",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
