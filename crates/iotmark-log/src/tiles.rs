//! C2SP tlog-tiles (v0.1.0) layout: hash tiles, entry bundles, and reading hashes from them.
//!
//! * Tile height 8: a full tile holds 256 hashes (8 192 bytes). Level-0 tiles hold leaf
//!   hashes; a hash at level `L ≥ 1`, position `i` of tile `N` is the root of the full level
//!   `L-1` tile `N·256 + i`. For a tree of size `s`, level `L` has `⌊s / 256^(L+1)⌋` full tiles
//!   and, if `W = ⌊s / 256^L⌋ mod 256` is not zero, one partial tile of width `W`.
//! * Paths: `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, where `N` is written in
//!   three-digit groups, all but the last prefixed with `x` (`1234067` → `x001/x234/067`).
//! * An entry bundle is the tile's entries, each prefixed by its length as a big-endian
//!   uint16, so an entry is at most 65 535 bytes.
//!
//! Partial tiles are never hashed upward; the tree's right edge is hashed from the perfect
//! subtrees that tiles hold (see [`crate::merkle::range_hash`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::merkle::{self, HASH_LEN, Hash, HashSource, ProofError};

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels per tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Largest entry an entry bundle can frame.
pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;
/// Highest tile level the spec allows.
pub const MAX_LEVEL: u8 = 63;

/// One tile (of hashes, or the entry bundle beside a level-0 tile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level (0 = leaf hashes).
    pub level: u8,
    /// Tile index within its level.
    pub index: u64,
    /// Number of hashes (or entries), 1..=256; 256 is a full tile.
    pub width: u16,
}

/// Whether a path names a hash tile or an entry bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    Hashes,
    Entries,
}

/// Errors about tiles: malformed paths and contents, and tiles that disagree with each other
/// or with a checkpoint.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    #[error("tile path {path:?}: {reason}")]
    BadPath { path: String, reason: String },
    #[error("{path} is missing (needed for a tree of size {size})")]
    Missing { path: String, size: u64 },
    #[error("{path} is {len} bytes, expected {expected} ({width} hashes of {HASH_LEN} bytes)")]
    BadTileLength {
        path: String,
        len: usize,
        width: u16,
        expected: usize,
    },
    #[error("{path}: entry {entry} at byte {offset}: {reason}")]
    BadBundle {
        path: String,
        entry: usize,
        offset: usize,
        reason: String,
    },
    #[error("{path} holds {found} entries, expected {expected}")]
    BundleCount {
        path: String,
        found: usize,
        expected: usize,
    },
    #[error("an entry of {len} bytes exceeds the entry bundle limit of {MAX_ENTRY_LEN} bytes")]
    EntryTooLarge { len: usize },
    #[error(
        "{path}, hash {position} (leaf/node index {node_index} at tile level {level}) is {found}, \
         but {derived_from} gives {expected}"
    )]
    HashMismatch {
        path: String,
        level: u8,
        position: u16,
        node_index: u64,
        found: String,
        expected: String,
        derived_from: String,
    },
    #[error("the tiles give root {computed} for size {size}, but the checkpoint says {expected}")]
    RootMismatch {
        size: u64,
        computed: String,
        expected: String,
    },
    #[error("reading {path}: {message}")]
    Storage { path: String, message: String },
    #[error(transparent)]
    Proof(#[from] ProofError),
}

impl TileId {
    /// Is this a full (256-wide) tile?
    pub fn is_full(&self) -> bool {
        u64::from(self.width) == TILE_WIDTH
    }

    /// `tile/<L>/<N>[.p/<W>]`.
    pub fn hash_path(&self) -> String {
        format!("tile/{}/{}", self.level, self.index_and_width())
    }

    /// `tile/entries/<N>[.p/<W>]` (entry bundles sit beside level-0 tiles).
    pub fn entries_path(&self) -> String {
        format!("tile/entries/{}", self.index_and_width())
    }

    /// The path for the given kind.
    pub fn path(&self, kind: TileKind) -> String {
        match kind {
            TileKind::Hashes => self.hash_path(),
            TileKind::Entries => self.entries_path(),
        }
    }

    fn index_and_width(&self) -> String {
        let n = encode_index(self.index);
        if self.is_full() {
            n
        } else {
            format!("{n}.p/{}", self.width)
        }
    }

    /// Parses a tile or entry bundle path (without any URL prefix).
    pub fn parse_path(path: &str) -> Result<(TileKind, TileId), TileError> {
        let bad = |reason: &str| TileError::BadPath {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("does not start with \"tile/\""))?;
        let (level_s, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("no level segment"))?;
        let (kind, level) = if level_s == "entries" {
            (TileKind::Entries, 0)
        } else {
            let level = parse_decimal(level_s)
                .filter(|l| *l <= u64::from(MAX_LEVEL))
                .ok_or_else(|| {
                    bad("the level is not a decimal number 0..=63 without leading zeros")
                })?;
            (TileKind::Hashes, level as u8)
        };
        let (index_s, width) = match rest.split_once(".p/") {
            Some((n, w)) => {
                let w = parse_decimal(w)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or_else(|| bad("the partial width is not a decimal number 1..=255"))?;
                (n, w as u16)
            }
            None => (rest, TILE_WIDTH as u16),
        };
        let index = decode_index(index_s).ok_or_else(|| {
            bad("the index is not three-digit groups with an x prefix on all but the last")
        })?;
        Ok((
            kind,
            TileId {
                level,
                index,
                width,
            },
        ))
    }
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// `1234067` → `x001/x234/067`; `5` → `005`.
pub fn encode_index(mut n: u64) -> String {
    let mut groups = vec![n % 1000];
    n /= 1000;
    while n > 0 {
        groups.push(n % 1000);
        n /= 1000;
    }
    let last = groups.len() - 1;
    groups
        .iter()
        .rev()
        .enumerate()
        .map(|(i, g)| {
            if i < last {
                format!("x{g:03}")
            } else {
                format!("{g:03}")
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn decode_index(s: &str) -> Option<u64> {
    let segs: Vec<&str> = s.split('/').collect();
    let (last, init) = segs.split_last()?;
    let mut n: u64 = 0;
    for (i, seg) in init.iter().enumerate() {
        let digits = seg.strip_prefix('x')?;
        // A leading all-zero group would give two spellings of one index.
        if i == 0 && digits == "000" {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(three_digits(digits)?)?;
    }
    n.checked_mul(1000)?.checked_add(three_digits(last)?)
}

fn three_digits(s: &str) -> Option<u64> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
}

/// Number of hashes at tile level `level` for a tree of `size` leaves.
fn level_count(size: u64, level: u8) -> u64 {
    size.checked_shr(TILE_HEIGHT * u32::from(level))
        .unwrap_or(0)
}

/// The tile at `level`, `index` as it is in a tree of `size`, or `None` if the tree has no
/// such tile.
pub fn tile_in_tree(size: u64, level: u8, index: u64) -> Option<TileId> {
    let count = level_count(size, level);
    let full = count / TILE_WIDTH;
    if index < full {
        Some(TileId {
            level,
            index,
            width: TILE_WIDTH as u16,
        })
    } else if index == full && !count.is_multiple_of(TILE_WIDTH) {
        Some(TileId {
            level,
            index,
            width: (count % TILE_WIDTH) as u16,
        })
    } else {
        None
    }
}

/// Every tile of a tree of `size`, level by level, in index order.
pub fn tiles_of_tree(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for level in 0..=MAX_LEVEL {
        let count = level_count(size, level);
        if count == 0 {
            break;
        }
        let n = count.div_ceil(TILE_WIDTH);
        out.extend((0..n).filter_map(|i| tile_in_tree(size, level, i)));
    }
    out
}

/// Serialises a hash tile.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Parses a hash tile, which must be exactly `width` hashes.
pub fn parse_hash_tile(id: TileId, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    let expected = usize::from(id.width) * HASH_LEN;
    if bytes.len() != expected {
        return Err(TileError::BadTileLength {
            path: id.hash_path(),
            len: bytes.len(),
            width: id.width,
            expected,
        });
    }
    Ok(bytes
        .chunks_exact(HASH_LEN)
        .map(|c| {
            let mut h = [0u8; HASH_LEN];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Serialises an entry bundle (uint16 big-endian length prefixes).
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge { len: e.len() })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Parses an entry bundle, which must hold exactly `id.width` entries and nothing after them.
pub fn parse_bundle(id: TileId, bytes: &[u8]) -> Result<Vec<Vec<u8>>, TileError> {
    let path = id.entries_path();
    let mut entries = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let entry = entries.len();
        let bad = |reason: String| TileError::BadBundle {
            path: path.clone(),
            entry,
            offset: at,
            reason,
        };
        if entries.len() == usize::from(id.width) {
            return Err(bad(format!(
                "{} bytes follow the last of the {} entries",
                bytes.len() - at,
                id.width
            )));
        }
        let Some(prefix) = bytes.get(at..at + 2) else {
            return Err(bad("the 2-byte length prefix is cut off".to_owned()));
        };
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let Some(body) = bytes.get(at + 2..at + 2 + len) else {
            return Err(bad(format!(
                "the entry says {len} bytes but only {} remain",
                bytes.len() - at - 2
            )));
        };
        entries.push(body.to_vec());
        at += 2 + len;
    }
    if entries.len() != usize::from(id.width) {
        return Err(TileError::BundleCount {
            path,
            found: entries.len(),
            expected: usize::from(id.width),
        });
    }
    Ok(entries)
}

/// Reads stored tiles. `Ok(None)` means the tile does not exist.
pub trait TileReader {
    fn read_tile(&mut self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, TileError>;
}

/// The tiles (hash tiles and entry bundles) that appending `entries` to a tree of `old_size`
/// produces: new full tiles, the new partial tiles, and rewritten wider versions of the old
/// partial tiles. Only the old right-edge partial tiles are read.
#[derive(Debug, Default)]
pub struct AppendedTiles {
    pub hash_tiles: Vec<(TileId, Vec<Hash>)>,
    pub bundles: Vec<(TileId, Vec<Vec<u8>>)>,
    pub new_size: u64,
}

/// Computes [`AppendedTiles`] for an append.
pub fn append<R: TileReader>(
    reader: &mut R,
    old_size: u64,
    entries: &[Vec<u8>],
) -> Result<AppendedTiles, TileError> {
    let added = entries.len() as u64;
    let new_size = old_size
        .checked_add(added)
        .ok_or(ProofError::IndexOutOfRange {
            index: u64::MAX,
            size: old_size,
        })?;
    let mut out = AppendedTiles {
        new_size,
        ..AppendedTiles::default()
    };
    if entries.is_empty() {
        return Ok(out);
    }
    for e in entries {
        if e.len() > MAX_ENTRY_LEN {
            return Err(TileError::EntryTooLarge { len: e.len() });
        }
    }

    // Entry bundles: the old partial bundle's entries, then the new ones, cut into tiles.
    let first = old_size / TILE_WIDTH;
    let mut pending: Vec<Vec<u8>> = match tile_in_tree(old_size, 0, first) {
        Some(id) => {
            let bytes = read_required(reader, TileKind::Entries, id, old_size)?;
            parse_bundle(id, &bytes)?
        }
        None => Vec::new(),
    };
    pending.extend(entries.iter().cloned());
    for (i, chunk) in pending.chunks(TILE_WIDTH as usize).enumerate() {
        let id = TileId {
            level: 0,
            index: first + i as u64,
            width: chunk.len() as u16,
        };
        out.bundles.push((id, chunk.to_vec()));
    }

    // Hash tiles, level by level: the new hashes at level L are the leaf hashes (L = 0) or the
    // roots of the level L-1 tiles this append completed.
    let mut new_hashes: Vec<Hash> = entries.iter().map(|e| merkle::leaf_hash(e)).collect();
    for level in 0..=MAX_LEVEL {
        if new_hashes.is_empty() {
            break;
        }
        let old_count = level_count(old_size, level);
        let first = old_count / TILE_WIDTH;
        let mut pending: Vec<Hash> = match tile_in_tree(old_size, level, first) {
            Some(id) => {
                let bytes = read_required(reader, TileKind::Hashes, id, old_size)?;
                parse_hash_tile(id, &bytes)?
            }
            None => Vec::new(),
        };
        pending.extend_from_slice(&new_hashes);
        new_hashes.clear();
        for (i, chunk) in pending.chunks(TILE_WIDTH as usize).enumerate() {
            let id = TileId {
                level,
                index: first + i as u64,
                width: chunk.len() as u16,
            };
            if id.is_full() {
                new_hashes.push(merkle::root(chunk));
            }
            out.hash_tiles.push((id, chunk.to_vec()));
        }
    }
    Ok(out)
}

fn read_required<R: TileReader>(
    reader: &mut R,
    kind: TileKind,
    id: TileId,
    size: u64,
) -> Result<Vec<u8>, TileError> {
    reader
        .read_tile(kind, id)?
        .ok_or_else(|| TileError::Missing {
            path: id.path(kind),
            size,
        })
}

/// A parsed hash tile and the roots of its aligned perfect subtrees: `levels[k][j]` is the
/// root of hashes `j·2^k .. (j+1)·2^k` of the tile (`levels[0]` is the tile itself). A proof
/// needs subtrees of up to 128 of a tile's hashes; computing every level once per tile (at
/// most 255 hashes) instead of each subtree per request is what lets a kept reader, or a
/// [`TileCache`], answer a proof without hashing. Immutable once built, so readers on many
/// threads share one.
#[derive(Debug)]
struct TileNodes {
    levels: Vec<Vec<Hash>>,
}

impl TileNodes {
    fn new(tile: Vec<Hash>) -> Self {
        let mut levels = vec![tile];
        while let Some(below) = levels.last().filter(|l| l.len() >= 2) {
            let up = below
                .chunks_exact(2)
                .map(|pair| merkle::node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(up);
        }
        TileNodes { levels }
    }

    /// The root of the `2^sub` hashes starting at `at · 2^sub`, if they are all in the tile.
    fn node(&self, sub: usize, at: usize) -> Option<Hash> {
        self.levels.get(sub)?.get(at).copied()
    }
}

/// Parsed hash tiles and entry bundles shared by every reader of one log, across tree sizes
/// and threads. A tile's ID includes its width, and a tile of a given width never changes in
/// an append-only log, so what is cached for one checkpoint holds for every later one: a
/// server that takes a fresh [`TileHashes`] for each new checkpoint still answers proofs from
/// memory.
///
/// Bounded by memory: it keeps two generations of at most half its budget each. A lookup moves
/// a tile into the young generation; when that is full it becomes the old one and the old one
/// is dropped, so tiles not asked for in a generation's time leave. A hash tile with its
/// subtree roots takes about 16 KiB, a full bundle of 110-byte entries about 34 KiB: every tile
/// and bundle of a log of 1,000,000 such entries is about 210 MiB.
#[derive(Debug)]
pub struct TileCache {
    /// Bytes one generation may hold.
    generation: usize,
    maps: std::sync::Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    young: HashMap<(TileKind, TileId), Cached>,
    young_bytes: usize,
    old: HashMap<(TileKind, TileId), Cached>,
    old_bytes: usize,
}

#[derive(Debug, Clone)]
enum Cached {
    Nodes(std::sync::Arc<TileNodes>),
    Entries(std::sync::Arc<Vec<Vec<u8>>>),
}

impl Cached {
    /// About the memory it holds.
    fn bytes(&self) -> usize {
        const OVERHEAD: usize = 64;
        OVERHEAD
            + match self {
                Cached::Nodes(n) => n
                    .levels
                    .iter()
                    .map(|l| l.len() * HASH_LEN + 24)
                    .sum::<usize>(),
                Cached::Entries(e) => e.iter().map(|entry| entry.len() + 24).sum::<usize>(),
            }
    }
}

impl TileCache {
    /// A cache holding at most about `budget` bytes.
    pub fn new(budget: usize) -> Self {
        TileCache {
            generation: (budget / 2).max(1),
            maps: std::sync::Mutex::default(),
        }
    }

    /// Tiles and bundles held now.
    pub fn len(&self) -> usize {
        self.maps
            .lock()
            .map(|m| m.young.len() + m.old.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// About the bytes held now.
    pub fn bytes(&self) -> usize {
        self.maps
            .lock()
            .map(|m| m.young_bytes + m.old_bytes)
            .unwrap_or(0)
    }

    fn get(&self, key: (TileKind, TileId)) -> Option<Cached> {
        let mut maps = self.maps.lock().ok()?;
        if let Some(found) = maps.young.get(&key) {
            return Some(found.clone());
        }
        let found = maps.old.remove(&key)?;
        maps.old_bytes = maps.old_bytes.saturating_sub(found.bytes());
        self.insert(&mut maps, key, found.clone());
        Some(found)
    }

    fn put(&self, key: (TileKind, TileId), value: Cached) {
        if let Ok(mut maps) = self.maps.lock() {
            self.insert(&mut maps, key, value);
        }
    }

    fn insert(&self, maps: &mut Generations, key: (TileKind, TileId), value: Cached) {
        let bytes = value.bytes();
        if maps.young_bytes + bytes > self.generation && !maps.young.is_empty() {
            maps.old = std::mem::take(&mut maps.young);
            maps.old_bytes = std::mem::take(&mut maps.young_bytes);
        }
        if let Some(replaced) = maps.young.insert(key, value) {
            maps.young_bytes = maps.young_bytes.saturating_sub(replaced.bytes());
        }
        maps.young_bytes += bytes;
    }

    /// The entries of bundle `id`, read through `reader` if not cached.
    pub fn bundle<R: TileReader>(
        &self,
        reader: &mut R,
        id: TileId,
        size: u64,
    ) -> Result<std::sync::Arc<Vec<Vec<u8>>>, TileError> {
        let key = (TileKind::Entries, id);
        if let Some(Cached::Entries(entries)) = self.get(key) {
            return Ok(entries);
        }
        let bytes = read_required(reader, TileKind::Entries, id, size)?;
        let entries = std::sync::Arc::new(parse_bundle(id, &bytes)?);
        self.put(key, Cached::Entries(entries.clone()));
        Ok(entries)
    }
}

/// Hashes of a tree of `size`, read from its tiles on demand (only the tiles a hash needs),
/// for roots and proofs. Tiles are parsed strictly and kept with the subtree roots within
/// them, so a reader kept for a tree size answers later proofs from memory; one made
/// [`TileHashes::with_cache`] also finds and leaves its tiles in a [`TileCache`] that
/// outlives it.
#[derive(Debug)]
pub struct TileHashes<'r, R> {
    reader: &'r mut R,
    size: u64,
    cache: HashMap<TileId, std::sync::Arc<TileNodes>>,
    shared: Option<&'r TileCache>,
}

impl<'r, R: TileReader> TileHashes<'r, R> {
    pub fn new(reader: &'r mut R, size: u64) -> Self {
        Self {
            reader,
            size,
            cache: HashMap::new(),
            shared: None,
        }
    }

    /// A reader for a tree of `size` that shares its tiles through `cache`.
    pub fn with_cache(reader: &'r mut R, size: u64, cache: &'r TileCache) -> Self {
        Self {
            shared: Some(cache),
            ..Self::new(reader, size)
        }
    }

    /// Size of the tree these hashes describe.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The parsed tile `level`/`index` of this tree.
    pub fn tile(&mut self, level: u8, index: u64) -> Result<&[Hash], TileError> {
        let nodes = self.nodes(level, index)?;
        Ok(nodes.levels.first().map(Vec::as_slice).unwrap_or_default())
    }

    fn nodes(&mut self, level: u8, index: u64) -> Result<&TileNodes, TileError> {
        let id = tile_in_tree(self.size, level, index).ok_or(ProofError::MissingNode {
            level: level.saturating_mul(TILE_HEIGHT as u8),
            index: index.saturating_mul(TILE_WIDTH),
        })?;
        Ok(match self.cache.entry(id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                let key = (TileKind::Hashes, id);
                let nodes = match self.shared.and_then(|c| c.get(key)) {
                    Some(Cached::Nodes(nodes)) => nodes,
                    _ => {
                        let bytes = read_required(self.reader, TileKind::Hashes, id, self.size)?;
                        let nodes =
                            std::sync::Arc::new(TileNodes::new(parse_hash_tile(id, &bytes)?));
                        if let Some(shared) = self.shared {
                            shared.put(key, Cached::Nodes(nodes.clone()));
                        }
                        nodes
                    }
                };
                v.insert(nodes)
            }
        })
    }

    /// Root of the whole tree.
    pub fn root(&mut self) -> Result<Hash, TileError> {
        let size = self.size;
        merkle::range_hash(self, 0, size)
    }

    /// Leaf hash at `index`.
    pub fn leaf_hash(&mut self, index: u64) -> Result<Hash, TileError> {
        self.perfect_hash(0, index)
    }

    /// Inclusion proof for leaf `index` in this tree.
    pub fn inclusion_proof(&mut self, index: u64) -> Result<Vec<Hash>, TileError> {
        let size = self.size;
        merkle::inclusion_proof(self, index, size)
    }

    /// Consistency proof from the tree of `old_size` to this tree.
    pub fn consistency_proof(&mut self, old_size: u64) -> Result<Vec<Hash>, TileError> {
        let size = self.size;
        merkle::consistency_proof(self, old_size, size)
    }
}

impl<R: TileReader> HashSource for TileHashes<'_, R> {
    type Error = TileError;

    fn perfect_hash(&mut self, level: u8, index: u64) -> Result<Hash, TileError> {
        let missing = ProofError::MissingNode { level, index };
        // The subtree must lie inside the tree: (index + 1) · 2^level ≤ size.
        index
            .checked_add(1)
            .filter(|_| u32::from(level) < 64)
            .and_then(|n| n.checked_shl(u32::from(level)))
            .filter(|end| end >> u32::from(level) == index + 1 && *end <= self.size)
            .ok_or(missing.clone())?;
        let tile_level = level / TILE_HEIGHT as u8;
        let sub = u32::from(level) % TILE_HEIGHT;
        let first = index << sub; // position at the tile level; < size, so no overflow
        let tile_index = first / TILE_WIDTH;
        // A multiple of 2^sub, since 2^sub divides the tile width.
        let offset = (first % TILE_WIDTH) as usize;
        self.nodes(tile_level, tile_index)?
            .node(sub as usize, offset >> sub)
            .ok_or_else(|| missing.into())
    }
}

/// Checks that the tiles and entry bundles of a tree of `size` agree with each other and with
/// `root`: every tile has its exact length, every leaf hash is the hash of its entry, every
/// higher-level hash is the root of its tile below, and the tiles give `root`. Returns the
/// first disagreement, naming the tile and hash.
pub fn check_tree<R: TileReader>(reader: &mut R, size: u64, root: &Hash) -> Result<(), TileError> {
    let tiles = tiles_of_tree(size);
    let mut hashes = TileHashes::new(reader, size);
    for id in &tiles {
        if id.level == 0 {
            let bytes = read_required(hashes.reader, TileKind::Entries, *id, size)?;
            let entries = parse_bundle(*id, &bytes)?;
            let leaves = hashes.tile(0, id.index)?.to_vec();
            for (pos, (entry, found)) in entries.iter().zip(&leaves).enumerate() {
                let expected = merkle::leaf_hash(entry);
                if &expected != found {
                    return Err(TileError::HashMismatch {
                        path: id.hash_path(),
                        level: 0,
                        position: pos as u16,
                        node_index: id.index * TILE_WIDTH + pos as u64,
                        found: merkle::hex(found),
                        expected: merkle::hex(&expected),
                        derived_from: format!("entry {pos} of {}", id.entries_path()),
                    });
                }
            }
        } else {
            let upper = hashes.tile(id.level, id.index)?.to_vec();
            for (pos, found) in upper.iter().enumerate() {
                let below_index = id.index * TILE_WIDTH + pos as u64;
                let below = hashes.tile(id.level - 1, below_index)?;
                let expected = merkle::root(below);
                if &expected != found {
                    let below_id = TileId {
                        level: id.level - 1,
                        index: below_index,
                        width: TILE_WIDTH as u16,
                    };
                    return Err(TileError::HashMismatch {
                        path: id.hash_path(),
                        level: id.level,
                        position: pos as u16,
                        node_index: below_index,
                        found: merkle::hex(found),
                        expected: merkle::hex(&expected),
                        derived_from: format!("the root of {}", below_id.hash_path()),
                    });
                }
            }
        }
    }
    let computed = hashes.root()?;
    if &computed != root {
        return Err(TileError::RootMismatch {
            size,
            computed: merkle::hex(&computed),
            expected: merkle::hex(root),
        });
    }
    Ok(())
}

/// Tiles held in memory (for tests and for building tiles before they are written).
#[derive(Debug, Default, Clone)]
pub struct MemoryTiles {
    pub hashes: HashMap<TileId, Vec<u8>>,
    pub bundles: HashMap<TileId, Vec<u8>>,
}

impl MemoryTiles {
    /// Stores the result of [`append`].
    pub fn apply(&mut self, a: &AppendedTiles) -> Result<(), TileError> {
        for (id, h) in &a.hash_tiles {
            self.hashes.insert(*id, encode_hash_tile(h));
        }
        for (id, e) in &a.bundles {
            self.bundles.insert(*id, encode_bundle(e)?);
        }
        Ok(())
    }
}

impl TileReader for MemoryTiles {
    fn read_tile(&mut self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, TileError> {
        let map = match kind {
            TileKind::Hashes => &self.hashes,
            TileKind::Entries => &self.bundles,
        };
        Ok(map.get(&id).cloned())
    }
}

/// Fuzz entry point for what an auditor reads from someone else's log: any bytes as a hash
/// tile, an entry bundle and a leaf record (the first byte picks the tile's width), and as a
/// tile path. Never panics; whatever parses re-serialises to the same bytes.
#[doc(hidden)]
pub fn fuzz_tile_parse(data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        let id = TileId {
            level: first % 3,
            index: u64::from(first),
            width: u16::from(first).max(1),
        };
        if let Ok(hashes) = parse_hash_tile(id, rest) {
            assert_eq!(encode_hash_tile(&hashes), rest, "a hash tile round-trips");
        }
        if let Ok(entries) = parse_bundle(id, rest) {
            assert_eq!(
                encode_bundle(&entries).ok().as_deref(),
                Some(rest),
                "a bundle round-trips"
            );
            for entry in &entries {
                if let Ok(record) = crate::leaf::LeafRecord::decode(entry) {
                    assert_eq!(record.encode().ok().as_deref(), Some(&entry[..]));
                }
            }
        }
    }
    if let Ok(record) = crate::leaf::LeafRecord::decode(data) {
        assert_eq!(
            record.encode().ok().as_deref(),
            Some(data),
            "a leaf record round-trips"
        );
    }
    if let Ok(path) = std::str::from_utf8(data)
        && let Ok((kind, id)) = TileId::parse_path(path)
    {
        assert_eq!(id.path(kind), path, "a tile path round-trips");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use super::*;

    #[test]
    fn index_encoding_follows_the_spec_example() {
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(encode_index(5), "005");
        assert_eq!(encode_index(1000), "x001/000");
        for n in [0, 5, 999, 1000, 1_234_067, u64::MAX] {
            assert_eq!(decode_index(&encode_index(n)), Some(n));
        }
        for bad in [
            "", "5", "0005", "x000/005", "x1/005", "001/005", "x001/", "x001/0a5",
        ] {
            assert_eq!(decode_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn paths_round_trip_and_bad_paths_are_refused() {
        let id = TileId {
            level: 1,
            index: 1_234_067,
            width: 17,
        };
        assert_eq!(id.hash_path(), "tile/1/x001/x234/067.p/17");
        assert_eq!(
            TileId::parse_path("tile/1/x001/x234/067.p/17").unwrap(),
            (TileKind::Hashes, id)
        );
        let full = TileId {
            level: 0,
            index: 3,
            width: 256,
        };
        assert_eq!(full.entries_path(), "tile/entries/003");
        assert_eq!(
            TileId::parse_path("tile/entries/003").unwrap(),
            (TileKind::Entries, full)
        );
        for bad in [
            "tile/64/000",
            "tile/01/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/017",
            "tiles/0/000",
            "tile/0/00",
            "tile/entries/000.p/",
        ] {
            assert!(TileId::parse_path(bad).is_err(), "{bad}");
        }
    }

    /// The example in tlog-tiles v0.1.0 (../shared/reference/trust-and-registry.md §1.2):
    /// size 70 000 → 273 full level-0 tiles and a partial one of width 112, one full level-1
    /// tile and a partial one of width 17, and a partial level-2 tile of width 1.
    #[test]
    fn tile_counts_for_size_70000() {
        let tiles = tiles_of_tree(70_000);
        let at = |l: u8| tiles.iter().filter(|t| t.level == l).collect::<Vec<_>>();
        assert_eq!(at(0).iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(at(0).last().unwrap().width, 112);
        assert_eq!(at(1).iter().filter(|t| t.is_full()).count(), 1);
        assert_eq!(at(1).last().unwrap().width, 17);
        assert_eq!(at(2).len(), 1);
        assert_eq!(at(2)[0].width, 1);
        assert_eq!(tiles.len(), 274 + 2 + 1);
    }

    /// Appends `batch` entries to the tiles and the in-memory tree; the new size.
    fn grow(store: &mut MemoryTiles, tree: &mut merkle::MemoryTree, size: u64, batch: u64) -> u64 {
        let entries: Vec<Vec<u8>> = (size..size + batch)
            .map(|i| format!("entry {i}").into_bytes())
            .collect();
        let a = append(store, size, &entries).unwrap();
        store.apply(&a).unwrap();
        for e in &entries {
            tree.push_leaf_hash(merkle::leaf_hash(e));
        }
        a.new_size
    }

    /// A reader kept across proofs answers from the subtree roots it cached; they must be the
    /// same proofs, at every position in full and partial tiles, and for smaller trees read
    /// from the same tiles.
    #[test]
    fn a_kept_reader_gives_the_same_proofs_for_every_leaf() {
        let mut store = MemoryTiles::default();
        let mut tree = merkle::MemoryTree::new();
        let mut size = 0u64;
        for batch in [1u64, 254, 1, 300, 65_536, 70] {
            size = grow(&mut store, &mut tree, size, batch);
            let mut kept = TileHashes::new(&mut store, size);
            // Every leaf of the small trees; for the large one, the edges of each tile and a
            // stride through it, twice so the second pass is answered from the cache.
            let leaves: Vec<u64> = (0..size)
                .filter(|i| size < 1000 || i % 256 < 2 || i % 256 > 253 || i % 97 == 0)
                .collect();
            for _ in 0..2 {
                for &i in &leaves {
                    assert_eq!(
                        kept.inclusion_proof(i).unwrap(),
                        merkle::inclusion_proof(&mut tree, i, size).unwrap(),
                        "leaf {i} of {size}"
                    );
                }
            }
            assert_eq!(kept.root().unwrap(), tree.root_at(size).unwrap());
        }
    }

    /// Counts the tiles read through it.
    struct Counting<'a> {
        tiles: &'a mut MemoryTiles,
        reads: usize,
    }

    impl TileReader for Counting<'_> {
        fn read_tile(&mut self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, TileError> {
            self.reads += 1;
            self.tiles.read_tile(kind, id)
        }
    }

    /// A cache shared by a fresh reader per checkpoint, as the log grows: the same proofs as
    /// the in-memory tree at every size, and once warm only the tiles that changed (the right
    /// edge) are read again.
    #[test]
    fn a_shared_cache_outlives_checkpoints_and_gives_the_same_proofs() {
        let mut store = MemoryTiles::default();
        let mut tree = merkle::MemoryTree::new();
        let cache = TileCache::new(64 << 20);
        let mut size = 0u64;
        for batch in [70_000u64, 1, 255, 3, 600] {
            size = grow(&mut store, &mut tree, size, batch);
            let leaves: Vec<u64> = (0..size).step_by(131).chain([size - 1]).collect();
            // Twice, each time with a new reader, as a server does per request.
            for pass in 0..2 {
                let mut counting = Counting {
                    tiles: &mut store,
                    reads: 0,
                };
                for &i in &leaves {
                    let mut reader = TileHashes::with_cache(&mut counting, size, &cache);
                    assert_eq!(
                        reader.inclusion_proof(i).unwrap(),
                        merkle::inclusion_proof(&mut tree, i, size).unwrap(),
                        "leaf {i} of {size}"
                    );
                }
                if pass == 1 {
                    assert_eq!(counting.reads, 0, "the second pass at {size} read tiles");
                } else if batch < 256 && size > batch {
                    // Only the right edge changed: a tile per level, and one filled.
                    assert!(
                        counting.reads <= 4,
                        "{} tiles read at {size}",
                        counting.reads
                    );
                }
            }
            let mut reader = TileHashes::with_cache(&mut store, size, &cache);
            assert_eq!(reader.root().unwrap(), tree.root_at(size).unwrap());
        }
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut store = MemoryTiles::default();
        let entries: Vec<Vec<u8>> = (0..256u64 * 40).map(|i| i.to_le_bytes().to_vec()).collect();
        let a = append(&mut store, 0, &entries).unwrap();
        store.apply(&a).unwrap();
        // Room for about eight tiles of either kind.
        let budget = 8 * 20_000;
        let cache = TileCache::new(budget);
        for i in (0..a.new_size).step_by(256) {
            TileHashes::with_cache(&mut store, a.new_size, &cache)
                .leaf_hash(i)
                .unwrap();
            cache
                .bundle(
                    &mut store,
                    tile_in_tree(a.new_size, 0, i / 256).unwrap(),
                    a.new_size,
                )
                .unwrap();
            assert!(cache.bytes() <= budget, "{} bytes cached", cache.bytes());
        }
        assert!(cache.len() >= 4, "{} cached", cache.len());
    }

    #[test]
    fn bundle_framing_is_strict() {
        let id = TileId {
            level: 0,
            index: 0,
            width: 2,
        };
        let b = encode_bundle(&[b"ab".to_vec(), Vec::new()]).unwrap();
        assert_eq!(b, [0, 2, b'a', b'b', 0, 0]);
        assert_eq!(parse_bundle(id, &b).unwrap().len(), 2);
        assert!(matches!(
            parse_bundle(id, &b[..3]),
            Err(TileError::BadBundle {
                entry: 0,
                offset: 0,
                ..
            })
        ));
        assert!(matches!(
            parse_bundle(id, &b[..5]),
            Err(TileError::BadBundle {
                entry: 1,
                offset: 4,
                ..
            })
        ));
        assert!(matches!(
            parse_bundle(id, &b[..4]),
            Err(TileError::BundleCount { found: 1, .. })
        ));
        let mut extra = b.clone();
        extra.push(0);
        assert!(matches!(
            parse_bundle(id, &extra),
            Err(TileError::BadBundle { entry: 2, .. })
        ));
        assert!(matches!(
            encode_bundle(&[vec![0u8; 65_536]]),
            Err(TileError::EntryTooLarge { len: 65_536 })
        ));
    }
}
