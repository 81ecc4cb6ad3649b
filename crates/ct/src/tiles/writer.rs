//! The tile writer: the sans-I/O state a sequencer keeps to turn appended entries into
//! the tiles to publish. It holds the compact tree and the right-edge (partial) tile of
//! every level, so each append costs O(log n) and a flush yields exactly the tiles that
//! changed since the last one (the [`super::changed_tiles`] set), with their contents.

use core::fmt;

use super::data::TileLeaf;
use super::hashes::{BuildError, TileReader, TileSource, parse_hash_tile};
use super::{MAX_TILE_LEVEL, TILE_HEIGHT, TILE_WIDTH, TileId, TileKind, changed_tiles, nodes_at};
use crate::entry::parse_leaf_index;
use crate::merkle::{CompactTree, HASH_LEN, Hash};
use crate::tls::{DecodeError, EncodeError};

/// Why an entry could not be appended or a writer resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriterError<E = ()> {
    /// The entry could not be encoded.
    Encode(EncodeError),
    /// The entry's `leaf_index` extension does not name the index it would get.
    LeafIndex {
        /// The index the entry would get.
        expected: u64,
        /// The index its extensions carry (`None`: none, or malformed).
        found: Option<u64>,
    },
    /// The tree is full.
    Full,
    /// Resuming: a stored tile could not be read or is malformed.
    Tile(BuildError<E>),
    /// Resuming: the stored data tile is malformed.
    DataTile(DecodeError),
    /// Resuming: the edge tiles do not hold the tree's peaks.
    Edge(String),
}

impl<E: fmt::Display> fmt::Display for WriterError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriterError::Encode(e) => write!(f, "encoding the entry: {e}"),
            WriterError::LeafIndex { expected, found } => write!(
                f,
                "the entry's leaf_index is {found:?}, but it would be entry {expected}"
            ),
            WriterError::Full => write!(f, "the tree is full"),
            WriterError::Tile(e) => write!(f, "reading the edge tiles: {e}"),
            WriterError::DataTile(e) => write!(f, "reading the edge data tile: {e}"),
            WriterError::Edge(why) => write!(f, "the edge tiles do not hold the tree: {why}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for WriterError<E> {}

/// What a flush produced: the new tree head and the tiles to write before publishing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flush {
    /// The tree size.
    pub size: u64,
    /// The tree hash.
    pub root: Hash,
    /// Each changed tile (hash tiles of every level, and data tiles) with its contents.
    pub tiles: Vec<(TileId, Vec<u8>)>,
}

/// Builds tiles as entries are appended.
#[derive(Debug, Clone, Default)]
pub struct TileWriter {
    tree: CompactTree,
    /// The hashes of the partial tile at each tile level.
    edges: Vec<Vec<u8>>,
    /// The encoded entries of the partial data tile, and how many.
    data_edge: Vec<u8>,
    data_count: u16,
    /// Full tiles completed since the last flush.
    completed: Vec<(TileId, Vec<u8>)>,
    flushed: u64,
}

impl TileWriter {
    /// A writer for an empty log.
    pub fn new() -> Self {
        TileWriter::default()
    }

    /// A writer that continues a log of `size` entries whose tiles `reader` reads (only
    /// the right-edge partial tiles are read: hash tiles of each level and the data
    /// tile).
    pub fn resume<R: TileReader>(reader: R, size: u64) -> Result<Self, WriterError<R::Error>> {
        let mut edges = Vec::new();
        for level in 0..=MAX_TILE_LEVEL {
            let count = nodes_at(size, level);
            if count == 0 {
                break;
            }
            let width = (count % u64::from(TILE_WIDTH)) as u16;
            let mut edge = Vec::new();
            if let Some(id) = TileId::new(TileKind::Hash(level), count / 256, width) {
                let bytes = reader
                    .read_tile(id)
                    .map_err(|e| WriterError::Tile(BuildError::Source(e)))?;
                parse_hash_tile(id, &bytes).map_err(|e| WriterError::Tile(BuildError::Tile(e)))?;
                edge = bytes;
            }
            edges.push(edge);
        }
        let data_count = (size % u64::from(TILE_WIDTH)) as u16;
        let mut data_edge = Vec::new();
        if let Some(id) = TileId::new(TileKind::Data, size / 256, data_count) {
            data_edge = reader
                .read_tile(id)
                .map_err(|e| WriterError::Tile(BuildError::Source(e)))?;
            super::data::decode_data_tile(&data_edge, data_count).map_err(WriterError::DataTile)?;
        }
        let source = TileSource::new(EdgeReader(&edges), size);
        let tree = CompactTree::from_source(&source, size).map_err(|e| match e {
            crate::merkle::ProveError::Source(BuildError::Tile(t)) => {
                WriterError::Tile(BuildError::Tile(t))
            }
            other => WriterError::Edge(format!("{other:?}")),
        })?;
        Ok(TileWriter {
            tree,
            edges,
            data_edge,
            data_count,
            completed: Vec::new(),
            flushed: size,
        })
    }

    /// The number of entries appended so far (the index the next entry gets).
    pub fn size(&self) -> u64 {
        self.tree.size()
    }

    /// The current tree hash.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }

    /// Appends an entry; returns its index and leaf hash. If the entry carries a
    /// `leaf_index` extension (static-ct-api), it must be that index. Nothing is
    /// appended when the entry cannot be encoded ([`WriterError::Encode`]).
    pub fn append(&mut self, leaf: &TileLeaf) -> Result<(u64, Hash), WriterError> {
        let index = self.tree.size();
        if !leaf.entry.extensions.is_empty() {
            let found = parse_leaf_index(&leaf.entry.extensions).ok().flatten();
            if found != Some(index) {
                return Err(WriterError::LeafIndex {
                    expected: index,
                    found,
                });
            }
        }
        // Encoded straight onto the data tile's edge, and taken back if the tree is full.
        let start = self.data_edge.len();
        let hash = leaf
            .encode_hashed(&mut self.data_edge)
            .map_err(WriterError::Encode)?;
        let edges = &mut self.edges;
        let completed = &mut self.completed;
        let appended = self.tree.append_with(hash, |node, hash| {
            if !node.level.is_multiple_of(TILE_HEIGHT) {
                return;
            }
            let level = node.level / TILE_HEIGHT;
            let slot = usize::from(level);
            if edges.len() <= slot {
                edges.resize_with(slot + 1, Vec::new);
            }
            let Some(edge) = edges.get_mut(slot) else {
                return;
            };
            edge.extend_from_slice(&hash.0);
            if edge.len() == usize::from(TILE_WIDTH) * HASH_LEN
                && let Some(id) = TileId::new(TileKind::Hash(level), node.index >> 8, TILE_WIDTH)
            {
                completed.push((id, std::mem::take(edge)));
            }
        });
        if appended.is_err() {
            self.data_edge.truncate(start);
            return Err(WriterError::Full);
        }
        self.data_count += 1;
        if self.data_count == TILE_WIDTH {
            if let Some(id) = TileId::new(TileKind::Data, index >> 8, TILE_WIDTH) {
                self.completed
                    .push((id, std::mem::take(&mut self.data_edge)));
            }
            self.data_count = 0;
        }
        Ok((index, hash))
    }

    /// The tiles that changed since the last flush (or since the writer was created),
    /// with the tree head they lead to. Write them all before publishing the head.
    pub fn flush(&mut self) -> Flush {
        let size = self.tree.size();
        let mut tiles = std::mem::take(&mut self.completed);
        for id in changed_tiles(self.flushed, size) {
            if id.is_full() {
                continue;
            }
            let contents = match id.kind() {
                TileKind::Hash(level) => self.edges.get(usize::from(level)).cloned(),
                TileKind::Data => Some(self.data_edge.clone()),
            };
            if let Some(c) = contents {
                tiles.push((id, c));
            }
        }
        self.flushed = size;
        Flush {
            size,
            root: self.tree.root(),
            tiles,
        }
    }
}

/// Reads the edge hash tiles being resumed from.
struct EdgeReader<'a>(&'a [Vec<u8>]);

impl TileReader for EdgeReader<'_> {
    type Error = ();

    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, ()> {
        match tile.kind() {
            TileKind::Hash(level) => self.0.get(usize::from(level)).cloned().ok_or(()),
            TileKind::Data => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::entry::{SignedEntry, TimestampedEntry, leaf_index_extensions};
    use crate::merkle::{MemoryTree, root_at};
    use crate::tiles::data::{check_data_tile, decode_data_tile};
    use crate::tiles::hashes::build_hash_tile;

    fn leaf(i: u64) -> TileLeaf {
        TileLeaf {
            entry: TimestampedEntry {
                timestamp: 1_700_000_000_000 + i,
                entry: SignedEntry::X509(i.to_be_bytes().to_vec()),
                extensions: leaf_index_extensions(i).unwrap(),
            },
            pre_certificate: None,
            chain: vec![[i as u8; 32]],
        }
    }

    #[derive(Default)]
    struct Store(HashMap<String, Vec<u8>>);

    impl TileReader for &Store {
        type Error = String;
        fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, String> {
            self.0
                .get(&tile.path())
                .cloned()
                .ok_or_else(|| format!("missing {}", tile.path()))
        }
    }

    #[test]
    fn flushes_are_the_changed_tiles_with_the_right_contents() {
        let mut writer = TileWriter::new();
        let mut tree = MemoryTree::new();
        let mut store = Store::default();
        let mut size = 0u64;
        for batch in [1u64, 254, 1, 1, 300, 65_000, 1000, 3] {
            for i in size..size + batch {
                let hash = leaf(i).leaf_hash().unwrap();
                assert_eq!(writer.append(&leaf(i)).unwrap(), (i, hash));
                tree.append(hash).unwrap();
            }
            let flush = writer.flush();
            assert_eq!(flush.size, size + batch);
            assert_eq!(flush.root, tree.root());
            let mut ids: Vec<TileId> = flush.tiles.iter().map(|(id, _)| *id).collect();
            let mut want = changed_tiles(size, size + batch);
            ids.sort();
            want.sort();
            assert_eq!(ids, want, "after {size} + {batch}");
            for (id, bytes) in &flush.tiles {
                match id.kind() {
                    TileKind::Hash(_) => assert_eq!(bytes, &build_hash_tile(&tree, *id).unwrap()),
                    TileKind::Data => {
                        let leaves = decode_data_tile(bytes, id.width()).unwrap();
                        let first = id.index() * 256;
                        for (j, l) in leaves.iter().enumerate() {
                            assert_eq!(l, &leaf(first + j as u64));
                        }
                        let level0 =
                            TileId::new(TileKind::Hash(0), id.index(), id.width()).unwrap();
                        let hashes = build_hash_tile(&tree, level0).unwrap();
                        assert!(check_data_tile(bytes, &hashes, id.width()).unwrap());
                    }
                }
                store.0.insert(id.path(), bytes.clone());
            }
            size += batch;
            // A writer resumed from the stored tiles is the same writer.
            let mut resumed = TileWriter::resume(&store, size).unwrap();
            assert_eq!(resumed.root(), writer.root());
            let mut copy = writer.clone();
            for i in size..size + 300 {
                resumed.append(&leaf(i)).unwrap();
                copy.append(&leaf(i)).unwrap();
            }
            assert_eq!(resumed.flush(), copy.flush());
        }
        let tiles = TileSource::new(&store, size);
        assert_eq!(root_at(&tiles, size).unwrap(), writer.root());
        assert!(writer.flush().tiles.is_empty());
    }

    #[test]
    fn refuses_a_wrong_leaf_index() {
        let mut writer = TileWriter::new();
        writer.append(&leaf(0)).unwrap();
        assert_eq!(
            writer.append(&leaf(5)),
            Err(WriterError::LeafIndex {
                expected: 1,
                found: Some(5)
            })
        );
        assert_eq!(writer.size(), 1);
        let mut plain = leaf(1);
        plain.entry.extensions.clear();
        assert_eq!(writer.append(&plain).unwrap().0, 1);
    }

    #[test]
    fn an_unencodable_leaf_leaves_the_writer_as_it_was() {
        let mut writer = TileWriter::new();
        writer.append(&leaf(0)).unwrap();
        let before = writer.clone();
        // The entry encodes, but a certificate entry cannot carry a precertificate:
        // the bytes already written for it are taken back.
        let mut bad = leaf(1);
        bad.pre_certificate = Some(vec![0x30, 0x00]);
        assert!(matches!(writer.append(&bad), Err(WriterError::Encode(_))));
        assert_eq!(writer.size(), 1);
        assert_eq!(writer.clone().flush(), before.clone().flush());
        writer.append(&leaf(1)).unwrap();
        let mut want = before;
        want.append(&leaf(1)).unwrap();
        assert_eq!(writer.flush(), want.flush());
    }

    #[test]
    fn resume_rejects_missing_or_bad_tiles() {
        let mut writer = TileWriter::new();
        let mut store = Store::default();
        for i in 0..300 {
            writer.append(&leaf(i)).unwrap();
        }
        for (id, bytes) in writer.flush().tiles {
            store.0.insert(id.path(), bytes);
        }
        assert!(TileWriter::resume(&store, 300).is_ok());
        assert!(matches!(
            TileWriter::resume(&store, 301),
            Err(WriterError::Tile(BuildError::Source(_)))
        ));
        store.0.insert("tile/0/001.p/44".into(), vec![0; 43 * 32]);
        assert!(matches!(
            TileWriter::resume(&store, 300),
            Err(WriterError::Tile(BuildError::Tile(_)))
        ));
    }
}
