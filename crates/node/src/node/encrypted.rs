//! The node's encrypted listeners: DNS over TLS (RFC 7858), HTTPS (RFC 8484) and QUIC
//! (RFC 9250), on the certificate of `[tls]` or, by default, a self-signed one kept under
//! `<data dir>/tls/`.
//!
//! DoT is the TCP stream loop of `tcp.rs` over a TLS stream, so it answers pipelined
//! queries out of order with the same idle handling, and gets whatever the TCP path
//! serves (zone transfers included). DoH (HTTP/2, HTTP/1.1 and HTTP/3) and DoQ are the
//! loops of `zdns-transport`, answering through the same swapped answerer; what the
//! answerer defers (AXFR/IXFR, UPDATE, NOTIFY, TSIG-signed queries) goes to zone control
//! on the node's main runtime, and its messages come back on a channel: streamed on the
//! query's stream over DoQ (XoQ, RFC 9250 §4.2), one HTTP response over DoH. Responses
//! are padded (RFC 7830, RFC 8467) when the query carries a padding option. The
//! certificate is re-read on reload.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use zdns_auth::{Answered, Answerer, Outcome, Pending, QueryContext};
use zdns_transport::doh::{DohLimits, DohService};
use zdns_transport::doh3::Doh3Listener;
use zdns_transport::doq::{DoqLimits, DoqListener};
use zdns_transport::stats::ListenerStats;
use zdns_transport::tls::{self, Identity, ServerTls};
use zdns_transport::{Answer, Respond};

use super::SharedAnswerer;
use super::metrics::{Counters, Metrics};
use super::tcp::serve_stream;
use super::zonectl::{Reply, ZoneControl};
use crate::config::{Settings, TcpLimits, TlsSettings};

/// Names the embedded default's self-signed certificate is good for.
const SELF_SIGNED_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];
/// Indexes of the transports in [`super::metrics::ENCRYPTED`].
const DOT: usize = 0;
const DOH: usize = 1;
const DOQ: usize = 2;
/// Messages of a deferred answer buffered between zone control and the connection.
const DEFERRED_IN_FLIGHT: usize = 4;

/// The TLS state shared by the encrypted listeners and the reload path; no TLS (no
/// certificate loaded or made) when no encrypted listener is configured.
pub struct Encrypted {
    tls: Option<Arc<ServerTls>>,
    doq: Mutex<Vec<DoqListener>>,
    doh3: Mutex<Vec<Doh3Listener>>,
}

impl Encrypted {
    /// Loads the certificate of `settings` (making the self-signed one if needed).
    pub fn new(settings: &Settings) -> Result<Encrypted, String> {
        let t = &settings.tls;
        let tls = if t.dot.is_empty() && t.doq.is_empty() && t.doh.is_empty() && t.doh3.is_empty() {
            None
        } else {
            let identity = identity(t, &settings.data_dir)?;
            let tls = ServerTls::new(&identity, t.min_version).map_err(|e| format!("TLS: {e}"))?;
            Some(Arc::new(tls))
        };
        Ok(Encrypted {
            tls,
            doq: Mutex::new(Vec::new()),
            doh3: Mutex::new(Vec::new()),
        })
    }

    /// Re-reads the certificate and key; on error the current ones stay.
    pub fn reload(&self, settings: &Settings) -> Result<(), String> {
        let Some(tls) = &self.tls else {
            return Ok(());
        };
        let identity = identity(&settings.tls, &settings.data_dir)?;
        tls.replace(&identity, settings.tls.min_version)
            .map_err(|e| e.to_string())?;
        let listeners = self.doq.lock().unwrap_or_else(PoisonError::into_inner);
        for listener in listeners.iter() {
            listener.set_crypto(tls.doq());
        }
        let listeners = self.doh3.lock().unwrap_or_else(PoisonError::into_inner);
        for listener in listeners.iter() {
            listener.set_crypto(tls.doh3());
        }
        Ok(())
    }

    /// Binds every encrypted listener of `settings` and starts serving. Binding errors
    /// are fatal start-up problems.
    pub async fn start(
        self: &Arc<Self>,
        settings: &Settings,
        answerer: &SharedAnswerer,
        control: &Arc<ZoneControl>,
        metrics: &Metrics,
    ) -> Result<(), String> {
        let Some(tls) = &self.tls else {
            return Ok(());
        };
        let t = &settings.tls;
        let mut dot = Vec::new();
        for addr in &t.dot {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on DoT {addr}: {e}"))?;
            dot.push(l);
        }
        let mut doh = Vec::new();
        for addr in &t.doh {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on DoH {addr}: {e}"))?;
            doh.push(l);
        }
        let doq_limits = DoqLimits {
            max_connections: t.max_connections,
            idle_timeout: t.idle_timeout,
            handshake_timeout: t.handshake_timeout,
            max_streams: t.max_streams,
            stream_timeout: t.handshake_timeout,
        };
        let mut doq = Vec::new();
        for addr in &t.doq {
            let l = DoqListener::bind(*addr, tls.doq(), doq_limits)
                .map_err(|e| format!("cannot listen on DoQ {addr}: {e}"))?;
            doq.push(l);
        }

        let (counters, stats) = metrics.encrypted(DOT);
        let padded: SharedAnswerer = Arc::new(ArcSwap::from_pointee(Arc::new(Padded(Arc::clone(
            answerer,
        )))
            as Arc<dyn Answerer>));
        let limits = TcpLimits {
            idle_timeout: t.idle_timeout,
            max_connections: t.max_connections,
            max_message_size: settings.tcp.max_message_size,
        };
        for (listener, addr) in dot.into_iter().zip(&t.dot) {
            tokio::spawn(serve_dot(
                listener,
                Arc::clone(tls),
                Arc::clone(&padded),
                Arc::clone(control),
                DotLimits {
                    stream: limits,
                    handshake: t.handshake_timeout,
                },
                Arc::clone(&counters),
                Arc::clone(&stats),
            ));
            tracing::info!(%addr, "DNS over TLS");
        }
        let (counters, stats) = metrics.encrypted(DOH);
        let service = Arc::new(DohService {
            tls: Arc::clone(tls),
            respond: Arc::new(Answering {
                answerer: Arc::clone(answerer),
                control: Arc::clone(control),
                counters,
            }),
            path: t.doh_path.clone(),
            limits: DohLimits {
                max_connections: t.max_connections,
                idle_timeout: t.idle_timeout,
                handshake_timeout: t.handshake_timeout,
                max_streams: t.max_streams,
                workers: settings.threads,
            },
            stats,
        });
        for (listener, addr) in doh.into_iter().zip(&t.doh) {
            tokio::spawn(zdns_transport::doh::serve(listener, Arc::clone(&service)));
            tracing::info!(url = %format!("https://{addr}{}", t.doh_path), "DNS over HTTPS");
        }
        let mut running = self.doh3.lock().unwrap_or_else(PoisonError::into_inner);
        for addr in &t.doh3 {
            let listener = Doh3Listener::bind(*addr, tls.doh3(), Arc::clone(&service))
                .map_err(|e| format!("cannot listen on DoH over HTTP/3 {addr}: {e}"))?;
            running.push(listener.clone());
            tokio::spawn(listener.serve());
            tracing::info!(url = %format!("https://{addr}{}", t.doh_path), "DNS over HTTPS (HTTP/3, udp)");
        }
        drop(running);
        let (counters, stats) = metrics.encrypted(DOQ);
        let respond: Arc<dyn Respond> = Arc::new(Answering {
            answerer: Arc::clone(answerer),
            control: Arc::clone(control),
            counters,
        });
        let mut running = self.doq.lock().unwrap_or_else(PoisonError::into_inner);
        for (listener, addr) in doq.into_iter().zip(&t.doq) {
            running.push(listener.clone());
            tokio::spawn(listener.serve(Arc::clone(&respond), Arc::clone(&stats)));
            tracing::info!(%addr, "DNS over QUIC");
        }
        Ok(())
    }
}

/// The certificate and key of `[tls]`, or the self-signed pair under `<data dir>/tls/`.
/// The SPKI pin is logged so clients can verify the server.
fn identity(settings: &TlsSettings, data_dir: &Path) -> Result<Identity, String> {
    let (cert, key) = match &settings.identity {
        Some(files) => files.clone(),
        None => {
            let made = tls::ensure_self_signed(&data_dir.join("tls"), &SELF_SIGNED_NAMES)
                .map_err(|e| format!("TLS: {e}"))?;
            if made.created {
                tracing::info!(cert = %made.cert.display(), "made a self-signed TLS certificate");
            }
            (made.cert, made.key)
        }
    };
    let identity = Identity::from_pem_files(&cert, &key).map_err(|e| format!("TLS: {e}"))?;
    let pin = identity.pin().map_err(|e| format!("TLS: {e}"))?;
    tracing::info!(cert = %cert.display(), spki_pin = %pin, "TLS certificate (kdig +tls-pin={pin})");
    Ok(identity)
}

/// The node's answerer with RFC 8467 padding of the responses, for DoT.
struct Padded(SharedAnswerer);

impl Answerer for Padded {
    fn answer(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome {
        let outcome = self.0.load().answer(query, ctx, out);
        if outcome == Outcome::Reply {
            zdns_transport::padding::pad_response(query, out);
        }
        outcome
    }
}

/// The node's answerer as the transport loops call it, counting queries; deferred
/// messages go to zone control.
struct Answering {
    answerer: SharedAnswerer,
    control: Arc<ZoneControl>,
    counters: Arc<Counters>,
}

impl Respond for Answering {
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Answer {
        let mut out = Vec::new();
        match self.answerer.load().answer_or_pending(query, ctx, &mut out) {
            Answered::Now(Outcome::Reply) => {
                self.counters.record(query, Outcome::Reply, &out);
                Answer::Reply(out)
            }
            Answered::Now(Outcome::Drop) => {
                self.counters.record(query, Outcome::Drop, &out);
                Answer::Drop
            }
            Answered::Now(Outcome::Defer) => Answer::Deferred(self.defer(query.to_vec(), *ctx)),
            Answered::Later(pending) => Answer::Deferred(self.later(query.to_vec(), pending)),
        }
    }
}

impl Answering {
    /// Waits for a response being worked out elsewhere (a resolution) on the node's main
    /// runtime, so the caller's event loop goes on serving its other connections, and
    /// returns the channel it comes on, padded as the query asks (RFC 8467).
    fn later(&self, query: Vec<u8>, pending: Pending) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel(1);
        let counters = Arc::clone(&self.counters);
        self.control.runtime().spawn(async move {
            let Some(mut reply) = pending.await else {
                counters.record(&query, Outcome::Drop, &[]);
                return;
            };
            zdns_transport::padding::pad_response(&query, &mut reply);
            counters.record(&query, Outcome::Reply, &reply);
            // The client may have gone; nothing to do then.
            let _ = tx.send(reply).await;
        });
        rx
    }

    /// Hands `query` to zone control on the node's main runtime (the caller may be on
    /// a DoH worker's single-threaded runtime, where zone control's blocking work must
    /// not run) and returns the channel its messages come on, in order. Counted as
    /// answered when the first message comes, as on TCP.
    fn defer(&self, query: Vec<u8>, ctx: QueryContext) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel(DEFERRED_IN_FLIGHT);
        let (control, counters) = (Arc::clone(&self.control), Arc::clone(&self.counters));
        self.control.runtime().spawn(async move {
            match control.handle(query.clone(), ctx).await {
                Reply::Nothing => {}
                Reply::One(reply) => {
                    counters.record(&query, Outcome::Reply, &reply);
                    // The client may have gone; nothing to do then.
                    let _ = tx.send(reply).await;
                }
                Reply::Stream(mut messages) => {
                    let mut first = true;
                    while let Some(m) = messages.recv().await {
                        if first {
                            counters.record(&query, Outcome::Reply, &m);
                            first = false;
                        }
                        // Dropping `messages` when the client left stops the producer.
                        if tx.send(m).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        rx
    }
}

/// Limits of a DoT listener.
#[derive(Clone, Copy)]
struct DotLimits {
    stream: TcpLimits,
    handshake: std::time::Duration,
}

/// Accepts DoT connections: the TLS handshake (bounded), then the TCP stream loop.
async fn serve_dot(
    listener: TcpListener,
    tls: Arc<ServerTls>,
    answerer: SharedAnswerer,
    control: Arc<ZoneControl>,
    limits: DotLimits,
    counters: Arc<Counters>,
    stats: Arc<ListenerStats>,
) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "DoT accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = stats.admit(limits.stream.max_connections) else {
            tracing::debug!(%peer, "DoT connection refused: connection limit reached");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let (tls, answerer, control, counters, stats) = (
            tls.dot(),
            Arc::clone(&answerer),
            Arc::clone(&control),
            Arc::clone(&counters),
            Arc::clone(&stats),
        );
        tokio::spawn(async move {
            match tls::accept(tls, tcp, limits.handshake).await {
                Ok(stream) => {
                    serve_stream(stream, peer, &answerer, &control, limits.stream, &counters).await;
                }
                Err(e) => {
                    stats.handshake_failed();
                    tracing::debug!(%peer, error = %e, "DoT TLS handshake failed");
                }
            }
            drop(slot);
        });
    }
}
