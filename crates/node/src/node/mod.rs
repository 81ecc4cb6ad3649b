//! The running node: zones and their control (transfers, updates, notifies, journals),
//! listeners (UDP workers, TCP and HTTP on tokio), reloads.

pub mod answerer;
pub mod ct;
mod encrypted;
mod http;
pub mod metrics;
pub mod recursor;
mod tcp;
mod udp;
pub mod zonectl;
pub mod zones;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use zdns_auth::Answerer;

use crate::config::{Overrides, Settings};
use metrics::Metrics;
use zonectl::ZoneControl;
use zones::LoadError;

/// The resolver's L2 cache file, under the data directory.
const RESOLVER_CACHE_FILE: &str = "resolver-cache.redb";

/// The answerer every listener uses, replaced as a whole on reload: a query sees the
/// old zones or the new ones, never a mix.
pub type SharedAnswerer = Arc<ArcSwap<Arc<dyn Answerer>>>;

/// State shared by the listeners and the reload paths.
pub struct Node {
    overrides: Overrides,
    running: Settings,
    control: Arc<ZoneControl>,
    metrics: Arc<Metrics>,
    encrypted: Arc<encrypted::Encrypted>,
    /// The authoritative core (its catalog is zone control's to swap).
    auth: Arc<zdns_auth::AuthServer>,
    /// What the listeners answer with: the authoritative core, or recursion in front
    /// of it.
    answerer: SharedAnswerer,
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
        let tls = self.encrypted.reload(&settings);
        let errors = self.control.configure(&settings.zones, &settings.keys);
        self.install();
        self.log_zones();
        let mut problems = Vec::new();
        if !errors.is_empty() {
            problems.push(describe(&errors, "kept its previous version"));
        }
        if let Err(e) = tls {
            problems.push(format!(
                "TLS certificate not reloaded (the previous one stays): {e}"
            ));
        }
        if problems.is_empty() {
            Ok(format!(
                "{} zone(s) loaded, TLS certificate re-read",
                self.control.len()
            ))
        } else {
            Err(problems.join("\n"))
        }
    }

    /// Logs what each zone serves.
    fn log_zones(&self) {
        for (origin, serial, rrsets) in self.control.describe() {
            match serial {
                Some(serial) => tracing::info!(zone = origin, serial, rrsets, "serving zone"),
                None => tracing::info!(
                    zone = origin,
                    "secondary zone: waiting for its first transfer"
                ),
            }
        }
    }

    /// Makes the listeners answer with the authoritative core, behind recursion for
    /// names outside the configured zones when the resolver is on.
    fn install(&self) {
        let auth = Arc::clone(&self.auth) as Arc<dyn Answerer>;
        let answerer = match &self.recursor {
            Some(recursor) => {
                let scopes = zdns_resolver::scope::scopes_in(&self.control.scope_records());
                recursor.wrap(auth, self.control.origins(), scopes)
            }
            None => auth,
        };
        self.answerer.store(Arc::new(answerer));
    }
}

/// Whether the parts of the settings that need a restart are unchanged.
fn same_listeners(a: &Settings, b: &Settings) -> bool {
    a.listen == b.listen
        && a.http == b.http
        && a.threads == b.threads
        && a.tcp == b.tcp
        && a.data_dir == b.data_dir
        && a.tls.same_listeners(&b.tls)
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
    let workers = settings.listen.len() * settings.threads;
    let metrics = Arc::new(Metrics::new(workers));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.threads.clamp(1, 4))
        .thread_name("zdns-io")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let auth = answerer::auth_server();
    let answerer: SharedAnswerer =
        Arc::new(ArcSwap::from_pointee(Arc::clone(&auth) as Arc<dyn Answerer>));
    let control = Arc::new(ZoneControl::new(
        Arc::clone(&auth),
        settings.data_dir.clone(),
        Arc::clone(&metrics),
        runtime.handle().clone(),
    ));
    let errors = control.configure(&settings.zones, &settings.keys);
    if !errors.is_empty() {
        return Err(describe(&errors, "refusing to start"));
    }
    if control.len() == 0 {
        tracing::warn!("no zones configured: every query will be refused");
    }
    let encrypted = Arc::new(encrypted::Encrypted::new(&settings)?);
    let recursor = match settings.resolver.enabled {
        true => Some(recursor::Recursor::new(&settings.resolver)?),
        false => None,
    };
    let node = Arc::new(Node {
        overrides,
        running: settings.clone(),
        control: Arc::clone(&control),
        metrics: Arc::clone(&metrics),
        encrypted: Arc::clone(&encrypted),
        auth: Arc::clone(&auth),
        answerer: Arc::clone(&answerer),
        recursor: recursor.clone(),
    });
    node.install();
    node.log_zones();

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
        recursor.attach_anchor_state(&settings.data_dir);
        tracing::info!(
            root_hints = settings.resolver.root_hints.len(),
            forward_zones = settings.resolver.forward.len(),
            "recursion for names outside the zones"
        );
    }
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

        let deferred = udp::deferred_queue(Arc::clone(&control), Arc::clone(&metrics));
        for (i, (sockets, addr)) in udp_sockets.into_iter().zip(&settings.listen).enumerate() {
            let local_runtime = recursor
                .is_some()
                .then_some(recursor::resolve_on_this_thread as fn(_, _));
            udp::spawn(
                sockets,
                &answerer,
                &deferred,
                |w| metrics.udp_worker(w),
                i * settings.threads,
                local_runtime,
            )
            .map_err(|e| format!("cannot start UDP workers: {e}"))?;
            tracing::info!(%addr, workers = settings.threads, "DNS over UDP");
        }
        for (listener, addr) in tcp_listeners.into_iter().zip(&settings.listen) {
            tokio::spawn(tcp::serve(
                listener,
                Arc::clone(&answerer),
                Arc::clone(&control),
                settings.tcp,
                Arc::clone(&metrics),
            ));
            tracing::info!(%addr, max_connections = settings.tcp.max_connections, idle_timeout_ms = settings.tcp.idle_timeout.as_millis(), "DNS over TCP");
        }
        encrypted.start(&settings, &answerer, &control, &metrics).await?;
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
