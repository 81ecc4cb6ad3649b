//! A Merkle tree that keeps every perfect-subtree node in memory.

use core::fmt;

use super::NodeId;
use super::compact::{CompactError, CompactTree};
use super::hash::Hash;
use super::prove::HashSource;

/// Every full node of a tree, level by level, plus its compact range for the current root.
/// It answers proofs for any size up to the current one.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    compact: CompactTree,
}

/// A node that this tree does not (yet) have was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingNode(pub NodeId);

impl fmt::Display for MissingNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no node at level {} index {}",
            self.0.level, self.0.index
        )
    }
}

impl std::error::Error for MissingNode {}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        MemoryTree::default()
    }

    /// Appends a leaf hash; returns its index.
    pub fn append(&mut self, leaf: Hash) -> Result<u64, CompactError> {
        let levels = &mut self.levels;
        self.compact.append_with(leaf, |id, hash| {
            let level = usize::from(id.level);
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            if let Some(nodes) = levels.get_mut(level) {
                nodes.push(*hash);
            }
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.compact.size()
    }

    /// The current tree hash.
    pub fn root(&self) -> Hash {
        self.compact.root()
    }

    /// The compact range of the current tree.
    pub fn compact(&self) -> &CompactTree {
        &self.compact
    }
}

impl HashSource for MemoryTree {
    type Error = MissingNode;

    fn node_hash(&self, id: NodeId) -> Result<Hash, MissingNode> {
        usize::try_from(id.index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(id.level))?.get(i))
            .copied()
            .ok_or(MissingNode(id))
    }
}
