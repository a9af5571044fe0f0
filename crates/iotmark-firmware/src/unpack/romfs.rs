//! romfs, the tiny read-only filesystem of early boot and small devices.
//!
//! Layout facts (from the kernel's `Documentation/filesystems/romfs.rst`): `-rom1fs-`, the
//! full size and a checksum (big-endian words of the first 512 bytes sum to zero), then the
//! volume name, NUL-terminated and padded to 16 bytes. Every file header is 16-byte aligned:
//! the next header's offset with the type in its low three bits and an executable bit,
//! type-specific info (a directory's first entry, a hard link's target, a device number),
//! the size, a checksum, then the name padded to 16 and the data. romfs keeps no owners and
//! no permission bits beyond "executable"; modes are what Linux shows when it mounts one.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};
use crate::tree::{Entry, Kind, Tree};

pub(super) const MAGIC: &[u8; 8] = b"-rom1fs-";
/// The bytes the superblock checksum covers.
const CHECKSUM_SPAN: usize = 512;

const TYPE_HARD_LINK: u32 = 0;
const TYPE_DIR: u32 = 1;
const TYPE_FILE: u32 = 2;
const TYPE_SYMLINK: u32 = 3;
const TYPE_BLOCK: u32 = 4;
const TYPE_CHAR: u32 = 5;
const TYPE_SOCKET: u32 = 6;
const TYPE_FIFO: u32 = 7;
const EXECUTABLE: u32 = 8;

/// Whether the big-endian words of `bytes` sum to zero, as romfs checksums require (a
/// short last word counts as if padded with zeros).
fn sums_to_zero(bytes: &[u8]) -> bool {
    bytes
        .chunks(4)
        .map(|w| {
            let padded = w.iter().chain(&[0; 3]).take(4);
            padded.fold(0u32, |word, &b| (word << 8) | u32::from(b))
        })
        .fold(0u32, u32::wrapping_add)
        == 0
}

/// A NUL-terminated name at `at`, and where what follows it starts (16-byte aligned).
fn name_at<'a>(img: &Reader<'a>, at: usize) -> Result<(&'a [u8], usize), ReadError> {
    let name = img.from(at, "name")?.until(0, "NUL-terminated name")?;
    Ok((name, (at + name.len() + 1).next_multiple_of(16)))
}

/// One file header.
#[derive(Debug)]
struct Header<'a> {
    next: usize,
    kind: u32,
    executable: bool,
    info: u32,
    size: usize,
    name: &'a [u8],
    data_at: usize,
    /// Bytes the header checksum covers: the 16-byte header and the padded name.
    covered: &'a [u8],
}

fn header<'a>(img: &Reader<'a>, at: usize) -> Result<Header<'a>, ReadError> {
    let mut h = img.at(at, 16, "file header")?;
    let next = h.u32(ByteOrder::Big, "file header")?;
    let info = h.u32(ByteOrder::Big, "file header")?;
    let size = h.u32(ByteOrder::Big, "file header")?;
    let (name, data_at) = name_at(img, at + 16)?;
    Ok(Header {
        next: (next & !0xf) as usize,
        kind: next & 7,
        executable: next & EXECUTABLE != 0,
        info,
        size: size as usize,
        name,
        data_at,
        covered: img.window().get(at..data_at).unwrap_or_default(),
    })
}

/// A romfs image starting at `offset`; returns the bytes it occupies.
pub(super) fn romfs(scan: &mut Scan) -> Option<usize> {
    let offset = scan.offset;
    let rest = Reader::new(scan.data, 0)
        .from(offset, "romfs superblock")
        .ok()?;
    let full_size = rest.u32_at(8, ByteOrder::Big, "romfs size").ok()? as usize;
    // The superblock alone (magic, size, checksum, a name) takes at least 32 bytes.
    if full_size < 32 {
        return None;
    }
    let (_, first) = name_at(&rest, 16).ok()?;
    if first > full_size {
        return None;
    }
    let img = rest
        .at(0, full_size.min(rest.remaining()), "romfs image")
        .ok()?;
    let (rest, img_bytes) = (rest.window(), img.window());
    let mut problems = Problems::default();
    if full_size > rest.len() {
        problems.add(format!(
            "truncated: the superblock says {full_size} bytes, the image holds {}",
            rest.len()
        ));
    }
    if !sums_to_zero(&img_bytes[..img_bytes.len().min(CHECKSUM_SPAN)]) {
        problems.add(format!(
            "the superblock checksum at byte {} does not match",
            offset + 12
        ));
    }
    let mut tree = Tree::default();
    read_tree(&img, first, scan, &mut tree, &mut problems);
    scan.record_filesystem(img_bytes, "romfs", problems.summary(), tree);
    Some(img_bytes.len())
}

fn read_tree(img: &Reader, root: usize, scan: &mut Scan, tree: &mut Tree, problems: &mut Problems) {
    let limits = scan.limits;
    // Every entry visited counts, so names repeated in a crafted image (which leave the
    // tree no bigger) cannot make the walk run on.
    let mut entries = 0usize;
    let mut pending = vec![(root, PathBuf::new())];
    // Every header belongs to one directory list; one seen twice means a loop.
    let mut seen = HashSet::new();
    while let Some((first, path)) = pending.pop() {
        let mut at = first;
        while at != 0 {
            if !seen.insert(at) {
                problems.add(format!("the header at byte {at} is reached twice (a loop)"));
                break;
            }
            let h = match header(img, at) {
                Ok(h) => h,
                Err(e) => {
                    problems.add(format!("the header at byte {at} runs past the image: {e}"));
                    break;
                }
            };
            let here = at;
            at = h.next;
            if !sums_to_zero(h.covered) {
                problems.add(format!("the header at byte {here} fails its checksum"));
            }
            if h.name == b"." || h.name == b".." {
                continue;
            }
            let name = String::from_utf8_lossy(h.name).into_owned();
            let child = path.join(&name);
            if name.is_empty() || name.contains('/') {
                problems.add(format!("the header at byte {here} has the name {name:?}"));
                continue;
            }
            if entries >= limits.max_files {
                problems.add(format!(
                    "stopped at the limit of {} files",
                    limits.max_files
                ));
                return;
            }
            entries += 1;
            // A hard link reads as its target, with the target's type and data.
            let (target, target_at) = if h.kind == TYPE_HARD_LINK {
                let to = (h.info & !0xf) as usize;
                match header(img, to) {
                    Ok(t) if t.kind != TYPE_HARD_LINK => (t, to),
                    Ok(_) => {
                        problems.add(format!("{}: a hard link to a hard link", child.display()));
                        continue;
                    }
                    Err(e) => {
                        problems.add(format!(
                            "{}: the header at byte {to} runs past the image: {e}",
                            child.display()
                        ));
                        continue;
                    }
                }
            } else {
                (h, here)
            };
            let data = || {
                img.at(target.data_at, target.size, "file data")
                    .map(|r| r.window())
                    .map_err(|e| {
                        format!(
                            "{}: {} bytes at byte {} run past the image: {e}",
                            child.display(),
                            target.size,
                            target.data_at
                        )
                    })
            };
            let (kind, mode) = match target.kind {
                TYPE_DIR => {
                    // A hard link to a directory is recorded, not entered a second time.
                    if target_at == here {
                        pending.push(((target.info & !0xf) as usize, child.clone()));
                    }
                    (Kind::Dir, 0o644)
                }
                TYPE_FILE => {
                    if target.size as u64 > scan.cap() {
                        problems.add(format!(
                            "{}: {} bytes, over the size limit",
                            child.display(),
                            target.size
                        ));
                        continue;
                    }
                    match data() {
                        Ok(bytes) => {
                            *scan.budget = scan.budget.saturating_sub(bytes.len() as u64);
                            (Kind::File(bytes.to_vec()), 0o644)
                        }
                        Err(e) => {
                            problems.add(e);
                            continue;
                        }
                    }
                }
                TYPE_SYMLINK => match data() {
                    Ok(bytes) if bytes.len() <= 4096 => (
                        Kind::Symlink(PathBuf::from(String::from_utf8_lossy(bytes).into_owned())),
                        0o777,
                    ),
                    Ok(bytes) => {
                        problems.add(format!(
                            "{}: a {}-byte symlink target, longer than any path",
                            child.display(),
                            bytes.len()
                        ));
                        continue;
                    }
                    Err(e) => {
                        problems.add(e);
                        continue;
                    }
                },
                TYPE_BLOCK => (Kind::Special("block device"), 0o600),
                TYPE_CHAR => (Kind::Special("character device"), 0o600),
                TYPE_SOCKET => (Kind::Special("socket"), 0o644),
                TYPE_FIFO => (Kind::Special("named pipe"), 0o644),
                _ => continue, // every 3-bit value is a type above; hard links were resolved
            };
            // The executable bit gives x to everyone on directories and files, as the kernel
            // does when mounting.
            let mode = if target.executable && matches!(target.kind, TYPE_DIR | TYPE_FILE) {
                mode | 0o111
            } else {
                mode
            };
            let entry = Entry {
                kind,
                mode,
                uid: 0,
                gid: 0,
            };
            if let Err(e) = tree.insert(&child, entry) {
                problems.add(e.to_string());
            }
        }
    }
}
