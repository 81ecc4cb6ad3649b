//! Whole DNS messages (RFC 1035 §4) with EDNS (RFC 6891).
//!
//! [`Message`] owns its sections and is read by [`Message::parse`] and written by
//! [`Message::to_wire`], with name compression and truncation to a size limit. EDNS is
//! taken out of the additional section into [`Edns`]. [`QueryView`] reads just what a
//! server needs from a query, without allocating. `Display` prints a message the way
//! `dig` does.

mod display;
pub mod edns;
pub mod header;
pub mod option;
pub mod view;

#[cfg(test)]
mod tests;

pub use edns::Edns;
pub use header::{Flags, HEADER_LEN, Header};
pub use option::{ClientSubnet, Cookie, EdnsOption, ExtendedError};
pub use view::{EdnsView, QueryView};

use crate::name::{MAX_NAME_LEN, Name};
use crate::rdata::{Opt, RData, UnknownRdata};
use crate::record::Record;
use crate::types::{Class, Opcode, Rcode, Rtype};
use crate::wire::{WireError, WireReader, WireWriter};

/// Smallest possible question: root name, type, class.
const MIN_QUESTION_LEN: usize = 5;
/// Smallest possible record: root owner, type, class, TTL, RDLENGTH.
const MIN_RECORD_LEN: usize = 11;

/// One entry of the question section (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// The name asked about.
    pub qname: Name,
    /// The type asked for.
    pub qtype: Rtype,
    /// The class asked for.
    pub qclass: Class,
}

impl Question {
    /// A question of class IN.
    pub fn new(qname: Name, qtype: Rtype) -> Question {
        Question {
            qname,
            qtype,
            qclass: Class::IN,
        }
    }

    /// Reads a question at the reader's position.
    pub fn parse_wire(r: &mut WireReader<'_>) -> Result<Question, WireError> {
        Ok(Question {
            qname: r.name()?,
            qtype: Rtype(r.u16()?),
            qclass: Class(r.u16()?),
        })
    }

    /// Writes the question, compressing the name.
    pub fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_owner(&self.qname)?;
        w.put_u16(self.qtype.0)?;
        w.put_u16(self.qclass.0)
    }
}

/// A DNS message with owned sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The query identifier.
    pub id: u16,
    /// The kind of query.
    pub opcode: Opcode,
    /// The header flags. TC is also set by [`Message::to_wire`] when it truncates.
    pub flags: Flags,
    /// The full response code: 4 header bits, plus 8 more from EDNS (RFC 6891 §6.1.3).
    pub rcode: Rcode,
    /// The question section.
    pub questions: Vec<Question>,
    /// The answer section.
    pub answers: Vec<Record>,
    /// The authority section.
    pub authority: Vec<Record>,
    /// The additional section, without the OPT record.
    pub additional: Vec<Record>,
    /// EDNS, if the message has an OPT record.
    pub edns: Option<Edns>,
}

/// Which section a record is in, for limits and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Answer,
    Authority,
    Additional,
}

impl Message {
    /// An empty query message with the given id (opcode QUERY, no flags).
    pub fn new(id: u16) -> Message {
        Message {
            id,
            opcode: Opcode::QUERY,
            flags: Flags::default(),
            rcode: Rcode::NOERROR,
            questions: Vec::new(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            edns: None,
        }
    }

    /// A query for `qname`/`qtype` in class IN with RD set.
    pub fn query(id: u16, qname: Name, qtype: Rtype) -> Message {
        let mut m = Message::new(id);
        m.flags.rd = true;
        m.questions.push(Question::new(qname, qtype));
        m
    }

    /// The start of a response to `query`: same id, opcode and question, QR set, RD and
    /// CD copied (RFC 1035 §4.1.1, RFC 4035 §3.1.6), no records and no EDNS yet.
    pub fn response_to(query: &Message) -> Message {
        Message {
            id: query.id,
            opcode: query.opcode,
            flags: Flags {
                qr: true,
                rd: query.flags.rd,
                cd: query.flags.cd,
                ..Flags::default()
            },
            rcode: Rcode::NOERROR,
            questions: query.questions.clone(),
            answers: Vec::new(),
            authority: Vec::new(),
            additional: Vec::new(),
            edns: None,
        }
    }

    /// The first question, if any.
    pub fn question(&self) -> Option<&Question> {
        self.questions.first()
    }

    /// The header this message has when written in full (counts include OPT; a section
    /// of more than 65535 entries, which cannot be written, counts as 65535).
    pub fn header(&self) -> Header {
        let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        Header {
            id: self.id,
            opcode: self.opcode,
            flags: self.flags,
            rcode_low: self.rcode.header_bits(),
            qdcount: count(self.questions.len()),
            ancount: count(self.answers.len()),
            nscount: count(self.authority.len()),
            arcount: count(self.additional.len() + usize::from(self.edns.is_some())),
        }
    }

    /// Reads a whole message. Names are decompressed (pointers must point backwards),
    /// every count must match the records present, nothing may follow the last record,
    /// and there may be at most one OPT record, in the additional section, owned by the
    /// root (RFC 6891 §6.1.1). Any error here calls for FORMERR.
    pub fn parse(msg: &[u8]) -> Result<Message, WireError> {
        let mut r = SectionReader {
            r: WireReader::new(msg),
            name: [0u8; MAX_NAME_LEN],
            opt: None,
        };
        let header = Header::parse(&mut r.r)?;
        let mut questions =
            Vec::with_capacity(capacity(header.qdcount, r.r.remaining(), MIN_QUESTION_LEN));
        for _ in 0..header.qdcount {
            questions.push(Question {
                qname: r.name()?,
                qtype: Rtype(r.r.u16()?),
                qclass: Class(r.r.u16()?),
            });
        }
        let answers = r.section(header.ancount, Section::Answer)?;
        let authority = r.section(header.nscount, Section::Authority)?;
        let additional = r.section(header.arcount, Section::Additional)?;
        r.r.finish()?;
        let (edns, ext_rcode) = match r.opt {
            Some((edns, ext)) => (Some(edns), ext),
            None => (None, 0),
        };
        Ok(Message {
            id: header.id,
            opcode: header.opcode,
            flags: header.flags,
            rcode: Rcode::from_parts(header.rcode_low, ext_rcode),
            questions,
            answers,
            authority,
            additional,
            edns,
        })
    }

    /// Writes the message in at most `limit` bytes, compressing names.
    ///
    /// The OPT record's space is reserved first, so it is always present. If an RRset of
    /// the answer or authority section does not fit, it and everything after it are left
    /// out and TC is set; RRsets are never split (RFC 2181 §9). Additional RRsets that do
    /// not fit are left out without setting TC. Fails if even the header, question and OPT
    /// record do not fit, or if the rcode needs EDNS and there is none.
    pub fn to_wire(&self, limit: usize) -> Result<Vec<u8>, WireError> {
        let mut w = WireWriter::message(limit);
        self.write_into(&mut w)?;
        Ok(w.into_bytes())
    }

    /// [`Message::to_wire`] into a caller's writer (which may hold a reused buffer); the
    /// message starts at the writer's current end.
    pub fn write_into(&self, w: &mut WireWriter) -> Result<(), WireError> {
        if self.rcode.0 > 0x0f && self.edns.is_none() {
            return Err(WireError::BadMessage {
                reason: "rcode above 15 needs an OPT record",
            });
        }
        if self.questions.len() > usize::from(u16::MAX) {
            return Err(WireError::BadMessage {
                reason: "more than 65535 questions",
            });
        }
        if self.rcode.0 > 0x0fff {
            return Err(WireError::BadMessage {
                reason: "rcode above 4095 cannot be sent in a message",
            });
        }
        let start = w.len();
        let limit = w.limit();
        let opt_len = self.edns.as_ref().map_or(0, Edns::wire_len);
        w.set_limit(limit.checked_sub(opt_len).ok_or(WireError::NoSpace)?);

        let mut header = self.header();
        header.write_wire(w)?;
        for q in &self.questions {
            q.write_wire(w)?;
        }
        let mut truncated = false;
        let (ancount, complete) = write_rrsets(w, &self.answers)?;
        truncated |= !complete;
        let mut nscount = 0;
        let mut arcount = 0;
        if !truncated {
            let (n, complete) = write_rrsets(w, &self.authority)?;
            nscount = n;
            truncated |= !complete;
        }
        if !truncated {
            arcount = write_rrsets(w, &self.additional)?.0;
        }
        w.set_limit(limit);
        if let Some(edns) = &self.edns {
            edns.write_wire(self.rcode, w)?;
            arcount += 1;
        }
        header.flags.tc |= truncated;
        header.ancount = ancount;
        header.nscount = nscount;
        header.arcount = arcount;
        let bytes = header.to_bytes();
        if let Some(slot) = w.as_bytes_mut().get_mut(start..start + HEADER_LEN) {
            slot.copy_from_slice(&bytes);
        }
        Ok(())
    }
}

/// How many entries to allocate room for up front: the count, but no more than the data
/// could hold, so a lying count cannot make us allocate much.
fn capacity(count: u16, remaining: usize, min_len: usize) -> usize {
    usize::from(count).min(remaining / min_len)
}

/// Reads the sections of a message, decompressing names through one buffer and taking
/// the OPT record out of the additional section.
struct SectionReader<'a> {
    r: WireReader<'a>,
    name: [u8; MAX_NAME_LEN],
    opt: Option<(Edns, u8)>,
}

impl SectionReader<'_> {
    /// Reads a possibly compressed name into the buffer, returning its length.
    fn name_len(&mut self) -> Result<usize, WireError> {
        self.r.name_into(&mut self.name)
    }

    fn name(&mut self) -> Result<Name, WireError> {
        let len = self.name_len()?;
        Ok(Name::from_valid_slice(
            self.name.get(..len).unwrap_or_default(),
        ))
    }

    fn section(&mut self, count: u16, section: Section) -> Result<Vec<Record>, WireError> {
        let mut records = Vec::with_capacity(capacity(count, self.r.remaining(), MIN_RECORD_LEN));
        for _ in 0..count {
            // RFC 1035 §4.1.3: owner, TYPE, CLASS, TTL, RDLENGTH, RDATA.
            let owner_len = self.name_len()?;
            let rtype = Rtype(self.r.u16()?);
            let class = Class(self.r.u16()?);
            let ttl = self.r.u32()?;
            let len = usize::from(self.r.u16()?);
            let mut rdata = self.r.sub(len)?;
            // RFC 2136 §2.4.1, §2.4.3, §2.5.2: in UPDATE, class ANY or NONE with no data
            // means "the whole RRset" (exists / does not exist / delete); there is nothing
            // to decode, so it is kept as empty opaque data.
            let data =
                if len == 0 && (class == Class::ANY || class == Class::NONE) && rtype != Rtype::OPT
                {
                    RData::Unknown(UnknownRdata {
                        rtype,
                        data: Vec::new(),
                    })
                } else {
                    RData::parse_wire(rtype, &mut rdata)?
                };
            let RData::Opt(Opt(options)) = data else {
                records.push(Record {
                    owner: Name::from_valid_slice(self.name.get(..owner_len).unwrap_or_default()),
                    class,
                    ttl,
                    data,
                });
                continue;
            };
            // RFC 6891 §6.1.1: one OPT record at most, in the additional section, owned
            // by the root.
            let reason = if section != Section::Additional {
                "OPT record outside the additional section"
            } else if self.opt.is_some() {
                "more than one OPT record"
            } else if owner_len != 1 {
                "OPT record owner is not the root"
            } else {
                self.opt = Some(Edns::from_fields(class, ttl, options));
                continue;
            };
            return Err(WireError::BadMessage { reason });
        }
        Ok(records)
    }
}

/// Writes whole RRsets (runs of records with the same owner, type and class) while they
/// fit. Returns how many records were written and whether all were.
fn write_rrsets(w: &mut WireWriter, records: &[Record]) -> Result<(u16, bool), WireError> {
    let too_many = WireError::BadMessage {
        reason: "more than 65535 records in a section",
    };
    let mut written = 0u16;
    let mut rest = records;
    while let Some(first) = rest.first() {
        let len = rest
            .iter()
            .take_while(|r| {
                r.rtype() == first.rtype() && r.class == first.class && r.owner == first.owner
            })
            .count();
        let (rrset, tail) = rest.split_at(len);
        let mark = w.len();
        match rrset.iter().try_for_each(|r| r.write_wire(w)) {
            Ok(()) => {}
            Err(WireError::NoSpace) => {
                w.truncate(mark);
                return Ok((written, false));
            }
            Err(e) => return Err(e),
        }
        written = u16::try_from(len)
            .ok()
            .and_then(|n| written.checked_add(n))
            .ok_or(too_many)?;
        rest = tail;
    }
    Ok((written, true))
}
