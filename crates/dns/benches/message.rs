//! Parsing and writing a typical response, side by side with hickory-proto and NLnet
//! Labs' `domain`: one A answer for www.example.com, an NS record in the authority section,
//! A and AAAA glue and an OPT record with DO, names compressed.
// Bench code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use criterion::{Criterion, criterion_group, criterion_main};
use lib_dns::message::{Edns, QueryView};
use lib_dns::rdata::{A, Aaaa, Ns};
use lib_dns::{Message, Name, Record, Rtype};

fn ours() -> Message {
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

fn bench(c: &mut Criterion) {
    let msg = ours();
    let wire = msg.to_wire(1232).unwrap();
    let hickory = hickory_proto::op::Message::from_vec(&wire).unwrap();
    let names = ["www.example.com.", "example.com.", "ns1.example.com."]
        .map(|s| domain::base::Name::<Vec<u8>>::from_str(s).unwrap());
    // All three produce messages that read back the same.
    assert_eq!(Message::parse(&hickory.to_vec().unwrap()).unwrap(), msg);
    assert_eq!(Message::parse(&domain_build(&names)).unwrap(), msg);
    domain_parse(&wire);

    let mut g = c.benchmark_group("parse");
    g.bench_function("zdns", |b| {
        b.iter(|| Message::parse(black_box(&wire)).unwrap())
    });
    g.bench_function("zdns QueryView", |b| {
        b.iter(|| QueryView::parse(black_box(&wire)).unwrap().qtype)
    });
    g.bench_function("hickory-proto", |b| {
        b.iter(|| hickory_proto::op::Message::from_vec(black_box(&wire)).unwrap())
    });
    g.bench_function("domain", |b| b.iter(|| domain_parse(black_box(&wire))));
    g.finish();

    let mut g = c.benchmark_group("serialize");
    g.bench_function("zdns", |b| {
        b.iter(|| black_box(&msg).to_wire(1232).unwrap())
    });
    g.bench_function("hickory-proto", |b| {
        b.iter(|| black_box(&hickory).to_vec().unwrap())
    });
    g.bench_function("domain", |b| b.iter(|| domain_build(black_box(&names))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
