//! DNS over TCP (RFC 7766) on tokio: 2-byte length framing (RFC 1035 §4.2.2), pipelined
//! queries answered as they are read, idle timeout, connection limit, bounded message
//! size. [`serve_stream`] works on any byte stream, so TLS (RFC 7858) can reuse it.
//! Messages the answering core defers (transfers, updates, notifies, signed queries)
//! go to zone control; a transfer's messages are written in order as they come.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::timeout;
use zdns_auth::{Outcome, QueryContext, Transport};

use super::SharedAnswerer;
use super::metrics::{Counters, Metrics};
use super::zonectl::{Reply, ZoneControl};
use crate::config::TcpLimits;

/// Answers queued for the writer per connection; a client that does not read its
/// answers stops us reading its queries once this many wait (backpressure).
const PENDING_ANSWERS: usize = 32;
/// The smallest DNS message: a header.
const MIN_MESSAGE: u16 = 12;

/// Accepts connections on `listener` for as long as the node runs.
pub async fn serve(
    listener: TcpListener,
    answerer: SharedAnswerer,
    control: Arc<ZoneControl>,
    limits: TcpLimits,
    metrics: Arc<Metrics>,
) {
    let counters = metrics.tcp();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors or similar: back off rather than spin.
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&metrics, limits.max_connections) else {
            metrics.tcp_refused.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%peer, "TCP connection refused: connection limit reached");
            drop(stream);
            continue;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let answerer = Arc::clone(&answerer);
        let control = Arc::clone(&control);
        let counters = Arc::clone(&counters);
        tokio::spawn(async move {
            serve_stream(stream, peer, &answerer, &control, limits, &counters).await;
            drop(slot);
        });
    }
}

/// One place under the connection limit, given back when dropped.
struct Slot(Arc<Metrics>);

impl Slot {
    fn take(metrics: &Arc<Metrics>, max: usize) -> Option<Slot> {
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        if metrics.tcp_open.fetch_add(1, Ordering::Relaxed) >= max {
            metrics.tcp_open.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(Slot(Arc::clone(metrics)))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.tcp_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves one connection until the client closes it, stays idle for
/// `limits.idle_timeout` (RFC 7766 §6.2.3), sends a length prefix outside
/// `12..=limits.max_message_size`, or stops reading its answers for that long.
///
/// Reading and writing run side by side: the next query is read while earlier answers
/// are written. After the client half-closes, the answers still queued are written
/// before the connection is closed.
pub async fn serve_stream<S>(
    stream: S,
    peer: SocketAddr,
    answerer: &SharedAnswerer,
    control: &Arc<ZoneControl>,
    limits: TcpLimits,
    counters: &Counters,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(PENDING_ANSWERS);
    let read = async move {
        let mut answer = Vec::new();
        loop {
            let Some(query) = read_message(&mut reader, peer, limits).await else {
                break;
            };
            let ctx = QueryContext {
                client: peer,
                transport: Transport::Stream,
                now: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            };
            let outcome = answerer.load().answer(&query, &ctx, &mut answer);
            if outcome == Outcome::Defer {
                let sent = match control.handle(query.clone(), ctx).await {
                    Reply::Nothing => true,
                    Reply::One(reply) => {
                        counters.record(&query, Outcome::Reply, &reply);
                        send(&tx, &reply, peer).await
                    }
                    Reply::Stream(mut messages) => {
                        let mut ok = true;
                        let mut first = true;
                        while let Some(m) = messages.recv().await {
                            if first {
                                counters.record(&query, Outcome::Reply, &m);
                                first = false;
                            }
                            ok = send(&tx, &m, peer).await;
                            if !ok {
                                break;
                            }
                        }
                        ok
                    }
                };
                if !sent {
                    break;
                }
                continue;
            }
            counters.record(&query, outcome, &answer);
            if outcome == Outcome::Drop {
                continue;
            }
            if !send(&tx, &answer, peer).await {
                break;
            }
        }
    };
    let write = async move {
        while let Some(framed) = rx.recv().await {
            match timeout(limits.idle_timeout, writer.write_all(&framed)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TCP write failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TCP client not reading its answers; closing");
                    return;
                }
            }
        }
        // Bounded too: a client that never reads must not keep the connection open.
        let _ = timeout(limits.idle_timeout, writer.shutdown()).await;
    };
    tokio::join!(read, write);
}

/// Queues one message, framed, for the writer; false when the connection is closing.
/// A message too long for the 2-byte prefix is dropped (and logged).
async fn send(tx: &mpsc::Sender<Vec<u8>>, message: &[u8], peer: SocketAddr) -> bool {
    let Ok(len) = u16::try_from(message.len()) else {
        tracing::warn!(%peer, len = message.len(), "answer too long for TCP; dropped");
        return true;
    };
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    tx.send(framed).await.is_ok()
}

/// Reads one length-prefixed message, or `None` when the connection should close.
async fn read_message<R>(reader: &mut R, peer: SocketAddr, limits: TcpLimits) -> Option<Vec<u8>>
where
    R: AsyncRead + Unpin,
{
    let mut prefix = [0u8; 2];
    match timeout(limits.idle_timeout, reader.read_exact(&mut prefix)).await {
        Ok(Ok(_)) => {}
        Ok(Err(_)) => return None,
        Err(_) => {
            tracing::debug!(%peer, "TCP connection idle; closing");
            return None;
        }
    }
    let len = u16::from_be_bytes(prefix);
    if !(MIN_MESSAGE..=limits.max_message_size).contains(&len) {
        tracing::debug!(%peer, len, "TCP length prefix out of bounds; closing");
        return None;
    }
    let mut message = vec![0u8; usize::from(len)];
    match timeout(limits.idle_timeout, reader.read_exact(&mut message)).await {
        Ok(Ok(_)) => Some(message),
        Ok(Err(_)) => None,
        Err(_) => {
            tracing::debug!(%peer, "TCP message not completed in time; closing");
            None
        }
    }
}
