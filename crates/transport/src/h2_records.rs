//! Ends every HTTP/2 response at a write boundary, so that over TLS each response
//! finishes in its own TLS record.
//!
//! HTTP/2 servers coalesce the frames of many streams into one write, which is correct
//! and efficient, but some DoH load generators (dnsperf 2.10 among them) read one TLS
//! record at a time and keep only the last response completed in it, losing the others.
//! This wrapper reads the frame headers (RFC 9113 §4.1) of the outgoing bytes and cuts a
//! write right after a frame that ends a stream, so a record never completes two
//! responses. Frames are not changed, only where writes end.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The length of an HTTP/2 frame header (RFC 9113 §4.1).
const FRAME_HEADER: usize = 9;
/// Frame types that can end a stream (RFC 9113 §6.1, §6.2).
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
/// The END_STREAM flag.
const END_STREAM: u8 = 0x1;

/// Where the outgoing byte stream is in the frame sequence.
#[derive(Debug, Clone, Copy, Default)]
struct FrameCursor {
    /// Header bytes of the next frame seen so far.
    header: [u8; FRAME_HEADER],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    remaining: usize,
    /// Whether the current frame ends a stream.
    ends_stream: bool,
}

impl FrameCursor {
    /// Consumes bytes from the start of `buf` and returns how many, stopping right after
    /// a frame that ends a stream.
    fn advance(&mut self, buf: &[u8]) -> usize {
        let mut used = 0;
        while used < buf.len() {
            let rest = buf.get(used..).unwrap_or_default();
            if self.remaining > 0 {
                let take = self.remaining.min(rest.len());
                used += take;
                self.remaining -= take;
                if self.remaining == 0 && self.ends_stream {
                    break;
                }
                continue;
            }
            let take = (FRAME_HEADER - self.header_len).min(rest.len());
            if let (Some(dst), Some(src)) = (
                self.header.get_mut(self.header_len..self.header_len + take),
                rest.get(..take),
            ) {
                dst.copy_from_slice(src);
            }
            self.header_len += take;
            used += take;
            if self.header_len < FRAME_HEADER {
                break;
            }
            let [l0, l1, l2, kind, flags, ..] = self.header;
            self.remaining = usize::from(l0) << 16 | usize::from(l1) << 8 | usize::from(l2);
            self.ends_stream = matches!(kind, DATA | HEADERS) && flags & END_STREAM != 0;
            self.header_len = 0;
            if self.remaining == 0 && self.ends_stream {
                break;
            }
        }
        used
    }
}

/// `S` whose writes end after each frame that ends an HTTP/2 stream.
pub(crate) struct ResponseRecords<S> {
    inner: S,
    /// `None` when the connection is not HTTP/2: writes pass through.
    cursor: Option<FrameCursor>,
}

impl<S> ResponseRecords<S> {
    /// Wraps the server side of a connection, which speaks HTTP/2 if `h2`.
    pub(crate) fn new(inner: S, h2: bool) -> ResponseRecords<S> {
        ResponseRecords {
            inner,
            cursor: h2.then(FrameCursor::default),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ResponseRecords<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ResponseRecords<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let Some(cursor) = this.cursor.as_mut() else {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        };
        let cut = cursor.clone().advance(buf);
        let result = Pin::new(&mut this.inner).poll_write(cx, buf.get(..cut).unwrap_or(buf));
        if let Poll::Ready(Ok(written)) = result {
            cursor.advance(buf.get(..written).unwrap_or_default());
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: usize) -> Vec<u8> {
        let len = u32::try_from(payload).unwrap().to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 1];
        f.extend(std::iter::repeat_n(0xaa, payload));
        f
    }

    #[test]
    fn cuts_after_each_frame_that_ends_a_stream() {
        let settings = frame(0x4, 0, 6);
        let headers_a = frame(HEADERS, 0x4, 20);
        let headers_b = frame(HEADERS, 0x4, 20);
        let data_a = frame(DATA, END_STREAM, 50);
        let data_b = frame(DATA, END_STREAM, 50);
        let all = [&settings, &headers_a, &headers_b, &data_a, &data_b].map(|f| f.as_slice());
        let bytes = all.concat();
        let mut cursor = FrameCursor::default();
        let first = cursor.advance(&bytes);
        assert_eq!(
            first,
            settings.len() + headers_a.len() + headers_b.len() + data_a.len()
        );
        let second = cursor.advance(&bytes[first..]);
        assert_eq!(second, data_b.len());
        assert_eq!(cursor.advance(&[]), 0);
    }

    #[test]
    fn headers_and_payloads_split_across_writes_are_followed() {
        let bytes = [
            frame(HEADERS, 0x4, 10),
            frame(DATA, END_STREAM, 30),
            frame(DATA, 0, 5),
        ]
        .concat();
        let mut cursor = FrameCursor::default();
        let mut at = 0;
        let mut cuts = Vec::new();
        // Three bytes at a time, as a slow writer would hand them over.
        while at < bytes.len() {
            let end = (at + 3).min(bytes.len());
            at += cursor.advance(&bytes[at..end]);
            if at < end {
                cuts.push(at);
            }
        }
        assert_eq!(cuts, vec![19 + 39]);
        // A headers-only response (END_STREAM on HEADERS, no body) is cut too.
        let mut cursor = FrameCursor::default();
        let only = [frame(HEADERS, 0x5, 10), frame(HEADERS, 0x5, 10)].concat();
        assert_eq!(cursor.advance(&only), 19);
    }
}
