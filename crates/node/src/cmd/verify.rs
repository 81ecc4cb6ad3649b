//! `zdns zone verify`: check a signed zone file as `dnssec-verify` does (every RRSIG
//! against the apex DNSKEYs and within its validity period, every authoritative RRset
//! signed by every algorithm, the NSEC/NSEC3 chain complete, ZONEMD if present).

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use lib_dns::Class;
use lib_dns::zone::{FsIncludes, Zone};
use zdns_dnssec::check_zone;

use super::zone::{ZoneArgs, origin};

/// `zdns zone verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The signed zone file and its origin.
    #[command(flatten)]
    pub zone: ZoneArgs,
    /// Check as of this time (seconds since 1970) instead of now.
    #[arg(long)]
    pub now: Option<u64>,
}

/// Runs `zdns zone verify`: exit 0 and a summary on stdout if the zone is correctly
/// signed, else one line per problem on stderr and exit 1.
pub fn run(args: VerifyArgs) -> ExitCode {
    let origin = match origin(&args.zone) {
        Ok(o) => o,
        Err(m) => {
            if let Some(m) = m {
                eprintln!("zdns zone verify: {m}");
            }
            return ExitCode::FAILURE;
        }
    };
    let path = &args.zone.file;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("zdns zone verify: cannot open {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let name = path.to_string_lossy();
    let loaded = Zone::read(
        origin.clone(),
        Class::IN,
        &name,
        BufReader::with_capacity(1 << 16, file),
        &mut FsIncludes,
    );
    if loaded.has_errors() {
        for d in loaded.diagnostics.iter().filter(|d| d.is_error()) {
            eprintln!("{d}");
        }
        return ExitCode::FAILURE;
    }
    let now = args.now.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    match check_zone(&origin, loaded.zone.records().to_vec(), now as u32) {
        Ok(s) => {
            println!(
                "{origin}: verified, {} signatures over {} RRsets, {}",
                s.signatures,
                s.rrsets,
                if s.nsec3 { "NSEC3" } else { "NSEC" }
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("{name}: {p}");
            }
            ExitCode::FAILURE
        }
    }
}
