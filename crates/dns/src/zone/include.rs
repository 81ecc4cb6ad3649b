//! Where `$INCLUDE` files come from: the reader asks an [`IncludeSource`], so that the
//! parser does no I/O itself and can be tested on text in memory.

use std::io::{BufRead, BufReader};
use std::path::Path;

/// Opens the files named by `$INCLUDE`.
pub trait IncludeSource {
    /// The name of the file `path` as named in the file `from`: the key for loop
    /// detection and the name used in diagnostics.
    fn resolve(&self, path: &str, from: &str) -> String;

    /// Opens a file by the name [`resolve`](IncludeSource::resolve) gave; the error says
    /// why it could not be opened.
    fn open(&mut self, resolved: &str) -> Result<Box<dyn BufRead>, String>;
}

/// Files from the file system. Relative paths are taken against the directory of the
/// including file, so a zone reads the same from any working directory (BIND takes
/// them against its working directory, which is the same when run in the zone's
/// directory).
#[derive(Debug, Default, Clone, Copy)]
pub struct FsIncludes;

impl IncludeSource for FsIncludes {
    fn resolve(&self, path: &str, from: &str) -> String {
        let p = Path::new(path);
        if p.is_absolute() {
            return path.to_owned();
        }
        match Path::new(from).parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(p).to_string_lossy().into_owned(),
            _ => path.to_owned(),
        }
    }

    fn open(&mut self, resolved: &str) -> Result<Box<dyn BufRead>, String> {
        let file = std::fs::File::open(resolved).map_err(|e| e.to_string())?;
        Ok(Box::new(BufReader::with_capacity(1 << 16, file)))
    }
}

/// Refuses every `$INCLUDE`: for zones read from a single text.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoIncludes;

impl IncludeSource for NoIncludes {
    fn resolve(&self, path: &str, _from: &str) -> String {
        path.to_owned()
    }

    fn open(&mut self, _resolved: &str) -> Result<Box<dyn BufRead>, String> {
        Err("$INCLUDE is not available here".to_owned())
    }
}
