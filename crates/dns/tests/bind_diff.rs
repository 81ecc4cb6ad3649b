//! Differential test against BIND's `named-compilezone`: for every good zone of the
//! corpus, BIND's compiled zone and ours hold the same records (compared in canonical
//! wire form after reading both with our reader), and BIND compiles our canonical output
//! to exactly what it compiles the original to. Every bad zone is rejected by BIND too.
//!
//! Without `named-compilezone` the test passes with a notice, unless
//! `ZDNS_REQUIRE_PEERS=1` is set (as CI does).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufReader, Cursor};
use std::path::{Path, PathBuf};
use std::process::Command;

use lib_dns::zone::{Diagnostic, FsIncludes, NoIncludes, Zone};
use lib_dns::{Class, Name};

const BIND: &str = "named-compilezone";

fn bind_available() -> bool {
    let found = Command::new(BIND).arg("-h").output().is_ok();
    if !found {
        let required = std::env::var("ZDNS_REQUIRE_PEERS").is_ok_and(|v| v == "1");
        assert!(!required, "{BIND} is missing and ZDNS_REQUIRE_PEERS=1");
        eprintln!("notice: {BIND} not found; BIND differential test skipped");
    }
    found
}

fn corpus(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/zones")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zone"))
        .collect();
    files.sort();
    files
}

fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zdns-{test}-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `named-compilezone -q -s full -i none -o OUT origin FILE` in the zone's
/// directory (BIND resolves `$INCLUDE` against its working directory). `None` if BIND
/// rejects the zone.
fn compile(origin: &str, file: &Path, out: &Path) -> Option<String> {
    let status = Command::new(BIND)
        .args(["-q", "-s", "full", "-i", "none", "-o"])
        .arg(out)
        .arg(origin)
        .arg(file.file_name().unwrap())
        .current_dir(file.parent().unwrap())
        .status()
        .unwrap();
    status.success().then(|| fs::read_to_string(out).unwrap())
}

/// Our zone, read, checked and with BIND's repairs applied.
fn ours(path: &Path, origin: &Name) -> Zone {
    let input = BufReader::new(fs::File::open(path).unwrap());
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        &path.to_string_lossy(),
        input,
        &mut FsIncludes,
    );
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    let mut zone = loaded.zone;
    let problems: Vec<Diagnostic> = zone.check().into_iter().filter(|d| d.is_error()).collect();
    assert!(problems.is_empty(), "{}: {problems:#?}", path.display());
    zone
}

fn canonical_set(zone: &Zone) -> BTreeSet<String> {
    zone.records()
        .iter()
        .map(|r| {
            let data = r.data.to_canonical_wire().unwrap();
            format!(
                "{} {} {} {} {}",
                r.owner.to_lowercase(),
                r.ttl,
                r.class,
                r.rtype(),
                lib_dns::encoding::hex_string(&data)
            )
        })
        .collect()
}

fn read_text(text: &str, origin: &Name, what: &str) -> Zone {
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        what,
        Cursor::new(text.as_bytes()),
        &mut NoIncludes,
    );
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
    loaded.zone
}

#[test]
fn good_zones_match_bind() {
    if !bind_available() {
        return;
    }
    let dir = scratch("bind-good");
    for path in corpus("good") {
        let origin_text = path.file_stem().unwrap().to_str().unwrap().to_owned() + ".";
        let origin = Name::parse(&origin_text).unwrap();
        let bind1 = compile(&origin_text, &path, &dir.join("bind1.zone"))
            .unwrap_or_else(|| panic!("BIND rejects {}", path.display()));

        let zone = ours(&path, &origin);
        let mut text = Vec::new();
        zone.write_canonical(&mut text).unwrap();
        let ours_path = dir.join("ours.zone");
        fs::write(&ours_path, &text).unwrap();

        let from_bind = read_text(&bind1, &origin, "BIND's output");
        let from_ours = read_text(&String::from_utf8(text).unwrap(), &origin, "our output");
        assert_eq!(
            canonical_set(&from_bind),
            canonical_set(&from_ours),
            "{}: BIND's records and ours differ",
            path.display()
        );
        assert_eq!(canonical_set(&from_ours), canonical_set(&zone));

        let bind2 = compile(&origin_text, &ours_path, &dir.join("bind2.zone"))
            .unwrap_or_else(|| panic!("BIND rejects our output for {}", path.display()));
        assert_eq!(
            bind1,
            bind2,
            "{}: BIND compiles our output differently",
            path.display()
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_zones_rejected_by_bind_too() {
    if !bind_available() {
        return;
    }
    let dir = scratch("bind-bad");
    for path in corpus("bad") {
        let out = dir.join(format!(
            "{}.out",
            path.file_stem().unwrap().to_string_lossy()
        ));
        assert!(
            compile("bad.example.", &path, &out).is_none(),
            "BIND accepts {}",
            path.display()
        );
    }
    fs::remove_dir_all(&dir).unwrap();
}
