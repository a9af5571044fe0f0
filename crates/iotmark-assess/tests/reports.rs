//! The reports of the example under every bundled scheme: OSCAL that validates and parses,
//! SARIF with one rule per finding, a self-contained HTML page, and Markdown that lists the gaps
//! in the order to fix them.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
use common::*;

use std::collections::BTreeMap;

use iotmark_assess::report::{html, markdown, oscal, sarif};
use iotmark_assess::{Assessment, Assessor, RuleBook, Status, bundled_schemes};
use iotmark_catalogs::Bundle;
use iotmark_evidence::EvidenceSet;
use iotmark_oscal::ModelKind;
use iotmark_oscal::model::assessment::{AssessmentPlan, AssessmentResults};

const TIMESTAMP: &str = "2026-11-22T10:00:00Z";

/// The example assessed under every bundled scheme, with its evidence.
fn assessments() -> Vec<Assessment> {
    let assessor = Assessor {
        bundle: Bundle::get(),
        rules: RuleBook::bundled().unwrap(),
        today: TODAY,
    };
    let d = example();
    let e = EvidenceSet::load_dir(&example_dir().join("evidence")).unwrap();
    let all: Vec<Assessment> = bundled_schemes(Bundle::get())
        .unwrap()
        .iter()
        .map(|s| assessor.assess(&d, &e, s))
        .collect();
    assert_eq!(all.len(), 6);
    for a in &all {
        // Every scheme finds something wrong with the example, so the gap lists are not empty.
        assert!(a.count(Status::NotSatisfied, false) > 0, "{}", a.scheme);
        assert!(a.count(Status::NeedsReview, false) > 0, "{}", a.scheme);
    }
    all
}

fn gaps(a: &Assessment) -> Vec<&iotmark_assess::Finding> {
    a.findings
        .iter()
        .filter(|f| matches!(f.status, Status::NotSatisfied | Status::NeedsReview))
        .collect()
}

#[test]
fn oscal_plan_and_results_validate_and_parse() {
    for a in assessments() {
        let plan = oscal::assessment_plan(&a, "component-definition.json", TIMESTAMP);
        let violations = iotmark_oscal::validate_value(ModelKind::AssessmentPlan, &plan);
        assert!(violations.is_empty(), "{} plan: {violations:#?}", a.scheme);
        let typed: AssessmentPlan =
            serde_json::from_value(plan["assessment-plan"].clone()).unwrap();
        let plan_json = serde_json::to_value(&typed).unwrap();
        let selected = plan_json["reviewed-controls"]["control-selections"][0]["include-controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["control-id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        assert_eq!(
            selected,
            a.findings
                .iter()
                .map(|f| f.requirement.clone())
                .collect::<Vec<_>>(),
            "{}",
            a.scheme
        );

        let results = oscal::assessment_results(&a, "assessment-plan.json", TIMESTAMP);
        let violations = iotmark_oscal::validate_value(ModelKind::AssessmentResults, &results);
        assert!(
            violations.is_empty(),
            "{} results: {violations:#?}",
            a.scheme
        );
        let typed: AssessmentResults =
            serde_json::from_value(results["assessment-results"].clone()).unwrap();
        let json = serde_json::to_value(&typed).unwrap();
        let result = &json["results"][0];
        let findings = result["findings"].as_array().unwrap();
        assert_eq!(findings.len(), a.findings.len(), "{}", a.scheme);
        for (f, o) in a.findings.iter().zip(findings) {
            assert_eq!(o["target"]["target-id"], f.requirement.as_str());
            let (state, reason) = match f.status {
                Status::Satisfied => ("satisfied", "pass"),
                Status::NotSatisfied => ("not-satisfied", "fail"),
                Status::NotApplicable => ("satisfied", "other"),
                Status::NeedsReview => ("not-satisfied", "other"),
            };
            assert_eq!(o["target"]["status"]["state"], state, "{}", f.requirement);
            assert_eq!(o["target"]["status"]["reason"], reason, "{}", f.requirement);
            let props: BTreeMap<&str, &str> = o["props"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
                .collect();
            assert_eq!(props["assessment-status"], f.status.as_str());
            assert_eq!(
                props["mandatory"],
                if f.mandatory { "true" } else { "false" }
            );
            let related = o["related-observations"].as_array().map_or(0, |r| r.len());
            assert_eq!(related, f.evidence.len(), "{}", f.requirement);
        }
        // One observation per distinct evidence record the findings rest on, each linked.
        let mut cited: Vec<&str> = a
            .findings
            .iter()
            .flat_map(|f| f.evidence.iter().map(|e| e.id.as_str()))
            .collect();
        cited.sort();
        cited.dedup();
        let observations = result["observations"].as_array().unwrap();
        let mut titles: Vec<&str> = observations
            .iter()
            .map(|o| o["title"].as_str().unwrap())
            .collect();
        titles.sort();
        assert_eq!(titles, cited, "{}", a.scheme);
        let uuids: Vec<&str> = observations
            .iter()
            .map(|o| o["uuid"].as_str().unwrap())
            .collect();
        for o in findings {
            for r in o["related-observations"].as_array().into_iter().flatten() {
                assert!(uuids.contains(&r["observation-uuid"].as_str().unwrap()));
            }
        }
        // The plan and the results are stable for the same input.
        assert_eq!(
            results,
            oscal::assessment_results(&a, "assessment-plan.json", TIMESTAMP)
        );
    }
}

#[test]
fn sarif_has_a_rule_per_finding_and_results_for_the_gaps() {
    for a in assessments() {
        let lines = |id: &str| (id == "en303645-5.1-3").then_some(42);
        let s = sarif::render(&a, "declaration.yaml", &lines);
        assert_eq!(s["version"], "2.1.0");
        let run = &s["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert_eq!(
            rules
                .iter()
                .map(|r| r["id"].as_str().unwrap())
                .collect::<Vec<_>>(),
            a.findings
                .iter()
                .map(|f| f.requirement.as_str())
                .collect::<Vec<_>>(),
            "{}",
            a.scheme
        );
        let results = run["results"].as_array().unwrap();
        let expected = gaps(&a);
        assert_eq!(results.len(), expected.len(), "{}", a.scheme);
        let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
        for (r, f) in results.iter().zip(&expected) {
            assert_eq!(r["ruleId"], f.requirement.as_str());
            let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
            assert_eq!(rules[index]["id"], f.requirement.as_str());
            let level = match (f.status, f.mandatory) {
                (Status::NotSatisfied, true) => "error",
                (Status::NotSatisfied, false) => "warning",
                (Status::NeedsReview, _) => "note",
                other => panic!("{other:?} is not a gap"),
            };
            assert_eq!(r["level"], level, "{} {}", a.scheme, f.requirement);
            *levels.entry(level).or_default() += 1;
            let evidence: Vec<&str> = r["properties"]["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
                .collect();
            assert_eq!(
                evidence,
                f.evidence.iter().map(|e| e.id.as_str()).collect::<Vec<_>>()
            );
            let line = &r["locations"][0]["physicalLocation"]["region"]["startLine"];
            let want = if f.requirement == "en303645-5.1-3" {
                42
            } else {
                1
            };
            assert_eq!(line, want, "{}", f.requirement);
        }
        assert_eq!(
            levels.get("error").copied().unwrap_or(0),
            a.count(Status::NotSatisfied, true)
        );
        assert_eq!(
            levels.get("warning").copied().unwrap_or(0),
            a.count(Status::NotSatisfied, false) - a.count(Status::NotSatisfied, true)
        );
        assert_eq!(
            levels.get("note").copied().unwrap_or(0),
            a.count(Status::NeedsReview, false)
        );
        if a.scheme == "en303645-self-declaration" {
            // The example has mandatory failures, recommended failures and open questions.
            assert_eq!(levels["error"], 5);
            assert_eq!(levels["warning"], 4);
            assert!(levels["note"] > 0);
        }
    }
}

#[test]
fn html_is_self_contained_and_names_every_failure() {
    for a in assessments() {
        let page = html::render(&a);
        assert!(page.starts_with("<!DOCTYPE html>\n"), "{}", a.scheme);
        assert!(page.contains("<html lang=\"en\">"));
        assert!(page.trim_end().ends_with("</html>"));
        let lower = page.to_lowercase();
        assert!(!lower.contains("<script"), "{}: script", a.scheme);
        assert!(!lower.contains("src="), "{}: external source", a.scheme);
        assert!(!lower.contains("<link"), "{}: linked resource", a.scheme);
        assert!(!lower.contains("@import"), "{}: imported style", a.scheme);
        assert!(!lower.contains("url("), "{}: style url", a.scheme);
        for scheme in ["http://", "https://"] {
            assert!(!lower.contains(&format!("href=\"{scheme}")), "{}", a.scheme);
            assert!(!lower.contains(&format!("src=\"{scheme}")), "{}", a.scheme);
        }
        let mut failures = 0;
        for f in a
            .findings
            .iter()
            .filter(|f| f.status == Status::NotSatisfied)
        {
            failures += 1;
            let label = html::esc(&f.label);
            assert!(page.contains(&label), "{}: {} missing", a.scheme, f.label);
            assert!(
                page.contains(&format!(
                    "<strong>{} {}</strong>",
                    label,
                    html::esc(&f.title)
                )),
                "{}: {} is not in the gaps",
                a.scheme,
                f.requirement
            );
        }
        assert!(failures > 0);
        // Every finding is a row of the table.
        assert_eq!(
            page.matches("<tr><th scope=\"row\">").count(),
            a.findings.len() + a.coverage().len(),
            "{}",
            a.scheme
        );
    }
}

#[test]
fn markdown_lists_the_gaps_mandatory_first() {
    for a in assessments() {
        let md = markdown::render(&a);
        assert!(md.starts_with(&format!("# {}: ", a.product)));
        let section = md
            .split("## Gaps, in the order to fix them\n\n")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap();
        let items: Vec<&str> = section
            .lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
            .collect();
        let expected = a.gaps();
        assert_eq!(items.len(), gaps(&a).len(), "{}", a.scheme);
        assert_eq!(items.len(), expected.len());
        let mut seen_recommended = false;
        let mut last_mandatory_status = Status::NotSatisfied;
        for (i, (line, f)) in items.iter().zip(&expected).enumerate() {
            assert!(
                line.starts_with(&format!("{}. **{} ", i + 1, f.label)),
                "{}: item {i} is `{line}`, expected {}",
                a.scheme,
                f.requirement
            );
            let weight = if f.mandatory {
                "mandatory"
            } else {
                "recommended"
            };
            assert!(
                line.contains(&format!("({weight}, {})", f.status.as_str())),
                "{line}"
            );
            if f.mandatory {
                assert!(
                    !seen_recommended,
                    "{}: {line} after a recommendation",
                    a.scheme
                );
                // Within the mandatory gaps, failures come before open questions.
                assert!(f.status >= last_mandatory_status, "{line}");
                last_mandatory_status = f.status;
            } else {
                seen_recommended = true;
            }
        }
        let mandatory_gaps = expected.iter().filter(|f| f.mandatory).count();
        assert!(mandatory_gaps > 0, "{}", a.scheme);
        assert!(
            items[..mandatory_gaps]
                .iter()
                .all(|l| l.contains("(mandatory, ")),
            "{}",
            a.scheme
        );
        assert!(
            items[mandatory_gaps..]
                .iter()
                .all(|l| l.contains("(recommended, ")),
            "{}",
            a.scheme
        );
        if a.scheme == "en303645-self-declaration" {
            // The first gap is the first mandatory failure in catalog order.
            assert!(items[0].starts_with("1. **5.1-3 "), "{}", items[0]);
            assert!(md.contains("   - Evidence `scan-telnet`: firmware.services.telnet"));
        }
    }
}
