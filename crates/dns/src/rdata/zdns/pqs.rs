//! PQS: a post-quantum signature over a record set, laid out exactly as RRSIG (RFC 4034
//! §3.1) so that the same signing and verification code serves both, with the ZDNS
//! algorithm registry in place of the DNSSEC one.

use std::fmt;

use super::fields::{InvalidData, parse_time, write_time};
use super::registry::Algorithm;
use crate::encoding;
use crate::name::Name;
use crate::rdata::RecordData;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{NameKind, WireError, WireReader, WireWriter};

/// A post-quantum signature (type 65288).
///
/// Presentation, as RRSIG's (RFC 4034 §3.2) but with the algorithm mnemonic:
/// `<type-covered> <algorithm> <labels> <original-ttl> <expiration> <inception>
/// <key-tag> <signer> <signature base64>`. The signature covers, as RFC 4034 §3.1.8.1
/// describes, this record's data without the signature followed by the covered records
/// in canonical form: owner name, type, class, original TTL and data. The inception is
/// the signature's time stamp.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pqs {
    /// The type of the record set signed.
    pub type_covered: Rtype,
    algorithm: Algorithm,
    /// Labels of the owner name, without the root and a leading wildcard (RFC 4034
    /// §3.1.3).
    pub labels: u8,
    /// The TTL of the records as signed.
    pub original_ttl: u32,
    /// End of validity, seconds since 1970 in RFC 1982 serial arithmetic.
    pub expiration: u32,
    /// Start of validity and time stamp of the signature.
    pub inception: u32,
    /// Key tag of the signing key (RFC 4034 Appendix B over its DNSKEY data).
    pub key_tag: u16,
    /// The zone or owner whose key signed; never compressed.
    pub signer: Name,
    signature: Vec<u8>,
}

/// The parts of a [`Pqs`] before the signature, which the signed data starts with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PqsHeader {
    /// The type of the record set signed.
    pub type_covered: Rtype,
    /// The signing algorithm; must be able to sign.
    pub algorithm: Algorithm,
    /// Labels of the owner name.
    pub labels: u8,
    /// The TTL as signed.
    pub original_ttl: u32,
    /// End of validity.
    pub expiration: u32,
    /// Start of validity.
    pub inception: u32,
    /// Key tag of the signing key.
    pub key_tag: u16,
    /// The signer's name.
    pub signer: Name,
}

impl Pqs {
    /// A signature; fails if the algorithm is a key-agreement one or the signature is
    /// empty.
    pub fn new(header: PqsHeader, signature: Vec<u8>) -> Result<Pqs, InvalidData> {
        if header.algorithm.is_key_agreement() {
            return Err(InvalidData("a key-agreement algorithm cannot sign"));
        }
        if signature.is_empty() {
            return Err(InvalidData("empty signature"));
        }
        Ok(Pqs {
            type_covered: header.type_covered,
            algorithm: header.algorithm,
            labels: header.labels,
            original_ttl: header.original_ttl,
            expiration: header.expiration,
            inception: header.inception,
            key_tag: header.key_tag,
            signer: header.signer,
            signature,
        })
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The start of the signed data (RFC 4034 §3.1.8.1): this record's data without the
    /// signature, with the signer name in lowercase. The covered records in canonical
    /// form follow it.
    pub fn signed_data_prefix(&self) -> Result<Vec<u8>, WireError> {
        let mut w = WireWriter::plain();
        self.write_header(&mut w, &self.signer.to_lowercase())?;
        Ok(w.into_bytes())
    }

    fn write_header(&self, w: &mut WireWriter, signer: &Name) -> Result<(), WireError> {
        w.put_u16(self.type_covered.0)?;
        w.put_u8(self.algorithm.0)?;
        w.put_u8(self.labels)?;
        w.put_u32(self.original_ttl)?;
        w.put_u32(self.expiration)?;
        w.put_u32(self.inception)?;
        w.put_u16(self.key_tag)?;
        // A private-use type: peers treat it as unknown, so its names are neither
        // compressed nor lowercased in canonical form (RFC 3597 §4, §7).
        w.put_name(signer, NameKind::Plain)
    }
}

impl RecordData for Pqs {
    const RTYPE: Rtype = Rtype::PQS;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let header = PqsHeader {
            type_covered: Rtype(r.u16()?),
            algorithm: Algorithm(r.u8()?),
            labels: r.u8()?,
            original_ttl: r.u32()?,
            expiration: r.u32()?,
            inception: r.u32()?,
            key_tag: r.u16()?,
            signer: r.name()?,
        };
        Pqs::new(header, r.rest().to_vec()).map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        self.write_header(w, &self.signer)?;
        w.put_bytes(&self.signature)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let t = f.word("type covered")?;
        let type_covered = Rtype::from_mnemonic(t.text)
            .ok_or_else(|| t.error(format!("unknown type covered '{}'", t.lossy())))?;
        let alg_pos = f.pos();
        let header = PqsHeader {
            type_covered,
            algorithm: Algorithm::parse_field(f)?,
            labels: f.u8("labels")?,
            original_ttl: f.ttl("original TTL")?,
            expiration: parse_time(f, "expiration")?,
            inception: parse_time(f, "inception")?,
            key_tag: f.u16("key tag")?,
            signer: f.name("signer name")?,
        };
        let signature = f.base64_rest("signature")?;
        Pqs::new(header, signature).map_err(|e| e.at_text(alg_pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} ",
            self.type_covered, self.algorithm, self.labels, self.original_ttl
        )?;
        write_time(self.expiration, f)?;
        f.write_str(" ")?;
        write_time(self.inception, f)?;
        write!(f, " {} {} ", self.key_tag, self.signer)?;
        encoding::base64_encode(&self.signature, f)
    }
}
