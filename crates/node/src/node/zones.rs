//! Loading the configured zones: read, check, keep the last good version of each.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::time::{Duration, Instant};

use lib_dns::zone::{FsIncludes, NoIncludes, Zone};
use lib_dns::{Class, Name, RData};

use crate::config::{EMBEDDED_ZONE, ZoneConfig, ZoneSource};

/// A zone being served, with the facts the metrics report.
#[derive(Debug, Clone)]
pub struct ServedZone {
    /// The checked zone.
    pub zone: Zone,
    /// The serial of its SOA record (0 if `check` let a zone without one through).
    pub serial: u32,
    /// How long reading and checking took.
    pub load_time: Duration,
}

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
pub fn load(cfg: &ZoneConfig) -> Result<ServedZone, LoadError> {
    let fail = |lines: Vec<String>| LoadError {
        origin: cfg.origin.clone(),
        lines,
    };
    let origin = Name::parse(&cfg.origin)
        .map_err(|e| fail(vec![format!("bad origin `{}`: {e}", cfg.origin)]))?;
    let started = Instant::now();
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
    let zone = loaded.zone;
    let serial = soa_serial(&zone);
    Ok(ServedZone {
        zone,
        serial,
        load_time: started.elapsed(),
    })
}

/// The serial of the zone's apex SOA.
fn soa_serial(zone: &Zone) -> u32 {
    zone.records()
        .iter()
        .find_map(|r| match &r.data {
            RData::Soa(soa) if &r.owner == zone.origin() => Some(soa.serial),
            _ => None,
        })
        .unwrap_or(0)
}

/// The zones being served, by origin as configured.
#[derive(Debug, Clone, Default)]
pub struct ZoneSet {
    zones: BTreeMap<String, ServedZone>,
}

impl ZoneSet {
    /// Loads every configured zone. A zone that fails keeps the version in `self`, if
    /// there is one; zones no longer configured are dropped. Returns the failures.
    pub fn reload(&mut self, configs: &[ZoneConfig]) -> Vec<LoadError> {
        let mut next = BTreeMap::new();
        let mut errors = Vec::new();
        for cfg in configs {
            match load(cfg) {
                Ok(z) => {
                    next.insert(cfg.origin.clone(), z);
                }
                Err(e) => {
                    if let Some(old) = self.zones.remove(&cfg.origin) {
                        next.insert(cfg.origin.clone(), old);
                    }
                    errors.push(e);
                }
            }
        }
        self.zones = next;
        errors
    }

    /// The zones, by configured origin.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ServedZone)> {
        self.zones.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Copies of the zones, for building an answerer.
    pub fn to_zones(&self) -> Vec<Zone> {
        self.zones.values().map(|z| z.zone.clone()).collect()
    }

    /// How many zones are served.
    pub fn len(&self) -> usize {
        self.zones.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file_zone(path: PathBuf) -> ZoneConfig {
        ZoneConfig {
            origin: "example.".to_owned(),
            source: ZoneSource::File(path),
        }
    }

    #[test]
    fn embedded_zone_loads() {
        let z = load(&ZoneConfig {
            origin: "sovereign.".to_owned(),
            source: ZoneSource::Embedded,
        })
        .unwrap();
        assert_eq!(z.serial, 2026011701);
    }

    #[test]
    fn failed_reload_keeps_the_old_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.zone");
        let good = "$TTL 300\n@ SOA ns hm 7 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n";
        std::fs::write(&path, good).unwrap();
        let cfg = [file_zone(path.clone())];
        let mut set = ZoneSet::default();
        assert!(set.reload(&cfg).is_empty());
        std::fs::write(
            &path,
            "$TTL 300\n@ SOA ns hm 8 1 1 1 1\n@ NS ns\nns A 192.0.2\n",
        )
        .unwrap();
        let errors = set.reload(&cfg);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].lines[0].contains("example.zone:4:"),
            "{:?}",
            errors[0].lines
        );
        assert_eq!(set.iter().next().unwrap().1.serial, 7);
        assert!(set.reload(&[]).is_empty());
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn missing_file_and_bad_origin_are_errors() {
        let e = load(&file_zone(PathBuf::from("/nonexistent/zdns.zone"))).unwrap_err();
        assert!(e.lines[0].contains("cannot open"));
        let e = load(&ZoneConfig {
            origin: "a..b".to_owned(),
            source: ZoneSource::Embedded,
        })
        .unwrap_err();
        assert!(e.lines[0].contains("bad origin"));
    }
}
