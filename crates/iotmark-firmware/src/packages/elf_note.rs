//! The packaging metadata an ELF file carries about itself: systemd's "ELF packaging
//! metadata" note (`.note.package`, owner `FDO`, type `0xcafe1a7e`), a JSON object naming the
//! package the binary was built in (`{"type":"deb","os":"ubuntu","name":"krb5",
//! "version":"1.22.1-2ubuntu4","architecture":"amd64"}`). Fedora builds every binary with it,
//! and Ubuntu does from 26.04; a program copied out of its package keeps it.
//!
//! Only the note segments the program headers list are read, each bounded, so a hostile file
//! costs at most its headers.

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::Elf;
use goblin::elf::header::{EI_CLASS, EI_DATA, ELFCLASS64, ELFDATA2MSB};
use goblin::elf::program_header::{PT_NOTE, ProgramHeader};
use serde::Deserialize;

use crate::reader::{ByteOrder, Reader};

/// The note's owner and type (systemd's specification).
const OWNER: &[u8] = b"FDO\0";
const NOTE_TYPE: u32 = 0xcafe_1a7e;
/// Program headers looked at, and the largest note segment read.
const MAX_HEADERS: usize = 64;
const MAX_NOTE: usize = 64 << 10;

/// What the note says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PackageNote {
    /// `deb`, `rpm`, `apk` …
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub os: Option<String>,
    /// The package's name: the source package's on Debian and Ubuntu, the spec's on Fedora.
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub architecture: Option<String>,
}

/// The package note of an ELF file, if it has one that reads. A program can carry several:
/// the C runtime objects it was linked with bring their own (glibc's crt files name glibc),
/// and the linker's note for the program itself comes after them, so the last one is the
/// program's.
pub fn read(data: &[u8]) -> Option<PackageNote> {
    // The headers through goblin (as the hardening checks read them); the notes ourselves,
    // bounded, since only the last package note of each segment matters.
    let header = Elf::parse_header(data).ok()?;
    let order = match header.e_ident.get(EI_DATA)? {
        &ELFDATA2MSB => ByteOrder::Big,
        _ => ByteOrder::Little,
    };
    let ctx = Ctx::new(
        if header.e_ident.get(EI_CLASS) == Some(&ELFCLASS64) {
            Container::Big
        } else {
            Container::Little
        },
        if order == ByteOrder::Big {
            Endian::Big
        } else {
            Endian::Little
        },
    );
    let count = usize::from(header.e_phnum).min(MAX_HEADERS);
    let headers =
        ProgramHeader::parse(data, usize::try_from(header.e_phoff).ok()?, count, ctx).ok()?;
    let mut last = None;
    for ph in headers.iter().filter(|ph| ph.p_type == PT_NOTE) {
        let (Ok(offset), Ok(size)) = (usize::try_from(ph.p_offset), usize::try_from(ph.p_filesz))
        else {
            continue;
        };
        // A segment cut short by the file's end is not read: its last note, the program's
        // own, may be the part missing.
        if size > MAX_NOTE {
            continue;
        }
        let Some(segment) = data.get(offset..offset.checked_add(size)?) else {
            continue;
        };
        if let Some(note) = in_segment(segment, order) {
            last = Some(note);
        }
    }
    last
}

/// The last package note of one segment (name and descriptor each padded to four bytes).
fn in_segment(segment: &[u8], order: ByteOrder) -> Option<PackageNote> {
    let mut r = Reader::new(segment, 0);
    let mut last = None;
    while r.remaining() >= 12 {
        let Some((kind, name, desc)) = next_note(&mut r, order) else {
            break;
        };
        if kind == NOTE_TYPE && name == OWNER {
            let json = desc.split(|b| *b == 0).next().unwrap_or_default();
            if let Ok(note) = serde_json::from_slice(json) {
                last = Some(note);
            }
        }
    }
    last
}

/// One note: its type, owner name and descriptor; the reader moves past its padding.
fn next_note<'a>(r: &mut Reader<'a>, order: ByteOrder) -> Option<(u32, &'a [u8], &'a [u8])> {
    let name_size = usize::try_from(r.u32(order, "note name size").ok()?).ok()?;
    let desc_size = usize::try_from(r.u32(order, "note descriptor size").ok()?).ok()?;
    let kind = r.u32(order, "note type").ok()?;
    let name = r.take(name_size, "note name").ok()?;
    r.skip(
        name_size.next_multiple_of(4) - name_size,
        "note name padding",
    )
    .ok()?;
    let desc = r.take(desc_size, "note descriptor").ok()?;
    // The last note of a segment may end without its padding.
    let _ = r.skip(
        desc_size.next_multiple_of(4) - desc_size,
        "note descriptor padding",
    );
    Some((kind, name, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit little-endian ELF header with one PT_NOTE segment holding `notes`.
    fn elf_with(notes: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 64 + 56];
        f[..6].copy_from_slice(b"\x7fELF\x02\x01");
        f[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        f[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        f[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let ph = 64;
        f[ph..ph + 4].copy_from_slice(&4u32.to_le_bytes());
        f[ph + 8..ph + 16].copy_from_slice(&120u64.to_le_bytes());
        f[ph + 32..ph + 40].copy_from_slice(&(notes.len() as u64).to_le_bytes());
        f.extend_from_slice(notes);
        f
    }

    fn note(owner: &[u8], kind: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&(owner.len() as u32).to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&kind.to_le_bytes());
        n.extend_from_slice(owner);
        n.resize(n.len().next_multiple_of(4), 0);
        n.extend_from_slice(desc);
        n.resize(n.len().next_multiple_of(4), 0);
        n
    }

    #[test]
    fn the_package_note_is_found_after_other_notes() {
        let json = br#"{"type":"deb","os":"ubuntu","name":"krb5","version":"1.22.1-2ubuntu4","architecture":"amd64"}"#;
        // glibc's crt objects bring glibc's note first; the program's own comes last.
        let mut notes = note(b"GNU\0", 3, &[0xab; 20]);
        notes.extend(note(
            OWNER,
            NOTE_TYPE,
            br#"{"type":"deb","os":"ubuntu","name":"glibc","version":"2.42-0ubuntu3"}"#,
        ));
        let mut desc = json.to_vec();
        desc.push(0);
        notes.extend(note(OWNER, NOTE_TYPE, &desc));
        let found = read(&elf_with(&notes)).unwrap();
        assert_eq!(
            (
                found.kind.as_str(),
                found.name.as_str(),
                found.version.as_str()
            ),
            ("deb", "krb5", "1.22.1-2ubuntu4")
        );
        assert_eq!(found.os.as_deref(), Some("ubuntu"));
        // Another owner, a cut segment, or not ELF at all: nothing.
        assert_eq!(read(&elf_with(&note(b"XYZ\0", NOTE_TYPE, json))), None);
        let whole = elf_with(&notes);
        assert_eq!(read(&whole[..whole.len() - 10]), None);
        assert_eq!(read(b"#!/bin/sh\n"), None);
    }
}
