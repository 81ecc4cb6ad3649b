//! zdns-auth: the authoritative engine.
//!
//! [`Answerer`] is what the network edge calls for every query: bytes in, bytes out,
//! time and client facts passed in, so the core stays sans-I/O and deterministic.
//! [`AuthServer`] implements it over a [`Catalog`] of zones, swapped atomically when a
//! zone changes ([`Catalog::with_zone`], [`AuthServer::set_catalog`]).
//!
//! Each zone is a [`ZoneTree`]: every owner name, empty non-terminal and the apex is a
//! node, found by one probe of an open-addressing table keyed by the lowercase wire
//! name; each node knows whether it is authoritative data, a delegation point, below a
//! cut or below a DNAME, and whether it has a wildcard child, so the closest encloser
//! is one probe per label. At load, answers are prepared NSD-style
//! ([`ServedZone`]): the sections' bytes for every (owner, type), the referral of
//! every delegation and the negative answer of the zone, with compression pointers
//! relative to the question name at offset 12 (moved by the length difference for
//! names below a cut or the apex, and for wildcard expansions). The node's name, its
//! RRset directory and its prepared sections sit together in one chunk, so a query
//! costs the parse, one table slot, one chunk and a copy, without allocating.
//! CNAME chains beyond one step, DNAME, ANY, truncation and answers that cross zones
//! take the general path (`resolve` then `response`), which the prepared answers are
//! generated from.
//!
//! Also here: server cookies (RFC 7873, RFC 9018) and response rate limiting.
//!
//! Zone changes, sans-I/O: [`diff`] (RFC 1995 differences), [`update`] (RFC 2136
//! evaluation), [`journal`] (the durable change log), [`xfr`] (AXFR/IXFR out),
//! [`xfr_in`] (reading a transfer in), [`notify`] (RFC 1996 messages), [`secondary`]
//! (refresh/retry/expire) and [`acl`] (who may transfer, update or notify). The node
//! wires them to sockets, files and keys.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use std::net::SocketAddr;

pub mod acl;
mod catalog;
mod cookie;
pub mod diff;
mod hash;
pub mod journal;
pub mod notify;
mod prepared;
mod resolve;
mod response;
mod rrl;
pub mod secondary;
mod server;
mod signed;
mod tree;
pub mod update;
pub mod xfr;
pub mod xfr_in;

#[cfg(test)]
mod tests;

pub use catalog::{Catalog, ServedZone};
pub use cookie::{CookieCheck, CookieSecret};
pub use rrl::{ResponseKind, Rrl, RrlConfig, Verdict};
pub use server::{AuthServer, DEFAULT_UDP_SIZE, ServerConfig};
pub use tree::{BuildError, NodeKind, ZoneTree};

/// How a query arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: answers are limited to the negotiated payload size and may be truncated.
    Udp,
    /// TCP or another stream transport: answers up to 65535 bytes, transfers allowed.
    Stream,
}

/// The facts about a query that do not come from its bytes.
#[derive(Debug, Clone, Copy)]
pub struct QueryContext {
    /// The client's address and port.
    pub client: SocketAddr,
    /// How the query arrived.
    pub transport: Transport,
    /// Wall-clock time in seconds since the Unix epoch (cookies, RRL, TSIG).
    pub now: u64,
}

/// What the edge must do with a query after [`Answerer::answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Send the bytes written into the output buffer.
    Reply,
    /// Send nothing (rate limited without slip, or a message that is not a query).
    Drop,
    /// Not answered here: a zone transfer (AXFR, IXFR), a NOTIFY, an UPDATE or a
    /// TSIG-signed message. These need keys, access lists, the journal or a stream of
    /// messages, so the edge hands them to the node's zone control; `out` is empty.
    Defer,
}

/// A response still being worked out elsewhere (a resolution over the network): the
/// future yields its bytes, or `None` when nothing is to be sent.
pub type Pending = std::pin::Pin<Box<dyn std::future::Future<Output = Option<Vec<u8>>> + Send>>;

/// What [`Answerer::answer_or_pending`] gives.
pub enum Answered {
    /// Done now, as [`Answerer::answer`] would have done it.
    Now(Outcome),
    /// Still being worked out; `out` is empty.
    Later(Pending),
}

/// The answering core as the network edge sees it.
pub trait Answerer: Send + Sync {
    /// Answers one query. `out` is cleared and receives the response when the outcome is
    /// [`Outcome::Reply`]. Never panics, whatever `query` holds.
    fn answer(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome;

    /// Like [`Answerer::answer`], for edges that must never block their thread (an event
    /// loop on a single-threaded runtime, serving many connections): work that would
    /// wait on the network comes back as [`Answered::Later`]. The default answers now.
    fn answer_or_pending(&self, query: &[u8], ctx: &QueryContext, out: &mut Vec<u8>) -> Answered {
        Answered::Now(self.answer(query, ctx, out))
    }
}
