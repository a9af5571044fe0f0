//! SARIF 2.1.0, so CI systems show unmet requirements next to the declaration.
//!
//! Each assessed requirement is a reporting rule; each finding that is not met or needs review
//! is a result located in the declaration (at the claim for that requirement when there is
//! one). Not satisfied and mandatory is an `error`, not satisfied and recommended a `warning`,
//! and needs review a `note`.

use serde_json::{Value, json};

use crate::engine::{Assessment, Status};

/// `line_of(requirement)` gives the declaration line of the requirement's claim, if any.
pub fn render(
    a: &Assessment,
    declaration_uri: &str,
    line_of: &dyn Fn(&str) -> Option<usize>,
) -> Value {
    let rules: Vec<Value> = a
        .findings
        .iter()
        .map(|f| {
            json!({
                "id": f.requirement,
                "name": f.label,
                "shortDescription": {"text": format!("{} {}", f.label, f.title)},
                "help": {"text": f.fix.clone().unwrap_or_else(|| "See the requirement in the catalog.".to_owned())},
                "properties": {"tags": [a.catalog.clone(), f.area.clone()], "mandatory": f.mandatory},
            })
        })
        .collect();
    let results: Vec<Value> = a
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.status, Status::NotSatisfied | Status::NeedsReview))
        .map(|(index, f)| {
            let level = match (f.status, f.mandatory) {
                (Status::NotSatisfied, true) => "error",
                (Status::NotSatisfied, false) => "warning",
                _ => "note",
            };
            let mut text = format!("{} {} is {}: {}", f.label, f.title, f.status.as_str().replace('-', " "), f.reason);
            if let Some(fix) = &f.fix {
                text.push_str(&format!(" Fix: {fix}"));
            }
            json!({
                "ruleId": f.requirement,
                "ruleIndex": index,
                "level": level,
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": declaration_uri},
                        "region": {"startLine": line_of(&f.requirement).unwrap_or(1)}
                    }
                }],
                "properties": {"evidence": f.evidence.iter().map(|e| e.id.clone()).collect::<Vec<_>>()},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "iotmark",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://iotmark.dev",
                "rules": rules,
            }},
            "automationDetails": {"id": format!("iotmark/{}/{}", a.scheme, a.product_id)},
            "results": results,
            "invocations": [{"executionSuccessful": true}],
        }]
    })
}
