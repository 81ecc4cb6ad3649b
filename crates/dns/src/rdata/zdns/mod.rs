//! The ZDNS extension record types (private-use type codes 65281-65293): mesh endpoints,
//! identities, ownership proofs, governance, economics, content and Web4 domains.
//!
//! Every format is specified in docs/zdns-records.md, which peers implement from; the
//! shared numeric registries are in [`registry`]. Names inside these records are never
//! compressed nor lowercased, as for any type a peer may not know (RFC 3597 §4, §7).

mod cid;
mod content;
mod fields;
mod governance;
mod keys;
mod mesh;
mod pqs;
mod proof;
pub mod registry;

#[cfg(test)]
mod tests;

pub use cid::Cid;
pub use content::{Content, Web4, Web4content};
pub use fields::{BasisPoints, Endpoint, InvalidData};
pub use governance::{Dao, Econ, RevenueShare};
pub use keys::{Id, Multisig, Signer};
pub use mesh::{Mesh, Web4dht, Web4mesh};
pub use pqs::{Pqs, PqsHeader};
pub use proof::{Web4owner, Zk};
