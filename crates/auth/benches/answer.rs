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
            // shared/ beside the repository (CI), or beside a worktree's parent.
            manifest.join("../../../shared/bench/gen-zone.py"),
            manifest.join("../../../../shared/bench/gen-zone.py"),
        ])
        .find(|p| p.exists())
}

/// A workload: origin, zone text, the query mix ("name type"), and the check sample
/// by category ("name type category").
type Workload = (
    String,
    String,
    Vec<(String, String)>,
    Vec<(String, String, String)>,
);

fn workload() -> Workload {
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
        let check = std::fs::read_to_string(dir.join("check.txt")).unwrap();
        let check = check
            .lines()
            .filter_map(|l| {
                let mut f = l.split(' ');
                Some((
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                    f.next()?.to_owned(),
                ))
            })
            .collect();
        return ("example.test.".into(), zone, queries, check);
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
    ("example.test.".into(), zone, queries, Vec::new())
}

fn wire(i: usize, name: &str, rtype: &str) -> Message {
    let rtype = Rtype::from_mnemonic(rtype.as_bytes()).unwrap();
    Message::query(i as u16, Name::parse(name).unwrap(), rtype)
}

type Setup = (
    AuthServer,
    Vec<Vec<u8>>,
    Vec<Vec<u8>>,
    Vec<(String, Vec<Vec<u8>>)>,
);

fn setup() -> Setup {
    let (origin, text, lines, check) = workload();
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
        let mut m = wire(i, name, rtype);
        plain.push(m.to_wire(512).unwrap());
        let mut e = Edns::default();
        e.set_dnssec_ok(true);
        m.edns = Some(e);
        edns.push(m.to_wire(512).unwrap());
    }
    let mut by_category: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for (i, (name, rtype, category)) in check.iter().enumerate() {
        let q = wire(i, name, rtype).to_wire(512).unwrap();
        match by_category.iter_mut().find(|(c, _)| c == category) {
            Some((_, v)) => v.push(q),
            None => by_category.push((category.clone(), vec![q])),
        }
    }
    (server, plain, edns, by_category)
}

fn bench(c: &mut Criterion) {
    let (server, plain, edns, by_category) = setup();
    let ctx = QueryContext {
        client: SocketAddr::from(([192, 0, 2, 1], 5353)),
        transport: Transport::Udp,
        now: 1_700_000_000,
    };
    let mut g = c.benchmark_group("answer");
    g.throughput(Throughput::Elements(1));
    let mut sets = vec![
        ("mix".to_owned(), &plain),
        ("mix_edns_do".to_owned(), &edns),
    ];
    sets.extend(by_category.iter().map(|(c, q)| (format!("only_{c}"), q)));
    for (label, queries) in sets {
        let mut out = Vec::with_capacity(65535);
        let mut i = 0usize;
        g.bench_function(&label, |b| {
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
