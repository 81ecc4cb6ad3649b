//! THE CONNECTION POINT between the network edge and the answering core.
//!
//! Every listener answers through the `Arc<dyn Answerer>` that [`build_answerer`] returns
//! (swapped atomically on reload). The lead connects the real engine of `crates/auth`
//! here and nowhere else.

use std::sync::Arc;

use lib_dns::zone::Zone;
use zdns_auth::{Answerer, Outcome, QueryContext};

/// Builds the answerer for the loaded zones.
///
/// For now this returns [`Refuser`], which answers every query REFUSED: the authoritative
/// engine of `crates/auth` is not connected yet. Replace the body with the engine built
/// from `zones`.
pub fn build_answerer(zones: Vec<Zone>) -> Arc<dyn Answerer> {
    drop(zones);
    Arc::new(Refuser)
}

/// Answers every query REFUSED, echoing its header and question (RFC 1035 §4.1.1).
/// Bytes that are not a query get no answer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refuser;

/// RCODE 5, REFUSED.
const REFUSED: u8 = 5;

impl Answerer for Refuser {
    fn answer(&self, query: &[u8], _ctx: &QueryContext, out: &mut Vec<u8>) -> Outcome {
        out.clear();
        let Some(question_len) = first_question_len(query) else {
            return Outcome::Drop;
        };
        let (Some(header), Some(question)) = (query.get(..12), query.get(12..12 + question_len))
        else {
            return Outcome::Drop;
        };
        let (Some(&b2), Some(&qd_hi), Some(&qd_lo)) = (header.get(2), header.get(4), header.get(5))
        else {
            return Outcome::Drop;
        };
        if b2 & 0x80 != 0 || (qd_hi, qd_lo) != (0, 1) {
            return Outcome::Drop;
        }
        out.extend_from_slice(header.get(..2).unwrap_or_default());
        // QR set, opcode and RD kept; AA, TC, RA, Z, AD, CD cleared, RCODE REFUSED.
        out.push(0x80 | (b2 & 0x79));
        out.push(REFUSED);
        out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(question);
        Outcome::Reply
    }
}

/// The length of the first question of a one-question message, if it is well formed
/// (an uncompressed name of at most 255 bytes, then type and class).
fn first_question_len(msg: &[u8]) -> Option<usize> {
    let mut at = 12;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len > 63 {
            return None;
        }
        at += 1 + len;
        if at - 12 > 255 {
            return None;
        }
        if len == 0 {
            break;
        }
    }
    let end = at + 4;
    (msg.len() >= end).then_some(end - 12)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lib_dns::{Message, Name, Rcode, Rtype};
    use zdns_auth::Transport;

    fn ctx() -> QueryContext {
        QueryContext {
            client: "127.0.0.1:1".parse().unwrap(),
            transport: Transport::Udp,
            now: 0,
        }
    }

    #[test]
    fn refuses_and_echoes_the_question() {
        let q = Message::query(77, Name::parse("Example.").unwrap(), Rtype::SOA);
        let wire = q.to_wire(512).unwrap();
        let mut out = Vec::new();
        assert_eq!(Refuser.answer(&wire, &ctx(), &mut out), Outcome::Reply);
        let r = Message::parse(&out).unwrap();
        assert_eq!(r.id, 77);
        assert!(r.flags.qr && r.flags.rd);
        assert_eq!(r.rcode, Rcode::REFUSED);
        assert_eq!(r.questions, q.questions);
    }

    #[test]
    fn drops_what_is_not_a_query() {
        let mut out = Vec::new();
        for bad in [
            &b""[..],
            &[0u8; 11],
            &[0u8; 12],
            &[0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1],
        ] {
            assert_eq!(Refuser.answer(bad, &ctx(), &mut out), Outcome::Drop);
        }
        assert!(build_answerer(Vec::new()).answer(&[0; 3], &ctx(), &mut out) == Outcome::Drop);
    }
}
