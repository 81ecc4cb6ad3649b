//! zdns-resolver: the resolver core of zdns.
//!
//! Sans-I/O like the rest of the workspace: every function takes the current time as
//! seconds since the Unix epoch (`now: u64`) and returns values; sockets, clocks and
//! tasks live in the node.
//!
//! - [`cache`]: the in-memory (L1) cache. Positive RRsets in a sharded, size-bounded
//!   CLOCK cache with TTLs counted down on the way out, prefetch signals for popular
//!   names near expiry and serve-stale (RFC 8767, seed 003 §11.3); a separate negative
//!   cache with the mesh rules of seed 003 §12 (TTL formula, 60 s cap, 1,000 entries with
//!   LRU eviction, flushes on topology change or zone update hint, and "absence never
//!   overwrites presence").
//! - [`conflict`]: the deterministic rules that pick between answers from several
//!   authoritative sources (seed 003 §11.1–§11.2).
//! - [`client`]: the client contract of seed 003 §14.2, a name resolved into identity,
//!   endpoints, TTL and flags ([`client::Resolution`]).
//! - [`nxmeta`]: the NXDOMAIN metadata EDNS option (seed 003 §12.2 rule 4).
//! - [`rate`]: the per-name query-rate detector (seed 003 §15.1 invariant 3).
//! - [`scope`]: zone scoping (seed 003 §16.1), `_scope` TXT records and the policy
//!   they give.
//! - [`validator`]: DNSSEC validation (RFC 4033–4035, RFC 5155, RFC 6840): trust
//!   anchors, negative trust anchors, chains of trust built zone cut by zone cut, and
//!   the Secure/Insecure/Bogus/Indeterminate verdict with its Extended DNS Error.
//! - [`Resolver`] with [`Iteration`]: the answer from the cache alone (the hit path,
//!   memory only), or iterative and forwarding resolution as a state machine the edge
//!   drives with bytes, round-trip times and timeouts ([`iterate`]); responses are
//!   checked by `classify` (bailiwick, glue, referral direction) before anything is
//!   believed or cached.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod answer;
pub mod cache;
mod classify;
pub mod client;
pub mod conflict;
pub mod iterate;
pub mod nxmeta;
pub mod rate;
mod resolver;
pub mod scope;
pub mod servers;
pub mod validator;

pub use answer::Answer;
pub use cache::{Cache, CacheConfig, CacheKey};
pub use iterate::{Iteration, Step, Transmit, Transport};
pub use resolver::{CacheHit, ForwardZone, Limits, Resolver, ResolverConfig};
