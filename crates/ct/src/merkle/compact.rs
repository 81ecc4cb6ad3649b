//! The compact-range tree: the roots of the perfect subtrees that make up a tree of any
//! size, enough to append a leaf in O(log n) and to compute the root (RFC 6962 §2.1).

use core::fmt;

use super::NodeId;
use super::hash::{Hash, empty_root, node_hash};
use super::prove::{HashSource, ProveError, range_hash};

/// A Merkle tree kept as its compact range: for each set bit of the size, from the most
/// significant down, the root of the perfect subtree of that many leaves.
///
/// Appending a leaf merges equal-sized subtrees like a binary counter, so it costs at most
/// 64 node hashes, and the tree hash is a fold over at most 64 peaks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactTree {
    size: u64,
    peaks: Vec<Hash>,
}

/// Why a compact tree could not be built or grown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompactError {
    /// The tree already holds `u64::MAX` leaves.
    Full,
    /// The number of peaks given does not match the number of set bits of the size.
    PeakCount {
        /// The tree size.
        size: u64,
        /// How many peaks were given.
        got: usize,
    },
}

impl fmt::Display for CompactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompactError::Full => write!(f, "the tree is full"),
            CompactError::PeakCount { size, got } => write!(
                f,
                "a tree of size {size} has {} peaks, got {got}",
                size.count_ones()
            ),
        }
    }
}

impl std::error::Error for CompactError {}

impl CompactTree {
    /// The empty tree.
    pub fn new() -> Self {
        CompactTree::default()
    }

    /// A tree of `size` leaves from its peaks, largest subtree first (as [`Self::peaks`]
    /// returns them), e.g. when restoring a log from storage.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Result<Self, CompactError> {
        if peaks.len() != size.count_ones() as usize {
            return Err(CompactError::PeakCount {
                size,
                got: peaks.len(),
            });
        }
        Ok(CompactTree { size, peaks })
    }

    /// The compact tree of the first `size` leaves of the tree behind `source`.
    pub fn from_source<S: HashSource>(source: &S, size: u64) -> Result<Self, ProveError<S::Error>> {
        let peaks = peak_ids(size)
            .map(|id| source.node_hash(id).map_err(ProveError::Source))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CompactTree { size, peaks })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The roots of the perfect subtrees, largest (leftmost) first.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }

    /// Appends a leaf hash; returns the index the leaf got.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, CompactError> {
        self.append_with(leaf, |_, _| {})
    }

    /// Appends a leaf hash and reports every perfect-subtree node that it completes (the
    /// leaf itself at level 0, then each merged parent), so that a tile store can record
    /// them. Returns the index the leaf got.
    pub fn append_with<F: FnMut(NodeId, &Hash)>(
        &mut self,
        leaf: Hash,
        mut on_node: F,
    ) -> Result<u64, CompactError> {
        let index = self.size;
        let new_size = index.checked_add(1).ok_or(CompactError::Full)?;
        on_node(NodeId::new(0, index), &leaf);
        let mut hash = leaf;
        let mut level = 0u8;
        let mut bits = index;
        while bits & 1 == 1 {
            let Some(left) = self.peaks.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            bits >>= 1;
            on_node(NodeId::new(level, bits), &hash);
        }
        self.peaks.push(hash);
        self.size = new_size;
        Ok(index)
    }

    /// The tree hash `MTH(D[0:size])` (RFC 6962 §2.1).
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => empty_root(),
            Some(last) => peaks.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }

    /// The root of the tree of `size` leaves behind `source`, `size` at most this tree's
    /// size; the current size needs no source.
    pub fn root_at<S: HashSource>(
        &self,
        source: &S,
        size: u64,
    ) -> Result<Hash, ProveError<S::Error>> {
        if size == self.size {
            return Ok(self.root());
        }
        if size > self.size {
            return Err(ProveError::OutOfRange {
                index: size,
                size: self.size,
            });
        }
        range_hash(source, 0, size)
    }
}

/// The nodes whose hashes are the peaks of a tree of `size` leaves, largest first.
pub fn peak_ids(size: u64) -> impl Iterator<Item = NodeId> {
    (0..64u8)
        .rev()
        .filter(move |&level| (size >> level) & 1 == 1)
        .map(move |level| NodeId::new(level, (size >> level) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::hash::leaf_hash;

    #[test]
    fn empty_tree_root() {
        assert_eq!(CompactTree::new().root(), empty_root());
    }

    #[test]
    fn append_reports_completed_nodes() {
        let mut tree = CompactTree::new();
        for i in 0..3u8 {
            tree.append(leaf_hash(&[i])).unwrap();
        }
        let mut seen = Vec::new();
        let index = tree
            .append_with(leaf_hash(&[3]), |id, _| seen.push(id))
            .unwrap();
        assert_eq!(index, 3);
        assert_eq!(
            seen,
            vec![NodeId::new(0, 3), NodeId::new(1, 1), NodeId::new(2, 0)]
        );
        assert_eq!(tree.peaks().len(), 1);
    }

    #[test]
    fn peak_ids_follow_the_bits() {
        let ids: Vec<_> = peak_ids(13).collect();
        assert_eq!(
            ids,
            vec![NodeId::new(3, 0), NodeId::new(2, 2), NodeId::new(0, 12)]
        );
        assert_eq!(peak_ids(0).count(), 0);
    }

    #[test]
    fn from_peaks_checks_count() {
        assert_eq!(
            CompactTree::from_peaks(3, vec![empty_root()]),
            Err(CompactError::PeakCount { size: 3, got: 1 })
        );
        let mut tree = CompactTree::new();
        for i in 0..7u8 {
            tree.append(leaf_hash(&[i])).unwrap();
        }
        let copy = CompactTree::from_peaks(7, tree.peaks().to_vec()).unwrap();
        assert_eq!(copy.root(), tree.root());
    }

    #[test]
    fn full_tree_refuses_append() {
        let peaks = vec![empty_root(); 64];
        let mut tree = CompactTree::from_peaks(u64::MAX, peaks).unwrap();
        assert_eq!(tree.append(empty_root()), Err(CompactError::Full));
        assert_eq!(tree.size(), u64::MAX);
    }
}
