//! `iotmark registry` as an operator runs it: administration from the command line, then a
//! real server process that is killed with `kill -9` while clients submit concurrently. After
//! a restart every acknowledged submission is there, and the log audits clean over HTTP.
//! Runs on the embedded SQLite default and on PostgreSQL (`TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::{Server, agent, free_port, passing_results, repo};
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{ConformityInput, Route, conformity_statement};

fn iotmark() -> Command {
    Command::cargo_bin("iotmark").unwrap()
}

/// The database URLs to run against: the default (SQLite in the data directory), and a
/// fresh PostgreSQL database when configured. Without `TEST_DATABASE_URL` the PostgreSQL run
/// fails with a hint unless `IOTMARK_SKIP_POSTGRES=1`.
fn databases() -> Vec<Option<String>> {
    let mut out = vec![None];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => out.push(Some(fresh_postgres_database(&url))),
        Err(_) if std::env::var("IOTMARK_SKIP_POSTGRES").as_deref() == Ok("1") => {}
        Err(_) => panic!(
            "TEST_DATABASE_URL is not set: start PostgreSQL with `eval \"$(bash scripts/postgres.sh start)\"`, or set IOTMARK_SKIP_POSTGRES=1"
        ),
    }
    out
}

fn fresh_postgres_database(url: &str) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    let name = format!("iotmark_cli_{:016x}", u64::from_le_bytes(b));
    // psql is part of Debian's postgresql package, which the test command installs.
    let status = Process::new("psql")
        .arg(url)
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .expect("psql must be installed (scripts/postgres.sh --install)");
    assert!(status.success());
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn admin(data: &Path, db: &Option<String>, args: &[&str]) -> String {
    let mut cmd = iotmark();
    cmd.args(["registry", "admin"])
        .args(args)
        .arg("--data")
        .arg(data);
    if let Some(db) = db {
        cmd.args(["--db", db]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `count` distinct conformity attestations of the example, signed by `signer`.
fn envelopes(signer: &FileSigner, count: i64) -> Vec<Vec<u8>> {
    let path = repo().join("examples/acme-securecam/declaration.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let declaration = iotmark_declare::check(&path, &bytes, &|_| true, jiff::Zoned::now().date())
        .declaration
        .unwrap();
    let results = passing_results();
    let now = jiff::Timestamp::now().as_second();
    (0..count)
        .map(|i| {
            let issued = jiff::Timestamp::from_second(now - 3600 - i).unwrap();
            let statement = conformity_statement(
                &results,
                Path::new("assessment-results.json"),
                &declaration,
                &ConformityInput {
                    sbom_sha256: None,
                    route: Route::Sdoc,
                    profile: None,
                    organisation: "Acme Devices Ltd".into(),
                    key_id: signer.key_id(),
                    issued,
                    valid_until: jiff::Timestamp::from_second(now + 86_400 * 365).unwrap(),
                },
            )
            .unwrap();
            iotmark_attest::sign_statement(&statement, signer)
                .unwrap()
                .to_json()
                .into_bytes()
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    iotmark_log::merkle::hex(&iotmark_log::merkle::sha256(bytes))
}

#[test]
fn acknowledged_submissions_survive_kill_9_and_the_log_audits_clean() {
    for db in databases() {
        let dir = tempfile::tempdir().unwrap();
        let data: PathBuf = dir.path().join("data");
        admin(
            &data,
            &db,
            &[
                "org-add",
                "acme",
                "--name",
                "Acme Devices Ltd",
                "--role",
                "manufacturer",
            ],
        );
        let orgs = admin(&data, &db, &["orgs", "--json"]);
        assert!(orgs.contains("\"acme\""), "{orgs}");
        iotmark()
            .args(["key", "generate", "acme.example", "--out"])
            .arg(dir.path().join("acme"))
            .assert()
            .success();
        admin(
            &data,
            &db,
            &[
                "key-add",
                "acme",
                dir.path().join("acme.pub").to_str().unwrap(),
            ],
        );
        let token: serde_json::Value =
            serde_json::from_str(&admin(&data, &db, &["token-create", "acme", "--json"])).unwrap();
        let token = token["token"].as_str().unwrap().to_owned();
        let signer = FileSigner::load(&dir.path().join("acme.key")).unwrap();
        let all = envelopes(&signer, 600);

        let port = free_port();
        let server = Server::start(&data, &db, port);
        let url = server.url.clone();
        let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
        let queue = Arc::new(Mutex::new(all.clone()));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (url, token, acknowledged, queue) = (
                    url.clone(),
                    token.clone(),
                    acknowledged.clone(),
                    queue.clone(),
                );
                std::thread::spawn(move || {
                    let agent = agent();
                    while let Some(envelope) = queue.lock().unwrap().pop() {
                        let Ok(response) = agent
                            .post(&format!("{url}/api/v1/attestations"))
                            .header("Authorization", &format!("Bearer {token}"))
                            .send(&envelope[..])
                        else {
                            return; // the server is gone
                        };
                        if response.status() == 201 {
                            acknowledged.lock().unwrap().push(sha256_hex(&envelope));
                        } else {
                            let status = response.status();
                            let body = response.into_body().read_to_string().unwrap_or_default();
                            panic!("refused: {status} {body}");
                        }
                    }
                })
            })
            .collect();
        // Kill it mid-stream, once a good share has been acknowledged.
        let deadline = Instant::now() + Duration::from_secs(120);
        while acknowledged.lock().unwrap().len() < 150 {
            assert!(Instant::now() < deadline, "submissions are too slow");
            std::thread::sleep(Duration::from_millis(2));
        }
        server.kill_9();
        for w in workers {
            w.join().unwrap();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(
            acknowledged.len() < all.len(),
            "the kill came too late to test anything"
        );

        // Restart: every acknowledged submission is there, and indexed.
        let server = Server::start(&data, &db, port);
        let agent = agent();
        for sha in &acknowledged {
            let response = agent
                .get(&format!("{}/api/v1/attestations/{sha}", server.url))
                .call()
                .unwrap();
            assert_eq!(response.status(), 200, "acknowledged {sha} is missing");
        }
        // Everything the log holds is indexed (entries logged but not yet indexed when the
        // server died are replayed on start).
        let checkpoint = agent
            .get(&format!("{}/log/checkpoint", server.url))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap();
        let size: usize = checkpoint.lines().nth(1).unwrap().parse().unwrap();
        assert!(size >= acknowledged.len());
        let product: serde_json::Value = serde_json::from_str(
            &agent
                .get(&format!("{}/api/v1/products/acme-securecam-2", server.url))
                .call()
                .unwrap()
                .into_body()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(product["history"].as_array().unwrap().len(), size);

        // The log, read over HTTP from the restarted server, audits clean with its key.
        let origin = checkpoint.lines().next().unwrap();
        let vkey = iotmark_conformity::log_key::log_signer(&data.join("log.key"), origin)
            .unwrap()
            .verifier()
            .to_string();
        let out = iotmark()
            .args([
                "log",
                "audit",
                &format!("{}/log", server.url),
                "--log-key",
                &vkey,
                "--envelopes",
                "--json",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let audit: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(audit["size"].as_u64().unwrap() as usize, size);
        assert_eq!(audit["envelopes_checked"].as_u64().unwrap() as usize, size);
        drop(server);
    }
}

#[test]
fn the_demo_prepares_a_registry_whose_attestation_and_receipt_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("iotmark-data");
    let run = || {
        iotmark()
            .args([
                "demo",
                "--no-serve",
                "--listen",
                "127.0.0.1:18080",
                "--data",
            ])
            .arg(&data)
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "http://127.0.0.1:18080/p/acme-securecam-2"
    );
    let demo = data.join("demo");
    // What the manufacturer signed verifies with its key, and the log's receipt proves it
    // was logged, against the key the registry publishes in its data directory.
    iotmark()
        .arg("verify")
        .arg(demo.join("securecam.dsse.json"))
        .arg("--key")
        .arg(demo.join("acme.pub"))
        .assert()
        .success();
    let out = iotmark()
        .args(["log", "verify"])
        .arg(demo.join("securecam.tlog-proof"))
        .arg("--log-key")
        .arg(data.join("log.vkey"))
        .arg("--envelope")
        .arg(demo.join("securecam.dsse.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("entry #0"));
    // A second run signs nothing new: the log still holds one entry.
    assert!(run().status.success());
    let checkpoint = std::fs::read_to_string(data.join("log/checkpoint")).unwrap();
    assert_eq!(checkpoint.lines().nth(1), Some("1"), "{checkpoint}");

    // The monitor, run from the command line over the registry that is not serving: the
    // demo's declaration is living, names no SBOM, and nothing is due.
    let out = iotmark()
        .args(["registry", "monitor", "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run["attestations"], 1, "{run:#}");
    assert_eq!(run["changes"].as_array().map(Vec::len), Some(0), "{run:#}");
    // Its key's public halves are published beside the log's.
    let vkey = std::fs::read_to_string(data.join("monitor.vkey")).unwrap();
    assert!(vkey.starts_with("iotmark.localhost-monitor+"), "{vkey}");
    let out = iotmark()
        .args(["registry", "monitor", "--data"])
        .arg(&data)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no status changed"));
}
