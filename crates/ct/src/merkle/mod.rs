//! The Merkle tree of a Certificate Transparency log (RFC 6962 §2.1, RFC 9162 §2.1).
//!
//! - [`hash`]: leaf and node hashing with the 0x00/0x01 domain separation.
//! - [`compact`]: the incremental compact-range tree: append in O(log n), root at any time.
//! - [`prove`]: inclusion and consistency proof generation from any [`HashSource`]
//!   (an in-memory tree, or a tile store).
//! - [`verify`]: proof verification per RFC 9162 §2.1.3.2 and §2.1.4.2, and the subtree
//!   proofs of the Merkle Tree Certificates draft.
//! - [`memory`]: a tree that keeps every node in memory, a [`HashSource`] for tests and
//!   small logs.

pub mod compact;
pub mod hash;
pub mod memory;
pub mod prove;
pub mod verify;

pub use compact::CompactTree;
pub use hash::{HASH_LEN, Hash, HashLengthError, empty_root, leaf_hash, node_hash};
pub use memory::MemoryTree;
pub use prove::{HashSource, ProveError, consistency_proof, inclusion_proof, root_at};
pub use verify::{ProofError, verify_consistency, verify_inclusion};

/// A perfect (full) subtree of the tree: the node at `level` whose leaves are
/// `[index << level, (index + 1) << level)`. Level 0 nodes are leaf hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves (0 = leaf); at most 63.
    pub level: u8,
    /// Position among the nodes of this level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` and `index`.
    pub fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }

    /// The first leaf this node covers, or `None` if that is past `u64::MAX`.
    pub fn first_leaf(self) -> Option<u64> {
        self.index
            .checked_shl(u32::from(self.level))
            .filter(|first| first >> self.level == self.index)
    }
}

/// The largest power of two strictly smaller than `n` (`n >= 2`); 0 for smaller `n`.
pub(crate) fn split_point(n: u64) -> u64 {
    if n < 2 {
        0
    } else {
        1u64 << (63 - (n - 1).leading_zeros())
    }
}

/// Whether `[start, end)` is a subtree that can be proved: `start < end` and `start` is a
/// multiple of the smallest power of two at least `end - start` (Merkle Tree Certificates
/// draft §4.1). Every range the RFC 6962 recursion visits is one.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    match (end - start).checked_next_power_of_two() {
        Some(ceil) => start.is_multiple_of(ceil),
        None => start == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_smaller_power_of_two() {
        assert_eq!(split_point(0), 0);
        assert_eq!(split_point(1), 0);
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn valid_subtrees() {
        assert!(is_valid_subtree(0, 1));
        assert!(is_valid_subtree(0, 15));
        assert!(is_valid_subtree(8, 13));
        assert!(is_valid_subtree(4, 8));
        assert!(!is_valid_subtree(1, 15));
        assert!(!is_valid_subtree(2, 5));
        assert!(!is_valid_subtree(2, 6));
        assert!(!is_valid_subtree(3, 3));
        assert!(!is_valid_subtree(1, 9_223_372_036_854_775_810));
        assert!(is_valid_subtree(0, u64::MAX));
    }

    #[test]
    fn first_leaf_detects_overflow() {
        assert_eq!(NodeId::new(3, 2).first_leaf(), Some(16));
        assert_eq!(NodeId::new(63, 1).first_leaf(), Some(1 << 63));
        assert_eq!(NodeId::new(63, 2).first_leaf(), None);
    }
}
