//! DNS over HTTPS (RFC 8484): GET with `?dns=` (base64url without padding) and POST
//! with an `application/dns-message` body, over HTTP/2 (ALPN `h2`, RFC 8484 §5.2) or
//! HTTP/1.1 on TLS. GET with `?name=&type=` gets the JSON form of public resolvers
//! ([`crate::doh_json`]).
//!
//! The request and response rules are plain functions ([`query_from_get`],
//! [`query_from_post`], [`freshness`]); [`serve`] is the tokio/hyper loop around them.
//! What the answerer defers (UPDATE, NOTIFY, signed queries, transfers) is awaited on
//! the connection's task; a zone transfer is served when it is one message.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use lib_dns::{Rcode, Rtype};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use zdns_auth::{QueryContext, Transport};

use crate::h2_records::ResponseRecords;
use crate::stats::{ConnectionSlot, ListenerStats};
use crate::timed_io::TimedIo;
use crate::tls::{self, ServerTls};
use crate::walk::{Section, records};
use crate::{Answer, Respond, doh_json, padding, refused_with_ede, unix_now};

/// The media type of DNS messages over HTTP (RFC 8484 §6).
pub const DNS_MESSAGE: &str = "application/dns-message";
/// The URI path of the embedded default (RFC 8484 §3 leaves it to the server).
pub const DEFAULT_PATH: &str = "/dns-query";
/// The largest DNS message (RFC 8484 §6: the body is one message).
pub const MAX_MESSAGE: usize = 65535;
/// The smallest: a header.
const MIN_MESSAGE: usize = 12;
/// Extended DNS Error "Not Supported" (RFC 8914 §4.22).
pub const EDE_NOT_SUPPORTED: u16 = 21;

/// Why a request gets no DNS answer: the HTTP status and a short reason for the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// The status.
    pub status: StatusCode,
    /// Why, in a few words.
    pub reason: &'static str,
}

const fn reject(status: StatusCode, reason: &'static str) -> Rejection {
    Rejection { status, reason }
}

/// The query of a GET request from its query string (RFC 8484 §4.1: `dns` holds the
/// message in base64url without padding, RFC 4648 §5).
pub fn query_from_get(query_string: Option<&str>) -> Result<Vec<u8>, Rejection> {
    let value = query_string
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("dns="))
        .ok_or(reject(StatusCode::BAD_REQUEST, "missing dns parameter"))?;
    // Four base64 characters carry three bytes: refuse before decoding.
    if value.len() > MAX_MESSAGE.div_ceil(3) * 4 {
        return Err(reject(StatusCode::URI_TOO_LONG, "dns parameter too long"));
    }
    let query = URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| reject(StatusCode::BAD_REQUEST, "dns parameter is not base64url"))?;
    check_size(query)
}

/// The query of a POST request (RFC 8484 §4.1) from its Content-Type and body.
pub fn query_from_post(content_type: Option<&[u8]>, body: Bytes) -> Result<Vec<u8>, Rejection> {
    let media = content_type
        .and_then(|v| v.split(|&b| b == b';').next())
        .map(<[u8]>::trim_ascii);
    if !media.is_some_and(|m| m.eq_ignore_ascii_case(DNS_MESSAGE.as_bytes())) {
        return Err(reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/dns-message",
        ));
    }
    check_size(body.to_vec())
}

fn check_size(query: Vec<u8>) -> Result<Vec<u8>, Rejection> {
    if query.len() > MAX_MESSAGE {
        return Err(reject(
            StatusCode::PAYLOAD_TOO_LARGE,
            "DNS message too long",
        ));
    }
    if query.len() < MIN_MESSAGE {
        return Err(reject(StatusCode::BAD_REQUEST, "DNS message too short"));
    }
    Ok(query)
}

/// The freshness lifetime of a response for `Cache-Control: max-age` (RFC 8484 §5.1):
/// the smallest TTL of the answer section; for a negative answer the SOA's TTL capped
/// by its MINIMUM field (RFC 2308 §5); for a referral the smallest authority TTL.
/// `None` for responses with no such records (errors): they are sent with max-age=0.
pub fn freshness(response: &[u8]) -> Option<u32> {
    let (header, places) = records(response).ok()?;
    if !matches!(
        Rcode(u16::from(header.rcode_low)),
        Rcode::NOERROR | Rcode::NXDOMAIN
    ) {
        return None;
    }
    let answers = places.iter().filter(|p| p.section == Section::Answer);
    if let Some(min) = answers.map(|p| p.ttl).min() {
        return Some(min);
    }
    let authority = places.iter().filter(|p| p.section == Section::Authority);
    if let Some(soa) = authority.clone().find(|p| p.rtype == Rtype::SOA.0) {
        let data = response.get(soa.rdata.clone())?;
        let minimum = data.get(data.len().checked_sub(4)?..)?;
        let minimum = u32::from_be_bytes(minimum.try_into().ok()?);
        return Some(soa.ttl.min(minimum));
    }
    authority.map(|p| p.ttl).min()
}

/// Limits of a DoH listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DohLimits {
    /// Connections beyond this many are closed at once.
    pub max_connections: usize,
    /// A read or write waiting longer than this closes the connection.
    pub idle_timeout: Duration,
    /// A TLS handshake taking longer than this closes the connection.
    pub handshake_timeout: Duration,
    /// Concurrent HTTP/2 streams per connection.
    pub max_streams: u32,
    /// Threads serving connections, each with its own single-threaded runtime.
    pub workers: usize,
}

/// What a DoH listener needs.
pub struct DohService {
    /// The server TLS (its DoH configuration is used, re-read per connection).
    pub tls: Arc<ServerTls>,
    /// Answers queries.
    pub respond: Arc<dyn Respond>,
    /// The URI path that takes queries, such as [`DEFAULT_PATH`].
    pub path: String,
    /// Limits.
    pub limits: DohLimits,
    /// Counters.
    pub stats: Arc<ListenerStats>,
}

/// Accepts DoH connections on `listener` for as long as the node runs. Each connection
/// is served on one of `limits.workers` threads, each running its own single-threaded
/// runtime, so the tasks of a connection's HTTP/2 streams never wake another thread.
pub async fn serve(listener: TcpListener, service: Arc<DohService>) {
    let workers: Vec<_> = (0..service.limits.workers.max(1))
        .filter_map(|i| spawn_worker(i, &service))
        .collect();
    if workers.is_empty() {
        tracing::error!("no DoH worker thread could start; DoH not served");
        return;
    }
    let mut next = 0usize;
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "DoH accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = service.stats.admit(service.limits.max_connections) else {
            tracing::debug!(%peer, "DoH connection refused: connection limit reached");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let Ok(tcp) = tcp.into_std() else {
            continue;
        };
        next = next.wrapping_add(1);
        if let Some(worker) = workers.get(next % workers.len())
            && worker.send((tcp, peer, slot)).is_err()
        {
            tracing::warn!(%peer, "DoH worker gone; connection dropped");
        }
    }
}

/// A connection handed to a worker thread, with its place under the limit.
type Handoff = (std::net::TcpStream, SocketAddr, ConnectionSlot);

/// Starts worker thread `i`; `None` (logged) when the thread or its runtime cannot start.
fn spawn_worker(i: usize, service: &Arc<DohService>) -> Option<mpsc::UnboundedSender<Handoff>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Handoff>();
    let service = Arc::clone(service);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a DoH worker runtime");
            return None;
        }
    };
    let spawned = std::thread::Builder::new()
        .name(format!("zdns-doh-{i}"))
        .spawn(move || {
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, async move {
                while let Some((tcp, peer, slot)) = rx.recv().await {
                    let service = Arc::clone(&service);
                    tokio::task::spawn_local(async move {
                        connection(tcp, peer, service).await;
                        drop(slot);
                    });
                }
            });
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            tracing::error!(error = %e, "cannot start a DoH worker thread");
            None
        }
    }
}

/// Serves one connection on the current worker thread: bounded TLS handshake, then
/// HTTP/2 or HTTP/1.1 until the client leaves or idles.
async fn connection(tcp: std::net::TcpStream, peer: SocketAddr, service: Arc<DohService>) {
    let tcp = match tokio::net::TcpStream::from_std(tcp) {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "DoH connection lost in hand-off");
            return;
        }
    };
    let limits = service.limits;
    let stream = match tls::accept(service.tls.doh(), tcp, limits.handshake_timeout).await {
        Ok(s) => s,
        Err(e) => {
            service.stats.handshake_failed();
            tracing::debug!(%peer, error = %e, "DoH TLS handshake failed");
            return;
        }
    };
    let h2 = stream.get_ref().1.alpn_protocol() == Some(tls::ALPN_H2);
    let timed = TimedIo::new(stream, limits.idle_timeout);
    let io = TokioIo::new(ResponseRecords::new(timed, h2));
    let svc = service_fn(move |request| {
        let handler = Arc::clone(&service);
        async move { Ok::<_, Infallible>(handler.handle(request, peer).await) }
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(LocalExecutor);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_streams);
    if let Err(e) = builder.serve_connection(io, svc).await {
        tracing::debug!(%peer, error = %e, "DoH connection ended");
    }
}

/// Runs hyper's per-stream tasks on the current thread's `LocalSet`.
#[derive(Debug, Clone, Copy)]
struct LocalExecutor;

impl<F> hyper::rt::Executor<F> for LocalExecutor
where
    F: std::future::Future + 'static,
{
    fn execute(&self, future: F) {
        tokio::task::spawn_local(future);
    }
}

impl DohService {
    /// Answers one HTTP/1.1 or HTTP/2 request.
    async fn handle(&self, request: Request<Incoming>, peer: SocketAddr) -> Response<Full<Bytes>> {
        let (parts, body) = request.into_parts();
        let body = if parts.method == Method::POST {
            match Limited::new(body, MAX_MESSAGE).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    return rejected(reject(StatusCode::PAYLOAD_TOO_LARGE, "body too long"))
                        .map(Full::new);
                }
            }
        } else {
            Bytes::new()
        };
        self.respond_to(&parts, body, peer).await.map(Full::new)
    }

    /// The response to a request whose body has been read (at most [`MAX_MESSAGE`]
    /// bytes), whatever HTTP version carried it.
    pub(crate) async fn respond_to(
        &self,
        parts: &hyper::http::request::Parts,
        body: Bytes,
        peer: SocketAddr,
    ) -> Response<Bytes> {
        match self.query(parts, body) {
            Ok((query, json)) => self.answer(&query, json, peer).await,
            Err(rejection) => rejected(rejection),
        }
    }

    /// The query of a request, and whether it is in the JSON form.
    fn query(
        &self,
        parts: &hyper::http::request::Parts,
        body: Bytes,
    ) -> Result<(Vec<u8>, bool), Rejection> {
        if parts.uri.path() != self.path {
            return Err(reject(StatusCode::NOT_FOUND, "not found"));
        }
        let query_string = parts.uri.query();
        if parts.method == Method::GET && doh_json::wanted(query_string) {
            return Ok((
                doh_json::query_from_params(query_string.unwrap_or_default())?,
                true,
            ));
        }
        let query = match parts.method {
            Method::GET => query_from_get(query_string),
            Method::POST => {
                let content_type = parts.headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
                query_from_post(content_type, body)
            }
            _ => Err(reject(
                StatusCode::METHOD_NOT_ALLOWED,
                "only GET and POST are served",
            )),
        }?;
        Ok((query, false))
    }

    /// Answers `query`; what the answerer defers is awaited here, on this connection's
    /// task (the work itself runs where the answerer put it).
    async fn answer(&self, query: &[u8], json: bool, peer: SocketAddr) -> Response<Bytes> {
        let ctx = QueryContext {
            client: peer,
            transport: Transport::Stream,
            now: unix_now(),
        };
        let (mut answer, pad) = match self.respond.respond(query, &ctx) {
            Answer::Reply(answer) => (answer, true),
            Answer::Drop => return rejected(reject(StatusCode::BAD_REQUEST, "not a DNS query")),
            Answer::Deferred(messages) => match deferred(query, messages).await {
                Some(answer) => (answer, false),
                None => return rejected(reject(StatusCode::BAD_REQUEST, "not a DNS query")),
            },
        };
        let max_age = freshness(&answer).unwrap_or(0);
        let (body, media) = if json {
            let Some(text) = doh_json::to_json(&answer) else {
                return rejected(reject(StatusCode::INTERNAL_SERVER_ERROR, "bad answer"));
            };
            (Bytes::from(text), doh_json::DNS_JSON)
        } else {
            if pad {
                padding::pad_response(query, &mut answer);
            }
            (Bytes::from(answer), DNS_MESSAGE)
        };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(media));
        if let Ok(v) = HeaderValue::from_str(&format!("max-age={max_age}")) {
            headers.insert(CACHE_CONTROL, v);
        }
        response
    }
}

/// The one message of a deferred answer. An HTTP response carries one DNS message (RFC
/// 8484 §4.2), so a zone transfer of several messages is not served over DoH: the
/// client gets REFUSED with Extended DNS Error 21 (Not Supported, RFC 8914) and should
/// transfer over DoQ or DoT. `None` when nothing came.
async fn deferred(query: &[u8], mut messages: mpsc::Receiver<Vec<u8>>) -> Option<Vec<u8>> {
    let first = messages.recv().await?;
    if messages.recv().await.is_none() {
        return Some(first);
    }
    // Dropping the channel stops the producer.
    drop(messages);
    refused_with_ede(
        query,
        EDE_NOT_SUPPORTED,
        "a zone transfer of more than one message does not fit one DoH response; use DoQ or DoT",
    )
}

fn rejected(rejection: Rejection) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(format!("{}\n", rejection.reason)));
    *response.status_mut() = rejection.status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if rejection.status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(ALLOW, HeaderValue::from_static("GET, POST"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::{Message, Name};

    fn wire() -> Vec<u8> {
        Message::query(0, Name::parse("example.").unwrap(), Rtype::A)
            .to_wire(512)
            .unwrap()
    }

    #[test]
    fn get_takes_base64url_without_padding() {
        let q = wire();
        let encoded = URL_SAFE_NO_PAD.encode(&q);
        assert_eq!(
            query_from_get(Some(&format!("dns={encoded}"))),
            Ok(q.clone())
        );
        assert_eq!(
            query_from_get(Some(&format!("ct=x&dns={encoded}&z=1"))),
            Ok(q)
        );
        // RFC 8484 §6: the example query, "www.example.com" A with ID 0.
        let example =
            query_from_get(Some("dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB")).unwrap();
        let m = Message::parse(&example).unwrap();
        assert_eq!(
            m.questions[0].qname,
            Name::parse("www.example.com.").unwrap()
        );
        for (qs, status) in [
            (None, StatusCode::BAD_REQUEST),
            (Some("name=example"), StatusCode::BAD_REQUEST),
            (Some("dns=%%%"), StatusCode::BAD_REQUEST),
            (Some("dns=AAAA"), StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(query_from_get(qs).unwrap_err().status, status, "{qs:?}");
        }
        let long = format!("dns={}", "A".repeat(100_000));
        assert_eq!(
            query_from_get(Some(&long)).unwrap_err().status,
            StatusCode::URI_TOO_LONG
        );
    }

    #[test]
    fn post_needs_the_media_type_and_a_sane_size() {
        let q = Bytes::from(wire());
        assert!(query_from_post(Some(b"application/dns-message"), q.clone()).is_ok());
        assert!(query_from_post(Some(b"Application/DNS-Message; x=y"), q.clone()).is_ok());
        for ct in [
            None,
            Some(&b"text/plain"[..]),
            Some(b"application/dns-json"),
        ] {
            assert_eq!(
                query_from_post(ct, q.clone()).unwrap_err().status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            );
        }
        let big = Bytes::from(vec![0u8; MAX_MESSAGE + 1]);
        assert_eq!(
            query_from_post(Some(b"application/dns-message"), big)
                .unwrap_err()
                .status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
    }

    #[test]
    fn freshness_is_the_smallest_ttl_or_the_negative_ttl() {
        use lib_dns::Record;
        use lib_dns::rdata::{A, Soa};
        let name = Name::parse("example.").unwrap();
        let a = |ttl, last| {
            Record::new(
                name.clone(),
                ttl,
                A(std::net::Ipv4Addr::new(192, 0, 2, last)),
            )
        };
        let query = Message::query(0, name.clone(), Rtype::A);
        let mut r = Message::response_to(&query);
        r.answers = vec![a(300, 1), a(60, 2)];
        assert_eq!(freshness(&r.to_wire(65535).unwrap()), Some(60));
        let soa = Record::new(
            name.clone(),
            3600,
            Soa {
                mname: name.clone(),
                rname: name.clone(),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 120,
            },
        );
        r.answers.clear();
        r.authority = vec![soa];
        r.rcode = Rcode::NXDOMAIN;
        assert_eq!(freshness(&r.to_wire(65535).unwrap()), Some(120));
        r.rcode = Rcode::SERVFAIL;
        assert_eq!(freshness(&r.to_wire(65535).unwrap()), None);
        assert_eq!(freshness(b"junk"), None);
    }
}
