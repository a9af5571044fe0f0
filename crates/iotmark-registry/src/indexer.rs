//! Group commit of accepted attestations into the database.
//!
//! Every accepted submission ends with a database write, and each write that commits alone
//! waits for its own durable commit (an fsync of SQLite's WAL, or a PostgreSQL WAL flush),
//! one after another: SQLite admits one writer at a time. The indexer is one task that takes
//! whatever submissions are waiting and records them in one transaction, so that a burst of
//! submissions shares one commit. Nothing waits to fill a batch: while one commit runs, the
//! next batch gathers.
//!
//! The indexer runs as its own task, so a submission handed to it is recorded even if the
//! client that sent it has gone away; the log already holds it.
//!
//! One rule is decided here rather than at acceptance alone: a product belongs to one
//! manufacturer ([`may_record_product`]). Acceptance checks it too, but two submissions of a
//! new product can both pass acceptance before either is recorded; the store asks this rule
//! again inside the transaction that records each, on the owner it reads there.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::metrics::Metrics;
use crate::store::{Indexed, Store, StoreError};

/// Most submissions recorded in one transaction.
const MAX_BATCH: usize = 1024;

/// Something kept until its submission is recorded (or refused), such as the claim that keeps
/// a replay of the same envelope out meanwhile.
pub(crate) type Held = Box<dyn Send>;

struct Job {
    item: Indexed,
    waiting: Waiting,
}

/// Who waits for a job, and what is kept for it meanwhile.
struct Waiting {
    reply: oneshot::Sender<Result<(), StoreError>>,
    _held: Held,
}

/// Hands accepted submissions to the indexing task; cheap to clone.
#[derive(Clone)]
pub(crate) struct Indexer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Indexer")
    }
}

/// The answer to one submission; `Err` when the indexer has stopped.
pub(crate) type Pending = oneshot::Receiver<Result<(), StoreError>>;

impl Indexer {
    /// Starts the indexing task on the current Tokio runtime. It ends when every `Indexer`
    /// handle is dropped, after recording what was sent.
    pub(crate) fn start(store: Store, metrics: Arc<Metrics>) -> Self {
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, rx, metrics));
        Indexer { jobs }
    }

    /// Queues one submission (from any thread, without blocking); `held` is dropped once it
    /// is recorded or refused. `None` when the indexer has stopped.
    pub(crate) fn send(&self, item: Indexed, held: Held) -> Option<Pending> {
        let (reply, pending) = oneshot::channel();
        self.jobs
            .send(Job {
                item,
                waiting: Waiting { reply, _held: held },
            })
            .ok()?;
        Some(pending)
    }
}

async fn run(store: Store, mut rx: mpsc::UnboundedReceiver<Job>, metrics: Arc<Metrics>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        // In log order, as a replay would record them.
        jobs.sort_by_key(|j| j.item.record().log_index);
        let (items, waiting): (Vec<Indexed>, Vec<Waiting>) =
            jobs.drain(..).map(|j| (j.item, j.waiting)).unzip();
        metrics.index_batch.observe(items.len() as f64);
        let started = Instant::now();
        let results = match store.record_batch(&items).await {
            Ok(results) => results,
            // The transaction itself failed (the database is busy or gone): each on its own,
            // so each submitter hears its own answer.
            Err(_) => {
                let mut results = Vec::with_capacity(items.len());
                for item in &items {
                    results.push(match store.record_batch(std::slice::from_ref(item)).await {
                        Ok(mut r) => r.pop().unwrap_or(Ok(())),
                        Err(e) => Err(e),
                    });
                }
                results
            }
        };
        metrics
            .index_commit
            .observe(started.elapsed().as_secs_f64());
        for (w, result) in waiting.into_iter().zip(results) {
            // A submitter that stopped waiting is no error for the others.
            let _ = w.reply.send(result);
        }
    }
}

/// A product belongs to the manufacturer whose conformity attestation created it: a
/// conformity submission for `product_id` by `manufacturer` is recorded only if the product has
/// no owner yet, or that `owner` (read in the recording transaction) is `manufacturer`.
/// Refused with [`StoreError::Exists`], as a product ID taken by another manufacturer.
pub(crate) fn may_record_product(
    product_id: &str,
    manufacturer: &str,
    owner: Option<&str>,
) -> Result<(), StoreError> {
    match owner {
        Some(owner) if owner != manufacturer => Err(StoreError::Exists {
            what: "product of another manufacturer",
            id: product_id.to_owned(),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_is_recorded_only_for_its_manufacturer() {
        assert!(may_record_product("acme-cam", "acme", None).is_ok());
        assert!(may_record_product("acme-cam", "acme", Some("acme")).is_ok());
        assert!(matches!(
            may_record_product("acme-cam", "globex", Some("acme")),
            Err(StoreError::Exists {
                what: "product of another manufacturer",
                id,
            }) if id == "acme-cam"
        ));
    }
}
