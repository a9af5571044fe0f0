//! cramfs, the compressed ROM filesystem, in either byte order.
//!
//! Layout facts (from the kernel's `include/uapi/linux/cramfs_fs.h` and
//! `Documentation/filesystems/cramfs.rst`): a 64-byte superblock and the root inode; each
//! inode is 12 bytes of bit fields (mode 16, uid 16 | size 24, gid 8 | name length 6, offset
//! 26, the last two in units of four bytes). A directory's entries are consecutive inodes,
//! each followed by its name. A file's offset points to a table of block-end pointers, one
//! per 4096-byte page, and the blocks follow, each compressed with zlib on its own. Offsets
//! count from the start of the image, which is 512 bytes before the superblock when the
//! image was padded for boot code (`mkfs.cramfs -p`).

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;

use super::{Problems, Unpacked, record_filesystem};
use crate::Limits;
use crate::tree::{Entry, Kind, Tree};

pub(super) const MAGIC_LE: [u8; 4] = [0x45, 0x3d, 0xcd, 0x28];
pub(super) const MAGIC_BE: [u8; 4] = [0x28, 0xcd, 0x3d, 0x45];
const SIGNATURE: &[u8; 16] = b"Compressed ROMFS";
const SUPERBLOCK_LEN: usize = 64;
const INODE_LEN: usize = 12;
/// What `mkfs.cramfs -p` puts before the superblock.
const PAD: usize = 512;
/// The page size the blocks are cut to; cramfs does not record it and Linux uses 4096.
const PAGE: usize = 4096;

const FLAG_FSID_VERSION_2: u32 = 0x1;
const FLAG_SHIFTED_ROOT_OFFSET: u32 = 0x400;
const FLAG_EXT_BLOCK_POINTERS: u32 = 0x800;
/// Flags the kernel accepts: the low byte, holes, wrong signature, shifted root offset and
/// extended block pointers.
const FLAGS_SUPPORTED: u32 = 0xff | 0x100 | 0x200 | 0x400 | 0x800;
const BLOCK_UNCOMPRESSED: u32 = 1 << 31;
const BLOCK_DIRECT: u32 = 1 << 30;

#[derive(Debug, Clone, Copy)]
struct Order {
    big: bool,
}

impl Order {
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let bytes: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(bytes)
        } else {
            u16::from_le_bytes(bytes)
        })
    }

    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(bytes)
        } else {
            u32::from_le_bytes(bytes)
        })
    }

    /// The 12-byte inode at `at`. Bit fields fill a word from its low bits on little-endian
    /// machines and from its high bits on big-endian ones.
    fn inode(self, b: &[u8], at: usize) -> Option<Inode> {
        let (w1, w2) = (self.u32(b, at + 4)?, self.u32(b, at + 8)?);
        let (size, gid, name_words, offset_words) = if self.big {
            (w1 >> 8, w1 & 0xff, w2 >> 26, w2 & 0x03ff_ffff)
        } else {
            (w1 & 0x00ff_ffff, w1 >> 24, w2 & 0x3f, w2 >> 6)
        };
        Some(Inode {
            mode: self.u16(b, at)?,
            uid: self.u16(b, at + 2)?,
            size: size as usize,
            gid: gid as u8,
            name_len: name_words as usize * 4,
            offset: offset_words as usize * 4,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Inode {
    mode: u16,
    uid: u16,
    size: usize,
    gid: u8,
    name_len: usize,
    offset: usize,
}

/// A cramfs image whose superblock starts at `offset`; returns the bytes it occupies.
pub(super) fn cramfs(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    let order = Order {
        big: data.get(offset..offset.checked_add(4)?) == Some(&MAGIC_BE[..]),
    };
    let sb = data.get(offset..offset.checked_add(SUPERBLOCK_LEN + INODE_LEN)?)?;
    if sb.get(16..32) != Some(&SIGNATURE[..]) {
        return None; // the magic alone is four common-looking bytes
    }
    let size = order.u32(sb, 4)? as usize;
    let flags = order.u32(sb, 8)?;
    let root = order.inode(sb, SUPERBLOCK_LEN)?;
    if root.mode & 0o170_000 != 0o040_000 {
        return None;
    }
    // Offsets count from the image start; a root directory that starts 512 bytes further
    // than usual says the image was padded before the superblock.
    let base = if root.offset == PAD + SUPERBLOCK_LEN + INODE_LEN && offset >= PAD {
        offset - PAD
    } else {
        offset
    };
    if size < SUPERBLOCK_LEN + INODE_LEN + (offset - base) {
        return None;
    }
    let available = data.len() - base;
    let img = data.get(base..base + size.min(available))?;
    let claimed = img.len() - (offset - base);
    let mut problems = Problems::default();
    if size > available {
        problems.add(format!(
            "truncated: the superblock says {size} bytes, the image holds {available}"
        ));
    }
    let mut tree = Tree::default();
    let record = |out: &mut Unpacked, problems: Problems, tree: Tree| {
        record_filesystem(
            out,
            &data[offset..offset + claimed],
            offset,
            "cramfs",
            within,
            problems.summary(),
            tree,
        );
        Some(claimed)
    };
    if flags & !FLAGS_SUPPORTED != 0 {
        problems.add(format!(
            "unsupported flags {:#x} in the superblock at byte {offset}",
            flags & !FLAGS_SUPPORTED
        ));
        return record(out, problems, tree);
    }
    if flags & FLAG_FSID_VERSION_2 != 0 && size <= available {
        // The CRC-32 covers the image from the superblock on (boot padding excluded), with
        // its own field taken as zero.
        let fs = img.get(offset - base..).unwrap_or_default();
        let mut crc = flate2::Crc::new();
        crc.update(fs.get(..32).unwrap_or_default());
        crc.update(&[0; 4]);
        crc.update(fs.get(36..).unwrap_or_default());
        let stored = order.u32(sb, 32)?;
        if crc.sum() != stored {
            problems.add(format!(
                "CRC mismatch: the superblock says {stored:#010x}, the image sums to {:#010x}",
                crc.sum()
            ));
        }
    }
    if flags & FLAG_SHIFTED_ROOT_OFFSET != 0 {
        problems.add("a shifted root offset is not supported".to_owned());
        return record(out, problems, tree);
    }
    let reader = Reader {
        img,
        order,
        ext_pointers: flags & FLAG_EXT_BLOCK_POINTERS != 0,
    };
    reader.read_tree(root, limits, budget, &mut tree, &mut problems);
    record(out, problems, tree)
}

#[derive(Debug)]
struct Reader<'a> {
    img: &'a [u8],
    order: Order,
    ext_pointers: bool,
}

impl Reader<'_> {
    fn read_tree(
        &self,
        root: Inode,
        limits: &Limits,
        budget: &mut u64,
        tree: &mut Tree,
        problems: &mut Problems,
    ) {
        // Every entry visited counts, so names repeated in a crafted image (which leave the
        // tree no bigger) cannot make the walk run on.
        let mut entries = 0usize;
        let mut pending = vec![(root, PathBuf::new())];
        let mut seen_dirs = HashSet::new();
        while let Some((dir, path)) = pending.pop() {
            let shown = if path.as_os_str().is_empty() {
                "/".to_owned()
            } else {
                path.display().to_string()
            };
            // An empty directory may have offset 0; anything else is visited once.
            if dir.size > 0 && !seen_dirs.insert(dir.offset) {
                problems.add(format!(
                    "{shown}: directory entries at byte {} are reached twice (a loop)",
                    dir.offset
                ));
                continue;
            }
            let end = dir.offset.saturating_add(dir.size);
            let mut at = dir.offset;
            while at < end {
                if entries >= limits.max_files {
                    problems.add(format!(
                        "stopped at the limit of {} files",
                        limits.max_files
                    ));
                    return;
                }
                entries += 1;
                let Some(inode) = self.order.inode(self.img, at) else {
                    problems.add(format!(
                        "{shown}: the entry at byte {at} runs past the image"
                    ));
                    break;
                };
                let name_at = at + INODE_LEN;
                let Some(raw_name) = self.img.get(name_at..name_at + inode.name_len) else {
                    problems.add(format!(
                        "{shown}: the name at byte {name_at} runs past the image"
                    ));
                    break;
                };
                at = name_at + inode.name_len;
                let name =
                    String::from_utf8_lossy(raw_name.split(|&b| b == 0).next().unwrap_or_default())
                        .into_owned();
                if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                    problems.add(format!(
                        "{shown}: an entry with the name {name:?} at byte {}",
                        name_at - INODE_LEN
                    ));
                    continue;
                }
                let child = path.join(&name);
                let kind = match inode.mode & 0o170_000 {
                    0o040_000 => {
                        pending.push((inode, child.clone()));
                        Kind::Dir
                    }
                    0o100_000 => {
                        let cap = (*budget).min(limits.max_file_bytes);
                        match self.contents(inode, cap) {
                            Ok(bytes) => {
                                *budget = budget.saturating_sub(bytes.len() as u64);
                                Kind::File(bytes)
                            }
                            Err(e) => {
                                problems.add(format!("{}: {e}", child.display()));
                                continue;
                            }
                        }
                    }
                    0o120_000 => match self.contents(inode, PAGE as u64) {
                        Ok(bytes) => Kind::Symlink(PathBuf::from(
                            String::from_utf8_lossy(&bytes).into_owned(),
                        )),
                        Err(e) => {
                            problems.add(format!("{}: {e}", child.display()));
                            continue;
                        }
                    },
                    0o020_000 => Kind::Special("character device"),
                    0o060_000 => Kind::Special("block device"),
                    0o010_000 => Kind::Special("named pipe"),
                    0o140_000 => Kind::Special("socket"),
                    other => {
                        problems.add(format!("{}: unknown file type {other:o}", child.display()));
                        continue;
                    }
                };
                let entry = Entry {
                    kind,
                    mode: inode.mode & 0o7777,
                    uid: u32::from(inode.uid),
                    gid: u32::from(inode.gid),
                };
                if let Err(e) = tree.insert(&child, entry) {
                    problems.add(e.to_string());
                }
            }
        }
    }

    /// A file's (or symlink's) contents: its block pointer table, then each block inflated.
    fn contents(&self, inode: Inode, cap: u64) -> Result<Vec<u8>, String> {
        if inode.size as u64 > cap {
            return Err(format!("{} bytes, over the size limit", inode.size));
        }
        let blocks = inode.size.div_ceil(PAGE);
        let table = inode.offset;
        let mut start = table + blocks * 4;
        let mut out = Vec::with_capacity(inode.size);
        for i in 0..blocks {
            let want = (inode.size - out.len()).min(PAGE);
            let pointer = self.order.u32(self.img, table + i * 4).ok_or_else(|| {
                format!("its block pointer table at byte {table} runs past the image")
            })?;
            let (end, raw) = if self.ext_pointers {
                if pointer & BLOCK_DIRECT != 0 {
                    return Err("direct block pointers are not supported".to_owned());
                }
                (
                    (pointer & !(BLOCK_UNCOMPRESSED | BLOCK_DIRECT)) as usize,
                    pointer & BLOCK_UNCOMPRESSED != 0,
                )
            } else {
                (pointer as usize, false)
            };
            if end == start {
                // An empty block is a hole.
                out.resize(out.len() + want, 0);
                continue;
            }
            let stored = self.img.get(start..end).ok_or_else(|| {
                format!("block {i} (bytes {start}..{end}) lies outside the image")
            })?;
            if raw {
                out.extend_from_slice(stored.get(..want).ok_or_else(|| {
                    format!(
                        "uncompressed block {i} holds {} of {want} bytes",
                        stored.len()
                    )
                })?);
            } else {
                let before = out.len();
                flate2::bufread::ZlibDecoder::new(stored)
                    .take(want as u64 + 1)
                    .read_to_end(&mut out)
                    .map_err(|e| format!("block {i} at byte {start}: {e}"))?;
                let got = out.len() - before;
                if got != want {
                    return Err(format!(
                        "block {i} at byte {start} inflates to {got} bytes, not {want}{}",
                        if got > want {
                            " (a page size other than 4096?)"
                        } else {
                            ""
                        }
                    ));
                }
            }
            start = end;
        }
        Ok(out)
    }
}
