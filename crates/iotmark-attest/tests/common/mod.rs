//! Fixtures shared by the integration tests: the example product's declaration and its
//! assessment results (as `iotmark assess` wrote them for examples/acme-securecam), and a
//! conforming variant of those results.
#![allow(dead_code, clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{ConformityInput, Route, Statement, conformity_statement};
use iotmark_declare::Declaration;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn declaration() -> Declaration {
    let path = repo().join("examples/acme-securecam/declaration.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let report = iotmark_declare::check(&path, &bytes, &|_| true, jiff::civil::date(2026, 11, 22));
    report.declaration.unwrap()
}

/// The example's results as written: the product does not conform.
pub fn failing_results() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/securecam-en303645.assessment-results.json"),
    )
    .unwrap()
}

/// The same results with every finding satisfied (as after fixing the gaps), except two
/// not-applicable ones, and the verdict line saying so.
pub fn passing_results() -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&failing_results()).unwrap();
    let result = &mut v["assessment-results"]["results"][0];
    result["description"] = "Verdict: conforms.".into();
    for f in result["findings"].as_array_mut().unwrap() {
        let status = f["props"][0]["value"].as_str().unwrap().to_owned();
        if status != "not-applicable" {
            f["props"][0]["value"] = "satisfied".into();
            f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

pub fn input(signer: &dyn Signer, route: Route) -> ConformityInput {
    ConformityInput {
        sbom_sha256: None,
        route,
        profile: Some("etsi-en-303-645".into()),
        organisation: "Acme Devices Ltd".into(),
        key_id: signer.key_id(),
        issued: ts("2026-11-22T10:00:00Z"),
        valid_until: ts("2029-11-22T10:00:00Z"),
    }
}

pub fn manufacturer() -> FileSigner {
    FileSigner::from_seed(&[42u8; 32])
}

/// A signed conformity attestation of the example (after its gaps were fixed).
pub fn signed_conformity(signer: &FileSigner) -> (Statement, String) {
    let statement = conformity_statement(
        &passing_results(),
        Path::new("assessment-results.json"),
        &declaration(),
        &input(signer, Route::Sdoc),
    )
    .unwrap();
    let env = iotmark_attest::sign_statement(&statement, signer).unwrap();
    (statement, env.to_json())
}
