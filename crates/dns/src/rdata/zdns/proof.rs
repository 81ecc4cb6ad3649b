//! Zero-knowledge ownership proofs: ZK (a proof about the owner name, bound to a
//! verifying key) and WEB4OWNER (a proof that the holder of a committed identity owns a
//! Web4 domain).

use std::fmt;

use super::fields::{hex_word, parse_time, read_rest_nonempty, read_short_bytes, write_time};
use super::registry::ProofSystem;
use crate::encoding;
use crate::rdata::RecordData;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// Reads a Base64 proof running to the end of the entry, which must not be empty.
fn proof_text(f: &mut Fields<'_>) -> Result<Vec<u8>, TextError> {
    let pos = f.pos();
    let proof = f.base64_rest("proof")?;
    if proof.is_empty() {
        return Err(TextError::new(pos, "empty proof"));
    }
    Ok(proof)
}

/// A zero-knowledge proof of ownership of the owner name (type 65282).
///
/// Presentation: `<system> <verifying-key-id hex> <proof base64>`, e.g.
/// `GROTH16 5D0A3C... q83vEjRW...`. The verifying key identifier names the circuit's
/// verifying key (normally its SHA-256 digest); the proof encoding is the proof system's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Zk {
    /// The proof system.
    pub system: ProofSystem,
    verifying_key: Vec<u8>,
    proof: Vec<u8>,
}

impl Zk {
    /// A proof; `None` if the verifying key identifier is empty or over 255 bytes, or
    /// the proof is empty.
    pub fn new(system: ProofSystem, verifying_key: Vec<u8>, proof: Vec<u8>) -> Option<Zk> {
        ((1..=255).contains(&verifying_key.len()) && !proof.is_empty()).then_some(Zk {
            system,
            verifying_key,
            proof,
        })
    }

    /// The identifier of the verifying key.
    pub fn verifying_key(&self) -> &[u8] {
        &self.verifying_key
    }

    /// The proof bytes.
    pub fn proof(&self) -> &[u8] {
        &self.proof
    }
}

impl RecordData for Zk {
    const RTYPE: Rtype = Rtype::ZK;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Zk {
            system: ProofSystem(r.u8()?),
            verifying_key: read_short_bytes(r, "empty verifying key identifier")?,
            proof: read_rest_nonempty(r, "empty proof")?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.system.0)?;
        w.put_char_string(&self.verifying_key)?;
        w.put_bytes(&self.proof)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Zk {
            system: ProofSystem::parse_field(f)?,
            verifying_key: hex_word(f, "verifying key identifier")?,
            proof: proof_text(f)?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.system)?;
        encoding::hex_encode(&self.verifying_key, f)?;
        f.write_str(" ")?;
        encoding::base64_encode(&self.proof, f)
    }
}

/// Ownership verification of a Web4 domain: a zero-knowledge proof that the holder of
/// the committed identity owns the owner name (type 65291).
///
/// Presentation: `<system> <created YYYYMMDDHHmmSS> <owner-commitment hex> <proof
/// base64>`. The commitment hides the owner's identity; the proof shows knowledge of its
/// opening and of the key that registered the domain, as of `created`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Web4owner {
    /// The proof system.
    pub system: ProofSystem,
    /// When the proof was made, in seconds since 1970 (RFC 4034 §3.1.5 time format).
    pub created: u32,
    commitment: Vec<u8>,
    proof: Vec<u8>,
}

impl Web4owner {
    /// An ownership proof; `None` if the commitment is empty or over 255 bytes, or the
    /// proof is empty.
    pub fn new(
        system: ProofSystem,
        created: u32,
        commitment: Vec<u8>,
        proof: Vec<u8>,
    ) -> Option<Web4owner> {
        ((1..=255).contains(&commitment.len()) && !proof.is_empty()).then_some(Web4owner {
            system,
            created,
            commitment,
            proof,
        })
    }

    /// The commitment to the owner's identity.
    pub fn commitment(&self) -> &[u8] {
        &self.commitment
    }

    /// The proof bytes.
    pub fn proof(&self) -> &[u8] {
        &self.proof
    }
}

impl RecordData for Web4owner {
    const RTYPE: Rtype = Rtype::WEB4OWNER;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Web4owner {
            system: ProofSystem(r.u8()?),
            created: r.u32()?,
            commitment: read_short_bytes(r, "empty owner commitment")?,
            proof: read_rest_nonempty(r, "empty proof")?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.system.0)?;
        w.put_u32(self.created)?;
        w.put_char_string(&self.commitment)?;
        w.put_bytes(&self.proof)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Web4owner {
            system: ProofSystem::parse_field(f)?,
            created: parse_time(f, "creation time")?,
            commitment: hex_word(f, "owner commitment")?,
            proof: proof_text(f)?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.system)?;
        write_time(self.created, f)?;
        f.write_str(" ")?;
        encoding::hex_encode(&self.commitment, f)?;
        f.write_str(" ")?;
        encoding::base64_encode(&self.proof, f)
    }
}
