//! The assessment as OSCAL: an assessment plan (what is assessed, of what, by which
//! methods) and assessment results (observations from evidence, a finding per requirement).
//!
//! OSCAL's finding status has two states. Not applicable is recorded as `satisfied` with
//! reason `other`, and needs review as `not-satisfied` with reason `other`; iotmark's own
//! status rides along in a namespaced `assessment-status` prop so nothing is lost.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::engine::{Assessment, Status};

const NS: &str = "https://iotmark.dev/ns/oscal";

fn id(a: &Assessment, what: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "https://iotmark.dev/assessments/{}/{}/{}/{what}",
            a.product_id, a.scheme, a.assessed_on
        )
        .as_bytes(),
    )
    .to_string()
}

fn metadata(a: &Assessment, title: &str, timestamp: &str) -> Value {
    json!({
        "title": title,
        "last-modified": timestamp,
        "version": "1",
        "oscal-version": iotmark_oscal::OSCAL_VERSION,
        "props": [
            {"name": "scheme", "ns": NS, "value": a.scheme},
            {"name": "risk-tier", "ns": NS, "value": a.tier},
            {"name": "route", "ns": NS, "value": a.route.as_str()},
            {"name": "product-id", "ns": NS, "value": a.product_id},
        ],
    })
}

fn reviewed_controls(a: &Assessment) -> Value {
    json!({
        "control-selections": [{
            "description": format!("The requirements of {} that apply to tier {}.", a.scheme_title, a.tier),
            "include-controls": a.findings.iter().map(|f| json!({"control-id": f.requirement})).collect::<Vec<_>>(),
        }]
    })
}

/// The plan. `component_definition_href` names the product's exported component definition,
/// which stands in for the system security plan a product assessment does not have.
pub fn assessment_plan(a: &Assessment, component_definition_href: &str, timestamp: &str) -> Value {
    json!({"assessment-plan": {
        "uuid": id(a, "plan"),
        "metadata": metadata(a, &format!("Assessment plan: {} under {}", a.product, a.scheme_title), timestamp),
        "import-ssp": {"href": component_definition_href},
        "reviewed-controls": reviewed_controls(a),
        "assessment-subjects": [{
            "type": "component",
            "description": format!("{}: every component the declaration lists.", a.product),
            "include-all": {},
        }],
        "terms-and-conditions": {"parts": [{
            "name": "method",
            "title": "Route",
            "prose": format!("Conformity is shown by {} ({}).", a.route.describe(), a.route.as_str()),
        }]},
    }})
}

/// The results. `plan_href` names the plan they answer.
pub fn assessment_results(a: &Assessment, plan_href: &str, timestamp: &str) -> Value {
    let mut observations: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in &a.findings {
        for e in &f.evidence {
            if !seen.insert(e.id.clone()) {
                continue;
            }
            let mut obs = json!({
                "uuid": id(a, &format!("observation/{}", e.id)),
                "title": e.id,
                "description": e.summary,
                "methods": ["TEST"],
                "collected": a.assessed_on.clone() + "T00:00:00Z",
                "props": [{"name": "evidence-id", "ns": NS, "value": e.id}],
            });
            if let Some(location) = &e.location {
                obs["relevant-evidence"] =
                    json!([{"description": format!("Observed at {location}.")}]);
            }
            observations.push(obs);
        }
    }
    let findings: Vec<Value> = a
        .findings
        .iter()
        .map(|f| {
            let (state, reason) = match f.status {
                Status::Satisfied => ("satisfied", "pass"),
                Status::NotSatisfied => ("not-satisfied", "fail"),
                Status::NotApplicable => ("satisfied", "other"),
                Status::NeedsReview => ("not-satisfied", "other"),
            };
            let mut finding = json!({
                "uuid": id(a, &format!("finding/{}", f.requirement)),
                "title": format!("{} {}", f.label, f.title),
                "description": f.reason,
                "props": [
                    {"name": "assessment-status", "ns": NS, "value": f.status.as_str()},
                    {"name": "mandatory", "ns": NS, "value": if f.mandatory { "true" } else { "false" }},
                ],
                "target": {
                    "type": "objective-id",
                    "target-id": f.requirement,
                    "status": {"state": state, "reason": reason},
                },
            });
            if let Some(fix) = &f.fix {
                finding["remarks"] = json!(format!("Fix: {fix}"));
            }
            let related: Vec<Value> = f.evidence.iter().map(|e| json!({"observation-uuid": id(a, &format!("observation/{}", e.id))})).collect();
            if !related.is_empty() {
                finding["related-observations"] = Value::Array(related);
            }
            finding
        })
        .collect();
    let mut result = json!({
        "uuid": id(a, "result"),
        "title": format!("{} under {}", a.product, a.scheme_title),
        "description": format!("Verdict: {}.", crate::report::markdown::verdict_text(a.verdict())),
        "start": a.assessed_on.clone() + "T00:00:00Z",
        "reviewed-controls": reviewed_controls(a),
        "findings": findings,
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    json!({"assessment-results": {
        "uuid": id(a, "results"),
        "metadata": metadata(a, &format!("Assessment results: {} under {}", a.product, a.scheme_title), timestamp),
        "import-ap": {"href": plan_href},
        "results": [result],
    }})
}
