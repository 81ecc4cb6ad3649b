//! Reading a configured zone file (or the embedded zone) and checking it.

use std::fs::File;
use std::io::BufReader;

use lib_dns::zone::{FsIncludes, NoIncludes, Zone};
use lib_dns::{Class, Name};

use crate::config::{EMBEDDED_ZONE, ZoneConfig, ZoneSource};

/// Why a zone could not be loaded: one line per problem, `FILE:LINE:COL: message` for
/// errors in the zone text.
#[derive(Debug, Clone)]
pub struct LoadError {
    /// The zone's origin as configured.
    pub origin: String,
    /// What was wrong.
    pub lines: Vec<String>,
}

/// Reads and checks one zone. Warnings are logged; any error makes the zone unusable.
pub fn load(cfg: &ZoneConfig) -> Result<Zone, LoadError> {
    let fail = |lines: Vec<String>| LoadError {
        origin: cfg.origin.clone(),
        lines,
    };
    let origin = Name::parse(&cfg.origin)
        .map_err(|e| fail(vec![format!("bad origin `{}`: {e}", cfg.origin)]))?;
    let mut loaded = match &cfg.source {
        ZoneSource::Embedded => Zone::read(
            origin,
            Class::IN,
            "zones/sovereign.zone (embedded)",
            EMBEDDED_ZONE.as_bytes(),
            &mut NoIncludes,
        ),
        ZoneSource::File(path) => {
            let file = File::open(path)
                .map_err(|e| fail(vec![format!("cannot open {}: {e}", path.display())]))?;
            Zone::read(
                origin,
                Class::IN,
                &path.to_string_lossy(),
                BufReader::with_capacity(1 << 16, file),
                &mut FsIncludes,
            )
        }
        ZoneSource::Primaries(_) => {
            return Err(fail(vec![
                "a secondary zone has no file: its data comes from its primaries".to_owned(),
            ]));
        }
    };
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    if !diagnostics.iter().any(|d| d.is_error()) {
        diagnostics.extend(loaded.zone.check());
    }
    let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics.iter().partition(|d| d.is_error());
    for w in warnings {
        tracing::warn!(zone = %cfg.origin, "{w}");
    }
    if !errors.is_empty() {
        return Err(fail(errors.iter().map(ToString::to_string).collect()));
    }
    Ok(loaded.zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn embedded_zone_loads() {
        let z = load(&ZoneConfig::new("sovereign.", ZoneSource::Embedded)).unwrap();
        assert_eq!(z.origin().to_string(), "sovereign.");
        assert!(z.records().len() > 10);
    }

    #[test]
    fn errors_carry_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.zone");
        std::fs::write(
            &path,
            "$TTL 300\n@ SOA ns hm 8 1 1 1 1\n@ NS ns\nns A 192.0.2\n",
        )
        .unwrap();
        let e = load(&ZoneConfig::new("example.", ZoneSource::File(path))).unwrap_err();
        assert!(e.lines[0].contains("example.zone:4:"), "{:?}", e.lines);
    }

    #[test]
    fn missing_file_and_bad_origin_are_errors() {
        let e = load(&ZoneConfig::new(
            "example.",
            ZoneSource::File(PathBuf::from("/nonexistent/zdns.zone")),
        ))
        .unwrap_err();
        assert!(e.lines[0].contains("cannot open"));
        let e = load(&ZoneConfig::new("a..b", ZoneSource::Embedded)).unwrap_err();
        assert!(e.lines[0].contains("bad origin"));
    }
}
