//! The running node: zones, listeners (UDP workers, TCP and HTTP on tokio), reloads.

pub mod answerer;
mod http;
pub mod metrics;
pub mod recursor;
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

/// The resolver's L2 cache file, under the data directory.
const RESOLVER_CACHE_FILE: &str = "resolver-cache.redb";

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
    /// Recursion for names outside the zones, when enabled; kept across reloads.
    recursor: Option<Arc<recursor::Recursor>>,
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
        let zone_list = zones.to_zones();
        let origins = zone_list.iter().map(|z| z.origin().clone()).collect();
        let scopes = zone_list
            .iter()
            .flat_map(|z| zdns_resolver::scope::scopes_in(z.records()))
            .collect();
        let auth = build_answerer(zone_list);
        let answerer = match &self.recursor {
            Some(recursor) => recursor.wrap(auth, origins, scopes),
            None => auth,
        };
        self.answerer.store(Arc::new(answerer));
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
        && a.resolver == b.resolver
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

/// Opens the node's Certificate Transparency log under `<data dir>/ct`, published at the
/// HTTP listener's address. A log that cannot open is logged and left out: DNS service
/// does not depend on it.
async fn ct_log(
    data_dir: &std::path::Path,
    http: std::net::SocketAddr,
) -> Option<Arc<zdns_ct::log::Log>> {
    let mut config = zdns_ct::log::LogConfig::embedded(data_dir.join("ct"));
    config.origin = http.to_string();
    config.submission_url = format!("http://{http}/");
    config.monitoring_url = format!("http://{http}/ct/");
    match zdns_ct::log::Log::open_local(config).await {
        Ok(log) => {
            tracing::info!(url = %format!("http://{http}/ct/"), "CT log");
            Some(Arc::new(log))
        }
        Err(e) => {
            tracing::error!(error = %e, "CT log not started");
            None
        }
    }
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
    let recursor = match settings.resolver.enabled {
        true => Some(recursor::Recursor::new(&settings.resolver)?),
        false => None,
    };
    let node = Arc::new(Node {
        overrides,
        running: settings.clone(),
        zones: Mutex::new(ZoneSet::default()),
        answerer: Arc::clone(&answerer),
        metrics: Arc::clone(&metrics),
        recursor: recursor.clone(),
    });
    node.install(&zones);
    *node.zones.lock().unwrap_or_else(PoisonError::into_inner) = zones;

    let mut udp_sockets = Vec::new();
    for addr in &settings.listen {
        let sockets = udp::bind(*addr, settings.threads)
            .map_err(|e| format!("cannot listen on UDP {addr}: {e}"))?;
        udp_sockets.push(sockets);
    }
    if let Some(recursor) = &recursor {
        // Deferred recursive answers leave from the listeners' own addresses.
        let replies = udp_sockets
            .iter()
            .filter_map(|s| s.first().and_then(|s| s.try_clone().ok()))
            .collect();
        recursor.set_udp_replies(replies);
        match recursor.attach_disk(&settings.data_dir.join(RESOLVER_CACHE_FILE)) {
            Ok(restored) => tracing::info!(restored, "resolver cache loaded from disk"),
            Err(e) => tracing::warn!(error = %e, "resolver cache on disk not used"),
        }
        tracing::info!(
            root_hints = settings.resolver.root_hints.len(),
            forward_zones = settings.resolver.forward.len(),
            "recursion for names outside the zones"
        );
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
        let ct = ct_log(&settings.data_dir, http_addr).await;
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
        if let Some(recursor) = recursor {
            match tokio::task::spawn_blocking(move || recursor.save()).await {
                Ok(Ok(saved)) => tracing::info!(saved, "resolver cache saved"),
                Ok(Err(e)) => tracing::warn!(error = %e, "resolver cache not saved"),
                Err(e) => tracing::warn!(error = %e, "resolver cache not saved"),
            }
        }
        Ok(())
    })
}
