//! Putting unpacked filesystems on disk without ever writing through a link.
//!
//! The output directory must be new or empty, and must not itself be a symbolic link: a
//! `fs0` left there as a link to elsewhere would otherwise take every file meant for it.
//! It is opened once without following links, and everything under it is created relative
//! to a directory descriptor opened the same way (`openat`, `mkdirat`, `symlinkat`, files
//! with `O_CREAT | O_EXCL | O_NOFOLLOW`). So no path is resolved through a link: not one the
//! image planted, and not one that appears while we write. This needs a Unix system.
//!
//! Entries the image places under its own symlinks (or files) are skipped; the scan
//! reports each of them as a finding ([`crate::tree::Tree::misplaced_entries`]).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::ScanError;
use crate::tree::{Kind, Tree};

/// How directories are opened: never through a link, never inherited by a child process.
const DIRECTORY: OFlags = OFlags::DIRECTORY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::RDONLY)
    .union(OFlags::CLOEXEC);

/// A directory that extraction writes into: made by us, or empty when we found it.
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    fd: OwnedFd,
}

impl OutputDir {
    /// Creates `path` (and its missing parents), or takes it when it is an empty directory.
    /// Refuses a symbolic link, something other than a directory, and a directory that holds
    /// anything.
    pub fn create(path: &Path) -> Result<Self, ScanError> {
        let io = |at: &Path| {
            let at = at.to_owned();
            move |source: std::io::Error| ScanError::Output { path: at, source }
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        match std::fs::create_dir(path) {
            // mkdir never follows a link in the last component: whatever is there already is
            // judged below.
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io(path)(e));
            }
            _ => {}
        }
        let fd = rustix::fs::open(path, DIRECTORY, Mode::empty()).map_err(|errno| {
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => ScanError::OutputIsLink {
                    path: path.to_owned(),
                },
                Ok(m) if !m.is_dir() => ScanError::OutputNotDirectory {
                    path: path.to_owned(),
                },
                _ => io(path)(errno.into()),
            }
        })?;
        if let Some(holds) = first_entry(&fd).map_err(|e| io(path)(e.into()))? {
            return Err(ScanError::OutputNotEmpty {
                path: path.to_owned(),
                holds,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            fd,
        })
    }

    /// Writes `tree` into a new directory `name` inside this one (`fs0`, `fs1`, …).
    pub fn write_tree(&self, name: &str, tree: &Tree) -> Result<(), ScanError> {
        let shown = self.path.join(name);
        let io = |errno: Errno| ScanError::Output {
            path: shown.clone(),
            source: errno.into(),
        };
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o777)).map_err(io)?;
        let dir = rustix::fs::openat(&self.fd, name, DIRECTORY, Mode::empty()).map_err(io)?;
        write_entries(dir.as_fd(), &shown, tree)
    }

    /// Writes `tree` straight into this directory.
    pub fn write_here(&self, tree: &Tree) -> Result<(), ScanError> {
        write_entries(self.fd.as_fd(), &self.path, tree)
    }
}

/// The name of something in `dir` other than `.` and `..`, if there is anything.
fn first_entry(dir: &OwnedFd) -> Result<Option<String>, Errno> {
    for entry in rustix::fs::Dir::read_from(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != "." && name != ".." {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Creates the tree's entries under `top`, in path order so that a directory comes before
/// what it holds. Special files are not created; misplaced entries are skipped.
fn write_entries(top: BorrowedFd<'_>, shown: &Path, tree: &Tree) -> Result<(), ScanError> {
    let misplaced: BTreeSet<PathBuf> = tree
        .misplaced_entries()
        .into_iter()
        .map(|m| m.path)
        .collect();
    let mut open = OpenDirs::default();
    for (rel, entry) in &tree.entries {
        let Some(name) = rel.file_name() else {
            continue;
        };
        if misplaced.contains(rel) {
            continue;
        }
        let io = |errno: Errno| ScanError::Output {
            path: shown.join(rel),
            source: errno.into(),
        };
        let dir = open
            .descend(top, rel.parent().unwrap_or(Path::new("")))
            .map_err(io)?;
        match &entry.kind {
            // A directory sorts before what it holds, so it was not made as a parent yet.
            Kind::Dir => rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o777)).map_err(io)?,
            Kind::File(data) => {
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let fd =
                    rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o666)).map_err(io)?;
                std::fs::File::from(fd)
                    .write_all(data)
                    .map_err(|source| ScanError::Output {
                        path: shown.join(rel),
                        source,
                    })?;
            }
            Kind::Symlink(target) => rustix::fs::symlinkat(target, dir, name).map_err(io)?,
            Kind::Special(_) => {}
        }
    }
    Ok(())
}

/// The chain of directories open below the top one, reused while consecutive entries
/// share their parents, so a tree of any size holds only its depth in descriptors.
#[derive(Default)]
struct OpenDirs {
    chain: Vec<(OsString, OwnedFd)>,
}

impl OpenDirs {
    /// The directory `parent` (relative to `top`), opened or made one component at a
    /// time without following links.
    fn descend<'a>(
        &'a mut self,
        top: BorrowedFd<'a>,
        parent: &Path,
    ) -> Result<BorrowedFd<'a>, Errno> {
        let parts: Vec<&OsStr> = parent.iter().collect();
        let shared = self
            .chain
            .iter()
            .zip(&parts)
            .take_while(|((open, _), part)| open.as_os_str() == **part)
            .count();
        self.chain.truncate(shared);
        for part in &parts[shared..] {
            let fd = {
                let at = self.chain.last().map_or(top, |(_, fd)| fd.as_fd());
                match rustix::fs::openat(at, *part, DIRECTORY, Mode::empty()) {
                    Err(Errno::NOENT) => {
                        rustix::fs::mkdirat(at, *part, Mode::from_raw_mode(0o777))?;
                        rustix::fs::openat(at, *part, DIRECTORY, Mode::empty())?
                    }
                    opened => opened?,
                }
            };
            self.chain.push(((*part).to_owned(), fd));
        }
        Ok(self.chain.last().map_or(top, |(_, fd)| fd.as_fd()))
    }
}
