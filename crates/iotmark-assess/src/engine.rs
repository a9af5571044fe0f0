//! The assessment: a finding per requirement of a scheme, each resting on named evidence.
//!
//! For each requirement the scheme selects, in order of precedence:
//! 1. a tester's verdict on it decides;
//! 2. it is not applicable when its rule's `applies_if` fails, or the manufacturer claims so
//!    with a justification;
//! 3. failing evidence (an observation or document that failed, including one the claim
//!    cites), or a declared fact in the rule's `fails_if`, makes it not satisfied;
//! 4. the rule's `satisfied_if` facts, passing evidence, or an implemented claim backed by
//!    evidence that exists make it satisfied;
//! 5. otherwise it needs review: a person must look.
//!
//! Evidence counts where it was aimed (`bears_on`, or a check the rule names) and, through
//! the bundled mappings, one hop further: a failure counts for every mapped requirement; a pass
//! only where the evidence's requirement covers the other (equivalent to, or a superset of it).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use iotmark_catalogs::{Bundle, Relationship};
use iotmark_declare::{ClaimStatus, Declaration};
use iotmark_evidence::{
    Body, DocumentResult, Evidence, EvidenceSet, ObservationResult, VerdictResult,
};
use serde::Serialize;
use serde_json::Value;

use crate::condition::{Facts, all_hold};
use crate::rules::RuleBook;
use crate::scheme::{Route, Scheme};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NotSatisfied,
    NeedsReview,
    Satisfied,
    NotApplicable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Satisfied => "satisfied",
            Status::NotSatisfied => "not-satisfied",
            Status::NotApplicable => "not-applicable",
            Status::NeedsReview => "needs-review",
        }
    }
}

/// A piece of evidence a finding rests on.
#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRef {
    pub id: String,
    pub summary: String,
    /// Where the evidence was made: a file in an image or a host and port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The requirement it was aimed at, when it counts here through a mapping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// The verdict for one requirement.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub requirement: String,
    pub label: String,
    pub title: String,
    /// The requirement's top-level group (capability, clause, outcome) for coverage.
    pub area: String,
    pub mandatory: bool,
    pub status: Status,
    /// Why, in one sentence.
    pub reason: String,
    pub evidence: Vec<EvidenceRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The whole result.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub product_id: String,
    pub product: String,
    pub scheme: String,
    pub scheme_title: String,
    pub catalog: String,
    pub tier: String,
    pub tier_title: String,
    pub route: Route,
    pub assessed_on: String,
    pub findings: Vec<Finding>,
    /// Scheme obligations the declaration does not meet (support period too short, …).
    pub obligations: Vec<String>,
    /// Evidence left out because it is about something else: a component the declaration
    /// does not have, or a firmware image other than the ones declared.
    pub ignored_evidence: Vec<String>,
}

impl Assessment {
    pub fn count(&self, status: Status, mandatory_only: bool) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == status && (!mandatory_only || f.mandatory))
            .count()
    }

    /// Conforms: no mandatory requirement unmet or unresolved, and every obligation met.
    pub fn verdict(&self) -> Verdict {
        if self.count(Status::NotSatisfied, true) > 0 || !self.obligations.is_empty() {
            Verdict::DoesNotConform
        } else if self.count(Status::NeedsReview, true) > 0 {
            Verdict::Undetermined
        } else {
            Verdict::Conforms
        }
    }

    /// The gaps in the order to fix them: mandatory first, failures before open questions,
    /// then catalog order.
    pub fn gaps(&self) -> Vec<&Finding> {
        let mut gaps: Vec<(usize, &Finding)> = self
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f.status, Status::NotSatisfied | Status::NeedsReview))
            .collect();
        gaps.sort_by_key(|(i, f)| (!f.mandatory, f.status, *i));
        gaps.into_iter().map(|(_, f)| f).collect()
    }

    /// Per area: (satisfied, not satisfied, needs review, not applicable), in catalog order.
    pub fn coverage(&self) -> Vec<(String, [usize; 4])> {
        let mut order: Vec<String> = Vec::new();
        let mut counts: HashMap<String, [usize; 4]> = HashMap::new();
        for f in &self.findings {
            if !counts.contains_key(&f.area) {
                order.push(f.area.clone());
            }
            let slot = match f.status {
                Status::Satisfied => 0,
                Status::NotSatisfied => 1,
                Status::NeedsReview => 2,
                Status::NotApplicable => 3,
            };
            counts.entry(f.area.clone()).or_default()[slot] += 1;
        }
        order
            .into_iter()
            .map(|a| {
                let c = counts[&a];
                (a, c)
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Conforms,
    Undetermined,
    DoesNotConform,
}

/// Everything an assessment needs besides the declaration; built once, reused for many.
#[derive(Debug)]
pub struct Assessor<'b> {
    pub bundle: &'b Bundle,
    pub rules: RuleBook,
    pub today: jiff::civil::Date,
}

struct Target<'a> {
    id: &'a str,
    label: &'a str,
    title: &'a str,
    area: String,
    status_prop: Option<&'a str>,
}

impl<'b> Assessor<'b> {
    pub fn assess(
        &self,
        declaration: &Declaration,
        evidence: &EvidenceSet,
        scheme: &Scheme,
    ) -> Assessment {
        let value = serde_json::to_value(declaration).unwrap_or(Value::Null);
        let facts = Facts {
            declaration: &value,
            today: self.today,
        };
        let tier = scheme.tier(facts);
        let set = scheme.requirements_for(tier);
        let (relevant, ignored_evidence) = relevant_evidence(declaration, evidence);
        let evidence: &EvidenceSet = &relevant;
        let evidence_index = EvidenceIndex::build(evidence, self.bundle);

        let mut findings = Vec::new();
        if let Some(catalog) = self.bundle.catalog(&scheme.catalog) {
            let mut targets: Vec<Target<'_>> = Vec::new();
            // The walk is depth first, so the last top-level control seen encloses any
            // nested one that follows.
            let mut top_title = String::new();
            catalog.catalog.walk(|r| {
                let c = r.control;
                if r.parent.is_none() {
                    top_title.clone_from(&c.title);
                }
                if set.includes(&c.id, c.class.as_deref(), c.prop("status", None)) {
                    // The area is the outermost enclosing control, else the innermost group.
                    let area = match r.parent {
                        Some(_) => top_title.clone(),
                        None => r
                            .groups
                            .last()
                            .map(|g| g.title.clone())
                            .unwrap_or_else(|| c.title.clone()),
                    };
                    targets.push(Target {
                        id: &c.id,
                        label: c.label(),
                        title: &c.title,
                        area,
                        status_prop: c.prop("status", None),
                    });
                }
            });
            for t in targets {
                let mandatory = set.is_mandatory(t.id, t.status_prop);
                let mut finding = self.decide(t.id, declaration, facts, &evidence_index, evidence);
                finding.requirement = t.id.to_owned();
                finding.label = t.label.to_owned();
                finding.title = t.title.to_owned();
                finding.area = t.area;
                finding.mandatory = mandatory;
                findings.push(finding);
            }
        }

        let mut obligations = Vec::new();
        if let Some(years) = scheme.obligations.minimum_support_years.filter(|y| *y > 0) {
            let needed = self
                .today
                .checked_add(jiff::Span::new().years(i64::from(years)))
                .unwrap_or(self.today);
            match declaration.updates.support_end.as_deref().and_then(|d| d.parse::<jiff::civil::Date>().ok()) {
                Some(end) if end >= needed => {}
                Some(end) => obligations.push(format!("the scheme requires security updates for at least {years} year(s), until {needed} or later; the declared support ends on {end}")),
                None => obligations.push(format!("the scheme requires a declared support period of at least {years} year(s); none is declared")),
            }
        }

        Assessment {
            product_id: declaration.product.id.clone(),
            product: format!(
                "{} {} ({})",
                declaration.product.manufacturer.name,
                declaration.product.name,
                declaration.product.model
            ),
            scheme: scheme.id.clone(),
            scheme_title: scheme.title.clone(),
            catalog: scheme.catalog.clone(),
            tier: tier.map(|t| t.id.clone()).unwrap_or_default(),
            tier_title: tier.map(|t| t.title.clone()).unwrap_or_default(),
            route: tier
                .map(|t| t.route)
                .unwrap_or(Route::ThirdPartyTestingWithPenetrationTesting),
            assessed_on: self.today.to_string(),
            findings,
            obligations,
            ignored_evidence,
        }
    }

    fn decide(
        &self,
        id: &str,
        declaration: &Declaration,
        facts: Facts<'_>,
        index: &EvidenceIndex,
        evidence: &EvidenceSet,
    ) -> Finding {
        let rule = self.rules.get(id);
        let claim = declaration.claims.get(id);
        let fix = rule.map(|r| r.fix.clone());
        let finding = |status: Status, reason: String, evidence: Vec<EvidenceRef>| Finding {
            requirement: String::new(),
            label: String::new(),
            title: String::new(),
            area: String::new(),
            mandatory: false,
            status,
            reason,
            evidence,
            fix: if matches!(status, Status::NotSatisfied | Status::NeedsReview) {
                fix.clone()
            } else {
                None
            },
        };

        // 1. A tester's verdict decides.
        // The most recent verdict counts: a re-test supersedes the first test.
        if let Some((e, v)) = index
            .verdicts
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|eid| evidence.get(eid))
            .filter_map(|e| match &e.body {
                Body::Verdict(v) => Some((e, v)),
                _ => None,
            })
            .max_by_key(|(e, _)| collected(e))
        {
            let status = match v.result {
                VerdictResult::Satisfied => Status::Satisfied,
                VerdictResult::NotSatisfied => Status::NotSatisfied,
                VerdictResult::NotApplicable => Status::NotApplicable,
            };
            let reason = format!(
                "{} by {} ({}){}",
                status.as_str(),
                v.tester,
                v.method.oscal().to_lowercase(),
                v.notes
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
            return finding(status, reason, vec![reference(e, None)]);
        }

        // 2. Applicability.
        if let Some(rule) = rule
            && !all_hold(&rule.applies_if, facts)
        {
            let reason = rule.not_applicable_because.clone().unwrap_or_else(|| {
                format!(
                    "does not apply: {}",
                    rule.applies_if
                        .iter()
                        .map(|c| c.describe())
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            });
            return finding(Status::NotApplicable, reason, Vec::new());
        }
        if let Some(claim) = claim
            && claim.status == ClaimStatus::NotApplicable
        {
            let why = claim.justification.clone().unwrap_or_default();
            return finding(
                Status::NotApplicable,
                format!("the manufacturer declares it not applicable: {why}"),
                Vec::new(),
            );
        }

        // Evidence bearing on this requirement, directly or through a mapping.
        let checks: &[String] = rule.map(|r| r.checks.as_slice()).unwrap_or_default();
        let bearing = index.bearing(id, checks, evidence);
        // A record the manufacturer's claim cites is aimed at the requirement too: if it
        // failed, it cannot back the claim.
        let cited_failures = claim
            .into_iter()
            .flat_map(|c| &c.evidence)
            .filter_map(|eid| evidence.get(eid))
            .filter(|e| fails(e) && !bearing.iter().any(|(b, _, _)| b.id == e.id))
            .map(|e| reference(e, None));
        let failures: Vec<EvidenceRef> = bearing
            .iter()
            .filter(|(e, _, _)| fails(e))
            .map(|(e, via, _)| reference(e, via.clone()))
            .chain(cited_failures)
            .collect();

        // 3. Failures.
        if !failures.is_empty() {
            let first = &failures[0];
            return finding(
                Status::NotSatisfied,
                format!("evidence shows it is not met: {}", first.summary),
                failures,
            );
        }
        if let Some(rule) = rule
            && let Some(broken) = rule.fails_if.iter().find(|c| c.holds(facts))
        {
            return finding(
                Status::NotSatisfied,
                format!("the declaration states that {}", broken.describe()),
                Vec::new(),
            );
        }

        // 4. Satisfaction.
        let passes: Vec<EvidenceRef> = bearing
            .iter()
            .filter(|(e, _, covers)| *covers && passes(e))
            .map(|(e, via, _)| reference(e, via.clone()))
            .collect();
        if let Some(rule) = rule
            && !rule.satisfied_if.is_empty()
            && all_hold(&rule.satisfied_if, facts)
        {
            let why = rule
                .satisfied_if
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join(" and ");
            return finding(
                Status::Satisfied,
                format!("the declaration states that {why}"),
                passes,
            );
        }
        if !passes.is_empty() {
            return finding(
                Status::Satisfied,
                format!("evidence shows it is met: {}", passes[0].summary),
                passes,
            );
        }
        if let Some(claim) = claim {
            // Only evidence that shows something passing backs a claim; an `info` observation
            // or an inconclusive document is cited, but does not settle it.
            let cited: Vec<&Evidence> = claim
                .evidence
                .iter()
                .filter_map(|eid| evidence.get(eid))
                .collect();
            let backing: Vec<EvidenceRef> = cited.iter().map(|e| reference(e, None)).collect();
            let all_pass = cited.iter().all(|e| {
                self::passes(e)
                    || matches!(&e.body, Body::Verdict(v) if v.result == VerdictResult::Satisfied)
            });
            let missing: Vec<&String> = claim
                .evidence
                .iter()
                .filter(|eid| evidence.get(eid).is_none())
                .collect();
            match claim.status {
                ClaimStatus::Implemented
                    if !backing.is_empty() && missing.is_empty() && !all_pass =>
                {
                    return finding(
                        Status::NeedsReview,
                        "claimed implemented; the evidence it cites does not show a pass"
                            .to_owned(),
                        backing,
                    );
                }
                ClaimStatus::Implemented if !backing.is_empty() && missing.is_empty() => {
                    let statement = claim
                        .statement
                        .clone()
                        .unwrap_or_else(|| "implemented".to_owned());
                    return finding(
                        Status::Satisfied,
                        format!("claimed and backed by evidence: {statement}"),
                        backing,
                    );
                }
                ClaimStatus::Implemented if !missing.is_empty() => {
                    let list = missing
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ");
                    return finding(
                        Status::NeedsReview,
                        format!(
                            "claimed implemented, but the evidence it cites is missing: {list}"
                        ),
                        backing,
                    );
                }
                ClaimStatus::Implemented => {
                    return finding(
                        Status::NeedsReview,
                        "claimed implemented, with no evidence to show it".to_owned(),
                        Vec::new(),
                    );
                }
                ClaimStatus::Planned => {
                    return finding(
                        Status::NotSatisfied,
                        "the manufacturer declares it planned, not implemented".to_owned(),
                        backing,
                    );
                }
                ClaimStatus::Partial => {
                    return finding(
                        Status::NeedsReview,
                        "the manufacturer declares it partly implemented".to_owned(),
                        backing,
                    );
                }
                ClaimStatus::NotApplicable => {}
            }
        }

        // 5. Nothing decides it.
        finding(
            Status::NeedsReview,
            "no declared fact, claim or evidence decides it".to_owned(),
            Vec::new(),
        )
    }
}

/// The evidence about this product version: records naming a declared component, and, when
/// they name an image digest, one of that component's declared images. The rest is returned
/// as reasons, so a report says what it did not count.
fn relevant_evidence<'e>(
    declaration: &Declaration,
    evidence: &'e EvidenceSet,
) -> (Cow<'e, EvidenceSet>, Vec<String>) {
    let reason_for = |e: &Evidence| {
        let component = declaration
            .components
            .iter()
            .find(|c| c.id == e.subject.component);
        match (component, &e.subject.sha256) {
            (None, _) => Some(format!(
                "{}: about component `{}`, which the declaration does not list",
                e.id, e.subject.component
            )),
            (Some(c), Some(digest))
                if !c
                    .firmware
                    .iter()
                    .any(|f| f.sha256.eq_ignore_ascii_case(digest)) =>
            {
                Some(format!(
                    "{}: about firmware {digest}, not an image declared for `{}`",
                    e.id, c.id
                ))
            }
            _ => None,
        }
    };
    let ignored: Vec<String> = evidence.iter().filter_map(reason_for).collect();
    if ignored.is_empty() {
        // The usual case: everything is about this version; no copy.
        return (Cow::Borrowed(evidence), ignored);
    }
    let mut kept = EvidenceSet::default();
    for e in evidence.iter().filter(|e| reason_for(e).is_none()) {
        // Records come from a set with unique IDs, so inserting cannot fail.
        let _ = kept.insert(e.clone(), std::path::PathBuf::new());
    }
    (Cow::Owned(kept), ignored)
}

/// When a record was collected, for ordering; unparseable times sort first.
fn collected(e: &Evidence) -> jiff::Timestamp {
    e.collected_at.parse().unwrap_or(jiff::Timestamp::MIN)
}

fn fails(e: &Evidence) -> bool {
    match &e.body {
        Body::Observation(o) => o.result == ObservationResult::Fail,
        Body::Document(d) => d.result == DocumentResult::Fail,
        Body::Verdict(_) => false,
    }
}

fn passes(e: &Evidence) -> bool {
    match &e.body {
        Body::Observation(o) => o.result == ObservationResult::Pass,
        Body::Document(d) => d.result == DocumentResult::Pass,
        Body::Verdict(_) => false,
    }
}

fn reference(e: &Evidence, via: Option<String>) -> EvidenceRef {
    let (summary, location) = match &e.body {
        Body::Observation(o) => (
            format!(
                "{} ({} {}): {}",
                o.check, o.tool.name, o.tool.version, o.message
            ),
            Some(o.location.to_string()),
        ),
        Body::Document(d) => (
            format!(
                "document \"{}\" inspected by {}: {:?}",
                d.title, d.inspector, d.result
            )
            .to_lowercase(),
            Some(d.location.clone()),
        ),
        Body::Verdict(v) => (
            format!("verdict by {}: {:?}", v.tester, v.result).to_lowercase(),
            None,
        ),
    };
    EvidenceRef {
        id: e.id.clone(),
        summary,
        location,
        via,
    }
}

/// Evidence by the requirement it bears on, with mapped requirements resolved once.
struct EvidenceIndex {
    /// Requirement → evidence IDs aimed at it (observations and documents).
    direct: HashMap<String, Vec<String>>,
    /// Requirement → tester verdict IDs on it.
    verdicts: HashMap<String, Vec<String>>,
    /// Check ID → evidence IDs.
    by_check: HashMap<String, Vec<String>>,
    /// Requirement → (evidence ID, aimed-at requirement, whether a pass covers this one).
    mapped: HashMap<String, Vec<(String, String, bool)>>,
}

impl EvidenceIndex {
    fn build(evidence: &EvidenceSet, bundle: &Bundle) -> Self {
        let mut direct: HashMap<String, Vec<String>> = HashMap::new();
        let mut verdicts: HashMap<String, Vec<String>> = HashMap::new();
        let mut by_check: HashMap<String, Vec<String>> = HashMap::new();
        let mut mapped: HashMap<String, Vec<(String, String, bool)>> = HashMap::new();
        for e in evidence.iter() {
            if let Body::Verdict(v) = &e.body {
                verdicts
                    .entry(v.requirement.clone())
                    .or_default()
                    .push(e.id.clone());
                continue;
            }
            if let Body::Observation(o) = &e.body {
                by_check
                    .entry(o.check.clone())
                    .or_default()
                    .push(e.id.clone());
            }
            for req in &e.bears_on {
                direct.entry(req.clone()).or_default().push(e.id.clone());
                for hop in bundle.crosswalk().neighbours(req) {
                    // "req R other": a pass on req covers other when req is equivalent to it
                    // or asks for more (superset).
                    let covers = matches!(
                        hop.relationship,
                        Relationship::EquivalentTo
                            | Relationship::EqualTo
                            | Relationship::SupersetOf
                    );
                    if hop.relationship != Relationship::NoRelationship {
                        mapped.entry(hop.to.clone()).or_default().push((
                            e.id.clone(),
                            req.clone(),
                            covers,
                        ));
                    }
                }
            }
        }
        Self {
            direct,
            verdicts,
            by_check,
            mapped,
        }
    }

    /// (evidence, via, pass-covers) for a requirement, each record once, direct first.
    fn bearing<'e>(
        &self,
        id: &str,
        checks: &[String],
        evidence: &'e EvidenceSet,
    ) -> Vec<(&'e Evidence, Option<String>, bool)> {
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        let mut out = Vec::new();
        let direct = self.direct.get(id).into_iter().flatten().chain(
            checks
                .iter()
                .flat_map(|c| self.by_check.get(c).into_iter().flatten()),
        );
        for eid in direct {
            if seen.insert(eid.as_str(), ()).is_none()
                && let Some(e) = evidence.get(eid)
            {
                out.push((e, None, true));
            }
        }
        for (eid, via, covers) in self.mapped.get(id).into_iter().flatten() {
            if seen.insert(eid.as_str(), ()).is_none()
                && let Some(e) = evidence.get(eid)
            {
                out.push((e, Some(via.clone()), *covers));
            }
        }
        out
    }
}
