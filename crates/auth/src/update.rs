//! Dynamic UPDATE (RFC 2136) evaluated over a zone's records: the zone section check
//! (§3.1), the prerequisites (§3.2), the prescan (§3.4.1) and the update proper
//! (§3.4.2), giving the change as a [`ZoneDiff`] with the SOA serial incremented (§3.6),
//! or the rcode to answer with. Nothing is applied here: the caller journals the diff,
//! fsyncs, applies it and only then answers NOERROR.
//!
//! In an UPDATE message the zone section is the question section, the prerequisites
//! are the answer section and the updates the authority section (§2).

use std::collections::HashMap;

use lib_dns::message::Message;
use lib_dns::name::Name;
use lib_dns::rdata::RData;
use lib_dns::record::Record;
use lib_dns::types::{Class, Opcode, Rcode, Rtype};
use lib_dns::wire::WireWriter;

use crate::diff::{ZoneDiff, same_rr, serial_add, serial_gt, soa_serial};

/// What an UPDATE does to the zone when its prerequisites hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The update changes nothing (RFC 2136 §3.6: the serial is not incremented).
    Unchanged,
    /// The change to journal and apply, ending at a higher serial.
    Changed(ZoneDiff),
}

/// Whether a record's data is empty on the wire (RDLENGTH 0).
fn rdata_empty(r: &Record) -> bool {
    if let RData::Unknown(u) = &r.data {
        return u.data.is_empty();
    }
    let mut w = WireWriter::plain();
    r.data.write_wire(&mut w).is_ok() && w.is_empty()
}

/// The records of the owners an update names, taken from the zone, and edited in place.
struct Working<'a> {
    origin: &'a Name,
    class: Class,
    owners: HashMap<Name, Vec<Record>>,
}

impl Working<'_> {
    fn at(&self, name: &Name) -> &[Record] {
        self.owners.get(name).map_or(&[], Vec::as_slice)
    }

    fn has_type(&self, name: &Name, rtype: Rtype) -> bool {
        self.at(name).iter().any(|r| r.rtype() == rtype)
    }

    fn at_mut(&mut self, name: &Name) -> &mut Vec<Record> {
        self.owners.entry(name.clone()).or_default()
    }

    /// RFC 2136 §3.4.2.2: adds (or replaces) one record of the zone's class.
    fn add(&mut self, rr: &Record) {
        let rtype = rr.rtype();
        let has_cname = self.has_type(&rr.owner, Rtype::CNAME);
        let has_other = self
            .at(&rr.owner)
            .iter()
            .any(|r| r.rtype() != Rtype::CNAME && !r.rtype().may_coexist_with_cname());
        // A CNAME cannot join other data, nor other data a CNAME (RFC 2181 §10.1; the
        // DNSSEC types may stand beside it, RFC 4035 §2.5).
        if (rtype == Rtype::CNAME && has_other)
            || (rtype != Rtype::CNAME && !rtype.may_coexist_with_cname() && has_cname)
        {
            return;
        }
        let at = self.at_mut(&rr.owner);
        if rtype == Rtype::SOA {
            let newer = at
                .iter()
                .find_map(soa_serial)
                .zip(soa_serial(rr))
                .is_some_and(|(old, new)| serial_gt(new, old));
            if newer {
                at.retain(|r| r.rtype() != Rtype::SOA);
                at.push(rr.clone());
            }
            return;
        }
        if rtype == Rtype::CNAME {
            at.retain(|r| r.rtype() != Rtype::CNAME);
        }
        match at.iter_mut().find(|r| same_rr(r, rr)) {
            Some(existing) => existing.ttl = rr.ttl,
            None => at.push(rr.clone()),
        }
    }

    /// RFC 2136 §3.4.2.3: deletes an RRset, or all RRsets of a name (class ANY). The
    /// apex keeps its SOA and NS RRsets.
    fn delete_rrset(&mut self, rr: &Record) {
        let apex = rr.owner == *self.origin;
        let rtype = rr.rtype();
        if apex && (rtype == Rtype::SOA || rtype == Rtype::NS) {
            return;
        }
        let at = self.at_mut(&rr.owner);
        if rtype == Rtype::ANY {
            at.retain(|r| apex && (r.rtype() == Rtype::SOA || r.rtype() == Rtype::NS));
        } else {
            at.retain(|r| r.rtype() != rtype);
        }
    }

    /// RFC 2136 §3.4.2.4: deletes one RR; never the SOA, nor the apex's last NS.
    fn delete_rr(&mut self, rr: &Record) {
        let rtype = rr.rtype();
        if rtype == Rtype::SOA {
            return;
        }
        let apex = rr.owner == *self.origin;
        let target = Record {
            class: self.class,
            ..rr.clone()
        };
        let at = self.at_mut(&rr.owner);
        if apex && rtype == Rtype::NS {
            let ns = at.iter().filter(|r| r.rtype() == Rtype::NS).count();
            let hits = at.iter().filter(|r| same_rr(r, &target)).count();
            if hits > 0 && ns <= hits {
                return;
            }
        }
        at.retain(|r| !same_rr(r, &target));
    }
}

/// §3.1: the zone section names this zone, as its one SOA question.
fn check_zone(update: &Message, origin: &Name, class: Class) -> Result<(), Rcode> {
    if update.opcode != Opcode::UPDATE {
        return Err(Rcode::FORMERR);
    }
    let [zone] = update.questions.as_slice() else {
        return Err(Rcode::FORMERR);
    };
    if zone.qtype != Rtype::SOA {
        return Err(Rcode::FORMERR);
    }
    if zone.qname != *origin || zone.qclass != class {
        return Err(Rcode::NOTAUTH);
    }
    Ok(())
}

/// §3.2: every prerequisite holds, or the rcode of the first that fails.
fn check_prerequisites(prereqs: &[Record], work: &Working<'_>, class: Class) -> Result<(), Rcode> {
    // §3.2.3: value-dependent prerequisites, grouped into RRsets.
    let mut rrsets: HashMap<(&Name, Rtype), Vec<&Record>> = HashMap::new();
    for rr in prereqs {
        if rr.ttl != 0 {
            return Err(Rcode::FORMERR);
        }
        if !rr.owner.is_subdomain_of(work.origin) {
            return Err(Rcode::NOTZONE);
        }
        let rtype = rr.rtype();
        let at = work.at(&rr.owner);
        if rr.class == Class::ANY || rr.class == Class::NONE {
            if !rdata_empty(rr) {
                return Err(Rcode::FORMERR);
            }
            let exists = if rtype == Rtype::ANY {
                !at.is_empty()
            } else {
                at.iter().any(|r| r.rtype() == rtype)
            };
            // §3.2.1 (class ANY: must exist) and §3.2.2 (class NONE: must not).
            match (rr.class == Class::ANY, exists, rtype == Rtype::ANY) {
                (true, false, true) => return Err(Rcode::NXDOMAIN),
                (true, false, false) => return Err(Rcode::NXRRSET),
                (false, true, true) => return Err(Rcode::YXDOMAIN),
                (false, true, false) => return Err(Rcode::YXRRSET),
                _ => {}
            }
        } else if rr.class == class {
            if rtype.is_meta() {
                return Err(Rcode::FORMERR);
            }
            rrsets.entry((&rr.owner, rtype)).or_default().push(rr);
        } else {
            return Err(Rcode::FORMERR);
        }
    }
    for ((owner, rtype), wanted) in rrsets {
        let zone: Vec<&Record> = work
            .at(owner)
            .iter()
            .filter(|r| r.rtype() == rtype)
            .collect();
        let covers =
            |a: &[&Record], b: &[&Record]| a.iter().all(|x| b.iter().any(|y| same_rr(x, y)));
        if !covers(&wanted, &zone) || !covers(&zone, &wanted) {
            return Err(Rcode::NXRRSET);
        }
    }
    Ok(())
}

/// §3.4.1: the update section is well formed.
fn prescan(updates: &[Record], origin: &Name, class: Class) -> Result<(), Rcode> {
    for rr in updates {
        if !rr.owner.is_subdomain_of(origin) {
            return Err(Rcode::NOTZONE);
        }
        let rtype = rr.rtype();
        let ok = if rr.class == class {
            !rtype.is_meta()
        } else if rr.class == Class::ANY {
            rr.ttl == 0 && rdata_empty(rr) && (rtype == Rtype::ANY || !rtype.is_meta())
        } else if rr.class == Class::NONE {
            rr.ttl == 0 && !rtype.is_meta()
        } else {
            false
        };
        if !ok {
            return Err(Rcode::FORMERR);
        }
    }
    Ok(())
}

/// Evaluates an UPDATE message against the zone `origin`/`class` with these records.
/// `Err` carries the rcode to answer with (FORMERR, NOTAUTH, NOTZONE, NXDOMAIN,
/// YXDOMAIN, NXRRSET, YXRRSET, or SERVFAIL for a zone without a SOA).
pub fn evaluate(
    update: &Message,
    origin: &Name,
    class: Class,
    zone: &[Record],
) -> Result<UpdateOutcome, Rcode> {
    check_zone(update, origin, class)?;
    let prereqs = &update.answers;
    let updates = &update.authority;
    // Only the owners the message names, and the apex, need to be looked at.
    let mut owners: HashMap<Name, Vec<Record>> = HashMap::new();
    owners.insert(origin.clone(), Vec::new());
    for rr in prereqs.iter().chain(updates) {
        owners.entry(rr.owner.clone()).or_default();
    }
    for r in zone {
        if let Some(list) = owners.get_mut(&r.owner) {
            list.push(r.clone());
        }
    }
    let before = owners.clone();
    let mut work = Working {
        origin,
        class,
        owners,
    };
    let old_soa = work
        .at(origin)
        .iter()
        .find(|r| r.rtype() == Rtype::SOA)
        .cloned()
        .ok_or(Rcode::SERVFAIL)?;
    check_prerequisites(prereqs, &work, class)?;
    prescan(updates, origin, class)?;
    for rr in updates {
        if rr.class == class {
            work.add(rr);
        } else if rr.class == Class::ANY {
            work.delete_rrset(rr);
        } else {
            work.delete_rr(rr);
        }
    }
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for (owner, old) in &before {
        let new = work.at(owner);
        let exact = |a: &Record, b: &Record| same_rr(a, b) && a.ttl == b.ttl;
        let not_soa = |r: &&Record| r.rtype() != Rtype::SOA;
        removed.extend(
            old.iter()
                .filter(not_soa)
                .filter(|o| !new.iter().any(|n| exact(o, n)))
                .cloned(),
        );
        added.extend(
            new.iter()
                .filter(not_soa)
                .filter(|n| !old.iter().any(|o| exact(o, n)))
                .cloned(),
        );
    }
    let new_soa = work
        .at(origin)
        .iter()
        .find(|r| r.rtype() == Rtype::SOA)
        .cloned()
        .ok_or(Rcode::SERVFAIL)?;
    if removed.is_empty() && added.is_empty() && new_soa == old_soa {
        return Ok(UpdateOutcome::Unchanged);
    }
    // §3.6: the serial rises unless the update itself raised it.
    let new_soa = if new_soa == old_soa {
        bump_serial(&old_soa).ok_or(Rcode::SERVFAIL)?
    } else {
        new_soa
    };
    removed.insert(0, old_soa);
    added.insert(0, new_soa);
    ZoneDiff::new(removed, added)
        .map(UpdateOutcome::Changed)
        .map_err(|_| Rcode::SERVFAIL)
}

/// The SOA with its serial incremented by one (RFC 1982 §3.1).
fn bump_serial(soa: &Record) -> Option<Record> {
    let RData::Soa(data) = &soa.data else {
        return None;
    };
    let mut data = data.clone();
    data.serial = serial_add(data.serial, 1)?;
    Some(Record {
        data: RData::Soa(data),
        ..soa.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::{base, name, records};
    use lib_dns::rdata::UnknownRdata;

    fn origin() -> Name {
        name("example.")
    }

    fn update() -> Message {
        let mut m = Message::new(7);
        m.opcode = Opcode::UPDATE;
        m.questions
            .push(lib_dns::message::Question::new(origin(), Rtype::SOA));
        m
    }

    fn rr(text: &str) -> Record {
        records(text).remove(0)
    }

    /// A record of class ANY or NONE with empty data (§2.4, §2.5.2).
    fn empty(owner: &str, rtype: Rtype, class: Class) -> Record {
        Record {
            owner: name(owner),
            class,
            ttl: 0,
            data: RData::Unknown(UnknownRdata {
                rtype,
                data: Vec::new(),
            }),
        }
    }

    fn with_class(mut r: Record, class: Class, ttl: u32) -> Record {
        r.class = class;
        r.ttl = ttl;
        r
    }

    fn run(m: &Message) -> Result<UpdateOutcome, Rcode> {
        evaluate(m, &origin(), Class::IN, &base())
    }

    fn diff(m: &Message) -> ZoneDiff {
        match run(m) {
            Ok(UpdateOutcome::Changed(d)) => d,
            other => panic!("expected a change, got {other:?}"),
        }
    }

    fn strings(r: &[Record]) -> Vec<String> {
        r.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn zone_section_is_checked() {
        let mut m = update();
        m.questions.clear();
        assert_eq!(run(&m), Err(Rcode::FORMERR));
        let mut m = update();
        m.questions[0].qtype = Rtype::A;
        assert_eq!(run(&m), Err(Rcode::FORMERR));
        let mut m = update();
        m.questions[0].qname = name("other.");
        assert_eq!(run(&m), Err(Rcode::NOTAUTH));
        let mut m = update();
        m.opcode = Opcode::QUERY;
        assert_eq!(run(&m), Err(Rcode::FORMERR));
        assert_eq!(run(&update()), Ok(UpdateOutcome::Unchanged));
    }

    #[test]
    fn prerequisites_give_the_rfc2136_rcodes() {
        let cases = [
            (empty("www.example.", Rtype::ANY, Class::ANY), Ok(())),
            (
                empty("nx.example.", Rtype::ANY, Class::ANY),
                Err(Rcode::NXDOMAIN),
            ),
            (empty("www.example.", Rtype::A, Class::ANY), Ok(())),
            (
                empty("www.example.", Rtype::MX, Class::ANY),
                Err(Rcode::NXRRSET),
            ),
            (empty("nx.example.", Rtype::ANY, Class::NONE), Ok(())),
            (
                empty("www.example.", Rtype::ANY, Class::NONE),
                Err(Rcode::YXDOMAIN),
            ),
            (empty("www.example.", Rtype::MX, Class::NONE), Ok(())),
            (
                empty("www.example.", Rtype::A, Class::NONE),
                Err(Rcode::YXRRSET),
            ),
            (
                empty("www.other.", Rtype::A, Class::ANY),
                Err(Rcode::NOTZONE),
            ),
            (
                with_class(rr("www A 192.0.2.2\n"), Class::ANY, 0),
                Err(Rcode::FORMERR),
            ),
            (
                with_class(rr("www A 192.0.2.2\n"), Class::IN, 5),
                Err(Rcode::FORMERR),
            ),
            (
                with_class(rr("www A 192.0.2.2\n"), Class::CH, 0),
                Err(Rcode::FORMERR),
            ),
        ];
        for (pre, expected) in cases {
            let mut m = update();
            m.answers.push(pre.clone());
            let got = run(&m).map(|_| ());
            assert_eq!(got, expected, "{pre}");
        }
    }

    #[test]
    fn value_dependent_prerequisite_needs_the_exact_rrset() {
        let a2 = with_class(rr("www A 192.0.2.2\n"), Class::IN, 0);
        let a3 = with_class(rr("www A 192.0.2.3\n"), Class::IN, 0);
        let a9 = with_class(rr("www A 192.0.2.9\n"), Class::IN, 0);
        let mut m = update();
        m.answers = vec![a3.clone(), a2.clone()];
        assert_eq!(run(&m), Ok(UpdateOutcome::Unchanged));
        m.answers = vec![a2.clone()];
        assert_eq!(run(&m), Err(Rcode::NXRRSET));
        m.answers = vec![a2, a3, a9];
        assert_eq!(run(&m), Err(Rcode::NXRRSET));
    }

    #[test]
    fn prescan_rejects_malformed_updates() {
        let cases = [
            Record {
                owner: name("www.other."),
                ..rr("www A 192.0.2.1\n")
            },
            with_class(rr("www A 192.0.2.1\n"), Class::ANY, 0),
            with_class(empty("www.example.", Rtype::A, Class::ANY), Class::ANY, 5),
            with_class(rr("www A 192.0.2.1\n"), Class::NONE, 5),
            with_class(rr("www A 192.0.2.1\n"), Class::CH, 300),
            empty("www.example.", Rtype::AXFR, Class::ANY),
        ];
        for (i, u) in cases.into_iter().enumerate() {
            let mut m = update();
            m.authority.push(u.clone());
            let expected = if i == 0 {
                Rcode::NOTZONE
            } else {
                Rcode::FORMERR
            };
            assert_eq!(run(&m), Err(expected), "{u}");
        }
    }

    #[test]
    fn adding_and_deleting_produce_a_diff_with_the_serial_incremented() {
        let mut m = update();
        m.authority = vec![
            rr("new A 192.0.2.50\n"),
            with_class(rr("www A 192.0.2.2\n"), Class::NONE, 0),
        ];
        let d = diff(&m);
        assert_eq!((d.from_serial(), d.to_serial()), (1, 2));
        assert_eq!(
            strings(&d.removed()[1..]),
            vec!["www.example.\t300\tIN\tA\t192.0.2.2"]
        );
        assert_eq!(
            strings(&d.added()[1..]),
            vec!["new.example.\t300\tIN\tA\t192.0.2.50"]
        );
        // The diff applies to the zone it was computed from.
        let zone = d.apply(&base()).unwrap();
        assert!(zone.iter().any(|r| r.owner == name("new.example.")));
    }

    #[test]
    fn deleting_rrsets_and_names_spares_the_apex_soa_and_ns() {
        let mut m = update();
        m.authority = vec![
            empty("www.example.", Rtype::ANY, Class::ANY),
            empty("example.", Rtype::ANY, Class::ANY),
            empty("example.", Rtype::NS, Class::ANY),
            empty("ns.example.", Rtype::A, Class::ANY),
        ];
        let d = diff(&m);
        let mut removed = strings(&d.removed()[1..]);
        removed.sort();
        assert_eq!(
            removed,
            vec![
                "ns.example.\t300\tIN\tA\t192.0.2.1",
                "www.example.\t300\tIN\tA\t192.0.2.2",
                "www.example.\t300\tIN\tA\t192.0.2.3",
            ]
        );
        assert_eq!(d.added().len(), 1);
    }

    #[test]
    fn the_last_apex_ns_and_the_soa_cannot_be_deleted() {
        let mut m = update();
        m.authority = vec![
            with_class(rr("@ NS ns\n"), Class::NONE, 0),
            with_class(base()[0].clone(), Class::NONE, 0),
        ];
        assert_eq!(run(&m), Ok(UpdateOutcome::Unchanged));
    }

    #[test]
    fn cname_conflicts_are_ignored_and_cname_replaces_cname() {
        let mut m = update();
        m.authority = vec![rr("www CNAME elsewhere\n")];
        assert_eq!(run(&m), Ok(UpdateOutcome::Unchanged));
        m.authority = vec![rr("alias CNAME a\n"), rr("alias CNAME b\n")];
        let d = diff(&m);
        assert_eq!(
            strings(&d.added()[1..]),
            vec!["alias.example.\t300\tIN\tCNAME\tb.example."]
        );
        m.authority = vec![rr("alias CNAME a\n"), rr("alias A 192.0.2.1\n")];
        assert_eq!(strings(&diff(&m).added()[1..]).len(), 1);
    }

    #[test]
    fn an_explicit_higher_soa_sets_the_serial_and_a_lower_one_is_ignored() {
        let mut m = update();
        m.authority = vec![rr("@ SOA ns hostmaster 40 7200 900 1209600 300\n")];
        let d = diff(&m);
        assert_eq!(d.to_serial(), 40);
        m.authority = vec![rr("@ SOA ns hostmaster 0 7200 900 1209600 300\n")];
        assert_eq!(run(&m), Ok(UpdateOutcome::Unchanged));
    }

    #[test]
    fn re_adding_an_existing_record_is_unchanged_but_a_new_ttl_is_a_change() {
        let mut m = update();
        m.authority = vec![rr("www A 192.0.2.2\n")];
        assert_eq!(run(&m), Ok(UpdateOutcome::Unchanged));
        m.authority = vec![rr("www 60 A 192.0.2.2\n")];
        let d = diff(&m);
        assert_eq!(
            strings(&d.removed()[1..]),
            vec!["www.example.\t300\tIN\tA\t192.0.2.2"]
        );
        assert_eq!(
            strings(&d.added()[1..]),
            vec!["www.example.\t60\tIN\tA\t192.0.2.2"]
        );
        let zone = d.apply(&base()).unwrap();
        assert_eq!(
            zone.iter()
                .filter(|r| r.owner == name("www.example."))
                .count(),
            2
        );
    }
}
