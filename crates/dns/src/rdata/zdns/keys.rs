//! Key records: ID (an identity's public key and what it may be used for) and MULTISIG
//! (the keys that jointly control a name, and how many of them must sign).

use std::fmt;

use super::fields::{InvalidData, hex_word, read_rest_nonempty};
use super::registry::{Algorithm, KeyPurpose};
use crate::encoding;
use crate::rdata::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// An identity binding: the owner name belongs to `identity`, which holds `public_key`
/// for `purpose` (type 65283).
///
/// Presentation: `<purpose> <algorithm> <identity> <public-key base64>`, e.g.
/// `AUTH ED25519 "did:zhtp:7f3a8b2c" 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=`.
/// Keys are in the algorithm's usual raw encoding, as in DNSKEY (RFC 8080 §3 for EdDSA,
/// FIPS 204 `pk` for ML-DSA, FIPS 203 `ek` for ML-KEM).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Id {
    purpose: KeyPurpose,
    algorithm: Algorithm,
    identity: Vec<u8>,
    public_key: Vec<u8>,
}

impl Id {
    /// An identity binding. The identity must be 1 to 255 bytes and the key non-empty.
    /// Where both are registered, a key-agreement algorithm goes with purpose AGREE and
    /// AGREE with a key-agreement algorithm.
    pub fn new(
        purpose: KeyPurpose,
        algorithm: Algorithm,
        identity: Vec<u8>,
        public_key: Vec<u8>,
    ) -> Result<Id, InvalidData> {
        if !(1..=255).contains(&identity.len()) {
            return Err(InvalidData("identity must be 1 to 255 bytes"));
        }
        if public_key.is_empty() {
            return Err(InvalidData("empty public key"));
        }
        if algorithm.is_key_agreement()
            && purpose.mnemonic().is_some()
            && purpose != KeyPurpose::AGREE
        {
            return Err(InvalidData("a key-agreement algorithm needs purpose AGREE"));
        }
        if purpose == KeyPurpose::AGREE
            && algorithm.mnemonic().is_some()
            && !algorithm.is_key_agreement()
        {
            return Err(InvalidData("purpose AGREE needs a key-agreement algorithm"));
        }
        Ok(Id {
            purpose,
            algorithm,
            identity,
            public_key,
        })
    }

    /// What the key may be used for.
    pub fn purpose(&self) -> KeyPurpose {
        self.purpose
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The identity (a DID or other identifier).
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }
}

impl RecordData for Id {
    const RTYPE: Rtype = Rtype::ID;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let purpose = KeyPurpose(r.u8()?);
        let algorithm = Algorithm(r.u8()?);
        let identity = r.char_string()?.to_vec();
        let public_key = read_rest_nonempty(r, "empty public key")?;
        Id::new(purpose, algorithm, identity, public_key).map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.purpose.0)?;
        w.put_u8(self.algorithm.0)?;
        w.put_char_string(&self.identity)?;
        w.put_bytes(&self.public_key)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let pos = f.pos();
        let purpose = KeyPurpose::parse_field(f)?;
        let algorithm = Algorithm::parse_field(f)?;
        let identity = f.char_string("identity")?;
        let public_key = f.base64_rest("public key")?;
        Id::new(purpose, algorithm, identity, public_key).map_err(|e| e.at_text(pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.purpose, self.algorithm)?;
        write_char_string(&self.identity, f)?;
        f.write_str(" ")?;
        encoding::base64_encode(&self.public_key, f)
    }
}

/// One member of a multi-signature set: a key, named by its algorithm and identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signer {
    /// The key's algorithm; must be able to sign.
    pub algorithm: Algorithm,
    /// The key identifier, 1 to 255 bytes: normally the SHA-256 digest of the public key.
    pub key_id: Vec<u8>,
}

/// The keys that jointly control the owner name: any `threshold` of the `signers` must
/// sign a change (type 65287).
///
/// Presentation: `<threshold> <algorithm> <key-id hex> [<algorithm> <key-id hex> ...]`,
/// e.g. `2 ED25519 3A7B... MLDSA65 91C4... MLDSA65 0F22...`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Multisig {
    threshold: u8,
    signers: Vec<Signer>,
}

impl Multisig {
    /// A signer set: 1 to 255 distinct signers with signature algorithms and key
    /// identifiers of 1 to 255 bytes, and 1 <= threshold <= number of signers.
    pub fn new(threshold: u8, signers: Vec<Signer>) -> Result<Multisig, InvalidData> {
        if signers.is_empty() {
            return Err(InvalidData("no signers"));
        }
        if signers.len() > 255 {
            return Err(InvalidData("more than 255 signers"));
        }
        if threshold == 0 {
            return Err(InvalidData("threshold must be at least 1"));
        }
        if usize::from(threshold) > signers.len() {
            return Err(InvalidData("threshold exceeds the number of signers"));
        }
        for (i, s) in signers.iter().enumerate() {
            if !(1..=255).contains(&s.key_id.len()) {
                return Err(InvalidData("key identifier must be 1 to 255 bytes"));
            }
            if s.algorithm.is_key_agreement() {
                return Err(InvalidData("a key-agreement algorithm cannot sign"));
            }
            if signers.get(..i).is_some_and(|before| before.contains(s)) {
                return Err(InvalidData("the same signer is listed twice"));
            }
        }
        Ok(Multisig { threshold, signers })
    }

    /// How many signers must sign.
    pub fn threshold(&self) -> u8 {
        self.threshold
    }

    /// The signers.
    pub fn signers(&self) -> &[Signer] {
        &self.signers
    }
}

impl RecordData for Multisig {
    const RTYPE: Rtype = Rtype::MULTISIG;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let threshold = r.u8()?;
        let mut signers = Vec::new();
        while !r.is_empty() {
            signers.push(Signer {
                algorithm: Algorithm(r.u8()?),
                key_id: r.char_string()?.to_vec(),
            });
        }
        Multisig::new(threshold, signers).map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.threshold)?;
        for s in &self.signers {
            w.put_u8(s.algorithm.0)?;
            w.put_char_string(&s.key_id)?;
        }
        Ok(())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let pos = f.pos();
        let threshold = f.u8("threshold")?;
        let mut signers = Vec::new();
        loop {
            signers.push(Signer {
                algorithm: Algorithm::parse_field(f)?,
                key_id: hex_word(f, "key identifier")?,
            });
            if f.is_empty() {
                break;
            }
        }
        Multisig::new(threshold, signers).map_err(|e| e.at_text(pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.threshold)?;
        for s in &self.signers {
            write!(f, " {} ", s.algorithm)?;
            encoding::hex_encode(&s.key_id, f)?;
        }
        Ok(())
    }
}
