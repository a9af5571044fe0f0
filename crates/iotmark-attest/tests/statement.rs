#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::*;
use iotmark_attest::keys::Signer;
use iotmark_attest::statement::{
    BuildError, Party, Predicate, Route, Statement, StatusKind, conformity_schema_text,
    conformity_statement, status_schema_text, status_statement,
};

#[test]
fn a_conformity_statement_carries_product_firmware_scheme_and_assessment() {
    let signer = manufacturer();
    let (statement, _) = signed_conformity(&signer);
    assert_eq!(statement.subject.len(), 1);
    assert_eq!(statement.subject[0].name, "sc200-2.4.1.bin");
    assert_eq!(
        statement.subject[0].digest["sha256"],
        "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a"
    );
    let Predicate::Conformity(p) = &statement.predicate else {
        panic!("not conformity")
    };
    assert_eq!(p.product.id, "acme-securecam-2");
    assert_eq!(p.product.manufacturer, "Acme Devices Ltd");
    assert_eq!(p.product.version, "2.4.1", "the device component's version");
    assert_eq!(p.scheme, "en303645-self-declaration");
    assert_eq!(p.tier, "declared");
    assert_eq!(p.route, Route::Sdoc);
    assert!(p.assessment.conforms);
    assert_eq!(p.assessment.summary.not_applicable, 4);
    assert_eq!(p.assessment.summary.satisfied, 64);
    assert_eq!(p.assessor.key_id, signer.key_id());
    assert_eq!(
        p.support_end.map(|d| d.to_string()).as_deref(),
        Some("2029-12-31")
    );
    assert_eq!(p.valid_until.to_string(), "2029-11-22T10:00:00Z");

    // The payload is an in-toto Statement v1 and parses back to the same value.
    let json: serde_json::Value = serde_json::from_slice(&statement.to_json()).unwrap();
    assert_eq!(json["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        json["predicateType"],
        "https://iotmark.dev/attestation/conformity/v1"
    );
    assert_eq!(Statement::parse(&statement.to_json()).unwrap(), statement);
}

#[test]
fn a_non_conforming_product_is_not_attested() {
    let signer = manufacturer();
    let err = conformity_statement(
        &failing_results(),
        Path::new("ar.json"),
        &declaration(),
        &input(&signer, Route::Sdoc),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::DoesNotConform {
                not_satisfied: 9,
                needs_review: 30,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not conform (25 satisfied, 9 not satisfied, 30 needing review"),
        "{err}"
    );
}

#[test]
fn sdoc_is_refused_where_the_tier_needs_a_lab() {
    let signer = manufacturer();
    let text = String::from_utf8(passing_results()).unwrap().replace(
        "\"value\": \"self-declaration\"",
        "\"value\": \"third-party-testing\"",
    );
    let err = conformity_statement(
        text.as_bytes(),
        Path::new("ar.json"),
        &declaration(),
        &input(&signer, Route::Sdoc),
    )
    .unwrap_err();
    assert!(matches!(err, BuildError::RouteTooWeak { .. }), "{err}");
    assert!(err.to_string().contains("use route `certification`"));
    conformity_statement(
        text.as_bytes(),
        Path::new("ar.json"),
        &declaration(),
        &input(&signer, Route::Certification),
    )
    .unwrap();
}

#[test]
fn results_for_another_product_or_another_model_are_refused() {
    let signer = manufacturer();
    let text = String::from_utf8(passing_results())
        .unwrap()
        .replace("\"acme-securecam-2\"", "\"other-cam\"");
    let err = conformity_statement(
        text.as_bytes(),
        Path::new("ar.json"),
        &declaration(),
        &input(&signer, Route::Sdoc),
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "ar.json: the results are for product \"other-cam\", the declaration is for \"acme-securecam-2\""
    );

    let catalog = br#"{"catalog":{"uuid":"5c0c7e8a-6f0a-4b0e-9f5e-1d2c3b4a5f60","metadata":{"title":"t","last-modified":"2026-01-01T00:00:00Z","version":"1","oscal-version":"1.2.1"}}}"#;
    let err = conformity_statement(
        catalog,
        Path::new("c.json"),
        &declaration(),
        &input(&signer, Route::Sdoc),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("is an OSCAL catalog, expected assessment-results"),
        "{err}"
    );
}

#[test]
fn a_declaration_without_firmware_cannot_be_attested() {
    let signer = manufacturer();
    let mut decl = declaration();
    for c in &mut decl.components {
        c.firmware.clear();
    }
    let err = conformity_statement(
        &passing_results(),
        Path::new("ar.json"),
        &decl,
        &input(&signer, Route::Sdoc),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("the declaration lists no firmware image"),
        "{err}"
    );
}

#[test]
fn a_status_statement_refers_to_the_envelope_it_changes() {
    let signer = manufacturer();
    let (statement, envelope) = signed_conformity(&signer);
    let status = status_statement(
        envelope.as_bytes(),
        statement.subject.clone(),
        StatusKind::Revocation,
        "telnet found enabled in shipped units",
        ts("2027-01-01T00:00:00Z"),
        ts("2026-12-20T00:00:00Z"),
        Party {
            organisation: "Acme Devices Ltd".into(),
            key_id: signer.key_id(),
        },
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&status.to_json()).unwrap();
    assert_eq!(
        json["predicateType"],
        "https://iotmark.dev/attestation/status/v1"
    );
    assert_eq!(json["predicate"]["status"], "revocation");
    assert_eq!(
        json["predicate"]["refers_to"]["envelope_sha256"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(Statement::parse(&status.to_json()).unwrap(), status);
}

fn parse_err(v: &serde_json::Value) -> String {
    Statement::parse(v.to_string().as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_statements_name_the_field() {
    let signer = manufacturer();
    let (statement, _) = signed_conformity(&signer);
    let good: serde_json::Value = serde_json::from_slice(&statement.to_json()).unwrap();
    let with = |pointer: &str, value: serde_json::Value| {
        let mut v = good.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        v
    };
    assert_eq!(
        parse_err(&with("/_type", "https://in-toto.io/Statement/v0.1".into())),
        "statement `_type`: is \"https://in-toto.io/Statement/v0.1\", expected \"https://in-toto.io/Statement/v1\""
    );
    assert!(parse_err(&with("/predicateType", "https://slsa.dev/provenance/v1".into()))
        .starts_with("statement `predicateType`: \"https://slsa.dev/provenance/v1\" is not an iotmark predicate type"));
    assert_eq!(
        parse_err(&with("/subject/0/digest/sha256", "ABC".into())),
        "statement `subject[0].digest.sha256`: \"ABC\" is not a SHA-256 digest (64 lower-case hexadecimal digits)"
    );
    assert_eq!(
        parse_err(&with(
            "/subject/0/digest",
            serde_json::json!({"sha512": "00"})
        )),
        "statement `subject[0].digest`: has no `sha256`; subjects are matched by SHA-256"
    );
    assert_eq!(
        parse_err(&with("/subject", serde_json::json!([]))),
        "statement `subject`: is empty; at least one firmware image is needed"
    );
    assert_eq!(
        parse_err(&with("/predicate/issued", "22/11/2026".into())),
        "statement `predicate.issued`: \"22/11/2026\" is not an RFC 3339 timestamp such as 2026-11-22T10:00:00Z"
    );
    assert_eq!(
        parse_err(&with(
            "/predicate/valid_until",
            "2026-01-01T00:00:00Z".into()
        )),
        "statement `predicate.valid_until`: 2026-01-01T00:00:00Z is not after `issued` 2026-11-22T10:00:00Z"
    );
    assert_eq!(
        parse_err(&with("/predicate/support_end", "2029-12".into())),
        "statement `predicate.support_end`: \"2029-12\" is not a date in the form YYYY-MM-DD"
    );
    assert!(
        parse_err(&with("/predicate/route", "self".into()))
            .contains("unknown variant `self`, expected `sdoc` or `certification`")
    );
    let mut extra = good.clone();
    extra["predicate"]["colour"] = "red".into();
    assert!(
        parse_err(&extra).contains("statement `predicate.colour`: unknown field `colour`"),
        "{}",
        parse_err(&extra)
    );
    let mut extra = good.clone();
    extra["subject"][0]["uri"] = "https://x".into();
    assert!(parse_err(&extra).contains("unknown field `uri`"));
    assert!(
        Statement::parse(b"[]")
            .unwrap_err()
            .to_string()
            .contains("not an in-toto Statement")
    );
}

/// The predicate schemas are generated from the types; the committed copies must match.
#[test]
fn committed_predicate_schemas_are_current() {
    for (file, text) in [
        (
            "attestation-conformity-v1.schema.json",
            conformity_schema_text(),
        ),
        ("attestation-status-v1.schema.json", status_schema_text()),
    ] {
        let path = repo().join("schemas").join(file);
        if std::env::var_os("IOTMARK_WRITE_SCHEMAS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "schemas/{file} is stale; regenerate with `IOTMARK_WRITE_SCHEMAS=1 cargo test -p iotmark-attest --test statement`"
        );
    }
}

/// Our statements validate against the committed schemas (checked with the jsonschema crate).
#[test]
fn statements_validate_against_the_committed_schemas() {
    let signer = manufacturer();
    let (statement, envelope) = signed_conformity(&signer);
    let status = status_statement(
        envelope.as_bytes(),
        statement.subject.clone(),
        StatusKind::Suspension,
        "under investigation",
        ts("2027-01-01T00:00:00Z"),
        ts("2026-12-20T00:00:00Z"),
        Party {
            organisation: "Acme".into(),
            key_id: signer.key_id(),
        },
    )
    .unwrap();
    for (schema, st) in [
        (conformity_schema_text(), &statement),
        (status_schema_text(), &status),
    ] {
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&st.to_json()).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json["predicate"])
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        let mut bad = json["predicate"].clone();
        bad["unexpected"] = 1.into();
        assert!(
            !validator.is_valid(&bad),
            "the schema denies unknown fields"
        );
    }
}
