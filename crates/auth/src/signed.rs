//! Signed data in responses to queries with the DO bit (RFC 4035 §3.1): the RRSIGs of
//! every RRset put in a section, the NSEC (RFC 4035 §3.1.3) or NSEC3 (RFC 5155 §7.2)
//! records that prove NXDOMAIN, NODATA and wildcard answers, and at a referral the DS
//! RRset or the proof that there is none (RFC 4035 §3.1.4).
//!
//! The zone's denial records are indexed at load ([`crate::tree::Denial`]): NSEC owners
//! in canonical order and NSEC3 owner hashes in order, so finding the record that
//! covers a name is a binary search.

use lib_dns::rdata::RData;
use lib_dns::types::Rtype;
use lib_dns::{Name, Record};
use zdns_dnssec::nsec3::nsec3_hash;

use crate::tree::ZoneTree;

/// The RRSIGs at node `i` that cover `rtype`, with `owner` as owner and `ttl` as TTL
/// (the TTL of the covered RRset as it is sent, RFC 4034 §3).
pub(crate) fn sigs(tree: &ZoneTree, i: u32, owner: &Name, rtype: Rtype, ttl: u32) -> Vec<Record> {
    let Some(set) = tree.rrset(i, Rtype::RRSIG) else {
        return Vec::new();
    };
    tree.decoded(owner, &set)
        .into_iter()
        .filter(|r| matches!(&r.data, RData::Rrsig(s) if s.type_covered == rtype))
        .map(|mut r| {
            r.ttl = ttl;
            r
        })
        .collect()
}

/// Appends `records` and, if any, their RRSIGs from node `i` to a section.
pub(crate) fn push_signed(tree: &ZoneTree, i: u32, records: Vec<Record>, out: &mut Vec<Record>) {
    let Some(first) = records.first() else {
        return;
    };
    let (owner, rtype, ttl) = (first.owner.clone(), first.rtype(), first.ttl);
    for r in records {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    for s in sigs(tree, i, &owner, rtype, ttl) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
}

/// The denial RRset (NSEC or NSEC3) at node `i` with its RRSIGs, into `out`.
fn push_denial_at(tree: &ZoneTree, i: u32, rtype: Rtype, out: &mut Vec<Record>) {
    if let Some(set) = tree.rrset(i, rtype) {
        let owner = tree.node_owner(i);
        push_signed(tree, i, tree.decoded(&owner, &set), out);
    }
}

/// The node of the NSEC whose owner equals `name` or, failing that, the one that
/// covers it (the last owner before it in canonical order, wrapping to the last).
fn nsec_for(tree: &ZoneTree, name: &Name) -> Option<u32> {
    let chain = &tree.denial().nsec;
    match chain.binary_search_by(|(owner, _)| owner.cmp(name)) {
        Ok(at) => chain.get(at).map(|&(_, i)| i),
        Err(0) => chain.last().map(|&(_, i)| i),
        Err(at) => chain.get(at - 1).map(|&(_, i)| i),
    }
}

/// The node of the NSEC3 matching the hash of `name`, or covering it.
fn nsec3_for(tree: &ZoneTree, name: &Name) -> Option<(u32, bool)> {
    let d = tree.denial();
    let (salt, iterations) = d.nsec3_param.as_ref()?;
    let h = nsec3_hash(name, salt, *iterations);
    match d
        .nsec3
        .binary_search_by(|(owner, _)| owner.as_slice().cmp(&h))
    {
        Ok(at) => d.nsec3.get(at).map(|&(_, i)| (i, true)),
        Err(0) => d.nsec3.last().map(|&(_, i)| (i, false)),
        Err(at) => d.nsec3.get(at - 1).map(|&(_, i)| (i, false)),
    }
}

fn uses_nsec3(tree: &ZoneTree) -> bool {
    tree.denial().nsec3_param.is_some()
}

/// `*.` + `name`.
fn wildcard(name: &Name) -> Option<Name> {
    name.child(b"*").ok()
}

/// The ancestor of `qname` one label below `encloser` (the next closer name).
fn next_closer(qname: &Name, encloser: &Name) -> Name {
    qname.suffix(encloser.label_count() + 1)
}

/// The closest encloser proof (RFC 5155 §7.2.1): the NSEC3 matching the closest
/// encloser and the one covering the next closer name.
fn closest_encloser_proof(tree: &ZoneTree, qname: &Name, encloser: &Name, out: &mut Vec<Record>) {
    if let Some((i, _)) = nsec3_for(tree, encloser) {
        push_denial_at(tree, i, Rtype::NSEC3, out);
    }
    if qname.label_count() > encloser.label_count()
        && let Some((i, _)) = nsec3_for(tree, &next_closer(qname, encloser))
    {
        push_denial_at(tree, i, Rtype::NSEC3, out);
    }
}

/// Proof for NXDOMAIN at `qname` whose closest encloser is `encloser`: the NSEC
/// covering `qname` and the one covering the wildcard at the encloser (RFC 4035
/// §3.1.3.2), or the closest encloser proof and the NSEC3 covering the wildcard
/// (RFC 5155 §7.2.2).
pub(crate) fn nxdomain(tree: &ZoneTree, qname: &Name, encloser: &Name, out: &mut Vec<Record>) {
    let Some(star) = wildcard(encloser) else {
        return;
    };
    if uses_nsec3(tree) {
        closest_encloser_proof(tree, qname, encloser, out);
        if let Some((i, _)) = nsec3_for(tree, &star) {
            push_denial_at(tree, i, Rtype::NSEC3, out);
        }
    } else {
        for name in [qname, &star] {
            if let Some(i) = nsec_for(tree, name) {
                push_denial_at(tree, i, Rtype::NSEC, out);
            }
        }
    }
}

/// Proof for NODATA at node `i` (RFC 4035 §3.1.3.1, RFC 5155 §7.2.3/§7.2.4): its NSEC
/// (or, at an empty non-terminal, the NSEC covering it), or the NSEC3 matching it; with
/// none (opt-out, for DS), the closest encloser proof.
pub(crate) fn nodata(tree: &ZoneTree, i: u32, out: &mut Vec<Record>) {
    let name = tree.node_owner(i);
    if uses_nsec3(tree) {
        match nsec3_for(tree, &name) {
            Some((n, true)) => push_denial_at(tree, n, Rtype::NSEC3, out),
            _ => {
                if let Some(parent) = provable_encloser(tree, &name) {
                    closest_encloser_proof(tree, &name, &parent, out);
                }
            }
        }
    } else if let Some(n) = nsec_for(tree, &name) {
        push_denial_at(tree, n, Rtype::NSEC, out);
    }
}

/// The nearest ancestor of `name` that has a matching NSEC3.
fn provable_encloser(tree: &ZoneTree, name: &Name) -> Option<Name> {
    let mut cur = name.parent();
    while let Some(n) = cur {
        if !n.is_subdomain_of(tree.apex()) {
            return None;
        }
        if matches!(nsec3_for(tree, &n), Some((_, true))) {
            return Some(n);
        }
        cur = n.parent();
    }
    None
}

/// Proof that `qname` itself does not exist, for an answer synthesized from the
/// wildcard at `encloser` (RFC 4035 §3.1.3.3, RFC 5155 §7.2.6): the NSEC covering
/// `qname`, or the NSEC3 covering the next closer name (with the one matching the
/// encloser when the answer is a wildcard NODATA, §7.2.5).
pub(crate) fn wildcard_expansion(
    tree: &ZoneTree,
    qname: &Name,
    encloser: &Name,
    nodata: bool,
    out: &mut Vec<Record>,
) {
    if uses_nsec3(tree) {
        if nodata {
            closest_encloser_proof(tree, qname, encloser, out);
        } else if let Some((i, _)) = nsec3_for(tree, &next_closer(qname, encloser)) {
            push_denial_at(tree, i, Rtype::NSEC3, out);
        }
    } else if let Some(i) = nsec_for(tree, qname) {
        push_denial_at(tree, i, Rtype::NSEC, out);
    }
}

/// At a referral to the cut at node `cut`: its signed DS RRset, or the proof that it
/// has none (RFC 4035 §3.1.4.1, RFC 5155 §7.2.7).
pub(crate) fn delegation(tree: &ZoneTree, cut: u32, out: &mut Vec<Record>) {
    if let Some(set) = tree.rrset(cut, Rtype::DS) {
        let owner = tree.node_owner(cut);
        push_signed(tree, cut, tree.decoded(&owner, &set), out);
    } else {
        nodata(tree, cut, out);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::SocketAddr;

    use lib_dns::message::{Edns, Message};
    use lib_dns::rdata::{Dnskey, Nsec, Nsec3, Rrsig};
    use lib_dns::zone::{NoIncludes, Zone};
    use lib_dns::{Class, Rcode};
    use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
    use zdns_dnssec::sign::{Denial, Nsec3Options, SignOptions, sign_zone};
    use zdns_dnssec::validate::{self, Nsec3Ref, NsecRef};
    use zdns_dnssec::verify::RrsetRef;

    use super::*;
    use crate::{Answerer, AuthServer, Catalog, Outcome, QueryContext, ServerConfig, Transport};

    const NOW: u64 = 1_800_000_000;

    const ZONE: &str = "\
$TTL 3600
@        IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@        IN NS  ns1
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
*.wild   IN TXT \"wildcard\"
a.b.c    IN A   192.0.2.3
alias    IN CNAME mail
secure   IN NS  ns.secure
secure   IN DS  12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.secure IN A  192.0.2.4
insecure IN NS  ns.insecure
ns.insecure IN A 192.0.2.5
";

    struct Fixture {
        server: AuthServer,
        keys: Vec<Dnskey>,
        zone: Name,
    }

    fn fixture(denial: Denial) -> Fixture {
        fixture_with(denial, SignAlgorithm::Ed25519)
    }

    fn fixture_with(denial: Denial, alg: SignAlgorithm) -> Fixture {
        let origin = Name::parse("example.").unwrap();
        let loaded = Zone::read(
            origin.clone(),
            Class::IN,
            "z",
            ZONE.as_bytes(),
            &mut NoIncludes,
        );
        let keys = [
            SigningKey::generate(alg, FLAGS_KSK).unwrap(),
            SigningKey::generate(alg, FLAGS_ZSK).unwrap(),
        ];
        let opts = SignOptions {
            denial,
            ..SignOptions::new(NOW)
        };
        let records = sign_zone(&origin, loaded.zone.records().to_vec(), &keys, &opts).unwrap();
        let zone = Zone::from_records(origin.clone(), Class::IN, records);
        let catalog = Catalog::build([&zone]).unwrap();
        Fixture {
            server: AuthServer::new(catalog, ServerConfig::default()),
            keys: keys.iter().map(SigningKey::dnskey).collect(),
            zone: origin,
        }
    }

    fn ask(f: &Fixture, name: &str, rtype: Rtype, dnssec: bool) -> Message {
        ask_over(f, name, rtype, dnssec, Transport::Stream)
    }

    fn ask_over(
        f: &Fixture,
        name: &str,
        rtype: Rtype,
        dnssec: bool,
        transport: Transport,
    ) -> Message {
        let mut q = Message::query(7, Name::parse(name).unwrap(), rtype);
        let mut e = Edns::default();
        e.set_dnssec_ok(dnssec);
        q.edns = Some(e);
        let ctx = QueryContext {
            client: SocketAddr::from(([127, 0, 0, 1], 5300)),
            transport,
            now: NOW,
        };
        let mut out = Vec::new();
        assert_eq!(
            f.server.answer(&q.to_wire(65535).unwrap(), &ctx, &mut out),
            Outcome::Reply
        );
        Message::parse(&out).unwrap()
    }

    /// Every RRset of a section verifies with its RRSIGs, except delegation NS and
    /// glue; returns the RRSIGs by (owner, type) for the wildcard checks.
    fn verify_section(f: &Fixture, records: &[Record]) -> Vec<Rrsig> {
        let mut sets: BTreeMap<(Name, Rtype), Vec<RData>> = BTreeMap::new();
        let mut sigs = Vec::new();
        for r in records {
            match &r.data {
                RData::Rrsig(s) => sigs.push((r.owner.clone(), (**s).clone())),
                d => sets
                    .entry((r.owner.clone(), r.rtype()))
                    .or_default()
                    .push(d.clone()),
            }
        }
        for ((owner, rtype), rdatas) in &sets {
            let unsigned_ns = *rtype == Rtype::NS && *owner != f.zone;
            let glue = owner.is_subdomain_of(&n("secure.example."))
                && *owner != n("secure.example.")
                || owner.is_subdomain_of(&n("insecure.example."));
            if unsigned_ns || glue {
                continue;
            }
            let covering: Vec<Rrsig> = sigs
                .iter()
                .filter(|(o, s)| o == owner && s.type_covered == *rtype)
                .map(|(_, s)| s.clone())
                .collect();
            let set = RrsetRef {
                owner,
                class: Class::IN,
                rtype: *rtype,
                rdatas,
            };
            validate::verify_rrset(set, &covering, &f.zone, &f.keys, NOW as u32)
                .unwrap_or_else(|e| panic!("{owner} {rtype}: {e}"));
        }
        sigs.into_iter().map(|(_, s)| s).collect()
    }

    fn verify_all(f: &Fixture, m: &Message) -> Vec<Rrsig> {
        let mut sigs = verify_section(f, &m.answers);
        sigs.extend(verify_section(f, &m.authority));
        verify_section(f, &m.additional);
        sigs
    }

    fn nsecs(m: &Message) -> Vec<(Name, Nsec)> {
        m.authority
            .iter()
            .filter_map(|r| match &r.data {
                RData::Nsec(n) => Some((r.owner.clone(), (**n).clone())),
                _ => None,
            })
            .collect()
    }

    fn nsec3s(m: &Message) -> Vec<(Name, Nsec3)> {
        m.authority
            .iter()
            .filter_map(|r| match &r.data {
                RData::Nsec3(n) => Some((r.owner.clone(), (**n).clone())),
                _ => None,
            })
            .collect()
    }

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn refs(v: &[(Name, Nsec)]) -> Vec<NsecRef<'_>> {
        v.iter()
            .map(|(owner, nsec)| NsecRef { owner, nsec })
            .collect()
    }

    fn refs3(v: &[(Name, Nsec3)]) -> Vec<Nsec3Ref<'_>> {
        v.iter()
            .map(|(owner, nsec3)| Nsec3Ref { owner, nsec3 })
            .collect()
    }

    #[test]
    fn without_do_nothing_changes() {
        let f = fixture(Denial::Nsec);
        let m = ask(&f, "mail.example.", Rtype::A, false);
        assert_eq!(m.answers.len(), 1);
        let m = ask(&f, "nope.example.", Rtype::A, false);
        assert_eq!(m.rcode, Rcode::NXDOMAIN);
        assert!(m.authority.iter().all(|r| r.rtype() == Rtype::SOA));
    }

    #[test]
    fn nsec_signed_answers_validate() {
        let f = fixture(Denial::Nsec);
        // Positive answers, with additional data signed too.
        let m = ask(&f, "example.", Rtype::MX, true);
        verify_all(&f, &m);
        assert!(m.answers.iter().any(|r| r.rtype() == Rtype::RRSIG));
        assert!(m.additional.iter().any(|r| r.rtype() == Rtype::RRSIG));
        let m = ask(&f, "alias.example.", Rtype::A, true);
        verify_all(&f, &m);
        assert_eq!(m.answers.len(), 4, "{m}");

        // NXDOMAIN.
        let m = ask(&f, "nope.example.", Rtype::A, true);
        assert_eq!(m.rcode, Rcode::NXDOMAIN);
        verify_all(&f, &m);
        let v = nsecs(&m);
        assert_eq!(
            validate::nsec_nxdomain(&n("nope.example."), &refs(&v)).unwrap(),
            f.zone
        );

        // NODATA, and at an empty non-terminal.
        let m = ask(&f, "mail.example.", Rtype::TXT, true);
        verify_all(&f, &m);
        validate::nsec_nodata(&n("mail.example."), Rtype::TXT, &refs(&nsecs(&m))).unwrap();
        let m = ask(&f, "b.c.example.", Rtype::A, true);
        verify_all(&f, &m);
        validate::nsec_nodata(&n("b.c.example."), Rtype::A, &refs(&nsecs(&m))).unwrap();

        // Wildcard answer and wildcard NODATA.
        let m = ask(&f, "x.wild.example.", Rtype::TXT, true);
        let sigs = verify_all(&f, &m);
        let labels = sigs
            .iter()
            .find(|s| s.type_covered == Rtype::TXT)
            .unwrap()
            .labels;
        assert_eq!(labels, 2);
        validate::nsec_wildcard_answer(&n("x.wild.example."), labels, &refs(&nsecs(&m))).unwrap();
        let m = ask(&f, "x.wild.example.", Rtype::A, true);
        verify_all(&f, &m);
        validate::nsec_wildcard_nodata(&n("x.wild.example."), Rtype::A, &refs(&nsecs(&m))).unwrap();

        // Referrals: signed DS, or the proof there is none.
        let m = ask(&f, "host.secure.example.", Rtype::A, true);
        verify_all(&f, &m);
        assert!(m.authority.iter().any(|r| r.rtype() == Rtype::DS));
        let m = ask(&f, "host.insecure.example.", Rtype::A, true);
        verify_all(&f, &m);
        validate::nsec_insecure_delegation(&n("insecure.example."), &refs(&nsecs(&m))).unwrap();
        // DS asked for at the cut.
        let m = ask(&f, "secure.example.", Rtype::DS, true);
        verify_all(&f, &m);
        assert!(m.answers.iter().any(|r| r.rtype() == Rtype::DS));
        let m = ask(&f, "insecure.example.", Rtype::DS, true);
        validate::nsec_nodata(&n("insecure.example."), Rtype::DS, &refs(&nsecs(&m))).unwrap();
    }

    /// ML-DSA-44 signatures are 2,430 bytes: a DO answer does not fit a UDP payload,
    /// comes back truncated, and validates when asked again over TCP.
    #[test]
    fn ml_dsa_answers_truncate_over_udp_and_validate_over_tcp() {
        let f = fixture_with(Denial::Nsec, SignAlgorithm::MlDsa44);
        let m = ask_over(&f, "mail.example.", Rtype::A, true, Transport::Udp);
        assert!(m.flags.tc, "{m}");
        assert!(m.answers.is_empty());
        let m = ask_over(&f, "mail.example.", Rtype::A, false, Transport::Udp);
        assert!(!m.flags.tc);
        assert_eq!(m.answers.len(), 1);
        let m = ask(&f, "mail.example.", Rtype::A, true);
        assert!(!m.flags.tc);
        verify_all(&f, &m);
        let m = ask(&f, "nope.example.", Rtype::A, true);
        verify_all(&f, &m);
        let v = nsecs(&m);
        validate::nsec_nxdomain(&n("nope.example."), &refs(&v)).unwrap();
        let m = ask(&f, "example.", Rtype::DNSKEY, true);
        verify_all(&f, &m);
        assert!(
            m.answers
                .iter()
                .any(|r| matches!(&r.data, RData::Rrsig(s) if s.algorithm.0 == 254))
        );
    }

    #[test]
    fn nsec3_signed_answers_validate() {
        for opt_out in [false, true] {
            let f = fixture(Denial::Nsec3(Nsec3Options {
                opt_out,
                ..Nsec3Options::default()
            }));
            let m = ask(&f, "nope.example.", Rtype::A, true);
            assert_eq!(m.rcode, Rcode::NXDOMAIN);
            verify_all(&f, &m);
            let v = nsec3s(&m);
            validate::nsec3_nxdomain(&n("nope.example."), &f.zone, &refs3(&v)).unwrap();

            let m = ask(&f, "mail.example.", Rtype::TXT, true);
            verify_all(&f, &m);
            validate::nsec3_nodata(
                &n("mail.example."),
                Rtype::TXT,
                &f.zone,
                &refs3(&nsec3s(&m)),
            )
            .unwrap();
            let m = ask(&f, "b.c.example.", Rtype::A, true);
            validate::nsec3_nodata(&n("b.c.example."), Rtype::A, &f.zone, &refs3(&nsec3s(&m)))
                .unwrap();

            let m = ask(&f, "x.wild.example.", Rtype::TXT, true);
            verify_all(&f, &m);
            validate::nsec3_wildcard_answer(&n("x.wild.example."), 2, &refs3(&nsec3s(&m))).unwrap();
            let m = ask(&f, "x.wild.example.", Rtype::A, true);
            verify_all(&f, &m);
            validate::nsec3_wildcard_nodata(
                &n("x.wild.example."),
                Rtype::A,
                &f.zone,
                &refs3(&nsec3s(&m)),
            )
            .unwrap();

            let m = ask(&f, "host.insecure.example.", Rtype::A, true);
            verify_all(&f, &m);
            validate::nsec3_insecure_delegation(
                &n("insecure.example."),
                &f.zone,
                &refs3(&nsec3s(&m)),
            )
            .unwrap();
        }
    }
}
