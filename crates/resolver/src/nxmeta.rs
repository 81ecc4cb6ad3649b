//! NXDOMAIN metadata (seed 003 §12.2 rule 4): in a partitioned mesh an NXDOMAIN is one
//! node's opinion, so every NXDOMAIN the resolver gives says who said it, in which
//! partition, and how much of the zone's authority was asked, in an EDNS option whose
//! format `docs/zdns-records.md` §4.1 specifies:
//!
//! | Field           | Size    | Meaning                                              |
//! |-----------------|---------|------------------------------------------------------|
//! | version         | 1       | 1                                                    |
//! | coverage        | 2       | authority coverage in basis points (0–10000), 65535 unknown |
//! | responder kind  | 1       | 0 unknown, 1 IPv4, 2 IPv6, 3 mesh node id            |
//! | responder       | string8 | 0, 4 or 16 bytes by kind, or the node id (1–255)     |
//! | partition       | string8 | the mesh partition id, empty when unknown            |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lib_dns::wire::{WireError, WireReader, WireWriter};

/// The option code, from the local/experimental range of RFC 6891 §9.
pub const NXMETA_OPTION: u16 = 65432;

const VERSION: u8 = 1;

/// Coverage value meaning "unknown".
const COVERAGE_UNKNOWN: u16 = u16::MAX;

/// Who gave the NXDOMAIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Responder {
    /// Not known.
    Unknown,
    /// The server's address.
    Address(IpAddr),
    /// A mesh node id.
    Node(Vec<u8>),
}

/// The metadata of one NXDOMAIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NxMetadata {
    /// Who said the name does not exist.
    pub responder: Responder,
    /// The mesh partition id, empty when unknown.
    pub partition: Vec<u8>,
    /// Of the servers known for the zone, the share asked, in basis points; `None` when
    /// unknown.
    pub coverage_bp: Option<u16>,
}

impl NxMetadata {
    /// Metadata for an NXDOMAIN from `server`, after asking `asked` of `known` servers.
    pub fn from_server(server: IpAddr, asked: usize, known: usize) -> NxMetadata {
        let coverage_bp = (known > 0).then(|| {
            let bp = asked.min(known).saturating_mul(10_000) / known;
            u16::try_from(bp).unwrap_or(10_000)
        });
        NxMetadata {
            responder: Responder::Address(server),
            partition: Vec::new(),
            coverage_bp,
        }
    }

    /// The option data.
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut w = WireWriter::plain();
        w.put_u8(VERSION)?;
        w.put_u16(self.coverage_bp.map_or(COVERAGE_UNKNOWN, |c| c.min(10_000)))?;
        let (kind, bytes) = match &self.responder {
            Responder::Unknown => (0, Vec::new()),
            Responder::Address(IpAddr::V4(v4)) => (1, v4.octets().to_vec()),
            Responder::Address(IpAddr::V6(v6)) => (2, v6.octets().to_vec()),
            Responder::Node(id) => (3, id.clone()),
        };
        w.put_u8(kind)?;
        w.put_char_string(&bytes)?;
        w.put_char_string(&self.partition)?;
        Ok(w.into_bytes())
    }

    /// Reads option data; malformed data is an error.
    pub fn decode(data: &[u8]) -> Result<NxMetadata, &'static str> {
        let bad = |_: WireError| "malformed NXDOMAIN metadata";
        let mut r = WireReader::new(data);
        if r.u8().map_err(bad)? != VERSION {
            return Err("unknown NXDOMAIN metadata version");
        }
        let coverage = r.u16().map_err(bad)?;
        let coverage_bp = match coverage {
            COVERAGE_UNKNOWN => None,
            c if c <= 10_000 => Some(c),
            _ => return Err("NXDOMAIN metadata coverage above 100%"),
        };
        let kind = r.u8().map_err(bad)?;
        let responder_bytes = r.char_string().map_err(bad)?;
        let responder = match (kind, responder_bytes.len()) {
            (0, 0) => Responder::Unknown,
            (1, 4) => {
                let octets: [u8; 4] = responder_bytes.try_into().map_err(|_| "bad IPv4")?;
                Responder::Address(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            (2, 16) => {
                let octets: [u8; 16] = responder_bytes.try_into().map_err(|_| "bad IPv6")?;
                Responder::Address(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            (3, 1..) => Responder::Node(responder_bytes.to_vec()),
            _ => return Err("NXDOMAIN metadata responder does not match its kind"),
        };
        let partition = r.char_string().map_err(bad)?.to_vec();
        r.finish().map_err(bad)?;
        Ok(NxMetadata {
            responder,
            partition,
            coverage_bp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_malformed() {
        let cases = [
            NxMetadata::from_server("192.0.2.7".parse().unwrap(), 1, 2),
            NxMetadata::from_server("2001:db8::1".parse().unwrap(), 3, 3),
            NxMetadata {
                responder: Responder::Node(vec![0x7f, 0x3a]),
                partition: b"p-1".to_vec(),
                coverage_bp: None,
            },
            NxMetadata {
                responder: Responder::Unknown,
                partition: Vec::new(),
                coverage_bp: Some(0),
            },
        ];
        for meta in cases {
            let bytes = meta.encode().unwrap();
            assert_eq!(NxMetadata::decode(&bytes).unwrap(), meta);
            for cut in 0..bytes.len() {
                assert!(NxMetadata::decode(&bytes[..cut]).is_err());
            }
        }
        assert_eq!(
            NxMetadata::from_server("192.0.2.7".parse().unwrap(), 1, 2)
                .encode()
                .unwrap(),
            vec![1, 0x13, 0x88, 1, 4, 192, 0, 2, 7, 0]
        );
        assert!(NxMetadata::decode(&[2, 0, 0, 0, 0, 0]).is_err(), "version");
        assert!(
            NxMetadata::decode(&[1, 0x27, 0x11, 0, 0, 0]).is_err(),
            "coverage 100.01%"
        );
        assert!(
            NxMetadata::decode(&[1, 0, 0, 1, 3, 1, 2, 3, 0]).is_err(),
            "3-byte IPv4"
        );
        assert!(
            NxMetadata::decode(&[1, 0, 0, 3, 0, 0]).is_err(),
            "empty node id"
        );
        assert!(
            NxMetadata::decode(&[1, 0, 0, 0, 0, 0, 9]).is_err(),
            "trailing bytes"
        );
    }
}
