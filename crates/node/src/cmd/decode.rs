//! `zdns decode`: print a wire-format message the way dig does.

use std::process::ExitCode;

use clap::Args;

/// Arguments of `zdns decode`.
#[derive(Args)]
pub struct DecodeArgs {
    /// The message in hexadecimal (whitespace allowed), or `-` to read hex from stdin.
    pub hex: Option<String>,
}

/// Runs `zdns decode`.
pub fn run(_args: DecodeArgs) -> ExitCode {
    eprintln!("zdns decode: not built yet");
    ExitCode::FAILURE
}
