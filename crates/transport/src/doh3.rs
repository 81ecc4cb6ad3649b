//! DNS over HTTPS on HTTP/3 (RFC 8484 over RFC 9114), with h3 0.0.8 and h3-quinn on the
//! same quinn as DoQ. Requests are answered by the same rules as over HTTP/2
//! ([`DohService`]); only the framing differs. No 0-RTT: a DoH request's method and path
//! are not checked for replay safety here.
//!
//! h3 is pre-1.0 (its API changes between 0.0.x releases), so this listener is kept small
//! and separate: the HTTP semantics live in `doh.rs`.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use hyper::StatusCode;
use quinn::crypto::rustls::QuicServerConfig;
use quinn::{Endpoint, VarInt};

use crate::doh::{DohService, MAX_MESSAGE};

/// H3_NO_ERROR (RFC 9114 §8.1).
const H3_NO_ERROR: u32 = 0x100;

/// A bound HTTP/3 endpoint for DoH whose certificate can be replaced while it runs.
#[derive(Clone)]
pub struct Doh3Listener {
    endpoint: Endpoint,
    service: Arc<DohService>,
}

impl Doh3Listener {
    /// Binds to `addr` (UDP) with `crypto` from [`crate::tls::ServerTls::doh3`]; the
    /// limits and counters are `service`'s.
    pub fn bind(
        addr: SocketAddr,
        crypto: Arc<QuicServerConfig>,
        service: Arc<DohService>,
    ) -> std::io::Result<Doh3Listener> {
        let endpoint = Endpoint::server(server_config(crypto, &service), addr)?;
        Ok(Doh3Listener { endpoint, service })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Uses `crypto` for connections from now on.
    pub fn set_crypto(&self, crypto: Arc<QuicServerConfig>) {
        self.endpoint
            .set_server_config(Some(server_config(crypto, &self.service)));
    }

    /// Accepts connections until the endpoint is closed.
    pub async fn serve(self) {
        while let Some(incoming) = self.endpoint.accept().await {
            let Some(slot) = self
                .service
                .stats
                .admit(self.service.limits.max_connections)
            else {
                incoming.refuse();
                continue;
            };
            let service = Arc::clone(&self.service);
            tokio::spawn(async move {
                connection(incoming, service).await;
                drop(slot);
            });
        }
    }
}

fn server_config(crypto: Arc<QuicServerConfig>, service: &DohService) -> quinn::ServerConfig {
    let limits = service.limits;
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(limits.max_streams))
        .max_idle_timeout(quinn::IdleTimeout::try_from(limits.idle_timeout).ok());
    let mut config = quinn::ServerConfig::with_crypto(crypto);
    config.transport_config(Arc::new(transport));
    config
}

/// Serves one HTTP/3 connection.
async fn connection(incoming: quinn::Incoming, service: Arc<DohService>) {
    let peer = incoming.remote_address();
    let handshake = async {
        let conn = incoming.accept().map_err(|e| e.to_string())?.await;
        conn.map_err(|e| e.to_string())
    };
    let conn = match tokio::time::timeout(service.limits.handshake_timeout, handshake).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            service.stats.handshake_failed();
            tracing::debug!(%peer, error = %e, "DoH3 handshake failed");
            return;
        }
        Err(_) => {
            service.stats.handshake_failed();
            tracing::debug!(%peer, "DoH3 handshake not completed in time");
            return;
        }
    };
    let mut h3: h3::server::Connection<h3_quinn::Connection, Bytes> =
        match h3::server::Connection::new(h3_quinn::Connection::new(conn.clone())).await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "HTTP/3 set-up failed");
                return;
            }
        };
    loop {
        match h3.accept().await {
            Ok(Some(resolver)) => {
                let service = Arc::clone(&service);
                tokio::spawn(async move {
                    if let Err(e) = request(resolver, &service, peer).await {
                        tracing::debug!(%peer, error = %e, "DoH3 request failed");
                    }
                });
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(%peer, error = %e, "DoH3 connection ended");
                break;
            }
        }
    }
    conn.close(VarInt::from_u32(H3_NO_ERROR), b"");
}

/// Reads one request (body bounded in size, and in time by the idle timeout, so a
/// request never finished cannot hold its stream), answers it and ends the stream.
async fn request(
    resolver: h3::server::RequestResolver<h3_quinn::Connection, Bytes>,
    service: &DohService,
    peer: SocketAddr,
) -> Result<(), String> {
    let read = async {
        let (req, mut stream) = resolver
            .resolve_request()
            .await
            .map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        let mut too_long = false;
        while let Some(mut chunk) = stream.recv_data().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.remaining() > MAX_MESSAGE {
                too_long = true;
                break;
            }
            while chunk.has_remaining() {
                let part = chunk.chunk();
                body.extend_from_slice(part);
                let n = part.len();
                chunk.advance(n);
            }
        }
        Ok::<_, String>((req, stream, body, too_long))
    };
    let (req, mut stream, body, too_long) =
        match tokio::time::timeout(service.limits.idle_timeout, read).await {
            Ok(read) => read?,
            Err(_) => return Err("request not received in time".to_owned()),
        };
    let (parts, ()) = req.into_parts();
    let response = if too_long {
        let mut r = hyper::Response::new(Bytes::from_static(b"body too long\n"));
        *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        r
    } else {
        service.respond_to(&parts, Bytes::from(body), peer).await
    };
    let (head, body) = response.into_parts();
    stream
        .send_response(hyper::Response::from_parts(head, ()))
        .await
        .map_err(|e| e.to_string())?;
    stream.send_data(body).await.map_err(|e| e.to_string())?;
    stream.finish().await.map_err(|e| e.to_string())
}
