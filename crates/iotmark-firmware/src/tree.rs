//! An unpacked filesystem held in memory, and the one safe way to put it on disk.
//!
//! Paths inside an image are untrusted. They are normalised to relative paths without `.`
//! or `..` before they enter a [`Tree`]; a path that would climb out is refused, not fixed.
//! Writing ([`crate::extract`]) never resolves a path through a link, whether the image
//! planted it or it was in the output directory.

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

    /// Writes the tree under `root`, which must not exist yet or be an empty directory
    /// (not a link). Symlinks are created as symlinks and never followed; special files are
    /// skipped.
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
    fn writing_never_follows_a_planted_symlink() {
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
        let err = tree.write_to(&dir.path().join("out")).unwrap_err();
        assert!(matches!(err, ScanError::Output { .. }), "{err}");
        assert!(
            std::fs::read_dir(outside.path()).unwrap().next().is_none(),
            "nothing was written outside"
        );
    }
}
