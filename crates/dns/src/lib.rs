//! lib-dns: the DNS library of zdns.
//!
//! Names ([`name`]), the wire format ([`wire`]), record data for every common type
//! ([`rdata`]), whole messages with EDNS ([`message`]), zone files ([`zone`]) and TSIG
//! ([`tsig`], behind the `tsig` feature). The library is sans-I/O: it reads and writes
//! bytes and text handed to it, and never opens sockets, starts threads or reads a clock
//! (times are passed in).
//!
//! Nothing here panics on bad input: every parser returns an error that says what was
//! wrong and where. The crate denies `unwrap`, `expect`, `panic!` and unchecked slice
//! indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod encoding;
pub mod message;
pub mod name;
pub mod rdata;
pub mod record;
pub mod text;
#[cfg(feature = "tsig")]
pub mod tsig;
pub mod types;
pub mod wire;
pub mod zone;

pub use message::Message;
pub use name::Name;
pub use rdata::{RData, RecordData};
pub use record::Record;
pub use types::{Class, Opcode, Rcode, Rtype};
