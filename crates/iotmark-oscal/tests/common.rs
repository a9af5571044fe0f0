//! Paths to the shared reference data the tests read (never copied into the project).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/reference/` beside the project checkout.
pub fn reference() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference")
}

pub fn nist(file: &str) -> PathBuf {
    reference().join("nist-oscal-content").join(file)
}

/// The href NIST's SP 800-53 rev5 baseline profiles use for the catalog they import.
pub const NIST_CATALOG_HREF: &str = "#84cbf061-eb87-4ec1-8112-1f529232e907";

pub const HIGH_RESOLVED: &str =
    "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json";
pub const PRIVACY_RESOLVED: &str =
    "NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog-min.json";
pub const NIST_FILES: [&str; 6] = [
    HIGH_RESOLVED,
    PRIVACY_RESOLVED,
    "NIST_SP-800-53_rev5_HIGH-baseline_profile.json",
    "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json",
    "NIST_SP-800-53_rev5_LOW-baseline_profile.json",
    "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json",
];
