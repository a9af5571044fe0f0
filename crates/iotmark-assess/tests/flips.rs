//! Findings that flip when one piece of evidence or one declared fact changes, following the
//! engine's order of precedence: verdict, applicability, failure, satisfaction, review.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
use common::*;

use std::path::PathBuf;

use iotmark_assess::{Assessment, Assessor, Finding, RuleBook, Status, Verdict};
use iotmark_catalogs::{Bundle, Relationship};
use iotmark_declare::{Claim, ClaimStatus, Declaration};
use iotmark_evidence::{Evidence, EvidenceSet};
use serde_json::json;

const EN: &str = "en303645-self-declaration";
/// Needs review in the example: no fact, claim or evidence bears on it.
const OPEN: &str = "en303645-5.5-5";
/// A check no rule names, so evidence counts only where `bears_on` aims it.
const UNNAMED_CHECK: &str = "manual.config-review";

fn with(mut set: EvidenceSet, records: impl IntoIterator<Item = Evidence>) -> EvidenceSet {
    for r in records {
        set.insert(r, PathBuf::from("test")).unwrap();
    }
    set
}

fn assess(d: &Declaration, e: &EvidenceSet, scheme_id: &str) -> Assessment {
    Assessor {
        bundle: Bundle::get(),
        rules: RuleBook::bundled().unwrap(),
        today: TODAY,
    }
    .assess(d, e, &scheme(scheme_id))
}

fn finding<'a>(a: &'a Assessment, id: &str) -> &'a Finding {
    a.findings
        .iter()
        .find(|f| f.requirement == id)
        .unwrap_or_else(|| panic!("{id} is not assessed under {}", a.scheme))
}

fn evidence_ids(f: &Finding) -> Vec<(&str, Option<&str>)> {
    f.evidence
        .iter()
        .map(|e| (e.id.as_str(), e.via.as_deref()))
        .collect()
}

fn observation(id: &str, bears_on: &[&str], check: &str, result: &str) -> Evidence {
    serde_json::from_value(json!({
        "id": id,
        "kind": "observation",
        "collected_at": "2026-11-21T08:00:00Z",
        "subject": {"component": "camera"},
        "bears_on": bears_on,
        "tool": {"name": "test-probe", "version": "1.0"},
        "check": check,
        "result": result,
        "severity": "high",
        "location": {"host": "192.0.2.10", "port": 1883, "protocol": "mqtt"},
        "message": format!("{check} gave {result}"),
    }))
    .unwrap()
}

fn document(id: &str, bears_on: &[&str], result: &str) -> Evidence {
    serde_json::from_value(json!({
        "id": id,
        "kind": "document",
        "collected_at": "2026-11-21T08:00:00Z",
        "subject": {"component": "camera"},
        "bears_on": bears_on,
        "title": "Configuration hardening guide",
        "location": "docs/hardening.pdf",
        "sha256": "0".repeat(64),
        "result": result,
        "inspector": "A. Tester",
    }))
    .unwrap()
}

fn verdict(id: &str, requirement: &str, result: &str) -> Evidence {
    serde_json::from_value(json!({
        "id": id,
        "kind": "verdict",
        "collected_at": "2026-11-21T12:00:00Z",
        "subject": {"component": "camera"},
        "bears_on": [requirement],
        "method": "test",
        "requirement": requirement,
        "result": result,
        "tester": "T. Lab",
    }))
    .unwrap()
}

#[test]
fn the_chosen_check_is_named_by_no_rule() {
    let book = RuleBook::bundled().unwrap();
    assert!(
        book.iter()
            .all(|r| !r.checks.iter().any(|c| c == UNNAMED_CHECK))
    );
}

// a.
#[test]
fn a_failing_observation_makes_an_open_requirement_not_satisfied() {
    let d = example();
    let before = assess(&d, &example_evidence(), EN);
    let f = finding(&before, OPEN);
    assert_eq!(f.status, Status::NeedsReview);
    assert!(f.mandatory);
    assert!(f.evidence.is_empty());
    assert_eq!(f.reason, "no declared fact, claim or evidence decides it");
    assert!(f.fix.is_some());

    let e = with(
        example_evidence(),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "fail")],
    );
    let after = assess(&d, &e, EN);
    let f = finding(&after, OPEN);
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("obs-mqtt", None)]);
    assert_eq!(
        f.reason,
        format!(
            "evidence shows it is not met: {UNNAMED_CHECK} (test-probe 1.0): {UNNAMED_CHECK} gave fail"
        )
    );
    assert_eq!(
        f.evidence[0].location.as_deref(),
        Some("mqtt://192.0.2.10:1883")
    );
    let rule_fix = RuleBook::bundled().unwrap().get(OPEN).unwrap().fix.clone();
    assert_eq!(f.fix.as_deref(), Some(rule_fix.as_str()));
    // Nothing else moved.
    for (x, y) in before.findings.iter().zip(&after.findings) {
        if x.requirement != OPEN {
            assert_eq!(
                (x.requirement.as_str(), x.status),
                (y.requirement.as_str(), y.status)
            );
        }
    }
}

// b.
#[test]
fn a_passing_observation_makes_it_satisfied() {
    let e = with(
        example_evidence(),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "pass")],
    );
    let a = assess(&example(), &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::Satisfied);
    assert_eq!(evidence_ids(f), [("obs-mqtt", None)]);
    assert!(
        f.reason.starts_with("evidence shows it is met: "),
        "{}",
        f.reason
    );
    assert_eq!(f.fix, None);

    // An informational observation decides nothing.
    let e = with(
        example_evidence(),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "info")],
    );
    assert_eq!(
        finding(&assess(&example(), &e, EN), OPEN).status,
        Status::NeedsReview
    );

    // One failure outweighs any number of passes.
    let e = with(
        example_evidence(),
        [
            observation("obs-a", &[OPEN], UNNAMED_CHECK, "pass"),
            observation("obs-b", &[OPEN], UNNAMED_CHECK, "fail"),
            observation("obs-c", &[OPEN], UNNAMED_CHECK, "pass"),
        ],
    );
    let a = assess(&example(), &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("obs-b", None)]);
}

// c.
#[test]
fn a_tester_verdict_overrides_a_failing_observation() {
    let failing = observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "fail");
    let e = with(
        example_evidence(),
        [failing.clone(), verdict("verdict-mqtt", OPEN, "satisfied")],
    );
    let a = assess(&example(), &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::Satisfied);
    assert_eq!(evidence_ids(f), [("verdict-mqtt", None)]);
    assert_eq!(f.reason, "satisfied by T. Lab (test)");
    assert_eq!(f.fix, None);

    // And the other way: a not-satisfied verdict beats a declared fact that satisfies.
    let e = with(
        example_evidence(),
        [verdict("verdict-pw", "en303645-5.1-1", "not-satisfied")],
    );
    let a = assess(&example(), &e, EN);
    let f = finding(&a, "en303645-5.1-1");
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("verdict-pw", None)]);

    // A verdict only decides the requirement it names, whatever else it bears on.
    let mut v = verdict("verdict-other", "en303645-5.5-4", "satisfied");
    v.bears_on = vec![OPEN.to_owned()];
    let e = with(example_evidence(), [failing, v]);
    let a = assess(&example(), &e, EN);
    assert_eq!(finding(&a, OPEN).status, Status::NotSatisfied);
    assert_eq!(finding(&a, "en303645-5.5-4").status, Status::Satisfied);
}

// d.
#[test]
fn an_implemented_claim_needs_the_evidence_it_cites() {
    let mut d = example();
    d.claims.insert(
        OPEN.to_owned(),
        Claim {
            status: ClaimStatus::Implemented,
            statement: Some("Every configuration change needs the owner's token.".to_owned()),
            justification: None,
            evidence: vec!["doc-hardening".to_owned()],
        },
    );
    let a = assess(&d, &example_evidence(), EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::NeedsReview);
    assert!(f.reason.contains("doc-hardening"), "{}", f.reason);
    assert_eq!(
        f.reason,
        "claimed implemented, but the evidence it cites is missing: doc-hardening"
    );
    assert!(f.evidence.is_empty());

    // The record exists, but bears on nothing: only the claim makes it count.
    let e = with(example_evidence(), [document("doc-hardening", &[], "pass")]);
    let a = assess(&d, &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::Satisfied);
    assert_eq!(evidence_ids(f), [("doc-hardening", None)]);
    assert_eq!(
        f.reason,
        "claimed and backed by evidence: Every configuration change needs the owner's token."
    );

    // Without the claim the same record decides nothing.
    let a = assess(&example(), &e, EN);
    assert_eq!(finding(&a, OPEN).status, Status::NeedsReview);

    // A cited record that failed does not back the claim: it is failing evidence.
    let failed = with(example_evidence(), [document("doc-hardening", &[], "fail")]);
    let a = assess(&d, &failed, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("doc-hardening", None)]);
    assert!(
        f.reason.starts_with("evidence shows it is not met: "),
        "{}",
        f.reason
    );

    // An implemented claim with no evidence at all is still open.
    d.claims.get_mut(OPEN).unwrap().evidence.clear();
    let a = assess(&d, &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::NeedsReview);
    assert_eq!(f.reason, "claimed implemented, with no evidence to show it");
}

// e.
#[test]
fn a_declared_fact_in_fails_if_makes_it_not_satisfied() {
    // The EN 303 645 rules that an unsigned update contradicts.
    let book = RuleBook::bundled().unwrap();
    let mut unsigned: Vec<&str> = book
        .iter()
        .filter(|r| r.requirement.starts_with("en303645-"))
        .filter(|r| {
            r.fails_if
                .iter()
                .any(|c| c.path == "updates.delivery.signed" && c.is == Some(json!(false)))
        })
        .map(|r| r.requirement.as_str())
        .collect();
    unsigned.sort();
    assert_eq!(
        unsigned,
        [
            "en303645-5.3-1",
            "en303645-5.3-10",
            "en303645-5.3-2",
            "en303645-5.3-7",
            "en303645-5.3-9",
        ]
    );

    let signed = assess(&example(), &example_evidence(), EN);
    let mut d = example();
    d.updates.delivery.as_mut().unwrap().signed = false;
    let not_signed = assess(&d, &example_evidence(), EN);
    for id in &unsigned {
        let f = finding(&not_signed, id);
        assert_eq!(f.status, Status::NotSatisfied, "{id}");
        assert!(f.evidence.is_empty(), "{id}: {:?}", f.evidence);
        assert_eq!(
            f.reason, "the declaration states that updates.delivery.signed is false",
            "{id}"
        );
        assert_ne!(finding(&signed, id).status, Status::NotSatisfied, "{id}");
    }
    // 5.3-2 (mandatory) is satisfied by the same fact when it is true.
    let f = finding(&signed, "en303645-5.3-2");
    assert_eq!(f.status, Status::Satisfied);
    assert_eq!(
        f.reason,
        "the declaration states that updates.updatable is true and updates.delivery.signed is true"
    );
    assert!(finding(&not_signed, "en303645-5.3-2").mandatory);
    assert_eq!(not_signed.verdict(), Verdict::DoesNotConform);
}

// f.
#[test]
fn applies_if_makes_it_not_applicable_with_the_rules_reason() {
    let rule = RuleBook::bundled()
        .unwrap()
        .get("en303645-5.1-1")
        .unwrap()
        .clone();
    let before = assess(&example(), &example_evidence(), EN);
    assert_eq!(finding(&before, "en303645-5.1-1").status, Status::Satisfied);

    let mut d = example();
    d.credentials.uses_passwords = false;
    let a = assess(&d, &example_evidence(), EN);
    let f = finding(&a, "en303645-5.1-1");
    assert_eq!(f.status, Status::NotApplicable);
    assert_eq!(Some(f.reason.clone()), rule.not_applicable_because);
    assert_eq!(
        f.reason,
        "The product uses no passwords (condition C1 does not hold)."
    );
    assert!(f.evidence.is_empty());
    assert_eq!(f.fix, None);

    // Applicability comes before failing evidence: a failed default-password scan of a product
    // without passwords does not make 5.1-1 fail.
    let e = with(
        example_evidence(),
        [observation(
            "scan-pw",
            &["en303645-5.1-1"],
            "firmware.credentials.default-password",
            "fail",
        )],
    );
    assert_eq!(
        finding(&assess(&d, &e, EN), "en303645-5.1-1").status,
        Status::NotApplicable
    );
    assert_eq!(
        finding(&assess(&example(), &e, EN), "en303645-5.1-1").status,
        Status::NotSatisfied
    );
}

// g.
#[test]
fn failures_cross_mappings_but_intersecting_passes_do_not() {
    const IR: &str = "ir8425-pc-1";
    // The stored relationship is ir8425-pc-1 intersects-with en303645-5.5-5.
    let hops = Bundle::get().crosswalk().neighbours(OPEN);
    let hop = hops.iter().find(|h| h.to == IR).unwrap();
    assert_eq!(hop.relationship, Relationship::IntersectsWith);
    assert!(hop.reversed);

    let trust_mark = "us-cyber-trust-mark";
    let before = assess(&example(), &example_evidence(), trust_mark);
    let f = finding(&before, IR);
    assert_eq!(f.status, Status::NeedsReview);
    assert!(f.evidence.is_empty());

    let e = with(
        example_evidence(),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "fail")],
    );
    let a = assess(&example(), &e, trust_mark);
    let f = finding(&a, IR);
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("obs-mqtt", Some(OPEN))]);
    // The outcome above it is mapped to the same provision.
    let f = finding(&a, "ir8425-pc");
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("obs-mqtt", Some(OPEN))]);
    // Unmapped sub-outcomes are untouched.
    assert_eq!(finding(&a, "ir8425-pc-3").status, Status::NeedsReview);

    let e = with(
        example_evidence(),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "pass")],
    );
    let a = assess(&example(), &e, trust_mark);
    let f = finding(&a, IR);
    assert_eq!(f.status, Status::NeedsReview);
    assert!(f.evidence.is_empty(), "{:?}", f.evidence);
    // The same pass does satisfy the provision it was aimed at.
    assert_eq!(
        finding(&assess(&example(), &e, EN), OPEN).status,
        Status::Satisfied
    );
}

#[test]
fn a_pass_on_a_superset_covers_the_subset() {
    // Stored: ir8259a-dc-2 superset-of en303645-5.5-5, so a pass on the first covers the second.
    let hops = Bundle::get().crosswalk().neighbours("ir8259a-dc-2");
    let hop = hops.iter().find(|h| h.to == OPEN).unwrap();
    assert_eq!(hop.relationship, Relationship::SupersetOf);

    let e = with(
        example_evidence(),
        [observation(
            "obs-dc",
            &["ir8259a-dc-2"],
            UNNAMED_CHECK,
            "pass",
        )],
    );
    let a = assess(&example(), &e, EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::Satisfied);
    assert_eq!(evidence_ids(f), [("obs-dc", Some("ir8259a-dc-2"))]);

    // A pass on the subset does not cover the superset: ir8425-pc-1 is a superset of
    // ir8259a-dc-1, so evidence on ir8259a-dc-1 passing leaves pc-1 open, failing fails it.
    let e = with(
        example_evidence(),
        [observation(
            "obs-dc1",
            &["ir8259a-dc-1"],
            UNNAMED_CHECK,
            "pass",
        )],
    );
    let a = assess(&example(), &e, "us-cyber-trust-mark");
    assert_eq!(finding(&a, "ir8425-pc-1").status, Status::NeedsReview);
    let e = with(
        example_evidence(),
        [observation(
            "obs-dc1",
            &["ir8259a-dc-1"],
            UNNAMED_CHECK,
            "fail",
        )],
    );
    let a = assess(&example(), &e, "us-cyber-trust-mark");
    let f = finding(&a, "ir8425-pc-1");
    assert_eq!(f.status, Status::NotSatisfied);
    assert_eq!(evidence_ids(f), [("obs-dc1", Some("ir8259a-dc-1"))]);
}

// h.
#[test]
fn the_overall_verdict() {
    let d = example();
    let baseline = assess(&d, &example_evidence(), EN);
    assert_eq!(baseline.verdict(), Verdict::DoesNotConform);
    assert!(baseline.obligations.is_empty());
    // The example's mandatory failures.
    let mut failing: Vec<&str> = baseline
        .findings
        .iter()
        .filter(|f| f.mandatory && f.status == Status::NotSatisfied)
        .map(|f| f.requirement.as_str())
        .collect();
    failing.sort();
    assert_eq!(
        failing,
        [
            "en303645-5.1-3",
            "en303645-5.5-1",
            "en303645-5.5-7",
            "en303645-5.6-1",
            "en303645-5.6-4",
        ]
    );

    // A tester marks every open or failing mandatory requirement satisfied.
    let to_settle: Vec<String> = baseline
        .findings
        .iter()
        .filter(|f| f.mandatory)
        .filter(|f| matches!(f.status, Status::NotSatisfied | Status::NeedsReview))
        .map(|f| f.requirement.clone())
        .collect();
    assert!(to_settle.iter().any(|r| r == OPEN));
    let verdicts = |skip: Option<&str>| {
        with(
            example_evidence(),
            to_settle
                .iter()
                .filter(|r| Some(r.as_str()) != skip)
                .map(|r| verdict(&format!("lab-{r}"), r, "satisfied")),
        )
    };

    let all = assess(&d, &verdicts(None), EN);
    assert_eq!(all.verdict(), Verdict::Conforms);
    assert_eq!(all.count(Status::NotSatisfied, true), 0);
    assert_eq!(all.count(Status::NeedsReview, true), 0);
    // Recommendations may still fail: they do not block.
    assert!(all.count(Status::NotSatisfied, false) > 0);
    for r in &to_settle {
        let f = finding(&all, r);
        assert_eq!(f.status, Status::Satisfied, "{r}");
        assert_eq!(evidence_ids(f), [(format!("lab-{r}").as_str(), None)]);
    }

    let one_open = assess(&d, &verdicts(Some(OPEN)), EN);
    assert_eq!(one_open.verdict(), Verdict::Undetermined);
    assert_eq!(one_open.count(Status::NeedsReview, true), 1);
    assert_eq!(one_open.count(Status::NotSatisfied, true), 0);
    assert_eq!(finding(&one_open, OPEN).status, Status::NeedsReview);

    // One mandatory failure outweighs the open question.
    let e = with(
        verdicts(Some(OPEN)),
        [observation("obs-mqtt", &[OPEN], UNNAMED_CHECK, "fail")],
    );
    assert_eq!(assess(&d, &e, EN).verdict(), Verdict::DoesNotConform);

    // An unmet scheme obligation blocks conformity even when every finding is met.
    let mut short = d.clone();
    short.updates.support_end = None;
    let mut cra = assess(&short, &verdicts(None), "eu-cra");
    assert!(!cra.obligations.is_empty());
    cra.findings
        .iter_mut()
        .for_each(|f| f.status = Status::Satisfied);
    assert_eq!(cra.verdict(), Verdict::DoesNotConform);
}

#[test]
fn the_most_recent_verdict_wins_whatever_its_id() {
    let mut first = verdict("z-first-test", OPEN, "not-satisfied");
    first.collected_at = "2026-11-01T09:00:00Z".into();
    let mut retest = verdict("a-retest", OPEN, "satisfied");
    retest.collected_at = "2026-11-20T09:00:00Z".into();
    let a = assess(&example(), &with(example_evidence(), [first, retest]), EN);
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::Satisfied, "{}", f.reason);
    assert_eq!(evidence_ids(f), [("a-retest", None)]);
}

#[test]
fn a_claim_backed_only_by_an_informational_record_needs_review() {
    let mut d = example();
    d.claims.insert(
        OPEN.into(),
        Claim {
            status: ClaimStatus::Implemented,
            statement: Some("done".into()),
            justification: None,
            evidence: vec!["info-only".into()],
        },
    );
    let a = assess(
        &d,
        &with(
            example_evidence(),
            [observation("info-only", &[], UNNAMED_CHECK, "info")],
        ),
        EN,
    );
    let f = finding(&a, OPEN);
    assert_eq!(f.status, Status::NeedsReview, "{}", f.reason);
    assert!(f.reason.contains("does not show a pass"), "{}", f.reason);
}

#[test]
fn evidence_about_another_image_or_component_is_not_counted() {
    let mut other_image = observation("old-image-scan", &[OPEN], UNNAMED_CHECK, "fail");
    other_image.subject.sha256 = Some("1".repeat(64));
    let mut other_component = observation("hub-scan", &[OPEN], UNNAMED_CHECK, "fail");
    other_component.subject.component = "hub".into();
    let mut this_image = observation("this-image-scan", &[OPEN], UNNAMED_CHECK, "fail");
    this_image.subject.sha256 = Some(example().components[0].firmware[0].sha256.clone());
    let a = assess(
        &example(),
        &with(
            example_evidence(),
            [other_image.clone(), other_component.clone()],
        ),
        EN,
    );
    assert_eq!(finding(&a, OPEN).status, Status::NeedsReview);
    assert_eq!(a.ignored_evidence.len(), 2, "{:?}", a.ignored_evidence);
    assert!(
        a.ignored_evidence
            .iter()
            .any(|r| r.starts_with("old-image-scan") && r.contains("not an image declared"))
    );
    assert!(
        a.ignored_evidence
            .iter()
            .any(|r| r.starts_with("hub-scan") && r.contains("does not list"))
    );
    let a = assess(
        &example(),
        &with(example_evidence(), [other_image, this_image]),
        EN,
    );
    assert_eq!(finding(&a, OPEN).status, Status::NotSatisfied);
    assert_eq!(evidence_ids(finding(&a, OPEN)), [("this-image-scan", None)]);
}
