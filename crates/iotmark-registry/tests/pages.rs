//! The registry's public pages as a consumer, a buyer and an auditor read them, on SQLite and
//! on PostgreSQL: the product page says whether the declaration holds now (and changes when
//! it is suspended, revoked or expires), until when updates come, how they arrive and how to
//! change the password; what it offers for download verifies; hostile text stays text; the
//! search, the manufacturer dashboard and the log explorer show what the registry holds.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use common::{
    Answer, SCHEME, TestApp, backends, conformity, conformity_of, example_declaration,
    example_declaration_json, forge, seconds_ago, status_change,
};
use iotmark_attest::keys::Signer as _;
use iotmark_attest::statement::{Route, StatusKind};
use iotmark_log::merkle;

const PRODUCT: &str = "acme-securecam-2";

/// The text a reader sees: tags dropped (and `<style>` with its rules), entities decoded,
/// white space collapsed.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let skip_to = if tail.starts_with("<style") {
            tail.find("</style>").map(|i| i + "</style>".len())
        } else {
            tail.find('>').map(|i| i + 1)
        };
        out.push(' ');
        rest = &tail[skip_to.unwrap_or(tail.len())..];
    }
    out.push_str(rest);
    let mut decoded = String::new();
    let mut rest = out.as_str();
    while let Some(amp) = rest.find('&') {
        decoded.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let end = tail.find(';').filter(|&e| e < 10);
        let entity = end.map(|e| &tail[1..e]);
        let ch = match entity {
            Some("amp") => Some('&'),
            Some("lt") => Some('<'),
            Some("gt") => Some('>'),
            Some("quot") => Some('"'),
            Some(e) if e.starts_with('#') => e[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match (ch, end) {
            (Some(c), Some(e)) => {
                decoded.push(c);
                rest = &tail[e + 1..];
            }
            _ => {
                decoded.push('&');
                rest = &tail[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A page: 200, HTML, with the security headers and the accessibility frame; its visible
/// text.
fn page(app: &TestApp, path: &str) -> (String, String) {
    let answer = app.fetch(path);
    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    check_frame(path, &answer);
    let html = answer.text();
    (visible(&html), html)
}

/// What every HTML answer must have: the strict policy whose style hash is the page's own
/// stylesheet, nosniff, `lang`, a skip link, landmarks and exactly one `<h1>`.
fn check_frame(path: &str, answer: &Answer) {
    assert_eq!(
        answer.header("content-type"),
        Some("text/html; charset=utf-8"),
        "{path}"
    );
    assert_eq!(
        answer.header("x-content-type-options"),
        Some("nosniff"),
        "{path}"
    );
    let csp = answer.header("content-security-policy").unwrap_or_else(|| {
        panic!("{path}: no Content-Security-Policy header");
    });
    let html = answer.text();
    let style = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(s, _)| s)
        .unwrap_or_else(|| panic!("{path}: no <style> element"));
    let hash = base64::engine::general_purpose::STANDARD.encode(merkle::sha256(style.as_bytes()));
    for directive in [
        "default-src 'none'".to_owned(),
        format!("style-src 'sha256-{hash}'"),
        "img-src 'self' data:".to_owned(),
        "form-action 'self'".to_owned(),
        "base-uri 'none'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ] {
        assert!(
            csp.split(';').any(|d| d.trim() == directive),
            "{path}: the policy {csp:?} lacks {directive:?}"
        );
    }
    for needle in [
        "<html lang=\"en\">",
        "<meta name=\"viewport\"",
        "<a class=\"skip\" href=\"#main\">",
        "<header",
        "<nav",
        "<main id=\"main\"",
        "<footer",
    ] {
        assert!(html.contains(needle), "{path}: missing {needle}");
    }
    assert_eq!(html.matches("<h1").count(), 1, "{path}: one <h1> per page");
    assert!(!html.contains("<script"), "{path}: pages need no script");
    assert!(
        !html.contains(" style=\""),
        "{path}: a style attribute would be blocked by the policy"
    );
    // No resource from anywhere else: every src and href is local or a fragment.
    for attr in ["src=\"", "href=\""] {
        for (i, _) in html.match_indices(attr) {
            let value = &html[i + attr.len()..];
            let value = &value[..value.find('"').unwrap()];
            if attr == "href=\"" && (value.starts_with("https://") || value.starts_with("mailto:"))
            {
                continue; // links the reader may follow, not resources the page loads
            }
            assert!(
                value.starts_with('/') || value.starts_with('#'),
                "{path}: {attr}{value}\" is not local"
            );
        }
    }
}

fn scheme_title() -> String {
    iotmark_assess::bundled_schemes(iotmark_catalogs::Bundle::get())
        .unwrap()
        .into_iter()
        .find(|s| s.id == SCHEME)
        .unwrap()
        .title
}

#[test]
fn the_product_page_says_whether_the_declaration_holds_now() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let operator = app.keys["operator"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        let receipted = app.submit_declared("acme", &sdoc, Some(example_declaration_json()));
        let declaration = example_declaration();

        let (text, html) = page(&app, &format!("/p/{PRODUCT}"));
        for expected in [
            "Acme Devices Ltd".to_owned(),
            "SecureCam 2 SC-200".to_owned(),
            "Holds".to_owned(),
            "This product's security declaration holds".to_owned(),
            format!(
                "Version {} meets {}: declared by the manufacturer, Acme Devices Ltd",
                receipted.version,
                scheme_title()
            ),
            "Security updates until 31 December 2029 — ".to_owned(),
            // Updates, as declared.
            "Updates install automatically.".to_owned(),
            "Each update is signed by the manufacturer".to_owned(),
            format!(
                "What you need to do {}",
                declaration.updates.owner_action.clone().unwrap()
            ),
            format!(
                "When support ends: {}",
                declaration.updates.after_support.clone().unwrap()
            ),
            // Passwords, as declared.
            "There is no default password: you choose one when you first set the product up."
                .to_owned(),
            format!(
                "How to change the password {}",
                declaration.credentials.change_procedure.clone().unwrap()
            ),
            "No vulnerability reports have been received for this product.".to_owned(),
            // The history and how to check it.
            format!("Declared version {} conformant to", receipted.version),
            format!("Log entry {}", receipted.log_index),
            app.registry.verifier_key.clone(),
            format!(
                "iotmark log verify {PRODUCT}.tlog-proof --log-key {} --envelope {PRODUCT}.dsse.json",
                app.registry.verifier_key
            ),
            format!("iotmark verify {PRODUCT}.dsse.json --key {PRODUCT}.signer.pem"),
        ] {
            assert!(
                text.contains(&expected),
                "{backend}: missing {expected:?} in\n{text}"
            );
        }
        // The time left is counted from today to the declared end.
        let today = jiff::Zoned::now().date();
        let end: jiff::civil::Date = "2029-12-31".parse().unwrap();
        let span = today.until((jiff::Unit::Year, end)).unwrap();
        let years = format!("{} year", span.get_years());
        assert!(
            text.contains(&format!(
                "Security updates until 31 December 2029 — {years}"
            )),
            "{backend}: {text}"
        );
        // The label is on the page with words for those who cannot see it.
        assert!(
            html.contains(&format!(
                "<img src=\"/p/{PRODUCT}/label.svg\" alt=\"The iotmark label for SecureCam 2 SC-200 by Acme Devices Ltd"
            )),
            "{backend}: {html}"
        );
        // Firmware digests are folded away.
        let image = &app
            .runtime
            .block_on(app.registry.store.versions(PRODUCT))
            .unwrap()[0]
            .images[0];
        assert!(
            html.contains("<details><summary>Firmware digests"),
            "{backend}"
        );
        assert!(
            text.contains(&format!("sha256:{}", image.sha256)),
            "{backend}"
        );

        // What "verify it yourself" offers verifies: the receipt against the log key and the
        // envelope, the envelope against the signer's key.
        let receipt = app.fetch(&format!("/p/{PRODUCT}/receipt"));
        assert_eq!(receipt.status, 200);
        assert_eq!(
            receipt.header("content-disposition"),
            Some(format!("attachment; filename=\"{PRODUCT}.tlog-proof\"").as_str())
        );
        let receipt = iotmark_log::receipt::Receipt::parse(&receipt.body).unwrap();
        let verifier = iotmark_log::note::NoteVerifier::parse(&app.registry.verifier_key).unwrap();
        let entry = receipt.extra.clone().unwrap();
        receipt
            .verify(&entry, "registry.test/log", &[verifier])
            .unwrap();
        let leaf = iotmark_log::leaf::LeafRecord::decode(&entry).unwrap();
        assert_eq!(leaf.envelope_digest, merkle::sha256(&sdoc), "{backend}");
        let (status, envelope) = app.get_bytes(&format!(
            "/api/v1/attestations/{}/envelope",
            receipted.envelope_sha256
        ));
        assert_eq!((status, envelope), (200, sdoc.clone()));
        let key = app.fetch(&format!("/p/{PRODUCT}/signer.pem"));
        assert_eq!(key.status, 200);
        let key = iotmark_attest::keys::PublicKey::parse(&key.text(), "signer.pem").unwrap();
        assert_eq!(key.key_id(), acme.key_id());
        iotmark_attest::verify::verify(
            &sdoc,
            iotmark_attest::verify::Trust::Key(&key),
            jiff::Timestamp::now(),
        )
        .unwrap();

        // A vulnerability report is listed as received.
        let report = serde_json::json!({"summary": "telnet answers on port 23", "details": "…", "version": "2.4.1"});
        let (got, filed) = app.post(
            &format!("/api/v1/products/{PRODUCT}/vulnerability-reports"),
            None,
            report.to_string().as_bytes(),
        );
        assert_eq!(got, 201);
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("telnet answers on port 23"),
            "{backend}: {text}"
        );
        assert!(
            text.contains("telnet answers on port 23 Not answered yet by the manufacturer"),
            "{backend}: {text}"
        );
        // The manufacturer answers it; the page shows the answer at once.
        let (got, answer) = app.put(
            &format!(
                "/api/v1/products/{PRODUCT}/vulnerability-reports/{}",
                filed["id"]
            ),
            Some(&app.tokens["acme"]),
            br#"{"status": "fixed", "fixed_in": "2.5.0", "note": "Telnet is removed in 2.5.0."}"#,
        );
        assert_eq!(got, 200, "{answer}");
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Fixed in version 2.5.0: update to it")
                && text.contains("Telnet is removed in 2.5.0."),
            "{backend}: {text}"
        );

        // Suspended by the operator: the page says so at once, with who, when and why.
        let suspension = status_change(
            &operator,
            "Registry Operator",
            &sdoc,
            StatusKind::Suspension,
            seconds_ago(5),
        );
        assert_eq!(app.submit("operator", &suspension).0, 201);
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Suspended This product's security declaration is suspended"),
            "{backend}: {text}"
        );
        assert!(!text.contains("declaration holds"), "{backend}: {text}");
        assert!(
            text.contains("Registry Operator suspended it on"),
            "{backend}: {text}"
        );
        assert!(text.contains("Reason given: test"), "{backend}: {text}");
        assert!(
            text.contains(&format!(
                "Suspended the declaration of version {}",
                receipted.version
            )),
            "{backend}: the timeline shows the suspension: {text}"
        );

        // Revoked: final.
        let revocation = status_change(
            &operator,
            "Registry Operator",
            &sdoc,
            StatusKind::Revocation,
            seconds_ago(4),
        );
        assert_eq!(app.submit("operator", &revocation).0, 201);
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Revoked This product's security declaration was revoked"),
            "{backend}: {text}"
        );
        assert!(
            text.contains("Registry Operator revoked it on"),
            "{backend}: {text}"
        );
        // The JSON API agrees.
        let (_, product) = app.get(&format!("/api/v1/products/{PRODUCT}"));
        assert_eq!(product["versions"][0]["standing"], "revoked", "{product}");
    }
}

/// The registry record: every item a public IoT registry shows for a labelled product (47 CFR
/// 8.222), on the page and in the API, saying plainly what was not given; and each version
/// links to its attestation's log entry, proof and signed statement.
#[test]
fn the_registry_record_shows_what_the_fcc_registry_lists() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        let receipted = app.submit_declared("acme", &sdoc, Some(example_declaration_json()));
        let declaration = example_declaration();

        // Before the operator names the label administrator, the record says so.
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Label administrator Not named by this registry's operator"),
            "{backend}: {text}"
        );
        app.registry
            .set_label_administrator(iotmark_registry::record::LabelAdministrator {
                name: "Example Labels".to_owned(),
                contact: "labels@example.org".to_owned(),
            });
        app.registry.pages.invalidate(PRODUCT);
        let (text, html) = page(&app, &format!("/p/{PRODUCT}"));
        let issued = jiff::Timestamp::from_second(seconds_ago(60).as_second())
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .strftime("%-d %B %Y")
            .to_string();
        let guidance = declaration.security.configuration_guidance.clone().unwrap();
        for expected in [
            "Registry record".to_owned(),
            "Product SecureCam 2 SC-200".to_owned(),
            "Manufacturer Acme Devices Ltd".to_owned(),
            format!(
                "Authorised Version {} declared by the manufacturer on {issued}",
                receipted.version
            ),
            "Current status Holds".to_owned(),
            format!("Scheme {}", scheme_title()),
            "Label administrator Example Labels (labels@example.org)".to_owned(),
            "Test lab None: the manufacturer declared conformity itself".to_owned(),
            format!(
                "Default password None: the owner sets one at first setup. To change it: {}",
                declaration.credentials.change_procedure.clone().unwrap()
            ),
            format!("Secure configuration {guidance}"),
            "Updates Install automatically".to_owned(),
            "Support ends 31 December 2029".to_owned(),
            "Software bill of materials Kept by the manufacturer".to_owned(),
            "Label valid until".to_owned(),
            format!(
                "Log entry {} · proof · signed statement",
                receipted.log_index
            ),
        ] {
            assert!(
                text.contains(&expected),
                "{backend}: missing {expected:?} in\n{text}"
            );
        }
        assert!(html.contains(&format!("<a href=\"{guidance}\">")));
        assert!(html.contains("<a href=\"mailto:labels@example.org\">"));
        assert!(html.contains(&format!(
            "<a href=\"/log/entry/{0}/receipt\">proof</a>",
            receipted.log_index
        )));

        // The API says the same, in fields.
        let (_, product) = app.get(&format!("/api/v1/products/{PRODUCT}"));
        let record = &product["registry_record"];
        assert_eq!(record["manufacturer"], "Acme Devices Ltd");
        assert_eq!(record["route"], "sdoc");
        assert_eq!(record["status"], "valid");
        assert_eq!(
            record["label_administrator"]["contact"],
            "labels@example.org"
        );
        assert!(record.get("test_lab").is_none());
        assert_eq!(record["password"]["default_password"], "set-at-setup");
        assert_eq!(record["configuration_guidance"], guidance.as_str());
        assert_eq!(record["automatic_updates"], true);
        assert_eq!(record["support_end"], "2029-12-31");
        assert_eq!(record["sbom"]["declared"], true);
        assert_eq!(record["sbom"]["held_by_registry"], false);
        assert_eq!(
            product["versions"][0]["log_index"].as_u64(),
            Some(receipted.log_index)
        );

        // A lab's certification of a newer version: the record names the lab.
        let cert = forge(
            &app.keys["testlab"],
            &conformity(
                &app.keys["testlab"],
                "Example Test Lab",
                Route::Certification,
                seconds_ago(30),
            ),
            |p| p.product.version = "2.5.0".to_owned(),
        );
        let (status, body) = app.submit("testlab", &cert);
        assert_eq!(status, 201, "{backend}: {body}");
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Authorised Version 2.5.0 certified on"),
            "{backend}: {text}"
        );
        assert!(text.contains("Test lab Example Test Lab"), "{backend}");
        let (_, product) = app.get(&format!("/api/v1/products/{PRODUCT}"));
        assert_eq!(product["registry_record"]["test_lab"], "Example Test Lab");
        app.registry.shutdown();
    }
}

#[test]
fn an_expired_declaration_says_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        // Accepted while valid, for two more seconds.
        let until = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_secs(2))
            .unwrap();
        let short = forge(
            &acme,
            &conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60)),
            |p| p.valid_until = until,
        );
        app.submit_declared("acme", &short, Some(example_declaration_json()));
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(text.contains("declaration holds"), "{backend}: {text}");
        while jiff::Timestamp::now() <= until {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        assert!(
            text.contains("Expired This product's security declaration has expired"),
            "{backend}: {text}"
        );
        assert!(text.contains("has not been renewed"), "{backend}: {text}");
    }
}

#[test]
fn text_from_submissions_stays_text_everywhere() {
    let hostile = "<script>alert(\"pwned\")</script> Cam & 'Co'";
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let mut declaration = example_declaration();
        declaration.product.name = hostile.to_owned();
        declaration.product.model = "<img src=x onerror=alert(1)>".to_owned();
        declaration.updates.owner_action = Some("<script>steal()</script>".to_owned());
        declaration.credentials.change_procedure = Some("</div><script>x()</script>".to_owned());
        let envelope = conformity_of(
            &declaration,
            &acme,
            "Acme Devices Ltd",
            Route::Sdoc,
            seconds_ago(60),
        );
        app.submit_declared(
            "acme",
            &envelope,
            Some(serde_json::to_string(&declaration).unwrap()),
        );
        let report = serde_json::json!({"summary": "<script>r()</script>", "details": "x", "version": "<b>v9</b>"});
        let (got, filed) = app.post(
            &format!("/api/v1/products/{PRODUCT}/vulnerability-reports"),
            None,
            report.to_string().as_bytes(),
        );
        assert_eq!(got, 201);
        // The manufacturer's answer is shown too: its note and the version with the fix.
        let answer = serde_json::json!({"status": "fixed", "note": "<script>n()</script>", "fixed_in": "<i>9</i>"});
        let (got, _) = app.put(
            &format!(
                "/api/v1/products/{PRODUCT}/vulnerability-reports/{}",
                filed["id"]
            ),
            Some(&app.tokens["acme"]),
            answer.to_string().as_bytes(),
        );
        assert_eq!(got, 200, "{backend}");
        for path in [
            format!("/p/{PRODUCT}"),
            "/".to_owned(),
            "/search?q=cam".to_owned(),
            "/m/acme".to_owned(),
            "/log".to_owned(),
        ] {
            // `page` also checks that no <script> element is in the page.
            let (text, html) = page(&app, &path);
            assert!(
                text.contains(hostile),
                "{backend}: {path} shows the name as written: {text}"
            );
            assert!(!html.contains("<img src=x"), "{backend}: {path}: {html}");
            assert!(!html.contains("<b>v9</b>"), "{backend}: {path}");
        }
        let (text, _) = page(&app, &format!("/p/{PRODUCT}"));
        for written in [
            "<img src=x onerror=alert(1)>",
            "<script>steal()</script>",
            "</div><script>x()</script>",
            "<script>r()</script>",
            "<script>n()</script>",
            "<i>9</i>",
        ] {
            assert!(
                text.contains(written),
                "{backend}: {written} as text: {text}"
            );
        }
        // The search box echoes the query as text, not markup.
        let (text, html) = page(&app, "/search?q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E");
        assert!(!html.contains("\"><script>"), "{backend}");
        assert!(
            text.contains("\"><script>alert(1)</script>"),
            "{backend}: {text}"
        );
        // The label too.
        let svg = app.fetch(&format!("/p/{PRODUCT}/label.svg")).text();
        assert!(!svg.contains("<script"), "{backend}: {svg}");
    }
}

#[test]
fn unknown_things_get_a_helpful_page() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let answer = app.fetch("/p/no-such-product");
        assert_eq!(answer.status, 404, "{backend}");
        check_frame("/p/no-such-product", &answer);
        let text = visible(&answer.text());
        assert!(
            text.contains("This product is not in the registry"),
            "{backend}: {text}"
        );
        assert!(
            text.contains("No product with the identifier “no-such-product” is registered."),
            "{text}"
        );
        assert!(answer.text().contains("<label for=\"q\">"), "a search form");
        assert!(
            answer.text().contains("value=\"no such product\""),
            "prefilled with the identifier's words"
        );
        for path in [
            "/p/no-such-product/label.svg",
            "/p/no-such-product/label.png",
            "/p/no-such-product/receipt",
            "/m/no-such-maker",
            "/m/testlab",
            "/log/entry/0",
            "/log/entry/not-a-number",
        ] {
            let answer = app.fetch(path);
            assert_eq!(answer.status, 404, "{backend}: {path}");
            check_frame(path, &answer);
        }
        let answer = app.fetch("/log/entry/0");
        assert!(
            visible(&answer.text())
                .contains("The log has 0 entries so far; entry 0 does not exist yet."),
            "{}",
            answer.text()
        );
    }
}

#[test]
fn search_finds_products_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let base = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        // 23 products: more than a page of results.
        for i in 0..23 {
            let envelope = forge(&acme, &base, |p| {
                p.product.id = format!("acme-cam-{i:02}");
                p.product.name = format!("Cam {i:02}");
                p.issued = seconds_ago(50 - i);
            });
            assert_eq!(app.submit("acme", &envelope).0, 201);
        }
        let (text, html) = page(&app, "/");
        assert!(text.contains("Check a connected product"), "{text}");
        assert!(html.contains("<label for=\"q\">"), "labelled search input");
        assert!(
            html.contains("<input id=\"q\" name=\"q\" type=\"search\""),
            "{html}"
        );

        let (text, _) = page(&app, "/search?q=");
        assert!(
            text.contains("Type a product's name, its model or its manufacturer's name"),
            "{backend}: the empty query says what to do: {text}"
        );
        let (text, _) = page(&app, "/search?q=zebra");
        assert!(
            text.contains("No registered product matches “zebra”"),
            "{backend}: {text}"
        );
        let (text, html) = page(&app, "/search?q=acme+cam");
        assert!(
            text.contains("Showing results 1 to 20."),
            "{backend}: {text}"
        );
        assert_eq!(html.matches("<a href=\"/p/acme-cam-").count(), 20);
        assert!(
            html.contains("href=\"/search?q=acme%20cam&#38;offset=20\""),
            "{html}"
        );
        let (text, html) = page(&app, "/search?q=acme%20cam&offset=20");
        assert!(
            text.contains("Showing results 21 to 23."),
            "{backend}: {text}"
        );
        assert!(
            html.contains("<a href=\"/p/acme-cam-22\">Cam 22</a>"),
            "{html}"
        );
        assert!(
            html.contains("href=\"/search?q=acme%20cam\" rel=\"prev\""),
            "{html}"
        );
        assert!(!html.contains("rel=\"next\""), "{html}");
        // A query the store refuses is explained, not an error page.
        let answer = app.fetch("/search?q=a+b+c+d+e+f+g+h+i");
        assert_eq!(answer.status, 400, "{backend}");
        check_frame("/search (nine words)", &answer);
        assert!(
            visible(&answer.text()).contains("The search cannot be run"),
            "{}",
            answer.text()
        );
    }
}

#[test]
fn the_dashboard_charts_coverage_and_standing_with_words_beside() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        app.submit_declared("acme", &sdoc, Some(example_declaration_json()));
        let other = forge(&acme, &sdoc, |p| {
            p.product.id = "acme-doorbell".into();
            p.product.name = "Doorbell".into();
            p.product.model = "DB-1".into();
            p.assessment.summary.not_applicable = 9;
            p.assessment.summary.needs_review = 0;
        });
        assert_eq!(app.submit("acme", &other).0, 201);
        let revoke = status_change(
            &app.keys["operator"],
            "Registry Operator",
            &other,
            StatusKind::Revocation,
            seconds_ago(1),
        );
        assert_eq!(app.submit("operator", &revoke).0, 201);
        let summary = {
            let parsed = iotmark_attest::dsse::Envelope::parse(&sdoc).unwrap();
            match iotmark_attest::statement::Statement::parse(&parsed.payload)
                .unwrap()
                .predicate
            {
                iotmark_attest::statement::Predicate::Conformity(p) => p.assessment.summary,
                _ => unreachable!(),
            }
        };

        let (text, html) = page(&app, "/m/acme");
        assert!(text.contains("2 registered products"), "{backend}: {text}");
        assert!(text.contains("1 with a declaration that holds"), "{text}");
        assert!(text.contains("1 needs attention"), "{text}");
        // Two charts, each an image with a title and a description.
        assert_eq!(html.matches("<svg width=\"100%\"").count(), 2, "{html}");
        assert_eq!(html.matches("role=\"img\" aria-labelledby=").count(), 2);
        assert!(html.contains("<title id=\"coverage-title\">"), "{html}");
        assert!(html.contains("<desc id=\"coverage-desc\">"), "{html}");
        assert!(html.contains("<desc id=\"standing-desc\">"), "{html}");
        let total = summary.satisfied
            + summary.not_satisfied
            + summary.not_applicable
            + summary.needs_review;
        for expected in [
            format!(
                "SecureCam 2 SC-200: {} satisfied, {} not satisfied, {} not applicable, {} need review.",
                summary.satisfied,
                summary.not_satisfied,
                summary.not_applicable,
                summary.needs_review
            ),
            format!(
                "SecureCam 2 SC-200: {} of {total} satisfied",
                summary.satisfied
            ),
            format!(
                "Doorbell DB-1: {} satisfied, {} not satisfied, 9 not applicable, 0 need review.",
                summary.satisfied, summary.not_satisfied
            ),
            "Holds: 1.".to_owned(),
            "Revoked: 1.".to_owned(),
        ] {
            assert!(
                text.contains(&expected),
                "{backend}: missing {expected:?}: {text}"
            );
        }
        // The satisfied share of the camera's bar is its share of the findings.
        let width = 100.0 * f64::from(summary.satisfied) / f64::from(total);
        assert!(
            html.contains(&format!(
                "width=\"{width:.2}%\" height=\"16\" fill=\"#1e7e3e\""
            )),
            "{backend}: {html}"
        );
        // The table beside the charts holds the numbers.
        assert!(
            html.contains(&format!(
                "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                summary.satisfied, summary.not_satisfied, summary.not_applicable, summary.needs_review
            )),
            "{html}"
        );
    }
}

#[test]
fn the_log_explorer_shows_entries_and_their_proofs() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        let first = app.submit_declared("acme", &sdoc, Some(example_declaration_json()));
        let suspension = status_change(
            &app.keys["operator"],
            "Registry Operator",
            &sdoc,
            StatusKind::Suspension,
            seconds_ago(5),
        );
        assert_eq!(app.submit("operator", &suspension).0, 201);
        let cert = conformity(
            &app.keys["testlab"],
            "Example Test Lab",
            Route::Certification,
            seconds_ago(3),
        );
        assert_eq!(app.submit("testlab", &cert).0, 201);

        let (text, html) = page(&app, "/log");
        assert!(
            text.contains("Log registry.test/log Entries 3"),
            "{backend}: {text}"
        );
        assert_eq!(html.matches("<a href=\"/log/entry/").count(), 3, "{html}");
        let rows: Vec<&str> = html.split("<tr>").skip(2).collect();
        assert!(rows[0].contains("/log/entry/2") && rows[0].contains("declaration"));
        assert!(rows[1].contains("/log/entry/1") && rows[1].contains("status change"));
        assert!(
            rows[2].contains(&format!(
                "/api/v1/attestations/{}/envelope",
                first.envelope_sha256
            )),
            "{}",
            rows[2]
        );
        assert!(rows[2].contains("SecureCam 2 SC-200"), "{}", rows[2]);

        let (text, html) = page(&app, "/log/entry/1");
        assert!(text.contains("Kind status change"), "{backend}: {text}");
        assert!(
            text.contains("The registry checked it: the proof leads to that root."),
            "{text}"
        );
        // The proof shown is the one the receipt carries, and it verifies.
        let receipt = app.fetch("/log/entry/1/receipt");
        assert_eq!(
            receipt.header("content-disposition"),
            Some("attachment; filename=\"entry-1.tlog-proof\"")
        );
        let receipt = iotmark_log::receipt::Receipt::parse(&receipt.body).unwrap();
        assert_eq!(receipt.proof.len(), 2, "entry 1 of 3 has two proof hashes");
        for h in &receipt.proof {
            assert!(
                html.contains(&merkle::hex(h)),
                "{backend}: proof hash shown"
            );
        }
        let verifier = iotmark_log::note::NoteVerifier::parse(&app.registry.verifier_key).unwrap();
        receipt
            .verify(
                &receipt.extra.clone().unwrap(),
                "registry.test/log",
                &[verifier],
            )
            .unwrap();
        assert!(text.contains(&format!(
            "iotmark log verify entry-1.tlog-proof --log-key {}",
            app.registry.verifier_key
        )));
    }
}

#[test]
fn labels_are_served_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let app = TestApp::start(&url, &dir.path().join(backend));
        let acme = app.keys["acme"].clone();
        let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
        app.submit_declared("acme", &sdoc, Some(example_declaration_json()));

        let png = app.fetch(&format!("/p/{PRODUCT}/label.png"));
        assert_eq!(png.status, 200, "{backend}");
        assert_eq!(png.header("content-type"), Some("image/png"));
        assert!(
            png.body.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{backend}: PNG magic"
        );
        let small = app.fetch(&format!("/p/{PRODUCT}/label.png?scale=2"));
        assert!(small.body.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(
            small.body.len() < png.body.len(),
            "a smaller scale, a smaller image"
        );
        for bad in ["0", "17", "big"] {
            let answer = app.fetch(&format!("/p/{PRODUCT}/label.png?scale={bad}"));
            assert_eq!(answer.status, 400, "{backend}: scale={bad}");
            assert!(
                visible(&answer.text()).contains("scale"),
                "{}",
                answer.text()
            );
        }

        let svg = app.fetch(&format!("/p/{PRODUCT}/label.svg"));
        assert_eq!(svg.status, 200);
        assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
        assert_eq!(svg.header("x-content-type-options"), Some("nosniff"));
        let text = svg.text();
        // It parses as XML (Python's parser, not ours) and says what the label says.
        let mut parse = std::process::Command::new("python3")
            .args([
                "-c",
                "import sys, xml.dom.minidom as m; d = m.parseString(sys.stdin.buffer.read()); print(d.documentElement.tagName)",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        parse
            .stdin
            .take()
            .unwrap()
            .write_all(svg.body.as_slice())
            .unwrap();
        let out = parse.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{backend}: the SVG does not parse: {text}"
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "svg");
        assert!(text.contains(&format!("{}/p/{PRODUCT}", app.url)), "{text}");
        assert!(text.contains(&scheme_title()), "{text}");
    }
}
