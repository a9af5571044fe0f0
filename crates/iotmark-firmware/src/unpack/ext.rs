//! ext2, ext3 and ext4, read from the image bytes with bounds on every step.
//!
//! Layout facts (from the kernel's `Documentation/filesystems/ext4` and e2fsprogs' headers):
//! the superblock sits 1024 bytes into the filesystem, all fields little-endian; block group
//! descriptors follow it (or, with `meta_bg`, sit at the start of each meta group); inodes
//! are found through their group's inode table. File data is mapped either by the ext2/3
//! block map (12 direct pointers, then single, double and triple indirect blocks) or by an
//! ext4 extent tree, or stored inline in the inode (`inline_data`). Directories are read
//! linearly: hashed (htree) directories keep their index in entries with inode 0, which a
//! linear reader skips, so every name is still found.
//!
//! The journal is not replayed: the image is read as it was last written back, which is
//! what a firmware image built by `mke2fs -d` or unmounted cleanly holds anyway.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};
use crate::tree::{Entry, Kind, Tree};

/// Where the superblock magic sits, counted from the start of the filesystem.
pub(super) const MAGIC_AT: usize = 1080;
pub(super) const MAGIC: [u8; 2] = [0x53, 0xEF];

const SUPERBLOCK_AT: usize = 1024;
const ROOT_INODE: u32 = 2;

// Incompatible features: a reader that does not understand one must not read the filesystem.
const INCOMPAT_FILETYPE: u32 = 0x2;
const INCOMPAT_META_BG: u32 = 0x10;
const INCOMPAT_64BIT: u32 = 0x80;
/// Every incompatible feature this reader handles.
const INCOMPAT_SUPPORTED: u32 = INCOMPAT_FILETYPE
    | 0x4 // recover: the journal is not replayed; the image is read as written back
    | INCOMPAT_META_BG
    | 0x40 // extents
    | INCOMPAT_64BIT
    | 0x100 // mmp: multi-mount protection, nothing to read
    | 0x200 // flex_bg: tables anywhere, found through the descriptors anyway
    | 0x400 // ea_inode: large extended attributes, not read
    | 0x2000 // csum_seed
    | 0x4000 // largedir: deeper htree indexes, skipped by the linear read
    | 0x8000 // inline_data
    | 0x1_0000 // encrypt: encrypted inodes are reported, not read
    | 0x2_0000; // casefold: names are read as stored
/// Names of the incompatible features this reader refuses, for the failure message.
const INCOMPAT_REFUSED: [(u32, &str); 3] = [
    (0x1, "compression"),
    (0x8, "journal_dev (an external journal holds no files)"),
    (0x1000, "dirdata"),
];
const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;

// Inode flags.
const FLAG_ENCRYPT: u32 = 0x800;
const FLAG_EXTENTS: u32 = 0x8_0000;
const FLAG_INLINE_DATA: u32 = 0x1000_0000;

const EXTENT_MAGIC: u16 = 0xF30A;
/// The deepest extent tree the format allows.
const EXTENT_MAX_DEPTH: u16 = 5;
/// Longest symlink target Linux accepts (PATH_MAX).
const MAX_LINK: u64 = 4096;

const LE: ByteOrder = ByteOrder::Little;

/// The geometry of one filesystem, checked enough that its arithmetic cannot overflow.
#[derive(Debug)]
struct Fs<'a> {
    /// The filesystem's bytes that are present in the image (fewer than `len` if truncated).
    img: Reader<'a>,
    /// Its size according to the superblock.
    len: u64,
    block_size: u64,
    first_data_block: u64,
    blocks_per_group: u64,
    inodes_per_group: u64,
    inodes_count: u64,
    inode_size: u64,
    desc_size: u64,
    first_meta_bg: u64,
    incompat: u32,
    ro_compat: u32,
}

/// The fields of an inode this reader uses.
#[derive(Debug)]
struct Inode<'a> {
    raw: Reader<'a>,
    number: u32,
    mode: u16,
    uid: u32,
    gid: u32,
    size: u64,
    flags: u32,
    /// `i_block`: block pointers, an extent tree root, a fast symlink or inline data.
    block: Reader<'a>,
}

impl Inode<'_> {
    fn kind_bits(&self) -> u16 {
        self.mode & 0o170_000
    }
}

/// Superblock checks that every real ext filesystem passes. A failure means the magic was a
/// coincidence, and the bytes are left to the rest of the walk.
fn geometry(data: &[u8], offset: usize) -> Option<Fs<'_>> {
    let fs = Reader::new(data, 0).from(offset, "ext filesystem").ok()?;
    let sb = fs.at(SUPERBLOCK_AT, 1024, "ext superblock").ok()?;
    let u32_at = |at| sb.u32_at(at, LE, "superblock field").ok().map(u64::from);
    let u16_at = |at| sb.u16_at(at, LE, "superblock field").ok();
    let log_block = u32_at(24)?;
    if log_block > 6 {
        return None; // blocks are 1 KiB to 64 KiB
    }
    let block_size = 1024u64 << log_block;
    let rev_level = u32_at(76)?;
    let (inode_size, incompat, ro_compat) = if rev_level == 0 {
        (128, 0, 0)
    } else if rev_level == 1 {
        (
            u64::from(u16_at(88)?),
            u32::try_from(u32_at(96)?).ok()?,
            u32::try_from(u32_at(100)?).ok()?,
        )
    } else {
        return None;
    };
    if !inode_size.is_power_of_two() || !(128..=block_size).contains(&inode_size) {
        return None;
    }
    let first_data_block = u32_at(20)?;
    let blocks_per_group = u32_at(32)?;
    let inodes_per_group = u32_at(40)?;
    let inodes_count = u32_at(0)?;
    // Each group's bitmaps are one block, so a group has at most 8 × block size members.
    let per_bitmap = block_size * 8;
    if first_data_block > 1
        || !(1..=per_bitmap).contains(&blocks_per_group)
        || !(1..=per_bitmap).contains(&inodes_per_group)
    {
        return None;
    }
    let wide = incompat & INCOMPAT_64BIT != 0;
    let blocks_hi = if wide { u32_at(0x150)? } else { 0 };
    let blocks_count = (blocks_hi << 32) | u32_at(4)?;
    let groups = blocks_count
        .checked_sub(first_data_block)
        .filter(|&n| n > 0)?
        .div_ceil(blocks_per_group);
    // mke2fs always makes the inode count exactly groups × inodes per group.
    if groups.checked_mul(inodes_per_group)? != inodes_count {
        return None;
    }
    // A backup superblock (in a later group) says which group it is in; the primary says 0.
    if u16_at(90)? != 0 {
        return None;
    }
    let len = blocks_count.checked_mul(block_size)?;
    let desc_size = if wide { u64::from(u16_at(0xFE)?) } else { 32 };
    if !desc_size.is_power_of_two() || !(32..=1024).contains(&desc_size) {
        return None;
    }
    let present = fs.remaining() as u64;
    let img = fs
        .at(0, usize::try_from(len.min(present)).ok()?, "ext filesystem")
        .ok()?;
    Some(Fs {
        img,
        len,
        block_size,
        first_data_block,
        blocks_per_group,
        inodes_per_group,
        inodes_count,
        inode_size,
        desc_size,
        first_meta_bg: u32_at(0x104)?,
        incompat,
        ro_compat,
    })
}

impl<'a> Fs<'a> {
    /// The `len` bytes of `what` at byte `at` of the filesystem, or why they cannot be read.
    fn bytes(&self, at: u64, len: u64, what: &'static str) -> Result<Reader<'a>, String> {
        at.checked_add(len)
            .filter(|&e| e <= self.len)
            .ok_or_else(|| format!("byte {at} is outside the {}-byte filesystem", self.len))?;
        let (at, len) = usize::try_from(at)
            .ok()
            .zip(usize::try_from(len).ok())
            .ok_or_else(|| format!("byte {at} is outside the filesystem"))?;
        self.img
            .at(at, len, what)
            .map_err(|e| format!("past the end of the truncated image: {e}"))
    }

    fn block(&self, number: u64, what: &'static str) -> Result<Reader<'a>, String> {
        let at = number
            .checked_mul(self.block_size)
            .ok_or_else(|| format!("block {number} is outside the filesystem"))?;
        self.bytes(at, self.block_size, what)
            .map_err(|e| format!("block {number}: {e}"))
    }

    /// Whether a group holds a superblock backup (and so a descriptor table copy).
    fn has_super(&self, group: u64) -> bool {
        if self.ro_compat & RO_COMPAT_SPARSE_SUPER == 0 || group <= 1 {
            return true;
        }
        [3u64, 5, 7].iter().any(|&base| {
            let mut n = base;
            while n < group {
                n = n.saturating_mul(base);
            }
            n == group
        })
    }

    /// The block that holds the inode table of `group`.
    fn inode_table(&self, group: u64) -> Result<u64, String> {
        let per_block = self.block_size / self.desc_size;
        let index = group / per_block;
        let table_block = if self.incompat & INCOMPAT_META_BG != 0 && index >= self.first_meta_bg {
            // meta_bg: each meta group's descriptors sit in its first group, after any
            // superblock backup there.
            let first = index * per_block;
            self.first_data_block
                + first.saturating_mul(self.blocks_per_group)
                + u64::from(self.has_super(first))
        } else {
            self.first_data_block + 1 + index
        };
        let at = table_block
            .checked_mul(self.block_size)
            .and_then(|b| b.checked_add((group % per_block) * self.desc_size))
            .ok_or_else(|| format!("the descriptor of group {group} is outside the filesystem"))?;
        let desc = self
            .bytes(at, self.desc_size, "group descriptor")
            .map_err(|e| format!("the descriptor of group {group}: {e}"))?;
        let table = |at| desc.u32_at(at, LE, "inode table block").map(u64::from);
        let lo = table(8).map_err(|e| e.to_string())?;
        let hi = if self.incompat & INCOMPAT_64BIT != 0 && self.desc_size >= 64 {
            table(0x28).map_err(|e| e.to_string())?
        } else {
            0
        };
        Ok((hi << 32) | lo)
    }

    fn inode(&self, number: u32) -> Result<Inode<'a>, String> {
        let n = u64::from(number);
        if n == 0 || n > self.inodes_count {
            return Err(format!(
                "inode {number} is outside the filesystem's {} inodes",
                self.inodes_count
            ));
        }
        let (group, index) = (
            (n - 1) / self.inodes_per_group,
            (n - 1) % self.inodes_per_group,
        );
        let table = self.inode_table(group)?;
        let at = table
            .checked_mul(self.block_size)
            .and_then(|t| t.checked_add(index * self.inode_size))
            .ok_or_else(|| format!("inode {number} is outside the filesystem"))?;
        let raw = self
            .bytes(at, self.inode_size, "inode table entry")
            .map_err(|e| format!("inode {number}: {e}"))?;
        // Every inode is at least 128 bytes (checked with the superblock), which holds
        // every field read here.
        let inode = || -> Result<Inode<'a>, ReadError> {
            let field16 = |at| raw.u16_at(at, LE, "inode field").map(u32::from);
            let field32 = |at| raw.u32_at(at, LE, "inode field");
            Ok(Inode {
                raw,
                number,
                mode: raw.u16_at(0, LE, "inode mode")?,
                uid: field16(2)? | (field16(120)? << 16),
                gid: field16(24)? | (field16(122)? << 16),
                size: u64::from(field32(4)?) | (u64::from(field32(108)?) << 32),
                flags: field32(32)?,
                block: raw.at(40, 60, "inode block map")?,
            })
        };
        inode().map_err(|e| format!("inode {number}: {e}"))
    }

    /// A file's contents, at most `cap` bytes.
    fn contents(&self, inode: &Inode<'_>, cap: u64) -> Result<Vec<u8>, String> {
        if inode.size > cap {
            return Err(format!("{} bytes, over the size limit", inode.size));
        }
        if inode.flags & FLAG_ENCRYPT != 0 {
            return Err("encrypted (fscrypt); its contents cannot be read".to_owned());
        }
        let size = usize::try_from(inode.size).map_err(|e| e.to_string())?;
        let mut out = vec![0u8; size];
        let blocks = inode.size.div_ceil(self.block_size);
        if inode.flags & FLAG_INLINE_DATA != 0 {
            let (head, tail) = self.inline_parts(inode);
            let stored = head.iter().chain(tail).copied();
            let mut filled = 0;
            for (dst, src) in out.iter_mut().zip(stored) {
                *dst = src;
                filled += 1;
            }
            if filled < size {
                return Err(format!("inline data holds {filled} of its {size} bytes"));
            }
        } else if inode.flags & FLAG_EXTENTS != 0 {
            let mut walk = ExtentWalk {
                blocks,
                nodes: 0,
                copied: 0,
            };
            self.extents(inode.block, None, &mut walk, &mut out)?;
        } else {
            let mut logical = 0u64;
            let pointer = |i: usize| {
                inode
                    .block
                    .u32_at(i * 4, LE, "block pointer")
                    .map_err(|e| e.to_string())
            };
            for i in 0..12 {
                if logical >= blocks {
                    break;
                }
                let ptr = pointer(i)?;
                if ptr != 0 {
                    self.copy_block(u64::from(ptr), logical, &mut out)?;
                }
                logical += 1;
            }
            for (level, i) in [(1, 12), (2, 13), (3, 14)] {
                self.indirect(pointer(i)?, level, &mut logical, blocks, &mut out)?;
            }
        }
        Ok(out)
    }

    /// Copies block `physical` to logical block `logical` of `out`, cut at the file's end.
    fn copy_block(&self, physical: u64, logical: u64, out: &mut [u8]) -> Result<(), String> {
        let src = self.block(physical, "data block")?.window();
        let start = usize::try_from(logical.saturating_mul(self.block_size)).unwrap_or(usize::MAX);
        if let Some(dst) = out.get_mut(start..) {
            let n = dst.len().min(src.len());
            dst[..n].copy_from_slice(&src[..n]);
        }
        Ok(())
    }

    /// One ext2/3 indirect block at `level` (1 = single): its pointers map the logical blocks
    /// from `*logical` on. A zero pointer is a hole as large as the subtree it stands for.
    fn indirect(
        &self,
        ptr: u32,
        level: u32,
        logical: &mut u64,
        blocks: u64,
        out: &mut [u8],
    ) -> Result<(), String> {
        if *logical >= blocks {
            return Ok(());
        }
        let per_block = self.block_size / 4;
        if ptr == 0 {
            *logical = logical.saturating_add(per_block.saturating_pow(level));
            return Ok(());
        }
        let mut table = self.block(u64::from(ptr), "indirect block")?;
        while let Ok(p) = table.u32(LE, "block pointer") {
            if *logical >= blocks {
                break;
            }
            if level == 1 {
                if p != 0 {
                    self.copy_block(u64::from(p), *logical, out)?;
                }
                *logical += 1;
            } else {
                self.indirect(p, level - 1, logical, blocks, out)?;
            }
        }
        Ok(())
    }

    /// One extent tree node (`node` starts with its header). `depth` is what the parent says
    /// the node's depth must be, so every step down is one level and the walk ends.
    fn extents(
        &self,
        node: Reader<'_>,
        depth: Option<u16>,
        walk: &mut ExtentWalk,
        out: &mut [u8],
    ) -> Result<(), String> {
        // A valid tree has no more nodes than the file has blocks, give or take the root and
        // the index nodes a truncated file may keep.
        walk.nodes += 1;
        if walk.nodes > walk.blocks + 8 {
            return Err("the extent tree has more nodes than the file has blocks".to_owned());
        }
        let mut header = node.at(0, 12, "extent header").map_err(|e| e.to_string())?;
        let mut field = || header.u16(LE, "extent header");
        let (magic, entries, _, here) = (field(), field(), field(), field());
        if magic != Ok(EXTENT_MAGIC) {
            return Err("an extent node has no extent header".to_owned());
        }
        let (entries, here) = (entries.unwrap_or(0), here.unwrap_or(0));
        if here > EXTENT_MAX_DEPTH || depth.is_some_and(|d| d != here) {
            return Err(format!("an extent node claims depth {here}"));
        }
        for i in 0..usize::from(entries) {
            let e = node
                .at(12 + 12 * i, 12, "extent entry")
                .map_err(|e| format!("extent entries run past their node: {e}"))?;
            // Every field lies inside the 12-byte entry just read.
            let field16 = |at| e.u16_at(at, LE, "extent field").map_or(0, u64::from);
            let field32 = |at| e.u32_at(at, LE, "extent field").map_or(0, u64::from);
            if here == 0 {
                let first = field32(0);
                let len = field16(4);
                // Lengths over 32768 mark an unwritten extent: allocated, reads as zeros.
                if len > 32_768 {
                    continue;
                }
                let start = (field16(6) << 32) | field32(8);
                for k in 0..len {
                    let logical = first + k;
                    if logical >= walk.blocks {
                        break;
                    }
                    walk.copied += 1;
                    if walk.copied > walk.blocks {
                        return Err("extents map more blocks than the file has".to_owned());
                    }
                    self.copy_block(start + k, logical, out)?;
                }
            } else {
                let child = (field16(8) << 32) | field32(4);
                let block = self.block(child, "extent tree node")?;
                self.extents(block, Some(here - 1), walk, out)?;
            }
        }
        Ok(())
    }

    /// Inline data: the first 60 bytes live in `i_block`, the rest in the in-inode extended
    /// attribute `system.data`.
    fn inline_parts<'i>(&self, inode: &Inode<'i>) -> (&'i [u8], &'i [u8]) {
        let raw = inode.raw.window();
        (inode.block.window(), inline_xattr(raw).unwrap_or_default())
    }

    /// A symlink's target: in `i_block` when short ("fast"), else in data blocks.
    fn link_target(&self, inode: &Inode<'_>) -> Result<PathBuf, String> {
        let bytes = if inode.size < 60 && inode.flags & (FLAG_EXTENTS | FLAG_INLINE_DATA) == 0 {
            let n = usize::try_from(inode.size).unwrap_or(0);
            inode.block.window().get(..n).unwrap_or_default().to_vec()
        } else {
            if inode.size > MAX_LINK {
                return Err(format!(
                    "a {}-byte symlink target, longer than any path",
                    inode.size
                ));
            }
            self.contents(inode, MAX_LINK)?
        };
        Ok(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The names and inode numbers in a directory, without `.` and `..`.
    fn directory(&self, inode: &Inode<'_>, cap: u64) -> Result<(Vec<(u32, String)>, u64), String> {
        let mut names = Vec::new();
        if inode.flags & FLAG_INLINE_DATA != 0 {
            // Inline directories start with the parent's inode number, not `.` and `..`.
            let (head, tail) = self.inline_parts(inode);
            self.dirents(head.get(4..).unwrap_or_default(), &mut names)?;
            self.dirents(tail, &mut names)?;
            return Ok((names, 0));
        }
        let data = self.contents(inode, cap)?;
        let block = usize::try_from(self.block_size).unwrap_or(usize::MAX);
        for chunk in data.chunks(block) {
            self.dirents(chunk, &mut names)?;
        }
        Ok((names, data.len() as u64))
    }

    /// The entries of one directory block (entries never cross a block).
    fn dirents(&self, buf: &[u8], names: &mut Vec<(u32, String)>) -> Result<(), String> {
        // Directory contents were gathered from their blocks, so positions here count from
        // the start of one block, not of the image.
        let mut block = Reader::new(buf, 0);
        while let Ok(mut entry) = block.at(block.position(), 8, "directory entry") {
            let at = block.position();
            let broken =
                |e: ReadError| format!("a broken directory entry at byte {at} of a block: {e}");
            let inode = entry.u32(LE, "entry inode").map_err(broken)?;
            let mut rec_len = usize::from(entry.u16(LE, "entry length").map_err(broken)?);
            if self.block_size == 65_536 && (rec_len == 0 || rec_len == 65_535) {
                rec_len = 65_536; // how 64 KiB blocks spell a record of a whole block
            }
            let name_len = if self.incompat & INCOMPAT_FILETYPE != 0 {
                usize::from(entry.u8("entry name length").map_err(broken)?)
            } else {
                usize::from(entry.u16(LE, "entry name length").map_err(broken)?)
            };
            if rec_len < 8 || rec_len % 4 != 0 || name_len + 8 > rec_len {
                return Err(format!("a broken directory entry at byte {at} of a block"));
            }
            let mut record = block.sub(rec_len, "directory entry").map_err(broken)?;
            if inode != 0 {
                record.skip(8, "directory entry").map_err(broken)?;
                let name = record.take(name_len, "entry name").map_err(broken)?;
                if name != b"." && name != b".." {
                    names.push((inode, String::from_utf8_lossy(name).into_owned()));
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug)]
struct ExtentWalk {
    blocks: u64,
    nodes: u64,
    copied: u64,
}

/// The value of the in-inode extended attribute `system.data` (name index 7), if any.
fn inline_xattr(raw: &[u8]) -> Option<&[u8]> {
    let raw = Reader::new(raw, 0);
    let extra = usize::from(raw.u16_at(128, LE, "extra inode size").ok()?);
    let start = 128usize.checked_add(extra)?;
    if raw.u32_at(start, LE, "xattr magic").ok()? != 0xEA02_0000 {
        return None;
    }
    let entries = start + 4;
    let mut at = entries;
    while let Ok(word) = raw.u32_at(at, LE, "xattr entry") {
        if word == 0 {
            break; // the end of the entry list
        }
        let mut entry = raw.at(at, 16, "xattr entry").ok()?;
        let name_len = usize::from(entry.u8("xattr name length").ok()?);
        let index = entry.u8("xattr name index").ok()?;
        let value_at = usize::from(entry.u16(LE, "xattr value offset").ok()?);
        entry.skip(4, "xattr value inode").ok()?;
        let value_len = usize::try_from(entry.u32(LE, "xattr value size").ok()?).ok()?;
        let name = raw.at(at + 16, name_len, "xattr name").ok()?.window();
        if index == 7 && name == b"data" {
            let from = entries.checked_add(value_at)?;
            return raw
                .at(from, value_len, "xattr value")
                .ok()
                .map(|v| v.window());
        }
        at += (16 + name_len + 3) & !3;
    }
    None
}

/// An ext2, ext3 or ext4 filesystem starting at `offset`; returns the bytes it occupies.
pub(super) fn ext(scan: &mut Scan) -> Option<usize> {
    let offset = scan.offset;
    let fs = geometry(scan.data, offset)?;
    let img = fs.img.window();
    let claimed = img.len();
    let mut problems = Problems::default();
    let mut tree = Tree::default();
    if (claimed as u64) < fs.len {
        problems.add(format!(
            "truncated: the superblock says {} bytes, the image holds {claimed}",
            fs.len,
        ));
    }
    let unsupported = fs.incompat & !INCOMPAT_SUPPORTED;
    if unsupported != 0 {
        let known = INCOMPAT_REFUSED.iter().fold(0, |m, (bit, _)| m | bit);
        let mut named: Vec<String> = INCOMPAT_REFUSED
            .iter()
            .filter(|(bit, _)| unsupported & bit != 0)
            .map(|(_, name)| (*name).to_owned())
            .collect();
        if unsupported & !known != 0 {
            named.push(format!("unknown bits {:#x}", unsupported & !known));
        }
        let failure = format!(
            "unsupported incompatible feature: {} (superblock at byte {})",
            named.join(", "),
            offset + SUPERBLOCK_AT
        );
        scan.record_filesystem(img, "ext", Some(failure), tree);
        return Some(claimed);
    }
    read_tree(&fs, scan, &mut tree, &mut problems);
    scan.record_filesystem(img, "ext", problems.summary(), tree);
    Some(claimed)
}

/// Every entry reachable from the root directory, depth first.
fn read_tree(fs: &Fs<'_>, scan: &mut Scan, tree: &mut Tree, problems: &mut Problems) {
    let limits = scan.limits;
    // Every entry visited counts, so names repeated in a crafted image (which leave the
    // tree no bigger) cannot make the walk run on.
    let mut entries = 0usize;
    let mut pending = vec![(ROOT_INODE, PathBuf::new())];
    let mut seen_dirs = HashSet::new();
    while let Some((number, path)) = pending.pop() {
        let shown = if path.as_os_str().is_empty() {
            "/".to_owned()
        } else {
            path.display().to_string()
        };
        if !seen_dirs.insert(number) {
            problems.add(format!(
                "{shown}: directory inode {number} is reached twice (a loop)"
            ));
            continue;
        }
        let dir = match fs.inode(number) {
            Ok(d) if d.kind_bits() == 0o040_000 => d,
            Ok(d) => {
                problems.add(format!(
                    "{shown}: inode {number} is not a directory (mode {:o})",
                    d.mode
                ));
                continue;
            }
            Err(e) => {
                problems.add(format!("{shown}: {e}"));
                continue;
            }
        };
        let names = match fs.directory(&dir, scan.cap()) {
            Ok((names, read)) => {
                *scan.budget = scan.budget.saturating_sub(read);
                names
            }
            Err(e) => {
                problems.add(format!("{shown} (inode {number}): {e}"));
                continue;
            }
        };
        for (child, name) in names {
            if entries >= limits.max_files {
                problems.add(format!(
                    "stopped at the limit of {} files",
                    limits.max_files
                ));
                return;
            }
            entries += 1;
            let child_path = path.join(&name);
            if name.contains('/') || name.contains('\0') {
                problems.add(format!("{shown}: an entry name with `/` or NUL: {name:?}"));
                continue;
            }
            let inode = match fs.inode(child) {
                Ok(i) => i,
                Err(e) => {
                    problems.add(format!("{}: {e}", child_path.display()));
                    continue;
                }
            };
            let kind = match inode.kind_bits() {
                0o040_000 => {
                    pending.push((child, child_path.clone()));
                    Kind::Dir
                }
                0o100_000 => match fs.contents(&inode, scan.cap()) {
                    Ok(bytes) => {
                        *scan.budget = scan.budget.saturating_sub(bytes.len() as u64);
                        Kind::File(bytes)
                    }
                    Err(e) => {
                        problems.add(format!("{} (inode {child}): {e}", child_path.display()));
                        continue;
                    }
                },
                0o120_000 => match fs.link_target(&inode) {
                    Ok(target) => Kind::Symlink(target),
                    Err(e) => {
                        problems.add(format!("{} (inode {child}): {e}", child_path.display()));
                        continue;
                    }
                },
                0o020_000 => Kind::Special("character device"),
                0o060_000 => Kind::Special("block device"),
                0o010_000 => Kind::Special("named pipe"),
                0o140_000 => Kind::Special("socket"),
                other => {
                    problems.add(format!(
                        "{} (inode {}): unknown file type {other:o}",
                        child_path.display(),
                        inode.number
                    ));
                    continue;
                }
            };
            let entry = Entry {
                kind,
                mode: inode.mode & 0o7777,
                uid: inode.uid,
                gid: inode.gid,
            };
            if let Err(e) = tree.insert(&child_path, entry) {
                problems.add(e.to_string());
            }
        }
    }
}
