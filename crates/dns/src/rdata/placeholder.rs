//! Temporary opaque stand-ins for record types whose typed form is still being written.
//! Each is replaced by its real module; this file disappears when the last one is.

use std::fmt;

use super::RecordData;
use crate::text::{Fields, TextError};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

macro_rules! placeholder {
    ($($ty:ident = $rtype:ident,)*) => {$(
        #[doc = concat!("`", stringify!($rtype), "` record data (opaque for now).")]
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            data: Vec<u8>,
        }

        impl RecordData for $ty {
            const RTYPE: Rtype = Rtype::$rtype;

            fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
                Ok($ty { data: r.rest().to_vec() })
            }

            fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
                w.put_bytes(&self.data)
            }

            fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
                Err(f.error(concat!(stringify!($rtype), " presentation format not implemented")))
            }

            fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "\\# {} {}", self.data.len(), crate::encoding::hex_string(&self.data))
            }
        }
    )*};
}

placeholder! {
    Hinfo = HINFO,
    Loc = LOC,
    Srv = SRV,
    Naptr = NAPTR,
    Cert = CERT,
    Ds = DS,
    Sshfp = SSHFP,
    Ipseckey = IPSECKEY,
    Rrsig = RRSIG,
    Nsec = NSEC,
    Dnskey = DNSKEY,
    Dhcid = DHCID,
    Nsec3 = NSEC3,
    Nsec3param = NSEC3PARAM,
    Tlsa = TLSA,
    Smimea = SMIMEA,
    Cds = CDS,
    Cdnskey = CDNSKEY,
    Openpgpkey = OPENPGPKEY,
    Csync = CSYNC,
    Zonemd = ZONEMD,
    Svcb = SVCB,
    Https = HTTPS,
    Tkey = TKEY,
    Tsig = TSIG,
    Uri = URI,
    Caa = CAA,
    Mesh = MESH,
    Zk = ZK,
    Id = ID,
    Dao = DAO,
    Econ = ECON,
    Content = CONTENT,
    Multisig = MULTISIG,
    Pqs = PQS,
    Web4 = WEB4,
    Web4content = WEB4CONTENT,
    Web4owner = WEB4OWNER,
    Web4dht = WEB4DHT,
    Web4mesh = WEB4MESH,
}
