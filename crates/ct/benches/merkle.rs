//! Merkle tree benchmarks: appending a million leaves to the compact tree and taking the
//! root, one append at a million leaves (it must stay O(log n)), and proofs.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use zdns_ct::merkle::{CompactTree, MemoryTree, consistency_proof, inclusion_proof, leaf_hash};

const MILLION: u64 = 1_000_000;

fn leaves(n: u64) -> Vec<zdns_ct::merkle::Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

fn bench(c: &mut Criterion) {
    let hashes = leaves(MILLION);
    let mut group = c.benchmark_group("merkle");
    group.sample_size(10);
    group.bench_function("append 1M leaves + root", |b| {
        b.iter(|| {
            let mut tree = CompactTree::new();
            for h in &hashes {
                let _ = tree.append(*h);
            }
            black_box(tree.root())
        })
    });
    group.finish();

    let mut at_million = CompactTree::new();
    for h in &hashes {
        let _ = at_million.append(*h);
    }
    c.bench_function("append 1 + root at 1M", |b| {
        b.iter_batched(
            || at_million.clone(),
            |mut tree| {
                let _ = tree.append(leaf_hash(b"new"));
                black_box(tree.root())
            },
            BatchSize::SmallInput,
        )
    });

    let mut memory = MemoryTree::new();
    for h in hashes.iter().take(1 << 16) {
        let _ = memory.append(*h);
    }
    let size = memory.size();
    c.bench_function("inclusion proof at 65536", |b| {
        b.iter(|| black_box(inclusion_proof(&memory, black_box(12_345), size)))
    });
    c.bench_function("consistency proof 40000 -> 65536", |b| {
        b.iter(|| black_box(consistency_proof(&memory, black_box(40_000), size)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
