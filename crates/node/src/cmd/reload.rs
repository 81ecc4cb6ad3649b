//! `zdns reload`: ask a running node to re-read its config and zones.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::resolve::{NodeArgs, request};

/// How long to wait for the node (zone loading included).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Arguments of `zdns reload`.
#[derive(Args)]
pub struct ReloadArgs {
    /// The node's HTTP listener. Default: the one in `--config`, else 127.0.0.1:8053.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<SocketAddr>,
    /// Read the HTTP listener's address from this config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs `zdns reload`: `POST /api/v1/reload`, prints the node's answer, exits 0 if every
/// zone loaded.
pub fn run(args: ReloadArgs) -> ExitCode {
    match reload(args) {
        Ok(body) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zdns reload: {}", e.trim_end());
            ExitCode::FAILURE
        }
    }
}

fn reload(args: ReloadArgs) -> Result<String, String> {
    let node = NodeArgs {
        http: args.http,
        config: args.config,
    };
    let (status, body) = request(&node, "POST", "/api/v1/reload", TIMEOUT)?;
    if status == 200 {
        Ok(body)
    } else {
        Err(format!("the node answered {status}:\n{body}"))
    }
}
