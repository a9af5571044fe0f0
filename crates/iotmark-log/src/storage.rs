//! Where a log keeps its tiles, entry bundles, checkpoint and envelopes.
//!
//! [`DirStorage`] is a directory laid out as a tlog-tiles prefix (`checkpoint`, `tile/…`), so it
//! can be served as static files, plus `envelopes/<2 hex>/<64 hex>` for the attestation
//! envelopes that leaves refer to by SHA-256. Every write is durable before it returns:
//! written to a temporary file in the same directory, fsynced, renamed over the target, and
//! the directory fsynced — so a crash leaves either the old or the new file, never a torn one.
//!
//! [`Storage::write_batch`] does the same for a whole batch of tiles and the envelopes their
//! leaves name, in stages: every temporary file is written, then all are fsynced at once,
//! renamed, and each directory they went into is fsynced once. A journaling filesystem commits fsyncs that are waiting together in one
//! journal commit, so a batch costs about two commits instead of two per file. Nothing is
//! renamed before its data is durable, and nothing returns before every rename is durable.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::merkle::{self, Hash};
use crate::tiles::{TileError, TileId, TileKind, TileReader};

/// A storage failure, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} already exists with different contents; a full tile or an envelope never changes"
    )]
    Conflict { path: String },
    #[error("{path} is locked by another writer")]
    Locked { path: PathBuf },
    #[error("{url}: {message}")]
    Remote { url: String, message: String },
    #[error("{what} is read-only: a log is written only by its own sequencer")]
    ReadOnly { what: String },
    #[error(
        "{path} is a symbolic link; a log writes only regular files and directories, so a link was planted there: remove it"
    )]
    Symlink { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_owned(),
        source,
    }
}

/// One tile or entry bundle for [`Storage::write_batch`].
#[derive(Debug, Clone, Copy)]
pub struct TileWrite<'a> {
    pub kind: TileKind,
    pub id: TileId,
    pub bytes: &'a [u8],
    /// As for [`Storage::write_tile`].
    pub replace: bool,
}

/// One envelope for [`Storage::write_batch`], stored under its SHA-256.
#[derive(Debug, Clone, Copy)]
pub struct EnvelopeWrite<'a> {
    pub digest: Hash,
    pub bytes: &'a [u8],
}

/// Storage behind a log. Writes must be durable when they return.
pub trait Storage: Send {
    /// A tile or entry bundle; `Ok(None)` if it does not exist.
    fn read_tile(&self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, StorageError>;
    /// Writes a tile or entry bundle. A full tile that exists with other contents is refused
    /// with [`StorageError::Conflict`] unless `replace` is set (used only for tiles beyond the
    /// last checkpoint, left by a batch that crashed before it was committed).
    fn write_tile(
        &self,
        kind: TileKind,
        id: TileId,
        bytes: &[u8],
        replace: bool,
    ) -> Result<(), StorageError>;
    /// Writes envelopes and tiles or bundles of one batch, each as [`Storage::write_envelope`]
    /// or [`Storage::write_tile`] would; all are durable when it returns. After an error some
    /// may have been written: like anything beyond the committed checkpoint, the next batch
    /// overwrites the tiles, and an envelope no leaf names is harmless. The default writes
    /// them one by one.
    fn write_batch(
        &self,
        envelopes: &[EnvelopeWrite<'_>],
        tiles: &[TileWrite<'_>],
    ) -> Result<(), StorageError> {
        envelopes
            .iter()
            .try_for_each(|e| self.write_envelope(&e.digest, e.bytes))?;
        tiles
            .iter()
            .try_for_each(|t| self.write_tile(t.kind, t.id, t.bytes, t.replace))
    }
    /// The current signed checkpoint.
    fn read_checkpoint(&self) -> Result<Option<Vec<u8>>, StorageError>;
    /// Replaces the signed checkpoint (the commit point of a batch).
    fn write_checkpoint(&self, bytes: &[u8]) -> Result<(), StorageError>;
    /// An envelope by its SHA-256.
    fn read_envelope(&self, digest: &Hash) -> Result<Option<Vec<u8>>, StorageError>;
    /// Stores an envelope under its SHA-256 (idempotent).
    fn write_envelope(&self, digest: &Hash, bytes: &[u8]) -> Result<(), StorageError>;
}

/// Where a writer stages its temporary files, below the log's root.
const TEMP_DIR: &str = ".tmp";

/// A directory of tiles (the default storage).
#[derive(Debug)]
pub struct DirStorage {
    root: PathBuf,
    // Held for the storage's lifetime: the OS lock stops a second writer on the same log.
    // `None` for a read-only view, which refuses writes.
    lock: Option<File>,
    counter: AtomicU64,
}

impl DirStorage {
    /// Opens (creating if needed) a log directory and takes its writer lock.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(io_err(&root))?;
        let lock_path = root.join(".lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StorageError::Locked { path: root });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let storage = Self {
            root,
            lock: Some(lock),
            counter: AtomicU64::new(0),
        };
        storage.ensure_dir(&storage.root.join(TEMP_DIR))?;
        storage.remove_temporaries()?;
        Ok(storage)
    }

    /// Opens an existing log directory for reading only, without the writer lock, so a log
    /// can be proven from or audited while its writer runs. Reads see whole files only (every
    /// write is an atomic rename), and the checkpoint is read first, so every tile it needs is
    /// already durable.
    pub fn open_read_only(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        if !root.is_dir() {
            return Err(io_err(&root)(io::Error::new(
                io::ErrorKind::NotFound,
                "no such log directory",
            )));
        }
        Ok(Self {
            root,
            lock: None,
            counter: AtomicU64::new(0),
        })
    }

    fn writable(&self) -> Result<(), StorageError> {
        match self.lock {
            Some(_) => Ok(()),
            None => Err(StorageError::ReadOnly {
                what: self.root.display().to_string(),
            }),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Path of a tile or bundle file.
    pub fn tile_path(&self, kind: TileKind, id: TileId) -> PathBuf {
        self.root.join(id.path(kind))
    }

    fn envelope_rel(digest: &Hash) -> String {
        let h = merkle::hex(digest);
        format!("envelopes/{}/{h}", &h[..2])
    }

    /// Reads the file at `rel` below the root without following a symbolic link at any step.
    /// The log writes only regular files in real directories, so a link below the root was
    /// planted, and must not make the log read (and serve) the file it points to.
    fn read_opt(&self, rel: &str) -> Result<Option<Vec<u8>>, StorageError> {
        use std::io::Read as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut at = self.root.clone();
        for component in Path::new(rel)
            .parent()
            .into_iter()
            .flat_map(Path::components)
        {
            at.push(component);
            match fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(StorageError::Symlink { path: at });
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(&at)(e)),
            }
        }
        let path = self.root.join(rel);
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(StorageError::Symlink { path });
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err(&path))?;
        Ok(Some(bytes))
    }

    /// Removes the temporary files a crash left behind, all of which are in `.tmp/` (and, for
    /// a log written before temporaries had their own directory, `.tmp-*` files at the root):
    /// with the writer lock held no write is under way, so none is in use. Only that one
    /// directory is read, so opening costs nothing however many tiles and envelopes the log
    /// holds. Links are neither followed nor kept. Returns how many were removed.
    fn remove_temporaries(&self) -> Result<usize, StorageError> {
        let mut removed = 0;
        for (dir, only_prefixed) in [(self.root.join(TEMP_DIR), false), (self.root.clone(), true)] {
            let mut cleaned = false;
            for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
                let entry = entry.map_err(io_err(&dir))?;
                let kind = entry.file_type().map_err(io_err(&entry.path()))?;
                let prefixed = entry.file_name().as_encoded_bytes().starts_with(b".tmp-");
                if !kind.is_dir() && (prefixed || !only_prefixed) {
                    fs::remove_file(entry.path()).map_err(io_err(&entry.path()))?;
                    removed += 1;
                    cleaned = true;
                }
            }
            if cleaned {
                sync_dir(&dir)?;
            }
        }
        Ok(removed)
    }

    /// Creates `dir` and any missing parents, fsyncing each parent that gained an entry.
    fn ensure_dir(&self, dir: &Path) -> Result<(), StorageError> {
        let mut grown = BTreeSet::new();
        self.create_dirs(dir, &mut grown)?;
        grown.iter().try_for_each(|d| sync_dir(d))
    }

    /// Creates `dir` and any missing parents, and adds each parent that gained an entry to
    /// `grown`: the caller must fsync those before it relies on the new directories.
    fn create_dirs(&self, dir: &Path, grown: &mut BTreeSet<PathBuf>) -> Result<(), StorageError> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dirs(parent, grown)?;
            match fs::create_dir(dir) {
                Ok(()) => {
                    grown.insert(parent.to_owned());
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(dir)(e)),
            }
        }
        Ok(())
    }

    /// A new temporary file's path, in `.tmp/`: written and fsynced there, then renamed into
    /// place (the same filesystem, so the rename is atomic) and the target directory fsynced.
    fn temp_path(&self) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.root
            .join(TEMP_DIR)
            .join(format!(".tmp-{}-{n}", std::process::id()))
    }

    /// Whether a tile must be written: a full tile that already holds these bytes need not be,
    /// and one that holds other bytes may be replaced only if `replace` is set.
    fn tile_needs_write(
        &self,
        rel: &str,
        id: TileId,
        bytes: &[u8],
        replace: bool,
    ) -> Result<bool, StorageError> {
        if id.is_full()
            && let Some(existing) = self.read_opt(rel)?
        {
            if existing == bytes {
                return Ok(false);
            }
            if !replace {
                return Err(StorageError::Conflict {
                    path: rel.to_owned(),
                });
            }
        }
        Ok(true)
    }

    /// Whether an envelope must be written: one already stored with these bytes need not be.
    /// A stored file with other bytes that still match the digest is kept (and the write
    /// refused); one that does not (torn or altered) is replaced.
    fn envelope_needs_write(
        &self,
        rel: &str,
        digest: &Hash,
        bytes: &[u8],
    ) -> Result<bool, StorageError> {
        if let Some(existing) = self.read_opt(rel)? {
            if existing == bytes {
                return Ok(false);
            }
            if merkle::sha256(&existing) == *digest {
                return Err(StorageError::Conflict {
                    path: rel.to_owned(),
                });
            }
        }
        Ok(true)
    }

    /// Durable atomic write: temp file, fsync, rename, fsync directory.
    fn write_atomic(&self, rel: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.root.join(rel);
        let dir = path.parent().unwrap_or(&self.root).to_owned();
        self.ensure_dir(&dir)?;
        let tmp = self.temp_path();
        let result = (|| {
            let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(bytes).map_err(io_err(&tmp))?;
            f.sync_all().map_err(io_err(&tmp))?;
            drop(f);
            fs::rename(&tmp, &path).map_err(io_err(&path))?;
            sync_dir(&dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Most temporary files [`DirStorage::write_batch`] holds open at once (a batch of 4096
/// entries writes about 35 files; the usual limit on open files is 1024).
const STAGED_FILES: usize = 256;

/// Most fsyncs [`for_each_at_once`] keeps waiting together. The threads only wait for the disk.
const SYNC_THREADS: usize = 64;

/// Runs `f` on every item from up to [`SYNC_THREADS`] threads, so that their fsyncs wait
/// together and the filesystem can commit them together; one after another, each would wait
/// for a journal commit of its own. Returns the first error.
fn for_each_at_once<T: Sync>(
    items: &[T],
    f: impl Fn(&T) -> Result<(), StorageError> + Sync,
) -> Result<(), StorageError> {
    if items.len() < 2 {
        return items.iter().try_for_each(f);
    }
    let next = AtomicUsize::new(0);
    let work = || -> Result<(), StorageError> {
        while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
            f(item)?;
        }
        Ok(())
    };
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for _ in 1..items.len().min(SYNC_THREADS) {
            // Without another thread the work is still done, only less of it at once.
            match std::thread::Builder::new().spawn_scoped(scope, work) {
                Ok(h) => handles.push(h),
                Err(_) => break,
            }
        }
        let mut result = work();
        for h in handles {
            let r = h
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            result = result.and(r);
        }
        result
    })
}

/// A tile's temporary file on its way to `path`.
#[derive(Debug)]
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    file: File,
    renamed: bool,
}

impl Storage for DirStorage {
    fn read_tile(&self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, StorageError> {
        self.read_opt(&id.path(kind))
    }

    fn write_tile(
        &self,
        kind: TileKind,
        id: TileId,
        bytes: &[u8],
        replace: bool,
    ) -> Result<(), StorageError> {
        self.writable()?;
        let rel = id.path(kind);
        if !self.tile_needs_write(&rel, id, bytes, replace)? {
            return Ok(());
        }
        self.write_atomic(&rel, bytes)
    }

    fn write_batch(
        &self,
        envelopes: &[EnvelopeWrite<'_>],
        tiles: &[TileWrite<'_>],
    ) -> Result<(), StorageError> {
        self.writable()?;
        // What must be written, by path relative to the root; a leaf named twice in one batch
        // has its envelope written once.
        let mut files: Vec<(String, &[u8])> = Vec::with_capacity(envelopes.len() + tiles.len());
        let mut seen = BTreeSet::new();
        for e in envelopes {
            let rel = Self::envelope_rel(&e.digest);
            if seen.insert(e.digest) && self.envelope_needs_write(&rel, &e.digest, e.bytes)? {
                files.push((rel, e.bytes));
            }
        }
        for t in tiles {
            let rel = t.id.path(t.kind);
            if self.tile_needs_write(&rel, t.id, t.bytes, t.replace)? {
                files.push((rel, t.bytes));
            }
        }
        let mut staged: Vec<Staged> = Vec::with_capacity(files.len().min(STAGED_FILES));
        let result = (|| {
            // Directories that gained an entry (a new directory or a renamed file).
            let mut dirs = BTreeSet::new();
            // In groups, so that a huge batch does not hold more files open than a process may.
            for group in files.chunks(STAGED_FILES) {
                staged.clear();
                for (rel, bytes) in group {
                    let path = self.root.join(rel);
                    let dir = path.parent().unwrap_or(&self.root).to_owned();
                    self.create_dirs(&dir, &mut dirs)?;
                    let tmp = self.temp_path();
                    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
                    if let Err(e) = file.write_all(bytes) {
                        let _ = fs::remove_file(&tmp);
                        return Err(io_err(&tmp)(e));
                    }
                    staged.push(Staged {
                        tmp,
                        path,
                        file,
                        renamed: false,
                    });
                    dirs.insert(dir);
                }
                // Data first: no rename may point at bytes that are not yet on disk.
                for_each_at_once(&staged, |s| s.file.sync_all().map_err(io_err(&s.tmp)))?;
                for s in &mut staged {
                    fs::rename(&s.tmp, &s.path).map_err(io_err(&s.path))?;
                    s.renamed = true;
                }
            }
            let dirs: Vec<PathBuf> = dirs.into_iter().collect();
            for_each_at_once(&dirs, |d| sync_dir(d))
        })();
        if result.is_err() {
            for s in staged.iter().filter(|s| !s.renamed) {
                let _ = fs::remove_file(&s.tmp);
            }
        }
        result
    }

    fn read_checkpoint(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.read_opt("checkpoint")
    }

    fn write_checkpoint(&self, bytes: &[u8]) -> Result<(), StorageError> {
        self.writable()?;
        self.write_atomic("checkpoint", bytes)
    }

    fn read_envelope(&self, digest: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        self.read_opt(&Self::envelope_rel(digest))
    }

    fn write_envelope(&self, digest: &Hash, bytes: &[u8]) -> Result<(), StorageError> {
        self.writable()?;
        let rel = Self::envelope_rel(digest);
        if !self.envelope_needs_write(&rel, digest, bytes)? {
            return Ok(());
        }
        self.write_atomic(&rel, bytes)
    }
}

/// A storage shared between the log's writer and other threads (a registry writes envelopes
/// from its request handlers while the sequencer appends).
impl<T: Storage + Sync + ?Sized> Storage for std::sync::Arc<T> {
    fn read_tile(&self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).read_tile(kind, id)
    }
    fn write_tile(
        &self,
        kind: TileKind,
        id: TileId,
        bytes: &[u8],
        replace: bool,
    ) -> Result<(), StorageError> {
        (**self).write_tile(kind, id, bytes, replace)
    }
    fn write_batch(
        &self,
        envelopes: &[EnvelopeWrite<'_>],
        tiles: &[TileWrite<'_>],
    ) -> Result<(), StorageError> {
        (**self).write_batch(envelopes, tiles)
    }
    fn read_checkpoint(&self) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).read_checkpoint()
    }
    fn write_checkpoint(&self, bytes: &[u8]) -> Result<(), StorageError> {
        (**self).write_checkpoint(bytes)
    }
    fn read_envelope(&self, digest: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).read_envelope(digest)
    }
    fn write_envelope(&self, digest: &Hash, bytes: &[u8]) -> Result<(), StorageError> {
        (**self).write_envelope(digest, bytes)
    }
}

/// Lets tile algorithms read from any storage.
#[derive(Debug)]
pub struct StorageTiles<'s, S: ?Sized>(pub &'s S);

impl<S: Storage + ?Sized> TileReader for StorageTiles<'_, S> {
    fn read_tile(&mut self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, TileError> {
        self.0.read_tile(kind, id).map_err(|e| TileError::Storage {
            path: id.path(kind),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use super::*;

    fn full(index: u64) -> TileId {
        TileId {
            level: 0,
            index,
            width: 256,
        }
    }

    #[test]
    fn full_tiles_are_write_once_partial_tiles_may_grow() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        s.write_tile(TileKind::Hashes, full(1234), b"a", false)
            .unwrap();
        assert_eq!(
            s.read_tile(TileKind::Hashes, full(1234)).unwrap().unwrap(),
            b"a"
        );
        assert!(dir.path().join("tile/0/x001/234").is_file());
        s.write_tile(TileKind::Hashes, full(1234), b"a", false)
            .unwrap();
        let err = s
            .write_tile(TileKind::Hashes, full(1234), b"b", false)
            .unwrap_err();
        assert!(matches!(&err, StorageError::Conflict { path } if path == "tile/0/x001/234"));
        s.write_tile(TileKind::Hashes, full(1234), b"b", true)
            .unwrap();
        let p = TileId {
            level: 0,
            index: 0,
            width: 3,
        };
        s.write_tile(TileKind::Entries, p, b"x", false).unwrap();
        s.write_tile(TileKind::Entries, p, b"y", false).unwrap();
        assert!(dir.path().join("tile/entries/000.p/3").is_file());
        // No temporary files are left behind.
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    fn write(kind: TileKind, id: TileId, bytes: &[u8]) -> TileWrite<'_> {
        TileWrite {
            kind,
            id,
            bytes,
            replace: false,
        }
    }

    #[test]
    fn a_batch_of_tiles_lands_in_new_directories_and_keeps_full_tiles_write_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        let partial = TileId {
            level: 1,
            index: 0,
            width: 5,
        };
        let batch = [
            write(TileKind::Entries, full(0), b"bundle 0"),
            write(TileKind::Entries, full(1000), b"bundle 1000"),
            write(TileKind::Hashes, full(1000), b"hashes 1000"),
            write(TileKind::Hashes, partial, b"partial"),
        ];
        s.write_batch(&[], &batch).unwrap();
        for t in &batch {
            assert_eq!(s.read_tile(t.kind, t.id).unwrap().unwrap(), t.bytes);
        }
        assert!(dir.path().join("tile/entries/x001/000").is_file());
        assert!(dir.path().join("tile/1/000.p/5").is_file());
        // The same full tiles again are accepted; a changed one is refused, and the batch
        // leaves neither its other tiles nor temporary files behind.
        s.write_batch(&[], &batch[..2]).unwrap();
        let grown = TileId {
            level: 1,
            index: 0,
            width: 6,
        };
        let err = s
            .write_batch(
                &[],
                &[
                    write(TileKind::Hashes, grown, b"grown"),
                    write(TileKind::Entries, full(1000), b"other"),
                ],
            )
            .unwrap_err();
        assert!(
            matches!(&err, StorageError::Conflict { path } if path == "tile/entries/x001/000"),
            "{err}"
        );
        assert!(s.read_tile(TileKind::Hashes, grown).unwrap().is_none());
        assert_eq!(
            s.read_tile(TileKind::Entries, full(1000)).unwrap().unwrap(),
            b"bundle 1000"
        );
        let mut replacing = write(TileKind::Entries, full(1000), b"other");
        replacing.replace = true;
        s.write_batch(&[], &[replacing]).unwrap();
        assert_eq!(
            s.read_tile(TileKind::Entries, full(1000)).unwrap().unwrap(),
            b"other"
        );
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_batch_larger_than_one_group_of_open_files_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        let n = 2 * STAGED_FILES as u64 + 3;
        let bodies: Vec<String> = (0..n).map(|i| format!("tile {i}")).collect();
        let batch: Vec<TileWrite<'_>> = bodies
            .iter()
            .zip(0..)
            .map(|(b, i)| write(TileKind::Hashes, full(i), b.as_bytes()))
            .collect();
        s.write_batch(&[], &batch).unwrap();
        for (b, i) in bodies.iter().zip(0..) {
            assert_eq!(
                s.read_tile(TileKind::Hashes, full(i)).unwrap().unwrap(),
                b.as_bytes()
            );
        }
        assert_eq!(walk(dir.path()).len() as u64, n + 1); // and the lock file
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _s = DirStorage::open(dir.path()).unwrap();
        assert!(matches!(
            DirStorage::open(dir.path()),
            Err(StorageError::Locked { .. })
        ));
    }

    #[test]
    fn envelopes_are_stored_by_digest() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        let d = merkle::sha256(b"env");
        s.write_envelope(&d, b"env").unwrap();
        s.write_envelope(&d, b"env").unwrap();
        assert_eq!(s.read_envelope(&d).unwrap().unwrap(), b"env");
        assert!(matches!(
            s.write_envelope(&d, b"other"),
            Err(StorageError::Conflict { .. })
        ));
        assert!(s.read_envelope(&[0; 32]).unwrap().is_none());
    }

    /// A batch's envelopes land with its tiles; one stored already is left as it is, a torn one
    /// is replaced, and one that conflicts stops the batch before anything is written.
    #[test]
    fn a_batch_writes_envelopes_with_its_tiles() {
        let dir = tempfile::tempdir().unwrap();
        let s = DirStorage::open(dir.path()).unwrap();
        let (a, b, torn) = (
            b"envelope a".as_slice(),
            b"envelope b".as_slice(),
            b"torn c",
        );
        let c = b"envelope c".as_slice();
        let env = |bytes: &'static [u8]| EnvelopeWrite {
            digest: merkle::sha256(bytes),
            bytes,
        };
        s.write_envelope(&merkle::sha256(a), a).unwrap();
        // A crash in the middle of an old write, by hand: the file for c holds other bytes.
        let c_rel = DirStorage::envelope_rel(&merkle::sha256(c));
        fs::create_dir_all(dir.path().join(&c_rel).parent().unwrap()).unwrap();
        fs::write(dir.path().join(&c_rel), torn).unwrap();
        s.write_batch(
            &[env(a), env(b), env(b), env(c)],
            &[write(TileKind::Entries, full(0), b"bundle")],
        )
        .unwrap();
        for bytes in [a, b, c] {
            assert_eq!(
                s.read_envelope(&merkle::sha256(bytes)).unwrap().unwrap(),
                bytes
            );
        }
        assert_eq!(
            s.read_tile(TileKind::Entries, full(0)).unwrap().unwrap(),
            b"bundle"
        );

        let forged = EnvelopeWrite {
            digest: merkle::sha256(a),
            bytes: b"not a",
        };
        let err = s
            .write_batch(&[forged], &[write(TileKind::Entries, full(1), b"next")])
            .unwrap_err();
        assert!(matches!(err, StorageError::Conflict { .. }), "{err}");
        assert!(s.read_tile(TileKind::Entries, full(1)).unwrap().is_none());
        assert!(
            walk(dir.path())
                .iter()
                .all(|p| !p.to_string_lossy().contains(".tmp-")),
            "no temporary files are left"
        );
    }

    fn walk(p: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
