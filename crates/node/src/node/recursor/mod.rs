//! Recursive service beside the authoritative engine.
//!
//! [`Recursor::wrap`] puts a [`RecursiveAnswerer`] in front of the zones' answerer: a
//! query with RD set, from an allowed client, for a name outside every zone the node
//! serves, is answered by the resolver (`zdns-resolver`); everything else goes to the
//! authoritative engine unchanged.
//!
//! - A cache hit (or a denial that validated NSEC records prove, RFC 8198) is answered
//!   at once on the listener's own thread, from memory, with no I/O and no waiting
//!   (seed 003 §15 invariant 6). A popular RRset near expiry starts a background
//!   refresh that the answer does not wait for.
//! - A miss over UDP is resolved on the UDP worker's own single-threaded runtime
//!   ([`resolve_on_this_thread`]) between its batches, and the worker moves on; the
//!   answer is sent later from the listener's own address (a clone of its socket).
//! - A miss over TCP waits for the resolution on the connection's task (with tokio's
//!   `block_in_place`, so other connections keep being served).
//!
//! Resolutions run on runtimes of their own ([`runtime`]), one single-threaded runtime
//! per resolver thread, so they never compete with the listeners for threads and the
//! recursor can be built before the node's runtime exists.

pub mod api;
pub mod inflight;
pub mod l2;
pub mod metrics;
pub mod settings;
pub mod upstream;
pub mod upstream_encrypted;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lib_dns::message::Question;
use lib_dns::{Class, Message, Name, Opcode, Rcode, Rtype};
use tokio::runtime::Handle;
use zdns_auth::{Answered, Answerer, Outcome, QueryContext, Transport};
use zdns_resolver::answer::EDE_OTHER;
use zdns_resolver::rate::RateDetector;
use zdns_resolver::scope::{Policy, Scope, ScopeTable};
use zdns_resolver::validator::Security;
use zdns_resolver::{Answer, Cache, CacheConfig, ForwardZone, Resolver, ResolverConfig};

use inflight::{InFlight, Join};
use l2::{DiskCache, SAVE_INTERVAL};
use metrics::{Collected, RecursorMetrics};
use prometheus_client::registry::Registry;
use settings::{Network, ResolverSettings};
use upstream::{Upstream, drive, now};

/// The longest a TCP client waits for an answer (the resolution deadline ends it first).
const TCP_RESOLVE_DEADLINE: Duration = Duration::from_secs(15);

/// The client response timer of RFC 8767 §5: when resolution has not finished after
/// this long and stale data is at hand, the client gets the stale data now and the
/// resolution goes on in the background to refresh the cache.
const CLIENT_RESPONSE_TIMER: Duration = Duration::from_millis(1800);

/// The longest one resolution may run before the client gets SERVFAIL (or stale data).
const RESOLUTION_DEADLINE: Duration = Duration::from_secs(10);

/// The largest UDP answer to a client that offers no EDNS (RFC 1035 §4.2.1).
const PLAIN_UDP: usize = 512;

/// How often the RFC 5011 trust anchor state is checked for changes to save.
const ANCHOR_SAVE_INTERVAL: Duration = Duration::from_secs(60);

/// The file in the data directory that keeps the RFC 5011 state of `zone`'s trust
/// anchor: `trust-anchor.root.state` for the root, `trust-anchor.ZONE.state` else.
pub fn anchor_state_file(dir: &Path, zone: &Name) -> std::path::PathBuf {
    let name = if zone.is_root() {
        "root".to_owned()
    } else {
        zone.to_string().trim_end_matches('.').to_lowercase()
    };
    dir.join(format!("trust-anchor.{name}.state"))
}

/// Resolver threads at most: one per CPU up to this many.
const MAX_RESOLVER_THREADS: usize = 8;

/// The resolver's runtimes: one single-threaded runtime per resolver thread, made on
/// first use and kept for the life of the process (a static, so none is dropped inside
/// another runtime).
///
/// Each resolution runs start to end on one thread, as in Unbound: a cache miss costs
/// one wake-up of that thread and one per upstream reply. (A multi-threaded runtime
/// also woke its idle workers to look for work to steal: about nine context switches
/// per cold query instead of three.)
struct Runtimes {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

impl Runtimes {
    fn start() -> Option<Runtimes> {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_RESOLVER_THREADS);
        let handles = (0..threads)
            .map(|i| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let handle = runtime.handle().clone();
                std::thread::Builder::new()
                    .name(format!("zdns-resolve-{i}"))
                    .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
                Ok(handle)
            })
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| tracing::error!(error = %e, "cannot start the resolver runtimes"))
            .ok()?;
        Some(Runtimes {
            handles,
            next: AtomicUsize::new(0),
        })
    }
}

/// A handle to one of the resolver's runtimes, taken in turn, to spawn a resolution on;
/// `None` when they could not be started.
pub fn runtime() -> Option<Handle> {
    static RUNTIMES: OnceLock<Option<Runtimes>> = OnceLock::new();
    let runtimes = RUNTIMES.get_or_init(Runtimes::start).as_ref()?;
    let turn = runtimes.next.fetch_add(1, Ordering::Relaxed);
    runtimes
        .handles
        .get(turn % runtimes.handles.len().max(1))
        .cloned()
}

/// The runtime and socket of the UDP worker that owns a thread.
struct WorkerThread {
    runtime: Handle,
    socket: Arc<UdpSocket>,
}

thread_local! {
    /// The UDP worker of this thread, when it resolves its own misses.
    static WORKER: std::cell::RefCell<Option<WorkerThread>> = const { std::cell::RefCell::new(None) };
}

/// Makes the cache misses of UDP queries answered on this thread resolve on `runtime`,
/// the thread's own (given by the UDP worker that owns the thread), instead of on a
/// resolver thread, and their answers leave from `socket`, the worker's: no other
/// thread is woken for a miss.
pub fn resolve_on_this_thread(runtime: Handle, socket: Arc<UdpSocket>) {
    WORKER.with(|w| *w.borrow_mut() = Some(WorkerThread { runtime, socket }));
}

/// Where a UDP miss answered on this thread resolves: the thread's own runtime if it
/// has one, else one of the resolver's.
fn udp_runtime() -> Option<Handle> {
    WORKER
        .with(|w| w.borrow().as_ref().map(|w| w.runtime.clone()))
        .or_else(runtime)
}

/// The resolver as the node runs it: shared across reloads (the cache survives them).
pub struct Recursor {
    resolver: Arc<Resolver>,
    upstream: Arc<dyn Upstream>,
    allow: Vec<Network>,
    /// Clones of the listeners' UDP sockets, to send deferred answers from.
    udp_replies: OnceLock<Vec<UdpSocket>>,
    /// Names asked too often (seed 003 §15.1 invariant 3).
    rates: RateDetector,
    metrics: Arc<RecursorMetrics>,
    /// The L2 cache, once attached.
    disk: OnceLock<DiskCache>,
    /// Scopes given by the configuration (forward zones).
    configured_scopes: Vec<(Name, Scope)>,
    /// Resolutions under way, joined by concurrent misses for the same question.
    inflight: InFlight,
    /// Where the RFC 5011 trust anchor state is kept, once attached.
    anchor_dir: OnceLock<std::path::PathBuf>,
}

impl Recursor {
    /// A recursor over the real network (encrypted to the forward zones' `tls://`,
    /// `https://` and `quic://` upstreams).
    pub fn new(settings: &ResolverSettings) -> Result<Arc<Recursor>, String> {
        Recursor::with_upstream(settings, upstream_encrypted::network(&settings.forward)?)
    }

    /// A recursor sending its queries through `upstream`.
    pub fn with_upstream(
        settings: &ResolverSettings,
        upstream: Arc<dyn Upstream>,
    ) -> Result<Arc<Recursor>, String> {
        let forward_zones = settings
            .forward
            .iter()
            .map(|f| {
                let zone = Name::parse(&f.zone)
                    .map_err(|e| format!("resolver.forward zone `{}`: {e}", f.zone))?;
                Ok(ForwardZone {
                    zone,
                    upstreams: f.upstreams.iter().map(|u| u.addr()).collect(),
                    in_partition: f.scope == Some(Scope::Local),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let configured_scopes = forward_zones
            .iter()
            .zip(&settings.forward)
            .filter_map(|(f, s)| s.scope.map(|scope| (f.zone.clone(), scope)))
            .collect();
        let config = ResolverConfig {
            root_hints: settings.root_hints.clone(),
            forward_zones,
            upstream_port: settings.upstream_port,
            qname_minimisation: settings.qname_minimisation,
            validation: settings.validation.clone(),
            ..ResolverConfig::default()
        };
        let cache = Cache::new(CacheConfig {
            max_rrsets: settings.max_cache_rrsets,
            max_stale_serve_time: settings.max_stale_serve_time,
            ..CacheConfig::default()
        });
        Ok(Arc::new(Recursor {
            resolver: Arc::new(Resolver::new(config, cache)),
            upstream,
            allow: settings.allow.clone(),
            udp_replies: OnceLock::new(),
            rates: RateDetector::default(),
            metrics: Arc::default(),
            disk: OnceLock::new(),
            configured_scopes,
            inflight: InFlight::default(),
            anchor_dir: OnceLock::new(),
        }))
    }

    /// Opens the L2 cache at `path`, loads what it holds into the cache and saves the
    /// cache there every [`SAVE_INTERVAL`] from now on. Returns how many RRsets were
    /// restored.
    pub fn attach_disk(self: &Arc<Self>, path: &Path) -> Result<usize, String> {
        let disk = DiskCache::open(path)?;
        let restored = self.resolver.cache().restore(disk.load()?, now());
        if self.disk.set(disk).is_err() {
            return Err("the resolver's disk cache is already attached".to_owned());
        }
        if let Some(runtime) = runtime() {
            let recursor = Arc::clone(self);
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(SAVE_INTERVAL).await;
                    let saving = Arc::clone(&recursor);
                    let saved = tokio::task::spawn_blocking(move || saving.save()).await;
                    if let Ok(Err(e)) = saved {
                        tracing::warn!(error = %e, "resolver cache not saved");
                    }
                }
            });
        }
        Ok(restored)
    }

    /// Loads the RFC 5011 state of each trust anchor from `dir` (one file per anchored
    /// zone, [`anchor_state_file`]) and saves it there whenever it changes, so anchors
    /// learned through a key rollover survive a restart. Does nothing without
    /// validation.
    pub fn attach_anchor_state(self: &Arc<Self>, dir: &Path) {
        let Some(validator) = self.resolver.validator() else {
            return;
        };
        for anchor in validator.anchors() {
            let path = anchor_state_file(dir, &anchor.zone);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            match validator.restore_anchor_state(&anchor.zone, &text) {
                Ok(()) => {
                    tracing::info!(zone = %anchor.zone, path = %path.display(), "trust anchor state loaded (RFC 5011)")
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "trust anchor state not used")
                }
            }
        }
        if self.anchor_dir.set(dir.to_path_buf()).is_err() {
            return;
        }
        let Some(runtime) = runtime() else {
            return;
        };
        let recursor = Arc::clone(self);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(ANCHOR_SAVE_INTERVAL).await;
                // RFC 5011 §2.3: each anchored zone's DNSKEY RRset is fetched and checked
                // at the active refresh interval, queries or not.
                let due = recursor
                    .resolver
                    .validator()
                    .map(|v| v.refresh_due(now()))
                    .unwrap_or_default();
                for zone in due {
                    if let Some(v) = recursor.resolver.validator() {
                        v.forget_keys(&zone);
                    }
                    recursor.resolve(&zone, Rtype::DNSKEY, true).await;
                }
                let saving = Arc::clone(&recursor);
                let _ = tokio::task::spawn_blocking(move || saving.save_anchor_state()).await;
            }
        });
    }

    /// Writes the RFC 5011 state of each trust anchor to the data directory, if it
    /// changed since the last time.
    fn save_anchor_state(&self) {
        let (Some(validator), Some(dir)) = (self.resolver.validator(), self.anchor_dir.get())
        else {
            return;
        };
        if !validator.take_anchor_changes() {
            return;
        }
        for anchor in validator.anchors() {
            let Some(text) = validator.anchor_state(&anchor.zone) else {
                continue;
            };
            let path = anchor_state_file(dir, &anchor.zone);
            let tmp = path.with_extension("tmp");
            let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                tracing::warn!(path = %path.display(), error = %e, "trust anchor state not saved");
            }
        }
    }

    /// Writes the cache to the L2 database (if attached), leaving out data of
    /// external-scope zones, which is not kept as mesh data (seed 003 §16.1), and the
    /// trust anchor state (if it changed). Returns how many RRsets were written.
    pub fn save(&self) -> Result<usize, String> {
        self.save_anchor_state();
        let Some(disk) = self.disk.get() else {
            return Ok(0);
        };
        let mut snapshot = self.resolver.cache().snapshot(now());
        snapshot.retain(|s| {
            s.records
                .first()
                .is_some_and(|r| self.resolver.policy(&r.owner) != Policy::External)
        });
        disk.save(&snapshot)
    }

    /// Adds the resolver's metrics to `registry`.
    pub fn register_metrics(self: &Arc<Self>, registry: &mut Registry) {
        registry.register_collector(Box::new(Collected {
            recursor: Arc::clone(self),
        }));
    }

    /// Gives the recursor the sockets to send deferred UDP answers from: clones of the
    /// listeners' sockets. Only the first call counts.
    pub fn set_udp_replies(&self, sockets: Vec<UdpSocket>) {
        if self.udp_replies.set(sockets).is_err() {
            tracing::warn!("UDP reply sockets already set");
        }
    }

    /// The answerer to install: recursion in front of `auth`, which serves `zones`.
    /// `scopes` are the scopes the zones declare in `_scope` TXT records; with those of
    /// the configuration they replace the resolver's.
    pub fn wrap(
        self: &Arc<Self>,
        auth: Arc<dyn Answerer>,
        zones: Vec<Name>,
        scopes: Vec<(Name, Scope)>,
    ) -> Arc<dyn Answerer> {
        let table = self.configured_scopes.iter().cloned().chain(scopes);
        self.resolver.set_scopes(ScopeTable::new(table));
        Arc::new(RecursiveAnswerer {
            auth,
            zones,
            recursor: Arc::clone(self),
        })
    }

    /// The parsed query if it is one to answer recursively.
    fn recursive_query(&self, query: &[u8], ctx: &QueryContext, zones: &[Name]) -> Option<Message> {
        if !self.allow.iter().any(|n| n.contains(ctx.client.ip())) {
            return None;
        }
        let msg = Message::parse(query).ok()?;
        let q = msg.question()?;
        let recursive = !msg.flags.qr
            && msg.flags.rd
            && msg.opcode == Opcode::QUERY
            && msg.questions.len() == 1
            && q.qclass == Class::IN
            && !matches!(q.qtype, Rtype::AXFR | Rtype::IXFR)
            && !zones.iter().any(|z| q.qname.is_subdomain_of(z));
        recursive.then_some(msg)
    }

    /// The answer from memory (the cache, or a denial cached NSEC/NSEC3 records prove),
    /// or `None` when the network is needed.
    fn answer_from_memory(
        self: &Arc<Self>,
        question: &Question,
        msg: &Message,
        ctx: &QueryContext,
        out: &mut Vec<u8>,
    ) -> Option<Outcome> {
        let now = now();
        if let Some(count) = self.rates.record(&question.qname, now) {
            RecursorMetrics::count(&self.metrics.hot_names);
            tracing::warn!(
                name = %question.qname,
                queries = count,
                "more than 10 queries in one second for one name: per-packet resolution or an attack (seed 003 §15.1)"
            );
        }
        if let Some(hit) = self
            .resolver
            .from_cache(&question.qname, question.qtype, now)
        {
            if hit.prefetch {
                self.spawn_refresh(question.qname.clone(), question.qtype);
            }
            RecursorMetrics::count(&self.metrics.cache_hits);
            return Some(write(&hit.answer, msg, ctx.transport, out));
        }
        // A denial validated NSEC records prove (RFC 8198) is a hit too: memory only.
        if let Some(answer) = self
            .resolver
            .synthesised(&question.qname, question.qtype, now)
        {
            RecursorMetrics::count(&self.metrics.cache_hits);
            return Some(write(&answer, msg, ctx.transport, out));
        }
        None
    }

    fn answer(self: &Arc<Self>, msg: Message, ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome {
        let Some(question) = msg.question().cloned() else {
            return Outcome::Drop;
        };
        if let Some(outcome) = self.answer_from_memory(&question, &msg, ctx, out) {
            return outcome;
        }
        let resolving_on = match ctx.transport {
            Transport::Udp => udp_runtime(),
            Transport::Stream => runtime(),
        };
        let Some(runtime) = resolving_on else {
            let answer = Answer::servfail(EDE_OTHER, "resolver not running");
            return write(&answer, &msg, ctx.transport, out);
        };
        match ctx.transport {
            Transport::Udp => {
                let recursor = Arc::clone(self);
                let client = ctx.client;
                runtime.spawn(async move {
                    let answer = recursor.answer_client(question.qname, question.qtype).await;
                    recursor.send_udp(&answer, &msg, client);
                });
                Outcome::Drop
            }
            Transport::Stream => {
                let recursor = Arc::clone(self);
                let (tx, rx) = std::sync::mpsc::channel();
                runtime.spawn(async move {
                    let answer = recursor.answer_client(question.qname, question.qtype).await;
                    // The receiver may have given up; nothing to do then.
                    let _ = tx.send(answer);
                });
                let answer = wait_blocking(|| rx.recv_timeout(TCP_RESOLVE_DEADLINE).ok())
                    .unwrap_or_else(|| Answer::servfail(EDE_OTHER, "resolution took too long"));
                write(&answer, &msg, ctx.transport, out)
            }
        }
    }

    /// As [`Recursor::answer`], but a cache miss is resolved on the resolver's runtime
    /// while the caller goes on: its response comes as a future.
    fn answer_or_pending(
        self: &Arc<Self>,
        msg: Message,
        ctx: &QueryContext,
        out: &mut Vec<u8>,
    ) -> Answered {
        let Some(question) = msg.question().cloned() else {
            return Answered::Now(Outcome::Drop);
        };
        if let Some(outcome) = self.answer_from_memory(&question, &msg, ctx, out) {
            return Answered::Now(outcome);
        }
        let Some(runtime) = runtime() else {
            let answer = Answer::servfail(EDE_OTHER, "resolver not running");
            return Answered::Now(write(&answer, &msg, ctx.transport, out));
        };
        let recursor = Arc::clone(self);
        let resolution = runtime
            .spawn(async move { recursor.answer_client(question.qname, question.qtype).await });
        let transport = ctx.transport;
        Answered::Later(Box::pin(async move {
            let answer = resolution
                .await
                .unwrap_or_else(|_| Answer::servfail(EDE_OTHER, "resolution failed"));
            let mut out = Vec::new();
            (write(&answer, &msg, transport, &mut out) == Outcome::Reply).then_some(out)
        }))
    }

    /// Resolves over the network, within [`RESOLUTION_DEADLINE`]; joins a resolution of
    /// the same question already under way instead of starting another.
    pub async fn resolve(&self, qname: &Name, qtype: Rtype, refresh: bool) -> Answer {
        let leader = match self.inflight.join(qname, qtype) {
            Join::Leader(leader) => leader,
            Join::Follower(rx) => {
                RecursorMetrics::count(&self.metrics.coalesced);
                return rx.await.unwrap_or_else(|_| {
                    Answer::servfail(EDE_OTHER, "the resolution this query joined gave up")
                });
            }
        };
        let upstream = &*self.upstream;
        let metrics = &self.metrics;
        let resolution = drive(
            &self.resolver,
            upstream,
            qname.clone(),
            qtype,
            refresh,
            || RecursorMetrics::count(&metrics.upstream_queries),
        );
        let answer = match tokio::time::timeout(RESOLUTION_DEADLINE, resolution).await {
            Ok(answer) => answer,
            Err(_) => self
                .resolver
                .stale(qname, qtype, now())
                .unwrap_or_else(|| Answer::servfail(EDE_OTHER, "resolution took too long")),
        };
        let counter = if answer.stale {
            &self.metrics.stale
        } else if answer.rcode == lib_dns::Rcode::SERVFAIL {
            &self.metrics.servfail
        } else {
            &self.metrics.resolved
        };
        RecursorMetrics::count(counter);
        if self.resolver.validator().is_some() && answer.rcode != lib_dns::Rcode::SERVFAIL {
            let m = &self.metrics;
            RecursorMetrics::count(match answer.security {
                Security::Secure => &m.secure,
                Security::Insecure => &m.insecure,
                Security::Bogus => &m.bogus,
                Security::Indeterminate => &m.indeterminate,
            });
        }
        leader.finish(&answer);
        answer
    }

    /// The answer for a client: the resolution's, or, when the cache holds expired data
    /// for the question, that stale data once the client response timer has run out
    /// (RFC 8767 §5), the resolution then finishing in the background.
    async fn answer_client(self: &Arc<Self>, qname: Name, qtype: Rtype) -> Answer {
        // Nothing stale to fall back on: no timer to race, resolve on this task.
        if self.resolver.stale(&qname, qtype, now()).is_none() {
            return self.resolve(&qname, qtype, false).await;
        }
        let recursor = Arc::clone(self);
        let name = qname.clone();
        let mut resolution =
            tokio::spawn(async move { recursor.resolve(&name, qtype, false).await });
        let finished = |joined: Result<Answer, tokio::task::JoinError>| {
            joined.unwrap_or_else(|_| Answer::servfail(EDE_OTHER, "resolution failed"))
        };
        match tokio::time::timeout(CLIENT_RESPONSE_TIMER, &mut resolution).await {
            Ok(joined) => finished(joined),
            Err(_) => match self.resolver.stale(&qname, qtype, now()) {
                Some(stale) => {
                    RecursorMetrics::count(&self.metrics.stale);
                    stale
                }
                None => finished(resolution.await),
            },
        }
    }

    fn spawn_refresh(self: &Arc<Self>, qname: Name, qtype: Rtype) {
        let Some(runtime) = runtime() else {
            return;
        };
        let recursor = Arc::clone(self);
        runtime.spawn(async move {
            tracing::debug!(%qname, %qtype, "prefetch");
            recursor.resolve(&qname, qtype, true).await;
        });
    }

    fn send_udp(&self, answer: &Answer, query: &Message, client: SocketAddr) {
        let mut out = Vec::new();
        if write(answer, query, Transport::Udp, &mut out) == Outcome::Drop {
            return;
        }
        let sent = WORKER.with(|w| {
            let worker = w.borrow();
            // On a worker's thread the query came in on the worker's own socket, so no
            // `getsockname` is needed to match the client's address family.
            let own = worker.as_ref().map(|w| &*w.socket);
            let socket = own.or_else(|| {
                self.udp_replies
                    .get()
                    .and_then(|s| s.iter().find(|s| same_family(s, client)))
            });
            socket.map(|socket| socket.send_to(&out, client))
        });
        match sent {
            None => tracing::warn!(%client, "no UDP socket to answer from"),
            Some(Err(e)) => tracing::debug!(%client, error = %e, "deferred UDP answer not sent"),
            Some(Ok(_)) => {}
        }
    }
}

fn same_family(socket: &UdpSocket, client: SocketAddr) -> bool {
    socket
        .local_addr()
        .is_ok_and(|local| local.is_ipv4() == client.is_ipv4())
}

/// Blocks the current thread on `f`, telling tokio first when it is one of its workers.
fn wait_blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Writes the response to `query` into `out`, truncated to what the client can take.
fn write(answer: &Answer, query: &Message, transport: Transport, out: &mut Vec<u8>) -> Outcome {
    let limit = match transport {
        Transport::Stream => usize::from(u16::MAX),
        Transport::Udp => query.edns.as_ref().map_or(PLAIN_UDP, |e| {
            usize::from(e.udp_payload_size.clamp(512, zdns_auth::DEFAULT_UDP_SIZE))
        }),
    };
    let response = answer.to_response(query, zdns_auth::DEFAULT_UDP_SIZE);
    let bytes = response.to_wire(limit).or_else(|_| {
        Answer::servfail(EDE_OTHER, "answer not writable")
            .to_response(query, zdns_auth::DEFAULT_UDP_SIZE)
            .to_wire(limit)
    });
    match bytes {
        Ok(bytes) => {
            *out = bytes;
            Outcome::Reply
        }
        Err(_) => Outcome::Drop,
    }
}

/// The zones' answerer with recursion in front.
pub struct RecursiveAnswerer {
    auth: Arc<dyn Answerer>,
    zones: Vec<Name>,
    recursor: Arc<Recursor>,
}

impl Answerer for RecursiveAnswerer {
    /// The authoritative core answers first, on its fast path; only a REFUSED (a name
    /// in none of our zones) is looked at again for recursion, so authoritative
    /// answers cost no more with the resolver on.
    fn answer(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome {
        let outcome = self.auth.answer(query, ctx, out);
        if !refused(outcome, out) {
            return outcome;
        }
        match self.recursor.recursive_query(query, ctx, &self.zones) {
            Some(msg) => self.recursor.answer(msg, ctx, out),
            None => outcome,
        }
    }

    fn answer_or_pending(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Answered {
        let outcome = self.auth.answer(query, ctx, out);
        if !refused(outcome, out) {
            return Answered::Now(outcome);
        }
        match self.recursor.recursive_query(query, ctx, &self.zones) {
            Some(msg) => self.recursor.answer_or_pending(msg, ctx, out),
            None => Answered::Now(outcome),
        }
    }
}

/// Whether the zones' answer is REFUSED: a name in none of our zones.
fn refused(outcome: Outcome, out: &[u8]) -> bool {
    outcome == Outcome::Reply
        && out
            .get(3)
            .is_some_and(|b| b & 0x0f == Rcode::REFUSED.header_bits())
}

#[cfg(test)]
mod tests;
