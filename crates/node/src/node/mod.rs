//! The running node: zones, listeners (UDP workers, TCP and HTTP on tokio), reloads.

pub mod answerer;
pub mod ct;
mod http;
pub mod metrics;
mod tcp;
mod udp;
pub mod zones;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use zdns_auth::Answerer;

use crate::config::{Overrides, Settings};
use answerer::build_answerer;
use metrics::{Metrics, ZoneFacts};
use zones::{LoadError, ZoneSet};

/// The answerer every listener uses, replaced as a whole on reload: a query sees the
/// old zones or the new ones, never a mix.
pub type SharedAnswerer = Arc<ArcSwap<Arc<dyn Answerer>>>;

/// State shared by the listeners and the reload paths.
pub struct Node {
    overrides: Overrides,
    running: Settings,
    zones: Mutex<ZoneSet>,
    answerer: SharedAnswerer,
    metrics: Arc<Metrics>,
}

impl Node {
    /// Re-reads the config file and every zone, then swaps in a new answerer. A zone that
    /// fails keeps its old version. `Ok` holds a summary; `Err` the problems, one a line.
    pub fn reload(&self) -> Result<String, String> {
        let result = self.try_reload();
        let counter = match &result {
            Ok(summary) => {
                tracing::info!("reload: {summary}");
                &self.metrics.reloads_ok
            }
            Err(problems) => {
                for line in problems.lines() {
                    tracing::error!("reload: {line}");
                }
                &self.metrics.reloads_failed
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }

    fn try_reload(&self) -> Result<String, String> {
        let settings = self.overrides.settings()?;
        if !same_listeners(&settings, &self.running) {
            tracing::warn!(
                "listeners, threads, TCP limits and the data directory change only at restart"
            );
        }
        let mut zones = self.zones.lock().unwrap_or_else(PoisonError::into_inner);
        let errors = zones.reload(&settings.zones);
        self.install(&zones);
        if errors.is_empty() {
            Ok(format!("{} zone(s) loaded", zones.len()))
        } else {
            Err(describe(&errors, "kept its previous version"))
        }
    }

    /// Builds the answerer for `zones` and makes every listener use it.
    fn install(&self, zones: &ZoneSet) {
        self.answerer
            .store(Arc::new(build_answerer(zones.to_zones())));
        self.metrics.set_zones(
            zones
                .iter()
                .map(|(origin, z)| ZoneFacts {
                    origin: origin.to_owned(),
                    serial: z.serial,
                    load_seconds: z.load_time.as_secs_f64(),
                })
                .collect(),
        );
        for (origin, z) in zones.iter() {
            tracing::info!(
                zone = origin,
                serial = z.serial,
                records = z.zone.records().len(),
                "serving zone"
            );
        }
    }
}

/// Whether the parts of the settings that need a restart are unchanged.
fn same_listeners(a: &Settings, b: &Settings) -> bool {
    a.listen == b.listen
        && a.http == b.http
        && a.threads == b.threads
        && a.tcp == b.tcp
        && a.data_dir == b.data_dir
}

/// One line per problem, each zone's lines prefixed by its origin.
fn describe(errors: &[LoadError], consequence: &str) -> String {
    let mut text = String::new();
    for e in errors {
        text.push_str(&format!("zone {} not loaded ({consequence}):", e.origin));
        for line in &e.lines {
            text.push_str("\n  ");
            text.push_str(line);
        }
        text.push('\n');
    }
    text.trim_end().to_owned()
}

/// Starts the node and runs until SIGINT or SIGTERM. Errors are fatal start-up problems.
pub fn run(overrides: Overrides) -> Result<(), String> {
    let settings = overrides.settings()?;
    std::fs::create_dir_all(&settings.data_dir).map_err(|e| {
        format!(
            "cannot create data directory {}: {e}",
            settings.data_dir.display()
        )
    })?;
    tracing::info!(path = %settings.data_dir.display(), "data directory");
    let mut zones = ZoneSet::default();
    let errors = zones.reload(&settings.zones);
    if !errors.is_empty() {
        return Err(describe(&errors, "refusing to start"));
    }
    if zones.len() == 0 {
        tracing::warn!("no zones configured: every query will be refused");
    }
    let workers = settings.listen.len() * settings.threads;
    let metrics = Arc::new(Metrics::new(workers));
    let answerer: SharedAnswerer = Arc::new(ArcSwap::from_pointee(build_answerer(Vec::new())));
    let node = Arc::new(Node {
        overrides,
        running: settings.clone(),
        zones: Mutex::new(ZoneSet::default()),
        answerer: Arc::clone(&answerer),
        metrics: Arc::clone(&metrics),
    });
    node.install(&zones);
    *node.zones.lock().unwrap_or_else(PoisonError::into_inner) = zones;

    let mut udp_sockets = Vec::new();
    for addr in &settings.listen {
        let sockets = udp::bind(*addr, settings.threads)
            .map_err(|e| format!("cannot listen on UDP {addr}: {e}"))?;
        udp_sockets.push(sockets);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads.clamp(1, 4))
        .thread_name("zdns-io")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let mut tcp_listeners = Vec::new();
        for addr in &settings.listen {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on TCP {addr}: {e}"))?;
            tcp_listeners.push(l);
        }
        let http = TcpListener::bind(settings.http)
            .await
            .map_err(|e| format!("cannot listen on HTTP {}: {e}", settings.http))?;
        let mut hangup =
            signal(SignalKind::hangup()).map_err(|e| format!("cannot handle SIGHUP: {e}"))?;
        let mut terminate =
            signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;

        for (i, (sockets, addr)) in udp_sockets.into_iter().zip(&settings.listen).enumerate() {
            udp::spawn(sockets, &answerer, |w| metrics.udp_worker(w), i * settings.threads)
                .map_err(|e| format!("cannot start UDP workers: {e}"))?;
            tracing::info!(%addr, workers = settings.threads, "DNS over UDP");
        }
        for (listener, addr) in tcp_listeners.into_iter().zip(&settings.listen) {
            tokio::spawn(tcp::serve(
                listener,
                Arc::clone(&answerer),
                settings.tcp,
                Arc::clone(&metrics),
            ));
            tracing::info!(%addr, max_connections = settings.tcp.max_connections, idle_timeout_ms = settings.tcp.idle_timeout.as_millis(), "DNS over TCP");
        }
        let http_addr = http.local_addr().unwrap_or(settings.http);
        let ct = ct::routes(&settings.data_dir, http_addr).await;
        let http_node = Arc::clone(&node);
        tokio::spawn(async move {
            if let Err(e) = http::serve(http, http_node, ct).await {
                tracing::error!(error = %e, "HTTP listener stopped");
            }
        });
        tracing::info!(addr = %http_addr, "HTTP: /metrics, POST /api/v1/reload, CT log under /ct/");
        loop {
            tokio::select! {
                _ = hangup.recv() => {
                    tracing::info!("SIGHUP: reloading");
                    let node = Arc::clone(&node);
                    // Errors are logged and counted by `reload`.
                    let _ = tokio::task::spawn_blocking(move || node.reload()).await;
                }
                _ = terminate.recv() => break,
                _ = tokio::signal::ctrl_c() => break,
            }
        }
        tracing::info!("shutting down");
        Ok(())
    })
}
