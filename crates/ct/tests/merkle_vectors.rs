//! The Merkle vectors in `shared/testdata/ct/merkle`: the RFC 6962 reference tree, and
//! every inclusion, consistency, subtree inclusion and subtree consistency case (the
//! transparency-dev test vectors). Positive cases must verify, negative ones must not.
//!
//! Leaf hashes and proof nodes are fed to hashing, so a value that is not 32 bytes is
//! rejected when it is parsed into a [`Hash`] (as the reference implementation rejects a
//! leaf hash of the wrong size). Roots are only ever compared, so a root that is not 32
//! bytes (e.g. "don't care 1") is replaced by a stand-in that keeps equality between the
//! case's values and can never equal a computed hash.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zdns_ct::merkle::verify::{
    verify_consistency, verify_inclusion, verify_subtree_consistency, verify_subtree_inclusion,
};
use zdns_ct::merkle::{
    CompactTree, Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root_at,
};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// A value that is hashed: must be 32 bytes.
fn hashed(v: &Value) -> Option<Hash> {
    Hash::try_from(b64(v).as_slice()).ok()
}

/// A value that is only compared: stand in for a non-hash.
fn root(v: &Value) -> Hash {
    let bytes = b64(v);
    Hash::try_from(bytes.as_slice()).unwrap_or_else(|_| {
        Hash(Sha256::digest([b"not a hash:".as_slice(), &bytes].concat()).into())
    })
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(hashed).collect(),
        _ => panic!("proof is neither null nor an array"),
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

struct Reference {
    leaves: Vec<Vec<u8>>,
    levels: Vec<Vec<Hash>>,
    roots: Vec<Hash>,
    tree: MemoryTree,
}

fn reference(dir: &Path) -> Reference {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("reference-tree.json")).unwrap())
            .unwrap();
    let hashes = |v: &Value| -> Vec<Hash> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::try_from(hex(h.as_str().unwrap()).as_slice()).unwrap())
            .collect()
    };
    let leaves: Vec<Vec<u8>> = doc["leaf_inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| hex(l.as_str().unwrap()))
        .collect();
    let levels: Vec<Vec<Hash>> = doc["node_hashes_by_level"]
        .as_array()
        .unwrap()
        .iter()
        .map(hashes)
        .collect();
    let roots = hashes(&doc["root_by_size"]);
    let mut tree = MemoryTree::new();
    for l in &leaves {
        tree.append(leaf_hash(l)).unwrap();
    }
    Reference {
        leaves,
        levels,
        roots,
        tree,
    }
}

#[test]
fn reference_tree() {
    let Some(dir) = common::testdata("merkle") else {
        return;
    };
    let r = reference(&dir);
    assert_eq!(r.leaves.len(), 8);
    assert_eq!(r.roots.len(), 9);
    // Leaf hashes and every perfect node, level by level.
    for (level, nodes) in r.levels.iter().enumerate() {
        for (index, want) in nodes.iter().enumerate() {
            let id = zdns_ct::merkle::NodeId::new(level as u8, index as u64);
            use zdns_ct::merkle::HashSource;
            assert_eq!(&r.tree.node_hash(id).unwrap(), want, "node {id:?}");
        }
    }
    // The compact tree's root after each append, and the root at every earlier size.
    let mut compact = CompactTree::new();
    assert_eq!(compact.root(), r.roots[0]);
    for (i, l) in r.leaves.iter().enumerate() {
        compact.append(leaf_hash(l)).unwrap();
        assert_eq!(compact.root(), r.roots[i + 1], "root at size {}", i + 1);
    }
    for (size, want) in r.roots.iter().enumerate() {
        assert_eq!(&root_at(&r.tree, size as u64).unwrap(), want);
        assert_eq!(&compact.root_at(&r.tree, size as u64).unwrap(), want);
    }
    // Every generated proof verifies, and tampering with any node breaks it.
    for n in 1..=8u64 {
        for m in 0..n {
            let leaf = leaf_hash(&r.leaves[m as usize]);
            let p = inclusion_proof(&r.tree, m, n).unwrap();
            verify_inclusion(m, n, &leaf, &p, &r.roots[n as usize]).unwrap();
            for i in 0..p.len() {
                let mut bad = p.clone();
                bad[i].0[0] ^= 1;
                assert!(verify_inclusion(m, n, &leaf, &bad, &r.roots[n as usize]).is_err());
            }
        }
        for m in 1..=n {
            let p = consistency_proof(&r.tree, m, n).unwrap();
            verify_consistency(m, n, &p, &r.roots[m as usize], &r.roots[n as usize]).unwrap();
            for i in 0..p.len() {
                let mut bad = p.clone();
                bad[i].0[31] ^= 0x80;
                assert!(
                    verify_consistency(m, n, &bad, &r.roots[m as usize], &r.roots[n as usize])
                        .is_err()
                );
            }
        }
    }
}

/// Runs `check` on every case under `sub` (at least `min_cases` of them, `min_ok` of
/// them positive); `check` says whether the case verified.
fn run_cases(sub: &str, min_cases: usize, min_ok: usize, check: impl Fn(&Value) -> bool) {
    let Some(dir) = common::testdata("merkle") else {
        return;
    };
    let files = common::json_files(&dir.join(sub));
    let mut wrong = Vec::new();
    let mut positive = 0;
    for f in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let want_ok = !case["wantErr"].as_bool().unwrap();
        positive += usize::from(want_ok);
        if check(&case) != want_ok {
            wrong.push(format!("{} ({})", f.display(), case["desc"]));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        files.len(),
        wrong.join("\n")
    );
    assert!(
        files.len() >= min_cases,
        "only {} cases under {sub}",
        files.len()
    );
    assert!(
        positive >= min_ok,
        "only {positive} positive cases under {sub}"
    );
}

#[test]
fn inclusion_vectors() {
    let reference = common::testdata("merkle").map(|d| reference(&d));
    run_cases("inclusion", 98, 6, |c| {
        let (Some(leaf), Some(p)) = (hashed(&c["leafHash"]), proof(&c["proof"])) else {
            return false;
        };
        let (index, size, want_root) = (u(&c["leafIdx"]), u(&c["treeSize"]), root(&c["root"]));
        let ok = verify_inclusion(index, size, &leaf, &p, &want_root).is_ok();
        // A positive case from the reference tree: we generate the same proof.
        if let Some(r) = &reference
            && ok
            && size <= 8
            && r.roots[size as usize] == want_root
        {
            assert_eq!(inclusion_proof(&r.tree, index, size).unwrap(), p);
        }
        ok
    });
}

#[test]
fn consistency_vectors() {
    let reference = common::testdata("merkle").map(|d| reference(&d));
    run_cases("consistency", 98, 6, |c| {
        let Some(p) = proof(&c["proof"]) else {
            return false;
        };
        let (old, new) = (u(&c["size1"]), u(&c["size2"]));
        let (r1, r2) = (root(&c["root1"]), root(&c["root2"]));
        let ok = verify_consistency(old, new, &p, &r1, &r2).is_ok();
        if let Some(r) = &reference
            && ok
            && new <= 8
            && r.roots[new as usize] == r2
        {
            assert_eq!(consistency_proof(&r.tree, old, new).unwrap(), p);
        }
        ok
    });
}

#[test]
fn subtree_inclusion_vectors() {
    run_cases("subtreeinclusion", 204, 12, |c| {
        let (Some(leaf), Some(p)) = (hashed(&c["leafHash"]), proof(&c["proof"])) else {
            return false;
        };
        verify_subtree_inclusion(
            u(&c["leafIdx"]),
            u(&c["start"]),
            u(&c["end"]),
            &leaf,
            &p,
            &root(&c["root"]),
        )
        .is_ok()
    });
}

#[test]
fn subtree_consistency_vectors() {
    run_cases("subtreeconsistency", 118, 12, |c| {
        let Some(p) = proof(&c["proof"]) else {
            return false;
        };
        verify_subtree_consistency(
            u(&c["start"]),
            u(&c["end"]),
            u(&c["size"]),
            &p,
            &root(&c["root1"]),
            &root(&c["root2"]),
        )
        .is_ok()
    });
}
