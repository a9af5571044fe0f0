//! SPDX 2.3 JSON for an image's components: the same inventory the CycloneDX SBOM carries
//! ([`crate::sbom`]), for buyers and tools that take SPDX (NTIA's minimum elements are
//! checked against it in the tests with `ntia-conformance-checker`, and the document with
//! `spdx-tools`).
//!
//! Shape: the firmware image is one package that the document describes; it `CONTAINS`
//! every listed component, except an embedded copy found inside another component's file,
//! which that component `CONTAINS` instead (as CycloneDX nests it). Each package names its purl and CPE as external
//! references, its SHA-256 when it is one file, its supplier, and in `comment` how it was
//! identified (package database or version string, with the file).

use serde_json::{Value, json};

use crate::ScanReport;
use crate::inventory::{Component, ComponentType, Technique};
use crate::sbom;

/// An SPDX identifier made of the characters SPDX allows (`[A-Za-z0-9.-]`).
fn spdx_id(prefix: &str, i: usize, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-{prefix}-{i}-{clean}")
}

/// SPDX's supplier field: `Organization: name (email)`, from a name that may carry its
/// address the Debian way (`Debian OpenSSL Team <pkg-openssl-devel@…>`), or `NOASSERTION`.
fn supplier_field(supplier: Option<&str>) -> String {
    let Some(supplier) = supplier.map(str::trim).filter(|s| !s.is_empty()) else {
        return "NOASSERTION".to_owned();
    };
    let clean = |s: &str| s.replace(['(', ')', '<', '>'], "").trim().to_owned();
    match supplier.split_once('<') {
        Some((name, rest)) if !name.trim().is_empty() => {
            let email = rest.split('>').next().unwrap_or_default();
            format!("Organization: {} ({})", clean(name), clean(email))
        }
        _ => format!("Organization: {}", clean(supplier)),
    }
}

fn purpose(kind: ComponentType) -> &'static str {
    match kind {
        ComponentType::Application => "APPLICATION",
        ComponentType::Library => "LIBRARY",
        ComponentType::OperatingSystem => "OPERATING-SYSTEM",
        ComponentType::Firmware => "FIRMWARE",
    }
}

/// How the component was identified, in words, for the package's `comment`.
fn identified_by(c: &Component) -> String {
    let how: Vec<String> = c
        .evidence
        .iter()
        .take(3)
        .map(|e| {
            let technique = match e.technique {
                Technique::ManifestAnalysis => "package database",
                Technique::BinaryAnalysis => "version string",
            };
            format!("{technique} in {}: {}", e.path, e.value)
        })
        .collect();
    format!(
        "Identified by iotmark ({}); {}",
        sbom::relation_name(c.relation),
        how.join("; ")
    )
}

fn package_json(c: &Component, id: &str) -> Value {
    let mut refs = vec![json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": c.purl,
    })];
    if let Some(cpe) = &c.cpe {
        refs.push(json!({
            "referenceCategory": "SECURITY",
            "referenceType": "cpe23Type",
            "referenceLocator": cpe,
        }));
    }
    let mut v = json!({
        "SPDXID": id,
        "name": c.name,
        "versionInfo": c.version,
        "supplier": supplier_field(sbom::supplier(c).as_deref()),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": purpose(c.kind),
        "externalRefs": refs,
        "comment": identified_by(c),
    });
    if let Some(sha) = &c.sha256 {
        v["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sha }]);
    }
    v
}

/// The SBOM of a scanned image as SPDX 2.3 JSON. `subject` is the firmware package;
/// `timestamp` is RFC 3339 in UTC to the second. The namespace is derived from the image
/// hash and the timestamp, so the same scan gives the same document.
pub fn spdx_json(
    report: &ScanReport,
    components: &[Component],
    subject: &sbom::Subject<'_>,
    timestamp: &str,
) -> Value {
    let listed = sbom::listed_components(components);
    let ids: Vec<String> = listed
        .iter()
        .enumerate()
        .map(|(i, c)| spdx_id("Package", i, &c.name))
        .collect();
    let firmware = "SPDXRef-firmware";
    let mut image = json!({
        "SPDXID": firmware,
        "name": subject.name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": supplier_field(subject.supplier),
        "primaryPackagePurpose": "FIRMWARE",
        "checksums": [{ "algorithm": "SHA256", "checksumValue": report.sha256 }],
        "comment": format!("The scanned image, {} bytes", report.size),
    });
    if let Some(version) = subject.version {
        image["versionInfo"] = json!(version);
    }
    let mut packages = vec![image];
    packages.extend(listed.iter().zip(&ids).map(|(c, id)| package_json(c, id)));
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": firmware,
    })];
    let parents = sbom::containing_components(&listed);
    for (i, id) in ids.iter().enumerate() {
        let parent = parents
            .get(i)
            .copied()
            .flatten()
            .and_then(|p| ids.get(p))
            .map_or(firmware, String::as_str);
        relationships.push(json!({
            "spdxElementId": parent,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let namespace = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("urn:iotmark:spdx:{}:{timestamp}", report.sha256).as_bytes(),
    );
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} components", subject.name),
        "documentNamespace": format!("https://iotmark.invalid/spdx/{}/{namespace}", report.sha256),
        "creationInfo": {
            "created": timestamp,
            "creators": [format!("Tool: iotmark-{}", env!("CARGO_PKG_VERSION"))],
        },
        "documentDescribes": [firmware],
        "packages": packages,
        "relationships": relationships,
    })
}
