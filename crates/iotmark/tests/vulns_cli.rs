//! `iotmark vulns` as a user runs it: real NVD and CVE 5 records and CISA's KEV catalog
//! imported (twice: the second time is a no-op), then a manufacturer's SBOM matched, with an
//! OpenVEX statement for one component, a triage decision kept in the store, evidence for
//! `assess`, SARIF, HTML and the exit codes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::{Value, json};

fn vulns(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1")
        .env_remove("IOTMARK_VULNS_DB")
        .env("IOTMARK_DATA", data)
        .arg("vulns");
    cmd
}

/// The records of crates/iotmark-vulns/tests/data (NVD's and the CVE Program's, sources in
/// SOURCES.md there) and the KEV catalog of ../shared.
fn import(data: &Path) -> Value {
    let repo = common::repo();
    json_of(
        vulns(data)
            .arg("import")
            .arg(repo.join("crates/iotmark-vulns/tests/data/nvd"))
            .arg(repo.join("crates/iotmark-vulns/tests/data/cve5"))
            .arg(repo.join("../shared/reference/kev/known_exploited_vulnerabilities.json")),
    )
}

/// The command run with `--json`, which must succeed: what it printed.
fn json_of(command: &mut Command) -> Value {
    let out = command
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn component(reference: &str, name: &str, version: &str, purl: &str, cpe: &str) -> Value {
    json!({"type": "library", "bom-ref": reference, "name": name, "version": version, "purl": purl, "cpe": cpe})
}

/// A manufacturer's SBOM of a camera: two copies of libcurl 8.3.0 (SOCKS5 heap overflow,
/// CVE-2023-38545: NVD names `haxx:libcurl` from 7.69.0 to 8.4.0 excluded), dnsmasq 2.89
/// (CVE-2023-28450, before 2.90) and a product of the same name from another vendor,
/// lighttpd 1.4.69 (outside CVE-2022-22707's range), and a Huawei HG532 firmware whose NVD
/// configuration needs the HG532 hardware, which the SBOM does not list.
fn camera_sbom(dir: &Path) -> std::path::PathBuf {
    let sbom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "metadata": {"component": {"type": "firmware", "name": "camera.bin", "version": "2.4.1",
            "hashes": [{"alg": "SHA-256", "content": "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"}]}},
        "components": [
            component("curl", "libcurl", "8.3.0", "pkg:generic/curl@8.3.0", "cpe:2.3:a:haxx:libcurl:8.3.0:*:*:*:*:*:*:*"),
            component("curl-static", "libcurl-static", "8.3.0", "pkg:generic/curl-static@8.3.0", "cpe:2.3:a:haxx:libcurl:8.3.0:*:*:*:*:*:*:*"),
            component("dnsmasq", "dnsmasq", "2.89", "pkg:generic/dnsmasq@2.89", "cpe:2.3:a:thekelleys:dnsmasq:2.89:*:*:*:*:*:*:*"),
            component("other-dnsmasq", "dnsmasq", "2.89", "pkg:generic/acme/dnsmasq@2.89", "cpe:2.3:a:acme:dnsmasq:2.89:*:*:*:*:*:*:*"),
            component("lighttpd", "lighttpd", "1.4.69", "pkg:generic/lighttpd@1.4.69", "cpe:2.3:a:lighttpd:lighttpd:1.4.69:*:*:*:*:*:*:*"),
            {"type": "firmware", "bom-ref": "hg532", "name": "hg532 firmware", "version": "-",
             "cpe": "cpe:2.3:o:huawei:hg532_firmware:-:*:*:*:*:*:*:*"},
        ],
    });
    let path = dir.join("camera.cdx.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&sbom).unwrap()).unwrap();
    path
}

/// `iotmark vulns SBOM [ARGS…] --json`, its report.
fn report_of(data: &Path, sbom: &Path, args: &[&std::ffi::OsStr]) -> Value {
    json_of(vulns(data).arg(sbom).args(args))
}

fn status_of<'a>(report: &'a Value, vulnerability: &str, component: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["vulnerability"] == vulnerability && f["component"]["reference"] == component)
}

#[test]
fn import_is_idempotent_and_reports_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = import(&data);
    let files = first["files"].as_array().unwrap();
    let kev = files
        .iter()
        .find(|f| f["kind"] == "kev")
        .expect("the KEV catalog is recognised");
    assert!(kev["records"].as_u64().unwrap() > 1000, "{kev}");
    assert!(files.iter().all(|f| f["failed"].is_null()), "{first:#}");
    let again = import(&data);
    assert!(
        again["files"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["already_imported"] == true),
        "{again:#}"
    );
    let status: Value = serde_json::from_slice(
        &vulns(&data)
            .args(["status", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        status["advisories"]["nvd"], 6,
        "the rejected record is kept out: {status}"
    );
    assert_eq!(status["advisories"]["cve5"], 3);
    // A file that is no vulnerability data is named, and the exit status says so.
    let junk = dir.path().join("notes.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    let out = vulns(&data).arg("import").arg(&junk).assert().code(1);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("notes.json: not imported"), "{stdout}");
}

#[test]
fn an_sbom_matched_with_vex_triage_evidence_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(&data);
    let sbom = camera_sbom(dir.path());
    // The manufacturer's VEX: the SOCKS5 code is not reachable in the copy named curl.
    let vex = dir.path().join("camera.openvex.json");
    std::fs::write(
        &vex,
        serde_json::to_vec_pretty(&json!({
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://acme.example/vex/camera-2.4.1",
            "author": "Acme PSIRT",
            "timestamp": "2026-11-30T10:00:00Z",
            "version": 1,
            "statements": [{
                "vulnerability": {"name": "CVE-2023-38545"},
                "products": [{"@id": "pkg:generic/curl@8.3.0"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "The camera never uses a SOCKS5 proxy"
            }]
        }))
        .unwrap(),
    )
    .unwrap();
    let evidence = dir.path().join("evidence");
    let run = |extra: &[&str]| -> Value {
        let out = vulns(&data)
            .arg(&sbom)
            .arg("--vex")
            .arg(&vex)
            .arg("--json")
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        serde_json::from_slice(&out).unwrap()
    };
    let report = run(&["--out", evidence.to_str().unwrap(), "--component", "camera"]);
    // The statement covers the component it names, and only that one.
    let curl = status_of(&report, "CVE-2023-38545", "curl").unwrap();
    assert_eq!(curl["status"], "not-affected", "{curl:#}");
    assert!(
        curl["reason"]
            .as_str()
            .unwrap()
            .contains("camera.openvex.json")
    );
    let copy = status_of(&report, "CVE-2023-38545", "curl-static").unwrap();
    assert_eq!(copy["status"], "affected", "{copy:#}");
    assert_eq!(copy["fixed_in"], json!(["8.4.0"]));
    assert_eq!(copy["cvss_v31"]["base_score"], 9.8);
    let dnsmasq = status_of(&report, "CVE-2023-28450", "dnsmasq").unwrap();
    assert_eq!(dnsmasq["status"], "affected");
    // Another vendor's dnsmasq, and a lighttpd outside the range, are not matched.
    assert!(status_of(&report, "CVE-2023-28450", "other-dnsmasq").is_none());
    assert!(status_of(&report, "CVE-2022-22707", "lighttpd").is_none());
    // The HG532 firmware without its hardware listed: conditional, not affected.
    let hg532 = status_of(&report, "CVE-2017-17215", "hg532").unwrap();
    assert_eq!(hg532["status"], "conditional", "{hg532:#}");

    // Evidence for assess: the open findings fail `vulns.known-vulnerable`, bound to the
    // image digest the SBOM gives, bearing on EN 303 645 5.2-3 among others.
    let records: Value =
        serde_json::from_slice(&std::fs::read(evidence.join("vulns-9f2c1e7b4a0d.json")).unwrap())
            .unwrap();
    let failing: Vec<&Value> = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["check"] == "vulns.known-vulnerable" && r["result"] == "fail")
        .collect();
    assert_eq!(failing.len(), 2, "{records:#}");
    assert!(failing.iter().all(|r| r["subject"]["sha256"]
        == "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"));
    assert!(
        failing[0]["bears_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "en303645-5.2-3"),
        "{:#}",
        failing[0]
    );

    // --fail-on: affected findings are open, none is known exploited.
    vulns(&data)
        .arg(&sbom)
        .args(["--fail-on", "affected"])
        .assert()
        .code(3);
    vulns(&data)
        .arg(&sbom)
        .args(["--fail-on", "exploited"])
        .assert()
        .success();

    // A triage decision is kept and wins over nothing else on the next run.
    vulns(&data)
        .args([
            "triage",
            "CVE-2023-28450",
            "pkg:generic/dnsmasq@2.89",
            "--status",
            "not-affected",
            "--justification",
            "vulnerable-code-not-in-execute-path",
            "--author",
            "lab@example.org",
        ])
        .assert()
        .success();
    let report = run(&[]);
    let dnsmasq = status_of(&report, "CVE-2023-28450", "dnsmasq").unwrap();
    assert_eq!(dnsmasq["status"], "not-affected", "{dnsmasq:#}");
    assert_eq!(dnsmasq["vex"]["document"], "triage");

    // The decision as standard VEX: another store that never saw the triage reaches the
    // same answer from the document.
    let exported = dir.path().join("triage.openvex.json");
    vulns(&data)
        .args([
            "vex",
            "--format",
            "openvex",
            "--author",
            "lab@example.org",
            "-o",
        ])
        .arg(&exported)
        .assert()
        .success();
    let fresh = dir.path().join("fresh");
    import(&fresh);
    let report = report_of(&fresh, &sbom, &["--vex".as_ref(), exported.as_os_str()]);
    let dnsmasq = status_of(&report, "CVE-2023-28450", "dnsmasq").unwrap();
    assert_eq!(dnsmasq["status"], "not-affected", "{dnsmasq:#}");
    assert!(
        dnsmasq["vex"]["document"]
            .as_str()
            .unwrap()
            .ends_with("triage.openvex.json")
    );
    for format in ["csaf", "cyclonedx"] {
        let out = vulns(&data)
            .args(["vex", "--format", format, "--author", "Example Lab"])
            .args(["--namespace", "https://lab.example.org"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert!(doc.to_string().contains("CVE-2023-28450"), "{doc:#}");
    }

    // SARIF and HTML for people and tools.
    let sarif: Value = serde_json::from_slice(
        &vulns(&data)
            .arg(&sbom)
            .arg("--sarif")
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "CVE-2023-38545" && r["level"] == "error"),
        "{sarif:#}"
    );
    // scripts/validate-oscal.sh checks this document with Microsoft's SARIF multitool.
    if let Some(out) = std::env::var_os("IOTMARK_SARIF_OUT") {
        std::fs::write(
            Path::new(&out).join("vulns.sarif"),
            serde_json::to_vec_pretty(&sarif).unwrap(),
        )
        .unwrap();
    }
    let html = vulns(&data)
        .arg(&sbom)
        .arg("--html")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("<html lang=\"en\">") && !html.contains("<script"));
    assert!(html.contains("CVE-2023-38545"));
}

#[test]
fn bad_inputs_are_named_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bad = dir.path().join("bad.cdx.json");
    std::fs::write(
        &bad,
        r#"{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"version": "1.0"}]}"#,
    )
    .unwrap();
    let out = vulns(&data).arg(&bad).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("/components/0/name") && stderr.contains("hint"),
        "{stderr}"
    );
    // A triage decision must name a component by purl or CPE.
    let out = vulns(&data)
        .args(["triage", "CVE-2023-1", "curl", "--status", "affected"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("purl"), "{stderr}");
    // The data directory may also come after the subcommand.
    Command::cargo_bin("iotmark")
        .unwrap()
        .args(["vulns", "status", "--data"])
        .arg(&data)
        .assert()
        .success();
}

/// A router whose firmware CISA's catalog lists as exploited (CVE-2017-18368, the Zyxel
/// P660HN-T1A v1 at 7.3.15.0, NVD's record and the real KEV catalog): affected, flagged with
/// KEV's due date, and `--fail-on exploited` fails. The same firmware on another hardware
/// revision is not matched, since NVD's configuration needs the v1 hardware.
#[test]
fn a_known_exploited_firmware_is_flagged_with_the_catalog_due_date() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import(&data);
    let router = |hardware: &str| {
        let sbom = json!({
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": {"component": {"type": "device", "name": "P660HN-T1A"}},
            "components": [
                {"type": "firmware", "bom-ref": "firmware", "name": "P660HN-T1A firmware",
                 "version": "7.3.15.0",
                 "cpe": "cpe:2.3:o:zyxel:p660hn-t1a_v1_firmware:7.3.15.0:*:*:*:*:*:*:*"},
                {"type": "device", "bom-ref": "board", "name": "P660HN-T1A", "version": "-",
                 "cpe": hardware},
            ],
        });
        let path = dir.path().join("router.cdx.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&sbom).unwrap()).unwrap();
        path
    };
    let sbom = router("cpe:2.3:h:zyxel:p660hn-t1a_v1:-:*:*:*:*:*:*:*");
    let report = report_of(&data, &sbom, &[]);
    let finding = status_of(&report, "CVE-2017-18368", "firmware").unwrap();
    assert_eq!(finding["status"], "affected", "{finding:#}");
    assert_eq!(
        finding["known_exploited"]["due_date"], "2023-08-28",
        "{finding:#}"
    );
    assert_eq!(finding["rating"], "critical");
    // Most urgent first: the known-exploited finding leads the report.
    assert_eq!(report["findings"][0]["vulnerability"], "CVE-2017-18368");
    vulns(&data)
        .arg(&sbom)
        .args(["--fail-on", "exploited"])
        .assert()
        .code(3);

    let other = router("cpe:2.3:h:zyxel:p660hn-t1a_v2:-:*:*:*:*:*:*:*");
    let report = report_of(&data, &other, &[]);
    assert!(
        status_of(&report, "CVE-2017-18368", "firmware").is_none(),
        "{report:#}"
    );
}
