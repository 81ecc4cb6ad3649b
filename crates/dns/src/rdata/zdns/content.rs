//! Content and domain registry records: CONTENT (a content identifier), WEB4CONTENT (the
//! digest of the content at a path) and WEB4 (a Web4 domain's registry metadata).

use std::fmt;

use super::cid::Cid;
use super::fields::{InvalidData, parse_time, write_time};
use super::registry::{HashAlgorithm, Network};
use crate::encoding;
use crate::rdata::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// The content published under the owner name, by content identifier (type 65286).
///
/// Presentation: `<network> <cid>`, e.g.
/// `IPFS bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi`. The CID is printed
/// as IPFS prints it (CIDv0 `Qm...`, CIDv1 base32 `b...`) and kept in binary on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Content {
    /// Where the identifier is resolved.
    pub network: Network,
    /// The content identifier.
    pub cid: Cid,
}

impl RecordData for Content {
    const RTYPE: Rtype = Rtype::CONTENT;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let network = Network(r.u8()?);
        let at = r.pos();
        let cid = Cid::from_bytes(r.rest()).map_err(|e| e.at_wire(at))?;
        Ok(Content { network, cid })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.network.0)?;
        w.put_bytes(self.cid.as_bytes())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let network = Network::parse_field(f)?;
        let t = f.word("content identifier")?;
        let cid = Cid::from_text(t.text).map_err(|e| e.at_text(t.pos))?;
        Ok(Content { network, cid })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.network, self.cid)
    }
}

/// The digest of the content served at one path of a Web4 domain (type 65290).
///
/// Presentation: `<hash-algorithm> <path> <media-type> <digest hex>`, e.g.
/// `SHA256 "/index.html" "text/html" E3B0C442...`. The path starts with `/`; the media
/// type (RFC 6838) may be empty when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Web4content {
    algorithm: HashAlgorithm,
    path: Vec<u8>,
    media_type: Vec<u8>,
    digest: Vec<u8>,
}

impl Web4content {
    /// A path mapping. The path must start with `/` (at most 255 bytes), the media type
    /// be at most 255 bytes, and the digest non-empty and of the algorithm's length when
    /// the algorithm is registered.
    pub fn new(
        algorithm: HashAlgorithm,
        path: Vec<u8>,
        media_type: Vec<u8>,
        digest: Vec<u8>,
    ) -> Result<Web4content, InvalidData> {
        if path.first() != Some(&b'/') || path.len() > 255 {
            return Err(InvalidData(
                "path must start with '/' and be at most 255 bytes",
            ));
        }
        if media_type.len() > 255 {
            return Err(InvalidData("media type longer than 255 bytes"));
        }
        if digest.is_empty() {
            return Err(InvalidData("empty digest"));
        }
        if algorithm.digest_len().is_some_and(|n| n != digest.len()) {
            return Err(InvalidData(
                "digest length does not match the hash algorithm",
            ));
        }
        Ok(Web4content {
            algorithm,
            path,
            media_type,
            digest,
        })
    }

    /// The hash algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The path, starting with `/`.
    pub fn path(&self) -> &[u8] {
        &self.path
    }

    /// The media type, empty if unknown.
    pub fn media_type(&self) -> &[u8] {
        &self.media_type
    }

    /// The digest of the content.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }
}

impl RecordData for Web4content {
    const RTYPE: Rtype = Rtype::WEB4CONTENT;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let algorithm = HashAlgorithm(r.u8()?);
        let path = r.char_string()?.to_vec();
        let media_type = r.char_string()?.to_vec();
        let digest = r.rest().to_vec();
        Web4content::new(algorithm, path, media_type, digest).map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.algorithm.0)?;
        w.put_char_string(&self.path)?;
        w.put_char_string(&self.media_type)?;
        w.put_bytes(&self.digest)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let algorithm = HashAlgorithm::parse_field(f)?;
        let pos = f.pos();
        let path = f.char_string("path")?;
        let media_type = f.char_string("media type")?;
        let digest = f.hex_rest("digest")?;
        Web4content::new(algorithm, path, media_type, digest).map_err(|e| e.at_text(pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.algorithm)?;
        write_char_string(&self.path, f)?;
        f.write_str(" ")?;
        write_char_string(&self.media_type, f)?;
        f.write_str(" ")?;
        encoding::hex_encode(&self.digest, f)
    }
}

/// Registry metadata of a Web4 domain (type 65289).
///
/// Presentation: `<flags> <registered> <expires> <owner> [<attribute> ...]`, e.g.
/// `1 20260117000000 20270117000000 "did:zhtp:7f3a8b2c" "title=Alice"`. Times are as in
/// RRSIG; attributes are `key=value` character-strings with a non-empty key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Web4 {
    flags: u16,
    registered: u32,
    expires: u32,
    owner: Vec<u8>,
    attributes: Vec<Vec<u8>>,
}

impl Web4 {
    /// Transfers of the domain are locked.
    pub const FLAG_LOCKED: u16 = 0x0001;
    /// The registration renews itself from the owner's balance.
    pub const FLAG_AUTO_RENEW: u16 = 0x0002;
    /// The domain is suspended by governance decision and must not resolve to content.
    pub const FLAG_SUSPENDED: u16 = 0x0004;

    /// Domain metadata. The registration must end after it starts, the owner be 1 to
    /// 255 bytes, and each attribute at most 255 bytes of the form `key=value` with a
    /// non-empty key. Unassigned flag bits are kept.
    pub fn new(
        flags: u16,
        registered: u32,
        expires: u32,
        owner: Vec<u8>,
        attributes: Vec<Vec<u8>>,
    ) -> Result<Web4, InvalidData> {
        if expires <= registered {
            return Err(InvalidData(
                "expiry time must be after the registration time",
            ));
        }
        if !(1..=255).contains(&owner.len()) {
            return Err(InvalidData("owner must be 1 to 255 bytes"));
        }
        for a in &attributes {
            if a.len() > 255 || a.iter().position(|&c| c == b'=').is_none_or(|eq| eq == 0) {
                return Err(InvalidData(
                    "attribute must be 'key=value' with a non-empty key, at most 255 bytes",
                ));
            }
        }
        Ok(Web4 {
            flags,
            registered,
            expires,
            owner,
            attributes,
        })
    }

    /// The flag bits.
    pub fn flags(&self) -> u16 {
        self.flags
    }

    /// When the domain was registered, seconds since 1970.
    pub fn registered(&self) -> u32 {
        self.registered
    }

    /// When the registration ends, seconds since 1970.
    pub fn expires(&self) -> u32 {
        self.expires
    }

    /// The registered owner (a DID or account as text).
    pub fn owner(&self) -> &[u8] {
        &self.owner
    }

    /// The `key=value` attributes, in order.
    pub fn attributes(&self) -> &[Vec<u8>] {
        &self.attributes
    }
}

impl RecordData for Web4 {
    const RTYPE: Rtype = Rtype::WEB4;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let flags = r.u16()?;
        let registered = r.u32()?;
        let expires = r.u32()?;
        let owner = r.char_string()?.to_vec();
        let mut attributes = Vec::new();
        while !r.is_empty() {
            attributes.push(r.char_string()?.to_vec());
        }
        Web4::new(flags, registered, expires, owner, attributes).map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.flags)?;
        w.put_u32(self.registered)?;
        w.put_u32(self.expires)?;
        w.put_char_string(&self.owner)?;
        for a in &self.attributes {
            w.put_char_string(a)?;
        }
        Ok(())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let flags = f.u16("flags")?;
        let pos = f.pos();
        let registered = parse_time(f, "registration time")?;
        let expires = parse_time(f, "expiry time")?;
        let owner = f.char_string("owner")?;
        let mut attributes = Vec::new();
        while !f.is_empty() {
            attributes.push(f.char_string("attribute")?);
        }
        Web4::new(flags, registered, expires, owner, attributes).map_err(|e| e.at_text(pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.flags)?;
        write_time(self.registered, f)?;
        f.write_str(" ")?;
        write_time(self.expires, f)?;
        f.write_str(" ")?;
        write_char_string(&self.owner, f)?;
        for a in &self.attributes {
            f.write_str(" ")?;
            write_char_string(a, f)?;
        }
        Ok(())
    }
}
