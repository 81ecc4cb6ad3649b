//! A byte stream whose reads and writes fail with `TimedOut` once they have waited
//! longer than a bound: an idle or slow peer cannot hold a connection open.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Sleep, sleep};

/// `S` with a bound on how long one read or one write may stay pending.
pub(crate) struct TimedIo<S> {
    inner: S,
    limit: Duration,
    read_deadline: Option<Pin<Box<Sleep>>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl<S> TimedIo<S> {
    /// Wraps `inner`; a read or write pending for longer than `limit` fails.
    pub(crate) fn new(inner: S, limit: Duration) -> TimedIo<S> {
        TimedIo {
            inner,
            limit,
            read_deadline: None,
            write_deadline: None,
        }
    }
}

/// Polls `deadline` (armed on first use) after the operation came back pending.
fn check(
    deadline: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    cx: &mut Context<'_>,
) -> Poll<io::Error> {
    let timer = deadline.get_or_insert_with(|| Box::pin(sleep(limit)));
    match timer.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "peer idle")),
        Poll::Pending => Poll::Pending,
    }
}

/// A finished operation clears its deadline, so the next one starts afresh.
fn done<T>(deadline: &mut Option<Pin<Box<Sleep>>>, result: Poll<T>) -> Poll<T> {
    if result.is_ready() {
        *deadline = None;
    }
    result
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if result.is_pending() {
            return check(&mut this.read_deadline, this.limit, cx).map(Err);
        }
        done(&mut this.read_deadline, result)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if result.is_pending() {
            return check(&mut this.write_deadline, this.limit, cx).map(Err);
        }
        done(&mut this.write_deadline, result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        if result.is_pending() {
            return check(&mut this.write_deadline, this.limit, cx).map(Err);
        }
        done(&mut this.write_deadline, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_shutdown(cx);
        if result.is_pending() {
            return check(&mut this.write_deadline, this.limit, cx).map(Err);
        }
        done(&mut this.write_deadline, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::Instant;

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_times_out_and_a_talking_one_does_not() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut timed = TimedIo::new(a, Duration::from_secs(5));
        let start = Instant::now();
        b.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        timed.read_exact(&mut buf).await.unwrap();
        let err = timed.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_secs(5));
    }
}
