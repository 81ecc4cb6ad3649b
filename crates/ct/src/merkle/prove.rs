//! Proof generation (RFC 6962 §2.1.1, §2.1.2) from any source of perfect-subtree hashes.

use core::fmt;

use super::hash::{Hash, empty_root, node_hash};
use super::{NodeId, is_valid_subtree, split_point};

/// Where proof generation reads node hashes from: an in-memory tree, or a tile store.
///
/// Only perfect subtrees are ever asked for, and only ones wholly inside the tree size
/// the proof is for, so a store that keeps full nodes (as tlog tiles do) can answer.
pub trait HashSource {
    /// Why a hash could not be read.
    type Error;

    /// The hash of the perfect subtree `id`.
    fn node_hash(&self, id: NodeId) -> Result<Hash, Self::Error>;
}

/// Why a proof could not be produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProveError<E> {
    /// The leaf or tree size asked for is not within the tree.
    OutOfRange {
        /// The leaf index or size asked for.
        index: u64,
        /// The size of the tree it must be within.
        size: u64,
    },
    /// A consistency proof was asked for from an empty tree, or from a larger tree to a
    /// smaller one.
    BadSizes {
        /// The older tree size.
        old: u64,
        /// The newer tree size.
        new: u64,
    },
    /// The range is not a subtree (Merkle Tree Certificates draft §4.1).
    InvalidSubtree {
        /// First leaf.
        start: u64,
        /// One past the last leaf.
        end: u64,
    },
    /// The hash source failed.
    Source(E),
}

impl<E: fmt::Display> fmt::Display for ProveError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProveError::OutOfRange { index, size } => {
                write!(f, "{index} is out of range for a tree of size {size}")
            }
            ProveError::BadSizes { old, new } => {
                write!(f, "no consistency proof from size {old} to size {new}")
            }
            ProveError::InvalidSubtree { start, end } => {
                write!(f, "[{start}, {end}) is not a subtree")
            }
            ProveError::Source(e) => write!(f, "reading a node hash: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ProveError<E> {}

/// `MTH(D[start:end])` for a valid subtree range (see [`is_valid_subtree`]), read from
/// `source` as a fold of the perfect subtrees that tile the range. The empty range is
/// the empty tree's root.
pub(crate) fn range_hash<S: HashSource>(
    source: &S,
    start: u64,
    end: u64,
) -> Result<Hash, ProveError<S::Error>> {
    if start == end {
        return Ok(empty_root());
    }
    if !is_valid_subtree(start, end) {
        return Err(ProveError::InvalidSubtree { start, end });
    }
    let mut peaks = Vec::new();
    let mut pos = start;
    while pos < end {
        let room = 63 - (end - pos).leading_zeros();
        let level = pos.trailing_zeros().min(room);
        peaks.push(
            source
                .node_hash(NodeId::new(level as u8, pos >> level))
                .map_err(ProveError::Source)?,
        );
        pos += 1u64 << level;
    }
    let mut peaks = peaks.into_iter().rev();
    let last = peaks.next().unwrap_or_else(empty_root);
    Ok(peaks.fold(last, |acc, left| node_hash(&left, &acc)))
}

/// The tree hash of the first `size` leaves (RFC 6962 §2.1).
pub fn root_at<S: HashSource>(source: &S, size: u64) -> Result<Hash, ProveError<S::Error>> {
    range_hash(source, 0, size)
}

/// The audit path for leaf `index` in the tree of the first `size` leaves, nearest the
/// leaf first: `PATH(m, D[n])` of RFC 6962 §2.1.1.
pub fn inclusion_proof<S: HashSource>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    subtree_inclusion_proof(source, index, 0, size)
}

/// The inclusion proof of leaf `index` in the subtree `[start, end)` (Merkle Tree
/// Certificates draft §4.3.1); for `start = 0` this is the RFC 6962 audit path.
pub fn subtree_inclusion_proof<S: HashSource>(
    source: &S,
    index: u64,
    start: u64,
    end: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if !is_valid_subtree(start, end) {
        if start == 0 {
            return Err(ProveError::OutOfRange { index, size: end });
        }
        return Err(ProveError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(ProveError::OutOfRange { index, size: end });
    }
    let mut proof = Vec::new();
    path(source, index - start, start, end - start, &mut proof)?;
    Ok(proof)
}

/// `PATH(m, D[offset:offset+n])`, appending to `out` deepest first.
fn path<S: HashSource>(
    source: &S,
    m: u64,
    offset: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(source, m, offset, k, out)?;
        out.push(range_hash(source, offset + k, offset + n)?);
    } else {
        path(source, m - k, offset + k, n - k, out)?;
        out.push(range_hash(source, offset, offset + k)?);
    }
    Ok(())
}

/// The consistency proof between the trees of the first `old` and `new` leaves:
/// `PROOF(m, D[n])` of RFC 6962 §2.1.2. Empty when the sizes are equal; `old` must not
/// be 0.
pub fn consistency_proof<S: HashSource>(
    source: &S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if old == 0 || old > new {
        return Err(ProveError::BadSizes { old, new });
    }
    let mut proof = Vec::new();
    subproof(source, old, 0, new, true, &mut proof)?;
    Ok(proof)
}

/// `SUBPROOF(m, D[offset:offset+n], b)`, appending to `out` deepest first.
fn subproof<S: HashSource>(
    source: &S,
    m: u64,
    offset: u64,
    n: u64,
    known: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    if m == n {
        if !known {
            out.push(range_hash(source, offset, offset + n)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(source, m, offset, k, known, out)?;
        out.push(range_hash(source, offset + k, offset + n)?);
    } else {
        subproof(source, m - k, offset + k, n - k, false, out)?;
        out.push(range_hash(source, offset, offset + k)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::verify::{verify_consistency, verify_inclusion, verify_subtree_inclusion};
    use crate::merkle::{MemoryTree, leaf_hash};

    /// `MTH(D[n])` straight from the recursive definition of RFC 6962 §2.1.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves {
            [] => empty_root(),
            [one] => *one,
            _ => {
                let k = split_point(leaves.len() as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn every_proof_up_to_130_leaves() {
        let leaves: Vec<Hash> = (0..130u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::new();
        for l in &leaves {
            tree.append(*l).unwrap();
        }
        let roots: Vec<Hash> = (0..=leaves.len()).map(|n| mth(&leaves[..n])).collect();
        for n in 1..=leaves.len() as u64 {
            let root = roots[n as usize];
            assert_eq!(root_at(&tree, n).unwrap(), root);
            for m in 0..n {
                let p = inclusion_proof(&tree, m, n).unwrap();
                verify_inclusion(m, n, &leaves[m as usize], &p, &root).unwrap();
                assert!(
                    verify_inclusion(m, n, &leaves[(m as usize + 1) % 130], &p, &root).is_err()
                );
            }
            for m in 1..=n {
                let p = consistency_proof(&tree, m, n).unwrap();
                verify_consistency(m, n, &p, &roots[m as usize], &root).unwrap();
                if m < n {
                    assert!(verify_consistency(m, n, &p, &root, &root).is_err());
                }
            }
        }
    }

    #[test]
    fn subtree_inclusion_proofs_verify() {
        let leaves: Vec<Hash> = (0..64u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::new();
        for l in &leaves {
            tree.append(*l).unwrap();
        }
        for (start, end) in [(0u64, 13u64), (8, 13), (16, 32), (32, 37), (63, 64)] {
            let root = mth(&leaves[start as usize..end as usize]);
            for i in start..end {
                let p = subtree_inclusion_proof(&tree, i, start, end).unwrap();
                verify_subtree_inclusion(i, start, end, &leaves[i as usize], &p, &root).unwrap();
            }
        }
        assert_eq!(
            subtree_inclusion_proof(&tree, 3, 2, 6),
            Err(ProveError::InvalidSubtree { start: 2, end: 6 })
        );
    }

    #[test]
    fn bad_requests_are_errors() {
        let mut tree = MemoryTree::new();
        for i in 0..5u8 {
            tree.append(leaf_hash(&[i])).unwrap();
        }
        assert_eq!(
            inclusion_proof(&tree, 5, 5),
            Err(ProveError::OutOfRange { index: 5, size: 5 })
        );
        assert_eq!(
            inclusion_proof(&tree, 0, 0),
            Err(ProveError::OutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            consistency_proof(&tree, 0, 3),
            Err(ProveError::BadSizes { old: 0, new: 3 })
        );
        assert_eq!(
            consistency_proof(&tree, 4, 3),
            Err(ProveError::BadSizes { old: 4, new: 3 })
        );
        assert_eq!(consistency_proof(&tree, 3, 3), Ok(Vec::new()));
        // Past the tree: the source reports the missing node.
        assert!(matches!(
            inclusion_proof(&tree, 0, 6),
            Err(ProveError::Source(_))
        ));
        assert!(matches!(root_at(&tree, 9), Err(ProveError::Source(_))));
    }
}
