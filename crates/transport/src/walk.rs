//! Walking the records of a message in wire form without decoding their data: where
//! each record is, its type and TTL. Padding and the DoH freshness lifetime need no more.

use std::ops::Range;

use lib_dns::message::Header;
use lib_dns::name::MAX_NAME_LEN;
use lib_dns::wire::{WireError, WireReader};

/// The section a record is in (RFC 1035 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// The answer section.
    Answer,
    /// The authority section.
    Authority,
    /// The additional section.
    Additional,
}

/// One record's place in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordPlace {
    /// Its section.
    pub section: Section,
    /// Its type.
    pub rtype: u16,
    /// Its TTL.
    pub ttl: u32,
    /// The offset of its RDLENGTH field.
    pub rdlength_at: usize,
    /// Its data.
    pub rdata: Range<usize>,
}

/// The header of `msg` and the place of every record after the question section.
pub(crate) fn records(msg: &[u8]) -> Result<(Header, Vec<RecordPlace>), WireError> {
    let mut r = WireReader::new(msg);
    let header = Header::parse(&mut r)?;
    let mut name = [0u8; MAX_NAME_LEN];
    for _ in 0..header.qdcount {
        r.name_into(&mut name)?;
        r.u32()?;
    }
    let sections = [
        (Section::Answer, header.ancount),
        (Section::Authority, header.nscount),
        (Section::Additional, header.arcount),
    ];
    let mut places = Vec::new();
    for (section, count) in sections {
        for _ in 0..count {
            r.name_into(&mut name)?;
            let rtype = r.u16()?;
            r.u16()?;
            let ttl = r.u32()?;
            let rdlength_at = r.pos();
            let len = usize::from(r.u16()?);
            let start = r.pos();
            r.bytes(len)?;
            places.push(RecordPlace {
                section,
                rtype,
                ttl,
                rdlength_at,
                rdata: start..start + len,
            });
        }
    }
    Ok((header, places))
}
