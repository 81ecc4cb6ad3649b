//! AXFR interop: our transfer messages, served over a TCP loop in this test, must be
//! accepted by BIND's `dig` and Knot's `kdig`, record for record. Skipped with a notice
//! when a tool is missing, unless `ZDNS_REQUIRE_PEERS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;

use lib_dns::message::Message;
use lib_dns::name::Name;
use lib_dns::record::Record;
use lib_dns::types::Class;
use lib_dns::zone::{NoIncludes, Zone};
use zdns_auth::xfr;

fn zone() -> Vec<Record> {
    let mut text = String::from(
        "$ORIGIN example.\n$TTL 300\n@ SOA ns hostmaster 7 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.1\n",
    );
    let blob = "z".repeat(200);
    for i in 0..1500 {
        text.push_str(&format!(
            "host{i} TXT \"{blob}\" \"{i}\"\nhost{i} A 192.0.2.{}\n",
            i % 250
        ));
    }
    let loaded = Zone::read(
        Name::parse("example.").unwrap(),
        Class::IN,
        "test",
        text.as_bytes(),
        &mut NoIncludes,
    );
    assert!(!loaded.has_errors());
    loaded.zone.records().to_vec()
}

/// Answers one AXFR query on one connection.
fn serve_one(mut conn: TcpStream, zone: &[Record]) {
    let mut len = [0u8; 2];
    conn.read_exact(&mut len).unwrap();
    let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
    conn.read_exact(&mut query).unwrap();
    let query = Message::parse(&query).unwrap();
    for msg in xfr::axfr(&query, zone, 0).unwrap() {
        let msg = msg.unwrap();
        conn.write_all(&(msg.len() as u16).to_be_bytes()).unwrap();
        conn.write_all(&msg).unwrap();
    }
}

fn tool_present(tool: &str) -> bool {
    let present = Command::new(tool).arg("-v").output().is_ok();
    if !present {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "{tool} is required (ZDNS_REQUIRE_PEERS=1) but missing"
        );
        eprintln!("skipping: {tool} not installed");
    }
    present
}

fn check_peer(tool: &str) {
    if !tool_present(tool) {
        return;
    }
    let zone = zone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = zone.clone();
    let server = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        serve_one(conn, &served);
    });
    let out = Command::new(tool)
        .args([
            "AXFR",
            "example.",
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+noall",
            "+answer",
        ])
        .output()
        .unwrap();
    server.join().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{tool} failed: {stdout}");
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .collect();
    assert_eq!(lines.len(), zone.len() + 1, "{tool} output:\n{stdout}");
    let soa = |l: &str| l.split_whitespace().nth(3) == Some("SOA");
    assert!(soa(lines[0]) && soa(lines[lines.len() - 1]), "{stdout}");
    assert!(!stdout.contains("failed"), "{stdout}");
}

#[test]
fn dig_accepts_our_axfr() {
    check_peer("dig");
}

#[test]
fn kdig_accepts_our_axfr() {
    check_peer("kdig");
}
