//! The one model every feed is read into and the matcher reads: an [`Advisory`] says which
//! software a vulnerability applies to, in the terms its source uses (NVD's CPE
//! configurations, OSV's package ranges, a CSAF product status, a CVE record's
//! vendor/product/versions), and how severe it is. Readers keep each source's own structure
//! rather than flattening it, because the semantics differ: an NVD configuration is an AND/OR
//! tree over CPEs with inclusive and exclusive bounds, an OSV range is a sequence of events
//! in one ecosystem's version order.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Where an advisory came from. The same CVE may be held once per source; the matcher
/// reports which source each match rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// NVD CVE JSON 2.0 (a yearly feed or a single record).
    Nvd,
    /// A CVE JSON 5 record from the CVE Program (CNA and ADP containers).
    Cve5,
    /// An OSV record (OSS-Fuzz, Debian, Alpine, PyPI, npm, …).
    Osv,
    /// A vendor's or distribution's CSAF 2.0 advisory.
    Csaf,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Nvd => "nvd",
            Source::Cve5 => "cve5",
            Source::Osv => "osv",
            Source::Csaf => "csaf",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One vulnerability record from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// The record's own ID: a CVE ID for NVD and CVE 5, the OSV ID (`OSV-2021-1234`,
    /// `DSA-5555-1`, `GHSA-…`), or for CSAF the CVE (or other ID) of one of the document's
    /// vulnerabilities.
    pub id: String,
    pub source: Source,
    /// Other IDs of the same vulnerability (OSV `aliases`, the CVE of a GHSA); the matcher
    /// joins KEV and VEX statements through them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Who published the record (NVD's `sourceIdentifier`, the CNA, the CSAF publisher).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<jiff::Timestamp>,
    /// When the source last changed the record; a re-import replaces the stored record only
    /// with one at least as new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<jiff::Timestamp>,
    /// The record was rejected or withdrawn by its source: kept so a re-import does not bring
    /// the old one back, never matched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    /// Shared with every finding that quotes it: a dense SBOM quotes one record's text
    /// thousands of times.
    #[serde(default)]
    pub summary: Arc<str>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<Cvss>,
    /// CWE IDs (`CWE-787`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weaknesses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// What the vulnerability applies to; empty when the source has not said yet (NVD's
    /// "awaiting analysis").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_to: Vec<Applicability>,
}

/// A CVSS score as a source gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cvss {
    pub version: CvssVersion,
    /// The vector string (`CVSS:3.1/AV:N/AC:L/…`). Shared, like `scored_by`, with every
    /// finding that quotes the score.
    pub vector: Arc<str>,
    pub base_score: f64,
    pub rating: Rating,
    /// Who scored it (NVD's `source`, e.g. `nvd@nist.gov` or the CNA); NVD lists the
    /// primary score first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scored_by: Option<Arc<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CvssVersion {
    #[serde(rename = "2.0")]
    V2,
    #[serde(rename = "3.0")]
    V30,
    #[serde(rename = "3.1")]
    V31,
    #[serde(rename = "4.0")]
    V40,
}

/// The qualitative rating of a score (CVSS v3.x/v4.0 table; v2 has no "critical").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Rating {
    /// The rating CVSS v3.x and v4.0 give a base score.
    pub fn of_score(score: f64) -> Rating {
        match score {
            s if s >= 9.0 => Rating::Critical,
            s if s >= 7.0 => Rating::High,
            s if s >= 4.0 => Rating::Medium,
            s if s > 0.0 => Rating::Low,
            _ => Rating::None,
        }
    }
}

/// One statement of what an advisory applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Applicability {
    /// An NVD configuration: its nodes, joined by `operator` (NVD's default is OR).
    Configuration(Configuration),
    /// A package in an ecosystem with OSV-style ranges and/or explicit versions.
    Package(PackageRule),
    /// CVE JSON 5: a vendor and product as the CNA named them, with version entries. Vendor
    /// and product are free text, so these match only a component whose CPE vendor and
    /// product are the same words.
    VendorProduct(VendorProductRule),
}

/// Boolean operator of a configuration or node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operator {
    And,
    #[default]
    Or,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Configuration {
    #[serde(default)]
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
    pub nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    #[serde(default)]
    pub operator: Operator,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub negate: bool,
    pub matches: Vec<CpeMatch>,
}

/// One `cpeMatch`: a CPE 2.3 name (which may use `*` for any version) and bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpeMatch {
    /// The CPE 2.3 formatted string (`cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*`).
    pub criteria: String,
    /// `false` for a platform the vulnerable software must run on or with.
    pub vulnerable: bool,
    #[serde(default, skip_serializing_if = "Bounds::is_unbounded")]
    pub bounds: Bounds,
}

/// A version interval; either end may be open, inclusive or exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Bounds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Bound>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Bound>,
}

impl Bounds {
    pub fn is_unbounded(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bound {
    pub version: String,
    pub inclusive: bool,
}

/// A package of one ecosystem: OSV's `affected[]` entry, or a CSAF product that names a
/// purl.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageRule {
    pub package: Package,
    /// Ranges of events; a version is affected when any range says so.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<EventRange>,
    /// Versions affected, listed one by one (OSV `versions`; the only usable part of a GIT
    /// range, whose events are commits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Versions the source says are fixed or not affected (CSAF `fixed`,
    /// `known_not_affected`); they win over the ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unaffected: Vec<String>,
}

/// A package named the way its ecosystem names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Package {
    /// OSV's ecosystem as written (`Debian:12`, `Alpine:v3.20`, `PyPI`, `npm`, `OSS-Fuzz`),
    /// or the purl type for a purl-only product.
    pub ecosystem: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// An OSV range: events in the order of `kind`'s version scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRange {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    /// Semantic Versioning 2.0 order.
    Semver,
    /// The ecosystem's own order (dpkg for Debian, apk for Alpine, PEP 440 for PyPI, …).
    Ecosystem,
    /// Commits: events cannot be ordered without the repository; the record's `versions`
    /// list carries the answer.
    Git,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `"0"` means from the beginning.
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// CVE JSON 5 `affected[]`: free-text vendor and product with version entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VendorProductRule {
    pub vendor: String,
    pub product: String,
    /// CPEs the record (or CISA's ADP container) gives for this product.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    /// The status of versions no entry covers (`defaultStatus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_affected: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionEntry>,
}

/// One CVE 5 `versions[]` entry: a single version, or a range from `version` up to
/// `less_than` (exclusive) or `less_than_or_equal`, in the order `version_type` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionEntry {
    pub version: String,
    pub affected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than_or_equal: Option<String>,
}

/// A CISA KEV catalog entry: the vulnerability is known to be exploited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnownExploited {
    pub cve: String,
    pub vendor: String,
    pub product: String,
    pub name: String,
    pub date_added: jiff::civil::Date,
    /// The date by which U.S. federal agencies must act (BOD 22-01).
    pub due_date: jiff::civil::Date,
    pub required_action: String,
    /// `Known` or `Unknown`, as KEV says.
    pub ransomware_use: String,
}

/// A VEX statement, from whichever format it was read: one vulnerability in one product
/// (a component named by purl or CPE, with the versions it covers). It never applies to a
/// vulnerability everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VexStatement {
    /// The vulnerability as the statement names it (a CVE ID, a GHSA, …); matched against an
    /// advisory's ID and aliases.
    pub vulnerability: String,
    pub product: ProductRef,
    pub status: VexStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<Justification>,
    /// Free text: CSAF's threat details, OpenVEX's `impact_statement` or
    /// `action_statement`, CycloneDX's `analysis.detail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub origin: Origin,
}

/// The product of a VEX statement: a purl or a CPE, and which of its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRef {
    /// `pkg:…` or `cpe:2.3:…`. A purl with a version, or a CPE with one, covers that
    /// version only unless `bounds` widens it.
    pub id: String,
    #[serde(default, skip_serializing_if = "Bounds::is_unbounded")]
    pub bounds: Bounds,
}

/// The four statuses every VEX format shares (CycloneDX's `analysis.state` maps onto them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

/// Why a product is not affected: the five justifications of CISA's minimum requirements,
/// as OpenVEX and CSAF's flags name them. CycloneDX's finer justifications map onto these,
/// the original word kept in the statement's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Justification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

/// Where a VEX statement came from, so every suppressed match names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The document: its file name, or for a triage decision recorded in the store, `triage`.
    pub document: String,
    /// The document's own ID (CSAF `tracking.id`, OpenVEX `@id`, CycloneDX `serialNumber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<String>,
    /// Where in the document, as a JSON pointer (`/statements/3`).
    pub pointer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<jiff::Timestamp>,
}
