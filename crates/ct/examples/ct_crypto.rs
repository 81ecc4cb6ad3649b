//! The CPU cost of the log's per-submission cryptography: an SCT signature (this crate's
//! `LogKey::sign` against the `p256` crate's `SigningKey`, same RFC 6979 signatures) and
//! the validation of a one-certificate chain (ring's ECDSA P-256 verification), in
//! microseconds of wall and of CPU time (`/proc/thread-self/schedstat`, so that a loaded
//! machine's figures stay comparable), with the load average.
//!
//! `cargo run --release -p zdns-ct --example ct_crypto`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Instant;

use p256::ecdsa::signature::Signer;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use zdns_ct::chain::{ChainKind, Roots, validate};
use zdns_ct::keys::LogKey;

/// Nanoseconds this thread has run.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn time<F: FnMut()>(name: &str, n: u32, mut f: F) {
    for _ in 0..n / 10 {
        f();
    }
    let cpu = thread_cpu_ns();
    let wall = Instant::now();
    for _ in 0..n {
        f();
    }
    let cpu = thread_cpu_ns().saturating_sub(cpu);
    println!(
        "{name:36} {:8.2} us wall {:8.2} us CPU",
        wall.elapsed().as_secs_f64() * 1e6 / f64::from(n),
        cpu as f64 / 1e3 / f64::from(n)
    );
}

fn main() {
    let msg = vec![7u8; 400];
    let p256_key = p256::ecdsa::SigningKey::from_bytes(&[0x11u8; 32].into()).unwrap();
    time("p256 SigningKey::sign (400 bytes)", 2000, || {
        let s: p256::ecdsa::Signature = p256_key.sign(&msg);
        std::hint::black_box(s);
    });
    let key = LogKey::from_scalar(&[0x11u8; 32]).unwrap();
    time("LogKey::sign (400 bytes)", 2000, || {
        std::hint::black_box(key.sign(&msg));
    });

    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Root");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let root = params.self_signed(&root_key).unwrap();
    let issuer = rcgen::Issuer::new(params, root_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["a.example".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap()
        .der()
        .to_vec();
    let roots = Roots::from_pem(&root.pem()).unwrap();
    let chain = vec![leaf];
    time("validate a leaf issued by a root", 2000, || {
        std::hint::black_box(validate(&chain, &roots, ChainKind::Certificate).unwrap());
    });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average {}", load.trim());
}
