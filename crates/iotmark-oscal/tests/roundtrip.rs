//! NIST's own OSCAL files load through the typed model and come back out without losing or
//! changing anything, in JSON and through YAML.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use iotmark_oscal::{Document, Format, Loader, ModelKind, write_json, write_yaml};
use serde_json::Value;

#[test]
fn nist_files_round_trip_through_json_without_loss() {
    for file in common::NIST_FILES {
        let path = common::nist(file);
        let original: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let doc = Loader::default()
            .load_path(&path)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let written: Value = serde_json::from_str(&write_json(&doc)).unwrap();
        assert_eq!(written, original, "{file} changed in the round-trip");
    }
}

#[test]
fn nist_files_round_trip_through_yaml_without_loss() {
    for file in common::NIST_FILES {
        let path = common::nist(file);
        let doc = Loader::default().load_path(&path).unwrap();
        let yaml = write_yaml(&doc);
        let back = Loader::default()
            .load_bytes(std::path::Path::new("roundtrip.yaml"), yaml.as_bytes())
            .unwrap_or_else(|e| panic!("{file} as YAML: {e}"));
        assert_eq!(back, doc, "{file} changed going through YAML");
    }
}

#[test]
fn documents_are_recognised_by_root_key() {
    let doc = Loader::default()
        .load_path(&common::nist(common::HIGH_RESOLVED))
        .unwrap();
    assert_eq!(doc.kind(), ModelKind::Catalog);
    let Document::Catalog(catalog) = doc else {
        unreachable!()
    };
    // Every control of the HIGH baseline is present, enhancements nested in their parents.
    let ac2 = catalog
        .control("ac-2")
        .expect("ac-2 is in the HIGH baseline");
    assert!(ac2.controls.iter().any(|c| c.id == "ac-2.1"));
    assert_eq!(ac2.label(), "AC-2");
    let profile = Loader::default()
        .load_path(&common::nist(
            "NIST_SP-800-53_rev5_LOW-baseline_profile.json",
        ))
        .unwrap();
    assert_eq!(profile.kind(), ModelKind::Profile);
}

#[test]
fn format_is_detected_from_extension_then_content() {
    use std::path::Path;
    assert_eq!(Format::detect(Path::new("a.yaml"), b"{}"), Format::Yaml);
    assert_eq!(Format::detect(Path::new("a.json"), b"x: 1"), Format::Json);
    assert_eq!(
        Format::detect(Path::new("stdin"), b"  {\"catalog\": 1}"),
        Format::Json
    );
    assert_eq!(
        Format::detect(Path::new("stdin"), b"catalog:\n"),
        Format::Yaml
    );
}
