//! UBIFS, the filesystem Linux runs on UBI volumes. The volume is a run of logical erase
//! blocks (LEBs); LEB 0 holds the superblock node (LEB size and count), LEBs 1 and 2 the
//! master node, whose newest copy points to the root of the index: a B+-tree of index nodes
//! whose leaves are the live inode, directory-entry and data nodes. Walking the index from
//! the master's root gives exactly the committed filesystem, without the stale nodes that
//! still sit in the LEBs. Files are 4096-byte blocks, each one data node, compressed with
//! LZO, zlib (raw deflate) or zstd, or stored. Layouts follow `fs/ubifs/ubifs-media.h`; all
//! fields are little-endian and every node carries a CRC-32 (as UBI computes it) of its body.
//!
//! Not read: the journal (nodes written since the last commit, as a device that lost power
//! leaves them), extended attributes, and encrypted or authenticated filesystems.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::ops::Range;
use std::path::PathBuf;

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};
use crate::tree::{Entry, Kind, Tree};

pub(super) const MAGIC: [u8; 4] = [0x31, 0x18, 0x10, 0x06];
const COMMON_LEN: usize = 24;
const INO_NODE: u8 = 0;
const DATA_NODE: u8 = 1;
const DENT_NODE: u8 = 2;
const SB_NODE: u8 = 6;
const MST_NODE: u8 = 7;
const IDX_NODE: u8 = 9;
const SB_LEN: usize = 4096;
const MST_LEN: usize = 512;
const BLOCK: u64 = 4096;
const ROOT_INO: u32 = 1;
/// An index deeper than this is corrupt (a real one is a handful of levels).
const MAX_LEVEL: u16 = 64;
const FLAG_ENCRYPTION: u32 = 0x10;
const FLAG_AUTHENTICATION: u32 = 0x20;

/// Does `rest` start like a UBIFS superblock node? The reader checks its CRC.
pub(super) fn superblock(rest: &[u8]) -> bool {
    rest.starts_with(&MAGIC) && rest.get(20) == Some(&SB_NODE)
}

const LE: ByteOrder = ByteOrder::Little;

/// The `u32` at `at` of a node whose length was checked to hold it.
fn word(node: &Reader, at: usize, what: &'static str) -> Result<u32, ReadError> {
    node.u32_at(at, LE, what)
}

/// The volume and how to find nodes in it.
struct Volume<'a> {
    img: Reader<'a>,
    bytes: &'a [u8],
    leb_size: usize,
    verify: bool,
}

impl<'a> Volume<'a> {
    /// The node at (`lnum`, `offs`) if it is whole, of `want` type and, when verifying, its
    /// CRC matches; `len` is what the index says it is (0: take the header's).
    fn node(&self, lnum: u32, offs: u32, len: u32, want: Option<u8>) -> Result<Reader<'a>, String> {
        let range = self.locate(lnum, offs, len, want)?;
        self.range(&range)
    }

    /// The node that [`Volume::locate`] found at `range`.
    fn range(&self, range: &Range<usize>) -> Result<Reader<'a>, String> {
        self.img
            .at(range.start, range.len(), "node")
            .map_err(|e| e.to_string())
    }

    /// Like [`Volume::node`], but where the node lies in the volume.
    fn locate(
        &self,
        lnum: u32,
        offs: u32,
        len: u32,
        want: Option<u8>,
    ) -> Result<Range<usize>, String> {
        let where_ = || format!("node at LEB {lnum} offset {offs}");
        let start = (lnum as usize)
            .checked_mul(self.leb_size)
            .and_then(|s| s.checked_add(offs as usize))
            .filter(|_| (offs as usize) < self.leb_size)
            .ok_or_else(|| format!("{} is outside the filesystem", where_()))?;
        let past_end =
            |e: ReadError| format!("{} is past the end of the image: truncated: {e}", where_());
        let head = self
            .img
            .at(start, COMMON_LEN, "node header")
            .map_err(past_end)?;
        if !head.window().starts_with(&MAGIC) {
            return Err(format!("{}: no node magic", where_()));
        }
        let node_len = word(&head, 16, "node length").map_err(past_end)? as usize;
        if node_len < COMMON_LEN || (len != 0 && node_len != len as usize) {
            return Err(format!("{}: length {node_len} is wrong", where_()));
        }
        if (offs as usize).saturating_add(node_len) > self.leb_size {
            return Err(format!("{}: runs past its LEB", where_()));
        }
        let node = self.img.at(start, node_len, "node").map_err(past_end)?;
        let node_type = node.u8_at(20, "node type").map_err(past_end)?;
        if let Some(t) = want
            && node_type != t
        {
            return Err(format!(
                "{}: type {node_type} where {t} was expected",
                where_()
            ));
        }
        let body = node.window().get(8..).unwrap_or_default();
        if self.verify && word(&node, 4, "node CRC").ok() != Some(super::ubi::crc(body)) {
            return Err(format!("{}: CRC mismatch", where_()));
        }
        Ok(start..start + node_len)
    }
}

/// A UBIFS filesystem whose superblock is at `offset`; returns the bytes it occupies.
pub(super) fn ubifs(scan: &mut Scan) -> Option<usize> {
    read(scan, true)
}

/// The reader; `verify` off skips the CRC checks so a fuzzer can reach the code behind them.
pub(super) fn read(scan: &mut Scan, verify: bool) -> Option<usize> {
    let (data, offset) = (scan.data, scan.offset);
    let sb = Reader::new(data, 0)
        .at(offset, SB_LEN, "UBIFS superblock")
        .ok()?;
    let field = |at| word(&sb, at, "superblock field").ok();
    if !superblock(sb.window()) || field(16)? as usize != SB_LEN {
        return None;
    }
    if verify && field(4)? != super::ubi::crc(sb.window().get(8..)?) {
        return None;
    }
    let flags = field(28)?;
    let leb_size = field(36)? as usize;
    let leb_cnt = field(40)? as usize;
    let key_fmt = sb.u8_at(27, "key format").ok()?;
    // UBIFS's own bounds on a LEB: at least 15 KiB; beyond 16 MiB no flash has them.
    if !(15 << 10..=16 << 20).contains(&leb_size) || leb_cnt < 3 {
        return None;
    }
    let claimed = leb_size
        .checked_mul(leb_cnt)
        .map_or(data.len() - offset, |n| n.min(data.len() - offset));
    let img = Reader::new(data, 0)
        .at(offset, claimed, "UBIFS volume")
        .ok()?;
    let bytes = img.window();
    let mut problems = Problems::default();
    let mut tree = Tree::default();
    let unsupported = if key_fmt != 0 {
        Some(format!("key format {key_fmt} is not supported"))
    } else if flags & FLAG_AUTHENTICATION != 0 {
        Some("authenticated UBIFS is not supported".to_owned())
    } else {
        None
    };
    if let Some(why) = unsupported {
        problems.add(why);
    } else {
        let vol = Volume {
            img,
            bytes,
            leb_size,
            verify,
        };
        if flags & FLAG_ENCRYPTION != 0 {
            problems.add("the filesystem may hold encrypted files; they are not decrypted".into());
        }
        match index(&vol, &mut problems) {
            Ok(found) => tree = build(&vol, &found, scan, &mut problems),
            Err(e) => problems.add(e),
        }
    }
    scan.record_filesystem(bytes, "ubifs", problems.summary(), tree);
    Some(claimed)
}

/// The newest master node in LEBs 1 and 2: the index root (LEB, offset, length).
fn master(vol: &Volume) -> Result<(u32, u32, u32), String> {
    let mut best: Option<(u64, (u32, u32, u32))> = None;
    for lnum in [1u32, 2] {
        let start = lnum as usize * vol.leb_size;
        let Some(leb) = vol.bytes.get(start..start + vol.leb_size) else {
            continue;
        };
        // Master nodes are written one after another, 8-byte aligned.
        for offs in (0..leb.len().saturating_sub(MST_LEN - 1)).step_by(8) {
            if leb[offs..].starts_with(&MAGIC) && leb.get(offs + 20) == Some(&MST_NODE) {
                let Ok(node) = vol.node(lnum, offs as u32, 0, Some(MST_NODE)) else {
                    continue;
                };
                let fields = || -> Result<_, ReadError> {
                    let root = (
                        word(&node, 48, "index root LEB")?,
                        word(&node, 52, "index root offset")?,
                        word(&node, 56, "index root length")?,
                    );
                    Ok((node.u64_at(8, LE, "sequence number")?, root))
                };
                let Ok((sqnum, root)) = fields() else {
                    continue;
                };
                if best.is_none_or(|(s, _)| sqnum > s) {
                    best = Some((sqnum, root));
                }
            }
        }
    }
    best.map(|(_, root)| root)
        .ok_or_else(|| "no valid master node in LEBs 1 and 2".to_owned())
}

#[derive(Debug, Default)]
struct Found {
    /// inode number → its node's byte range in the volume
    inodes: HashMap<u32, Range<usize>>,
    /// (parent inode, name, child inode)
    dents: Vec<(u32, Vec<u8>, u32)>,
    /// inode number → (block number, data node range)
    blocks: HashMap<u32, Vec<(u32, Range<usize>)>>,
}

/// Walks the index from the master's root and collects its leaves.
fn index(vol: &Volume, problems: &mut Problems) -> Result<Found, String> {
    let (root_lnum, root_offs, root_len) = master(vol)?;
    let mut found = Found::default();
    let mut seen = HashSet::new();
    // (lnum, offs, len, the level this node must have, if known)
    let mut stack = vec![(root_lnum, root_offs, root_len, None::<u16>)];
    // Every index node is at least a header and one branch; more visits than that is a loop.
    let max_visits = vol.bytes.len() / (COMMON_LEN + 4) + 1;
    // Each real branch takes 20 bytes of its own: more branches than that means nodes
    // overlap or repeat, and following them all could take quadratic time.
    let mut branches_left = vol.bytes.len() / 20 + 1;
    while let Some((lnum, offs, len, level_wanted)) = stack.pop() {
        if seen.len() > max_visits {
            return Err("the index has more nodes than the filesystem can hold".into());
        }
        if !seen.insert((lnum, offs)) {
            problems.add(format!(
                "index node at LEB {lnum} offset {offs} is reached twice"
            ));
            continue;
        }
        let node = match vol.node(lnum, offs, len, Some(IDX_NODE)) {
            Ok(n) => n,
            Err(e) => {
                problems.add(format!("index: {e}"));
                continue;
            }
        };
        let (Ok(count), Ok(level)) = (
            node.u16_at(24, LE, "branch count"),
            node.u16_at(26, LE, "index level"),
        ) else {
            continue;
        };
        if level > MAX_LEVEL || level_wanted.is_some_and(|w| w != level) {
            problems.add(format!(
                "index node at LEB {lnum} offset {offs} has level {level}, not {level_wanted:?}"
            ));
            continue;
        }
        branches_left = branches_left
            .checked_sub(usize::from(count))
            .ok_or_else(|| "the index has more branches than the filesystem can hold".to_owned())?;
        for i in 0..usize::from(count) {
            let at = 28 + i * 20;
            let branch = || -> Result<_, ReadError> {
                let mut b = node.at(at, 12, "index branch")?;
                Ok((
                    b.u32(LE, "branch LEB")?,
                    b.u32(LE, "branch offset")?,
                    b.u32(LE, "branch length")?,
                ))
            };
            let (blnum, boffs, blen) = match branch() {
                Ok(b) => b,
                Err(e) => {
                    problems.add(format!(
                        "index node at LEB {lnum} offset {offs}: {count} branches do not fit: {e}"
                    ));
                    break;
                }
            };
            if level > 0 {
                stack.push((blnum, boffs, blen, Some(level - 1)));
                continue;
            }
            let located = vol
                .locate(blnum, boffs, blen, None)
                .and_then(|r| Ok((vol.range(&r)?, r)));
            let (leaf, at) = match located {
                Ok(found) => found,
                Err(e) => {
                    problems.add(e);
                    continue;
                }
            };
            let inum = word(&leaf, 24, "inode number").unwrap_or(0);
            match leaf.u8_at(20, "node type").unwrap_or(u8::MAX) {
                INO_NODE => {
                    found.inodes.insert(inum, at);
                }
                DENT_NODE => {
                    let entry = || -> Result<_, ReadError> {
                        let child = leaf.u64_at(40, LE, "entry inode")?;
                        let nlen = usize::from(leaf.u16_at(50, LE, "entry name length")?);
                        Ok((child, leaf.at(56, nlen, "entry name")?.window()))
                    };
                    match entry().map(|(child, name)| (u32::try_from(child), name)) {
                        Ok((Ok(child), name)) => found.dents.push((inum, name.to_vec(), child)),
                        Ok((Err(_), _)) => problems.add(format!(
                            "directory entry at LEB {blnum} offset {boffs} is malformed"
                        )),
                        Err(e) => problems.add(format!(
                            "directory entry at LEB {blnum} offset {boffs} is malformed: {e}"
                        )),
                    }
                }
                DATA_NODE => {
                    let block = word(&leaf, 28, "block number").unwrap_or(0) & 0x1fff_ffff;
                    found.blocks.entry(inum).or_default().push((block, at));
                }
                _ => {} // extended attributes and their entries
            }
        }
    }
    Ok(found)
}

/// One data node's bytes: `size` bytes once decompressed.
fn decompress(node: &Reader) -> Result<Vec<u8>, String> {
    // A node cut shorter than its header reads as an empty, uncompressed block: a hole.
    let size = word(node, 40, "data size").unwrap_or(0) as usize;
    let compr = node.u16_at(44, LE, "compression").unwrap_or(0);
    let src = node
        .from(48, "data")
        .map(|r| r.window())
        .unwrap_or_default();
    if size as u64 > BLOCK {
        return Err(format!("a data block of {size} bytes"));
    }
    let out = match compr {
        0 => src.get(..size).map(<[u8]>::to_vec).unwrap_or_default(),
        1 => super::streams::lzo1x_block(src, size)?,
        2 => {
            let mut v = Vec::with_capacity(size);
            flate2::read::DeflateDecoder::new(src)
                .take(size as u64)
                .read_to_end(&mut v)
                .map_err(|e| format!("deflate: {e}"))?;
            v
        }
        3 => zstd::bulk::decompress(src, size).map_err(|e| format!("zstd: {e}"))?,
        other => return Err(format!("unknown compression {other}")),
    };
    if out.len() != size {
        return Err(format!(
            "compression {compr} gave {} bytes, not {size}",
            out.len()
        ));
    }
    Ok(out)
}

/// A regular file's bytes: its blocks in place, holes zero, cut to the inode's size.
fn contents(
    vol: &Volume,
    size: u64,
    blocks: &[(u32, Range<usize>)],
    scan: &mut Scan,
) -> Result<Vec<u8>, String> {
    let cap = scan.cap();
    if size > cap {
        return Err(format!("{size} bytes, over the size limit"));
    }
    *scan.budget -= size;
    let size = size as usize;
    let mut buf = vec![0u8; size];
    for (block, range) in blocks {
        let start = u64::from(*block) * BLOCK;
        if start >= size as u64 {
            continue; // beyond the end: left by a truncation
        }
        let bytes = vol
            .range(range)
            .and_then(|node| decompress(&node))
            .map_err(|e| {
                let lnum = range.start / vol.leb_size;
                let offs = range.start % vol.leb_size;
                format!("data node at LEB {lnum} offset {offs}: {e}")
            })?;
        let start = start as usize;
        let stop = (start + bytes.len()).min(size);
        buf[start..stop].copy_from_slice(&bytes[..stop - start]);
    }
    Ok(buf)
}

fn kind_of(mode: u32) -> Option<&'static str> {
    Some(match mode & 0o170000 {
        0o040000 => "dir",
        0o100000 => "file",
        0o120000 => "symlink",
        0o020000 => "character device",
        0o060000 => "block device",
        0o010000 => "named pipe",
        0o140000 => "socket",
        _ => return None,
    })
}

/// Builds the tree from the root directory (inode 1) down through the directory entries.
fn build(vol: &Volume, found: &Found, scan: &mut Scan, problems: &mut Problems) -> Tree {
    let limits = scan.limits;
    type Names<'a> = Vec<(&'a [u8], u32)>;
    let mut children: HashMap<u32, Names> = HashMap::new();
    for (parent, name, child) in &found.dents {
        if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
            problems.add(format!(
                "unusable name {name:?} in directory inode {parent}"
            ));
            continue;
        }
        children
            .entry(*parent)
            .or_default()
            .push((name.as_slice(), *child));
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut tree = Tree::default();
    let mut visited = HashSet::from([ROOT_INO]);
    let mut stack = vec![(ROOT_INO, PathBuf::from("/"))];
    let mut built: HashMap<u32, Kind> = HashMap::new();
    while let Some((dir, path)) = stack.pop() {
        for &(name, inum) in children.get(&dir).map(Vec::as_slice).unwrap_or_default() {
            if tree.entries.len() >= limits.max_files {
                problems.add(format!(
                    "stopped at the limit of {} files",
                    limits.max_files
                ));
                return tree;
            }
            let child = path.join(String::from_utf8_lossy(name).as_ref());
            let Some(ino) = found.inodes.get(&inum).and_then(|r| vol.range(r).ok()) else {
                problems.add(format!(
                    "{}: inode {inum} is not in the index",
                    child.display()
                ));
                continue;
            };
            let fields = || -> Result<_, ReadError> {
                Ok((
                    ino.u64_at(48, LE, "inode size")?,
                    word(&ino, 96, "inode uid")?,
                    word(&ino, 100, "inode gid")?,
                    word(&ino, 104, "inode mode")?,
                    word(&ino, 112, "inode data length")?,
                ))
            };
            let (size, uid, gid, mode, data_len) = match fields() {
                Ok(f) => f,
                Err(e) => {
                    problems.add(format!(
                        "{}: inode {inum} is too short: {e}",
                        child.display()
                    ));
                    continue;
                }
            };
            let inline = ino
                .at(160, data_len as usize, "inline data")
                .map(|r| r.window())
                .unwrap_or_default();
            let kind = match kind_of(mode) {
                Some("dir") => {
                    if !visited.insert(inum) {
                        problems.add(format!(
                            "{}: directory inode {inum} is linked twice",
                            child.display()
                        ));
                        continue;
                    }
                    stack.push((inum, child.clone()));
                    Kind::Dir
                }
                Some("symlink") => {
                    Kind::Symlink(PathBuf::from(String::from_utf8_lossy(inline).into_owned()))
                }
                Some("file") => {
                    let made = match built.get(&inum) {
                        // A hard link: the same contents again, counted again.
                        Some(Kind::File(b)) => match scan.budget.checked_sub(b.len() as u64) {
                            Some(left) => {
                                *scan.budget = left;
                                Ok(b.clone())
                            }
                            None => Err("over the unpacking budget".to_owned()),
                        },
                        _ => {
                            let blocks = found
                                .blocks
                                .get(&inum)
                                .map(Vec::as_slice)
                                .unwrap_or_default();
                            contents(vol, size, blocks, scan)
                        }
                    };
                    match made {
                        Ok(bytes) => {
                            built.insert(inum, Kind::File(bytes.clone()));
                            Kind::File(bytes)
                        }
                        Err(e) => {
                            problems.add(format!("{}: {e}", child.display()));
                            continue;
                        }
                    }
                }
                Some(special) => Kind::Special(special),
                None => {
                    problems.add(format!(
                        "{}: inode {inum} has unknown mode {mode:o}",
                        child.display()
                    ));
                    continue;
                }
            };
            let entry = Entry {
                kind,
                mode: (mode & 0o7777) as u16,
                uid,
                gid,
            };
            if let Err(e) = tree.insert(&child, entry) {
                problems.add(e.to_string());
            }
        }
    }
    tree
}
