//! `zdns ct …`: manage the node's Certificate Transparency log, run a witness.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand};

/// CT log subcommands.
#[derive(Subcommand)]
pub enum CtCommand {
    /// The log's trusted roots.
    #[command(subcommand)]
    Roots(RootsCommand),
    /// Certificate revocation lists, for the API's `revoked` certificate status.
    #[command(subcommand)]
    Crl(CrlCommand),
    /// Print the log's verifier key (vkey), to configure witnesses with.
    Vkey(VkeyArgs),
    /// Run a C2SP tlog-witness: `POST http://LISTEN/witness/add-checkpoint`.
    Witness(WitnessArgs),
    /// Follow a static-ct-api log from its tiles, check every checkpoint is consistent
    /// with the last one seen, and print the entries for a domain or its subdomains.
    Watch(WatchArgs),
}

/// Arguments of `zdns ct watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The log's monitoring prefix, e.g. `http://127.0.0.1:8053/ct/`.
    pub log_url: String,
    /// A domain to watch, with its subdomains (repeatable).
    #[arg(long = "domain", required = true)]
    pub domains: Vec<String>,
    /// The log's vkey, to check checkpoint signatures with (`zdns ct vkey`).
    #[arg(long)]
    pub vkey: Option<String>,
    /// The first leaf index to scan.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Seconds between polls.
    #[arg(long, default_value_t = 10)]
    pub interval: u64,
    /// Poll once and exit.
    #[arg(long)]
    pub once: bool,
}

/// Arguments of `zdns ct vkey`.
#[derive(Args)]
pub struct VkeyArgs {
    /// The node's data directory (the log lives in its `ct/` subdirectory).
    #[arg(long, default_value = "zdns-data")]
    pub data_dir: PathBuf,
    /// The node's HTTP address, which is the log's origin.
    #[arg(long, default_value = "127.0.0.1:8053")]
    pub http: SocketAddr,
}

/// Arguments of `zdns ct witness`.
#[derive(Args)]
pub struct WitnessArgs {
    /// The cosigner name, a schema-less URL such as `witness.example/w1`.
    #[arg(long)]
    pub name: String,
    /// Where to listen for HTTP.
    #[arg(long)]
    pub listen: SocketAddr,
    /// Where the witness keeps its key (generated on first run) and state.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The vkey of a log to cosign for (repeat for more logs).
    #[arg(long = "log", required = true)]
    pub logs: Vec<String>,
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

/// `zdns ct crl …`.
#[derive(Subcommand)]
pub enum CrlCommand {
    /// Add a CA's certificate revocation list (PEM or DER): logged certificates it lists,
    /// and that CA issued, get the status `revoked` at `/api/v1/ct/certificates/…`. A
    /// running log picks it up within one sequencing period.
    Add(CrlAddArgs),
}

/// Arguments of `zdns ct crl add`.
#[derive(Args)]
pub struct CrlAddArgs {
    /// A CRL: PEM (one or more X509 CRL blocks) or DER.
    pub file: PathBuf,
    /// The node's data directory (the log lives in its `ct/` subdirectory).
    #[arg(long, default_value = "zdns-data")]
    pub data_dir: PathBuf,
}

/// Runs a `zdns ct` subcommand.
pub fn run(cmd: CtCommand) -> ExitCode {
    match cmd {
        CtCommand::Roots(RootsCommand::Add(args)) => roots_add(&args),
        CtCommand::Crl(CrlCommand::Add(args)) => crl_add(&args),
        CtCommand::Vkey(args) => vkey(&args),
        CtCommand::Witness(args) => witness(args),
        CtCommand::Watch(args) => watch(args),
    }
}

fn watch(args: WatchArgs) -> ExitCode {
    let verifier = match args
        .vkey
        .as_deref()
        .map(zdns_ct::witness::cosignature::log_verifier_from_vkey)
        .transpose()
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("zdns ct watch: {e}");
            return ExitCode::FAILURE;
        }
    };
    if verifier.is_none() {
        eprintln!("zdns ct watch: no --vkey: checkpoint signatures are not checked");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zdns ct watch: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let client = zdns_ct::client::Client::new(std::time::Duration::from_secs(30));
        let mut follower =
            zdns_ct::monitor::Follower::new(&args.log_url, client, verifier, args.from);
        loop {
            match follower.poll(&args.domains).await {
                Ok(round) => {
                    match round.consistent_with {
                        Some(old) => {
                            println!("checkpoint {} consistent with {old}", round.checkpoint.size)
                        }
                        None => println!(
                            "checkpoint {} verified against its tiles",
                            round.checkpoint.size
                        ),
                    }
                    for m in &round.matches {
                        println!(
                            "match {} leaf_index={} {} timestamp={} names={}",
                            m.domain,
                            m.leaf_index,
                            if m.precert {
                                "precertificate"
                            } else {
                                "certificate"
                            },
                            m.timestamp,
                            m.names.join(",")
                        );
                    }
                }
                Err(e) => {
                    eprintln!("zdns ct watch: {}: {e}", args.log_url);
                    // An inconsistent log is a finding, not a transient failure.
                    if args.once || matches!(e, zdns_ct::monitor::FollowError::Inconsistent(_)) {
                        return ExitCode::FAILURE;
                    }
                }
            }
            if args.once {
                return ExitCode::SUCCESS;
            }
            tokio::time::sleep(std::time::Duration::from_secs(args.interval)).await;
        }
    })
}

fn vkey(args: &VkeyArgs) -> ExitCode {
    match zdns_ct::log::public_key(&args.data_dir.join("ct")) {
        Ok(key) => {
            println!(
                "{}",
                zdns_ct::witness::cosignature::rfc6962_vkey(&args.http.to_string(), &key)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zdns ct vkey: {e}");
            ExitCode::FAILURE
        }
    }
}

fn witness(args: WitnessArgs) -> ExitCode {
    let config = zdns_ct::witness::WitnessConfig {
        name: args.name,
        data_dir: args.data_dir,
        logs: args.logs,
    };
    let witness = match zdns_ct::witness::Witness::open(&config) {
        Ok(w) => Arc::new(w),
        Err(e) => {
            eprintln!("zdns ct witness: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("zdns ct witness: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        println!("{}", witness.key().verifier().vkey());
        println!("listening on http://{addr}/witness/");
        let app = zdns_ct::witness::server::router(witness, "/witness/");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zdns ct witness: {}: {e}", args.listen);
            ExitCode::FAILURE
        }
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

fn crl_add(args: &CrlAddArgs) -> ExitCode {
    let data = match std::fs::read(&args.file) {
        Ok(data) => data,
        Err(e) => {
            eprintln!("zdns ct crl add: cannot read {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let dir = args.data_dir.join("ct");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("zdns ct crl add: cannot create {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    match zdns_ct::log::add_crls_file(&dir, &data) {
        Ok(added) => {
            println!(
                "{added} new CRL(s) added to {}",
                dir.join(zdns_ct::log::CRLS_FILE).display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("zdns ct crl add: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}
