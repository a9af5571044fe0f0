//! A bounded reader of ZIP archives held in memory, enough for OSV's exports (`all.zip`,
//! `<ecosystem>/all.zip`): the central directory (with ZIP64 where the counts, sizes or
//! offsets need it) and entries stored or deflated. The archive is untrusted: entry count,
//! sizes and compression ratio are capped before anything is inflated, every offset is
//! checked, and each entry's CRC-32 is verified. Layout per PKWARE's APPNOTE.TXT 6.3
//! (sections 4.3.7, 4.3.12, 4.3.14–4.3.16 and 4.5.3).

use std::io::Read as _;

use crate::error::ReadError;

/// Caps on what an archive may make us do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_entries: u64,
    /// The largest uncompressed entry.
    pub max_entry_size: u64,
    /// The largest ratio of uncompressed to compressed size; JSON deflates about 10:1, a
    /// zip bomb by thousands.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 2_000_000,
            max_entry_size: 64 << 20,
            max_ratio: 200,
        }
    }
}

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive (UTF-8, or with invalid bytes replaced).
    pub name: String,
    pub method: Method,
    pub compressed_size: u64,
    pub size: u64,
    pub crc32: u32,
    /// Where the entry's local header starts.
    pub local_header_offset: u64,
    /// Where its central directory header starts, for errors.
    pub central_offset: u64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// An archive whose central directory has been read.
#[derive(Debug)]
pub struct Archive<'a> {
    name: &'a str,
    bytes: &'a [u8],
    limits: Limits,
    entries: Vec<Entry>,
}

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const MAX_COMMENT: usize = 0xffff;

/// Little-endian fields at checked offsets.
struct Bytes<'a> {
    name: &'a str,
    bytes: &'a [u8],
}

impl Bytes<'_> {
    fn slice(&self, offset: u64, len: u64, what: &str) -> Result<&[u8], ReadError> {
        let start = usize::try_from(offset).ok();
        let end = offset
            .checked_add(len)
            .and_then(|e| usize::try_from(e).ok());
        start
            .zip(end)
            .and_then(|(s, e)| self.bytes.get(s..e))
            .ok_or_else(|| {
                ReadError::new(
                    self.name,
                    format!("offset {offset}"),
                    format!(
                        "{what} ({len} bytes) runs past the end of the archive ({} bytes)",
                        self.bytes.len()
                    ),
                )
                .with_hint("the archive is truncated or damaged")
            })
    }

    fn u16(&self, offset: u64) -> Result<u16, ReadError> {
        let b = self.slice(offset, 2, "a field")?;
        Ok(u16::from_le_bytes([
            b.first().copied().unwrap_or(0),
            b.get(1).copied().unwrap_or(0),
        ]))
    }

    fn u32(&self, offset: u64) -> Result<u32, ReadError> {
        let b = self.slice(offset, 4, "a field")?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    fn u64(&self, offset: u64) -> Result<u64, ReadError> {
        let b = self.slice(offset, 8, "a field")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
}

fn at(name: &str, offset: u64, message: impl Into<String>) -> ReadError {
    ReadError::new(name, format!("offset {offset}"), message)
}

/// Reads the central directory of `bytes`.
pub fn open<'a>(name: &'a str, bytes: &'a [u8], limits: Limits) -> Result<Archive<'a>, ReadError> {
    let b = Bytes { name, bytes };
    // The end-of-central-directory record is the last 22 bytes plus a comment of up to
    // 65535 bytes: search backwards for its signature.
    let lowest = bytes.len().saturating_sub(EOCD_LEN + MAX_COMMENT);
    let eocd = (lowest..=bytes.len().saturating_sub(EOCD_LEN))
        .rev()
        .find(|&i| {
            bytes.len() >= EOCD_LEN
                && bytes.get(i..i + 4) == Some(&EOCD_SIGNATURE.to_le_bytes()[..])
        })
        .ok_or_else(|| {
            ReadError::new(name, "end of file", "no end-of-central-directory record")
                .with_hint("not a ZIP archive, or truncated")
        })? as u64;
    let mut count = u64::from(b.u16(eocd.saturating_add(10))?);
    let mut cd_size = u64::from(b.u32(eocd.saturating_add(12))?);
    let mut cd_offset = u64::from(b.u32(eocd.saturating_add(16))?);
    if (count == 0xffff || cd_size == 0xffff_ffff || cd_offset == 0xffff_ffff) && eocd >= 20 {
        let locator = eocd - 20;
        if b.u32(locator)? == ZIP64_LOCATOR_SIGNATURE {
            let record = b.u64(locator.saturating_add(8))?;
            if b.u32(record)? != ZIP64_EOCD_SIGNATURE {
                return Err(at(
                    name,
                    record,
                    "the ZIP64 end-of-central-directory record is not where its locator says",
                ));
            }
            count = b.u64(record.saturating_add(32))?;
            cd_size = b.u64(record.saturating_add(40))?;
            cd_offset = b.u64(record.saturating_add(48))?;
        }
    }
    if count > limits.max_entries {
        return Err(at(
            name,
            eocd,
            format!(
                "{count} entries, more than the limit of {}",
                limits.max_entries
            ),
        ));
    }
    // Each central header is at least 46 bytes: a count the directory cannot hold is a lie.
    if count.saturating_mul(46) > cd_size {
        return Err(at(
            name,
            eocd,
            format!("{count} entries cannot fit in a central directory of {cd_size} bytes"),
        ));
    }
    b.slice(cd_offset, cd_size, "the central directory")?;
    let mut entries = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 16));
    let mut offset = cd_offset;
    for _ in 0..count {
        let entry = central_entry(&b, offset, &limits)?;
        offset = entry.1;
        entries.push(entry.0);
    }
    Ok(Archive {
        name,
        bytes,
        limits,
        entries,
    })
}

/// One central directory header at `offset`, and the offset of the next.
fn central_entry(b: &Bytes<'_>, offset: u64, limits: &Limits) -> Result<(Entry, u64), ReadError> {
    if b.u32(offset)? != CENTRAL_SIGNATURE {
        return Err(at(b.name, offset, "expected a central directory header"));
    }
    let flags = b.u16(offset.saturating_add(8))?;
    let method = b.u16(offset.saturating_add(10))?;
    let crc32 = b.u32(offset.saturating_add(16))?;
    let mut compressed_size = u64::from(b.u32(offset.saturating_add(20))?);
    let mut size = u64::from(b.u32(offset.saturating_add(24))?);
    let name_len = u64::from(b.u16(offset.saturating_add(28))?);
    let extra_len = u64::from(b.u16(offset.saturating_add(30))?);
    let comment_len = u64::from(b.u16(offset.saturating_add(32))?);
    let mut local_header_offset = u64::from(b.u32(offset.saturating_add(42))?);
    let name_bytes = b.slice(offset.saturating_add(46), name_len, "an entry name")?;
    let name = String::from_utf8_lossy(name_bytes).into_owned();
    // ZIP64 extended information (APPNOTE 4.5.3): the 64-bit values, in this order, of
    // exactly those fields whose 32-bit value is 0xFFFFFFFF.
    let extra = b.slice(
        offset.saturating_add(46).saturating_add(name_len),
        extra_len,
        "an extra field",
    )?;
    let mut pos = 0usize;
    while let (Some(id), Some(len)) = (extra.get(pos..pos + 2), extra.get(pos + 2..pos + 4)) {
        let id = u16::from_le_bytes(<[u8; 2]>::try_from(id).unwrap_or_default());
        let len = usize::from(u16::from_le_bytes(
            <[u8; 2]>::try_from(len).unwrap_or_default(),
        ));
        let data = extra.get(pos + 4..pos + 4 + len).ok_or_else(|| {
            at(
                b.name,
                offset,
                format!("entry {name}: an extra field runs past its header"),
            )
        })?;
        if id == 0x0001 {
            let mut fields = data.chunks_exact(8).map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                u64::from_le_bytes(a)
            });
            for field in [&mut size, &mut compressed_size, &mut local_header_offset] {
                if *field == 0xffff_ffff {
                    *field = fields.next().ok_or_else(|| {
                        at(
                            b.name,
                            offset,
                            format!("entry {name}: the ZIP64 extra field is too short"),
                        )
                    })?;
                }
            }
        }
        pos += 4 + len;
    }
    let method = match method {
        0 => Method::Stored,
        8 => Method::Deflated,
        other => {
            return Err(at(
                b.name,
                offset,
                format!("entry {name}: compression method {other} is not supported"),
            )
            .with_hint("only stored (0) and deflate (8) entries are read"));
        }
    };
    if flags & 1 != 0 {
        return Err(at(b.name, offset, format!("entry {name} is encrypted")));
    }
    if size > limits.max_entry_size {
        return Err(at(
            b.name,
            offset,
            format!(
                "entry {name}: {size} bytes uncompressed, more than the limit of {}",
                limits.max_entry_size
            ),
        ));
    }
    if size > compressed_size.max(1).saturating_mul(limits.max_ratio) {
        return Err(at(
            b.name,
            offset,
            format!(
                "entry {name}: compression ratio above {}:1",
                limits.max_ratio
            ),
        )
        .with_hint("a zip bomb, or a damaged archive"));
    }
    let next = offset
        .saturating_add(46)
        .saturating_add(name_len)
        .saturating_add(extra_len)
        .saturating_add(comment_len);
    Ok((
        Entry {
            name,
            method,
            compressed_size,
            size,
            crc32,
            local_header_offset,
            central_offset: offset,
        },
        next,
    ))
}

impl<'a> Archive<'a> {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The uncompressed bytes of `entry`, checked against its size and CRC-32.
    pub fn read(&self, entry: &Entry) -> Result<Vec<u8>, ReadError> {
        let b = Bytes {
            name: self.name,
            bytes: self.bytes,
        };
        let local = entry.local_header_offset;
        if b.u32(local)? != LOCAL_SIGNATURE {
            return Err(at(
                self.name,
                local,
                format!("entry {}: expected a local file header", entry.name),
            ));
        }
        let name_len = u64::from(b.u16(local.saturating_add(26))?);
        let extra_len = u64::from(b.u16(local.saturating_add(28))?);
        let data = b.slice(
            local
                .saturating_add(30)
                .saturating_add(name_len)
                .saturating_add(extra_len),
            entry.compressed_size,
            "entry data",
        )?;
        let capacity = usize::try_from(entry.size.min(self.limits.max_entry_size)).unwrap_or(0);
        let mut out = Vec::with_capacity(capacity);
        match entry.method {
            Method::Stored => out.extend_from_slice(data),
            Method::Deflated => {
                // One byte past the declared size tells a lying header from a true one.
                flate2::read::DeflateDecoder::new(data)
                    .take(entry.size.saturating_add(1))
                    .read_to_end(&mut out)
                    .map_err(|e| {
                        at(
                            self.name,
                            local,
                            format!("entry {}: cannot inflate: {e}", entry.name),
                        )
                    })?;
            }
        }
        if out.len() as u64 != entry.size {
            return Err(at(
                self.name,
                local,
                format!(
                    "entry {}: {} bytes, the directory says {}",
                    entry.name,
                    out.len(),
                    entry.size
                ),
            ));
        }
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        if crc.sum() != entry.crc32 {
            return Err(at(
                self.name,
                local,
                format!("entry {}: CRC-32 mismatch", entry.name),
            )
            .with_hint("the archive is damaged"));
        }
        Ok(out)
    }
}

/// Fuzzing entry point: any bytes as an archive, every entry read, never a panic.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    if let Ok(archive) = open("fuzz", bytes, Limits::default()) {
        for entry in archive.entries() {
            let _ = archive.read(entry);
        }
    }
}
