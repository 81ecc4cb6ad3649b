//! DNS over dedicated QUIC connections (RFC 9250) on quinn.
//!
//! Each query comes on its own client-initiated bidirectional stream as one message with
//! a 2-byte length prefix, after which the client ends the stream (STREAM FIN); the
//! answer goes back on the same stream, which the server then ends (RFC 9250 §4.2).
//! The message ID must be 0 on the wire (§4.2.1). Malformed streams close the connection
//! with `DOQ_PROTOCOL_ERROR` (§4.3.3); streams that never finish are cancelled.
//!
//! 0-RTT is accepted (the TLS configuration allows early data), but only replayable
//! transactions (§4.5: QUERY and NOTIFY, zone transfers excepted) are acted on before
//! the handshake completes. Anything else (AXFR, IXFR, UPDATE, other opcodes) waits for
//! the handshake to complete, the first of the behaviours §4.5 allows: data replayed by
//! an attacker never gets that far, and a stream that merely raced the end of the
//! handshake is served rather than refused. What the answerer hands elsewhere
//! ([`Answer::Deferred`]: zone transfers over QUIC (XoQ, §4.2), UPDATE, NOTIFY, signed
//! queries) is sent on the query's stream as its messages come, each with its length
//! prefix.
//!
//! Connection migration and the idle timeout are quinn's (RFC 9000 §9, §10.1).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lib_dns::message::QueryView;
use lib_dns::{Opcode, Rtype};
use quinn::crypto::rustls::QuicServerConfig;
use quinn::{Connection, Endpoint, Incoming, RecvStream, SendStream, VarInt};
use tokio::sync::watch;
use zdns_auth::{QueryContext, Transport};

use crate::stats::ListenerStats;
use crate::{Answer, Respond, padding, unix_now};

/// No error: the stream or connection closes with nothing to signal (RFC 9250 §4.3).
pub const DOQ_NO_ERROR: u32 = 0x0;
/// The implementation failed internally.
pub const DOQ_INTERNAL_ERROR: u32 = 0x1;
/// The peer broke the protocol: bad framing, a nonzero ID, a missing FIN.
pub const DOQ_PROTOCOL_ERROR: u32 = 0x2;
/// A request was cancelled (for the server: a stream that never finished in time).
pub const DOQ_REQUEST_CANCELLED: u32 = 0x3;
/// The server closes the connection because it is overloaded.
pub const DOQ_EXCESSIVE_LOAD: u32 = 0x4;

/// The largest stream a client may send: a length prefix and a 65535-byte message.
const MAX_STREAM: usize = 2 + 65535;
/// The smallest DNS message: a header.
const MIN_MESSAGE: usize = 12;

/// What is wrong with a query stream (RFC 9250 §4.2, §4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// Shorter than a length prefix and a header.
    TooShort,
    /// The length prefix does not match the bytes that came before FIN.
    LengthMismatch,
    /// The message ID is not 0 (§4.2.1).
    NonZeroId,
}

impl StreamError {
    /// Every one of these is a protocol error that closes the connection (§4.3.3).
    pub fn code(self) -> u32 {
        DOQ_PROTOCOL_ERROR
    }
}

/// The query inside the bytes of one finished stream.
pub fn query_of_stream(stream: &[u8]) -> Result<&[u8], StreamError> {
    let [hi, lo, message @ ..] = stream else {
        return Err(StreamError::TooShort);
    };
    if usize::from(u16::from_be_bytes([*hi, *lo])) != message.len() {
        return Err(StreamError::LengthMismatch);
    }
    if message.len() < MIN_MESSAGE {
        return Err(StreamError::TooShort);
    }
    if message.get(..2) != Some(&[0, 0]) {
        return Err(StreamError::NonZeroId);
    }
    Ok(message)
}

/// Whether `query` asks for a zone transfer (RFC 5936 AXFR, RFC 1995 IXFR).
pub fn is_transfer(query: &[u8]) -> bool {
    QueryView::parse(query).is_ok_and(|q| matches!(q.qtype, Rtype::AXFR | Rtype::IXFR))
}

/// Whether `query` may be acted on from 0-RTT data (RFC 9250 §4.5): only QUERY and
/// NOTIFY are replayable, and of the queries not zone transfers (§4.2, §10.5).
pub fn replayable(query: &[u8]) -> bool {
    let Some(&flags) = query.get(2) else {
        return false;
    };
    match Opcode::new(flags >> 3) {
        Opcode::QUERY => !is_transfer(query),
        Opcode::NOTIFY => true,
        _ => false,
    }
}

/// Frames one message with its 2-byte length; `None` when it is too long.
fn framed(message: &[u8]) -> Option<Vec<u8>> {
    let len = u16::try_from(message.len()).ok()?;
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    Some(out)
}

/// Limits of a DoQ listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoqLimits {
    /// Connections beyond this many are refused (QUIC CONNECTION_REFUSED).
    pub max_connections: usize,
    /// A connection with no packet for this long is closed (QUIC idle timeout).
    pub idle_timeout: Duration,
    /// A handshake taking longer than this closes the connection.
    pub handshake_timeout: Duration,
    /// Concurrent query streams a client may have open per connection.
    pub max_streams: u32,
    /// A stream not finished by the client within this is cancelled.
    pub stream_timeout: Duration,
}

/// The quinn server configuration of DoQ: `crypto` from [`crate::tls::ServerTls::doq`],
/// no unidirectional streams (RFC 9250 §4.2 uses none), and the limits.
pub fn server_config(crypto: Arc<QuicServerConfig>, limits: DoqLimits) -> quinn::ServerConfig {
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(limits.max_streams))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .max_idle_timeout(quinn::IdleTimeout::try_from(limits.idle_timeout).ok());
    let mut config = quinn::ServerConfig::with_crypto(crypto);
    config.transport_config(Arc::new(transport));
    config
}

/// A bound DoQ endpoint whose certificate can be replaced while it runs.
#[derive(Clone)]
pub struct DoqListener {
    endpoint: Endpoint,
    limits: DoqLimits,
}

impl DoqListener {
    /// Binds a DoQ endpoint to `addr` with `crypto` (from
    /// [`crate::tls::ServerTls::doq`]) and `limits`.
    pub fn bind(
        addr: SocketAddr,
        crypto: Arc<QuicServerConfig>,
        limits: DoqLimits,
    ) -> std::io::Result<DoqListener> {
        let endpoint = Endpoint::server(server_config(crypto, limits), addr)?;
        Ok(DoqListener { endpoint, limits })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Uses `crypto` for connections from now on; open ones keep theirs.
    pub fn set_crypto(&self, crypto: Arc<QuicServerConfig>) {
        self.endpoint
            .set_server_config(Some(server_config(crypto, self.limits)));
    }

    /// Accepts connections until the endpoint is closed.
    pub async fn serve(self, respond: Arc<dyn Respond>, stats: Arc<ListenerStats>) {
        let service = Arc::new(DoqService {
            respond,
            limits: self.limits,
            stats,
        });
        serve(self.endpoint, service).await;
    }
}

/// What a DoQ listener needs.
struct DoqService {
    /// Answers queries (and transfers, through its hook).
    respond: Arc<dyn Respond>,
    /// Limits.
    limits: DoqLimits,
    /// Counters.
    stats: Arc<ListenerStats>,
}

/// Accepts DoQ connections on `endpoint` until it is closed.
async fn serve(endpoint: Endpoint, service: Arc<DoqService>) {
    while let Some(incoming) = endpoint.accept().await {
        let Some(slot) = service.stats.admit(service.limits.max_connections) else {
            tracing::debug!(peer = %incoming.remote_address(), "DoQ connection refused: connection limit reached");
            incoming.refuse();
            continue;
        };
        let service = Arc::clone(&service);
        tokio::spawn(async move {
            connection(incoming, &service).await;
            drop(slot);
        });
    }
}

/// Serves one connection until it closes.
async fn connection(incoming: Incoming, service: &Arc<DoqService>) {
    let peer = incoming.remote_address();
    let connecting = match incoming.accept() {
        Ok(c) => c,
        Err(e) => {
            service.stats.handshake_failed();
            tracing::debug!(%peer, error = %e, "DoQ connection not accepted");
            return;
        }
    };
    // Whether the handshake is complete; streams that must wait for it watch this.
    let (complete, handshake) = watch::channel(false);
    let conn = match connecting.into_0rtt() {
        Ok((conn, accepted)) => {
            // Streams may arrive before the handshake completes (0-RTT data).
            let stats = Arc::clone(&service.stats);
            let watched = conn.clone();
            let limit = service.limits.handshake_timeout;
            tokio::spawn(async move {
                match tokio::time::timeout(limit, accepted).await {
                    Ok(_) => {
                        complete.send_replace(true);
                    }
                    Err(_) => {
                        stats.handshake_failed();
                        watched.close(VarInt::from_u32(DOQ_NO_ERROR), b"handshake timeout");
                    }
                }
            });
            conn
        }
        Err(connecting) => {
            match tokio::time::timeout(service.limits.handshake_timeout, connecting).await {
                Ok(Ok(conn)) => {
                    complete.send_replace(true);
                    conn
                }
                Ok(Err(e)) => {
                    service.stats.handshake_failed();
                    tracing::debug!(%peer, error = %e, "DoQ handshake failed");
                    return;
                }
                Err(_) => {
                    service.stats.handshake_failed();
                    tracing::debug!(%peer, "DoQ handshake not completed in time");
                    return;
                }
            }
        }
    };
    loop {
        let (send, recv) = match conn.accept_bi().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "DoQ connection closed");
                return;
            }
        };
        let service = Arc::clone(service);
        let conn = conn.clone();
        let handshake = handshake.clone();
        tokio::spawn(async move {
            stream(&conn, send, recv, &service, handshake).await;
        });
    }
}

/// Reads one query from a stream, answers it on the same stream and ends it.
async fn stream(
    conn: &Connection,
    mut send: SendStream,
    mut recv: RecvStream,
    service: &DoqService,
    mut handshake: watch::Receiver<bool>,
) {
    let peer = conn.remote_address();
    let cancel = VarInt::from_u32(DOQ_REQUEST_CANCELLED);
    let bytes =
        match tokio::time::timeout(service.limits.stream_timeout, recv.read_to_end(MAX_STREAM))
            .await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(quinn::ReadToEndError::TooLong)) => {
                tracing::debug!(%peer, "DoQ stream longer than one message; closing");
                conn.close(VarInt::from_u32(DOQ_PROTOCOL_ERROR), b"stream too long");
                return;
            }
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "DoQ stream read failed");
                let _ = send.reset(cancel);
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "DoQ stream not finished in time; cancelled");
                let _ = recv.stop(cancel);
                let _ = send.reset(cancel);
                return;
            }
        };
    let query = match query_of_stream(&bytes) {
        Ok(q) => q,
        Err(e) => {
            tracing::debug!(%peer, error = ?e, "DoQ protocol error; closing");
            conn.close(VarInt::from_u32(e.code()), b"malformed query stream");
            return;
        }
    };
    let ctx = QueryContext {
        client: peer,
        transport: Transport::Stream,
        now: unix_now(),
    };
    // RFC 9250 §4.5: what is not replayable is acted on only once the handshake is
    // complete (it may have come in 0-RTT data); a handshake that never completes ends
    // the connection, and the request with it.
    if !replayable(query) {
        let wait = handshake.wait_for(|complete| *complete);
        if !matches!(
            tokio::time::timeout(service.limits.handshake_timeout, wait).await,
            Ok(Ok(_))
        ) {
            tracing::debug!(%peer, "request that is not replayable dropped: no handshake");
            let _ = send.reset(cancel);
            return;
        }
    }
    let answer = match service.respond.respond(query, &ctx) {
        Answer::Reply(mut answer) => {
            padding::pad_response(query, &mut answer);
            Answer::Reply(answer)
        }
        other => other,
    };
    let limit = service.limits.idle_timeout;
    match answer {
        Answer::Reply(answer) => {
            if write(&mut send, &answer, peer, limit).await {
                let _ = send.finish();
            }
        }
        Answer::Drop => {
            let _ = send.reset(cancel);
        }
        Answer::Deferred(mut messages) => {
            let mut any = false;
            while let Some(message) = messages.recv().await {
                any = true;
                if !write(&mut send, &message, peer, limit).await {
                    return;
                }
            }
            if any {
                let _ = send.finish();
            } else {
                let _ = send.reset(cancel);
            }
        }
    }
}

/// Writes one message with its length prefix within `limit`; false (the stream reset
/// or gone) when it cannot be written, or when the client does not take it in time (a
/// transfer's producer must not wait on a client that stopped reading).
async fn write(send: &mut SendStream, message: &[u8], peer: SocketAddr, limit: Duration) -> bool {
    let Some(frame) = framed(message) else {
        tracing::warn!(%peer, len = message.len(), "DoQ answer too long; dropped");
        let _ = send.reset(VarInt::from_u32(DOQ_INTERNAL_ERROR));
        return false;
    };
    match tokio::time::timeout(limit, send.write_all(&frame)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "DoQ write failed");
            false
        }
        Err(_) => {
            tracing::debug!(%peer, "DoQ client not reading its answer; stream cancelled");
            let _ = send.reset(VarInt::from_u32(DOQ_REQUEST_CANCELLED));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::message::Edns;
    use lib_dns::{Message, Name};

    fn query(id: u16, rtype: Rtype, edns: bool) -> Vec<u8> {
        let mut q = Message::query(id, Name::parse("example.").unwrap(), rtype);
        if edns {
            q.edns = Some(Edns::default());
        }
        q.to_wire(512).unwrap()
    }

    #[test]
    fn streams_are_one_length_prefixed_message_with_id_zero() {
        let q = query(0, Rtype::A, false);
        let stream = framed(&q).unwrap();
        assert_eq!(query_of_stream(&stream), Ok(&q[..]));
        let mut longer = stream.clone();
        longer.push(0);
        assert_eq!(query_of_stream(&longer), Err(StreamError::LengthMismatch));
        assert_eq!(
            query_of_stream(&stream[..stream.len() - 1]),
            Err(StreamError::LengthMismatch)
        );
        assert_eq!(query_of_stream(&[0]), Err(StreamError::TooShort));
        assert_eq!(query_of_stream(&[0, 2, 0, 0]), Err(StreamError::TooShort));
        let nonzero = framed(&query(7, Rtype::A, false)).unwrap();
        assert_eq!(query_of_stream(&nonzero), Err(StreamError::NonZeroId));
        assert_eq!(StreamError::NonZeroId.code(), DOQ_PROTOCOL_ERROR);
    }

    #[test]
    fn only_queries_and_notifies_are_replayable() {
        assert!(is_transfer(&query(0, Rtype::AXFR, false)));
        assert!(is_transfer(&query(0, Rtype::IXFR, false)));
        assert!(!is_transfer(&query(0, Rtype::SOA, false)));
        assert!(!is_transfer(b"junk"));
        assert!(replayable(&query(0, Rtype::SOA, false)));
        assert!(!replayable(&query(0, Rtype::AXFR, false)));
        assert!(!replayable(&query(0, Rtype::IXFR, true)));
        let with_opcode = |opcode: Opcode| {
            let mut q = Message::query(0, Name::parse("example.").unwrap(), Rtype::SOA);
            q.opcode = opcode;
            q.to_wire(512).unwrap()
        };
        assert!(replayable(&with_opcode(Opcode::NOTIFY)));
        assert!(!replayable(&with_opcode(Opcode::UPDATE)));
        assert!(!replayable(&with_opcode(Opcode::DSO)));
        assert!(!replayable(b"\0\0"));
    }
}
