//! UBI, the volume layer Linux puts on raw NAND: an image is a run of physical erase blocks
//! (PEBs), each starting with an erase-counter header ("UBI#") and, when it holds data, a
//! volume-identifier header ("UBI!") saying which logical erase block (LEB) of which volume
//! it carries. The volume table (in the layout volume) names the volumes. Each volume is
//! reassembled from its LEBs in order, the copy with the highest sequence number winning,
//! and then searched like any other image, so UBIFS or SquashFS inside is found.
//! Layouts follow `drivers/mtd/ubi/ubi-media.h`; every header is big-endian and checked with
//! UBI's CRC-32 (zlib's, without the final inversion).

use std::collections::BTreeMap;

use super::{Problems, Scan};
use crate::reader::{ByteOrder, ReadError, Reader};

pub(super) const EC_MAGIC: &[u8; 4] = b"UBI#";
const VID_MAGIC: &[u8; 4] = b"UBI!";
const HEADER_LEN: usize = 64;
const LAYOUT_VOLUME: u32 = 0x7fff_efff;
/// Volume ids from here up are UBI's own (layout volume, fastmap); never user data.
const INTERNAL_VOLUMES: u32 = 0x7fff_e000;
const VTBL_RECORD_LEN: usize = 172;
const MAX_VOLUMES: usize = 128;
/// PEB sizes looked for: 512 bytes (small NOR test images) to 16 MiB.
const MIN_PEB_SHIFT: u32 = 9;
const MAX_PEB_SHIFT: u32 = 24;

/// UBI's `crc32(0xffffffff, …)`: zlib's CRC-32 without the final inversion.
pub(super) fn crc(data: &[u8]) -> u32 {
    !crc32fast::hash(data)
}

const BE: ByteOrder = ByteOrder::Big;

#[derive(Debug, Clone, Copy)]
struct Ec {
    vid_hdr_offset: usize,
    data_offset: usize,
    image_seq: u32,
}

/// A valid erase-counter header at `at` (CRC unchecked when `verify` is off).
fn ec_header(data: &[u8], at: usize, verify: bool) -> Option<Ec> {
    let h = Reader::new(data, 0)
        .at(at, HEADER_LEN, "erase-counter header")
        .ok()?;
    let (bytes, word) = (h.window(), |at| {
        h.u32_at(at, BE, "erase-counter header").ok()
    });
    if !bytes.starts_with(EC_MAGIC) || (verify && word(60)? != crc(bytes.get(..60)?)) {
        return None;
    }
    Some(Ec {
        vid_hdr_offset: word(16)? as usize,
        data_offset: word(20)? as usize,
        image_seq: word(24)?,
    })
}

#[derive(Debug, Clone, Copy)]
struct Vid {
    vol_type: u8,
    copy_flag: u8,
    vol_id: u32,
    lnum: u32,
    data_size: u32,
    used_ebs: u32,
    data_pad: u32,
    data_crc: u32,
    sqnum: u64,
}

fn vid_header(h: &Reader) -> Result<Vid, ReadError> {
    let word = |at| h.u32_at(at, BE, "volume header field");
    Ok(Vid {
        vol_type: h.u8_at(5, "volume type")?,
        copy_flag: h.u8_at(6, "copy flag")?,
        vol_id: word(8)?,
        lnum: word(12)?,
        data_size: word(20)?,
        used_ebs: word(24)?,
        data_pad: word(28)?,
        data_crc: word(32)?,
        sqnum: h.u64_at(40, BE, "sequence number")?,
    })
}

/// The PEB size: the greatest common divisor of the distances to the other erase-counter
/// headers of this image. Erase blocks are powers of two, so only distances `j × 2^k` are
/// looked at (odd multiples up to 7 let erased or bad PEBs in between not matter): a fixed
/// number of probes, so a crafted image full of headers cannot make the search quadratic.
fn peb_size(data: &[u8], offset: usize, first: Ec, verify: bool) -> Option<usize> {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut size = 0;
    for shift in MIN_PEB_SHIFT..=MAX_PEB_SHIFT {
        for j in 1..=8usize {
            let distance = j << shift;
            let hit = offset
                .checked_add(distance)
                .and_then(|at| ec_header(data, at, verify))
                .is_some_and(|e| e.image_seq == first.image_seq);
            if hit {
                size = gcd(size, distance);
            }
        }
    }
    (size > first.data_offset.max(first.vid_hdr_offset + HEADER_LEN)).then_some(size)
}

/// One LEB as found in a PEB.
#[derive(Debug, Clone, Copy)]
struct Leb {
    vid: Vid,
    /// Where its data starts in the image, and how many bytes the PEB holds after that.
    at: usize,
    len: usize,
}

/// A UBI image starting at `offset`; returns the bytes it occupies.
pub(super) fn ubi(scan: &mut Scan) -> Option<usize> {
    read(scan, true)
}

/// The reader; `verify` off skips the CRC checks so a fuzzer can reach the code behind them.
pub(super) fn read(scan: &mut Scan, verify: bool) -> Option<usize> {
    let (data, offset, within) = (scan.data, scan.offset, scan.within);
    let first = ec_header(data, offset, verify)?;
    let mut problems = Problems::default();
    let Some(peb) = peb_size(data, offset, first, verify) else {
        // A lone header (or a stray "UBI#"): too little to be an image worth reporting.
        return None;
    };
    let mut lebs: BTreeMap<(u32, u32), Leb> = BTreeMap::new();
    let mut at = offset;
    let mut pebs = 0usize;
    while let Some(block) = data.get(at..at.saturating_add(peb).min(data.len())) {
        if block.len() < HEADER_LEN {
            break;
        }
        match ec_header(data, at, verify) {
            Some(ec) if ec.image_seq == first.image_seq => {
                if block.len() < peb {
                    problems.add(format!(
                        "PEB {pebs} at offset {at} is cut short ({} of {peb} bytes): truncated",
                        block.len()
                    ));
                }
                peb_contents(block, at, ec, verify, &mut lebs, &mut problems);
            }
            Some(_) => break, // another UBI image follows
            None if block[..HEADER_LEN].iter().all(|&b| b == 0xff) => {} // erased
            None if block.starts_with(EC_MAGIC) => problems.add(format!(
                "PEB {pebs} at offset {at}: erase-counter header CRC mismatch"
            )),
            None => break,
        }
        pebs += 1;
        at = at.saturating_add(block.len());
    }
    let end = at.min(data.len());
    let names = volume_names(data, &lebs, verify, &mut problems);

    // Assemble every user volume before searching any, so the UBI region comes first.
    let mut volumes = Vec::new();
    let ids: Vec<u32> = lebs
        .keys()
        .map(|&(v, _)| v)
        .filter(|&v| v < INTERNAL_VOLUMES)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for id in ids {
        let name = names.get(&id).cloned().unwrap_or_default();
        match assemble(scan, &lebs, id) {
            Ok(bytes) => volumes.push((id, name, bytes)),
            Err(e) => problems.add(format!("volume {id} \"{name}\": {e}")),
        }
    }
    let listed: Vec<String> = volumes
        .iter()
        .map(|(id, name, bytes)| format!("{id} \"{name}\" {} bytes", bytes.len()))
        .collect();
    let outcome = match problems.summary() {
        Some(p) => format!("failed: {p}"),
        None => format!(
            "unpacked ({peb}-byte PEBs, {} volumes: {})",
            volumes.len(),
            listed.join(", ")
        ),
    };
    let (searched, outcome) = scan.searched(outcome);
    scan.push_region(end - offset, "ubi", outcome, &data[offset..end]);
    if searched {
        for (id, name, bytes) in volumes {
            let label = format!("{within} > ubi@{offset} > volume {id} \"{name}\"");
            scan.walk_nested(&bytes, &label);
        }
    }
    Some(end - offset)
}

/// Records the LEB a PEB carries, if any, keeping the newest copy of each.
fn peb_contents(
    block: &[u8],
    at: usize,
    ec: Ec,
    verify: bool,
    lebs: &mut BTreeMap<(u32, u32), Leb>,
    problems: &mut Problems,
) {
    let block = Reader::new(block, at);
    let header = match block.at(ec.vid_hdr_offset, HEADER_LEN, "volume header") {
        Ok(h) => h,
        Err(e) => {
            problems.add(format!(
                "PEB at offset {at}: volume header offset {} is outside the block: {e}",
                ec.vid_hdr_offset
            ));
            return;
        }
    };
    let h = header.window();
    if !h.starts_with(VID_MAGIC) {
        if !h.iter().all(|&b| b == 0xff) {
            problems.add(format!(
                "PEB at offset {at}: no volume header at {}",
                ec.vid_hdr_offset
            ));
        }
        return; // an empty PEB
    }
    if verify && header.u32_at(60, BE, "volume header CRC").ok() != h.get(..60).map(crc) {
        problems.add(format!("PEB at offset {at}: volume header CRC mismatch"));
        return;
    }
    let vid = match vid_header(&header) {
        Ok(vid) => vid,
        Err(e) => {
            problems.add(format!("PEB at offset {at}: {e}"));
            return;
        }
    };
    let payload = match block.from(ec.data_offset, "LEB data") {
        Ok(p) => p.window(),
        Err(e) => {
            problems.add(format!(
                "PEB at offset {at}: data offset {} is outside the block: {e}",
                ec.data_offset
            ));
            return;
        }
    };
    // A copy made by wear-levelling carries a CRC of its data; a torn copy must lose.
    if vid.copy_flag != 0 && verify {
        let whole = payload.get(..vid.data_size as usize);
        if whole.is_none_or(|d| crc(d) != vid.data_crc) {
            problems.add(format!("PEB at offset {at}: copied LEB data CRC mismatch"));
            return;
        }
    }
    let leb = Leb {
        vid,
        at: at + ec.data_offset,
        len: payload.len(),
    };
    let slot = lebs.entry((vid.vol_id, vid.lnum)).or_insert(leb);
    if vid.sqnum > slot.vid.sqnum {
        *slot = leb;
    }
}

/// Volume names by id, from the first volume-table copy whose records check out.
fn volume_names(
    data: &[u8],
    lebs: &BTreeMap<(u32, u32), Leb>,
    verify: bool,
    problems: &mut Problems,
) -> BTreeMap<u32, String> {
    let mut names = BTreeMap::new();
    for copy in 0..2 {
        let Some(leb) = lebs.get(&(LAYOUT_VOLUME, copy)) else {
            continue;
        };
        let table = data.get(leb.at..leb.at + leb.len).unwrap_or_default();
        let mut records = Reader::new(table, leb.at);
        let mut good = true;
        for id in 0..MAX_VOLUMES as u32 {
            let Ok(rec) = records.sub(VTBL_RECORD_LEN, "volume table record") else {
                break;
            };
            let bytes = rec.window();
            let stored_crc = rec.u32_at(168, BE, "volume table record CRC").ok();
            if verify && stored_crc != bytes.get(..168).map(crc) {
                good = false;
                break;
            }
            // Every field lies within the record just taken.
            let reserved = rec.u32_at(0, BE, "reserved PEBs").unwrap_or(0);
            let len = usize::from(rec.u16_at(14, BE, "name length").unwrap_or(0)).min(127);
            if reserved != 0 {
                let name = rec
                    .at(16, len, "volume name")
                    .map(|n| n.window())
                    .unwrap_or_default();
                names.insert(id, String::from_utf8_lossy(name).into_owned());
            }
        }
        if good {
            return names;
        }
        names.clear();
        problems.add(format!(
            "volume table copy {copy} at offset {}: record CRC mismatch",
            leb.at
        ));
    }
    names
}

/// A volume's bytes: its LEBs in order. A static volume holds exactly `data_size` bytes per
/// LEB over `used_ebs` LEBs; a dynamic one is whole LEBs, unmapped ones reading as 0xFF (as
/// UBI returns them), up to the last mapped LEB.
fn assemble(scan: &mut Scan, lebs: &BTreeMap<(u32, u32), Leb>, id: u32) -> Result<Vec<u8>, String> {
    let data = scan.data;
    let mine: Vec<(u32, &Leb)> = lebs
        .range((id, 0)..=(id, u32::MAX))
        .map(|(&(_, lnum), leb)| (lnum, leb))
        .collect();
    let Some(&(_, first)) = mine.first() else {
        return Ok(Vec::new());
    };
    let cap = scan.cap();
    let usable = |leb: &Leb| leb.len.saturating_sub(leb.vid.data_pad as usize);
    let static_volume = first.vid.vol_type == 2;
    let size: u64 = if static_volume {
        let used = first.vid.used_ebs;
        let mut total = 0u64;
        for lnum in 0..used {
            let leb = lebs
                .get(&(id, lnum))
                .ok_or_else(|| format!("static volume misses LEB {lnum} of {used}"))?;
            total += u64::from(leb.vid.data_size).min(usable(leb) as u64);
            if total > cap {
                break;
            }
        }
        total
    } else {
        let last = mine.last().map_or(0, |&(l, _)| u64::from(l));
        (last + 1).saturating_mul(usable(first) as u64)
    };
    if size > cap {
        return Err(format!("{size} bytes, over the size limit"));
    }
    *scan.budget -= size;
    let mut bytes = Vec::with_capacity(size as usize);
    if static_volume {
        for (lnum, leb) in mine.iter().take_while(|(l, _)| *l < first.vid.used_ebs) {
            let n = (leb.vid.data_size as usize).min(usable(leb));
            let part = data.get(leb.at..leb.at + n).unwrap_or_default();
            if part.len() != n {
                return Err(format!("LEB {lnum} is cut short"));
            }
            bytes.extend_from_slice(part);
        }
    } else {
        let step = usable(first);
        for (lnum, leb) in &mine {
            let start = *lnum as usize * step;
            bytes.resize(start, 0xff);
            let n = usable(leb).min(step);
            bytes.extend_from_slice(data.get(leb.at..leb.at + n).unwrap_or_default());
            bytes.resize(start + step, 0xff);
        }
    }
    Ok(bytes)
}
