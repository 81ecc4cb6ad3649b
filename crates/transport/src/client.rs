//! Clients of the encrypted transports: DNS over TLS (RFC 7858), HTTPS (RFC 8484) and
//! QUIC (RFC 9250), one connection per [`Client`], opened on the first query and reused
//! by the next ones (reopened once if the server closed it meanwhile).
//!
//! The client is a building block for `zdns query` and for a forwarder's upstream pool:
//! it holds one upstream and one connection, and a pool holds several clients.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::{http1, http2};
use hyper::header::{ACCEPT, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::{TokioExecutor, TokioIo};
use quinn::crypto::rustls::QuicClientConfig;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::doh::{DNS_MESSAGE, MAX_MESSAGE};
use crate::tls::{self, ALPN_DOT, ALPN_H2, ALPN_HTTP1, TlsError, Verify};

/// Which encrypted transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Protocol {
    /// DNS over TLS (RFC 7858).
    Tls,
    /// DNS over HTTPS (RFC 8484), POST to this path.
    Https {
        /// The URI path, such as `/dns-query`.
        path: String,
    },
    /// DNS over QUIC (RFC 9250).
    Quic,
}

impl Protocol {
    /// The name dig prints for it.
    pub fn name(&self) -> &'static str {
        match self {
            Protocol::Tls => "TLS",
            Protocol::Https { .. } => "HTTPS",
            Protocol::Quic => "QUIC",
        }
    }
}

/// A server to ask.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
    /// The name to verify its certificate against and send as SNI (an IP address in
    /// text works too).
    pub server_name: String,
    /// The transport.
    pub protocol: Protocol,
    /// How to check its certificate.
    pub verify: Verify,
    /// How long one query (connection set-up included) may take.
    pub timeout: Duration,
}

/// Why a query got no answer.
#[derive(Debug)]
pub enum ClientError {
    /// The TLS configuration could not be built.
    Tls(TlsError),
    /// The server name is not a valid DNS name or IP address.
    ServerName(String),
    /// Connecting, the handshake, or the exchange failed.
    Io(String),
    /// The DoH server answered with an HTTP error.
    Http(StatusCode),
    /// No answer within the timeout.
    Timeout,
    /// The answer is not a DNS message of the expected shape.
    BadAnswer(&'static str),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Tls(e) => write!(f, "{e}"),
            ClientError::ServerName(n) => write!(f, "bad server name `{n}`"),
            ClientError::Io(e) => write!(f, "{e}"),
            ClientError::Http(s) => write!(f, "HTTP status {s}"),
            ClientError::Timeout => write!(f, "timed out"),
            ClientError::BadAnswer(why) => write!(f, "bad answer: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<TlsError> for ClientError {
    fn from(e: TlsError) -> ClientError {
        ClientError::Tls(e)
    }
}

fn io(context: &'static str) -> impl Fn(std::io::Error) -> ClientError {
    move |e| ClientError::Io(format!("{context}: {e}"))
}

/// The TLS set-up of a client, by transport.
enum Crypto {
    Tcp(Arc<ClientConfig>),
    Quic(Arc<QuicClientConfig>),
}

/// An open connection.
enum Connection {
    Tls(Box<TlsStream<TcpStream>>),
    H2(http2::SendRequest<Full<Bytes>>),
    H1(http1::SendRequest<Full<Bytes>>),
    Quic {
        /// Kept open for as long as the connection is used.
        _endpoint: quinn::Endpoint,
        conn: quinn::Connection,
    },
}

/// A client of one upstream, holding at most one connection.
pub struct Client {
    upstream: Upstream,
    name: ServerName<'static>,
    crypto: Crypto,
    connection: Option<Connection>,
    opened: u64,
}

impl Client {
    /// A client for `upstream`; nothing is connected until the first query.
    pub fn new(upstream: Upstream) -> Result<Client, ClientError> {
        let name = ServerName::try_from(upstream.server_name.clone())
            .map_err(|_| ClientError::ServerName(upstream.server_name.clone()))?;
        let crypto = match upstream.protocol {
            Protocol::Tls => Crypto::Tcp(tls::client_config(&upstream.verify, &[ALPN_DOT])?),
            Protocol::Https { .. } => Crypto::Tcp(tls::client_config(
                &upstream.verify,
                &[ALPN_H2, ALPN_HTTP1],
            )?),
            Protocol::Quic => Crypto::Quic(tls::quic_client_crypto(&upstream.verify)?),
        };
        Ok(Client {
            upstream,
            name,
            crypto,
            connection: None,
            opened: 0,
        })
    }

    /// The upstream.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// How many connections this client has opened so far.
    pub fn connections_opened(&self) -> u64 {
        self.opened
    }

    /// Sends `query` (a DNS message in wire form) and returns the answer, whose ID is the
    /// query's. DoH and DoQ send ID 0 on the wire (RFC 8484 §4.1, RFC 9250 §4.2.1).
    pub async fn query(&mut self, query: &[u8]) -> Result<Vec<u8>, ClientError> {
        let id: [u8; 2] = query
            .get(..2)
            .and_then(|id| id.try_into().ok())
            .ok_or(ClientError::BadAnswer("query too short"))?;
        let limit = self.upstream.timeout;
        let reused = self.connection.is_some();
        let first = tokio::time::timeout(limit, self.exchange(query)).await;
        let answer = match first {
            Ok(Ok(a)) => a,
            // A reused connection may have been closed by the server: one fresh try.
            Ok(Err(_)) | Err(_) if reused => {
                self.connection = None;
                tokio::time::timeout(limit, self.exchange(query))
                    .await
                    .map_err(|_| ClientError::Timeout)??
            }
            Ok(Err(e)) => {
                self.connection = None;
                return Err(e);
            }
            Err(_) => {
                self.connection = None;
                return Err(ClientError::Timeout);
            }
        };
        let mut answer = answer;
        if answer.len() < 12 {
            return Err(ClientError::BadAnswer("shorter than a header"));
        }
        if let Some(answer_id) = answer.get_mut(..2) {
            answer_id.copy_from_slice(&id);
        }
        Ok(answer)
    }

    async fn exchange(&mut self, query: &[u8]) -> Result<Vec<u8>, ClientError> {
        if self.connection.is_none() {
            self.connection = Some(self.connect().await?);
            self.opened += 1;
        }
        let upstream = &self.upstream;
        let answer = match self.connection.as_mut() {
            Some(Connection::Tls(stream)) => dot_exchange(stream, query).await,
            Some(Connection::H2(sender)) => {
                let request = doh_request(upstream, query, true)?;
                sender
                    .ready()
                    .await
                    .map_err(|e| ClientError::Io(e.to_string()))?;
                doh_response(sender.send_request(request).await).await
            }
            Some(Connection::H1(sender)) => {
                let request = doh_request(upstream, query, false)?;
                sender
                    .ready()
                    .await
                    .map_err(|e| ClientError::Io(e.to_string()))?;
                doh_response(sender.send_request(request).await).await
            }
            Some(Connection::Quic { conn, .. }) => doq_exchange(conn, query).await,
            None => Err(ClientError::Io("not connected".to_owned())),
        };
        if answer.is_err() {
            self.connection = None;
        }
        answer
    }

    async fn connect(&self) -> Result<Connection, ClientError> {
        match &self.crypto {
            Crypto::Tcp(config) => {
                let tcp = TcpStream::connect(self.upstream.addr)
                    .await
                    .map_err(io("cannot connect"))?;
                let _ = tcp.set_nodelay(true);
                let stream = TlsConnector::from(Arc::clone(config))
                    .connect(self.name.clone(), tcp)
                    .await
                    .map_err(io("TLS handshake failed"))?;
                if self.upstream.protocol == Protocol::Tls {
                    return Ok(Connection::Tls(Box::new(stream)));
                }
                let h2 = stream.get_ref().1.alpn_protocol() == Some(ALPN_H2);
                let io = TokioIo::new(stream);
                if h2 {
                    let (sender, conn) = http2::handshake(TokioExecutor::new(), io)
                        .await
                        .map_err(|e| ClientError::Io(format!("HTTP/2 handshake: {e}")))?;
                    tokio::spawn(conn);
                    Ok(Connection::H2(sender))
                } else {
                    let (sender, conn) = http1::handshake(io)
                        .await
                        .map_err(|e| ClientError::Io(format!("HTTP/1.1 handshake: {e}")))?;
                    tokio::spawn(conn);
                    Ok(Connection::H1(sender))
                }
            }
            Crypto::Quic(config) => {
                let local: SocketAddr = if self.upstream.addr.is_ipv4() {
                    SocketAddr::from(([0, 0, 0, 0], 0))
                } else {
                    SocketAddr::from(([0u16; 8], 0))
                };
                let mut endpoint =
                    quinn::Endpoint::client(local).map_err(io("cannot open a UDP socket"))?;
                endpoint.set_default_client_config(quinn::ClientConfig::new(
                    Arc::clone(config) as Arc<dyn quinn::crypto::ClientConfig>
                ));
                let conn = endpoint
                    .connect(self.upstream.addr, &self.upstream.server_name)
                    .map_err(|e| ClientError::Io(format!("cannot connect: {e}")))?
                    .await
                    .map_err(|e| ClientError::Io(format!("QUIC handshake failed: {e}")))?;
                Ok(Connection::Quic {
                    _endpoint: endpoint,
                    conn,
                })
            }
        }
    }
}

/// One query and answer over DoT (2-byte length framing, RFC 7858 §3.3).
async fn dot_exchange(
    stream: &mut TlsStream<TcpStream>,
    query: &[u8],
) -> Result<Vec<u8>, ClientError> {
    let len = u16::try_from(query.len()).map_err(|_| ClientError::BadAnswer("query too long"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    stream.write_all(&framed).await.map_err(io("write"))?;
    stream.flush().await.map_err(io("write"))?;
    let mut prefix = [0u8; 2];
    stream.read_exact(&mut prefix).await.map_err(io("read"))?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    stream.read_exact(&mut answer).await.map_err(io("read"))?;
    Ok(answer)
}

/// The POST request of RFC 8484 §4.1 carrying `query` with ID 0.
fn doh_request(
    upstream: &Upstream,
    query: &[u8],
    absolute: bool,
) -> Result<Request<Full<Bytes>>, ClientError> {
    let Protocol::Https { path } = &upstream.protocol else {
        return Err(ClientError::Io("not a DoH upstream".to_owned()));
    };
    let authority = if upstream.server_name.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{}]:{}", upstream.server_name, upstream.addr.port())
    } else {
        format!("{}:{}", upstream.server_name, upstream.addr.port())
    };
    let uri: Uri = if absolute {
        format!("https://{authority}{path}").parse()
    } else {
        path.parse()
    }
    .map_err(|_| ClientError::Io(format!("bad DoH path `{path}`")))?;
    let mut body = query.to_vec();
    if let Some(id) = body.get_mut(..2) {
        id.copy_from_slice(&[0, 0]);
    }
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(HOST, authority)
        .header(CONTENT_TYPE, DNS_MESSAGE)
        .header(ACCEPT, DNS_MESSAGE)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ClientError::Io(format!("cannot build the request: {e}")))
}

async fn doh_response(
    response: Result<hyper::Response<hyper::body::Incoming>, hyper::Error>,
) -> Result<Vec<u8>, ClientError> {
    let response = response.map_err(|e| ClientError::Io(format!("HTTP: {e}")))?;
    if response.status() != StatusCode::OK {
        return Err(ClientError::Http(response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_MESSAGE)
        .collect()
        .await
        .map_err(|e| ClientError::Io(format!("HTTP body: {e}")))?;
    Ok(body.to_bytes().to_vec())
}

/// One query and answer over DoQ: a new stream, the framed query with ID 0, FIN, then the
/// framed answer up to the server's FIN (RFC 9250 §4.2).
async fn doq_exchange(conn: &quinn::Connection, query: &[u8]) -> Result<Vec<u8>, ClientError> {
    let len = u16::try_from(query.len()).map_err(|_| ClientError::BadAnswer("query too long"))?;
    let mut framed = len.to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    if let Some(id) = framed.get_mut(2..4) {
        id.copy_from_slice(&[0, 0]);
    }
    let (mut send, mut recv) = conn
        .open_bi()
        .await
        .map_err(|e| ClientError::Io(format!("cannot open a stream: {e}")))?;
    send.write_all(&framed)
        .await
        .map_err(|e| ClientError::Io(format!("write: {e}")))?;
    send.finish()
        .map_err(|e| ClientError::Io(format!("finish: {e}")))?;
    let bytes = recv
        .read_to_end(2 + MAX_MESSAGE)
        .await
        .map_err(|e| ClientError::Io(format!("read: {e}")))?;
    match bytes.as_slice() {
        [hi, lo, message @ ..] if usize::from(u16::from_be_bytes([*hi, *lo])) == message.len() => {
            Ok(message.to_vec())
        }
        _ => Err(ClientError::BadAnswer(
            "DoQ stream is not one framed message",
        )),
    }
}

/// Several upstreams for one purpose (a forwarder's), each with its own reused connection:
/// the upstream that answered last is asked first, and when it fails (refused, handshake,
/// timeout, HTTP error) the others are tried in order.
pub struct Pool {
    clients: Vec<Client>,
    preferred: usize,
}

impl Pool {
    /// A pool over `upstreams`, in order of preference; at least one.
    pub fn new(upstreams: Vec<Upstream>) -> Result<Pool, ClientError> {
        if upstreams.is_empty() {
            return Err(ClientError::Io(
                "a pool needs at least one upstream".to_owned(),
            ));
        }
        let clients = upstreams
            .into_iter()
            .map(Client::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Pool {
            clients,
            preferred: 0,
        })
    }

    /// The clients, in the order given.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// Sends `query` to the preferred upstream, falling back to the others; returns the
    /// index of the upstream that answered and the answer, or the last error.
    pub async fn query(&mut self, query: &[u8]) -> Result<(usize, Vec<u8>), ClientError> {
        let n = self.clients.len();
        let mut last = ClientError::Io("no upstream".to_owned());
        for k in 0..n {
            let i = (self.preferred + k) % n;
            let Some(client) = self.clients.get_mut(i) else {
                continue;
            };
            match client.query(query).await {
                Ok(answer) => {
                    self.preferred = i;
                    return Ok((i, answer));
                }
                Err(e) => {
                    tracing::debug!(upstream = %client.upstream.addr, error = %e, "upstream failed");
                    last = e;
                }
            }
        }
        Err(last)
    }
}
