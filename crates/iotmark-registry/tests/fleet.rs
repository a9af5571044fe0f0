//! `fleet check` end to end against a running registry, on SQLite and PostgreSQL: a fleet with
//! devices in every status the registry gives (valid, revoked, suspended, end of support,
//! withdrawn, vulnerable through the real monitor and real NVD and KEV data, expired) and in
//! every way a device can be unknown to it. Then the log grows and the check proves the new
//! checkpoint consistent with the kept one; then the database is altered behind the log's back
//! (a revocation deleted, a support period extended) and the check names both; then another
//! registry signing with the same log key but another history is caught.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use iotmark_attest::Sha256;
use iotmark_attest::statement::StatusKind;
use iotmark_registry::fleet::mirror::{Mirror, SyncError};
use iotmark_registry::fleet::{self, CheckError, Client, DeviceStatus, FleetReport, Options};

const PRODUCT: &str = "acme-securecam-2";

fn known_exploited() -> BTreeSet<String> {
    let path = repo().join("../shared/reference/kev/known_exploited_vulnerabilities.json");
    let catalog = iotmark_vulns::kev::read("kev", &std::fs::read(path).unwrap()).unwrap();
    catalog.entries.records.into_iter().map(|e| e.cve).collect()
}

fn run_check(
    app: &TestApp,
    devices: &[fleet::inventory::Device],
    mirror: &mut Mirror,
) -> Result<FleetReport, CheckError> {
    let client = Client::new(&app.url).unwrap();
    let options = Options {
        now: jiff::Timestamp::now(),
        known_exploited: Some(known_exploited()),
    };
    fleet::check(devices, mirror, &client, &options, &|_, _, _| {})
}

/// The status, version and whether the registry agreed, of the device on inventory `line`.
fn on_line(report: &FleetReport, line: usize) -> &fleet::DeviceResult {
    report
        .devices
        .iter()
        .find(|d| d.device.line == line)
        .unwrap_or_else(|| panic!("no device from line {line}"))
}

fn story(backend: &str, url: &str, vulns_url: &str, dir: &Path) {
    let app = TestApp::start(url, dir);
    let acme = app.keys["acme"].clone();
    let submit = |org: &str, envelope: &[u8]| -> String {
        let (status, body) = app.submit(org, envelope);
        assert_eq!(status, 201, "{backend}: {body}");
        body["envelope_sha256"].as_str().unwrap().to_owned()
    };
    // A status change of `envelope` by `org`, effective `ago` seconds ago.
    let change = |org: &str, envelope: &[u8], kind: StatusKind, ago: i64| -> String {
        let name = match org {
            "acme" => "Acme Devices Ltd",
            _ => "Registry Operator",
        };
        submit(
            org,
            &status_change(&app.keys[org], name, envelope, kind, seconds_ago(ago)),
        )
    };
    let support_end = jiff::civil::date(2031, 6, 30);
    let fixed = sbom("7.3.16.0");
    let version = |v: &str| attested(&app, v, &fixed, days_ago(5), Some(support_end));

    let valid = version("1.0");
    submit("acme", &valid);
    let revoked = version("1.1");
    submit("acme", &revoked);
    let revocation = change("operator", &revoked, StatusKind::Revocation, 60);
    let suspended = version("1.2");
    submit("acme", &suspended);
    change("operator", &suspended, StatusKind::Suspension, 50);
    let ended = version("1.3");
    submit("acme", &ended);
    change("acme", &ended, StatusKind::EndOfSupport, 40);
    let withdrawn = version("1.4");
    submit("acme", &withdrawn);
    change("acme", &withdrawn, StatusKind::Withdrawal, 30);
    // Vulnerable the way it happens: the attested SBOM names firmware with a known-exploited
    // vulnerability, and the monitor finds it in NVD's and CISA's data.
    let vulnerable_sbom = sbom("7.3.15.0");
    let vulnerable = attested(
        &app,
        "1.5",
        &vulnerable_sbom,
        days_ago(5),
        Some(support_end),
    );
    submit("acme", &vulnerable);
    let (status, body) = app.put(
        &format!("/api/v1/sboms/{}", Sha256::of(&vulnerable_sbom).to_hex()),
        Some(&app.tokens["acme"]),
        &vulnerable_sbom,
    );
    assert_eq!(status, 204, "{body}");
    attach_vulnerability_store(&app, vulns_url);
    import_vulnerabilities(&app);
    let run = monitor_at(&app, jiff::Timestamp::now());
    assert_eq!(run.changes.len(), 1, "{run:?}");
    // A label that runs out in a few seconds: expired by the time the fleet is checked.
    let expires = seconds_ago(-3);
    let expiring = forge(&acme, &version("1.6"), |p| {
        p.issued = seconds_ago(20);
        p.valid_until = expires;
    });
    submit("acme", &expiring);
    // Issued two minutes ahead (within the clock skew the registry allows): not valid yet.
    let ahead = forge(&acme, &version("1.7"), |p| {
        p.issued = seconds_ago(-120);
        p.valid_until = seconds_ago(-120 - 86_400 * 365);
    });
    submit("acme", &ahead);
    while jiff::Timestamp::now() <= expires {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    let unknown_image = Sha256::of(b"firmware nobody attested").to_hex();
    let inventory = format!(
        "product,version,image_sha256,count,location,owner\n\
         {PRODUCT},1.0,,40,HQ lobby,facilities\n\
         ,,{},3,Warehouse,logistics\n\
         {PRODUCT},1.1,,5,Loading dock,facilities\n\
         {PRODUCT},1.2,,6,Car park,security\n\
         {PRODUCT},1.3,,7,Archive,records\n\
         {PRODUCT},1.4,,8,Canteen,facilities\n\
         {PRODUCT},1.5,,9,Server room,it\n\
         {PRODUCT},1.6,,10,Reception,facilities\n\
         {PRODUCT},9.9,,2,Lab,research\n\
         ,,{unknown_image},1,Lab,research\n\
         nosuch-camera,1.0,,1,Lab,research\n\
         {PRODUCT},1.7,,4,Roof,facilities\n",
        image_of("1.0")
    );
    let devices = fleet::inventory::parse(Path::new("fleet.csv"), inventory.as_bytes()).unwrap();
    let vkey = std::fs::read_to_string(app.dir.join("data/log.vkey")).unwrap();
    let mut mirror = Mirror::new(&vkey).unwrap();

    let report = run_check(&app, &devices, &mut mirror).unwrap();
    assert!(
        report.discrepancies.is_empty(),
        "{backend}: {:?}",
        report.discrepancies
    );
    assert_eq!(report.log.from_size, 0);
    assert_eq!(report.log.entries_read, report.log.size);
    let expected = [
        (2, DeviceStatus::Valid, "1.0"),
        (3, DeviceStatus::Valid, "1.0"),
        (4, DeviceStatus::Revoked, "1.1"),
        (5, DeviceStatus::Suspended, "1.2"),
        (6, DeviceStatus::EndOfSupport, "1.3"),
        (7, DeviceStatus::Withdrawn, "1.4"),
        (8, DeviceStatus::Vulnerable, "1.5"),
        (9, DeviceStatus::Expired, "1.6"),
        (10, DeviceStatus::NotAttested, "9.9"),
        (11, DeviceStatus::UnknownImage, ""),
        (12, DeviceStatus::UnknownProduct, "1.0"),
        (13, DeviceStatus::NotYetValid, "1.7"),
    ];
    for (line, status, v) in expected {
        let d = on_line(&report, line);
        assert_eq!(
            (
                d.status,
                d.version.as_deref().unwrap_or_default(),
                d.registry_agrees
            ),
            (status, v, true),
            "{backend}: line {line}: {d:?}"
        );
    }
    let valid_devices = on_line(&report, 2);
    assert_eq!(valid_devices.support_end, Some(support_end));
    assert_eq!(valid_devices.product_name.as_deref(), Some("SecureCam 2"));
    assert!(
        on_line(&report, 4).why.contains("revoked"),
        "{:?}",
        on_line(&report, 4)
    );
    let vulnerable_devices = on_line(&report, 8);
    assert_eq!(
        vulnerable_devices.vulnerabilities,
        [fleet::Vulnerability {
            id: "CVE-2017-18368".to_owned(),
            exploited: Some(true)
        }]
    );
    assert!(vulnerable_devices.fix_deadline.is_some());
    assert_eq!(
        vulnerable_devices.log_entries.len(),
        2,
        "the attestation and the change"
    );
    assert_eq!(
        report.total_devices,
        40 + 3 + 5 + 6 + 7 + 8 + 9 + 10 + 2 + 1 + 1 + 4
    );
    assert_eq!(report.counts[&DeviceStatus::Valid], 43);
    assert_eq!(report.needing_action(), report.total_devices - 43);
    // What needs action comes first.
    assert_eq!(report.devices[0].status, DeviceStatus::Revoked);
    let html = fleet::report::render(&report).unwrap();
    assert!(
        html.contains("<svg") && html.contains("agree with its log"),
        "{html}"
    );
    let plan = fleet::poam(&report).unwrap();
    assert_eq!(
        plan.poam_items.len(),
        9,
        "one per line whose label does not hold (a label not valid yet needs no plan)"
    );

    // The log grows: the suspension is lifted. The next check reads only the new entry and
    // proves the new checkpoint consistent with the kept one.
    let before = fleet::snapshot(&report);
    let kept_size = mirror.size();
    change("operator", &suspended, StatusKind::Reinstatement, 1);
    let report = run_check(&app, &devices, &mut mirror).unwrap();
    assert!(
        report.discrepancies.is_empty(),
        "{:?}",
        report.discrepancies
    );
    assert_eq!(
        (report.log.from_size, report.log.entries_read),
        (kept_size, 1)
    );
    assert!(report.log.consistency_proved);
    assert_eq!(on_line(&report, 5).status, DeviceStatus::Valid);
    let changes = fleet::changes(&before, &fleet::snapshot(&report));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].what, "suspended → valid");

    // Behind the log's back: the revocation deleted, the valid version's support extended.
    let valid_sha = Sha256::of(&valid).to_hex();
    app.runtime.block_on(execute(
        url,
        &format!(
            "DELETE FROM attestations WHERE envelope_sha256 = '{revocation}';
             UPDATE attestations SET support_end = '2040-12-31' WHERE envelope_sha256 = '{valid_sha}';"
        ),
    ));
    // As a restarted registry would: nothing of the old answers in memory.
    app.registry.pages.clear();
    let (_, product) = app.get(&format!("/api/v1/products/{PRODUCT}"));
    let v11 = product["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == "1.1")
        .unwrap()
        .clone();
    assert_eq!(
        v11["standing"], "valid",
        "the altered registry now says 1.1 holds"
    );
    let report = run_check(&app, &devices, &mut mirror).unwrap();
    let revocation_index = mirror
        .records
        .iter()
        .find(|r| r.record.envelope_sha256 == revocation)
        .unwrap()
        .record
        .log_index;
    let whats: Vec<&str> = report
        .discrepancies
        .iter()
        .map(|d| d.what.as_str())
        .collect();
    assert!(
        report
            .discrepancies
            .iter()
            .any(|d| d.log_index == Some(revocation_index)
                && d.what
                    .contains(&format!("leaves out log entry {revocation_index}"))
                && d.what.contains("revocation")),
        "{backend}: {whats:#?}"
    );
    assert!(
        whats.iter().any(|w| w
            .contains("support_end is \"2040-12-31\" at the registry, \"2031-06-30\" in the log")),
        "{backend}: {whats:#?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w
                .contains("version 1.1: the registry says it holds, the log says it was revoked")),
        "{backend}: {whats:#?}"
    );
    // The answers are the log's, and each says the registry disagreed.
    let d = on_line(&report, 4);
    assert_eq!(
        (d.status, d.registry_agrees),
        (DeviceStatus::Revoked, false)
    );
    assert_eq!(on_line(&report, 2).support_end, Some(support_end));
    let html = fleet::report::render(&report).unwrap();
    assert!(html.contains("disagree with its log"));

    // Another registry signing with the same log key but with another history: its log is
    // shorter than the checkpoint kept, and nothing of it is kept.
    let forged_dir = dir.join("forged");
    std::fs::create_dir_all(forged_dir.join("data")).unwrap();
    std::fs::copy(
        app.dir.join("data/log.key"),
        forged_dir.join("data/log.key"),
    )
    .unwrap();
    let forged_url = if backend == "sqlite" {
        format!("sqlite://{}", forged_dir.join("registry.sqlite3").display())
    } else {
        iotmark_db::testing::backends(&forged_dir, "registry.sqlite3")
            .into_iter()
            .find(|(b, _)| *b == backend)
            .unwrap()
            .1
    };
    let forged = TestApp::start(&forged_url, &forged_dir);
    let (status, body) =
        forged.submit("acme", &attested(&forged, "1.0", &fixed, days_ago(5), None));
    assert_eq!(status, 201, "{body}");
    let size = mirror.size();
    let err = run_check(&forged, &devices, &mut mirror).unwrap_err();
    assert!(
        matches!(&err, CheckError::Sync(SyncError::Caught(c)) if c.0.contains("shrank")),
        "{backend}: {err}"
    );
    assert_eq!(mirror.size(), size, "nothing of a caught sync is kept");
}

#[test]
fn a_fleet_in_every_status_is_answered_from_the_log_and_an_altered_registry_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in backends(dir.path()) {
        let root = dir.path().join(backend);
        std::fs::create_dir_all(&root).unwrap();
        let vulns_url = if backend == "sqlite" {
            format!("sqlite://{}", root.join("vulns.sqlite3").display())
        } else {
            url.clone()
        };
        story(backend, &url, &vulns_url, &root);
    }
}

/// A static file server on 127.0.0.1 for `dir`: a registry's log as files, which a test can
/// alter the way a dishonest server would. One request per connection, GET only.
struct StaticServer {
    url: String,
}

impl StaticServer {
    fn start(dir: &Path) -> Self {
        use std::io::{BufRead as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let root = dir.to_owned();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                // The rest of the head, up to the blank line.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = root.join(path.trim_start_matches('/'));
                let answer = match (path.contains(".."), std::fs::read(&file)) {
                    (false, Ok(body)) => {
                        let mut a = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        a.extend_from_slice(&body);
                        a
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&answer);
            }
        });
        StaticServer { url }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A server that alters what its log says is caught by the first sync, whatever it alters:
/// an envelope's bytes, or an entry after it was logged.
#[test]
fn a_log_served_with_an_altered_envelope_or_entry_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.sqlite3").display());
    let app = TestApp::start(&url, dir.path());
    let acme = app.keys["acme"].clone();
    let fixed = sbom("7.3.16.0");
    let mut envelopes = Vec::new();
    for v in ["1.0", "1.1", "1.2"] {
        let envelope = attested(&app, v, &fixed, days_ago(5), None);
        let (status, body) = app.submit("acme", &envelope);
        assert_eq!(status, 201, "{body}");
        envelopes.push(envelope);
    }
    let change = status_change(
        &acme,
        "Acme Devices Ltd",
        &envelopes[1],
        StatusKind::Withdrawal,
        seconds_ago(5),
    );
    let (status, body) = app.submit("acme", &change);
    assert_eq!(status, 201, "{body}");
    let vkey = std::fs::read_to_string(app.dir.join("data/log.vkey")).unwrap();

    let served = dir.path().join("served");
    copy_tree(&app.dir.join("data/log"), &served.join("log"));
    let server = StaticServer::start(&served);
    let log = iotmark_log::remote::HttpLog::new(&format!("{}/log", server.url)).unwrap();
    let sync = || {
        let mut mirror = Mirror::new(&vkey).unwrap();
        mirror.sync(&log, &|_, _| {}).map(|_| mirror)
    };
    let mirror = sync().unwrap();
    assert_eq!((mirror.size(), mirror.records.len()), (4, 4));
    assert_eq!(
        mirror.records[3].record.status,
        Some(StatusKind::Withdrawal)
    );

    // The second attestation's envelope, with one byte of its signature changed.
    let sha = Sha256::of(&envelopes[1]).to_hex();
    let path = served.join(format!("log/envelopes/{}/{sha}", &sha[..2]));
    let honest = std::fs::read(&path).unwrap();
    let mut altered = honest.clone();
    let at = altered.len() - 10;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&path, &altered).unwrap();
    let err = sync().unwrap_err().to_string();
    assert!(
        err.contains("caught") && err.contains(&format!("the envelope served for {sha}")),
        "{err}"
    );
    std::fs::write(&path, &honest).unwrap();
    sync().unwrap();

    // The withdrawal's entry, its time moved a second after it was logged: the entries no
    // longer hash to the signed root.
    let bundle = served.join("log/tile/entries/000.p/4");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&bundle, &bytes).unwrap();
    let err = sync().unwrap_err().to_string();
    assert!(
        err.contains("do not hash to its checkpoint's root"),
        "{err}"
    );
}
