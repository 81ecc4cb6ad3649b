//! The typical response both `benches/message.rs` and `examples/parse_cost.rs` measure,
//! and how `domain` builds and parses it.
#![allow(dead_code)]

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use lib_dns::message::Edns;
use lib_dns::rdata::{A, Aaaa, Ns};
use lib_dns::{Message, Name, Record, Rtype};

/// One A answer for www.example.com, NS in authority, A and AAAA glue, OPT with DO.
pub fn response() -> Message {
    let name = |s| Name::parse(s).unwrap();
    let mut m = Message::query(4660, name("www.example.com."), Rtype::A);
    m.flags.qr = true;
    m.flags.aa = true;
    m.answers.push(Record::new(
        name("www.example.com."),
        300,
        A(Ipv4Addr::new(192, 0, 2, 1)),
    ));
    m.authority.push(Record::new(
        name("example.com."),
        3600,
        Ns(name("ns1.example.com.")),
    ));
    m.additional.push(Record::new(
        name("ns1.example.com."),
        3600,
        A(Ipv4Addr::new(192, 0, 2, 53)),
    ));
    m.additional.push(Record::new(
        name("ns1.example.com."),
        3600,
        Aaaa(Ipv6Addr::from_str("2001:db8::53").unwrap()),
    ));
    let mut edns = Edns::default();
    edns.set_dnssec_ok(true);
    m.edns = Some(edns);
    m
}

/// The response built with `domain`'s `MessageBuilder`, compressing names.
pub fn domain_build(names: &[domain::base::Name<Vec<u8>>; 3]) -> Vec<u8> {
    use domain::base::iana::Rtype as DRtype;
    use domain::base::message_builder::{MessageBuilder, StaticCompressor};
    use domain::rdata::{A as DA, Aaaa as DAaaa, Ns as DNs};
    let [www, zone, ns1] = names;
    let mut msg =
        MessageBuilder::from_target(StaticCompressor::new(Vec::with_capacity(512))).unwrap();
    let h = msg.header_mut();
    h.set_id(4660);
    h.set_qr(true);
    h.set_aa(true);
    h.set_rd(true);
    let mut q = msg.question();
    q.push((www, DRtype::A)).unwrap();
    let mut an = q.answer();
    an.push((www, 300, DA::from_octets(192, 0, 2, 1))).unwrap();
    let mut ns = an.authority();
    ns.push((zone, 3600, DNs::new(ns1))).unwrap();
    let mut ad = ns.additional();
    ad.push((ns1, 3600, DA::from_octets(192, 0, 2, 53)))
        .unwrap();
    ad.push((
        ns1,
        3600,
        DAaaa::new(Ipv6Addr::from_str("2001:db8::53").unwrap()),
    ))
    .unwrap();
    ad.opt(|o| {
        o.set_udp_payload_size(1232);
        o.set_dnssec_ok(true);
        Ok(())
    })
    .unwrap();
    ad.finish().into_target()
}

/// Every record of every section parsed into `domain`'s typed data.
pub fn domain_parse(wire: &[u8]) {
    use domain::base::name::ParsedName;
    use domain::rdata::AllRecordData;
    let msg = domain::base::Message::from_octets(wire).unwrap();
    let (question, answer, authority, additional) = msg.sections().unwrap();
    for q in question {
        black_box(q.unwrap());
    }
    for section in [answer, authority, additional] {
        for r in section.limit_to::<AllRecordData<&[u8], ParsedName<&[u8]>>>() {
            black_box(r.unwrap());
        }
    }
}

/// The names `domain_build` takes: www.example.com., example.com., ns1.example.com.
pub fn domain_names() -> [domain::base::Name<Vec<u8>>; 3] {
    ["www.example.com.", "example.com.", "ns1.example.com."]
        .map(|s| domain::base::Name::<Vec<u8>>::from_str(s).unwrap())
}
