//! Answering speed for the query mix of `shared/bench/gen-zone.py` (70% positive, 15%
//! NXDOMAIN, 5% NODATA, 5% CNAME, 5% referral), one query per iteration, so the
//! reported time is nanoseconds per query.
//!
//! The zone and queries are generated in setup with `gen-zone.py` (found through
//! `ZDNS_GEN_ZONE`, or `shared/bench/` beside the repository); `ZDNS_BENCH_NAMES` sets the
//! zone size (default 100000). Without the script, the committed test zone and a fixed
//! query list are used.
// Bench code: a failed unwrap is a failed setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lib_dns::message::{Edns, Message};
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, Rtype};
use zdns_auth::{Answerer, AuthServer, Catalog, QueryContext, ServerConfig, Transport};

fn generator() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("ZDNS_GEN_ZONE")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            manifest.join("../../../shared/bench/gen-zone.py"),
            manifest.join("../../shared/bench/gen-zone.py"),
        ])
        .find(|p| p.exists())
}

/// (origin, zone text, "name type" lines).
fn workload() -> (String, String, Vec<(String, String)>) {
    if let Some(script) = generator() {
        let names = std::env::var("ZDNS_BENCH_NAMES").unwrap_or_else(|_| "100000".into());
        let dir = std::env::temp_dir().join(format!("zdns-bench-answer-{names}"));
        if !dir.join("queries.txt").exists() {
            let status = Command::new("python3")
                .arg(&script)
                .args(["--names", &names, "--queries", "100000", "--out"])
                .arg(&dir)
                .status()
                .expect("python3");
            assert!(status.success());
        }
        let zone = std::fs::read_to_string(dir.join("example.test.zone")).unwrap();
        let queries = std::fs::read_to_string(dir.join("queries.txt")).unwrap();
        let queries = queries
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, t)| (n.to_owned(), t.to_owned()))
            .collect();
        return ("example.test.".into(), zone, queries);
    }
    eprintln!("answer bench: gen-zone.py not found, using tests/data/example.test.zone");
    let zone = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/example.test.zone"),
    )
    .unwrap();
    let queries = [
        ("www", "A"),
        ("www", "A"),
        ("mail", "AAAA"),
        ("multi", "TXT"),
        ("@", "MX"),
        ("ns1", "A"),
        ("www", "AAAA"),
        ("nothere", "A"),
        ("zz", "AAAA"),
        ("www", "MX"),
        ("cn", "A"),
        ("www.child", "A"),
        ("child", "NS"),
        ("foo.wild", "A"),
    ]
    .iter()
    .map(|(n, t)| {
        let name = if *n == "@" {
            "example.test.".to_owned()
        } else {
            format!("{n}.example.test.")
        };
        (name, (*t).to_owned())
    })
    .collect();
    ("example.test.".into(), zone, queries)
}

fn setup() -> (AuthServer, Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (origin, text, lines) = workload();
    let mut loaded = Zone::read(
        Name::parse(&origin).unwrap(),
        Class::IN,
        "bench",
        text.as_bytes(),
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors());
    assert!(!loaded.zone.check().iter().any(|d| d.is_error()));
    let catalog = Catalog::build([&loaded.zone]).unwrap();
    let server = AuthServer::new(catalog, ServerConfig::default());
    let mut plain = Vec::new();
    let mut edns = Vec::new();
    for (i, (name, rtype)) in lines.iter().enumerate() {
        let rtype = Rtype::from_mnemonic(rtype.as_bytes()).unwrap();
        let mut m = Message::query(i as u16, Name::parse(name).unwrap(), rtype);
        plain.push(m.to_wire(512).unwrap());
        let mut e = Edns::default();
        e.set_dnssec_ok(true);
        m.edns = Some(e);
        edns.push(m.to_wire(512).unwrap());
    }
    (server, plain, edns)
}

fn bench(c: &mut Criterion) {
    let (server, plain, edns) = setup();
    let ctx = QueryContext {
        client: SocketAddr::from(([192, 0, 2, 1], 5353)),
        transport: Transport::Udp,
        now: 1_700_000_000,
    };
    let mut g = c.benchmark_group("answer");
    g.throughput(Throughput::Elements(1));
    for (label, queries) in [("mix", &plain), ("mix_edns_do", &edns)] {
        let mut out = Vec::with_capacity(65535);
        let mut i = 0usize;
        g.bench_function(label, |b| {
            b.iter(|| {
                let q = &queries[i % queries.len()];
                i += 1;
                black_box(server.answer(black_box(q), &ctx, &mut out))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
