//! The OpenAPI document: served by the registry, equal to the committed snapshot
//! (`openapi.json`; refresh it with `IOTMARK_UPDATE_SNAPSHOTS=1 cargo test -p iotmark-registry
//! --test openapi` after an intended API change and review the diff), and describing every
//! API route the registry answers. `scripts/validate-openapi.sh` checks the snapshot with an
//! OpenAPI 3.1 validator we did not write.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

#[test]
fn the_document_matches_the_snapshot() {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let current = iotmark_registry::http::openapi_json() + "\n";
    if std::env::var("IOTMARK_UPDATE_SNAPSHOTS").as_deref() == Ok("1") {
        std::fs::write(&snapshot, &current).unwrap();
    }
    let committed = std::fs::read_to_string(&snapshot).unwrap_or_default();
    assert!(
        committed == current,
        "the OpenAPI document changed; if intended, run IOTMARK_UPDATE_SNAPSHOTS=1 cargo test -p iotmark-registry --test openapi and review the diff of {}",
        snapshot.display()
    );
}

#[test]
fn the_registry_serves_it_and_answers_every_documented_path() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.sqlite3").display());
    let app = common::TestApp::start(&url, dir.path());
    let (status, doc) = app.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"].as_str().unwrap().get(..3), Some("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10, "{paths:?}");
    for (path, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            // Fill path parameters with values that exist or are well-formed.
            let concrete = path
                .replace("{sha256}", &"0".repeat(64))
                .replace("{id}", "no-such-product")
                .replace("{path}", "0/000")
                .replace("{report}", "1");
            let status = match method.as_str() {
                "get" => app.get(&concrete).0,
                "post" => app.post(&concrete, None, b"{}").0,
                "put" => app.put(&concrete, None, b"{}").0,
                "delete" => app.delete_as(&concrete, "not-a-token").0,
                other => panic!("undocumented method kind {other}"),
            };
            // Routed: anything but the router's own 404/405 for an unknown route.
            assert_ne!(status, 405, "{method} {path}");
            if status == 404 {
                let (_, body) = match method.as_str() {
                    "get" => app.get(&concrete),
                    "put" => app.put(&concrete, None, b"{}"),
                    _ => app.post(&concrete, None, b"{}"),
                };
                assert_eq!(
                    body["error"]["rule"], "not-found",
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
}
