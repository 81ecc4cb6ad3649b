//! Zone transfers out: AXFR (RFC 5936) and IXFR (RFC 1995), as sequences of response
//! messages built from a zone's records and its journal.
//!
//! A [`Packer`] turns a sequence of records into messages of at most 65535 bytes (less
//! what the caller reserves for a TSIG record), packing as many records as fit, with
//! name compression; it yields them one at a time so a large zone is never held twice
//! in memory. The edge frames each message for TCP and signs it if the query was signed.

use std::fmt;
use std::iter::{Peekable, once};

use lib_dns::message::edns::FLAG_DO;
use lib_dns::message::{Edns, Flags, HEADER_LEN, Header, Message, Question};
use lib_dns::record::Record;
use lib_dns::types::{Opcode, Rcode, Rtype};
use lib_dns::wire::{WireError, WireWriter};

use crate::diff::{ZoneDiff, serial_gt, soa_serial};
use crate::journal::Journal;

/// The largest DNS message over TCP (RFC 1035 §4.2.2: a 16-bit length prefix).
pub const MAX_MESSAGE: usize = 65535;

/// Why a transfer could not be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XfrError {
    /// The zone's records hold no SOA.
    NoSoa,
    /// The query has no question.
    NoQuestion,
    /// One record does not fit in a message on its own (in presentation form).
    RecordTooLarge(String),
    /// Writing a message failed.
    Wire(WireError),
}

impl fmt::Display for XfrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfrError::NoSoa => f.write_str("the zone has no SOA record"),
            XfrError::NoQuestion => f.write_str("the transfer query has no question"),
            XfrError::RecordTooLarge(r) => write!(f, "record too large for a message: {r}"),
            XfrError::Wire(e) => write!(f, "cannot write a transfer message: {e}"),
        }
    }
}

impl std::error::Error for XfrError {}

impl From<WireError> for XfrError {
    fn from(e: WireError) -> XfrError {
        XfrError::Wire(e)
    }
}

/// Records in transfer order.
type RecordIter<'a> = Box<dyn Iterator<Item = &'a Record> + 'a>;

/// Packs records into the response messages of a transfer (RFC 5936 §2.2): ID and
/// question of the query (the question in the first message only), QR and AA set, RD
/// copied, records in the answer section, an OPT record in every message when the query
/// had one.
pub struct Packer<'a> {
    id: u16,
    rd: bool,
    question: Question,
    edns: Option<Edns>,
    limit: usize,
    records: Peekable<RecordIter<'a>>,
    first: bool,
    done: bool,
}

impl<'a> Packer<'a> {
    /// A packer answering `query` with `records`, in messages of at most `limit` bytes
    /// of which `reserve` are left free (for a TSIG record the edge adds).
    fn new(
        query: &Message,
        records: RecordIter<'a>,
        limit: usize,
        reserve: usize,
    ) -> Result<Packer<'a>, XfrError> {
        let question = query.question().cloned().ok_or(XfrError::NoQuestion)?;
        let edns = query.edns.as_ref().map(|q| Edns {
            flags: q.flags & FLAG_DO,
            ..Edns::default()
        });
        Ok(Packer {
            id: query.id,
            rd: query.flags.rd,
            question,
            edns,
            limit: limit.min(MAX_MESSAGE).saturating_sub(reserve),
            records: records.peekable(),
            first: true,
            done: false,
        })
    }

    /// Writes the next message.
    fn message(&mut self) -> Result<Vec<u8>, XfrError> {
        let mut w = WireWriter::message(self.limit);
        w.put_bytes(&[0; HEADER_LEN])?;
        let qdcount = if self.first {
            self.question.write_wire(&mut w)?;
            1
        } else {
            0
        };
        let opt_len = self.edns.as_ref().map_or(0, Edns::wire_len);
        w.set_limit(self.limit.saturating_sub(opt_len));
        let mut ancount: u16 = 0;
        while ancount < u16::MAX {
            let Some(r) = self.records.peek() else { break };
            let mark = w.len();
            match r.write_wire(&mut w) {
                Ok(()) => {
                    ancount += 1;
                    self.records.next();
                }
                Err(WireError::NoSpace) => {
                    w.truncate(mark);
                    if ancount == 0 {
                        return Err(XfrError::RecordTooLarge(r.to_string()));
                    }
                    break;
                }
                Err(e) => return Err(e.into()),
            }
        }
        w.set_limit(self.limit);
        if let Some(edns) = &self.edns {
            edns.write_wire(Rcode::NOERROR, &mut w)?;
        }
        let header = Header {
            id: self.id,
            opcode: Opcode::QUERY,
            flags: Flags {
                qr: true,
                aa: true,
                rd: self.rd,
                ..Flags::default()
            },
            rcode_low: 0,
            qdcount,
            ancount,
            nscount: 0,
            arcount: u16::from(self.edns.is_some()),
        };
        if let Some(slot) = w.as_bytes_mut().get_mut(..HEADER_LEN) {
            slot.copy_from_slice(&header.to_bytes());
        }
        self.first = false;
        Ok(w.into_bytes())
    }
}

impl Iterator for Packer<'_> {
    type Item = Result<Vec<u8>, XfrError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.records.peek().is_none() {
            return None;
        }
        let msg = self.message();
        self.done = msg.is_err();
        Some(msg)
    }
}

/// The zone's SOA record.
fn zone_soa(zone: &[Record]) -> Result<&Record, XfrError> {
    zone.iter()
        .find(|r| r.rtype() == Rtype::SOA)
        .ok_or(XfrError::NoSoa)
}

/// The whole zone in transfer order: the SOA, every other record, the SOA again
/// (RFC 5936 §2.2).
fn full<'a>(zone: &'a [Record]) -> Result<RecordIter<'a>, XfrError> {
    let soa = zone_soa(zone)?;
    let rest = zone.iter().filter(|r| r.rtype() != Rtype::SOA);
    Ok(Box::new(once(soa).chain(rest).chain(once(soa))))
}

/// The messages of an AXFR response (RFC 5936) to `query` for a zone with these
/// records, leaving `reserve` bytes of each message for a TSIG record.
pub fn axfr<'a>(
    query: &Message,
    zone: &'a [Record],
    reserve: usize,
) -> Result<Packer<'a>, XfrError> {
    Packer::new(query, full(zone)?, MAX_MESSAGE, reserve)
}

/// The client's serial in an IXFR query: the SOA in its authority section
/// (RFC 1995 §3). `None` means the query is malformed (FORMERR).
pub fn ixfr_client_serial(query: &Message) -> Option<u32> {
    query.authority.iter().find_map(soa_serial)
}

/// What an IXFR response holds (RFC 1995 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IxfrPlan<'a> {
    /// The client is at our serial or newer: one SOA.
    UpToDate,
    /// The difference sequences from the client's serial to ours.
    Incremental(Vec<&'a ZoneDiff>),
    /// The journal does not reach the client's serial: the whole zone, AXFR-style.
    Full,
}

/// Decides an IXFR response from the client's serial, our zone and our journal.
pub fn ixfr_plan<'a>(
    client_serial: u32,
    zone: &[Record],
    journal: &'a Journal,
) -> Result<IxfrPlan<'a>, XfrError> {
    let ours = soa_serial(zone_soa(zone)?).ok_or(XfrError::NoSoa)?;
    if !serial_gt(ours, client_serial) {
        return Ok(IxfrPlan::UpToDate);
    }
    match journal.diffs_since(client_serial) {
        Some(diffs) if diffs.last().is_some_and(|d| d.to_serial() == ours) => {
            Ok(IxfrPlan::Incremental(diffs))
        }
        _ => Ok(IxfrPlan::Full),
    }
}

/// The records of an IXFR response in order: for an incremental answer, our SOA, each
/// difference sequence (old SOA, removed, new SOA, added) and our SOA again.
fn ixfr_records<'a>(plan: IxfrPlan<'a>, zone: &'a [Record]) -> Result<RecordIter<'a>, XfrError> {
    let soa = zone_soa(zone)?;
    Ok(match plan {
        IxfrPlan::UpToDate => Box::new(once(soa)),
        IxfrPlan::Full => full(zone)?,
        IxfrPlan::Incremental(diffs) => {
            let seqs = diffs
                .into_iter()
                .flat_map(|d| d.removed().iter().chain(d.added()));
            Box::new(once(soa).chain(seqs).chain(once(soa)))
        }
    })
}

/// The messages of an IXFR response over TCP (RFC 1995 §4).
pub fn ixfr<'a>(
    query: &Message,
    plan: IxfrPlan<'a>,
    zone: &'a [Record],
    reserve: usize,
) -> Result<Packer<'a>, XfrError> {
    Packer::new(query, ixfr_records(plan, zone)?, MAX_MESSAGE, reserve)
}

/// The single message of an IXFR response over UDP, of at most `limit` bytes: the
/// whole response if it fits in one message, otherwise only our SOA, which tells the
/// client to retry over TCP (RFC 1995 §4).
pub fn ixfr_udp(
    query: &Message,
    plan: IxfrPlan<'_>,
    zone: &[Record],
    limit: usize,
    reserve: usize,
) -> Result<Vec<u8>, XfrError> {
    let mut whole = Packer::new(query, ixfr_records(plan, zone)?, limit, reserve)?;
    if let Some(Ok(first)) = whole.next()
        && whole.next().is_none()
    {
        return Ok(first);
    }
    let mut soa_only = Packer::new(
        query,
        ixfr_records(IxfrPlan::UpToDate, zone)?,
        limit,
        reserve,
    )?;
    soa_only.next().unwrap_or(Err(XfrError::NoSoa))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{base, name, records, soa};
    use crate::journal::tests::step;

    fn query(qtype: Rtype) -> Message {
        Message::query(0x1234, name("example."), qtype)
    }

    fn ixfr_query(serial: u32) -> Message {
        let mut q = query(Rtype::IXFR);
        q.authority.push(soa(serial));
        q
    }

    fn parse_all(packer: Packer<'_>) -> Vec<Message> {
        packer
            .map(|m| {
                let bytes = m.unwrap();
                assert!(bytes.len() <= MAX_MESSAGE);
                Message::parse(&bytes).unwrap()
            })
            .collect()
    }

    fn answers(msgs: &[Message]) -> Vec<String> {
        msgs.iter()
            .flat_map(|m| &m.answers)
            .map(|r| r.to_string())
            .collect()
    }

    fn strings(records: &[Record]) -> Vec<String> {
        records.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn axfr_of_a_small_zone_is_one_message_soa_first_and_last() {
        let zone = base();
        let msgs = parse_all(axfr(&query(Rtype::AXFR), &zone, 0).unwrap());
        assert_eq!(msgs.len(), 1);
        let m = &msgs[0];
        assert_eq!(m.id, 0x1234);
        assert!(m.flags.qr && m.flags.aa && m.flags.rd && !m.flags.tc);
        assert_eq!(m.rcode, Rcode::NOERROR);
        assert_eq!(m.questions, query(Rtype::AXFR).questions);
        assert_eq!(m.edns, None);
        let mut expected = strings(&zone);
        expected.push(zone[0].to_string());
        assert_eq!(answers(&msgs), expected);
    }

    #[test]
    fn axfr_puts_the_soa_first_wherever_it_is_in_the_zone() {
        let mut zone = records("a A 192.0.2.1\nb A 192.0.2.2\n");
        zone.push(soa(9));
        let msgs = parse_all(axfr(&query(Rtype::AXFR), &zone, 0).unwrap());
        let got = answers(&msgs);
        assert_eq!(got.first(), Some(&soa(9).to_string()));
        assert_eq!(got.last(), Some(&soa(9).to_string()));
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn a_large_zone_spans_messages_question_only_in_the_first() {
        let mut text = String::from("@ SOA ns hostmaster 1 2 3 4 5\n@ NS ns\n");
        let blob = "x".repeat(200);
        for i in 0..2000 {
            text.push_str(&format!("host{i} TXT \"{blob}\" \"{i}\"\n"));
        }
        let zone = records(&text);
        let mut q = query(Rtype::AXFR);
        q.edns = Some(Edns::default());
        let reserve = 100;
        let raw: Vec<Vec<u8>> = axfr(&q, &zone, reserve)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(raw.len() > 5, "{} messages", raw.len());
        for (i, bytes) in raw.iter().enumerate() {
            assert!(bytes.len() <= MAX_MESSAGE - reserve);
            let m = Message::parse(bytes).unwrap();
            assert_eq!(m.questions.len(), usize::from(i == 0));
            assert!(m.edns.is_some(), "OPT in every message");
            assert!(m.flags.aa);
            assert_eq!(m.id, 0x1234);
        }
        // Full messages: all but the last are more than half full.
        for bytes in &raw[..raw.len() - 1] {
            assert!(bytes.len() > MAX_MESSAGE / 2);
        }
        let msgs: Vec<Message> = raw.iter().map(|b| Message::parse(b).unwrap()).collect();
        let mut expected = strings(&zone);
        expected.push(zone[0].to_string());
        assert_eq!(answers(&msgs), expected);
    }

    #[test]
    fn names_are_compressed() {
        let zone = base();
        let bytes = axfr(&query(Rtype::AXFR), &zone, 0)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let mut plain = WireWriter::plain();
        for r in zone.iter().chain(once(&zone[0])) {
            r.write_wire(&mut plain).unwrap();
        }
        assert!(bytes.len() < HEADER_LEN + plain.len());
    }

    #[test]
    fn a_record_that_cannot_fit_is_an_error_not_a_panic() {
        let chunk = format!("\"{}\" ", "y".repeat(255));
        let zone = records(&format!(
            "@ SOA ns hostmaster 1 2 3 4 5\nbig TXT {}\n",
            chunk.repeat(250)
        ));
        let mut p = axfr(&query(Rtype::AXFR), &zone, 2000).unwrap();
        assert!(p.next().unwrap().is_ok());
        assert!(matches!(p.next(), Some(Err(XfrError::RecordTooLarge(_)))));
        assert!(p.next().is_none());
    }

    #[test]
    fn transfers_need_a_soa_and_a_question() {
        let zone = records("a A 192.0.2.1\n");
        assert_eq!(
            axfr(&query(Rtype::AXFR), &zone, 0).err(),
            Some(XfrError::NoSoa)
        );
        let zone = base();
        assert_eq!(
            axfr(&Message::new(1), &zone, 0).err(),
            Some(XfrError::NoQuestion)
        );
    }

    fn journal_to(serial: u32) -> (Journal, Vec<Record>) {
        let mut j = Journal::new();
        let mut zone = base();
        for s in 1..serial {
            j.push(step(s)).unwrap();
            zone = step(s).apply(&zone).unwrap();
        }
        (j, zone)
    }

    #[test]
    fn ixfr_plans_follow_rfc1995() {
        let (j, zone) = journal_to(5);
        assert_eq!(ixfr_plan(5, &zone, &j).unwrap(), IxfrPlan::UpToDate);
        assert_eq!(ixfr_plan(9, &zone, &j).unwrap(), IxfrPlan::UpToDate);
        let IxfrPlan::Incremental(d) = ixfr_plan(2, &zone, &j).unwrap() else {
            panic!("not incremental")
        };
        assert_eq!(
            d.iter().map(|d| d.from_serial()).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert_eq!(ixfr_plan(0, &zone, &j).unwrap(), IxfrPlan::Full);
        // A journal that does not end at the zone's serial is not trusted.
        let (short, _) = journal_to(4);
        assert_eq!(ixfr_plan(2, &zone, &short).unwrap(), IxfrPlan::Full);
    }

    #[test]
    fn ixfr_incremental_response_is_the_difference_sequences() {
        let (j, zone) = journal_to(4);
        let q = ixfr_query(2);
        assert_eq!(ixfr_client_serial(&q), Some(2));
        let plan = ixfr_plan(2, &zone, &j).unwrap();
        let msgs = parse_all(ixfr(&q, plan, &zone, 0).unwrap());
        let mut expected = vec![soa(4).to_string()];
        for s in 2..4 {
            expected.extend(strings(step(s).removed()));
            expected.extend(strings(step(s).added()));
        }
        expected.push(soa(4).to_string());
        assert_eq!(answers(&msgs), expected);
        assert_eq!(msgs[0].questions[0].qtype, Rtype::IXFR);
    }

    #[test]
    fn ixfr_up_to_date_is_one_soa_and_unknown_is_axfr_style() {
        let (j, zone) = journal_to(3);
        let msgs = parse_all(ixfr(&ixfr_query(3), IxfrPlan::UpToDate, &zone, 0).unwrap());
        assert_eq!(answers(&msgs), vec![soa(3).to_string()]);
        let plan = ixfr_plan(0, &zone, &j).unwrap();
        let msgs = parse_all(ixfr(&ixfr_query(0), plan, &zone, 0).unwrap());
        let got = answers(&msgs);
        assert_eq!(got.len(), zone.len() + 1);
        assert_eq!(got.first(), got.last());
        assert_eq!(got[0], soa(3).to_string());
        assert_eq!(ixfr_client_serial(&query(Rtype::IXFR)), None);
    }

    #[test]
    fn ixfr_over_udp_sends_the_whole_answer_or_only_the_soa() {
        let (j, zone) = journal_to(4);
        let q = ixfr_query(2);
        let fits = ixfr_udp(&q, ixfr_plan(2, &zone, &j).unwrap(), &zone, 1232, 0).unwrap();
        let m = Message::parse(&fits).unwrap();
        assert_eq!(m.answers.len(), 1 + 2 * 3 + 1);
        assert!(!m.flags.tc);
        let small = ixfr_udp(&q, ixfr_plan(2, &zone, &j).unwrap(), &zone, 200, 0).unwrap();
        assert!(small.len() <= 200);
        let m = Message::parse(&small).unwrap();
        assert_eq!(strings(&m.answers), vec![soa(4).to_string()]);
    }
}
