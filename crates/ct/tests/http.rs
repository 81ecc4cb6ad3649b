//! The HTTP API as a client sees it: submit generated chains, verify the SCTs with the
//! key `/ct/log.json` publishes, fetch the checkpoint and tiles, recompute the tree from
//! the data tiles, and verify every SCT'd entry's inclusion; certificate status, with
//! certificates revoked by a CRL the operator adds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension, IsCa,
    KeyPair, PKCS_ECDSA_P256_SHA256, RevokedCertParams, SerialNumber,
};
use serde_json::{Value, json};
use tower::ServiceExt;
use zdns_ct::chain::{ChainKind, Roots, fingerprint, validate};
use zdns_ct::checkpoint::rfc6962::SignedTreeHead;
use zdns_ct::keys::{DigitallySigned, LogPublicKey};
use zdns_ct::log::{Log, LogConfig};
use zdns_ct::merkle::{Hash, MemoryTree, verify_consistency, verify_inclusion};
use zdns_ct::sct::Sct;
use zdns_ct::storage::hex;
use zdns_ct::tiles::data::decode_data_tile;
use zdns_ct::tiles::{TileId, TileKind};

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "HTTP Test Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

struct Ca {
    der: Vec<u8>,
    pem: String,
    issuer: rcgen::Issuer<'static, KeyPair>,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = ca_params().self_signed(&key).unwrap();
        Ca {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(ca_params(), key),
        }
    }

    fn leaf(&self, name: &str, precert: bool) -> Vec<u8> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        if precert {
            let mut poison =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3], vec![5, 0]);
            poison.set_criticality(true);
            p.custom_extensions.push(poison);
        }
        p.signed_by(&key, &self.issuer).unwrap().der().to_vec()
    }
}

async fn open(
    name: &str,
    ca: &Ca,
    tweak: impl FnOnce(&mut LogConfig),
) -> (Arc<Log>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "zdns-ct-http-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("roots.pem"), &ca.pem).unwrap();
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(20);
    tweak(&mut config);
    (Arc::new(Log::open_local(config).await.unwrap()), dir)
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let (s, _, b) = call(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (s, b)
}

async fn get_json(app: &Router, uri: &str) -> Value {
    let (s, b) = get(app, uri).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap()
}

async fn post(app: &Router, uri: &str, body: Value) -> (StatusCode, axum::http::HeaderMap, Value) {
    let req = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (s, h, b) = call(app, req).await;
    (s, h, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

fn sct_from_json(v: &Value) -> Sct {
    assert_eq!(v["sct_version"], 0);
    Sct {
        log_id: b64(&v["id"]).try_into().unwrap(),
        timestamp: v["timestamp"].as_u64().unwrap(),
        extensions: b64(&v["extensions"]),
        signature: DigitallySigned::from_bytes(&b64(&v["signature"])).unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_fetch_tiles_and_verify() {
    let ca = Ca::new();
    let (log, dir) = open("e2e", &ca, |_| {}).await;
    let app = zdns_ct::http::router(Arc::clone(&log));

    // The key a client learns from the log list entry.
    let entry = get_json(&app, "/ct/log.json").await;
    let key = LogPublicKey::from_spki_der(&b64(&entry["key"])).unwrap();
    assert_eq!(b64(&entry["log_id"]), key.log_id());
    assert_eq!(entry["mmd"], 60);
    assert_eq!(entry["submission_url"], "http://127.0.0.1:8053/");
    assert_eq!(entry["monitoring_url"], "http://127.0.0.1:8053/ct/");
    assert_eq!(log.config().origin, "127.0.0.1:8053");

    let roots = get_json(&app, "/ct/v1/get-roots").await;
    assert_eq!(b64(&roots["certificates"][0]), ca.der);

    // Submit certificates and precertificates; verify each SCT.
    let mut roots_set = Roots::new();
    roots_set.add_der(ca.der.clone()).unwrap();
    let mut logged = Vec::new();
    for i in 0..6 {
        let precert = i % 3 == 2;
        let leaf = ca.leaf(&format!("w{i}.example"), precert);
        let (path, kind) = if precert {
            ("/ct/v1/add-pre-chain", ChainKind::Precertificate)
        } else {
            ("/ct/v1/add-chain", ChainKind::Certificate)
        };
        let chain = json!({ "chain": [STANDARD.encode(&leaf), STANDARD.encode(&ca.der)] });
        let (status, _, body) = post(&app, path, chain).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let sct = sct_from_json(&body);
        let (signed_entry, _) = validate(std::slice::from_ref(&leaf), &roots_set, kind)
            .unwrap()
            .entry()
            .unwrap();
        sct.verify(&key, &signed_entry).unwrap();
        logged.push((leaf, precert, sct));
    }

    // The checkpoint and get-sth agree and verify.
    let (status, note) = get(&app, "/ct/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    let note = String::from_utf8(note).unwrap();
    let origin = log.config().origin.clone();
    let from_note = SignedTreeHead::from_note(&note, &origin, &key).unwrap();
    let sth = get_json(&app, "/ct/v1/get-sth").await;
    let size = sth["tree_size"].as_u64().unwrap();
    assert_eq!(size, from_note.size);
    let root = Hash(b64(&sth["sha256_root_hash"]).try_into().unwrap());
    assert_eq!(root, from_note.root);
    SignedTreeHead {
        timestamp: sth["timestamp"].as_u64().unwrap(),
        size,
        root,
        signature: DigitallySigned::from_bytes(&b64(&sth["tree_head_signature"])).unwrap(),
    }
    .verify(&key)
    .unwrap();
    assert!(size >= 6);

    // Recompute the tree from the data tile; check the level-0 hash tile against it.
    let width = u16::try_from(size).unwrap();
    let data_id = TileId::new(TileKind::Data, 0, width).unwrap();
    let (status, data) = get(&app, &format!("/ct/{}", data_id.path())).await;
    assert_eq!(status, StatusCode::OK);
    let leaves = decode_data_tile(&data, width).unwrap();
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.append(leaf.leaf_hash().unwrap()).unwrap();
    }
    assert_eq!(tree.root(), root);
    let hash_id = TileId::new(TileKind::Hash(0), 0, width).unwrap();
    let (status, hashes) = get(&app, &format!("/ct/{}", hash_id.path())).await;
    assert_eq!(status, StatusCode::OK);
    for (leaf, h) in leaves.iter().zip(hashes.chunks(32)) {
        assert_eq!(leaf.leaf_hash().unwrap().0, h);
    }

    // Every SCT'd entry is at its index and provably included.
    for (leaf_der, precert, sct) in &logged {
        let index = sct.leaf_index().unwrap().unwrap();
        let leaf = &leaves[index as usize];
        assert_eq!(leaf.entry.timestamp, sct.timestamp);
        sct.verify(&key, &leaf.entry.entry).unwrap();
        let hash = leaf.leaf_hash().unwrap();
        let q = STANDARD
            .encode(hash.0)
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let proof = get_json(
            &app,
            &format!("/ct/v1/get-proof-by-hash?hash={q}&tree_size={size}"),
        )
        .await;
        assert_eq!(proof["leaf_index"], index);
        let path: Vec<Hash> = proof["audit_path"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash(b64(h).try_into().unwrap()))
            .collect();
        verify_inclusion(index, size, &hash, &path, &root).unwrap();
        // The chain's issuer is served by fingerprint.
        assert_eq!(leaf.chain, vec![fingerprint(&ca.der)]);
        let (status, issuer) = get(&app, &format!("/ct/issuer/{}", hex(&leaf.chain[0]))).await;
        assert_eq!((status, issuer), (StatusCode::OK, ca.der.clone()));
        // The node API knows it.
        let status = get_json(
            &app,
            &format!("/api/v1/ct/certificates/{}", hex(&fingerprint(leaf_der))),
        )
        .await;
        assert_eq!(status["status"], "logged");
        assert_eq!(status["leaf_index"], index);
        assert_eq!(
            status["entry_type"],
            if *precert { "precert" } else { "x509" }
        );
        // get-entry-and-proof gives the same leaf.
        let e = get_json(
            &app,
            &format!("/ct/v1/get-entry-and-proof?leaf_index={index}&tree_size={size}"),
        )
        .await;
        assert_eq!(
            b64(&e["leaf_input"]),
            leaf.entry.merkle_tree_leaf().unwrap()
        );
    }

    // get-entries: leaf inputs hash to the tree, extra data carries the chain.
    let entries = get_json(
        &app,
        &format!("/ct/v1/get-entries?start=0&end={}", size - 1),
    )
    .await;
    let entries = entries["entries"].as_array().unwrap();
    assert_eq!(entries.len() as u64, size);
    for (e, leaf) in entries.iter().zip(&leaves) {
        assert_eq!(
            b64(&e["leaf_input"]),
            leaf.entry.merkle_tree_leaf().unwrap()
        );
        let extra = b64(&e["extra_data"]);
        assert!(extra.windows(ca.der.len()).any(|w| w == ca.der));
    }
    let api_entries = get_json(&app, "/api/v1/ct/get-entries?start=0&end=1").await;
    assert_eq!(api_entries.as_array().unwrap().len(), 2);

    // Consistency from an older tree.
    let old_root = {
        let mut t = MemoryTree::new();
        for l in &leaves[..3] {
            t.append(l.leaf_hash().unwrap()).unwrap();
        }
        t.root()
    };
    let c = get_json(
        &app,
        &format!("/ct/v1/get-sth-consistency?first=3&second={size}"),
    )
    .await;
    let proof: Vec<Hash> = c["consistency"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| Hash(b64(h).try_into().unwrap()))
        .collect();
    verify_consistency(3, size, &proof, &old_root, &root).unwrap();

    // The node API.
    let logs = get_json(&app, "/api/v1/ct/logs").await;
    assert_eq!(logs[0]["tree_size"], size);
    let leaf = ca.leaf("api.example", false);
    let (status, _, body) = post(
        &app,
        "/api/v1/ct/add-chain",
        json!({ "chain": [STANDARD.encode(&leaf)] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["leaf_index"], size);
    assert_eq!(b64(&body["log_id"]), key.log_id());
    let missing = get_json(&app, &format!("/api/v1/ct/certificates/{}", hex(&[7; 32]))).await;
    assert_eq!(missing["status"], "missing");

    // Refusals.
    let (status, _, _) = post(&app, "/ct/v1/add-chain", json!({ "chain": ["!!"] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post(&app, "/ct/v1/add-chain", json!({ "chain": [] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post(&app, "/ct/v1/add-chain", json!({ "nope": 1 })).await;
    assert!(status.is_client_error());
    let pre = ca.leaf("pre.example", true);
    let (status, _, body) = post(
        &app,
        "/ct/v1/add-chain",
        json!({ "chain": [STANDARD.encode(&pre)] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    for bad in [
        "/ct/tile/0/abc",
        "/ct/tile/9/000",
        "/ct/tile/data/999",
        "/ct/issuer/zz",
        "/ct/v1/get-entries?start=5&end=1",
        "/ct/v1/get-entries?start=1000&end=1001",
        "/ct/v1/get-sth-consistency?first=0&second=2",
        "/ct/v1/get-entry-and-proof?leaf_index=9&tree_size=1000",
        "/ct/v1/get-proof-by-hash?hash=AAAA&tree_size=1",
        "/api/v1/ct/certificates/xyz",
    ] {
        let (status, _) = get(&app, bad).await;
        assert!(status.is_client_error(), "{bad}: {status}");
    }
    drop(app);
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn busy_is_503_with_retry_after() {
    let ca = Ca::new();
    let (log, dir) = open("busy", &ca, |c| {
        c.pool_size = 1;
        c.period = Duration::from_secs(3600);
    })
    .await;
    let app = zdns_ct::http::router(Arc::clone(&log));
    let first = {
        let app = app.clone();
        let body = json!({ "chain": [STANDARD.encode(ca.leaf("a.example", false))] });
        tokio::spawn(async move { post(&app, "/ct/v1/add-chain", body).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let body = json!({ "chain": [STANDARD.encode(ca.leaf("b.example", false))] });
    let (status, headers, _) = post(&app, "/ct/v1/add-chain", body).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.get("retry-after").is_some());
    first.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A leaf with a chosen serial number.
fn leaf_with_serial(ca: &Ca, name: &str, serial: u64, precert: bool) -> Vec<u8> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
    p.serial_number = Some(SerialNumber::from(serial));
    if precert {
        let mut poison =
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3], vec![5, 0]);
        poison.set_criticality(true);
        p.custom_extensions.push(poison);
    }
    p.signed_by(&key, &ca.issuer).unwrap().der().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_status_revoked_by_a_crl_added_while_running() {
    let ca = Ca::new();
    let (log, dir) = open("crl", &ca, |_| {}).await;
    let app = zdns_ct::http::router(Arc::clone(&log));
    let cert = leaf_with_serial(&ca, "c.crl.example", 501, false);
    let precert = leaf_with_serial(&ca, "p.crl.example", 502, true);
    let kept = leaf_with_serial(&ca, "k.crl.example", 503, false);
    for (leaf, path) in [
        (&cert, "/ct/v1/add-chain"),
        (&precert, "/ct/v1/add-pre-chain"),
        (&kept, "/ct/v1/add-chain"),
    ] {
        let body = json!({ "chain": [STANDARD.encode(leaf), STANDARD.encode(&ca.der)] });
        let (status, _, body) = post(&app, path, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let status = |der: Vec<u8>| {
        let app = app.clone();
        async move {
            let uri = format!("/api/v1/ct/certificates/{}", hex(&fingerprint(&der)));
            get_json(&app, &uri).await["status"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    // The published tree holds all three once their SCTs are out.
    while log.head().sth.size < 3 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status(cert.clone()).await, "logged");

    let revoked = |serial: u64| RevokedCertParams {
        serial_number: SerialNumber::from(serial),
        revocation_time: rcgen::date_time_ymd(2026, 1, 1),
        reason_code: None,
        invalidity_date: None,
    };
    let crl = CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2026, 1, 1),
        next_update: rcgen::date_time_ymd(2027, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![revoked(501), revoked(502)],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&ca.issuer)
    .unwrap();
    assert_eq!(
        zdns_ct::log::add_crls_file(&dir, crl.pem().unwrap().as_bytes()).unwrap(),
        1
    );
    assert_eq!(zdns_ct::log::add_crls_file(&dir, crl.der()).unwrap(), 0);
    assert!(
        zdns_ct::log::add_crls_file(
            &dir,
            b"-----BEGIN X509 CRL-----\nAQID\n-----END X509 CRL-----\n"
        )
        .is_err()
    );
    assert!(zdns_ct::log::add_crls_file(&dir, ca.pem.as_bytes()).is_err());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while status(cert.clone()).await != "revoked" {
        assert!(
            std::time::Instant::now() < deadline,
            "the CRL was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(status(precert).await, "revoked");
    assert_eq!(status(kept).await, "logged");
    drop(app);
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}
