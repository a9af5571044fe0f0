//! The log, not the database, is the record: after a crash that left logged submissions out of
//! the database (in any order, since batches commit independently), a restart indexes every one
//! of them, and a log entry that repeats an envelope does not stop the registry from starting.
//! On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{TestApp, backends, conformity, execute, seconds_ago, status_change};
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_conformity::log_key::log_signer;
use iotmark_log::log::Log;
use iotmark_log::merkle;
use iotmark_log::storage::DirStorage;
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store;

const ORIGIN: &str = "registry.test/log";

#[test]
fn a_restart_indexes_every_logged_entry_the_database_missed() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let root = dir.path().join(backend);
        let app = TestApp::start(&url, &root);
        let acme = app.keys["acme"].clone();
        let mut logged = Vec::new();
        for i in 0..4 {
            let envelope = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(100 - i));
            let (status, body) = app.submit("acme", &envelope);
            assert_eq!(status, 201, "{backend}: {body}");
            assert_eq!(body["log_index"], i, "{backend}");
            logged.push(envelope);
        }
        let suspension = status_change(
            &acme,
            "Acme Devices Ltd",
            &logged[1],
            StatusKind::Suspension,
            seconds_ago(5),
        );
        let (status, body) = app.submit("acme", &suspension);
        assert_eq!(status, 201, "{backend}: {body}");
        logged.push(suspension);
        let product = body["product_id"].as_str().unwrap().to_owned();
        let sha = |e: &[u8]| merkle::hex(&merkle::sha256(e));
        drop(app);

        // Entries 1, 3 and 4 never reached the database; 4 is a status change of 1, so the
        // replay must record 1 before it, in the same transaction.
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(execute(
            &url,
            "DELETE FROM attestations WHERE log_index IN (1, 3, 4)",
        ));
        // And the log repeats entry 0 as entry 5: the same envelope logged twice.
        let data = root.join("data");
        {
            let mut log = Log::open(
                DirStorage::open(data.join("log")).unwrap(),
                log_signer(&data.join("log.key"), ORIGIN).unwrap(),
            )
            .unwrap();
            let first = log.entry(0).unwrap();
            assert_eq!(log.append_batch(&[first]).unwrap(), [5]);
        }

        runtime.block_on(async {
            let registry = Registry::open(
                store::open(&url).await.unwrap(),
                Config {
                    data_dir: data.clone(),
                    log_origin: ORIGIN.to_owned(),
                    limits: Default::default(),
                    public_url: "http://registry.test".to_owned(),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{backend}: the registry must start: {e}"));
            for (index, envelope) in logged.iter().enumerate() {
                let record = registry
                    .store
                    .attestation(&sha(envelope))
                    .await
                    .unwrap()
                    .unwrap_or_else(|| panic!("{backend}: entry {index} is not indexed"));
                assert_eq!(record.log_index, index as u64, "{backend}");
                assert_eq!(record.product_id, product, "{backend}");
            }
            let history = registry.store.history(&product).await.unwrap();
            assert_eq!(
                history.iter().map(|h| h.log_index).collect::<Vec<_>>(),
                [0, 1, 2, 3, 4],
                "{backend}: the repeated envelope is indexed once, at its first entry"
            );
            assert_eq!(
                history[4].refers_to.as_deref(),
                Some(sha(&logged[1]).as_str())
            );
            // Only the repeat is left out of the database, and a second start is as good.
            assert_eq!(registry.store.unindexed(6).await.unwrap(), [5]);
            registry.shutdown();
        });
    }
}
