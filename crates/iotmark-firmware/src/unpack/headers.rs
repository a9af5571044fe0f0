//! Vendor firmware headers that wrap partitions: Broadcom TRX and TP-Link's image header.

use super::Scan;
use crate::reader::{ByteOrder, Reader};

pub(super) const TRX_MAGIC: &[u8; 4] = b"HDR0";
/// TP-Link's header version 1, stored big-endian.
pub(super) const TPLINK_MAGIC: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// A Broadcom TRX image: `HDR0`, the total length, a CRC-32 over everything after the CRC
/// field (stored without the final inversion), flags and version, then three (version 1)
/// or four (version 2) partition offsets from the header start, zero when unused. The
/// partitions (loader, kernel, rootfs) are walked one level deeper once the CRC holds; a
/// header whose CRC fails claims only itself, so the walk still searches what follows.
pub(super) fn trx(scan: &mut Scan) -> Option<usize> {
    let (offset, within) = (scan.offset, scan.within);
    let rest = Reader::new(scan.data, 0).from(offset, "TRX header").ok()?;
    let mut h = rest;
    h.skip(4, "TRX magic").ok()?;
    let len = h.u32(ByteOrder::Little, "TRX length").ok()? as usize;
    let stored = h.u32(ByteOrder::Little, "TRX CRC-32").ok()?;
    let version = h.u32(ByteOrder::Little, "TRX flags and version").ok()? >> 16;
    let slots = match version {
        1 => 3,
        2 => 4,
        _ => return None,
    };
    let header = 16 + 4 * slots;
    if len < header {
        return None;
    }
    let image = rest.at(0, len, "TRX image").ok()?.window();
    let mut offsets = Vec::new();
    for _ in 0..slots {
        let at = h.u32(ByteOrder::Little, "TRX partition offset").ok()? as usize;
        if at != 0 {
            if at < header || at >= len || offsets.last().is_some_and(|&p| at <= p) {
                return None; // not a TRX: partitions must follow the header, in order
            }
            offsets.push(at);
        }
    }
    let computed = !crc32fast::hash(image.get(12..)?);
    if computed != stored {
        scan.push_region(
            header,
            "trx",
            format!("failed: CRC-32 {computed:08x} differs from the header's {stored:08x}"),
            image.get(..header)?,
        );
        return Some(header);
    }
    let (searched, outcome) = scan.searched(format!(
        "unpacked (version {version}, {} partitions, CRC ok)",
        offsets.len()
    ));
    scan.push_region(len, "trx", outcome, image);
    if searched {
        for (i, &start) in offsets.iter().enumerate() {
            let end = offsets.get(i + 1).copied().unwrap_or(len);
            let label = format!("{within} > trx@{offset} partition {i}");
            scan.walk_nested(image.get(start..end)?, &label);
        }
    }
    Some(len)
}

/// TP-Link's 512-byte firmware header (version 1): vendor and firmware strings, hardware
/// id, MD5 sums, load and entry addresses, the image length, and offsets and lengths of
/// the kernel and rootfs from the header start. Only the header is claimed and described;
/// the partitions are found by the walk that continues right after it, which also copes
/// with images whose header offsets are stale.
pub(super) fn tplink(scan: &mut Scan) -> Option<usize> {
    const HEADER: usize = 0x200;
    let (data, offset) = (scan.data, scan.offset);
    let header = Reader::new(data, 0)
        .at(offset, HEADER, "TP-Link header")
        .ok()?;
    let h = header.window();
    let u32_at = |at: usize, what| header.u32_at(at, ByteOrder::Big, what).ok();
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
    let fw_length = u32_at(0x7c, "TP-Link firmware length")? as usize;
    let kernel = (
        u32_at(0x80, "TP-Link kernel offset")? as usize,
        u32_at(0x84, "TP-Link kernel length")? as usize,
    );
    let rootfs = (
        u32_at(0x88, "TP-Link rootfs offset")? as usize,
        u32_at(0x8c, "TP-Link rootfs length")? as usize,
    );
    let fits = |(at, len): (usize, usize)| at >= HEADER && at.saturating_add(len) <= fw_length;
    if fw_length < HEADER || fw_length > available || !fits(kernel) || !fits(rootfs) {
        return None;
    }
    let hardware = u32_at(0x40, "TP-Link hardware id")?;
    scan.push_region(
        HEADER,
        "tplink",
        format!(
            "unpacked (vendor \"{vendor}\", firmware \"{version}\", hardware {hardware:08x}, {fw_length} bytes; kernel at +{:#x}, rootfs at +{:#x})",
            kernel.0,
            rootfs.0
        ),
        h,
    );
    Some(HEADER)
}
