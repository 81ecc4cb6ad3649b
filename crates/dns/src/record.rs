//! Resource records (RFC 1035 §3.2.1, §4.1.3): owner, type, class, TTL and data.

use std::fmt;

use crate::name::Name;
use crate::rdata::RData;
use crate::types::{Class, Rtype};
use crate::wire::{WireError, WireReader, WireWriter};

/// One resource record. The type is that of its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub owner: Name,
    /// The class.
    pub class: Class,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The record data, which also gives the type.
    pub data: RData,
}

impl Record {
    /// A record of class IN.
    pub fn new(owner: Name, ttl: u32, data: impl Into<RData>) -> Record {
        Record {
            owner,
            class: Class::IN,
            ttl,
            data: data.into(),
        }
    }

    /// The record type.
    pub fn rtype(&self) -> Rtype {
        self.data.rtype()
    }

    /// Reads a record at the reader's position (owner, fixed fields, data).
    pub fn parse_wire(r: &mut WireReader<'_>) -> Result<Record, WireError> {
        let owner = r.name()?;
        let rtype = Rtype(r.u16()?);
        let class = Class(r.u16()?);
        let ttl = r.u32()?;
        let len = usize::from(r.u16()?);
        let mut rdata = r.sub(len)?;
        let data = RData::parse_wire(rtype, &mut rdata)?;
        Ok(Record {
            owner,
            class,
            ttl,
            data,
        })
    }

    /// Writes the record; on [`WireError::NoSpace`] the writer may hold a partial record,
    /// which the caller cuts off with [`WireWriter::truncate`].
    pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_owner(&self.owner)?;
        w.put_u16(self.rtype().0)?;
        w.put_u16(self.class.0)?;
        w.put_u32(self.ttl)?;
        let len_at = w.len();
        w.put_u16(0)?;
        self.data.write_wire(w)?;
        let len = u16::try_from(w.len() - len_at - 2).map_err(|_| WireError::BadRdata {
            at: len_at,
            reason: "record data longer than 65535 bytes",
        })?;
        w.patch_u16(len_at, len);
        Ok(())
    }
}

impl fmt::Display for Record {
    /// The zone file / dig form: `owner TTL CLASS TYPE data`, tab-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\t{}\t{}\t{}\t{}",
            self.owner,
            self.ttl,
            self.class,
            self.rtype(),
            self.data
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdata::{A, Mx};
    use std::net::Ipv4Addr;

    #[test]
    fn wire_round_trip() {
        let owner = Name::parse("www.example.").unwrap();
        let recs = [
            Record::new(owner.clone(), 300, A(Ipv4Addr::new(192, 0, 2, 1))),
            Record::new(
                owner.clone(),
                60,
                Mx {
                    preference: 10,
                    exchange: Name::parse("mail.example.").unwrap(),
                },
            ),
        ];
        let mut w = WireWriter::message(512);
        for r in &recs {
            r.write_wire(&mut w).unwrap();
        }
        let bytes = w.into_bytes();
        let mut r = WireReader::new(&bytes);
        for rec in &recs {
            assert_eq!(&Record::parse_wire(&mut r).unwrap(), rec);
        }
        assert!(r.is_empty());
        assert_eq!(recs[0].to_string(), "www.example.\t300\tIN\tA\t192.0.2.1");
    }

    #[test]
    fn rdlength_beyond_message_rejected() {
        let mut bytes = vec![0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 10, 1, 2, 3, 4];
        assert!(Record::parse_wire(&mut WireReader::new(&bytes)).is_err());
        bytes[10] = 4;
        assert!(Record::parse_wire(&mut WireReader::new(&bytes)).is_ok());
    }
}
