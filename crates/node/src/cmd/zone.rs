//! `zdns zone check|fmt`: validate a zone file, or print it in canonical form.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use lib_dns::zone::{FsIncludes, Zone};
use lib_dns::{Class, Name};

/// Zone file subcommands.
#[derive(Subcommand)]
pub enum ZoneCommand {
    /// Check a zone file: exit 0 if valid (warnings go to stderr), otherwise print one
    /// `FILE:LINE:COL: message` line per error on stderr and exit 1. Syntax errors are
    /// all reported (up to 100); the zone-level checks (SOA, NS, CNAME, glue, ...) run
    /// once the file reads without errors.
    Check(ZoneArgs),
    /// Print a zone file in canonical form on stdout: one record per line, absolute
    /// names, explicit TTL and class, sorted in DNSSEC canonical order, duplicates
    /// removed. An invalid zone prints its errors on stderr and exits 1.
    Fmt(ZoneArgs),
    /// Sign a zone file with the keys of a keyring (`zdns key generate`) and write the
    /// signed zone: RRSIGs, NSEC or NSEC3, optionally ZONEMD and CDS/CDNSKEY.
    Sign(super::sign::SignArgs),
    /// Check a signed zone file: every RRSIG, the NSEC/NSEC3 chain, ZONEMD; exit 1 with
    /// one line per problem if anything is wrong.
    Verify(super::verify::VerifyArgs),
}

/// A zone file and its origin.
#[derive(Args)]
pub struct ZoneArgs {
    /// The zone file.
    pub file: PathBuf,
    /// The zone's origin. Default: the file's `$ORIGIN` if it comes before any record;
    /// else the file name without a final `.zone`, `.db` or `.txt` (`example.com.zone` ->
    /// `example.com.`, `sovereign.zone` -> `sovereign.`).
    #[arg(long)]
    pub origin: Option<String>,
}

/// Runs a zone subcommand.
pub fn run(cmd: ZoneCommand) -> ExitCode {
    let (args, fmt) = match cmd {
        ZoneCommand::Check(a) => (a, false),
        ZoneCommand::Fmt(a) => (a, true),
        ZoneCommand::Sign(a) => return super::sign::run(a),
        ZoneCommand::Verify(a) => return super::verify::run(a),
    };
    match load(&args, fmt) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            if let Some(m) = message {
                eprintln!("zdns zone: {m}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Reads, checks and (for `fmt`) prints the zone. `Err(None)`: errors already printed.
fn load(args: &ZoneArgs, fmt: bool) -> Result<(), Option<String>> {
    let origin = origin(args)?;
    let file = File::open(&args.file)
        .map_err(|e| Some(format!("cannot open {}: {e}", args.file.display())))?;
    let input = BufReader::with_capacity(1 << 16, file);
    let name = args.file.to_string_lossy();
    let mut loaded = Zone::read(origin, Class::IN, &name, input, &mut FsIncludes);
    let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
    let read_ok = !diagnostics.iter().any(|d| d.is_error());
    if read_ok {
        diagnostics.extend(loaded.zone.check());
    }
    let stderr = io::stderr();
    let mut err = BufWriter::new(stderr.lock());
    for d in &diagnostics {
        let _ = writeln!(err, "{d}");
    }
    let _ = err.flush();
    if diagnostics.iter().any(|d| d.is_error()) {
        return Err(None);
    }
    if fmt {
        let stdout = io::stdout();
        let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
        loaded
            .zone
            .write_canonical(&mut out)
            .and_then(|()| out.flush())
            .map_err(|e| Some(format!("cannot write: {e}")))?;
    }
    Ok(())
}

/// `--origin`; else the file's leading `$ORIGIN` directive; else the file name.
pub fn origin(args: &ZoneArgs) -> Result<Name, Option<String>> {
    if let Some(o) = &args.origin {
        return Name::parse(o).map_err(|e| Some(format!("bad --origin '{o}': {e}")));
    }
    let leading = File::open(&args.file)
        .ok()
        .and_then(|f| leading_origin(BufReader::new(f)));
    leading
        .or_else(|| derive_origin(&args.file))
        .ok_or_else(|| {
            Some(format!(
                "cannot tell the origin of '{}' (no leading $ORIGIN, no name.zone file name); \
                 give --origin NAME",
                args.file.display()
            ))
        })
}

/// The argument of a `$ORIGIN` directive that comes before any record, if absolute.
fn leading_origin(input: impl BufRead) -> Option<Name> {
    for line in input.lines().take(1000) {
        let line = line.ok()?;
        let text = line.split(';').next().unwrap_or_default().trim();
        if text.is_empty() {
            continue;
        }
        let mut words = text.split_whitespace();
        let first = words.next()?;
        if first.eq_ignore_ascii_case("$ORIGIN") {
            let name = words.next()?;
            return name
                .ends_with('.')
                .then(|| Name::parse(name).ok())
                .flatten();
        }
        if !first.starts_with('$') {
            return None;
        }
    }
    None
}

/// `example.com.zone` / `sovereign.zone` / `example.com.db` -> `example.com.`, `sovereign.`;
/// without one of those suffixes, only names with a dot are taken (`sub.example.test`).
fn derive_origin(path: &Path) -> Option<Name> {
    let file = path.file_name()?.to_str()?;
    match [".zone", ".db", ".txt"]
        .iter()
        .find_map(|s| file.strip_suffix(s))
    {
        Some(stem) => Name::parse(stem).ok(),
        None if file.trim_end_matches('.').contains('.') => Name::parse(file).ok(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_from_file_name() {
        let o = |p: &str| derive_origin(Path::new(p)).map(|n| n.to_string());
        assert_eq!(o("/x/example.com.zone").as_deref(), Some("example.com."));
        assert_eq!(o("example.com.db").as_deref(), Some("example.com."));
        assert_eq!(o("sub.example.test").as_deref(), Some("sub.example.test."));
        assert_eq!(o("sovereign.zone").as_deref(), Some("sovereign."));
        assert_eq!(o("localhost"), None);
    }

    #[test]
    fn origin_from_leading_directive() {
        let o = |t: &str| leading_origin(t.as_bytes()).map(|n| n.to_string());
        assert_eq!(
            o("; comment\n\n$TTL 300\n$ORIGIN a.test.\n").as_deref(),
            Some("a.test.")
        );
        assert_eq!(o("$origin B.test. ; x\n").as_deref(), Some("B.test."));
        assert_eq!(o("@ SOA ns hm 1 2 3 4 5\n$ORIGIN a.test.\n"), None);
        assert_eq!(o("$ORIGIN relative\n"), None);
    }
}
