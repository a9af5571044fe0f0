//! The registry's HTTP API as labs, manufacturers and the public use it, on SQLite and on
//! PostgreSQL: who may submit what (every role against every write endpoint), precise
//! refusals that change nothing, receipts that verify, and the log that records it all.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use common::{SCHEME, TestApp, backends, conformity, seconds_ago, status_change};
use iotmark_attest::statement::{Predicate, Route, Statement, StatusKind};
use iotmark_log::merkle;

/// Each case: who submits, what, the expected status and the rule named on refusal.
#[test]
fn every_role_against_every_write_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let key = |org: &str| app.keys[org].clone();

        // Conformity: the SDoC is the manufacturer's, the certification an accredited lab's.
        let sdoc = conformity(
            &key("acme"),
            "Acme Devices Ltd",
            Route::Sdoc,
            seconds_ago(60),
        );
        let cert = conformity(
            &key("testlab"),
            "Example Test Lab",
            Route::Certification,
            seconds_ago(50),
        );
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            // SDoC signed by acme's key, submitted by others: the key is not theirs.
            ("globex", sdoc.clone(), 403, "signature"),
            ("testlab", sdoc.clone(), 403, "signature"),
            ("operator", sdoc.clone(), 403, "signature"),
            // An SDoC signed by globex for acme's product: not globex's product.
            (
                "globex",
                conformity(
                    &key("globex"),
                    "Globex Corporation",
                    Route::Sdoc,
                    seconds_ago(59),
                ),
                403,
                "manufacturer",
            ),
            // A lab may not make an SDoC; a manufacturer may not certify.
            (
                "testlab",
                conformity(
                    &key("testlab"),
                    "Example Test Lab",
                    Route::Sdoc,
                    seconds_ago(58),
                ),
                403,
                "role",
            ),
            (
                "acme",
                conformity(
                    &key("acme"),
                    "Acme Devices Ltd",
                    Route::Certification,
                    seconds_ago(57),
                ),
                403,
                "role",
            ),
            // An operator neither declares nor certifies.
            (
                "operator",
                conformity(
                    &key("operator"),
                    "Registry Operator",
                    Route::Certification,
                    seconds_ago(56),
                ),
                403,
                "role",
            ),
            // A lab without accreditation for the scheme.
            (
                "newlab",
                conformity(
                    &key("newlab"),
                    "New Lab",
                    Route::Certification,
                    seconds_ago(55),
                ),
                403,
                "accreditation",
            ),
            // The rightful ones.
            ("acme", sdoc.clone(), 201, ""),
            ("testlab", cert.clone(), 201, ""),
            // The same envelope again: a replay.
            ("acme", sdoc.clone(), 409, "replay"),
        ];
        for (who, body, status, rule) in &cases {
            let (got, answer) = app.submit(who, body);
            assert_eq!(got, *status, "{backend}: {who}: {answer}");
            if !rule.is_empty() {
                assert_eq!(answer["error"]["rule"], *rule, "{backend}: {who}: {answer}");
                assert!(
                    !answer["error"]["message"].as_str().unwrap().is_empty(),
                    "{answer}"
                );
            }
        }

        // Status changes: the lab may suspend its certificate, acme may not; the operator may
        // revoke anything; acme may end the support of its own product.
        let suspend_cert = |who: &str, org_name: &str| {
            status_change(
                &key(who),
                org_name,
                &cert,
                StatusKind::Suspension,
                seconds_ago(10),
            )
        };
        let (got, answer) = app.submit("acme", &suspend_cert("acme", "Acme Devices Ltd"));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (403, Some("authority")),
            "{answer}"
        );
        let (got, answer) = app.submit("globex", &suspend_cert("globex", "Globex Corporation"));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (403, Some("authority")),
            "{answer}"
        );
        let (got, answer) = app.submit("newlab", &suspend_cert("newlab", "New Lab"));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (403, Some("authority")),
            "{answer}"
        );
        // Reinstating what is not suspended.
        let reinstate = status_change(
            &key("testlab"),
            "Example Test Lab",
            &cert,
            StatusKind::Reinstatement,
            seconds_ago(9),
        );
        let (got, answer) = app.submit("testlab", &reinstate);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("state")),
            "{answer}"
        );
        let (got, answer) = app.submit("testlab", &suspend_cert("testlab", "Example Test Lab"));
        assert_eq!(got, 201, "{answer}");
        let (got, answer) = app.submit("testlab", &reinstate);
        assert_eq!(got, 201, "{answer}");
        let eos = status_change(
            &key("acme"),
            "Acme Devices Ltd",
            &cert,
            StatusKind::EndOfSupport,
            seconds_ago(5),
        );
        let (got, answer) = app.submit("acme", &eos);
        assert_eq!(
            got, 201,
            "acme ends the support of its own product: {answer}"
        );
        // After end of support nothing changes any more.
        let revoke = status_change(
            &key("operator"),
            "Registry Operator",
            &cert,
            StatusKind::Revocation,
            seconds_ago(4),
        );
        let (got, answer) = app.submit("operator", &revoke);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("state")),
            "{answer}"
        );
        // The operator revokes acme's SDoC.
        let revoke_sdoc = status_change(
            &key("operator"),
            "Registry Operator",
            &sdoc,
            StatusKind::Revocation,
            seconds_ago(3),
        );
        let (got, answer) = app.submit("operator", &revoke_sdoc);
        assert_eq!(got, 201, "{answer}");

        // Without a token, with a bad one: 401, nothing accepted.
        let fresh = conformity(
            &key("acme"),
            "Acme Devices Ltd",
            Route::Sdoc,
            seconds_ago(40),
        );
        let (got, answer) = app.post("/api/v1/attestations", None, &fresh);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (401, Some("token"))
        );
        let (got, _) = app.post("/api/v1/attestations", Some("iotmark_nope"), &fresh);
        assert_eq!(got, 401);

        // Vulnerability reports are public.
        let report = serde_json::json!({"summary": "telnet open", "details": "port 23 answers", "version": "2.4.1"});
        let (got, answer) = app.post(
            "/api/v1/products/acme-securecam-2/vulnerability-reports",
            None,
            report.to_string().as_bytes(),
        );
        assert_eq!(got, 201, "{answer}");
        let (got, _) = app.post(
            "/api/v1/products/no-such-product/vulnerability-reports",
            None,
            report.to_string().as_bytes(),
        );
        assert_eq!(got, 404);

        // A report is answered by the product's manufacturer or the operator, no one else.
        let filed = answer["id"].as_i64().unwrap();
        let triage_path =
            format!("/api/v1/products/acme-securecam-2/vulnerability-reports/{filed}");
        let investigating = br#"{"status": "under_investigation"}"#;
        let (got, _) = app.put(&triage_path, None, investigating);
        assert_eq!(got, 401);
        for outsider in ["globex", "testlab", "newlab"] {
            let (got, answer) = app.put(&triage_path, Some(&app.tokens[outsider]), investigating);
            assert_eq!(
                (got, answer["error"]["rule"].as_str()),
                (403, Some("authority")),
                "{outsider}: {answer}"
            );
        }
        let (got, answer) = app.put(&triage_path, Some(&app.tokens["acme"]), investigating);
        assert_eq!(got, 200, "{answer}");
        assert_eq!(answer["status"], "under_investigation");
        for (body, want, rule) in [
            (&br#"{"status": "fixed"}"#[..], 422, "triage"),
            (
                br#"{"status": "not_affected", "fixed_in": "2.5.0"}"#,
                422,
                "triage",
            ),
            (br#"{"status": "patched"}"#, 400, "body"),
            (
                br#"{"status": "fixed", "fixed_in": "2.5.0", "by": "me"}"#,
                400,
                "body",
            ),
        ] {
            let (got, answer) = app.put(&triage_path, Some(&app.tokens["acme"]), body);
            assert_eq!(
                (got, answer["error"]["rule"].as_str()),
                (want, Some(rule)),
                "{}: {answer}",
                String::from_utf8_lossy(body)
            );
        }
        let (got, _) = app.put(
            "/api/v1/products/acme-securecam-2/vulnerability-reports/999999",
            Some(&app.tokens["acme"]),
            investigating,
        );
        assert_eq!(got, 404);
        let fixed =
            br#"{"status": "fixed", "fixed_in": "2.5.0", "note": "telnet is gone in 2.5.0"}"#;
        let (got, answer) = app.put(&triage_path, Some(&app.tokens["operator"]), fixed);
        assert_eq!(got, 200, "{answer}");
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        let reports = product["vulnerability_reports"].as_array().unwrap();
        assert_eq!(reports.len(), 1, "{product}");
        assert_eq!(reports[0]["triage"]["status"], "fixed");
        assert_eq!(reports[0]["triage"]["fixed_in"], "2.5.0");
        // What the reporter sent beyond the summary stays private.
        assert!(reports[0].get("details").is_none() && reports[0].get("contact").is_none());

        // What was accepted is exactly what the log holds: 2 attestations + 4 status changes.
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        let history = product["history"].as_array().unwrap();
        assert_eq!(history.len(), 6, "{backend}: {product}");
        let indices: Vec<u64> = history
            .iter()
            .map(|h| h["log_index"].as_u64().unwrap())
            .collect();
        assert_eq!(indices, (0..6).collect::<Vec<_>>(), "{backend}");
        let checkpoint = app.get("/log/checkpoint").1["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            checkpoint.starts_with("registry.test/log\n6\n"),
            "{checkpoint}"
        );
    }
}

#[test]
fn rules_that_need_a_forged_statement_and_bad_requests_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let forge = |edit: &dyn Fn(&mut iotmark_attest::statement::ConformityPredicate)| {
            let env = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(30));
            let parsed = iotmark_attest::dsse::Envelope::parse(&env).unwrap();
            let mut statement = Statement::parse(&parsed.payload).unwrap();
            if let Predicate::Conformity(p) = &mut statement.predicate {
                edit(p);
            }
            iotmark_attest::sign_statement(&statement, acme.as_ref())
                .unwrap()
                .to_json()
                .into_bytes()
        };
        // A tier that needs a lab, declared by the manufacturer alone.
        let (got, answer) = app.submit(
            "acme",
            &forge(&|p| {
                p.scheme = "us-cyber-trust-mark".into();
                p.tier = "labelled".into();
            }),
        );
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("route")),
            "{answer}"
        );
        let (got, answer) = app.submit("acme", &forge(&|p| p.scheme = "made-up".into()));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("scheme")),
            "{answer}"
        );
        let (got, answer) = app.submit("acme", &forge(&|p| p.assessment.conforms = false));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("conforms")),
            "{answer}"
        );
        let (got, answer) = app.submit("acme", &forge(&|p| p.valid_until = seconds_ago(1)));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("validity")),
            "{answer}"
        );
        let (got, answer) = app.submit("acme", &forge(&|p| p.assessor.key_id = "0".repeat(64)));
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (403, Some("assessor")),
            "{answer}"
        );

        // Malformed JSON, a changed payload byte, an empty body, an oversized body.
        let (got, answer) = app.submit("acme", b"{\"payload\": ");
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (400, Some("envelope")),
            "{answer}"
        );
        let good = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(20));
        let mut tampered: serde_json::Value = serde_json::from_slice(&good).unwrap();
        let payload = tampered["payload"].as_str().unwrap().to_owned();
        let flipped = format!(
            "{}{}",
            if payload.starts_with('e') { "f" } else { "e" },
            &payload[1..]
        );
        tampered["payload"] = flipped.into();
        let (got, answer) = app.submit("acme", tampered.to_string().as_bytes());
        assert!(matches!(got, 400 | 403), "{answer}");
        let (got, _) = app.submit("acme", b"");
        assert_eq!(got, 400);
        let huge = vec![b' '; iotmark_registry::http::MAX_BODY_BYTES + 1];
        let (got, _) = app.submit("acme", &huge);
        assert_eq!(got, 413);
        // An unknown product and an unknown attestation.
        assert_eq!(app.get("/api/v1/products/nope").0, 404);
        assert_eq!(
            app.get(&format!("/api/v1/attestations/{}", "0".repeat(64)))
                .0,
            404
        );

        // Nothing of that changed anything.
        let checkpoint = app.get("/log/checkpoint").1["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            checkpoint.starts_with("registry.test/log\n0\n"),
            "{backend}: {checkpoint}"
        );
        assert_eq!(app.get("/api/v1/products/acme-securecam-2").0, 404);

        // The good one is accepted and its receipt verifies offline against the log key.
        let (got, answer) = app.submit("acme", &good);
        assert_eq!(got, 201, "{answer}");
        let receipt =
            iotmark_log::receipt::Receipt::parse(answer["receipt"].as_str().unwrap().as_bytes())
                .unwrap();
        let verifier = iotmark_log::note::NoteVerifier::parse(&app.registry.verifier_key).unwrap();
        let entry = receipt.extra.clone().unwrap();
        receipt
            .verify(&entry, "registry.test/log", &[verifier])
            .unwrap();
        let leaf = iotmark_log::leaf::LeafRecord::decode(&entry).unwrap();
        assert_eq!(leaf.envelope_digest, merkle::sha256(&good));
        // The envelope is served back byte for byte, and so are the tiles.
        let sha = merkle::hex(&merkle::sha256(&good));
        let (got, body) = app.get_bytes(&format!("/api/v1/attestations/{sha}/envelope"));
        assert_eq!(got, 200);
        assert_eq!(body, good, "the envelope must come back byte for byte");
        assert_eq!(app.get("/log/tile/0/000.p/1").0, 200);
        assert_eq!(app.get("/log/tile/../../etc/passwd").0, 404);
        let (_, found) = app.get("/api/v1/search?q=securecam");
        assert_eq!(found["results"][0]["id"], "acme-securecam-2", "{found}");
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        assert_eq!(product["versions"][0]["holds"], true, "{product}");
        assert_eq!(product["versions"][0]["scheme"], SCHEME, "{product}");
        assert!(product["declaration"].is_null());

        // The declaration behind the page: only the manufacturer publishes it, only for
        // attested firmware, only when it checks.
        let declaration =
            std::fs::read(common::repo().join("examples/acme-securecam/declaration.yaml")).unwrap();
        let path = "/api/v1/products/acme-securecam-2/declaration";
        let (got, answer) = app.put(path, Some(&app.tokens["globex"]), &declaration);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (403, Some("authority")),
            "{answer}"
        );
        let (got, answer) = app.put(path, None, &declaration);
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (401, Some("token")),
            "{answer}"
        );
        let text = String::from_utf8(declaration.clone()).unwrap();
        let other_image = text.replace(
            "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
            &"ab".repeat(32),
        );
        let (got, answer) = app.put(path, Some(&app.tokens["acme"]), other_image.as_bytes());
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("declaration")),
            "{answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no attestation")
        );
        let (got, answer) = app.put(path, Some(&app.tokens["acme"]), b"product: [unclosed");
        assert_eq!(
            (got, answer["error"]["rule"].as_str()),
            (422, Some("declaration")),
            "{answer}"
        );
        assert_eq!(
            app.get("/api/v1/products/acme-securecam-2").1["declaration"],
            serde_json::Value::Null
        );
        let (got, answer) = app.put(path, Some(&app.tokens["acme"]), &declaration);
        assert_eq!(got, 204, "{answer}");
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        assert_eq!(
            product["declaration"]["product"]["id"], "acme-securecam-2",
            "{product}"
        );
    }
}

#[test]
fn metrics_count_outcomes_and_rate_limits_refuse_without_changing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.sqlite3").display());
    let limits = iotmark_registry::ratelimit::Limits {
        reports_per_hour: 1.0,
        report_burst: 3.0,
        ..Default::default()
    };
    let app = common::TestApp::start_with(&url, dir.path(), limits);
    let acme = app.keys["acme"].clone();
    let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
    assert_eq!(app.submit("acme", &sdoc).0, 201);
    assert_eq!(app.submit("acme", &sdoc).0, 409);
    assert_eq!(app.submit("globex", &sdoc).0, 403);

    let report = serde_json::json!({"summary": "s", "details": "d"}).to_string();
    let path = "/api/v1/products/acme-securecam-2/vulnerability-reports";
    for _ in 0..3 {
        assert_eq!(
            app.post_header(path, report.as_bytes(), "retry-after").0,
            201
        );
    }
    let (status, retry) = app.post_header(path, report.as_bytes(), "retry-after");
    assert_eq!(status, 429);
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
    let stored = app
        .runtime
        .block_on(app.registry.store.vulnerability_reports("acme-securecam-2"))
        .unwrap();
    assert_eq!(stored.len(), 3, "the refused report was not stored");

    let (status, content_type, text) = app.get_text("/metrics", "content-type");
    assert_eq!(status, 200);
    assert!(
        content_type
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    for line in [
        "iotmark_submissions_total{outcome=\"accepted\"} 1",
        "iotmark_submissions_total{outcome=\"replay\"} 1",
        "iotmark_submissions_total{outcome=\"signature\"} 1",
        "iotmark_log_entries 1",
        // The one accepted submission was recorded in one transaction.
        "iotmark_index_batch_submissions_count 1",
        "iotmark_index_batch_submissions_sum 1.0",
        "iotmark_index_commit_duration_seconds_count 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(
        text.contains("route=\"/api/v1/products/{id}/vulnerability-reports\",status=\"429\""),
        "{text}"
    );
    assert!(text.trim_end().ends_with("# EOF"));
}

#[test]
fn a_batch_lookup_answers_by_product_version_and_image_and_sees_every_write() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let sdoc = conformity(
            &app.keys["acme"],
            "Acme Devices Ltd",
            Route::Sdoc,
            seconds_ago(60),
        );
        let (got, answer) = app.submit("acme", &sdoc);
        assert_eq!(got, 201, "{backend}: {answer}");
        let (_, product) = app.get("/api/v1/products/acme-securecam-2");
        let version = product["versions"][0]["version"]
            .as_str()
            .unwrap()
            .to_owned();
        let image = product["versions"][0]["images"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        let body = serde_json::json!({"lookups": [
            {"product": "acme-securecam-2"},
            {"product": "acme-securecam-2", "version": version},
            {"product": "acme-securecam-2", "version": "9.9.9"},
            {"image_sha256": image},
            {"image_sha256": "0".repeat(64)},
            {"product": "no-such-product"},
        ]});
        let (got, answer) = app.post("/api/v1/products/lookup", None, body.to_string().as_bytes());
        assert_eq!(got, 200, "{backend}: {answer}");
        // Each product once, exactly as its own endpoint answers.
        let products = answer["products"].as_object().unwrap();
        assert_eq!(products.len(), 1, "{answer}");
        assert_eq!(products["acme-securecam-2"], product, "{backend}");
        let results = answer["results"].as_array().unwrap();
        let found: Vec<bool> = results
            .iter()
            .map(|r| r["found"].as_bool().unwrap())
            .collect();
        assert_eq!(found, [true, true, false, true, false, false], "{answer}");
        assert_eq!(results[2]["version_known"], false);
        assert_eq!(results[3]["product"], "acme-securecam-2");
        assert_eq!(results[3]["version"], version.as_str());
        assert!(results[4]["product"].is_null() && results[5]["product"].is_null());

        // A write about the product shows at once in both answers, cached or not.
        let suspend = status_change(
            &app.keys["acme"],
            "Acme Devices Ltd",
            &sdoc,
            StatusKind::Suspension,
            seconds_ago(5),
        );
        let (got, answer) = app.submit("acme", &suspend);
        assert_eq!(got, 201, "{backend}: {answer}");
        let (_, after) = app.post("/api/v1/products/lookup", None, body.to_string().as_bytes());
        let (_, single) = app.get("/api/v1/products/acme-securecam-2");
        assert_eq!(after["products"]["acme-securecam-2"], single);
        assert_eq!(single["versions"][0]["holds"], false, "{single}");
        assert_ne!(single, product);

        // Malformed batches are refused, naming the lookup.
        let too_many: Vec<_> = (0..1001)
            .map(|_| serde_json::json!({"product": "x1"}))
            .collect();
        let cases = [
            (serde_json::json!({"lookups": too_many}), "at most 1000"),
            (
                serde_json::json!({"lookups": [{"version": "1"}]}),
                "lookups[0]",
            ),
            (
                serde_json::json!({"lookups": [{"image_sha256": "ABC"}]}),
                "lookups[0].image_sha256",
            ),
            (
                serde_json::json!({"lookups": [{"product": "Bad_ID"}]}),
                "lookups[0].product",
            ),
            (serde_json::json!({"items": []}), "batch lookup"),
        ];
        for (bad, says) in cases {
            let (got, answer) =
                app.post("/api/v1/products/lookup", None, bad.to_string().as_bytes());
            assert_eq!(got, 400, "{answer}");
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains(says), "{message}");
        }
    }
}
