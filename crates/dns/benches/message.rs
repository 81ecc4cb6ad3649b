//! Parsing and writing a typical response, side by side with hickory-proto and NLnet
//! Labs' `domain`: one A answer for www.example.com, an NS record in the authority section,
//! A and AAAA glue and an OPT record with DO, names compressed.
// Bench code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{domain_build, domain_names, domain_parse, response};
use lib_dns::Message;
use lib_dns::message::QueryView;

fn bench(c: &mut Criterion) {
    let msg = response();
    let wire = msg.to_wire(1232).unwrap();
    let hickory = hickory_proto::op::Message::from_vec(&wire).unwrap();
    let names = domain_names();
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
