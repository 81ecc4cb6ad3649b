//! zdns-transport: encrypted DNS transports, server and client side.
//!
//! - [`tls`]: rustls set-up with one explicit crypto provider (ring), certificates and keys
//!   from PEM files, the self-signed certificate of the embedded default, SPKI pins
//!   (RFC 7858 §4.2), and server configurations swapped whole on reload.
//! - [`padding`]: EDNS padding of responses (RFC 7830) with the block policy of RFC 8467.
//! - [`doh`]: DNS over HTTPS (RFC 8484) over HTTP/2 and HTTP/1.1, and [`doh_json`], the
//!   JSON form of public resolvers.
//! - [`doq`]: DNS over dedicated QUIC connections (RFC 9250) with quinn.
//! - [`client`]: DoT, DoH and DoQ clients with certificate verification by CA or pin and
//!   connection reuse.
//!
//! DNS over TLS (RFC 7858) is served by the node's TCP stream loop over a
//! `tokio_rustls` stream; this crate gives it the TLS acceptor ([`tls::accept`]).
//!
//! The server loops never answer by themselves: they call a [`Respond`] given by the
//! caller (the node builds it over `zdns_auth::Answerer`), so this crate does not depend
//! on the node.

pub mod client;
pub mod doh;
pub mod doh_json;
pub mod doq;
mod h2_records;
pub mod padding;
pub mod stats;
mod timed_io;
pub mod tls;
mod walk;

use zdns_auth::QueryContext;

/// The answering function the server loops call.
pub trait Respond: Send + Sync + 'static {
    /// The response to `query` (a DNS message in wire form, any ID), or `None` to send
    /// none. Padding is added by the caller.
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Option<Vec<u8>>;

    /// The hook for zone transfers over encrypted streams (XoQ, RFC 9250 §4.2): the
    /// response messages of an AXFR or IXFR `query`, in order, or `None` when transfers
    /// are not served here (the query then goes to [`Respond::respond`]). Only called
    /// once the handshake is complete, never for 0-RTT data.
    fn transfer(&self, query: &[u8], ctx: &QueryContext) -> Option<Vec<Vec<u8>>> {
        let _ = (query, ctx);
        None
    }
}

impl<F> Respond for F
where
    F: Fn(&[u8], &QueryContext) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Option<Vec<u8>> {
        self(query, ctx)
    }
}

/// Wall-clock seconds since the Unix epoch, as [`QueryContext::now`] takes them.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
