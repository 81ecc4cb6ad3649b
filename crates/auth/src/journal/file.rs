//! The journal on disk: one file per zone, appended to and fsynced before a change is
//! acknowledged, truncated back to its last whole entry when a crash tore the tail, and
//! replaced atomically (write, fsync, rename, fsync the directory) when compacted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use lib_dns::record::Record;

use super::{Entry, TailError, decode, encode, encode_snapshot};
use crate::diff::ZoneDiff;

/// What a journal file held when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The last snapshot in the file, if any: the diffs apply to it.
    pub snapshot: Option<Vec<Record>>,
    /// The diffs after that snapshot, oldest first.
    pub diffs: Vec<ZoneDiff>,
    /// Why the file's tail was cut off, if it was (the bytes are gone from the file).
    pub dropped_tail: Option<TailError>,
}

/// An open journal file.
#[derive(Debug)]
pub struct JournalFile {
    path: PathBuf,
    file: File,
    len: u64,
}

fn wire_err(e: lib_dns::wire::WireError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// fsyncs the directory holding `path`, so a rename or creation in it is durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

impl JournalFile {
    /// Opens (or creates) the journal at `path` and reads it. A torn or corrupt tail is
    /// truncated away, durably, before this returns, so later appends follow the last
    /// whole entry.
    pub fn open(path: impl AsRef<Path>) -> io::Result<(JournalFile, Contents)> {
        let path = path.as_ref().to_path_buf();
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)?;
        if !existed {
            sync_dir(&path)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let decoded = decode(&bytes);
        let len = u64::try_from(decoded.valid_len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "journal too large"))?;
        if decoded.tail.is_some() {
            file.set_len(len)?;
            file.sync_all()?;
        }
        let mut contents = Contents {
            snapshot: None,
            diffs: Vec::new(),
            dropped_tail: decoded.tail,
        };
        for entry in decoded.entries {
            match entry {
                Entry::Snapshot(records) => {
                    contents.snapshot = Some(records);
                    contents.diffs.clear();
                }
                Entry::Diff(d) => contents.diffs.push(d),
            }
        }
        Ok((JournalFile { path, file, len }, contents))
    }

    /// The file's length in bytes (all of it whole entries).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a diff and fsyncs: when this returns `Ok`, the diff survives a crash and
    /// the change may be acknowledged. On error the file is cut back to its previous
    /// length where possible, and the change must not be acknowledged.
    pub fn append(&mut self, diff: &ZoneDiff) -> io::Result<()> {
        let entry = encode(diff).map_err(wire_err)?;
        self.append_bytes(&entry)
    }

    fn append_bytes(&mut self, entry: &[u8]) -> io::Result<()> {
        let written = self
            .file
            .write_all(entry)
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += entry.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Best effort: a torn entry left here is cut off at the next open anyway.
                let _ = self.file.set_len(self.len);
                Err(e)
            }
        }
    }

    /// Replaces the journal with a snapshot of `base` followed by `diffs`: written to a
    /// temporary file beside it, fsynced, renamed over it and the directory fsynced, so
    /// a crash leaves either the old journal or the new one, whole.
    pub fn compact(&mut self, base: &[Record], diffs: &[ZoneDiff]) -> io::Result<()> {
        let mut bytes = encode_snapshot(base).map_err(wire_err)?;
        for d in diffs {
            bytes.extend(encode(d).map_err(wire_err)?);
        }
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".compact");
        let tmp = PathBuf::from(tmp_name);
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)?;
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&self.path)?;
        self.len = bytes.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::tests::base;
    use crate::journal::tests::step;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh empty directory under the system temp dir.
    fn temp_dir() -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "zdns-journal-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn appends_survive_reopening() {
        let dir = temp_dir();
        let path = dir.join("example.journal");
        let (mut j, c) = JournalFile::open(&path).unwrap();
        assert!(j.is_empty());
        assert_eq!(c.diffs, vec![]);
        for s in 1..4 {
            j.append(&step(s)).unwrap();
        }
        drop(j);
        let (j, c) = JournalFile::open(&path).unwrap();
        assert_eq!(c.diffs, (1..4).map(step).collect::<Vec<_>>());
        assert_eq!(c.snapshot, None);
        assert_eq!(c.dropped_tail, None);
        assert_eq!(j.len(), fs::metadata(&path).unwrap().len());
        fs::remove_dir_all(dir).unwrap();
    }

    /// The kill -9 model: the last append is cut at every byte offset; reopening gives
    /// exactly the entries before it, and appending afterwards works.
    #[test]
    fn a_torn_last_entry_is_dropped_at_every_offset() {
        let dir = temp_dir();
        let path = dir.join("torn.journal");
        let (mut j, _) = JournalFile::open(&path).unwrap();
        j.append(&step(1)).unwrap();
        j.append(&step(2)).unwrap();
        let good = j.len();
        j.append(&step(3)).unwrap();
        let full = j.len();
        drop(j);
        let bytes = fs::read(&path).unwrap();
        for cut in good..full {
            fs::write(&path, &bytes[..cut as usize]).unwrap();
            let (mut j, c) = JournalFile::open(&path).unwrap();
            assert_eq!(c.diffs, vec![step(1), step(2)], "cut at {cut}");
            assert_eq!(c.dropped_tail.is_some(), cut != good, "cut at {cut}");
            assert_eq!(fs::metadata(&path).unwrap().len(), good);
            j.append(&step(3)).unwrap();
            drop(j);
            let (_, c) = JournalFile::open(&path).unwrap();
            assert_eq!(c.diffs, vec![step(1), step(2), step(3)], "cut at {cut}");
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn compaction_replaces_the_file_with_a_snapshot_and_the_rest() {
        let dir = temp_dir();
        let path = dir.join("c.journal");
        let (mut j, _) = JournalFile::open(&path).unwrap();
        for s in 1..6 {
            j.append(&step(s)).unwrap();
        }
        let merged: Vec<ZoneDiff> = (1..4).map(step).collect();
        let new_base = crate::journal::replay(&base(), &merged).unwrap();
        let rest: Vec<ZoneDiff> = (4..6).map(step).collect();
        j.compact(&new_base, &rest).unwrap();
        j.append(&step(6)).unwrap();
        drop(j);
        assert!(!dir.join("c.journal.compact").exists());
        let (_, c) = JournalFile::open(&path).unwrap();
        assert_eq!(c.snapshot.as_ref().map(Vec::len), Some(new_base.len()));
        assert_eq!(c.diffs, (4..7).map(step).collect::<Vec<_>>());
        let all: Vec<ZoneDiff> = (1..7).map(step).collect();
        let snapshot = c.snapshot.unwrap();
        let mut a = crate::journal::replay(&snapshot, &c.diffs).unwrap();
        let mut b = crate::journal::replay(&base(), &all).unwrap();
        a.sort_by_key(|r| r.to_string());
        b.sort_by_key(|r| r.to_string());
        assert_eq!(a, b);
        fs::remove_dir_all(dir).unwrap();
    }
}
