//! Multi-message responses such as zone transfers (RFC 8945 §5.3.1).
//!
//! The first message is signed like any response, over the request MAC. Every later
//! signed message is signed over the previous MAC, the unsigned messages sent since, the
//! message itself and the TSIG timers only. At most 99 messages in a row may be unsigned,
//! and the last one must be signed.

use super::TsigKey;
use super::algorithm::MacState;
use super::message::{self, TsigRecord};
use super::sign::{self, Fields, Signed, TsigError};
use super::verify::{self, Verified, VerifyError};
use crate::types::Rcode;

/// Most unsigned messages allowed in a row (RFC 8945 §5.3.1).
pub const MAX_UNSIGNED_RUN: usize = 99;

/// The running digest shared by signer and verifier.
struct Chain {
    key: TsigKey,
    /// The request MAC before the first message, then the last MAC.
    prior_mac: Vec<u8>,
    /// The digest of the prior MAC and the unsigned messages since, once one was seen.
    pending: Option<MacState>,
    /// Unsigned messages since the last signed one.
    unsigned: usize,
    /// Whether a message was handled yet.
    started: bool,
}

impl Chain {
    fn new(key: TsigKey, request_mac: &[u8]) -> Chain {
        Chain {
            key,
            prior_mac: request_mac.to_vec(),
            pending: None,
            unsigned: 0,
            started: false,
        }
    }

    /// The digest so far: prior MAC and the unsigned messages.
    fn take_pending(&mut self) -> MacState {
        self.pending.take().unwrap_or_else(|| {
            let mut mac = MacState::new(self.key.algorithm(), self.key.secret());
            message::digest_prior_mac(&mut mac, &self.prior_mac);
            mac
        })
    }

    /// Adds an unsigned message whole, or fails if the run would become too long.
    fn add_unsigned(&mut self, msg: &[u8]) -> bool {
        if !self.started || self.unsigned >= MAX_UNSIGNED_RUN {
            return false;
        }
        let mut mac = self.take_pending();
        mac.update(msg);
        self.pending = Some(mac);
        self.unsigned += 1;
        true
    }

    /// Records `mac` as the latest MAC.
    fn signed(&mut self, mac: &[u8]) {
        self.prior_mac = mac.to_vec();
        self.pending = None;
        self.unsigned = 0;
        self.started = true;
    }
}

/// Signs the messages of a multi-message response in order.
pub struct StreamSigner {
    chain: Chain,
    fudge: u16,
}

impl StreamSigner {
    /// A signer for the response to a request with MAC `request_mac`.
    pub fn new(key: TsigKey, request_mac: &[u8], fudge: u16) -> Result<StreamSigner, TsigError> {
        if !key.algorithm().can_sign() {
            return Err(TsigError::SigningRefused(key.algorithm()));
        }
        Ok(StreamSigner {
            chain: Chain::new(key, request_mac),
            fudge,
        })
    }

    /// Signs the next message at time `now`.
    pub fn sign(&mut self, msg: &[u8], now: u64) -> Result<Signed, TsigError> {
        let time = sign::time48(now)?;
        let key = self.chain.key.clone();
        let key = &key;
        let signed = if self.chain.started {
            let (id, arcount) = message::id_and_arcount(msg)?;
            let mut data =
                sign::unsigned_data(key.algorithm(), id, Fields::plain(time, self.fudge));
            let mut mac = self.chain.take_pending();
            message::digest_message(&mut mac, msg, msg.len(), id, arcount);
            message::digest_timers(&mut mac, &data);
            let mut full = mac.finish();
            full.truncate(key.mac_len());
            data.mac = full;
            let record = TsigRecord {
                key_name: key.name().clone(),
                data,
            };
            Signed {
                message: message::append(msg, &record)?,
                mac: record.data.mac,
            }
        } else {
            sign::sign_with(
                msg,
                key,
                Some(&self.chain.prior_mac),
                Fields::plain(time, self.fudge),
            )?
        };
        self.chain.signed(&signed.mac);
        Ok(signed)
    }

    /// Sends the next message unsigned; it is covered by the next signature. Fails for the
    /// first message and when 99 messages in a row are already unsigned.
    pub fn skip(&mut self, msg: &[u8]) -> Result<(), TsigError> {
        if self.chain.add_unsigned(msg) {
            Ok(())
        } else {
            Err(TsigError::UnsignedRun)
        }
    }
}

/// Verifies the messages of a multi-message response in order. After an error the
/// stream is broken: later messages no longer verify.
pub struct StreamVerifier {
    chain: Chain,
}

/// What a message of a stream turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamMessage {
    /// Signed and verified.
    Signed(Box<Verified>),
    /// Unsigned; its content is covered by the next signed message, so it must not be
    /// trusted before that one verifies.
    Unsigned,
}

impl StreamVerifier {
    /// A verifier for the response to a request with MAC `request_mac`, signed with `key`.
    pub fn new(key: TsigKey, request_mac: &[u8]) -> StreamVerifier {
        StreamVerifier {
            chain: Chain::new(key, request_mac),
        }
    }

    /// Verifies the next message at time `now`.
    pub fn verify(&mut self, msg: &[u8], now: u64) -> Result<StreamMessage, VerifyError> {
        if !self.chain.started {
            let v = verify::verify_response(msg, &self.chain.key, &self.chain.prior_mac, now)?;
            self.chain.signed(v.mac());
            return Ok(StreamMessage::Signed(Box::new(v)));
        }
        let Some(located) = message::locate(msg)? else {
            return if self.chain.add_unsigned(msg) {
                Ok(StreamMessage::Unsigned)
            } else {
                Err(VerifyError::UnsignedRun)
            };
        };
        let key = self.chain.key.clone();
        let data = &located.record.data;
        if located.record.key_name != *key.name() || data.algorithm != key.algorithm().name() {
            return Err(VerifyError::BadKey(Box::new(located.record)));
        }
        if data.error != Rcode::NOERROR && data.mac.is_empty() {
            return Err(VerifyError::Peer {
                error: data.error,
                other: data.other.clone(),
            });
        }
        verify::check_mac_len(&located, &key)?;
        let (_, arcount) = message::id_and_arcount(msg)?;
        let mut mac = self.chain.take_pending();
        message::digest_message(
            &mut mac,
            msg,
            located.start,
            data.original_id,
            arcount.saturating_sub(1),
        );
        message::digest_timers(&mut mac, data);
        let v = verify::finish(mac, located, &key, now)?;
        self.chain.signed(v.mac());
        Ok(StreamMessage::Signed(Box::new(v)))
    }

    /// Checks that the stream ended with a signed message (RFC 8945 §5.3.1).
    pub fn finish(&self) -> Result<(), VerifyError> {
        if self.chain.started && self.chain.unsigned == 0 {
            Ok(())
        } else {
            Err(VerifyError::UnsignedRun)
        }
    }
}
