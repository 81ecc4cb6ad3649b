//! The CT log survives SIGKILL: the real `zdns serve` takes add-chain submissions from
//! several clients at once while it is killed at random points (a bounded number of
//! times) and restarted. Afterwards every entry that received an SCT is in the log at
//! its SCT's `leaf_index` with the leaf hash the SCT implies (and included in the final
//! tree), and every checkpoint observed along the way is consistent with the next.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::Value;
use zdns_ct::checkpoint::rfc6962::SignedTreeHead;
use zdns_ct::entry::{SignedEntry, TimestampedEntry};
use zdns_ct::keys::{DigitallySigned, LogPublicKey};
use zdns_ct::merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use zdns_ct::sct::Sct;

const ZDNS: &str = env!("CARGO_BIN_EXE_zdns");
/// How many times the node is killed.
const KILLS: usize = 5;
/// How many distinct certificates are submitted.
const CERTS: usize = 800;
/// Concurrent submitting clients.
const CLIENTS: usize = 40;

fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// One HTTP/1.1 exchange with `Connection: close`; the status and body.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad response {out:?}")))?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = http(addr, "GET", path, "").unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

struct Node {
    child: Option<Child>,
    conf: std::path::PathBuf,
    dir: std::path::PathBuf,
    http: SocketAddr,
}

impl Node {
    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .unwrap();
        let child = Command::new(ZDNS)
            .args(["serve", "--config"])
            .arg(&self.conf)
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !matches!(http(self.http, "GET", "/ct/checkpoint", ""), Ok((200, _))) {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("zdns serve exited with {status}:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "not ready:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix).
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small deterministic generator for the kill points (the seed is printed).
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Crash Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

fn sct_from_json(v: &Value) -> Sct {
    let b64 = |k: &str| STANDARD.decode(v[k].as_str().unwrap()).unwrap();
    Sct {
        log_id: b64("id").try_into().unwrap(),
        timestamp: v["timestamp"].as_u64().unwrap(),
        extensions: b64("extensions"),
        signature: DigitallySigned::from_bytes(&b64("signature")).unwrap(),
    }
}

fn hash_of(v: &Value) -> Hash {
    Hash::try_from(STANDARD.decode(v.as_str().unwrap()).unwrap().as_slice()).unwrap()
}

#[test]
fn sigkill_under_load_loses_no_sct_and_never_forks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let http_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let conf = dir.join("zdns.toml");
    std::fs::write(
        &conf,
        format!("listen = [\"{dns}\"]\nhttp = \"{http_addr}\"\ndata_dir = \"data\"\nthreads = 1\n"),
    )
    .unwrap();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::create_dir_all(dir.join("data/ct")).unwrap();
    std::fs::write(
        dir.join("data/ct/roots.pem"),
        ca_params().self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = rcgen::Issuer::new(ca_params(), ca_key);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let certs: Vec<Vec<u8>> = (0..CERTS)
        .map(|i| {
            let p = CertificateParams::new(vec![format!("c{i}.crash.example")]).unwrap();
            p.signed_by(&leaf_key, &issuer).unwrap().der().to_vec()
        })
        .collect();

    let mut node = Node {
        child: None,
        conf,
        dir: dir.clone(),
        http: http_addr,
    };
    node.start();
    let key_der = std::fs::read(dir.join("data/ct/log.key")).unwrap();
    let public: LogPublicKey = zdns_ct::keys::LogKey::from_pkcs8_der(&key_der)
        .unwrap()
        .public()
        .clone();
    let origin = http_addr.to_string();

    // Clients take certificates from a shared queue and put them back on any failure
    // (connection refused while the node is down, a 503, a cut connection).
    let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new((0..CERTS).collect()));
    let scts: Arc<Mutex<Vec<(usize, Value)>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (queue, scts, done, certs) = (
            Arc::clone(&queue),
            Arc::clone(&scts),
            Arc::clone(&done),
            certs.clone(),
        );
        clients.push(std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let Some(i) = queue.lock().unwrap().pop_front() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let body = format!("{{\"chain\":[\"{}\"]}}", STANDARD.encode(&certs[i]));
                match http(http_addr, "POST", "/ct/v1/add-chain", &body) {
                    Ok((200, answer)) => scts
                        .lock()
                        .unwrap()
                        .push((i, serde_json::from_str(&answer).unwrap())),
                    _ => {
                        queue.lock().unwrap().push_back(i);
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }));
    }
    // An observer records every checkpoint it sees.
    let seen: Arc<Mutex<Vec<(u64, Hash)>>> = Arc::default();
    let observer = {
        let (seen, done, public, origin) = (
            Arc::clone(&seen),
            Arc::clone(&done),
            public.clone(),
            origin.clone(),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Ok((200, note)) = http(http_addr, "GET", "/ct/checkpoint", "") {
                    let sth = SignedTreeHead::from_note(&note, &origin, &public).unwrap();
                    let mut seen = seen.lock().unwrap();
                    if seen.last() != Some(&(sth.size, sth.root)) {
                        seen.push((sth.size, sth.root));
                    }
                }
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill schedule seed {seed}");
    let mut rng = XorShift(seed);
    for kill in 0..KILLS {
        // Wait for a commit since the last restart, then kill at a random point of the
        // next sequencing period (1 s): while the pool fills, while it is committed,
        // or while SCTs are being returned.
        let before = seen.lock().unwrap().last().map_or(0, |s| s.0);
        let deadline = Instant::now() + Duration::from_secs(30);
        while seen.lock().unwrap().last().map_or(0, |s| s.0) == before {
            assert!(
                Instant::now() < deadline,
                "no commit after restart:\n{}",
                node.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(rng.below(1000)));
        node.kill();
        eprintln!(
            "kill {kill}: {} SCTs so far, {} checkpoints seen",
            scts.lock().unwrap().len(),
            seen.lock().unwrap().len()
        );
        node.start();
    }
    // Let every certificate through, then stop the clients.
    let deadline = Instant::now() + Duration::from_secs(120);
    while queue.lock().unwrap().len() + scts.lock().unwrap().len() < CERTS
        || !queue.lock().unwrap().is_empty()
    {
        assert!(Instant::now() < deadline, "submissions did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    // One more sequencing period so the observer sees the final head.
    std::thread::sleep(Duration::from_millis(1500));
    done.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    observer.join().unwrap();

    let sth = get_json(http_addr, "/ct/v1/get-sth");
    let size = sth["tree_size"].as_u64().unwrap();
    let root = hash_of(&sth["sha256_root_hash"]);
    let scts = scts.lock().unwrap().clone();
    eprintln!("{} SCTs, final tree size {size}", scts.len());
    assert!(scts.len() >= CERTS);
    // Every SCT'd entry is in the log at its leaf_index, with the leaf hash its SCT
    // implies, and included in the final tree.
    for (i, v) in &scts {
        let sct = sct_from_json(v);
        let entry = SignedEntry::X509(certs[*i].clone());
        sct.verify(&public, &entry).unwrap();
        let index = sct
            .leaf_index()
            .unwrap()
            .expect("an SCT without leaf_index");
        assert!(
            index < size,
            "SCT'd entry {index} is past the tree of {size}"
        );
        let expected = TimestampedEntry {
            timestamp: sct.timestamp,
            entry,
            extensions: sct.extensions.clone(),
        }
        .leaf_hash()
        .unwrap();
        let got = get_json(
            http_addr,
            &format!("/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size={size}"),
        );
        let leaf_input = STANDARD
            .decode(got["leaf_input"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            leaf_hash(&leaf_input),
            expected,
            "entry {index} of cert {i}"
        );
        let path: Vec<Hash> = got["audit_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash_of)
            .collect();
        verify_inclusion(index, size, &expected, &path, &root).unwrap();
    }
    // Every checkpoint seen is consistent with the next (and with the final tree).
    let mut seen = seen.lock().unwrap().clone();
    seen.push((size, root));
    eprintln!("{} distinct checkpoints observed", seen.len());
    assert!(seen.len() > KILLS, "too few checkpoints observed: {seen:?}");
    for pair in seen.windows(2) {
        let ((a, ra), (b, rb)) = (pair[0], pair[1]);
        assert!(a <= b, "the tree shrank from {a} to {b}");
        if a == 0 {
            continue;
        }
        let proof = get_json(
            http_addr,
            &format!("/ct/v1/get-sth-consistency?first={a}&second={b}"),
        );
        let proof: Vec<Hash> = proof["consistency"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash_of)
            .collect();
        verify_consistency(a, b, &proof, &ra, &rb)
            .unwrap_or_else(|e| panic!("checkpoints {a} and {b} are inconsistent: {e:?}"));
    }
    drop(node);
}
