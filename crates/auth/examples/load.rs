//! Loads a zone file into the answering core and reports the time taken and the memory
//! used, for comparison with Knot's load figures (`shared/bench`, `MODE=load`).
//!
//! `cargo run --release -p zdns-auth --example load -- ORIGIN FILE`
// A measuring tool: errors end it with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use lib_dns::zone::{FsIncludes, Zone};
use lib_dns::{Class, Name};
use zdns_auth::{Catalog, ServedZone};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(origin), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: load ORIGIN FILE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let input = std::io::BufReader::new(std::fs::File::open(&file).expect("open zone file"));
    let mut loaded = Zone::read(
        Name::parse(&origin).expect("origin"),
        Class::IN,
        &file,
        input,
        &mut FsIncludes,
    );
    let read = start.elapsed();
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    let errors = loaded
        .zone
        .check()
        .into_iter()
        .filter(|d| d.is_error())
        .count();
    let checked = start.elapsed();
    let records = loaded.zone.records().len();
    let served = ServedZone::from_zone(loaded.zone).expect("build");
    let built = start.elapsed();
    let catalog = Catalog::new().with_zone(std::sync::Arc::new(served));
    let total = start.elapsed();
    let zone = catalog.zones().next().expect("zone");
    println!(
        "records {records}, check errors {errors}, nodes {}, rrsets {}\n\
         read {:.3} s, check {:.3} s, build {:.3} s, total {:.3} s\n\
         tables {:.1} MiB, RSS after load {:.1} MiB",
        zone.tree().node_count(),
        zone.tree().rrset_count(),
        read.as_secs_f64(),
        (checked - read).as_secs_f64(),
        (built - checked).as_secs_f64(),
        total.as_secs_f64(),
        zone.heap_bytes() as f64 / (1024.0 * 1024.0),
        rss_mib(),
    );
}
