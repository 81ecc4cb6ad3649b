//! `zdns key generate|import|ds|ds-seen|roll`: the zone keyring, a directory of BIND-format key files
//! (`K<zone>+<alg>+<tag>.key` and `.private`, the private file mode 0600).
//!
//! Private keys are written and read here and never printed or logged; what is printed
//! is the public part: file names and DS records for the parent.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use lib_dns::Name;
use lib_dns::rdata::RData;
use zdns_dnssec::bind;
use zdns_dnssec::ds::{DIGEST_SHA256, DIGEST_SHA384, ds};
use zdns_dnssec::key::{FLAGS_KSK, FLAGS_ZSK, SignAlgorithm, SigningKey};
use zdns_dnssec::rollover::{RollKind, Schedule};

use crate::node::zonectl::signer::{key_id, state_path, write_state};

/// Keyring subcommands.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Generate a key for a zone into the keyring directory and print its DS records
    /// (SHA-256 and SHA-384) for the parent zone.
    Generate(GenerateArgs),
    /// Copy BIND key files (`K*.key` with their `K*.private`, as `dnssec-keygen` writes
    /// them) into the keyring, after checking that each pair is one valid key.
    Import(ImportArgs),
    /// Print the DS records of a zone's key-signing keys (all keys if none has the SEP
    /// flag).
    Ds(DsArgs),
    /// Tell a zone's rollover schedule that the parent's DS RRset now names the new
    /// KSK (the CDS the zone publishes); then `zdns reload`.
    DsSeen(DsArgs),
    /// Start an algorithm rollover: generate a KSK and a ZSK of the new algorithm into
    /// the keyring and schedule them (docs/dnssec.md); then `zdns reload`.
    Roll(RollArgs),
}

/// `zdns key roll`.
#[derive(Args)]
pub struct RollArgs {
    /// The zone.
    #[arg(long)]
    pub zone: String,
    /// The new algorithm (as for `zdns key generate`).
    #[arg(long)]
    pub alg: String,
    /// The keyring directory, whose zone is signed online with a rollover policy.
    #[arg(long)]
    pub dir: PathBuf,
}

/// `zdns key generate`.
#[derive(Args)]
pub struct GenerateArgs {
    /// The zone the key signs.
    #[arg(long)]
    pub zone: String,
    /// The algorithm: ed25519, ecdsap256, ecdsap384, rsasha256 (2048 bits) or mldsa44
    /// (post-quantum ML-DSA-44 as PRIVATEOID, algorithm 254; see docs/dnssec.md).
    #[arg(long, default_value = "ecdsap256")]
    pub alg: String,
    /// Make a key-signing key (DNSKEY flags 257, SEP) instead of a zone-signing key.
    #[arg(long)]
    pub ksk: bool,
    /// The keyring directory (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
}

/// `zdns key import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The keyring directory (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// BIND public key files (`K*.key`); each one's `.private` must sit beside it.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `zdns key ds`.
#[derive(Args)]
pub struct DsArgs {
    /// The zone.
    #[arg(long)]
    pub zone: String,
    /// The keyring directory.
    #[arg(long)]
    pub dir: PathBuf,
}

/// Runs a key subcommand.
pub fn run(cmd: KeyCommand) -> ExitCode {
    let result = match cmd {
        KeyCommand::Generate(a) => generate(&a),
        KeyCommand::Import(a) => import(&a),
        KeyCommand::Ds(a) => print_ds(&a),
        KeyCommand::DsSeen(a) => ds_seen(&a),
        KeyCommand::Roll(a) => roll(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("zdns key: {m}");
            ExitCode::FAILURE
        }
    }
}

fn zone_name(text: &str) -> Result<Name, String> {
    Name::parse(text).map_err(|e| format!("bad zone name '{text}': {e}"))
}

/// The zone's rollover schedule in the keyring `dir`, and where it is kept.
fn schedule(dir: &Path, zone: &Name) -> Result<(Schedule, PathBuf), String> {
    let path = state_path(dir, zone);
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e} (is {zone} signed online with a key lifetime?)",
            path.display()
        )
    })?;
    let s = Schedule::from_text(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((s, path))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ds_seen(a: &DsArgs) -> Result<(), String> {
    let zone = zone_name(&a.zone)?;
    let (mut s, path) = schedule(&a.dir, &zone)?;
    let before = s.clone();
    s.ds_seen(now());
    if s == before {
        return Err(format!(
            "{zone}: no rollover is waiting for the parent's DS"
        ));
    }
    write_state(&path, &s.to_text())?;
    println!("; {zone}: DS change recorded; run `zdns reload`");
    Ok(())
}

fn roll(a: &RollArgs) -> Result<(), String> {
    let zone = zone_name(&a.zone)?;
    let alg =
        SignAlgorithm::from_name(&a.alg).ok_or_else(|| format!("unknown algorithm '{}'", a.alg))?;
    let (mut s, path) = schedule(&a.dir, &zone)?;
    if s.roll.is_some() {
        return Err(format!("{zone}: a key rollover is already under way"));
    }
    let ksk = SigningKey::generate(alg, FLAGS_KSK).map_err(|e| e.to_string())?;
    let zsk = SigningKey::generate(alg, FLAGS_ZSK).map_err(|e| e.to_string())?;
    s.start(RollKind::Algorithm, vec![key_id(&ksk), key_id(&zsk)], now())
        .map_err(|e| e.to_string())?;
    for key in [&ksk, &zsk] {
        println!("; {}", store(&a.dir, &zone, key)?.display());
    }
    write_state(&path, &s.to_text())?;
    println!(
        "; {zone}: algorithm rollover to {} started; run `zdns reload`",
        alg.mnemonic()
    );
    print_key_ds(&zone, &ksk)
}

fn generate(a: &GenerateArgs) -> Result<(), String> {
    let zone = zone_name(&a.zone)?;
    let alg = SignAlgorithm::from_name(&a.alg).ok_or_else(|| {
        format!(
            "unknown algorithm '{}': use ed25519, ecdsap256, ecdsap384, rsasha256 or mldsa44",
            a.alg
        )
    })?;
    let flags = if a.ksk { FLAGS_KSK } else { FLAGS_ZSK };
    let key = SigningKey::generate(alg, flags).map_err(|e| e.to_string())?;
    let stem = store(&a.dir, &zone, &key)?;
    println!("; {}", stem.display());
    print_key_ds(&zone, &key)
}

fn import(a: &ImportArgs) -> Result<(), String> {
    for public in &a.files {
        let private = public.with_extension("private");
        let read = |p: &Path| {
            fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let (zone, key) = bind::load(&read(public)?, &read(&private)?)
            .map_err(|e| format!("{}: {e}", public.display()))?;
        let stem = store(&a.dir, &zone, &key)?;
        println!("; {} -> {}", public.display(), stem.display());
        print_key_ds(&zone, &key)?;
    }
    Ok(())
}

fn print_ds(a: &DsArgs) -> Result<(), String> {
    let zone = zone_name(&a.zone)?;
    let keys = load_keyring(&a.dir, &zone)?;
    if keys.is_empty() {
        return Err(format!("no keys for {zone} in {}", a.dir.display()));
    }
    let any_ksk = keys.iter().any(SigningKey::is_ksk);
    for key in keys.iter().filter(|k| k.is_ksk() || !any_ksk) {
        print_key_ds(&zone, key)?;
    }
    Ok(())
}

fn print_key_ds(zone: &Name, key: &SigningKey) -> Result<(), String> {
    for digest in [DIGEST_SHA256, DIGEST_SHA384] {
        let d = ds(zone, &key.dnskey(), digest).map_err(|e| e.to_string())?;
        println!("{zone}\tIN\tDS\t{}", RData::Ds(d));
    }
    Ok(())
}

/// Writes the key's two files into `dir` (the private one 0600, created new, synced,
/// then the directory synced); returns the path stem.
pub fn store(dir: &Path, zone: &Name, key: &SigningKey) -> Result<PathBuf, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let stem = bind::file_stem(zone, key);
    // Not Path::with_extension: the stem itself holds dots (`Kexample.com.+013+…`).
    let file = |ext: &str| dir.join(format!("{stem}.{ext}"));
    let write = |path: PathBuf, text: String, mode: u32| -> Result<(), String> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(file("private"), bind::write_private(key), 0o600)?;
    write(file("key"), bind::write_public(zone, key), 0o644)?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", dir.display()))?;
    Ok(dir.join(stem))
}

/// Every key of `zone` in the keyring directory (files whose names start with
/// `K<zone>+`), each pair checked.
pub fn load_keyring(dir: &Path, zone: &Name) -> Result<Vec<SigningKey>, String> {
    let prefix = format!("k{}+", zone.to_lowercase());
    let entries =
        fs::read_dir(dir).map_err(|e| format!("cannot read keyring {}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "key")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.to_ascii_lowercase().starts_with(&prefix))
        })
        .collect();
    paths.sort();
    let mut keys = Vec::with_capacity(paths.len());
    for public in paths {
        let private = public.with_extension("private");
        let read = |p: &Path| {
            fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let (owner, key) = bind::load(&read(&public)?, &read(&private)?)
            .map_err(|e| format!("{}: {e}", public.display()))?;
        if owner != *zone {
            return Err(format!(
                "{}: key is for {owner}, not {zone}",
                public.display()
            ));
        }
        keys.push(key);
    }
    Ok(keys)
}
