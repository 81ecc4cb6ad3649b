//! Where a log keeps its objects: tiles, issuers, checkpoints and the staging bundles of
//! the commit protocol, behind the [`Storage`] trait, with a durable local-filesystem
//! implementation ([`FsStorage`]).
//!
//! Keys are relative slash-separated paths (`tile/0/001`, `checkpoint`). A `put` returns
//! only once the object is durable. [`Storage::put_if`] is a compare-and-swap on an
//! object's version, the primitive that makes a single writer of the checkpoint (S3's
//! conditional writes give the same thing to an object-store backend).

use core::fmt;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A boxed `Send` future, so that [`Storage`] can be a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object with its version, as [`Storage::get_versioned`] returns it.
pub type Versioned = Option<(Vec<u8>, Version)>;

/// An object's version for compare-and-swap (an entity tag).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version(pub String);

/// Why a storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// The key is not a valid relative path.
    BadKey(String),
    /// A compare-and-swap found another version (or an object where none was expected).
    Conflict(String),
    /// The backend failed.
    Io(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::BadKey(k) => write!(f, "bad storage key {k:?}"),
            StorageError::Conflict(k) => write!(f, "{k}: changed by another writer"),
            StorageError::Io(why) => write!(f, "storage: {why}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// An object store for a log.
pub trait Storage: Send + Sync + 'static {
    /// The object at `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StorageError>>;

    /// The object at `key` and its version, if any.
    fn get_versioned<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Versioned, StorageError>>;

    /// Writes `data` at `key` (replacing any object), durably.
    fn put<'a>(&'a self, key: &'a str, data: Vec<u8>) -> BoxFuture<'a, Result<(), StorageError>>;

    /// Writes `data` at `key` durably if the object is at version `expected` (`None`:
    /// only if there is no object); [`StorageError::Conflict`] otherwise. Returns the
    /// new version.
    fn put_if<'a>(
        &'a self,
        key: &'a str,
        data: Vec<u8>,
        expected: Option<&'a Version>,
    ) -> BoxFuture<'a, Result<Version, StorageError>>;
}

/// Checks a key: non-empty segments of `[A-Za-z0-9._-]`, none `.` or `..`.
pub fn check_key(key: &str) -> Result<(), StorageError> {
    let ok = !key.is_empty()
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if ok {
        Ok(())
    } else {
        Err(StorageError::BadKey(key.to_string()))
    }
}

/// The version of an object's contents in [`FsStorage`]: its SHA-256, hex.
fn content_version(data: &[u8]) -> Version {
    Version(hex(&Sha256::digest(data)))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            if let Some(&d) = DIGITS.get(usize::from(nibble)) {
                out.push(char::from(d));
            }
        }
    }
    out
}

/// Objects as files under a directory. Each put writes a temporary file, fsyncs it,
/// renames it into place and fsyncs the directory (and any directory it created), so a
/// crash leaves either the old object or the new one, and a returned put survives power
/// loss. Compare-and-swap is serialized within the process; one process owns a
/// directory (see [`crate::log::Log::open`], which locks it).
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: Arc<PathBuf>,
    cas: Arc<std::sync::Mutex<()>>,
}

fn io_err(what: &Path) -> impl Fn(std::io::Error) -> StorageError + '_ {
    move |e| StorageError::Io(format!("{}: {e}", what.display()))
}

impl FsStorage {
    /// Storage under `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(io_err(&root))?;
        Ok(FsStorage {
            root: Arc::new(root),
            cas: Arc::new(std::sync::Mutex::new(())),
        })
    }

    /// The directory objects live under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(data) => Ok(Some(data)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn write(&self, key: &str, data: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let dir = path
            .parent()
            .ok_or_else(|| StorageError::BadKey(key.to_string()))?;
        if !dir.is_dir() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            // Make the new directories' entries durable, up to the root.
            let mut d = dir;
            while let Some(parent) = d.parent() {
                sync_dir(parent)?;
                if parent == self.root.as_path() {
                    break;
                }
                d = parent;
            }
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| StorageError::BadKey(key.to_string()))?;
        let nonce = getrandom::u64().map_err(|e| StorageError::Io(e.to_string()))?;
        let tmp = dir.join(format!(".{name}.{nonce:016x}.tmp"));
        let result = (|| {
            let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(data).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
            std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
            sync_dir(dir)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(FsStorage) -> Result<T, StorageError> + Send + 'static,
    ) -> BoxFuture<'static, Result<T, StorageError>> {
        let me = self.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || f(me))
                .await
                .map_err(|e| StorageError::Io(format!("storage task: {e}")))?
        })
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl Storage for FsStorage {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StorageError>> {
        let key = key.to_string();
        self.blocking(move |s| s.read(&key))
    }

    fn get_versioned<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Versioned, StorageError>> {
        let key = key.to_string();
        self.blocking(move |s| {
            Ok(s.read(&key)?.map(|d| {
                let v = content_version(&d);
                (d, v)
            }))
        })
    }

    fn put<'a>(&'a self, key: &'a str, data: Vec<u8>) -> BoxFuture<'a, Result<(), StorageError>> {
        let key = key.to_string();
        self.blocking(move |s| s.write(&key, &data))
    }

    fn put_if<'a>(
        &'a self,
        key: &'a str,
        data: Vec<u8>,
        expected: Option<&'a Version>,
    ) -> BoxFuture<'a, Result<Version, StorageError>> {
        let key = key.to_string();
        let expected = expected.cloned();
        self.blocking(move |s| {
            let lock = s.cas.clone();
            let _guard = lock
                .lock()
                .map_err(|_| StorageError::Io("a previous compare-and-swap panicked".into()))?;
            let current = s.read(&key)?.map(|d| content_version(&d));
            if current != expected {
                return Err(StorageError::Conflict(key));
            }
            s.write(&key, &data)?;
            Ok(content_version(&data))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "zdns-ct-storage-{name}-{}-{}",
            std::process::id(),
            getrandom::u64().unwrap()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn put_get_and_compare_and_swap() {
        let dir = temp("cas");
        let s = FsStorage::new(&dir).unwrap();
        assert_eq!(s.get("tile/0/x001/002").await.unwrap(), None);
        s.put("tile/0/x001/002", b"abc".to_vec()).await.unwrap();
        assert_eq!(
            s.get("tile/0/x001/002").await.unwrap(),
            Some(b"abc".to_vec())
        );
        s.put("tile/0/x001/002", b"abcd".to_vec()).await.unwrap();
        assert_eq!(
            s.get("tile/0/x001/002").await.unwrap(),
            Some(b"abcd".to_vec())
        );
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(dir.join("tile/0/x001"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);

        let v1 = s.put_if("lock", b"one".to_vec(), None).await.unwrap();
        assert!(matches!(
            s.put_if("lock", b"two".to_vec(), None).await,
            Err(StorageError::Conflict(_))
        ));
        let (data, v) = s.get_versioned("lock").await.unwrap().unwrap();
        assert_eq!((data.as_slice(), &v), (&b"one"[..], &v1));
        let v2 = s.put_if("lock", b"two".to_vec(), Some(&v1)).await.unwrap();
        assert!(matches!(
            s.put_if("lock", b"three".to_vec(), Some(&v1)).await,
            Err(StorageError::Conflict(_))
        ));
        s.put_if("lock", b"three".to_vec(), Some(&v2))
            .await
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn keys_are_checked() {
        for bad in [
            "", "/abs", "a//b", "../x", "a/./b", "a/..", "sp ace", "a/b/",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
        for good in ["checkpoint", "tile/data/x001/234.p/7", "issuer/ab12"] {
            check_key(good).unwrap();
        }
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
