//! The SP 800-213 procurement check: which IoT device requirements an agency's SP 800-53
//! baseline leads to, and whether each candidate product meets them.
//!
//! The derivation follows SP 800-213A's own relations: a sub-capability of the 213A catalog
//! is required when any SP 800-53 Rev. 5 control it relates to (the bundled mapping
//! `sp800-213a__sp800-53`, from NIST's catalog-to-800-53 workbook) is in the baseline (NIST's
//! SP 800-53B LOW, MODERATE or HIGH profile, or the agency's tailored profile). Each product
//! is then assessed against the federal scheme narrowed to those requirements, as the
//! scheme's own tailoring note describes. For a requirement a product does not meet, the
//! baseline controls it relates to are the ones the agency must supply around the device
//! (its compensating controls, SP 800-213 §2.3).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use iotmark_assess::{Assessment, Assessor, RuleBook, Selection, Status};
use iotmark_catalogs::Bundle;
use iotmark_oscal::{Document, Loader};
use serde::Serialize;

use crate::assessment::{AssessmentError, check_declaration, resolve_scheme};

/// The scheme whose requirements are narrowed to the baseline.
pub const FEDERAL_SCHEME: &str = "us-federal-sp800-213";
const MAPPING: &str = "sp800-213a__sp800-53";

/// NIST's SP 800-53B baselines, as OSCAL profiles (public domain), compiled in from
/// `../shared/reference/nist-oscal-content/`.
macro_rules! baseline_profile {
    ($name:literal) => {
        include_str!(concat!(
            "../../../../shared/reference/nist-oscal-content/NIST_SP-800-53_rev5_",
            $name,
            "-baseline_profile.json"
        ))
    };
}

/// An SP 800-53B control baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Baseline {
    Low,
    Moderate,
    High,
}

impl Baseline {
    pub fn as_str(self) -> &'static str {
        match self {
            Baseline::Low => "low",
            Baseline::Moderate => "moderate",
            Baseline::High => "high",
        }
    }

    fn profile(self) -> &'static str {
        match self {
            Baseline::Low => baseline_profile!("LOW"),
            Baseline::Moderate => baseline_profile!("MODERATE"),
            Baseline::High => baseline_profile!("HIGH"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcureError {
    #[error("the bundled {0} is missing or invalid (a build defect)")]
    Bundled(&'static str),
    #[error("{path}: {source}")]
    Tailoring {
        path: PathBuf,
        source: Box<iotmark_oscal::LoadError>,
    },
    #[error(
        "{0}: a tailoring file is an OSCAL profile that names its controls (`include-controls` with `with-ids`); this one {1}"
    )]
    TailoringShape(PathBuf, &'static str),
    #[error(transparent)]
    Assessment(#[from] AssessmentError),
    #[error(transparent)]
    Assess(#[from] iotmark_assess::AssessError),
    #[error("{} is not a valid declaration; fix it first (`iotmark check {}`)", .0.display(), .0.display())]
    Invalid(PathBuf),
    #[error(transparent)]
    Evidence(#[from] iotmark_evidence::EvidenceError),
}

/// The controls a profile selects by ID: its `include-controls` minus its
/// `exclude-controls`, over every import.
fn selected_controls(profile: &iotmark_oscal::Profile) -> Option<BTreeSet<String>> {
    let mut include = BTreeSet::new();
    let mut exclude = BTreeSet::new();
    for import in &profile.imports {
        if import.include_all.is_some() {
            return None;
        }
        for select in &import.include_controls {
            include.extend(select.with_ids.iter().cloned());
        }
        for select in &import.exclude_controls {
            exclude.extend(select.with_ids.iter().cloned());
        }
    }
    Some(include.difference(&exclude).cloned().collect())
}

/// One IoT device requirement the baseline leads to.
#[derive(Debug, Clone, Serialize)]
pub struct DerivedRequirement {
    /// The 213A sub-capability (`sp800-213a-di-ims`).
    pub id: String,
    /// Its label in the publication (`DI(IMS)` style, as the catalog gives it).
    pub label: String,
    pub title: String,
    /// The baseline's controls that lead to it.
    pub because_of: Vec<String>,
}

/// Which 213A requirements a baseline leads to, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Derivation {
    /// `low`, `moderate`, `high`, or the tailoring profile's path.
    pub baseline: String,
    /// How many SP 800-53 controls the baseline selects.
    pub baseline_controls: usize,
    pub requirements: Vec<DerivedRequirement>,
    /// 213A sub-capabilities with SP 800-53 relations, none of them in the baseline.
    pub not_required: Vec<String>,
}

/// Derives the IoT device requirements of `baseline`, or of the agency's tailored profile
/// when `tailoring` is given (its selected controls replace the baseline's).
pub fn derive(baseline: Baseline, tailoring: Option<&Path>) -> Result<Derivation, ProcureError> {
    let (name, profile) = match tailoring {
        Some(path) => {
            let doc =
                Loader::default()
                    .load_path(path)
                    .map_err(|source| ProcureError::Tailoring {
                        path: path.to_owned(),
                        source: Box::new(source),
                    })?;
            let Document::Profile(profile) = doc else {
                return Err(ProcureError::TailoringShape(
                    path.to_owned(),
                    "is another OSCAL model",
                ));
            };
            (path.display().to_string(), *profile)
        }
        None => {
            let doc = Loader::default()
                .load_bytes(Path::new("baseline.json"), baseline.profile().as_bytes())
                .map_err(|_| ProcureError::Bundled("SP 800-53B baseline profile"))?;
            let Document::Profile(profile) = doc else {
                return Err(ProcureError::Bundled("SP 800-53B baseline profile"));
            };
            (baseline.as_str().to_owned(), *profile)
        }
    };
    let controls = selected_controls(&profile).ok_or_else(|| {
        ProcureError::TailoringShape(PathBuf::from(&name), "includes all controls")
    })?;
    let bundle = Bundle::get();
    let mapping = bundle
        .mappings()
        .iter()
        .find(|m| m.key == MAPPING)
        .ok_or(ProcureError::Bundled("SP 800-213A to SP 800-53 mapping"))?;
    let mut related: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for group in &mapping.collection.mappings {
        for map in &group.maps {
            for source in &map.sources {
                let entry = related.entry(source.id_ref.as_str()).or_default();
                entry.extend(map.targets.iter().map(|t| t.id_ref.as_str()));
            }
        }
    }
    let catalog = bundle
        .catalog("sp800-213a")
        .ok_or(ProcureError::Bundled("SP 800-213A catalog"))?;
    let mut requirements = Vec::new();
    let mut not_required = Vec::new();
    // Catalog order, so the table reads like the publication.
    catalog
        .catalog
        .walk(|r: iotmark_oscal::ControlRef<'_, '_>| {
            let control = r.control;
            let Some(rel) = related.get(control.id.as_str()) else {
                return;
            };
            let because: Vec<String> = rel
                .iter()
                .filter(|c| controls.contains(**c))
                .map(|c| (*c).to_owned())
                .collect();
            if because.is_empty() {
                not_required.push(control.id.clone());
            } else {
                requirements.push(DerivedRequirement {
                    id: control.id.clone(),
                    label: control.label().to_owned(),
                    title: control.title.clone(),
                    because_of: because,
                });
            }
        });
    Ok(Derivation {
        baseline: name,
        baseline_controls: controls.len(),
        requirements,
        not_required,
    })
}

/// A candidate product: its declaration and, optionally, its evidence folder.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The declaration file, or where `published` came from (a registry's product URL).
    pub declaration: PathBuf,
    pub evidence: Option<PathBuf>,
    /// The declaration's bytes when they were not read from a file: the declaration a
    /// manufacturer published to a registry.
    pub published: Option<Vec<u8>>,
}

/// One candidate's answer to each derived requirement.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    pub declaration: PathBuf,
    pub product_id: String,
    pub product: String,
    /// Requirement ID → status and why.
    pub statuses: BTreeMap<String, (Status, String)>,
    /// For each requirement not met (or not shown to be): the baseline controls the agency
    /// must supply itself.
    pub compensating: BTreeMap<String, Vec<String>>,
    pub met: usize,
    pub missing: usize,
    pub to_review: usize,
}

/// The side-by-side comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub derivation: Derivation,
    pub candidates: Vec<CandidateResult>,
}

/// Assesses each candidate against the derived requirements, as of `today`.
pub fn compare(
    derivation: Derivation,
    candidates: &[Candidate],
    today: jiff::civil::Date,
) -> Result<Comparison, ProcureError> {
    let bundle = Bundle::get();
    let mut scheme = resolve_scheme(FEDERAL_SCHEME, bundle)?;
    let ids: Vec<String> = derivation
        .requirements
        .iter()
        .map(|r| r.id.clone())
        .collect();
    scheme.requirements.include = Selection::Ids(ids.clone());
    scheme.requirements.mandatory = Selection::Ids(ids);
    let assessor = Assessor {
        bundle,
        rules: RuleBook::bundled()?,
        today,
    };
    let mut results = Vec::new();
    for candidate in candidates {
        let report = match &candidate.published {
            Some(bytes) => iotmark_declare::check(
                &candidate.declaration,
                bytes,
                &crate::assessment::known_requirement,
                today,
            ),
            None => check_declaration(&candidate.declaration, today)?,
        };
        let declaration = report
            .declaration
            .ok_or_else(|| ProcureError::Invalid(candidate.declaration.clone()))?;
        let evidence = match &candidate.evidence {
            Some(dir) => iotmark_evidence::EvidenceSet::load_dir(dir)?,
            None => iotmark_evidence::EvidenceSet::default(),
        };
        let assessment: Assessment = assessor.assess(&declaration, &evidence, &scheme);
        let mut statuses = BTreeMap::new();
        let mut compensating = BTreeMap::new();
        let (mut met, mut missing, mut to_review) = (0, 0, 0);
        for requirement in &derivation.requirements {
            let (status, reason) = assessment
                .findings
                .iter()
                .find(|f| f.requirement == requirement.id)
                .map_or((Status::NeedsReview, "not assessed".to_owned()), |f| {
                    (f.status, f.reason.clone())
                });
            match status {
                Status::Satisfied | Status::NotApplicable => met += 1,
                Status::NotSatisfied => missing += 1,
                Status::NeedsReview => to_review += 1,
            }
            if matches!(status, Status::NotSatisfied | Status::NeedsReview) {
                compensating.insert(requirement.id.clone(), requirement.because_of.clone());
            }
            statuses.insert(requirement.id.clone(), (status, reason));
        }
        results.push(CandidateResult {
            declaration: candidate.declaration.clone(),
            product_id: assessment.product_id.clone(),
            product: assessment.product.clone(),
            statuses,
            compensating,
            met,
            missing,
            to_review,
        });
    }
    Ok(Comparison {
        derivation,
        candidates: results,
    })
}

/// The namespace of iotmark's own OSCAL properties.
const NS: &str = "https://iotmark.dev/ns/oscal";

/// A stable UUID for what `name` names within this comparison's documents (v5, so the same
/// product keeps its component UUID from one plan to the next).
fn stable_uuid(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("{NS}/{name}").as_bytes(),
    )
    .to_string()
}

/// Each candidate's component UUID: stable per product, with the second and later
/// candidates of one product ID (two versions compared) told apart by their place.
fn component_uuids(comparison: &Comparison) -> Vec<String> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    comparison
        .candidates
        .iter()
        .map(|c| {
            let n = seen.entry(c.product_id.as_str()).or_default();
            let name = match *n {
                0 => format!("component/{}", c.product_id),
                k => format!("component/{}/{k}", c.product_id),
            };
            *n += 1;
            stable_uuid(&name)
        })
        .collect()
}

/// A candidate as an OSCAL system component: the device the agency would add to its system.
fn component_value(c: &CandidateResult, uuid: &str, baseline: &str) -> serde_json::Value {
    serde_json::json!({
        "uuid": uuid,
        "type": "hardware",
        "title": c.product,
        "description": format!(
            "IoT device {} ({}), assessed by iotmark procure against the SP 800-213A requirements of the {baseline} baseline: {} met, {} not met, {} to review.",
            c.product, c.product_id, c.met, c.missing, c.to_review
        ),
        "props": [
            {"name": "product-id", "ns": NS, "value": c.product_id},
            {"name": "requirements-met", "ns": NS, "value": c.met.to_string()},
            {"name": "requirements-not-met", "ns": NS, "value": c.missing.to_string()},
            {"name": "requirements-to-review", "ns": NS, "value": c.to_review.to_string()},
        ],
        "status": {"state": "under-development", "remarks": "A candidate for procurement; not yet deployed."},
    })
}

/// Why a POA&M or SSP could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OscalWriteError {
    #[error("the {0} iotmark built does not pass the OSCAL schema (a defect): {1}")]
    Invalid(&'static str, String),
}

fn typed<T: serde::de::DeserializeOwned>(
    what: &'static str,
    value: serde_json::Value,
) -> Result<T, OscalWriteError> {
    serde_json::from_value(value).map_err(|e| OscalWriteError::Invalid(what, e.to_string()))
}

/// The comparison's gaps as an OSCAL plan of action and milestones: each candidate a local
/// component, and for every requirement it does not show it meets, an open risk and a POA&M
/// item naming the baseline controls the agency supplies meanwhile.
pub fn poam(
    comparison: &Comparison,
    now: jiff::Timestamp,
) -> Result<iotmark_oscal::PlanOfActionAndMilestones, OscalWriteError> {
    let d = &comparison.derivation;
    let mut risks = Vec::new();
    let mut items = Vec::new();
    let uuids = component_uuids(comparison);
    for (c, component) in comparison.candidates.iter().zip(&uuids) {
        for r in &d.requirements {
            let Some(controls) = c.compensating.get(&r.id) else {
                continue;
            };
            let (status, reason) = &c.statuses[&r.id];
            let risk = stable_uuid(&format!("risk/{}/{component}/{}", d.baseline, r.id));
            let title = format!(
                "{}: {} {} {}",
                c.product,
                r.label,
                r.title,
                match status {
                    Status::NotSatisfied => "not met",
                    _ => "not shown to be met",
                }
            );
            risks.push(serde_json::json!({
                "uuid": risk,
                "title": title,
                "description": reason,
                "statement": format!(
                    "SP 800-213A {} is required by the {} baseline through {}. Until the device shows it supports it, the agency provides {} around the device.",
                    r.label, d.baseline, controls.join(", "), controls.join(", ")
                ),
                "props": [
                    {"name": "requirement", "ns": NS, "value": r.id},
                    {"name": "requirement-status", "ns": NS, "value": status.as_str()},
                ],
                "status": "open",
            }));
            items.push(serde_json::json!({
                "uuid": stable_uuid(&format!("poam-item/{}/{component}/{}", d.baseline, r.id)),
                "title": title,
                "description": format!(
                    "Obtain evidence from the manufacturer that {} supports SP 800-213A {} ({}), or implement the compensating controls {} for it.",
                    c.product, r.label, r.title, controls.join(", ")
                ),
                "props": [
                    {"name": "component", "ns": NS, "value": component},
                    {"name": "compensating-controls", "ns": NS, "value": controls.join(" ")},
                ],
                "related-risks": [{"risk-uuid": risk}],
            }));
        }
    }
    let components: Vec<serde_json::Value> = comparison
        .candidates
        .iter()
        .zip(&uuids)
        .map(|(c, uuid)| component_value(c, uuid, &d.baseline))
        .collect();
    let mut poam = serde_json::json!({
        "uuid": uuid::Uuid::new_v4().to_string(),
        "metadata": {
            "title": format!("IoT device procurement gaps, SP 800-53B {} baseline (SP 800-213)", d.baseline),
            "last-modified": now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "version": "1",
            "oscal-version": iotmark_oscal::OSCAL_VERSION,
        },
        "local-definitions": {"components": components},
        "poam-items": items,
    });
    if !risks.is_empty() {
        poam["risks"] = serde_json::Value::Array(risks);
    }
    let document = serde_json::json!({"plan-of-action-and-milestones": poam});
    let violations = iotmark_oscal::validate_value(
        iotmark_oscal::ModelKind::PlanOfActionAndMilestones,
        &document,
    );
    if let Some(v) = violations.first() {
        return Err(OscalWriteError::Invalid(
            "POA&M",
            format!("{}: {}", v.pointer, v.message),
        ));
    }
    typed("POA&M", poam)
}

/// Adds each candidate to the SSP's system implementation as a component (replacing one
/// added before for the same product) and marks the plan modified.
pub fn attach_to_ssp(
    ssp: &mut iotmark_oscal::SystemSecurityPlan,
    comparison: &Comparison,
    now: jiff::Timestamp,
) -> Result<(), OscalWriteError> {
    let uuids = component_uuids(comparison);
    for (c, uuid) in comparison.candidates.iter().zip(&uuids) {
        let value = component_value(c, uuid, &comparison.derivation.baseline);
        ssp.add_component(typed("SSP component", value)?);
    }
    ssp.metadata.last_modified = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    Ok(())
}
