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

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};
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

/// The 12-byte inode at position `at` of `img`. Bit fields fill a word from its low bits
/// on little-endian machines and from its high bits on big-endian ones.
fn inode(img: &Reader, at: usize, order: ByteOrder) -> Result<Inode, ReadError> {
    let mut r = img.at(at, INODE_LEN, "inode")?;
    let mode = r.u16(order, "inode mode")?;
    let uid = r.u16(order, "inode uid")?;
    let (w1, w2) = (r.u32(order, "inode size")?, r.u32(order, "inode offset")?);
    let (size, gid, name_words, offset_words) = match order {
        ByteOrder::Big => (w1 >> 8, w1 & 0xff, w2 >> 26, w2 & 0x03ff_ffff),
        ByteOrder::Little => (w1 & 0x00ff_ffff, w1 >> 24, w2 & 0x3f, w2 >> 6),
    };
    Ok(Inode {
        mode,
        uid,
        size: size as usize,
        gid: gid as u8,
        name_len: name_words as usize * 4,
        offset: offset_words as usize * 4,
    })
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
pub(super) fn cramfs(scan: &mut Scan) -> Option<usize> {
    let (data, offset) = (scan.data, scan.offset);
    let sb = Reader::new(data, 0)
        .at(offset, SUPERBLOCK_LEN + INODE_LEN, "cramfs superblock")
        .ok()?;
    let order = if sb.peek(4, "cramfs magic").ok()? == MAGIC_BE {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    if sb.at(16, 16, "cramfs signature").ok()?.window() != SIGNATURE {
        return None; // the magic alone is four common-looking bytes
    }
    let size = sb.u32_at(4, order, "cramfs size").ok()? as usize;
    let flags = sb.u32_at(8, order, "cramfs flags").ok()?;
    let root = inode(&sb, SUPERBLOCK_LEN, order).ok()?;
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
    let record = |scan: &mut Scan, problems: Problems, tree: Tree| {
        let bytes = &data[offset..offset + claimed];
        scan.record_filesystem(bytes, "cramfs", problems.summary(), tree);
        Some(claimed)
    };
    if flags & !FLAGS_SUPPORTED != 0 {
        problems.add(format!(
            "unsupported flags {:#x} in the superblock at byte {offset}",
            flags & !FLAGS_SUPPORTED
        ));
        return record(scan, problems, tree);
    }
    if flags & FLAG_FSID_VERSION_2 != 0 && size <= available {
        // The CRC-32 covers the image from the superblock on (boot padding excluded), with
        // its own field taken as zero.
        let fs = img.get(offset - base..).unwrap_or_default();
        let mut crc = flate2::Crc::new();
        crc.update(fs.get(..32).unwrap_or_default());
        crc.update(&[0; 4]);
        crc.update(fs.get(36..).unwrap_or_default());
        let stored = sb.u32_at(32, order, "cramfs CRC-32").ok()?;
        if crc.sum() != stored {
            problems.add(format!(
                "CRC mismatch: the superblock says {stored:#010x}, the image sums to {:#010x}",
                crc.sum()
            ));
        }
    }
    if flags & FLAG_SHIFTED_ROOT_OFFSET != 0 {
        problems.add("a shifted root offset is not supported".to_owned());
        return record(scan, problems, tree);
    }
    let image = Image {
        img: Reader::new(img, base),
        order,
        ext_pointers: flags & FLAG_EXT_BLOCK_POINTERS != 0,
    };
    image.read_tree(root, scan, &mut tree, &mut problems);
    record(scan, problems, tree)
}

/// The image (from its start, boot padding included: offsets count from there) and how
/// to read it.
#[derive(Debug)]
struct Image<'a> {
    img: Reader<'a>,
    order: ByteOrder,
    ext_pointers: bool,
}

impl Image<'_> {
    fn read_tree(&self, root: Inode, scan: &mut Scan, tree: &mut Tree, problems: &mut Problems) {
        let limits = scan.limits;
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
                let inode = match inode(&self.img, at, self.order) {
                    Ok(inode) => inode,
                    Err(e) => {
                        problems.add(format!(
                            "{shown}: the entry at byte {at} runs past the image: {e}"
                        ));
                        break;
                    }
                };
                let name_at = at + INODE_LEN;
                let raw_name = match self.img.at(name_at, inode.name_len, "entry name") {
                    Ok(name) => name.window(),
                    Err(e) => {
                        problems.add(format!(
                            "{shown}: the name at byte {name_at} runs past the image: {e}"
                        ));
                        break;
                    }
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
                    0o100_000 => match self.contents(inode, scan.cap()) {
                        Ok(bytes) => {
                            *scan.budget = scan.budget.saturating_sub(bytes.len() as u64);
                            Kind::File(bytes)
                        }
                        Err(e) => {
                            problems.add(format!("{}: {e}", child.display()));
                            continue;
                        }
                    },
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
            let pointer = self
                .img
                .u32_at(table + i * 4, self.order, "block pointer")
                .map_err(|e| {
                    format!("its block pointer table at byte {table} runs past the image: {e}")
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
            let outside = format!("block {i} (bytes {start}..{end}) lies outside the image");
            let len = end.checked_sub(start).ok_or_else(|| outside.clone())?;
            let stored = self
                .img
                .at(start, len, "compressed block")
                .map_err(|e| format!("{outside}: {e}"))?
                .window();
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
