//! The CT commands end to end with the real binary on loopback: `zdns ct vkey`, a
//! `zdns ct witness` process the node's log must get a cosignature from before it
//! publishes (`<data dir>/ct/witnesses.toml`), and `zdns ct watch` following the node's
//! tiles and reporting a domain's certificates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, KeyPair,
    PKCS_ECDSA_P256_SHA256, RevokedCertParams, SerialNumber,
};

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

fn serve(dir: &std::path::Path, http_addr: SocketAddr) -> Proc {
    let dns = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let child = Command::new(ZDNS)
        .args([
            "serve",
            "--listen",
            &dns.to_string(),
            "--http",
            &http_addr.to_string(),
        ])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.with_extension("log")).unwrap())
        .spawn()
        .unwrap();
    let p = Proc(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(http(http_addr, "GET", "/ct/checkpoint", ""), Ok((200, _))) {
        assert!(Instant::now() < deadline, "zdns serve not ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    p
}

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Watch Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

#[test]
fn a_witnessed_log_and_zdns_ct_watch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("ct")).unwrap();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(
        data.join("ct/roots.pem"),
        ca_params().self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = rcgen::Issuer::new(ca_params(), ca_key);
    let http_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));

    // First start creates the log key; `zdns ct vkey` prints its verifier key.
    drop(serve(&data, http_addr));
    let out = Command::new(ZDNS)
        .args(["ct", "vkey", "--http", &http_addr.to_string()])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log_vkey = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(log_vkey.starts_with(&format!("{http_addr}+")), "{log_vkey}");

    // A witness for that log; it prints its own vkey first.
    let witness_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let mut witness = Proc(
        Command::new(ZDNS)
            .args([
                "ct",
                "witness",
                "--name",
                "w.test",
                "--listen",
                &witness_addr.to_string(),
            ])
            .arg("--data-dir")
            .arg(tmp.path().join("witness"))
            .args(["--log", &log_vkey])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(witness.0.stdout.take().unwrap()).lines();
    let witness_vkey = lines.next().unwrap().unwrap();
    assert!(witness_vkey.starts_with("w.test+"), "{witness_vkey}");
    std::fs::write(
        data.join("ct/witnesses.toml"),
        format!(
            "threshold = 1\n[[witness]]\nurl = \"http://{witness_addr}/witness/\"\nvkey = \"{witness_vkey}\"\n"
        ),
    )
    .unwrap();

    // The node's log now publishes only cosigned checkpoints.
    let _node = serve(&data, http_addr);
    let leaf_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut leaves = Vec::new();
    for (serial, name) in [(101u64, "www.watched.test"), (102, "other.test")] {
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.serial_number = Some(SerialNumber::from(serial));
        let der = p.signed_by(&leaf_key, &issuer).unwrap().der().to_vec();
        leaves.push(der.clone());
        let body = format!("{{\"chain\":[\"{}\"]}}", STANDARD.encode(der));
        let (status, answer) = http(http_addr, "POST", "/ct/v1/add-chain", &body).unwrap();
        assert_eq!(status, 200, "{answer}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let note = loop {
        let (_, note) = http(http_addr, "GET", "/ct/checkpoint", "").unwrap();
        if note.lines().nth(1) == Some("2") {
            break note;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoint not published: {note}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        note.contains("\n\u{2014} w.test "),
        "no cosignature: {note}"
    );

    // `zdns ct watch` verifies the checkpoint against the tiles and reports the match.
    let out = Command::new(ZDNS)
        .args(["ct", "watch", &format!("http://{http_addr}/ct/")])
        .args(["--domain", "watched.test", "--vkey", &log_vkey, "--once"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("checkpoint 2 verified against its tiles"),
        "{stdout}"
    );
    assert!(
        stdout.contains("match watched.test leaf_index=0 certificate")
            && stdout.contains("names=www.watched.test"),
        "{stdout}"
    );
    assert!(!stdout.contains("other.test"), "{stdout}");
    // With the wrong key it refuses the checkpoint.
    let wrong = log_vkey.replace(&http_addr.to_string(), "other.example:1");
    let out = Command::new(ZDNS)
        .args(["ct", "watch", &format!("http://{http_addr}/ct/")])
        .args(["--domain", "watched.test", "--vkey", &wrong, "--once"])
        .output()
        .unwrap();
    assert!(!out.status.success());

    // `zdns ct crl add`: the CA revokes serial 102; the API reports it within a period.
    let status = |der: &[u8]| {
        let path = format!(
            "/api/v1/ct/certificates/{}",
            zdns_ct::storage::hex(&zdns_ct::chain::fingerprint(der))
        );
        let (code, body) = http(http_addr, "GET", &path, "").unwrap();
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status(&leaves[1]), "logged");
    let crl = CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2026, 1, 1),
        next_update: rcgen::date_time_ymd(2027, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(102u64),
            revocation_time: rcgen::date_time_ymd(2026, 1, 1),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    let crl_add = |file: &std::path::Path| {
        Command::new(ZDNS)
            .args(["ct", "crl", "add"])
            .arg(file)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    let bad = tmp.path().join("bad.crl");
    std::fs::write(&bad, "not a CRL").unwrap();
    let out = crl_add(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CRL"));
    let file = tmp.path().join("ca.crl");
    std::fs::write(&file, crl.der()).unwrap();
    let out = crl_add(&file);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1 new CRL(s)"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while status(&leaves[1]) != "revoked" {
        assert!(Instant::now() < deadline, "the CRL was not picked up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status(&leaves[0]), "logged");
}
