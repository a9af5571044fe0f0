//! Webhooks, end to end, on SQLite and PostgreSQL: an organisation subscribes over the API;
//! each attestation recorded about the product is delivered to a real receiver that checks
//! every signature with the Standard Webhooks reference library (`standardwebhooks`, PyPI);
//! a receiver that is down gets the same message, same `webhook-id`, after it recovers;
//! attempts run out; a removed subscription gets nothing; and a registry killed with -9 in
//! the middle of a delivery sends what it had not finished after it restarts.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Receiver, TestApp, backends, conformity, forge, status_change};
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_registry::webhooks::{Deliveries, WebhookPolicy};
use serde_json::{Value, json};

/// Retries fast enough for a test, yet slow enough that "not due yet" holds on a busy
/// machine; the rest as served.
fn fast_policy() -> WebhookPolicy {
    WebhookPolicy {
        private_networks: true,
        first_retry: RETRY,
        longest_retry: RETRY,
        ..Default::default()
    }
}

/// Every retry's delay in these tests, and a wait that outlasts it.
const RETRY: Duration = Duration::from_secs(1);
const PAST_RETRY: Duration = Duration::from_millis(1300);

fn deliver(app: &TestApp) -> Deliveries {
    app.runtime
        .block_on(app.registry.deliver_webhooks())
        .unwrap()
}

fn subscribe(app: &TestApp, org: &str, receiver: &Receiver, product: Option<&str>) -> Value {
    let mut body = json!({ "url": receiver.url });
    if let Some(p) = product {
        body["product_id"] = json!(p);
    }
    let (status, answer) = app.post(
        "/api/v1/webhooks",
        Some(&app.tokens[org]),
        body.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{answer}");
    answer
}

fn subscriptions(app: &TestApp, org: &str) -> Vec<Value> {
    let (status, list) = app.get_as("/api/v1/webhooks", &app.tokens[org]);
    assert_eq!(status, 200, "{list}");
    list.as_array().unwrap().clone()
}

fn envelope_sha256(envelope: &[u8]) -> String {
    iotmark_attest::Sha256::of(envelope).to_hex()
}

fn story(url: &str, dir: &Path) {
    let app = TestApp::start(url, dir);
    app.registry.set_webhook_policy(fast_policy());
    let acme = app.keys["acme"].clone();
    let v1 = conformity(
        &acme,
        "Acme Devices Ltd",
        Route::Sdoc,
        common::seconds_ago(60),
    );
    assert_eq!(app.submit("acme", &v1).0, 201);
    let product = "acme-securecam-2";

    // Refusals: each says what is wrong.
    for (body, status, rule) in [
        (json!({"url": "ftp://example.org/hook"}), 422, "webhook"),
        (
            json!({"url": "http://user:pw@example.org/hook"}),
            422,
            "webhook",
        ),
        (json!({"url": "not a url"}), 422, "webhook"),
        (
            json!({"url": "http://127.0.0.1:9/hook", "product_id": "no-such-product"}),
            404,
            "not-found",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hook", "extra": 1}),
            400,
            "body",
        ),
    ] {
        let (got, answer) = app.post(
            "/api/v1/webhooks",
            Some(&app.tokens["globex"]),
            body.to_string().as_bytes(),
        );
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (status, Some(rule)),
            "{body}: {answer}"
        );
    }
    let (got, _) = app.post(
        "/api/v1/webhooks",
        None,
        br#"{"url": "http://127.0.0.1:9/"}"#,
    );
    assert_eq!(got, 401);
    // A registry that sends to public addresses only refuses a receiver on loopback.
    app.registry.set_webhook_policy(WebhookPolicy::default());
    let (got, answer) = app.post(
        "/api/v1/webhooks",
        Some(&app.tokens["globex"]),
        br#"{"url": "http://127.0.0.1:9/hook"}"#,
    );
    assert_eq!(got, 422, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--webhooks-to-private-networks"),
        "{answer}"
    );
    app.registry.set_webhook_policy(fast_policy());

    // A buyer (any organisation) subscribes to the product; the receiver is down.
    let receiver = Receiver::start();
    receiver.set_mode("down");
    let webhook = subscribe(&app, "globex", &receiver, Some(product));
    let secret = webhook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{webhook}");
    assert!(webhook["id"].as_str().unwrap().starts_with("wh_"));
    receiver.set_secret(secret);
    // Nothing recorded before the subscription is sent.
    assert_eq!(deliver(&app), Deliveries::default());

    // A new version, then the manufacturer withdraws the old one: two messages.
    let v2 = forge(
        &acme,
        &conformity(
            &acme,
            "Acme Devices Ltd",
            Route::Sdoc,
            common::seconds_ago(30),
        ),
        |p| p.product.version = "2.0.0".to_owned(),
    );
    assert_eq!(app.submit("acme", &v2).0, 201);
    let withdrawal = status_change(
        &acme,
        "acme",
        &v1,
        StatusKind::Withdrawal,
        common::seconds_ago(0),
    );
    assert_eq!(app.submit("acme", &withdrawal).0, 201);

    let first = deliver(&app);
    assert_eq!((first.delivered, first.retrying), (0, 2), "{first:?}");
    let refused: Vec<Value> = receiver.requests();
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|r| r["answer"] == 503));
    let listed = subscriptions(&app, "globex");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["pending"], 2);
    assert_eq!(listed[0]["last_error"], "the receiver answered HTTP 503");
    assert!(
        listed[0].get("secret").is_none(),
        "the secret is shown once"
    );
    // Not due again until the retry's delay has passed.
    assert_eq!(deliver(&app), Deliveries::default());

    receiver.set_mode("up");
    std::thread::sleep(PAST_RETRY);
    let second = deliver(&app);
    assert_eq!((second.delivered, second.retrying), (2, 0), "{second:?}");
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 2);
    assert!(
        accepted
            .iter()
            .all(|r| r["verified"] == true && r["content_type"] == "application/json")
    );
    // The same message IDs as the refused attempts: a receiver can drop repeats.
    let ids = |rs: &[Value]| {
        let mut ids: Vec<String> = rs
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&accepted), ids(&refused));

    // What arrived agrees with the API, field for field.
    let by_type = |t: &str| {
        accepted
            .iter()
            .find(|r| r["body"]["type"] == t)
            .unwrap_or_else(|| panic!("no {t} message in {accepted:?}"))["body"]
            .clone()
    };
    let published = by_type("attestation.published");
    let changed = by_type("attestation.status_changed");
    for (message, envelope) in [(&published, &v2), (&changed, &withdrawal)] {
        let sha = envelope_sha256(envelope);
        let (status, api) = app.get(&format!("/api/v1/attestations/{sha}"));
        assert_eq!(status, 200);
        assert_eq!(
            message["data"]["attestation"], api["attestation"],
            "{message}"
        );
        let links = &message["data"]["links"];
        assert_eq!(links["product"], format!("{}/p/{product}", app.url));
        let (status, _, entry) = app.get_text(
            links["log_entry"]
                .as_str()
                .unwrap()
                .strip_prefix(&app.url)
                .unwrap(),
            "content-type",
        );
        assert_eq!(status, 200);
        assert!(
            entry.contains(&sha),
            "the log entry page names the envelope"
        );
        let receipt = app.get_bytes(
            links["receipt"]
                .as_str()
                .unwrap()
                .strip_prefix(&app.url)
                .unwrap(),
        );
        assert_eq!(receipt.0, 200);
    }
    assert_eq!(changed["data"]["attestation"]["status"], "withdrawal");
    assert_eq!(
        changed["data"]["attestation"]["refers_to"],
        envelope_sha256(&v1)
    );
    assert_eq!(published["data"]["attestation"]["version"], "2.0.0");
    let listed = subscriptions(&app, "globex");
    assert_eq!(
        (
            listed[0]["pending"].as_u64(),
            listed[0]["delivered"].as_u64()
        ),
        (Some(0), Some(2))
    );
    assert!(listed[0].get("last_error").is_none(), "{listed:?}");
    // Delivered messages are not sent again.
    assert_eq!(deliver(&app), Deliveries::default());

    // Attempts run out for a receiver that stays down: given up, and listed as failed.
    let policy = WebhookPolicy {
        attempts: 2,
        ..fast_policy()
    };
    app.registry.set_webhook_policy(policy);
    receiver.set_mode("down");
    let v3 = forge(
        &acme,
        &conformity(
            &acme,
            "Acme Devices Ltd",
            Route::Sdoc,
            common::seconds_ago(20),
        ),
        |p| p.product.version = "3.0.0".to_owned(),
    );
    assert_eq!(app.submit("acme", &v3).0, 201);
    assert_eq!(deliver(&app).retrying, 1);
    std::thread::sleep(PAST_RETRY);
    assert_eq!(deliver(&app).given_up, 1);
    let listed = subscriptions(&app, "globex");
    assert_eq!(listed[0]["failed"], 1);
    receiver.set_mode("up");
    std::thread::sleep(PAST_RETRY);
    assert_eq!(
        deliver(&app),
        Deliveries::default(),
        "a given-up message stays given up"
    );
    app.registry.set_webhook_policy(fast_policy());

    // Another organisation cannot remove it; its owner can, and then nothing more is sent.
    let id = webhook["id"].as_str().unwrap();
    assert_eq!(
        app.delete_as(&format!("/api/v1/webhooks/{id}"), &app.tokens["acme"])
            .0,
        404
    );
    assert_eq!(
        app.delete_as(&format!("/api/v1/webhooks/{id}"), &app.tokens["globex"])
            .0,
        204
    );
    assert!(subscriptions(&app, "globex").is_empty());
    let v4 = forge(
        &acme,
        &conformity(
            &acme,
            "Acme Devices Ltd",
            Route::Sdoc,
            common::seconds_ago(10),
        ),
        |p| p.product.version = "4.0.0".to_owned(),
    );
    assert_eq!(app.submit("acme", &v4).0, 201);
    let before = receiver.requests().len();
    assert_eq!(deliver(&app), Deliveries::default());
    assert_eq!(receiver.requests().len(), before);

    // A subscription to every product hears about every product.
    let everything = Receiver::start();
    let all = subscribe(&app, "operator", &everything, None);
    everything.set_secret(all["secret"].as_str().unwrap());
    let withdrawal = status_change(
        &acme,
        "acme",
        &v4,
        StatusKind::Withdrawal,
        common::seconds_ago(0),
    );
    assert_eq!(app.submit("acme", &withdrawal).0, 201);
    assert_eq!(deliver(&app).delivered, 1);
    assert_eq!(
        everything.accepted()[0]["body"]["data"]["attestation"]["envelope_sha256"],
        envelope_sha256(&withdrawal)
    );
    app.registry.shutdown();
}

#[test]
fn webhooks_are_signed_retried_and_agree_with_the_api() {
    let dir = tempfile::tempdir().unwrap();
    for (name, url) in backends(dir.path()) {
        eprintln!("backend: {name}");
        story(&url, &dir.path().join(name));
    }
}

const KILL_DIR: &str = "IOTMARK_WEBHOOK_KILL_DIR";
const KILL_URL: &str = "IOTMARK_WEBHOOK_KILL_URL";
/// Messages waiting when the child starts delivering.
const KILLED_MESSAGES: usize = 40;

/// The registry in `dir` opened again (as `registry serve` would after a restart).
fn reopen(
    dir: &Path,
    public_url: &str,
) -> (
    tokio::runtime::Runtime,
    std::sync::Arc<iotmark_registry::service::Registry>,
) {
    let (runtime, registry) = common::reopen(dir, public_url);
    registry.set_webhook_policy(WebhookPolicy {
        // Short, so the killed attempts' leases end soon after the restart.
        timeout: Duration::from_secs(3),
        ..fast_policy()
    });
    (runtime, registry)
}

/// Child process for the kill -9 test: delivers what is due in the registry in `KILL_DIR`.
/// Does nothing unless started by the parent test.
#[test]
fn webhook_child() {
    let Ok(dir) = std::env::var(KILL_DIR) else {
        return;
    };
    let (runtime, registry) = reopen(Path::new(&dir), &std::env::var(KILL_URL).unwrap());
    let done = runtime.block_on(registry.deliver_webhooks()).unwrap();
    println!("DONE {}", done.delivered);
}

/// kill -9 while attempts are in flight (the receiver has the messages; the registry has not
/// heard back): after a restart every message arrives, the interrupted ones again under the
/// same `webhook-id` and with the same body, and none is lost.
#[test]
fn kill_9_mid_delivery_loses_no_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.sqlite3").display());
    let app = TestApp::start(&url, dir.path());
    let acme = app.keys["acme"].clone();
    let v1 = conformity(
        &acme,
        "Acme Devices Ltd",
        Route::Sdoc,
        common::seconds_ago(600),
    );
    assert_eq!(app.submit("acme", &v1).0, 201);
    let receiver = Receiver::start();
    app.registry.set_webhook_policy(fast_policy());
    let webhook = subscribe(&app, "operator", &receiver, None);
    receiver.set_secret(webhook["secret"].as_str().unwrap());
    let mut expected = Vec::new();
    for i in 0..KILLED_MESSAGES {
        let envelope = forge(
            &acme,
            &conformity(
                &acme,
                "Acme Devices Ltd",
                Route::Sdoc,
                common::seconds_ago(500 - i as i64),
            ),
            |p| p.product.version = format!("1.1.{i}"),
        );
        assert_eq!(app.submit("acme", &envelope).0, 201);
        expected.push(envelope_sha256(&envelope));
    }
    let public_url = app.url.clone();
    app.registry.shutdown();
    drop(app);

    // The receiver takes 2 s to answer; the child is killed once the first message arrived.
    receiver.set_mode("slow");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "webhook_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KILL_DIR, dir.path())
        .env(KILL_URL, &public_url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !receiver.requests().iter().any(|r| r["arrived"] == true) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed"
        );
        assert!(started.elapsed().as_secs() < 60, "nothing arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(
        receiver.accepted().is_empty(),
        "the registry heard back before it was killed"
    );
    // Requests in flight at the kill reach the receiver's log within its 2 s answer time.
    std::thread::sleep(Duration::from_millis(2500));
    let interrupted: Vec<Value> = receiver
        .requests()
        .into_iter()
        .filter(|r| r["arrived"] == true)
        .collect();

    receiver.set_mode("up");
    let (runtime, registry) = reopen(dir.path(), &public_url);
    // The interrupted attempts fall due again when their leases (2 × the timeout) end.
    let started = std::time::Instant::now();
    let mut delivered = 0;
    while delivered < KILLED_MESSAGES as u64 {
        delivered += runtime
            .block_on(registry.deliver_webhooks())
            .unwrap()
            .delivered;
        assert!(started.elapsed().as_secs() < 60, "{delivered} delivered");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(delivered, KILLED_MESSAGES as u64);
    // At least once: an interrupted attempt the receiver finished after the kill arrives
    // twice, under one ID with one body; the receiver keeps the first.
    let accepted = receiver.accepted();
    let mut by_id: std::collections::BTreeMap<String, Vec<&Value>> = Default::default();
    for r in &accepted {
        by_id
            .entry(r["id"].as_str().unwrap().to_owned())
            .or_default()
            .push(r);
    }
    let mut got: Vec<String> = by_id
        .values()
        .map(|copies| {
            assert!(copies.iter().all(|c| c["body"] == copies[0]["body"]));
            copies[0]["body"]["data"]["attestation"]["envelope_sha256"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "every message, under one ID each");
    for (id, copies) in &by_id {
        assert!(
            copies.len() == 1 || interrupted.iter().any(|r| r["id"] == id.as_str()),
            "{id} arrived {} times without being interrupted",
            copies.len()
        );
    }
    // The interrupted ones arrived again after the restart.
    for first in &interrupted {
        let id = first["id"].as_str().unwrap();
        assert!(by_id.contains_key(id), "{id} never arrived");
    }
    assert_eq!(
        runtime.block_on(registry.deliver_webhooks()).unwrap(),
        Deliveries::default()
    );
    registry.shutdown();
}
