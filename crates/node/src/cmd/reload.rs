//! `zdns reload`: ask a running node to re-read its config and zones.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::config::Overrides;

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
    let addr = match args.http {
        Some(a) => a,
        None => {
            Overrides {
                config: args.config,
                ..Overrides::default()
            }
            .settings()?
            .http
        }
    };
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot reach the node at {addr}: {e}"))?;
    let io = |e: std::io::Error| format!("talking to the node at {addr}: {e}");
    stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
    write!(
        stream,
        "POST /api/v1/reload HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(io)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response from {addr}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("malformed HTTP status line from {addr}"))?;
    if status == "200" {
        Ok(body.to_owned())
    } else {
        Err(format!("the node answered {status}:\n{body}"))
    }
}
