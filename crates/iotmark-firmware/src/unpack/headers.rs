//! Vendor firmware headers that wrap partitions: Broadcom TRX and TP-Link's image header.

use super::{Unpacked, region, searched_at, walk};
use crate::Limits;

pub(super) const TRX_MAGIC: &[u8; 4] = b"HDR0";
/// TP-Link's header version 1, stored big-endian.
pub(super) const TPLINK_MAGIC: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

fn u32_le(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u32_be(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// A Broadcom TRX image: `HDR0`, the total length, a CRC-32 over everything after the CRC
/// field (stored without the final inversion), flags and version, then three (version 1)
/// or four (version 2) partition offsets from the header start, zero when unused. The
/// partitions (loader, kernel, rootfs) are walked one level deeper once the CRC holds; a
/// header whose CRC fails claims only itself, so the walk still searches what follows.
pub(super) fn trx(
    data: &[u8],
    offset: usize,
    within: &str,
    depth: usize,
    limits: &Limits,
    budget: &mut u64,
    out: &mut Unpacked,
) -> Option<usize> {
    let h = data.get(offset..)?;
    let len = u32_le(h, 4)? as usize;
    let stored = u32_le(h, 8)?;
    let version = u32_le(h, 12)? >> 16;
    let slots = match version {
        1 => 3,
        2 => 4,
        _ => return None,
    };
    let header = 16 + 4 * slots;
    if len < header || len > h.len() {
        return None;
    }
    let image = h.get(..len)?;
    let mut offsets = Vec::new();
    for i in 0..slots {
        let at = u32_le(h, 16 + 4 * i)? as usize;
        if at != 0 {
            if at < header || at >= len || offsets.last().is_some_and(|&p| at <= p) {
                return None; // not a TRX: partitions must follow the header, in order
            }
            offsets.push(at);
        }
    }
    let computed = !crc32fast::hash(image.get(12..)?);
    if computed != stored {
        out.regions.push(region(
            offset,
            header,
            "trx",
            format!("failed: CRC-32 {computed:08x} differs from the header's {stored:08x}"),
            image.get(..header)?,
            within,
        ));
        return Some(header);
    }
    let (searched, outcome) = searched_at(
        depth,
        limits,
        format!(
            "unpacked (version {version}, {} partitions, CRC ok)",
            offsets.len()
        ),
    );
    out.regions
        .push(region(offset, len, "trx", outcome, image, within));
    if searched {
        for (i, &start) in offsets.iter().enumerate() {
            let end = offsets.get(i + 1).copied().unwrap_or(len);
            let label = format!("{within} > trx@{offset} partition {i}");
            walk(
                image.get(start..end)?,
                &label,
                depth + 1,
                limits,
                budget,
                out,
            );
        }
    }
    Some(len)
}

/// TP-Link's 512-byte firmware header (version 1): vendor and firmware strings, hardware
/// id, MD5 sums, load and entry addresses, the image length, and offsets and lengths of
/// the kernel and rootfs from the header start. Only the header is claimed and described;
/// the partitions are found by the walk that continues right after it, which also copes
/// with images whose header offsets are stale.
pub(super) fn tplink(
    data: &[u8],
    offset: usize,
    within: &str,
    out: &mut Unpacked,
) -> Option<usize> {
    const HEADER: usize = 0x200;
    let h = data.get(offset..offset.checked_add(HEADER)?)?;
    let text = |range: std::ops::Range<usize>| -> Option<String> {
        let field = h.get(range)?;
        let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
        let (text, pad) = field.split_at(end);
        // Printable text padded with NULs, nothing else: a chance `01 00 00 00` is not this.
        (text.len() >= 2
            && text.iter().all(|b| (0x20..0x7f).contains(b))
            && pad.iter().all(|&b| b == 0))
        .then(|| String::from_utf8_lossy(text).into_owned())
    };
    let vendor = text(4..28)?;
    let version = text(28..64)?;
    let available = data.len() - offset;
    let fw_length = u32_be(h, 0x7c)? as usize;
    let kernel = (u32_be(h, 0x80)? as usize, u32_be(h, 0x84)? as usize);
    let rootfs = (u32_be(h, 0x88)? as usize, u32_be(h, 0x8c)? as usize);
    let fits = |(at, len): (usize, usize)| at >= HEADER && at.saturating_add(len) <= fw_length;
    if fw_length < HEADER || fw_length > available || !fits(kernel) || !fits(rootfs) {
        return None;
    }
    out.regions.push(region(
        offset,
        HEADER,
        "tplink",
        format!(
            "unpacked (vendor \"{vendor}\", firmware \"{version}\", hardware {:08x}, {fw_length} bytes; kernel at +{:#x}, rootfs at +{:#x})",
            u32_be(h, 0x40)?,
            kernel.0,
            rootfs.0
        ),
        h,
        within,
    ));
    Some(HEADER)
}
