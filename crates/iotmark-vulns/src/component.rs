//! The software a match runs against: components as an SBOM or a scan lists them.

use serde::{Deserialize, Serialize};

/// One component of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// The SBOM's own reference (CycloneDX `bom-ref`, SPDX `SPDXID`), so results and the VEX
    /// written from them point back at it.
    pub reference: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Fixes the component's own history names: a Debian changelog entry that lists the
    /// CVE, carried in the SBOM as a back-port patch that resolves it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

/// One vulnerability a component's packaging says it fixes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub vulnerability: String,
    /// The line of evidence, as a reader can check it: for example "changelog.Debian.gz:
    /// entry 7.88.1-10+deb12u8 names CVE-2024-2398".
    pub evidence: String,
}
