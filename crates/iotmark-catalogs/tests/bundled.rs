//! The bundled catalogs and mappings: valid OSCAL, complete against the publications, and
//! internally consistent (every mapping end exists, every element is sourced).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::{BTreeSet, HashSet};

use iotmark_catalogs::{Bundle, NS, SP800_53_KEY};
use iotmark_oscal::{Document, Loader, ModelKind, validate_value};

fn bundle() -> &'static Bundle {
    let b = Bundle::get();
    assert!(b.errors().is_empty(), "{:?}", b.errors());
    b
}

#[test]
fn every_bundled_file_is_schema_valid_oscal() {
    let b = bundle();
    for c in b.catalogs() {
        let value: serde_json::Value = serde_json::from_str(c.source).unwrap();
        let violations = validate_value(ModelKind::Catalog, &value);
        assert!(violations.is_empty(), "{}: {violations:?}", c.key);
    }
    for m in b.mappings() {
        let value: serde_json::Value = serde_json::from_str(m.source).unwrap();
        let violations = validate_value(ModelKind::MappingCollection, &value);
        assert!(violations.is_empty(), "{}: {violations:?}", m.key);
    }
}

#[test]
fn the_expected_catalogs_are_bundled() {
    let keys: BTreeSet<&str> = bundle().catalogs().iter().map(|c| c.key.as_str()).collect();
    for key in [
        "ir8259",
        "ir8259a",
        "ir8259b",
        "ir8425",
        "sp800-213a",
        "en303645",
        "cra-annex-i",
        "ntia-update",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:?}");
    }
}

/// Counts from the publications themselves (see ../shared/reference/catalogs.md for each).
#[test]
fn counts_match_the_publications() {
    let b = bundle();
    let count = |key: &str, class: &str| b.catalog(key).unwrap().count_class(class);
    // IR 8259A Table 1: 6 capabilities, 22 common elements (SU-6 has items a and b).
    assert_eq!(count("ir8259a", "capability"), 6);
    assert_eq!(count("ir8259a", "element"), 22);
    assert_eq!(count("ir8259a", "sub-element"), 2);
    // IR 8259B Table 1: 4 capabilities, 14 common actions.
    assert_eq!(count("ir8259b", "capability"), 4);
    assert_eq!(count("ir8259b", "action"), 14);
    // IR 8425: 6 technical and 4 non-technical outcomes.
    assert_eq!(count("ir8425", "outcome"), 10);
    // IR 8259 Rev. 1: Activities 0 to 8.
    assert_eq!(count("ir8259", "activity"), 9);
    // EU CRA Annex I: Part I points (1) and (2)(a)-(m), Part II points (1)-(8).
    assert_eq!(count("cra-annex-i", "requirement"), 22);
    // NTIA: three key and three additional elements.
    assert_eq!(count("ntia-update", "element"), 6);
    // SP 800-213A: 7 device and 4 non-technical families.
    let families = b
        .catalog("sp800-213a")
        .unwrap()
        .catalog
        .groups()
        .iter()
        .filter(|g| g.class.as_deref() == Some("family"))
        .count();
    assert_eq!(families, 11);
}

#[test]
fn en_303_645_has_67_provisions_with_their_status() {
    let en = &bundle().catalog("en303645").unwrap().catalog;
    let in_clauses_5_and_6: Vec<_> = en
        .controls()
        .into_iter()
        .filter(|c| {
            c.class.as_deref() == Some("provision")
                && (c.label().starts_with("5.") || c.label().starts_with("6-"))
        })
        .collect();
    assert_eq!(in_clauses_5_and_6.len(), 67);
    let status = |s: &str| {
        in_clauses_5_and_6
            .iter()
            .filter(|c| c.prop("status", Some(NS)) == Some(s))
            .count()
    };
    assert_eq!(status("mandatory"), 32, "Annex B Table B.1: M and M C(n)");
    assert_eq!(
        status("recommendation"),
        35,
        "Annex B Table B.1: R and R C(n)"
    );
    // Conditional provisions name their conditions, C1 to C13.
    let p = en.control("en303645-5.3-10").unwrap();
    let conditions: Vec<&str> = p.props_named("condition", Some(NS)).collect();
    assert_eq!(conditions, ["C11", "C12"]);
    for c in &in_clauses_5_and_6 {
        for cond in c.props_named("condition", Some(NS)) {
            let n: u32 = cond.trim_start_matches('C').parse().unwrap_or(0);
            assert!((1..=13).contains(&n), "{}: condition {cond}", c.id);
        }
    }
}

#[test]
fn ir_8425_outcomes_say_which_components_they_apply_to() {
    let c = &bundle().catalog("ir8425").unwrap().catalog;
    let allowed: HashSet<&str> = ["device", "hub", "app", "backend"].into();
    for control in c.controls() {
        let applies: Vec<&str> = control.props_named("applies-to", Some(NS)).collect();
        assert!(!applies.is_empty(), "{} has no applies-to", control.id);
        assert!(
            applies.iter().all(|a| allowed.contains(a)),
            "{}: {applies:?}",
            control.id
        );
    }
}

#[test]
fn every_requirement_has_a_label_a_paraphrase_and_a_source() {
    for bundled in bundle().catalogs() {
        let c = &bundled.catalog;
        let resources: HashSet<String> = c
            .back_matter
            .iter()
            .flat_map(|b| &b.resources)
            .map(|r| format!("#{}", r.uuid))
            .collect();
        assert!(
            !resources.is_empty(),
            "{}: no source publication in back-matter",
            bundled.key
        );
        let mut seen = HashSet::new();
        for control in c.controls() {
            assert!(
                seen.insert(control.id.clone()),
                "{}: duplicate id {}",
                bundled.key,
                control.id
            );
            assert!(
                control.id.starts_with(&format!("{}-", bundled.key))
                    || bundled.key == "cra-annex-i"
                    || bundled.key == "ntia-update",
                "{}: id {} lacks the catalog prefix",
                bundled.key,
                control.id
            );
            assert!(
                control.prop("label", None).is_some(),
                "{}: no label",
                control.id
            );
            assert!(
                !control.statement().trim().is_empty(),
                "{}: no statement",
                control.id
            );
            assert!(
                control.links.iter().any(|l| resources.contains(&l.href)),
                "{}: no link to a source resource",
                control.id
            );
            let confidence = control.prop("confidence", Some(NS));
            assert!(
                matches!(
                    confidence,
                    Some("primary" | "secondary" | "background" | "inferred")
                ),
                "{}: confidence {confidence:?}",
                control.id
            );
        }
    }
}

#[test]
fn unconfirmed_facts_are_marked_and_explained() {
    let b = bundle();
    let mut marked = 0;
    for bundled in b.catalogs() {
        for control in bundled.catalog.controls() {
            for p in control.props.iter().filter(|p| p.name == "unconfirmed") {
                assert_eq!(p.value, "true", "{}", control.id);
                assert!(
                    p.remarks.as_deref().is_some_and(|r| !r.trim().is_empty()),
                    "{}: unconfirmed without saying what",
                    control.id
                );
                marked += 1;
            }
        }
    }
    // The source notes leave IR 8259 Rev. 1's activity names, several 8425 sub-outcomes and
    // 213A's related controls unconfirmed; they must show up as such.
    let ir8259 = &b.catalog("ir8259").unwrap().catalog;
    assert!(
        ir8259
            .controls()
            .iter()
            .all(|c| c.prop("unconfirmed", Some(NS)) == Some("true"))
    );
    assert!(marked > 20, "only {marked} unconfirmed marks");
}

#[test]
fn every_mapping_end_exists_and_every_map_states_its_provenance() {
    let b = bundle();
    let sp800_53: HashSet<String> = [
        "NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json",
        "NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog-min.json",
    ]
    .iter()
    .flat_map(|f| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/reference/nist-oscal-content")
            .join(f);
        let Document::Catalog(c) = Loader::default().load_path(&path).unwrap() else {
            panic!()
        };
        // A control outside these baselines still shows up as another control's
        // "related" link, which is NIST's own word that it exists.
        let related = c
            .controls()
            .iter()
            .flat_map(|c| c.links.iter())
            .filter_map(|l| l.href.strip_prefix('#'))
            .filter(|h| !h.contains('-') || h.len() < 12)
            .map(str::to_owned)
            .collect::<Vec<_>>();
        c.controls()
            .iter()
            .map(|c| c.id.clone())
            .chain(related)
            .collect::<Vec<_>>()
    })
    .collect();
    // Controls neither in those baselines nor linked from them, checked by hand against
    // SP 800-53 Rev. 5: CM-14 Signed Components, SA-8(32) Sufficient Documentation.
    let outside_baselines: HashSet<&str> = ["cm-14", "sa-8.32"].into();
    for m in b.mappings() {
        assert!(
            b.known_catalog_keys().contains(&m.source_catalog.as_str()),
            "{}",
            m.key
        );
        assert!(
            b.known_catalog_keys().contains(&m.target_catalog.as_str()),
            "{}",
            m.key
        );
        for mapping in &m.collection.mappings {
            for map in &mapping.maps {
                let provenance = map.prop("provenance", Some(NS));
                assert!(
                    matches!(provenance, Some("publication" | "analysis")),
                    "{}: map {} provenance {provenance:?}",
                    m.key,
                    map.uuid
                );
                assert!(
                    map.remarks.as_deref().is_some_and(|r| !r.trim().is_empty()),
                    "{}: map {} gives no reason",
                    m.key,
                    map.uuid
                );
                assert!(
                    iotmark_catalogs::Relationship::parse(&map.relationship).is_some(),
                    "{}: {}",
                    m.key,
                    map.relationship
                );
                for (side, items, catalog) in [
                    ("source", &map.sources, &m.source_catalog),
                    ("target", &map.targets, &m.target_catalog),
                ] {
                    for item in items {
                        let ok = if catalog == SP800_53_KEY {
                            sp800_53.contains(&item.id_ref)
                                || outside_baselines.contains(item.id_ref.as_str())
                        } else {
                            b.catalog_of(&item.id_ref) == Some(catalog.as_str())
                        };
                        assert!(
                            ok,
                            "{}: {side} {} is not a control of {catalog}",
                            m.key, item.id_ref
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_required_crosswalks_exist() {
    let keys: HashSet<&str> = bundle().mappings().iter().map(|m| m.key.as_str()).collect();
    for key in [
        "ir8425__ir8259a",
        "ir8425__ir8259b",
        "ir8259a__en303645",
        "ir8259b__en303645",
        "sp800-213a__sp800-53",
        "en303645__cra-annex-i",
        "ir8425__en303645",
    ] {
        assert!(keys.contains(key), "{key} missing");
    }
}

/// IR 8259B's own reference column cites EN 303 645; those maps are marked as published.
#[test]
fn publication_references_are_kept_apart_from_our_analysis() {
    let b = bundle();
    let hops = b.crosswalk().neighbours("ir8259b-idi");
    let published: Vec<&str> = hops
        .iter()
        .filter(|h| h.provenance == "publication")
        .map(|h| h.to.as_str())
        .collect();
    assert!(published.contains(&"en303645-5.3-13"), "{published:?}");
}

#[test]
fn mappings_are_followed_transitively_with_every_hop_shown() {
    let b = bundle();
    // NTIA's support-period element reaches IR 8259B only through another framework.
    let direct: Vec<_> = b.crosswalk().map("ntia-k3", "ir8259b", 1);
    let transitive = b.crosswalk().map("ntia-k3", "ir8259b", 3);
    assert!(direct.is_empty());
    assert!(!transitive.is_empty());
    for r in &transitive {
        assert!(r.hops.len() >= 2);
        assert_eq!(r.hops[0].from, "ntia-k3");
        assert_eq!(r.hops.last().unwrap().to, r.id);
        for pair in r.hops.windows(2) {
            assert_eq!(pair[0].to, pair[1].from, "hops must chain");
        }
    }
    // Following a map backwards inverts it: 213A's UPD relates to SI-2, so SI-2 reaches UPD.
    let back = b.crosswalk().map("si-2", "sp800-213a", 1);
    assert!(
        back.iter()
            .any(|r| r.id == "sp800-213a-su-upd" && r.hops[0].reversed),
        "{back:?}"
    );
}

#[test]
fn search_finds_requirements_by_words() {
    let hits = bundle().search("support period", Some("en303645"));
    assert!(
        hits.iter().any(|h| h.id == "en303645-5.3-13"),
        "{:?}",
        hits.iter().map(|h| &h.id).collect::<Vec<_>>()
    );
    assert!(bundle().search("zzzz-no-such-word", None).is_empty());
}

#[test]
fn landscape_lists_core_and_application_areas() {
    let l = bundle().landscape().expect("landscape bundled");
    assert_eq!(l.application_areas.len(), 5);
    assert_eq!(
        l.core_areas.len(),
        12,
        "eleven named areas and the unidentified twelfth"
    );
    assert!(l.core_areas.iter().any(|a| a.unconfirmed));
    let found = l.find("ISO/IEC 27001");
    assert!(!found.is_empty());
    for area in &l.core_areas {
        for id in &area.related_catalog_areas {
            let b = bundle();
            let exists = b.find_control(id).is_some()
                || b.catalogs().iter().any(|c| {
                    c.catalog
                        .groups()
                        .iter()
                        .any(|g| g.id.as_deref() == Some(id.as_str()))
                });
            assert!(exists, "{}: {id} is not in a bundled catalog", area.id);
        }
    }
}
