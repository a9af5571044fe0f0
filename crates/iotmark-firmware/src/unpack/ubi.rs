//! UBI, the volume layer Linux puts on raw NAND: an image is a run of physical erase blocks
//! (PEBs), each starting with an erase-counter header ("UBI#") and, when it holds data, a
//! volume-identifier header ("UBI!") saying which logical erase block (LEB) of which volume
//! it carries. The volume table (in the layout volume) names the volumes. Each volume is
//! reassembled from its LEBs in order, the copy with the highest sequence number winning,
//! and then searched like any other image, so UBIFS or SquashFS inside is found.
//! Layouts follow `drivers/mtd/ubi/ubi-media.h`; every header is big-endian and checked with
//! UBI's CRC-32 (zlib's, without the final inversion).

use std::collections::BTreeMap;

use super::{Problems, Unpacked, region, searched_at, walk};
use crate::Limits;

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

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        b.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}

#[derive(Debug, Clone, Copy)]
struct Ec {
    vid_hdr_offset: usize,
    data_offset: usize,
    image_seq: u32,
}

/// A valid erase-counter header at `at` (CRC unchecked when `verify` is off).
fn ec_header(data: &[u8], at: usize, verify: bool) -> Option<Ec> {
    let h = data.get(at..at.checked_add(HEADER_LEN)?)?;
    if !h.starts_with(EC_MAGIC) || (verify && be32(h, 60)? != crc(&h[..60])) {
        return None;
    }
    Some(Ec {
        vid_hdr_offset: be32(h, 16)? as usize,
        data_offset: be32(h, 20)? as usize,
        image_seq: be32(h, 24)?,
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

fn vid_header(h: &[u8]) -> Option<Vid> {
    Some(Vid {
        vol_type: *h.get(5)?,
        copy_flag: *h.get(6)?,
        vol_id: be32(h, 8)?,
        lnum: be32(h, 12)?,
        data_size: be32(h, 20)?,
        used_ebs: be32(h, 24)?,
        data_pad: be32(h, 28)?,
        data_crc: be32(h, 32)?,
        sqnum: be64(h, 40)?,
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
pub(super) fn ubi(
    data: &[u8],
    offset: usize,
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    read(data, offset, within, depth, limits, budget, out, true)
}

/// The reader; `verify` off skips the CRC checks so a fuzzer can reach the code behind them.
#[allow(clippy::too_many_arguments)]
pub(super) fn read(
    data: &[u8],
    offset: usize,
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
    verify: bool,
) -> Option<usize> {
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
        match assemble(data, &lebs, id, limits, budget) {
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
    let (searched, outcome) = searched_at(depth, limits, outcome);
    out.regions.push(region(
        offset,
        end - offset,
        "ubi",
        outcome,
        &data[offset..end],
        within,
    ));
    if searched {
        for (id, name, bytes) in volumes {
            let label = format!("{within} > ubi@{offset} > volume {id} \"{name}\"");
            walk(&bytes, &label, depth + 1, limits, budget, out);
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
    let Some(h) = block.get(ec.vid_hdr_offset..ec.vid_hdr_offset.saturating_add(HEADER_LEN)) else {
        problems.add(format!(
            "PEB at offset {at}: volume header offset {} is outside the block",
            ec.vid_hdr_offset
        ));
        return;
    };
    if !h.starts_with(VID_MAGIC) {
        if !h.iter().all(|&b| b == 0xff) {
            problems.add(format!(
                "PEB at offset {at}: no volume header at {}",
                ec.vid_hdr_offset
            ));
        }
        return; // an empty PEB
    }
    if verify && be32(h, 60) != Some(crc(&h[..60])) {
        problems.add(format!("PEB at offset {at}: volume header CRC mismatch"));
        return;
    }
    let Some(vid) = vid_header(h) else { return };
    let Some(payload) = block.get(ec.data_offset..) else {
        problems.add(format!(
            "PEB at offset {at}: data offset {} is outside the block",
            ec.data_offset
        ));
        return;
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
        let mut good = true;
        for (id, rec) in table
            .chunks_exact(VTBL_RECORD_LEN)
            .take(MAX_VOLUMES)
            .enumerate()
        {
            if verify && be32(rec, 168) != Some(crc(&rec[..168])) {
                good = false;
                break;
            }
            let reserved = be32(rec, 0).unwrap_or(0);
            let len = usize::from(u16::from_be_bytes([rec[14], rec[15]])).min(127);
            if reserved != 0 {
                let name = String::from_utf8_lossy(&rec[16..16 + len]).into_owned();
                names.insert(id as u32, name);
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
fn assemble(
    data: &[u8],
    lebs: &BTreeMap<(u32, u32), Leb>,
    id: u32,
    limits: &Limits,
    budget: &mut u64,
) -> Result<Vec<u8>, String> {
    let mine: Vec<(u32, &Leb)> = lebs
        .range((id, 0)..=(id, u32::MAX))
        .map(|(&(_, lnum), leb)| (lnum, leb))
        .collect();
    let Some(&(_, first)) = mine.first() else {
        return Ok(Vec::new());
    };
    let cap = (*budget).min(limits.max_file_bytes);
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
    *budget -= size;
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
