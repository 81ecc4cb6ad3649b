//! Witnessing (C2SP tlog-witness, tlog-cosignature): a witness cosigns a log's
//! checkpoint only if it is consistent with the latest one it cosigned for that log, so
//! that clients requiring cosignatures from enough witnesses cannot be shown a split
//! view.
//!
//! - [`cosignature`]: Ed25519 `cosignature/v1` keys, signatures and vkeys, and the log
//!   verifier keys a witness trusts.
//! - [`add_checkpoint`]: the `add-checkpoint` request and every check of the spec,
//!   sans-I/O, each with its HTTP status code.
//! - [`policy`]: the client side: accept or reject a cosigned checkpoint under a
//!   policy such as "2 of these 3 witnesses".
//! - [`server`]: a running witness with durable state and its axum route.

pub mod add_checkpoint;
pub mod cosignature;
pub mod policy;
pub mod server;

pub use add_checkpoint::{AddCheckpoint, WitnessError};
pub use cosignature::{CosignatureVerifier, CosignerKey};
pub use policy::{PolicyError, WitnessPolicy};
pub use server::{Witness, WitnessConfig};
