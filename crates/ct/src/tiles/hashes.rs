//! Hash tiles: their contents (concatenated 32-byte hashes), where a tree node lives in
//! them, computing any node hash from the tile that holds it, and a [`HashSource`] over a
//! tile store so proofs can be served from tiles.

use core::fmt;

use super::{TILE_HEIGHT, TILE_WIDTH, TileId, TileKind, nodes_at};
use crate::merkle::{HASH_LEN, Hash, HashSource, NodeId, node_hash};

/// Why a tile's contents were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileError {
    /// A hash tile is not 32 bytes per hash of its width.
    Length {
        /// The tile.
        tile: TileId,
        /// Its length in bytes.
        len: usize,
    },
    /// The tile asked for is not a hash tile.
    NotHashTile(TileId),
    /// The slots are not an aligned power-of-two run within the tile.
    BadLocation(NodeLocation),
}

impl fmt::Display for TileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TileError::Length { tile, len } => write!(
                f,
                "{} is {len} bytes, not {}",
                tile.path(),
                usize::from(tile.width()) * HASH_LEN
            ),
            TileError::NotHashTile(tile) => write!(f, "{} is not a hash tile", tile.path()),
            TileError::BadLocation(loc) => write!(
                f,
                "slots {}..{} of {} are not one subtree",
                loc.first,
                u32::from(loc.first) + u32::from(loc.count),
                loc.tile.path()
            ),
        }
    }
}

impl std::error::Error for TileError {}

/// The hashes in a hash tile of `tile`'s width.
pub fn parse_hash_tile(tile: TileId, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    if !matches!(tile.kind(), TileKind::Hash(_)) {
        return Err(TileError::NotHashTile(tile));
    }
    if bytes.len() != usize::from(tile.width()) * HASH_LEN {
        return Err(TileError::Length {
            tile,
            len: bytes.len(),
        });
    }
    Ok(bytes
        .chunks_exact(HASH_LEN)
        .filter_map(|c| Hash::try_from(c).ok())
        .collect())
}

/// The contents of hash tile `tile`, read from `source` (e.g. a [`crate::merkle::MemoryTree`]
/// or the nodes a sequencer just computed).
pub fn build_hash_tile<S: HashSource>(
    source: &S,
    tile: TileId,
) -> Result<Vec<u8>, BuildError<S::Error>> {
    let TileKind::Hash(level) = tile.kind() else {
        return Err(BuildError::Tile(TileError::NotHashTile(tile)));
    };
    let first = tile.index() << 8;
    let mut out = Vec::with_capacity(usize::from(tile.width()) * HASH_LEN);
    for slot in 0..u64::from(tile.width()) {
        let node = NodeId::new(level * TILE_HEIGHT, first | slot);
        out.extend_from_slice(&source.node_hash(node).map_err(BuildError::Source)?.0);
    }
    Ok(out)
}

/// Why a tile could not be built or a node read from tiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError<E> {
    /// The node is not complete in the tree size the tiles are for.
    NotInTree(NodeId),
    /// A tile was malformed or of the wrong kind.
    Tile(TileError),
    /// The underlying source or reader failed.
    Source(E),
}

impl<E: fmt::Display> fmt::Display for BuildError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NotInTree(n) => write!(
                f,
                "node at level {} index {} is not in the tree",
                n.level, n.index
            ),
            BuildError::Tile(e) => e.fmt(f),
            BuildError::Source(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for BuildError<E> {}

/// Where a node's hash comes from: `count` consecutive hashes of `tile` from slot
/// `first`, which hash up to the node (`count` is 1 for nodes stored directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLocation {
    /// The tile, at the width it has in the tree size asked about.
    pub tile: TileId,
    /// The first slot.
    pub first: u16,
    /// How many slots (a power of two up to 128).
    pub count: u16,
}

/// Where node `node` of the tree of `size` leaves is found in that tree's tiles, or
/// `None` when the node is not complete in it.
pub fn locate_node(node: NodeId, size: u64) -> Option<NodeLocation> {
    let level = node.level / TILE_HEIGHT;
    let sub = node.level % TILE_HEIGHT;
    let base = node
        .index
        .checked_shl(u32::from(sub))
        .filter(|b| b >> sub == node.index)?;
    let count = 1u64 << sub;
    let index = base >> 8;
    let first = base & 0xff;
    let available = nodes_at(size, level).checked_sub(index << 8)?;
    let width = available.min(u64::from(TILE_WIDTH));
    if first + count > width {
        return None;
    }
    Some(NodeLocation {
        tile: TileId::new(TileKind::Hash(level), index, width as u16)?,
        first: first as u16,
        count: count as u16,
    })
}

/// The hash of the node at `loc` from the bytes of `loc.tile`.
pub fn node_from_tile(loc: &NodeLocation, tile: &[u8]) -> Result<Hash, TileError> {
    let hashes = parse_hash_tile(loc.tile, tile)?;
    let start = usize::from(loc.first);
    let count = usize::from(loc.count);
    let aligned = count.is_power_of_two() && start.is_multiple_of(count);
    let mut layer: Vec<Hash> = match hashes.get(start..start + count) {
        Some(slots) if aligned => slots.to_vec(),
        _ => return Err(TileError::BadLocation(*loc)),
    };
    while layer.len() > 1 {
        let mut next = Vec::with_capacity(layer.len() / 2);
        let mut it = layer.iter();
        while let (Some(l), Some(r)) = (it.next(), it.next()) {
            next.push(node_hash(l, r));
        }
        layer = next;
    }
    layer.pop().ok_or(TileError::BadLocation(*loc))
}

/// Reads tiles by id; a tile store (filesystem, object store, cache) implements it.
pub trait TileReader {
    /// Why a tile could not be read.
    type Error;

    /// The bytes of tile `tile` (at exactly its width, or a full tile when a partial one
    /// has since been completed, the node hashes being the same).
    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, Self::Error>;
}

/// A [`HashSource`] over the tiles of a tree of a given size, for serving proofs and
/// roots from tiles.
#[derive(Debug, Clone)]
pub struct TileSource<R> {
    reader: R,
    size: u64,
}

impl<R: TileReader> TileSource<R> {
    /// The tiles of the tree of `size` leaves read through `reader`.
    pub fn new(reader: R, size: u64) -> Self {
        TileSource { reader, size }
    }
}

impl<R: TileReader> HashSource for TileSource<R> {
    type Error = BuildError<R::Error>;

    fn node_hash(&self, id: NodeId) -> Result<Hash, Self::Error> {
        let loc = locate_node(id, self.size).ok_or(BuildError::NotInTree(id))?;
        let bytes = self
            .reader
            .read_tile(loc.tile)
            .map_err(BuildError::Source)?;
        // A full tile may stand in for a partial one: use only the slots asked for.
        let loc = if bytes.len() == usize::from(TILE_WIDTH) * HASH_LEN {
            NodeLocation {
                tile: loc.tile.full(),
                ..loc
            }
        } else {
            loc
        };
        node_from_tile(&loc, &bytes).map_err(BuildError::Tile)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::merkle::{MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root_at};
    use crate::tiles::changed_tiles;

    /// A tile store filled the way a log fills it: after each batch, write the tiles
    /// that changed.
    struct Store(HashMap<String, Vec<u8>>);

    impl TileReader for &Store {
        type Error = String;
        fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, String> {
            self.0
                .get(&tile.path())
                .or_else(|| self.0.get(&tile.full().path()))
                .cloned()
                .ok_or_else(|| format!("missing {}", tile.path()))
        }
    }

    #[test]
    fn proofs_from_tiles_match_memory() {
        let mut tree = MemoryTree::new();
        let mut store = Store(HashMap::new());
        let mut size = 0u64;
        for batch in [1u64, 200, 55, 300, 70_000 - 557, 1] {
            for i in size..size + batch {
                tree.append(leaf_hash(&i.to_be_bytes())).unwrap();
            }
            for t in changed_tiles(size, size + batch) {
                if let TileKind::Hash(_) = t.kind() {
                    store.0.insert(t.path(), build_hash_tile(&tree, t).unwrap());
                }
            }
            size += batch;
        }
        assert_eq!(size, 70_000);
        let tiles = TileSource::new(&store, size);
        assert_eq!(root_at(&tiles, size).unwrap(), tree.root());
        for s in [1u64, 255, 256, 257, 65_536, 69_999] {
            assert_eq!(root_at(&tiles, s).unwrap(), root_at(&tree, s).unwrap());
        }
        for (i, n) in [
            (0u64, 70_000u64),
            (65_535, 70_000),
            (69_999, 70_000),
            (3, 300),
        ] {
            assert_eq!(
                inclusion_proof(&tiles, i, n).unwrap(),
                inclusion_proof(&tree, i, n).unwrap()
            );
        }
        for (m, n) in [
            (1u64, 70_000u64),
            (256, 70_000),
            (511, 65_537),
            (12_345, 69_999),
        ] {
            assert_eq!(
                consistency_proof(&tiles, m, n).unwrap(),
                consistency_proof(&tree, m, n).unwrap()
            );
        }
    }

    #[test]
    fn locate() {
        // Level 10 node 1 (leaves 1024..2048) = level-1 tile 0, slots 4..8.
        let loc = locate_node(NodeId::new(10, 1), 70_000).unwrap();
        assert_eq!(loc.tile, TileId::new(TileKind::Hash(1), 0, 256).unwrap());
        assert_eq!((loc.first, loc.count), (4, 4));
        let loc = locate_node(NodeId::new(10, 1), 2048).unwrap();
        assert_eq!(loc.tile, TileId::new(TileKind::Hash(1), 0, 8).unwrap());
        assert_eq!((loc.first, loc.count), (4, 4));
        assert_eq!(locate_node(NodeId::new(10, 1), 2047), None);
        assert_eq!(locate_node(NodeId::new(0, 5), 5), None);
        assert_eq!(locate_node(NodeId::new(63, 1), u64::MAX), None);
    }

    #[test]
    fn rejects_bad_tiles() {
        let t = TileId::new(TileKind::Hash(0), 0, 2).unwrap();
        assert!(parse_hash_tile(t, &[0; 63]).is_err());
        assert_eq!(parse_hash_tile(t, &[0; 64]).unwrap().len(), 2);
        let d = TileId::new(TileKind::Data, 0, 2).unwrap();
        assert!(parse_hash_tile(d, &[0; 64]).is_err());
        for (first, count) in [(0, 3), (1, 2), (2, 1), (0, 0)] {
            let loc = NodeLocation {
                tile: t,
                first,
                count,
            };
            assert_eq!(
                node_from_tile(&loc, &[0; 64]),
                Err(TileError::BadLocation(loc))
            );
        }
        let pair = NodeLocation {
            tile: t,
            first: 0,
            count: 2,
        };
        let tile: Vec<u8> = [[1u8; 32], [2u8; 32]].concat();
        assert_eq!(
            node_from_tile(&pair, &tile).unwrap(),
            node_hash(&Hash([1; 32]), &Hash([2; 32]))
        );
    }
}
