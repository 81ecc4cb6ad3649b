//! Reading tiles from async storage for the sync cores (tile writer, proofs).

use super::*;

/// The most tiles kept in the read cache.
pub(super) const TILE_CACHE: usize = 4096;

/// A tile reader over prefetched tiles that records the first tile it lacks, so that
/// the sync cores can run over async storage: run, fetch what was missing, run again.
pub(super) struct Prefetched<'a> {
    pub(super) tiles: &'a HashMap<TileId, Arc<Vec<u8>>>,
    pub(super) missing: RefCell<Option<TileId>>,
}

/// A tile the reader did not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Missing(TileId);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile {} not loaded", self.0.path())
    }
}

impl TileReader for &Prefetched<'_> {
    type Error = Missing;

    fn read_tile(&self, tile: TileId) -> Result<Vec<u8>, Missing> {
        match self.tiles.get(&tile) {
            Some(t) => Ok(t.as_ref().clone()),
            None => {
                self.missing.borrow_mut().get_or_insert(tile);
                Err(Missing(tile))
            }
        }
    }
}

/// Decodes a data tile of width `id.width()` (a full tile standing in for a partial
/// one yields its first `width` entries).
pub(super) fn read_data_tile(data: &[u8], id: TileId) -> Result<Vec<TileLeaf>, LogError> {
    let decoded = decode_data_tile(data, id.width()).or_else(|_| {
        decode_data_tile(data, TILE_WIDTH).map(|mut all| {
            all.truncate(usize::from(id.width()));
            all
        })
    });
    decoded.map_err(|e| LogError::Corrupt(format!("{}: {e}", id.path())))
}

impl Shared {
    /// Tile `id` from the cache or storage (a full tile stands in for a missing
    /// partial one, the hashes being the same).
    pub(super) async fn tile(&self, id: TileId) -> Result<Option<Arc<Vec<u8>>>, StorageError> {
        if let Some(t) = self.tiles.lock().ok().and_then(|c| c.get(&id).cloned()) {
            return Ok(Some(t));
        }
        let mut data = self.storage.get(&id.path()).await?;
        if data.is_none() && !id.is_full() {
            data = self.storage.get(&id.full().path()).await?;
        }
        let Some(data) = data else {
            return Ok(None);
        };
        let data = Arc::new(data);
        if let Ok(mut cache) = self.tiles.lock() {
            if cache.len() >= TILE_CACHE {
                cache.clear();
            }
            cache.insert(id, Arc::clone(&data));
        }
        Ok(Some(data))
    }

    /// Runs `f` over a tile reader, fetching each tile it lacks and running it again.
    pub(super) async fn with_tiles<T, E>(
        &self,
        f: impl Fn(&Prefetched<'_>) -> Result<T, E>,
    ) -> Result<Result<T, E>, StorageError> {
        let mut tiles = HashMap::new();
        loop {
            let reader = Prefetched {
                tiles: &tiles,
                missing: RefCell::new(None),
            };
            let result = f(&reader);
            let missing = reader.missing.into_inner();
            match (result, missing) {
                (Err(_), Some(id)) => match self.tile(id).await? {
                    Some(t) => {
                        tiles.insert(id, t);
                    }
                    None => {
                        return Err(StorageError::Io(format!("tile {} is missing", id.path())));
                    }
                },
                (result, _) => return Ok(result),
            }
        }
    }
}
