//! tlog-tiles (C2SP) as static-ct-api uses it: tile coordinates and paths, which tiles a
//! tree size has and which change when it grows ([`self`]); node hashes read from and
//! written to hash tiles ([`hashes`]); the static-ct-api data tiles ([`data`]); and the
//! sequencer's tile writer ([`writer`]).
//!
//! A hash tile at level `L` holds up to 256 consecutive hashes of the Merkle tree's
//! level `8·L`; its index `N` counts tiles from the left. A tile is full at 256 hashes
//! and otherwise partial with width `W`, published as `tile/<L>/<N>.p/<W>`. Data tiles
//! (`tile/data/<N>[.p/<W>]`) hold the entries whose leaf hashes make up level-0 tile `N`.

pub mod data;
pub mod hashes;
pub mod writer;

use core::fmt;

use crate::merkle::NodeId;

/// Merkle levels per tile level (the tile height).
pub const TILE_HEIGHT: u8 = 8;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// The highest hash tile level a tree of at most `u64::MAX` leaves has. (A static-ct-api
/// log, whose leaf indexes are 40-bit, never goes above level 5.)
pub const MAX_TILE_LEVEL: u8 = 7;

/// Which kind of tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TileKind {
    /// A hash tile at this tile level (holding Merkle level `8·level`), at most
    /// [`MAX_TILE_LEVEL`].
    Hash(u8),
    /// A static-ct-api data tile (log entries), the same shape as level-0 hash tiles.
    Data,
}

/// One tile: its kind, index and width (1 to 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    kind: TileKind,
    index: u64,
    width: u16,
}

/// Why a tile path or tile id was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilePathError {
    /// The path (or a description of the id).
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for TilePathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile path {:?}: {}", self.path, self.reason)
    }
}

impl std::error::Error for TilePathError {}

impl TileId {
    /// A tile, or `None` when the level is above [`MAX_TILE_LEVEL`] or the width is not
    /// 1 to 256.
    pub fn new(kind: TileKind, index: u64, width: u16) -> Option<Self> {
        let level_ok = match kind {
            TileKind::Hash(level) => level <= MAX_TILE_LEVEL,
            TileKind::Data => true,
        };
        (level_ok && (1..=TILE_WIDTH).contains(&width)).then_some(TileId { kind, index, width })
    }

    /// The kind of tile.
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    /// The tile index at its level.
    pub fn index(&self) -> u64 {
        self.index
    }

    /// How many hashes (or entries) the tile holds.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Whether the tile is full (256 wide).
    pub fn is_full(&self) -> bool {
        self.width == TILE_WIDTH
    }

    /// The same tile at full width.
    pub fn full(&self) -> TileId {
        TileId {
            width: TILE_WIDTH,
            ..*self
        }
    }

    /// The path of the tile, e.g. `tile/0/x001/x234/067.p/8` or `tile/data/000`.
    pub fn path(&self) -> String {
        let mut out = String::from("tile/");
        match self.kind {
            TileKind::Hash(level) => out.push_str(&level.to_string()),
            TileKind::Data => out.push_str("data"),
        }
        out.push('/');
        out.push_str(&index_path(self.index));
        if !self.is_full() {
            out.push_str(".p/");
            out.push_str(&self.width.to_string());
        }
        out
    }

    /// Parses a tile path strictly: only the canonical form [`Self::path`] produces.
    pub fn parse_path(path: &str) -> Result<TileId, TilePathError> {
        let err = |reason| TilePathError {
            path: path.to_string(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| err("does not start with tile/"))?;
        let (kind, rest) = rest.split_once('/').ok_or_else(|| err("no tile index"))?;
        let kind = match kind {
            "data" => TileKind::Data,
            l if l.len() == 1 && l.bytes().all(|b| b.is_ascii_digit()) => {
                let level = l.parse::<u8>().map_err(|_| err("bad level"))?;
                if level > MAX_TILE_LEVEL {
                    return Err(err("level above 7"));
                }
                TileKind::Hash(level)
            }
            _ => return Err(err("level is neither a digit nor data")),
        };
        let (index, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let w = parse_decimal(width).ok_or_else(|| err("bad partial width"))?;
                if !(1..u64::from(TILE_WIDTH)).contains(&w) {
                    return Err(err("partial width not 1 to 255"));
                }
                (index, w as u16)
            }
            None => (rest, TILE_WIDTH),
        };
        let index = parse_index_path(index).ok_or_else(|| err("bad index"))?;
        TileId::new(kind, index, width).ok_or_else(|| err("bad tile"))
    }

    /// The tile holding node `node`'s hash directly, if the node's level is a multiple of
    /// 8, as a full tile; with the slot (0 to 255) of the hash in it.
    pub fn slot_of(node: NodeId) -> Option<(TileId, u16)> {
        if !node.level.is_multiple_of(TILE_HEIGHT) {
            return None;
        }
        let id = TileId::new(
            TileKind::Hash(node.level / TILE_HEIGHT),
            node.index >> 8,
            TILE_WIDTH,
        )?;
        Some((id, (node.index & 0xff) as u16))
    }
}

/// The index path element(s): 3-digit groups, all but the last prefixed with `x`.
fn index_path(mut index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    index /= 1000;
    while index > 0 {
        groups.push(format!("x{:03}", index % 1000));
        index /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn parse_index_path(s: &str) -> Option<u64> {
    let mut groups = s.split('/').peekable();
    let mut index: u64 = 0;
    let mut first = true;
    while let Some(group) = groups.next() {
        let last = groups.peek().is_none();
        let digits = if last {
            group
        } else {
            group.strip_prefix('x')?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // A leading all-zero group is not canonical.
        if first && !last && digits == "000" {
            return None;
        }
        first = false;
        index = index
            .checked_mul(1000)?
            .checked_add(digits.parse::<u64>().ok()?)?;
    }
    Some(index)
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// The hash tiles of a tree of `size` leaves at tile level `level`, left to right: full
/// tiles, then a partial one when the level's node count is not a multiple of 256.
pub fn level_tiles(size: u64, level: u8) -> impl Iterator<Item = TileId> {
    let count = nodes_at(size, level);
    let tiles = count.div_ceil(u64::from(TILE_WIDTH));
    (0..tiles).filter_map(move |index| tile_at(TileKind::Hash(level), index, count))
}

/// The tiles that a tree growing from `old` to `new` leaves must publish: at each level,
/// every tile from the one that held the old right edge onwards whose contents differ,
/// and the data tiles alongside level 0. Empty when `new <= old`. The list has about
/// `(new - old) / 256` entries per level: call it per sequencing batch.
pub fn changed_tiles(old: u64, new: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    if new <= old {
        return out;
    }
    for level in 0..=MAX_TILE_LEVEL {
        let (old_count, new_count) = (nodes_at(old, level), nodes_at(new, level));
        if new_count == old_count {
            break;
        }
        let first = old_count / u64::from(TILE_WIDTH);
        let last = new_count.div_ceil(u64::from(TILE_WIDTH));
        for index in first..last {
            if let Some(t) = tile_at(TileKind::Hash(level), index, new_count) {
                out.push(t);
                if level == 0 {
                    out.extend(tile_at(TileKind::Data, index, new_count));
                }
            }
        }
    }
    out
}

/// How many nodes of Merkle level `8·level` a tree of `size` leaves has complete.
pub fn nodes_at(size: u64, level: u8) -> u64 {
    size.checked_shr(u32::from(level) * u32::from(TILE_HEIGHT))
        .unwrap_or(0)
}

/// Tile `index` of a level with `count` nodes, at the width that count gives it.
fn tile_at(kind: TileKind, index: u64, count: u64) -> Option<TileId> {
    let start = index.checked_mul(u64::from(TILE_WIDTH))?;
    let width = count.checked_sub(start)?.min(u64::from(TILE_WIDTH));
    TileId::new(kind, index, width as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(level: u8, index: u64, width: u16) -> TileId {
        TileId::new(TileKind::Hash(level), index, width).unwrap()
    }

    #[test]
    fn paths() {
        assert_eq!(hash(0, 0, 256).path(), "tile/0/000");
        assert_eq!(hash(0, 1_234_067, 256).path(), "tile/0/x001/x234/067");
        assert_eq!(hash(2, 1000, 17).path(), "tile/2/x001/000.p/17");
        assert_eq!(
            TileId::new(TileKind::Data, 5, 3).unwrap().path(),
            "tile/data/005.p/3"
        );
        for t in [
            hash(0, 0, 256),
            hash(3, 999, 1),
            hash(7, u64::MAX, 255),
            hash(1, 1_234_067, 256),
            TileId::new(TileKind::Data, 1000, 256).unwrap(),
        ] {
            assert_eq!(TileId::parse_path(&t.path()).unwrap(), t);
        }
    }

    #[test]
    fn rejects_non_canonical_paths() {
        for p in [
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/8/000",
            "tile/00/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/010",
            "tile/0/000.p/",
            "tile/0/000/",
            "tile/x/000",
            "tiles/0/000",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/data",
        ] {
            assert!(TileId::parse_path(p).is_err(), "{p}");
        }
        assert_eq!(
            TileId::parse_path("tile/0/x018/x446/x744/x073/x709/x551/615")
                .unwrap()
                .index(),
            u64::MAX
        );
    }

    #[test]
    fn tiles_of_a_size() {
        let tiles: Vec<_> = level_tiles(70_000, 0).collect();
        assert_eq!(tiles.len(), 274);
        assert_eq!(tiles[273], hash(0, 273, 112));
        // The static-ct-api example: 273 full level-0 tiles and one of width 112, one
        // full level-1 tile and one of width 17, and a level-2 tile of width 1.
        assert_eq!(
            level_tiles(70_000, 1).collect::<Vec<_>>(),
            vec![hash(1, 0, 256), hash(1, 1, 17)]
        );
        assert_eq!(
            level_tiles(70_000, 2).collect::<Vec<_>>(),
            vec![hash(2, 0, 1)]
        );
        assert_eq!(level_tiles(70_000, 3).count(), 0);
        assert_eq!(level_tiles(256, 1).collect::<Vec<_>>(), vec![hash(1, 0, 1)]);
        assert_eq!(level_tiles(512, 0).last(), Some(hash(0, 1, 256)));
    }

    #[test]
    fn tiles_changed_by_growth() {
        let data = |i, w| TileId::new(TileKind::Data, i, w).unwrap();
        assert_eq!(changed_tiles(10, 20), vec![hash(0, 0, 20), data(0, 20)]);
        assert_eq!(
            changed_tiles(250, 600),
            vec![
                hash(0, 0, 256),
                data(0, 256),
                hash(0, 1, 256),
                data(1, 256),
                hash(0, 2, 88),
                data(2, 88),
                hash(1, 0, 2),
            ]
        );
        // Growing inside a full level-1 node changes nothing above level 0.
        assert_eq!(changed_tiles(512, 513), vec![hash(0, 2, 1), data(2, 1)]);
        assert!(changed_tiles(5, 5).is_empty());
        assert!(changed_tiles(6, 5).is_empty());
    }

    #[test]
    fn slots() {
        assert_eq!(
            TileId::slot_of(NodeId::new(8, 513)),
            Some((hash(1, 2, 256), 1))
        );
        assert_eq!(TileId::slot_of(NodeId::new(3, 0)), None);
    }
}
