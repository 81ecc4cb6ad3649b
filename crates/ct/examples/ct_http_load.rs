//! The HTTP load generator: runs a log (filesystem backend, fsync on) behind its axum
//! routes on a loopback port, optionally pre-fills it with synthetic entries, then has
//! C concurrent clients submit real certificates with `POST /ct/v1/add-chain` for D
//! seconds and reports the accepted rate, add-chain latency and sequencing time
//! percentiles, with the machine's load average.
//!
//! `cargo run --release -p zdns-ct --example ct_http_load -- \
//!     [--clients C] [--seconds D] [--period-ms P] [--prefill M] [--dir DIR]`
//!
//! Client and server share the machine's cores, so the figures are for both together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use zdns_ct::client::Client;
use zdns_ct::log::{Log, LogConfig};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// CPU time (user + system) this process has used, from `/proc/self/stat`.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th,
    // stime the 13th, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// CPU time of this process's threads whose name starts with `prefix`.
fn thread_cpu_time(prefix: &str) -> Duration {
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let name = head.split_once('(').map(|(_, n)| n).unwrap_or("");
        if !name.starts_with(prefix) {
            continue;
        }
        let f: Vec<u64> = rest
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        ticks += f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    }
    Duration::from_millis(ticks * 10)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

fn main() {
    // The load generator's tasks run on threads of their own ("load-client"), so that
    // the server's share of the CPU can be told apart.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load-client")
        .enable_all()
        .build()
        .unwrap()
        .block_on(run());
}

async fn run() {
    let clients = arg("--clients", 4000) as usize;
    let seconds = arg("--seconds", 20);
    let period = arg("--period-ms", 1000);
    let prefill = arg("--prefill", 0);
    let certs = arg("--certs", 150_000) as usize;
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .iter()
        .position(|a| a == "--dir")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("zdns-ct-http-load-{}", std::process::id()))
        });

    // Real certificates, issued now (fresh: full priority in the pool).
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Load Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let root = p.self_signed(&root_key).unwrap();
    let issuer = rcgen::Issuer::new(p, root_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let stamp = std::process::id();
    let t = Instant::now();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..certs)
            .map(|i| {
                let mut c =
                    CertificateParams::new(vec![format!("l{i}-{stamp}.load.example")]).unwrap();
                c.not_before = now;
                let der = c.signed_by(&leaf_key, &issuer).unwrap().der().to_vec();
                format!("{{\"chain\":[\"{}\"]}}", STANDARD.encode(der)).into_bytes()
            })
            .collect(),
    );
    eprintln!("{certs} certificates generated in {:.1?}", t.elapsed());

    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("roots.pem"), root.pem()).unwrap();
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(period);
    config.pool_size = 200_000;
    let log = Arc::new(Log::open_local(config).await.unwrap());
    let start_size = log.head().sth.size;
    if prefill > start_size {
        let t = Instant::now();
        let mut at = start_size;
        while at < prefill {
            let step = (prefill - at).min(1_000_000);
            log.prefill_synthetic(at, step).await.unwrap();
            at += step;
            eprintln!("prefilled to {} ({:.0?})", log.head().sth.size, t.elapsed());
        }
    }
    let base_size = log.head().sth.size;

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ct-server")
        .enable_all()
        .build()
        .unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = zdns_ct::http::router(Arc::clone(&log));
    server.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        axum::serve(listener, app).await.unwrap();
    });
    let url = format!("http://{addr}/ct/v1/add-chain");

    let load_before = loadavg();
    let next = Arc::new(AtomicUsize::new(0));
    let warmup = Duration::from_secs(3);
    let start = Instant::now();
    let window_start = start + warmup;
    let stop = window_start + Duration::from_secs(seconds);
    let commits_before = log.commit_times().len();
    let cpu_at_window = {
        let until = window_start;
        tokio::spawn(async move {
            tokio::time::sleep_until(until.into()).await;
            (cpu_time(), thread_cpu_time("load-client"))
        })
    };
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, url, bodies, next) = (
            Client::new(Duration::from_secs(30)),
            url.clone(),
            Arc::clone(&bodies),
            Arc::clone(&next),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut statuses = [0u64; 3]; // 200, 503, other
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let now = Instant::now();
                if now >= stop || i >= bodies.len() {
                    break;
                }
                let r = client
                    .post(&url, "application/json", bodies[i].clone())
                    .await;
                let took = now.elapsed();
                let counted = now >= window_start && Instant::now() <= stop;
                match r {
                    Ok(r) if r.status == 200 => {
                        if counted {
                            statuses[0] += 1;
                            lat.push(took);
                        }
                    }
                    Ok(r) if r.status == 503 => statuses[1] += u64::from(counted),
                    _ => statuses[2] += u64::from(counted),
                }
            }
            (lat, statuses)
        }));
    }
    let mut latencies = Vec::new();
    let mut statuses = [0u64; 3];
    for t in tasks {
        let (l, s) = t.await.unwrap();
        latencies.extend(l);
        for (a, b) in statuses.iter_mut().zip(s) {
            *a += b;
        }
    }
    let load_after = loadavg();
    let (cpu_start, client_start) = cpu_at_window.await.unwrap();
    let cpu = cpu_time().saturating_sub(cpu_start);
    let client_cpu = thread_cpu_time("load-client").saturating_sub(client_start);
    let server_cpu = cpu.saturating_sub(client_cpu);
    latencies.sort();
    let mut commits: Vec<Duration> = log
        .commit_times()
        .into_iter()
        .skip(commits_before)
        .collect();
    commits.sort();
    let window = Duration::from_secs(seconds).as_secs_f64();
    println!(
        "clients {clients}, period {period} ms, tree {base_size} -> {}, window {seconds} s",
        log.head().sth.size
    );
    println!(
        "accepted {:.0}/s ({} in window; 503: {}, other: {})",
        statuses[0] as f64 / window,
        statuses[0],
        statuses[1],
        statuses[2]
    );
    println!(
        "add-chain latency p50 {:.0?} p99 {:.0?} max {:.0?}",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    println!(
        "sequencing per period ({} periods) p50 {:.1?} p99 {:.1?} max {:.1?}",
        commits.len(),
        pct(&commits, 0.5),
        pct(&commits, 0.99),
        commits.last().copied().unwrap_or_default()
    );
    println!(
        "CPU (client and server) {:.1?} in the window: {:.0} us per accepted submission, {:.0}/s on 2 idle cores",
        cpu,
        cpu.as_micros() as f64 / statuses[0].max(1) as f64,
        2e6 / (cpu.as_micros() as f64 / statuses[0].max(1) as f64)
    );
    println!(
        "  of which the server (everything but the load-client threads) {:.1?}: {:.0} us per accepted submission, {:.0}/s on 2 idle cores",
        server_cpu,
        server_cpu.as_micros() as f64 / statuses[0].max(1) as f64,
        2e6 / (server_cpu.as_micros() as f64 / statuses[0].max(1) as f64)
    );
    println!("load average before {load_before}, after {load_after}");
    drop(log);
    server.shutdown_background();
}
