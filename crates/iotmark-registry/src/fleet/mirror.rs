//! The client's own copy of what a registry's log says: the checkpoint it trusts and keeps, the
//! log's frontier at that checkpoint, and every entry read so far, rebuilt into the records the
//! registry's rules work on.
//!
//! Each sync reads only what was logged since the kept checkpoint, and checks, before anything
//! is kept:
//! - the new checkpoint is signed by the log key the user trusts, under the log's origin;
//! - it does not shrink the log, and at the same size it has the same root;
//! - a consistency proof (built from the log's tiles) links the kept checkpoint to it;
//! - every new entry's leaf hash, appended to the kept frontier, gives the new checkpoint's
//!   root: so each entry read is the one the log holds, and the kept tree is a prefix of the
//!   new one, whatever the tiles said;
//! - each entry's envelope has the digest the entry commits to, and the envelope's payload the
//!   statement digest; the statement reads and is of the entry's kind.
//!
//! An entry that fails any of these is a registry caught serving something its log does not
//! say ([`Caught`]); nothing of that sync is kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use iotmark_attest::dsse::Envelope;
use iotmark_attest::statement::{Predicate, Statement};
use iotmark_log::checkpoint::{self, Checkpoint};
use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::merkle::{self, Frontier, Hash};
use iotmark_log::note::NoteVerifier;
use iotmark_log::remote::HttpLog;
use iotmark_log::storage::{Storage, StorageTiles};
use iotmark_log::tiles::TileHashes;
use serde::{Deserialize, Serialize};

use crate::service::{LoggedAttestation, record_of};
use crate::store::{AttestationRecord, EntryKind, Image};

/// The state file's format.
const FORMAT: u32 = 1;

/// Envelopes fetched at once while reading new entries.
const FETCHERS: usize = 8;

/// One log entry, as the registry's rules read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRecord {
    #[serde(flatten)]
    pub record: AttestationRecord,
    /// For a conformity attestation: the firmware images it covers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

/// What the client keeps of one registry's log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mirror {
    format: u32,
    /// The log's verifier key (`name+id+key`); its name is the log's origin.
    pub log_key: String,
    /// The signed checkpoint last verified, verbatim.
    pub checkpoint: String,
    /// The tree's frontier at that checkpoint, hex.
    frontier: Vec<String>,
    /// Every entry read, in log order.
    pub records: Vec<LoggedRecord>,
    /// Entries that could not be placed: status changes of an attestation the log never held
    /// (the registry refuses those, so each is worth a look), by log index, with why.
    #[serde(default)]
    pub unplaced: Vec<(u64, String)>,
    #[serde(skip)]
    by_envelope: HashMap<String, usize>,
}

/// A registry serving what its log does not say, or a log that broke its promises: named, with
/// what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Caught(pub String);

/// Why a sync did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The log contradicts itself or the kept checkpoint.
    #[error("the registry's log was caught: {0}")]
    Caught(#[from] Caught),
    /// The log could not be read (network, HTTP status): nothing was learned.
    #[error("cannot read the registry's log: {0}")]
    Unreachable(String),
    /// The state file could not be read or written.
    #[error("{path}: {message}")]
    State { path: PathBuf, message: String },
}

/// What a sync did.
#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    pub origin: String,
    /// The checkpoint kept before, and the one verified now.
    pub from_size: u64,
    pub size: u64,
    #[serde(serialize_with = "hex_hash")]
    pub root: Hash,
    /// Entries read and checked in this sync.
    pub entries_read: u64,
    /// Whether a consistency proof from the kept checkpoint was verified (false on the first
    /// sync, which starts from the empty tree, and when the log did not grow).
    pub consistency_proved: bool,
}

fn hex_hash<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&merkle::hex(h))
}

impl Mirror {
    /// A mirror that has read nothing yet, of the log whose key is `log_key`.
    pub fn new(log_key: &str) -> Result<Self, String> {
        NoteVerifier::parse(log_key.trim())
            .map_err(|e| format!("the log key {:?}: {e}", log_key.trim()))?;
        Ok(Self {
            format: FORMAT,
            log_key: log_key.trim().to_owned(),
            checkpoint: String::new(),
            frontier: Vec::new(),
            records: Vec::new(),
            unplaced: Vec::new(),
            by_envelope: HashMap::new(),
        })
    }

    /// The log's origin (its key's name).
    pub fn origin(&self) -> String {
        NoteVerifier::parse(&self.log_key)
            .map(|v| v.name().to_owned())
            .unwrap_or_default()
    }

    /// The size of the kept checkpoint (0 before the first sync).
    pub fn size(&self) -> u64 {
        self.kept().map_or(0, |c| c.size)
    }

    fn kept(&self) -> Option<Checkpoint> {
        (!self.checkpoint.is_empty())
            .then(|| checkpoint::read_unverified(self.checkpoint.as_bytes()).ok())
            .flatten()
    }

    /// Reads a kept mirror; `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, SyncError> {
        let state = |message: String| SyncError::State {
            path: path.to_owned(),
            message,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(state(e.to_string())),
        };
        Self::parse(path, &bytes).map(Some)
    }

    /// Reads a kept mirror from the bytes of the file at `path` (named in errors), checking
    /// that its frontier gives its checkpoint's root.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, SyncError> {
        let state = |message: String| SyncError::State {
            path: path.to_owned(),
            message,
        };
        let mut mirror: Mirror = serde_json::from_slice(bytes).map_err(|e| {
            state(format!(
                "does not read ({e}); it is iotmark's own state: remove it to start again from the log key"
            ))
        })?;
        if mirror.format != FORMAT {
            return Err(state(format!(
                "state format {} is not {FORMAT}; remove it to start again from the log key",
                mirror.format
            )));
        }
        NoteVerifier::parse(&mirror.log_key).map_err(|e| state(format!("log key: {e}")))?;
        if !mirror.checkpoint.is_empty() {
            let cp = checkpoint::read_unverified(mirror.checkpoint.as_bytes())
                .map_err(|e| state(format!("kept checkpoint: {e}")))?;
            if mirror.frontier().map_err(|e| state(e.to_string()))?.root() != cp.root {
                return Err(state(
                    "the kept frontier does not give the kept checkpoint's root; remove the file to read the log again"
                        .to_owned(),
                ));
            }
        }
        if mirror
            .records
            .windows(2)
            .any(|w| w[0].record.log_index >= w[1].record.log_index)
            || mirror
                .records
                .last()
                .is_some_and(|r| r.record.log_index >= mirror.size())
        {
            return Err(state(
                "its records are not in log order within the kept checkpoint; remove the file to read the log again"
                    .to_owned(),
            ));
        }
        mirror.index();
        Ok(mirror)
    }

    /// Writes the mirror durably (a new file renamed over the old).
    pub fn save(&self, path: &Path) -> Result<(), SyncError> {
        let bytes = serde_json::to_vec(self).map_err(|e| SyncError::State {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        super::write_durably(path, &bytes).map_err(|e| SyncError::State {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    fn frontier(&self) -> Result<Frontier, SyncError> {
        let bad = |message: String| SyncError::State {
            path: PathBuf::from("state"),
            message,
        };
        let hashes = self
            .frontier
            .iter()
            .map(|h| merkle::parse_hex(h).ok_or_else(|| bad(format!("frontier hash {h:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Frontier::from_parts(self.size(), hashes).map_err(|e| bad(e.to_string()))
    }

    fn index(&mut self) {
        self.by_envelope = self
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| (r.record.envelope_sha256.clone(), i))
            .collect();
    }

    /// The record of the entry at `log_index`, if this mirror holds it.
    pub fn at(&self, log_index: u64) -> Option<&LoggedRecord> {
        // Records are in log order, and every entry but the unplaced has one.
        let i = self
            .records
            .binary_search_by_key(&log_index, |r| r.record.log_index)
            .ok()?;
        self.records.get(i)
    }

    /// Reads what the log added since the kept checkpoint and checks it (see the module's
    /// documentation). On success the mirror holds the new checkpoint; on any failure it is
    /// unchanged. `progress` hears (entries read, entries to read).
    pub fn sync(
        &mut self,
        log: &HttpLog,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> Result<Synced, SyncError> {
        let verifier = NoteVerifier::parse(&self.log_key)
            .map_err(|e| SyncError::Unreachable(format!("log key: {e}")))?;
        let origin = verifier.name().to_owned();
        let unreachable = |e: &dyn std::fmt::Display| SyncError::Unreachable(e.to_string());
        let caught = |m: String| SyncError::Caught(Caught(m));
        let note = log
            .read_checkpoint()
            .map_err(|e| unreachable(&e))?
            .ok_or_else(|| {
                SyncError::Unreachable(format!(
                    "{}/checkpoint does not exist; is the registry's base URL right (the log is at BASE/log)?",
                    log.url()
                ))
            })?;
        let (current, _) = checkpoint::open(&note, &origin, std::slice::from_ref(&verifier))
            .map_err(|e| {
                caught(format!(
                    "its checkpoint is not one the log key {} signed: {e}",
                    self.log_key
                ))
            })?;
        let kept = self.kept().unwrap_or_else(|| Checkpoint::empty(&origin));
        if current.size < kept.size {
            return Err(caught(format!(
                "the log shrank: the kept checkpoint has {} entries, the registry's now {}",
                kept.size, current.size
            )));
        }
        if current.size == kept.size && current.root != kept.root {
            return Err(caught(format!(
                "two different trees of {} entries: root {} kept, root {} served now (a fork: the log showed someone else another history)",
                kept.size,
                merkle::hex(&kept.root),
                merkle::hex(&current.root)
            )));
        }
        let mut consistency_proved = false;
        if kept.size > 0 && current.size > kept.size {
            let mut reader = StorageTiles(log);
            let proof = TileHashes::new(&mut reader, current.size)
                .consistency_proof(kept.size)
                .map_err(|e| unreachable(&format!("building the consistency proof: {e}")))?;
            merkle::verify_consistency(kept.size, current.size, &proof, &kept.root, &current.root)
                .map_err(|e| {
                    caught(format!(
                        "the log at {} entries (root {}) is not an extension of the kept checkpoint of {} entries (root {}): {e}",
                        current.size,
                        merkle::hex(&current.root),
                        kept.size,
                        merkle::hex(&kept.root)
                    ))
                })?;
            consistency_proved = true;
        }

        let mut next = self.clone();
        let mut frontier = self.frontier()?;
        let mut leaves = Vec::new();
        iotmark_log::log::visit_records(log, current.size, kept.size, |index, leaf| {
            leaves.push((index, leaf));
            Ok(true)
        })
        .map_err(|e| match e {
            iotmark_log::log::LogError::Storage(s) => unreachable(&s),
            other => caught(format!("its entries do not read: {other}")),
        })?;
        let total = leaves.len() as u64;
        let mut done = 0u64;
        progress(0, total);
        for chunk in leaves.chunks(256) {
            let envelopes = fetch_envelopes(log, chunk);
            for ((index, leaf), envelope) in chunk.iter().zip(envelopes) {
                let encoded = leaf
                    .encode()
                    .map_err(|e| caught(format!("entry {index}: {e}")))?;
                frontier.push(merkle::leaf_hash(&encoded));
                let envelope = envelope?;
                next.add(*index, leaf, &envelope)?;
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        if frontier.root() != current.root {
            return Err(caught(format!(
                "the entries it serves from {} to {} do not hash to its checkpoint's root {}: an entry was changed after it was logged",
                kept.size,
                current.size,
                merkle::hex(&current.root)
            )));
        }
        next.checkpoint = String::from_utf8_lossy(&note).into_owned();
        next.frontier = frontier.hashes().iter().map(|h| merkle::hex(h)).collect();
        *self = next;
        Ok(Synced {
            origin,
            from_size: kept.size,
            size: current.size,
            root: current.root,
            entries_read: total,
            consistency_proved,
        })
    }

    /// Adds the entry at `index` whose envelope was fetched and digest-checked.
    fn add(&mut self, index: u64, leaf: &LeafRecord, envelope: &[u8]) -> Result<(), SyncError> {
        let caught = |m: String| SyncError::Caught(Caught(format!("log entry {index}: {m}")));
        let parsed = Envelope::parse(envelope)
            .map_err(|e| caught(format!("its envelope does not read: {e}")))?;
        if merkle::sha256(&parsed.payload) != leaf.statement_digest {
            return Err(caught(format!(
                "its envelope's payload has SHA-256 {}, but the entry commits to statement {}",
                merkle::hex(&merkle::sha256(&parsed.payload)),
                merkle::hex(&leaf.statement_digest)
            )));
        }
        let statement = Statement::parse(&parsed.payload)
            .map_err(|e| caught(format!("its statement does not read: {e}")))?;
        let kind = match statement.predicate {
            Predicate::Conformity(_) => LeafKind::Declaration,
            Predicate::Status(_) => LeafKind::Status,
        };
        if kind != leaf.kind {
            return Err(caught(format!(
                "the entry says {:?} but its statement is a {:?}",
                leaf.kind, kind
            )));
        }
        let logged = iotmark_conformity::attestation::leaf_timestamp(leaf.time)
            .map_err(|e| caught(format!("time: {e}")))?;
        let refers = match &statement.predicate {
            Predicate::Status(p) => {
                let target = p.refers_to.envelope_sha256.to_hex();
                match self.by_envelope.get(&target) {
                    Some(&i) => Some(self.records[i].record.clone()),
                    None => {
                        self.unplaced.push((
                            index,
                            format!("a status change of envelope {target}, which no earlier entry logged"),
                        ));
                        return Ok(());
                    }
                }
            }
            Predicate::Conformity(_) => None,
        };
        if refers
            .as_ref()
            .is_some_and(|r| r.kind != EntryKind::Conformity)
        {
            self.unplaced
                .push((index, "a status change of another status change".to_owned()));
            return Ok(());
        }
        let record = record_of(
            &LoggedAttestation {
                envelope_sha256: merkle::hex(&leaf.envelope_digest),
                statement_sha256: merkle::hex(&leaf.statement_digest),
                signer_key_id: leaf.signer_key_id.clone(),
                statement: &statement,
            },
            "",
            index,
            logged,
            refers.as_ref(),
        )
        .map_err(|e| caught(e.to_string()))?;
        let images = match &statement.predicate {
            Predicate::Conformity(_) => iotmark_conformity::attestation::images(&statement.subject)
                .map_err(|e| caught(format!("its subject: {e}")))?
                .into_iter()
                .map(|i| Image {
                    name: i.name,
                    sha256: i.sha256.to_hex(),
                })
                .collect(),
            Predicate::Status(_) => Vec::new(),
        };
        self.by_envelope
            .insert(record.envelope_sha256.clone(), self.records.len());
        self.records.push(LoggedRecord { record, images });
        Ok(())
    }
}

/// The envelopes of `leaves`, fetched a few at a time, each checked against its digest.
fn fetch_envelopes(log: &HttpLog, leaves: &[(u64, LeafRecord)]) -> Vec<Result<Vec<u8>, SyncError>> {
    let fetch = |(index, leaf): &(u64, LeafRecord)| -> Result<Vec<u8>, SyncError> {
        match log.read_envelope(&leaf.envelope_digest) {
            Ok(Some(bytes)) => {
                let actual = merkle::sha256(&bytes);
                if actual == leaf.envelope_digest {
                    Ok(bytes)
                } else {
                    Err(SyncError::Caught(Caught(format!(
                        "log entry {index}: the envelope served for {} has SHA-256 {}",
                        merkle::hex(&leaf.envelope_digest),
                        merkle::hex(&actual)
                    ))))
                }
            }
            Ok(None) => Err(SyncError::Caught(Caught(format!(
                "log entry {index}: the registry does not serve its envelope {}",
                merkle::hex(&leaf.envelope_digest)
            )))),
            Err(e) => Err(SyncError::Unreachable(e.to_string())),
        }
    };
    let per = leaves.len().div_ceil(FETCHERS).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = leaves
            .chunks(per)
            .map(|part| {
                let worker = scope.spawn(move || part.iter().map(fetch).collect::<Vec<_>>());
                (part.len(), worker)
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|(len, w)| {
                w.join().unwrap_or_else(|_| {
                    (0..len)
                        .map(|_| {
                            Err(SyncError::Unreachable(
                                "an envelope fetcher stopped".to_owned(),
                            ))
                        })
                        .collect()
                })
            })
            .collect()
    })
}

/// For the fuzz target: any bytes as a kept mirror, which must never panic.
pub fn fuzz_state(bytes: &[u8]) {
    if let Ok(mirror) = Mirror::parse(Path::new("fuzz.json"), bytes) {
        let _ = mirror.at(0);
        let _ = mirror.origin();
    }
}
