//! The values of a BerkeleyDB hash database (rpm's `Packages` before rpm 4.16), read page
//! by page without the library. Layout facts from Berkeley DB's on-disk format
//! (`db_page.h`): page 0 is the hash metadata page (magic `0x061561` at byte 12, in the
//! byte order of the machine that wrote it; page size at 20; last page number at 32);
//! every hash page has a 26-byte header (next page at 16, entry count at 20, free-area
//! offset at 22, page type at 25) followed by 16-bit item offsets, key and data items
//! alternating. An item is inline (`H_KEYDATA`: a type byte then the bytes, running to the
//! previous item) or off-page (`H_OFFPAGE`: first overflow page and total length), its
//! bytes then chained through overflow pages, each holding `hf_offset` bytes after its
//! header.

use crate::reader::{ByteOrder, Reader};

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASHMETA: u8 = 8;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const DBMETA_CHKSUM: u8 = 0x01;

/// Most values read from one database.
pub const MAX_VALUES: usize = 100_000;
/// Most bytes of values gathered from one database; overflow chains may share pages, so
/// the sum is bounded on its own, not by the file size.
pub const MAX_TOTAL_BYTES: usize = 256 << 20;

/// The data items of every key/data pair, in page order. Pairs whose key is the 4-byte
/// instance 0 (rpm's counter record) are left out.
pub fn values(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let file = Reader::new(data, 0);
    let magic_le = file
        .u32_at(12, ByteOrder::Little, "metadata magic")
        .map_err(|e| e.to_string())?;
    let order = if magic_le == HASH_MAGIC {
        ByteOrder::Little
    } else if magic_le.swap_bytes() == HASH_MAGIC {
        ByteOrder::Big
    } else if magic_le == BTREE_MAGIC || magic_le.swap_bytes() == BTREE_MAGIC {
        return Err("a BerkeleyDB btree, not the hash database rpm writes".into());
    } else {
        return Err(format!(
            "no BerkeleyDB hash magic at offset 12 (found {magic_le:#010x})"
        ));
    };
    let e = |e: crate::reader::ReadError| e.to_string();
    let page_size = file.u32_at(20, order, "page size").map_err(e)? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!(
            "page size {page_size} at offset 20 is not one BerkeleyDB uses"
        ));
    }
    if file.u8_at(24, "encryption").map_err(e)? != 0 {
        return Err("encrypted database (byte 24); not read".into());
    }
    if file.u8_at(25, "page type").map_err(e)? != P_HASHMETA {
        return Err("page 0 is not a hash metadata page (byte 25)".into());
    }
    if file.u8_at(26, "metadata flags").map_err(e)? & DBMETA_CHKSUM != 0 {
        return Err("checksummed pages (byte 26); not read".into());
    }
    let last = file.u32_at(32, order, "last page number").map_err(e)? as usize;
    let pages = (data.len() / page_size).min(last.saturating_add(1));
    let page = |n: usize| file.at(n * page_size, page_size, "page");
    let mut out = Vec::new();
    let mut total = 0usize;
    for n in 1..pages {
        let p = page(n).map_err(e)?;
        let kind = p.u8_at(25, "page type").map_err(e)?;
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = p.u16_at(20, order, "entry count").map_err(e)? as usize;
        let offsets: Vec<usize> = (0..entries)
            .map(|i| {
                p.u16_at(PAGE_HEADER + 2 * i, order, "item offset")
                    .map(usize::from)
            })
            .collect::<Result<_, _>>()
            .map_err(e)?;
        let item = |i: usize| -> Result<Reader<'_>, String> {
            let start = *offsets.get(i).ok_or("item index")?;
            let end = if i == 0 {
                page_size
            } else {
                *offsets.get(i - 1).ok_or("item index")?
            };
            let len = end.checked_sub(start).ok_or_else(|| {
                format!("page {n}: item {i} at {start} ends before it starts ({end})")
            })?;
            p.at(start, len, "item").map_err(e)
        };
        for pair in 0..entries / 2 {
            let key = item(2 * pair)?;
            if key
                .peek(5, "key")
                .is_ok_and(|k| k[0] == H_KEYDATA && k[1..] == [0, 0, 0, 0])
            {
                continue;
            }
            let mut value = item(2 * pair + 1)?;
            let value = match value.u8("item type").map_err(e)? {
                H_KEYDATA => value.rest().to_vec(),
                H_OFFPAGE => {
                    value.skip(3, "off-page item").map_err(e)?;
                    let first = value.u32(order, "overflow page").map_err(e)? as usize;
                    let len = value.u32(order, "overflow length").map_err(e)? as usize;
                    overflow(&file, page_size, pages, order, first, len)?
                }
                // Duplicates: rpm's Packages has none.
                _ => continue,
            };
            total = total.saturating_add(value.len());
            if total > MAX_TOTAL_BYTES || out.len() >= MAX_VALUES {
                return Err(format!(
                    "more than {MAX_VALUES} values or {MAX_TOTAL_BYTES} bytes; not read further"
                ));
            }
            out.push(value);
        }
    }
    Ok(out)
}

/// The `len` bytes of an off-page item, from overflow page `first` on.
fn overflow(
    file: &Reader<'_>,
    page_size: usize,
    pages: usize,
    order: ByteOrder,
    first: usize,
    len: usize,
) -> Result<Vec<u8>, String> {
    if len > file.window().len() {
        return Err(format!(
            "overflow item of {len} bytes, longer than the file"
        ));
    }
    let mut out = Vec::with_capacity(len);
    let mut next = first;
    // A chain visits each page at most once; a loop is a corrupt file.
    for _ in 0..pages {
        if out.len() >= len {
            return Ok(out);
        }
        if next == 0 || next >= pages {
            break;
        }
        let p = file
            .at(next * page_size, page_size, "overflow page")
            .map_err(|e| e.to_string())?;
        if p.u8_at(25, "page type").map_err(|e| e.to_string())? != P_OVERFLOW {
            return Err(format!(
                "page {next} in an overflow chain is not an overflow page"
            ));
        }
        let here = usize::from(
            p.u16_at(22, order, "overflow bytes")
                .map_err(|e| e.to_string())?,
        );
        let take = here.min(len - out.len());
        out.extend_from_slice(
            p.at(PAGE_HEADER, take, "overflow data")
                .map_err(|e| e.to_string())?
                .window(),
        );
        next = p
            .u32_at(16, order, "next page")
            .map_err(|e| e.to_string())? as usize;
    }
    if out.len() < len {
        return Err(format!(
            "overflow chain from page {first} ends after {} of {len} bytes",
            out.len()
        ));
    }
    Ok(out)
}
