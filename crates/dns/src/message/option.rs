//! EDNS(0) options (RFC 6891 §6.1.2): the typed ones a server or resolver acts on, and any
//! other kept as bytes.
//!
//! Each typed option checks its length and contents when read, so that a malformed option
//! is a clear error (a FORMERR for a server) rather than a value that is half right.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::{WireError, WireReader, WireWriter};

/// NSID (RFC 5001).
pub const NSID: u16 = 3;
/// EDNS Client Subnet (RFC 7871).
pub const CLIENT_SUBNET: u16 = 8;
/// EDNS EXPIRE (RFC 7314); kept as an unknown option.
pub const EXPIRE: u16 = 9;
/// DNS Cookie (RFC 7873).
pub const COOKIE: u16 = 10;
/// edns-tcp-keepalive (RFC 7828).
pub const TCP_KEEPALIVE: u16 = 11;
/// Padding (RFC 7830).
pub const PADDING: u16 = 12;
/// Extended DNS Error (RFC 8914).
pub const EXTENDED_ERROR: u16 = 15;

/// One EDNS option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdnsOption {
    /// Name server identifier (RFC 5001): empty in a query, the server's identity in a
    /// response.
    Nsid(Vec<u8>),
    /// The client's network (RFC 7871).
    ClientSubnet(ClientSubnet),
    /// Client and optional server cookie (RFC 7873).
    Cookie(Cookie),
    /// TCP idle timeout in units of 100 ms (RFC 7828): `None` in a query.
    TcpKeepalive(Option<u16>),
    /// Padding bytes (RFC 7830), which should be zero.
    Padding(Vec<u8>),
    /// An Extended DNS Error (RFC 8914).
    ExtendedError(ExtendedError),
    /// Any other option, uninterpreted.
    Unknown {
        /// The option code.
        code: u16,
        /// The option data.
        data: Vec<u8>,
    },
}

impl EdnsOption {
    /// The option code.
    pub fn code(&self) -> u16 {
        match self {
            EdnsOption::Nsid(_) => NSID,
            EdnsOption::ClientSubnet(_) => CLIENT_SUBNET,
            EdnsOption::Cookie(_) => COOKIE,
            EdnsOption::TcpKeepalive(_) => TCP_KEEPALIVE,
            EdnsOption::Padding(_) => PADDING,
            EdnsOption::ExtendedError(_) => EXTENDED_ERROR,
            EdnsOption::Unknown { code, .. } => *code,
        }
    }

    /// Padding of `len` zero bytes.
    pub fn padding(len: usize) -> EdnsOption {
        EdnsOption::Padding(vec![0; len])
    }

    /// Length of the option data in bytes.
    pub fn data_len(&self) -> usize {
        match self {
            EdnsOption::Nsid(d) | EdnsOption::Padding(d) | EdnsOption::Unknown { data: d, .. } => {
                d.len()
            }
            EdnsOption::ClientSubnet(s) => 4 + s.address_len(),
            EdnsOption::Cookie(c) => 8 + c.server.len(),
            EdnsOption::TcpKeepalive(t) => t.map_or(0, |_| 2),
            EdnsOption::ExtendedError(e) => 2 + e.text.len(),
        }
    }

    /// Reads one option (code, length and data) at the reader's position.
    pub fn parse_wire(r: &mut WireReader<'_>) -> Result<EdnsOption, WireError> {
        let code = r.u16()?;
        let len = usize::from(r.u16()?);
        let at = r.pos();
        let data = r.bytes(len)?;
        let bad = |reason| WireError::BadRdata { at, reason };
        Ok(match code {
            NSID => EdnsOption::Nsid(data.to_vec()),
            CLIENT_SUBNET => EdnsOption::ClientSubnet(ClientSubnet::parse(data).map_err(bad)?),
            COOKIE => EdnsOption::Cookie(Cookie::parse(data).map_err(bad)?),
            TCP_KEEPALIVE => EdnsOption::TcpKeepalive(match data {
                [] => None,
                [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
                _ => return Err(bad("TCP keepalive option must be empty or 2 bytes")),
            }),
            PADDING => EdnsOption::Padding(data.to_vec()),
            EXTENDED_ERROR => EdnsOption::ExtendedError(ExtendedError::parse(data).map_err(bad)?),
            _ => EdnsOption::Unknown {
                code,
                data: data.to_vec(),
            },
        })
    }

    /// Writes the option: code, length and data.
    pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        let len = u16::try_from(self.data_len()).map_err(|_| WireError::BadRdata {
            at: w.len(),
            reason: "EDNS option longer than 65535 bytes",
        })?;
        w.put_u16(self.code())?;
        w.put_u16(len)?;
        match self {
            EdnsOption::Nsid(d) | EdnsOption::Padding(d) | EdnsOption::Unknown { data: d, .. } => {
                w.put_bytes(d)
            }
            EdnsOption::ClientSubnet(s) => s.write_wire(w),
            EdnsOption::Cookie(c) => {
                w.put_bytes(&c.client)?;
                w.put_bytes(&c.server)
            }
            EdnsOption::TcpKeepalive(t) => t.map_or(Ok(()), |t| w.put_u16(t)),
            EdnsOption::ExtendedError(e) => {
                w.put_u16(e.info_code)?;
                w.put_bytes(e.text.as_bytes())
            }
        }
    }
}

/// A DNS cookie (RFC 7873 §4): an 8-byte client cookie and, in responses and later
/// queries, a server cookie of 8 to 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    client: [u8; 8],
    server: Vec<u8>,
}

impl Cookie {
    /// A client cookie alone.
    pub fn client_only(client: [u8; 8]) -> Cookie {
        Cookie {
            client,
            server: Vec::new(),
        }
    }

    /// A client and server cookie; `None` unless the server cookie is 8 to 32 bytes
    /// (RFC 7873 §4.2).
    pub fn new(client: [u8; 8], server: &[u8]) -> Option<Cookie> {
        (8..=32).contains(&server.len()).then(|| Cookie {
            client,
            server: server.to_vec(),
        })
    }

    /// Reads the option data: 8 bytes, or 16 to 40 bytes (RFC 7873 §5.2.2: any other
    /// length is FORMERR).
    pub fn parse(data: &[u8]) -> Result<Cookie, &'static str> {
        if !valid_cookie_len(data.len()) {
            return Err("COOKIE option must be 8 bytes or 16 to 40 bytes");
        }
        let (client, server) = data.split_at_checked(8).ok_or("COOKIE option too short")?;
        let client: [u8; 8] = client.try_into().map_err(|_| "COOKIE option too short")?;
        Ok(Cookie {
            client,
            server: server.to_vec(),
        })
    }

    /// The client cookie.
    pub fn client(&self) -> &[u8; 8] {
        &self.client
    }

    /// The server cookie, or `None` if there is none.
    pub fn server(&self) -> Option<&[u8]> {
        (!self.server.is_empty()).then_some(self.server.as_slice())
    }
}

/// Whether an option length is valid for COOKIE (RFC 7873 §4).
pub(crate) fn valid_cookie_len(len: usize) -> bool {
    len == 8 || (16..=40).contains(&len)
}

/// EDNS Client Subnet (RFC 7871 §6): an address truncated to its source prefix length,
/// and the scope prefix length of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientSubnet {
    address: IpAddr,
    source_prefix: u8,
    scope_prefix: u8,
}

impl ClientSubnet {
    /// A client subnet; the address is cut to `source_prefix` bits. `None` if a prefix
    /// length is longer than the address.
    pub fn new(address: IpAddr, source_prefix: u8, scope_prefix: u8) -> Option<ClientSubnet> {
        let max = max_prefix(&address);
        if source_prefix > max || scope_prefix > max {
            return None;
        }
        let address = match address {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(
                u32::from(a)
                    & u32::MAX
                        .checked_shl(32 - u32::from(source_prefix))
                        .unwrap_or(0),
            )),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(
                u128::from(a)
                    & u128::MAX
                        .checked_shl(128 - u32::from(source_prefix))
                        .unwrap_or(0),
            )),
        };
        Some(ClientSubnet {
            address,
            source_prefix,
            scope_prefix,
        })
    }

    /// Reads the option data, with the checks of RFC 7871 §6: a known family, prefix
    /// lengths within the address, exactly as many address bytes as the source prefix
    /// needs, and no bits set beyond it.
    pub fn parse(data: &[u8]) -> Result<ClientSubnet, &'static str> {
        let [f_hi, f_lo, source, scope, addr @ ..] = data else {
            return Err("CLIENT-SUBNET option shorter than 4 bytes");
        };
        let family = u16::from_be_bytes([*f_hi, *f_lo]);
        let max: u8 = match family {
            1 => 32,
            2 => 128,
            _ => return Err("CLIENT-SUBNET family is neither IPv4 (1) nor IPv6 (2)"),
        };
        if *source > max || *scope > max {
            return Err("CLIENT-SUBNET prefix length longer than the address");
        }
        if addr.len() != usize::from(source.div_ceil(8)) {
            return Err("CLIENT-SUBNET address length does not match the source prefix");
        }
        if let Some(&last) = addr.last() {
            let used = source % 8;
            if used != 0 && last & (0xffu8 >> used) != 0 {
                return Err("CLIENT-SUBNET address has bits set beyond the source prefix");
            }
        }
        let address = if family == 1 {
            let mut b = [0u8; 4];
            b.get_mut(..addr.len())
                .ok_or("CLIENT-SUBNET address too long")?
                .copy_from_slice(addr);
            IpAddr::V4(Ipv4Addr::from(b))
        } else {
            let mut b = [0u8; 16];
            b.get_mut(..addr.len())
                .ok_or("CLIENT-SUBNET address too long")?
                .copy_from_slice(addr);
            IpAddr::V6(Ipv6Addr::from(b))
        };
        Ok(ClientSubnet {
            address,
            source_prefix: *source,
            scope_prefix: *scope,
        })
    }

    /// The address, zero beyond the source prefix.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The source prefix length.
    pub fn source_prefix(&self) -> u8 {
        self.source_prefix
    }

    /// The scope prefix length (0 in queries).
    pub fn scope_prefix(&self) -> u8 {
        self.scope_prefix
    }

    /// The same subnet with another scope prefix length (a server's answer), or `None`
    /// if it is longer than the address.
    pub fn with_scope(self, scope_prefix: u8) -> Option<ClientSubnet> {
        (scope_prefix <= max_prefix(&self.address)).then_some(ClientSubnet {
            scope_prefix,
            ..self
        })
    }

    /// The address family number (1 for IPv4, 2 for IPv6).
    pub fn family(&self) -> u16 {
        match self.address {
            IpAddr::V4(_) => 1,
            IpAddr::V6(_) => 2,
        }
    }

    fn address_len(&self) -> usize {
        usize::from(self.source_prefix.div_ceil(8))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.family())?;
        w.put_u8(self.source_prefix)?;
        w.put_u8(self.scope_prefix)?;
        let n = self.address_len();
        match self.address {
            IpAddr::V4(a) => w.put_bytes(a.octets().get(..n).unwrap_or_default()),
            IpAddr::V6(a) => w.put_bytes(a.octets().get(..n).unwrap_or_default()),
        }
    }
}

impl fmt::Display for ClientSubnet {
    /// `address/source/scope`, as dig prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.address, self.source_prefix, self.scope_prefix
        )
    }
}

fn max_prefix(address: &IpAddr) -> u8 {
    match address {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// An Extended DNS Error (RFC 8914 §2): an INFO-CODE and optional UTF-8 text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedError {
    /// The INFO-CODE.
    pub info_code: u16,
    /// The EXTRA-TEXT, possibly empty.
    pub text: String,
}

impl ExtendedError {
    /// An error with the given code and text.
    pub fn new(info_code: u16, text: impl Into<String>) -> ExtendedError {
        ExtendedError {
            info_code,
            text: text.into(),
        }
    }

    /// Reads the option data: a 2-byte code and UTF-8 text (RFC 8914 §2).
    pub fn parse(data: &[u8]) -> Result<ExtendedError, &'static str> {
        let [hi, lo, text @ ..] = data else {
            return Err("Extended DNS Error option shorter than 2 bytes");
        };
        let text = std::str::from_utf8(text)
            .map_err(|_| "Extended DNS Error text is not UTF-8")?
            .to_owned();
        Ok(ExtendedError {
            info_code: u16::from_be_bytes([*hi, *lo]),
            text,
        })
    }

    /// The registered name of the INFO-CODE, if it has one.
    pub fn name(&self) -> Option<&'static str> {
        ede_name(self.info_code)
    }
}

/// The names of the IANA "Extended DNS Error Codes" registry (RFC 8914 §5.2 and later
/// additions).
pub fn ede_name(code: u16) -> Option<&'static str> {
    Some(match code {
        0 => "Other",
        1 => "Unsupported DNSKEY Algorithm",
        2 => "Unsupported DS Digest Type",
        3 => "Stale Answer",
        4 => "Forged Answer",
        5 => "DNSSEC Indeterminate",
        6 => "DNSSEC Bogus",
        7 => "Signature Expired",
        8 => "Signature Not Yet Valid",
        9 => "DNSKEY Missing",
        10 => "RRSIGs Missing",
        11 => "No Zone Key Bit Set",
        12 => "NSEC Missing",
        13 => "Cached Error",
        14 => "Not Ready",
        15 => "Blocked",
        16 => "Censored",
        17 => "Filtered",
        18 => "Prohibited",
        19 => "Stale NXDomain Answer",
        20 => "Not Authoritative",
        21 => "Not Supported",
        22 => "No Reachable Authority",
        23 => "Network Error",
        24 => "Invalid Data",
        25 => "Signature Expired before Valid",
        26 => "Too Early",
        27 => "Unsupported NSEC3 Iterations Value",
        28 => "Unable to conform to policy",
        29 => "Synthesized",
        30 => "Invalid Query Type",
        _ => return None,
    })
}
