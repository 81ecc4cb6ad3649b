//! The DoH and DoQ server loops against this crate's client and against raw hostile
//! peers, in one process on loopback.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use lib_dns::message::{Edns, EdnsOption};
use lib_dns::rdata::A;
use lib_dns::{Message, Name, Opcode, Record, Rtype};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use zdns_auth::QueryContext;
use zdns_transport::Answer;
use zdns_transport::client::{Client, ClientError, Protocol, Upstream};
use zdns_transport::doh::{DohLimits, DohService};
use zdns_transport::doq::{self, DoqLimits, DoqListener};
use zdns_transport::stats::ListenerStats;
use zdns_transport::tls::{self, Identity, MinVersion, ServerTls, Verify};

/// Answers every query with one A record, TTL 300.
fn answer(query: &[u8], _ctx: &QueryContext) -> Option<Vec<u8>> {
    let q = Message::parse(query).ok()?;
    let mut r = Message::response_to(&q);
    let name = q.questions.first()?.qname.clone();
    r.answers.push(Record::new(
        name,
        300,
        A(std::net::Ipv4Addr::new(192, 0, 2, 1)),
    ));
    r.edns = q.edns.as_ref().map(|_| Edns::default());
    r.to_wire(65535).ok()
}

struct Servers {
    _dir: tempfile::TempDir,
    pin: String,
    doh: SocketAddr,
    doq: SocketAddr,
    doh_stats: Arc<ListenerStats>,
    doq_stats: Arc<ListenerStats>,
}

async fn start(limits_ms: u64) -> Servers {
    start_with(limits_ms, Arc::new(answer)).await
}

/// DoH and DoQ listeners answering with `respond`.
async fn start_with(limits_ms: u64, respond: Arc<dyn zdns_transport::Respond>) -> Servers {
    let dir = tempfile::tempdir().unwrap();
    let files = tls::ensure_self_signed(dir.path(), &["127.0.0.1"]).unwrap();
    let id = Identity::from_pem_files(&files.cert, &files.key).unwrap();
    let pin = id.pin().unwrap();
    let server_tls = Arc::new(ServerTls::new(&id, MinVersion::Tls13).unwrap());
    let limit = Duration::from_millis(limits_ms);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let doh = listener.local_addr().unwrap();
    let doh_stats = Arc::new(ListenerStats::default());
    tokio::spawn(zdns_transport::doh::serve(
        listener,
        Arc::new(DohService {
            tls: Arc::clone(&server_tls),
            respond: Arc::clone(&respond),
            path: "/dns-query".to_owned(),
            limits: DohLimits {
                max_connections: 4,
                idle_timeout: limit,
                handshake_timeout: limit,
                max_streams: 16,
                workers: 2,
            },
            stats: Arc::clone(&doh_stats),
        }),
    ));
    let doq_limits = DoqLimits {
        max_connections: 4,
        idle_timeout: limit,
        handshake_timeout: limit,
        max_streams: 16,
        // Shorter than the idle timeout, so a stalled stream is cancelled before the
        // silent connection is closed.
        stream_timeout: limit / 2,
    };
    let listener =
        DoqListener::bind("127.0.0.1:0".parse().unwrap(), server_tls.doq(), doq_limits).unwrap();
    let doq = listener.local_addr().unwrap();
    let doq_stats = Arc::new(ListenerStats::default());
    tokio::spawn(listener.serve(respond, Arc::clone(&doq_stats)));
    Servers {
        _dir: dir,
        pin,
        doh,
        doq,
        doh_stats,
        doq_stats,
    }
}

fn upstream(addr: SocketAddr, protocol: Protocol, verify: Verify) -> Upstream {
    Upstream {
        addr,
        server_name: "127.0.0.1".to_owned(),
        protocol,
        verify,
        timeout: Duration::from_secs(5),
    }
}

fn query(id: u16, name: &str, padded: bool) -> Vec<u8> {
    let mut q = Message::query(id, Name::parse(name).unwrap(), Rtype::A);
    let mut edns = Edns::default();
    if padded {
        edns.options.push(EdnsOption::padding(0));
    }
    q.edns = Some(edns);
    q.to_wire(65535).unwrap()
}

#[tokio::test]
async fn doh_and_doq_answer_over_one_connection_each_and_pad_on_request() {
    let s = start(5000).await;
    let https = Protocol::Https {
        path: "/dns-query".to_owned(),
    };
    for (addr, protocol) in [(s.doh, https), (s.doq, Protocol::Quic)] {
        let mut client = Client::new(upstream(
            addr,
            protocol.clone(),
            Verify::pin(&s.pin).unwrap(),
        ))
        .unwrap();
        for (i, name) in ["a.example.", "b.example.", "c.example."]
            .iter()
            .enumerate()
        {
            let id = 1000 + u16::try_from(i).unwrap();
            let answer = client.query(&query(id, name, i == 2)).await.unwrap();
            let m = Message::parse(&answer).unwrap();
            assert_eq!(m.id, id, "{protocol:?}: the caller's ID comes back");
            assert_eq!(m.answers.len(), 1);
            assert_eq!(m.questions[0].qname, Name::parse(name).unwrap());
            if i == 2 {
                assert_eq!(answer.len() % 468, 0, "{protocol:?}: padded to the block");
            } else {
                assert!(answer.len() < 468);
            }
        }
        assert_eq!(
            client.connections_opened(),
            1,
            "{protocol:?} reuses its connection"
        );
    }
    assert_eq!(s.doh_stats.accepted.load(Ordering::Relaxed), 1);
    assert_eq!(s.doq_stats.accepted.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_wrong_pin_or_an_unknown_ca_is_refused() {
    let s = start(5000).await;
    let wrong = Verify::Pin(vec![[7u8; 32]]);
    for (addr, protocol) in [
        (
            s.doh,
            Protocol::Https {
                path: "/dns-query".to_owned(),
            },
        ),
        (s.doq, Protocol::Quic),
    ] {
        let mut client = Client::new(upstream(addr, protocol, wrong.clone())).unwrap();
        let err = client
            .query(&query(1, "a.example.", false))
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Io(_)), "{err}");
    }
    let other = tempfile::tempdir().unwrap();
    let files = tls::ensure_self_signed(other.path(), &["127.0.0.1"]).unwrap();
    let ca = Verify::ca_file(&files.cert).unwrap();
    let mut client = Client::new(upstream(s.doq, Protocol::Quic, ca)).unwrap();
    assert!(client.query(&query(1, "a.example.", false)).await.is_err());
    // Opportunistic (RFC 8310 §5): encrypted, not authenticated, works.
    let mut client = Client::new(upstream(s.doq, Protocol::Quic, Verify::Opportunistic)).unwrap();
    assert!(client.query(&query(1, "a.example.", false)).await.is_ok());
}

#[tokio::test]
async fn doh_rejects_bad_requests_with_http_errors() {
    let s = start(5000).await;
    let config = tls::client_config(
        &Verify::Pin(vec![tls::parse_pin(&s.pin).unwrap()]),
        &[b"http/1.1"],
    )
    .unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let requests: [(&str, &str); 5] = [
        ("GET /dns-query?dns=%%% HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
        ("GET /dns-query HTTP/1.1\r\nHost: x\r\n\r\n", "400"),
        (
            "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n012345678901",
            "415",
        ),
        (
            "POST /dns-query HTTP/1.1\r\nHost: x\r\nContent-Type: application/dns-message\r\nContent-Length: 70000\r\n\r\n",
            "413",
        ),
        (
            "GET /other?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB HTTP/1.1\r\nHost: x\r\n\r\n",
            "404",
        ),
    ];
    for (request, status) in requests {
        let tcp = TcpStream::connect(s.doh).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut stream = connector.connect(name, tcp).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        if status == "413" {
            stream.write_all(&vec![0u8; 70000]).await.ok();
        }
        let mut buf = vec![0u8; 512];
        let n = stream.read(&mut buf).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..n]);
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{request}: {head}"
        );
    }
    // GET with the RFC 8484 §6 example works and carries max-age = the answer's TTL.
    let tcp = TcpStream::connect(s.doh).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    stream
        .write_all(b"GET /dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("cache-control: max-age=300"), "{head}");
    assert!(
        head.contains("content-type: application/dns-message"),
        "{head}"
    );
}

/// Waits up to `within` for a server counter to satisfy `holds`: the server bumps its
/// counters after it closes a socket, so a client can see the close first.
async fn eventually(within: Duration, holds: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while !holds() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test]
async fn half_open_tls_and_idle_connections_are_closed_and_the_limit_holds() {
    let s = start(300).await;
    // Four connections that never start TLS take every place; a fifth is refused.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(s.doh).await.unwrap());
    }
    let mut fifth = TcpStream::connect(s.doh).await.unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(2), fifth.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0),
        0
    );
    // The half-open ones are closed after the handshake timeout.
    for mut c in idle {
        let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut buf))
            .await
            .expect("closed by the server")
            .unwrap_or(0);
        assert_eq!(n, 0);
    }
    let stats = &s.doh_stats;
    assert!(
        eventually(Duration::from_secs(2), || stats
            .handshake_failures
            .load(Ordering::Relaxed)
            >= 4)
        .await
    );
    assert!(stats.refused.load(Ordering::Relaxed) >= 1);
    // A connection that finished TLS and then goes silent is closed too.
    let mut client = Client::new(upstream(
        s.doh,
        Protocol::Https {
            path: "/dns-query".to_owned(),
        },
        Verify::Opportunistic,
    ))
    .unwrap();
    client.query(&query(1, "a.example.", false)).await.unwrap();
    assert!(
        eventually(Duration::from_secs(3), || stats
            .open
            .load(Ordering::Relaxed)
            == 0)
        .await,
        "the idle DoH connection was not closed"
    );
}

/// A raw quinn client connection to the DoQ server.
async fn raw_doq(addr: SocketAddr) -> (quinn::Endpoint, quinn::Connection) {
    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(
        tls::quic_client_crypto(&Verify::Opportunistic).unwrap(),
    ));
    let conn = endpoint.connect(addr, "127.0.0.1").unwrap().await.unwrap();
    (endpoint, conn)
}

#[tokio::test]
async fn doq_protocol_errors_close_the_connection_and_unfinished_streams_are_cancelled() {
    let s = start(400).await;
    // A nonzero message ID: DOQ_PROTOCOL_ERROR on the connection.
    let (_e, conn) = raw_doq(s.doq).await;
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let q = query(77, "a.example.", false);
    let mut framed = u16::try_from(q.len()).unwrap().to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    send.write_all(&framed).await.unwrap();
    send.finish().unwrap();
    let _ = recv.read_to_end(70000).await;
    match conn.closed().await {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(
                close.error_code,
                quinn::VarInt::from_u32(doq::DOQ_PROTOCOL_ERROR)
            );
        }
        other => panic!("expected DOQ_PROTOCOL_ERROR, got {other}"),
    }
    // An oversized length prefix (more bytes promised than sent): protocol error too.
    let (_e, conn) = raw_doq(s.doq).await;
    let (mut send, _recv) = conn.open_bi().await.unwrap();
    send.write_all(&[0xff, 0xff, 0, 0, 1, 0]).await.unwrap();
    send.finish().unwrap();
    assert!(matches!(
        conn.closed().await,
        quinn::ConnectionError::ApplicationClosed(c) if c.error_code == quinn::VarInt::from_u32(doq::DOQ_PROTOCOL_ERROR)
    ));
    // A stream opened and never finished is cancelled with DOQ_REQUEST_CANCELLED, and
    // the connection still answers other streams.
    let (_e, conn) = raw_doq(s.doq).await;
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&framed[..5]).await.unwrap();
    let err = recv.read_to_end(70000).await.unwrap_err();
    assert!(
        matches!(err, quinn::ReadToEndError::Read(quinn::ReadError::Reset(code)) if code == quinn::VarInt::from_u32(doq::DOQ_REQUEST_CANCELLED)),
        "{err}"
    );
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let q = query(0, "b.example.", false);
    let mut ok = u16::try_from(q.len()).unwrap().to_be_bytes().to_vec();
    ok.extend_from_slice(&q);
    send.write_all(&ok).await.unwrap();
    send.finish().unwrap();
    let bytes = recv.read_to_end(70000).await.unwrap();
    assert!(Message::parse(&bytes[2..]).is_ok());
    // Idle connections are closed by the QUIC idle timeout; the count comes back to 0.
    drop(conn);
    assert!(
        eventually(Duration::from_secs(3), || s
            .doq_stats
            .open
            .load(Ordering::Relaxed)
            == 0)
        .await,
        "the idle DoQ connection was not closed"
    );
}

#[tokio::test]
async fn doh_json_form_answers_get_with_name_and_type() {
    let s = start(5000).await;
    let config = tls::client_config(&Verify::Opportunistic, &[b"http/1.1"]).unwrap();
    let connector = tokio_rustls::TlsConnector::from(config);
    let tcp = TcpStream::connect(s.doh).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut stream = connector.connect(name, tcp).await.unwrap();
    stream
        .write_all(b"GET /dns-query?name=www.example&type=A HTTP/1.1\r\nHost: x\r\nAccept: application/dns-json\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/dns-json"),
        "{text}"
    );
    assert!(
        text.contains(
            "\"Answer\":[{\"name\":\"www.example.\",\"type\":1,\"TTL\":300,\"data\":\"192.0.2.1\"}]"
        ),
        "{text}"
    );
}

/// Answers queries like [`answer`]; defers transfers (two messages, as zone control
/// streams them) and UPDATEs (one message), as the node does.
struct Deferring;

impl zdns_transport::Respond for Deferring {
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Answer {
        let Some(one) = answer(query, ctx) else {
            return Answer::Drop;
        };
        let messages = match Message::parse(query) {
            Ok(m) if m.opcode == Opcode::UPDATE => vec![one],
            Ok(m) if m.questions.first().is_some_and(|q| q.qtype == Rtype::AXFR) => {
                vec![one.clone(), one]
            }
            _ => return Answer::Reply(one),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            for m in messages {
                if tx.send(m).await.is_err() {
                    return;
                }
            }
        });
        Answer::Deferred(rx)
    }
}

fn update() -> Vec<u8> {
    let mut q = Message::query(0, Name::parse("example.").unwrap(), Rtype::SOA);
    q.opcode = Opcode::UPDATE;
    q.to_wire(512).unwrap()
}

#[tokio::test]
async fn doh_serves_deferred_answers_of_one_message_and_refuses_longer_transfers() {
    let s = start_with(5000, Arc::new(Deferring)).await;
    let https = Protocol::Https {
        path: "/dns-query".to_owned(),
    };
    let mut client = Client::new(upstream(s.doh, https, Verify::pin(&s.pin).unwrap())).unwrap();
    let updated = Message::parse(&client.query(&update()).await.unwrap()).unwrap();
    assert_eq!(updated.opcode, Opcode::UPDATE);
    assert_eq!(updated.rcode, lib_dns::Rcode::NOERROR);
    assert_eq!(updated.answers.len(), 1, "the deferred message itself");
    let transfer = Message::parse(&client.query(&axfr()).await.unwrap()).unwrap();
    assert_eq!(transfer.rcode, lib_dns::Rcode::REFUSED);
    let ede = transfer.edns.as_ref().unwrap().options.iter().any(|o| {
        matches!(o, EdnsOption::ExtendedError(e) if e.info_code == zdns_transport::doh::EDE_NOT_SUPPORTED)
    });
    assert!(ede, "REFUSED with Extended DNS Error 21 (Not Supported)");
    // The connection is still good for queries.
    let plain =
        Message::parse(&client.query(&query(7, "a.example.", false)).await.unwrap()).unwrap();
    assert_eq!(plain.answers.len(), 1);
    assert_eq!(client.connections_opened(), 1);
}

/// A UDP relay from a client to `server` that holds back the client's datagrams after
/// the first, except 0-RTT ones, for `delay`: the handshake then completes only that
/// late, and whatever the client sent in 0-RTT reaches the server well before.
async fn handshake_delaying_relay(server: SocketAddr, delay: Duration) -> SocketAddr {
    let front = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let back = Arc::new(tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    back.connect(server).await.unwrap();
    let addr = front.local_addr().unwrap();
    let client = Arc::new(tokio::sync::Mutex::new(None::<SocketAddr>));
    let (f, b, c) = (Arc::clone(&front), Arc::clone(&back), Arc::clone(&client));
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        let mut first = true;
        while let Ok((n, from)) = f.recv_from(&mut buf).await {
            *c.lock().await = Some(from);
            let datagram = buf[..n].to_vec();
            // Long header, type 0-RTT (RFC 9000 §17.2.3): 0b1101_xxxx.
            let early = datagram[0] & 0xf0 == 0xd0;
            let b = Arc::clone(&b);
            if first || early {
                let _ = b.send(&datagram).await;
            } else {
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = b.send(&datagram).await;
                });
            }
            first = false;
        }
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = back.recv(&mut buf).await {
            if let Some(to) = *client.lock().await {
                let _ = front.send_to(&buf[..n], to).await;
            }
        }
    });
    addr
}

async fn doq_exchange(conn: &quinn::Connection, query: &[u8]) -> Vec<Message> {
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let mut framed = u16::try_from(query.len()).unwrap().to_be_bytes().to_vec();
    framed.extend_from_slice(query);
    send.write_all(&framed).await.unwrap();
    send.finish().unwrap();
    let bytes = recv.read_to_end(1 << 20).await.unwrap();
    let mut messages = Vec::new();
    let mut rest = &bytes[..];
    while let [hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        messages.push(Message::parse(&tail[..len]).unwrap());
        rest = &tail[len..];
    }
    messages
}

fn axfr() -> Vec<u8> {
    let mut q = Message::query(0, Name::parse("example.").unwrap(), Rtype::AXFR);
    q.edns = Some(Edns::default());
    q.to_wire(512).unwrap()
}

#[tokio::test]
async fn doq_0rtt_answers_queries_at_once_and_transfers_and_updates_after_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let files = tls::ensure_self_signed(dir.path(), &["127.0.0.1"]).unwrap();
    let id = Identity::from_pem_files(&files.cert, &files.key).unwrap();
    let server_tls = ServerTls::new(&id, MinVersion::Tls13).unwrap();
    let limits = DoqLimits {
        max_connections: 8,
        idle_timeout: Duration::from_secs(5),
        handshake_timeout: Duration::from_secs(5),
        max_streams: 16,
        stream_timeout: Duration::from_secs(5),
    };
    let listener =
        DoqListener::bind("127.0.0.1:0".parse().unwrap(), server_tls.doq(), limits).unwrap();
    let server = listener.local_addr().unwrap();
    tokio::spawn(listener.serve(Arc::new(Deferring), Arc::new(ListenerStats::default())));

    let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    endpoint.set_default_client_config(quinn::ClientConfig::new(
        tls::quic_client_crypto(&Verify::Opportunistic).unwrap(),
    ));
    // A first connection gets a session ticket; after the handshake, AXFR is served as
    // the answerer streams it (two messages).
    let conn = endpoint
        .connect(server, "127.0.0.1")
        .unwrap()
        .await
        .unwrap();
    let transfer = doq_exchange(&conn, &axfr()).await;
    assert_eq!(transfer.len(), 2);
    assert!(transfer.iter().all(|m| m.rcode == lib_dns::Rcode::NOERROR));
    conn.close(quinn::VarInt::from_u32(doq::DOQ_NO_ERROR), b"");

    // The second resumes with 0-RTT through a relay that holds the handshake back.
    let delay = Duration::from_millis(500);
    let relay = handshake_delaying_relay(server, delay).await;
    let started = std::time::Instant::now();
    let connecting = endpoint.connect(relay, "127.0.0.1").unwrap();
    let Ok((conn, accepted)) = connecting.into_0rtt() else {
        panic!("no 0-RTT: the first connection left no resumable session");
    };
    let (query, transfer, change) = (query(0, "a.example.", false), axfr(), update());
    let timed = |exchange| async move {
        let messages = exchange.await;
        (messages, started.elapsed())
    };
    let ((plain, _), (transferred, transfer_took), (updated, update_took)) = tokio::join!(
        timed(doq_exchange(&conn, &query)),
        timed(doq_exchange(&conn, &transfer)),
        timed(doq_exchange(&conn, &change))
    );
    assert!(accepted.await, "the server accepted 0-RTT");
    assert_eq!(plain.len(), 1);
    assert_eq!(plain[0].rcode, lib_dns::Rcode::NOERROR);
    assert_eq!(plain[0].answers.len(), 1, "a query in 0-RTT is answered");
    // RFC 9250 §4.5: the transfer and the update (not replayable) sent in 0-RTT are
    // acted on only once the server has the client's Finished, which the relay holds
    // back for `delay`.
    assert_eq!(transferred.len(), 2);
    assert!(
        transfer_took >= delay,
        "transfer answered after {transfer_took:?}"
    );
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].rcode, lib_dns::Rcode::NOERROR);
    assert_eq!(updated[0].opcode, Opcode::UPDATE);
    assert!(
        update_took >= delay,
        "update answered after {update_took:?}"
    );
}

#[tokio::test]
async fn a_pool_falls_back_to_a_working_upstream_and_then_prefers_it() {
    let s = start(5000).await;
    // Nothing listens here any more: connections are refused.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut pool = zdns_transport::client::Pool::new(vec![
        upstream(dead, Protocol::Tls, Verify::Opportunistic),
        upstream(s.doq, Protocol::Quic, Verify::pin(&s.pin).unwrap()),
    ])
    .unwrap();
    for id in [1u16, 2, 3] {
        let (used, answer) = pool.query(&query(id, "a.example.", false)).await.unwrap();
        assert_eq!(used, 1);
        assert_eq!(Message::parse(&answer).unwrap().id, id);
    }
    assert_eq!(pool.clients()[1].connections_opened(), 1);
    assert!(zdns_transport::client::Pool::new(Vec::new()).is_err());
    // Every upstream failing gives the last error (QUIC to nothing: the timeout).
    let mut quic_to_nothing = upstream(dead, Protocol::Quic, Verify::Opportunistic);
    quic_to_nothing.timeout = Duration::from_millis(300);
    let mut broken = zdns_transport::client::Pool::new(vec![quic_to_nothing]).unwrap();
    assert!(broken.query(&query(1, "a.example.", false)).await.is_err());
}

/// RFC 9250 §5.5 and RFC 9000 §9: a client whose address changes mid-connection (a NAT
/// rebinding, a new network) keeps its DoQ connection; the server validates the new path
/// and answers there.
#[tokio::test]
async fn doq_connection_survives_the_clients_address_change() {
    let s = start(2000).await;
    let (endpoint, conn) = raw_doq(s.doq).await;
    let before = endpoint.local_addr().unwrap();
    let first = doq_exchange(&conn, &query(0, "a.example.", false)).await;
    assert_eq!(first.len(), 1);
    endpoint
        .rebind(std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .unwrap();
    let after = endpoint.local_addr().unwrap();
    assert_ne!(before.port(), after.port());
    let second = doq_exchange(&conn, &query(0, "b.example.", false)).await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].rcode, lib_dns::Rcode::NOERROR);
    assert!(conn.close_reason().is_none(), "the connection was closed");
    assert_eq!(
        s.doq_stats.open.load(Ordering::Relaxed),
        1,
        "one connection throughout"
    );
}
