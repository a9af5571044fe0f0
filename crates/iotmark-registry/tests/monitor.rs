//! The monitor end to end, on SQLite and PostgreSQL: a product attested with its SBOM, real
//! vulnerability data (NVD's record of CVE-2017-18368 and CISA's KEV catalog) that affects
//! the attested firmware, the scheme's deadline, a fixed version, and the end of support. The
//! API, the page, the log, a webhook receiver and offline verification must agree at every
//! step, and two runs at once must change nothing twice.
//!
//! Time: the registry accepts only attestations issued up to now, so the story is told in
//! the past: the product is attested 40 days ago and the monitor is run "at" earlier times.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::*;
use iotmark_attest::Sha256;
use iotmark_attest::statement::Route;
use serde_json::{Value, json};

/// `version` announced by `org`.
fn announce(app: &TestApp, org: &str, version: &str, image: &str) -> (u16, Value) {
    let body = json!({
        "version": version,
        "image": {"sha256": image, "size": 8_388_608},
        "url": format!("https://updates.acme.example/securecam/{version}.bin"),
        "min_version": "1.0",
        "release_notes": "Fixes CVE-2017-18368 (command injection in the diagnostics page).",
    });
    app.post(
        "/api/v1/products/acme-securecam-2/announcements",
        Some(&app.tokens[org]),
        body.to_string().as_bytes(),
    )
}

fn page(app: &TestApp) -> String {
    let (status, _, page) = app.get_text("/p/acme-securecam-2", "content-type");
    assert_eq!(status, 200);
    page
}

/// What the API says of `version`: its standing and the attestation speaking for it.
fn version_of(app: &TestApp, version: &str) -> Value {
    let (status, product) = app.get("/api/v1/products/acme-securecam-2");
    assert_eq!(status, 200, "{product}");
    product["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == version)
        .cloned()
        .unwrap_or_else(|| panic!("no version {version} in {product:#}"))
}

/// The status changes the API lists for the attestation `sha`, in log order.
fn changes_of(app: &TestApp, sha: &str) -> Vec<Value> {
    let (_, product) = app.get("/api/v1/products/acme-securecam-2");
    product["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["refers_to"] == sha)
        .cloned()
        .collect()
}

/// Delivers the webhooks due and says what the receiver has accepted so far, in order, as
/// "type version status"; each message must carry the attestation exactly as the API shows
/// it.
fn heard(app: &TestApp, receiver: &common::Receiver) -> Vec<String> {
    let done = app
        .runtime
        .block_on(app.registry.deliver_webhooks())
        .unwrap();
    assert_eq!((done.retrying, done.given_up), (0, 0), "{done:?}");
    receiver
        .accepted()
        .iter()
        .map(|r| {
            let attestation = &r["body"]["data"]["attestation"];
            let (_, api) = app.get(&format!(
                "/api/v1/attestations/{}",
                attestation["envelope_sha256"].as_str().unwrap()
            ));
            assert_eq!(attestation, &api["attestation"]);
            format!(
                "{} {} {}",
                r["body"]["type"].as_str().unwrap(),
                attestation["version"].as_str().unwrap(),
                attestation["status"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

/// The CSAF advisory of the change `sha`, checked for what it must say about `version`, and
/// kept in `dir` for the validator.
fn advisory(app: &TestApp, sha: &str, version: &str, dir: &Path) -> Value {
    let (status, csaf) = app.get(&format!("/api/v1/attestations/{sha}/csaf"));
    assert_eq!(status, 200, "{csaf}");
    assert_eq!(csaf["document"]["category"], "csaf_security_advisory");
    let product = &csaf["product_tree"]["branches"][0]["branches"][0]["branches"][0];
    assert_eq!(product["name"], version);
    assert_eq!(
        product["product"]["product_identification_helper"]["hashes"][0]["file_hashes"][0]["value"],
        image_of(version)
    );
    let vulnerability = &csaf["vulnerabilities"][0];
    assert_eq!(vulnerability["cve"], "CVE-2017-18368");
    assert_eq!(
        vulnerability["product_status"]["known_affected"],
        json!(["CSAFPID-0001"])
    );
    // From NVD's record and CISA's catalog, as imported.
    assert_eq!(
        vulnerability["scores"][0]["cvss_v3"]["baseSeverity"],
        "CRITICAL"
    );
    assert_eq!(vulnerability["threats"][0]["category"], "exploit_status");
    assert!(
        vulnerability["notes"][0]["text"]
            .as_str()
            .unwrap()
            .contains("ZyXEL"),
        "{vulnerability}"
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join(format!("{sha}.csaf.json")),
        serde_json::to_vec_pretty(&csaf).unwrap(),
    )
    .unwrap();
    csaf
}

/// Runs the CSAF 2.0 schema and mandatory tests of BSI's csaf-validator-lib over the
/// advisories in `dir`, when `scripts/validate-vex.sh` installed it (it runs this test again
/// with `IOTMARK_VEX_TOOLS` set, and then the validator must be there).
fn validate_advisories(dir: &Path) {
    let tools = match std::env::var_os("IOTMARK_VEX_TOOLS") {
        Some(t) => std::path::PathBuf::from(t),
        None => common::repo().join("target/tools"),
    };
    let validator = tools.join("csaf-validator");
    if !validator
        .join("node_modules/@secvisogram/csaf-validator-lib")
        .is_dir()
    {
        assert!(
            std::env::var_os("IOTMARK_VEX_TOOLS").is_none(),
            "IOTMARK_VEX_TOOLS names no csaf-validator"
        );
        eprintln!("csaf-validator-lib is not installed: run scripts/validate-vex.sh");
        return;
    }
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!files.is_empty());
    let out = std::process::Command::new("node")
        .arg(common::repo().join("scripts/csaf-validate.mjs"))
        .arg(&validator)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

fn story(url: &str, vulns_url: &str, dir: &Path) {
    use iotmark_attest::verify::Validity;
    let app = TestApp::start(url, dir);
    let vulnerable_sbom = sbom("7.3.15.0");
    let fixed_sbom = sbom("7.3.16.0");

    // Attested 40 days ago, resting on its SBOM, which the manufacturer uploads.
    let v1 = attested(&app, "1.0", &vulnerable_sbom, days_ago(40), None);
    let (status, body) = app.submit("acme", &v1);
    assert_eq!(status, 201, "{body}");
    let v1_sha = body["envelope_sha256"].as_str().unwrap().to_owned();
    // A buyer subscribes to the product's webhooks; its receiver checks every signature.
    app.registry
        .set_webhook_policy(iotmark_registry::webhooks::WebhookPolicy {
            private_networks: true,
            ..Default::default()
        });
    let receiver = common::Receiver::start();
    let (status, webhook) = app.post(
        "/api/v1/webhooks",
        Some(&app.tokens["globex"]),
        json!({"url": receiver.url, "product_id": "acme-securecam-2"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(status, 201, "{webhook}");
    receiver.set_secret(webhook["secret"].as_str().unwrap());
    let sbom_path = format!("/api/v1/sboms/{}", Sha256::of(&vulnerable_sbom).to_hex());
    // Not the attested bytes, not the owner, not an attested SBOM: refused, each by its rule.
    let (status, body) = app.put(&sbom_path, Some(&app.tokens["acme"]), &fixed_sbom);
    assert_eq!(
        (status, body["error"]["rule"].as_str()),
        (422, Some("sbom")),
        "{body}"
    );
    let (status, body) = app.put(&sbom_path, Some(&app.tokens["globex"]), &vulnerable_sbom);
    assert_eq!(
        (status, body["error"]["rule"].as_str()),
        (403, Some("authority")),
        "{body}"
    );
    let other = format!("/api/v1/sboms/{}", Sha256::of(&fixed_sbom).to_hex());
    let (status, body) = app.put(&other, Some(&app.tokens["acme"]), &fixed_sbom);
    assert_eq!(
        (status, body["error"]["rule"].as_str()),
        (404, Some("not-found")),
        "{body}"
    );
    let (status, body) = app.put(&sbom_path, Some(&app.tokens["acme"]), &vulnerable_sbom);
    assert_eq!(status, 204, "{body}");

    // Before any vulnerability data: the SBOM is matched whole, and there is nothing to say.
    attach_vulnerability_store(&app, vulns_url);
    let run = monitor_at(&app, days_ago(35));
    assert_eq!(
        (run.attestations, run.sboms_matched, run.changes.len()),
        (1, 1, 0),
        "{run:?}"
    );
    assert_eq!(version_of(&app, "1.0")["standing"], "valid");

    // Real data arrives: the firmware carries a known-exploited vulnerability. The run
    // matches the SBOM again against what the import changed only, and finds it: vulnerable,
    // with the scheme's 14-day deadline for known-exploited ones.
    import_vulnerabilities(&app);
    let run = monitor_at(&app, days_ago(30));
    assert_eq!((run.sboms_matched, run.sboms_rematched), (0, 1), "{run:?}");
    assert_eq!(run.changes.len(), 1, "{run:?}");
    let change = &run.changes[0];
    assert_eq!(change.status.as_str(), "vulnerable");
    assert_eq!(change.vulnerabilities, ["CVE-2017-18368"]);
    let deadline = days_ago(16);
    assert!(
        change
            .deadline
            .is_some_and(|d| (d.as_second() - deadline.as_second()).abs() < 60),
        "{change:?}"
    );
    assert_eq!(version_of(&app, "1.0")["standing"], "vulnerable");
    assert_eq!(verify_offline(&app, &v1, &v1_sha), Validity::Vulnerable);
    let advisories = dir.join("advisories");
    let vulnerable_sha = changes_of(&app, &v1_sha)[0]["envelope_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let csaf = advisory(&app, &vulnerable_sha, "1.0", &advisories);
    assert_eq!(
        csaf["vulnerabilities"][0]["remediations"][0]["category"],
        "none_available"
    );
    let mut told = vec!["attestation.status_changed 1.0 vulnerable"];
    assert_eq!(heard(&app, &receiver), told);
    // Again, at the same moment: nothing changes twice.
    let again = monitor_at(&app, days_ago(30));
    assert!(again.changes.is_empty(), "{again:?}");

    // The deadline passes with the vulnerability open: suspended. Two runs at once make the
    // change once.
    let at = days_ago(10);
    let (first, second) = app.runtime.block_on(async {
        let (a, b) = tokio::join!(app.registry.monitor(at), app.registry.monitor(at));
        (a.unwrap(), b.unwrap())
    });
    assert_eq!(
        first.changes.len() + second.changes.len(),
        1,
        "{first:?} {second:?}"
    );
    let suspension = first.changes.iter().chain(&second.changes).next().unwrap();
    assert_eq!(
        (suspension.status.as_str(), suspension.trigger.as_str()),
        ("suspension", "deadline-missed")
    );
    assert_eq!(version_of(&app, "1.0")["standing"], "suspended");
    let logged = changes_of(&app, &v1_sha);
    assert_eq!(
        logged
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["vulnerable", "suspension"]
    );
    assert_eq!(logged[1]["trigger"], "deadline-missed");
    assert_eq!(logged[1]["submitted_by"], "iotmark-monitor");
    assert_eq!(verify_offline(&app, &v1, &v1_sha), Validity::Suspended);
    // A conformity attestation has no advisory.
    assert_eq!(
        app.get(&format!("/api/v1/attestations/{v1_sha}/csaf")).0,
        404
    );
    told.push("attestation.status_changed 1.0 suspension");
    assert_eq!(heard(&app, &receiver), told);

    // The exploited vulnerability started the CRA Article 14 clocks when the monitor found
    // it, 30 days ago: the manufacturer sees them missed, with each report's fields filled in.
    let cra = "/api/v1/products/acme-securecam-2/cra";
    let (status, cases) = app.get_as(cra, &app.tokens["acme"]);
    assert_eq!(status, 200, "{cases}");
    let case = &cases[0];
    assert_eq!(case["vulnerability"], "CVE-2017-18368", "{cases:#}");
    let standings = |case: &Value| -> Vec<String> {
        case["clocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["report"].as_str().unwrap(),
                    c["standing"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        standings(case),
        [
            "early-warning missed",
            "notification missed",
            "final-report not-started"
        ]
    );
    assert_eq!(case["prefill"]["affected_versions"], json!(["1.0"]));
    assert_eq!(case["prefill"]["rating"], "critical");
    assert_eq!(case["prefill"]["actively_exploited"], true);
    assert_eq!(app.get_as(cra, &app.tokens["globex"]).0, 403);
    // Reports made late are on the record as late; the fix starts the final report's days.
    let reports = "/api/v1/products/acme-securecam-2/cra/CVE-2017-18368/reports";
    let early = json!({"report": "early-warning", "reference": "ENISA-2026-0042"});
    let body = early.to_string();
    assert_eq!(
        app.post(reports, Some(&app.tokens["acme"]), body.as_bytes())
            .0,
        201
    );
    assert_eq!(
        app.post(reports, Some(&app.tokens["acme"]), body.as_bytes())
            .0,
        409
    );
    let fix = json!({"fixed_in": "1.1"}).to_string();
    let (status, body) = app.post(
        "/api/v1/products/acme-securecam-2/cra/CVE-2017-18368/fix",
        Some(&app.tokens["acme"]),
        fix.as_bytes(),
    );
    assert_eq!(status, 204, "{body}");
    let (_, cases) = app.get_as(cra, &app.tokens["acme"]);
    assert_eq!(
        standings(&cases[0]),
        [
            "early-warning late",
            "notification missed",
            "final-report running"
        ]
    );
    assert_eq!(
        cases[0]["prefill"]["corrective_measure"],
        "Update to version 1.1, which fixes it."
    );
    let suspension_sha = changes_of(&app, &v1_sha)[1]["envelope_sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let csaf = advisory(&app, &suspension_sha, "1.0", &advisories);
    assert_eq!(
        csaf["vulnerabilities"][0]["remediations"][0]["category"],
        "vendor_fix"
    );
    assert!(page(&app).contains(&format!(
        "<a href=\"/api/v1/attestations/{vulnerable_sha}/csaf\">Security advisory (CSAF)</a>"
    )));

    // The manufacturer announces 1.1 with the fix: not assessed until an attestation covers
    // its image. A repeat changes nothing; another image for the same version, or another
    // manufacturer, is refused; a lab reports a version it saw in the field.
    let (status, body) = announce(&app, "acme", "1.1", &image_of("1.1"));
    assert_eq!(status, 201, "{body}");
    assert_eq!(announce(&app, "acme", "1.1", &image_of("1.1")).0, 200);
    let (status, body) = announce(&app, "acme", "1.1", &image_of("other"));
    assert_eq!(
        (status, body["error"]["rule"].as_str()),
        (422, Some("announcement")),
        "{body}"
    );
    assert_eq!(announce(&app, "globex", "1.2", &image_of("1.2")).0, 403);
    let field = json!({"version": "1.0-beta", "image": {"sha256": image_of("1.0-beta")}});
    let (status, body) = app.post(
        "/api/v1/products/acme-securecam-2/announcements",
        Some(&app.tokens["testlab"]),
        field.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let (_, product) = app.get("/api/v1/products/acme-securecam-2");
    let announced: Vec<(&str, &str, bool)> = product["announcements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["version"].as_str().unwrap(),
                a["source"].as_str().unwrap(),
                a["assessed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        announced,
        [("1.0-beta", "field", false), ("1.1", "manufacturer", false)]
    );
    let html = page(&app);
    assert!(html.contains("Version 1.1 has not been assessed"), "{html}");
    assert!(html.contains("Version 1.0-beta has not been assessed"));
    assert!(html.contains("Version 1.0 has known vulnerabilities open: CVE-2017-18368"));

    // Then attests it, supported until yesterday: it holds, and the old version stays
    // suspended.
    let yesterday = days_ago(1).to_zoned(jiff::tz::TimeZone::UTC).date();
    let v11 = attested(&app, "1.1", &fixed_sbom, days_ago(5), Some(yesterday));
    let (status, body) = app.submit("acme", &v11);
    assert_eq!(status, 201, "{body}");
    let v11_sha = body["envelope_sha256"].as_str().unwrap().to_owned();
    let (status, _) = app.put(
        &format!("/api/v1/sboms/{}", Sha256::of(&fixed_sbom).to_hex()),
        Some(&app.tokens["acme"]),
        &fixed_sbom,
    );
    assert_eq!(status, 204);
    let run = monitor_at(&app, days_ago(3));
    assert!(run.changes.is_empty(), "{run:?}");
    assert_eq!(
        (run.sboms_matched, run.open_vulnerabilities),
        (1, 1),
        "{run:?}"
    );
    assert_eq!(version_of(&app, "1.1")["standing"], "valid");
    assert_eq!(version_of(&app, "1.0")["standing"], "suspended");
    let html = page(&app);
    assert!(!html.contains("Version 1.1 has not been assessed"));
    told.push("attestation.published 1.1 -");
    assert_eq!(heard(&app, &receiver), told);
    assert!(html.contains("Version 1.0-beta has not been assessed"));

    // Its support ends: end of support, by the monitor, on the day after the declared one.
    let run = monitor_at(&app, jiff::Timestamp::now());
    assert_eq!(run.changes.len(), 1, "{run:?}");
    assert_eq!(
        (
            run.changes[0].version.as_str(),
            run.changes[0].status.as_str()
        ),
        ("1.1", "end-of-support")
    );
    assert_eq!(version_of(&app, "1.1")["standing"], "end-of-support");
    assert_eq!(verify_offline(&app, &v11, &v11_sha), Validity::SupportEnded);
    told.push("attestation.status_changed 1.1 end-of-support");
    assert_eq!(heard(&app, &receiver), told);
    assert_eq!(version_of(&app, "1.0")["standing"], "suspended");

    // The page tells it, without JavaScript.
    let page = page(&app);
    for words in [
        "Found a known vulnerability open in",
        "Suspended",
        "deadline to fix passed",
    ] {
        assert!(page.contains(words), "the page lacks {words:?}");
    }
    // Every change is in the log the checkpoint commits to.
    let checkpoint = app.registry.checkpoint().unwrap();
    let size = iotmark_log::checkpoint::read_unverified(&checkpoint)
        .unwrap()
        .size;
    assert_eq!(size, 5, "two attestations and three changes");
    validate_advisories(&advisories);
    app.registry.shutdown();
}

#[test]
fn the_monitor_keeps_status_true_after_sale() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let root = dir.path().join(backend);
        // The vulnerability store shares PostgreSQL with the registry (its own migrations);
        // on SQLite it is its own file, as `iotmark vulns` keeps it.
        let vulns_url = if backend == "sqlite" {
            format!("sqlite://{}", dir.path().join("vulns.sqlite3").display())
        } else {
            url.clone()
        };
        eprintln!("backend {backend}");
        story(&url, &vulns_url, &root);
    }
}

/// Due process and withdrawal through the lifecycle table: after a revocation only the
/// operator's upheld appeal reinstates; a manufacturer withdraws its own version, and nothing
/// changes a withdrawn one.
#[test]
fn an_upheld_appeal_reinstates_and_a_withdrawal_is_final() {
    use iotmark_attest::statement::{StatusKind, Trigger};
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let operator = app.keys["operator"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, days_ago(3));
        let (status, body) = app.submit("acme", &sdoc);
        assert_eq!(status, 201, "{backend}: {body}");
        let standing = |app: &TestApp| version_of(app, "2.4.1")["standing"].clone();
        let revocation = status_change_for(
            &operator,
            "Registry Operator",
            &sdoc,
            StatusKind::Revocation,
            seconds_ago(1),
            None,
        );
        assert_eq!(app.submit("operator", &revocation).0, 201);
        assert_eq!(standing(&app), "revoked");
        // The manufacturer cannot undo a revocation; the operator upholding an appeal can.
        let (status, body) = app.submit(
            "acme",
            &status_change_for(
                &acme,
                "Acme Devices Ltd",
                &sdoc,
                StatusKind::Reinstatement,
                seconds_ago(1),
                None,
            ),
        );
        assert_eq!(
            (status, body["error"]["rule"].as_str()),
            (403, Some("authority")),
            "{body}"
        );
        let (status, body) = app.submit(
            "operator",
            &status_change_for(
                &operator,
                "Registry Operator",
                &sdoc,
                StatusKind::Reinstatement,
                seconds_ago(1),
                Some(Trigger::AppealUpheld),
            ),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        assert_eq!(standing(&app), "valid");
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        let last = product["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["trigger"], "appeal-upheld", "{last:#}");
        // Withdrawn by its manufacturer: final.
        let (status, body) = app.submit(
            "acme",
            &status_change_for(
                &acme,
                "Acme Devices Ltd",
                &sdoc,
                StatusKind::Withdrawal,
                seconds_ago(1),
                None,
            ),
        );
        assert_eq!(status, 201, "{backend}: {body}");
        assert_eq!(standing(&app), "withdrawn");
        let (status, body) = app.submit(
            "operator",
            &status_change_for(
                &operator,
                "Registry Operator",
                &sdoc,
                StatusKind::Suspension,
                seconds_ago(1),
                None,
            ),
        );
        assert_eq!(
            (status, body["error"]["rule"].as_str()),
            (422, Some("state")),
            "{body}"
        );
        assert!(page(&app).contains("Withdrawn"));
        app.registry.shutdown();
    }
}

const KILL_DIR: &str = "IOTMARK_MONITOR_KILL_DIR";
const KILL_AT: &str = "IOTMARK_MONITOR_KILL_AT";
/// Versions in the kill -9 test: enough that the child's run is still logging changes when
/// the parent kills it.
const KILLED_VERSIONS: usize = 1500;

/// The registry in `dir` opened without serving (as `iotmark registry monitor` opens it),
/// with its vulnerability store attached.
fn open_registry(
    dir: &Path,
) -> (
    tokio::runtime::Runtime,
    std::sync::Arc<iotmark_registry::service::Registry>,
) {
    let (runtime, registry) = common::reopen(dir, "http://registry.test");
    runtime.block_on(async {
        let vulns = iotmark_vulns::store::Store::open(&format!(
            "sqlite://{}",
            dir.join("vulns.sqlite3").display()
        ))
        .await
        .unwrap();
        registry.attach_vulnerability_store(vulns);
    });
    (runtime, registry)
}

/// Child process for the kill -9 test: one monitor run over the registry in `KILL_DIR`. Does
/// nothing unless started by the parent test.
#[test]
fn monitor_child() {
    let Ok(dir) = std::env::var(KILL_DIR) else {
        return;
    };
    let at: jiff::Timestamp = std::env::var(KILL_AT).unwrap().parse().unwrap();
    let (runtime, registry) = open_registry(Path::new(&dir));
    let run = runtime.block_on(registry.monitor(at)).unwrap();
    println!("DONE {}", run.changes.len());
}

/// kill -9 while the monitor is logging its changes: after a restart, the next run makes the
/// rest, and every attestation has exactly the one change it needs.
#[test]
fn kill_9_during_a_monitor_run_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.sqlite3").display());
    let app = TestApp::start(&url, dir.path());
    attach_vulnerability_store(
        &app,
        &format!("sqlite://{}", dir.path().join("vulns.sqlite3").display()),
    );
    import_vulnerabilities(&app);
    // Many versions, each with its own SBOM of the vulnerable firmware.
    let registry = app.registry.clone();
    let signer = app.keys["acme"].clone();
    app.runtime.block_on(async {
        let acme = registry.store.organisation("acme").await.unwrap().unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..KILLED_VERSIONS {
            let (registry, acme, signer) = (registry.clone(), acme.clone(), signer.clone());
            tasks.spawn(async move {
                let mut document: Value = serde_json::from_slice(&sbom("7.3.15.0")).unwrap();
                document["metadata"]["component"]["version"] = json!(format!("build {i}"));
                let bytes = serde_json::to_vec(&document).unwrap();
                let plain = conformity(&signer, "Acme Devices Ltd", Route::Sdoc, days_ago(2));
                let envelope = forge(&signer, &plain, |p| {
                    p.product.version = format!("1.0.{i}");
                    p.sbom_sha256 = Some(Sha256::of(&bytes));
                });
                registry.submit(&acme, &envelope, None).await.unwrap();
                registry
                    .upload_sbom(&acme, &Sha256::of(&bytes).to_hex(), &bytes)
                    .await
                    .unwrap();
            });
            if tasks.len() >= 64 {
                tasks.join_next().await.unwrap().unwrap();
            }
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
    });
    app.registry.shutdown();
    drop(registry);
    drop(app);

    let at = jiff::Timestamp::now();
    let log_size = || {
        let view =
            iotmark_log::storage::DirStorage::open_read_only(dir.path().join("data/log")).unwrap();
        let checkpoint = view.read_checkpoint().unwrap().unwrap();
        iotmark_log::checkpoint::read_unverified(&checkpoint)
            .unwrap()
            .size
    };
    let before = log_size();
    assert_eq!(before, KILLED_VERSIONS as u64);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "monitor_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_DIR, dir.path())
        .env(KILL_AT, at.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once it has logged some of its changes, well before all.
    let started = std::time::Instant::now();
    loop {
        let logged = log_size() - before;
        if logged >= 50 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        assert!(
            started.elapsed().as_secs() < 300,
            "the child logged nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    use iotmark_log::storage::Storage as _;
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let logged_by_child = log_size() - before;
    assert!(
        (logged_by_child as usize) < KILLED_VERSIONS,
        "the child logged all {logged_by_child} changes before it was killed"
    );

    let (runtime, registry) = open_registry(dir.path());
    let run = runtime.block_on(registry.monitor(at)).unwrap();
    assert_eq!(
        run.changes.len() + logged_by_child as usize,
        KILLED_VERSIONS,
        "{} made after the restart, {logged_by_child} before",
        run.changes.len()
    );
    let all = runtime.block_on(registry.store.all_attestations()).unwrap();
    let mut per_attestation: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in all
        .iter()
        .filter(|r| r.kind == iotmark_registry::store::EntryKind::Status)
    {
        assert_eq!(r.status.map(|s| s.as_str()), Some("vulnerable"));
        *per_attestation
            .entry(r.refers_to.as_deref().unwrap())
            .or_default() += 1;
    }
    assert_eq!(per_attestation.len(), KILLED_VERSIONS);
    assert!(
        per_attestation.values().all(|&n| n == 1),
        "a change was made twice"
    );
    assert_eq!(log_size(), 2 * KILLED_VERSIONS as u64);
    // And once more: nothing.
    assert!(
        runtime
            .block_on(registry.monitor(at))
            .unwrap()
            .changes
            .is_empty()
    );
    registry.shutdown();
}

/// A BSI-style label (`de-bsi-it-security-label`: two years, renewal from 91 to 42 days before
/// expiry, a lapse 42 days after the requirements change): the page shows the renewal window
/// when it is open and when it has closed; when the operator records a change of the
/// requirements, a label issued before it lapses (expiry, `validity-lapsed`) once 42 days
/// have passed, and one issued after it does not. On SQLite and PostgreSQL.
#[test]
fn a_bsi_style_label_shows_its_renewal_window_and_lapses_after_a_requirements_change() {
    use iotmark_attest::verify::Validity;
    const BSI: &str = "de-bsi-it-security-label";
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let labelled = |version: &str, issued: jiff::Timestamp| {
            forge(
                &acme,
                &conformity(&acme, "Acme Devices Ltd", Route::Sdoc, issued),
                |p| {
                    p.scheme = BSI.to_owned();
                    p.tier = "labelled".to_owned();
                    p.product.version = version.to_owned();
                    p.valid_until = issued
                        .checked_add(jiff::SignedDuration::from_hours(730 * 24))
                        .unwrap();
                },
            )
        };
        // 1.0: issued 680 days ago, so it expires in 50 days: its renewal is open.
        // 0.9: issued 700 days ago, expiring in 30 days: the window closed 12 days ago.
        let v09 = labelled("0.9", days_ago(700));
        // One instant for both the label and what is expected of it (computed twice, a
        // second boundary between the two made them differ by a second).
        let issued_10 = days_ago(680);
        let v10 = labelled("1.0", issued_10);
        for envelope in [&v09, &v10] {
            let (status, body) = app.submit("acme", envelope);
            assert_eq!(status, 201, "{backend}: {body}");
        }
        let html = page(&app);
        let day = |t: jiff::Timestamp| {
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .date()
                .strftime("%-d %B %Y")
                .to_string()
        };
        let expires_10 = issued_10
            .checked_add(jiff::SignedDuration::from_hours(730 * 24))
            .unwrap();
        assert!(
            html.contains(&format!(
                "The label of version 1.0 expires on {}; its renewal is open until {}",
                day(expires_10),
                day(expires_10
                    .checked_sub(jiff::SignedDuration::from_hours(42 * 24))
                    .unwrap())
            )),
            "{backend}: {html}"
        );
        assert!(html.contains("The label of version 0.9 expires on"));
        assert!(html.contains("the manufacturer did not renew it in time"));
        let v = version_of(&app, "1.0");
        assert_eq!(
            v["renewal_opens"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap(),
            expires_10
                .checked_sub(jiff::SignedDuration::from_hours(91 * 24))
                .unwrap()
        );
        assert!(v.get("lapses").is_none(), "{v}");

        // Who may record a change of requirements, and for which scheme.
        let path = format!("/api/v1/schemes/{BSI}/requirement-changes");
        let change = json!({"changed": days_ago(50).to_string(),
                            "summary": "Category requirements v2: secure boot is mandatory."});
        let body = change.to_string();
        for (org, path, status, rule) in [
            ("acme", path.as_str(), 403, "authority"),
            (
                "operator",
                "/api/v1/schemes/nope/requirement-changes",
                404,
                "not-found",
            ),
            (
                "operator",
                "/api/v1/schemes/en303645-self-declaration/requirement-changes",
                422,
                "scheme",
            ),
        ] {
            let (got, answer) = app.post(path, Some(&app.tokens[org]), body.as_bytes());
            assert_eq!(
                (got, answer["error"]["rule"].as_str()),
                (status, Some(rule)),
                "{backend} {org} {path}: {answer}"
            );
        }
        assert_eq!(
            app.post(&path, Some(&app.tokens["operator"]), b"{\"when\": 1}")
                .0,
            400
        );
        // Not due yet 9 days ago; recorded before the monitor runs.
        assert_eq!(
            app.post(&path, Some(&app.tokens["operator"]), body.as_bytes())
                .0,
            201
        );
        assert_eq!(
            app.post(&path, Some(&app.tokens["operator"]), body.as_bytes())
                .0,
            200
        );
        let (_, listed) = app.get(&path);
        assert_eq!(listed.as_array().unwrap().len(), 1);
        // 1.1 is attested after the change: it does not lapse.
        let v11 = labelled("1.1", days_ago(5));
        assert_eq!(app.submit("acme", &v11).0, 201);
        let lapse = days_ago(8);
        let v = version_of(&app, "1.0");
        let lapses: jiff::Timestamp = v["lapses"].as_str().unwrap().parse().unwrap();
        assert!(
            (lapses.as_second() - lapse.as_second()).abs() < 60,
            "{backend}: {v}"
        );
        assert!(version_of(&app, "1.1").get("lapses").is_none());
        let html = page(&app);
        assert!(
            html.contains(&format!(
                "The label of version 1.0 lapses on {} unless it is renewed",
                day(lapse)
            )),
            "{backend}: {html}"
        );
        assert!(html.contains("Category requirements v2: secure boot is mandatory."));

        assert!(monitor_at(&app, days_ago(9)).changes.is_empty());
        let run = monitor_at(&app, jiff::Timestamp::now());
        let mut lapsed: Vec<(&str, &str, &str)> = run
            .changes
            .iter()
            .map(|c| (c.version.as_str(), c.status.as_str(), c.trigger.as_str()))
            .collect();
        lapsed.sort_unstable();
        // 0.9 and 1.0 were issued before the change; 1.1 after.
        assert_eq!(
            lapsed,
            [
                ("0.9", "expiry", "validity-lapsed"),
                ("1.0", "expiry", "validity-lapsed")
            ],
            "{backend}: {run:?}"
        );
        assert!(run.changes[0].reason.contains("requirements changed"));
        assert_eq!(version_of(&app, "1.0")["standing"], "expired");
        assert_eq!(version_of(&app, "1.1")["standing"], "valid");
        let v10_sha = Sha256::of(&v10).to_hex();
        assert_eq!(verify_offline(&app, &v10, &v10_sha), Validity::Expired);
        // Nothing twice.
        assert!(monitor_at(&app, jiff::Timestamp::now()).changes.is_empty());
        app.registry.shutdown();
    }
}
