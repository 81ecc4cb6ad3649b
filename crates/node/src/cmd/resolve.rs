//! `zdns resolve` and `zdns resolver`: the resolver of a running node, through its HTTP
//! API (`GET /api/v1/resolve`, `POST /api/v1/resolver/flush-negative`,
//! `/api/v1/resolver/nta`).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::Overrides;

/// How long to wait for the node (a resolution may take a few seconds).
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where the node's HTTP listener is.
#[derive(Args)]
pub struct NodeArgs {
    /// The node's HTTP listener. Default: the one in `--config`, else 127.0.0.1:8053.
    #[arg(long, value_name = "ADDR:PORT")]
    pub http: Option<SocketAddr>,
    /// Read the HTTP listener's address from this config file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Arguments of `zdns resolve`.
#[derive(Args)]
#[command(after_long_help = "\
Resolves NAME the way an application should (seed 003 §14): once, into its identity \
(ID record, node_id= and pubkey= TXT), every endpoint (mesh_endpoint= TXT, _zhtp._quic \
SRV, HTTPS, A/AAAA) with priority and weight, the TTL, and the flags stale, contested, \
degraded and tofu. Names in the node's zones are answered from them, others by recursion.

Exit status: 0 resolved, 1 the name does not exist or resolution failed, 2 the node \
cannot be reached.")]
pub struct ResolveArgs {
    /// The name to resolve.
    pub name: String,
    /// Print the JSON the node returns (otherwise a readable summary).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub node: NodeArgs,
}

/// `zdns resolver …`.
#[derive(Subcommand)]
pub enum ResolverCommand {
    /// Empty the negative cache (after a topology change or a new peer), or only the
    /// entries at and below --zone (a ZDNS_UPDATE hint for that zone).
    FlushNegative {
        /// Only this zone and the names below it.
        #[arg(long, value_name = "ZONE")]
        zone: Option<String>,
        #[command(flatten)]
        node: NodeArgs,
    },
    /// Negative trust anchors (RFC 7646): names whose DNSSEC validation is turned off
    /// (a zone known to be broken), listed, added or removed.
    Nta {
        #[command(subcommand)]
        action: NtaAction,
        #[command(flatten)]
        node: NodeArgs,
    },
}

/// `zdns resolver nta …`.
#[derive(Subcommand)]
pub enum NtaAction {
    /// List the negative trust anchors.
    List,
    /// Stop validating NAME and the names below it.
    Add {
        /// The name.
        name: String,
    },
    /// Validate NAME again.
    Remove {
        /// The name.
        name: String,
    },
}

/// Runs `zdns resolve`.
pub fn run(args: ResolveArgs) -> ExitCode {
    let path = format!("/api/v1/resolve?name={}", args.name);
    match request(&args.node, "GET", &path, TIMEOUT) {
        Ok((200, body)) if args.json => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Ok((200, body)) => match summary(&body) {
            Some(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            None => {
                print!("{body}");
                ExitCode::SUCCESS
            }
        },
        Ok((_, body)) => {
            if args.json {
                print!("{body}");
            } else {
                eprintln!("zdns resolve: {}: {}", args.name, error_text(&body));
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("zdns resolve: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs `zdns resolver …`.
pub fn run_resolver(command: ResolverCommand) -> ExitCode {
    let (what, node, method, path) = match command {
        ResolverCommand::FlushNegative { zone, node } => {
            let path = match &zone {
                Some(zone) => format!("/api/v1/resolver/flush-negative?zone={zone}"),
                None => "/api/v1/resolver/flush-negative".to_owned(),
            };
            ("flush-negative", node, "POST", path)
        }
        ResolverCommand::Nta { action, node } => {
            let (method, path) = match action {
                NtaAction::List => ("GET", "/api/v1/resolver/nta".to_owned()),
                NtaAction::Add { name } => ("POST", format!("/api/v1/resolver/nta?name={name}")),
                NtaAction::Remove { name } => {
                    ("DELETE", format!("/api/v1/resolver/nta?name={name}"))
                }
            };
            ("nta", node, method, path)
        }
    };
    match request(&node, method, &path, TIMEOUT) {
        Ok((200, body)) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Ok((_, body)) => {
            eprintln!("zdns resolver {what}: {}", error_text(&body));
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("zdns resolver {what}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `error` member of a JSON error body, else the body.
fn error_text(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

/// A readable form of the resolution JSON.
fn summary(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let mut out = format!("{}  ttl {}\n", v.get("name")?.as_str()?, v.get("ttl")?);
    let identity = v.get("identity")?;
    for key in ["identity", "node_id", "public_key"] {
        if let Some(value) = identity.get(key).and_then(|x| x.as_str()) {
            out.push_str(&format!("  {key}: {value}\n"));
        }
    }
    for e in v.get("endpoints")?.as_array()? {
        let port = e.get("port").and_then(|p| p.as_u64());
        out.push_str(&format!(
            "  endpoint {}{} priority {} weight {} ({})\n",
            e.get("host")?.as_str()?,
            port.map(|p| format!(" port {p}")).unwrap_or_default(),
            e.get("priority")?,
            e.get("weight")?,
            e.get("source")?.as_str()?
        ));
    }
    let protocols: Vec<&str> = v
        .get("protocols")?
        .as_array()?
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    if !protocols.is_empty() {
        out.push_str(&format!("  protocols: {}\n", protocols.join(", ")));
    }
    let set = v.get("flags")?;
    let flags: Vec<&str> = ["stale", "contested", "degraded", "tofu", "external"]
        .into_iter()
        .filter(|f| set.get(*f).and_then(|x| x.as_bool()) == Some(true))
        .collect();
    if !flags.is_empty() {
        out.push_str(&format!("  flags: {}\n", flags.join(" ")));
    }
    Some(out)
}

/// One HTTP/1.1 exchange with the node's API, waiting at most `timeout` for the answer:
/// (status, body).
pub fn request(
    node: &NodeArgs,
    method: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let addr = match node.http {
        Some(a) => a,
        None => {
            Overrides {
                config: node.config.clone(),
                ..Overrides::default()
            }
            .settings()?
            .http
        }
    };
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .map_err(|e| format!("cannot reach the node at {addr}: {e}"))?;
    let io = |e: std::io::Error| format!("talking to the node at {addr}: {e}");
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
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
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("malformed HTTP status line from {addr}"))?;
    Ok((status, body.to_owned()))
}
