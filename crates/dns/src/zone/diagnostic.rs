//! Problems found in a zone, located in its files.

use std::fmt;
use std::sync::Arc;

/// How bad a problem is, as `named-checkzone` rates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The zone must not be loaded.
    Error,
    /// Worth a look; the zone loads (possibly repaired, as the message says).
    Warning,
}

/// One problem, at a file, line and column (1-based; column in bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as named to the reader or by `$INCLUDE`.
    pub file: Arc<str>,
    /// Line number, from 1.
    pub line: u32,
    /// Column number, from 1.
    pub col: u32,
    /// Error or warning.
    pub severity: Severity,
    /// What was wrong or expected.
    pub message: String,
}

impl Diagnostic {
    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: message`, with `warning: ` before the message of warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.col)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}
