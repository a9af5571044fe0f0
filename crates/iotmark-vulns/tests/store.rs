//! The vulnerability store on SQLite and PostgreSQL: records filed under their keys and found
//! by them, a re-import that never lets an older record replace a newer one, KEV replaced
//! whole, triage decisions kept and replaced per pair, imports remembered, and a store
//! sharing the registry's database.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;

use iotmark_vulns::model::*;
use iotmark_vulns::store::Store;

fn advisory(id: &str, modified: &str, summary: &str, criteria: &str) -> Advisory {
    Advisory {
        id: id.into(),
        source: Source::Nvd,
        aliases: vec![format!("GHSA-{id}")],
        publisher: None,
        published: None,
        modified: Some(modified.parse().unwrap()),
        withdrawn: false,
        summary: summary.into(),
        severities: vec![],
        weaknesses: vec![],
        references: vec![],
        applies_to: vec![Applicability::Configuration(Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![Node {
                operator: Operator::Or,
                negate: false,
                matches: vec![CpeMatch {
                    criteria: criteria.into(),
                    vulnerable: true,
                    bounds: Bounds::default(),
                }],
            }],
        })],
    }
}

fn keys(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|k| (*k).to_owned()).collect()
}

#[test]
fn the_store_keeps_the_newest_record_under_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (backend, url) in iotmark_db::testing::backends(dir.path(), "vulns.sqlite3") {
        runtime.block_on(async {
            let store = Store::open(&url).await.unwrap();
            let curl = "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*";
            let first = advisory("CVE-2024-1", "2024-01-01T00:00:00Z", "first", curl);
            let newer = advisory("CVE-2024-1", "2024-02-01T00:00:00.5Z", "newer", curl);
            let s = store
                .put_advisories(std::slice::from_ref(&first))
                .await
                .unwrap();
            assert_eq!((s.written, s.kept_older), (1, 0), "{backend}");
            let s = store
                .put_advisories(std::slice::from_ref(&newer))
                .await
                .unwrap();
            assert_eq!((s.written, s.kept_older), (1, 0), "{backend}");
            // Imported again, out of order: the older one is kept out.
            let s = store.put_advisories(&[first]).await.unwrap();
            assert_eq!((s.written, s.kept_older), (0, 1), "{backend}");
            let found = store.candidates(&keys(&["cpe:haxx:curl"])).await.unwrap();
            assert_eq!(found, std::slice::from_ref(&newer), "{backend}");
            // A record that moves to another product leaves its old key.
            let moved = advisory(
                "CVE-2024-1",
                "2024-03-01T00:00:00Z",
                "moved",
                "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
            );
            store.put_advisories(&[moved]).await.unwrap();
            assert!(
                store
                    .candidates(&keys(&["cpe:haxx:curl"]))
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                store
                    .candidates(&keys(&["cpe:openssl:openssl", "cpe:nobody:nothing"]))
                    .await
                    .unwrap()[0]
                    .summary,
                "moved".into()
            );
            // Withdrawn records stay (so a re-import does not bring them back) but never match.
            let mut rejected = advisory("CVE-2024-1", "2024-04-01T00:00:00Z", "rejected", curl);
            rejected.withdrawn = true;
            store.put_advisories(&[rejected]).await.unwrap();
            assert!(
                store
                    .candidates(&keys(&["cpe:haxx:curl"]))
                    .await
                    .unwrap()
                    .is_empty()
            );
            // More keys than one statement binds.
            let many: BTreeSet<String> = (0..1200)
                .map(|i| format!("cpe:v{i}:p{i}"))
                .chain(["cpe:haxx:curl".to_owned()])
                .collect();
            assert!(store.candidates(&many).await.unwrap().is_empty());
            store.close().await;
        });
    }
}

/// Every write takes the next generation and journals the vulnerabilities it touched, so a
/// monitor re-matches only what changed: an advisory under its ID and aliases, a KEV entry
/// only when added, changed or removed (a catalog imported again touches nothing), a triage
/// decision under its vulnerability.
#[test]
fn writes_are_journaled_by_generation() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (backend, url) in iotmark_db::testing::backends(dir.path(), "journal.sqlite3") {
        runtime.block_on(async {
            let store = Store::open(&url).await.unwrap();
            assert_eq!(store.generation().await.unwrap(), 0, "{backend}");
            let curl = "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*";
            store
                .put_advisories(&[
                    advisory("CVE-2024-1", "2024-01-01T00:00:00Z", "a", curl),
                    advisory("CVE-2024-2", "2024-01-01T00:00:00Z", "b", curl),
                ])
                .await
                .unwrap();
            assert_eq!(store.generation().await.unwrap(), 1, "{backend}");
            assert_eq!(
                store.changed_since(0).await.unwrap(),
                keys(&[
                    "CVE-2024-1",
                    "CVE-2024-2",
                    "GHSA-CVE-2024-1",
                    "GHSA-CVE-2024-2"
                ]),
                "{backend}"
            );
            // An older record kept out touches nothing; a newer one touches its vulnerability.
            store
                .put_advisories(&[
                    advisory("CVE-2024-1", "2023-01-01T00:00:00Z", "older", curl),
                    advisory("CVE-2024-2", "2024-06-01T00:00:00Z", "newer", curl),
                ])
                .await
                .unwrap();
            assert_eq!(
                store.changed_since(1).await.unwrap(),
                keys(&["CVE-2024-2", "GHSA-CVE-2024-2"]),
                "{backend}"
            );
            // By ID or alias, the advisories that judge a vulnerability again.
            let naming = store
                .advisories_naming(&keys(&["GHSA-CVE-2024-1"]))
                .await
                .unwrap();
            assert_eq!(naming.len(), 1);
            assert_eq!(naming[0].id, "CVE-2024-1", "{backend}");
            let entry = |cve: &str, due: i16| KnownExploited {
                cve: cve.into(),
                vendor: "Haxx".into(),
                product: "curl".into(),
                name: "n".into(),
                date_added: jiff::civil::date(2024, 1, 2),
                due_date: jiff::civil::date(2024, 1, due as i8),
                required_action: "Apply updates".into(),
                ransomware_use: "Unknown".into(),
            };
            store
                .put_kev(&[entry("CVE-2024-1", 20), entry("CVE-2024-9", 20)])
                .await
                .unwrap();
            let g = store.generation().await.unwrap();
            assert_eq!(
                store.changed_since(g - 1).await.unwrap(),
                keys(&["CVE-2024-1", "CVE-2024-9"])
            );
            store
                .put_kev(&[entry("CVE-2024-1", 20), entry("CVE-2024-9", 20)])
                .await
                .unwrap();
            assert!(
                store.changed_since(g).await.unwrap().is_empty(),
                "{backend}"
            );
            // One changed, one removed.
            store.put_kev(&[entry("CVE-2024-1", 21)]).await.unwrap();
            assert_eq!(
                store.changed_since(g).await.unwrap(),
                keys(&["CVE-2024-1", "CVE-2024-9"]),
                "{backend}"
            );
            store.close().await;
        });
    }
}

#[test]
fn kev_triage_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (backend, url) in iotmark_db::testing::backends(dir.path(), "vulns.sqlite3") {
        runtime.block_on(async {
            let store = Store::open(&url).await.unwrap();
            let entry = |cve: &str| KnownExploited {
                cve: cve.into(),
                vendor: "Haxx".into(),
                product: "curl".into(),
                name: "n".into(),
                date_added: jiff::civil::date(2024, 1, 2),
                due_date: jiff::civil::date(2024, 1, 23),
                required_action: "Apply updates".into(),
                ransomware_use: "Unknown".into(),
            };
            store
                .put_kev(&[entry("CVE-1"), entry("CVE-2")])
                .await
                .unwrap();
            // KEV is published whole: the next catalog replaces the last.
            store.put_kev(&[entry("CVE-2")]).await.unwrap();
            let kev = store
                .known_exploited(&keys(&["CVE-1", "CVE-2", "CVE-3"]))
                .await
                .unwrap();
            assert_eq!(kev.keys().collect::<Vec<_>>(), ["CVE-2"], "{backend}");

            let decision = |status, at: &str| VexStatement {
                vulnerability: "CVE-2".into(),
                product: ProductRef {
                    id: "pkg:deb/debian/curl@7.88.1-10".into(),
                    bounds: Bounds::default(),
                },
                status,
                justification: None,
                detail: None,
                origin: Origin {
                    document: "triage".into(),
                    document_id: None,
                    pointer: "/".into(),
                    author: Some("lab@example.org".into()),
                    timestamp: Some(at.parse().unwrap()),
                },
            };
            store
                .put_triage(&decision(
                    VexStatus::UnderInvestigation,
                    "2024-01-01T00:00:00Z",
                ))
                .await
                .unwrap();
            store
                .put_triage(&decision(VexStatus::NotAffected, "2024-01-02T00:00:00Z"))
                .await
                .unwrap();
            let triage = store.triage().await.unwrap();
            assert_eq!(triage.len(), 1, "{backend}");
            assert_eq!(triage[0].status, VexStatus::NotAffected);

            assert!(store.import("ab").await.unwrap().is_none());
            let import = iotmark_vulns::store::Import {
                digest: "ab".into(),
                path: "nvdcve-2.0-2024.json.gz".into(),
                kind: "nvd".into(),
                records: 10,
                skipped: 1,
                imported: "2024-05-01T00:00:00Z".parse().unwrap(),
            };
            store.put_import(&import).await.unwrap();
            store.put_import(&import).await.unwrap();
            assert_eq!(store.import("ab").await.unwrap(), Some(import));
            let counts = store.counts().await.unwrap();
            assert_eq!(
                (
                    counts.known_exploited,
                    counts.triage_decisions,
                    counts.imports
                ),
                (1, 1, 1)
            );
            store.close().await;
        });
    }
}

/// The registry and the vulnerability store in one database: each migrates its own tables
/// and neither takes the other's migrations for missing ones.
#[test]
fn the_store_shares_the_registry_database() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    for (backend, url) in iotmark_db::testing::backends(dir.path(), "shared.sqlite3") {
        runtime.block_on(async {
            let vulns = Store::open(&url).await.unwrap();
            vulns.close().await;
            let registry = iotmark_registry_schema(&url).await;
            let vulns = Store::open(&url).await.unwrap();
            assert_eq!(vulns.counts().await.unwrap().imports, 0, "{backend}");
            vulns.close().await;
            registry.close().await;
        });
    }
}

/// The registry's own migrations, as `iotmark registry serve` runs them: its migration table
/// is sqlx's default name.
async fn iotmark_registry_schema(url: &str) -> sqlx::AnyPool {
    static SQLITE: sqlx::migrate::Migrator =
        sqlx::migrate!("../iotmark-registry/migrations/sqlite");
    static POSTGRES: sqlx::migrate::Migrator =
        sqlx::migrate!("../iotmark-registry/migrations/postgres");
    static SCHEMA: iotmark_db::Schema = iotmark_db::Schema {
        sqlite: &SQLITE,
        postgres: &POSTGRES,
        table: "_sqlx_migrations",
    };
    iotmark_db::open(url, &SCHEMA).await.unwrap().0
}
