//! Compressed streams found at any offset: gzip, xz, LZMA-alone, zstd, LZ4 (frame and the
//! legacy format Linux kernels use), lzop and bzip2.
//!
//! Every decoder writes into one [`Output`] whose cap is `min(budget, max_file_bytes)`: it
//! stops taking output from the decoder at the cap, and the buffer never grows past it, so
//! a decompression bomb costs the cap and no more. A stream cut there is reported as cut at
//! that limit, and what it yielded is still searched. Each decoder also says how many input
//! bytes its stream took, so the walk resumes right after it, and the output is walked again
//! one level deeper (at the nesting depth limit it is decoded, reported and not searched).
//! A stream that breaks off is reported as failed and what it yielded before the break is
//! still walked: a truncated kernel or rootfs is common in carved images and still worth
//! reading.

use std::io::Read;

use super::{Format as Decoder, Scan, walk};
use crate::reader::{ByteOrder, ReadError, Reader};

pub(super) const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
pub(super) const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
pub(super) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
pub(super) const LZ4_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
pub(super) const LZ4_LEGACY_MAGIC: [u8; 4] = [0x02, 0x21, 0x4c, 0x18];
pub(super) const LZOP_MAGIC: [u8; 9] = [0x89, b'L', b'Z', b'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
/// The bzip2 block header (the digits of pi), which must follow `BZh1`–`BZh9`.
const BZIP2_BLOCK_MAGIC: [u8; 6] = [0x31, 0x41, 0x59, 0x26, 0x53, 0x59];

/// liblzma may allocate the dictionary a header asks for; no firmware needs more than this,
/// and a forged header must not make us allocate gigabytes.
const LZMA_MEMLIMIT: u64 = 256 << 20;

/// `BZh` + block size digit + the first block's magic.
pub(super) fn is_bzip2(rest: &[u8]) -> bool {
    rest.get(..3) == Some(b"BZh")
        && rest.get(3).is_some_and(|d| (b'1'..=b'9').contains(d))
        && rest.get(4..10) == Some(&BZIP2_BLOCK_MAGIC[..])
}

/// An LZMA-alone (`.lzma`) header is only 13 bytes of numbers, so it is accepted only when
/// every field is what an encoder writes: properties with lc + lp ≤ 4 (liblzma's bound), a
/// dictionary of 2^n or 3·2^(n-1) bytes between 4 KiB and 1 GiB, and a size that is either
/// unknown (all ones) or at most 4 GiB. Decoding must then also succeed (see [`lzma`]).
pub(super) fn is_lzma_alone(rest: &[u8]) -> bool {
    let Some(h) = rest.get(..13) else {
        return false;
    };
    // Cheapest test first, as the walk asks at every byte: a dictionary of at least 4 KiB
    // in one of the accepted shapes has a zero low byte and a non-zero rest.
    if h[1] != 0 || h[2] | h[3] | h[4] == 0 {
        return false;
    }
    let props = h[0];
    let (lc, lp) = (props % 9, (props / 9) % 5);
    if props >= 9 * 5 * 5 || lc + lp > 4 {
        return false;
    }
    let fields = Reader::new(h, 0);
    let (Ok(dict), Ok(size)) = (
        fields.u32_at(1, ByteOrder::Little, "LZMA dictionary size"),
        fields.u64_at(5, ByteOrder::Little, "LZMA uncompressed size"),
    ) else {
        return false;
    };
    let dict_ok = (4096..=1 << 30).contains(&dict)
        && (dict.is_power_of_two() || (dict % 3 == 0 && (dict / 3).is_power_of_two()));
    dict_ok && (size == u64::MAX || (1..=1 << 32).contains(&size))
}

/// How a decoder ended.
#[derive(Debug)]
pub(super) enum End {
    Complete,
    /// The output reached the cap and the stream goes on: a bomb, or just more than the
    /// limits allow. What came before the cap is kept.
    OverLimit,
    /// The stream is corrupt; what it yielded before is kept.
    Failed(String),
    /// The data ends before the stream does; what it yielded is kept.
    Truncated,
}

/// What a decoder made of the bytes at an offset.
#[derive(Debug)]
pub(super) struct Decoded {
    pub bytes: Vec<u8>,
    /// Input bytes the stream occupies (or was read up to, when it failed).
    pub consumed: usize,
    pub end: End,
}

/// How much evidence a format needs before a decode counts as that format rather than a
/// chance match of its magic.
struct Format {
    name: &'static str,
    /// Bytes of magic and header that a region claims at least.
    header: usize,
    /// Least output for a failed decode to be reported (0: the signature alone is strong).
    min_failed: usize,
    /// Least output for a complete decode to count.
    min_complete: usize,
}

const GZIP: Format = Format {
    name: "gzip",
    header: 10,
    min_failed: 1,
    min_complete: 0,
};
const XZ: Format = Format {
    name: "xz",
    header: 12,
    min_failed: 0,
    min_complete: 0,
};
const LZMA: Format = Format {
    name: "lzma",
    header: 13,
    min_failed: 64 << 10,
    min_complete: 512,
};
const ZSTD: Format = Format {
    name: "zstd",
    header: 6,
    min_failed: 1,
    min_complete: 0,
};
const LZ4: Format = Format {
    name: "lz4",
    header: 7,
    min_failed: 0,
    min_complete: 0,
};
const LZ4_LEGACY: Format = Format {
    name: "lz4-legacy",
    header: 8,
    min_failed: 1,
    min_complete: 1,
};
const LZOP: Format = Format {
    name: "lzop",
    header: 9,
    min_failed: 0,
    min_complete: 0,
};
const BZIP2: Format = Format {
    name: "bzip2",
    header: 10,
    min_failed: 0,
    min_complete: 0,
};
const LZO: Format = Format {
    name: "lzo",
    header: 1,
    min_failed: 1,
    min_complete: 1,
};

/// Reads `reader` until it ends or fills the cap. At the cap, one byte more is asked for
/// only to tell a stream that ends there from one that goes on; it is not kept.
fn read_capped(mut reader: impl Read, cap: u64) -> (Vec<u8>, End) {
    let mut out = Output::new(cap);
    let mut chunk = vec![0u8; 64 << 10];
    let end = loop {
        let room = out.room();
        match reader.read(&mut chunk[..room.clamp(1, 64 << 10)]) {
            Ok(0) => break End::Complete,
            Ok(_) if room == 0 => break End::OverLimit,
            Ok(n) => out.append(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // What was read before the error is kept.
            Err(e) => break End::Failed(e.to_string()),
        }
    };
    (out.bytes, end)
}

/// Decodes with a `BufRead`-driven decoder over the rest of the data; what the decoder left
/// of the slice tells how much the stream took.
fn buffered<'a, D: Read>(
    rest: &'a [u8],
    cap: u64,
    make: impl FnOnce(&'a [u8]) -> Option<D>,
    remaining: impl FnOnce(D) -> &'a [u8],
) -> Option<Decoded> {
    let mut decoder = make(rest)?;
    let (bytes, end) = read_capped(&mut decoder, cap);
    let consumed = rest.len() - remaining(decoder).len();
    Some(Decoded {
        bytes,
        consumed,
        end,
    })
}

/// Records a decoded stream's region and walks its output one level deeper. Returns the
/// bytes the stream claims, or `None` for a chance match of a magic.
fn settle(scan: &mut Scan, format: &Format, decoded: Decoded) -> Option<usize> {
    let (data, offset, within) = (scan.data, scan.offset, scan.within);
    let available = data.len().checked_sub(offset)?;
    let Decoded {
        bytes,
        consumed,
        end,
    } = decoded;
    let mut size = consumed.max(format.header).min(available);
    let truncated = matches!(end, End::Truncated) || consumed >= available;
    let name = format.name;
    let outcome = match end {
        End::Complete if bytes.len() < format.min_complete => return None,
        End::Complete => format!("unpacked ({} bytes)", bytes.len()),
        End::OverLimit => format!(
            "cut at {}: kept the first {} bytes",
            scan.cut_at(),
            bytes.len()
        ),
        End::Failed(_) | End::Truncated if bytes.len() < format.min_failed => return None,
        End::Failed(why) if !truncated => format!(
            "failed: corrupt near byte {}: {why} ({} bytes recovered)",
            offset + consumed,
            bytes.len()
        ),
        // A decoder that failed after using up the data ran off its end.
        End::Failed(_) | End::Truncated => {
            size = available;
            format!(
                "failed: truncated: the stream runs past the end of the data ({} bytes recovered)",
                bytes.len()
            )
        }
    };
    *scan.budget = scan.budget.saturating_sub(bytes.len() as u64);
    let raw = data.get(offset..offset + size)?;
    let (searched, outcome) = scan.searched(outcome);
    scan.push_region(size, name, outcome, raw);
    if !bytes.is_empty() && searched {
        let label = format!("{within} > {name}@{offset}");
        scan.walk_nested(&bytes, &label);
    }
    Some(size)
}

macro_rules! stream_fn {
    ($(#[$doc:meta])* $name:ident, $format:expr, $decode:expr) => {
        $(#[$doc])*
        pub(super) fn $name(scan: &mut Scan) -> Option<usize> {
            let rest = scan.data.get(scan.offset..)?;
            let decoded = $decode(rest, scan.cap())?;
            settle(scan, &$format, decoded)
        }
    };
}

stream_fn!(
    /// A gzip member.
    gzip,
    GZIP,
    decode_gzip
);
stream_fn!(
    /// An xz stream (one; padding after it is left to the gap report).
    xz,
    XZ,
    decode_xz
);
stream_fn!(
    /// An LZMA-alone stream, as U-Boot and OpenWrt kernels use; see [`is_lzma_alone`].
    lzma,
    LZMA,
    decode_lzma
);
stream_fn!(
    /// One zstd frame.
    zstd,
    ZSTD,
    decode_zstd
);
stream_fn!(
    /// One LZ4 frame.
    lz4,
    LZ4,
    decode_lz4
);
stream_fn!(
    /// A legacy LZ4 stream (`lz4 -l`, Linux kernels).
    lz4_legacy,
    LZ4_LEGACY,
    decode_lz4_legacy
);
stream_fn!(
    /// An lzop file: a header, then LZO1X blocks.
    lzop,
    LZOP,
    decode_lzop
);
stream_fn!(
    /// One bzip2 stream.
    bzip2,
    BZIP2,
    decode_bzip2
);
stream_fn!(
    /// A bare LZO1X stream (no lzop header), as FIT images with `compression = "lzo"` hold.
    lzo,
    LZO,
    decode_lzo
);

fn decode_gzip(rest: &[u8], cap: u64) -> Option<Decoded> {
    buffered(
        rest,
        cap,
        |r| Some(flate2::bufread::GzDecoder::new(r)),
        |d| d.into_inner(),
    )
}

fn decode_xz(rest: &[u8], cap: u64) -> Option<Decoded> {
    buffered(
        rest,
        cap,
        |r| {
            let stream = liblzma::stream::Stream::new_stream_decoder(LZMA_MEMLIMIT, 0).ok()?;
            Some(liblzma::bufread::XzDecoder::new_stream(r, stream))
        },
        |d| d.into_inner(),
    )
}

fn decode_lzma(rest: &[u8], cap: u64) -> Option<Decoded> {
    if !is_lzma_alone(rest) {
        return None;
    }
    buffered(
        rest,
        cap,
        |r| {
            let stream = liblzma::stream::Stream::new_lzma_decoder(LZMA_MEMLIMIT).ok()?;
            Some(liblzma::bufread::XzDecoder::new_stream(r, stream))
        },
        |d| d.into_inner(),
    )
}

fn decode_zstd(rest: &[u8], cap: u64) -> Option<Decoded> {
    buffered(
        rest,
        cap,
        // One frame only: what follows the frame is searched by the walk, not taken as a
        // continuation.
        |r| {
            Some(
                zstd::stream::read::Decoder::with_buffer(r)
                    .ok()?
                    .single_frame(),
            )
        },
        |d| d.finish(),
    )
}

fn decode_bzip2(rest: &[u8], cap: u64) -> Option<Decoded> {
    if !is_bzip2(rest) {
        return None;
    }
    buffered(
        rest,
        cap,
        |r| Some(bzip2::bufread::BzDecoder::new(r)),
        |d| d.into_inner(),
    )
}

/// A decoder's output, never more than its cap.
struct Output {
    bytes: Vec<u8>,
    cap: usize,
}

/// Output up to this size grows by doubling; past it, the buffer is reserved up to the cap
/// in one step.
const SMALL_OUTPUT: usize = 1 << 20;

impl Output {
    fn new(cap: u64) -> Self {
        Self {
            bytes: Vec::new(),
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
        }
    }

    /// Bytes that still fit.
    fn room(&self) -> usize {
        self.cap.saturating_sub(self.bytes.len())
    }

    /// Whether `more` bytes still fit.
    fn fits(&self, more: usize) -> bool {
        more <= self.room()
    }

    /// Makes room for `more` bytes (which must fit) without growing past the cap.
    ///
    /// A large output gets its whole cap reserved at once rather than doubled towards it:
    /// pages not yet written cost no memory, and a buffer that never moves leaves no freed
    /// copies for the allocator to hold on to. Doubling a bomb's buffer up to a 512 MiB cap
    /// peaked at 800 MB under mimalloc, and `read_to_end`, doubling past the cap, at 1.35 GB.
    fn reserve(&mut self, more: usize) {
        let (len, capacity) = (self.bytes.len(), self.bytes.capacity());
        let needed = len.saturating_add(more);
        if needed <= capacity {
            return;
        }
        let target = if needed <= SMALL_OUTPUT {
            capacity.saturating_mul(2).clamp(64 << 10, SMALL_OUTPUT)
        } else {
            self.cap
        };
        let target = target.min(self.cap).max(needed);
        // A system that refuses to promise the whole cap still gets what is needed now.
        if self.bytes.try_reserve_exact(target - len).is_err() {
            self.bytes.reserve(more);
        }
    }

    /// Appends `chunk`, which must fit.
    fn append(&mut self, chunk: &[u8]) {
        self.reserve(chunk.len());
        self.bytes.extend_from_slice(chunk);
    }
}

/// A decoder written here: it walks the input itself, so `at` is exactly what it took.
fn own(out: Output, at: usize, result: Result<(), End>) -> Decoded {
    Decoded {
        bytes: out.bytes,
        consumed: at,
        end: result.err().unwrap_or(End::Complete),
    }
}

fn failed(why: impl Into<String>) -> End {
    End::Failed(why.into())
}

/// A stream whose data ends before it does: what it yielded is kept, and the region runs
/// to the end of the data, so where exactly it broke off adds nothing.
fn truncated(_: ReadError) -> End {
    End::Truncated
}

/// The LZ4 frame format: magic, a descriptor with its own checksum, blocks of at most the
/// declared size, an end mark and optional checksums. The descriptor checksum (one byte of
/// an xxHash32) must match, which makes the four-byte magic trustworthy.
fn decode_lz4(rest: &[u8], cap: u64) -> Option<Decoded> {
    let mut r = Reader::new(rest, 0);
    r.skip(4, "LZ4 magic").ok()?;
    let flg = r.u8("LZ4 frame flags").ok()?;
    let bd = r.u8("LZ4 block descriptor").ok()?;
    if flg >> 6 != 0b01 || flg & 0b10 != 0 || bd & 0x8f != 0 || !(4..=7).contains(&(bd >> 4)) {
        return None;
    }
    let independent = flg & 0x20 != 0;
    let block_checksums = flg & 0x10 != 0;
    let content_size = flg & 0x08 != 0;
    let content_checksum = flg & 0x04 != 0;
    let dict_id = flg & 0x01 != 0;
    let descriptor_end = 6 + if content_size { 8 } else { 0 } + if dict_id { 4 } else { 0 };
    let declared = if content_size {
        Some(r.u64(ByteOrder::Little, "LZ4 content size").ok()?)
    } else {
        None
    };
    let descriptor = r.window().get(4..descriptor_end)?;
    r.seek(descriptor_end, "LZ4 descriptor").ok()?;
    let hc = r.u8("LZ4 descriptor checksum").ok()?;
    if (twox_hash::XxHash32::oneshot(0, descriptor) >> 8) as u8 != hc {
        return None;
    }
    let max_block = 1usize << (8 + 2 * (bd >> 4));
    let mut out = Output::new(cap);
    let result = (|| {
        if dict_id {
            return Err(failed(
                "frames that need a preset dictionary are not supported",
            ));
        }
        let mut block = Vec::new();
        loop {
            let word = r
                .u32(ByteOrder::Little, "LZ4 block size")
                .map_err(truncated)?;
            if word == 0 {
                break;
            }
            let len = (word & 0x7fff_ffff) as usize;
            if len > max_block {
                return Err(failed(format!("block of {len} bytes exceeds {max_block}")));
            }
            let src = r.take(len, "LZ4 block").map_err(truncated)?;
            // The buffer grows to what this block can produce, so a forged header costs little.
            block.resize(block_room(len, max_block).max(block.len()), 0);
            let produced = if word & 0x8000_0000 != 0 {
                block
                    .get_mut(..len)
                    .ok_or_else(|| failed("bad block"))?
                    .copy_from_slice(src);
                len
            } else {
                // Linked blocks may refer back to the previous 64 KiB of output.
                let dict = if independent {
                    &[][..]
                } else {
                    let n = out.bytes.len();
                    out.bytes
                        .get(n.saturating_sub(64 << 10)..)
                        .unwrap_or_default()
                };
                lz4_flex::block::decompress_into_with_dict(src, &mut block, dict)
                    .map_err(|e| failed(format!("block: {e}")))?
            };
            if !out.fits(produced) {
                return Err(End::OverLimit);
            }
            out.append(block.get(..produced).unwrap_or_default());
            if block_checksums {
                r.skip(4, "LZ4 block checksum").map_err(truncated)?;
            }
        }
        if content_checksum {
            let want = r
                .u32(ByteOrder::Little, "LZ4 content checksum")
                .map_err(truncated)?;
            if twox_hash::XxHash32::oneshot(0, &out.bytes) != want {
                return Err(failed("content checksum mismatch"));
            }
        }
        if declared.is_some_and(|n| n != out.bytes.len() as u64) {
            return Err(failed("content size differs from the descriptor"));
        }
        Ok(())
    })();
    Some(own(out, r.position(), result))
}

/// The most an LZ4 block of `len` compressed bytes can produce (a length extension byte
/// adds at most 255), capped at the format's block size.
fn block_room(len: usize, max: usize) -> usize {
    len.saturating_mul(255).saturating_add(64).min(max)
}

/// The legacy LZ4 format: the magic, then blocks prefixed by their compressed size, each
/// decompressing to 8 MiB except the last. It has no end mark, so the stream ends after a
/// block shorter than 8 MiB, at a size that cannot be a block (the four-byte original size
/// Linux appends, or another stream's magic), or at the end of the data.
fn decode_lz4_legacy(rest: &[u8], cap: u64) -> Option<Decoded> {
    const BLOCK: usize = 8 << 20;
    // LZ4_compressBound(8 MiB)
    const MAX_COMPRESSED: usize = BLOCK + BLOCK / 255 + 16;
    let mut out = Output::new(cap);
    let mut r = Reader::new(rest, 0);
    r.skip(4, "LZ4 legacy magic").ok()?;
    let mut block = Vec::new();
    let result = (|| {
        // The end of the data ends the stream; a size that is not a block's is left
        // unread, for the walk.
        let mut next = r;
        while let Ok(word) = next.u32(ByteOrder::Little, "LZ4 legacy block size") {
            let len = word as usize;
            if len == 0 || len > MAX_COMPRESSED || word.to_le_bytes() == LZ4_LEGACY_MAGIC {
                break;
            }
            let Ok(src) = next.take(len, "LZ4 legacy block") else {
                if out.bytes.is_empty() {
                    return Err(End::Truncated);
                }
                break; // not a block: whatever follows the stream
            };
            block.resize(block_room(len, BLOCK).max(block.len()), 0);
            let produced = match lz4_flex::block::decompress_into(src, &mut block) {
                Ok(n) => n,
                Err(e) if out.bytes.is_empty() => return Err(failed(format!("block: {e}"))),
                Err(_) => break,
            };
            r = next;
            if !out.fits(produced) {
                return Err(End::OverLimit);
            }
            out.append(block.get(..produced).unwrap_or_default());
            if produced < BLOCK {
                break;
            }
        }
        Ok(())
    })();
    Some(own(out, r.position(), result))
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 is the longest run whose sums cannot overflow u32 before the modulo.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// lzop's file format: the magic, a header (version-dependent fields, then an Adler-32 or
/// CRC-32 of it), then blocks of `uncompressed size, compressed size, checksums, data`
/// ended by a zero size. Blocks are LZO1X, stored as-is when they did not shrink.
fn decode_lzop(rest: &[u8], cap: u64) -> Option<Decoded> {
    const F_ADLER32_D: u32 = 0x1;
    const F_ADLER32_C: u32 = 0x2;
    const F_H_EXTRA_FIELD: u32 = 0x40;
    const F_CRC32_D: u32 = 0x100;
    const F_CRC32_C: u32 = 0x200;
    const F_H_FILTER: u32 = 0x800;
    const F_H_CRC32: u32 = 0x1000;
    // lzop never writes blocks larger than this; a bigger size is not lzop.
    const MAX_BLOCK: usize = 64 << 20;
    let mut r = Reader::new(rest, 0);
    if r.take(9, "lzop magic").ok()? != LZOP_MAGIC {
        return None;
    }
    let version = r.u16(ByteOrder::Big, "lzop version").ok()?;
    let newer = version >= 0x0940;
    r.skip(2, "lzop library version").ok()?;
    if newer {
        r.skip(2, "lzop version needed to extract").ok()?;
    }
    let method = r.u8("lzop method").ok()?;
    if newer {
        r.skip(1, "lzop level").ok()?;
    }
    let flags = r.u32(ByteOrder::Big, "lzop flags").ok()?;
    if flags & F_H_FILTER != 0 {
        r.skip(4, "lzop filter").ok()?;
    }
    r.skip(if newer { 12 } else { 8 }, "lzop mode and mtime")
        .ok()?;
    let name_len = r.u8("lzop name length").ok()?;
    r.skip(usize::from(name_len), "lzop name").ok()?;
    let header = r.window().get(9..r.position())?;
    let check = r.u32(ByteOrder::Big, "lzop header checksum").ok()?;
    let computed = if flags & F_H_CRC32 != 0 {
        crc32fast::hash(header)
    } else {
        adler32(header)
    };
    // The header checksum is what makes this a real lzop file; a mismatch is not one.
    if computed != check || !(1..=3).contains(&method) {
        return None;
    }
    if flags & F_H_EXTRA_FIELD != 0 {
        let extra = r.u32(ByteOrder::Big, "lzop extra field length").ok()? as usize;
        // A cut-short extra field leaves no blocks: the stream is truncated at the end.
        if r.skip(extra.saturating_add(4), "lzop extra field").is_err() {
            r.rest();
        }
    }
    let mut out = Output::new(cap);
    let result = (|| {
        loop {
            let dst_len = r
                .u32(ByteOrder::Big, "lzop block size")
                .map_err(truncated)? as usize;
            if dst_len == 0 {
                return Ok(());
            }
            if dst_len > MAX_BLOCK {
                return Err(failed(format!(
                    "block of {dst_len} bytes is larger than lzop writes"
                )));
            }
            let src_len = r
                .u32(ByteOrder::Big, "lzop compressed block size")
                .map_err(truncated)? as usize;
            if src_len > dst_len {
                return Err(failed("a block is larger compressed than uncompressed"));
            }
            let mut sums = Vec::new();
            for (flag, on_compressed) in [
                (F_ADLER32_D, false),
                (F_CRC32_D, false),
                (F_ADLER32_C, true),
                (F_CRC32_C, true),
            ] {
                if flags & flag != 0 && (!on_compressed || src_len < dst_len) {
                    let sum = r
                        .u32(ByteOrder::Big, "lzop block checksum")
                        .map_err(truncated)?;
                    sums.push((flag, sum));
                }
            }
            let src = r.take(src_len, "lzop block").map_err(truncated)?;
            if !out.fits(dst_len) {
                return Err(End::OverLimit);
            }
            out.reserve(dst_len);
            let start = out.bytes.len();
            if src_len == dst_len {
                out.bytes.extend_from_slice(src);
            } else {
                let used = lzo1x(src, &mut out.bytes, dst_len).map_err(failed)?;
                if used != src_len || out.bytes.len() - start != dst_len {
                    return Err(failed("block size differs from its header"));
                }
            }
            let block = out.bytes.get(start..).unwrap_or_default();
            for (flag, sum) in sums {
                let ok = match flag {
                    F_ADLER32_D => adler32(block) == sum,
                    F_CRC32_D => crc32fast::hash(block) == sum,
                    F_ADLER32_C => adler32(src) == sum,
                    _ => crc32fast::hash(src) == sum,
                };
                if !ok {
                    return Err(failed("block checksum mismatch"));
                }
            }
        }
    })();
    Some(own(out, r.position(), result))
}

fn decode_lzo(rest: &[u8], cap: u64) -> Option<Decoded> {
    let mut bytes = Vec::new();
    let max = usize::try_from(cap).unwrap_or(usize::MAX);
    match lzo1x(rest, &mut bytes, max) {
        Ok(used) => Some(Decoded {
            bytes,
            consumed: used,
            end: End::Complete,
        }),
        Err(e) if e == OVERRUN => Some(Decoded {
            bytes,
            consumed: rest.len(),
            end: End::OverLimit,
        }),
        Err(e) => Some(Decoded {
            bytes,
            consumed: rest.len(),
            end: if e == TRUNCATED {
                End::Truncated
            } else {
                failed(e)
            },
        }),
    }
}

const OVERRUN: &str = "output exceeds the expected size";
const TRUNCATED: &str = "the LZO stream runs past the end";

/// One LZO1X-compressed block that inflates to at most `size` bytes, as JFFS2 and UBIFS
/// store them.
pub(super) fn lzo1x_block(src: &[u8], size: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(size);
    lzo1x(src, &mut out, size).map_err(|e| format!("LZO: {e}"))?;
    Ok(out)
}

/// Decompresses one LZO1X stream from `src`, appending at most `max_out` bytes to `out`;
/// returns the input bytes used, up to and including the end marker. Written from the
/// format's description (LZO1X instructions M1–M4 and literal runs); every length and
/// distance is checked, so hostile input ends in an error, never a panic.
pub(super) fn lzo1x(src: &[u8], out: &mut Vec<u8>, max_out: usize) -> Result<usize, &'static str> {
    let base = out.len();
    let mut at = 0usize;
    let byte = |at: &mut usize| -> Result<usize, &'static str> {
        let b = *src.get(*at).ok_or(TRUNCATED)?;
        *at += 1;
        Ok(usize::from(b))
    };
    // A zero in a length field means "more": each following zero byte adds 255, then a
    // non-zero byte ends the count.
    let extend = |at: &mut usize, add: usize| -> Result<usize, &'static str> {
        let mut n = add;
        loop {
            let b = *src.get(*at).ok_or(TRUNCATED)?;
            *at += 1;
            if b != 0 {
                return n.checked_add(usize::from(b)).ok_or("length overflow");
            }
            n = n.checked_add(255).ok_or("length overflow")?;
        }
    };
    let literals = |at: &mut usize, out: &mut Vec<u8>, n: usize| -> Result<(), &'static str> {
        let run = src
            .get(*at..at.checked_add(n).ok_or(TRUNCATED)?)
            .ok_or(TRUNCATED)?;
        if (out.len() - base).saturating_add(n) > max_out {
            return Err(OVERRUN);
        }
        out.extend_from_slice(run);
        *at += n;
        Ok(())
    };
    let copy = |out: &mut Vec<u8>, distance: usize, len: usize| -> Result<(), &'static str> {
        let produced = out.len() - base;
        if distance == 0 || distance > produced {
            return Err("a match refers before the start of the output");
        }
        if produced.saturating_add(len) > max_out {
            return Err(OVERRUN);
        }
        let from = out.len() - distance;
        // Overlapping copies repeat the bytes just written, so go byte by byte.
        for i in 0..len {
            let b = *out.get(from + i).ok_or("bad match")?;
            out.push(b);
        }
        Ok(())
    };
    // state: literals copied by the previous instruction (0–3), or 4 after a long run.
    let mut state;
    let first = *src.first().ok_or(TRUNCATED)?;
    if first > 17 {
        at = 1;
        let n = usize::from(first) - 17;
        literals(&mut at, out, n)?;
        state = if n < 4 { n } else { 4 };
    } else {
        state = 0;
    }
    loop {
        let inst = byte(&mut at)?;
        let (distance, len, next);
        if inst >= 64 {
            // M2: length 3–8, distance up to 2 KiB.
            let h = byte(&mut at)?;
            distance = (h << 3) + ((inst >> 2) & 7) + 1;
            len = (inst >> 5) + 1;
            next = inst & 3;
        } else if inst >= 32 {
            // M3: distance up to 16 KiB.
            len = match inst & 31 {
                0 => extend(&mut at, 31)?,
                n => n,
            } + 2;
            let d = byte(&mut at)? | (byte(&mut at)? << 8);
            distance = (d >> 2) + 1;
            next = d & 3;
        } else if inst >= 16 {
            // M4: distance 16–48 KiB; distance exactly 16 KiB marks the end.
            len = match inst & 7 {
                0 => extend(&mut at, 7)?,
                n => n,
            } + 2;
            let d = byte(&mut at)? | (byte(&mut at)? << 8);
            let far = ((inst & 8) << 11) + (d >> 2);
            if far == 0 {
                return Ok(at);
            }
            distance = far + 0x4000;
            next = d & 3;
        } else if state == 0 {
            // A literal run of 4 or more.
            let n = match inst {
                0 => extend(&mut at, 15)?,
                n => n,
            } + 3;
            literals(&mut at, out, n)?;
            state = 4;
            continue;
        } else if state < 4 {
            // M1 after 1–3 literals: two bytes within 1 KiB.
            let h = byte(&mut at)?;
            distance = (h << 2) + (inst >> 2) + 1;
            len = 2;
            next = inst & 3;
        } else {
            // M1 after a long literal run: three bytes 2–3 KiB back.
            let h = byte(&mut at)?;
            distance = (h << 2) + (inst >> 2) + 2049;
            len = 3;
            next = inst & 3;
        }
        copy(out, distance, len)?;
        literals(&mut at, out, next)?;
        state = next;
    }
}

/// Image data whose compression its container declares (a FIT image's `compression`):
/// decoded as declared, or walked as it is when it is uncompressed or does not decode.
pub(super) fn declared(compression: &str, scan: &mut Scan) {
    let decoder: Option<Decoder> = match compression {
        "gzip" => Some(gzip),
        "lzma" => Some(lzma),
        "lzo" => Some(lzo),
        "lz4" => Some(lz4),
        "zstd" => Some(zstd),
        "bzip2" => Some(bzip2),
        _ => None,
    };
    if decoder.and_then(|d| d(scan)).is_none() {
        walk(scan);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lzo(src: &[u8], max: usize) -> Result<(Vec<u8>, usize), &'static str> {
        let mut out = Vec::new();
        lzo1x(src, &mut out, max).map(|used| (out, used))
    }

    /// Hand-assembled LZO1X: literal runs, an overlapping M2 match, the end marker, and
    /// the ways hostile input must fail (never panic).
    #[test]
    fn lzo1x_instructions_and_hostile_input() {
        const END: [u8; 3] = [0x11, 0, 0];
        assert_eq!(lzo(&END, 10), Ok((vec![], 3)));
        // First byte 21: four literals.
        let four = [&[21, b'a', b'b', b'c', b'd'][..], &END].concat();
        assert_eq!(lzo(&four, 10), Ok((b"abcd".to_vec(), 8)));
        // First byte 18: one literal; then M2 (0x40: length 3, distance 1) repeats it.
        let run = [&[18, b'a', 0x40, 0][..], &END].concat();
        assert_eq!(lzo(&run, 10), Ok((b"aaaa".to_vec(), 7)));
        // Trailing bytes after the end marker are not consumed.
        let trailing = [&run[..], b"junk"].concat();
        assert_eq!(lzo(&trailing, 10).map(|(_, used)| used), Ok(7));
        // The same match reaching 9 bytes back, before the output starts.
        let far = [&[18, b'a', 0x40, 1][..], &END].concat();
        assert!(lzo(&far, 10).is_err());
        // More output than allowed.
        assert_eq!(lzo(&run, 3), Err(OVERRUN));
        // Cut anywhere: an error, never a panic.
        for cut in 0..run.len() {
            assert!(lzo(&run[..cut], 10).is_err(), "cut at {cut}");
        }
        // An endless zero-length extension only runs to the end of the input.
        let zeros = [0u8; 1000];
        assert_eq!(lzo(&zeros, 10), Err(TRUNCATED));
    }

    /// An endless stream of zeros stops at the cap, is reported as over it, and the buffer
    /// never grew past the cap (a cap that is no power of two included).
    #[test]
    fn a_bomb_never_grows_the_output_past_the_cap() {
        let cap = (3 << 20) + 5;
        let (bytes, end) = read_capped(std::io::repeat(0), cap);
        assert!(matches!(end, End::OverLimit), "{end:?}");
        assert_eq!(bytes.len() as u64, cap);
        assert_eq!(bytes.capacity() as u64, cap);
        // A stream that ends exactly at the cap is complete, not cut.
        let (bytes, end) = read_capped(&[7u8; 4096][..], 4096);
        assert!(matches!(end, End::Complete), "{end:?}");
        assert_eq!(bytes.len(), 4096);
    }

    #[test]
    fn lzma_alone_headers_must_be_plausible() {
        let mut h = [
            0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert!(is_lzma_alone(&h));
        h[3] = 0x81; // a dictionary of 0x810000 bytes: no encoder writes that
        assert!(!is_lzma_alone(&h));
        h[3] = 0x80;
        h[0] = 0xe1; // properties out of range
        assert!(!is_lzma_alone(&h));
        h[0] = 0x5d;
        h[12] = 0x01; // a size of 2^56 bytes
        assert!(!is_lzma_alone(&h));
    }
}
