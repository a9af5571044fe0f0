//! DSSE interop with an implementation we did not write: securesystemslib 1.6 (and in-toto
//! 3.1's loader) verify our envelopes, and we verify theirs. Needs the venv that
//! `bash scripts/interop-dsse.sh` installs into target/tools/securesystemslib; without it
//! these tests fail and say so.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use iotmark_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use iotmark_attest::keys::{PublicKey, Signer};
use iotmark_attest::verify::{Trust, Validity, verify};

fn python() -> PathBuf {
    let venv = std::env::var_os("IOTMARK_SSLIB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/tools/securesystemslib"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "securesystemslib is not installed at {}: run `bash scripts/interop-dsse.sh --install` first",
        venv.display()
    );
    python
}

fn run(args: &[&std::ffi::OsStr]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/sslib_dsse.py");
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn securesystemslib_and_in_toto_verify_our_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let signer = manufacturer();
    let (_, envelope) = signed_conformity(&signer);
    let env_path = dir.path().join("attestation.dsse.json");
    let pem_path = dir.path().join("acme.pub");
    std::fs::write(&env_path, &envelope).unwrap();
    std::fs::write(&pem_path, signer.public_key().to_spki_pem().unwrap()).unwrap();
    let out = run(&[
        "verify".as_ref(),
        env_path.as_os_str(),
        pem_path.as_os_str(),
        signer.key_id().as_ref(),
    ]);
    assert!(
        out.contains(&format!(
            "securesystemslib: signature by {} verified",
            signer.key_id()
        )),
        "{out}"
    );
    assert!(out.contains("in-toto: envelope verified"), "{out}");
    assert!(
        out.contains("statement: https://iotmark.dev/attestation/conformity/v1 with 1 subject(s)"),
        "{out}"
    );

    // And a tampered one is rejected by them too.
    let mut v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
    v["payloadType"] = "application/vnd.in-toto+jsom".into();
    std::fs::write(&env_path, v.to_string()).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/sslib_dsse.py");
    let status = Command::new(python())
        .arg(script)
        .args([
            "verify".as_ref(),
            env_path.as_os_str(),
            pem_path.as_os_str(),
            signer.key_id().as_ref(),
        ])
        .output()
        .unwrap();
    assert!(
        !status.status.success(),
        "securesystemslib accepted a tampered envelope"
    );
}

#[test]
fn we_verify_an_attestation_securesystemslib_signed_with_our_key_file() {
    // Python reads our PKCS#8 key file, signs our statement; we verify the result fully.
    let dir = tempfile::tempdir().unwrap();
    let signer = manufacturer();
    let (statement, _) = signed_conformity(&signer);
    let key_path = dir.path().join("acme.key");
    let payload_path = dir.path().join("statement.json");
    let out_path = dir.path().join("envelope.json");
    std::fs::write(&key_path, signer.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(&payload_path, statement.to_json()).unwrap();
    run(&[
        "sign".as_ref(),
        key_path.as_os_str(),
        payload_path.as_os_str(),
        out_path.as_os_str(),
    ]);

    let bytes = std::fs::read(&out_path).unwrap();
    let verdict = verify(
        &bytes,
        Trust::Key(&signer.public_key()),
        ts("2027-01-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(verdict.validity, Validity::Valid);
    assert!(
        verdict
            .to_string()
            .contains("SecureCam 2 (SC-200), version 2.4.1: conforms")
    );
    // Their keyid is their own (a hash of their key JSON), not ours: only a hint.
    let env = Envelope::parse(&bytes).unwrap();
    assert_ne!(env.signatures[0].keyid, signer.key_id());
}

#[test]
fn we_verify_an_envelope_securesystemslib_made_with_its_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let payload_path = dir.path().join("payload.json");
    std::fs::write(&payload_path, br#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"x","predicate":{}}"#).unwrap();
    run(&[
        "generate-and-sign".as_ref(),
        payload_path.as_os_str(),
        dir.path().as_os_str(),
    ]);
    let key = PublicKey::load(&dir.path().join("public.pem")).unwrap();
    let env = Envelope::parse(&std::fs::read(dir.path().join("envelope.json")).unwrap()).unwrap();
    env.expect_payload_type(IN_TOTO_PAYLOAD_TYPE).unwrap();
    let (_, payload) = env.verify(&key).unwrap();
    assert_eq!(payload, std::fs::read(&payload_path).unwrap());
    // Someone else's key does not verify it.
    assert!(env.verify(&manufacturer().public_key()).is_err());
}
