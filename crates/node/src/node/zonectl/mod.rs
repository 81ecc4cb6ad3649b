//! Zone control: everything about zones that the fast answering path hands over
//! ([`zdns_auth::Outcome::Defer`]): TSIG verification and signing (RFC 8945), zone
//! transfers out (AXFR, IXFR), dynamic updates (RFC 2136) through the journal, NOTIFY
//! in and out (RFC 1996), and the refresh of secondary zones. It owns the zones'
//! state ([`store::ZoneState`]) and publishes each change to the answering core by
//! swapping the catalog.
//!
//! ```text
//!  UDP/TCP edge ──Defer──► ZoneControl::handle ──► verify TSIG ──► transfer | update | notify | signed query
//!                                 │                                      │
//!                      zones: ZoneState (journal, fsync) ◄───────────────┘
//!                                 │ commit/replace
//!                                 ▼
//!                  AuthServer::set_catalog (atomic swap) ──► NOTIFY secondaries
//! ```

mod client;
mod notify;
mod secondary;
pub mod store;
mod transfer;
mod update;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use lib_dns::Name;
use lib_dns::message::Message;
use lib_dns::tsig::{self, DEFAULT_FUDGE, Keyring, TsigKey, Verified};
use lib_dns::types::{Opcode, Rcode, Rtype};
use tokio::sync::mpsc;
use zdns_auth::{Answerer, AuthServer, Catalog, Outcome, QueryContext};

use crate::config::{ZoneConfig, ZoneSource};
use crate::node::metrics::{Metrics, ZoneFacts};
use crate::node::zones::LoadError;
use store::{ZoneData, ZoneState};

/// What the edge sends back for a deferred message.
pub enum Reply {
    /// Nothing (the message was not one to answer).
    Nothing,
    /// One message.
    One(Vec<u8>),
    /// A stream of messages (a zone transfer over a stream transport), in order.
    Stream(mpsc::Receiver<Vec<u8>>),
}

/// One configured zone: its state, and the wake-up of its refresh task (secondaries).
pub struct ZoneEntry {
    state: Mutex<ZoneState>,
    wake: tokio::sync::Notify,
    refresher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl ZoneEntry {
    fn lock(&self) -> std::sync::MutexGuard<'_, ZoneState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for ZoneEntry {
    fn drop(&mut self) {
        if let Some(task) = self
            .refresher
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

/// The node's zones and what acts on them.
pub struct ZoneControl {
    data_dir: PathBuf,
    auth: Arc<AuthServer>,
    keyring: ArcSwap<Keyring>,
    zones: RwLock<HashMap<Name, Arc<ZoneEntry>>>,
    /// Serializes read-modify-write of the catalog by concurrent zone changes.
    catalog_lock: Mutex<()>,
    metrics: Arc<Metrics>,
    runtime: tokio::runtime::Handle,
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A response to `msg` with `rcode` and no records.
fn status(msg: &Message, rcode: Rcode) -> Vec<u8> {
    let mut r = Message::response_to(msg);
    r.rcode = rcode;
    if rcode.0 > 0x0f {
        r.edns = Some(lib_dns::message::Edns::default());
    }
    r.to_wire(usize::from(u16::MAX)).unwrap_or_default()
}

/// The smallest FORMERR for bytes that do not parse: the ID and opcode echoed.
fn formerr(query: &[u8]) -> Vec<u8> {
    let byte = |i: usize| query.get(i).copied().unwrap_or(0);
    vec![
        byte(0),
        byte(1),
        0x80 | (byte(2) & 0x78),
        Rcode::FORMERR.header_bits(),
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ]
}

impl ZoneControl {
    /// Zone control publishing to `auth`, keeping journals under `data_dir`.
    pub fn new(
        auth: Arc<AuthServer>,
        data_dir: PathBuf,
        metrics: Arc<Metrics>,
        runtime: tokio::runtime::Handle,
    ) -> ZoneControl {
        ZoneControl {
            data_dir,
            auth,
            keyring: ArcSwap::from_pointee(Keyring::new()),
            zones: RwLock::new(HashMap::new()),
            catalog_lock: Mutex::new(()),
            metrics,
            runtime,
        }
    }

    /// Loads (at start) or reloads the configured zones and keys. A zone that fails
    /// keeps its previous state; zones no longer configured stop being served.
    /// Blocking: journals are read and written.
    pub fn configure(self: &Arc<Self>, configs: &[ZoneConfig], keys: &[TsigKey]) -> Vec<LoadError> {
        let mut ring = Keyring::new();
        for k in keys {
            ring.insert(k.clone());
        }
        self.keyring.store(Arc::new(ring));
        let mut errors = Vec::new();
        let old = self
            .zones
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut next = HashMap::new();
        for cfg in configs {
            let Ok(origin) = Name::parse(&cfg.origin) else {
                errors.push(LoadError {
                    origin: cfg.origin.clone(),
                    lines: vec![format!("bad origin `{}`", cfg.origin)],
                });
                continue;
            };
            let origin = origin.to_lowercase();
            let existing = old.get(&origin).filter(|e| {
                // A zone that changes between primary and secondary starts afresh.
                let was_secondary = matches!(e.lock().config.source, ZoneSource::Primaries(_));
                was_secondary == matches!(cfg.source, ZoneSource::Primaries(_))
            });
            match existing {
                Some(entry) => {
                    let result = entry.lock().reload_file(cfg);
                    match result {
                        Ok(true) => {
                            self.publish(&entry.lock());
                            self.send_notifies(entry);
                        }

                        Ok(false) => {}
                        Err(e) => errors.push(e),
                    }
                    entry.wake.notify_one();
                    next.insert(origin, Arc::clone(entry));
                }
                None => match ZoneState::open(cfg, &self.data_dir) {
                    Ok(state) => {
                        let secondary = state.timers.is_some();
                        self.publish(&state);
                        let entry = Arc::new(ZoneEntry {
                            state: Mutex::new(state),
                            wake: tokio::sync::Notify::new(),
                            refresher: Mutex::new(None),
                        });
                        if secondary {
                            let task = self
                                .runtime
                                .spawn(secondary::run(Arc::clone(self), Arc::downgrade(&entry)));
                            *entry
                                .refresher
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner) = Some(task);
                        }
                        next.insert(origin, entry);
                    }
                    Err(e) => errors.push(e),
                },
            }
        }
        for (origin, entry) in &old {
            if !next.contains_key(origin) {
                let _guard = self
                    .catalog_lock
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                self.auth
                    .set_catalog(self.auth.catalog().without_zone(origin.as_wire()));
                tracing::info!(zone = %origin, "zone removed");
                if let Some(task) = entry
                    .refresher
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    task.abort();
                }
            }
        }
        *self.zones.write().unwrap_or_else(PoisonError::into_inner) = next;
        self.report();
        errors
    }

    /// The runtime zone control's work runs on (the node's main runtime), for edges
    /// that run elsewhere (DoH's per-worker runtimes) to hand deferred messages to.
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    /// How many zones are configured.
    pub fn len(&self) -> usize {
        self.zones
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The origins of the configured zones.
    pub fn origins(&self) -> Vec<Name> {
        self.zones
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect()
    }

    /// Every `_scope` TXT record of the served zones (seed 003 §16.1), for the
    /// resolver's scope table.
    pub fn scope_records(&self) -> Vec<lib_dns::record::Record> {
        let served: Vec<_> = self
            .zones
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter_map(|e| e.lock().data.as_ref().map(|d| Arc::clone(&d.served)))
            .collect();
        served
            .iter()
            .flat_map(|z| {
                z.tree().records_where(Rtype::TXT, |wire| {
                    wire.first() == Some(&6) && wire.get(1..7) == Some(&b"_scope"[..])
                })
            })
            .collect()
    }

    /// The zone whose apex is `name`.
    fn find(&self, name: &Name) -> Option<Arc<ZoneEntry>> {
        self.zones
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&name.to_lowercase())
            .cloned()
    }

    /// Makes the answering core serve `state`'s data (or stop serving the zone).
    fn publish(&self, state: &ZoneState) {
        let _guard = self
            .catalog_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let catalog: Arc<Catalog> = self.auth.catalog();
        let next = match &state.data {
            Some(ZoneData { served, .. }) => catalog.with_zone(Arc::clone(served)),
            None => catalog.without_zone(state.origin.to_lowercase().as_wire()),
        };
        self.auth.set_catalog(next);
    }

    /// Refreshes the zone facts the metrics report. Call with no zone locked.
    fn report(&self) {
        let zones = self.zones.read().unwrap_or_else(PoisonError::into_inner);
        let mut facts: Vec<ZoneFacts> = zones
            .values()
            .filter_map(|e| {
                let s = e.state.try_lock().ok()?;
                Some(ZoneFacts {
                    origin: s.origin.to_string(),
                    serial: s.serial()?,
                    load_seconds: s.load_seconds,
                })
            })
            .collect();
        facts.sort_by(|a, b| a.origin.cmp(&b.origin));
        self.metrics.set_zones(facts);
    }

    /// One line per zone for the logs: origin, serial, RRsets.
    pub fn describe(&self) -> Vec<(String, Option<u32>, usize)> {
        let zones = self.zones.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = zones
            .values()
            .map(|e| {
                let s = e.lock();
                let rrsets = s.data.as_ref().map_or(0, |d| d.served.tree().rrset_count());
                (s.origin.to_string(), s.serial(), rrsets)
            })
            .collect();
        out.sort();
        out
    }

    /// Answers a deferred message: verifies its TSIG (answering TSIG errors as RFC 8945
    /// §5.2 says), acts on it, and signs what goes back with the same key.
    pub async fn handle(self: &Arc<Self>, query: Vec<u8>, ctx: QueryContext) -> Reply {
        let now = ctx.now;
        let Ok(mut msg) = Message::parse(&query) else {
            return Reply::One(formerr(&query));
        };
        let mut verified: Option<Verified> = None;
        if msg.additional.iter().any(|r| r.rtype() == Rtype::TSIG) {
            match tsig::verify_request(&query, &self.keyring.load(), now) {
                Ok(v) => verified = Some(v),
                Err(e) => {
                    tracing::warn!(client = %ctx.client, error = %e, "TSIG verification failed");
                    self.metrics.count_control("tsig", "failed");
                    return Reply::One(
                        tsig::error_response(&query, &e, now, DEFAULT_FUDGE)
                            .unwrap_or_else(|_| formerr(&query)),
                    );
                }
            }
            msg.additional.retain(|r| r.rtype() != Rtype::TSIG);
        }
        let key = verified.as_ref().map(|v| v.key.name().clone());
        let qtype = msg.question().map(|q| q.qtype);
        let reply = match (msg.opcode, qtype) {
            (Opcode::QUERY, Some(Rtype::AXFR | Rtype::IXFR)) => {
                return transfer::respond(self, &msg, &ctx, key.as_ref(), verified);
            }
            (Opcode::UPDATE, _) => update::receive(self, msg, &ctx, key.as_ref()).await,
            (Opcode::NOTIFY, _) => notify::receive(self, &msg, &ctx, key.as_ref()),
            (Opcode::QUERY, _) => self.signed_query(&msg, &ctx),
            _ => status(&msg, Rcode::NOTIMP),
        };
        if reply.is_empty() {
            return Reply::Nothing;
        }
        match &verified {
            Some(v) => match v.sign_response(&reply, now, DEFAULT_FUDGE) {
                Ok(signed) => Reply::One(signed.message),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot sign response");
                    Reply::One(reply)
                }
            },
            None => Reply::One(reply),
        }
    }

    /// A TSIG-signed ordinary query (a secondary's SOA check, say), answered by the
    /// answering core without its TSIG record.
    fn signed_query(&self, msg: &Message, ctx: &QueryContext) -> Vec<u8> {
        let Ok(bytes) = msg.to_wire(usize::from(u16::MAX)) else {
            return status(msg, Rcode::FORMERR);
        };
        let mut out = Vec::new();
        match self.auth.answer(&bytes, ctx, &mut out) {
            Outcome::Reply => out,
            Outcome::Drop | Outcome::Defer => Vec::new(),
        }
    }

    /// Tells the zone's configured secondaries that it changed (RFC 1996), in the
    /// background.
    fn send_notifies(&self, entry: &ZoneEntry) {
        let (origin, soa, targets) = {
            let s = entry.lock();
            let soa = s.data.as_ref().and_then(|d| d.soa());
            (s.origin.clone(), soa, s.config.access.notify.clone())
        };
        for target in targets {
            let key = match &target.key {
                Some(name) => match self.key(name) {
                    Some(k) => Some(k),
                    None => {
                        tracing::warn!(zone = %origin, key = %name, "NOTIFY key not configured");
                        continue;
                    }
                },
                None => None,
            };
            let (origin, soa, metrics) = (origin.clone(), soa.clone(), Arc::clone(&self.metrics));
            self.runtime.spawn(async move {
                let ok = notify::send(target.addr, &origin, soa.as_ref(), key.as_ref()).await;
                metrics.count_control("notify_out", if ok { "acknowledged" } else { "failed" });
            });
        }
    }

    /// A configured key by name.
    fn key(&self, name: &Name) -> Option<TsigKey> {
        lib_dns::tsig::Algorithm::ALL
            .iter()
            .find_map(|&a| self.keyring.load().get(name, a).cloned())
    }

    /// Runs blocking zone work off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        match tokio::task::spawn_blocking(f).await {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "zone task failed");
                None
            }
        }
    }
}
