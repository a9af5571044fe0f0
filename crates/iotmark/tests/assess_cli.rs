//! `iotmark init`, `check` and `assess` as a user runs them: exit codes, reports written, and
//! the example product's report kept as an expected output.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn iotmark() -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme-securecam")
}

fn assess_example(scheme: &str, out: Option<&Path>) -> assert_cmd::assert::Assert {
    let mut cmd = iotmark();
    cmd.current_dir(example()).args([
        "assess",
        "declaration.yaml",
        "--evidence",
        "evidence",
        "--date",
        "2026-11-22",
        "--scheme",
        scheme,
    ]);
    if let Some(out) = out {
        cmd.arg("--out").arg(out);
    }
    cmd.assert()
}

#[test]
fn init_then_check_then_assess() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("product.yaml");
    iotmark()
        .args([
            "init",
            "--id",
            "acme-plug",
            "--name",
            "Plug",
            "--manufacturer",
            "Acme",
            "--model",
            "P1",
            "--category",
            "plug",
            "--support-end",
            "2031-01-01",
            "-o",
        ])
        .arg(&file)
        .assert()
        .success();
    iotmark()
        .arg("check")
        .arg(&file)
        .args(["--date", "2026-11-22"])
        .assert()
        .success();
    // init never overwrites.
    iotmark().arg("init").arg("-o").arg(&file).assert().code(1);
    // A fresh declaration has open questions but no declared failures: undetermined (4).
    iotmark()
        .arg("assess")
        .arg(&file)
        .args([
            "--scheme",
            "en303645-self-declaration",
            "--date",
            "2026-11-22",
        ])
        .assert()
        .code(4);
}

#[test]
fn check_reports_located_errors_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example().join("declaration.yaml"))
        .unwrap()
        .replace("  category: camera", "  category: camra");
    let file = dir.path().join("bad.yaml");
    std::fs::write(&file, &text).unwrap();
    let out = iotmark()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    let line = text.lines().position(|l| l.contains("camra")).unwrap() + 1;
    assert!(
        err.contains(&format!("bad.yaml:{line}:")) && err.contains("did you mean `camera`?"),
        "{err}"
    );
    let out = iotmark()
        .arg("check")
        .arg(&file)
        .arg("--json")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["diagnostics"][0]["line"], line);
    // assess refuses an invalid declaration with the same diagnostics.
    iotmark()
        .arg("assess")
        .arg(&file)
        .args(["--scheme", "eu-cra"])
        .assert()
        .code(1);
}

#[test]
fn the_example_does_not_conform_and_says_why() {
    let out = assess_example("en303645-self-declaration", None)
        .code(3)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("DOES NOT CONFORM"), "{text}");
    assert!(
        text.contains("5.6-4") && text.contains("fix:"),
        "the enabled UART is a gap with a fix:\n{text}"
    );
    // Under the CRA, the short support period is an unmet obligation.
    let out = assess_example("eu-cra", None)
        .code(3)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("at least 5 year(s)"), "{text}");
    assert!(text.contains("Important product, class I"), "{text}");
}

#[test]
fn every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    assess_example("us-cyber-trust-mark", Some(dir.path())).code(3);
    for name in [
        "report.html",
        "report.md",
        "results.sarif",
        "assessment-results.json",
        "assessment-plan.json",
        "component-definition.json",
        "assessment.json",
    ] {
        assert!(
            dir.path().join(name).metadata().unwrap().len() > 200,
            "{name}"
        );
    }
    for (file, kind) in [
        (
            "assessment-results.json",
            iotmark_oscal::ModelKind::AssessmentResults,
        ),
        (
            "assessment-plan.json",
            iotmark_oscal::ModelKind::AssessmentPlan,
        ),
        (
            "component-definition.json",
            iotmark_oscal::ModelKind::ComponentDefinition,
        ),
    ] {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(file)).unwrap()).unwrap();
        let violations = iotmark_oscal::validate_value(kind, &v);
        assert!(violations.is_empty(), "{file}: {violations:?}");
    }
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("results.sarif")).unwrap()).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["level"] == "error"));
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "declaration.yaml"
    ));
}

/// The committed expected report is what the example produces today: if the engine, a rule or
/// a scheme changes a verdict, this test shows the difference and the report is regenerated
/// on purpose (`bash examples/acme-securecam/regenerate.sh`).
#[test]
fn the_example_report_matches_the_expected_one() {
    let dir = tempfile::tempdir().unwrap();
    assess_example("en303645-self-declaration", Some(dir.path())).code(3);
    let got = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let expected =
        std::fs::read_to_string(example().join("expected/en303645-self-declaration.md")).unwrap();
    if got != expected {
        let first = got
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "the example's report changed at line {}:\n  expected: {}\n  got:      {}\nregenerate with `bash examples/acme-securecam/regenerate.sh` if the change is intended",
            first + 1,
            expected.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

#[test]
fn schemes_are_listed_and_shown() {
    let out = iotmark()
        .args(["scheme", "list", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for id in [
        "us-cyber-trust-mark",
        "en303645-self-declaration",
        "sg-cls",
        "eu-cra",
        "us-federal-sp800-213",
        "de-bsi-it-security-label",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let out = iotmark()
        .args(["scheme", "show", "sg-cls"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("third-party-testing-with-penetration-testing")
    );
    let err = iotmark()
        .args(["assess", "x.yaml", "--scheme", "nope"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(!err.is_empty());
}

/// The fixed example (firmware 2.5.0 with the gaps closed) is the counterpart of the one above:
/// run from the project root as a user would, it must conform with every mandatory provision
/// met, and its report must stay the committed one
/// (`bash examples/acme-securecam-fixed/regenerate.sh` after an intended change).
#[test]
fn the_fixed_example_conforms_and_its_report_matches_the_expected_one() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixed = Path::new("examples/acme-securecam-fixed");
    let dir = tempfile::tempdir().unwrap();
    let out = iotmark()
        .current_dir(&root)
        .arg("assess")
        .arg(fixed.join("declaration.yaml"))
        .arg("--evidence")
        .arg(fixed.join("evidence"))
        .args([
            "--scheme",
            "en303645-self-declaration",
            "--date",
            "2026-11-22",
            "--json",
            "--out",
        ])
        .arg(dir.path())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["verdict"], "conforms", "{v}");
    let findings = v["assessment"]["findings"].as_array().unwrap();
    let open: Vec<&str> = findings
        .iter()
        .filter(|f| {
            f["mandatory"] == true
                && matches!(f["status"].as_str(), Some("not-satisfied" | "needs-review"))
        })
        .map(|f| f["requirement"].as_str().unwrap())
        .collect();
    assert!(open.is_empty(), "mandatory provisions still open: {open:?}");
    assert!(
        v["assessment"]["ignored_evidence"]
            .as_array()
            .unwrap()
            .is_empty(),
        "every record is about the declared 2.5.0 image: {}",
        v["assessment"]["ignored_evidence"]
    );
    // The scan bound to the new image is counted, and has no telnet finding left.
    let cited: Vec<&str> = findings
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap())
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(
        cited.iter().any(|id| id.starts_with("fw-cefec6cad374-")),
        "{cited:?}"
    );
    assert!(!cited.iter().any(|id| id.contains("telnet")), "{cited:?}");

    let got = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let expected = std::fs::read_to_string(
        root.join(fixed)
            .join("expected/en303645-self-declaration.md"),
    )
    .unwrap();
    if got != expected {
        let first = got
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "the fixed example's report changed at line {}:\n  expected: {}\n  got:      {}\nregenerate with `bash examples/acme-securecam-fixed/regenerate.sh` if the change is intended",
            first + 1,
            expected.lines().nth(first).unwrap_or(""),
            got.lines().nth(first).unwrap_or("")
        );
    }
}

/// A declaration with raw control characters (a terminal title sequence ended by BEL, and a
/// screen clear in its file name): `check` shows them as visible escapes, in the snippet,
/// the message and the path, and sends none of them to the terminal; so does the error
/// printed for a file that cannot be read.
#[test]
fn check_escapes_control_characters_from_the_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(example().join("declaration.yaml"))
        .unwrap()
        .replace("  category: camera", "  category: camera\x1b]0;pwned\x07");
    let file = dir.path().join("decl\x1b[2J.yaml");
    std::fs::write(&file, &text).unwrap();
    let out = iotmark().arg("check").arg(&file).assert().code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        !err.contains(['\x1b', '\x07']),
        "raw control characters reach the terminal: {err:?}"
    );
    assert!(err.contains("camera\\u{1b}]0;pwned\\u{7}"), "{err}");
    assert!(err.contains("decl\\u{1b}[2J.yaml"), "{err}");

    let out = iotmark()
        .arg("check")
        .arg(dir.path().join("gone\x1b[2J.yaml"))
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("cannot read") && !err.contains('\x1b'),
        "{err:?}"
    );
}

/// An endless input (here /dev/zero) is refused after the size limit: `check` reads no
/// more than the limit and a byte, and its hint names no `--max-bytes` flag, which `check`
/// does not have.
#[test]
fn check_refuses_an_oversized_declaration_without_reading_it_whole() {
    let out = iotmark()
        .args(["check", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let err = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        err.contains("the file is larger than 4 MiB, the most a declaration may be"),
        "{err}"
    );
    assert!(!err.contains("--max-bytes"), "{err}");
}
