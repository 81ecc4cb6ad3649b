//! `zdns zone sign`: sign a zone file with the keys of a keyring directory and write
//! the signed zone (NSEC or NSEC3, optionally ZONEMD and CDS/CDNSKEY).

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use lib_dns::Class;
use lib_dns::encoding::hex_decode;
use lib_dns::zone::{FsIncludes, Zone};
use zdns_dnssec::sign::{DEFAULT_JITTER, Denial, Nsec3Options, SignOptions, sign_zone};

use super::key::load_keyring;
use super::zone::{ZoneArgs, origin};

/// `zdns zone sign`.
#[derive(Args)]
pub struct SignArgs {
    /// The zone file and its origin.
    #[command(flatten)]
    pub zone: ZoneArgs,
    /// The keyring directory (BIND key files, as `zdns key generate` writes them).
    #[arg(long)]
    pub keys: PathBuf,
    /// Where to write the signed zone (written to a temporary file, synced, renamed).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Use an NSEC3 chain (RFC 5155; RFC 9276 defaults: no extra iterations, no salt)
    /// instead of NSEC.
    #[arg(long)]
    pub nsec3: bool,
    /// NSEC3 opt-out: insecure delegations get no NSEC3 record.
    #[arg(long, requires = "nsec3")]
    pub opt_out: bool,
    /// NSEC3 extra iterations (RFC 9276 advises 0).
    #[arg(long, default_value_t = 0, requires = "nsec3")]
    pub iterations: u16,
    /// NSEC3 salt in hex (RFC 9276 advises none).
    #[arg(long, requires = "nsec3")]
    pub salt: Option<String>,
    /// Add a ZONEMD record (RFC 8976, SIMPLE, SHA-384).
    #[arg(long)]
    pub zonemd: bool,
    /// Publish CDS and CDNSKEY records for the key-signing keys (RFC 7344).
    #[arg(long)]
    pub cds: bool,
    /// Signature validity in days.
    #[arg(long, default_value_t = 30)]
    pub validity_days: u32,
    /// Sign as of this time (seconds since 1970) instead of now.
    #[arg(long)]
    pub now: Option<u64>,
}

/// Runs `zdns zone sign`.
pub fn run(args: SignArgs) -> ExitCode {
    match sign(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Some(m)) => {
            eprintln!("zdns zone sign: {m}");
            ExitCode::FAILURE
        }
        Err(None) => ExitCode::FAILURE,
    }
}

fn sign(args: &SignArgs) -> Result<(), Option<String>> {
    let origin = origin(&args.zone)?;
    let path = &args.zone.file;
    let file =
        File::open(path).map_err(|e| Some(format!("cannot open {}: {e}", path.display())))?;
    let name = path.to_string_lossy();
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        &name,
        BufReader::with_capacity(1 << 16, file),
        &mut FsIncludes,
    );
    let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        for d in errors {
            eprintln!("{d}");
        }
        return Err(None);
    }
    let keys = load_keyring(&args.keys, &origin).map_err(Some)?;
    if keys.is_empty() {
        return Err(Some(format!(
            "no keys for {origin} in {}",
            args.keys.display()
        )));
    }
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let denial = if args.nsec3 {
        let mut salt = Vec::new();
        if let Some(hex) = &args.salt {
            hex_decode(hex.as_bytes(), &mut salt)
                .map_err(|e| Some(format!("bad --salt '{hex}': {e}")))?;
        }
        Denial::Nsec3(Nsec3Options {
            iterations: args.iterations,
            salt,
            opt_out: args.opt_out,
        })
    } else {
        Denial::Nsec
    };
    let mut opts = SignOptions::new(now);
    let validity = args.validity_days.saturating_mul(86_400);
    opts.expiration = (now as u32).wrapping_add(validity);
    opts.jitter = DEFAULT_JITTER.min(validity / 4);
    opts.denial = denial;
    opts.zonemd = args.zonemd;
    opts.cds = args.cds;
    let started = std::time::Instant::now();
    let records = sign_zone(&origin, loaded.zone.records().to_vec(), &keys, &opts)
        .map_err(|e| Some(e.to_string()))?;
    tracing::debug!(
        zone = %origin,
        records = records.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "zone signed"
    );
    write_atomically(&args.output, |out| {
        for r in &records {
            writeln!(out, "{r}")?;
        }
        Ok(())
    })
    .map_err(|e| Some(format!("cannot write {}: {e}", args.output.display())))
}

/// Writes through a temporary file beside `path`, synced, then renamed over it.
fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let mut out = BufWriter::with_capacity(1 << 16, File::create(&tmp)?);
    let written = body(&mut out)
        .and_then(|()| out.flush())
        .and_then(|()| out.get_ref().sync_all())
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| File::open(dir)?.sync_all());
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}
