//! Unix `ar` archives, the container of Debian packages (`.deb`) and of OpenWrt packages
//! (`.ipk`) in their ar form: `debian-binary`, `control.tar.*`, `data.tar.*`.
//!
//! The format is a global magic, then per member a 60-byte ASCII header (name, mtime, uid,
//! gid, octal mode, decimal size, "`\n") and the data padded to an even length. GNU long
//! names live in a `//` member and are referred to as `/offset`; BSD long names are
//! `#1/length` with the name leading the data. The archive has no end marker: it ends where
//! the data ends or a header is not one.

use std::path::Path;

use super::{Scan, walk_members};
use crate::tree::{Entry, Kind, Tree};

pub(super) const AR_MAGIC: &[u8; 8] = b"!<arch>\n";

/// An ar archive at `offset`; its members become a tree, and members that are themselves
/// archives or compressed (a package's `data.tar.xz`) are walked one level deeper.
pub(super) fn ar(scan: &mut Scan) -> Option<usize> {
    let (data, offset, within, limits) = (scan.data, scan.offset, scan.within, scan.limits);
    let field = |h: &[u8], range: std::ops::Range<usize>| -> String {
        String::from_utf8_lossy(h.get(range).unwrap_or_default())
            .trim_end()
            .to_owned()
    };
    let mut tree = Tree::default();
    let mut members: Vec<(String, std::ops::Range<usize>)> = Vec::new();
    let mut failure = None;
    let mut long_names: &[u8] = &[];
    let mut at = offset.checked_add(AR_MAGIC.len())?;
    while let Some(h) = data.get(at..at + 60) {
        if h.get(58..60) != Some(b"`\n") {
            break; // the archive ended; what follows is for the walk
        }
        let (Ok(size), mode) = (
            field(h, 48..58).parse::<usize>(),
            u32::from_str_radix(&field(h, 40..48), 8).unwrap_or(0o644),
        ) else {
            failure = Some(format!("member at offset {at}: unreadable size"));
            break;
        };
        let body_start = at + 60;
        let Some(body) = body_start
            .checked_add(size)
            .and_then(|end| data.get(body_start..end))
        else {
            failure = Some(format!("member at offset {at}: data runs past the end"));
            at = data.len();
            break;
        };
        let next = body_start + size + size % 2;
        let raw_name = field(h, 0..16);
        let (name, body, body_start) = if raw_name == "/" || raw_name == "/SYM64/" {
            at = next; // the symbol index of a static library: no file
            continue;
        } else if raw_name == "//" {
            long_names = body;
            at = next;
            continue;
        } else if let Some(index) = raw_name.strip_prefix('/') {
            // A GNU long name: an offset into the `//` table, ended by "/\n".
            let name = index
                .parse::<usize>()
                .ok()
                .and_then(|i| long_names.get(i..))
                .and_then(|rest| rest.split(|&b| b == b'\n').next())
                .map(|n| String::from_utf8_lossy(n).trim_end_matches('/').to_owned());
            let Some(name) = name else {
                failure = Some(format!("member at offset {at}: bad long-name reference"));
                break;
            };
            (name, body, body_start)
        } else if let Some(len) = raw_name.strip_prefix("#1/") {
            // A BSD long name, stored at the start of the data.
            let Some(len) = len.parse::<usize>().ok().filter(|&n| n <= body.len()) else {
                failure = Some(format!("member at offset {at}: bad BSD name length"));
                break;
            };
            let (name, rest) = body.split_at(len);
            let name = String::from_utf8_lossy(name)
                .trim_end_matches('\0')
                .to_owned();
            (name, rest, body_start + len)
        } else {
            (raw_name.trim_end_matches('/').to_owned(), body, body_start)
        };
        at = next;
        if body.len() as u64 > scan.cap() {
            failure = Some(format!("{name}: over the size limit"));
            break;
        }
        if tree.entries.len() >= limits.max_files {
            failure = Some(format!(
                "stopped at the limit of {} files",
                limits.max_files
            ));
            break;
        }
        *scan.budget -= body.len() as u64;
        let entry = Entry {
            kind: Kind::File(body.to_vec()),
            mode: (mode & 0o7777) as u16,
            uid: field(h, 28..34).parse().unwrap_or(0),
            gid: field(h, 34..40).parse().unwrap_or(0),
        };
        if let Err(e) = tree.insert(Path::new(&name), entry) {
            failure = Some(e.to_string());
            break;
        }
        members.push((name, body_start..body_start + body.len()));
    }
    let end = at.min(data.len());
    let label = format!("{within} > ar@{offset}");
    scan.record_filesystem(data.get(offset..end)?, "ar", failure, tree);
    walk_members(scan, &members, &label);
    Some(end - offset)
}
