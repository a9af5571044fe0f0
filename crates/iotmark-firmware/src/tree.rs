//! An unpacked filesystem held in memory, and the one safe way to put it on disk.
//!
//! Paths inside an image are untrusted. They are normalised to relative paths without `.`
//! or `..` before they enter a [`Tree`]; a path that would climb out is refused, not fixed.
//! An image may still place an entry under one of its own symlinks (`a` a link to `/etc`,
//! then `a/passwd`): [`Tree::misplaced_entries`] names those, writing skips them, and the
//! scan reports them. Writing ([`crate::extract`]) never resolves a path through a link.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::ScanError;
use crate::extract::OutputDir;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File(Vec<u8>),
    Dir,
    Symlink(PathBuf),
    /// Devices, pipes and sockets: recorded, never created.
    Special(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (`0o755`), without the file type.
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
}

impl Entry {
    pub fn sha256(&self) -> Option<String> {
        match &self.kind {
            Kind::File(data) => Some(hex(&Sha256::digest(data))),
            _ => None,
        }
    }

    pub fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(data) => data.len() as u64,
            _ => 0,
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An entry that the image places under another entry that is not a directory: under a
/// symlink (the classic way to make an extractor write outside its directory) or under a
/// file. It cannot be put on disk where the image says, so it is not extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisplacedEntry {
    pub path: PathBuf,
    /// The entry it lies under.
    pub under: PathBuf,
    /// Where `under` points, when it is a symlink.
    pub link_target: Option<PathBuf>,
}

/// A filesystem from an image: where it was found, what format, and its entries by path.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub entries: BTreeMap<PathBuf, Entry>,
}

/// A path from an image made safe: relative, no `.`, no `..`, no root. `None` when it would
/// leave the tree.
pub fn sanitize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl Tree {
    /// Adds an entry at an image path; refuses paths that escape.
    pub fn insert(&mut self, image_path: &Path, entry: Entry) -> Result<(), ScanError> {
        let path = sanitize(image_path).ok_or_else(|| ScanError::UnsafePath {
            path: image_path.display().to_string(),
        })?;
        if path.as_os_str().is_empty() {
            return Ok(()); // the root directory itself
        }
        self.entries.insert(path, entry);
        Ok(())
    }

    /// The regular file at `path` (relative, as in the tree), if any.
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.entries.get(Path::new(path.trim_start_matches('/'))) {
            Some(Entry {
                kind: Kind::File(data),
                ..
            }) => Some(data),
            _ => None,
        }
    }

    /// Regular files, with their paths.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &[u8])> {
        self.entries.iter().filter_map(|(p, e)| match &e.kind {
            Kind::File(data) => Some((p.as_path(), data.as_slice())),
            _ => None,
        })
    }

    /// Entries under a symlink or a file of the same tree, in path order.
    pub fn misplaced_entries(&self) -> Vec<MisplacedEntry> {
        let mut out = Vec::new();
        // Paths sort component by component, so whatever lies under an entry follows it
        // directly: one pass that remembers the last entry that is not a directory.
        let mut blocking: Option<(&PathBuf, &Entry)> = None;
        for (path, entry) in &self.entries {
            if let Some((under, blocker)) = blocking
                && path.starts_with(under)
            {
                out.push(MisplacedEntry {
                    path: path.clone(),
                    under: under.clone(),
                    link_target: match &blocker.kind {
                        Kind::Symlink(target) => Some(target.clone()),
                        _ => None,
                    },
                });
                continue;
            }
            blocking = (entry.kind != Kind::Dir).then_some((path, entry));
        }
        out
    }

    /// Writes the tree under `root`, which must not exist yet or be an empty directory
    /// (not a link). Symlinks are created as symlinks and never followed; special files and
    /// [misplaced entries](Self::misplaced_entries) are skipped.
    pub fn write_to(&self, root: &Path) -> Result<(), ScanError> {
        OutputDir::create(root)?.write_here(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_refuses_escapes() {
        assert_eq!(
            sanitize(Path::new("/etc/./passwd")),
            Some(PathBuf::from("etc/passwd"))
        );
        assert_eq!(sanitize(Path::new("../../etc/passwd")), None);
        assert_eq!(sanitize(Path::new("a/../../b")), None);
    }

    #[test]
    fn writing_skips_what_lies_under_a_planted_symlink_and_writes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let mut tree = Tree::default();
        let e = |kind| Entry {
            kind,
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        tree.insert(
            Path::new("/escape"),
            e(Kind::Symlink(outside.path().to_owned())),
        )
        .unwrap();
        tree.insert(Path::new("/escape/pwned"), e(Kind::File(b"x".to_vec())))
            .unwrap();
        tree.insert(Path::new("/file"), e(Kind::File(b"y".to_vec())))
            .unwrap();
        tree.insert(Path::new("/file/under"), e(Kind::File(b"z".to_vec())))
            .unwrap();
        tree.insert(Path::new("/etc/passwd"), e(Kind::File(b"root".to_vec())))
            .unwrap();
        assert_eq!(
            tree.misplaced_entries(),
            [
                MisplacedEntry {
                    path: "escape/pwned".into(),
                    under: "escape".into(),
                    link_target: Some(outside.path().to_owned()),
                },
                MisplacedEntry {
                    path: "file/under".into(),
                    under: "file".into(),
                    link_target: None,
                },
            ]
        );
        let out = dir.path().join("out");
        tree.write_to(&out).unwrap();
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "nothing was written outside"
        );
        assert_eq!(std::fs::read(out.join("etc/passwd")).unwrap(), b"root");
        assert_eq!(std::fs::read(out.join("file")).unwrap(), b"y");
        assert!(
            std::fs::symlink_metadata(out.join("escape"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
}
