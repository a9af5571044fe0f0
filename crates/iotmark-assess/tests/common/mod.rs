//! What the assessment tests share: the example product, its evidence and the bundled
//! schemes, all as of one fixed day.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of this

use std::path::{Path, PathBuf};

use iotmark_assess::{Assessor, RuleBook, Scheme, bundled_schemes};
use iotmark_catalogs::Bundle;
use iotmark_declare::Declaration;
use iotmark_evidence::EvidenceSet;

pub const TODAY: jiff::civil::Date = jiff::civil::date(2026, 11, 22);

pub fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme-securecam")
}

/// examples/acme-securecam/declaration.yaml, checked against the bundled catalogs.
pub fn example() -> Declaration {
    let path = example_dir().join("declaration.yaml");
    let bytes = std::fs::read(&path).unwrap();
    let report = iotmark_declare::check(
        &path,
        &bytes,
        &|id| Bundle::get().catalog_of(id).is_some(),
        TODAY,
    );
    report.declaration.unwrap()
}

pub fn example_evidence() -> EvidenceSet {
    EvidenceSet::load_dir(&example_dir().join("evidence")).unwrap()
}

pub fn assessor() -> Assessor<'static> {
    Assessor {
        bundle: Bundle::get(),
        rules: RuleBook::bundled().unwrap(),
        today: TODAY,
    }
}

pub fn scheme(id: &str) -> Scheme {
    bundled_schemes(Bundle::get())
        .unwrap()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap()
}
