//! The result of a resolution and the response message built from it.

use lib_dns::message::{Edns, EdnsOption, ExtendedError, Message};
use lib_dns::{Rcode, Record};

/// Extended DNS Error 0, Other (RFC 8914 §4.1).
pub const EDE_OTHER: u16 = 0;
/// Extended DNS Error 3, Stale Answer (RFC 8914 §4.4).
pub const EDE_STALE_ANSWER: u16 = 3;
/// Extended DNS Error 22, No Reachable Authority (RFC 8914 §4.23).
pub const EDE_NO_REACHABLE_AUTHORITY: u16 = 22;

/// What a resolution produced, ready to become a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// NOERROR, NXDOMAIN or SERVFAIL.
    pub rcode: Rcode,
    /// The answer section: aliases followed, then the RRset asked for.
    pub answers: Vec<Record>,
    /// The authority section (the SOA of a negative answer).
    pub authority: Vec<Record>,
    /// Served from expired data under serve-stale (RFC 8767).
    pub stale: bool,
    /// Some of the data is contested (seed 003 §11.2, §12.2 rule 5).
    pub contested: bool,
    /// Why, when something went wrong or the answer is stale (RFC 8914).
    pub extended_error: Option<ExtendedError>,
}

impl Answer {
    /// A SERVFAIL with an Extended DNS Error.
    pub fn servfail(info_code: u16, text: &str) -> Answer {
        Answer {
            rcode: Rcode::SERVFAIL,
            answers: Vec::new(),
            authority: Vec::new(),
            stale: false,
            contested: false,
            extended_error: Some(ExtendedError::new(info_code, text)),
        }
    }

    /// The smallest TTL of any record, the time for which the answer as a whole holds
    /// (0 when there are no records).
    pub fn ttl(&self) -> u32 {
        self.answers
            .iter()
            .chain(&self.authority)
            .map(|r| r.ttl)
            .min()
            .unwrap_or(0)
    }

    /// The response to `query`: RA set (this is a recursive answer), EDNS with the
    /// Extended DNS Error when the query had EDNS (RFC 8914 §3: the option needs OPT).
    pub fn to_response(&self, query: &Message, udp_payload_size: u16) -> Message {
        let mut response = Message::response_to(query);
        response.flags.ra = true;
        response.rcode = self.rcode;
        response.answers = self.answers.clone();
        response.authority = self.authority.clone();
        if query.edns.is_some() {
            let mut edns = Edns {
                udp_payload_size,
                ..Edns::default()
            };
            if let Some(ede) = &self.extended_error {
                edns.options.push(EdnsOption::ExtendedError(ede.clone()));
            }
            response.edns = Some(edns);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use lib_dns::rdata::A;
    use lib_dns::{Name, Rtype};

    use super::*;

    #[test]
    fn stale_answer_carries_ede_3_only_with_edns() {
        let name = Name::parse("www.example.").unwrap();
        let answer = Answer {
            rcode: Rcode::NOERROR,
            answers: vec![Record::new(name.clone(), 30, A(Ipv4Addr::LOCALHOST))],
            authority: vec![],
            stale: true,
            contested: false,
            extended_error: Some(ExtendedError::new(EDE_STALE_ANSWER, "")),
        };
        let mut query = Message::query(7, name.clone(), Rtype::A);
        query.edns = Some(Edns::default());
        let response = answer.to_response(&query, 1232);
        assert!(response.flags.ra && response.flags.qr && response.flags.rd);
        let wire = response.to_wire(1232).unwrap();
        let parsed = Message::parse(&wire).unwrap();
        let options = &parsed.edns.unwrap().options;
        assert_eq!(
            options,
            &vec![EdnsOption::ExtendedError(ExtendedError::new(
                EDE_STALE_ANSWER,
                ""
            ))]
        );
        query.edns = None;
        assert!(answer.to_response(&query, 1232).edns.is_none());
        assert_eq!(answer.ttl(), 30);
    }
}
