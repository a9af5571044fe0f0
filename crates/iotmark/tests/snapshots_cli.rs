//! What a user reads, pinned: the human-readable output and exit code of the main commands,
//! run as a user runs them. Paths, times, digests, key IDs and durations are replaced by
//! placeholders, so a snapshot changes only when the words or their layout do.
//!
//! Review a change with `cargo insta review`, or accept it with
//! `INSTA_UPDATE=always cargo test -p iotmark --test snapshots_cli` and read the diff.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;
use std::process::Command;

use common::{passing_results, repo};

/// A run of `iotmark` with `args`, as one text: the exit code, then standard output and
/// standard error.
fn run(args: &[&str], cwd: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_iotmark"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string()),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Settings that replace what differs between runs and machines.
fn settings(tmp: &Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path("snapshots");
    s.set_prepend_module_to_snapshot(false);
    let tmp = tmp.canonicalize().unwrap();
    let repo = repo().canonicalize().unwrap();
    let filters: Vec<(String, &str)> = vec![
        (regex_escape(&tmp.display().to_string()), "[TMP]"),
        (regex_escape(&repo.display().to_string()), "[REPO]"),
        (r"\b[0-9a-f]{64}\b".to_owned(), "[SHA256]"),
        (r"\b[0-9a-f]{16,63}\b".to_owned(), "[HEX]"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})".to_owned(),
            "[TIME]",
        ),
        (r"\b\d+(\.\d+)? ?(ms|s|µs)\b".to_owned(), "[DURATION]"),
        (r"[A-Za-z0-9+/]{40,}={0,2}".to_owned(), "[BASE64]"),
    ];
    for (pattern, replacement) in &filters {
        s.add_filter(pattern, *replacement);
    }
    s
}

fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[test]
fn catalog_show_and_map() {
    let tmp = tempfile::tempdir().unwrap();
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!(
            "catalog_show",
            run(&["catalog", "show", "en303645-5.3-13"], tmp.path())
        );
        insta::assert_snapshot!(
            "catalog_map",
            run(
                &["catalog", "map", "en303645-5.1-1", "--to", "ir8425"],
                tmp.path()
            )
        );
        insta::assert_snapshot!(
            "catalog_show_unknown",
            run(&["catalog", "show", "en303645-9.9-9"], tmp.path())
        );
    });
}

#[test]
fn check_reports_every_problem_with_its_place() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("product.yaml");
    std::fs::write(
        &bad,
        // An unknown key holding ESC and BEL: echoed as escapes, never raw.
        "schema_version: 1\nproduct:\n  id: Bad_ID\n  \"nm\\e[2J\\aae\": Camera\n  manufacturer:\n    name: Acme\n",
    )
    .unwrap();
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!("check_errors", run(&["check", "product.yaml"], tmp.path()));
        insta::assert_snapshot!(
            "check_missing_file",
            run(&["check", "nowhere.yaml"], tmp.path())
        );
    });
}

#[test]
fn scan_a_small_image() {
    let tmp = tempfile::tempdir().unwrap();
    common::telnet_image(tmp.path(), &[("etc/shadow", "root::19000:0:99999:7:::\n")]);
    settings(tmp.path()).bind(|| {
        insta::assert_snapshot!("scan", run(&["scan", "fw.sqfs"], tmp.path()));
    });
}

#[test]
fn assess_attest_verify_and_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let example = repo().join("examples/acme-securecam");
    std::fs::write(dir.join("results.json"), passing_results()).unwrap();
    let declaration = example.join("declaration.yaml");
    let evidence = example.join("evidence");
    let declaration = declaration.to_str().unwrap();
    settings(dir).bind(|| {
        insta::assert_snapshot!(
            "assess",
            run(
                &[
                    "assess",
                    declaration,
                    "--evidence",
                    evidence.to_str().unwrap(),
                    "--scheme",
                    "en303645-self-declaration",
                    "--out",
                    "report",
                ],
                dir
            )
        );
        run(&["key", "generate", "acme.example", "--out", "acme"], dir);
        run(&["key", "generate", "log.example", "--out", "log"], dir);
        insta::assert_snapshot!(
            "attest",
            run(
                &[
                    "attest",
                    "--results",
                    "results.json",
                    "--declaration",
                    declaration,
                    "--route",
                    "sdoc",
                    "--key",
                    "acme.key",
                    "-o",
                    "camera.dsse.json",
                ],
                dir
            )
        );
        insta::assert_snapshot!(
            "verify",
            run(&["verify", "camera.dsse.json", "--key", "acme.pub"], dir)
        );
        insta::assert_snapshot!(
            "verify_wrong_key",
            run(&["verify", "camera.dsse.json", "--key", "log.pub"], dir)
        );
        insta::assert_snapshot!(
            "log_append",
            run(
                &[
                    "log",
                    "append",
                    "tlog",
                    "camera.dsse.json",
                    "--key",
                    "log.key",
                    "--signer",
                    "acme.pub",
                    "--receipts",
                    "receipts",
                ],
                dir
            )
        );
        insta::assert_snapshot!(
            "log_audit",
            run(&["log", "audit", "tlog", "--log-key", "log.vkey"], dir)
        );
    });
}
