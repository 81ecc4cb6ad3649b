//! Zone transfers in: reading the response messages of an AXFR (RFC 5936) or IXFR
//! (RFC 1995) query, one at a time, into a whole zone or a list of differences.
//!
//! [`TransferReader`] is fed the parsed response messages in order (their TSIG already
//! verified by the edge) and says when the transfer is complete. It checks that each
//! message answers our query, that the records belong to the zone, and that the
//! response has the shape the RFCs give it, and it bounds how much it will hold, so a
//! hostile or broken primary can make a transfer fail but never corrupt a zone.

use std::fmt;

use lib_dns::message::Message;
use lib_dns::name::Name;
use lib_dns::record::Record;
use lib_dns::types::{Class, Rcode, Rtype};

use crate::diff::{DiffError, ZoneDiff, serial_gt, soa_serial};

/// What a complete transfer brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    /// The primary's serial is not newer than ours (an IXFR answered with one SOA).
    UpToDate,
    /// The whole zone (AXFR, or an AXFR-style IXFR answer): every record, the SOA once.
    Full(Vec<Record>),
    /// Differences from our serial to the primary's, oldest first (incremental IXFR).
    Incremental(Vec<ZoneDiff>),
}

/// Why a transfer failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferError {
    /// The primary answered with an error rcode (REFUSED, NOTAUTH, NOTIMP …).
    Rcode(Rcode),
    /// A message does not answer our query (ID, QR, opcode or question differ).
    NotOurs(&'static str),
    /// The records do not form a transfer response.
    Malformed(String),
    /// A record lies outside the zone or has another class.
    OutOfZone(String),
    /// The transfer is larger than the configured limit.
    TooLarge(usize),
    /// A difference sequence does not form a valid diff.
    Diff(DiffError),
    /// Messages arrived after the transfer was complete.
    Trailing,
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransferError::Rcode(r) => write!(f, "the primary answered {r}"),
            TransferError::NotOurs(why) => write!(f, "response does not match the query: {why}"),
            TransferError::Malformed(why) => write!(f, "malformed transfer: {why}"),
            TransferError::OutOfZone(r) => write!(f, "record outside the zone: {r}"),
            TransferError::TooLarge(n) => write!(f, "transfer larger than {n} records"),
            TransferError::Diff(e) => write!(f, "bad difference sequence: {e}"),
            TransferError::Trailing => f.write_str("messages after the closing SOA"),
        }
    }
}

impl std::error::Error for TransferError {}

impl From<DiffError> for TransferError {
    fn from(e: DiffError) -> TransferError {
        TransferError::Diff(e)
    }
}

/// Where the reader is in the response.
#[derive(Debug)]
enum Phase {
    /// Nothing read yet: the first record must be the primary's SOA.
    Start,
    /// Read the opening SOA; the next record tells the kind of response.
    Opened,
    /// An AXFR or AXFR-style response: records until the opening SOA comes again.
    Full,
    /// In a difference sequence: collecting removals (`adding == false`) or additions.
    Diffs { adding: bool },
    /// The closing SOA was read.
    Done,
}

/// Reads one transfer response. Feed it every message with [`TransferReader::push`]
/// until that returns `Some`.
#[derive(Debug)]
pub struct TransferReader {
    id: u16,
    zone: Name,
    class: Class,
    qtype: Rtype,
    our_serial: Option<u32>,
    max_records: usize,
    phase: Phase,
    first_message: bool,
    opening: Option<Record>,
    records: Vec<Record>,
    removed: Vec<Record>,
    added: Vec<Record>,
    diffs: Vec<ZoneDiff>,
    count: usize,
}

impl TransferReader {
    /// A reader for the response to an AXFR query (`our_serial` `None`) or an IXFR query
    /// from `our_serial`, with message ID `id`, for `zone`/`class`, holding at most
    /// `max_records` records.
    pub fn new(
        id: u16,
        zone: Name,
        class: Class,
        our_serial: Option<u32>,
        max_records: usize,
    ) -> TransferReader {
        TransferReader {
            id,
            zone,
            class,
            qtype: if our_serial.is_some() {
                Rtype::IXFR
            } else {
                Rtype::AXFR
            },
            our_serial,
            max_records,
            phase: Phase::Start,
            first_message: true,
            opening: None,
            records: Vec::new(),
            removed: Vec::new(),
            added: Vec::new(),
            diffs: Vec::new(),
            count: 0,
        }
    }

    /// Reads the next response message. `Ok(Some)` when the transfer is complete;
    /// `Ok(None)` when more messages are needed.
    pub fn push(&mut self, msg: &Message) -> Result<Option<Transfer>, TransferError> {
        if matches!(self.phase, Phase::Done) {
            return Err(TransferError::Trailing);
        }
        self.check_message(msg)?;
        for rr in &msg.answers {
            if matches!(self.phase, Phase::Done) {
                return Err(TransferError::Trailing);
            }
            self.count += 1;
            if self.count > self.max_records {
                return Err(TransferError::TooLarge(self.max_records));
            }
            self.record(rr)?;
        }
        self.first_message = false;
        match self.phase {
            Phase::Done => self.finish().map(Some),
            // RFC 1995 §4: an IXFR answer of the SOA alone means "nothing newer".
            Phase::Opened if self.qtype == Rtype::IXFR => {
                let theirs = self.opening.as_ref().and_then(soa_serial);
                match (theirs, self.our_serial) {
                    (Some(t), Some(ours)) if !serial_gt(t, ours) => {
                        self.phase = Phase::Done;
                        Ok(Some(Transfer::UpToDate))
                    }
                    _ => Ok(None),
                }
            }
            _ => Ok(None),
        }
    }

    fn check_message(&self, msg: &Message) -> Result<(), TransferError> {
        if msg.id != self.id {
            return Err(TransferError::NotOurs("message ID"));
        }
        if !msg.flags.qr {
            return Err(TransferError::NotOurs("not a response"));
        }
        if msg.rcode != Rcode::NOERROR {
            return Err(TransferError::Rcode(msg.rcode));
        }
        // RFC 5936 §2.2.1: the question appears in the first message at least; when
        // present it must be ours.
        match msg.question() {
            Some(q) if !q.qname.eq_ignore_case(&self.zone) || q.qtype != self.qtype => {
                return Err(TransferError::NotOurs("question"));
            }
            None if self.first_message => return Err(TransferError::NotOurs("no question")),
            _ => {}
        }
        if msg.flags.tc {
            return Err(TransferError::Malformed("truncated message".into()));
        }
        Ok(())
    }

    fn record(&mut self, rr: &Record) -> Result<(), TransferError> {
        if rr.class != self.class || !rr.owner.is_subdomain_of(&self.zone) {
            return Err(TransferError::OutOfZone(rr.to_string()));
        }
        let is_soa = rr.rtype() == Rtype::SOA;
        if is_soa && !rr.owner.eq_ignore_case(&self.zone) {
            return Err(TransferError::OutOfZone(rr.to_string()));
        }
        let opening_serial = self.opening.as_ref().and_then(soa_serial);
        match self.phase {
            Phase::Start => {
                if !is_soa {
                    return Err(TransferError::Malformed(
                        "the first record is not the zone's SOA".into(),
                    ));
                }
                self.opening = Some(rr.clone());
                self.phase = Phase::Opened;
            }
            Phase::Opened => {
                let serial = soa_serial(rr);
                if is_soa && serial == opening_serial {
                    // A zone of one SOA, sent whole.
                    self.phase = Phase::Done;
                } else if is_soa && self.qtype == Rtype::IXFR {
                    if serial != self.our_serial {
                        return Err(TransferError::Malformed(
                            "the first difference does not start at our serial".into(),
                        ));
                    }
                    self.removed.push(rr.clone());
                    self.phase = Phase::Diffs { adding: false };
                } else if is_soa {
                    return Err(TransferError::Malformed(
                        "a second SOA with another serial in an AXFR".into(),
                    ));
                } else {
                    self.records.push(rr.clone());
                    self.phase = Phase::Full;
                }
            }
            Phase::Full => {
                if is_soa {
                    if soa_serial(rr) != opening_serial {
                        return Err(TransferError::Malformed(
                            "the closing SOA differs from the opening one".into(),
                        ));
                    }
                    self.phase = Phase::Done;
                } else {
                    self.records.push(rr.clone());
                }
            }
            Phase::Diffs { adding: false } => {
                if is_soa {
                    self.added.push(rr.clone());
                    self.phase = Phase::Diffs { adding: true };
                } else {
                    self.removed.push(rr.clone());
                }
            }
            Phase::Diffs { adding: true } => {
                if is_soa {
                    let removed = std::mem::take(&mut self.removed);
                    let added = std::mem::take(&mut self.added);
                    let diff = ZoneDiff::new(removed, added)?;
                    if let Some(last) = self.diffs.last()
                        && last.to_serial() != diff.from_serial()
                    {
                        return Err(TransferError::Malformed(
                            "difference sequences do not follow each other".into(),
                        ));
                    }
                    let ends_here = soa_serial(rr) == opening_serial
                        && Some(diff.to_serial()) == opening_serial;
                    self.diffs.push(diff);
                    if ends_here {
                        self.phase = Phase::Done;
                    } else {
                        self.removed.push(rr.clone());
                        self.phase = Phase::Diffs { adding: false };
                    }
                } else {
                    self.added.push(rr.clone());
                }
            }
            Phase::Done => return Err(TransferError::Trailing),
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Transfer, TransferError> {
        if !self.diffs.is_empty() {
            return Ok(Transfer::Incremental(std::mem::take(&mut self.diffs)));
        }
        let soa = self
            .opening
            .take()
            .ok_or_else(|| TransferError::Malformed("no SOA".into()))?;
        let mut records = Vec::with_capacity(self.records.len() + 1);
        records.push(soa);
        records.append(&mut self.records);
        Ok(Transfer::Full(records))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{name, records, soa};
    use crate::journal::Journal;
    use crate::journal::tests::step;
    use crate::xfr;

    fn zone(serial: u32) -> Vec<Record> {
        let mut z = vec![soa(serial)];
        z.extend(records(
            "@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\n",
        ));
        z
    }

    fn parsed(msgs: impl Iterator<Item = Result<Vec<u8>, xfr::XfrError>>) -> Vec<Message> {
        msgs.map(|m| Message::parse(&m.unwrap()).unwrap()).collect()
    }

    fn read_all(mut reader: TransferReader, msgs: &[Message]) -> Result<Transfer, TransferError> {
        let (last, init) = msgs.split_last().unwrap();
        for m in init {
            assert_eq!(reader.push(m)?, None);
        }
        Ok(reader.push(last)?.expect("complete"))
    }

    fn reader(serial: Option<u32>) -> TransferReader {
        TransferReader::new(0x1234, name("example."), Class::IN, serial, 100_000)
    }

    #[test]
    fn reads_our_own_axfr_back() {
        let q = Message::query(0x1234, name("example."), Rtype::AXFR);
        let z = zone(5);
        let msgs = parsed(xfr::axfr(&q, &z, 0).unwrap());
        assert_eq!(read_all(reader(None), &msgs), Ok(Transfer::Full(z)));
    }

    #[test]
    fn reads_a_large_axfr_in_many_messages() {
        let mut z = zone(9);
        for i in 0..5000 {
            z.extend(records(&format!("h{i} TXT \"{}\"\n", "x".repeat(40))));
        }
        let q = Message::query(0x1234, name("example."), Rtype::AXFR);
        let msgs = parsed(xfr::axfr(&q, &z, 0).unwrap());
        assert!(msgs.len() > 3);
        assert_eq!(read_all(reader(None), &msgs), Ok(Transfer::Full(z.clone())));
        let small = TransferReader::new(0x1234, name("example."), Class::IN, None, 100);
        assert_eq!(read_all(small, &msgs), Err(TransferError::TooLarge(100)));
    }

    fn ixfr_query(serial: u32) -> Message {
        let mut q = Message::query(0x1234, name("example."), Rtype::IXFR);
        q.authority.push(soa(serial));
        q
    }

    #[test]
    fn reads_incremental_up_to_date_and_axfr_style_ixfr() {
        let mut journal = Journal::new();
        let mut z = zone(10);
        for s in 10..13 {
            let d = step(s);
            z = d.apply(&z).unwrap();
            journal.push(d).unwrap();
        }
        let plan = xfr::ixfr_plan(10, &z, &journal).unwrap();
        let msgs = parsed(xfr::ixfr(&ixfr_query(10), plan, &z, 0).unwrap());
        let Ok(Transfer::Incremental(diffs)) = read_all(reader(Some(10)), &msgs) else {
            panic!("incremental expected");
        };
        assert_eq!(diffs.len(), 3);
        assert_eq!(crate::journal::replay(&zone(10), &diffs).unwrap(), z);

        let plan = xfr::ixfr_plan(13, &z, &journal).unwrap();
        let msgs = parsed(xfr::ixfr(&ixfr_query(13), plan, &z, 0).unwrap());
        assert_eq!(read_all(reader(Some(13)), &msgs), Ok(Transfer::UpToDate));

        let plan = xfr::ixfr_plan(3, &z, &journal).unwrap();
        let msgs = parsed(xfr::ixfr(&ixfr_query(3), plan, &z, 0).unwrap());
        assert_eq!(read_all(reader(Some(3)), &msgs), Ok(Transfer::Full(z)));
    }

    fn response(answers: Vec<Record>, qtype: Rtype) -> Message {
        let mut m = Message::response_to(&Message::query(0x1234, name("example."), qtype));
        m.answers = answers;
        m
    }

    #[test]
    fn hostile_responses_are_refused() {
        let mut wrong_id = response(zone(5), Rtype::AXFR);
        wrong_id.id = 1;
        assert_eq!(
            reader(None).push(&wrong_id),
            Err(TransferError::NotOurs("message ID"))
        );
        let mut refused = response(Vec::new(), Rtype::AXFR);
        refused.rcode = Rcode::REFUSED;
        assert_eq!(
            reader(None).push(&refused),
            Err(TransferError::Rcode(Rcode::REFUSED))
        );
        let no_soa = response(records("www A 192.0.2.2\n"), Rtype::AXFR);
        assert!(matches!(
            reader(None).push(&no_soa),
            Err(TransferError::Malformed(_))
        ));
        let mut outside = zone(5);
        outside.push(Record::new(
            name("evil.test."),
            300,
            lib_dns::rdata::A([192, 0, 2, 66].into()),
        ));
        outside.push(soa(5));
        assert!(matches!(
            reader(None).push(&response(outside, Rtype::AXFR)),
            Err(TransferError::OutOfZone(_))
        ));
        let mut mismatched = zone(5);
        mismatched.push(soa(6));
        assert!(matches!(
            reader(None).push(&response(mismatched, Rtype::AXFR)),
            Err(TransferError::Malformed(_))
        ));
        let mut done = zone(5);
        done.push(soa(5));
        let mut r = reader(None);
        assert!(
            r.push(&response(done.clone(), Rtype::AXFR))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            r.push(&response(done, Rtype::AXFR)),
            Err(TransferError::Trailing)
        );
        // An IXFR whose first difference starts elsewhere than our serial.
        let mut bad = vec![soa(12), soa(7), soa(12), soa(12)];
        bad.extend(records("www A 192.0.2.9\n"));
        assert!(matches!(
            reader(Some(10)).push(&response(bad, Rtype::IXFR)),
            Err(TransferError::Malformed(_))
        ));
    }
}
