//! EDNS(0) (RFC 6891): the OPT pseudo-record of a message, decoded.
//!
//! The OPT record's CLASS is the sender's UDP payload size and its TTL holds the upper
//! 8 bits of the extended rcode, the EDNS version and the flags (RFC 6891 §6.1.3). The
//! extended rcode is joined with the header's 4 bits in
//! [`Message::rcode`](super::Message::rcode); everything else is here.

use super::option::{Cookie, EdnsOption};
use crate::name::Name;
use crate::rdata::{Opt, RData};
use crate::record::Record;
use crate::types::{Class, Rcode};
use crate::wire::{WireError, WireWriter};

/// The DO bit of the EDNS flags (RFC 3225).
pub const FLAG_DO: u16 = 0x8000;

/// The EDNS facts of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edns {
    /// The largest UDP payload the sender can reassemble (RFC 6891 §6.2.3).
    pub udp_payload_size: u16,
    /// The EDNS version; 0 is the only one defined (a server answers others with
    /// BADVERS, RFC 6891 §6.1.3).
    pub version: u8,
    /// The 16 flag bits, DO (RFC 3225) included; see [`Edns::dnssec_ok`].
    pub flags: u16,
    /// The options, in order.
    pub options: Vec<EdnsOption>,
}

impl Default for Edns {
    /// Version 0, no flags, no options, a 1232-byte payload (the DNS Flag Day 2020
    /// recommendation).
    fn default() -> Edns {
        Edns {
            udp_payload_size: 1232,
            version: 0,
            flags: 0,
            options: Vec::new(),
        }
    }
}

impl Edns {
    /// Whether the DO bit is set: the sender wants DNSSEC records (RFC 3225).
    pub fn dnssec_ok(&self) -> bool {
        self.flags & FLAG_DO != 0
    }

    /// Sets or clears the DO bit.
    pub fn set_dnssec_ok(&mut self, on: bool) {
        if on {
            self.flags |= FLAG_DO;
        } else {
            self.flags &= !FLAG_DO;
        }
    }

    /// The first COOKIE option, if any.
    pub fn cookie(&self) -> Option<&Cookie> {
        self.options.iter().find_map(|o| match o {
            EdnsOption::Cookie(c) => Some(c),
            _ => None,
        })
    }

    /// Decodes an OPT record found in the additional section, returning the EDNS facts
    /// and the upper 8 bits of the rcode. The owner must be the root (RFC 6891 §6.1.2).
    pub fn from_record(record: &Record) -> Result<(Edns, u8), WireError> {
        if !record.owner.is_root() {
            return Err(WireError::BadMessage {
                reason: "OPT record owner is not the root",
            });
        }
        let RData::Opt(Opt(options)) = &record.data else {
            return Err(WireError::BadMessage {
                reason: "EDNS taken from a record that is not OPT",
            });
        };
        Ok(Edns::from_fields(record.class, record.ttl, options.clone()))
    }

    /// Decodes the fields of an OPT record: CLASS, TTL and options. Returns the EDNS facts
    /// and the upper 8 bits of the rcode.
    pub fn from_fields(class: Class, ttl: u32, options: Vec<EdnsOption>) -> (Edns, u8) {
        let [ext_rcode, version, flags_hi, flags_lo] = ttl.to_be_bytes();
        (
            Edns {
                udp_payload_size: class.0,
                version,
                flags: u16::from_be_bytes([flags_hi, flags_lo]),
                options,
            },
            ext_rcode,
        )
    }

    /// The OPT record for these facts and the given (12-bit) rcode.
    pub fn to_record(&self, rcode: Rcode) -> Record {
        let ttl = u32::from_be_bytes([
            rcode.extended_bits(),
            self.version,
            (self.flags >> 8) as u8,
            self.flags as u8,
        ]);
        Record {
            owner: Name::root(),
            class: Class(self.udp_payload_size),
            ttl,
            data: RData::Opt(Opt(self.options.clone())),
        }
    }

    /// Writes the OPT record for these facts and the given rcode.
    pub fn write_wire(&self, rcode: Rcode, w: &mut WireWriter) -> Result<(), WireError> {
        let len = u16::try_from(self.rdata_len()).map_err(|_| WireError::BadRdata {
            at: w.len(),
            reason: "EDNS options longer than 65535 bytes",
        })?;
        // Root owner, TYPE, CLASS = payload size, TTL = rcode/version/flags, RDLENGTH.
        w.put_u8(0)?;
        w.put_u16(crate::types::Rtype::OPT.0)?;
        w.put_u16(self.udp_payload_size)?;
        w.put_u8(rcode.extended_bits())?;
        w.put_u8(self.version)?;
        w.put_u16(self.flags)?;
        w.put_u16(len)?;
        self.options.iter().try_for_each(|o| o.write_wire(w))
    }

    /// Bytes of the OPT record's data.
    fn rdata_len(&self) -> usize {
        self.options.iter().map(|o| 4 + o.data_len()).sum()
    }

    /// Bytes the whole OPT record takes in a message.
    pub fn wire_len(&self) -> usize {
        11 + self.rdata_len()
    }
}
