//! Record data: one type per record type, in wire and presentation form both ways.
//!
//! Every type implements [`RecordData`]. [`RData`] is the sum of all of them plus
//! [`UnknownRdata`], which holds any other type as opaque bytes and prints it in the
//! RFC 3597 generic form `\# <length> <hex>`. Known types are accepted in generic form
//! too (RFC 3597 §5) and decoded as if read from the wire.

use std::fmt;

use crate::encoding;
use crate::name::Name;
use crate::text::{EntryLexer, Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

mod basic;
mod bitmap;
mod caa;
mod cert;
mod dnssec;
mod hinfo;
mod keys;
mod loc;
mod nsec;
mod opt;
mod service;
mod svcb;
mod time;
mod tlsa;
mod tsig;
mod zdns;
mod zonemeta;

pub use basic::{A, Aaaa, Cname, Dname, Mx, Ns, Ptr, Soa, Spf, Txt};
pub use bitmap::TypeBitmap;
pub use caa::Caa;
pub use cert::Cert;
pub use dnssec::{Algorithm, Cdnskey, Cds, DelegationSigner, Dnskey, Ds, PublicKey, Rrsig};
pub use hinfo::Hinfo;
pub use keys::{Dhcid, IpsecGateway, Ipseckey, Openpgpkey, Sshfp};
pub use loc::{Loc, LocPrecision};
pub use nsec::{Nsec, Nsec3, Nsec3Hash, Nsec3param};
pub use opt::Opt;
pub use service::{Naptr, Srv, Uri};
pub use svcb::{Https, ServiceBinding, SvcParam, SvcParamKey, Svcb};
pub use time::{SigTime, parse_sig_time};
pub use tlsa::{Smimea, Tlsa};
pub use tsig::{Time48, Tkey, Tsig};
pub use zdns::{
    BasisPoints, Cid, Content, Dao, Econ, Endpoint, Id, InvalidData, Mesh, Multisig, Pqs,
    PqsHeader, RevenueShare, Signer, Web4, Web4content, Web4dht, Web4mesh, Web4owner, Zk, registry,
};
pub use zonemeta::{Csync, Zonemd};

/// The record data of one record type.
pub trait RecordData: Sized {
    /// The type this data belongs to.
    const RTYPE: Rtype;

    /// Reads the data from `r`, which is limited to the record's RDLENGTH. The caller
    /// checks that everything was read.
    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError>;

    /// Writes the data. Names are written with the [`NameKind`](crate::wire::NameKind)
    /// the type calls for, so the writer decides about compression and case.
    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError>;

    /// Reads the presentation form from the record data fields of an entry. The caller
    /// checks that every field was read.
    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError>;

    /// Writes the presentation form, as BIND's canonical output does: absolute names,
    /// quoted character-strings, upper-case hex, unbroken Base64.
    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

/// Data of a type without a typed representation here, kept as bytes (RFC 3597).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRdata {
    /// The record type.
    pub rtype: Rtype,
    /// The data, uninterpreted.
    pub data: Vec<u8>,
}

impl fmt::Display for UnknownRdata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_generic(&self.data, f)
    }
}

/// Writes `\# <length> <hex>` (RFC 3597 §5).
fn write_generic(data: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "\\# {}", data.len())?;
    if !data.is_empty() {
        f.write_str(" ")?;
        encoding::hex_encode(data, f)?;
    }
    Ok(())
}

/// The type a variant of [`RData`] holds: the data itself, or a box for large data.
macro_rules! rdata_store {
    ($ty:ident) => {
        $ty
    };
    ($ty:ident, $store:ty) => {
        $store
    };
}

/// Declares [`RData`] and its dispatch from the list of typed record data. Types larger
/// than 32 bytes are boxed (`Soa(Soa in Box<Soa>)`), so that `RData` stays 40 bytes and
/// records of the common small types move cheaply.
macro_rules! rdata_enum {
    ($($variant:ident($ty:ident $(in $store:ty)?),)*) => {
        /// Record data of any type.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum RData {
            $(
                #[doc = concat!("`", stringify!($variant), "` record data.")]
                $variant(rdata_store!($ty $(, $store)?)),
            )*
            /// Any other type, as opaque bytes.
            Unknown(UnknownRdata),
        }

        impl RData {
            /// The record type of this data.
            pub fn rtype(&self) -> Rtype {
                match self {
                    $(RData::$variant(_) => <$ty as RecordData>::RTYPE,)*
                    RData::Unknown(u) => u.rtype,
                }
            }

            /// Whether `rtype` has a typed representation.
            pub fn is_known_type(rtype: Rtype) -> bool {
                match rtype {
                    $(<$ty as RecordData>::RTYPE => true,)*
                    _ => false,
                }
            }

            /// Reads data of type `rtype`; `r` is limited to the RDLENGTH and must be
            /// used up exactly.
            pub fn parse_wire(rtype: Rtype, r: &mut WireReader<'_>) -> Result<RData, WireError> {
                let data = match rtype {
                    $(<$ty as RecordData>::RTYPE => RData::$variant($ty::parse_wire(r)?.into()),)*
                    _ => RData::Unknown(UnknownRdata { rtype, data: r.rest().to_vec() }),
                };
                r.finish()?;
                Ok(data)
            }

            /// Writes the data (without the RDLENGTH).
            pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                match self {
                    $(RData::$variant(d) => d.write_wire(w),)*
                    RData::Unknown(u) => w.put_bytes(&u.data),
                }
            }

            fn parse_typed_text(rtype: Rtype, f: &mut Fields<'_>) -> Result<RData, TextError> {
                Ok(match rtype {
                    $(<$ty as RecordData>::RTYPE => RData::$variant($ty::parse_text(f)?.into()),)*
                    _ => {
                        return Err(f.error(format!(
                            "no presentation format is known for type {rtype}; \
                             use the RFC 3597 generic form '\\# <length> <hex>'"
                        )))
                    }
                })
            }
        }

        impl fmt::Display for RData {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(RData::$variant(d) => d.fmt_text(f),)*
                    RData::Unknown(u) => fmt::Display::fmt(u, f),
                }
            }
        }

        $(
            impl From<$ty> for RData {
                fn from(d: $ty) -> RData {
                    RData::$variant(d.into())
                }
            }
        )*
    };
}

rdata_enum! {
    A(A),
    Ns(Ns),
    Cname(Cname),
    Soa(Soa in Box<Soa>),
    Ptr(Ptr),
    Hinfo(Hinfo in Box<Hinfo>),
    Mx(Mx),
    Txt(Txt),
    Aaaa(Aaaa),
    Loc(Loc),
    Srv(Srv),
    Naptr(Naptr in Box<Naptr>),
    Cert(Cert),
    Dname(Dname),
    Opt(Opt),
    Ds(Ds),
    Sshfp(Sshfp),
    Ipseckey(Ipseckey in Box<Ipseckey>),
    Rrsig(Rrsig in Box<Rrsig>),
    Nsec(Nsec in Box<Nsec>),
    Dnskey(Dnskey),
    Dhcid(Dhcid),
    Nsec3(Nsec3 in Box<Nsec3>),
    Nsec3param(Nsec3param),
    Tlsa(Tlsa),
    Smimea(Smimea),
    Cds(Cds),
    Cdnskey(Cdnskey),
    Openpgpkey(Openpgpkey),
    Csync(Csync),
    Zonemd(Zonemd),
    Svcb(Svcb in Box<Svcb>),
    Https(Https in Box<Https>),
    Spf(Spf),
    Tkey(Tkey in Box<Tkey>),
    Tsig(Tsig in Box<Tsig>),
    Uri(Uri),
    Caa(Caa in Box<Caa>),
    Mesh(Mesh in Box<Mesh>),
    Zk(Zk in Box<Zk>),
    Id(Id in Box<Id>),
    Dao(Dao in Box<Dao>),
    Econ(Econ in Box<Econ>),
    Content(Content),
    Multisig(Multisig),
    Pqs(Pqs in Box<Pqs>),
    Web4(Web4 in Box<Web4>),
    Web4content(Web4content in Box<Web4content>),
    Web4owner(Web4owner in Box<Web4owner>),
    Web4dht(Web4dht in Box<Web4dht>),
    Web4mesh(Web4mesh in Box<Web4mesh>),
}

impl RData {
    /// Reads the presentation form of data of type `rtype`: the typed form, or the
    /// RFC 3597 generic form for any type. The caller checks that all fields were used.
    pub fn parse_text(rtype: Rtype, f: &mut Fields<'_>) -> Result<RData, TextError> {
        match f.peek() {
            Some(t) if !t.quoted && t.text == b"\\#" => RData::parse_generic_text(rtype, f),
            _ => RData::parse_typed_text(rtype, f),
        }
    }

    /// Parses presentation text given as one string (tests, the CLI, APIs).
    pub fn parse_str(rtype: Rtype, text: &str, origin: Option<&Name>) -> Result<RData, TextError> {
        let mut lexer = EntryLexer::new();
        let complete = lexer.feed_line(text.as_bytes(), 1)?;
        if !complete {
            return Err(TextError::new(lexer.end_pos(), "unbalanced parentheses"));
        }
        let mut f = lexer.fields(0, origin);
        let data = RData::parse_text(rtype, &mut f)?;
        f.finish()?;
        Ok(data)
    }

    /// `\# <length> [<hex> ...]`, decoded by the type's wire parser for known types.
    fn parse_generic_text(rtype: Rtype, f: &mut Fields<'_>) -> Result<RData, TextError> {
        f.word("\\#")?;
        let len_token = f.word("generic data length")?;
        let len: usize = crate::text::parse_int(&len_token)
            .filter(|&n: &usize| n <= 65535)
            .ok_or_else(|| len_token.error("expected generic data length (0-65535)"))?;
        let data = if len == 0 {
            Vec::new()
        } else {
            f.hex_rest("generic data")?
        };
        if data.len() != len {
            return Err(len_token.error(format!(
                "generic data length is {len} but {} bytes follow",
                data.len()
            )));
        }
        let mut r = WireReader::new(&data);
        let parsed = RData::parse_wire(rtype, &mut r)
            .map_err(|e| len_token.error(format!("generic data is not valid {rtype}: {e}")))?;
        // Compression pointers have no meaning here: the data must be what the type
        // writes uncompressed.
        let mut w = WireWriter::plain();
        let same = parsed.write_wire(&mut w).is_ok() && w.as_bytes() == data.as_slice();
        if !same {
            return Err(len_token.error(format!(
                "generic data is not in the uncompressed wire format of {rtype}"
            )));
        }
        Ok(parsed)
    }

    /// The canonical wire form of RFC 4034 §6.2 (no compression, names lowercased where
    /// the type requires it).
    pub fn to_canonical_wire(&self) -> Result<Vec<u8>, WireError> {
        let mut w = WireWriter::canonical();
        self.write_wire(&mut w)?;
        Ok(w.into_bytes())
    }

    /// Prints the data in the RFC 3597 generic form, whatever the type.
    pub fn to_generic_string(&self) -> Result<String, WireError> {
        let mut w = WireWriter::plain();
        self.write_wire(&mut w)?;
        let u = UnknownRdata {
            rtype: self.rtype(),
            data: w.into_bytes(),
        };
        Ok(u.to_string())
    }
}

#[cfg(test)]
mod tests;
