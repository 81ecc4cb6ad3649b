//! `zdns ct …`: manage the node's Certificate Transparency log.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// CT log subcommands.
#[derive(Subcommand)]
pub enum CtCommand {
    /// The log's trusted roots.
    #[command(subcommand)]
    Roots(RootsCommand),
}

/// `zdns ct roots …`.
#[derive(Subcommand)]
pub enum RootsCommand {
    /// Add the certificates of a PEM file to the roots the log accepts chains up to. A
    /// running log picks them up within one sequencing period, without a restart.
    Add(AddArgs),
}

/// Arguments of `zdns ct roots add`.
#[derive(Args)]
pub struct AddArgs {
    /// A PEM file with one or more CERTIFICATE blocks.
    pub file: PathBuf,
    /// The node's data directory (the log lives in its `ct/` subdirectory).
    #[arg(long, default_value = "zdns-data")]
    pub data_dir: PathBuf,
}

/// Runs a `zdns ct` subcommand.
pub fn run(cmd: CtCommand) -> ExitCode {
    match cmd {
        CtCommand::Roots(RootsCommand::Add(args)) => roots_add(&args),
    }
}

fn roots_add(args: &AddArgs) -> ExitCode {
    let pem = match std::fs::read_to_string(&args.file) {
        Ok(pem) => pem,
        Err(e) => {
            eprintln!(
                "zdns ct roots add: cannot read {}: {e}",
                args.file.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let dir = args.data_dir.join("ct");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("zdns ct roots add: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    match zdns_ct::log::add_roots_file(&dir, &pem) {
        Ok(added) => {
            println!(
                "{added} new root(s) added to {}",
                dir.join("roots.pem").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zdns ct roots add: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}
