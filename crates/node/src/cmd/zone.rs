//! `zdns zone check|fmt`: validate a zone file, or print it in canonical form.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// Zone file subcommands.
#[derive(Subcommand)]
pub enum ZoneCommand {
    /// Check a zone file: exit 0 if valid, otherwise print one `FILE:LINE:COL: message` line
    /// per error and exit 1.
    Check(ZoneArgs),
    /// Print a zone file in canonical presentation format on stdout.
    Fmt(ZoneArgs),
}

/// A zone file and its origin.
#[derive(Args)]
pub struct ZoneArgs {
    /// The zone file.
    pub file: PathBuf,
    /// The zone's origin (default: the file's `$ORIGIN`, or its name without `.zone`).
    #[arg(long)]
    pub origin: Option<String>,
}

/// Runs a zone subcommand.
pub fn run(cmd: ZoneCommand) -> ExitCode {
    match cmd {
        ZoneCommand::Check(_) | ZoneCommand::Fmt(_) => {
            eprintln!("zdns zone: not built yet");
            ExitCode::FAILURE
        }
    }
}
