//! The result of a resolution and the response message built from it.

use lib_dns::message::{Edns, EdnsOption, ExtendedError, Message};
use lib_dns::{Rcode, Record, Rtype};

use crate::nxmeta::{NXMETA_OPTION, NxMetadata};
use crate::validator::Security;

/// Extended DNS Error 0, Other (RFC 8914 §4.1).
pub const EDE_OTHER: u16 = 0;
/// Extended DNS Error 3, Stale Answer (RFC 8914 §4.4).
pub const EDE_STALE_ANSWER: u16 = 3;
/// Extended DNS Error 22, No Reachable Authority (RFC 8914 §4.23).
pub const EDE_NO_REACHABLE_AUTHORITY: u16 = 22;

/// The EXTRA-TEXT of the EDE 0 (Other) that marks data of an external-scope zone (seed
/// 003 §16.1 class C).
pub const EXTERNAL_TEXT: &str = "external";

/// The EXTRA-TEXT of the EDE 0 (Other) that marks contested data on the wire (seed 003
/// §11.2, §12.2 rule 5), which no registered code covers.
pub const CONTESTED_TEXT: &str = "contested";

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
    /// Some of the data belongs to an external-scope zone (seed 003 §16.1).
    pub external: bool,
    /// Why, when something went wrong or the answer is stale (RFC 8914).
    pub extended_error: Option<ExtendedError>,
    /// Who said NXDOMAIN, and how much of the authority was asked (seed 003 §12.2
    /// rule 4); sent with NXDOMAIN answers.
    pub nx_metadata: Option<NxMetadata>,
    /// What DNSSEC validation made of it (Indeterminate when not validated). A Bogus
    /// answer goes to clients as SERVFAIL unless they set CD (RFC 4035 §3.2.2).
    pub security: Security,
    /// The RRSIGs of the answer section, sent to clients that set DO (RFC 4035 §3.2.1).
    pub rrsigs: Vec<Record>,
    /// The denial proof (NSEC/NSEC3 records) and the authority section's RRSIGs, sent
    /// to clients that set DO.
    pub proof: Vec<Record>,
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
            external: false,
            extended_error: Some(ExtendedError::new(info_code, text)),
            nx_metadata: None,
            security: Security::Indeterminate,
            rrsigs: Vec::new(),
            proof: Vec::new(),
        }
    }

    /// A NOERROR answer with `answers`, nothing else set.
    pub fn positive(answers: Vec<Record>) -> Answer {
        Answer {
            rcode: Rcode::NOERROR,
            answers,
            authority: Vec::new(),
            stale: false,
            contested: false,
            external: false,
            extended_error: None,
            nx_metadata: None,
            security: Security::Indeterminate,
            rrsigs: Vec::new(),
            proof: Vec::new(),
        }
    }

    /// What a response says, read back: the flags from its Extended DNS Errors (EDE 3
    /// is stale, EDE 0 "contested" is contested), Secure from its AD bit, RRSIGs and
    /// denial records apart from the data.
    pub fn from_response(response: &Message) -> Answer {
        let errors: Vec<&ExtendedError> = response
            .edns
            .iter()
            .flat_map(|e| &e.options)
            .filter_map(|o| match o {
                EdnsOption::ExtendedError(e) => Some(e),
                _ => None,
            })
            .collect();
        let is_sig = |r: &&Record| r.rtype() == Rtype::RRSIG;
        let is_proof = |r: &&Record| matches!(r.rtype(), Rtype::RRSIG | Rtype::NSEC | Rtype::NSEC3);
        Answer {
            rcode: response.rcode,
            answers: response
                .answers
                .iter()
                .filter(|r| !is_sig(r))
                .cloned()
                .collect(),
            authority: response
                .authority
                .iter()
                .filter(|r| !is_proof(r))
                .cloned()
                .collect(),
            security: if response.flags.ad {
                Security::Secure
            } else {
                Security::Indeterminate
            },
            rrsigs: response.answers.iter().filter(is_sig).cloned().collect(),
            proof: response
                .authority
                .iter()
                .filter(is_proof)
                .cloned()
                .collect(),
            stale: errors.iter().any(|e| e.info_code == EDE_STALE_ANSWER),
            contested: errors
                .iter()
                .any(|e| e.info_code == EDE_OTHER && e.text == CONTESTED_TEXT),
            external: errors
                .iter()
                .any(|e| e.info_code == EDE_OTHER && e.text == EXTERNAL_TEXT),
            extended_error: errors
                .into_iter()
                .find(|e| {
                    !(e.info_code == EDE_OTHER
                        && (e.text == CONTESTED_TEXT || e.text == EXTERNAL_TEXT))
                })
                .cloned(),
            nx_metadata: response
                .edns
                .iter()
                .flat_map(|e| &e.options)
                .find_map(|o| match o {
                    EdnsOption::Unknown { code, data } if *code == NXMETA_OPTION => {
                        NxMetadata::decode(data).ok()
                    }
                    _ => None,
                }),
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
    ///
    /// DNSSEC (RFC 4035 §3.2, RFC 6840 §5.7–§5.9): a Bogus answer becomes SERVFAIL with
    /// its Extended DNS Error unless the query set CD, when the data goes out
    /// unvalidated; AD is set only on Secure data and only for a query that set DO or
    /// AD; RRSIGs and denial proofs go only to queries that set DO.
    pub fn to_response(&self, query: &Message, udp_payload_size: u16) -> Message {
        if self.security == Security::Bogus && !query.flags.cd {
            let servfail = Answer {
                extended_error: self.extended_error.clone(),
                ..Answer::servfail(0, "")
            };
            return servfail.to_response(query, udp_payload_size);
        }
        let dnssec_ok = query.edns.as_ref().is_some_and(Edns::dnssec_ok);
        let mut response = Message::response_to(query);
        response.flags.ra = true;
        response.flags.ad = self.security == Security::Secure && (dnssec_ok || query.flags.ad);
        response.rcode = self.rcode;
        response.answers = self.answers.clone();
        response.authority = self.authority.clone();
        if dnssec_ok {
            response.answers.extend(self.rrsigs.iter().cloned());
            response.authority.extend(self.proof.iter().cloned());
        }
        if query.edns.is_some() {
            let mut edns = Edns {
                udp_payload_size,
                ..Edns::default()
            };
            edns.set_dnssec_ok(dnssec_ok);
            if let Some(ede) = &self.extended_error {
                edns.options.push(EdnsOption::ExtendedError(ede.clone()));
            }
            if self.rcode == Rcode::NXDOMAIN
                && let Some(data) = self.nx_metadata.as_ref().and_then(|m| m.encode().ok())
            {
                edns.options.push(EdnsOption::Unknown {
                    code: NXMETA_OPTION,
                    data,
                });
            }
            if self.external {
                edns.options
                    .push(EdnsOption::ExtendedError(ExtendedError::new(
                        EDE_OTHER,
                        EXTERNAL_TEXT,
                    )));
            }
            if self.contested {
                edns.options
                    .push(EdnsOption::ExtendedError(ExtendedError::new(
                        EDE_OTHER,
                        CONTESTED_TEXT,
                    )));
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
            external: false,
            extended_error: Some(ExtendedError::new(EDE_STALE_ANSWER, "")),
            nx_metadata: None,
            security: Security::Indeterminate,
            rrsigs: Vec::new(),
            proof: Vec::new(),
        };
        let mut query = Message::query(7, name.clone(), Rtype::A);
        query.edns = Some(Edns::default());
        let response = answer.to_response(&query, 1232);
        assert!(response.flags.ra && response.flags.qr && response.flags.rd);
        let wire = response.to_wire(1232).unwrap();
        let parsed = Message::parse(&wire).unwrap();
        let options = &parsed.edns.as_ref().unwrap().options;
        assert_eq!(
            options,
            &vec![EdnsOption::ExtendedError(ExtendedError::new(
                EDE_STALE_ANSWER,
                ""
            ))]
        );
        assert_eq!(Answer::from_response(&parsed), answer);
        let contested = Answer {
            contested: true,
            external: true,
            ..answer.clone()
        };
        let mut query_edns = query.clone();
        query_edns.edns = Some(Edns::default());
        let wire = contested
            .to_response(&query_edns, 1232)
            .to_wire(1232)
            .unwrap();
        assert_eq!(
            Answer::from_response(&Message::parse(&wire).unwrap()),
            contested
        );
        query.edns = None;
        assert!(answer.to_response(&query, 1232).edns.is_none());
        assert_eq!(answer.ttl(), 30);
    }
}
