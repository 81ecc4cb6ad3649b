//! A load generator for the log without HTTP: opens a log on the filesystem backend
//! (fsync on) in a temporary directory, submits N generated certificates concurrently,
//! and reports the accepted rate and the latency percentiles.
//!
//! `cargo run --release -p zdns-ct --example ct_load -- [N] [period_ms]`; with
//! `CT_LOAD_VALIDATE_ONLY=1` it first times chain validation alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use zdns_ct::chain::ChainKind;
use zdns_ct::log::{Log, LogConfig};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let period: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);

    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Load Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let root = p.self_signed(&root_key).unwrap();
    let issuer = rcgen::Issuer::new(p, root_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaves: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            CertificateParams::new(vec![format!("l{i}.example")])
                .unwrap()
                .signed_by(&leaf_key, &issuer)
                .unwrap()
                .der()
                .to_vec()
        })
        .collect();

    let dir = std::env::temp_dir().join(format!("zdns-ct-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("roots.pem"), root.pem()).unwrap();
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(period);
    config.pool_size = n.max(1);
    let log = Arc::new(Log::open_local(config).await.unwrap());

    if std::env::var_os("CT_LOAD_VALIDATE_ONLY").is_some() {
        let roots = log.roots();
        let t = Instant::now();
        for leaf in &leaves {
            let v = zdns_ct::chain::validate(
                std::slice::from_ref(leaf),
                &roots,
                ChainKind::Certificate,
            )
            .unwrap();
            v.entry().unwrap();
        }
        println!("validated {n} in {:.2?}", t.elapsed());
    }
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for leaf in leaves {
        let log = Arc::clone(&log);
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            log.add_chain(&[leaf], ChainKind::Certificate)
                .await
                .map(|_| t.elapsed())
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for t in tasks {
        if let Ok(lat) = t.await.unwrap() {
            latencies.push(lat);
        }
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{} accepted of {n} in {:.2?}: {:.0}/s; latency p50 {:.0?} p99 {:.0?}; tree size {}",
        latencies.len(),
        elapsed,
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        log.head().sth.size
    );
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}
