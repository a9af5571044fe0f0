//! `iotmark fleet check` as a buyer runs it, against a real `iotmark registry serve` process
//! holding the demo's product: the table, JSON, the HTML report and the OSCAL POA&M, the exit
//! codes, the log key kept from the first check, `--changes` and `--watch`. And `iotmark
//! procure --registry`, which takes the candidates' declarations from the same registry.
//! The library's end-to-end test (every status, an altered database caught, on SQLite and
//! PostgreSQL) is `crates/iotmark-registry/tests/fleet.rs`.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command as Process, Stdio};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use common::{Server, agent, free_port};

fn iotmark() -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fleet(state: &Path, url: &str, inventory: &Path, extra: &[&str]) -> std::process::Output {
    iotmark()
        .args(["fleet", "check"])
        .arg(inventory)
        .args(["--registry", url, "--state"])
        .arg(state)
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The demo's registry, served: the server, its data directory and the product's answer.
fn demo_registry(dir: &Path) -> (Server, std::path::PathBuf, serde_json::Value) {
    let data = dir.join("iotmark-data");
    let port = free_port();
    let out = iotmark()
        .args([
            "demo",
            "--no-serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = Server::start(&data, &None, port);
    let product: serde_json::Value = serde_json::from_str(
        &agent()
            .get(&format!("{}/api/v1/products/acme-securecam-2", server.url))
            .call()
            .unwrap()
            .into_body()
            .read_to_string()
            .unwrap(),
    )
    .unwrap();
    (server, data, product)
}

#[test]
fn a_buyer_checks_a_fleet_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (server, data, product) = demo_registry(dir.path());
    let version = product["versions"][0]["version"]
        .as_str()
        .unwrap()
        .to_owned();

    let inventory = dir.path().join("devices.csv");
    std::fs::write(
        &inventory,
        format!(
            "product,version,count,location,owner\n\
             acme-securecam-2,{version},40,\"HQ, lobby\",facilities\n\
             acme-securecam-2,0.0.1,2,Lab,research\n"
        ),
    )
    .unwrap();
    let state = dir.path().join("state");
    let vkey = data.join("log.vkey");

    // The first check needs the log's key, and says so.
    let out = fleet(&state, &server.url, &inventory, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--log-key"),
        "{}",
        text(&out.stderr)
    );

    // A URL that is not the registry's base: said so, and nothing is kept.
    let out = fleet(
        &state,
        &format!("{}/registry", server.url),
        &inventory,
        &["--log-key", vkey.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is the registry's base URL right"),
        "{}",
        text(&out.stderr)
    );
    assert!(!state.join("log.json").exists());

    // The table: each line's status and why, the counts, and what the log said. One group
    // of devices runs a version nobody attested: exit 3.
    let html = dir.path().join("fleet.html");
    let poam = match std::env::var_os("IOTMARK_FLEET_OUT") {
        Some(out) => Path::new(&out).join("fleet.poam.json"),
        None => dir.path().join("fleet.poam.json"),
    };
    let out = fleet(
        &state,
        &server.url,
        &inventory,
        &[
            "--log-key",
            vkey.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
            "--poam",
            poam.to_str().unwrap(),
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("STATUS"), "{stdout}");
    let not_attested = stdout.lines().nth(1).unwrap();
    assert!(
        not_attested.starts_with("not-attested") && not_attested.contains("acme-securecam-2 0.0.1"),
        "{stdout}"
    );
    assert!(
        stdout.lines().nth(2).unwrap().starts_with("valid")
            && stdout.contains("HQ, lobby, facilities: the label holds"),
        "{stdout}"
    );
    assert!(
        stdout.contains("42 devices: 2 not-attested, 40 valid"),
        "{stdout}"
    );
    assert!(
        stdout.contains("first check: the whole log read"),
        "{stdout}"
    );
    assert!(
        stdout.contains("The registry's answers agree with its log."),
        "{stdout}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("<svg") && page.contains("Devices by status"),
        "{page}"
    );
    assert!(
        !page.contains("<script"),
        "the report works without JavaScript"
    );
    let plan = iotmark_oscal::Loader::default().load_path(&poam).unwrap();
    let iotmark_oscal::Document::PlanOfActionAndMilestones(plan) = plan else {
        panic!("not a POA&M")
    };
    assert_eq!(plan.poam_items.len(), 1, "the unattested devices only");
    assert!(
        plan.poam_items[0].title.contains("0.0.1"),
        "{:?}",
        plan.poam_items[0]
    );

    // JSON for machines; the key is kept, so it need not be given again.
    let out = fleet(&state, &server.url, &inventory, &["--json"]);
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["total_devices"], 42);
    assert_eq!(report["counts"]["valid"], 40);
    assert_eq!(
        report["devices"][1]["support_end"],
        product["versions"][0]["support_end"]
    );
    assert_eq!(report["log"]["entries_read"], 0, "nothing new in the log");
    assert_eq!(report["discrepancies"], serde_json::json!([]));

    // Another key than the kept one is refused, not trusted.
    let other = data.join("monitor.vkey");
    let out = fleet(
        &state,
        &server.url,
        &inventory,
        &["--log-key", other.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("is not the key kept"),
        "{}",
        text(&out.stderr)
    );

    // Only what changed: nothing.
    let out = fleet(&state, &server.url, &inventory, &["--changes"]);
    assert!(
        text(&out.stdout).contains("no change since the last check"),
        "{}",
        text(&out.stdout)
    );

    // A fleet that is all valid: exit 0.
    let healthy = dir.path().join("healthy.json");
    std::fs::write(
        &healthy,
        format!(r#"[{{"product": "acme-securecam-2", "version": "{version}", "count": 3}}]"#),
    )
    .unwrap();
    let out = fleet(&state, &server.url, &healthy, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    // Watching: each round reports what changed since the one before (the inventory changed
    // from the last check: the unattested devices are new again).
    let mut watch = Process::cargo_bin("iotmark")
        .unwrap()
        .args(["fleet", "check"])
        .arg(&inventory)
        .args(["--registry", &server.url, "--state"])
        .arg(&state)
        .args(["--watch", "--every", "1"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    // The first round: the lines of devices.csv are new, the line of healthy.json is gone.
    let mut first_round = Vec::new();
    for _ in 0..3 {
        first_round.push(lines.next().unwrap().unwrap());
    }
    let first_round = first_round.join("\n");
    for expected in [
        "acme-securecam-2 0.0.1: new in the inventory: not-attested",
        &format!("acme-securecam-2 {version}: new in the inventory: valid"),
        &format!("acme-securecam-2 {version}: no longer in the inventory"),
    ] {
        assert!(first_round.contains(expected), "{expected}: {first_round}");
    }
    // The next round, a second later: nothing changed.
    let next = lines.next().unwrap().unwrap();
    assert!(next.contains("no change since the last check"), "{next}");
    watch.kill().unwrap();
    watch.wait().unwrap();
    drop(server);
}

#[test]
fn procure_takes_the_declarations_a_registry_publishes() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _, _) = demo_registry(dir.path());
    let procure = |extra: &[&str]| {
        iotmark()
            .args([
                "procure",
                "--baseline",
                "moderate",
                "--date",
                "2026-11-22",
                "--json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = procure(&["--registry", &server.url, "acme-securecam-2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_registry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let candidate = &from_registry["candidates"][0];
    assert_eq!(candidate["product_id"], "acme-securecam-2");
    assert_eq!(
        candidate["declaration"],
        format!("{}/api/v1/products/acme-securecam-2", server.url)
    );
    // The demo published the fixed example's declaration: the same answer as from the file.
    let file = common::repo().join("examples/acme-securecam-fixed/declaration.yaml");
    let out = procure(&[file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let from_file: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        candidate["statuses"],
        from_file["candidates"][0]["statuses"]
    );
    assert!(candidate["met"].as_u64().unwrap() > 0);

    let out = procure(&["--registry", &server.url, "nosuch-camera"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("knows no product \"nosuch-camera\""),
        "{}",
        text(&out.stderr)
    );
}
