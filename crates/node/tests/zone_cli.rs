//! `zdns zone check|fmt` as a user runs them: exit codes, `FILE:LINE:COL` errors on
//! stderr, canonical output on stdout, and the origin taken from the file name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn zdns(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zdns"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zdns-cli-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

const ZONE: &str = "$ORIGIN example.com.\n$TTL 300\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\n\
                    ns A 192.0.2.1\nwww A 192.0.2.2\nwww 60 A 192.0.2.3\n";

#[test]
fn check_valid_zone_with_warning() {
    let path = scratch("example.com.zone", ZONE);
    let out = zdns(&["zone", "check", path.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.ends_with("example.com.zone:7:1: warning: TTL set to prior TTL (300)\n"),
        "{stderr}"
    );
}

#[test]
fn check_reports_every_error() {
    let text = format!("{ZONE}a A 1\nb FOO x\nwww CNAME ns\n");
    let path = scratch("errors.example.com.zone", &text);
    let out = zdns(&[
        "zone",
        "check",
        path.to_str().unwrap(),
        "--origin",
        "example.com.",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let file = path.to_str().unwrap();
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        format!(
            "{file}:8:5: expected IPv4 address, found '1'\n\
             {file}:9:3: expected TTL, class or type, found 'FOO'\n"
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn fmt_prints_canonical_zone() {
    let path = scratch("fmt.example.com.db", ZONE);
    let out = zdns(&[
        "zone",
        "fmt",
        path.to_str().unwrap(),
        "--origin",
        "example.com",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "example.com.\t300\tIN\tNS\tns.example.com.\n\
         example.com.\t300\tIN\tSOA\tns.example.com. hm.example.com. 1 2 3 4 5\n\
         ns.example.com.\t300\tIN\tA\t192.0.2.1\n\
         www.example.com.\t300\tIN\tA\t192.0.2.2\n\
         www.example.com.\t300\tIN\tA\t192.0.2.3\n"
    );
    let bad = scratch(
        "bad.example.com.zone",
        "$ORIGIN example.com.\n$TTL 1\nx A 1\n",
    );
    let out = zdns(&["zone", "fmt", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn origin_must_be_known() {
    let without_origin = ZONE.replace("$ORIGIN", "; $ORIGIN");
    let path = scratch("zonefile", &without_origin);
    let out = zdns(&["zone", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("give --origin NAME"), "{stderr}");
}
