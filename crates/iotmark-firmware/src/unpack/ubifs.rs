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

use super::{Problems, Unpacked, record_filesystem};
use crate::Limits;
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

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// The volume and how to find nodes in it.
struct Volume<'a> {
    bytes: &'a [u8],
    leb_size: usize,
    verify: bool,
}

impl Volume<'_> {
    /// The node at (`lnum`, `offs`) if it is whole, of `want` type and, when verifying, its
    /// CRC matches; `len` is what the index says it is (0: take the header's).
    fn node(&self, lnum: u32, offs: u32, len: u32, want: Option<u8>) -> Result<&[u8], String> {
        self.locate(lnum, offs, len, want).map(|r| &self.bytes[r])
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
        let head = self
            .bytes
            .get(start..start.saturating_add(COMMON_LEN))
            .ok_or_else(|| format!("{} is past the end of the image: truncated", where_()))?;
        if !head.starts_with(&MAGIC) {
            return Err(format!("{}: no node magic", where_()));
        }
        let node_len = le32(head, 16).unwrap_or(0) as usize;
        if node_len < COMMON_LEN || (len != 0 && node_len != len as usize) {
            return Err(format!("{}: length {node_len} is wrong", where_()));
        }
        if (offs as usize).saturating_add(node_len) > self.leb_size {
            return Err(format!("{}: runs past its LEB", where_()));
        }
        let node = self
            .bytes
            .get(start..start + node_len)
            .ok_or_else(|| format!("{} is past the end of the image: truncated", where_()))?;
        if let Some(t) = want
            && node[20] != t
        {
            return Err(format!(
                "{}: type {} where {t} was expected",
                where_(),
                node[20]
            ));
        }
        if self.verify && le32(node, 4) != Some(super::ubi::crc(&node[8..])) {
            return Err(format!("{}: CRC mismatch", where_()));
        }
        Ok(start..start + node_len)
    }
}

/// A UBIFS filesystem whose superblock is at `offset`; returns the bytes it occupies.
pub(super) fn ubifs(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    read(data, offset, within, limits, budget, out, true)
}

/// The reader; `verify` off skips the CRC checks so a fuzzer can reach the code behind them.
pub(super) fn read(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
    verify: bool,
) -> Option<usize> {
    let sb = data.get(offset..offset.checked_add(SB_LEN)?)?;
    if !superblock(sb) || le32(sb, 16)? as usize != SB_LEN {
        return None;
    }
    if verify && le32(sb, 4)? != super::ubi::crc(&sb[8..]) {
        return None;
    }
    let flags = le32(sb, 28)?;
    let leb_size = le32(sb, 36)? as usize;
    let leb_cnt = le32(sb, 40)? as usize;
    let key_fmt = sb[27];
    // UBIFS's own bounds on a LEB: at least 15 KiB; beyond 16 MiB no flash has them.
    if !(15 << 10..=16 << 20).contains(&leb_size) || leb_cnt < 3 {
        return None;
    }
    let claimed = leb_size
        .checked_mul(leb_cnt)
        .map_or(data.len() - offset, |n| n.min(data.len() - offset));
    let bytes = &data[offset..offset + claimed];
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
            bytes,
            leb_size,
            verify,
        };
        if flags & FLAG_ENCRYPTION != 0 {
            problems.add("the filesystem may hold encrypted files; they are not decrypted".into());
        }
        match index(&vol, &mut problems) {
            Ok(found) => tree = build(&vol, &found, limits, budget, &mut problems),
            Err(e) => problems.add(e),
        }
    }
    record_filesystem(
        out,
        bytes,
        offset,
        "ubifs",
        within,
        problems.summary(),
        tree,
    );
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
                let (Some(sqnum), Some(root)) = (
                    le64(node, 8),
                    (|| Some((le32(node, 48)?, le32(node, 52)?, le32(node, 56)?)))(),
                ) else {
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
        let (Some(count), Some(level)) = (le16(node, 24), le16(node, 26)) else {
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
            let (Some(blnum), Some(boffs), Some(blen)) =
                (le32(node, at), le32(node, at + 4), le32(node, at + 8))
            else {
                problems.add(format!(
                    "index node at LEB {lnum} offset {offs}: {count} branches do not fit"
                ));
                break;
            };
            if level > 0 {
                stack.push((blnum, boffs, blen, Some(level - 1)));
                continue;
            }
            let (at, leaf) = match vol.locate(blnum, boffs, blen, None) {
                Ok(r) => (r.clone(), &vol.bytes[r]),
                Err(e) => {
                    problems.add(e);
                    continue;
                }
            };
            let inum = le32(leaf, 24).unwrap_or(0);
            match leaf[20] {
                INO_NODE => {
                    found.inodes.insert(inum, at);
                }
                DENT_NODE => {
                    let child = le64(leaf, 40).unwrap_or(0);
                    let nlen = usize::from(le16(leaf, 50).unwrap_or(0));
                    match (leaf.get(56..56 + nlen), u32::try_from(child)) {
                        (Some(name), Ok(child)) => found.dents.push((inum, name.to_vec(), child)),
                        _ => problems.add(format!(
                            "directory entry at LEB {blnum} offset {boffs} is malformed"
                        )),
                    }
                }
                DATA_NODE => {
                    let block = le32(leaf, 28).unwrap_or(0) & 0x1fff_ffff;
                    found.blocks.entry(inum).or_default().push((block, at));
                }
                _ => {} // extended attributes and their entries
            }
        }
    }
    Ok(found)
}

/// One data node's bytes: `size` bytes once decompressed.
fn decompress(node: &[u8]) -> Result<Vec<u8>, String> {
    let size = le32(node, 40).unwrap_or(0) as usize;
    let compr = le16(node, 44).unwrap_or(0);
    let src = node.get(48..).unwrap_or_default();
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
    cap: u64,
    budget: &mut u64,
) -> Result<Vec<u8>, String> {
    if size > cap {
        return Err(format!("{size} bytes, over the size limit"));
    }
    *budget -= size;
    let size = size as usize;
    let mut buf = vec![0u8; size];
    for (block, range) in blocks {
        let start = u64::from(*block) * BLOCK;
        if start >= size as u64 {
            continue; // beyond the end: left by a truncation
        }
        let node = vol.bytes.get(range.clone()).unwrap_or_default();
        let bytes = decompress(node).map_err(|e| {
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
fn build(
    vol: &Volume,
    found: &Found,
    limits: &Limits,
    budget: &mut u64,
    problems: &mut Problems,
) -> Tree {
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
            let Some(ino) = found
                .inodes
                .get(&inum)
                .and_then(|r| vol.bytes.get(r.clone()))
            else {
                problems.add(format!(
                    "{}: inode {inum} is not in the index",
                    child.display()
                ));
                continue;
            };
            let (Some(size), Some(uid), Some(gid), Some(mode), Some(data_len)) = (
                le64(ino, 48),
                le32(ino, 96),
                le32(ino, 100),
                le32(ino, 104),
                le32(ino, 112),
            ) else {
                problems.add(format!("{}: inode {inum} is too short", child.display()));
                continue;
            };
            let inline = ino
                .get(160..160usize.saturating_add(data_len as usize))
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
                        Some(Kind::File(b)) => match budget.checked_sub(b.len() as u64) {
                            Some(left) => {
                                *budget = left;
                                Ok(b.clone())
                            }
                            None => Err("over the unpacking budget".to_owned()),
                        },
                        _ => {
                            let cap = (*budget).min(limits.max_file_bytes);
                            let blocks = found
                                .blocks
                                .get(&inum)
                                .map(Vec::as_slice)
                                .unwrap_or_default();
                            contents(vol, size, blocks, cap, budget)
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
