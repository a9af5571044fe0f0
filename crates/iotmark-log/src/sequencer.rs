//! A sequencer: many submitters, one writer. Submissions are gathered into batches — a batch
//! closes when it holds `max_batch` entries or `max_wait` after its first entry arrived — and
//! each batch is committed with [`Log::append_batch_with_envelopes`] before any of its
//! submitters is answered. The envelopes submitted with entries are written in the batch's
//! durable write, so a batch of many submissions costs the fsyncs of one.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::log::{Log, LogError};
use crate::storage::Storage;

/// Why a submission was not logged.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SequencerError {
    #[error("the batch holding this entry failed: {0}")]
    Append(Arc<LogError>),
    #[error("the sequencer has stopped")]
    Stopped,
}

struct Request {
    entry: Vec<u8>,
    envelope: Option<Vec<u8>>,
    reply: Sender<Result<u64, SequencerError>>,
}

/// Submits entries to a running [`Sequencer`]; cheap to clone and send to other threads.
#[derive(Debug, Clone)]
pub struct Submitter {
    tx: Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request({} bytes)", self.entry.len())
    }
}

impl Submitter {
    /// Submits one entry and blocks until it is durably logged; returns its index.
    pub fn submit(&self, entry: Vec<u8>) -> Result<u64, SequencerError> {
        self.send(entry, None)
    }

    /// Submits one entry with the envelope its leaf names, and blocks until both are durably
    /// stored (the envelope under its SHA-256) and the entry is logged; returns its index.
    pub fn submit_with_envelope(
        &self,
        entry: Vec<u8>,
        envelope: Vec<u8>,
    ) -> Result<u64, SequencerError> {
        self.send(entry, Some(envelope))
    }

    fn send(&self, entry: Vec<u8>, envelope: Option<Vec<u8>>) -> Result<u64, SequencerError> {
        let (reply, rx) = mpsc::channel();
        self.tx
            .send(Request {
                entry,
                envelope,
                reply,
            })
            .map_err(|_| SequencerError::Stopped)?;
        rx.recv().map_err(|_| SequencerError::Stopped)?
    }
}

/// Statistics of a stopped sequencer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SequencerStats {
    pub batches: u64,
    pub entries: u64,
}

/// The writer thread and its input channel.
#[derive(Debug)]
pub struct Sequencer<S: Storage + 'static> {
    submitter: Option<Submitter>,
    worker: Option<JoinHandle<(Log<S>, SequencerStats)>>,
}

impl<S: Storage + 'static> Sequencer<S> {
    /// Starts the writer thread. `max_batch` is at least 1.
    pub fn start(log: Log<S>, max_batch: usize, max_wait: Duration) -> Self {
        let (tx, rx) = mpsc::channel();
        let max_batch = max_batch.max(1);
        let worker = std::thread::spawn(move || run(log, rx, max_batch, max_wait));
        Self {
            submitter: Some(Submitter { tx }),
            worker: Some(worker),
        }
    }

    /// A handle for submitting entries.
    pub fn submitter(&self) -> Submitter {
        self.submitter.clone().unwrap_or_else(|| Submitter {
            tx: mpsc::channel().0,
        })
    }

    /// Stops accepting entries once every submitter is dropped, commits what is pending, and
    /// returns the log. Returns `None` if the writer thread panicked.
    pub fn stop(mut self) -> Option<(Log<S>, SequencerStats)> {
        self.submitter = None;
        self.worker.take()?.join().ok()
    }
}

fn run<S: Storage>(
    mut log: Log<S>,
    rx: Receiver<Request>,
    max_batch: usize,
    max_wait: Duration,
) -> (Log<S>, SequencerStats) {
    let mut stats = SequencerStats::default();
    while let Ok(first) = rx.recv() {
        let deadline = Instant::now() + max_wait;
        let mut batch = vec![first];
        while batch.len() < max_batch {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(r) => batch.push(r),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
            }
        }
        let entries: Vec<Vec<u8>> = batch
            .iter_mut()
            .map(|r| std::mem::take(&mut r.entry))
            .collect();
        let envelopes: Vec<&[u8]> = batch.iter().filter_map(|r| r.envelope.as_deref()).collect();
        match log.append_batch_with_envelopes(&entries, &envelopes) {
            Ok(indices) => {
                stats.batches += 1;
                stats.entries += indices.len() as u64;
                for (r, i) in batch.iter().zip(indices) {
                    // A submitter that gave up waiting is no error for the others.
                    let _ = r.reply.send(Ok(i));
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                for r in &batch {
                    let _ = r.reply.send(Err(SequencerError::Append(e.clone())));
                }
            }
        }
    }
    (log, stats)
}
