//! The witness over HTTP (C2SP tlog-witness): first contact, consistent growth, and a
//! split view, a rollback, a bad proof, an unknown log and key, each refused with the
//! spec's status code; state that survives a restart; cosignatures that meet a policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use zdns_ct::checkpoint::note::SignedNote;
use zdns_ct::checkpoint::rfc6962::{Rfc6962Verifier, SignedTreeHead};
use zdns_ct::keys::LogKey;
use zdns_ct::merkle::{Hash, MemoryTree, consistency_proof, leaf_hash, root_at};
use zdns_ct::witness::cosignature::rfc6962_vkey;
use zdns_ct::witness::server::router;
use zdns_ct::witness::{AddCheckpoint, PolicyError, Witness, WitnessConfig, WitnessPolicy};

const ORIGIN: &str = "log.example/2026";

struct Fixture {
    key: LogKey,
    tree: MemoryTree,
    config: WitnessConfig,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!(
            "zdns-ct-witness-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let key = LogKey::from_scalar(&[0x31; 32]).unwrap();
        let mut tree = MemoryTree::new();
        for i in 0..100u64 {
            tree.append(leaf_hash(&i.to_be_bytes())).unwrap();
        }
        let config = WitnessConfig {
            name: "witness.example/w1".into(),
            data_dir: dir,
            logs: vec![rfc6962_vkey(ORIGIN, key.public())],
        };
        Fixture { key, tree, config }
    }

    fn note_with(&self, key: &LogKey, size: u64, root: Hash) -> String {
        SignedTreeHead::sign(key, 1_000, size, root)
            .to_note(ORIGIN, key.public())
            .unwrap()
    }

    fn note(&self, size: u64) -> String {
        self.note_with(&self.key, size, root_at(&self.tree, size).unwrap())
    }

    fn body(&self, old: u64, size: u64) -> String {
        let proof = if old == 0 || old == size {
            vec![]
        } else {
            consistency_proof(&self.tree, old, size).unwrap()
        };
        AddCheckpoint::encode(old, &proof, &self.note(size))
    }
}

async fn post(app: &Router, body: String) -> (StatusCode, String, String) {
    let req = Request::post("/witness/add-checkpoint")
        .body(Body::from(body))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ct, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn add_checkpoint_checks_and_status_codes() {
    let f = Fixture::new("codes");
    let witness = Arc::new(Witness::open(&f.config).unwrap());
    let app = router(Arc::clone(&witness), "/witness/");

    // First contact with a stale old size: 409 tells the size it has (0).
    let (s, ct, b) = post(&app, f.body(10, 20)).await;
    assert_eq!(
        (s, ct.as_str(), b.as_str()),
        (StatusCode::CONFLICT, "text/x.tlog.size", "0\n")
    );
    // old 0: cosigned; the response is a cosignature line that verifies.
    let (s, _, b) = post(&app, f.body(0, 20)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let mut cosigned = SignedNote::parse(&f.note(20)).unwrap();
    cosigned
        .signatures
        .extend(SignedNote::parse(&format!("x\n\n{b}")).unwrap().signatures);
    let policy = WitnessPolicy {
        witnesses: vec![witness.key().verifier()],
        threshold: 1,
    };
    let lv = Rfc6962Verifier::new(ORIGIN, f.key.public().clone());
    assert_eq!(policy.verify(&cosigned.to_string(), &lv).unwrap().size, 20);
    let two = WitnessPolicy {
        threshold: 2,
        ..policy.clone()
    };
    assert!(matches!(
        two.verify(&cosigned.to_string(), &lv),
        Err(PolicyError::NotMet {
            cosigned: 1,
            threshold: 2
        })
    ));

    // Consistent growth with a proof.
    assert_eq!(post(&app, f.body(20, 50)).await.0, StatusCode::OK);
    // A bad proof: 422, and the state does not move.
    let mut proof = consistency_proof(&f.tree, 50, 60).unwrap();
    proof[1] = leaf_hash(b"tampered");
    let (s, _, _) = post(&app, AddCheckpoint::encode(50, &proof, &f.note(60))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A different tree of size 60 with a proof from the real 50: also 422.
    let forged = f.note_with(&f.key, 60, leaf_hash(b"another tree"));
    let real = consistency_proof(&f.tree, 50, 60).unwrap();
    let (s, _, _) = post(&app, AddCheckpoint::encode(50, &real, &forged)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Split view: the same size as the cosigned 50 with another root: 409.
    let split = f.note_with(&f.key, 50, leaf_hash(b"fork"));
    let (s, ct, b) = post(&app, AddCheckpoint::encode(50, &[], &split)).await;
    assert_eq!(
        (s, ct.as_str(), b.as_str()),
        (StatusCode::CONFLICT, "text/x.tlog.size", "50\n")
    );
    // Rollback: a checkpoint older than the cosigned one, claiming an old size the
    // witness is past: 409 with the latest size.
    let (s, _, b) = post(&app, f.body(20, 30)).await;
    assert_eq!((s, b.as_str()), (StatusCode::CONFLICT, "50\n"));
    // Size going backwards (old size past the checkpoint): 400.
    let (s, _, _) = post(&app, AddCheckpoint::encode(50, &[], &f.note(40))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Unknown key for a known origin: 403. Unknown origin: 404.
    let stranger = LogKey::from_scalar(&[0x77; 32]).unwrap();
    let other_key = f.note_with(&stranger, 60, root_at(&f.tree, 60).unwrap());
    let proof = consistency_proof(&f.tree, 50, 60).unwrap();
    let (s, _, _) = post(&app, AddCheckpoint::encode(50, &proof, &other_key)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let elsewhere = SignedTreeHead::sign(&f.key, 1, 5, root_at(&f.tree, 5).unwrap())
        .to_note("other.example", f.key.public())
        .unwrap();
    let (s, _, _) = post(&app, AddCheckpoint::encode(0, &[], &elsewhere)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Malformed: 400.
    for junk in ["", "old x\n\n", "old 0\n", "old 0\n\nnot a note\n"] {
        assert_eq!(
            post(&app, junk.into()).await.0,
            StatusCode::BAD_REQUEST,
            "{junk:?}"
        );
    }

    // The state is durable: a restarted witness still refuses the split view and the
    // rollback, and continues from 50.
    drop(app);
    drop(witness);
    let witness = Arc::new(Witness::open(&f.config).unwrap());
    assert_eq!(witness.latest(ORIGIN).await.unwrap().unwrap().size, 50);
    let app = router(Arc::clone(&witness), "/witness/");
    assert_eq!(
        post(&app, AddCheckpoint::encode(50, &[], &split)).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(post(&app, f.body(0, 30)).await.2, "50\n");
    assert_eq!(post(&app, f.body(50, 100)).await.0, StatusCode::OK);
    // The same key after restart: cosignatures from the reopened witness verify with
    // the verifier of the first.
    assert_eq!(witness.key().verifier(), policy.witnesses[0]);
    std::fs::remove_dir_all(&f.config.data_dir).unwrap();
}

#[tokio::test]
async fn concurrent_requests_cannot_roll_the_state_back() {
    let f = Arc::new(Fixture::new("race"));
    let witness = Arc::new(Witness::open(&f.config).unwrap());
    witness
        .add_checkpoint(f.body(0, 10).as_bytes(), 1)
        .await
        .unwrap();
    // Many clients race from 10 to different sizes: exactly one wins; the others get
    // 409 with the winner's size, never a cosignature for a smaller tree after it.
    let mut tasks = Vec::new();
    for size in [20u64, 30, 40, 50, 60, 70, 80, 90] {
        let (w, f) = (Arc::clone(&witness), Arc::clone(&f));
        tasks.push(tokio::spawn(async move {
            (size, w.add_checkpoint(f.body(10, size).as_bytes(), 2).await)
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        let (size, r) = t.await.unwrap();
        if r.is_ok() {
            won.push(size);
        }
    }
    assert_eq!(won.len(), 1);
    assert_eq!(witness.latest(ORIGIN).await.unwrap().unwrap().size, won[0]);
    std::fs::remove_dir_all(&f.config.data_dir).unwrap();
}

mod log_side {
    //! A log that publishes a checkpoint only once 2 of its 3 witnesses cosigned it.

    use std::time::Duration;

    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
    use tokio::net::TcpListener;
    use zdns_ct::chain::ChainKind;
    use zdns_ct::checkpoint::rfc6962::Rfc6962Verifier;
    use zdns_ct::log::{Log, LogConfig, WitnessEndpoint, WitnessSet};
    use zdns_ct::witness::cosignature::rfc6962_vkey;
    use zdns_ct::witness::server::router;
    use zdns_ct::witness::{PolicyError, Witness, WitnessConfig};

    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "zdns-ct-witnessed-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn ca_params() -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "Witnessed Root");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p
    }

    /// Serves a witness on `listener` until the task is aborted.
    fn serve(listener: TcpListener, witness: Arc<Witness>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let _ = axum::serve(listener, router(witness, "/witness/")).await;
        })
    }

    async fn wait_for_size(log: &Log, size: u64) -> bool {
        for _ in 0..200 {
            if log.head().sth.size >= size {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        false
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checkpoints_are_published_only_when_the_policy_is_met() {
        let dir = temp("log");
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let ca_cert = ca_params().self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("roots.pem"), ca_cert.pem()).unwrap();
        let issuer = rcgen::Issuer::new(ca_params(), ca_key);
        let leaf = |name: &str| {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
            let p = CertificateParams::new(vec![name.to_string()]).unwrap();
            p.signed_by(&key, &issuer).unwrap().der().to_vec()
        };

        // Three witnesses: two listening, one address where nothing answers.
        let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let urls: Vec<String> = [&l1, &l2, &dead]
            .iter()
            .map(|l| format!("http://{}/witness/", l.local_addr().unwrap()))
            .collect();
        drop(dead);
        // The log key is generated on first open; open once to learn it.
        let mut config = LogConfig::embedded(&dir);
        config.period = Duration::from_millis(50);
        let public = Log::open_local(config.clone())
            .await
            .unwrap()
            .key()
            .public()
            .clone();
        let vkey = rfc6962_vkey(&config.origin, &public);
        let witnesses: Vec<Arc<Witness>> = (0..3)
            .map(|i| {
                Arc::new(
                    Witness::open(&WitnessConfig {
                        name: format!("w{i}.example"),
                        data_dir: dir.join(format!("witness{i}")),
                        logs: vec![vkey.clone()],
                    })
                    .unwrap(),
                )
            })
            .collect();
        let set = WitnessSet {
            witnesses: urls
                .iter()
                .zip(&witnesses)
                .map(|(url, w)| WitnessEndpoint {
                    url: url.clone(),
                    verifier: w.key().verifier(),
                })
                .collect(),
            threshold: 2,
            timeout: Duration::from_secs(2),
        };
        let policy = set.policy();
        config.witnesses = Some(set);
        let s1 = serve(l1, Arc::clone(&witnesses[0]));
        let s2 = serve(l2, Arc::clone(&witnesses[1]));
        let log = Arc::new(Log::open_local(config.clone()).await.unwrap());
        let lv = Rfc6962Verifier::new(&config.origin, public.clone());

        // 2 of 3 answer: the checkpoint is published with their cosignatures.
        let sct = log
            .add_chain(&[leaf("a.example")], ChainKind::Certificate)
            .await
            .unwrap();
        assert_eq!(sct.leaf_index().unwrap(), Some(0));
        assert!(wait_for_size(&log, 1).await);
        let note = String::from_utf8(log.read_object("checkpoint").await.unwrap()).unwrap();
        assert_eq!(policy.verify(&note, &lv).unwrap().size, 1);
        let all_three = WitnessPolicy {
            threshold: 3,
            ..policy.clone()
        };
        assert!(matches!(
            all_three.verify(&note, &lv),
            Err(PolicyError::NotMet {
                cosigned: 2,
                threshold: 3
            })
        ));
        assert_eq!(
            witnesses[0]
                .latest(&config.origin)
                .await
                .unwrap()
                .unwrap()
                .size,
            1
        );

        // One of the two stops: the next entry is committed (it gets its SCT) but its
        // checkpoint is not published while only one witness cosigns.
        s2.abort();
        let _ = s2.await;
        let sct = log
            .add_chain(&[leaf("b.example")], ChainKind::Certificate)
            .await
            .unwrap();
        assert_eq!(sct.leaf_index().unwrap(), Some(1));
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(log.head().sth.size, 1);
        let public_note = String::from_utf8(log.read_object("checkpoint").await.unwrap()).unwrap();
        assert_eq!(policy.verify(&public_note, &lv).unwrap().size, 1);

        // A restart of the log keeps serving the cosigned checkpoint, and publishes the
        // new one as soon as the second witness is back.
        drop(log);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = Arc::new(Log::open_local(config.clone()).await.unwrap());
        assert_eq!(log.head().sth.size, 1);
        let back = TcpListener::bind(
            urls[1]
                .trim_start_matches("http://")
                .trim_end_matches("/witness/"),
        )
        .await
        .unwrap();
        let s2 = serve(back, Arc::clone(&witnesses[1]));
        assert!(wait_for_size(&log, 2).await);
        let note = String::from_utf8(log.read_object("checkpoint").await.unwrap()).unwrap();
        assert_eq!(policy.verify(&note, &lv).unwrap().size, 2);
        s1.abort();
        s2.abort();
        drop(log);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
