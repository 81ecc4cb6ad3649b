//! Signing requests and responses (RFC 8945 §4.3, §5.1, §5.3).

use std::fmt;

use super::TsigKey;
use super::algorithm::{Algorithm, MacState};
use super::message::{self, TsigRecord};
use crate::rdata::{Time48, Tsig};
use crate::types::Rcode;
use crate::wire::WireError;

/// The fudge RFC 8945 §10 recommends: 300 seconds.
pub const DEFAULT_FUDGE: u16 = 300;

/// Why a message could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TsigError {
    /// The key's algorithm may verify but not sign (HMAC-SHA1, RFC 8945 §6).
    SigningRefused(Algorithm),
    /// The message bytes are not a message that can be signed.
    Malformed(&'static str),
    /// A multi-message response would start with an unsigned message or have more than
    /// 99 in a row (RFC 8945 §5.3.1).
    UnsignedRun,
    /// The time given is beyond what 48 bits hold.
    TimeOutOfRange(u64),
    /// The TSIG record could not be written.
    Wire(WireError),
}

impl fmt::Display for TsigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TsigError::SigningRefused(a) => write!(
                f,
                "refusing to sign with {a}: it is accepted for verification only \
                 (RFC 8945 §6); use hmac-sha256 or stronger"
            ),
            TsigError::Malformed(reason) => write!(f, "cannot sign message: {reason}"),
            TsigError::UnsignedRun => {
                f.write_str("the first message and at least every 100th of a stream must be signed")
            }
            TsigError::TimeOutOfRange(t) => write!(f, "time {t} does not fit in 48 bits"),
            TsigError::Wire(e) => write!(f, "cannot write TSIG record: {e}"),
        }
    }
}

impl std::error::Error for TsigError {}

/// A signed message and its MAC, which the peer's reply will be signed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The message with its TSIG record.
    pub message: Vec<u8>,
    /// The MAC placed in the TSIG record.
    pub mac: Vec<u8>,
}

/// Signs a request: appends a TSIG record over the message, signed at `now` (seconds since
/// the epoch) with the given fudge (RFC 8945 §4.3).
pub fn sign_request(msg: &[u8], key: &TsigKey, now: u64, fudge: u16) -> Result<Signed, TsigError> {
    let fields = Fields::plain(time48(now)?, fudge);
    sign_with(msg, key, None, fields)
}

/// Signs a response to a request whose MAC was `request_mac` (RFC 8945 §4.3.1, §5.3).
pub fn sign_response(
    msg: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    now: u64,
    fudge: u16,
) -> Result<Signed, TsigError> {
    let fields = Fields::plain(time48(now)?, fudge);
    sign_with(msg, key, Some(request_mac), fields)
}

/// The time as a [`Time48`].
pub(crate) fn time48(now: u64) -> Result<Time48, TsigError> {
    Time48::new(now).ok_or(TsigError::TimeOutOfRange(now))
}

/// The TSIG fields that the signer chooses.
pub(crate) struct Fields {
    pub(crate) time: Time48,
    pub(crate) fudge: u16,
    pub(crate) error: Rcode,
    pub(crate) other: Vec<u8>,
}

impl Fields {
    /// Fields without error or other data.
    pub(crate) fn plain(time: Time48, fudge: u16) -> Fields {
        Fields {
            time,
            fudge,
            error: Rcode::NOERROR,
            other: Vec::new(),
        }
    }
}

/// The TSIG data for `key` with an empty MAC.
pub(crate) fn unsigned_data(key_algorithm: Algorithm, original_id: u16, fields: Fields) -> Tsig {
    Tsig {
        algorithm: key_algorithm.name(),
        time_signed: fields.time,
        fudge: fields.fudge,
        mac: Vec::new(),
        original_id,
        error: fields.error,
        other: fields.other,
    }
}

/// Signs `msg` (which has no TSIG record yet) and appends the TSIG record.
pub(crate) fn sign_with(
    msg: &[u8],
    key: &TsigKey,
    request_mac: Option<&[u8]>,
    fields: Fields,
) -> Result<Signed, TsigError> {
    if !key.algorithm().can_sign() {
        return Err(TsigError::SigningRefused(key.algorithm()));
    }
    let (id, arcount) = message::id_and_arcount(msg)?;
    let mut data = unsigned_data(key.algorithm(), id, fields);
    let mut mac = MacState::new(key.algorithm(), key.secret());
    if let Some(request_mac) = request_mac {
        message::digest_prior_mac(&mut mac, request_mac);
    }
    message::digest_message(&mut mac, msg, msg.len(), id, arcount);
    message::digest_variables(&mut mac, key.name(), &data);
    let mut full = mac.finish();
    full.truncate(key.mac_len());
    data.mac = full;
    let record = TsigRecord {
        key_name: key.name().clone(),
        data,
    };
    Ok(Signed {
        message: message::append(msg, &record)?,
        mac: record.data.mac,
    })
}
