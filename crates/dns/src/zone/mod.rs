//! Zone files (RFC 1035 §5): reading them as BIND does, checking a loaded zone, and
//! writing it in canonical form.
//!
//! [`ZoneReader`] streams records out of any [`BufRead`](std::io::BufRead), one at a
//! time, with the file and line each came from; it handles `$ORIGIN`, `$TTL`,
//! `$INCLUDE` (through an [`IncludeSource`], so the parser itself does no I/O) and
//! `$GENERATE`, and keeps going after errors. [`Zone`] collects the records of one zone,
//! [`Zone::check`] applies the zone-level rules `named-checkzone` applies, and
//! [`Zone::write_canonical`] prints the zone sorted in RFC 4034 §6 order without
//! duplicates.

mod check;
mod diagnostic;
mod generate;
mod hash;
mod include;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

use std::io::BufRead;
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Severity};
pub use include::{FsIncludes, IncludeSource, NoIncludes};
pub use reader::{DEFAULT_MAX_ERRORS, Source, SourceRecord, ZoneReader};

use crate::name::Name;
use crate::record::Record;
use crate::types::Class;

/// The records of one zone, each with where it was read.
#[derive(Debug, Clone)]
pub struct Zone {
    origin: Name,
    class: Class,
    files: Vec<Arc<str>>,
    records: Vec<Record>,
    sources: Vec<Source>,
}

/// A zone as read, with the problems met while reading it.
#[derive(Debug)]
pub struct Loaded {
    /// The records that could be read.
    pub zone: Zone,
    /// Errors and warnings, in the order they were found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

impl Zone {
    /// Reads a whole zone from `input`, whose name (for diagnostics and relative
    /// `$INCLUDE` paths) is `file`. Reading stops after `DEFAULT_MAX_ERRORS` errors.
    pub fn read(
        origin: Name,
        class: Class,
        file: &str,
        input: impl BufRead,
        includes: &mut dyn IncludeSource,
    ) -> Loaded {
        let mut reader = ZoneReader::new(origin.clone(), class, file, input, includes);
        let mut records = Vec::new();
        let mut sources = Vec::new();
        let mut diagnostics = Vec::new();
        for item in reader.by_ref() {
            match item {
                Ok(r) => {
                    records.push(r.record);
                    sources.push(r.source);
                }
                Err(d) => diagnostics.push(d),
            }
        }
        diagnostics.extend(reader.take_warnings());
        diagnostics.sort_by_key(|d| d.severity == Severity::Warning);
        let files = reader.into_files();
        Loaded {
            zone: Zone {
                origin,
                class,
                files,
                records,
                sources,
            },
            diagnostics,
        }
    }

    /// A zone made of records that did not come from a file (a zone after an UPDATE or a
    /// transfer). Checks apply as for a zone read from text; diagnostics name the source
    /// `origin` and the record's position.
    pub fn from_records(origin: Name, class: Class, records: Vec<Record>) -> Zone {
        let sources = (0..records.len())
            .map(|i| Source {
                file: 0,
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                col: 1,
            })
            .collect();
        Zone {
            files: vec![Arc::from(origin.to_string())],
            origin,
            class,
            records,
            sources,
        }
    }

    /// The zone's apex.
    pub fn origin(&self) -> &Name {
        &self.origin
    }

    /// The zone's class.
    pub fn class(&self) -> Class {
        self.class
    }

    /// The records in the order they were read (duplicates included).
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Where the `i`-th record was read.
    pub fn source(&self, i: usize) -> Option<Source> {
        self.sources.get(i).copied()
    }

    /// The name of a file the zone was read from, by the index in a [`Source`].
    pub fn file_name(&self, file: u32) -> &str {
        usize::try_from(file)
            .ok()
            .and_then(|i| self.files.get(i))
            .map_or("?", |f| f)
    }

    fn file_arc(&self, file: u32) -> Arc<str> {
        usize::try_from(file)
            .ok()
            .and_then(|i| self.files.get(i))
            .cloned()
            .unwrap_or_else(|| Arc::from("?"))
    }

    /// A diagnostic located at the `i`-th record.
    fn diagnostic_at(&self, i: usize, severity: Severity, message: String) -> Diagnostic {
        // An empty zone has no record to point at: its problems are at the top.
        let s = self.source(i).unwrap_or(Source {
            file: 0,
            line: 1,
            col: 1,
        });
        Diagnostic {
            file: self.file_arc(s.file),
            line: s.line,
            col: s.col,
            severity,
            message,
        }
    }
}
