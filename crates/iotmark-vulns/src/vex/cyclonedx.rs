//! CycloneDX VEX (1.4–1.6): `vulnerabilities[]` whose `analysis` says how the products in
//! `affects[]` are affected. A product is a `bom-ref` of the same document, or a BOM-Link
//! (`urn:cdx:SERIAL/VERSION#BOM-REF`) into the BOM the VEX is about; the statement names
//! the component by its purl (else CPE) when the component is at hand, and keeps the
//! reference as written otherwise, to be resolved against the BOM later.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::component::Component;
use crate::error::{Read, ReadError};
use crate::model::{Bounds, Justification, Origin, ProductRef, VexStatement, VexStatus};
use crate::purl::Purl;
use crate::vex::fields::{Place, parse, parse_vers, write_vers};
use crate::vex::{last_per_product, vers_scheme};

/// Reads a CycloneDX VEX document. `bom` is the SBOM the VEX is about, when it is a
/// separate document: references into it (BOM-Links, or bom-refs this document does not
/// define) are resolved to its components' purls or CPEs.
pub fn read_cyclonedx_vex(
    name: &str,
    bytes: &[u8],
    bom: Option<&[Component]>,
) -> Result<Read<VexStatement>, ReadError> {
    let value = parse(name, bytes)?;
    read_value(name, &value, bom)
}

pub(crate) fn read_value(
    name: &str,
    value: &Value,
    bom: Option<&[Component]>,
) -> Result<Read<VexStatement>, ReadError> {
    let root = Place::root(name, value);
    if root.str("bomFormat")? != Some("CycloneDX") {
        return Err(root
            .error_at("bomFormat", "not a CycloneDX document")
            .with_hint("a CycloneDX document has \"bomFormat\": \"CycloneDX\""));
    }
    let spec = root.required_str("specVersion")?;
    if !matches!(spec, "1.4" | "1.5" | "1.6") {
        return Err(root
            .error_at("specVersion", format!("CycloneDX {spec} has no VEX"))
            .with_hint("VEX is read from CycloneDX 1.4, 1.5 and 1.6"));
    }
    let serial = root.str("serialNumber")?.map(str::to_owned);
    let metadata = root.object("metadata")?;
    let mut timestamp = None;
    let mut author = None;
    let mut components = BTreeMap::new();
    if let Some(metadata) = &metadata {
        timestamp = metadata.timestamp("timestamp")?;
        author = authors(metadata)?;
        if let Some(component) = metadata.object("component")? {
            collect_components(&component, &mut components)?;
        }
    }
    for component in root.items("components")? {
        collect_components(&component, &mut components)?;
    }
    let context = Context {
        name,
        serial: serial.as_deref(),
        author: author.as_deref(),
        timestamp,
        components: &components,
        bom,
    };
    let mut out = Read::default();
    for vulnerability in root.items("vulnerabilities")? {
        match context.vulnerability(&vulnerability) {
            Ok(mut statements) => out.records.append(&mut statements),
            Err(e) => out.skipped.push(e),
        }
    }
    Ok(out)
}

/// Who wrote the document: the first author, else the manufacturer or supplier.
fn authors(metadata: &Place<'_>) -> Result<Option<String>, ReadError> {
    for author in metadata.items("authors")? {
        if let Some(name) = author.str("name")? {
            return Ok(Some(name.to_owned()));
        }
    }
    for key in ["manufacturer", "manufacture", "supplier"] {
        if let Some(party) = metadata.object(key)?
            && let Some(name) = party.str("name")?
        {
            return Ok(Some(name.to_owned()));
        }
    }
    Ok(None)
}

/// bom-ref → purl or CPE, for a component and the components nested in it.
fn collect_components(
    component: &Place<'_>,
    out: &mut BTreeMap<String, Option<String>>,
) -> Result<(), ReadError> {
    if let Some(reference) = component.str("bom-ref")? {
        let id = match component.str("purl")? {
            Some(purl) => Some(purl.to_owned()),
            None => component.str("cpe")?.map(str::to_owned),
        };
        out.insert(reference.to_owned(), id);
    }
    for child in component.items("components")? {
        collect_components(&child, out)?;
    }
    Ok(())
}

struct Context<'a> {
    name: &'a str,
    serial: Option<&'a str>,
    author: Option<&'a str>,
    timestamp: Option<jiff::Timestamp>,
    components: &'a BTreeMap<String, Option<String>>,
    bom: Option<&'a [Component]>,
}

impl Context<'_> {
    fn vulnerability(&self, vulnerability: &Place<'_>) -> Result<Vec<VexStatement>, ReadError> {
        let id = vulnerability.required_str("id")?.to_owned();
        let analysis = vulnerability.object("analysis")?.ok_or_else(|| {
            vulnerability
                .error_at("analysis", "the vulnerability has no analysis")
                .with_hint("a VEX statement needs analysis.state")
        })?;
        let state = analysis.required_str("state")?;
        let status = status_of_state(state).ok_or_else(|| {
            analysis
                .error_at("state", format!("`{state}` is not a CycloneDX analysis state"))
                .with_hint("resolved, resolved_with_pedigree, exploitable, in_triage, false_positive or not_affected")
        })?;
        let mut notes = Vec::new();
        if state_word(status) != state {
            notes.push(format!("CycloneDX state: {state}"));
        }
        let justification = match analysis.str("justification")? {
            Some(word) => {
                let justification = justification_of(word).ok_or_else(|| {
                    analysis
                        .error_at(
                            "justification",
                            format!("`{word}` is not a CycloneDX justification"),
                        )
                        .with_hint(
                            "e.g. code_not_present, code_not_reachable, requires_configuration",
                        )
                })?;
                if justification_word(justification) != word {
                    notes.push(format!("CycloneDX justification: {word}"));
                }
                Some(justification)
            }
            None => None,
        };
        let detail = analysis.str("detail")?.map(str::to_owned);
        let detail = match (detail, notes.is_empty()) {
            (detail, true) => detail,
            (Some(detail), false) => Some(format!("{detail} [{}]", notes.join("; "))),
            (None, false) => Some(notes.join("; ")),
        };
        let timestamp = analysis
            .timestamp("lastUpdated")?
            .or(vulnerability.timestamp("updated")?)
            .or(vulnerability.timestamp("published")?)
            .or(self.timestamp);

        let affects = vulnerability.items("affects")?;
        if affects.is_empty() {
            return Err(vulnerability
                .error_at("affects", "the vulnerability names no product in `affects`")
                .with_hint("a VEX statement applies to the components its affects[].ref names"));
        }
        let mut statements = Vec::new();
        for affected in affects {
            let reference = affected.required_str("ref")?;
            let product = self.resolve(reference);
            let statement = |bounds: Bounds, status: VexStatus, pointer: &str| VexStatement {
                vulnerability: id.clone(),
                product: ProductRef {
                    id: product.clone(),
                    bounds,
                },
                status,
                justification: justification.filter(|_| status == VexStatus::NotAffected),
                detail: detail.clone(),
                origin: Origin {
                    document: self.name.to_owned(),
                    document_id: self.serial.map(str::to_owned),
                    pointer: pointer.to_owned(),
                    author: self.author.map(str::to_owned),
                    timestamp,
                },
            };
            let versions = affected.items("versions")?;
            if versions.is_empty() {
                statements.push(statement(Bounds::default(), status, affected.pointer()));
            }
            for entry in versions {
                // A version's own status overrides the analysis for that version.
                let status = match entry.str("status")? {
                    None | Some("affected") => status,
                    Some("unaffected") if status == VexStatus::Fixed => VexStatus::Fixed,
                    Some("unaffected") => VexStatus::NotAffected,
                    Some("unknown") => VexStatus::UnderInvestigation,
                    Some(other) => {
                        return Err(entry
                            .error_at("status", format!("`{other}` is not a version status"))
                            .with_hint("affected, unaffected or unknown"));
                    }
                };
                let intervals = match (entry.str("version")?, entry.str("range")?) {
                    (Some(""), _) => {
                        return Err(entry
                            .error_at("version", "the version is empty")
                            .with_hint("name the version, or give a vers range in `range`"));
                    }
                    (Some(version), _) => vec![exact(version)],
                    (None, Some(range)) => parse_vers(range).map_err(|e| {
                        entry
                            .error_at("range", e.to_string())
                            .with_hint("write the range as vers:SCHEME/>=FIRST|<LAST")
                    })?,
                    (None, None) => {
                        return Err(entry.error("the entry has neither `version` nor `range`"));
                    }
                };
                for bounds in intervals {
                    statements.push(statement(bounds, status, entry.pointer()));
                }
            }
        }
        // `references[]` names the same vulnerability elsewhere (a GHSA, a Snyk ID): the
        // statements are said of those names too, so they meet an advisory filed under any.
        let mut aliases = Vec::new();
        for reference in vulnerability.items("references")? {
            let alias = reference.required_str("id")?;
            if alias != id && !aliases.contains(&alias) {
                aliases.push(alias);
            }
        }
        let under_aliases: Vec<VexStatement> = aliases
            .iter()
            .flat_map(|alias| {
                statements.iter().map(|s| VexStatement {
                    vulnerability: (*alias).to_owned(),
                    ..s.clone()
                })
            })
            .collect();
        statements.extend(under_aliases);
        Ok(statements)
    }

    /// The purl or CPE a reference stands for, or the reference itself when neither this
    /// document nor the BOM at hand says.
    fn resolve(&self, reference: &str) -> String {
        if let Some(Some(id)) = self.components.get(reference) {
            return id.clone();
        }
        let bom_ref = bom_link_fragment(reference).unwrap_or(reference);
        self.bom
            .and_then(|bom| bom.iter().find(|c| c.reference == bom_ref))
            .and_then(|c| c.purl.clone().or_else(|| c.cpes.first().cloned()))
            .unwrap_or_else(|| reference.to_owned())
    }
}

/// The bom-ref a BOM-Link (`urn:cdx:SERIAL/VERSION#BOM-REF`) points at.
fn bom_link_fragment(reference: &str) -> Option<&str> {
    reference
        .strip_prefix("urn:cdx:")
        .and_then(|rest| rest.split_once('#'))
        .map(|(_, fragment)| fragment)
}

fn exact(version: &str) -> Bounds {
    let bound = Some(crate::model::Bound {
        version: version.to_owned(),
        inclusive: true,
    });
    Bounds {
        start: bound.clone(),
        end: bound,
    }
}

fn status_of_state(state: &str) -> Option<VexStatus> {
    Some(match state {
        "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
        "exploitable" => VexStatus::Affected,
        "in_triage" => VexStatus::UnderInvestigation,
        "not_affected" | "false_positive" => VexStatus::NotAffected,
        _ => return None,
    })
}

/// The state the writer gives a status.
fn state_word(status: VexStatus) -> &'static str {
    match status {
        VexStatus::Fixed => "resolved",
        VexStatus::Affected => "exploitable",
        VexStatus::UnderInvestigation => "in_triage",
        VexStatus::NotAffected => "not_affected",
    }
}

fn justification_of(word: &str) -> Option<Justification> {
    Some(match word {
        "code_not_present" => Justification::VulnerableCodeNotPresent,
        "code_not_reachable" => Justification::VulnerableCodeNotInExecutePath,
        "requires_configuration" | "requires_environment" => {
            Justification::VulnerableCodeCannotBeControlledByAdversary
        }
        "requires_dependency" => Justification::ComponentNotPresent,
        "protected_by_compiler"
        | "protected_at_runtime"
        | "protected_at_perimeter"
        | "protected_by_mitigating_control" => Justification::InlineMitigationsAlreadyExist,
        _ => return None,
    })
}

/// The CycloneDX justification the writer gives each justification.
fn justification_word(justification: Justification) -> &'static str {
    match justification {
        Justification::ComponentNotPresent => "requires_dependency",
        Justification::VulnerableCodeNotPresent => "code_not_present",
        Justification::VulnerableCodeNotInExecutePath => "code_not_reachable",
        Justification::VulnerableCodeCannotBeControlledByAdversary => "requires_environment",
        Justification::InlineMitigationsAlreadyExist => "protected_by_mitigating_control",
    }
}

/// A CycloneDX 1.6 VEX document: one component per product (its bom-ref is the product's
/// purl or CPE), and one vulnerability entry per vulnerability and status whose
/// `affects[].ref` points at the components, a bounded statement carrying its interval as
/// a vers range. `serial_number` must be a `urn:uuid:…`.
pub fn write_cyclonedx_vex(
    statements: &[VexStatement],
    serial_number: &str,
    author: &str,
    timestamp: jiff::Timestamp,
) -> Value {
    let statements = last_per_product(statements);
    let mut components: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in &statements {
        if seen.insert(s.product.id.as_str()) {
            components.push(component(&s.product.id));
        }
    }
    // One entry per vulnerability and what is said about it, as CycloneDX's analysis is
    // per entry.
    let mut entries: Vec<(&VexStatement, Vec<&VexStatement>)> = Vec::new();
    for s in &statements {
        let same = |e: &&VexStatement| {
            e.vulnerability == s.vulnerability
                && e.status == s.status
                && e.justification == s.justification
                && e.detail == s.detail
                && e.origin.timestamp == s.origin.timestamp
        };
        match entries.iter_mut().find(|(first, _)| same(first)) {
            Some((_, members)) => members.push(s),
            None => entries.push((s, vec![s])),
        }
    }
    let vulnerabilities: Vec<Value> = entries
        .into_iter()
        .map(|(first, members)| {
            let mut analysis = json!({"state": state_word(first.status)});
            if let Some(justification) = first.justification {
                analysis["justification"] = json!(justification_word(justification));
            }
            if let Some(detail) = &first.detail {
                analysis["detail"] = json!(detail);
            }
            if let Some(timestamp) = first.origin.timestamp {
                analysis["lastUpdated"] = json!(timestamp.to_string());
            }
            let version_status = match first.status {
                VexStatus::Affected => "affected",
                VexStatus::UnderInvestigation => "unknown",
                VexStatus::Fixed | VexStatus::NotAffected => "unaffected",
            };
            let affects: Vec<Value> = members
                .iter()
                .map(|s| {
                    let mut affected = json!({"ref": s.product.id});
                    if !s.product.bounds.is_unbounded() {
                        let range = write_vers(&vers_scheme(&s.product.id), &s.product.bounds);
                        affected["versions"] = json!([{"range": range, "status": version_status}]);
                    }
                    affected
                })
                .collect();
            json!({
                "id": first.vulnerability,
                "analysis": analysis,
                "affects": affects,
            })
        })
        .collect();
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number,
        "version": 1,
        "metadata": {
            "timestamp": timestamp.to_string(),
            "authors": [{"name": author}],
            "tools": {"components": [{
                "type": "application",
                "name": "iotmark",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
        },
        "components": components,
        "vulnerabilities": vulnerabilities,
    })
}

/// A component for a product: named after the purl's name or the CPE's product.
fn component(id: &str) -> Value {
    if let Some(purl) = Purl::parse(id) {
        let mut c = json!({"type": "library", "bom-ref": id, "name": purl.name, "purl": id});
        if let Some(version) = purl.version {
            c["version"] = json!(version);
        }
        return c;
    }
    if let Ok(cpe) = crate::cpe::Cpe::parse(id) {
        let mut c = json!({
            "type": "library",
            "bom-ref": id,
            "name": cpe.product().unwrap_or(id),
            "cpe": id,
        });
        if let Some(version) = cpe.version() {
            c["version"] = json!(version);
        }
        return c;
    }
    json!({"type": "library", "bom-ref": id, "name": id})
}
