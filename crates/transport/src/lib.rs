//! zdns-transport: encrypted DNS transports, server and client side.
//!
//! - [`tls`]: rustls set-up with one explicit crypto provider (ring), certificates and keys
//!   from PEM files, the self-signed certificate of the embedded default, SPKI pins
//!   (RFC 7858 §4.2), and server configurations swapped whole on reload.
//! - [`padding`]: EDNS padding of responses (RFC 7830) with the block policy of RFC 8467.
//! - [`doh`]: DNS over HTTPS (RFC 8484) over HTTP/2 and HTTP/1.1, [`doh3`] the same over
//!   HTTP/3 (RFC 9114), and [`doh_json`], the JSON form of public resolvers.
//! - [`doq`]: DNS over dedicated QUIC connections (RFC 9250) with quinn.
//! - [`client`]: DoT, DoH and DoQ clients with certificate verification by CA or pin and
//!   connection reuse.
//!
//! DNS over TLS (RFC 7858) is served by the node's TCP stream loop over a
//! `tokio_rustls` stream; this crate gives it the TLS acceptor ([`tls::accept`]).
//!
//! The server loops never answer by themselves: they call a [`Respond`] given by the
//! caller (the node builds it over `zdns_auth::Answerer`), so this crate does not depend
//! on the node. What the node answers elsewhere (zone transfers, UPDATE, NOTIFY, signed
//! queries) comes back as [`Answer::Deferred`], a channel of messages.

pub mod client;
pub mod doh;
pub mod doh3;
pub mod doh_json;
pub mod doq;
mod h2_records;
pub mod padding;
pub mod stats;
mod timed_io;
pub mod tls;
mod walk;

use lib_dns::message::{Edns, EdnsOption, ExtendedError};
use lib_dns::{Message, Rcode};
use tokio::sync::mpsc;
use zdns_auth::QueryContext;

/// What the server loops send back for one query.
#[derive(Debug)]
pub enum Answer {
    /// This message; the loop pads it when the query asks for padding (RFC 8467).
    Reply(Vec<u8>),
    /// Nothing.
    Drop,
    /// Messages produced elsewhere (the node's zone control: zone transfers, UPDATE,
    /// NOTIFY, TSIG-signed queries). They come on the channel in order until it
    /// closes, and are sent as they are: no padding, since they may be signed.
    Deferred(mpsc::Receiver<Vec<u8>>),
}

/// The answering function the server loops call.
pub trait Respond: Send + Sync + 'static {
    /// The answer to `query` (a DNS message in wire form, any ID). Called on the loop's
    /// task, so it must not block: slow work is returned as [`Answer::Deferred`].
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Answer;
}

impl<F> Respond for F
where
    F: Fn(&[u8], &QueryContext) -> Option<Vec<u8>> + Send + Sync + 'static,
{
    fn respond(&self, query: &[u8], ctx: &QueryContext) -> Answer {
        self(query, ctx).map_or(Answer::Drop, Answer::Reply)
    }
}

/// A REFUSED response to `query` with an Extended DNS Error (RFC 8914) when the query
/// has EDNS; `None` when the query cannot be parsed.
pub(crate) fn refused_with_ede(query: &[u8], info_code: u16, text: &str) -> Option<Vec<u8>> {
    let q = Message::parse(query).ok()?;
    let mut r = Message::response_to(&q);
    r.rcode = Rcode::REFUSED;
    if q.edns.is_some() {
        let mut edns = Edns::default();
        edns.options.push(EdnsOption::ExtendedError(ExtendedError {
            info_code,
            text: text.to_owned(),
        }));
        r.edns = Some(edns);
    }
    r.to_wire(65535).ok()
}

/// Wall-clock seconds since the Unix epoch, as [`QueryContext::now`] takes them.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
