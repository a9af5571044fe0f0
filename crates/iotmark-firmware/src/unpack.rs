//! Finding what an image contains, at any offset, and unpacking it within limits.
//!
//! Signatures are searched across the whole image: SquashFS superblocks, U-Boot legacy
//! (uImage) headers, gzip streams, newc cpio archives and ustar/GNU tar archives. A uImage or gzip payload is unpacked and searched
//! again, up to `Limits::max_depth` levels. Whatever is not claimed by a recognised format
//! is reported as a region with its entropy, so nothing is skipped silently.

use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use backhand::{FilesystemReader, InnerNode};

use crate::Limits;
use crate::tree::{Entry, Kind, Tree};

/// A stretch of an image and what it turned out to be.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Region {
    /// Offset in the (possibly decompressed) parent, and the nesting path to it.
    pub offset: u64,
    pub size: u64,
    pub format: String,
    /// `unpacked`, `failed: …`, or `not recognised`.
    pub outcome: String,
    /// Shannon entropy in bits per byte (0–8); near 8 means compressed or encrypted data.
    pub entropy: f64,
    /// Where the region sits, e.g. `uImage@0 > gzip@64`.
    pub within: String,
}

/// What unpacking produced.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub filesystems: Vec<(String, Tree)>,
    pub regions: Vec<Region>,
    /// `Linux version …` banners seen in the image or in any stream decompressed from it
    /// (a kernel is a stream, not a filesystem, so the inventory learns its version here).
    pub kernels: Vec<crate::inventory::KernelBanner>,
}

const SQUASHFS_MAGIC: &[u8; 4] = b"hsqs";
const UIMAGE_MAGIC: [u8; 4] = [0x27, 0x05, 0x19, 0x56];
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const CPIO_NEWC_MAGIC: &[u8; 6] = b"070701";
const CPIO_CRC_MAGIC: &[u8; 6] = b"070702";

pub fn entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u64; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let n = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Unpacks everything recognisable in `data`.
pub fn unpack(data: &[u8], limits: &Limits) -> Unpacked {
    let mut out = Unpacked::default();
    let mut budget = limits.max_unpacked_bytes;
    walk(data, "image", 0, limits, &mut budget, &mut out);
    out
}

fn walk(
    data: &[u8],
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) {
    crate::inventory::kernel_banners(data, within, &mut out.kernels);
    let mut claimed: Vec<(usize, usize)> = Vec::new();
    let mut offset = 0usize;
    while offset < data.len() {
        let rest = &data[offset..];
        let found = if rest.starts_with(SQUASHFS_MAGIC) {
            squashfs(data, offset, within, limits, budget, out)
        } else if rest.starts_with(&UIMAGE_MAGIC) && depth < limits.max_depth {
            uimage(data, offset, within, depth, limits, budget, out)
        } else if rest.starts_with(&GZIP_MAGIC) && depth < limits.max_depth {
            gzip(data, offset, within, depth, limits, budget, out)
        } else if rest.starts_with(CPIO_NEWC_MAGIC) || rest.starts_with(CPIO_CRC_MAGIC) {
            cpio(data, offset, within, limits, budget, out)
        } else if rest.get(257..262) == Some(b"ustar") {
            tar(data, offset, within, limits, budget, out)
        } else {
            None
        };
        match found {
            Some(size) if size > 0 => {
                claimed.push((offset, size));
                offset += size;
            }
            _ => offset += 1,
        }
    }
    // Report the gaps of any real size (padding between partitions is common and harmless;
    // runs of one value have entropy 0 and are summarised anyway so the report is complete).
    let mut at = 0usize;
    for (start, size) in claimed
        .iter()
        .copied()
        .chain(std::iter::once((data.len(), 0)))
    {
        if start > at && start - at >= 512 {
            let gap = &data[at..start];
            out.regions.push(Region {
                offset: at as u64,
                size: gap.len() as u64,
                format: "unknown".into(),
                outcome: "not recognised".into(),
                entropy: round(entropy(gap)),
                within: within.to_owned(),
            });
        }
        at = at.max(start + size);
    }
}

fn round(x: f64) -> f64 {
    // Adding 0.0 turns the -0.0 of a single-valued run into 0.0.
    (x * 1000.0).round() / 1000.0 + 0.0
}

fn region(
    offset: usize,
    size: usize,
    format: &str,
    outcome: String,
    data: &[u8],
    within: &str,
) -> Region {
    Region {
        offset: offset as u64,
        size: size as u64,
        format: format.into(),
        outcome,
        entropy: round(entropy(data)),
        within: within.to_owned(),
    }
}

/// Why a SquashFS 4 superblock cannot be trusted, if it cannot: table offsets outside the
/// filesystem, or a block size the format does not allow.
fn superblock_problem(fs: &[u8], bytes_used: u64) -> Option<String> {
    let Some(sb) = fs.get(..96) else {
        return Some(format!(
            "the filesystem ({bytes_used} bytes) is smaller than its superblock"
        ));
    };
    let u16_at = |i: usize| u16::from_le_bytes([sb[i], sb[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([sb[i], sb[i + 1], sb[i + 2], sb[i + 3]]);
    let u64_at = |i: usize| {
        u64::from_le_bytes([
            sb[i],
            sb[i + 1],
            sb[i + 2],
            sb[i + 3],
            sb[i + 4],
            sb[i + 5],
            sb[i + 6],
            sb[i + 7],
        ])
    };
    let block_size = u32_at(12);
    let block_log = u16_at(22);
    if !(4096..=1 << 20).contains(&block_size)
        || !block_size.is_power_of_two()
        || u32::from(block_log) != block_size.trailing_zeros()
    {
        return Some(format!(
            "block size {block_size} (log {block_log}) is not valid"
        ));
    }
    // Required tables, then optional ones (absent is all ones).
    for (name, at, optional) in [
        ("id", 48, false),
        ("inode", 64, false),
        ("directory", 72, false),
        ("xattr", 56, true),
        ("fragment", 80, true),
        ("export", 88, true),
    ] {
        let table = u64_at(at);
        if optional && table == u64::MAX {
            continue;
        }
        if table >= bytes_used {
            return Some(format!(
                "the {name} table starts at {table}, outside the {bytes_used}-byte filesystem"
            ));
        }
    }
    None
}

/// A SquashFS 4 filesystem at `offset`; returns the bytes it occupies.
fn squashfs(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    // bytes_used is at offset 40 of the superblock; version major at 28.
    let sb = data.get(offset..offset + 96)?;
    let major = u16::from_le_bytes([sb[28], sb[29]]);
    let bytes_used = u64::from_le_bytes(sb[40..48].try_into().ok()?) as usize;
    let end = offset
        .checked_add(bytes_used)
        .filter(|&e| e <= data.len())?;
    if major != 4 {
        out.regions.push(region(
            offset,
            bytes_used,
            "squashfs",
            format!("failed: SquashFS version {major} is not supported"),
            &data[offset..end],
            within,
        ));
        return Some(bytes_used);
    }
    let failed = |out: &mut Unpacked, why: String| {
        out.regions.push(region(
            offset,
            bytes_used,
            "squashfs",
            format!("failed: {why}"),
            &data[offset..end],
            within,
        ));
        Some(bytes_used)
    };
    if let Some(problem) = superblock_problem(&data[offset..end], bytes_used as u64) {
        return failed(out, problem);
    }
    // The superblock checks above keep the parser's arithmetic in range; a panic inside it
    // would still be a bug in a dependency, and is turned into a failed region here.
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        FilesystemReader::from_reader_with_offset(Cursor::new(&data[..end]), offset as u64)
    }));
    let reader = match opened {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return failed(out, e.to_string()),
        Err(_) => {
            return failed(
                out,
                "the SquashFS reader failed on malformed metadata".to_owned(),
            );
        }
    };
    let mut tree = Tree::default();
    let mut failure = None;
    let nodes: Vec<_> = reader.files().take(limits.max_files + 1).collect();
    if nodes.len() > limits.max_files {
        failure = Some(format!(
            "stopped at the limit of {} files",
            limits.max_files
        ));
    }
    let nodes = &nodes[..nodes.len().min(limits.max_files)];
    // File contents are decompressed on every core: the reader serialises only the raw
    // reads, and the shared budget is an atomic counter.
    let remaining = AtomicU64::new(*budget);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let read_file = |f: &backhand::SquashfsFileReader| -> Result<Vec<u8>, String> {
        let cap = remaining.load(Ordering::Relaxed).min(limits.max_file_bytes);
        let mut bytes = Vec::with_capacity(f.file_len().min(1 << 20));
        reader
            .file(f)
            .reader()
            .take(cap + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let len = bytes.len() as u64;
        if len > cap
            || remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(len))
                .is_err()
        {
            return Err("over the size limit".to_owned());
        }
        Ok(bytes)
    };
    let contents: Vec<Option<Result<Vec<u8>, String>>> = std::thread::scope(|scope| {
        let chunk = nodes.len().div_ceil(threads).max(1);
        let workers: Vec<_> = nodes
            .chunks(chunk)
            .map(|part| {
                let read_file = &read_file;
                let handle = scope.spawn(move || {
                    part.iter()
                        .map(|n| match &n.inner {
                            InnerNode::File(f) => Some(read_file(f)),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        // A worker that panicked leaves its files unread (reported), never misaligned.
        workers
            .into_iter()
            .flat_map(|(len, w)| w.join().unwrap_or_else(|_| vec![None; len]))
            .collect()
    });
    *budget = remaining.load(Ordering::Relaxed);
    for (node, content) in nodes.iter().zip(contents) {
        let h = &node.header;
        let kind = match (&node.inner, content) {
            (InnerNode::File(_), Some(Ok(bytes))) => Kind::File(bytes),
            (InnerNode::File(_), Some(Err(e))) => {
                failure.get_or_insert(format!("{}: {e}", node.fullpath.display()));
                continue;
            }
            // Every file node was read above; a missing content means its worker failed.
            (InnerNode::File(_), None) => {
                failure.get_or_insert(format!("{}: not read", node.fullpath.display()));
                continue;
            }
            (InnerNode::Dir(_), _) => Kind::Dir,
            (InnerNode::Symlink(s), _) => Kind::Symlink(s.link.clone()),
            (InnerNode::CharacterDevice(_), _) => Kind::Special("character device"),
            (InnerNode::BlockDevice(_), _) => Kind::Special("block device"),
            (InnerNode::NamedPipe, _) => Kind::Special("named pipe"),
            (InnerNode::Socket, _) => Kind::Special("socket"),
        };
        let entry = Entry {
            kind,
            mode: h.permissions & 0o7777,
            uid: h.uid,
            gid: h.gid,
        };
        if let Err(e) = tree.insert(&node.fullpath, entry) {
            failure.get_or_insert(e.to_string());
        }
    }
    record_filesystem(
        out,
        &data[offset..end],
        offset,
        "squashfs",
        within,
        failure,
        tree,
    );
    Some(bytes_used)
}

/// Records an unpacked archive or filesystem: its region, with `failed: …` when reading
/// stopped early, and its tree when it holds anything (what was read before a failure is
/// kept; a false signature that yielded nothing adds no filesystem).
fn record_filesystem(
    out: &mut Unpacked,
    bytes: &[u8],
    offset: usize,
    format: &str,
    within: &str,
    failure: Option<String>,
    tree: Tree,
) {
    let outcome = match failure {
        Some(f) => format!("failed: {f}"),
        None => "unpacked".to_owned(),
    };
    out.regions
        .push(region(offset, bytes.len(), format, outcome, bytes, within));
    if !tree.entries.is_empty() {
        out.filesystems
            .push((format!("{within} > {format}@{offset}"), tree));
    }
}

/// A U-Boot legacy image: a 64-byte big-endian header, then the payload.
fn uimage(
    data: &[u8],
    offset: usize,
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    let h = data.get(offset..offset + 64)?;
    let size = u32::from_be_bytes(h[12..16].try_into().ok()?) as usize;
    let end = (offset + 64)
        .checked_add(size)
        .filter(|&e| e <= data.len())?;
    let name: String = h[32..64]
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let compression = h[31];
    let payload = &data[offset + 64..end];
    let label = format!("{within} > uImage@{offset} \"{}\"", name.trim());
    out.regions.push(region(
        offset,
        64 + size,
        "uimage",
        format!("unpacked (compression {compression})"),
        payload,
        within,
    ));
    walk(payload, &label, depth + 1, limits, budget, out);
    Some(64 + size)
}

/// A gzip stream; its decompressed bytes are searched in turn.
fn gzip(
    data: &[u8],
    offset: usize,
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    // The bufread decoder consumes exactly the stream, so what is left tells its length.
    let mut decoder = flate2::bufread::GzDecoder::new(&data[offset..]);
    let mut inflated = Vec::new();
    let cap = (*budget).min(limits.max_file_bytes);
    match decoder.by_ref().take(cap + 1).read_to_end(&mut inflated) {
        Ok(_) if inflated.len() as u64 <= cap => {}
        _ => return None, // a false signature or a bomb: leave it to the gap report
    }
    let consumed = data.len() - offset - decoder.into_inner().len();
    *budget -= inflated.len() as u64;
    let label = format!("{within} > gzip@{offset}");
    out.regions.push(region(
        offset,
        consumed,
        "gzip",
        format!("unpacked ({} bytes)", inflated.len()),
        &data[offset..offset + consumed],
        within,
    ));
    walk(&inflated, &label, depth + 1, limits, budget, out);
    Some(consumed)
}

/// A cpio archive in the `newc` (or `crc`) format, as initramfs images use: 110-byte ASCII
/// headers, names and data padded to four bytes, ended by `TRAILER!!!`.
fn cpio(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    let hex = |field: &[u8]| {
        std::str::from_utf8(field)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
    };
    let pad4 = |n: usize| n.div_ceil(4) * 4;
    let mut tree = Tree::default();
    let mut at = offset;
    let mut failure = None;
    let mut complete = false;
    while let Some(h) = data.get(at..at + 110) {
        if !(h.starts_with(CPIO_NEWC_MAGIC) || h.starts_with(CPIO_CRC_MAGIC)) {
            failure = Some(format!("bad header at offset {at}"));
            break;
        }
        let field = |i: usize| hex(&h[6 + 8 * i..14 + 8 * i]);
        let (Some(mode), Some(uid), Some(gid), Some(size), Some(namesize)) =
            (field(1), field(2), field(3), field(6), field(11))
        else {
            failure = Some(format!("unreadable header at offset {at}"));
            break;
        };
        let name_start = at + 110;
        let Some(name) = usize::try_from(namesize)
            .ok()
            .and_then(|n| data.get(name_start..name_start + n))
        else {
            failure = Some(format!("name runs past the end at offset {at}"));
            break;
        };
        let name = String::from_utf8_lossy(name.strip_suffix(&[0]).unwrap_or(name)).into_owned();
        let data_start = offset + pad4(name_start + namesize as usize - offset);
        if name == "TRAILER!!!" {
            at = data_start;
            complete = true;
            break;
        }
        let cap = (*budget).min(limits.max_file_bytes);
        if size > cap {
            failure = Some(format!("{name}: over the size limit"));
            break;
        }
        let Some(body) = data.get(data_start..data_start + size as usize) else {
            failure = Some(format!("{name}: data runs past the end"));
            break;
        };
        if tree.entries.len() >= limits.max_files {
            failure = Some(format!(
                "stopped at the limit of {} files",
                limits.max_files
            ));
            break;
        }
        let kind = match mode & 0o170000 {
            0o040000 => Kind::Dir,
            0o100000 => {
                *budget -= size;
                Kind::File(body.to_vec())
            }
            0o120000 => Kind::Symlink(String::from_utf8_lossy(body).into_owned().into()),
            0o020000 => Kind::Special("character device"),
            0o060000 => Kind::Special("block device"),
            0o010000 => Kind::Special("named pipe"),
            _ => Kind::Special("socket"),
        };
        let entry = Entry {
            kind,
            mode: (mode & 0o7777) as u16,
            uid: uid as u32,
            gid: gid as u32,
        };
        if let Err(e) = tree.insert(std::path::Path::new(&name), entry) {
            failure = Some(e.to_string());
            break;
        }
        at = offset + pad4(data_start + size as usize - offset);
    }
    let size = at - offset;
    if size < 110 {
        return None;
    }
    let failure = failure.or_else(|| (!complete).then(|| "no trailer".to_owned()));
    record_filesystem(
        out,
        &data[offset..at],
        offset,
        "cpio",
        within,
        failure,
        tree,
    );
    Some(size)
}

/// A ustar or GNU tar archive: 512-byte headers with octal fields, data padded to 512 bytes,
/// GNU long names (`L`) and long link targets (`K`), ended by zero blocks.
fn tar(
    data: &[u8],
    offset: usize,
    within: &str,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    let octal = |field: &[u8]| {
        let text: String = field
            .iter()
            .take_while(|&&b| b != 0)
            .map(|&b| b as char)
            .collect();
        u64::from_str_radix(text.trim(), 8).ok()
    };
    let string = |field: &[u8]| {
        String::from_utf8_lossy(field.split(|&b| b == 0).next().unwrap_or_default()).into_owned()
    };
    let mut tree = Tree::default();
    let mut at = offset;
    let mut failure = None;
    let (mut long_name, mut long_link): (Option<String>, Option<String>) = (None, None);
    while let Some(h) = data.get(at..at + 512) {
        if h.iter().all(|&b| b == 0) {
            at += 512; // end-of-archive block(s)
            if data
                .get(at..at + 512)
                .is_some_and(|b| b.iter().all(|&x| x == 0))
            {
                at += 512;
            }
            break;
        }
        if h.get(257..262) != Some(b"ustar") {
            failure = Some(format!("bad header at offset {at}"));
            break;
        }
        let (Some(mode), Some(size)) = (octal(&h[100..108]), octal(&h[124..136])) else {
            failure = Some(format!("unreadable header at offset {at}"));
            break;
        };
        let (uid, gid) = (
            octal(&h[108..116]).unwrap_or(0),
            octal(&h[116..124]).unwrap_or(0),
        );
        let body_start = at + 512;
        if size > (*budget).min(limits.max_file_bytes) {
            failure = Some(format!("entry at offset {at}: over the size limit"));
            break;
        }
        let Some(body) = data.get(body_start..body_start + size as usize) else {
            failure = Some(format!("entry at offset {at}: data runs past the end"));
            break;
        };
        at = body_start + (size as usize).div_ceil(512) * 512;
        let typeflag = h[156];
        match typeflag {
            b'L' => {
                long_name = Some(string(body));
                continue;
            }
            b'K' => {
                long_link = Some(string(body));
                continue;
            }
            b'x' | b'g' => continue, // pax headers: attributes we do not need
            _ => {}
        }
        let name = long_name.take().unwrap_or_else(|| {
            let (prefix, name) = (string(&h[345..500]), string(&h[0..100]));
            if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            }
        });
        let link = long_link.take().unwrap_or_else(|| string(&h[157..257]));
        if tree.entries.len() >= limits.max_files {
            failure = Some(format!(
                "stopped at the limit of {} files",
                limits.max_files
            ));
            break;
        }
        let kind = match typeflag {
            b'0' | 0 | b'7' => {
                *budget -= size;
                Kind::File(body.to_vec())
            }
            b'5' => Kind::Dir,
            b'2' => Kind::Symlink(link.into()),
            // A hard link shares its target's contents.
            b'1' => match tree
                .entries
                .get(std::path::Path::new(link.trim_start_matches("./")))
            {
                Some(Entry {
                    kind: Kind::File(bytes),
                    ..
                }) => Kind::File(bytes.clone()),
                _ => Kind::Special("hard link"),
            },
            b'3' => Kind::Special("character device"),
            b'4' => Kind::Special("block device"),
            b'6' => Kind::Special("named pipe"),
            _ => Kind::Special("unknown tar entry"),
        };
        let entry = Entry {
            kind,
            mode: (mode & 0o7777) as u16,
            uid: uid as u32,
            gid: gid as u32,
        };
        if let Err(e) = tree.insert(std::path::Path::new(&name), entry) {
            failure = Some(e.to_string());
            break;
        }
    }
    let size = at - offset;
    record_filesystem(out, &data[offset..at], offset, "tar", within, failure, tree);
    Some(size.max(1))
}
