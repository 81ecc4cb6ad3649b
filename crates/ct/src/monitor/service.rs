//! The node's monitor of its own log: domain watches added with `POST
//! /api/v1/ct/monitor` and listed with `GET /api/v1/ct/monitor`, kept in a JSON file
//! written durably (temp file, fsync, rename) so a restart keeps them. A task follows
//! the log's published entries, records the entries each watch matches, and delivers
//! each match to the watch's webhook (`POST`, JSON), retrying with exponential backoff.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::Client;
use crate::log::Log;

use super::matching::{entry_names, matching, valid_domain};

/// The most matches kept per watch (the oldest delivered ones are dropped first).
pub const MAX_MATCHES: usize = 1000;

/// How the monitor runs.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// The state file.
    pub path: PathBuf,
    /// How often the log is checked for new entries.
    pub interval: Duration,
    /// The first retry delay; each further retry doubles it.
    pub retry_base: Duration,
    /// The most delivery attempts per match.
    pub max_attempts: u32,
    /// The deadline of one delivery.
    pub timeout: Duration,
}

impl MonitorConfig {
    /// The defaults for the state file `path`: a check every second, retries after 1 s,
    /// 2 s, 4 s… up to 8 attempts, 5 s per delivery.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        MonitorConfig {
            path: path.into(),
            interval: Duration::from_secs(1),
            retry_base: Duration::from_secs(1),
            max_attempts: 8,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The delay before delivery attempt `attempt` (1-based; the first is immediate).
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    if attempt <= 1 {
        return Duration::ZERO;
    }
    base.saturating_mul(1u32 << (attempt - 2).min(16))
}

/// A recorded match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchRecord {
    /// The entry's leaf index.
    pub leaf_index: u64,
    /// Whether it is a precertificate.
    pub precert: bool,
    /// The names the domain covers.
    pub names: Vec<String>,
    /// The entry's SCT timestamp (ms).
    pub timestamp: u64,
    /// Whether the webhook accepted it.
    pub delivered: bool,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// A domain watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    /// Its identifier.
    pub id: u64,
    /// The watched domain (and its subdomains).
    pub domain: String,
    /// Where matches are posted.
    pub notification_endpoint: String,
    /// The first leaf index it watches.
    pub from_index: u64,
    /// Its matches, oldest first.
    #[serde(default)]
    pub matches: Vec<MatchRecord>,
}

/// The persisted state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct MonitorState {
    watches: Vec<Watch>,
    /// The next leaf index to scan.
    next: u64,
    next_id: u64,
}

/// Why a monitor operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorError {
    /// The request is invalid (HTTP 400).
    Invalid(String),
    /// The state could not be read, written or scanned (HTTP 500).
    State(String),
}

impl core::fmt::Display for MonitorError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MonitorError::Invalid(why) => write!(f, "{why}"),
            MonitorError::State(why) => write!(f, "monitor state: {why}"),
        }
    }
}

impl std::error::Error for MonitorError {}

/// The node's monitor of its log.
pub struct Monitor {
    log: Arc<Log>,
    config: MonitorConfig,
    state: Mutex<MonitorState>,
    client: Client,
}

impl core::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Monitor")
            .field("path", &self.config.path)
            .finish_non_exhaustive()
    }
}

fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), MonitorError> {
    use std::io::Write;
    let io = |e: std::io::Error| MonitorError::State(format!("{}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

fn lock(state: &Mutex<MonitorState>) -> std::sync::MutexGuard<'_, MonitorState> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Monitor {
    /// Opens the monitor of `log` with the state in `config.path` (new if absent), and
    /// starts its task (so it must run inside a Tokio runtime). Undelivered matches are
    /// delivered again.
    pub fn open(log: Arc<Log>, config: MonitorConfig) -> Result<Arc<Monitor>, MonitorError> {
        let state = match std::fs::read(&config.path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| MonitorError::State(format!("{}: {e}", config.path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MonitorState {
                next: log.head().sth.size,
                ..MonitorState::default()
            },
            Err(e) => {
                return Err(MonitorError::State(format!(
                    "{}: {e}",
                    config.path.display()
                )));
            }
        };
        let monitor = Arc::new(Monitor {
            client: Client::new(config.timeout),
            log,
            config,
            state: Mutex::new(state),
        });
        let pending: Vec<(u64, u64)> = lock(&monitor.state)
            .watches
            .iter()
            .flat_map(|w| {
                w.matches
                    .iter()
                    .filter(|m| !m.delivered && m.attempts < monitor.config.max_attempts)
                    .map(move |m| (w.id, m.leaf_index))
            })
            .collect();
        for (id, index) in pending {
            tokio::spawn(deliver(Arc::clone(&monitor), id, index));
        }
        tokio::spawn(follow(Arc::downgrade(&monitor)));
        Ok(monitor)
    }

    fn save(&self, state: &MonitorState) -> Result<(), MonitorError> {
        let bytes =
            serde_json::to_vec_pretty(state).map_err(|e| MonitorError::State(e.to_string()))?;
        write_durably(&self.config.path, &bytes)
    }

    /// Adds a watch of `domain` (and its subdomains) from the next entry on, durably.
    pub fn add(&self, domain: &str, endpoint: &str) -> Result<Watch, MonitorError> {
        if !valid_domain(domain) {
            return Err(MonitorError::Invalid(format!(
                "{domain:?} is not a domain name"
            )));
        }
        if !endpoint.starts_with("http://") {
            return Err(MonitorError::Invalid(format!(
                "{endpoint:?}: the notification endpoint must be an http:// URL"
            )));
        }
        let mut state = lock(&self.state);
        let watch = Watch {
            id: state.next_id,
            domain: domain.trim_end_matches('.').to_ascii_lowercase(),
            notification_endpoint: endpoint.to_string(),
            from_index: state.next,
            matches: Vec::new(),
        };
        let mut next = state.clone();
        next.next_id += 1;
        next.watches.push(watch.clone());
        self.save(&next)?;
        *state = next;
        Ok(watch)
    }

    /// The watches and their matches.
    pub fn watches(&self) -> Vec<Watch> {
        lock(&self.state).watches.clone()
    }

    /// Scans the published entries not yet scanned; returns the matches found as
    /// (watch id, leaf index).
    pub async fn scan(&self) -> Result<Vec<(u64, u64)>, MonitorError> {
        let size = self.log.head().sth.size;
        let mut found = Vec::new();
        loop {
            let start = lock(&self.state).next;
            if start >= size {
                return Ok(found);
            }
            let entries = self
                .log
                .entries(start, size - 1)
                .await
                .map_err(|e| MonitorError::State(e.to_string()))?;
            let mut state = lock(&self.state);
            if state.next != start {
                continue;
            }
            let mut next = state.clone();
            for (i, (leaf, _)) in (start..).zip(&entries) {
                let names = entry_names(leaf);
                for w in next.watches.iter_mut().filter(|w| w.from_index <= i) {
                    let names = matching(&w.domain, &names);
                    if names.is_empty() {
                        continue;
                    }
                    w.matches.push(MatchRecord {
                        leaf_index: i,
                        precert: leaf.pre_certificate.is_some(),
                        names,
                        timestamp: leaf.entry.timestamp,
                        delivered: false,
                        attempts: 0,
                    });
                    found.push((w.id, i));
                    if w.matches.len() > MAX_MATCHES {
                        let drop_at = w.matches.iter().position(|m| m.delivered).unwrap_or(0);
                        w.matches.remove(drop_at);
                    }
                }
            }
            next.next = start + entries.len() as u64;
            self.save(&next)?;
            *state = next;
        }
    }

    /// Records a delivery attempt's outcome; returns the attempts made and whether it
    /// is settled (delivered, gone, or out of attempts).
    fn attempted(&self, id: u64, index: u64, ok: bool) -> (u32, bool) {
        let mut state = lock(&self.state);
        let mut next = state.clone();
        let Some(m) = next
            .watches
            .iter_mut()
            .find(|w| w.id == id)
            .and_then(|w| w.matches.iter_mut().find(|m| m.leaf_index == index))
        else {
            return (0, true);
        };
        m.attempts += 1;
        m.delivered = ok;
        let result = (m.attempts, ok || m.attempts >= self.config.max_attempts);
        if let Err(e) = self.save(&next) {
            tracing::warn!(error = %e, "monitor state not saved");
        }
        *state = next;
        result
    }

    fn payload(&self, id: u64, index: u64) -> Option<(String, serde_json::Value)> {
        let state = lock(&self.state);
        let w = state.watches.iter().find(|w| w.id == id)?;
        let m = w.matches.iter().find(|m| m.leaf_index == index)?;
        Some((
            w.notification_endpoint.clone(),
            json!({
                "watch_id": w.id,
                "domain": w.domain,
                "log": self.log.config().monitoring_url,
                "leaf_index": m.leaf_index,
                "precert": m.precert,
                "names": m.names,
                "timestamp": m.timestamp,
            }),
        ))
    }
}

/// Delivers one match, retrying with backoff until it is accepted or out of attempts.
async fn deliver(monitor: Arc<Monitor>, id: u64, index: u64) {
    loop {
        let Some((url, body)) = monitor.payload(id, index) else {
            return;
        };
        let ok = match monitor
            .client
            .post(&url, "application/json", body.to_string().into_bytes())
            .await
        {
            Ok(r) => (200..300).contains(&r.status),
            Err(e) => {
                tracing::info!(error = %e, "webhook delivery failed");
                false
            }
        };
        let (attempts, settled) = monitor.attempted(id, index, ok);
        if settled {
            return;
        }
        tokio::time::sleep(backoff(monitor.config.retry_base, attempts + 1)).await;
    }
}

/// The monitor task: scans new entries every interval and delivers the matches.
async fn follow(weak: std::sync::Weak<Monitor>) {
    let interval = match weak.upgrade() {
        Some(m) => m.config.interval,
        None => return,
    };
    loop {
        tokio::time::sleep(interval).await;
        let Some(monitor) = weak.upgrade() else {
            return;
        };
        match monitor.scan().await {
            Ok(found) => {
                for (id, index) in found {
                    tokio::spawn(deliver(Arc::clone(&monitor), id, index));
                }
            }
            Err(e) => tracing::warn!(error = %e, "monitor scan"),
        }
    }
}

#[derive(Deserialize)]
struct AddWatch {
    domain: String,
    notification_endpoint: String,
}

/// The monitor's routes: `POST /api/v1/ct/monitor` (`{"domain", "notification_endpoint"}`)
/// adds a watch, `GET /api/v1/ct/monitor` lists the watches with their matches.
pub fn router(monitor: Arc<Monitor>) -> Router {
    Router::new()
        .route("/api/v1/ct/monitor", get(list).post(add))
        .with_state(monitor)
}

async fn add(State(monitor): State<Arc<Monitor>>, body: axum::body::Bytes) -> Response {
    let req: AddWatch = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "error": format!("bad request: {e}") })),
            )
                .into_response();
        }
    };
    match monitor.add(&req.domain, &req.notification_endpoint) {
        Ok(w) => (StatusCode::CREATED, Json(w)).into_response(),
        Err(e) => {
            let status = match e {
                MonitorError::Invalid(_) => StatusCode::BAD_REQUEST,
                MonitorError::State(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (status, Json(json!({ "error": e.to_string() }))).into_response()
        }
    }
}

async fn list(State(monitor): State<Arc<Monitor>>) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Json(json!({ "watches": monitor.watches(), "now": now })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 1), Duration::ZERO);
        assert_eq!(backoff(b, 2), b);
        assert_eq!(backoff(b, 3), b * 2);
        assert_eq!(backoff(b, 5), b * 8);
        assert!(backoff(b, 100) >= backoff(b, 18));
    }
}
