//! zdns-dnssec: DNSSEC for zdns, sans-I/O.
//!
//! - [`key`]: signing keys (Ed25519, ECDSA P-256/P-384, RSA/SHA-256, and ML-DSA-44 as
//!   PRIVATEOID in [`mldsa`]), their DNSKEY
//!   records and key tags; [`bind`]: BIND key files, the keyring format; [`ds`]: DS
//!   digests.
//! - [`sign`]: zone signing (RRSIGs in canonical form, NSEC or NSEC3 chains, CDS/CDNSKEY,
//!   ZONEMD), one job per RRset on every core; [`canonical`] builds the signed data.
//! - [`rollover`]: the key rollover schedule (ZSK pre-publish, KSK double signature
//!   with CDS/CDNSKEY, algorithm rollover) as a state machine with time passed in.
//! - [`validate`]: the validation core for a resolver: RRsets, DS → DNSKEY, NSEC and
//!   NSEC3 denial proofs, Secure/Insecure/Bogus/Indeterminate with Extended DNS Errors.
//! - [`verify`]: one RRSIG over one RRset; [`check`]: a whole signed zone, as
//!   `dnssec-verify` checks it; [`zonemd`]: ZONEMD digests; [`nsec3`]: NSEC3 hashing.
//!
//! Nothing here reads a clock, a file or a socket: time is passed in as seconds since
//! 1970, files as text. Randomness comes from the operating system through ring (key
//! generation, ECDSA nonces). `unwrap`, `expect`, `panic!` and unchecked indexing are
//! denied outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod bind;
pub mod canonical;
pub mod check;
pub mod ds;
mod index;
pub mod key;
pub mod mldsa;
pub mod nsec3;
pub mod rollover;
pub mod sign;
pub mod validate;
pub mod verify;
pub mod zonemd;

pub use check::{Problem, ZoneProblem, check_zone};
pub use key::{KeyError, SignAlgorithm, SigningKey};
pub use sign::{
    Denial, KeyUse, Nsec3Options, Reuse, SignError, SignOptions, resign_zone, sign_zone,
};
