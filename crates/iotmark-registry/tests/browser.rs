//! The product page in a real browser: Debian's Chromium, headless, driven over WebDriver by
//! its chromedriver, with JavaScript switched off. A consumer scans the label's QR code
//! (decoded by zbarimg, which we did not write), lands on the page and reads whether the
//! declaration holds, until when updates come and how to change the password; the page's
//! stylesheet must survive its own Content-Security-Policy, and the label image must load.
//!
//! Screenshots at desktop and phone widths are left in `target/browser-screenshots/`.
//!
//! Needs `bash scripts/browser-tools.sh --install` and `bash scripts/label-tools.sh
//! --install`; without them this test fails and says so, unless IOTMARK_SKIP_BROWSER=1.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    TestApp, conformity, example_declaration, example_declaration_json, forge, seconds_ago,
    status_change,
};
use fantoccini::{Client, ClientBuilder, Locator};
use iotmark_attest::statement::{Route, StatusKind};

const CHROMIUM: &str = "/usr/bin/chromium";
const HINT: &str = "run `bash scripts/browser-tools.sh --install` and `bash scripts/label-tools.sh \
                    --install` (or set IOTMARK_SKIP_BROWSER=1 to skip the browser test)";
const PRODUCT: &str = "acme-securecam-2";

/// How long chromedriver may take to listen before the test gives up (a failure to start,
/// not a measurement).
const DRIVER_START: Duration = Duration::from_secs(30);

fn tools_present() -> bool {
    if std::env::var("IOTMARK_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("browser test skipped (IOTMARK_SKIP_BROWSER=1)");
        return false;
    }
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: {HINT}"
    );
    for tool in ["chromedriver", "zbarimg"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(found, "{tool} is missing: {HINT}");
    }
    true
}

/// chromedriver on a free port of 127.0.0.1, ended when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new("chromedriver")
            .args([
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".to_owned(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting chromedriver: {e}; {HINT}"));
        // Drain its output so it never blocks on a full pipe.
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || for _ in BufReader::new(out).lines() {});
        let deadline = Instant::now() + DRIVER_START;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}; {HINT}"
            );
            if let Some(status) = child.try_wait().unwrap() {
                panic!("chromedriver exited with {status}; {HINT}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.display()),
            ],
            // The pages must work for readers who switch JavaScript off.
            "prefs": {"profile.managed_default_content_settings.javascript": 2},
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("starting a Chromium session: {e}; {HINT}"))
}

/// A screenshot of the whole page at `width` CSS pixels.
async fn screenshot(client: &Client, width: u32, name: &str) -> PathBuf {
    client.set_window_size(width, 900).await.unwrap();
    let (_, _, w, h) = client
        .find(Locator::Css("html"))
        .await
        .unwrap()
        .rectangle()
        .await
        .unwrap();
    // The page must not be wider than the window: nothing to scroll sideways on a phone.
    assert!(
        w <= f64::from(width),
        "{name}: the page is {w}px wide in a {width}px window"
    );
    // The window is taller than what it shows by the browser's own frame: measure that
    // from a screenshot (a PNG's height is at bytes 20..24) and add it.
    let shown = png_height(&client.screenshot().await.unwrap());
    client
        .set_window_size(width, h.ceil() as u32 + 900 - shown)
        .await
        .unwrap();
    let png = client.screenshot().await.unwrap();
    let path = screenshots().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    path
}

fn png_height(png: &[u8]) -> u32 {
    u32::from_be_bytes(png[20..24].try_into().unwrap())
}

async fn text(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

/// A DOM property whose value is a number (fantoccini expects strings and hands numbers back
/// as a protocol error carrying the value).
async fn number_property(element: &fantoccini::elements::Element, name: &str) -> f64 {
    match element.prop(name).await {
        Ok(Some(s)) => s.parse().unwrap(),
        Err(fantoccini::error::CmdError::NotW3C(serde_json::Value::Number(n))) => {
            n.as_f64().unwrap()
        }
        other => panic!("property {name}: {other:?}"),
    }
}

#[test]
fn a_consumer_scans_the_label_and_reads_the_product_page() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The browser sees pages; both database backends are covered by tests/pages.rs.
    let db = format!("sqlite://{}", dir.path().join("registry.sqlite3").display());
    let app = TestApp::start(&db, dir.path());
    let acme = app.keys["acme"].clone();
    let sdoc = conformity(&acme, "Acme Devices Ltd", Route::Sdoc, seconds_ago(60));
    app.submit_declared("acme", &sdoc, Some(example_declaration_json()));
    // Two more of acme's products, for a dashboard with something to show: one revoked,
    // one with findings still to review.
    let doorbell = forge(&acme, &sdoc, |p| {
        p.product.id = "acme-doorbell".into();
        p.product.name = "Doorbell".into();
        p.product.model = "DB-1".into();
        p.assessment.summary.satisfied = 40;
        p.assessment.summary.not_applicable = 20;
        p.assessment.summary.needs_review = 0;
    });
    assert_eq!(app.submit("acme", &doorbell).0, 201);
    let revocation = status_change(
        &app.keys["operator"],
        "Registry Operator",
        &doorbell,
        StatusKind::Revocation,
        seconds_ago(1),
    );
    assert_eq!(app.submit("operator", &revocation).0, 201);
    let plug = forge(&acme, &sdoc, |p| {
        p.product.id = "acme-plug".into();
        p.product.name = "Smart Plug".into();
        p.product.model = "SP-3".into();
        p.assessment.summary.satisfied = 51;
        p.assessment.summary.not_applicable = 9;
        p.assessment.summary.needs_review = 8;
    });
    assert_eq!(app.submit("acme", &plug).0, 201);
    let report = serde_json::json!({"summary": "Telnet answers on port 23", "details": "Found with a port scan.", "version": "2.4.1"});
    let (got, _) = app.post(
        &format!("/api/v1/products/{PRODUCT}/vulnerability-reports"),
        None,
        report.to_string().as_bytes(),
    );
    assert_eq!(got, 201);
    // The next version, announced and not yet assessed.
    let announcement = serde_json::json!({
        "version": "2.5.0",
        "image": {"sha256": "ab".repeat(32), "size": 7_340_032},
        "url": "https://updates.acme.example/securecam/2.5.0.bin",
        "release_notes": "Closes telnet on port 23.",
    });
    let (got, body) = app.post(
        &format!("/api/v1/products/{PRODUCT}/announcements"),
        Some(&app.tokens["acme"]),
        announcement.to_string().as_bytes(),
    );
    assert_eq!(got, 201, "{body}");

    // The label as printed, read back by zbarimg.
    let (status, png) = app.get_bytes(&format!("/p/{PRODUCT}/label.png"));
    assert_eq!(status, 200);
    let label = dir.path().join("label.png");
    std::fs::write(&label, &png).unwrap();
    std::fs::write(screenshots().join("label.png"), &png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&label)
        .output()
        .unwrap_or_else(|e| panic!("running zbarimg: {e}; {HINT}"));
    assert!(
        out.status.success(),
        "zbarimg found no QR code on the label"
    );
    let scanned = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(scanned, format!("{}/p/{PRODUCT}", app.url));

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let declaration = example_declaration();
    app.runtime.block_on(async {
        let client = browser(&driver, profile.path()).await;
        client.set_window_size(1280, 900).await.unwrap();

        // Where the QR code leads.
        client.goto(&scanned).await.unwrap();
        assert_eq!(
            client.current_url().await.unwrap().path(),
            format!("/p/{PRODUCT}")
        );
        assert_eq!(
            client.title().await.unwrap(),
            "SecureCam 2 SC-200 · iotmark registry"
        );
        assert_eq!(text(&client, "h1").await, "SecureCam 2 SC-200");
        let badge = text(&client, "#status .badge").await;
        assert!(badge.ends_with("Holds"), "{badge}");
        assert_eq!(
            text(&client, "#verdict-heading").await,
            "This product's security declaration holds"
        );
        let support = text(&client, "#support .big").await;
        assert!(
            support.starts_with("Security updates until 31 December 2029 — ")
                && support.ends_with(" left"),
            "{support}"
        );
        let password = text(&client, "#password").await;
        assert!(
            password.contains(&declaration.credentials.change_procedure.clone().unwrap()),
            "{password}"
        );
        let updates = text(&client, "#updates").await;
        assert!(
            updates.contains("Updates install automatically."),
            "{updates}"
        );
        assert!(
            text(&client, "#vulnerabilities")
                .await
                .contains("Telnet answers on port 23"),
            "the report is listed"
        );
        let notices = text(&client, "#notices").await;
        assert!(
            notices.contains("Version 2.5.0 has not been assessed"),
            "{notices}"
        );
        let versions = text(&client, "#versions").await;
        assert!(
            versions.contains("2.5.0") && versions.contains("Not assessed"),
            "{versions}"
        );
        // The timeline: the declaration, as the log recorded it, with its log entry.
        let timeline = client
            .find_all(Locator::Css("#history .timeline li"))
            .await
            .unwrap();
        assert_eq!(timeline.len(), 1);
        let entry = timeline[0].text().await.unwrap();
        assert!(
            entry.contains("Declared version") && entry.contains("Log entry 0"),
            "{entry}"
        );

        // No script anywhere, and JavaScript is off in this browser: what was read above is
        // what a reader without JavaScript gets.
        assert!(
            client
                .find_all(Locator::Css("script"))
                .await
                .unwrap()
                .is_empty()
        );

        // The inline stylesheet is allowed by the policy's hash: the verdict is on its
        // green background, not the browser's default.
        let background = client
            .find(Locator::Css("#status"))
            .await
            .unwrap()
            .css_value("background-color")
            .await
            .unwrap();
        assert_eq!(
            background, "rgba(234, 246, 238, 1)",
            "the stylesheet did not apply"
        );

        // The label image loads under `img-src 'self'` and has its words.
        let img = client.find(Locator::Css("#label img")).await.unwrap();
        let natural = number_property(&img, "naturalWidth").await;
        assert!(natural > 0.0, "the label image did not load");
        let alt = img.attr("alt").await.unwrap().unwrap();
        assert!(alt.contains("SecureCam 2"), "{alt}");

        // Firmware digests stay folded until asked for.
        let digests = client
            .find(Locator::Css("#versions details"))
            .await
            .unwrap();
        assert!(
            !digests
                .find(Locator::Css("dd"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );
        digests
            .find(Locator::Css("summary"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(
            digests
                .find(Locator::Css("dd"))
                .await
                .unwrap()
                .is_displayed()
                .await
                .unwrap()
        );

        client.refresh().await.unwrap();
        let desktop = screenshot(&client, 1280, "product-desktop").await;
        let phone = screenshot(&client, 390, "product-phone").await;
        eprintln!("screenshots: {} {}", desktop.display(), phone.display());

        // On a fresh load, the first Tab reaches the skip link.
        client.refresh().await.unwrap();
        client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .send_keys("\u{E004}")
            .await
            .unwrap();
        assert_eq!(
            client.active_element().await.unwrap().text().await.unwrap(),
            "Skip to main content"
        );

        // Searching from the start page, with the form (no script needed to submit it).
        client.set_window_size(1280, 900).await.unwrap();
        client.goto(&format!("{}/", app.url)).await.unwrap();
        screenshot(&client, 1280, "home-desktop").await;
        client.set_window_size(1280, 900).await.unwrap();
        let form = client.form(Locator::Css("form.search")).await.unwrap();
        form.set(Locator::Id("q"), "securecam").await.unwrap();
        form.submit().await.unwrap();
        // A click does not wait for the page it leads to: wait for what only that page has.
        client
            .wait()
            .for_element(Locator::Css("p[role=status]"))
            .await
            .unwrap();
        assert_eq!(client.current_url().await.unwrap().path(), "/search");
        client
            .find(Locator::LinkText("SecureCam 2"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("#verdict-heading"))
            .await
            .unwrap();
        assert_eq!(
            client.current_url().await.unwrap().path(),
            format!("/p/{PRODUCT}")
        );

        for (path, name) in [
            ("/m/acme".to_owned(), "dashboard"),
            ("/log".to_owned(), "log"),
            ("/log/entry/0".to_owned(), "log-entry"),
            ("/p/nope".to_owned(), "not-found"),
        ] {
            client.set_window_size(1280, 900).await.unwrap();
            client.goto(&format!("{}{path}", app.url)).await.unwrap();
            screenshot(&client, 1280, &format!("{name}-desktop")).await;
            screenshot(&client, 390, &format!("{name}-phone")).await;
        }
        client.close().await.unwrap();
    });
}
