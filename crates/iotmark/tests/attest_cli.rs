//! `iotmark key generate` and `iotmark verify` as a user runs them: a key made by the CLI
//! signs the example product's conformity attestation (built by the attestation library
//! from `assess` results), and `verify` says whether it is valid now, at a later time, with
//! another key, and after tampering.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use iotmark_attest::keys::FileSigner;
use iotmark_attest::statement::{ConformityInput, Route, conformity_statement};

fn iotmark() -> Command {
    Command::cargo_bin("iotmark").unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example's assessment results with every gap fixed (as the attestation library's
/// own tests derive them), so the product conforms and may be attested.
fn passing_results() -> Vec<u8> {
    let path =
        repo().join("crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let result = &mut v["assessment-results"]["results"][0];
    result["description"] = "Verdict: conforms.".into();
    for f in result["findings"].as_array_mut().unwrap() {
        if f["props"][0]["value"] != "not-applicable" {
            f["props"][0]["value"] = "satisfied".into();
            f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

fn sign_example(key: &Path) -> String {
    let signer = FileSigner::load(key).unwrap();
    let path = repo().join("examples/acme-securecam/declaration.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let declaration =
        iotmark_declare::check(&path, &bytes, &|_| true, jiff::civil::date(2026, 11, 22))
            .declaration
            .unwrap();
    let input = ConformityInput {
        route: Route::Sdoc,
        profile: Some("etsi-en-303-645".into()),
        organisation: "Acme Devices Ltd".into(),
        key_id: iotmark_attest::keys::Signer::key_id(&signer),
        issued: "2026-11-22T10:00:00Z".parse().unwrap(),
        valid_until: "2029-11-22T10:00:00Z".parse().unwrap(),
    };
    let statement = conformity_statement(
        &passing_results(),
        Path::new("assessment-results.json"),
        &declaration,
        &input,
    )
    .unwrap();
    iotmark_attest::sign_statement(&statement, &signer)
        .unwrap()
        .to_json()
}

#[test]
fn a_generated_key_signs_and_verify_says_what_is_attested() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("acme");
    let out = iotmark()
        .args(["key", "generate", "acme.example", "--json", "--out"])
        .arg(&stem)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        made["verifier_key"]
            .as_str()
            .unwrap()
            .starts_with("acme.example+")
    );
    let key = dir.path().join("acme.key");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o600,
        "the private key must be readable by its owner only"
    );
    // Never overwritten.
    iotmark()
        .args(["key", "generate", "acme.example", "--out"])
        .arg(&stem)
        .assert()
        .failure();

    let envelope = dir.path().join("securecam.dsse.json");
    std::fs::write(&envelope, sign_example(&key)).unwrap();

    // Valid now, with the public key or the verifier key.
    for public in ["acme.pub", "acme.vkey"] {
        let out = iotmark()
            .arg("verify")
            .arg(&envelope)
            .arg("--key")
            .arg(dir.path().join(public))
            .args(["--at", "2027-01-01T00:00:00Z"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("valid"), "{text}");
        assert!(text.contains("Acme Devices Ltd"), "{text}");
    }

    // After its validity: signed, but not valid now (exit 3), still saying what it was.
    let out = iotmark()
        .arg("verify")
        .arg(&envelope)
        .arg("--key")
        .arg(dir.path().join("acme.pub"))
        .args(["--at", "2030-01-01T00:00:00Z", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        verdict["invalid_because"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{verdict}"
    );

    // Another key: not verifiable (exit 1), with the reason.
    iotmark()
        .args(["key", "generate", "mallory.example", "--out"])
        .arg(dir.path().join("mallory"))
        .assert()
        .success();
    let out = iotmark()
        .arg("verify")
        .arg(&envelope)
        .arg("--key")
        .arg(dir.path().join("mallory.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());

    // One changed byte in the payload: refused.
    let mut env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&envelope).unwrap()).unwrap();
    let payload = env["payload"].as_str().unwrap().to_owned();
    let flipped: String = payload
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i == 40 {
                if c == 'A' { 'B' } else { 'A' }
            } else {
                c
            }
        })
        .collect();
    env["payload"] = flipped.into();
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, env.to_string()).unwrap();
    let out = iotmark()
        .arg("verify")
        .arg(&tampered)
        .arg("--key")
        .arg(dir.path().join("acme.pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
