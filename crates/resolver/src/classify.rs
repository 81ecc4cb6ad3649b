//! What an upstream response means for the question asked, with everything the sender
//! has no authority for thrown away first.
//!
//! [`classify`] is where hostile answers stop. A server queried as authoritative for a
//! zone is believed only about names at or below that zone (its bailiwick): answer
//! records outside it are ignored, glue must be in bailiwick *and* an address of one of
//! the referral's name servers (RFC 2181 §5.4.1, the Kaminsky-style poisoning defence),
//! and a referral must point strictly downwards from the zone, so a referral can never
//! loop or climb. Nothing here panics on any message: `Message::parse` has already
//! checked the structure, and the rest is set logic over owned records.

use lib_dns::message::Message;
use lib_dns::rdata::{Cname, Dname};
use lib_dns::{Class, Name, RData, Rcode, Record, Rtype};

use crate::cache::NegativeKind;

/// The longest CNAME/DNAME chain followed inside one response.
const MAX_CHAIN_IN_RESPONSE: usize = 16;

/// The meaning of one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Classified {
    /// The RRset asked for, reached through `chain` (CNAMEs, DNAMEs and the CNAMEs
    /// synthesised from them, in order).
    Answer {
        /// Aliases followed, in order.
        chain: Vec<Record>,
        /// The answer RRset (for the last name of the chain).
        rrset: Vec<Record>,
    },
    /// The chain leads to `target`, outside what this server may answer for: ask again
    /// for `target` from the top.
    Alias {
        /// Aliases followed, in order.
        chain: Vec<Record>,
        /// Where the chain leads.
        target: Name,
    },
    /// The name (the end of `chain`) does not exist, or has no data of the type.
    Negative {
        /// NXDOMAIN or NODATA.
        kind: NegativeKind,
        /// Aliases followed, in order.
        chain: Vec<Record>,
        /// The zone's SOA from the authority section, when present and in bailiwick.
        soa: Option<Record>,
    },
    /// A delegation to `zone`, strictly below the zone asked.
    Referral {
        /// The child zone.
        zone: Name,
        /// Its NS RRset.
        ns: Vec<Record>,
        /// Addresses of those name servers, in bailiwick.
        glue: Vec<Record>,
    },
    /// Nothing usable: try another server.
    Lame(&'static str),
}

/// Classifies a NOERROR or NXDOMAIN response to (`qname`, `qtype`) from a server asked as
/// authoritative for `zone`. With `forwarding`, the server is a trusted recursive
/// upstream: any name is in its bailiwick, referrals are not expected and AA is not
/// required.
pub(crate) fn classify(
    msg: &Message,
    zone: &Name,
    qname: &Name,
    qtype: Rtype,
    forwarding: bool,
) -> Classified {
    let in_zone = |name: &Name| forwarding || name.is_subdomain_of(zone);
    let usable = |r: &&Record| r.class == Class::IN && in_zone(&r.owner);
    let mut chain: Vec<Record> = Vec::new();
    let mut current = qname.clone();

    for _ in 0..MAX_CHAIN_IN_RESPONSE {
        if !chain.is_empty() && !in_zone(&current) {
            return Classified::Alias {
                chain,
                target: current,
            };
        }
        let rrset: Vec<Record> = msg
            .answers
            .iter()
            .filter(usable)
            .filter(|r| r.owner == current && r.rtype() == qtype)
            .cloned()
            .collect();
        if !rrset.is_empty() {
            return Classified::Answer { chain, rrset };
        }
        // A DNAME first (RFC 6672 §3.4): the CNAME a server synthesised from it is
        // replaced by our own synthesis.
        if qtype != Rtype::DNAME {
            let dname = msg
                .answers
                .iter()
                .filter(usable)
                .find_map(|r| match &r.data {
                    RData::Dname(Dname(target))
                        if current.is_subdomain_of(&r.owner) && current != r.owner =>
                    {
                        Some((r, target))
                    }
                    _ => None,
                });
            if let Some((record, target)) = dname {
                let Some(synthesised) = substitute(&current, &record.owner, target) else {
                    return Classified::Lame("DNAME substitution too long");
                };
                if chain.iter().any(|c| c.owner == synthesised) {
                    return Classified::Lame("DNAME loop");
                }
                chain.push(record.clone());
                // RFC 6672 §3.4: the synthesised CNAME carries the DNAME's TTL.
                chain.push(Record::new(
                    current.clone(),
                    record.ttl,
                    Cname(synthesised.clone()),
                ));
                current = synthesised;
                continue;
            }
        }
        if qtype != Rtype::CNAME {
            let cname = msg
                .answers
                .iter()
                .filter(usable)
                .find_map(|r| match &r.data {
                    RData::Cname(Cname(target)) if r.owner == current => Some((r, target)),
                    _ => None,
                });
            if let Some((record, target)) = cname {
                if chain.iter().any(|c| c.owner == *target) || *target == *qname {
                    return Classified::Lame("CNAME loop");
                }
                chain.push(record.clone());
                current = target.clone();
                continue;
            }
        }
        break;
    }

    let soa = msg
        .authority
        .iter()
        .filter(usable)
        .find(|r| r.rtype() == Rtype::SOA && current.is_subdomain_of(&r.owner))
        .cloned();
    if msg.rcode == Rcode::NXDOMAIN {
        if !msg.flags.aa && !forwarding && soa.is_none() {
            return Classified::Lame("NXDOMAIN without authority");
        }
        return Classified::Negative {
            kind: NegativeKind::NxDomain,
            chain,
            soa,
        };
    }
    if !forwarding
        && soa.is_none()
        && let Some(referral) = referral(msg, zone, &current)
    {
        if chain.is_empty() {
            return referral;
        }
        // An alias into a delegated zone: ask again from the top for the target.
        return Classified::Alias {
            chain,
            target: current,
        };
    }
    if !msg.flags.aa && !forwarding {
        return Classified::Lame("neither an authoritative answer nor a referral downwards");
    }
    Classified::Negative {
        kind: NegativeKind::NoData,
        chain,
        soa,
    }
}

/// A referral in the authority section for `name`: an NS RRset whose owner is strictly
/// below `zone` and at or above `name`.
fn referral(msg: &Message, zone: &Name, name: &Name) -> Option<Classified> {
    let cut = msg
        .authority
        .iter()
        .filter(|r| r.class == Class::IN && r.rtype() == Rtype::NS)
        .map(|r| &r.owner)
        .filter(|owner| {
            owner.is_subdomain_of(zone) && *owner != zone && name.is_subdomain_of(owner)
        })
        // The deepest cut wins if a server sent several.
        .max_by_key(|owner| owner.label_count())?
        .clone();
    let ns: Vec<Record> = msg
        .authority
        .iter()
        .filter(|r| r.class == Class::IN && r.rtype() == Rtype::NS && r.owner == cut)
        .cloned()
        .collect();
    let targets: Vec<&Name> = ns
        .iter()
        .filter_map(|r| match &r.data {
            RData::Ns(n) => Some(&n.0),
            _ => None,
        })
        .collect();
    let glue = msg
        .additional
        .iter()
        .filter(|r| {
            r.class == Class::IN
                && matches!(r.rtype(), Rtype::A | Rtype::AAAA)
                && r.owner.is_subdomain_of(zone)
                && targets.contains(&&r.owner)
        })
        .cloned()
        .collect();
    Some(Classified::Referral {
        zone: cut,
        ns,
        glue,
    })
}

/// `name` with its suffix `owner` replaced by `target` (RFC 6672 §2.2), or `None` if the
/// result is longer than 255 bytes.
pub(crate) fn substitute(name: &Name, owner: &Name, target: &Name) -> Option<Name> {
    let keep = name.wire_len().checked_sub(owner.wire_len())?;
    let mut wire = name.as_wire().get(..keep)?.to_vec();
    wire.extend_from_slice(target.as_wire());
    Name::from_wire(&wire).ok()
}

/// Groups records into RRsets by (owner, type, class), keeping first-seen order.
pub(crate) fn rrsets(records: impl IntoIterator<Item = Record>) -> Vec<Vec<Record>> {
    let mut sets: Vec<Vec<Record>> = Vec::new();
    for record in records {
        let same = sets.iter_mut().find(|set| {
            set.first().is_some_and(|f| {
                f.owner == record.owner && f.rtype() == record.rtype() && f.class == record.class
            })
        });
        match same {
            Some(set) => set.push(record),
            None => sets.push(vec![record]),
        }
    }
    sets
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use lib_dns::rdata::{A, Ns, Soa};

    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn a(owner: &str, last: u8) -> Record {
        Record::new(name(owner), 300, A(Ipv4Addr::new(192, 0, 2, last)))
    }

    fn ns(owner: &str, target: &str) -> Record {
        Record::new(name(owner), 3600, Ns(name(target)))
    }

    fn cname(owner: &str, target: &str) -> Record {
        Record::new(name(owner), 300, Cname(name(target)))
    }

    fn soa(zone: &str) -> Record {
        Record::new(
            name(zone),
            3600,
            Soa {
                mname: name("ns.invalid."),
                rname: name("h.invalid."),
                serial: 1,
                refresh: 1,
                retry: 1,
                expire: 1,
                minimum: 300,
            },
        )
    }

    fn response(aa: bool, rcode: Rcode) -> Message {
        let mut m = Message::new(1);
        m.flags.qr = true;
        m.flags.aa = aa;
        m.rcode = rcode;
        m
    }

    fn run(m: &Message, zone: &str, qname: &str, qtype: Rtype) -> Classified {
        classify(m, &name(zone), &name(qname), qtype, false)
    }

    #[test]
    fn plain_answer() {
        let mut m = response(true, Rcode::NOERROR);
        m.answers = vec![a("www.example.", 1), a("www.example.", 2)];
        let got = run(&m, "example.", "WWW.example.", Rtype::A);
        assert_eq!(
            got,
            Classified::Answer {
                chain: vec![],
                rrset: m.answers.clone()
            }
        );
    }

    #[test]
    fn out_of_bailiwick_answer_records_are_ignored() {
        let mut m = response(true, Rcode::NOERROR);
        // The server for example. tries to answer for bank.test. as well.
        m.answers = vec![
            cname("www.example.", "www.bank.test."),
            a("www.bank.test.", 66),
        ];
        let got = run(&m, "example.", "www.example.", Rtype::A);
        assert_eq!(
            got,
            Classified::Alias {
                chain: vec![cname("www.example.", "www.bank.test.")],
                target: name("www.bank.test."),
            },
            "the chain leaves the bailiwick: the forged A is not taken"
        );
        // An answer for a name never asked about is not an answer at all.
        let mut m = response(true, Rcode::NOERROR);
        m.answers = vec![a("other.example.", 1)];
        m.authority = vec![soa("example.")];
        assert!(matches!(
            run(&m, "example.", "www.example.", Rtype::A),
            Classified::Negative {
                kind: NegativeKind::NoData,
                ..
            }
        ));
    }

    #[test]
    fn cname_chain_inside_the_zone() {
        let mut m = response(true, Rcode::NOERROR);
        m.answers = vec![
            cname("a.example.", "b.example."),
            cname("b.example.", "c.example."),
            a("c.example.", 3),
        ];
        let Classified::Answer { chain, rrset } = run(&m, "example.", "a.example.", Rtype::A)
        else {
            panic!("expected an answer");
        };
        assert_eq!(chain.len(), 2);
        assert_eq!(rrset, vec![a("c.example.", 3)]);
    }

    #[test]
    fn cname_loop_is_lame() {
        let mut m = response(true, Rcode::NOERROR);
        m.answers = vec![
            cname("a.example.", "b.example."),
            cname("b.example.", "a.example."),
        ];
        assert_eq!(
            run(&m, "example.", "a.example.", Rtype::A),
            Classified::Lame("CNAME loop")
        );
    }

    #[test]
    fn dname_synthesis() {
        let mut m = response(true, Rcode::NOERROR);
        m.answers = vec![
            Record::new(name("old.example."), 600, Dname(name("new.example."))),
            a("host.new.example.", 9),
        ];
        let Classified::Answer { chain, rrset } =
            run(&m, "example.", "host.old.example.", Rtype::A)
        else {
            panic!("expected an answer");
        };
        assert_eq!(chain.len(), 2);
        assert_eq!(
            chain[1],
            Record::new(
                name("host.old.example."),
                600,
                Cname(name("host.new.example."))
            )
        );
        assert_eq!(rrset, vec![a("host.new.example.", 9)]);
    }

    #[test]
    fn referral_with_glue_and_forged_glue_dropped() {
        let mut m = response(false, Rcode::NOERROR);
        m.authority = vec![
            ns("example.", "ns1.example."),
            ns("example.", "ns.elsewhere."),
        ];
        m.additional = vec![
            a("ns1.example.", 1),
            // Not a name server of the referral.
            a("www.example.", 66),
            // Outside the child zone, but the root may vouch for any name.
            a("ns.elsewhere.", 67),
        ];
        let got = classify(&m, &name("."), &name("www.example."), Rtype::A, false);
        let Classified::Referral {
            zone,
            ns: set,
            glue,
        } = got
        else {
            panic!("expected a referral");
        };
        assert_eq!(zone, name("example."));
        assert_eq!(set.len(), 2);
        assert_eq!(glue, vec![a("ns1.example.", 1), a("ns.elsewhere.", 67)]);

        // Asked as the server of "tld.", glue for a name outside "tld." is forged.
        let mut m = response(false, Rcode::NOERROR);
        m.authority = vec![
            ns("example.tld.", "ns.example.tld."),
            ns("example.tld.", "ns.victim."),
        ];
        m.additional = vec![a("ns.example.tld.", 1), a("ns.victim.", 66)];
        let Classified::Referral { glue, .. } = classify(
            &m,
            &name("tld."),
            &name("www.example.tld."),
            Rtype::A,
            false,
        ) else {
            panic!("expected a referral");
        };
        assert_eq!(glue, vec![a("ns.example.tld.", 1)]);
    }

    #[test]
    fn referral_upwards_or_sideways_is_lame() {
        let mut m = response(false, Rcode::NOERROR);
        m.authority = vec![ns(".", "a.root.")];
        assert!(matches!(
            run(&m, "example.", "www.example.", Rtype::A),
            Classified::Lame(_)
        ));
        let mut m = response(false, Rcode::NOERROR);
        m.authority = vec![ns("example.", "ns.example.")];
        assert!(
            matches!(
                run(&m, "example.", "www.example.", Rtype::A),
                Classified::Lame(_)
            ),
            "a referral to the same zone is a loop"
        );
        let mut m = response(false, Rcode::NOERROR);
        m.authority = vec![ns("other.example.", "ns.other.example.")];
        assert!(
            matches!(
                run(&m, "example.", "www.example.", Rtype::A),
                Classified::Lame(_)
            ),
            "a referral that does not cover the name"
        );
    }

    #[test]
    fn negative_answers() {
        let mut m = response(true, Rcode::NXDOMAIN);
        m.authority = vec![soa("example.")];
        assert_eq!(
            run(&m, "example.", "nope.example.", Rtype::A),
            Classified::Negative {
                kind: NegativeKind::NxDomain,
                chain: vec![],
                soa: Some(soa("example."))
            }
        );
        let mut m = response(true, Rcode::NOERROR);
        m.authority = vec![soa("example.")];
        assert!(matches!(
            run(&m, "example.", "www.example.", Rtype::AAAA),
            Classified::Negative {
                kind: NegativeKind::NoData,
                soa: Some(_),
                ..
            }
        ));
        // An SOA of some other zone is not taken.
        let mut m = response(true, Rcode::NXDOMAIN);
        m.authority = vec![soa("victim.")];
        assert!(matches!(
            run(&m, "example.", "nope.example.", Rtype::A),
            Classified::Negative { soa: None, .. }
        ));
    }

    #[test]
    fn non_authoritative_empty_answer_is_lame() {
        let m = response(false, Rcode::NOERROR);
        assert!(matches!(
            run(&m, "example.", "www.example.", Rtype::A),
            Classified::Lame(_)
        ));
        let m = response(false, Rcode::NXDOMAIN);
        assert!(matches!(
            run(&m, "example.", "www.example.", Rtype::A),
            Classified::Lame(_)
        ));
    }

    #[test]
    fn forwarding_trusts_the_upstream() {
        let mut m = response(false, Rcode::NOERROR);
        m.answers = vec![cname("www.example.", "cdn.test."), a("cdn.test.", 5)];
        let got = classify(&m, &name("."), &name("www.example."), Rtype::A, true);
        assert!(matches!(got, Classified::Answer { .. }));
    }

    #[test]
    fn substitute_checks_length() {
        assert_eq!(
            substitute(&name("a.b.old."), &name("old."), &name("new.example.")),
            Some(name("a.b.new.example."))
        );
        let a = "a".repeat(63);
        let b = "b".repeat(63);
        let long = name(&format!("{a}.{a}.{a}.x."));
        let target = name(&format!("{b}.{b}."));
        assert_eq!(substitute(&long, &name("x."), &target), None);
    }

    #[test]
    fn rrsets_group_by_owner_type_class() {
        let sets = rrsets(vec![a("x.", 1), ns("x.", "n."), a("X.", 2), a("y.", 1)]);
        assert_eq!(sets.len(), 3);
        assert_eq!(sets[0].len(), 2);
    }
}
