//! The zone corpus: every `zones/good/*.zone` loads and checks without errors and reads
//! back the same from its canonical form; every `zones/bad/*.zone` gives exactly the
//! errors of its `.expected` file (`FILE:LINE:COL: message`, warnings excluded).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Cursor};
use std::path::{Path, PathBuf};

use lib_dns::zone::{Diagnostic, IncludeSource, Zone};
use lib_dns::{Class, Name};

/// Included files are taken from the corpus directory, named as written.
struct CorpusIncludes(PathBuf);

impl IncludeSource for CorpusIncludes {
    fn resolve(&self, path: &str, _from: &str) -> String {
        path.to_owned()
    }

    fn open(&mut self, resolved: &str) -> Result<Box<dyn BufRead>, String> {
        let f = fs::File::open(self.0.join(resolved)).map_err(|e| e.to_string())?;
        Ok(Box::new(BufReader::new(f)))
    }
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
    assert!(!files.is_empty(), "no zones in {}", dir.display());
    files
}

fn load(path: &Path, origin: &Name) -> (Zone, Vec<Diagnostic>) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let input = BufReader::new(fs::File::open(path).unwrap());
    let mut includes = CorpusIncludes(path.parent().unwrap().to_path_buf());
    let loaded = Zone::read(origin.clone(), Class::IN, name, input, &mut includes);
    let mut zone = loaded.zone;
    let mut diags = loaded.diagnostics;
    if !diags.iter().any(Diagnostic::is_error) {
        diags.extend(zone.check());
    }
    (zone, diags)
}

/// The origin of `NAME.zone` is `NAME.`.
fn origin_of(path: &Path) -> Name {
    Name::parse(path.file_stem().unwrap().to_str().unwrap()).unwrap()
}

/// Records as comparable text: lowercased owner, TTL, class, type and canonical wire
/// data in hex.
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

#[test]
fn good_zones_load_and_round_trip() {
    for path in corpus("good") {
        let origin = origin_of(&path);
        let (zone, diags) = load(&path, &origin);
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        assert!(!zone.records().is_empty());

        let mut out = Vec::new();
        zone.write_canonical(&mut out).unwrap();
        let again = Zone::read(
            origin.clone(),
            Class::IN,
            "canonical",
            Cursor::new(&out),
            &mut lib_dns::zone::NoIncludes,
        );
        assert!(
            again.diagnostics.is_empty(),
            "{}: {:#?}",
            path.display(),
            again.diagnostics
        );
        assert_eq!(
            canonical_set(&zone),
            canonical_set(&again.zone),
            "{}",
            path.display()
        );
        let mut out2 = Vec::new();
        again.zone.write_canonical(&mut out2).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(out2).unwrap(),
            "{}: canonical output is not a fixed point",
            path.display()
        );
    }
}

#[test]
fn bad_zones_report_expected_locations() {
    let origin = Name::parse("bad.example.").unwrap();
    for path in corpus("bad") {
        let (_, diags) = load(&path, &origin);
        let got: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.to_string())
            .collect();
        let expected_path = path.with_extension("expected");
        let expected: Vec<String> = fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()))
            .lines()
            .map(str::to_owned)
            .collect();
        assert!(!expected.is_empty(), "{}", expected_path.display());
        assert_eq!(got, expected, "{}", path.display());
    }
}
