//! The `zdns` command: a naming node and its tools.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only declares the
//! command line and dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// zdns: an authoritative DNS server, resolver and Certificate Transparency log.
#[derive(Parser)]
#[command(name = "zdns", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check and format zone files.
    #[command(subcommand)]
    Zone(cmd::zone::ZoneCommand),
    /// Decode a DNS message in wire format (hex) and print it the way dig does.
    Decode(cmd::decode::DecodeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Zone(c) => cmd::zone::run(c),
        Command::Decode(a) => cmd::decode::run(a),
    }
}
