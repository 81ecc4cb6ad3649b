//! Runs one parser or writer of the message benchmark many times, for instruction counts
//! that a busy machine cannot skew: `valgrind --tool=callgrind target/release/examples/
//! parse_cost parse-zdns 10000` (modes: parse-zdns, parse-hickory, parse-domain,
//! write-zdns, write-hickory, write-domain).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use lib_dns::message::Edns;
use lib_dns::rdata::{A, Aaaa, Ns};
use lib_dns::{Message, Name, Record, Rtype};

fn response() -> Message {
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
    let v6: Ipv6Addr = "2001:db8::53".parse().unwrap();
    m.additional
        .push(Record::new(name("ns1.example.com."), 3600, Aaaa(v6)));
    let mut edns = Edns::default();
    edns.set_dnssec_ok(true);
    m.edns = Some(edns);
    m
}

fn domain_parse(wire: &[u8]) {
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

/// `domain`'s `MessageBuilder` writing the same response, compressing names.
fn domain_build(names: &[domain::base::Name<Vec<u8>>; 3]) -> Vec<u8> {
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
    let v6: Ipv6Addr = "2001:db8::53".parse().unwrap();
    ad.push((ns1, 3600, DAaaa::new(v6))).unwrap();
    ad.opt(|o| {
        o.set_udp_payload_size(1232);
        o.set_dnssec_ok(true);
        Ok(())
    })
    .unwrap();
    ad.finish().into_target()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse-zdns".into());
    let n: usize = args.next().map_or(10_000, |s| s.parse().unwrap());
    let msg = response();
    let wire = msg.to_wire(1232).unwrap();
    let hickory = hickory_proto::op::Message::from_vec(&wire).unwrap();
    let names = ["www.example.com.", "example.com.", "ns1.example.com."]
        .map(|s| domain::base::Name::<Vec<u8>>::from_str(s).unwrap());
    for _ in 0..n {
        match mode.as_str() {
            "parse-zdns" => drop(black_box(Message::parse(black_box(&wire)).unwrap())),
            "parse-hickory" => drop(black_box(
                hickory_proto::op::Message::from_vec(black_box(&wire)).unwrap(),
            )),
            "parse-domain" => domain_parse(black_box(&wire)),
            "write-zdns" => drop(black_box(black_box(&msg).to_wire(1232).unwrap())),
            "write-domain" => drop(black_box(domain_build(black_box(&names)))),
            "write-hickory" => drop(black_box(black_box(&hickory).to_vec().unwrap())),
            other => panic!("unknown mode {other}"),
        }
    }
}
