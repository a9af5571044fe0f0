//! rpm's ndb package store (`Packages.db`, SUSE), read from the layout rpm's ndb backend
//! writes (all little-endian): a 32-byte header (`RpmP` magic, version 0, generation, the
//! number of 4096-byte slot pages), then 16-byte slots (`Slot` magic, package index, block
//! offset, block count) up to the end of the slot pages; a used slot points (in 16-byte
//! blocks) at a blob: `BlbS` magic, package index, timestamp, length, the header blob.

use crate::reader::{ByteOrder, Reader};

const FILE_MAGIC: &[u8; 4] = b"RpmP";
const SLOT_MAGIC: &[u8; 4] = b"Slot";
const BLOB_MAGIC: &[u8; 4] = b"BlbS";
const HEADER_SIZE: usize = 32;
const SLOT_SIZE: usize = 16;
const PAGE_SIZE: usize = 4096;
const BLOCK_SIZE: usize = 16;

/// Most blobs read from one store.
pub const MAX_VALUES: usize = 100_000;

/// The header blobs of every used slot, in slot order.
pub fn values(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let e = |e: crate::reader::ReadError| e.to_string();
    let mut file = Reader::new(data, 0);
    if file.take(4, "magic").map_err(e)? != FILE_MAGIC {
        return Err("no `RpmP` magic at offset 0".into());
    }
    let version = file.u32(ByteOrder::Little, "version").map_err(e)?;
    if version != 0 {
        return Err(format!(
            "version {version} at offset 4; only version 0 is known"
        ));
    }
    let slot_pages = file
        .u32_at(12, ByteOrder::Little, "slot page count")
        .map_err(e)? as usize;
    let slots_end = slot_pages
        .checked_mul(PAGE_SIZE)
        .filter(|&end| end >= HEADER_SIZE && end <= data.len())
        .ok_or_else(|| format!("{slot_pages} slot pages (offset 12) do not fit the file"))?;
    let mut out = Vec::new();
    let mut at = HEADER_SIZE;
    while at + SLOT_SIZE <= slots_end {
        let mut slot = file.at(at, SLOT_SIZE, "slot").map_err(e)?;
        at += SLOT_SIZE;
        if slot.take(4, "slot magic").map_err(e)? != SLOT_MAGIC {
            return Err(format!(
                "slot at offset {} has no `Slot` magic",
                at - SLOT_SIZE
            ));
        }
        let index = slot.u32(ByteOrder::Little, "package index").map_err(e)?;
        let block = slot.u32(ByteOrder::Little, "block offset").map_err(e)? as usize;
        let blocks = slot.u32(ByteOrder::Little, "block count").map_err(e)? as usize;
        if index == 0 {
            continue; // a free slot
        }
        let start = block
            .checked_mul(BLOCK_SIZE)
            .ok_or_else(|| format!("package {index}: block offset {block} overflows"))?;
        let span = blocks
            .checked_mul(BLOCK_SIZE)
            .ok_or_else(|| format!("package {index}: block count {blocks} overflows"))?;
        let mut blob = file.at(start, span, "package blob").map_err(e)?;
        if blob.take(4, "blob magic").map_err(e)? != BLOB_MAGIC {
            return Err(format!(
                "package {index}: no `BlbS` magic at offset {start}"
            ));
        }
        let owner = blob
            .u32(ByteOrder::Little, "blob package index")
            .map_err(e)?;
        if owner != index {
            return Err(format!(
                "package {index}: the blob at offset {start} belongs to package {owner}"
            ));
        }
        blob.skip(4, "blob timestamp").map_err(e)?;
        let len = blob.u32(ByteOrder::Little, "blob length").map_err(e)? as usize;
        out.push(blob.take(len, "header blob").map_err(e)?.to_vec());
        if out.len() >= MAX_VALUES {
            return Err(format!("more than {MAX_VALUES} packages; not read further"));
        }
    }
    Ok(out)
}
