//! VEX documents, read and written in the three formats in use: CSAF 2.0 `csaf_vex`
//! ([`csaf`](crate::csaf) reads it, [`write_csaf_vex`] writes it), OpenVEX 0.2
//! ([`openvex`]) and CycloneDX 1.4–1.6 ([`cyclonedx`]). Every format is read into
//! [`VexStatement`]s: one vulnerability, one product (a purl or a CPE, with the versions it
//! covers), one status. [`read_vex`] tells the format from the document itself.
//!
//! CycloneDX has finer words than the others; how they map:
//!
//! | CycloneDX `analysis.state` | status |
//! | --- | --- |
//! | `resolved`, `resolved_with_pedigree` | fixed |
//! | `exploitable` | affected |
//! | `in_triage` | under investigation |
//! | `not_affected`, `false_positive` | not affected |
//!
//! | CycloneDX `analysis.justification` | justification |
//! | --- | --- |
//! | `code_not_present` | vulnerable_code_not_present |
//! | `code_not_reachable` | vulnerable_code_not_in_execute_path |
//! | `requires_configuration`, `requires_environment` | vulnerable_code_cannot_be_controlled_by_adversary (the adversary cannot bring about the configuration or environment the exploit needs) |
//! | `requires_dependency` | component_not_present (the component the exploit needs is absent) |
//! | `protected_by_compiler`, `protected_at_runtime`, `protected_at_perimeter`, `protected_by_mitigating_control` | inline_mitigations_already_exist |
//!
//! When a word has no exact counterpart (it is not the one the writer would give back), the
//! original word is kept at the end of the statement's detail, so nothing the author said is
//! lost.

pub mod csaf;
pub mod cyclonedx;
pub(crate) mod fields;
pub mod openvex;

pub use csaf::{CsafPublisher, write_csaf_vex};
pub use cyclonedx::{read_cyclonedx_vex, write_cyclonedx_vex};
pub use fields::{VersError, parse_vers, parse_version_range, write_vers};
pub use openvex::{openvex_omits, read_openvex, write_openvex};

use crate::error::{Read, ReadError};
use crate::model::{Justification, VexStatement, VexStatus};

/// The VEX formats [`read_vex`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VexFormat {
    Csaf,
    OpenVex,
    CycloneDx,
}

/// Reads a VEX document in any of the three formats: CSAF (a `document` with a
/// `category`; `csaf_vex` documents, and the product status of any other CSAF advisory,
/// which means the same), OpenVEX (an `@context` of openvex.dev) or CycloneDX (`bomFormat`).
/// CycloneDX statements that point into another BOM keep the BOM-Link as their product;
/// [`read_cyclonedx_vex`] resolves them against the BOM's components.
pub fn read_vex(name: &str, bytes: &[u8]) -> Result<Read<VexStatement>, ReadError> {
    let value = fields::parse(name, bytes)?;
    match sniff(&value) {
        Some(VexFormat::Csaf) => crate::csaf::read_value(name, &value).map(|c| c.into_statements()),
        Some(VexFormat::OpenVex) => openvex::read_value(name, &value),
        Some(VexFormat::CycloneDx) => cyclonedx::read_value(name, &value, None),
        None => Err(ReadError::new(
            name,
            "/",
            "not a VEX document: no CSAF `document.category`, OpenVEX `@context` or CycloneDX `bomFormat`",
        )
        .with_hint("iotmark reads VEX as CSAF 2.0 csaf_vex, OpenVEX 0.2 or CycloneDX 1.4-1.6 JSON")),
    }
}

/// Which format a parsed document is in, by the member each format requires.
pub fn sniff(value: &serde_json::Value) -> Option<VexFormat> {
    if value
        .get("document")
        .and_then(|d| d.get("category"))
        .is_some_and(|c| c.is_string())
    {
        return Some(VexFormat::Csaf);
    }
    let openvex_context = |c: &serde_json::Value| {
        c.as_str()
            .is_some_and(|s| s.starts_with("https://openvex.dev/ns"))
    };
    match value.get("@context") {
        Some(serde_json::Value::Array(contexts)) if contexts.iter().any(openvex_context) => {
            return Some(VexFormat::OpenVex);
        }
        Some(context) if openvex_context(context) => return Some(VexFormat::OpenVex),
        _ => {}
    }
    if value.get("bomFormat").and_then(|f| f.as_str()) == Some("CycloneDX") {
        return Some(VexFormat::CycloneDx);
    }
    None
}

/// The status as OpenVEX and this model spell it.
pub fn status_word(status: VexStatus) -> &'static str {
    match status {
        VexStatus::NotAffected => "not_affected",
        VexStatus::Affected => "affected",
        VexStatus::Fixed => "fixed",
        VexStatus::UnderInvestigation => "under_investigation",
    }
}

pub(crate) fn parse_status(word: &str) -> Option<VexStatus> {
    [
        VexStatus::NotAffected,
        VexStatus::Affected,
        VexStatus::Fixed,
        VexStatus::UnderInvestigation,
    ]
    .into_iter()
    .find(|s| status_word(*s) == word)
}

/// The justification as OpenVEX and CSAF's flag labels spell it.
pub fn justification_word(justification: Justification) -> &'static str {
    match justification {
        Justification::ComponentNotPresent => "component_not_present",
        Justification::VulnerableCodeNotPresent => "vulnerable_code_not_present",
        Justification::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
        Justification::VulnerableCodeCannotBeControlledByAdversary => {
            "vulnerable_code_cannot_be_controlled_by_adversary"
        }
        Justification::InlineMitigationsAlreadyExist => "inline_mitigations_already_exist",
    }
}

pub(crate) const JUSTIFICATIONS: [Justification; 5] = [
    Justification::ComponentNotPresent,
    Justification::VulnerableCodeNotPresent,
    Justification::VulnerableCodeNotInExecutePath,
    Justification::VulnerableCodeCannotBeControlledByAdversary,
    Justification::InlineMitigationsAlreadyExist,
];

pub(crate) fn parse_justification(word: &str) -> Option<Justification> {
    JUSTIFICATIONS
        .into_iter()
        .find(|j| justification_word(*j) == word)
}

/// Statements that say the same thing about the same product once, the last one winning:
/// a written document must not give one product two statuses for one vulnerability (CSAF's
/// test 6.1.6, "contradicting product status"). Order is kept otherwise.
pub(crate) fn last_per_product(statements: &[VexStatement]) -> Vec<&VexStatement> {
    let key = |s: &VexStatement| {
        (
            s.vulnerability.clone(),
            s.product.id.clone(),
            serde_json::to_string(&s.product.bounds).unwrap_or_default(),
        )
    };
    let mut last = std::collections::BTreeMap::new();
    for (index, statement) in statements.iter().enumerate() {
        last.insert(key(statement), index);
    }
    statements
        .iter()
        .enumerate()
        .filter(|(index, s)| last.get(&key(s)) == Some(index))
        .map(|(_, s)| s)
        .collect()
}

/// The vers scheme for a product: the purl's type, which vers names the same way.
pub(crate) fn vers_scheme(product_id: &str) -> String {
    crate::purl::Purl::parse(product_id).map_or_else(|| "generic".to_owned(), |p| p.kind)
}

/// What the fuzz targets check of statements read from any bytes: each writer takes them
/// without panicking, and what the CycloneDX writer (which keeps bounds) gives reads back
/// to the same statements.
fn fuzz_write_back(statements: &[VexStatement]) {
    let at = jiff::Timestamp::UNIX_EPOCH;
    let _ = write_openvex(statements, "fuzz", "https://example.com/fuzz", at);
    let publisher = CsafPublisher {
        name: "fuzz".to_owned(),
        namespace: "https://example.com".to_owned(),
    };
    let _ = write_csaf_vex(statements, &publisher, "FUZZ-1", at);
    let written = write_cyclonedx_vex(
        statements,
        "urn:uuid:00000000-0000-0000-0000-000000000000",
        "fuzz",
        at,
    );
    let bytes = serde_json::to_vec(&written).unwrap_or_default();
    let read = read_cyclonedx_vex("written.json", &bytes, None);
    assert!(
        read.as_ref().is_ok_and(|r| r.skipped.is_empty()),
        "written CycloneDX VEX does not read back: {read:?}"
    );
}

/// For the `openvex_read` fuzz target: OpenVEX, and the format sniffing of [`read_vex`].
#[doc(hidden)]
pub fn fuzz_openvex_read(data: &[u8]) {
    if let Ok(read) = read_openvex("fuzz.json", data) {
        fuzz_write_back(&read.records);
    }
    let _ = read_vex("fuzz.json", data);
}

/// For the `cyclonedx_vex_read` fuzz target: CycloneDX VEX without a BOM and with one that
/// BOM-Links resolve into.
#[doc(hidden)]
pub fn fuzz_cyclonedx_vex_read(data: &[u8]) {
    let bom = [crate::Component {
        reference: "product-ABC".to_owned(),
        name: "ABC".to_owned(),
        version: Some("2.4".to_owned()),
        purl: Some("pkg:generic/abc@2.4".to_owned()),
        cpes: Vec::new(),
        supplier: None,
        fixes: Vec::new(),
    }];
    let _ = read_cyclonedx_vex("fuzz.json", data, None);
    if let Ok(read) = read_cyclonedx_vex("fuzz.json", data, Some(&bom)) {
        fuzz_write_back(&read.records);
    }
}

/// For the `csaf_read` fuzz target: CSAF documents, whose statements are written back.
#[doc(hidden)]
pub fn fuzz_csaf_read(data: &[u8]) {
    if let Ok(csaf) = crate::csaf::read("fuzz.json", data) {
        fuzz_write_back(&csaf.statements);
    }
}

/// A short, stable digest of a set of statements (the first 8 bytes of the SHA-256 of their
/// JSON, in hex): the same decisions give the same default document ID.
pub fn statements_digest(statements: &[VexStatement]) -> String {
    use sha2::Digest as _;
    let text = serde_json::to_vec(statements).unwrap_or_default();
    sha2::Sha256::digest(&text)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A CycloneDX serial number (`urn:uuid:…`, a name-based UUID) for a VEX document of these
/// statements written at `timestamp`: the same document written again gets the same one.
pub fn serial_number(statements: &[VexStatement], timestamp: jiff::Timestamp) -> String {
    let name = format!(
        "urn:iotmark:vex:{}:{}",
        statements_digest(statements),
        timestamp.as_second()
    );
    format!(
        "urn:uuid:{}",
        uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes())
    )
}
