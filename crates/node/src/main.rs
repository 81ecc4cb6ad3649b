//! The `zdns` command: a naming node and its tools.
//!
//! Each subcommand lives in its own module under `cmd/`; this file only declares the
//! command line and dispatches. The running node is in `node/`, its configuration in
//! `config.rs`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod config;
mod node;

/// zdns: an authoritative DNS server, resolver and Certificate Transparency log.
#[derive(Parser)]
#[command(name = "zdns", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node: authoritative DNS over UDP and TCP, metrics over HTTP.
    Serve(cmd::serve::ServeArgs),
    /// Ask a running node to re-read its config and zone files.
    Reload(cmd::reload::ReloadArgs),
    /// Send a DNS query and print the answer the way dig does.
    Query(cmd::query::QueryArgs),
    /// Resolve a name into identity, endpoints, TTL and flags (through a running node).
    Resolve(cmd::resolve::ResolveArgs),
    /// Manage a running node's resolver (negative cache).
    #[command(subcommand)]
    Resolver(cmd::resolve::ResolverCommand),
    /// Check and format zone files.
    #[command(subcommand)]
    Zone(cmd::zone::ZoneCommand),
    /// Manage DNSSEC keys: generate, import BIND key files, print DS records.
    #[command(subcommand)]
    Key(cmd::key::KeyCommand),
    /// Decode a DNS message in wire format (hex) and print it the way dig does.
    Decode(cmd::decode::DecodeArgs),
    /// Manage the node's Certificate Transparency log.
    #[command(subcommand)]
    Ct(cmd::ct::CtCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => cmd::serve::run(a),
        Command::Reload(a) => cmd::reload::run(a),
        Command::Query(a) => cmd::query::run(a),
        Command::Resolve(a) => cmd::resolve::run(a),
        Command::Resolver(c) => cmd::resolve::run_resolver(c),
        Command::Zone(c) => cmd::zone::run(c),
        Command::Key(c) => cmd::key::run(c),
        Command::Decode(a) => cmd::decode::run(a),
        Command::Ct(c) => cmd::ct::run(c),
    }
}
