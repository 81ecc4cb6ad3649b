//! The network side of resolution: sending one query to one upstream server and getting
//! its reply, over UDP or TCP, and the driver that runs an [`Iteration`] over it.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lib_dns::{Name, Rtype};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use zdns_resolver::{Answer, Iteration, Resolver, Step, Transmit, Transport};

/// A reply, or why there is none.
pub type Exchange = Pin<Box<dyn Future<Output = io::Result<Vec<u8>>> + Send>>;

/// Sends a query upstream and returns the reply. The timeout is the caller's.
pub trait Upstream: Send + Sync + 'static {
    /// One query/reply exchange.
    fn exchange(&self, transmit: Transmit) -> Exchange;
}

/// The real network: a fresh socket per UDP query (a random source port, RFC 5452 §9.2),
/// connected to the server so only its datagrams are read; TCP with the RFC 1035 §4.2.2
/// length prefix.
#[derive(Debug, Default)]
pub struct Network;

impl Upstream for Network {
    fn exchange(&self, t: Transmit) -> Exchange {
        Box::pin(async move {
            match t.transport {
                Transport::Udp => udp(t.server, &t.message).await,
                Transport::Tcp => tcp(t.server, &t.message).await,
            }
        })
    }
}

/// The reply's id must be the query's: a datagram with another id is read past (it may
/// be a late reply or a spoofing attempt), until the caller's timeout.
async fn udp(server: SocketAddr, query: &[u8]) -> io::Result<Vec<u8>> {
    let local: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket = UdpSocket::bind(local).await?;
    socket.connect(server).await?;
    socket.send(query).await?;
    // Read into spare capacity: no 64 KiB memset per query, and the reply is returned
    // without a copy.
    let mut reply = Vec::with_capacity(usize::from(u16::MAX));
    loop {
        reply.clear();
        socket.recv_buf(&mut reply).await?;
        if reply.get(..2) == query.get(..2) {
            return Ok(reply);
        }
    }
}

async fn tcp(server: SocketAddr, query: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(server).await?;
    let len = u16::try_from(query.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await?;
    let len = stream.read_u16().await?;
    let mut reply = vec![0u8; usize::from(len)];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

/// Seconds since the Unix epoch, the resolver's notion of time.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Runs a resolution of (`qname`, `qtype`) to the end over `upstream`, calling `sent`
/// for every query sent. With `refresh`, the cache is not consulted first (prefetch,
/// forced refresh).
pub async fn drive(
    resolver: &Resolver,
    upstream: &dyn Upstream,
    qname: Name,
    qtype: Rtype,
    refresh: bool,
    sent: impl Fn(),
) -> Answer {
    let mut resolution: Iteration = resolver.resolve(qname, qtype);
    let mut step = if refresh {
        resolution.start_fresh(resolver, now())
    } else {
        resolution.start(resolver, now())
    };
    loop {
        step = match step {
            Step::Done(answer) => return answer,
            // The transport already read past replies with the wrong id; one with the
            // wrong question is as good as no reply.
            Step::Wait => resolution.on_timeout(resolver, now()),
            Step::Send(t) => {
                sent();
                let wait = t.timeout;
                let started = Instant::now();
                match tokio::time::timeout(wait, upstream.exchange(t)).await {
                    Ok(Ok(reply)) => {
                        resolution.on_reply(resolver, &reply, started.elapsed(), now())
                    }
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "upstream exchange failed");
                        // A failure (refused connection, unreachable) counts as a timeout.
                        resolution.on_timeout(resolver, now())
                    }
                    Err(_) => resolution.on_timeout(resolver, now()),
                }
            }
        };
    }
}
