//! Monitoring end to end against our own log on loopback: watches added over the API
//! (and refused when malformed), matches delivered to a webhook that fails at first
//! (so it is retried), watches kept across a restart; and the tile follower that
//! `zdns ct watch` runs: matches from the data tiles, checkpoints proven consistent,
//! a forked history detected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256,
};
use serde_json::Value;
use tokio::net::TcpListener;
use zdns_ct::chain::ChainKind;
use zdns_ct::checkpoint::Checkpoint;
use zdns_ct::client::Client;
use zdns_ct::log::{Log, LogConfig};
use zdns_ct::merkle::leaf_hash;
use zdns_ct::monitor::service::router as monitor_router;
use zdns_ct::monitor::{FollowError, Follower, Monitor, MonitorConfig};
use zdns_ct::witness::cosignature::{log_verifier_from_vkey, rfc6962_vkey};

fn ca_params() -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "Monitor Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

struct Ca(rcgen::Issuer<'static, KeyPair>);

impl Ca {
    fn leaf(&self, names: &[&str], precert: bool) -> Vec<u8> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap();
        if precert {
            let mut poison =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3], vec![5, 0]);
            poison.set_criticality(true);
            p.custom_extensions.push(poison);
        }
        p.signed_by(&key, &self.0).unwrap().der().to_vec()
    }
}

async fn serve(app: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_webhooks_and_the_tile_follower() {
    let dir = std::env::temp_dir().join(format!(
        "zdns-ct-monitor-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    std::fs::write(
        dir.join("roots.pem"),
        ca_params().self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let ca = Ca(rcgen::Issuer::new(ca_params(), ca_key));
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(20);
    let log = Arc::new(Log::open_local(config.clone()).await.unwrap());

    // A webhook that refuses its first delivery.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let calls = Arc::new(Mutex::new(0u32));
    let hook = {
        let (received, calls) = (Arc::clone(&received), Arc::clone(&calls));
        Router::new().route(
            "/hook",
            post(move |body: axum::body::Bytes| {
                let (received, calls) = (Arc::clone(&received), Arc::clone(&calls));
                async move {
                    let mut n = calls.lock().unwrap();
                    *n += 1;
                    if *n == 1 {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    received
                        .lock()
                        .unwrap()
                        .push(serde_json::from_slice(&body).unwrap());
                    StatusCode::NO_CONTENT
                }
            }),
        )
    };
    let hook_addr = serve(hook).await;

    let monitor_config = MonitorConfig {
        interval: Duration::from_millis(30),
        retry_base: Duration::from_millis(30),
        max_attempts: 5,
        ..MonitorConfig::new(dir.join("monitor.json"))
    };
    let monitor = Monitor::open(Arc::clone(&log), monitor_config.clone()).unwrap();
    let addr =
        serve(zdns_ct::http::router(Arc::clone(&log)).merge(monitor_router(Arc::clone(&monitor))))
            .await;
    let client = Client::new(Duration::from_secs(5));
    let api = format!("http://{addr}/api/v1/ct/monitor");

    // Malformed watches are refused.
    for bad in [
        "{}".to_string(),
        r#"{"domain": "bad domain", "notification_endpoint": "http://127.0.0.1:1/"}"#.into(),
        r#"{"domain": "example.com", "notification_endpoint": "ftp://x/"}"#.into(),
    ] {
        let r = client
            .post(&api, "application/json", bad.into_bytes())
            .await
            .unwrap();
        assert_eq!(r.status, 400);
    }
    let body = format!(
        r#"{{"domain": "Example.COM", "notification_endpoint": "http://{hook_addr}/hook"}}"#
    );
    let r = client
        .post(&api, "application/json", body.into_bytes())
        .await
        .unwrap();
    assert_eq!(r.status, 201);
    let watch: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(watch["domain"], "example.com");

    // Two matching entries (a certificate and a precertificate), two that are not.
    for (names, precert) in [
        (&["www.example.com"][..], false),
        (&["other.test"][..], false),
        (&["x.test", "a.b.example.com"][..], true),
        (&["notexample.com"][..], false),
    ] {
        let kind = if precert {
            ChainKind::Precertificate
        } else {
            ChainKind::Certificate
        };
        log.add_chain(&[ca.leaf(names, precert)], kind)
            .await
            .unwrap();
    }
    eventually("two webhook deliveries", || {
        received.lock().unwrap().len() == 2
    })
    .await;
    let got = received.lock().unwrap().clone();
    let mut indexes: Vec<u64> = got
        .iter()
        .map(|v| v["leaf_index"].as_u64().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, vec![0, 2]);
    let pre = got.iter().find(|v| v["leaf_index"] == 2).unwrap();
    assert_eq!(pre["precert"], true);
    assert_eq!(pre["names"], serde_json::json!(["a.b.example.com"]));
    assert_eq!(
        *calls.lock().unwrap(),
        3,
        "the refused delivery was retried once"
    );

    // The API lists the watch with its delivered matches.
    let listed: Value = serde_json::from_slice(&client.get(&api).await.unwrap().body).unwrap();
    let matches = listed["watches"][0]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 2);
    assert!(matches.iter().all(|m| m["delivered"] == true));
    assert_eq!(
        matches
            .iter()
            .map(|m| m["attempts"].as_u64().unwrap())
            .sum::<u64>(),
        3
    );

    // A restart keeps the watch and its matches.
    drop(monitor);
    let monitor = Monitor::open(Arc::clone(&log), monitor_config).unwrap();
    let kept = monitor.watches();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].matches.len(), 2);

    // The tile follower (`zdns ct watch`): matches from the data tiles, with the log's
    // signature checked.
    let vkey = rfc6962_vkey(&config.origin, log.key().public());
    let base = format!("http://{addr}/ct/");
    let mut follower = Follower::new(
        &base,
        client.clone(),
        Some(log_verifier_from_vkey(&vkey).unwrap()),
        0,
    );
    let domains = vec!["example.com".to_string()];
    let round = follower.poll(&domains).await.unwrap();
    assert_eq!(round.checkpoint.size, 4);
    assert_eq!(round.consistent_with, None);
    let found: Vec<u64> = round.matches.iter().map(|m| m.leaf_index).collect();
    assert_eq!(found, vec![0, 2]);
    assert!(round.matches[1].precert);
    // New entries: the next checkpoint is proven consistent with the last.
    let mut adds = tokio::task::JoinSet::new();
    for i in 0..300 {
        let leaf = ca.leaf(&[&format!("h{i}.example.net")], false);
        let log = Arc::clone(&log);
        adds.spawn(async move { log.add_chain(&[leaf], ChainKind::Certificate).await });
    }
    while let Some(r) = adds.join_next().await {
        r.unwrap().unwrap();
    }
    log.add_chain(
        &[ca.leaf(&["late.example.com"], false)],
        ChainKind::Certificate,
    )
    .await
    .unwrap();
    eventually("the head", || log.head().sth.size == 305).await;
    let round = follower.poll(&domains).await.unwrap();
    assert_eq!(round.consistent_with, Some(4));
    assert_eq!(round.checkpoint.size, 305);
    assert_eq!(
        round
            .matches
            .iter()
            .map(|m| m.leaf_index)
            .collect::<Vec<_>>(),
        vec![304]
    );
    // A follower that saw another history detects the fork.
    let mut forked = Follower::new(&base, client.clone(), None, 0);
    forked.resume(Checkpoint {
        origin: config.origin.clone(),
        size: 3,
        root: leaf_hash(b"another history"),
        extensions: vec![],
    });
    assert!(matches!(
        forked.poll(&domains).await,
        Err(FollowError::Inconsistent(_))
    ));
    // A wrong key is caught.
    let other = zdns_ct::keys::LogKey::from_scalar(&[3; 32]).unwrap();
    let wrong = rfc6962_vkey(&config.origin, other.public());
    let mut spoofed = Follower::new(
        &base,
        client,
        Some(log_verifier_from_vkey(&wrong).unwrap()),
        0,
    );
    assert!(matches!(
        spoofed.poll(&domains).await,
        Err(FollowError::Checkpoint(_))
    ));
    drop(monitor);
    // The servers still hold the log; its files go with the temporary directory.
    let _ = std::fs::remove_dir_all(&dir);
}
