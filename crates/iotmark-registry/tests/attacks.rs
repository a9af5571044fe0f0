//! What an outside attacker tried against the registry, kept as tests: each one is named after
//! what it prevents, runs through HTTP on SQLite and PostgreSQL, and failed before its fix.
//! (The token matrix, bad bodies, escaping on pages and kill -9 under load have their own
//! tests: `api.rs`, `pages.rs` and `iotmark`'s `registry_cli.rs`.)

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::{TestApp, backends, conformity, forge, seconds_ago, status_change};
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_registry::admin::{self, AdminError};
use iotmark_registry::store::Role;
use serde_json::Value;

/// The same signed envelope in other bytes: what a verifier accepts as the same attestation.
fn re_encodings(envelope: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let json: Value = serde_json::from_slice(envelope).unwrap();
    let standard = base64::engine::general_purpose::STANDARD;
    let url_safe = base64::engine::general_purpose::URL_SAFE;
    let recode = |v: &Value| {
        let bytes = standard.decode(v.as_str().unwrap()).unwrap();
        Value::String(url_safe.encode(bytes))
    };
    let mut url_safe_json = json.clone();
    url_safe_json["payload"] = recode(&json["payload"]);
    for sig in url_safe_json["signatures"].as_array_mut().unwrap() {
        sig["sig"] = recode(&sig["sig"]);
    }
    let mut junk_signature = json.clone();
    junk_signature["signatures"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"keyid": "junk", "sig": standard.encode([7u8; 64])}));
    let mut trailing_newline = envelope.to_vec();
    trailing_newline.push(b'\n');
    vec![
        ("a trailing newline", trailing_newline),
        ("pretty-printed", serde_json::to_vec_pretty(&json).unwrap()),
        (
            "URL-safe base64",
            serde_json::to_vec(&url_safe_json).unwrap(),
        ),
        (
            "an extra junk signature",
            serde_json::to_vec(&junk_signature).unwrap(),
        ),
    ]
}

/// Acme's declaration of conformity of the example product, issued `seconds` ago.
fn acme_sdoc(app: &TestApp, seconds: i64) -> Vec<u8> {
    conformity(
        &app.keys["acme"],
        "Acme Devices Ltd",
        Route::Sdoc,
        seconds_ago(seconds),
    )
}

/// POSTs an attestation with the `Authorization` header as given; returns the status.
fn post_authorised(app: &TestApp, authorization: &str, body: &[u8]) -> u16 {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(&format!("{}/api/v1/attestations", app.url))
        .header("Authorization", authorization)
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap()
        .status()
        .as_u16()
}

fn holds(app: &TestApp, product: &str) -> bool {
    let (status, body) = app.get(&format!("/api/v1/products/{product}"));
    assert_eq!(status, 200, "{body}");
    body["versions"][0]["holds"].as_bool().unwrap()
}

#[test]
fn a_revoked_attestation_cannot_be_revived_in_other_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        // The manufacturer revokes its own declaration.
        let sdoc = acme_sdoc(&app, 60);
        let (status, body) = app.submit("acme", &sdoc);
        assert_eq!(status, 201, "{backend}: {body}");
        let product = body["product_id"].as_str().unwrap().to_owned();
        let revocation = status_change(
            &app.keys["acme"],
            "Acme Devices Ltd",
            &sdoc,
            StatusKind::Revocation,
            seconds_ago(30),
        );
        assert_eq!(app.submit("acme", &revocation).0, 201, "{backend}");
        assert!(!holds(&app, &product), "{backend}: revoked");
        for (how, bytes) in re_encodings(&sdoc) {
            let (status, body) = app.submit("acme", &bytes);
            assert_eq!(status, 409, "{backend}: the SDoC with {how}: {body}");
            assert_eq!(body["error"]["rule"], "replay", "{backend}: {how}");
            assert!(!holds(&app, &product), "{backend}: revived by {how}");
        }
        // The status change itself is one statement too.
        for (how, bytes) in re_encodings(&revocation) {
            let (status, body) = app.submit("acme", &bytes);
            assert_eq!(status, 409, "{backend}: the revocation with {how}: {body}");
        }

        // The operator revokes a lab's certification; the lab re-posts it in other bytes.
        let cert = conformity(
            &app.keys["testlab"],
            "Example Test Lab",
            Route::Certification,
            seconds_ago(50),
        );
        assert_eq!(app.submit("testlab", &cert).0, 201, "{backend}");
        assert!(holds(&app, &product), "{backend}: the certification holds");
        let revocation = status_change(
            &app.keys["operator"],
            "Registry Operator",
            &cert,
            StatusKind::Revocation,
            seconds_ago(20),
        );
        assert_eq!(app.submit("operator", &revocation).0, 201, "{backend}");
        assert!(!holds(&app, &product), "{backend}: revoked by the operator");
        for (how, bytes) in re_encodings(&cert) {
            let (status, body) = app.submit("testlab", &bytes);
            assert_eq!(
                status, 409,
                "{backend}: the certification with {how}: {body}"
            );
            assert!(!holds(&app, &product), "{backend}: revived by {how}");
        }
        let (_, product_json) = app.get(&format!("/api/v1/products/{product}"));
        assert_eq!(
            product_json["history"].as_array().unwrap().len(),
            4,
            "{backend}: two attestations and two revocations, nothing more"
        );
    }
}

#[test]
fn validity_and_support_beyond_the_scheme_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let key = &app.keys["acme"];
        let sdoc = conformity(key, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        // The scheme gives 24 months; this claims validity to 2099.
        let to_2099 = forge(key, &sdoc, |p| {
            p.valid_until = "2099-01-01T00:00:00Z".parse().unwrap()
        });
        let (status, body) = app.submit("acme", &to_2099);
        assert_eq!(status, 422, "{backend}: {body}");
        assert_eq!(body["error"]["rule"], "validity", "{backend}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("24 months"), "{backend}: {message}");
        // One day past the scheme's validity is refused as well.
        let one_day_over = forge(key, &sdoc, |p| {
            let until = p
                .issued
                .to_zoned(jiff::tz::TimeZone::UTC)
                .checked_add(jiff::Span::new().months(24).days(1))
                .unwrap();
            p.valid_until = until.timestamp();
        });
        assert_eq!(app.submit("acme", &one_day_over).0, 422, "{backend}");
        // A support period that ended before the attestation was issued.
        let ended = forge(key, &sdoc, |p| {
            p.support_end = Some("2020-01-01".parse().unwrap())
        });
        let (status, body) = app.submit("acme", &ended);
        assert_eq!(status, 422, "{backend}: {body}");
        assert_eq!(body["error"]["rule"], "support", "{backend}");
        // The attestation as `iotmark attest` makes it (the scheme's validity) is accepted.
        assert_eq!(app.submit("acme", &sdoc).0, 201, "{backend}");
    }
}

#[test]
fn a_display_name_cannot_be_taken_to_block_or_impersonate_a_manufacturer() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        for name in ["Acme Devices Ltd", "acme  DEVICES ltd"] {
            let refused = app.runtime.block_on(admin::add_organisation(
                &app.registry.store,
                "acme-impostor",
                name,
                Role::Manufacturer,
            ));
            match refused {
                Err(AdminError::NameTaken { holder, .. }) => assert_eq!(holder, "acme"),
                other => panic!("{backend}: {name:?} was not refused: {other:?}"),
            }
        }
        // Acme's own declaration still binds to Acme, through its key.
        let sdoc = acme_sdoc(&app, 60);
        let (status, body) = app.submit("acme", &sdoc);
        assert_eq!(status, 201, "{backend}: {body}");
        let (_, product) = app.get(&format!(
            "/api/v1/products/{}",
            body["product_id"].as_str().unwrap()
        ));
        assert_eq!(product["product"]["manufacturer"], "acme", "{backend}");
        // Globex's key cannot declare under Acme's name, nor Acme's under Globex's.
        let as_acme = conformity(
            &app.keys["globex"],
            "Globex Corporation",
            Route::Sdoc,
            seconds_ago(59),
        );
        let (status, body) = app.submit("globex", &as_acme);
        assert_eq!(status, 403, "{backend}: {body}");
        assert_eq!(body["error"]["rule"], "manufacturer", "{backend}");
        let as_globex = forge(&app.keys["acme"], &sdoc, |p| {
            p.product.manufacturer = "Globex Corporation".into();
        });
        let (status, body) = app.submit("acme", &as_globex);
        assert_eq!(status, 403, "{backend}: {body}");
        assert_eq!(body["error"]["rule"], "manufacturer", "{backend}");
    }
}

#[test]
fn product_ids_of_another_form_are_refused_wherever_they_enter() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let key = &app.keys["acme"];
        let sdoc = conformity(key, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        let long = "a".repeat(100_000);
        for bad in ["../m/acme", "<b>cam</b>", "Cam", "-cam", "c", long.as_str()] {
            let forged = forge(key, &sdoc, |p| p.product.id = bad.to_owned());
            let (status, body) = app.submit("acme", &forged);
            assert_eq!(status, 400, "{backend}: {:.80}: {body}", bad);
            assert_eq!(body["error"]["rule"], "envelope", "{backend}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("predicate.product.id"),
                "{backend}: {body}"
            );
        }
        // In paths: the API says what is wrong, the pages have no such product.
        let long_id = "a".repeat(2_000);
        for bad in ["..%2Fm%2Facme", "%3Cb%3Ecam", "Cam", long_id.as_str()] {
            let (status, body) = app.get(&format!("/api/v1/products/{bad}"));
            assert_eq!(status, 400, "{backend}: {:.80}: {body}", bad);
            assert_eq!(body["error"]["rule"], "product-id", "{backend}");
            let (status, _) = app.post(
                &format!("/api/v1/products/{bad}/vulnerability-reports"),
                None,
                br#"{"summary": "s", "details": "d"}"#,
            );
            assert_eq!(status, 400, "{backend}: report on {:.80}", bad);
            let (status, _) = app.put(
                &format!("/api/v1/products/{bad}/declaration"),
                Some(&app.tokens["acme"]),
                b"x",
            );
            assert_eq!(status, 400, "{backend}: declaration of {:.80}", bad);
            let answer = app.fetch(&format!("/p/{bad}"));
            assert_eq!(answer.status, 404, "{backend}: page of {:.80}", bad);
            assert!(
                answer.text().len() < 20_000,
                "{backend}: the page echoes the ID"
            );
        }
        // The well-formed ID still works.
        let (status, body) = app.submit("acme", &sdoc);
        assert_eq!(status, 201, "{backend}: {body}");
        assert!(
            body["product_url"]
                .as_str()
                .unwrap()
                .ends_with("/p/acme-securecam-2"),
            "{body}"
        );
    }
}

#[test]
fn search_with_too_many_words_is_the_askers_mistake() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let nine = "a b c d e f g h i";
        let (status, body) = app.get(&format!("/api/v1/search?q={}", nine.replace(' ', "+")));
        assert_eq!(status, 400, "{backend}: {body}");
        assert_eq!(body["error"]["rule"], "query", "{backend}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 8"),
            "{body}"
        );
        let long = "x".repeat(201);
        let (status, body) = app.get(&format!("/api/v1/search?q={long}"));
        assert_eq!(status, 400, "{backend}: {body}");
        // Eight words are fine.
        let (status, _) = app.get("/api/v1/search?q=a+b+c+d+e+f+g+h");
        assert_eq!(status, 200, "{backend}");
        // Nothing was counted as a server error.
        let (_, metrics, text) = app.get_text("/metrics", "content-type");
        assert!(metrics.is_some());
        assert!(
            !text.lines().any(|l| l.contains("status=\"500\"")),
            "{backend}: {text}"
        );
    }
}

#[test]
fn the_bearer_scheme_is_matched_without_regard_to_case() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let token = &app.tokens["acme"];
        let started = jiff::Timestamp::now();
        for (n, scheme) in ["bearer", "BEARER", "Bearer", "bEaReR"].iter().enumerate() {
            // Distinct issue times, fixed before the loop: distinct statements.
            let issued =
                jiff::Timestamp::from_second(started.as_second() - 100 - n as i64).unwrap();
            let sdoc = conformity(&app.keys["acme"], "Acme Devices Ltd", Route::Sdoc, issued);
            assert_eq!(
                post_authorised(&app, &format!("{scheme} {token}"), &sdoc),
                201,
                "{backend}: {scheme}"
            );
        }
        // Another scheme is still refused.
        assert_eq!(
            post_authorised(&app, &format!("Basic {token}"), b"{}"),
            401,
            "{backend}"
        );
    }
}

#[test]
fn tiles_are_not_served_through_links_planted_in_the_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let sdoc = acme_sdoc(&app, 60);
        assert_eq!(app.submit("acme", &sdoc).0, 201, "{backend}");
        let data = dir.path().join(backend).join("data");
        let log = data.join("log");
        // A link in place of a tile file, and a link in place of a tile directory.
        std::os::unix::fs::symlink(data.join("log.key"), log.join("tile/0/007")).unwrap();
        let outside = dir.path().join(format!("{backend}-outside"));
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::copy(data.join("log.key"), outside.join("000")).unwrap();
        std::os::unix::fs::symlink(&outside, log.join("tile/1")).unwrap();
        for path in ["/log/tile/0/007", "/log/tile/1/000"] {
            let (status, body) = app.get_bytes(path);
            assert_ne!(status, 200, "{backend}: {path}");
            assert!(
                !String::from_utf8_lossy(&body).contains("PRIVATE KEY"),
                "{backend}: {path} served the log's key"
            );
        }
        // The real tiles are still served.
        assert_eq!(app.get_bytes("/log/tile/0/000.p/1").0, 200, "{backend}");
    }
}

/// Opens a connection and sends the start of a request, never its end.
fn half_sent_request(url: &str) -> TcpStream {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /api/v1/search?q=cam HTTP/1.1\r\nHost: registry\r\nX-Slow: ")
        .unwrap();
    stream
}

/// Whether the server closed `stream` within `within` (read gives end of file or a reset).
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or similar before the close is fine; keep reading until the close.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[test]
fn slow_and_idle_clients_are_cut_off_and_connections_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    // SQLite only: the bounds are the HTTP server's, the same whatever the database.
    let url = format!("sqlite://{}", dir.path().join("r.sqlite3").display());
    let server = iotmark_registry::server::ServerLimits {
        header_read_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(3),
        max_connections: 16,
    };
    let app = TestApp::start_serving(&url, dir.path(), Default::default(), server);

    // 40 clients hold half-sent headers: more than the cap, so they are served in turns, and
    // each is cut off by the header timeout. Generous bounds: this asserts that they close,
    // not how fast.
    let mut slow: Vec<TcpStream> = (0..40).map(|_| half_sent_request(&app.url)).collect();
    for (n, stream) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(30)),
            "slow client {n} was never cut off"
        );
    }

    // A kept-alive connection that asks nothing more is closed too.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /log/checkpoint HTTP/1.1\r\nHost: registry\r\n\r\n")
        .unwrap();
    assert!(
        closed_within(&mut idle, Duration::from_secs(30)),
        "an idle kept-alive connection stayed open"
    );

    // With every slot held by a slow client, a new request waits for a slot: it is answered
    // only once the header timeout has freed one.
    let holders: Vec<TcpStream> = (0..16).map(|_| half_sent_request(&app.url)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let (status, _) = app.get("/log/checkpoint");
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "answered at once although all 16 connections were taken ({:?})",
        started.elapsed()
    );
    drop(holders);
    // And the server is still there for everyone else.
    assert_eq!(app.get("/log/checkpoint").0, 200);
}

#[test]
fn a_revoked_or_malformed_token_opens_no_write_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let sdoc = acme_sdoc(&app, 60);
        assert_eq!(app.submit("acme", &sdoc).0, 201, "{backend}");
        // A second token for acme, revoked at once.
        let revoked = app.runtime.block_on(async {
            let (token, secret) = admin::create_token(&app.registry.store, "acme", "leaked")
                .await
                .unwrap();
            app.registry
                .store
                .revoke_token(&token.id, jiff::Timestamp::now())
                .await
                .unwrap();
            secret
        });
        let writes: [(&str, String, Vec<u8>); 3] = [
            (
                "POST",
                "/api/v1/attestations".to_owned(),
                acme_sdoc(&app, 59),
            ),
            (
                "PUT",
                "/api/v1/products/acme-securecam-2/declaration".to_owned(),
                b"product: {}".to_vec(),
            ),
            (
                "PUT",
                "/api/v1/products/acme-securecam-2/vulnerability-reports/1".to_owned(),
                br#"{"status": "affected"}"#.to_vec(),
            ),
        ];
        let good = &app.tokens["acme"];
        for authorization in [
            format!("Bearer {revoked}"),
            format!("Bearer {good}x"),
            format!("Bearer{good}"),
            "Bearer ".to_owned(),
            format!("Bearer {}", "x".repeat(10_000)),
        ] {
            for (method, path, body) in &writes {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                let url = format!("{}{path}", app.url);
                let request = match *method {
                    "POST" => agent.post(&url),
                    _ => agent.put(&url),
                };
                let status = request
                    .header("Authorization", &authorization)
                    .send(&body[..])
                    .unwrap()
                    .status()
                    .as_u16();
                assert_eq!(
                    status, 401,
                    "{backend}: {method} {path} with {authorization:.40}"
                );
            }
        }
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        assert_eq!(product["history"].as_array().unwrap().len(), 1, "{backend}");
    }
}
