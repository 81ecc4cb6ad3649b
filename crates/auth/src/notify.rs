//! NOTIFY (RFC 1996): the messages a primary sends when a zone changes, and what a
//! secondary reads from them. Sending, retrying and access control are the edge's.

use lib_dns::message::Message;
use lib_dns::name::Name;
use lib_dns::record::Record;
use lib_dns::types::{Class, Opcode, Rcode, Rtype};

use crate::diff::soa_serial;

/// How many times a NOTIFY is sent before the primary gives up on a secondary
/// (RFC 1996 §3.6 leaves the count to the implementation; BIND and Knot use about 5).
pub const MAX_ATTEMPTS: u32 = 5;

/// The NOTIFY for `zone` (RFC 1996 §3.7): opcode NOTIFY, AA set, the question
/// `zone SOA IN`, and the new SOA in the answer section as a hint (§3.7, §3.11).
pub fn request(id: u16, zone: &Name, soa: Option<&Record>) -> Message {
    let mut m = Message::query(id, zone.clone(), Rtype::SOA);
    m.opcode = Opcode::NOTIFY;
    m.flags.rd = false;
    m.flags.aa = true;
    m.answers.extend(soa.cloned());
    m
}

/// A NOTIFY as a secondary reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The zone that changed.
    pub zone: Name,
    /// Its class.
    pub class: Class,
    /// The serial the primary announced, if it included its SOA (only a hint: the
    /// secondary still asks for the SOA, RFC 1996 §3.11).
    pub serial: Option<u32>,
}

/// Reads a NOTIFY request; `Err` is the rcode to answer with (FORMERR when it names
/// no zone or asks about another type than SOA).
pub fn read(msg: &Message) -> Result<Notification, Rcode> {
    let q = msg.question().ok_or(Rcode::FORMERR)?;
    if msg.questions.len() != 1 || q.qtype != Rtype::SOA || msg.flags.qr {
        return Err(Rcode::FORMERR);
    }
    let serial = msg
        .answers
        .iter()
        .find(|r| r.rtype() == Rtype::SOA && r.owner.eq_ignore_case(&q.qname))
        .and_then(soa_serial);
    Ok(Notification {
        zone: q.qname.clone(),
        class: q.qclass,
        serial,
    })
}

/// The answer to a NOTIFY (RFC 1996 §4.7): the request's ID, opcode and question, QR
/// set, AA set when the answer is NOERROR.
pub fn response(msg: &Message, rcode: Rcode) -> Message {
    let mut r = Message::response_to(msg);
    r.flags.aa = rcode == Rcode::NOERROR;
    r.rcode = rcode;
    r
}

/// Whether `reply` acknowledges the NOTIFY with ID `id` for `zone` (RFC 1996 §4.7):
/// only then does the primary stop retrying that secondary.
pub fn acknowledges(reply: &Message, id: u16, zone: &Name) -> bool {
    reply.id == id
        && reply.flags.qr
        && reply.opcode == Opcode::NOTIFY
        && reply
            .question()
            .is_none_or(|q| q.qname.eq_ignore_case(zone) && q.qtype == Rtype::SOA)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{name, soa};

    #[test]
    fn request_read_and_acknowledged() {
        let zone = name("example.");
        let req = request(42, &zone, Some(&soa(9)));
        let wire = req.to_wire(512).unwrap();
        let parsed = Message::parse(&wire).unwrap();
        assert_eq!(parsed.opcode, Opcode::NOTIFY);
        assert!(parsed.flags.aa && !parsed.flags.rd);
        let n = read(&parsed).unwrap();
        assert_eq!(n.zone, zone);
        assert_eq!(n.serial, Some(9));
        assert_eq!(read(&request(1, &zone, None)).unwrap().serial, None);
        let ack = response(&parsed, Rcode::NOERROR);
        assert!(ack.flags.aa);
        assert!(acknowledges(&ack, 42, &zone));
        assert!(!acknowledges(&ack, 43, &zone));
        assert!(!acknowledges(&ack, 42, &name("other.")));
        assert!(!response(&parsed, Rcode::REFUSED).flags.aa);
    }

    #[test]
    fn malformed_notifies_are_formerr() {
        let mut wrong_type = request(1, &name("example."), None);
        wrong_type.questions[0].qtype = Rtype::A;
        assert_eq!(read(&wrong_type), Err(Rcode::FORMERR));
        let mut none = request(1, &name("example."), None);
        none.questions.clear();
        assert_eq!(read(&none), Err(Rcode::FORMERR));
    }
}
