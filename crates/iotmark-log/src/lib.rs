//! A tamper-evident transparency log for conformity declarations.
//!
//! * [`merkle`]: RFC 6962 hashing, inclusion and consistency proofs (RFC 9162 §2.1).
//! * [`tiles`]: the C2SP tlog-tiles layout, tiles computed incrementally, hashes and proofs read
//!   from tiles, and a full cross-check of a stored tree.
//! * [`note`], [`checkpoint`]: C2SP signed notes (Ed25519) and tlog-checkpoint tree heads.
//! * [`storage`]: the [`storage::Storage`] trait and the default [`storage::DirStorage`], whose
//!   writes are durable and atomic.
//! * [`leaf`]: the canonical leaf record (kind, statement and envelope digests, signer, time).
//! * [`log`]: [`log::Log`] (durable batched appends, recovery, proofs) and [`log::audit`].
//! * [`sequencer`]: batches concurrent submissions by count or time; answers after commit.
//! * [`receipt`]: C2SP tlog-proof receipts, one file proving an entry was logged.
//! * `remote` (feature `http`): a log served over HTTP(S), read-only, for audits.
//!
//! Untrusted input (proofs, tiles, notes) never panics; every error names what was wrong and
//! what was expected.

pub mod checkpoint;
pub mod leaf;
pub mod log;
pub mod merkle;
pub mod note;
pub mod receipt;
#[cfg(feature = "http")]
pub mod remote;
pub mod sequencer;
pub mod storage;
pub mod tiles;
