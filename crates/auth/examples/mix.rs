//! Answers a `gen-zone.py` query file against its zone in a loop and prints the time
//! per query: a steady workload for `perf stat` / `perf record`, beside the criterion
//! bench.
//!
//! `cargo run --release -p zdns-auth --example mix -- DIR [ROUNDS]` where DIR holds
//! `example.test.zone` and `queries.txt`.
// A measuring tool: errors end it with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use lib_dns::message::Message;
use lib_dns::zone::{NoIncludes, Zone};
use lib_dns::{Class, Name, Rtype};
use zdns_auth::{Answerer, AuthServer, Catalog, QueryContext, ServerConfig, Transport};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("usage: mix DIR [ROUNDS]"));
    let rounds: usize = args.next().map_or(10, |r| r.parse().expect("rounds"));
    let text = std::fs::read(dir.join("example.test.zone")).expect("zone file");
    let loaded = Zone::read(
        Name::parse("example.test.").unwrap(),
        Class::IN,
        "example.test.zone",
        &text[..],
        &mut NoIncludes,
    );
    let server = AuthServer::new(
        Catalog::build([&loaded.zone]).expect("build"),
        ServerConfig::default(),
    );
    drop(loaded);
    let queries: Vec<Vec<u8>> = std::fs::read_to_string(dir.join("queries.txt"))
        .expect("queries.txt")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .enumerate()
        .map(|(i, (n, t))| {
            let rtype = Rtype::from_mnemonic(t.as_bytes()).expect("type");
            Message::query(i as u16, Name::parse(n).unwrap(), rtype)
                .to_wire(512)
                .unwrap()
        })
        .collect();
    let ctx = QueryContext {
        client: SocketAddr::from(([192, 0, 2, 1], 5353)),
        transport: Transport::Udp,
        now: 1_700_000_000,
    };
    let mut out = Vec::with_capacity(65535);
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        for q in &queries {
            server.answer(q, &ctx, &mut out);
            bytes += out.len();
        }
    }
    let n = rounds * queries.len();
    println!(
        "{n} queries, {:.1} ns/query, {:.1} bytes/response",
        start.elapsed().as_nanos() as f64 / n as f64,
        bytes as f64 / n as f64
    );
}
