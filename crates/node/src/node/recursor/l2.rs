//! The L2 cache: the resolver's cache saved in a redb database under the data directory,
//! so that a restart, or a node coming back after being offline, starts warm (seed 003
//! §7.1, §8.3) and can serve stale data at once if upstreams are unreachable.
//!
//! The whole L1 cache is written as one snapshot (one write transaction, which redb
//! makes durable before `commit` returns) every [`SAVE_INTERVAL`] and at shutdown, and
//! read back at start. An entry that cannot be read is skipped with a warning. redb
//! (pure Rust, crash-safe, one file) is the store the workspace's plan names for
//! on-disk state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use zdns_resolver::cache::StoredRrset;

/// Key: lowercase owner (wire form), type, class. Value: [`StoredRrset::encode`].
const RRSETS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rrsets");

/// How often the cache is saved while the node runs.
pub const SAVE_INTERVAL: Duration = Duration::from_secs(60);

/// The database file.
pub struct DiskCache {
    db: Database,
    path: PathBuf,
}

impl DiskCache {
    /// Opens (or creates) the database at `path`.
    pub fn open(path: &Path) -> Result<DiskCache, String> {
        let db = Database::create(path)
            .map_err(|e| format!("resolver cache {}: {e}", path.display()))?;
        Ok(DiskCache {
            db,
            path: path.to_path_buf(),
        })
    }

    /// Replaces what is saved with `rrsets`. Returns how many were written.
    pub fn save(&self, rrsets: &[StoredRrset]) -> Result<usize, String> {
        let err = |e: &dyn std::fmt::Display| format!("saving {}: {e}", self.path.display());
        let txn = self.db.begin_write().map_err(|e| err(&e))?;
        let mut written = 0;
        {
            let mut table = txn.open_table(RRSETS).map_err(|e| err(&e))?;
            table.retain(|_, _| false).map_err(|e| err(&e))?;
            for rrset in rrsets {
                let (Some(key), Ok(value)) = (rrset.key_bytes(), rrset.encode()) else {
                    continue;
                };
                table
                    .insert(key.as_slice(), value.as_slice())
                    .map_err(|e| err(&e))?;
                written += 1;
            }
        }
        txn.commit().map_err(|e| err(&e))?;
        Ok(written)
    }

    /// Everything saved that can be read.
    pub fn load(&self) -> Result<Vec<StoredRrset>, String> {
        let err = |e: &dyn std::fmt::Display| format!("reading {}: {e}", self.path.display());
        let txn = self.db.begin_read().map_err(|e| err(&e))?;
        let table = match txn.open_table(RRSETS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err(&e)),
        };
        let mut rrsets = Vec::new();
        for item in table.iter().map_err(|e| err(&e))? {
            let (_, value) = item.map_err(|e| err(&e))?;
            match StoredRrset::decode(value.value()) {
                Ok(rrset) => rrsets.push(rrset),
                Err(e) => tracing::warn!(error = %e, "resolver cache entry skipped"),
            }
        }
        Ok(rrsets)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use lib_dns::rdata::A;
    use lib_dns::{Name, Record};
    use zdns_resolver::cache::Rank;

    use super::*;

    #[test]
    fn save_load_replace_and_skip_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.redb");
        let rrset = |owner: &str| StoredRrset {
            records: vec![Record::new(
                Name::parse(owner).unwrap(),
                60,
                A(Ipv4Addr::LOCALHOST),
            )],
            rank: Rank::Answer,
            stored_at: 1_800_000_000,
            ttl: 60,
            rrsigs: Vec::new(),
            security: zdns_resolver::validator::Security::Indeterminate,
        };
        {
            let disk = DiskCache::open(&path).unwrap();
            assert!(disk.load().unwrap().is_empty());
            assert_eq!(
                disk.save(&[rrset("a.example."), rrset("b.example.")])
                    .unwrap(),
                2
            );
            assert_eq!(disk.save(&[rrset("c.example.")]).unwrap(), 1);
            // A corrupt value written behind the cache's back.
            let txn = disk.db.begin_write().unwrap();
            txn.open_table(RRSETS)
                .unwrap()
                .insert(&b"junk"[..], &[1u8, 2, 3][..])
                .unwrap();
            txn.commit().unwrap();
        }
        let disk = DiskCache::open(&path).unwrap();
        assert_eq!(disk.load().unwrap(), vec![rrset("c.example.")]);
    }
}
