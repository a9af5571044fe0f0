//! The log: durable batched appends, recovery, proofs and audit.
//!
//! A batch is committed by its checkpoint. [`Log::append_batch`] writes the batch's entry
//! bundles and tiles, all made durable together, then signs and durably writes the new
//! checkpoint, and only then returns the entries' indices. After a crash the checkpoint on disk is the last committed
//! tree: [`Log::open`] takes its state from it, and whatever a half-written batch left beyond it
//! is ignored and overwritten by the next batch. Committed tiles are never rewritten: every tile
//! a batch writes lies beyond the previous tree (old partial tiles are superseded by tiles of a
//! different width at a different path).

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::leaf::{LeafError, LeafRecord};
use crate::merkle::{self, Hash, ProofError};
use crate::note::{NoteSigner, NoteVerifier};
use crate::storage::{EnvelopeWrite, Storage, StorageError, StorageTiles, TileWrite};
use crate::tiles::{self, TILE_WIDTH, TileError, TileHashes, TileKind};

/// Errors of the log and of audits.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Tile(#[from] TileError),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Leaf(#[from] LeafError),
    #[error("entry {index}: {source}")]
    Entry {
        index: u64,
        #[source]
        source: LeafError,
    },
    #[error("the log has no checkpoint")]
    NoCheckpoint,
    #[error("entry {index} is not in the tree of size {size}")]
    NoSuchEntry { index: u64, size: u64 },
    #[error("tree size {size} is beyond the current checkpoint's size {current}")]
    BeyondCheckpoint { size: u64, current: u64 },
    #[error("the envelope stored as {digest} has SHA-256 {actual}")]
    EnvelopeDigest { digest: String, actual: String },
    #[error("no envelope is stored under {digest}")]
    NoEnvelope { digest: String },
    #[error("the log shrank: the trusted checkpoint has size {trusted}, the current one {current}")]
    Shrunk { trusted: u64, current: u64 },
    #[error(
        "the current checkpoint (size {current_size}, root {current_root}) is inconsistent with \
         the trusted checkpoint (size {trusted_size}, root {trusted_root}): {reason}"
    )]
    Inconsistent {
        trusted_size: u64,
        trusted_root: String,
        current_size: u64,
        current_root: String,
        reason: String,
    },
}

/// A writable log.
#[derive(Debug)]
pub struct Log<S: Storage> {
    storage: S,
    signer: NoteSigner,
    checkpoint: Checkpoint,
    signed: String,
}

impl<S: Storage> Log<S> {
    /// Opens a log, creating it (with a signed empty checkpoint) if the storage has none. The
    /// origin is the signer's key name. The stored checkpoint must verify with the signer's key.
    pub fn open(storage: S, signer: NoteSigner) -> Result<Self, LogError> {
        let origin = signer.name().to_owned();
        match storage.read_checkpoint()? {
            Some(bytes) => {
                let (cp, _) = checkpoint::open(&bytes, &origin, &[signer.verifier()])?;
                let signed = String::from_utf8_lossy(&bytes).into_owned();
                Ok(Self {
                    storage,
                    signer,
                    checkpoint: cp,
                    signed,
                })
            }
            None => {
                let cp = Checkpoint::empty(&origin);
                let signed = cp.sign(&[&signer])?;
                storage.write_checkpoint(signed.as_bytes())?;
                Ok(Self {
                    storage,
                    signer,
                    checkpoint: cp,
                    signed,
                })
            }
        }
    }

    /// The current (committed) checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The current signed checkpoint note, as served at `<prefix>/checkpoint`.
    pub fn signed_checkpoint(&self) -> &str {
        &self.signed
    }

    /// The verifier key of this log.
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Appends entries as one batch and returns their indices once the batch is durable and
    /// covered by a signed checkpoint. Entries are at most 65 535 bytes.
    pub fn append_batch(&mut self, entries: &[Vec<u8>]) -> Result<Vec<u64>, LogError> {
        self.append_batch_with_envelopes(entries, &[])
    }

    /// Appends entries as one batch, storing the envelopes their leaves name in the same
    /// durable write as the batch's tiles: every envelope is durable before the checkpoint
    /// that commits a leaf naming it, at no extra round of fsyncs.
    pub fn append_batch_with_envelopes(
        &mut self,
        entries: &[Vec<u8>],
        envelopes: &[&[u8]],
    ) -> Result<Vec<u64>, LogError> {
        let old = self.checkpoint.size;
        let envelopes: Vec<EnvelopeWrite<'_>> = envelopes
            .iter()
            .map(|bytes| EnvelopeWrite {
                digest: merkle::sha256(bytes),
                bytes,
            })
            .collect();
        if entries.is_empty() {
            self.storage.write_batch(&envelopes, &[])?;
            return Ok(Vec::new());
        }
        let appended = tiles::append(&mut StorageTiles(&self.storage), old, entries)?;
        // A full tile of the committed tree must never be replaced; anything else at these
        // paths is a leftover of a batch that crashed before its checkpoint.
        let replace = |id: tiles::TileId| {
            tiles::tile_in_tree(old, id.level, id.index).is_none_or(|t| !t.is_full())
        };
        let mut encoded = Vec::with_capacity(appended.bundles.len() + appended.hash_tiles.len());
        for (id, bundle) in &appended.bundles {
            encoded.push((TileKind::Entries, *id, tiles::encode_bundle(bundle)?));
        }
        for (id, hashes) in &appended.hash_tiles {
            encoded.push((TileKind::Hashes, *id, tiles::encode_hash_tile(hashes)));
        }
        // All of the batch's tiles at once: the storage may make them durable together.
        let writes: Vec<TileWrite<'_>> = encoded
            .iter()
            .map(|(kind, id, bytes)| TileWrite {
                kind: *kind,
                id: *id,
                bytes,
                replace: replace(*id),
            })
            .collect();
        self.storage.write_batch(&envelopes, &writes)?;
        let new_size = appended.new_size;
        // The root is read back from the tiles just written, so the checkpoint signs what is
        // on disk.
        let root = TileHashes::new(&mut StorageTiles(&self.storage), new_size).root()?;
        let cp = Checkpoint {
            origin: self.checkpoint.origin.clone(),
            size: new_size,
            root,
            extensions: Vec::new(),
        };
        let signed = cp.sign(&[&self.signer])?;
        self.storage.write_checkpoint(signed.as_bytes())?;
        self.checkpoint = cp;
        self.signed = signed;
        Ok((old..new_size).collect())
    }

    /// Appends leaf records as one batch.
    pub fn append_records(&mut self, records: &[LeafRecord]) -> Result<Vec<u64>, LogError> {
        let entries = records
            .iter()
            .map(LeafRecord::encode)
            .collect::<Result<Vec<_>, _>>()?;
        self.append_batch(&entries)
    }

    /// Stores an attestation envelope beside the tree and returns its SHA-256.
    pub fn put_envelope(&self, envelope: &[u8]) -> Result<Hash, LogError> {
        let digest = merkle::sha256(envelope);
        self.storage.write_envelope(&digest, envelope)?;
        Ok(digest)
    }

    /// Reads an envelope by digest, checking that it still has that digest.
    pub fn envelope(&self, digest: &Hash) -> Result<Vec<u8>, LogError> {
        read_envelope(&self.storage, digest)
    }

    /// The entry at `index` of the current tree.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, LogError> {
        read_entry(&self.storage, self.checkpoint.size, index)
    }

    /// Inclusion proof for `index` in the tree of `size` (≤ the current size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size)?;
        Ok(TileHashes::new(&mut StorageTiles(&self.storage), size).inclusion_proof(index)?)
    }

    /// Consistency proof from the tree of `size1` to the tree of `size2` (≤ the current size).
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, LogError> {
        self.check_size(size2)?;
        Ok(TileHashes::new(&mut StorageTiles(&self.storage), size2).consistency_proof(size1)?)
    }

    /// A C2SP tlog-proof receipt for entry `index` against the current checkpoint.
    pub fn receipt(&self, index: u64) -> Result<crate::receipt::Receipt, LogError> {
        Ok(crate::receipt::Receipt {
            extra: None,
            index,
            proof: self.inclusion_proof(index, self.checkpoint.size)?,
            checkpoint: self.signed.clone(),
        })
    }

    fn check_size(&self, size: u64) -> Result<(), LogError> {
        if size > self.checkpoint.size {
            return Err(LogError::BeyondCheckpoint {
                size,
                current: self.checkpoint.size,
            });
        }
        Ok(())
    }
}

/// A receipt for entry `index` against the signed checkpoint `note` as the log stores it,
/// carrying the entry (the leaf record) as its extra data, so the receipt alone can be checked
/// against an envelope. The note is read, not verified: this is for a log serving its own
/// checkpoint; whoever receives the receipt verifies it.
pub fn receipt_at<S: Storage + ?Sized>(
    storage: &S,
    note: &[u8],
    index: u64,
) -> Result<crate::receipt::Receipt, LogError> {
    let cp = checkpoint::read_unverified(note)?;
    let proof = TileHashes::new(&mut StorageTiles(storage), cp.size).inclusion_proof(index)?;
    Ok(crate::receipt::Receipt {
        extra: Some(read_entry(storage, cp.size, index)?),
        index,
        proof,
        checkpoint: String::from_utf8_lossy(note).into_owned(),
    })
}

/// [`receipt_at`] through `cache`: the proof's tiles and the entry's bundle are read from
/// disk only the first time any checkpoint needs them, so a server keeps answering from memory
/// as its log grows.
pub fn receipt_cached<S: Storage + ?Sized>(
    storage: &S,
    note: &[u8],
    index: u64,
    cache: &tiles::TileCache,
) -> Result<crate::receipt::Receipt, LogError> {
    let cp = checkpoint::read_unverified(note)?;
    let id = entry_tile(cp.size, index)?;
    let mut reader = StorageTiles(storage);
    let proof = TileHashes::with_cache(&mut reader, cp.size, cache).inclusion_proof(index)?;
    let entries = cache.bundle(&mut reader, id, cp.size)?;
    let entry =
        entries
            .get((index % TILE_WIDTH) as usize)
            .cloned()
            .ok_or(LogError::NoSuchEntry {
                index,
                size: cp.size,
            })?;
    Ok(crate::receipt::Receipt {
        extra: Some(entry),
        index,
        proof,
        checkpoint: String::from_utf8_lossy(note).into_owned(),
    })
}

/// Reads an envelope and checks its digest.
pub fn read_envelope<S: Storage + ?Sized>(storage: &S, digest: &Hash) -> Result<Vec<u8>, LogError> {
    let bytes = storage
        .read_envelope(digest)?
        .ok_or_else(|| LogError::NoEnvelope {
            digest: merkle::hex(digest),
        })?;
    let actual = merkle::sha256(&bytes);
    if &actual != digest {
        return Err(LogError::EnvelopeDigest {
            digest: merkle::hex(digest),
            actual: merkle::hex(&actual),
        });
    }
    Ok(bytes)
}

/// Reads entry `index` of the tree of `size` from its entry bundle.
pub fn read_entry<S: Storage + ?Sized>(
    storage: &S,
    size: u64,
    index: u64,
) -> Result<Vec<u8>, LogError> {
    let id = entry_tile(size, index)?;
    let bytes = storage
        .read_tile(TileKind::Entries, id)?
        .ok_or_else(|| TileError::Missing {
            path: id.entries_path(),
            size,
        })?;
    let mut entries = tiles::parse_bundle(id, &bytes)?;
    Ok(entries.swap_remove((index % TILE_WIDTH) as usize))
}

/// The bundle that holds entry `index` of the tree of `size`.
fn entry_tile(size: u64, index: u64) -> Result<tiles::TileId, LogError> {
    tiles::tile_in_tree(size, 0, index / TILE_WIDTH)
        .filter(|_| index < size)
        .ok_or(LogError::NoSuchEntry { index, size })
}

/// Calls `visit` with every entry of the tree of `size` from index `start` on, decoded as a leaf
/// record, in order, reading one entry bundle at a time. `visit` returns `false` to stop early.
pub fn visit_records<S: Storage + ?Sized>(
    storage: &S,
    size: u64,
    start: u64,
    mut visit: impl FnMut(u64, LeafRecord) -> Result<bool, LogError>,
) -> Result<(), LogError> {
    let mut index = start;
    while index < size {
        let id = tiles::tile_in_tree(size, 0, index / TILE_WIDTH)
            .ok_or(LogError::NoSuchEntry { index, size })?;
        let bytes =
            storage
                .read_tile(TileKind::Entries, id)?
                .ok_or_else(|| TileError::Missing {
                    path: id.entries_path(),
                    size,
                })?;
        let first = id.index * TILE_WIDTH;
        for (i, entry) in tiles::parse_bundle(id, &bytes)?.into_iter().enumerate() {
            let at = first + i as u64;
            if at < index {
                continue;
            }
            let record = LeafRecord::decode(&entry).map_err(|e| LogError::Entry {
                index: at,
                source: e,
            })?;
            if !visit(at, record)? {
                return Ok(());
            }
        }
        index = first + u64::from(id.width);
    }
    Ok(())
}

/// The first entry of the tree of `size` whose leaf records the envelope with SHA-256
/// `digest`, with its index. Reads every entry bundle up to it.
pub fn find_envelope<S: Storage + ?Sized>(
    storage: &S,
    size: u64,
    digest: &Hash,
) -> Result<Option<(u64, LeafRecord)>, LogError> {
    let mut found = None;
    visit_records(storage, size, 0, |index, record| {
        if &record.envelope_digest == digest {
            found = Some((index, record));
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found)
}

/// What an audit checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub trusted: Checkpoint,
    pub current: Checkpoint,
    /// Hash tiles and entry bundles read and checked.
    pub tiles_checked: usize,
}

/// Audits a stored log from a trusted checkpoint to its current one: the current checkpoint's
/// signature (by `verifier`, origin as in `trusted`), every tile and entry bundle of the
/// current tree up to its root, and consistency with the trusted checkpoint. Reports the first
/// problem: the tile and hash position for tiles, the sizes and roots for checkpoints.
pub fn audit<S: Storage + ?Sized>(
    storage: &S,
    verifier: &NoteVerifier,
    trusted: &Checkpoint,
) -> Result<AuditReport, LogError> {
    let bytes = storage.read_checkpoint()?.ok_or(LogError::NoCheckpoint)?;
    let (current, _) = checkpoint::open(&bytes, &trusted.origin, std::slice::from_ref(verifier))?;
    if current.size < trusted.size {
        return Err(LogError::Shrunk {
            trusted: trusted.size,
            current: current.size,
        });
    }
    // Tiles first: a damaged tile would otherwise surface as a vague inconsistency.
    tiles::check_tree(&mut StorageTiles(storage), current.size, &current.root)?;
    let inconsistent = |reason: String| LogError::Inconsistent {
        trusted_size: trusted.size,
        trusted_root: merkle::hex(&trusted.root),
        current_size: current.size,
        current_root: merkle::hex(&current.root),
        reason,
    };
    if trusted.size == 0 {
        if trusted.root != merkle::empty_root() {
            return Err(inconsistent(
                "a size-0 checkpoint must have the empty-tree root".to_owned(),
            ));
        }
    } else {
        let mut reader = StorageTiles(storage);
        let mut hashes = TileHashes::new(&mut reader, current.size);
        let proof = hashes.consistency_proof(trusted.size)?;
        if let Err(e) = merkle::verify_consistency(
            trusted.size,
            current.size,
            &proof,
            &trusted.root,
            &current.root,
        ) {
            let old_root = merkle::range_hash(&mut hashes, 0, trusted.size)?;
            return Err(inconsistent(format!(
                "{e}; the current tiles give root {} at size {}",
                merkle::hex(&old_root),
                trusted.size
            )));
        }
    }
    let all = tiles::tiles_of_tree(current.size);
    let bundles = all.iter().filter(|t| t.level == 0).count();
    Ok(AuditReport {
        trusted: trusted.clone(),
        current,
        tiles_checked: all.len() + bundles,
    })
}
