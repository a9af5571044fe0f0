//! Due process end to end, on SQLite and PostgreSQL: the operator suspends a product; its
//! manufacturer appeals with grounds and evidence; the operator dismisses it, with reasons,
//! logged and shown like any other change; the operator revokes; the manufacturer appeals
//! again and the operator upholds it. The API, the page, the log and offline verification
//! agree at every step, and who may do what is enforced.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::{TestApp, backends, conformity, seconds_ago, status_change, verify_offline};
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_attest::verify::Validity;
use serde_json::{Value, json};

const PRODUCT: &str = "/api/v1/products/acme-securecam-2";

fn standing(app: &TestApp) -> String {
    let (_, product) = app.get(PRODUCT);
    product["versions"][0]["standing"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn last_change(app: &TestApp) -> Value {
    let (_, product) = app.get(PRODUCT);
    product["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

fn page(app: &TestApp) -> String {
    let (status, _, html) = app.get_text("/p/acme-securecam-2", "content-type");
    assert_eq!(status, 200);
    html
}

fn appeal(app: &TestApp, org: &str, body: &Value) -> (u16, Value) {
    app.post(
        &format!("{PRODUCT}/appeals"),
        Some(&app.tokens[org]),
        body.to_string().as_bytes(),
    )
}

fn decide(app: &TestApp, org: &str, id: &str, decision: &str, reasons: &str) -> (u16, Value) {
    app.post(
        &format!("/api/v1/appeals/{id}/decision"),
        Some(&app.tokens[org]),
        json!({"decision": decision, "reasons": reasons})
            .to_string()
            .as_bytes(),
    )
}

fn story(url: &str, dir: &Path) {
    let app = TestApp::start(url, dir);
    let acme = app.keys["acme"].clone();
    let operator = app.keys["operator"].clone();
    let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(600));
    let (status, body) = app.submit("acme", &sdoc);
    assert_eq!(status, 201, "{body}");
    let sdoc_sha = body["envelope_sha256"].as_str().unwrap().to_owned();

    // The operator suspends it (a complaint under investigation).
    let suspension = status_change(
        &operator,
        "Registry Operator",
        &sdoc,
        StatusKind::Suspension,
        seconds_ago(300),
    );
    let (status, body) = app.submit("operator", &suspension);
    assert_eq!(status, 201, "{body}");
    let suspension_sha = body["envelope_sha256"].as_str().unwrap().to_owned();
    assert_eq!(standing(&app), "suspended");

    // Refusals, each with its rule.
    let grounds = "The complaint concerns firmware 2.3, which this declaration does not cover.";
    let evidence = json!([
        {"description": "Lab retest of 2.4.1", "sha256": "ab".repeat(32),
         "url": "https://acme.example/retest-2.4.1.pdf"}
    ]);
    let good = json!({"contests": suspension_sha, "grounds": grounds, "evidence": evidence});
    for (org, body, status, rule) in [
        ("globex", good.clone(), 403, "authority"),
        ("testlab", good.clone(), 403, "authority"),
        (
            "acme",
            json!({"contests": sdoc_sha, "grounds": grounds}),
            422,
            "appeal",
        ),
        (
            "acme",
            json!({"contests": "0".repeat(64), "grounds": grounds}),
            404,
            "not-found",
        ),
        (
            "acme",
            json!({"contests": suspension_sha, "grounds": "  "}),
            422,
            "appeal",
        ),
        (
            "acme",
            json!({"contests": suspension_sha, "grounds": grounds,
                   "evidence": [{"description": "x", "url": "file:///etc/passwd"}]}),
            422,
            "appeal",
        ),
        (
            "acme",
            json!({"contests": suspension_sha, "why": grounds}),
            400,
            "body",
        ),
    ] {
        let (got, answer) = appeal(&app, org, &body);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (status, Some(rule)),
            "{org} {body}: {answer}"
        );
    }

    // The manufacturer appeals. The public sees that it is pending, not its grounds.
    let (status, filed) = appeal(&app, "acme", &good);
    assert_eq!(status, 201, "{filed}");
    let first = filed["id"].as_str().unwrap().to_owned();
    assert!(first.starts_with("ap_"));
    assert_eq!(filed["evidence"], evidence);
    assert_eq!(appeal(&app, "acme", &good).0, 409, "one appeal per change");
    let (status, listed) = app.get_as(&format!("{PRODUCT}/appeals"), &app.tokens["operator"]);
    assert_eq!(status, 200);
    assert_eq!(listed[0]["grounds"], grounds);
    assert_eq!(
        app.get_as(&format!("{PRODUCT}/appeals"), &app.tokens["globex"])
            .0,
        403
    );
    let (_, product) = app.get(PRODUCT);
    assert_eq!(product["appeals"][0]["id"], first.as_str());
    assert_eq!(product["appeals"][0]["contests"], suspension_sha.as_str());
    assert!(product["appeals"][0].get("grounds").is_none());
    assert!(product["appeals"][0].get("decision").is_none());
    assert!(page(&app).contains("The manufacturer appealed the suspension of version 2.4.1"));

    // Only the operator decides.
    assert_eq!(
        decide(&app, "acme", &first, "upheld", "self-serving").0,
        403
    );
    assert_eq!(decide(&app, "operator", "ap_nosuch", "upheld", "x").0, 404);
    // Dismissed: the suspension stands, and the decision is logged with its reasons.
    let reasons = "The complaint reproduces on 2.4.1; the retest did not cover the telnet port.";
    let (status, made) = decide(&app, "operator", &first, "dismissed", reasons);
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["appeal"]["decision"], "dismissed");
    assert_eq!(made["appeal"]["reasons"], reasons);
    assert_eq!(
        decide(&app, "operator", &first, "upheld", "changed my mind").0,
        409,
        "a decision is final"
    );
    let logged = last_change(&app);
    assert_eq!(logged["log_index"], made["log_index"]);
    assert_eq!(logged["status"], "suspension");
    assert_eq!(logged["trigger"], "appeal-dismissed");
    assert_eq!(logged["submitted_by"], "iotmark-monitor");
    let reason = logged["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(&format!(
            "Appeal {first} dismissed by Registry Operator (operator): "
        )) && reason.ends_with(reasons),
        "{reason}"
    );
    assert_eq!(
        made["appeal"]["decision_attestation"],
        logged["envelope_sha256"]
    );
    assert_eq!(standing(&app), "suspended");
    assert_eq!(verify_offline(&app, &sdoc, &sdoc_sha), Validity::Suspended);
    let html = page(&app);
    assert!(html.contains("Dismissed an appeal; the suspension stands for"));
    assert!(html.contains(reasons));
    assert!(!html.contains("The manufacturer appealed the suspension"));

    // The operator revokes; the manufacturer appeals that, and the operator upholds it.
    let revocation = status_change(
        &operator,
        "Registry Operator",
        &sdoc,
        StatusKind::Revocation,
        seconds_ago(100),
    );
    let (status, body) = app.submit("operator", &revocation);
    assert_eq!(status, 201, "{body}");
    let revocation_sha = body["envelope_sha256"].as_str().unwrap().to_owned();
    assert_eq!(standing(&app), "revoked");
    // The suspension is no longer what holds the product back: nothing to contest there.
    let (status, answer) = appeal(
        &app,
        "acme",
        &json!({"contests": suspension_sha, "grounds": grounds}),
    );
    assert_eq!(
        (status, answer["error"]["rule"].as_str()),
        (422, Some("state")),
        "{answer}"
    );
    let (status, filed) = appeal(
        &app,
        "acme",
        &json!({"contests": revocation_sha, "grounds": "The telnet port was closed in 2.4.1-r2."}),
    );
    assert_eq!(status, 201, "{filed}");
    let second = filed["id"].as_str().unwrap().to_owned();
    assert!(page(&app).contains("The manufacturer appealed the revocation of version 2.4.1"));
    let reasons = "The closed port was confirmed by the lab's retest of 2.4.1-r2.";
    let (status, made) = decide(&app, "operator", &second, "upheld", reasons);
    assert_eq!(status, 201, "{made}");
    let logged = last_change(&app);
    assert_eq!(
        (logged["status"].as_str(), logged["trigger"].as_str()),
        (Some("reinstatement"), Some("appeal-upheld"))
    );
    assert_eq!(standing(&app), "valid");
    assert_eq!(verify_offline(&app, &sdoc, &sdoc_sha), Validity::Valid);
    assert!(page(&app).contains("Upheld an appeal and reinstated"));
    let (_, product) = app.get(PRODUCT);
    let decisions: std::collections::BTreeMap<&str, &str> = product["appeals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["decision"].as_str().unwrap()))
        .collect();
    assert_eq!(
        decisions,
        [(first.as_str(), "dismissed"), (second.as_str(), "upheld")]
            .into_iter()
            .collect()
    );
    // Every change is in the log: the attestation, two by the operator, two decisions.
    let checkpoint = app.registry.checkpoint().unwrap();
    assert_eq!(
        iotmark_log::checkpoint::read_unverified(&checkpoint)
            .unwrap()
            .size,
        5
    );
    app.registry.shutdown();
}

#[test]
fn a_manufacturer_appeals_and_the_operator_decides_on_the_record() {
    let dir = tempfile::tempdir().unwrap();
    for (name, url) in backends(dir.path()) {
        eprintln!("backend: {name}");
        story(&url, &dir.path().join(name));
    }
}
