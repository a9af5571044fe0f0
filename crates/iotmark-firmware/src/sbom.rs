//! CycloneDX 1.6 JSON for an image's components.
//!
//! Written with `serde_json` directly: the subset we emit is small, and the document is
//! checked against the official 1.6 schema by `scripts/validate-sbom.sh`.
//!
//! What goes in: package-database components, kernels, and files that *are* a component.
//! Embedded copies (`contains`) are nested under the component of the file that holds
//! them when that file is one, otherwise listed at the top level; either way their
//! evidence names the containing file. Header-only hits are not components and are left
//! out.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::ScanReport;
use crate::inventory::{Component, ComponentType, Relation, Technique};

fn type_name(kind: ComponentType) -> &'static str {
    match kind {
        ComponentType::Application => "application",
        ComponentType::Library => "library",
        ComponentType::OperatingSystem => "operating-system",
        ComponentType::Firmware => "firmware",
    }
}

fn technique(t: Technique) -> &'static str {
    match t {
        Technique::BinaryAnalysis => "binary-analysis",
        Technique::ManifestAnalysis => "manifest-analysis",
    }
}

/// How many components the SBOM lists (everything but header-only hits).
pub fn listed(components: &[Component]) -> usize {
    listed_components(components).len()
}

/// The components an SBOM lists: everything but header-only hits, which are evidence about
/// how a program was built, not something the image ships.
pub(crate) fn listed_components(components: &[Component]) -> Vec<&Component> {
    components
        .iter()
        .filter(|c| c.relation != Relation::HeaderOnly)
        .collect()
}

/// A bom-ref that is unique in the document and readable.
fn bom_ref(i: usize, c: &Component) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || ".-_".contains(ch) {
                    ch
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("component-{i}-{}-{}", clean(&c.name), clean(&c.version))
}

fn component_json(c: &Component, bom_ref: &str) -> Value {
    let mut v = json!({
        "type": type_name(c.kind),
        "bom-ref": bom_ref,
        "name": c.name,
        "version": c.version,
        "purl": c.purl,
    });
    if let Some(cpe) = &c.cpe {
        v["cpe"] = json!(cpe);
    }
    if let Some(supplier) = supplier(c) {
        v["supplier"] = json!({ "name": supplier });
    }
    if !c.licenses.is_empty() {
        // As the package states them; not checked against the SPDX list, so names.
        v["licenses"] = json!(
            c.licenses
                .iter()
                .map(|l| json!({ "license": { "name": l } }))
                .collect::<Vec<_>>()
        );
    }
    if let Some(sha) = &c.sha256 {
        v["hashes"] = json!([{ "alg": "SHA-256", "content": sha }]);
    }
    if let Some(pedigree) = pedigree(c) {
        v["pedigree"] = pedigree;
    }
    let occurrences: Vec<Value> = c
        .occurrences
        .iter()
        .map(|o| {
            let location = if o.path.is_empty() {
                o.filesystem.clone()
            } else {
                o.path.clone()
            };
            let mut occ = json!({ "location": location });
            if let Some(off) = o.offset {
                occ["offset"] = json!(off);
            }
            if !o.filesystem.is_empty() && !o.path.is_empty() {
                occ["additionalContext"] = json!(format!("in {}", o.filesystem));
            }
            occ
        })
        .collect();
    let confidence = c.evidence.iter().map(|e| e.confidence).fold(0.0, f64::max);
    let methods: Vec<Value> = c
        .evidence
        .iter()
        .map(|e| {
            json!({
                "technique": technique(e.technique),
                "confidence": e.confidence,
                "value": format!("{}: {}", e.path, e.value),
            })
        })
        .collect();
    let mut evidence = json!({
        "identity": [{
            "field": "version",
            "confidence": confidence,
            "concludedValue": c.version,
            "methods": methods,
        }],
    });
    if !occurrences.is_empty() {
        evidence["occurrences"] = json!(occurrences);
    }
    v["evidence"] = evidence;
    v["properties"] = json!([{
        "name": "iotmark:relation",
        "value": relation_name(c.relation),
    }]);
    v
}

/// The fixes a package's Debian changelog names, as CycloneDX pedigree: one back-port patch
/// per changelog entry that names CVEs, each resolving those CVEs. The changelog is
/// cumulative, so every entry it holds is part of the shipped revision; a vulnerability
/// matcher reads these to report a CVE the distribution fixed without a new upstream
/// version (`7.88.1-10+deb12u8`) as fixed, naming the entry.
fn pedigree(c: &Component) -> Option<Value> {
    let patches: Vec<Value> = c
        .changelog
        .iter()
        .filter(|entry| !entry.cves.is_empty())
        .map(|entry| {
            let resolves: Vec<Value> = entry
                .cves
                .iter()
                .map(|cve| {
                    json!({
                        "type": "security",
                        "id": cve,
                        "description": format!(
                            "changelog.Debian.gz of {}: the entry of {} names {cve}",
                            c.name, entry.version
                        ),
                        "source": { "name": "changelog.Debian.gz" },
                    })
                })
                .collect();
            json!({ "type": "backport", "resolves": resolves })
        })
        .collect();
    (!patches.is_empty()).then(|| json!({ "patches": patches }))
}

/// The word for how a component is present, as both SBOM formats print it.
pub(crate) fn relation_name(relation: Relation) -> &'static str {
    match relation {
        Relation::Package => "package",
        Relation::Kernel => "kernel",
        Relation::Is => "is",
        Relation::Contains => "contains",
        Relation::HeaderOnly => "header-only",
    }
}

/// Who supplies the component: the package's maintainer or packager as its metadata names
/// them; for a package whose metadata names nobody (OpenWrt's status file), the
/// distribution that built it, as its purl's namespace says; else the CPE vendor (the
/// upstream project or company NVD names) when the product is known; otherwise nobody we
/// can name.
pub(crate) fn supplier(c: &Component) -> Option<String> {
    if let Some(supplier) = &c.supplier {
        return Some(supplier.clone());
    }
    if c.relation == Relation::Package
        && let Some(namespace) = c
            .purl
            .strip_prefix("pkg:")
            .and_then(|p| p.split('/').nth(1))
            .filter(|ns| !ns.contains('@'))
    {
        return Some(namespace.to_owned());
    }
    let vendor = c.cpe.as_deref()?.split(':').nth(3)?;
    (!vendor.is_empty() && vendor != "*").then(|| vendor.replace('\\', ""))
}

/// For each listed component, the index of the component whose file holds it as an
/// embedded copy, if that file is itself a listed component (so the copy nests under it).
pub(crate) fn containing_components(listed: &[&Component]) -> Vec<Option<usize>> {
    let mut owner: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, c) in listed.iter().enumerate() {
        if matches!(c.relation, Relation::Is | Relation::Package) {
            for o in &c.occurrences {
                owner.entry((&o.filesystem, &o.path)).or_insert(i);
            }
        }
    }
    listed
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (c.relation == Relation::Contains)
                .then(|| {
                    c.occurrences
                        .iter()
                        .find_map(|o| owner.get(&(o.filesystem.as_str(), o.path.as_str())))
                })
                .flatten()
                .copied()
                .filter(|&p| p != i)
        })
        .collect()
}

/// The firmware an SBOM describes: the image's name, and what only its maker can say, its
/// version and supplier (NTIA's minimum elements ask for both; without them the SBOM says
/// nothing rather than guess).
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub name: &'a str,
    pub version: Option<&'a str>,
    pub supplier: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// An image known only by its name.
    pub fn named(name: &'a str) -> Self {
        Subject {
            name,
            version: None,
            supplier: None,
        }
    }
}

/// The SBOM of a scanned image as CycloneDX 1.6 JSON. `subject` is the firmware in
/// `metadata.component`; `timestamp` is RFC 3339. The serial number is derived from the
/// image hash and the timestamp, so the same scan gives the same document.
pub fn sbom_json(
    report: &ScanReport,
    components: &[Component],
    subject: &Subject<'_>,
    timestamp: &str,
) -> Value {
    let listed = listed_components(components);
    let refs: Vec<String> = listed
        .iter()
        .enumerate()
        .map(|(i, c)| bom_ref(i, c))
        .collect();
    let parents = containing_components(&listed);
    let mut nested: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    let mut top: Vec<(usize, Value)> = Vec::new();
    for (i, c) in listed.iter().enumerate() {
        let json = component_json(c, &refs[i]);
        match parents.get(i).copied().flatten() {
            Some(p) => nested.entry(p).or_default().push(json),
            None => top.push((i, json)),
        }
    }
    let mut dependencies = Vec::new();
    let mut out = Vec::new();
    for (i, mut json) in top {
        if let Some(children) = nested.remove(&i) {
            let child_refs: Vec<Value> = children
                .iter()
                .filter_map(|c| c.get("bom-ref").cloned())
                .collect();
            dependencies.push(json!({ "ref": refs[i], "dependsOn": child_refs }));
            json["components"] = json!(children);
        }
        out.push(json);
    }
    let top_refs: Vec<Value> = out
        .iter()
        .filter_map(|c| c.get("bom-ref").cloned())
        .collect();
    dependencies.insert(0, json!({ "ref": "firmware", "dependsOn": top_refs }));
    let serial = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("urn:iotmark:sbom:{}:{timestamp}", report.sha256).as_bytes(),
    );
    let mut firmware = json!({
        "type": "firmware",
        "bom-ref": "firmware",
        "name": subject.name,
        "hashes": [{ "alg": "SHA-256", "content": report.sha256 }],
        "properties": [{ "name": "iotmark:size", "value": report.size.to_string() }],
    });
    if let Some(version) = subject.version {
        firmware["version"] = json!(version);
    }
    if let Some(supplier) = subject.supplier {
        firmware["supplier"] = json!({ "name": supplier });
    }
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{serial}"),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "iotmark",
                    "version": env!("CARGO_PKG_VERSION"),
                }],
            },
            "component": firmware,
        },
        "components": out,
        "dependencies": dependencies,
    })
}
