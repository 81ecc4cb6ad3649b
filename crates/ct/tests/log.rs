//! The running log end to end: submissions get SCTs for durable entries, duplicates get
//! the same SCT, proofs from tiles verify, back-pressure, roots added at runtime, and
//! crash recovery with storage that stops at every possible write.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cloned_ref_to_slice_refs
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, IsCa, KeyPair, PKCS_ECDSA_P256_SHA256,
};
use zdns_ct::chain::ChainKind;
use zdns_ct::log::{AddError, Log, LogConfig, LogError};
use zdns_ct::merkle::{MemoryTree, root_at, verify_consistency, verify_inclusion};
use zdns_ct::sct::Sct;
use zdns_ct::storage::{BoxFuture, FsStorage, Storage, StorageError, Version, Versioned};
use zdns_ct::tiles::TileId;
use zdns_ct::tiles::hashes::{TileReader, TileSource};

/// A CA that issues leaf certificates and precertificates.
struct Ca {
    der: Vec<u8>,
    pem: String,
    issuer: rcgen::Issuer<'static, KeyPair>,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(rcgen::DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = ca_params(name).self_signed(&key).unwrap();
        Ca {
            der: cert.der().to_vec(),
            pem: cert.pem(),
            issuer: rcgen::Issuer::new(ca_params(name), key),
        }
    }

    fn leaf(&self, name: &str, precert: bool) -> Vec<u8> {
        self.leaf_from(name, precert, rcgen::date_time_ymd(1975, 1, 1))
    }

    /// A leaf valid from `not_before`.
    fn leaf_from(&self, name: &str, precert: bool, not_before: time::OffsetDateTime) -> Vec<u8> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.not_before = not_before;
        if precert {
            let mut poison =
                CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 11129, 2, 4, 3], vec![5, 0]);
            poison.set_criticality(true);
            p.custom_extensions.push(poison);
        }
        p.signed_by(&key, &self.issuer).unwrap().der().to_vec()
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "zdns-ct-log-{name}-{}-{}",
        std::process::id(),
        getrandom_u64()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn getrandom_u64() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn config(dir: &std::path::Path, ca: &Ca) -> LogConfig {
    std::fs::write(dir.join("roots.pem"), &ca.pem).unwrap();
    let mut c = LogConfig::embedded(dir);
    c.period = Duration::from_millis(20);
    c
}

/// Reads tiles from a storage directory directly.
struct Files(PathBuf);

impl TileReader for &Files {
    type Error = String;
    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, String> {
        std::fs::read(self.0.join(tile.path()))
            .or_else(|_| std::fs::read(self.0.join(tile.full().path())))
            .map_err(|e| format!("{}: {e}", tile.path()))
    }
}

/// Checks that every SCT'd entry is in the log at its index and that the tiles hash to
/// the checkpoint.
async fn check_log(log: &Log, storage_dir: &std::path::Path, scts: &[(Vec<u8>, bool, Sct)]) {
    let head = log.head();
    let files = Files(storage_dir.to_path_buf());
    let source = TileSource::new(&files, head.sth.size);
    assert_eq!(root_at(&source, head.sth.size).unwrap(), head.sth.root);
    head.sth.verify(log.key().public()).unwrap();
    for (der, precert, sct) in scts {
        let index = sct.leaf_index().unwrap().unwrap();
        assert!(
            index < head.sth.size,
            "SCT'd entry {index} is past the tree"
        );
        let (leaf, _) = log.entries(index, index).await.unwrap().remove(0);
        assert_eq!(leaf.entry.timestamp, sct.timestamp);
        sct.verify(log.key().public(), &leaf.entry.entry).unwrap();
        assert_eq!(log.index_of_leaf(der), Some(index));
        let _ = precert;
        let proof = log.inclusion_proof(index, head.sth.size).await.unwrap();
        verify_inclusion(
            index,
            head.sth.size,
            &leaf.leaf_hash().unwrap(),
            &proof,
            &head.sth.root,
        )
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_dedup_prove_and_reopen() {
    let dir = temp("basic");
    let ca = Ca::new("Test Root");
    let log = Log::open_local(config(&dir, &ca)).await.unwrap();
    assert_eq!(log.head().sth.size, 0);
    let mut scts = Vec::new();
    let mut handles = Vec::new();
    let log = Arc::new(log);
    for i in 0..40 {
        let precert = i % 4 == 0;
        let leaf = ca.leaf(&format!("h{i}.example"), precert);
        let log = Arc::clone(&log);
        let kind = if precert {
            ChainKind::Precertificate
        } else {
            ChainKind::Certificate
        };
        handles.push(tokio::spawn(async move {
            let sct = log.add_chain(&[leaf.clone()], kind).await.unwrap();
            (leaf, precert, sct)
        }));
    }
    for h in handles {
        scts.push(h.await.unwrap());
    }
    let mut indexes: Vec<u64> = scts
        .iter()
        .map(|(_, _, s)| s.leaf_index().unwrap().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, (0..40).collect::<Vec<_>>());
    let storage_dir = dir.join("storage");
    check_log(&log, &storage_dir, &scts).await;

    // The same leaf, again, alone or with the root: the same SCT.
    let (der, _, sct) = &scts[1];
    assert_eq!(
        &log.add_chain(&[der.clone()], ChainKind::Certificate)
            .await
            .unwrap(),
        sct
    );
    assert_eq!(
        &log.add_chain(&[der.clone(), ca.der.clone()], ChainKind::Certificate)
            .await
            .unwrap(),
        sct
    );
    assert_eq!(log.head().sth.size, 40);

    // Consistency between two sizes, from the tiles.
    let mut old = MemoryTree::new();
    for (leaf, _) in log.entries(0, 16).await.unwrap() {
        old.append(leaf.leaf_hash().unwrap()).unwrap();
    }
    assert_eq!(old.size(), 17);
    let old_root = old.root();
    let proof = log.consistency_proof(17, 40).await.unwrap();
    verify_consistency(17, 40, &proof, &old_root, &log.head().sth.root).unwrap();
    assert!(log.consistency_proof(17, 41).await.is_err());
    assert!(log.inclusion_proof(40, 40).await.is_err());

    // Refused: a chain from an unknown root, a precertificate to add-chain.
    let stranger = Ca::new("Stranger");
    assert!(matches!(
        log.add_chain(&[stranger.leaf("x.example", false)], ChainKind::Certificate)
            .await,
        Err(AddError::Chain(_))
    ));
    assert!(matches!(
        log.add_chain(&[ca.leaf("p.example", true)], ChainKind::Certificate)
            .await,
        Err(AddError::Chain(_))
    ));
    // Roots added at runtime take effect at once.
    assert_eq!(log.add_roots(&stranger.pem).unwrap(), 1);
    let s = log
        .add_chain(&[stranger.leaf("y.example", false)], ChainKind::Certificate)
        .await
        .unwrap();
    assert_eq!(s.leaf_index().unwrap(), Some(40));

    // Reopen: same head, same SCTs for the same leaves, and the log goes on.
    let head = log.head();
    drop(log);
    let log = Log::open_local(config(&dir, &ca)).await.unwrap();
    assert_eq!(log.head().sth.size, head.sth.size);
    assert_eq!(log.head().sth.root, head.sth.root);
    assert_eq!(
        log.roots().certs().len(),
        1,
        "roots.pem was rewritten by the test"
    );
    let (der, precert, sct) = &scts[0];
    let kind = if *precert {
        ChainKind::Precertificate
    } else {
        ChainKind::Certificate
    };
    assert_eq!(&log.add_chain(&[der.clone()], kind).await.unwrap(), sct);
    let next = log
        .add_chain(&[ca.leaf("after.example", false)], ChainKind::Certificate)
        .await
        .unwrap();
    assert_eq!(next.leaf_index().unwrap(), Some(41));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_full_pool_pushes_back() {
    let dir = temp("busy");
    let ca = Ca::new("Busy Root");
    let mut c = config(&dir, &ca);
    c.pool_size = 1;
    c.period = Duration::from_secs(3600);
    let log = Arc::new(Log::open_local(c.clone()).await.unwrap());
    // One process owns a data directory.
    assert!(matches!(Log::open_local(c).await, Err(LogError::Io(_))));
    let first = {
        let log = Arc::clone(&log);
        let leaf = ca.leaf("a.example", false);
        tokio::spawn(async move { log.add_chain(&[leaf], ChainKind::Certificate).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pending = ca.leaf("b.example", false);
    assert!(matches!(
        log.add_chain(&[pending], ChainKind::Certificate).await,
        Err(AddError::Busy { .. })
    ));
    first.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Benchmark pre-filling wakes the sequencer whenever the pool is full, so it does not
/// wait for the period (an hour here): several pools' worth land in the tree at once,
/// and the tiles hash to the checkpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefill_does_not_wait_for_the_period() {
    let dir = temp("prefill");
    let ca = Ca::new("Prefill Root");
    let mut c = config(&dir, &ca);
    c.pool_size = 1000;
    c.period = Duration::from_secs(3600);
    let log = Log::open_local(c).await.unwrap();
    tokio::time::timeout(Duration::from_secs(120), log.prefill_synthetic(0, 3500))
        .await
        .expect("pre-filling waited for the period")
        .unwrap();
    assert_eq!(log.head().sth.size, 3500);
    assert!(log.commit_times().len() >= 4);
    check_log(&log, &dir.join("storage"), &[]).await;
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With a batch size, the sequencer starts as soon as that many submissions are
/// pending instead of waiting for the period (an hour here), and the SCTs it answers
/// with are for entries in the log; fewer than a batch wait for the period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_does_not_wait_for_the_period() {
    let dir = temp("batch");
    let ca = Ca::new("Batch Root");
    let mut c = config(&dir, &ca);
    c.period = Duration::from_secs(3600);
    c.batch_size = 3;
    let log = Arc::new(Log::open_local(c).await.unwrap());
    let submit = |der: Vec<u8>| {
        let log = Arc::clone(&log);
        tokio::spawn(async move { log.add_chain(&[der], ChainKind::Certificate).await })
    };
    let leaves: Vec<Vec<u8>> = (0..3)
        .map(|i| ca.leaf(&format!("b{i}.example"), false))
        .collect();
    let tasks: Vec<_> = leaves.iter().map(|l| submit(l.clone())).collect();
    let mut scts = Vec::new();
    for (leaf, task) in leaves.into_iter().zip(tasks) {
        let sct = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("a full batch waited for the period")
            .unwrap()
            .unwrap();
        scts.push((leaf, false, sct));
    }
    let mut indexes: Vec<_> = scts
        .iter()
        .map(|(_, _, s)| s.leaf_index().unwrap().unwrap())
        .collect();
    indexes.sort();
    assert_eq!(indexes, [0, 1, 2]);
    assert_eq!(log.head().sth.size, 3);
    check_log(&log, &dir.join("storage"), &scts).await;
    // One submission is not a batch: it waits for the period.
    let alone = submit(ca.leaf("alone.example", false));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!alone.is_finished());
    alone.abort();
    drop(log);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn old_precertificates_yield_the_pool_to_fresh_ones() {
    let dir = temp("priority");
    let ca = Ca::new("Priority Root");
    let mut c = config(&dir, &ca);
    c.pool_size = 2;
    c.period = Duration::from_secs(3600);
    let log = Arc::new(Log::open_local(c).await.unwrap());
    let now = time::OffsetDateTime::now_utc();
    let old = rcgen::date_time_ymd(2020, 1, 1);
    let submit = |der: Vec<u8>| {
        let log = Arc::clone(&log);
        tokio::spawn(async move { log.add_chain(&[der], ChainKind::Precertificate).await })
    };
    let settle = || tokio::time::sleep(Duration::from_millis(50));
    // An old precertificate takes the old share of the pool (one slot of two)...
    let first_old = submit(ca.leaf_from("old1.example", true, old));
    settle().await;
    // ...so a second old one is refused while the pool still has room.
    assert!(matches!(
        submit(ca.leaf_from("old2.example", true, old))
            .await
            .unwrap(),
        Err(AddError::Busy { .. })
    ));
    // A fresh one (issued now, or within the 48 hours of allowed backdating) fills it.
    let fresh = submit(ca.leaf_from("new1.example", true, now - time::Duration::hours(47)));
    settle().await;
    // The next fresh one finds the pool full and evicts the old one, which is told to
    // retry.
    let fresh2 = submit(ca.leaf_from("new2.example", true, now));
    settle().await;
    assert!(matches!(
        first_old.await.unwrap(),
        Err(AddError::Busy { .. })
    ));
    // With only fresh entries pending, the full pool refuses even fresh ones.
    assert!(matches!(
        submit(ca.leaf_from("new3.example", true, now))
            .await
            .unwrap(),
        Err(AddError::Busy { .. })
    ));
    assert!(!fresh.is_finished() && !fresh2.is_finished());
    fresh.abort();
    fresh2.abort();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Storage that stops working (as if the process died) after a number of writes.
struct Dying {
    inner: FsStorage,
    writes_left: AtomicUsize,
}

impl Dying {
    fn alive(&self) -> Result<(), StorageError> {
        let ok = self
            .writes_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if ok {
            Ok(())
        } else {
            Err(StorageError::Io("killed".into()))
        }
    }
}

impl Storage for Dying {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StorageError>> {
        self.inner.get(key)
    }
    fn get_versioned<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Versioned, StorageError>> {
        self.inner.get_versioned(key)
    }
    fn put<'a>(&'a self, key: &'a str, data: Vec<u8>) -> BoxFuture<'a, Result<(), StorageError>> {
        match self.alive() {
            Ok(()) => self.inner.put(key, data),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
    fn put_if<'a>(
        &'a self,
        key: &'a str,
        data: Vec<u8>,
        expected: Option<&'a Version>,
    ) -> BoxFuture<'a, Result<Version, StorageError>> {
        match self.alive() {
            Ok(()) => self.inner.put_if(key, data, expected),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_write_recovers_to_a_consistent_log() {
    let ca = Ca::new("Crash Root");
    let leaves: Vec<Vec<u8>> = (0..12)
        .map(|i| ca.leaf(&format!("c{i}.example"), false))
        .collect();
    // Each round lets the log make `budget` more writes after opening, then kills it.
    for budget in 0..30 {
        let dir = temp("crash");
        let storage_dir = dir.join("storage");
        // A log with a few entries already.
        let log = Log::open_local(config(&dir, &ca)).await.unwrap();
        let mut scts = Vec::new();
        for leaf in &leaves[..3] {
            let sct = log
                .add_chain(&[leaf.clone()], ChainKind::Certificate)
                .await
                .unwrap();
            scts.push((leaf.clone(), false, sct));
        }
        drop(log);
        let dying = Arc::new(Dying {
            inner: FsStorage::new(&storage_dir).unwrap(),
            writes_left: AtomicUsize::new(usize::MAX),
        });
        let log = Arc::new(Log::open(config(&dir, &ca), dying.clone()).await.unwrap());
        dying.writes_left.store(budget, Ordering::SeqCst);
        let mut handles = Vec::new();
        for (i, leaf) in leaves[3..].iter().enumerate() {
            let log = Arc::clone(&log);
            let leaf = leaf.clone();
            handles.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(15 * i as u64)).await;
                let r = tokio::time::timeout(
                    Duration::from_millis(400),
                    log.add_chain(&[leaf.clone()], ChainKind::Certificate),
                )
                .await;
                (leaf, r)
            }));
        }
        for h in handles {
            if let (leaf, Ok(Ok(sct))) = h.await.unwrap() {
                scts.push((leaf, false, sct));
            }
        }
        drop(log);
        // Restart on the same files: everything that got an SCT is there.
        let log = Log::open_local(config(&dir, &ca)).await.unwrap();
        check_log(&log, &storage_dir, &scts).await;
        // Every leaf submitted again gets an SCT; the ones that had one get the same.
        for leaf in &leaves {
            let sct = log
                .add_chain(&[leaf.clone()], ChainKind::Certificate)
                .await
                .unwrap();
            if let Some((_, _, old)) = scts.iter().find(|(l, _, _)| l == leaf) {
                assert_eq!(&sct, old, "budget {budget}");
            }
        }
        drop(log);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
