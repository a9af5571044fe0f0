//! Finding what an image contains, at any offset, and unpacking it within limits.
//!
//! Signatures are searched across the whole image: SquashFS superblocks, U-Boot legacy
//! (uImage) headers, FIT images and device trees, vendor headers (TRX, TP-Link), compressed
//! streams (gzip, xz, LZMA, zstd, LZ4, lzop, bzip2), newc cpio, ustar/GNU tar and ar
//! archives. Payloads, decompressed streams and archive members that are themselves
//! archives or compressed are searched again, up to `Limits::max_depth` levels. Whatever is
//! not claimed by a recognised format is reported as a region with its entropy, so nothing
//! is skipped silently.
//!
//! Filesystems read by our own bounded readers, one submodule each:
//! - ext2, ext3 and ext4 (`unpack/ext.rs`): superblock magic `0xEF53` 1080 bytes into the
//!   filesystem; block maps, extent trees, inline data, 64-bit, flex_bg and meta_bg.
//! - cramfs (`unpack/cramfs.rs`): either byte order, zlib blocks of 4096 bytes.
//! - romfs (`unpack/romfs.rs`): `-rom1fs-`, big-endian, 16-byte aligned headers.
//! - JFFS2 (`unpack/jffs2.rs`), either byte order; UBI (`unpack/ubi.rs`), each volume
//!   searched again; UBIFS (`unpack/ubifs.rs`), through its index.

mod archive;
mod fit;
mod headers;
mod streams;

pub use fit::{FitConfiguration, FitHash, FitImage, FitImageType, FitInfo, FitSignature};

mod squashfs;

use squashfs::squashfs;

use crate::reader::{ByteOrder, Reader};
use crate::tree::{Entry, Kind, Tree};
use crate::{Limits, Progress};

mod cramfs;
mod ext;
mod romfs;

mod jffs2;
mod ubi;
mod ubifs;

/// A stretch of an image and what it turned out to be.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Region {
    /// Offset in the (possibly decompressed) parent, and the nesting path to it.
    pub offset: u64,
    pub size: u64,
    pub format: String,
    /// `unpacked`, `failed: …`, `not recognised`, or `empty` for padding.
    pub outcome: String,
    /// Shannon entropy in bits per byte (0–8); near 8 means compressed or encrypted data.
    pub entropy: f64,
    /// Where the region sits, e.g. `uImage@0 > gzip@64`.
    pub within: String,
}

/// What unpacking produced.
#[derive(Debug, Default)]
pub struct Unpacked<'p> {
    pub filesystems: Vec<(String, Tree)>,
    pub regions: Vec<Region>,
    /// Where to report the position reached in the top-level image.
    progress: Option<&'p Progress>,
    /// When unpacking must stop (`Limits::max_duration` from the start).
    deadline: Option<std::time::Instant>,
    /// Every FIT image found, with its images and signature nodes.
    pub fit: Vec<FitInfo>,
    /// For each of `filesystems`, the FIT (an index in `fit`) whose image held it, if any.
    filesystem_fit: Vec<Option<usize>>,
    /// `Linux version …` banners seen in the image or in any stream decompressed from it
    /// (a kernel is a stream, not a filesystem, so the inventory learns its version here).
    pub kernels: Vec<crate::inventory::KernelBanner>,
    /// Kernel configurations embedded with `CONFIG_IKCONFIG`, found in the same bytes as
    /// the banners, with where those bytes sit.
    pub kernel_configs: Vec<(String, crate::kernel::EmbeddedConfig)>,
}

const SQUASHFS_MAGIC: &[u8; 4] = b"hsqs";
const SQUASHFS_MAGIC_BE: &[u8; 4] = b"sqsh";
const UIMAGE_MAGIC: [u8; 4] = [0x27, 0x05, 0x19, 0x56];
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

/// Where a format reader looks and what it may spend: the bytes being walked (an image, a
/// partition, a decompressed stream), the offset of a signature in them, where they sit,
/// and the state every reader of one image shares.
pub(super) struct Scan<'a, 'p> {
    pub data: &'a [u8],
    pub offset: usize,
    /// Where `data` sits, e.g. `image > uImage@0 "Linux" > gzip@64`.
    pub within: &'a str,
    /// Containers around `data` (0 for the image itself).
    pub depth: usize,
    pub limits: &'a Limits,
    /// Bytes that may still be unpacked from the image.
    pub budget: &'a mut u64,
    pub out: &'a mut Unpacked<'p>,
    /// The FIT (an index in `out.fit`) whose image `data` came from, if any: what is
    /// unpacked from it is as signed as that FIT is.
    pub fit: Option<usize>,
}

impl<'p> Scan<'_, 'p> {
    /// A scan of `data` as found inside this one, one level deeper.
    pub(super) fn nested<'b>(&'b mut self, data: &'b [u8], within: &'b str) -> Scan<'b, 'p> {
        Scan {
            data,
            offset: 0,
            within,
            depth: self.depth + 1,
            limits: self.limits,
            budget: &mut *self.budget,
            out: &mut *self.out,
            fit: self.fit,
        }
    }

    /// Walks `data`, found inside this scan, one level deeper.
    pub(super) fn walk_nested(&mut self, data: &[u8], within: &str) {
        walk(&mut self.nested(data, within));
    }

    /// The most one file or stream may take: `min(budget, max_file_bytes)`.
    pub(super) fn cap(&self) -> u64 {
        (*self.budget).min(self.limits.max_file_bytes)
    }

    /// Whether a container found here has its contents searched, and its `outcome`, which
    /// says so when the depth limit keeps them unsearched.
    pub(super) fn searched(&self, outcome: String) -> (bool, String) {
        if self.depth < self.limits.max_depth {
            (true, outcome)
        } else {
            (
                false,
                format!("{outcome}; {}", depth_limit_note(self.limits)),
            )
        }
    }

    /// The limit that [`Scan::cap`] is, for a region cut there: "the 512 MiB stream
    /// limit", or the unpacking budget when less of it was left than a stream may hold.
    pub(super) fn cut_at(&self) -> String {
        let limits = self.limits;
        if *self.budget < limits.max_file_bytes {
            format!(
                "the unpacking budget of {} per image ({} were left)",
                byte_size(limits.max_unpacked_bytes),
                byte_size(*self.budget)
            )
        } else {
            format!("the {} stream limit", byte_size(limits.max_file_bytes))
        }
    }

    /// Records the region of `size` bytes at the scan's offset (`bytes` give its entropy).
    pub(super) fn push_region(&mut self, size: usize, format: &str, outcome: String, bytes: &[u8]) {
        let r = region(self.offset, size, format, outcome, bytes, self.within);
        self.out.regions.push(r);
    }

    /// Records an unpacked archive or filesystem at the scan's offset: its region, with
    /// `failed: …` when reading stopped early, and its tree when it holds anything (what was
    /// read before a failure is kept; a false signature that yielded nothing adds no
    /// filesystem).
    pub(super) fn record_filesystem(
        &mut self,
        bytes: &[u8],
        format: &str,
        failure: Option<String>,
        tree: Tree,
    ) {
        let outcome = match failure {
            Some(f) => format!("failed: {f}"),
            None => "unpacked".to_owned(),
        };
        self.push_region(bytes.len(), format, outcome, bytes);
        if !tree.entries.is_empty() {
            let label = format!("{} > {format}@{}", self.within, self.offset);
            self.out.filesystems.push((label, tree));
            self.out.filesystem_fit.push(self.fit);
        }
    }
}

/// Runs `reader` on `data` as if found at offset 0 of an image, for the fuzz targets.
fn fuzz_at_start(
    data: &[u8],
    limits: &Limits,
    reader: impl FnOnce(&mut Scan),
) -> Unpacked<'static> {
    let mut out = Unpacked::default();
    let mut budget = limits.max_unpacked_bytes;
    reader(&mut Scan {
        data,
        offset: 0,
        within: "fuzz",
        depth: 0,
        limits,
        budget: &mut budget,
        out: &mut out,
        fit: None,
    });
    out
}

/// The JFFS2 reader alone at offset 0, CRC checks off (see [`crate::fuzz_jffs2_read`]).
pub(crate) fn fuzz_jffs2(data: &[u8], limits: &Limits) {
    fuzz_at_start(data, limits, |scan| {
        jffs2::read(scan, false);
    });
}

/// The UBI reader alone at offset 0, CRC checks off (see [`crate::fuzz_ubi_read`]).
pub(crate) fn fuzz_ubi(data: &[u8], limits: &Limits) {
    fuzz_at_start(data, limits, |scan| {
        ubi::read(scan, false);
    });
}

/// The UBIFS reader alone at offset 0, CRC checks off (see [`crate::fuzz_ubifs_read`]).
pub(crate) fn fuzz_ubifs(data: &[u8], limits: &Limits) {
    fuzz_at_start(data, limits, |scan| {
        ubifs::read(scan, false);
    });
}

/// Unpacks everything recognisable in `data`.
pub fn unpack(data: &[u8], limits: &Limits) -> Unpacked<'static> {
    unpack_into(data, limits, Unpacked::default())
}

/// [`unpack`], reporting the position reached in `data` as it goes.
pub fn unpack_with_progress<'p>(
    data: &[u8],
    limits: &Limits,
    progress: &'p Progress,
) -> Unpacked<'p> {
    let out = Unpacked {
        progress: Some(progress),
        ..Unpacked::default()
    };
    unpack_into(data, limits, out)
}

fn unpack_into<'p>(data: &[u8], limits: &Limits, mut out: Unpacked<'p>) -> Unpacked<'p> {
    out.deadline = std::time::Instant::now().checked_add(limits.max_duration);
    let mut budget = limits.max_unpacked_bytes;
    walk(&mut Scan {
        data,
        offset: 0,
        within: "image",
        depth: 0,
        limits,
        budget: &mut budget,
        out: &mut out,
        fit: None,
    });
    out
}

impl Unpacked<'_> {
    /// The FIT whose image held filesystem `index` (of `filesystems`), if one did.
    pub fn fit_of(&self, index: usize) -> Option<&FitInfo> {
        self.fit
            .get(self.filesystem_fit.get(index).copied().flatten()?)
    }
}

/// Searches `scan.data` from its start for every format, each found one read at its offset.
pub(super) fn walk(scan: &mut Scan) {
    let (data, within, depth, limits) = (scan.data, scan.within, scan.depth, scan.limits);
    crate::inventory::kernel_banners(data, within, &mut scan.out.kernels);
    for config in crate::kernel::embedded_configs(data) {
        scan.out.kernel_configs.push((within.to_owned(), config));
    }
    let mut claimed: Vec<(usize, usize)> = Vec::new();
    let mut check_clock = true;
    let mut offset = 0usize;
    while offset < data.len() {
        if depth == 0
            && let Some(progress) = scan.out.progress
        {
            progress.set_unpacked(offset as u64);
        }
        // The clock is read every 64 KiB of searching and after each container.
        if (check_clock || offset.is_multiple_of(64 << 10)) && scan.out.out_of_time() {
            let rest = &data[offset..];
            scan.out.regions.push(region(
                offset,
                rest.len(),
                "unknown",
                format!(
                    "failed: stopped at the time limit of {} s",
                    limits.max_duration.as_secs()
                ),
                rest,
                within,
            ));
            claimed.push((offset, rest.len()));
            break;
        }
        check_clock = false;
        let rest = &data[offset..];
        scan.offset = offset;
        // Containers are read at every depth; at `max_depth` their contents are reported as
        // not searched, so the limit shows as a limit rather than as unrecognised bytes.
        let format: Option<Format> =
            if rest.starts_with(SQUASHFS_MAGIC) || rest.starts_with(SQUASHFS_MAGIC_BE) {
                Some(squashfs)
            } else if rest.starts_with(&UIMAGE_MAGIC) {
                Some(uimage)
            } else if rest.starts_with(&streams::GZIP_MAGIC) {
                Some(streams::gzip)
            } else if rest.starts_with(&streams::XZ_MAGIC) {
                Some(streams::xz)
            } else if rest.starts_with(&streams::ZSTD_MAGIC) {
                Some(streams::zstd)
            } else if rest.starts_with(&streams::LZ4_MAGIC) {
                Some(streams::lz4)
            } else if rest.starts_with(&streams::LZ4_LEGACY_MAGIC) {
                Some(streams::lz4_legacy)
            } else if rest.starts_with(&streams::LZOP_MAGIC) {
                Some(streams::lzop)
            } else if streams::is_bzip2(rest) {
                Some(streams::bzip2)
            } else if streams::is_lzma_alone(rest) {
                Some(streams::lzma)
            } else if rest.starts_with(CPIO_NEWC_MAGIC) || rest.starts_with(CPIO_CRC_MAGIC) {
                Some(cpio)
            } else if rest.get(257..262) == Some(b"ustar") {
                Some(tar)
            } else if rest.starts_with(archive::AR_MAGIC) {
                Some(archive::ar)
            } else if rest.starts_with(headers::TRX_MAGIC) {
                Some(headers::trx)
            } else if rest.starts_with(&headers::TPLINK_MAGIC) {
                Some(headers::tplink)
            } else if rest.starts_with(&fit::FDT_MAGIC) {
                Some(fit::fdt)
            } else if rest.get(ext::MAGIC_AT..ext::MAGIC_AT + 2) == Some(&ext::MAGIC) {
                Some(ext::ext)
            } else if rest.starts_with(&cramfs::MAGIC_LE) || rest.starts_with(&cramfs::MAGIC_BE) {
                Some(cramfs::cramfs)
            } else if rest.starts_with(romfs::MAGIC) {
                Some(romfs::romfs)
            } else if rest.starts_with(ubi::EC_MAGIC) {
                Some(ubi::ubi)
            } else if ubifs::superblock(rest) {
                Some(ubifs::ubifs)
            } else if jffs2::magic(rest) {
                Some(jffs2::jffs2)
            } else {
                None
            };
        let found = format.and_then(|read| read(scan));
        match found {
            Some(size) if size > 0 => {
                claimed.push((offset, size));
                offset += size;
                check_clock = true;
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
            // A run of one byte value (erased flash is 0xFF, alignment is 0x00) holds
            // nothing; say so rather than leave a reader to wonder what was skipped.
            let padding = gap.iter().all(|&b| b == gap[0]);
            scan.out.regions.push(Region {
                offset: at as u64,
                size: gap.len() as u64,
                format: if padding {
                    format!("padding (0x{:02x})", gap[0])
                } else {
                    "unknown".into()
                },
                outcome: if padding { "empty" } else { "not recognised" }.into(),
                entropy: round(entropy(gap)),
                within: within.to_owned(),
            });
        }
        at = at.max(start + size);
    }
}

/// A format reader: what it finds at `scan.offset` recorded in `scan.out`, returning the
/// bytes it claimed there (`None`: not this format after all).
type Format = fn(&mut Scan) -> Option<usize>;

/// Whether `bytes` open with a format the walk unpacks (the TP-Link header aside: its
/// four-byte magic is too common to be worth a walk on its own).
fn starts_with_signature(bytes: &[u8]) -> bool {
    let magics: [&[u8]; 12] = [
        SQUASHFS_MAGIC,
        &UIMAGE_MAGIC,
        &streams::GZIP_MAGIC,
        &streams::XZ_MAGIC,
        &streams::ZSTD_MAGIC,
        &streams::LZ4_MAGIC,
        &streams::LZ4_LEGACY_MAGIC,
        &streams::LZOP_MAGIC,
        CPIO_NEWC_MAGIC,
        CPIO_CRC_MAGIC,
        archive::AR_MAGIC,
        &fit::FDT_MAGIC,
    ];
    magics.iter().any(|m| bytes.starts_with(m))
        || bytes.starts_with(headers::TRX_MAGIC)
        || bytes.get(257..262) == Some(b"ustar")
        || streams::is_bzip2(bytes)
        || streams::is_lzma_alone(bytes)
}

/// Walks the members of an archive (by name and byte range in `data`) that are themselves
/// archives or compressed, one level deeper: a package's `data.tar.xz`, or the
/// `data.tar.gz` inside an OpenWrt `.ipk`.
fn walk_members(scan: &mut Scan, members: &[(String, std::ops::Range<usize>)], label: &str) {
    let data = scan.data;
    for (name, range) in members {
        if let Some(bytes) = data.get(range.clone()).filter(|b| starts_with_signature(b)) {
            let name = name.trim_start_matches("./");
            if scan.depth < scan.limits.max_depth {
                scan.walk_nested(bytes, &format!("{label}/{name}"));
            } else {
                let note = depth_limit_note(scan.limits);
                scan.out
                    .regions
                    .push(region(range.start, bytes.len(), name, note, bytes, label));
            }
        }
    }
}

/// What is said of contents left unsearched at the depth where the walk stops.
fn depth_limit_note(limits: &Limits) -> String {
    format!(
        "not searched: the nesting depth limit of {} is reached",
        limits.max_depth
    )
}

/// `512 MiB`, `2 GiB`, `4 KiB`, or a plain count of bytes when no binary unit divides it.
fn byte_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{} {unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Problems met while reading: how many, and the first few, each naming its offset.
#[derive(Debug, Default)]
struct Problems {
    count: usize,
    first: Vec<String>,
}

impl Problems {
    const SHOWN: usize = 3;

    fn add(&mut self, what: String) {
        self.count += 1;
        if self.first.len() < Self::SHOWN {
            self.first.push(what);
        }
    }

    fn summary(self) -> Option<String> {
        match self.count {
            0 => None,
            1 => self.first.into_iter().next(),
            n => Some(format!(
                "{n} problems: {}{}",
                self.first.join("; "),
                if n > Self::SHOWN { "; …" } else { "" }
            )),
        }
    }
}

fn round(x: f64) -> f64 {
    // Adding 0.0 turns the -0.0 of a single-valued run into 0.0.
    (x * 1000.0).round() / 1000.0 + 0.0
}

pub(super) fn region(
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

/// Runs one filesystem reader on `data` as if found at offset 0, for the fuzz targets.
pub(crate) fn fuzz_filesystem(format: &str, data: &[u8], limits: &Limits) -> Unpacked<'static> {
    let read: Format = match format {
        "ext" => ext::ext,
        "cramfs" => cramfs::cramfs,
        _ => romfs::romfs,
    };
    fuzz_at_start(data, limits, |scan| {
        read(scan);
    })
}

impl Unpacked<'_> {
    /// Whether `Limits::max_duration` has run out.
    pub(crate) fn out_of_time(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| std::time::Instant::now() >= deadline)
    }
}

/// A U-Boot legacy image: a 64-byte big-endian header, then the payload.
fn uimage(scan: &mut Scan) -> Option<usize> {
    let (offset, within) = (scan.offset, scan.within);
    let mut image = Reader::new(scan.data, 0)
        .from(offset, "uImage header")
        .ok()?;
    let header = image.take(64, "uImage header").ok()?;
    let mut h = Reader::new(header, offset);
    h.skip(12, "uImage header").ok()?;
    let size = h.u32(ByteOrder::Big, "uImage data size").ok()? as usize;
    h.skip(15, "uImage header").ok()?;
    let compression = h.u8("uImage compression").ok()?;
    let name: String = h
        .rest()
        .iter()
        .take_while(|&&b| b != 0)
        .map(|&b| b as char)
        .collect();
    let payload = image.take(size, "uImage data").ok()?;
    let label = format!("{within} > uImage@{offset} \"{}\"", name.trim());
    let (searched, outcome) = scan.searched(format!("unpacked (compression {compression})"));
    scan.push_region(64 + size, "uimage", outcome, payload);
    if searched {
        scan.walk_nested(payload, &label);
    }
    Some(64 + size)
}

/// A cpio archive in the `newc` (or `crc`) format, as initramfs images use: 110-byte ASCII
/// headers, names and data padded to four bytes, ended by `TRAILER!!!`.
fn cpio(scan: &mut Scan) -> Option<usize> {
    let (data, offset, limits) = (scan.data, scan.offset, scan.limits);
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
        if size > scan.cap() {
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
                *scan.budget -= size;
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
    // The last entry's padding may run past a cut-short archive.
    let at = at.min(data.len());
    let size = at - offset;
    if size < 110 {
        return None;
    }
    let failure = failure.or_else(|| (!complete).then(|| "no trailer".to_owned()));
    scan.record_filesystem(&data[offset..at], "cpio", failure, tree);
    Some(size)
}

/// A ustar or GNU tar archive: 512-byte headers with octal fields, data padded to 512 bytes,
/// GNU long names (`L`) and long link targets (`K`), ended by zero blocks.
fn tar(scan: &mut Scan) -> Option<usize> {
    let (data, offset, within, limits) = (scan.data, scan.offset, scan.within, scan.limits);
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
    let mut members = Vec::new();
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
        if size > scan.cap() {
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
                *scan.budget -= size;
                members.push((name.clone(), body_start..body_start + body.len()));
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
    // The last entry's padding may run past a cut-short image.
    let at = at.min(data.len());
    let size = at - offset;
    scan.record_filesystem(&data[offset..at], "tar", failure, tree);
    let label = format!("{within} > tar@{offset}");
    walk_members(scan, &members, &label);
    Some(size.max(1))
}

/// Small limits for the fuzz entry points, so a run explores formats rather than memory.
pub(crate) fn fuzz_limits() -> Limits {
    Limits {
        max_unpacked_bytes: 16 << 20,
        max_file_bytes: 4 << 20,
        max_files: 2_000,
        max_depth: 3,
        max_duration: std::time::Duration::from_secs(10),
    }
}

/// Runs `read` on `data` as it is and with `magic` in front, so the fuzzer starts past
/// the signature check.
fn fuzz_reader(data: &[u8], magic: &[u8], read: Format) {
    let limits = fuzz_limits();
    let prefixed: Vec<u8> = magic.iter().chain(data).copied().collect();
    for input in [data, &prefixed] {
        fuzz_at_start(input, &limits, |scan| {
            if let Some(size) = read(scan) {
                assert!(size <= input.len(), "a reader claimed more than its input");
            }
        });
    }
}

/// Every stream decoder on any bytes: regions, never a panic, within the limits.
#[doc(hidden)]
pub fn fuzz_streams(data: &[u8]) {
    let decoders: [(&[u8], Format); 9] = [
        (&streams::GZIP_MAGIC, streams::gzip),
        (&streams::XZ_MAGIC, streams::xz),
        (&[0x5d, 0, 0, 0x80, 0], streams::lzma),
        (&streams::ZSTD_MAGIC, streams::zstd),
        (&streams::LZ4_MAGIC, streams::lz4),
        (&streams::LZ4_LEGACY_MAGIC, streams::lz4_legacy),
        (&streams::LZOP_MAGIC, streams::lzop),
        (b"BZh91AY&SY", streams::bzip2),
        (&[], streams::lzo),
    ];
    for (magic, decoder) in decoders {
        fuzz_reader(data, magic, decoder);
    }
}

/// The SquashFS reader on any bytes, in both byte orders.
#[doc(hidden)]
pub fn fuzz_squashfs_read(data: &[u8]) {
    for magic in [SQUASHFS_MAGIC, SQUASHFS_MAGIC_BE] {
        fuzz_reader(data, magic, squashfs);
    }
}

/// The U-Boot legacy image reader on any bytes.
#[doc(hidden)]
pub fn fuzz_uimage_read(data: &[u8]) {
    fuzz_reader(data, &UIMAGE_MAGIC, uimage);
}

/// The newc cpio and tar readers on any bytes.
#[doc(hidden)]
pub fn fuzz_cpio_tar_read(data: &[u8]) {
    fuzz_reader(data, CPIO_NEWC_MAGIC, cpio);
    // The walk calls the tar reader only where a header says `ustar`; give it that, so the
    // fuzzer explores the rest of the header and what follows.
    if data.len() >= 262 {
        let mut tar_input = data.to_vec();
        tar_input[257..262].copy_from_slice(b"ustar");
        fuzz_reader(&tar_input, &[], tar);
    }
}

/// The ar reader on any bytes.
#[doc(hidden)]
pub fn fuzz_ar_read(data: &[u8]) {
    fuzz_reader(data, archive::AR_MAGIC, archive::ar);
}

/// The TRX and TP-Link header readers on any bytes.
#[doc(hidden)]
pub fn fuzz_trx_read(data: &[u8]) {
    fuzz_reader(data, headers::TRX_MAGIC, headers::trx);
    fuzz_reader(data, &headers::TPLINK_MAGIC, headers::tplink);
}

/// The device-tree and FIT reader on any bytes.
#[doc(hidden)]
pub fn fuzz_fit_read(data: &[u8]) {
    fuzz_reader(data, &fit::FDT_MAGIC, fit::fdt);
}
