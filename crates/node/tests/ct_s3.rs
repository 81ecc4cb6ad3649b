//! `zdns serve` with its CT log on an S3-compatible bucket (`<data dir>/ct/log.toml`
//! `[s3]`), against `moto_server` (PyPI `moto[server]`) on loopback: the tiles and
//! checkpoint go to the bucket, not to `<data dir>/ct/storage`, the settings of
//! `log.toml` apply, and a restarted node keeps its entries and gives the same SCT.
#![cfg(feature = "s3")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};

const ZDNS: &str = env!("CARGO_BIN_EXE_zdns");

fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

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
    let status = out.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A moto server with bucket `bucket` on a free loopback port, or `None` (skip) when
/// moto is not installed and peers are not required.
fn moto(bucket: &str) -> Option<(Proc, String)> {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        assert!(
            std::env::var("ZDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "moto_server not found and ZDNS_REQUIRE_PEERS=1"
        );
        eprintln!("notice: moto_server not found; skipping");
        return None;
    };
    let server = Proc(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let made = Command::new("python3")
        .args([
            "-c",
            &boto3(&endpoint, &format!("s3.create_bucket(Bucket='{bucket}')")),
        ])
        .status()
        .unwrap();
    assert!(made.success(), "creating the bucket");
    Some((server, endpoint))
}

/// A Python program that runs `code` with `s3`, a boto3 client of `endpoint`.
fn boto3(endpoint: &str, code: &str) -> String {
    format!(
        "import boto3, sys; s3 = boto3.client('s3', endpoint_url='{endpoint}', \
         aws_access_key_id='test', aws_secret_access_key='test', region_name='us-east-1'); {code}"
    )
}

fn serve(data: &Path, http_addr: SocketAddr) -> Proc {
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(ZDNS)
        .args(["serve", "--listen", &dns.to_string()])
        .args(["--http", &http_addr.to_string()])
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(data.with_extension("log")).unwrap())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !matches!(http(http_addr, "GET", "/ct/checkpoint", ""), Ok((200, _))) {
        assert!(
            Instant::now() < deadline,
            "zdns serve not ready:\n{}",
            std::fs::read_to_string(data.with_extension("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    p
}

#[test]
fn the_node_log_on_s3() {
    let Some((_moto, endpoint)) = moto("node-ct") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("ct")).unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "S3 Node Root");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(
        data.join("ct/roots.pem"),
        ca.self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    std::fs::write(
        data.join("ct/log.toml"),
        format!(
            "period_ms = 100\nmmd = 86400\n[s3]\nendpoint = \"{endpoint}\"\nbucket = \"node-ct\"\n\
             region = \"us-east-1\"\naccess_key_id = \"test\"\nsecret_access_key = \"test\"\n"
        ),
    )
    .unwrap();
    let http_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));

    let node = serve(&data, http_addr);
    let (_, entry) = http(http_addr, "GET", "/ct/log.json", "").unwrap();
    assert!(entry.contains("\"mmd\":86400"), "{entry}");
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = CertificateParams::new(vec!["s3.node.example".into()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap()
        .der()
        .to_vec();
    let body = format!("{{\"chain\":[\"{}\"]}}", STANDARD.encode(&leaf));
    let (status, sct) = http(http_addr, "POST", "/ct/v1/add-chain", &body).unwrap();
    assert_eq!(status, 200, "{sct}");
    let (_, note) = http(http_addr, "GET", "/ct/checkpoint", "").unwrap();
    assert_eq!(note.lines().nth(1), Some("1"), "{note}");
    // The checkpoint is the bucket's, and nothing went to local storage.
    let out = Command::new("python3")
        .args([
            "-c",
            &boto3(
                &endpoint,
                "sys.stdout.write(s3.get_object(Bucket='node-ct', Key='checkpoint')['Body'].read().decode())",
            ),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), note);
    assert!(!data.join("ct/storage").exists());

    // Restarted: the same tree, and the same SCT for the same chain.
    drop(node);
    let _node = serve(&data, http_addr);
    let (_, again) = http(http_addr, "GET", "/ct/checkpoint", "").unwrap();
    assert_eq!(again.lines().nth(1), Some("1"), "{again}");
    let (status, sct_again) = http(http_addr, "POST", "/ct/v1/add-chain", &body).unwrap();
    assert_eq!((status, sct_again), (200, sct));
}
