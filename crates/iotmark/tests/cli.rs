//! Whole command-line runs, as a user types them: output, files written and exit codes.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::PathBuf;

use assert_cmd::Command;
use serde_json::Value;

fn iotmark() -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn nist(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/nist-oscal-content")
        .join(file)
}

fn stdout_text(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().success().get_output().stdout.clone()).expect("stdout is UTF-8")
}

/// Runs a command that must fail with exit code 1 and returns what it said on stderr.
fn stderr_of_failure(cmd: &mut Command) -> String {
    String::from_utf8(cmd.assert().code(1).get_output().stderr.clone()).expect("stderr is UTF-8")
}

fn stdout_json(cmd: &mut Command) -> Value {
    let out = cmd.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).expect("stdout is JSON")
}

#[test]
fn list_shows_every_bundled_catalog() {
    let v = stdout_json(iotmark().args(["catalog", "list", "--json"]));
    let keys: Vec<&str> = v["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"en303645") && keys.contains(&"ir8425") && keys.contains(&"sp800-213a"),
        "{keys:?}"
    );
    let en = v["catalogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "en303645")
        .unwrap();
    assert_eq!(en["classes"]["provision"], 68);
    let text = stdout_text(iotmark().args(["catalog", "list"]));
    assert!(text.contains("en303645") && text.contains("MAPPING"));
    assert!(
        !text.contains('\x1b'),
        "NO_COLOR and a pipe mean no escape codes"
    );
}

#[test]
fn show_a_requirement_by_id_and_by_label() {
    let by_id = stdout_json(iotmark().args(["catalog", "show", "en303645-5.3-13", "--json"]));
    let by_label = stdout_json(iotmark().args(["catalog", "show", "en303645:5.3-13", "--json"]));
    assert_eq!(by_id, by_label);
    assert_eq!(by_id["label"], "5.3-13");
    assert!(
        by_id["statement"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("support period")
    );
    assert!(!by_id["mappings"].as_array().unwrap().is_empty());
    let text = stdout_text(iotmark().args(["catalog", "show", "ir8259a-su-6"]));
    assert!(
        text.contains("SU-6a") && text.contains("Contains"),
        "{text}"
    );
}

#[test]
fn show_a_catalog_overview() {
    let text = stdout_text(iotmark().args(["catalog", "show", "en303645"]));
    assert!(
        text.contains("5.1-1")
            && text.contains("No universal default passwords")
            && text.contains("mandatory"),
        "{text}"
    );
}

#[test]
fn unknown_ids_fail_with_a_hint() {
    let err = stderr_of_failure(iotmark().args(["catalog", "show", "en303645-5.1-99"]));
    assert!(
        err.contains("no catalog or requirement") && err.contains("hint:"),
        "{err}"
    );
    let err =
        stderr_of_failure(iotmark().args(["catalog", "map", "en303645-5.1-1", "--to", "nope"]));
    assert!(err.contains("hint: choose one of"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    iotmark()
        .args(["catalog", "export", "en303645", "--format", "pdf"])
        .assert()
        .code(2);
    iotmark().args(["catalog", "frobnicate"]).assert().code(2);
}

#[test]
fn search_ranks_and_limits() {
    let v = stdout_json(iotmark().args(["catalog", "search", "update", "--limit", "3", "--json"]));
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert!(v["total"].as_u64().unwrap() > 3);
    iotmark()
        .args(["catalog", "search", "qqqqzzzz"])
        .assert()
        .code(1);
}

#[test]
fn map_follows_mappings_through_other_frameworks() {
    let v = stdout_json(iotmark().args(["catalog", "map", "ntia-k3", "--to", "ir8259b", "--json"]));
    let results = v["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let hops = r["hops"].as_array().unwrap();
        assert!(hops.len() >= 2, "ntia-k3 has no direct mapping to ir8259b");
        for hop in hops {
            assert!(
                hop["relationship"].is_string()
                    && hop["provenance"].is_string()
                    && hop["collection"].is_string()
            );
        }
    }
    let text =
        stdout_text(iotmark().args(["catalog", "map", "sp800-213a-su-upd", "--to", "sp800-53"]));
    assert!(text.contains("si-2"), "{text}");
}

#[test]
fn export_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for (format, file) in [
        ("oscal-json", "en.json"),
        ("oscal-yaml", "en.yaml"),
        ("markdown", "en.md"),
        ("csv", "en.csv"),
    ] {
        let path = dir.path().join(file);
        iotmark()
            .args(["catalog", "export", "en303645", "--format", format, "-o"])
            .arg(&path)
            .assert()
            .success();
        assert!(std::fs::metadata(&path).unwrap().len() > 1000, "{format}");
    }
    // The YAML export loads back as the same catalog.
    let yaml = iotmark_oscal::Loader::default()
        .load_catalog(&dir.path().join("en.yaml"))
        .unwrap();
    let json = iotmark_oscal::Loader::default()
        .load_catalog(&dir.path().join("en.json"))
        .unwrap();
    assert_eq!(yaml, json);
    let csv = std::fs::read_to_string(dir.path().join("en.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 68,
        "a header and one row per provision"
    );
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("id,label,class,title")
    );
    let md = std::fs::read_to_string(dir.path().join("en.md")).unwrap();
    assert!(md.starts_with("# ") && md.contains("5.3-13"));
    // Mapping collections export too.
    iotmark()
        .args([
            "catalog",
            "export",
            "ir8259b__en303645",
            "--format",
            "oscal-yaml",
        ])
        .assert()
        .success();
}

#[test]
fn import_validates_and_summarises() {
    let v = stdout_json(iotmark().args(["catalog", "import", "--json"]).arg(nist(
        "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json",
    )));
    assert_eq!(v["model"], "catalog");
    assert_eq!(v["controls"], 370);
    let v = stdout_json(
        iotmark()
            .args(["catalog", "import", "--json", "--map"])
            .arg(format!(
                "#84cbf061-eb87-4ec1-8112-1f529232e907={}",
                nist("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json")
                    .display()
            ))
            .arg(nist("NIST_SP-800-53_rev5_LOW-baseline_profile.json")),
    );
    assert_eq!(v["model"], "profile");
    assert!(v["controls"].as_u64().unwrap() > 100);
}

#[test]
fn import_rejects_bad_files_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"catalog\": {\n    \"uuid\": 12\n  }\n}\n").unwrap();
    let err = stderr_of_failure(iotmark().args(["catalog", "import"]).arg(&bad));
    assert!(err.contains("bad.json:3:"), "{err}");
    assert!(err.contains("schema violation"), "{err}");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "catalog: [\n").unwrap();
    let err = stderr_of_failure(iotmark().args(["catalog", "import"]).arg(&broken));
    assert!(
        err.contains("broken.yaml:") && err.contains("YAML"),
        "{err}"
    );
    let err = stderr_of_failure(
        iotmark()
            .args(["catalog", "import", "--max-bytes", "10"])
            .arg(&bad),
    );
    assert!(err.contains("over the limit"), "{err}");
}

#[test]
fn resolve_writes_a_valid_catalog_and_reports_missing_imports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("low.yaml");
    iotmark()
        .args([
            "catalog",
            "resolve",
            "--format",
            "yaml",
            "--timestamp",
            "2026-01-01T00:00:00Z",
            "-o",
        ])
        .arg(&out)
        .arg("--map")
        .arg(format!(
            "#84cbf061-eb87-4ec1-8112-1f529232e907={}",
            nist("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json").display()
        ))
        .arg(nist("NIST_SP-800-53_rev5_LOW-baseline_profile.json"))
        .assert()
        .success();
    let catalog = iotmark_oscal::Loader::default().load_catalog(&out).unwrap();
    assert!(catalog.control("ac-1").is_some());
    let err = stderr_of_failure(
        iotmark()
            .args(["catalog", "resolve"])
            .arg(nist("NIST_SP-800-53_rev5_LOW-baseline_profile.json")),
    );
    assert!(
        err.contains("cannot be found") && err.contains("--map"),
        "{err}"
    );
}

#[test]
fn landscape_queries() {
    let v = stdout_json(iotmark().args(["landscape", "--json"]));
    assert_eq!(v["application_areas"].as_array().unwrap().len(), 5);
    let text = stdout_text(iotmark().args(["landscape", "network-security"]));
    assert!(text.contains("Example standards"), "{text}");
    iotmark()
        .args(["landscape", "no-such-area"])
        .assert()
        .code(1);
}

#[test]
fn help_has_examples_and_exit_codes() {
    let text = stdout_text(iotmark().arg("--help"));
    assert!(text.contains("Exit codes:") && text.contains("Examples:"));
    let text = stdout_text(iotmark().args(["catalog", "map", "--help"]));
    assert!(text.contains("Examples:"));
}

/// `iotmark … | head` must end quietly when the reader closes the pipe.
#[test]
fn a_closed_pipe_is_not_a_crash() {
    use std::io::Read;
    use std::process::{Command as Std, Stdio};
    // 2 MB of output, far more than a pipe buffers, so the writer does meet the closed pipe.
    let catalog = nist("NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json");
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("iotmark"))
        .args(["catalog", "export", "--format", "oscal-yaml"])
        .arg(&catalog)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}
