//! Runs one parser or writer of the message benchmark many times, for instruction counts
//! that a busy machine cannot skew: `valgrind --tool=callgrind target/release/examples/
//! parse_cost parse-zdns 10000` (modes: parse-zdns, parse-hickory, parse-domain,
//! write-zdns, write-hickory, write-domain).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use lib_dns::Message;

#[path = "../benches/common/mod.rs"]
mod common;
use common::{domain_build, domain_names, domain_parse, response};

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "parse-zdns".into());
    let n: usize = args.next().map_or(10_000, |s| s.parse().unwrap());
    let msg = response();
    let wire = msg.to_wire(1232).unwrap();
    let hickory = hickory_proto::op::Message::from_vec(&wire).unwrap();
    let names = domain_names();
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
