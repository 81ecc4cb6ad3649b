//! A small bounded load generator for DNS over QUIC (RFC 9250), since dnsperf does not
//! speak it: C connections, each keeping Q queries in flight on their own streams, for
//! D seconds; prints queries per second and latency percentiles like dnsperf's summary.
//!
//! ```text
//! cargo run --release -p zdns-transport --example doq_load -- \
//!     127.0.0.1:8853 [connections=4] [in-flight=25] [seconds=10] [NAME TYPE]...
//! ```
//!
//! The certificate is not verified (a benchmark on loopback). Queries cycle through the
//! NAME TYPE pairs given (default `alice.sovereign A`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lib_dns::{Message, Name, Rtype};
use zdns_transport::tls::{Verify, quic_client_crypto};

/// What one connection's tasks measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
}

async fn one_query(conn: &quinn::Connection, framed: &[u8]) -> Result<(), String> {
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| e.to_string())?;
    send.write_all(framed).await.map_err(|e| e.to_string())?;
    send.finish().map_err(|e| e.to_string())?;
    let answer = recv.read_to_end(65537).await.map_err(|e| e.to_string())?;
    if answer.len() < 14 {
        return Err("short answer".to_owned());
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let server: SocketAddr = args
        .first()
        .expect("usage: doq_load ADDR [connections] [in-flight] [seconds] [NAME TYPE]...")
        .parse()
        .expect("ADDR is IP:PORT");
    let number = |i: usize, default: usize| {
        args.get(i)
            .map_or(default, |a| a.parse().expect("a number"))
    };
    let (connections, in_flight, seconds) = (number(1, 4), number(2, 25), number(3, 10));
    let mut questions: Vec<(Name, Rtype)> = args
        .get(4..)
        .unwrap_or_default()
        .chunks(2)
        .map(|pair| {
            let rtype = pair
                .get(1)
                .and_then(|t| Rtype::from_mnemonic(t.as_bytes()))
                .unwrap_or(Rtype::A);
            (Name::parse(&pair[0]).expect("a name"), rtype)
        })
        .collect();
    if questions.is_empty() {
        questions.push((Name::parse("alice.sovereign.").unwrap(), Rtype::A));
    }
    let framed: Arc<Vec<Vec<u8>>> = Arc::new(
        questions
            .iter()
            .map(|(name, rtype)| {
                let wire = Message::query(0, name.clone(), *rtype)
                    .to_wire(512)
                    .unwrap();
                let mut f = u16::try_from(wire.len()).unwrap().to_be_bytes().to_vec();
                f.extend_from_slice(&wire);
                f
            })
            .collect(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let crypto = quic_client_crypto(&Verify::Opportunistic).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        let mut endpoints = Vec::new();
        for _ in 0..connections {
            let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
            let mut config = quinn::ClientConfig::new(crypto.clone());
            let mut transport = quinn::TransportConfig::default();
            transport.max_idle_timeout(Some(Duration::from_secs(30).try_into().unwrap()));
            config.transport_config(Arc::new(transport));
            endpoint.set_default_client_config(config);
            let conn = endpoint
                .connect(server, "127.0.0.1")
                .unwrap()
                .await
                .unwrap();
            endpoints.push(endpoint);
            for k in 0..in_flight {
                let (conn, framed, stop) = (conn.clone(), Arc::clone(&framed), Arc::clone(&stop));
                tasks.push(tokio::spawn(async move {
                    let mut tally = Tally::default();
                    let mut i = k;
                    while !stop.load(Ordering::Relaxed) {
                        let query = &framed[i % framed.len()];
                        i += 1;
                        let started = Instant::now();
                        match one_query(&conn, query).await {
                            Ok(()) => tally.latencies_us.push(
                                u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX),
                            ),
                            Err(_) => tally.errors += 1,
                        }
                    }
                    tally
                }));
            }
        }
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(u64::try_from(seconds).unwrap())).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let tally = t.await.unwrap();
            all.extend(tally.latencies_us);
            errors += tally.errors;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let pct = |p: f64| {
            let i = ((all.len() as f64 * p).ceil() as usize).saturating_sub(1);
            f64::from(*all.get(i).unwrap_or(&0)) / 1000.0
        };
        println!("DoQ load: {connections} connection(s) x {in_flight} in flight, {seconds} s");
        println!("  Queries completed:    {}", all.len());
        println!("  Errors:               {errors}");
        println!("  Queries per second:   {:.0}", all.len() as f64 / elapsed);
        println!(
            "  Latency ms:           p50 {:.3}  p99 {:.3}  max {:.3}",
            pct(0.50),
            pct(0.99),
            pct(1.0)
        );
    });
}
