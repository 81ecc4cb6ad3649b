//! Proof verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency), and the
//! subtree inclusion and consistency proofs of the Merkle Tree Certificates draft
//! (draft-ietf-plants-merkle-tree-certs §4.3.2, §4.4.3).

use core::fmt;

use super::hash::{Hash, empty_root, node_hash};
use super::is_valid_subtree;

/// Why a proof was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofError {
    /// The leaf index is not below the tree size (or outside the subtree).
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size, or the end of the subtree.
        size: u64,
    },
    /// The tree sizes cannot have a consistency proof (old is 0 or larger than new).
    BadSizes {
        /// The older size (or subtree end).
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// `[start, end)` is not a subtree.
    InvalidSubtree {
        /// First leaf.
        start: u64,
        /// One past the last leaf.
        end: u64,
    },
    /// The proof has more hashes than the tree shape allows.
    TooLong,
    /// The proof has fewer hashes than the tree shape needs.
    TooShort,
    /// The proof is well formed but the hashes it leads to do not match.
    RootMismatch,
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProofError::IndexOutOfRange { index, size } => {
                write!(f, "leaf index {index} is not below {size}")
            }
            ProofError::BadSizes { old, new } => {
                write!(f, "no consistency proof from size {old} to size {new}")
            }
            ProofError::InvalidSubtree { start, end } => {
                write!(f, "[{start}, {end}) is not a subtree")
            }
            ProofError::TooLong => write!(f, "the proof has too many hashes"),
            ProofError::TooShort => write!(f, "the proof has too few hashes"),
            ProofError::RootMismatch => write!(f, "the proof does not lead to the expected hash"),
        }
    }
}

impl std::error::Error for ProofError {}

/// The root that an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1–5), for checking
/// against a root obtained some other way.
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::TooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::TooShort);
    }
    Ok(r)
}

/// Verifies that `leaf` is the leaf hash at `index` in the tree of `size` leaves with
/// hash `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    matches(&root_from_inclusion_proof(index, size, leaf, proof)?, root)
}

/// Verifies that the tree of `new` leaves with hash `new_root` extends the tree of `old`
/// leaves with hash `old_root` (RFC 9162 §2.1.4.2). Equal sizes need an empty proof and
/// equal roots; an empty old tree has no proof.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old == 0 || old > new {
        return Err(ProofError::BadSizes { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::TooLong);
        }
        return matches(old_root, new_root);
    }
    // Step 2: when the old tree is a perfect subtree its root starts the path.
    let (first, rest) = if old.is_power_of_two() {
        (old_root, proof)
    } else {
        proof.split_first().ok_or(ProofError::TooShort)?
    };
    let mut fnode = old - 1;
    let mut snode = new - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if snode == 0 {
            return Err(ProofError::TooLong);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::TooShort);
    }
    matches(&fr, old_root)?;
    matches(&sr, new_root)
}

/// Verifies that `leaf` is the leaf hash at `index` in the subtree `[start, end)` whose
/// hash is `subtree_root` (Merkle Tree Certificates draft §4.3.2).
pub fn verify_subtree_inclusion(
    index: u64,
    start: u64,
    end: u64,
    leaf: &Hash,
    proof: &[Hash],
    subtree_root: &Hash,
) -> Result<(), ProofError> {
    if !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    if index < start || index >= end {
        return Err(ProofError::IndexOutOfRange { index, size: end });
    }
    verify_inclusion(index - start, end - start, leaf, proof, subtree_root)
}

/// Verifies that the subtree `[start, end)` with hash `subtree_root` is part of the tree
/// of `size` leaves with hash `root` (Merkle Tree Certificates draft §4.4.3). An empty
/// subtree is trivially contained: its hash must be the empty tree's and its proof empty.
pub fn verify_subtree_consistency(
    start: u64,
    end: u64,
    size: u64,
    proof: &[Hash],
    subtree_root: &Hash,
    root: &Hash,
) -> Result<(), ProofError> {
    if end > size {
        return Err(ProofError::BadSizes {
            old: end,
            new: size,
        });
    }
    if start == end {
        if !proof.is_empty() {
            return Err(ProofError::TooLong);
        }
        return matches(subtree_root, &empty_root());
    }
    if !is_valid_subtree(start, end) {
        return Err(ProofError::InvalidSubtree { start, end });
    }
    let mut fnode = start;
    let mut snode = end - 1;
    let mut tnode = size - 1;
    // Steps 3–4: climb to the lowest node that the subtree and the tree share a path from.
    if snode == tnode {
        while fnode != snode {
            fnode >>= 1;
            snode >>= 1;
            tnode >>= 1;
        }
    } else {
        while fnode != snode && snode & 1 == 1 {
            fnode >>= 1;
            snode >>= 1;
            tnode >>= 1;
        }
    }
    let (mut fr, mut sr, rest) = if fnode == snode {
        (*subtree_root, *subtree_root, proof)
    } else {
        let (first, rest) = proof.split_first().ok_or(ProofError::TooShort)?;
        (*first, *first, rest)
    };
    for c in rest {
        if tnode == 0 {
            return Err(ProofError::TooLong);
        }
        if snode & 1 == 1 || snode == tnode {
            if fnode < snode {
                fr = node_hash(c, &fr);
            }
            sr = node_hash(c, &sr);
            while snode & 1 == 0 && fnode < snode {
                fnode >>= 1;
                snode >>= 1;
                tnode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
        tnode >>= 1;
    }
    if tnode != 0 {
        return Err(ProofError::TooShort);
    }
    matches(&fr, subtree_root)?;
    matches(&sr, root)
}

fn matches(got: &Hash, want: &Hash) -> Result<(), ProofError> {
    if got == want {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}
