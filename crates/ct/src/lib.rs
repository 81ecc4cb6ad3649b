//! zdns-ct: the sans-I/O core of the zdns Certificate Transparency log.
//!
//! - [`merkle`]: RFC 6962 tree hashing, the compact-range tree, inclusion and consistency
//!   proofs and their verification.
//! - [`tiles`]: tlog-tiles coordinates, paths and contents, static-ct-api data tiles,
//!   and the sequencer's tile writer.
//! - [`entry`]: the RFC 6962 `TimestampedEntry`/`MerkleTreeLeaf` and the `leaf_index`
//!   extension.
//! - [`tls`]: the TLS presentation-language codec those structures use.
//! - [`checkpoint`]: tlog-checkpoint bodies, C2SP signed notes, and the static-ct-api
//!   `RFC6962NoteSignature` (signed tree heads as checkpoints).
//! - [`keys`]: the log's ECDSA P-256 key, log ID and `DigitallySigned`.
//! - [`pem`]: PEM blocks to DER.
//! - [`sct`]: signed certificate timestamps: encoding, signing, verification, lists.
//! - [`cert`]: DER surgery on certificates for precertificate and embedded-SCT entries.
//! - [`sig`]: certificate signature checks (RSA PKCS#1 v1.5, ECDSA P-256/P-384).
//! - [`chain`]: submission chain validation up to the log's trusted roots.
//! - [`crl`]: certificate revocation lists, for the API's `revoked` certificate status.
//!
//! The edge, where files, tasks and clocks live:
//! - [`storage`]: the object store trait (get, put, compare-and-swap) and its durable
//!   filesystem implementation; `s3` (feature `s3`) is the object-store backend.
//! - [`sequencer`]: the sans-I/O sequencing core (pool, batches, staging bundles, the
//!   deduplication index records) and the crash-safe commit order.
//! - [`client`]: a small HTTP/1.1 client for witnesses, webhooks and tiles.
//! - [`log`]: the running log: key, roots, recovery, the sequencer task, reads.
//! - [`http`]: the RFC 6962, static-ct-api and node API routes (axum).
//! - [`monitor`]: domain watches: following a log's tiles with verified consistency,
//!   and the node's monitor of its own log with webhooks.
//! - [`witness`]: C2SP tlog-witness and tlog-cosignature: a witness (sans-I/O checks,
//!   and a running one with durable state), and witness policies for clients.
//!
//! The core modules touch no files, sockets or clocks: timestamps are parameters and
//! storage sits behind traits. Nothing panics on bad input; the crate denies `unwrap`, `expect`,
//! `panic!` and unchecked slice indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod cert;
pub mod chain;
pub mod checkpoint;
pub mod client;
pub mod crl;
pub mod entry;
pub mod http;
pub mod keys;
pub mod log;
pub mod merkle;
pub mod monitor;
pub mod pem;
#[cfg(feature = "s3")]
pub mod s3;
pub mod sct;
pub mod sequencer;
pub mod sig;
pub mod storage;
pub mod tiles;
pub mod tls;
pub mod witness;
