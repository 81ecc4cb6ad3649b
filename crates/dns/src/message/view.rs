//! A zero-allocation reading of a query, for the server's hot path.
//!
//! [`QueryView::parse`] checks the header, reads the single question and walks the
//! remaining records without decoding them, picking out the EDNS facts a server needs to
//! answer. Nothing is allocated: the question name is borrowed from the message and its
//! lowercase form is kept in a buffer inside the view.

use super::header::Header;
use super::option::{COOKIE, valid_cookie_len};
use crate::name::MAX_NAME_LEN;
use crate::types::{Class, Rtype};
use crate::wire::{WireError, WireReader};

/// The EDNS facts of a query (RFC 6891 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdnsView<'a> {
    /// The requester's UDP payload size.
    pub udp_payload_size: u16,
    /// The upper 8 bits of the rcode.
    pub ext_rcode: u8,
    /// The EDNS version (anything but 0 calls for BADVERS).
    pub version: u8,
    /// The 16 flag bits.
    pub flags: u16,
    /// The COOKIE option's data (client cookie, and server cookie if present), already
    /// checked to be 8 or 16 to 40 bytes long (RFC 7873 §5.2.2).
    pub cookie: Option<&'a [u8]>,
    /// Whether any option other than COOKIE is present.
    pub other_options: bool,
}

impl EdnsView<'_> {
    /// Whether the DO bit is set (RFC 3225).
    pub fn dnssec_ok(&self) -> bool {
        self.flags & super::edns::FLAG_DO != 0
    }
}

/// What a server needs from a query, read without allocating.
#[derive(Clone)]
pub struct QueryView<'a> {
    /// The header as received.
    pub header: Header,
    qname: &'a [u8],
    lower: [u8; MAX_NAME_LEN],
    /// The question type.
    pub qtype: Rtype,
    /// The question class.
    pub qclass: Class,
    /// EDNS, if the query has an OPT record.
    pub edns: Option<EdnsView<'a>>,
    /// Whether the additional section holds a TSIG record (RFC 8945): the query must be
    /// verified, and its answer signed, by whoever holds the keys.
    pub signed: bool,
}

impl<'a> QueryView<'a> {
    /// Reads a query with exactly one question whose name is not compressed. The other
    /// sections are walked to find the OPT record (at most one, owned by the root, in the
    /// additional section) and to check that the counts match the data exactly.
    pub fn parse(msg: &'a [u8]) -> Result<QueryView<'a>, WireError> {
        let mut r = WireReader::new(msg);
        let header = Header::parse(&mut r)?;
        if header.qdcount != 1 {
            return Err(WireError::BadMessage {
                reason: "a query must have exactly one question",
            });
        }
        let start = r.pos();
        let mut lower = [0u8; MAX_NAME_LEN];
        let len = uncompressed_name(&mut r, &mut lower)?;
        let qname = msg
            .get(start..start + len)
            .ok_or(WireError::ShortBuffer { at: start })?;
        let qtype = Rtype(r.u16()?);
        let qclass = Class(r.u16()?);
        for _ in 0..u32::from(header.ancount) + u32::from(header.nscount) {
            let rtype = skip_record(&mut r)?.0;
            if rtype == Rtype::OPT {
                return Err(WireError::BadMessage {
                    reason: "OPT record outside the additional section",
                });
            }
        }
        let mut edns = None;
        let mut signed = false;
        for _ in 0..header.arcount {
            let owner_root = r.message().get(r.pos()) == Some(&0);
            let (rtype, class, ttl, mut data) = skip_record(&mut r)?;
            if rtype == Rtype::TSIG {
                signed = true;
            }
            if rtype != Rtype::OPT {
                continue;
            }
            if edns.is_some() {
                return Err(WireError::BadMessage {
                    reason: "more than one OPT record",
                });
            }
            if !owner_root {
                return Err(WireError::BadMessage {
                    reason: "OPT record owner is not the root",
                });
            }
            let [ext_rcode, version, flags_hi, flags_lo] = ttl.to_be_bytes();
            let mut view = EdnsView {
                udp_payload_size: class.0,
                ext_rcode,
                version,
                flags: u16::from_be_bytes([flags_hi, flags_lo]),
                cookie: None,
                other_options: false,
            };
            while !data.is_empty() {
                let code = data.u16()?;
                let len = usize::from(data.u16()?);
                let at = data.pos();
                let value = data.bytes(len)?;
                if code == COOKIE && view.cookie.is_none() {
                    if !valid_cookie_len(len) {
                        return Err(WireError::BadRdata {
                            at,
                            reason: "COOKIE option must be 8 bytes or 16 to 40 bytes",
                        });
                    }
                    view.cookie = Some(value);
                } else {
                    view.other_options = true;
                }
            }
            edns = Some(view);
        }
        r.finish()?;
        Ok(QueryView {
            header,
            qname,
            lower,
            qtype,
            qclass,
            edns,
            signed,
        })
    }

    /// The question name in uncompressed wire form, case as received.
    pub fn qname_wire(&self) -> &'a [u8] {
        self.qname
    }

    /// The question name in uncompressed wire form, ASCII letters lowercased.
    pub fn qname_lower(&self) -> &[u8] {
        self.lower.get(..self.qname.len()).unwrap_or_default()
    }
}

/// Reads an uncompressed name, copying it lowercased into `lower`; returns its length.
fn uncompressed_name(
    r: &mut WireReader<'_>,
    lower: &mut [u8; MAX_NAME_LEN],
) -> Result<usize, WireError> {
    let start = r.pos();
    let mut out = 0usize;
    loop {
        let at = r.pos();
        let len = r.u8()?;
        match len & 0xc0 {
            0x00 => {}
            0xc0 => {
                return Err(WireError::BadMessage {
                    reason: "compressed name in the question of a query",
                });
            }
            _ => return Err(WireError::BadLabelType { at }),
        }
        let label = r.bytes(usize::from(len))?;
        let dst = lower
            .get_mut(out..out + 1 + label.len())
            .ok_or(WireError::NameTooLong { at: start })?;
        if let Some((first, rest)) = dst.split_first_mut() {
            *first = len;
            rest.copy_from_slice(label);
            rest.make_ascii_lowercase();
        }
        out += 1 + label.len();
        if len == 0 {
            return Ok(out);
        }
    }
}

/// Steps over a possibly compressed name without following pointers, checking label
/// types.
fn skip_name(r: &mut WireReader<'_>) -> Result<(), WireError> {
    loop {
        let at = r.pos();
        let len = r.u8()?;
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(()),
            0x00 => {
                r.bytes(usize::from(len))?;
            }
            0xc0 => {
                let target = usize::from(len & 0x3f) << 8 | usize::from(r.u8()?);
                if target >= at {
                    return Err(WireError::BadPointer { at });
                }
                return Ok(());
            }
            _ => return Err(WireError::BadLabelType { at }),
        }
    }
}

/// Steps over a record, returning its type, class, TTL and a reader over its data.
fn skip_record<'a>(
    r: &mut WireReader<'a>,
) -> Result<(Rtype, Class, u32, WireReader<'a>), WireError> {
    skip_name(r)?;
    let rtype = Rtype(r.u16()?);
    let class = Class(r.u16()?);
    let ttl = r.u32()?;
    let len = usize::from(r.u16()?);
    Ok((rtype, class, ttl, r.sub(len)?))
}
