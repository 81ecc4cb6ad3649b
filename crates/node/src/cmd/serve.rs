//! `zdns serve`: run the node.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tracing_subscriber::EnvFilter;

use crate::config::{Overrides, ZoneConfig, parse_zone_flag};

/// Arguments of `zdns serve`.
#[derive(Args)]
#[command(after_long_help = "\
With no arguments, serves the bundled example zone `sovereign.` on 127.0.0.1:5353 (UDP \
and TCP), DNS over TLS and QUIC on 127.0.0.1:8853, DNS over HTTPS at \
https://127.0.0.1:8443/dns-query, metrics at http://127.0.0.1:8053/metrics, the data \
directory ./zdns-data, and recursion from the root servers for loopback clients. \
Try: dig @127.0.0.1 -p 5353 alice.sovereign. A

With --listen or --zone and no config file, only what the flags name is served (UDP, TCP \
and HTTP): no encrypted listeners and no recursion, so several such nodes can run side by \
side. A config file's [tls] and [resolver] tables turn them on.

SIGHUP or `zdns reload` re-reads the config file and every zone file; a zone that fails to \
load keeps its previous version. Logs go to stderr; set RUST_LOG (e.g. RUST_LOG=debug) \
for more or less detail.

The config file is documented in docs/zdns.example.toml.")]
pub struct ServeArgs {
    /// A TOML config file (see docs/zdns.example.toml); the flags below override it.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Serve DNS over UDP and TCP on ADDR:PORT (repeatable; replaces the config's list).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Serve the zone file PATH with origin ORIGIN (repeatable; replaces the config's
    /// zones and the bundled example zone).
    #[arg(long, value_name = "ORIGIN=PATH", value_parser = parse_zone_flag)]
    pub zone: Vec<ZoneConfig>,
    /// UDP worker threads per listener (one SO_REUSEPORT socket each). Default: one per
    /// CPU.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// The data directory, created if missing. Default: ./zdns-data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Serve HTTP (metrics, management API) on ADDR:PORT. Default: 127.0.0.1:8053.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<SocketAddr>,
}

/// Runs `zdns serve` until SIGINT or SIGTERM.
pub fn run(args: ServeArgs) -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let overrides = Overrides {
        config: args.config,
        listen: args.listen,
        zones: args.zone,
        threads: args.threads,
        data_dir: args.data_dir,
        http: args.http,
    };
    match crate::node::run(overrides) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zdns serve: {e}");
            ExitCode::FAILURE
        }
    }
}
