//! Transaction signatures (TSIG, RFC 8945) with HMAC-SHA2 (and HMAC-SHA1 for verifying).
//!
//! Everything works on message bytes: signing appends a TSIG record to a finished
//! message, verifying finds the TSIG record by walking the sections. Times are passed in
//! as seconds since the epoch; the library reads no clock.
//!
//! - [`sign_request`], [`sign_response`]: sign one message (RFC 8945 §4.3, §5.3).
//! - [`verify_request`] against a [`Keyring`], [`verify_response`] against the request
//!   MAC (RFC 8945 §5.2); failures are [`VerifyError`]s, answered with
//!   [`error_response`] or [`sign_error`] (§5.3.2).
//! - [`StreamSigner`], [`StreamVerifier`]: zone transfers and other multi-message
//!   responses (§5.3.1).
//! - [`parse_key_file`]: BIND `key` statements.

mod algorithm;
mod key;
mod keyfile;
mod message;
mod sign;
mod stream;
mod verify;

#[cfg(test)]
mod tests;

pub use algorithm::Algorithm;
pub use key::{KeyError, Keyring, TsigKey};
pub use keyfile::parse_key_file;
pub use message::TsigRecord;
pub use sign::{DEFAULT_FUDGE, Signed, TsigError, sign_request, sign_response};
pub use stream::{MAX_UNSIGNED_RUN, StreamMessage, StreamSigner, StreamVerifier};
pub use verify::{
    Verified, VerifyError, error_response, sign_error, verify_request, verify_response,
};
