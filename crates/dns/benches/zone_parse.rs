//! Zone loading speed: reading and checking a generated zone of 100,000 names (about
//! 120,000 records) in memory, in the mix of `shared/bench/gen-zone.py` (A, AAAA,
//! TXT, MX, CNAME, deeper names, delegations with glue).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write;
use std::hint::black_box;
use std::io::Cursor;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name};

/// A deterministic zone; returns the text and its record count.
fn generate(names: u32) -> (String, u64) {
    let mut z = String::from(
        "$ORIGIN example.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 900 1209600 3600\n\
         @ NS ns1\n@ NS ns2\nns1 A 198.18.0.53\nns2 A 198.19.0.53\n",
    );
    let mut records = 5u64;
    let mut x = 0x2545_f491u32;
    for i in 0..names {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let (a, b) = (x & 0xff, (x >> 8) & 0xff);
        records += match i % 20 {
            0..=8 => writeln!(z, "h{i} A 198.18.{a}.{b}").map(|()| 1),
            9..=11 => writeln!(z, "h{i} A 198.18.{a}.{b}\n AAAA 2001:db8:{a:x}::{b:x}").map(|()| 2),
            12..=13 => writeln!(z, "t{i} TXT \"v=token{x:08x}\"").map(|()| 1),
            14 => writeln!(z, "m{i} MX 10 h{}", i - 14).map(|()| 1),
            15..=16 => writeln!(z, "c{i} CNAME h{}", i - 15).map(|()| 1),
            17..=18 => writeln!(z, "www.d{i}.deep 300 IN A 198.19.{a}.{b}").map(|()| 1),
            _ => writeln!(z, "sub{i} NS ns.sub{i}\nns.sub{i} A 198.19.{a}.{b}").map(|()| 2),
        }
        .unwrap();
    }
    (z, records)
}

fn zone_parse(c: &mut Criterion) {
    let (text, records) = generate(100_000);
    let origin = Name::parse("example.test.").unwrap();
    let mut group = c.benchmark_group("zone");
    group.throughput(Throughput::Elements(records));
    group.sample_size(10);
    group.bench_function("read", |b| {
        b.iter(|| {
            let loaded = Zone::read(
                origin.clone(),
                Class::IN,
                "bench",
                Cursor::new(text.as_bytes()),
                &mut NoIncludes,
            );
            assert!(!loaded.has_errors());
            black_box(loaded.zone.records().len())
        })
    });
    group.bench_function("read_and_check", |b| {
        b.iter(|| {
            let mut loaded = Zone::read(
                origin.clone(),
                Class::IN,
                "bench",
                Cursor::new(text.as_bytes()),
                &mut NoIncludes,
            );
            let found = loaded.zone.check();
            assert!(found.iter().all(|d| !d.is_error()));
            black_box(found.len())
        })
    });
    group.finish();
}

criterion_group!(benches, zone_parse);
criterion_main!(benches);
