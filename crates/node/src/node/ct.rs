//! The node's Certificate Transparency services on its HTTP listener, configured by
//! files in `<data dir>/ct/`:
//! - the log (always; static-ct-api under `/ct/`, RFC 6962 under `/ct/v1/`, the API
//!   under `/api/v1/ct/`) and its monitor (`/api/v1/ct/monitor`, watches kept in
//!   `monitor.json`);
//! - `log.toml`, if present: the log's sequencing period, pool size, MMD and
//!   description, and an S3-compatible bucket for its tiles and checkpoints instead of
//!   `<data dir>/ct/storage` (needs zdns built with `--features s3`; the key, roots,
//!   CRLs and deduplication index stay in `<data dir>/ct`);
//! - `witnesses.toml`, if present: the witnesses whose cosignatures a checkpoint needs
//!   before the log publishes it;
//! - `witness.toml`, if present: a C2SP tlog-witness served at `/witness/add-checkpoint`.
//!
//! ```toml
//! # log.toml (every key optional)
//! period_ms = 1000
//! pool_size = 100000
//! mmd = 60
//! description = "zdns embedded CT log"
//! [s3]
//! endpoint = "http://127.0.0.1:9000"   # omit for AWS
//! bucket = "ct-log"
//! region = "us-east-1"
//! access_key_id = "…"
//! secret_access_key = "…"
//!
//! # witnesses.toml
//! threshold = 2
//! timeout_ms = 5000
//! [[witness]]
//! url = "http://127.0.0.1:9001/witness/"
//! vkey = "w1.example+1a2b3c4d+BNrs…"
//!
//! # witness.toml
//! name = "witness.example/w1"
//! logs = ["127.0.0.1:8053+5e6f7a8b+Bb…"]
//! ```

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use serde::Deserialize;
use zdns_ct::log::{Log, LogConfig, WitnessEndpoint, WitnessSet};
use zdns_ct::monitor::{Monitor, MonitorConfig};
use zdns_ct::witness::{CosignatureVerifier, Witness, WitnessConfig};

/// The log's settings file in `<data dir>/ct`.
pub const LOG_FILE: &str = "log.toml";
/// The log's witness set file in `<data dir>/ct`.
pub const WITNESSES_FILE: &str = "witnesses.toml";
/// The witness configuration file in `<data dir>/ct`.
pub const WITNESS_FILE: &str = "witness.toml";
/// The monitor's watches and matches in `<data dir>/ct`.
pub const MONITOR_FILE: &str = "monitor.json";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessesFile {
    threshold: usize,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    #[serde(default)]
    witness: Vec<WitnessEntry>,
}

fn default_timeout_ms() -> u64 {
    5000
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessEntry {
    url: String,
    vkey: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WitnessFile {
    name: String,
    logs: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LogFile {
    period_ms: Option<u64>,
    pool_size: Option<usize>,
    mmd: Option<u64>,
    description: Option<String>,
    s3: Option<S3Bucket>,
}

/// The `[s3]` table of `log.toml`: the bucket the log keeps its tiles and checkpoints in.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
// Read only when zdns is built with the `s3` feature.
#[cfg_attr(not(feature = "s3"), allow(dead_code))]
pub struct S3Bucket {
    /// The endpoint URL; `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The region.
    pub region: String,
    /// The access key ID.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

/// Applies `log.toml`, if the file exists, to `config`; returns its S3 bucket, if any.
pub fn log_settings(dir: &Path, config: &mut LogConfig) -> Result<Option<S3Bucket>, String> {
    let path = dir.join(LOG_FILE);
    let Some(file) = read_toml::<LogFile>(&path)? else {
        return Ok(None);
    };
    if let Some(ms) = file.period_ms {
        if ms == 0 {
            return Err(format!("{}: period_ms must be above 0", path.display()));
        }
        config.period = Duration::from_millis(ms);
    }
    if let Some(size) = file.pool_size {
        if size == 0 {
            return Err(format!("{}: pool_size must be above 0", path.display()));
        }
        config.pool_size = size;
    }
    if let Some(mmd) = file.mmd {
        config.mmd = mmd;
    }
    if let Some(description) = file.description {
        config.description = description;
    }
    Ok(file.s3)
}

/// Opens the log on `<data dir>/ct/storage`, or on the S3 bucket.
async fn open_log(config: LogConfig, s3: Option<S3Bucket>) -> Result<Log, String> {
    match s3 {
        None => Log::open_local(config).await.map_err(|e| e.to_string()),
        Some(bucket) => open_s3(config, bucket).await,
    }
}

#[cfg(feature = "s3")]
async fn open_s3(config: LogConfig, bucket: S3Bucket) -> Result<Log, String> {
    let storage = zdns_ct::s3::ObjectStorage::s3(&zdns_ct::s3::S3Config {
        endpoint: bucket.endpoint,
        bucket: bucket.bucket,
        region: bucket.region,
        access_key_id: bucket.access_key_id,
        secret_access_key: bucket.secret_access_key,
    })
    .map_err(|e| format!("{LOG_FILE} [s3]: {e}"))?;
    Log::open(config, Arc::new(storage))
        .await
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "s3"))]
async fn open_s3(_: LogConfig, _: S3Bucket) -> Result<Log, String> {
    Err(format!(
        "{LOG_FILE} has an [s3] bucket, but this zdns was built without the s3 feature"
    ))
}

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The log's witness set from `witnesses.toml`, if the file exists.
pub fn witness_set(dir: &Path) -> Result<Option<WitnessSet>, String> {
    let path = dir.join(WITNESSES_FILE);
    let Some(file) = read_toml::<WitnessesFile>(&path)? else {
        return Ok(None);
    };
    let mut witnesses = Vec::new();
    for w in file.witness {
        let verifier = CosignatureVerifier::from_vkey(&w.vkey)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let url = if w.url.ends_with('/') {
            w.url
        } else {
            format!("{}/", w.url)
        };
        witnesses.push(WitnessEndpoint { url, verifier });
    }
    if file.threshold > witnesses.len() {
        return Err(format!(
            "{}: threshold {} is more than the {} witnesses",
            path.display(),
            file.threshold,
            witnesses.len()
        ));
    }
    Ok(Some(WitnessSet {
        witnesses,
        threshold: file.threshold,
        timeout: Duration::from_millis(file.timeout_ms),
    }))
}

/// The witness configuration from `witness.toml`, if the file exists.
pub fn witness_config(dir: &Path) -> Result<Option<WitnessConfig>, String> {
    let path = dir.join(WITNESS_FILE);
    Ok(read_toml::<WitnessFile>(&path)?.map(|f| WitnessConfig {
        name: f.name,
        data_dir: dir.join("witness"),
        logs: f.logs,
    }))
}

/// The node's CT services: their routes and a Prometheus collector of their state.
pub struct CtServices {
    /// The routes to merge into the HTTP listener's router.
    pub router: Router,
    /// The `zdns_ct_…` metrics.
    pub metrics: CtMetrics,
}

/// The CT services' metrics, read from the log and the monitor when scraped.
#[derive(Debug, Clone, Default)]
pub struct CtMetrics {
    log: Option<Arc<Log>>,
    monitor: Option<Arc<Monitor>>,
}

impl Collector for CtMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let gauge = |encoder: &mut DescriptorEncoder, name, help, value: i64| {
            let g = ConstGauge::new(value);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
        };
        if let Some(log) = &self.log {
            let size = i64::try_from(log.head().sth.size).unwrap_or(i64::MAX);
            gauge(
                &mut encoder,
                "zdns_ct_tree_size",
                "Entries in the published CT tree",
                size,
            )?;
            let pending = i64::try_from(log.pending()).unwrap_or(i64::MAX);
            gauge(
                &mut encoder,
                "zdns_ct_pending_submissions",
                "Submissions waiting to be sequenced or being committed",
                pending,
            )?;
            let mut times = log.commit_times();
            times.sort();
            let mut family = encoder.encode_descriptor(
                "zdns_ct_sequencing_seconds",
                "Time to commit a sequencing period, over the recent periods",
                None,
                ConstGauge::new(0f64).metric_type(),
            )?;
            for q in [0.5, 0.99, 1.0] {
                let at = ((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1));
                let secs = times.get(at).map_or(0.0, |d| d.as_secs_f64());
                let labels = [("quantile", q.to_string())];
                ConstGauge::new(secs).encode(family.encode_family(&labels)?)?;
            }
        }
        if let Some(monitor) = &self.monitor {
            let watches = monitor.watches();
            let undelivered = watches
                .iter()
                .flat_map(|w| &w.matches)
                .filter(|m| !m.delivered)
                .count();
            gauge(
                &mut encoder,
                "zdns_ct_monitor_watches",
                "Domains watched by the CT monitor",
                i64::try_from(watches.len()).unwrap_or(i64::MAX),
            )?;
            gauge(
                &mut encoder,
                "zdns_ct_monitor_undelivered",
                "Monitor matches not (yet) accepted by their webhook",
                i64::try_from(undelivered).unwrap_or(i64::MAX),
            )?;
        }
        Ok(())
    }
}

/// Opens the node's CT log (and witness, when configured) under `<data dir>/ct`,
/// published at the HTTP listener's address; their routes and metrics. A service that
/// cannot open is logged and left out: DNS service does not depend on it.
pub async fn routes(data_dir: &Path, http: SocketAddr) -> Option<CtServices> {
    let mut metrics = CtMetrics::default();
    let dir = data_dir.join("ct");
    let mut router = None::<Router>;
    let mut config = LogConfig::embedded(&dir);
    config.origin = http.to_string();
    config.submission_url = format!("http://{http}/");
    config.monitoring_url = format!("http://{http}/ct/");
    // A log whose witness configuration is unreadable is not started: it would
    // publish checkpoints without the cosignatures its operator asked for; nor one
    // whose settings are, as it might run on the wrong storage.
    let opened = match witness_set(&dir).and_then(|set| {
        config.witnesses = set;
        log_settings(&dir, &mut config)
    }) {
        Ok(s3) => open_log(config, s3).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(log) => {
            tracing::info!(url = %format!("http://{http}/ct/"), "CT log");
            let log = Arc::new(log);
            metrics.log = Some(Arc::clone(&log));
            let mut routes = zdns_ct::http::router(Arc::clone(&log));
            match Monitor::open(log, MonitorConfig::new(dir.join(MONITOR_FILE))) {
                Ok(monitor) => {
                    metrics.monitor = Some(Arc::clone(&monitor));
                    routes = routes.merge(zdns_ct::monitor::service::router(monitor));
                }
                Err(e) => tracing::error!(error = %e, "CT monitor not started"),
            }
            router = Some(routes);
        }
        Err(e) => tracing::error!(error = %e, "CT log not started"),
    }
    match witness_config(&dir).and_then(|c| match c {
        None => Ok(None),
        Some(c) => Witness::open(&c).map(Some).map_err(|e| e.to_string()),
    }) {
        Ok(None) => {}
        Ok(Some(witness)) => {
            tracing::info!(
                vkey = %witness.key().verifier().vkey(),
                url = %format!("http://{http}/witness/"),
                "witness"
            );
            let w = zdns_ct::witness::server::router(Arc::new(witness), "/witness/");
            router = Some(match router {
                Some(r) => r.merge(w),
                None => w,
            });
        }
        Err(e) => tracing::error!(error = %e, "witness not started"),
    }
    router.map(|router| CtServices { router, metrics })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_settings_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = LogConfig::embedded(dir.path());
        assert_eq!(log_settings(dir.path(), &mut c).unwrap(), None);
        assert_eq!(c.period, Duration::from_secs(1));
        let write = |text: &str| std::fs::write(dir.path().join(LOG_FILE), text).unwrap();
        write(
            "period_ms = 250\npool_size = 10\nmmd = 86400\ndescription = \"test log\"\n\
             [s3]\nbucket = \"b\"\nregion = \"r\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n",
        );
        let s3 = log_settings(dir.path(), &mut c).unwrap().unwrap();
        assert_eq!(
            (c.period, c.pool_size, c.mmd, c.description.as_str()),
            (Duration::from_millis(250), 10, 86400, "test log")
        );
        assert_eq!((s3.bucket.as_str(), s3.endpoint), ("b", None));
        for bad in [
            "period_ms = 0\n",
            "pool_size = 0\n",
            "unknown = 1\n",
            "[s3]\nbucket = \"b\"\n",
            "period_ms = \"fast\"\n",
        ] {
            write(bad);
            assert!(log_settings(dir.path(), &mut c).is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "s3"))]
    #[tokio::test]
    async fn an_s3_log_needs_the_s3_feature() {
        let dir = tempfile::tempdir().unwrap();
        let bucket = S3Bucket {
            endpoint: None,
            bucket: "b".into(),
            region: "r".into(),
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
        };
        let err = open_log(LogConfig::embedded(dir.path()), Some(bucket))
            .await
            .unwrap_err();
        assert!(err.contains("without the s3 feature"), "{err}");
    }

    #[test]
    fn witness_files_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        assert!(witness_set(dir.path()).unwrap().is_none());
        assert!(witness_config(dir.path()).unwrap().is_none());
        let vkey = zdns_ct::witness::CosignerKey::from_seed("w.example", &[1; 32])
            .unwrap()
            .verifier()
            .vkey();
        let write = |text: &str| std::fs::write(dir.path().join(WITNESSES_FILE), text).unwrap();
        write(&format!(
            "threshold = 1\n[[witness]]\nurl = \"http://127.0.0.1:1/w\"\nvkey = \"{vkey}\"\n"
        ));
        let set = witness_set(dir.path()).unwrap().unwrap();
        assert_eq!(set.threshold, 1);
        assert_eq!(set.witnesses[0].url, "http://127.0.0.1:1/w/");
        assert_eq!(set.timeout, Duration::from_millis(5000));
        for bad in [
            format!("threshold = 2\n[[witness]]\nurl = \"http://x/\"\nvkey = \"{vkey}\"\n"),
            "threshold = 1\n[[witness]]\nurl = \"http://x/\"\nvkey = \"nonsense\"\n".into(),
            "threshold = 1\nunknown = 3\n".into(),
            "not toml".into(),
        ] {
            write(&bad);
            assert!(witness_set(dir.path()).is_err(), "{bad}");
        }
        std::fs::write(
            dir.path().join(WITNESS_FILE),
            "name = \"me.example\"\nlogs = [\"a+00000000+AA==\"]\n",
        )
        .unwrap();
        let c = witness_config(dir.path()).unwrap().unwrap();
        assert_eq!(c.name, "me.example");
        assert_eq!(c.data_dir, dir.path().join("witness"));
    }
}
