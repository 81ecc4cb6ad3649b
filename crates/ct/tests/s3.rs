//! The object-store backend against `moto_server` (PyPI `moto[server]`) on loopback:
//! the storage contract (conditional create and update refuse a stale writer), and a
//! log that runs on it, restarts, and keeps its entries and SCTs.
#![cfg(feature = "s3")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256};
use zdns_ct::chain::ChainKind;
use zdns_ct::log::{Log, LogConfig};
use zdns_ct::s3::{ObjectStorage, S3Config};
use zdns_ct::storage::{Storage, StorageError};

/// A moto server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A moto server with the `buckets` created.
fn moto(buckets: &[&str]) -> Option<Moto> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
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
        eprintln!("notice: moto_server not found; skipping the S3 tests");
        return None;
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let server = Moto { child, endpoint };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let made = Command::new("python3")
        .args([
            "-c",
            &format!(
                "import boto3; s3 = boto3.client('s3', endpoint_url='{}', aws_access_key_id='test', \
                 aws_secret_access_key='test', region_name='us-east-1')\n\
                 for b in {buckets:?}: s3.create_bucket(Bucket=b)",
                server.endpoint
            ),
        ])
        .status()
        .unwrap();
    assert!(made.success(), "creating the buckets");
    Some(server)
}

fn storage(server: &Moto, bucket: &str) -> ObjectStorage {
    ObjectStorage::s3(&S3Config {
        endpoint: Some(server.endpoint.clone()),
        bucket: bucket.into(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_contract_and_a_log_on_s3() {
    let Some(server) = moto(&["ct-store", "ct-log"]) else {
        return;
    };
    let s = storage(&server, "ct-store");
    assert_eq!(s.get("tile/0/000").await.unwrap(), None);
    s.put("tile/0/000", b"abc".to_vec()).await.unwrap();
    assert_eq!(s.get("tile/0/000").await.unwrap(), Some(b"abc".to_vec()));
    assert!(matches!(s.get("../x").await, Err(StorageError::BadKey(_))));

    let v1 = s
        .put_if("lock/checkpoint", b"one".to_vec(), None)
        .await
        .unwrap();
    assert!(matches!(
        s.put_if("lock/checkpoint", b"two".to_vec(), None).await,
        Err(StorageError::Conflict(_))
    ));
    let (data, v) = s.get_versioned("lock/checkpoint").await.unwrap().unwrap();
    assert_eq!((data.as_slice(), &v), (&b"one"[..], &v1));
    let v2 = s
        .put_if("lock/checkpoint", b"two".to_vec(), Some(&v1))
        .await
        .unwrap();
    assert!(matches!(
        s.put_if("lock/checkpoint", b"stale".to_vec(), Some(&v1))
            .await,
        Err(StorageError::Conflict(_))
    ));
    s.put_if("lock/checkpoint", b"three".to_vec(), Some(&v2))
        .await
        .unwrap();

    // A log on a fresh bucket.
    let dir = std::env::temp_dir().join(format!("zdns-ct-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "S3 Root");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
    let root = p.self_signed(&root_key).unwrap();
    std::fs::write(dir.join("roots.pem"), root.pem()).unwrap();
    let issuer = rcgen::Issuer::new(p, root_key);
    let mut config = LogConfig::embedded(&dir);
    config.period = Duration::from_millis(50);
    let log = Log::open(config.clone(), Arc::new(storage(&server, "ct-log")))
        .await
        .unwrap();
    let mut scts = Vec::new();
    for i in 0..3 {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let leaf = CertificateParams::new(vec![format!("s{i}.example")])
            .unwrap()
            .signed_by(&key, &issuer)
            .unwrap()
            .der()
            .to_vec();
        let sct = log
            .add_chain(std::slice::from_ref(&leaf), ChainKind::Certificate)
            .await
            .unwrap();
        scts.push((leaf, sct));
    }
    let head = log.head();
    assert_eq!(head.sth.size, 3);
    drop(log);
    let log = Log::open(config, Arc::new(storage(&server, "ct-log")))
        .await
        .unwrap();
    assert_eq!(log.head().sth.root, head.sth.root);
    for (leaf, sct) in &scts {
        let again = log
            .add_chain(std::slice::from_ref(leaf), ChainKind::Certificate)
            .await
            .unwrap();
        assert_eq!(&again, sct);
        let index = sct.leaf_index().unwrap().unwrap();
        let proof = log.inclusion_proof(index, 3).await.unwrap();
        let (entry, _) = log.entries(index, index).await.unwrap().remove(0);
        zdns_ct::merkle::verify_inclusion(
            index,
            3,
            &entry.leaf_hash().unwrap(),
            &proof,
            &head.sth.root,
        )
        .unwrap();
    }
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}
