//! DNS over UDP: one socket per worker thread, all bound to the same address with
//! SO_REUSEPORT so the kernel spreads queries over them; each worker receives a batch
//! with `recvmmsg`, answers it, and sends the answers with one `sendmmsg`.
//!
//! The batched calls come from `nix`, whose safe wrappers over `recvmmsg`/`sendmmsg`
//! preallocate their headers once (`MultiHeaders`), so a worker allocates nothing per
//! packet: receive buffers, answer buffers and headers are reused for the thread's life.
//! (`quinn-udp` batches receives too but sends one destination per call, which is what
//! QUIC needs and DNS does not.)
//!
//! What the answering core defers (NOTIFY, UPDATE, IXFR, TSIG-signed queries) leaves
//! the worker through a bounded queue to zone control on the async runtime, which
//! answers from the same address; when the queue is full the message is dropped and
//! the client retries, so a flood of them never stalls the workers.

use std::io::{IoSlice, IoSliceMut};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use zdns_auth::{Outcome, QueryContext, Transport};

use super::SharedAnswerer;
use super::metrics::{Counters, Metrics};
use super::zonectl::{Reply, ZoneControl};

/// Datagrams received (and answers sent) per system call at most.
const BATCH: usize = 32;
/// Receive buffer per datagram. Longer datagrams are not DNS queries we answer
/// (RFC 6891 §6.2.5: the sender's own payload size bounds what we may send, not this).
const RECV_BUF: usize = 4096;
/// Room reserved in each answer buffer, so the usual answer never reallocates.
const ANSWER_BUF: usize = 4096;

/// Socket receive buffer asked for (the kernel caps it at `net.core.rmem_max`), so bursts
/// wait in the kernel instead of being dropped while a worker answers a batch.
const SOCKET_RECV_BUFFER: usize = 4 << 20;

/// Deferred messages waiting for zone control, at most.
const DEFERRED_QUEUE: usize = 1024;

/// A message the answering core deferred, with the socket to answer from.
pub struct Deferred {
    query: Vec<u8>,
    ctx: QueryContext,
    socket: Arc<UdpSocket>,
}

/// Starts the task that hands deferred messages to zone control and sends its
/// answers; returns the queue's sending side for the workers.
pub fn deferred_queue(control: Arc<ZoneControl>, metrics: Arc<Metrics>) -> mpsc::Sender<Deferred> {
    let (tx, mut rx) = mpsc::channel::<Deferred>(DEFERRED_QUEUE);
    tokio::spawn(async move {
        while let Some(d) = rx.recv().await {
            let control = Arc::clone(&control);
            let metrics = Arc::clone(&metrics);
            tokio::spawn(async move {
                let reply = match control.handle(d.query.clone(), d.ctx).await {
                    Reply::One(bytes) => bytes,
                    // Transfers over UDP come back as one message; nothing else streams.
                    Reply::Stream(mut messages) => messages.recv().await.unwrap_or_default(),
                    Reply::Nothing => Vec::new(),
                };
                let counters = metrics.udp_worker(0);
                if reply.is_empty() {
                    counters.record(&d.query, Outcome::Drop, &reply);
                    return;
                }
                counters.record(&d.query, Outcome::Reply, &reply);
                if let Err(e) = d.socket.send_to(&reply, d.ctx.client) {
                    tracing::debug!(client = %d.ctx.client, error = %e, "UDP send failed");
                }
            });
        }
    });
    tx
}

/// Binds `count` sockets to `addr` with SO_REUSEPORT.
pub fn bind(addr: SocketAddr, count: usize) -> std::io::Result<Vec<UdpSocket>> {
    (0..count)
        .map(|_| {
            let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
            socket.set_reuse_port(true)?;
            if let Err(e) = socket.set_recv_buffer_size(SOCKET_RECV_BUFFER) {
                tracing::debug!(error = %e, "cannot enlarge the UDP receive buffer");
            }
            if addr.is_ipv6() {
                socket.set_only_v6(true)?;
            }
            socket.bind(&addr.into())?;
            Ok(socket.into())
        })
        .collect()
}

/// Starts one worker thread per socket.
///
/// With `local_runtime`, each worker also runs a single-threaded tokio runtime of its
/// own and hands it, with its socket, to `local_runtime` on its thread: the recursor
/// resolves the worker's cache misses there and answers from that socket, so a miss
/// costs no hand-off to another thread (the worker then waits for its socket through
/// the runtime instead of in `recvmmsg`).
pub fn spawn(
    sockets: Vec<UdpSocket>,
    answerer: &SharedAnswerer,
    deferred: &mpsc::Sender<Deferred>,
    counters: impl Fn(usize) -> Arc<Counters>,
    first_worker: usize,
    local_runtime: Option<fn(Handle, Arc<UdpSocket>)>,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let worker = Worker {
                reply_socket: Arc::new(socket.try_clone()?),
                socket,
                answerer: Arc::clone(answerer),
                deferred: deferred.clone(),
                counters: counters(first_worker + i),
            };
            std::thread::Builder::new()
                .name(format!("udp-{}", first_worker + i))
                .spawn(move || match local_runtime {
                    None => worker.run(),
                    Some(install) => worker.run_with_runtime(install),
                })
        })
        .collect()
}

/// One UDP worker and what it owns.
struct Worker {
    socket: UdpSocket,
    /// The same socket, for zone control's answers to deferred messages.
    reply_socket: Arc<UdpSocket>,
    answerer: SharedAnswerer,
    deferred: mpsc::Sender<Deferred>,
    counters: Arc<Counters>,
}

/// The per-thread buffers, allocated once.
struct Buffers {
    recv: Box<[[u8; RECV_BUF]; BATCH]>,
    lens: [usize; BATCH],
    from: [Option<SockaddrStorage>; BATCH],
    answers: [Vec<u8>; BATCH],
    to: [Option<SockaddrStorage>; BATCH],
    recv_headers: MultiHeaders<SockaddrStorage>,
    send_headers: MultiHeaders<SockaddrStorage>,
}

impl Buffers {
    fn new() -> Buffers {
        Buffers {
            recv: vec![[0u8; RECV_BUF]; BATCH]
                .into_boxed_slice()
                .try_into()
                .unwrap_or_else(|_| Box::new([[0u8; RECV_BUF]; BATCH])),
            lens: [0; BATCH],
            from: [None; BATCH],
            answers: std::array::from_fn(|_| Vec::with_capacity(ANSWER_BUF)),
            to: [None; BATCH],
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            send_headers: MultiHeaders::preallocate(BATCH, None),
        }
    }
}

impl Worker {
    /// Blocks in `recvmmsg` for each batch: the authoritative fast path.
    fn run(self) {
        let fd = self.socket.as_raw_fd();
        let mut b = Buffers::new();
        loop {
            let received = match receive(fd, &mut b) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    tracing::error!(error = %e, "UDP receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let replies = self.answer(&mut b, received);
            send(fd, &mut b, replies);
        }
    }

    /// Waits for the socket through a single-threaded runtime of this thread, handed to
    /// `install` first with the socket, so tasks spawned on it while answering run here
    /// between batches.
    fn run_with_runtime(self, install: fn(Handle, Arc<UdpSocket>)) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                tracing::error!(error = %e, "cannot start a UDP worker's runtime; answering without it");
                return self.run();
            }
        };
        // Readiness comes from the runtime, so the socket must not block; sends to it
        // that find the buffer full drop the answer (the client retries).
        let watched = self.socket.try_clone().and_then(|socket| {
            socket.set_nonblocking(true)?;
            let _inside = runtime.enter();
            tokio::net::UdpSocket::from_std(socket)
        });
        match watched {
            Ok(watched) => {
                install(runtime.handle().clone(), Arc::clone(&self.reply_socket));
                runtime.block_on(self.serve_async(watched));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the UDP socket; answering without the runtime");
                if let Err(e) = self.socket.set_nonblocking(false) {
                    tracing::error!(error = %e, "UDP socket left non-blocking");
                }
                self.run();
            }
        }
    }

    /// The loop of [`Worker::run_with_runtime`]: a batch whenever the socket is readable.
    async fn serve_async(self, watched: tokio::net::UdpSocket) {
        let fd = watched.as_raw_fd();
        let runtime = Handle::current();
        let mut b = Buffers::new();
        loop {
            if let Err(e) = watched.readable().await {
                tracing::error!(error = %e, "UDP socket not pollable");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
            let received = watched.try_io(Interest::READABLE, || {
                receive(fd, &mut b).map_err(std::io::Error::from)
            });
            let received = match received {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::error!(error = %e, "UDP receive failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let replies = self.answer(&mut b, received);
            send(fd, &mut b, replies);
            // Let the resolutions spawned meanwhile (and their replies) run; with none
            // there is nothing to yield to, and a busy socket keeps the thread.
            if runtime.metrics().num_alive_tasks() > 0 {
                tokio::task::yield_now().await;
            }
        }
    }

    /// Answers the `received` datagrams; the answers go to the front of `b.answers`
    /// and `b.to`. Returns how many there are.
    fn answer(&self, b: &mut Buffers, received: usize) -> usize {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let answerer = self.answerer.load();
        let mut replies = 0;
        let queries = b.recv.iter().zip(b.lens.iter().zip(&b.from)).take(received);
        for (buf, (&len, from)) in queries {
            let (Some(query), Some(client)) = (buf.get(..len), from.as_ref().and_then(std_addr))
            else {
                continue;
            };
            let (Some(out), Some(to)) = (b.answers.get_mut(replies), b.to.get_mut(replies)) else {
                continue;
            };
            let ctx = QueryContext {
                client,
                transport: Transport::Udp,
                now,
            };
            let outcome = answerer.answer(query, &ctx, out);
            if outcome == Outcome::Defer {
                let d = Deferred {
                    query: query.to_vec(),
                    ctx,
                    socket: Arc::clone(&self.reply_socket),
                };
                if self.deferred.try_send(d).is_err() {
                    self.counters.record(query, Outcome::Drop, out);
                }
                continue;
            }
            self.counters.record(query, outcome, out);
            if outcome == Outcome::Reply && !out.is_empty() {
                *to = *from;
                replies += 1;
            }
        }
        replies
    }
}

/// Receives up to [`BATCH`] datagrams, at least one: a blocking socket waits for it, a
/// non-blocking one fails with `EAGAIN` instead. A datagram cut short by the buffer is
/// kept with length 0, so it is skipped.
fn receive(fd: RawFd, b: &mut Buffers) -> Result<usize, Errno> {
    let mut slices = b.recv.each_mut().map(|buf| [IoSliceMut::new(buf)]);
    let results = recvmmsg(
        fd,
        &mut b.recv_headers,
        slices.iter_mut(),
        MsgFlags::MSG_WAITFORONE,
        None,
    )?;
    let mut n = 0;
    for ((msg, len), from) in results.zip(b.lens.iter_mut()).zip(b.from.iter_mut()) {
        *len = if msg.flags.contains(MsgFlags::MSG_TRUNC) {
            0
        } else {
            msg.bytes
        };
        *from = msg.address;
        n += 1;
    }
    Ok(n)
}

/// Sends the first `count` answers with `sendmmsg`. An answer the kernel refuses is
/// skipped (the client will retry) and the rest of the batch is sent again.
fn send(fd: RawFd, b: &mut Buffers, count: usize) {
    let slices: [[IoSlice<'_>; 1]; BATCH] = std::array::from_fn(|i| {
        [IoSlice::new(
            b.answers.get(i).map_or(&[][..], Vec::as_slice),
        )]
    });
    let no_cmsgs: [ControlMessage<'_>; 0] = [];
    let mut sent = 0;
    while sent < count {
        let (Some(batch), Some(to)) = (slices.get(sent..count), b.to.get(sent..count)) else {
            return;
        };
        match sendmmsg(
            fd,
            &mut b.send_headers,
            batch,
            to,
            no_cmsgs,
            MsgFlags::empty(),
        ) {
            // On a blocking socket the kernel takes the whole batch unless a datagram
            // fails, and then reports that failure on the next call, so `Ok` is taken
            // as all sent. (The results are not iterated: nix's iterator reads address
            // slots that only `recvmmsg` initializes.)
            Ok(_) => sent = count,
            Err(Errno::EINTR) => {}
            Err(e) => {
                tracing::debug!(error = %e, "UDP send failed; answer skipped");
                sent += 1;
            }
        }
    }
}

/// The standard form of a received address.
fn std_addr(addr: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddr::from(*v4));
    }
    addr.as_sockaddr_in6().map(|v6| SocketAddr::from(*v6))
}
