//! The bundled schemes and rules hang together: every scheme parses and has a catch-all last
//! tier, every rule names a requirement of the catalog it is filed under, every requirement a
//! scheme assesses has a rule, and every declaration path a condition reads exists.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};

use iotmark_assess::condition::Condition;
use iotmark_assess::{Route, RuleBook, Scheme, bundled_schemes};
use iotmark_catalogs::Bundle;

fn schemes() -> Vec<Scheme> {
    bundled_schemes(Bundle::get()).unwrap()
}

/// The IDs a requirement set selects from its scheme's catalog, in catalog order.
fn assessed(scheme: &Scheme, tier: Option<&iotmark_assess::Tier>) -> Vec<String> {
    let set = scheme.requirements_for(tier);
    let catalog = Bundle::get().catalog(&scheme.catalog).unwrap();
    let mut ids = Vec::new();
    catalog.catalog.walk(|r| {
        if set.includes(
            &r.control.id,
            r.control.class.as_deref(),
            r.control.prop("status", None),
        ) {
            ids.push(r.control.id.clone());
        }
    });
    ids
}

#[test]
fn the_bundled_files_parse() {
    assert!(
        Bundle::get().errors().is_empty(),
        "{:?}",
        Bundle::get().errors()
    );
    let ids: BTreeSet<String> = schemes().into_iter().map(|s| s.id).collect();
    assert_eq!(
        ids,
        BTreeSet::from(
            [
                "de-bsi-it-security-label",
                "en303645-self-declaration",
                "eu-cra",
                "sg-cls",
                "us-cyber-trust-mark",
                "us-federal-sp800-213",
            ]
            .map(String::from)
        )
    );
    let book = RuleBook::bundled().unwrap();
    // 68 EN 303 645 provisions, 22 CRA requirements, 37 IR 8425 outcomes, sub-outcomes and
    // items, 54 SP 800-213A sub-capabilities.
    assert_eq!(book.len(), 68 + 22 + 37 + 54);
}

#[test]
fn every_scheme_has_tiers_and_the_last_matches_everything() {
    for s in schemes() {
        assert!(!s.tiers.is_empty(), "{}: no tier", s.id);
        let last = s.tiers.last().unwrap();
        assert!(
            last.when.is_empty(),
            "{}: last tier `{}` has conditions {:?}",
            s.id,
            last.id,
            last.when
        );
        let ids: BTreeSet<&str> = s.tiers.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids.len(), s.tiers.len(), "{}: duplicate tier IDs", s.id);
        assert!(Bundle::get().catalog(&s.catalog).is_some(), "{}", s.id);
    }
}

#[test]
fn routes_and_tiers_are_the_documented_ones() {
    let table: BTreeMap<String, Vec<(String, Route)>> = schemes()
        .into_iter()
        .map(|s| {
            (
                s.id.clone(),
                s.tiers.iter().map(|t| (t.id.clone(), t.route)).collect(),
            )
        })
        .collect();
    use Route::*;
    let expect = |pairs: &[(&str, Route)]| -> Vec<(String, Route)> {
        pairs.iter().map(|(i, r)| ((*i).to_owned(), *r)).collect()
    };
    assert_eq!(
        table["en303645-self-declaration"],
        expect(&[("declared", SelfDeclaration)])
    );
    assert_eq!(
        table["de-bsi-it-security-label"],
        expect(&[("labelled", SelfDeclaration)])
    );
    assert_eq!(
        table["us-cyber-trust-mark"],
        expect(&[("labelled", ThirdPartyTesting)])
    );
    assert_eq!(
        table["sg-cls"],
        expect(&[
            ("level-4", ThirdPartyTestingWithPenetrationTesting),
            ("level-3", ThirdPartyTesting),
            ("level-2", SelfDeclaration),
            ("level-1", SelfDeclaration),
        ])
    );
    assert_eq!(
        table["eu-cra"],
        expect(&[
            ("critical", ThirdPartyTestingWithPenetrationTesting),
            ("important-class-ii", ThirdPartyTesting),
            ("important-class-i", ThirdPartyTesting),
            ("important-class-i-toy", ThirdPartyTesting),
            ("important-class-i-wearable", ThirdPartyTesting),
            ("default", SelfDeclaration),
        ])
    );
    assert_eq!(
        table["us-federal-sp800-213"],
        expect(&[
            ("high", ThirdPartyTestingWithPenetrationTesting),
            ("moderate", ThirdPartyTesting),
            ("moderate-sector", ThirdPartyTesting),
            ("moderate-data", ThirdPartyTesting),
            ("low", SelfDeclaration),
        ])
    );
}

#[test]
fn every_rule_names_a_requirement_of_its_own_catalog() {
    let bundle = Bundle::get();
    let mut problems = Vec::new();
    let mut total = 0;
    for (key, text) in iotmark_catalogs::bundled_rules() {
        let mut book = RuleBook::default();
        book.add(key, text).unwrap();
        assert!(!book.is_empty(), "rules {key}: empty");
        for rule in book.iter() {
            total += 1;
            match bundle.catalog_of(&rule.requirement) {
                Some(k) if k == *key => {}
                other => problems.push(format!(
                    "rules {key}: {} is in catalog {other:?}",
                    rule.requirement
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // No rule is shadowed by a rule for the same requirement in another file.
    assert_eq!(total, RuleBook::bundled().unwrap().len());
    for rule in RuleBook::bundled().unwrap().iter() {
        assert!(
            bundle.catalog_of(&rule.requirement).is_some(),
            "{}",
            rule.requirement
        );
        assert!(
            !rule.fix.trim().is_empty(),
            "{}: empty fix",
            rule.requirement
        );
    }
}

#[test]
fn every_assessed_requirement_has_a_rule() {
    let book = RuleBook::bundled().unwrap();
    let mut missing = Vec::new();
    for s in schemes() {
        let mut sets = vec![(String::from("(scheme)"), assessed(&s, None))];
        for t in &s.tiers {
            sets.push((t.id.clone(), assessed(&s, Some(t))));
        }
        for (tier, ids) in sets {
            assert!(!ids.is_empty(), "{} tier {tier}: assesses nothing", s.id);
            for id in ids {
                if book.get(&id).is_none() {
                    missing.push(format!("{} tier {tier}: {id}", s.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "requirements without a rule: {missing:#?}"
    );
}

#[test]
fn each_tier_assesses_the_documented_number_of_requirements() {
    let counts: BTreeMap<(String, String), usize> = schemes()
        .iter()
        .flat_map(|s| {
            s.tiers
                .iter()
                .map(|t| ((s.id.clone(), t.id.clone()), assessed(s, Some(t)).len()))
                .collect::<Vec<_>>()
        })
        .collect();
    let get = |s: &str, t: &str| counts[&(s.to_owned(), t.to_owned())];
    assert_eq!(get("en303645-self-declaration", "declared"), 68);
    assert_eq!(get("us-cyber-trust-mark", "labelled"), 10 + 19);
    for t in [
        "critical",
        "important-class-ii",
        "important-class-i",
        "important-class-i-toy",
        "important-class-i-wearable",
        "default",
    ] {
        assert_eq!(get("eu-cra", t), 22, "eu-cra {t}");
    }
    for t in [
        "high",
        "moderate",
        "moderate-sector",
        "moderate-data",
        "low",
    ] {
        assert_eq!(get("us-federal-sp800-213", t), 54, "sp800-213 {t}");
    }
    assert_eq!(get("sg-cls", "level-4"), 68);
    assert_eq!(get("sg-cls", "level-3"), 68);
    assert_eq!(get("sg-cls", "level-2"), 68);
    assert_eq!(get("sg-cls", "level-1"), 13);
}

/// Every condition of every rule and tier reads a path the declaration has; a misspelt path
/// would otherwise be silently false.
#[test]
fn every_condition_reads_a_declared_field() {
    fn check(c: &Condition, whence: &str, problems: &mut Vec<String>) {
        let mut pointer = String::new();
        for key in c.path.split('.') {
            let allowed = iotmark_declare::schema::allowed_keys(&pointer);
            if !allowed.iter().any(|k| k == key) {
                problems.push(format!("{whence}: `{}`: no `{key}` in {allowed:?}", c.path));
                return;
            }
            pointer.push('/');
            pointer.push_str(key);
        }
        for spec in [&c.any, &c.none].into_iter().flatten() {
            let item = format!("{pointer}/0");
            let allowed = iotmark_declare::schema::allowed_keys(&item);
            for key in spec.keys() {
                if !allowed.iter().any(|k| k == key) {
                    problems.push(format!(
                        "{whence}: `{}` element: no `{key}` in {allowed:?}",
                        c.path
                    ));
                }
            }
        }
    }
    // The check itself catches a misspelt path and a misspelt element field.
    let mut problems = Vec::new();
    let typo: Condition =
        serde_json::from_value(serde_json::json!({"path": "updates.delivery.signd", "is": true}))
            .unwrap();
    check(&typo, "typo", &mut problems);
    let typo: Condition = serde_json::from_value(
        serde_json::json!({"path": "interfaces.physical", "any": {"kind": "uart", "acessible": true}}),
    )
    .unwrap();
    check(&typo, "typo", &mut problems);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    problems.clear();

    let mut seen = 0;
    for rule in RuleBook::bundled().unwrap().iter() {
        for c in rule
            .applies_if
            .iter()
            .chain(&rule.satisfied_if)
            .chain(&rule.fails_if)
        {
            seen += 1;
            check(c, &rule.requirement, &mut problems);
        }
    }
    for s in schemes() {
        for t in &s.tiers {
            for c in &t.when {
                seen += 1;
                check(c, &format!("{} tier {}", s.id, t.id), &mut problems);
            }
        }
    }
    assert!(seen > 100, "only {seen} conditions seen");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_bundled_scheme_states_its_post_market_deadlines() {
    use iotmark_lifecycle::rules::Severity;
    let learned: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    for s in schemes() {
        let rules = s
            .post_market
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no post_market section", s.id));
        // A known exploit never gives more time than the severity alone.
        for severity in [Severity::Low, Severity::High, Severity::Critical] {
            assert!(
                rules.fix_deadline(severity, true, learned)
                    <= rules.fix_deadline(severity, false, learned),
                "{}",
                s.id
            );
        }
    }
    // The federal scheme follows CISA's directives: critical within 15 days.
    let federal = schemes()
        .into_iter()
        .find(|s| s.id == "us-federal-sp800-213")
        .unwrap();
    assert_eq!(
        federal
            .post_market
            .unwrap()
            .fix_deadline(Severity::Critical, false, learned),
        "2026-12-16T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
}

#[test]
fn an_impossible_post_market_rule_is_refused_by_field() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../catalogs/schemes/us-cyber-trust-mark.yaml"),
    )
    .unwrap();
    let broken = text.replace(
        "revoke_after_suspended_days: 90",
        "revoke_after_suspended_days: 0",
    );
    assert_ne!(broken, text);
    let error = Scheme::parse("broken.yaml", &broken, Bundle::get()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("post_market.revoke_after_suspended_days"),
        "{error}"
    );
}
