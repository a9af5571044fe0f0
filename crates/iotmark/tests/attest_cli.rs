//! `iotmark key generate` and `iotmark verify` as a user runs them: a key made by the CLI
//! signs the example product's conformity attestation (built by the attestation library
//! from `assess` results), and `verify` says whether it is valid now, at a later time, with
//! another key, and after tampering.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use assert_cmd::Command;
use common::{passing_results, repo};
use iotmark_attest::keys::FileSigner;
use iotmark_attest::statement::{ConformityInput, Route, conformity_statement};

fn iotmark() -> Command {
    Command::cargo_bin("iotmark").unwrap()
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
        sbom_sha256: None,
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

/// Runs the CLI and returns (exit code, stdout, stderr).
fn run(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = iotmark().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn generate(dir: &Path, name: &str, stem: &str) -> String {
    let (code, out, err) = run(&[
        os("key"),
        os("generate"),
        os(name),
        os("--json"),
        os("--out"),
        dir.join(stem).as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    made["key_id"].as_str().unwrap().to_owned()
}

#[test]
fn attest_signs_what_assess_found_with_the_schemes_validity_and_status_changes_apply() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let acme_id = generate(d, "acme.example", "acme");
    let lab_id = generate(d, "lab.example", "lab");
    let results = d.join("assessment-results.json");
    std::fs::write(&results, passing_results()).unwrap();
    let declaration = repo().join("examples/acme-securecam/declaration.yaml");
    let scheme: serde_json::Value = serde_json::from_slice(
        &iotmark()
            .args(["scheme", "show", "en303645-self-declaration", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let months = scheme["validity_months"].as_i64().unwrap();

    // The manufacturer's declaration: validity and profile from the scheme, key from the file.
    let decl = d.join("decl.dsse.json");
    let attest = |route: &str, key: &str, out: &Path, extra: &[&str]| {
        let mut args = vec![
            os("attest"),
            os("--results"),
            results.as_os_str(),
            os("--declaration"),
            declaration.as_os_str(),
            os("--route"),
            os(route),
            os("--key"),
        ];
        let key = d.join(key);
        args.push(key.as_os_str());
        args.extend([
            os("--issued"),
            os("2026-11-22T10:00:00Z"),
            os("--json"),
            os("-o"),
        ]);
        args.push(out.as_os_str());
        args.extend(extra.iter().map(os));
        run(&args)
    };
    let (code, out, err) = attest("sdoc", "acme.key", &decl, &[]);
    assert_eq!(code, 0, "{err}");
    let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let predicate = &signed["statement"]["predicate"];
    let expected_until = "2026-11-22T10:00:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().months(months))
        .unwrap()
        .timestamp()
        .to_string();
    assert_eq!(predicate["valid_until"], expected_until.as_str());
    assert_eq!(predicate["profile"], scheme["catalog"]);
    assert_eq!(predicate["scheme"], "en303645-self-declaration");
    assert_eq!(predicate["route"], "sdoc");
    assert_eq!(predicate["assessor"]["organisation"], "Acme Devices Ltd");
    assert_eq!(predicate["assessor"]["key_id"], acme_id.as_str());
    let declared = std::fs::read_to_string(&declaration).unwrap();
    let image_digest = signed["statement"]["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap();
    assert!(
        declared.contains(image_digest),
        "the subject must be the declared firmware image"
    );
    let (code, text, err) = run(&[
        os("verify"),
        decl.as_os_str(),
        os("--key"),
        d.join("acme.pub").as_os_str(),
        os("--at"),
        os("2027-01-01T00:00:00Z"),
    ]);
    assert_eq!(code, 0, "{text}{err}");

    // Never overwritten by accident.
    let (code, _, err) = attest("sdoc", "acme.key", &decl, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("--force"), "{err}");

    // A certification names the certification body, which must be given.
    let cert = d.join("cert.dsse.json");
    let (code, _, err) = attest("certification", "lab.key", &cert, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("--organisation"), "{err}");
    assert!(!cert.exists());
    let (code, out, err) = attest(
        "certification",
        "lab.key",
        &cert,
        &["--organisation", "Example Test Lab"],
    );
    assert_eq!(code, 0, "{err}");
    let signed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        signed["statement"]["predicate"]["assessor"]["key_id"],
        lab_id.as_str()
    );

    // The results as assessed (gaps left): refused, nothing written.
    let failing = d.join("failing.json");
    std::fs::copy(
        repo().join("crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json"),
        &failing,
    )
    .unwrap();
    let refused = d.join("refused.dsse.json");
    let (code, _, err) = run(&[
        os("attest"),
        os("--results"),
        failing.as_os_str(),
        os("--declaration"),
        declaration.as_os_str(),
        os("--route"),
        os("sdoc"),
        os("--key"),
        d.join("acme.key").as_os_str(),
        os("-o"),
        refused.as_os_str(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("does not conform"), "{err}");
    assert!(!refused.exists());

    // The lab revokes its certificate from mid-2027: valid before, revoked (exit 3) after.
    let (code, out, err) = run(&[
        os("attest"),
        os("status"),
        cert.as_os_str(),
        os("--set"),
        os("revocation"),
        os("--reason"),
        os("the vendor shipped an unassessed update"),
        os("--effective"),
        os("2027-06-01T00:00:00Z"),
        os("--key"),
        d.join("lab.key").as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("revocation"), "{out}");
    let revocation = d.join("cert.revocation.dsse.json");
    assert!(revocation.exists());
    let verify_at = |at: &str| {
        run(&[
            os("verify"),
            cert.as_os_str(),
            os("--key"),
            d.join("lab.pub").as_os_str(),
            os("--status"),
            revocation.as_os_str(),
            os("--at"),
            os(at),
            os("--json"),
        ])
    };
    let (code, _, err) = verify_at("2027-01-01T00:00:00Z");
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = verify_at("2027-07-01T00:00:00Z");
    assert_eq!(code, 3, "{out}");
    let verdict: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        verdict["invalid_because"]
            .as_str()
            .unwrap()
            .contains("revoked"),
        "{verdict}"
    );
}
