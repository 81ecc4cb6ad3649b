//! One zone's state at the edge: its current records, its journal in memory and on
//! disk, and what is served. Every change goes through [`ZoneState::commit`] or
//! [`ZoneState::replace`], which build the new served zone first, then make the change
//! durable (journal append or snapshot, fsynced), and only then let it be served or
//! acknowledged. All of it is blocking work: callers run it off the async threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use lib_dns::Name;
use lib_dns::rdata::RData;
use lib_dns::record::Record;
use lib_dns::types::{Class, Rtype};
use lib_dns::zone::Zone;
use zdns_auth::ServedZone;
use zdns_auth::diff::{self, ZoneDiff, serial_gt, soa_serial};
use zdns_auth::journal::file::JournalFile;
use zdns_auth::journal::{Journal, replay};
use zdns_auth::secondary::RefreshTimers;

use super::signer::Signer;
use crate::config::{ZoneConfig, ZoneSource};
use crate::node::zones::{self, LoadError};

/// When a zone's journal grows past this, it is rewritten from a snapshot.
pub const JOURNAL_MAX_BYTES: usize = 16 << 20;

/// A zone's data as served. The tree is the only copy of the records; transfers and
/// updates decode them from it when they need them.
#[derive(Clone)]
pub struct ZoneData {
    /// The SOA serial.
    pub serial: u32,
    /// The built tree and prepared answers.
    pub served: Arc<ServedZone>,
}

impl ZoneData {
    /// Every record, the SOA first (decoded from the tree: O(zone)).
    pub fn records(&self) -> Vec<Record> {
        self.served.tree().to_records()
    }

    /// The zone's SOA record.
    pub fn soa(&self) -> Option<Record> {
        self.served.tree().soa()
    }
}

/// The state of one configured zone.
pub struct ZoneState {
    /// The zone's apex.
    pub origin: Name,
    /// Its configuration.
    pub config: ZoneConfig,
    /// What is served; `None` for a secondary that has no data yet.
    pub data: Option<ZoneData>,
    /// The diffs since the journal's snapshot, for IXFR.
    pub journal: Journal,
    /// Past this size the journal file is compacted.
    pub journal_max: usize,
    /// Whether the journal file starts with a snapshot: not until the zone first
    /// changes at run time (until then the zone file is the base, and nothing is
    /// written).
    has_snapshot: bool,
    file: JournalFile,
    /// The refresh schedule of a secondary zone.
    pub timers: Option<RefreshTimers>,
    /// How long the last full load or build took.
    pub load_seconds: f64,
    /// Whether the zone holds dynamic updates that its file does not: then a zone file
    /// that goes back in serial is refused instead of replacing them.
    pub dynamic: bool,
    /// Modification time and length of the zone file when last read: a reload skips an
    /// unchanged file without reading it.
    file_stamp: Option<(SystemTime, u64)>,
    /// Online signing, for zones with a `[zone.dnssec]` policy.
    pub signer: Option<Signer>,
}

/// The modification time and length of a zone's file (`None` for other sources).
fn file_stamp(config: &ZoneConfig) -> Option<(SystemTime, u64)> {
    let ZoneSource::File(path) = &config.source else {
        return None;
    };
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Whether two zones differ in any record.
fn differ(a: &[Record], b: &[Record]) -> bool {
    !matches!(diff::between(a, b), Ok(None))
}

/// `records` with the SOA serial one higher (RFC 1982).
fn bump_serial(records: &mut [Record]) {
    for r in records {
        if let RData::Soa(soa) = &mut r.data {
            soa.serial = soa.serial.wrapping_add(1);
        }
    }
}

/// Why a change could not be made (the zone is as it was).
#[derive(Debug)]
pub enum CommitError {
    /// The change does not apply or makes a zone that cannot be served.
    Invalid(String),
    /// The journal could not be written: nothing may be acknowledged.
    Io(std::io::Error),
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitError::Invalid(why) => f.write_str(why),
            CommitError::Io(e) => write!(f, "journal write failed: {e}"),
        }
    }
}

/// The journal file of a zone: `<data dir>/journal/<origin>.journal`, the origin's
/// characters outside `[a-z0-9-_.]` written as `%XX`.
pub fn journal_path(data_dir: &Path, origin: &Name) -> PathBuf {
    let text = origin.to_lowercase().to_string();
    let mut file = String::new();
    if text == "." {
        file.push_str("root.");
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.' {
            file.push(char::from(b));
        } else {
            file.push_str(&format!("%{b:02x}"));
        }
    }
    data_dir.join("journal").join(format!("{file}journal"))
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The serial of a zone's SOA (0 without one; loading rejects such zones).
pub fn serial_of(records: &[Record]) -> u32 {
    records
        .iter()
        .find(|r| r.rtype() == Rtype::SOA)
        .and_then(soa_serial)
        .unwrap_or(0)
}

/// Builds what is served from records (freed as soon as the tree holds them).
fn build(origin: &Name, mut records: Vec<Record>) -> Result<ZoneData, String> {
    records.sort_by_key(|r| r.rtype() != Rtype::SOA);
    build_zone(Zone::from_records(origin.clone(), Class::IN, records))
}

/// Builds what is served from a zone (freed as soon as the tree holds it).
fn build_zone(zone: Zone) -> Result<ZoneData, String> {
    let serial = serial_of(zone.records());
    let origin = zone.origin().clone();
    let served =
        ServedZone::from_zone(zone).map_err(|e| format!("cannot serve zone {origin}: {e}"))?;
    Ok(ZoneData {
        serial,
        served: Arc::new(served),
    })
}

impl ZoneState {
    /// Opens a zone: its journal, then its file (primaries) and the journal's changes
    /// on top, keeping whichever is newer by serial. A secondary starts from its
    /// journal, if it has one, and refreshes at once.
    pub fn open(config: &ZoneConfig, data_dir: &Path) -> Result<ZoneState, LoadError> {
        let fail = |line: String| LoadError {
            origin: config.origin.clone(),
            lines: vec![line],
        };
        let origin = Name::parse(&config.origin)
            .map_err(|e| fail(format!("bad origin `{}`: {e}", config.origin)))?;
        let path = journal_path(data_dir, &origin);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        }
        let (file, contents) = JournalFile::open(&path)
            .map_err(|e| fail(format!("cannot open journal {}: {e}", path.display())))?;
        if let Some(tail) = &contents.dropped_tail {
            tracing::warn!(zone = %origin, journal = %path.display(), "journal tail dropped: {tail}");
        }
        let mut journal = Journal::new();
        let mut journaled = None;
        if let Some(snapshot) = contents.snapshot {
            let state = replay(&snapshot, &contents.diffs)
                .map_err(|e| fail(format!("journal {} does not replay: {e}", path.display())))?;
            for d in contents.diffs {
                journal
                    .push(d)
                    .map_err(|e| fail(format!("journal {}: {e}", path.display())))?;
            }
            journaled = Some(state);
        }
        let signer = config
            .dnssec
            .as_ref()
            .map(|p| Signer::load(&origin, p, now_secs()))
            .transpose()
            .map_err(fail)?;
        let started = Instant::now();
        let mut state = ZoneState {
            origin: origin.clone(),
            config: config.clone(),
            data: None,
            journal,
            has_snapshot: journaled.is_some(),
            journal_max: JOURNAL_MAX_BYTES,
            file,
            timers: None,
            load_seconds: 0.0,
            dynamic: false,
            file_stamp: file_stamp(config),
            signer,
        };
        let mut pending = None;
        match &config.source {
            ZoneSource::Primaries(_) => {
                let modified = std::fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                let now = now_secs();
                state.timers = Some(
                    match journaled
                        .as_ref()
                        .and_then(|r| r.iter().find(|x| x.rtype() == Rtype::SOA))
                    {
                        Some(soa) => RefreshTimers::loaded(soa, modified, now),
                        None => RefreshTimers::empty(now),
                    },
                );
                if let Some(records) = journaled {
                    state.data = Some(build(&origin, records).map_err(fail)?);
                }
            }
            ZoneSource::File(_) | ZoneSource::Embedded => {
                let loaded = zones::load(config)?;
                let data = match (journaled, &state.signer) {
                    (None, Some(signer)) => {
                        // Signed at load, and the signed zone made the journal's
                        // snapshot at once: a restart serves these same signatures
                        // under the same serial instead of making new ones.
                        let records = loaded.records().to_vec();
                        drop(loaded);
                        let signed = signer
                            .sign(&origin, records.clone(), &records, now_secs())
                            .map_err(fail)?;
                        state.file.compact(&signed, &[]).map_err(|e| {
                            fail(format!("cannot write journal {}: {e}", path.display()))
                        })?;
                        state.has_snapshot = true;
                        build(&origin, signed)
                    }
                    (None, None) => build_zone(loaded),
                    (Some(records), _) => {
                        let (fs, js) = (serial_of(loaded.records()), serial_of(&records));
                        if serial_gt(fs, js) {
                            tracing::info!(zone = %origin, file_serial = fs, journal_serial = js, "zone file is newer than the journal: serving the file");
                            pending = diff::between(&records, loaded.records())
                                .map_err(|e| fail(format!("zone file against journal: {e}")))?;
                        } else if fs != js {
                            state.dynamic = true;
                            tracing::info!(zone = %origin, file_serial = fs, journal_serial = js, "journal is newer than the zone file: serving the journal's changes");
                        }
                        drop(loaded);
                        build(&origin, records)
                    }
                };
                state.data = Some(data.map_err(fail)?);
            }
        }
        state.load_seconds = started.elapsed().as_secs_f64();
        if let Some(diff) = pending {
            state.commit(diff).map_err(|e| fail(e.to_string()))?;
        }
        Ok(state)
    }

    /// The serial served, if any.
    pub fn serial(&self) -> Option<u32> {
        self.data.as_ref().map(|d| d.serial)
    }

    /// Applies `diff`: the new zone is built, the diff appended to the journal and
    /// fsynced, and only then does the zone change. On error nothing changed.
    pub fn commit(&mut self, diff: ZoneDiff) -> Result<&ZoneData, CommitError> {
        let current = self
            .data
            .as_ref()
            .ok_or_else(|| CommitError::Invalid("the zone has no data yet".into()))?;
        let started = Instant::now();
        let current_records = current.records();
        let records = diff
            .apply(&current_records)
            .map_err(|e| CommitError::Invalid(e.to_string()))?;
        let (diff, records) = match &self.signer {
            None => (diff, records),
            Some(signer) => {
                // Re-signed incrementally: only what the change touched (and the
                // denial records around it) gets new signatures. What goes into the
                // journal is the difference of the signed zones, so IXFR out and a
                // restart see exactly what was served.
                let signed = signer
                    .sign(&self.origin, records, &current_records, now_secs())
                    .map_err(CommitError::Invalid)?;
                match diff::between(&current_records, &signed) {
                    Ok(Some(d)) => (d, signed),
                    Ok(None) => {
                        return self
                            .data
                            .as_ref()
                            .ok_or_else(|| CommitError::Invalid("the zone has no data".into()));
                    }
                    Err(e) => return Err(CommitError::Invalid(e.to_string())),
                }
            }
        };
        self.store(current_records, diff, records, started)
    }

    /// Makes `records` (the zone after `diff`) the zone: built, `diff` journaled and
    /// fsynced, then served.
    fn store(
        &mut self,
        current_records: Vec<Record>,
        diff: ZoneDiff,
        records: Vec<Record>,
        started: Instant,
    ) -> Result<&ZoneData, CommitError> {
        let next = build(&self.origin, records).map_err(CommitError::Invalid)?;
        if !self.has_snapshot {
            // The first change at run time: the zone as it is becomes the journal's
            // snapshot, so the journal alone can rebuild the zone.
            self.file
                .compact(&current_records, &[])
                .map_err(CommitError::Io)?;
            self.has_snapshot = true;
        }
        drop(current_records);
        self.file.append(&diff).map_err(CommitError::Io)?;
        self.journal
            .push(diff)
            .map_err(|e| CommitError::Invalid(e.to_string()))?;
        self.load_seconds = started.elapsed().as_secs_f64();
        let data = self.data.insert(next);
        tracing::info!(zone = %self.origin, serial = data.serial, "zone changed");
        if self.journal.bytes() > self.journal_max {
            // The file restarts from a snapshot of the zone as it is now; the newest
            // diffs stay in memory for IXFR until the next restart.
            match self.file.compact(&data.records(), &[]) {
                Ok(()) => {
                    self.journal.trim(self.journal_max);
                    tracing::info!(zone = %self.origin, bytes = self.file.len(), "journal compacted");
                }
                // The journal is whole and replays; it is only larger than it should be.
                Err(e) => {
                    tracing::warn!(zone = %self.origin, error = %e, "journal compaction failed")
                }
            }
        }
        Ok(data)
    }

    /// Replaces the whole zone (an AXFR in): built first, then written as the
    /// journal's new snapshot (fsynced, atomically replacing the journal).
    pub fn replace(&mut self, records: Vec<Record>) -> Result<&ZoneData, CommitError> {
        let started = Instant::now();
        let records = match &self.signer {
            None => records,
            Some(signer) => {
                let previous = self
                    .data
                    .as_ref()
                    .map(ZoneData::records)
                    .unwrap_or_default();
                signer
                    .sign(&self.origin, records, &previous, now_secs())
                    .map_err(CommitError::Invalid)?
            }
        };
        let next = build(&self.origin, records).map_err(CommitError::Invalid)?;
        self.file
            .compact(&next.records(), &[])
            .map_err(CommitError::Io)?;
        self.has_snapshot = true;
        self.journal = Journal::new();
        self.load_seconds = started.elapsed().as_secs_f64();
        let data = self.data.insert(next);
        tracing::info!(zone = %self.origin, serial = data.serial, "zone replaced");
        Ok(data)
    }

    /// Signs the zone again if anything is due at `now`: signatures within the refresh
    /// time of expiring, a rollover step, keys added to or removed from the keyring, a
    /// changed policy.
    /// A zone we are the primary of gets the next serial, so secondaries transfer the
    /// new signatures; a secondary keeps its primary's serial and takes the signed
    /// zone as a new snapshot. Returns whether the zone changed.
    pub fn resign(&mut self, now: u64) -> Result<bool, CommitError> {
        let (Some(signer), Some(data)) = (&mut self.signer, &self.data) else {
            return Ok(false);
        };
        let started = Instant::now();
        let current = data.records();
        signer
            .step(&self.origin, &current, now)
            .map_err(CommitError::Invalid)?;
        let signed = signer
            .sign(&self.origin, current.clone(), &current, now)
            .map_err(CommitError::Invalid)?;
        if !differ(&current, &signed) {
            return Ok(false);
        }
        if matches!(self.config.source, ZoneSource::Primaries(_)) {
            drop(current);
            self.replace(signed)?;
            return Ok(true);
        }
        // Only the SOA changes between `signed` and this: every other signature is
        // kept, the SOA's is made anew.
        let mut next = signed.clone();
        bump_serial(&mut next);
        let bumped = signer
            .sign(&self.origin, next, &signed, now)
            .map_err(CommitError::Invalid)?;
        drop(signed);
        let diff = match diff::between(&current, &bumped) {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(false),
            Err(e) => return Err(CommitError::Invalid(e.to_string())),
        };
        self.store(current, diff, bumped, started)?;
        self.dynamic = true;
        Ok(true)
    }

    /// When the zone next needs its signatures refreshed or a rollover step (seconds
    /// since 1970), if it is signed online.
    pub fn resign_due(&self, now: u64) -> Option<u64> {
        let signer = self.signer.as_ref()?;
        let data = self.data.as_ref()?;
        signer.due(&data.records(), now)
    }

    /// Re-reads a primary zone's file after a reload, unless it is unchanged on disk. A
    /// file with a newer serial is taken as the difference from what is served (so
    /// IXFR keeps working); one with the same or an older serial replaces the zone only
    /// when that drops no dynamic update. Returns whether the zone changed.
    pub fn reload_file(&mut self, config: &ZoneConfig) -> Result<bool, LoadError> {
        let same_source = self.config.source == config.source;
        // The keyring is read again: keys added or removed take effect now.
        self.signer = config
            .dnssec
            .as_ref()
            .map(|p| Signer::load(&self.origin, p, now_secs()))
            .transpose()
            .map_err(|line| LoadError {
                origin: config.origin.clone(),
                lines: vec![line],
            })?;
        self.config = config.clone();
        if matches!(config.source, ZoneSource::Primaries(_)) {
            return Ok(false);
        }
        let stamp = file_stamp(config);
        if same_source && (stamp.is_none() || stamp == self.file_stamp) {
            return Ok(false);
        }
        let result = self.take_file(config);
        if result.is_ok() {
            self.file_stamp = stamp;
        }
        result
    }

    /// Serves what the zone file now says, by the rules of [`ZoneState::reload_file`].
    fn take_file(&mut self, config: &ZoneConfig) -> Result<bool, LoadError> {
        let fail = |line: String| LoadError {
            origin: config.origin.clone(),
            lines: vec![line],
        };
        let loaded = zones::load(config)?;
        let Some(current) = &self.data else {
            return Err(fail("zone has no data".into()));
        };
        let signed;
        let from_file = match &self.signer {
            None => loaded.records(),
            Some(signer) => {
                signed = signer
                    .sign(
                        &self.origin,
                        loaded.records().to_vec(),
                        &current.records(),
                        now_secs(),
                    )
                    .map_err(fail)?;
                &signed[..]
            }
        };
        let (fs, cs) = (serial_of(from_file), current.serial);
        if serial_gt(fs, cs) {
            return match diff::between(&current.records(), from_file) {
                Ok(Some(d)) => self
                    .commit(d)
                    .map(|_| true)
                    .map_err(|e| fail(e.to_string())),
                Ok(None) => Ok(false),
                Err(e) => Err(fail(e.to_string())),
            };
        }
        if diff::between(&current.records(), from_file) == Ok(None) {
            return Ok(false);
        }
        if self.dynamic {
            return Err(fail(format!(
                "zone file serial {fs} is not above the served serial {cs}, which holds dynamic updates the file does not; raise the file's serial above {cs} to replace them"
            )));
        }
        tracing::warn!(zone = %self.origin, file_serial = fs, serial = cs, "zone file changed without a higher serial: serving it, but secondaries will not transfer it until the serial rises");
        self.replace(from_file.to_vec())
            .map(|_| true)
            .map_err(|e| fail(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ZoneSource;

    fn zone_text(serial: u32, extra: &str) -> String {
        format!(
            "$TTL 300\n@ SOA ns hm {serial} 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n{extra}"
        )
    }

    fn owners(z: &ZoneState) -> Vec<String> {
        let data = z.data.as_ref().unwrap();
        data.records().iter().map(|r| r.owner.to_string()).collect()
    }

    fn diff_adding(from: u32, owner: &str) -> ZoneDiff {
        let z = |t: &str| {
            let l = Zone::read(
                Name::parse("example.").unwrap(),
                Class::IN,
                "t",
                format!("$ORIGIN example.\n$TTL 300\n{t}").as_bytes(),
                &mut lib_dns::zone::NoIncludes,
            );
            l.zone.records().to_vec()
        };
        let soa = |s: u32| z(&format!("@ SOA ns hm {s} 3600 600 86400 60\n"));
        let mut added = soa(from + 1);
        added.extend(z(&format!("{owner} A 192.0.2.7\n")));
        ZoneDiff::new(soa(from), added).unwrap()
    }

    #[test]
    fn journal_paths_are_file_safe() {
        let d = Path::new("/d");
        assert_eq!(
            journal_path(d, &Name::parse("Example.COM.").unwrap()),
            PathBuf::from("/d/journal/example.com.journal")
        );
        assert_eq!(
            journal_path(d, &Name::root()),
            PathBuf::from("/d/journal/root..journal")
        );
        assert_eq!(
            journal_path(d, &Name::parse("a\\/b.").unwrap()),
            PathBuf::from("/d/journal/a%2fb.journal")
        );
    }

    #[test]
    fn changes_survive_a_restart_and_a_newer_file_wins() {
        let dir = tempfile::tempdir().unwrap();
        let zf = dir.path().join("example.zone");
        std::fs::write(&zf, zone_text(10, "")).unwrap();
        let cfg = ZoneConfig::new("example.", ZoneSource::File(zf.clone()));
        let mut z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert_eq!(z.serial(), Some(10));
        assert!(!journal_path(dir.path(), &z.origin).exists() || z.file.is_empty());
        z.commit(diff_adding(10, "a")).unwrap();
        z.commit(diff_adding(11, "b")).unwrap();
        assert!(z.commit(diff_adding(11, "c")).is_err());
        assert_eq!(z.serial(), Some(12));
        drop(z);

        // Restart: the journal (serial 12) is newer than the file (10).
        let z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert_eq!(z.serial(), Some(12));
        assert_eq!(z.journal.len(), 2);
        let names = owners(&z);
        assert!(
            names.contains(&"a.example.".to_owned()) && names.contains(&"b.example.".to_owned())
        );
        drop(z);

        // The operator edits the file with a newer serial: it wins, as a diff.
        std::fs::write(&zf, zone_text(20, "c A 192.0.2.8\n")).unwrap();
        let z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert_eq!(z.serial(), Some(20));
        assert_eq!(z.journal.len(), 3);
        assert_eq!(z.journal.diffs().last().unwrap().from_serial(), 12);
        let names = owners(&z);
        assert!(
            !names.contains(&"a.example.".to_owned()) && names.contains(&"c.example.".to_owned())
        );
    }

    #[test]
    fn reload_takes_a_newer_file_as_a_diff_and_keeps_updates_over_an_older_one() {
        let dir = tempfile::tempdir().unwrap();
        let zf = dir.path().join("example.zone");
        std::fs::write(&zf, zone_text(1, "")).unwrap();
        let cfg = ZoneConfig::new("example.", ZoneSource::File(zf.clone()));
        let mut z = ZoneState::open(&cfg, dir.path()).unwrap();
        std::fs::write(&zf, zone_text(2, "www A 192.0.2.80\n")).unwrap();
        assert!(z.reload_file(&cfg).unwrap());
        assert_eq!(z.serial(), Some(2));
        assert_eq!(z.journal.len(), 1);
        // Without dynamic updates, a file that goes back in serial is served as it is.
        std::fs::write(&zf, zone_text(1, "")).unwrap();
        assert!(z.reload_file(&cfg).unwrap());
        assert_eq!(z.serial(), Some(1));
        std::fs::write(&zf, zone_text(2, "")).unwrap();
        assert!(z.reload_file(&cfg).unwrap());
        z.commit(diff_adding(2, "dyn")).unwrap();
        z.dynamic = true;
        // Same file as before: the update is kept.
        assert!(!z.reload_file(&cfg).unwrap());
        assert_eq!(z.serial(), Some(3));
        // An older file would drop the update: refused.
        std::fs::write(&zf, zone_text(1, "")).unwrap();
        assert!(z.reload_file(&cfg).unwrap_err().lines[0].contains("dynamic updates"));
        assert_eq!(z.serial(), Some(3));
        // A broken file is an error and the zone stays.
        std::fs::write(&zf, "garbage\n").unwrap();
        assert!(z.reload_file(&cfg).is_err());
        assert_eq!(z.serial(), Some(3));
    }

    #[test]
    fn a_large_journal_is_compacted_and_still_replays() {
        let dir = tempfile::tempdir().unwrap();
        let zf = dir.path().join("example.zone");
        std::fs::write(&zf, zone_text(1, "")).unwrap();
        let cfg = ZoneConfig::new("example.", ZoneSource::File(zf));
        let mut z = ZoneState::open(&cfg, dir.path()).unwrap();
        z.journal_max = 2000;
        let mut largest = 0;
        for s in 1..60 {
            z.commit(diff_adding(s, &format!("h{s}"))).unwrap();
            largest = largest.max(z.file.len());
        }
        assert!(
            z.file.len() < 3000,
            "journal file not compacted: {}",
            z.file.len()
        );
        assert!(z.journal.bytes() <= 2000);
        assert!(z.journal.diffs_since(58).is_some());
        assert!(z.journal.diffs_since(2).is_none());
        let before = z.data.as_ref().unwrap().records();
        drop(z);
        let z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert_eq!(z.serial(), Some(60));
        assert_eq!(z.data.as_ref().unwrap().records(), before);
        assert!(largest > 2000);
    }

    #[test]
    fn a_secondary_starts_empty_then_from_its_journal() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = ZoneConfig::new(
            "example.",
            ZoneSource::Primaries(vec![crate::config::Remote {
                addr: "127.0.0.1:1".parse().unwrap(),
                key: None,
            }]),
        );
        let mut z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert!(z.data.is_none());
        assert_eq!(z.timers.as_ref().unwrap().serial(), None);
        let records = Zone::read(
            Name::parse("example.").unwrap(),
            Class::IN,
            "t",
            zone_text(5, "").as_bytes(),
            &mut lib_dns::zone::NoIncludes,
        )
        .zone
        .records()
        .to_vec();
        z.replace(records).unwrap();
        z.commit(diff_adding(5, "x")).unwrap();
        drop(z);
        let z = ZoneState::open(&cfg, dir.path()).unwrap();
        assert_eq!(z.serial(), Some(6));
        assert_eq!(z.timers.as_ref().unwrap().serial(), Some(6));
    }
}
