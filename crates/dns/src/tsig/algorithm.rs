//! The HMAC algorithms of RFC 8945 §6 and the running MAC computation.

use std::fmt;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::name::Name;

/// A TSIG MAC algorithm (RFC 8945 §6). HMAC-MD5 and GSS-TSIG are not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `hmac-sha1.`: verified, but never used to sign (RFC 8945 §6: use is NOT
    /// RECOMMENDED).
    HmacSha1,
    /// `hmac-sha224.`
    HmacSha224,
    /// `hmac-sha256.`, the algorithm RFC 8945 §6 makes mandatory.
    HmacSha256,
    /// `hmac-sha384.`
    HmacSha384,
    /// `hmac-sha512.`
    HmacSha512,
}

impl Algorithm {
    /// All supported algorithms.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::HmacSha1,
        Algorithm::HmacSha224,
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The mnemonic, which is also the first label of the algorithm name.
    pub fn mnemonic(self) -> &'static str {
        match self {
            Algorithm::HmacSha1 => "hmac-sha1",
            Algorithm::HmacSha224 => "hmac-sha224",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The algorithm name carried in the TSIG record (RFC 8945 §6), e.g. `hmac-sha256.`.
    pub fn name(self) -> Name {
        let label = self.mnemonic().as_bytes();
        let mut wire = Vec::with_capacity(label.len() + 2);
        wire.push(label.len() as u8);
        wire.extend_from_slice(label);
        wire.push(0);
        Name::from_wire(&wire).unwrap_or_else(|_| Name::root())
    }

    /// The algorithm with this name (case-insensitive), if supported.
    pub fn from_name(name: &Name) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == *name)
    }

    /// The algorithm with this mnemonic (case-insensitive), if supported.
    pub fn from_mnemonic(text: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.mnemonic().eq_ignore_ascii_case(text))
    }

    /// The length of the full MAC (the hash output) in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Algorithm::HmacSha1 => 20,
            Algorithm::HmacSha224 => 28,
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    /// The shortest MAC accepted at all: the larger of 10 bytes and half the output
    /// (RFC 8945 §5.2.2.1).
    pub fn min_mac_len(self) -> usize {
        self.output_len().div_ceil(2).max(10)
    }

    /// Whether new signatures may be made with this algorithm. HMAC-SHA1 is accepted
    /// for verification only (RFC 8945 §6 lists it as "NOT RECOMMENDED" for use).
    pub fn can_sign(self) -> bool {
        self != Algorithm::HmacSha1
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mnemonic())
    }
}

/// An HMAC being computed over the digest components of RFC 8945 §4.3.
pub(crate) enum MacState {
    Sha1(Hmac<Sha1>),
    Sha224(Hmac<Sha224>),
    Sha256(Hmac<Sha256>),
    Sha384(Hmac<Sha384>),
    Sha512(Hmac<Sha512>),
}

impl MacState {
    /// Starts a MAC with `secret`. HMAC accepts keys of any length, so this cannot fail.
    pub(crate) fn new(algorithm: Algorithm, secret: &[u8]) -> MacState {
        match algorithm {
            Algorithm::HmacSha1 => MacState::Sha1(new_hmac(secret)),
            Algorithm::HmacSha224 => MacState::Sha224(new_hmac(secret)),
            Algorithm::HmacSha256 => MacState::Sha256(new_hmac(secret)),
            Algorithm::HmacSha384 => MacState::Sha384(new_hmac(secret)),
            Algorithm::HmacSha512 => MacState::Sha512(new_hmac(secret)),
        }
    }

    /// Adds data to the MAC.
    pub(crate) fn update(&mut self, data: &[u8]) {
        match self {
            MacState::Sha1(m) => m.update(data),
            MacState::Sha224(m) => m.update(data),
            MacState::Sha256(m) => m.update(data),
            MacState::Sha384(m) => m.update(data),
            MacState::Sha512(m) => m.update(data),
        }
    }

    /// The full MAC.
    pub(crate) fn finish(self) -> Vec<u8> {
        match self {
            MacState::Sha1(m) => m.finalize().into_bytes().to_vec(),
            MacState::Sha224(m) => m.finalize().into_bytes().to_vec(),
            MacState::Sha256(m) => m.finalize().into_bytes().to_vec(),
            MacState::Sha384(m) => m.finalize().into_bytes().to_vec(),
            MacState::Sha512(m) => m.finalize().into_bytes().to_vec(),
        }
    }

    /// Whether `mac` equals the MAC or its leftmost bytes (a truncated MAC, RFC 8945
    /// §5.2.2.1), compared in constant time. An empty `mac` never matches.
    pub(crate) fn verify(self, mac: &[u8]) -> bool {
        match self {
            MacState::Sha1(m) => m.verify_truncated_left(mac).is_ok(),
            MacState::Sha224(m) => m.verify_truncated_left(mac).is_ok(),
            MacState::Sha256(m) => m.verify_truncated_left(mac).is_ok(),
            MacState::Sha384(m) => m.verify_truncated_left(mac).is_ok(),
            MacState::Sha512(m) => m.verify_truncated_left(mac).is_ok(),
        }
    }
}

/// An HMAC keyed with `secret`. HMAC hashes long keys and pads short ones (RFC 2104 §2),
/// so `new_from_slice` never fails and the zero-key fallback is unreachable.
fn new_hmac<M: Mac + hmac::digest::KeyInit>(secret: &[u8]) -> M {
    <M as hmac::digest::KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| <M as hmac::digest::KeyInit>::new(&Default::default()))
}
