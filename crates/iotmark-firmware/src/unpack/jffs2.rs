//! JFFS2, the log-structured flash filesystem of older NOR-flash devices.
//!
//! A JFFS2 image is a sequence of nodes, each with a 12-byte header (magic 0x1985, node type,
//! total length, header CRC), 4-byte aligned, with 0xFF erase-block padding between them and
//! no superblock. Directory entries (dirents) link a name in a parent inode to an inode;
//! inode nodes carry metadata and one compressed run of file data at an offset. The newest
//! version of each dirent and of each byte range wins, as when Linux mounts the image; a
//! dirent pointing to inode 0 deletes the name. Layouts follow `include/uapi/linux/jffs2.h`.
//!
//! CRCs are Linux's `crc32(0, …)`: the reflected CRC-32 without the initial and final
//! inversion that zlib applies. Nodes whose CRCs do not match are skipped and reported.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};
use crate::tree::{Entry, Kind, Tree};

const MAGIC: u16 = 0x1985;
/// Cleared on nodes the filesystem has since made obsolete.
const ACCURATE: u16 = 0x2000;
const DIRENT: u16 = 0xe001;
const INODE: u16 = 0xe002;
const HEADER_LEN: usize = 12;
const DIRENT_LEN: usize = 40;
const INODE_LEN: usize = 68;
const ROOT_INO: u32 = 1;
/// How far past unrecognised bytes to look for the next node before deciding the filesystem
/// has ended: dirty space inside an erase block is rarely longer.
const MAX_GAP: usize = 128 << 10;

/// Does `rest` start with a JFFS2 node magic (either byte order)? Cheap; the reader then
/// checks the header CRC before believing it.
pub(super) fn magic(rest: &[u8]) -> bool {
    rest.starts_with(&[0x85, 0x19]) || rest.starts_with(&[0x19, 0x85])
}

/// Linux's `crc32(0, data)`: zlib's CRC-32 with neither the initial nor the final inversion.
pub(super) fn crc(data: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(u32::MAX);
    h.update(data);
    !h.finalize()
}

/// The latest dirent for a name, by version.
#[derive(Debug)]
struct Dirent {
    version: u32,
    ino: u32,
    dtype: u8,
}

/// An inode node: metadata plus one run of (compressed) data, located in the image.
#[derive(Debug, Clone)]
struct InodeNode {
    at: usize,
    version: u32,
    mode: u32,
    uid: u16,
    gid: u16,
    isize: u32,
    offset: u32,
    dsize: u32,
    compr: u8,
    data: std::ops::Range<usize>,
}

/// A header at `at` that is a node in `endian` order with a matching header CRC (or any
/// header when `verify` is off, for fuzzing): its type and total length.
fn header(data: &[u8], at: usize, order: ByteOrder, verify: bool) -> Option<(u16, usize)> {
    let mut h = Reader::new(data, 0)
        .at(at, HEADER_LEN, "node header")
        .ok()?;
    if h.u16(order, "node magic").ok()? != MAGIC {
        return None;
    }
    let nodetype = h.u16(order, "node type").ok()?;
    let totlen = h.u32(order, "node length").ok()?;
    let hdr_crc = h.u32(order, "node header CRC").ok()?;
    if verify && hdr_crc != crc(h.window().get(..8)?) {
        return None;
    }
    Some((nodetype, totlen as usize))
}

/// A JFFS2 filesystem starting at `offset`; returns the bytes it occupies.
pub(super) fn jffs2(scan: &mut Scan) -> Option<usize> {
    read(scan, true)
}

/// The reader; `verify` off skips the CRC checks so a fuzzer can reach the code behind them.
pub(super) fn read(scan: &mut Scan, verify: bool) -> Option<usize> {
    let (data, offset) = (scan.data, scan.offset);
    let endian = [ByteOrder::Little, ByteOrder::Big]
        .into_iter()
        .find(|&e| header(data, offset, e, verify).is_some())?;
    let mut problems = Problems::default();
    let mut dirents: HashMap<(u32, Vec<u8>), Dirent> = HashMap::new();
    let mut inodes: HashMap<u32, Vec<InodeNode>> = HashMap::new();
    let mut at = offset;
    let mut end = offset;
    while at < data.len() {
        if let Some((nodetype, totlen)) = header(data, at, endian, verify) {
            let Some(node_end) = at.checked_add(totlen).filter(|_| totlen >= HEADER_LEN) else {
                problems.add(format!("node at offset {at} has a length of {totlen}"));
                at += 4;
                continue;
            };
            let node = match Reader::new(data, 0).at(at, totlen, "node") {
                Ok(node) => node,
                Err(e) => {
                    problems.add(format!(
                        "node at offset {at} ({totlen} bytes) runs past the end of the image: truncated: {e}"
                    ));
                    end = data.len();
                    break;
                }
            };
            if nodetype & ACCURATE != 0 {
                match nodetype {
                    DIRENT => dirent(&node, endian, verify, &mut dirents, &mut problems),
                    INODE => {
                        if let Some((ino, n)) = inode(&node, endian, verify, &mut problems) {
                            inodes.entry(ino).or_default().push(n);
                        }
                    }
                    // Cleanmarkers, padding, summaries, xattrs: nothing to extract.
                    _ => {}
                }
            }
            at = node_end.next_multiple_of(4);
            end = at.min(data.len());
        } else if data.get(at..at + 4) == Some(&[0xff; 4]) {
            // Erase-block padding: part of the filesystem when more nodes follow it.
            while data.get(at..at + 4) == Some(&[0xff; 4]) {
                at += 4;
            }
            end = at;
        } else {
            // Dirty or corrupt space: resynchronise on the next node, or stop.
            let next = (at + 4..data.len().min(at + MAX_GAP))
                .step_by(4)
                .find(|&n| header(data, n, endian, verify).is_some());
            match next {
                Some(n) => {
                    problems.add(format!("{} unrecognised bytes at offset {at}", n - at));
                    at = n;
                }
                None => break,
            }
        }
    }
    let tree = build(data, &dirents, &mut inodes, scan, &mut problems);
    let format = match endian {
        ByteOrder::Little => "jffs2",
        ByteOrder::Big => "jffs2 (big-endian)",
    };
    scan.record_filesystem(&data[offset..end], format, problems.summary(), tree);
    Some(end - offset)
}

fn dirent(
    node: &Reader,
    order: ByteOrder,
    verify: bool,
    dirents: &mut HashMap<(u32, Vec<u8>), Dirent>,
    problems: &mut Problems,
) {
    let at = node.offset();
    let fields = || -> Result<_, ReadError> {
        let word = |at| node.u32_at(at, order, "dirent field");
        Ok((
            word(12)?,
            word(16)?,
            word(20)?,
            node.u8_at(28, "dirent name size")?,
            node.u8_at(29, "dirent type")?,
            word(32)?,
            word(36)?,
        ))
    };
    let (pino, version, ino, nsize, dtype, node_crc, name_crc) = match fields() {
        Ok(f) => f,
        Err(e) => {
            problems.add(format!(
                "dirent at offset {at} is shorter than its header: {e}"
            ));
            return;
        }
    };
    let name = match node.at(DIRENT_LEN, usize::from(nsize), "dirent name") {
        Ok(name) => name.window(),
        Err(e) => {
            problems.add(format!(
                "dirent at offset {at}: the name runs past the node: {e}"
            ));
            return;
        }
    };
    let header = node.window().get(..32).unwrap_or_default();
    if verify && (node_crc != crc(header) || name_crc != crc(name)) {
        problems.add(format!("dirent at offset {at}: CRC mismatch"));
        return;
    }
    if name.is_empty() || name.contains(&b'/') || name.contains(&0) || name == b"." || name == b".."
    {
        problems.add(format!("dirent at offset {at}: unusable name {name:?}"));
        return;
    }
    let slot = dirents.entry((pino, name.to_vec())).or_insert(Dirent {
        version,
        ino,
        dtype,
    });
    // Equal versions: the later node in the log is the newer write.
    if version >= slot.version {
        *slot = Dirent {
            version,
            ino,
            dtype,
        };
    }
}

fn inode(
    node: &Reader,
    order: ByteOrder,
    verify: bool,
    problems: &mut Problems,
) -> Option<(u32, InodeNode)> {
    let at = node.offset();
    let fields = || -> Result<_, ReadError> {
        let u32s = |i: usize| node.u32_at(i, order, "inode node field");
        let u16s = |i: usize| node.u16_at(i, order, "inode node field");
        Ok((
            u32s(12)?,
            u32s(16)?,
            u32s(20)?,
            u16s(24)?,
            u16s(26)?,
            u32s(28)?,
            u32s(44)?,
            u32s(48)?,
            u32s(52)?,
            node.u8_at(56, "inode node compression")?,
            u32s(60)?,
            u32s(64)?,
        ))
    };
    let (ino, version, mode, uid, gid, isize, offset, csize, dsize, compr, data_crc, node_crc) =
        match fields() {
            Ok(f) => f,
            Err(e) => {
                problems.add(format!(
                    "inode node at offset {at} is shorter than its header: {e}"
                ));
                return None;
            }
        };
    let data_end = INODE_LEN.checked_add(csize as usize)?;
    let payload = match node.at(INODE_LEN, csize as usize, "inode node data") {
        Ok(payload) => payload.window(),
        Err(e) => {
            problems.add(format!(
                "inode node at offset {at}: {csize} bytes of data run past the node: {e}"
            ));
            return None;
        }
    };
    if verify && node_crc != crc(node.window().get(..60).unwrap_or_default()) {
        problems.add(format!("inode node at offset {at}: header CRC mismatch"));
        return None;
    }
    if verify && data_crc != crc(payload) {
        problems.add(format!("inode node at offset {at}: data CRC mismatch"));
        return None;
    }
    Some((
        ino,
        InodeNode {
            at,
            version,
            mode,
            uid,
            gid,
            isize,
            offset,
            dsize,
            compr,
            data: at + INODE_LEN..at + data_end,
        },
    ))
}

/// Decompresses one node's data to exactly `dsize` bytes.
fn decompress(compr: u8, src: &[u8], dsize: usize) -> Result<Vec<u8>, String> {
    let out = match compr {
        // none, and the "copy" compressor, which stores as is
        0x00 | 0x04 => src.get(..dsize).map(<[u8]>::to_vec).unwrap_or_default(),
        0x01 => vec![0; dsize], // zero: a hole
        0x02 => rtime(src, dsize),
        0x06 => {
            let mut v = Vec::with_capacity(dsize);
            flate2::read::ZlibDecoder::new(src)
                .take(dsize as u64)
                .read_to_end(&mut v)
                .map_err(|e| format!("zlib: {e}"))?;
            v
        }
        0x07 => super::streams::lzo1x_block(src, dsize)?,
        0x08 => lzma(src, dsize)?,
        0x03 | 0x05 => return Err("rubin compression is not supported".into()),
        other => return Err(format!("unknown compression {other}")),
    };
    if out.len() != dsize {
        return Err(format!(
            "compression {compr} gave {} bytes, not {dsize}",
            out.len()
        ));
    }
    Ok(out)
}

/// JFFS2's "rtime": pairs of (byte, repeat count), where the repeat copies from just after
/// the previous occurrence of the same byte value.
fn rtime(src: &[u8], dsize: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(dsize);
    let mut last = [0usize; 256];
    let mut pairs = src.chunks_exact(2);
    while out.len() < dsize {
        let Some(&[value, repeat]) = pairs.next() else {
            break;
        };
        out.push(value);
        let back = last[usize::from(value)];
        last[usize::from(value)] = out.len();
        // Byte by byte: the source may overlap what is being written.
        for from in back..back + usize::from(repeat) {
            let Some(&b) = out.get(from) else { break };
            if out.len() >= dsize {
                break;
            }
            out.push(b);
        }
    }
    out
}

/// OpenWrt's JFFS2 LZMA: a raw LZMA1 stream with lc=0, lp=0, pb=0 and an 8 KiB dictionary,
/// without an end marker (decoding stops at the known size; a marker, if any, is not read).
fn lzma(src: &[u8], dsize: usize) -> Result<Vec<u8>, String> {
    use liblzma::stream::{Action, Filters, LzmaOptions, Stream};
    let err = |e: liblzma::stream::Error| format!("lzma: {e}");
    let mut opts = LzmaOptions::new_preset(0).map_err(err)?;
    opts.literal_context_bits(0)
        .literal_position_bits(0)
        .position_bits(0)
        .dict_size(0x2000);
    let mut filters = Filters::new();
    filters.lzma1(&opts);
    let mut stream = Stream::new_raw_decoder(&filters).map_err(err)?;
    let mut v = Vec::with_capacity(dsize);
    // Run, not Finish: the stream has no end marker, so the output size is what ends it.
    while v.len() < dsize {
        let before = (stream.total_in(), v.len());
        let input = src.get(stream.total_in() as usize..).unwrap_or_default();
        stream
            .process_vec(input, &mut v, Action::Run)
            .map_err(err)?;
        if (stream.total_in(), v.len()) == before {
            break; // no progress: the input ran out
        }
    }
    Ok(v)
}

/// The Linux file type bits of a mode, as a tree kind (contents filled in by the caller).
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

/// The file's bytes: data nodes applied oldest first (newer writes overwrite older ones),
/// holes zero, cut to the size recorded by the newest node.
fn contents(
    data: &[u8],
    nodes: &[InodeNode],
    cap: u64,
    budget: &mut u64,
) -> Result<Vec<u8>, String> {
    let Some(latest) = nodes.last() else {
        return Ok(Vec::new());
    };
    let size = u64::from(latest.isize);
    if size > cap {
        return Err(format!("{size} bytes, over the size limit"));
    }
    let size = size as usize;
    let mut buf = Vec::with_capacity(size.min(1 << 20));
    for n in nodes {
        if n.dsize == 0 || n.offset as usize >= size {
            continue;
        }
        let src = data.get(n.data.clone()).unwrap_or_default();
        let dsize = u64::from(n.dsize);
        // Decompressors allocate the output size up front: it must be within the limits.
        if dsize > cap {
            return Err(format!(
                "data node at offset {} claims {dsize} bytes, over the size limit",
                n.at
            ));
        }
        *budget = budget
            .checked_sub(dsize)
            .ok_or_else(|| "over the unpacking budget".to_owned())?;
        let bytes = decompress(n.compr, src, n.dsize as usize)
            .map_err(|e| format!("data node at offset {}: {e}", n.at))?;
        let start = n.offset as usize;
        let stop = start.saturating_add(bytes.len()).min(size);
        if buf.len() < stop {
            buf.resize(stop, 0);
        }
        if let (Some(dst), Some(src)) = (buf.get_mut(start..stop), bytes.get(..stop - start)) {
            dst.copy_from_slice(src);
        }
    }
    buf.resize(size, 0);
    Ok(buf)
}

/// Builds the tree from the root directory (inode 1) down through the live dirents.
fn build(
    data: &[u8],
    dirents: &HashMap<(u32, Vec<u8>), Dirent>,
    inodes: &mut HashMap<u32, Vec<InodeNode>>,
    scan: &mut Scan,
    problems: &mut Problems,
) -> Tree {
    let limits = scan.limits;
    for nodes in inodes.values_mut() {
        nodes.sort_by_key(|n| n.version);
    }
    // Each directory's live names: (name, inode, dirent type).
    type Names<'a> = Vec<(&'a [u8], u32, u8)>;
    let mut children: HashMap<u32, Names> = HashMap::new();
    for ((pino, name), d) in dirents {
        if d.ino != 0 {
            children
                .entry(*pino)
                .or_default()
                .push((name.as_slice(), d.ino, d.dtype));
        }
    }
    for list in children.values_mut() {
        list.sort();
    }
    let mut tree = Tree::default();
    let mut visited = HashSet::from([ROOT_INO]);
    let mut stack = vec![(ROOT_INO, PathBuf::from("/"))];
    let mut built: HashMap<u32, Kind> = HashMap::new();
    while let Some((dir, path)) = stack.pop() {
        for &(name, ino, dtype) in children.get(&dir).map(Vec::as_slice).unwrap_or_default() {
            if tree.entries.len() >= limits.max_files {
                problems.add(format!(
                    "stopped at the limit of {} files",
                    limits.max_files
                ));
                return tree;
            }
            let child = path.join(String::from_utf8_lossy(name).as_ref());
            let nodes = inodes.get(&ino).map(Vec::as_slice).unwrap_or_default();
            let Some(latest) = nodes.last() else {
                problems.add(format!(
                    "{}: inode {ino} (type {dtype}) has no inode node",
                    child.display()
                ));
                continue;
            };
            let Some(kind) = kind_of(latest.mode) else {
                problems.add(format!(
                    "{}: inode {ino} has unknown mode {:o}",
                    child.display(),
                    latest.mode
                ));
                continue;
            };
            let kind = match kind {
                "dir" => {
                    if visited.insert(ino) {
                        stack.push((ino, child.clone()));
                    } else {
                        problems.add(format!(
                            "{}: directory inode {ino} is linked twice",
                            child.display()
                        ));
                        continue;
                    }
                    Kind::Dir
                }
                "file" | "symlink" => {
                    let cap = scan.cap();
                    let made = match built.get(&ino) {
                        // A hard link: the same contents again, counted again.
                        Some(k) => match scan.budget.checked_sub(match k {
                            Kind::File(b) => b.len() as u64,
                            _ => 0,
                        }) {
                            Some(left) => {
                                *scan.budget = left;
                                Ok(k.clone())
                            }
                            None => Err("over the unpacking budget".to_owned()),
                        },
                        None => contents(data, nodes, cap, scan.budget).map(|bytes| {
                            if kind == "file" {
                                Kind::File(bytes)
                            } else {
                                Kind::Symlink(PathBuf::from(
                                    String::from_utf8_lossy(&bytes).into_owned(),
                                ))
                            }
                        }),
                    };
                    match made {
                        Ok(k) => {
                            built.insert(ino, k.clone());
                            k
                        }
                        Err(e) => {
                            problems.add(format!("{}: {e}", child.display()));
                            continue;
                        }
                    }
                }
                special => Kind::Special(special),
            };
            let entry = Entry {
                kind,
                mode: (latest.mode & 0o7777) as u16,
                uid: u32::from(latest.uid),
                gid: u32::from(latest.gid),
            };
            if let Err(e) = tree.insert(&child, entry) {
                problems.add(e.to_string());
            }
        }
    }
    tree
}
