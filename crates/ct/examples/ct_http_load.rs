//! The HTTP load generator: runs a log (filesystem backend, fsync on) behind its axum
//! routes on a loopback port and, for each tree size S of `--sizes` in turn, pre-fills
//! the log with synthetic entries up to S, then has C concurrent clients submit fresh
//! real certificates with `POST /ct/v1/add-chain` for D seconds. Per size it reports the
//! accepted rate, add-chain latency and sequencing time percentiles, CPU per
//! submission and the machine's load average, then a table of all sizes against the
//! issue's targets (10,000 accepted/s, sequencing p99 at most 100 ms, add-chain p99 at
//! most the period plus 150 ms).
//!
//! `cargo run --release -p zdns-ct --example ct_http_load -- [--sizes 0,1000000,10000000]
//!     [--clients C] [--seconds D] [--period-ms P] [--batch B] [--certs N] [--dir DIR]`
//!
//! `--batch B` sequences as soon as B submissions are pending (the log's
//! `batch_size`; 0: only every period). Each size's line is followed by the p50 / p99
//! of each step of a period's commit.
//!
//! `--dir` keeps the log: a later run with the same directory starts from its size.
//! Client and server share the machine's cores, so the figures are for both together.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use zdns_ct::client::Client;
use zdns_ct::log::{CommitTiming, DEFAULT_BATCH_SIZE, Log, LogConfig};

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

/// What one measurement window gave.
struct Row {
    start_size: u64,
    end_size: u64,
    accepted_per_s: f64,
    accepted: u64,
    busy: u64,
    other: u64,
    latency: [Duration; 3],
    periods: usize,
    sequencing: [Duration; 3],
    steps: String,
    cpu_per_sub: f64,
    server_cpu_per_sub: f64,
    load_before: String,
    load_after: String,
}

/// The settings of every window.
struct Load {
    clients: usize,
    seconds: u64,
    url: String,
}

/// `certs` add-chain bodies of fresh certificates, named uniquely for this process and
/// `round`.
fn bodies(
    issuer: &rcgen::Issuer<'static, KeyPair>,
    leaf_key: &KeyPair,
    round: usize,
    certs: usize,
) -> Arc<Vec<Vec<u8>>> {
    let now = time::OffsetDateTime::now_utc();
    let stamp = std::process::id();
    let t = Instant::now();
    let bodies: Vec<Vec<u8>> = (0..certs)
        .map(|i| {
            let mut c =
                CertificateParams::new(vec![format!("l{i}-{round}-{stamp}.load.example")]).unwrap();
            c.not_before = now;
            let der = c.signed_by(leaf_key, issuer).unwrap().der().to_vec();
            format!("{{\"chain\":[\"{}\"]}}", STANDARD.encode(der)).into_bytes()
        })
        .collect();
    eprintln!("{certs} certificates generated in {:.1?}", t.elapsed());
    Arc::new(bodies)
}

async fn run() {
    let clients = arg("--clients", 4000) as usize;
    let seconds = arg("--seconds", 20);
    let period = arg("--period-ms", 1000);
    let certs = arg("--certs", 150_000) as usize;
    let batch = arg("--batch", DEFAULT_BATCH_SIZE as u64) as usize;
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let sizes: Vec<u64> = value("--sizes")
        .map(|v| {
            v.split(',')
                .map(|s| {
                    s.trim().parse().unwrap_or_else(|_| {
                        eprintln!("--sizes: `{s}` is not a number of entries (e.g. 0,1000000)");
                        std::process::exit(2)
                    })
                })
                .collect()
        })
        .unwrap_or_else(|| vec![0]);
    let dir = value("--dir")
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

    std::fs::create_dir_all(&dir).unwrap();
    // Appended, so that a kept log's earlier roots stay trusted.
    zdns_ct::log::add_roots_file(&dir, &root.pem()).unwrap();
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(period);
    config.pool_size = 200_000;
    config.batch_size = batch;
    let log = Arc::new(Log::open_local(config).await.unwrap());

    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ct-server")
        .enable_all()
        .build()
        .unwrap();
    // A listen backlog for all the clients connecting at once (the kernel caps it at
    // net.core.somaxconn): with std's 128, the kernel drops most of their SYNs and those
    // clients sit out seconds of the window waiting to retry.
    let listener = {
        let _server = server.enter();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        socket
            .listen(u32::try_from(clients).unwrap_or(u32::MAX))
            .unwrap()
    };
    let addr = listener.local_addr().unwrap();
    let app = zdns_ct::http::router(Arc::clone(&log));
    server.spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let load = Load {
        clients,
        seconds,
        url: format!("http://{addr}/ct/v1/add-chain"),
    };

    let mut rows = Vec::new();
    for (round, &size) in sizes.iter().enumerate() {
        let t = Instant::now();
        let mut at = log.head().sth.size;
        while at < size {
            let step = (size - at).min(1_000_000);
            log.prefill_synthetic(at, step).await.unwrap();
            at += step;
            eprintln!("prefilled to {} ({:.1?})", log.head().sth.size, t.elapsed());
        }
        let bodies = bodies(&issuer, &leaf_key, round, certs);
        let row = window(&log, &load, bodies).await;
        println!(
            "tree {} -> {}: accepted {:.0}/s ({} in {seconds} s; 503: {}, other: {}); \
             add-chain p50 {} ms p99 {} ms max {} ms; sequencing ({} periods) p50 {:.1?} \
             p99 {:.1?} max {:.1?}; CPU per submission {:.0} us ({:.0} us server); load {} -> {}",
            row.start_size,
            row.end_size,
            row.accepted_per_s,
            row.accepted,
            row.busy,
            row.other,
            row.latency[0].as_millis(),
            row.latency[1].as_millis(),
            row.latency[2].as_millis(),
            row.periods,
            row.sequencing[0],
            row.sequencing[1],
            row.sequencing[2],
            row.cpu_per_sub,
            row.server_cpu_per_sub,
            row.load_before,
            row.load_after,
        );
        println!("  {}", row.steps);
        rows.push(row);
    }

    let latency_target = Duration::from_millis(period + 150);
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    println!(
        "clients {clients}, period {period} ms, batch {batch}, window {seconds} s; targets: 10,000/s, \
         sequencing p99 <= 100 ms, add-chain p99 <= {latency_target:?}"
    );
    println!(
        "| tree size at start | accepted/s | add-chain p50 / p99 | sequencing p50 / p99 | \
         CPU per submission: all / server | load average |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.0} ({}) | {} ms / {} ms ({}) | {:.1?} / {:.1?} ({}) | {:.0} us / {:.0} us | {} -> {} |",
            r.start_size,
            r.accepted_per_s,
            mark(r.accepted_per_s >= 10_000.0),
            r.latency[0].as_millis(),
            r.latency[1].as_millis(),
            mark(r.latency[1] <= latency_target),
            r.sequencing[0],
            r.sequencing[1],
            mark(r.sequencing[1] <= Duration::from_millis(100)),
            r.cpu_per_sub,
            r.server_cpu_per_sub,
            r.load_before,
            r.load_after,
        );
    }
    drop(log);
    server.shutdown_background();
}

/// The p50 / p99 of each step of the commits, and of the batch sizes.
fn steps(timings: &[CommitTiming]) -> String {
    let step = |name: &str, f: &dyn Fn(&CommitTiming) -> Duration| {
        let mut d: Vec<Duration> = timings.iter().map(f).collect();
        d.sort();
        format!("{name} {:.1?} / {:.1?}", pct(&d, 0.5), pct(&d, 0.99))
    };
    let mut entries: Vec<usize> = timings.iter().map(|t| t.entries).collect();
    entries.sort();
    let at = |p: f64| {
        entries
            .get(((entries.len() as f64 * p) as usize).min(entries.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    format!(
        "commit steps p50 / p99: {}, {}, {}, {}, {}; entries per batch {} / {}",
        step("sequence", &|t| t.sequence),
        step("staging", &|t| t.staging),
        step("lock", &|t| t.lock),
        step("tiles", &|t| t.tiles),
        step("publish", &|t| t.publish),
        at(0.5),
        at(0.99),
    )
}

/// One measurement: `load.clients` clients submit `bodies` for a 3 s warm-up and then
/// `load.seconds`, counting what happens in the window.
async fn window(log: &Arc<Log>, load: &Load, bodies: Arc<Vec<Vec<u8>>>) -> Row {
    let start_size = log.head().sth.size;
    let load_before = loadavg();
    let next = Arc::new(AtomicUsize::new(0));
    let warmup = Duration::from_secs(3);
    let start = Instant::now();
    let window_start = start + warmup;
    let stop = window_start + Duration::from_secs(load.seconds);
    let commits_before = log.commit_times().len();
    let cpu_at_window = {
        let until = window_start;
        tokio::spawn(async move {
            tokio::time::sleep_until(until.into()).await;
            (cpu_time(), thread_cpu_time("load-client"))
        })
    };
    let mut tasks = Vec::with_capacity(load.clients);
    for _ in 0..load.clients {
        let (client, url, bodies, next) = (
            Client::new(Duration::from_secs(30)),
            load.url.clone(),
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
    if next.load(Ordering::Relaxed) >= bodies.len() && Instant::now() < stop {
        eprintln!(
            "warning: the {} certificates ran out before the window ended, so the rate is \
             understated; raise --certs",
            bodies.len()
        );
    }
    let (cpu_start, client_start) = cpu_at_window.await.unwrap();
    let cpu = cpu_time().saturating_sub(cpu_start);
    let client_cpu = thread_cpu_time("load-client").saturating_sub(client_start);
    let server_cpu = cpu.saturating_sub(client_cpu);
    latencies.sort();
    let timings: Vec<CommitTiming> = log
        .commit_timings()
        .into_iter()
        .skip(commits_before)
        .collect();
    let mut commits: Vec<Duration> = timings.iter().map(|t| t.total).collect();
    commits.sort();
    let accepted = statuses[0];
    let per_sub = |d: Duration| d.as_micros() as f64 / accepted.max(1) as f64;
    Row {
        start_size,
        end_size: log.head().sth.size,
        accepted_per_s: accepted as f64 / load.seconds.max(1) as f64,
        accepted,
        busy: statuses[1],
        other: statuses[2],
        latency: [
            pct(&latencies, 0.5),
            pct(&latencies, 0.99),
            latencies.last().copied().unwrap_or_default(),
        ],
        periods: commits.len(),
        steps: steps(&timings),
        sequencing: [
            pct(&commits, 0.5),
            pct(&commits, 0.99),
            commits.last().copied().unwrap_or_default(),
        ],
        cpu_per_sub: per_sub(cpu),
        server_cpu_per_sub: per_sub(server_cpu),
        load_before,
        load_after,
    }
}
