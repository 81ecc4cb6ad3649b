//! Verifying signed messages (RFC 8945 §5.2, §5.3) and answering failures (§5.3.2).

use std::fmt;

use super::algorithm::{Algorithm, MacState};
use super::message::{self, Located, TsigRecord};
use super::sign::{self, Fields, Signed, TsigError};
use super::{Keyring, TsigKey};
use crate::types::Rcode;

/// A message whose TSIG verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key that signed it.
    pub key: TsigKey,
    /// Its TSIG record.
    pub record: TsigRecord,
}

impl Verified {
    /// The MAC of the verified message, which a response is signed over (RFC 8945 §4.3.1).
    pub fn mac(&self) -> &[u8] {
        &self.record.data.mac
    }

    /// Signs `response` to the verified request with the same key (RFC 8945 §5.3).
    pub fn sign_response(
        &self,
        response: &[u8],
        now: u64,
        fudge: u16,
    ) -> Result<Signed, TsigError> {
        sign::sign_response(response, &self.key, self.mac(), now, fudge)
    }
}

/// Why a message did not verify, with what is needed to answer it (RFC 8945 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyError {
    /// The message has no TSIG record.
    Unsigned,
    /// The message or its TSIG record is malformed, or the MAC length is outside what
    /// RFC 8945 §5.2.2.1 allows: FORMERR.
    Malformed(&'static str),
    /// The key name or algorithm is unknown (RFC 8945 §5.2.1): BADKEY.
    BadKey(Box<TsigRecord>),
    /// The MAC is wrong (RFC 8945 §5.2.2): BADSIG.
    BadSig(Box<TsigRecord>),
    /// The MAC is right but the time is outside time signed ± fudge (RFC 8945 §5.2.3):
    /// BADTIME.
    BadTime(Box<Verified>),
    /// The MAC is right but shorter than the key allows (RFC 8945 §5.2.4): BADTRUNC.
    BadTrunc(Box<Verified>),
    /// The peer reported a TSIG error in its response (RFC 8945 §5.3.2); `other` holds
    /// the peer's time for BADTIME.
    Peer {
        /// The error the peer put in its TSIG record.
        error: Rcode,
        /// The other data of that record.
        other: Vec<u8>,
    },
    /// More than 99 unsigned messages in a row in a multi-message response, or a
    /// response stream that ended unsigned (RFC 8945 §5.3.1).
    UnsignedRun,
}

impl VerifyError {
    /// The TSIG error code, for the errors that have one.
    pub fn tsig_error(&self) -> Option<Rcode> {
        match self {
            VerifyError::BadKey(_) => Some(Rcode::BADKEY),
            VerifyError::BadSig(_) => Some(Rcode::BADSIG),
            VerifyError::BadTime(_) => Some(Rcode::BADTIME),
            VerifyError::BadTrunc(_) => Some(Rcode::BADTRUNC),
            VerifyError::Peer { error, .. } => Some(*error),
            VerifyError::Unsigned | VerifyError::Malformed(_) | VerifyError::UnsignedRun => None,
        }
    }

    /// The RCODE of the error response: FORMERR for malformed messages, NOTAUTH for
    /// the TSIG errors (RFC 8945 §5.2).
    pub fn rcode(&self) -> Rcode {
        match self {
            VerifyError::Malformed(_) => Rcode::FORMERR,
            _ => Rcode::NOTAUTH,
        }
    }
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Unsigned => f.write_str("message is not signed"),
            VerifyError::Malformed(reason) => write!(f, "FORMERR: {reason}"),
            VerifyError::BadKey(r) => write!(
                f,
                "BADKEY: no key {} with algorithm {}",
                r.key_name, r.data.algorithm
            ),
            VerifyError::BadSig(r) => write!(f, "BADSIG: wrong MAC for key {}", r.key_name),
            VerifyError::BadTime(v) => write!(
                f,
                "BADTIME: signed at {} with fudge {}",
                v.record.data.time_signed, v.record.data.fudge
            ),
            VerifyError::BadTrunc(v) => write!(
                f,
                "BADTRUNC: {}-byte MAC, key {} requires {}",
                v.mac().len(),
                v.key.name(),
                v.key.mac_len()
            ),
            VerifyError::Peer { error, .. } => {
                write!(f, "peer reported TSIG error {}", tsig_error_name(*error))
            }
            VerifyError::UnsignedRun => {
                f.write_str("too many unsigned messages in a row, or the last message is unsigned")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

/// The TSIG error mnemonic (16 is BADSIG here, not BADVERS).
fn tsig_error_name(error: Rcode) -> String {
    match error {
        Rcode::BADSIG => "BADSIG".to_owned(),
        e => e.to_string(),
    }
}

impl From<TsigError> for VerifyError {
    fn from(e: TsigError) -> VerifyError {
        match e {
            TsigError::Malformed(reason) => VerifyError::Malformed(reason),
            _ => VerifyError::Malformed("TSIG record cannot be processed"),
        }
    }
}

/// Verifies a request against the keyring at time `now` (seconds since the epoch), in
/// the order of RFC 8945 §5.2: format, key, MAC, time, truncation.
pub fn verify_request(msg: &[u8], keyring: &Keyring, now: u64) -> Result<Verified, VerifyError> {
    let located = message::locate(msg)?.ok_or(VerifyError::Unsigned)?;
    let key = Algorithm::from_name(&located.record.data.algorithm)
        .and_then(|a| keyring.get(&located.record.key_name, a));
    let Some(key) = key else {
        return Err(VerifyError::BadKey(Box::new(located.record)));
    };
    let mut mac = MacState::new(key.algorithm(), key.secret());
    check_mac(&mut mac, msg, &located, key)?;
    finish(mac, located, key, now)
}

/// Verifies a response signed with `key` over `request_mac` (RFC 8945 §5.3). TSIG errors
/// reported by the peer come back as [`VerifyError::Peer`], after the MAC of a signed
/// error response (BADTIME, BADTRUNC) is checked.
pub fn verify_response(
    msg: &[u8],
    key: &TsigKey,
    request_mac: &[u8],
    now: u64,
) -> Result<Verified, VerifyError> {
    let located = message::locate(msg)?.ok_or(VerifyError::Unsigned)?;
    let data = &located.record.data;
    if located.record.key_name != *key.name() || data.algorithm != key.algorithm().name() {
        return Err(VerifyError::BadKey(Box::new(located.record)));
    }
    if data.error != Rcode::NOERROR && data.mac.is_empty() {
        return Err(peer_error(&located.record));
    }
    let mut mac = MacState::new(key.algorithm(), key.secret());
    message::digest_prior_mac(&mut mac, request_mac);
    check_mac(&mut mac, msg, &located, key)?;
    finish(mac, located, key, now)
}

fn peer_error(record: &TsigRecord) -> VerifyError {
    VerifyError::Peer {
        error: record.data.error,
        other: record.data.other.clone(),
    }
}

/// The MAC length check of RFC 8945 §5.2.2.1, then the digest of the message and all
/// TSIG variables.
pub(crate) fn check_mac(
    mac: &mut MacState,
    msg: &[u8],
    located: &Located,
    key: &TsigKey,
) -> Result<(), VerifyError> {
    check_mac_len(located, key)?;
    let (_, arcount) = message::id_and_arcount(msg)?;
    let data = &located.record.data;
    message::digest_message(
        mac,
        msg,
        located.start,
        data.original_id,
        arcount.saturating_sub(1),
    );
    message::digest_variables(mac, &located.record.key_name, data);
    Ok(())
}

/// RFC 8945 §5.2.2.1: a MAC longer than the hash or shorter than the larger of 10 bytes
/// and half the hash is a format error.
pub(crate) fn check_mac_len(located: &Located, key: &TsigKey) -> Result<(), VerifyError> {
    let len = located.record.data.mac.len();
    let algorithm = key.algorithm();
    if len > algorithm.output_len() {
        return Err(VerifyError::Malformed("MAC longer than the hash output"));
    }
    if len < algorithm.min_mac_len() {
        return Err(VerifyError::Malformed(
            "MAC shorter than 10 bytes or half the hash output",
        ));
    }
    Ok(())
}

/// Compares the MAC, then checks the time (RFC 8945 §5.2.3), the peer's error and the
/// truncation policy (§5.2.4).
pub(crate) fn finish(
    mac: MacState,
    located: Located,
    key: &TsigKey,
    now: u64,
) -> Result<Verified, VerifyError> {
    if !mac.verify(&located.record.data.mac) {
        return Err(VerifyError::BadSig(Box::new(located.record)));
    }
    if located.record.data.error != Rcode::NOERROR {
        return Err(peer_error(&located.record));
    }
    let verified = Verified {
        key: key.clone(),
        record: located.record,
    };
    let data = &verified.record.data;
    if now.abs_diff(data.time_signed.secs()) > u64::from(data.fudge) {
        return Err(VerifyError::BadTime(Box::new(verified)));
    }
    if data.mac.len() < key.mac_len() {
        return Err(VerifyError::BadTrunc(Box::new(verified)));
    }
    Ok(verified)
}

/// Adds the TSIG record that RFC 8945 §5.3.2 asks for to an error `response` to a request
/// that failed with `error`: none for malformed or unsigned requests, an unsigned record
/// (empty MAC) for BADKEY and BADSIG, a record signed over the request MAC for BADTIME
/// (with the request's time signed and the server time `now` in other data, as BIND
/// does) and BADTRUNC.
pub fn sign_error(
    response: &[u8],
    error: &VerifyError,
    now: u64,
    fudge: u16,
) -> Result<Vec<u8>, TsigError> {
    let time = sign::time48(now)?;
    match error {
        VerifyError::BadKey(record) | VerifyError::BadSig(record) => {
            let (id, _) = message::id_and_arcount(response)?;
            let mut data = record.data.clone();
            data.time_signed = time;
            data.fudge = fudge;
            data.mac.clear();
            data.original_id = id;
            data.error = error.tsig_error().unwrap_or(Rcode::BADSIG);
            data.other.clear();
            let record = TsigRecord {
                key_name: record.key_name.clone(),
                data,
            };
            message::append(response, &record)
        }
        VerifyError::BadTime(v) => {
            let fields = Fields {
                time: v.record.data.time_signed,
                fudge,
                error: Rcode::BADTIME,
                other: time
                    .secs()
                    .to_be_bytes()
                    .get(2..)
                    .unwrap_or_default()
                    .to_vec(),
            };
            Ok(sign::sign_with(response, &v.key, Some(v.mac()), fields)?.message)
        }
        VerifyError::BadTrunc(v) => {
            let fields = Fields {
                time,
                fudge,
                error: Rcode::BADTRUNC,
                other: Vec::new(),
            };
            Ok(sign::sign_with(response, &v.key, Some(v.mac()), fields)?.message)
        }
        VerifyError::Unsigned
        | VerifyError::Malformed(_)
        | VerifyError::Peer { .. }
        | VerifyError::UnsignedRun => Ok(response.to_vec()),
    }
}

/// Builds the whole error response to `request` (RFC 8945 §5.3.2): the request's ID,
/// opcode, RD flag and question, QR set, RCODE from [`VerifyError::rcode`], no records,
/// and the TSIG record of [`sign_error`].
pub fn error_response(
    request: &[u8],
    error: &VerifyError,
    now: u64,
    fudge: u16,
) -> Result<Vec<u8>, TsigError> {
    let header = request
        .get(..message::HEADER_LEN)
        .ok_or(TsigError::Malformed("message shorter than its header"))?;
    let byte = |i: usize| header.get(i).copied().unwrap_or(0);
    let question = message::question_section(request);
    let mut out =
        Vec::with_capacity(message::HEADER_LEN + question.as_ref().map_or(0, |q| q.1.len()));
    out.extend_from_slice(&[byte(0), byte(1)]);
    // QR, the request's opcode and RD; AA, TC, RA, Z, AD, CD clear.
    out.push(0x80 | (byte(2) & 0x79));
    out.push(error.rcode().header_bits());
    let qdcount = question.as_ref().map_or(0, |q| q.0);
    out.extend_from_slice(&qdcount.to_be_bytes());
    out.extend_from_slice(&[0; 6]);
    if let Some((_, bytes)) = question {
        out.extend_from_slice(&bytes);
    }
    sign_error(&out, error, now, fudge)
}
