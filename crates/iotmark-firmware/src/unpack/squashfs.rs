//! SquashFS, through backhand: version 4 in both byte orders and every compressor
//! squashfs-tools writes (gzip, LZMA, LZO, xz, LZ4, zstd), AVM's big-endian variant, and
//! version 3. Vendor LZMA variants of versions 3 and 4 are readable only through a GPL-2.0
//! library, so they sit behind the opt-in `gpl-squashfs` feature, and a region read that
//! way says so.
//!
//! LZO and plain LZMA blocks are decoded here rather than by backhand, whose LZO support is
//! GPL-2.0: LZO by our own bounded LZO1X decoder (streams.rs), LZMA by liblzma's LZMA-alone
//! decoder.

use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use backhand::compression::{CompressionAction, Compressor, DefaultCompressor};
use backhand::kind::{self, Kind};
use backhand::traits::filesystem::{BackhandInnerNode, BackhandSquashfsFileReader};
use backhand::{BackhandError, FilesystemCompressor, FilesystemReaderTrait, SuperBlock};

use super::Scan;
use crate::reader::{ByteOrder, Reader};
use crate::tree::{Entry, Kind as EntryKind, Tree};

/// Decodes the compressors backhand leaves to a feature we do not enable, and hands the
/// rest to backhand's own.
struct Decoders;

static DECODERS: Decoders = Decoders;

/// The largest block SquashFS allows; a block that inflates past it is corrupt.
const MAX_BLOCK: usize = 1 << 20;

impl CompressionAction for Decoders {
    type Error = BackhandError;
    type Compressor = Compressor;
    type FilesystemCompressor = FilesystemCompressor;
    type SuperBlock = SuperBlock;

    fn decompress(
        &self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        compressor: Compressor,
    ) -> Result<(), BackhandError> {
        match compressor {
            Compressor::Lzo => {
                super::streams::lzo1x(bytes, out, MAX_BLOCK)
                    .map_err(|_| BackhandError::CorruptedOrInvalidSquashfs)?;
                Ok(())
            }
            Compressor::Lzma => {
                // squashfs-tools stores each LZMA block in the LZMA-alone format: five bytes
                // of properties, the uncompressed size, then the stream.
                let stream = liblzma::stream::Stream::new_lzma_decoder(64 << 20)
                    .map_err(|_| BackhandError::CorruptedOrInvalidSquashfs)?;
                let mut decoder = liblzma::bufread::XzDecoder::new_stream(bytes, stream);
                decoder
                    .by_ref()
                    .take(MAX_BLOCK as u64 + 1)
                    .read_to_end(out)
                    .map_err(|_| BackhandError::CorruptedOrInvalidSquashfs)?;
                Ok(())
            }
            other => DefaultCompressor.decompress(bytes, out, other),
        }
    }

    fn compress(
        &self,
        bytes: &[u8],
        fc: FilesystemCompressor,
        block_size: u32,
    ) -> Result<Vec<u8>, BackhandError> {
        // Never called: the scanner only reads.
        DefaultCompressor.compress(bytes, fc, block_size)
    }
}

/// What the superblock says, read with the byte order its magic gives.
struct Header {
    big_endian: bool,
    major: u16,
    bytes_used: u64,
}

fn header(sb: &[u8]) -> Option<Header> {
    let big_endian = sb.get(..4)? == b"sqsh";
    let order = if big_endian {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let sb = Reader::new(sb, 0);
    let major = sb.u16_at(28, order, "SquashFS major version").ok()?;
    // The size sits at a different place in each generation of the superblock.
    let bytes_used = match major {
        4 => sb.u64_at(40, order, "SquashFS bytes used"),
        3 => sb.u64_at(63, order, "SquashFS bytes used"),
        1 | 2 => sb.u32_at(8, order, "SquashFS bytes used").map(u64::from),
        _ => return None,
    }
    .ok()?;
    Some(Header {
        big_endian,
        major,
        bytes_used,
    })
}

/// Why a SquashFS 4 superblock cannot be trusted, if it cannot: table offsets outside the
/// filesystem, or a block size the format does not allow.
fn superblock_problem(fs: &[u8], big_endian: bool, bytes_used: u64) -> Option<String> {
    let order = if big_endian {
        ByteOrder::Big
    } else {
        ByteOrder::Little
    };
    let sb = match Reader::new(fs, 0).at(0, 96, "SquashFS superblock") {
        Ok(sb) => sb,
        Err(e) => {
            return Some(format!(
                "the filesystem ({bytes_used} bytes) is smaller than its superblock: {e}"
            ));
        }
    };
    let fields = (|| {
        let block_size = sb.u32_at(12, order, "block size")?;
        let block_log = sb.u16_at(22, order, "block log")?;
        let mut tables = Vec::new();
        // Required tables, then optional ones (absent is all ones).
        for (name, at, optional) in [
            ("id", 48, false),
            ("inode", 64, false),
            ("directory", 72, false),
            ("xattr", 56, true),
            ("fragment", 80, true),
            ("export", 88, true),
        ] {
            tables.push((name, sb.u64_at(at, order, "table offset")?, optional));
        }
        Ok::<_, crate::reader::ReadError>((block_size, block_log, tables))
    })();
    let (block_size, block_log, tables) = match fields {
        Ok(f) => f,
        Err(e) => return Some(e.to_string()),
    };
    if !(4096..=1 << 20).contains(&block_size)
        || !block_size.is_power_of_two()
        || u32::from(block_log) != block_size.trailing_zeros()
    {
        return Some(format!(
            "block size {block_size} (log {block_log}) is not valid"
        ));
    }
    for (name, table, optional) in tables {
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

/// The readings to try for a superblock, in order, each with a note for the report when it
/// is not a plain one.
fn kinds(h: &Header) -> Vec<(Kind, Option<&'static str>)> {
    let mut kinds = Vec::new();
    match (h.major, h.big_endian) {
        (4, false) => kinds.push((Kind::new_v4_with_const(&DECODERS, kind::LE_V4_0), None)),
        (4, true) => {
            kinds.push((Kind::new_v4_with_const(&DECODERS, kind::BE_V4_0), None));
            kinds.push((
                Kind::new_v4_with_const(&DECODERS, kind::AVM_BE_V4_0),
                Some("AVM variant"),
            ));
        }
        (3, false) => kinds.extend(Kind::from_const(kind::LE_V3_0).ok().map(|k| (k, None))),
        (3, true) => kinds.extend(Kind::from_const(kind::BE_V3_0).ok().map(|k| (k, None))),
        _ => {}
    }
    #[cfg(feature = "gpl-squashfs")]
    {
        const GPL: Option<&str> = Some("vendor LZMA, read with the gpl-squashfs feature");
        let vendor = match (h.major, h.big_endian) {
            (4, false) => vec![Kind::from_const(kind::LE_V4_0_LZMA)],
            (4, true) => vec![Kind::from_const(kind::BE_V4_0_LZMA)],
            (3, false) => vec![
                Kind::from_const(kind::LE_V3_0_LZMA),
                Kind::from_const(kind::LE_V3_0_LZMA_SWAP_STANDARD),
                Kind::from_const(kind::LE_V3_1_LZMA_SWAP),
            ],
            (3, true) => vec![
                Kind::from_const(kind::BE_V3_0_LZMA),
                Kind::from_const(kind::BE_V3_0_LZMA_SWAP_STANDARD),
                Kind::from_const(kind::BE_V3_1_LZMA_SWAP),
                Kind::from_const(kind::NETGEAR_BE_V3_0_LZMA),
                Kind::from_const(kind::NETGEAR_BE_V3_0_LZMA_STANDARD),
            ],
            _ => Vec::new(),
        };
        kinds.extend(vendor.into_iter().filter_map(|k| k.ok().map(|k| (k, GPL))));
    }
    kinds
}

/// Opens the filesystem with the first reading that works. A panic inside the parser is a
/// bug in a dependency, turned here into a failed reading.
fn open<'a>(
    fs: &'a [u8],
    h: &Header,
) -> Result<(Box<dyn FilesystemReaderTrait + 'a>, Option<&'static str>), String> {
    let mut first_error = None;
    for (kind, note) in kinds(h) {
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            backhand::create_squashfs_from_kind(Cursor::new(fs), 0, kind)
        }));
        match opened {
            Ok(Ok(reader)) => return Ok((reader, note)),
            Ok(Err(e)) => {
                first_error.get_or_insert_with(|| e.to_string());
            }
            Err(_) => {
                first_error.get_or_insert_with(|| {
                    "the SquashFS reader failed on malformed metadata".to_owned()
                });
            }
        }
    }
    let mut why =
        first_error.unwrap_or_else(|| format!("SquashFS version {} is not supported", h.major));
    if matches!(h.major, 3 | 4) && !cfg!(feature = "gpl-squashfs") {
        why.push_str(
            "; if this is a vendor LZMA variant, a build with the gpl-squashfs feature can read it",
        );
    }
    Err(why)
}

/// A SquashFS filesystem at `offset`; returns the bytes it occupies.
pub(super) fn squashfs(scan: &mut Scan) -> Option<usize> {
    let (data, offset, limits) = (scan.data, scan.offset, scan.limits);
    let h = header(data.get(offset..)?)?;
    let bytes_used = usize::try_from(h.bytes_used).ok()?;
    let end = offset
        .checked_add(bytes_used)
        .filter(|&e| e <= data.len() && bytes_used >= 96)?;
    let fs = &data[offset..end];
    let label = if h.major == 4 {
        "squashfs".to_owned()
    } else {
        format!("squashfs v{}", h.major)
    };
    let failed = |scan: &mut Scan, why: String| {
        scan.push_region(bytes_used, &label, format!("failed: {why}"), fs);
        Some(bytes_used)
    };
    if h.major == 4
        && let Some(problem) = superblock_problem(fs, h.big_endian, h.bytes_used)
    {
        return failed(scan, problem);
    }
    let (reader, note) = match open(fs, &h) {
        Ok(opened) => opened,
        Err(why) => return failed(scan, why),
    };
    let nodes: Vec<_> = reader.files().take(limits.max_files + 1).collect();
    let mut failure = (nodes.len() > limits.max_files)
        .then(|| format!("stopped at the limit of {} files", limits.max_files));
    let nodes = &nodes[..nodes.len().min(limits.max_files)];
    // File contents are decompressed on every core; the shared budget is an atomic counter,
    // and a file is refused before it is read when its declared size does not fit.
    let remaining = AtomicU64::new(*scan.budget);
    let reader = &*reader;
    let deadline = scan.out.deadline;
    let read_file = |f: &BackhandSquashfsFileReader| -> Result<Vec<u8>, String> {
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(format!(
                "stopped at the time limit of {} s",
                limits.max_duration.as_secs()
            ));
        }
        let len = f.file_len() as u64;
        if len > limits.max_file_bytes
            || remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(len))
                .is_err()
        {
            return Err("over the size limit".to_owned());
        }
        let bytes = reader.file_data(f).map_err(|e| e.to_string())?;
        if bytes.len() as u64 != len {
            return Err(format!(
                "read {} bytes where the inode says {len}",
                bytes.len()
            ));
        }
        Ok(bytes)
    };
    // A call that panicked leaves its file unread (reported), never misaligned.
    let contents = crate::parallel::map(nodes, |n| match &n.inner {
        BackhandInnerNode::File(f) => Some(read_file(f)),
        _ => None,
    });
    *scan.budget = remaining.load(Ordering::Relaxed);
    let mut tree = Tree::default();
    for (node, content) in nodes.iter().zip(contents.into_iter().map(Option::flatten)) {
        let h = &node.header;
        let kind = match (&node.inner, content) {
            (BackhandInnerNode::File(_), Some(Ok(bytes))) => EntryKind::File(bytes),
            (BackhandInnerNode::File(_), Some(Err(e))) => {
                failure.get_or_insert(format!("{}: {e}", node.fullpath.display()));
                continue;
            }
            // Every file node was read above; a missing content means its worker failed.
            (BackhandInnerNode::File(_), None) => {
                failure.get_or_insert(format!("{}: not read", node.fullpath.display()));
                continue;
            }
            (BackhandInnerNode::Dir, _) => EntryKind::Dir,
            (BackhandInnerNode::Symlink { link }, _) => EntryKind::Symlink(link.clone()),
            (BackhandInnerNode::CharacterDevice { .. }, _) => {
                EntryKind::Special("character device")
            }
            (BackhandInnerNode::BlockDevice { .. }, _) => EntryKind::Special("block device"),
            (BackhandInnerNode::NamedPipe, _) => EntryKind::Special("named pipe"),
            (BackhandInnerNode::Socket, _) => EntryKind::Special("socket"),
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
    // Plain version 4 keeps the short name; anything older or vendor-specific says so.
    let format = match note {
        None => label,
        Some(note) => format!("squashfs v{} ({note})", h.major),
    };
    scan.record_filesystem(fs, &format, failure, tree);
    Some(bytes_used)
}
