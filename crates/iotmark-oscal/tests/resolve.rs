//! Profile resolution, checked against NIST's own resolved baselines and on small profiles
//! that exercise each directive of the OSCAL profile-resolution specification.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::collections::HashSet;
use std::path::Path;

use iotmark_oscal::resolve::ResolveError;
use iotmark_oscal::{Catalog, Document, Loader, Resolver};
use serde_json::{Value, json};

fn ids(catalog: &Catalog) -> Vec<String> {
    catalog.controls().iter().map(|c| c.id.clone()).collect()
}

fn with_ids(profile_file: &str) -> HashSet<String> {
    let v: Value =
        serde_json::from_slice(&std::fs::read(common::nist(profile_file)).unwrap()).unwrap();
    v["profile"]["imports"][0]["include-controls"][0]["with-ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn nist_resolver(catalog_file: &str) -> Resolver {
    let mut r = Resolver::default();
    r.map_href(common::NIST_CATALOG_HREF, common::nist(catalog_file));
    r.timestamp("2026-01-01T00:00:00Z");
    r
}

/// Resolving NIST's HIGH profile over the controls of NIST's own resolved HIGH catalog must
/// reproduce that catalog: same controls in the same order, same groups, same parameters.
#[test]
fn high_profile_reproduces_nists_resolved_high_catalog() {
    let resolution = nist_resolver(common::HIGH_RESOLVED)
        .resolve_path(&common::nist(
            "NIST_SP-800-53_rev5_HIGH-baseline_profile.json",
        ))
        .unwrap();
    let nist = Loader::default()
        .load_catalog(&common::nist(common::HIGH_RESOLVED))
        .unwrap();
    assert_eq!(ids(&resolution.catalog), ids(&nist));
    let group_ids = |c: &Catalog| c.groups().iter().map(|g| g.id.clone()).collect::<Vec<_>>();
    assert_eq!(group_ids(&resolution.catalog), group_ids(&nist));
    for (ours, theirs) in resolution.catalog.controls().iter().zip(nist.controls()) {
        assert_eq!(ours.params, theirs.params, "parameters of {}", ours.id);
        assert_eq!(ours.parts, theirs.parts, "parts of {}", ours.id);
    }
    assert!(resolution.warnings.is_empty(), "{:?}", resolution.warnings);
    // The result is schema-valid and names its source profile.
    let doc = Document::Catalog(Box::new(resolution.catalog));
    assert!(
        iotmark_oscal::validate_value(iotmark_oscal::ModelKind::Catalog, &doc.to_value())
            .is_empty()
    );
    let Document::Catalog(c) = doc else {
        unreachable!()
    };
    assert!(
        c.metadata
            .links
            .iter()
            .any(|l| l.rel.as_deref() == Some("source-profile"))
    );
    assert!(
        c.metadata
            .props
            .iter()
            .any(|p| p.name == "resolution-timestamp" && p.value == "2026-01-01T00:00:00Z")
    );
}

/// LOW and MODERATE select subsets of HIGH; resolving them over HIGH's controls yields exactly
/// the controls their `with-ids` name.
#[test]
fn low_and_moderate_profiles_select_exactly_their_controls() {
    for profile in [
        "NIST_SP-800-53_rev5_LOW-baseline_profile.json",
        "NIST_SP-800-53_rev5_MODERATE-baseline_profile.json",
    ] {
        let resolution = nist_resolver(common::HIGH_RESOLVED)
            .resolve_path(&common::nist(profile))
            .unwrap();
        let got: HashSet<String> = ids(&resolution.catalog).into_iter().collect();
        assert_eq!(got, with_ids(profile), "{profile}");
        assert!(
            resolution.warnings.is_empty(),
            "{profile}: {:?}",
            resolution.warnings
        );
    }
}

#[test]
fn privacy_profile_reproduces_nists_resolved_privacy_catalog() {
    let resolution = nist_resolver(common::PRIVACY_RESOLVED)
        .resolve_path(&common::nist(
            "NIST_SP-800-53_rev5_PRIVACY-baseline_profile.json",
        ))
        .unwrap();
    let nist = Loader::default()
        .load_catalog(&common::nist(common::PRIVACY_RESOLVED))
        .unwrap();
    assert_eq!(ids(&resolution.catalog), ids(&nist));
}

// ---- small profiles, one directive at a time ----

fn write(dir: &Path, name: &str, value: &Value) {
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn metadata(title: &str) -> Value {
    json!({"title": title, "last-modified": "2026-01-01T00:00:00Z", "version": "1", "oscal-version": "1.2.1"})
}

fn control(id: &str, children: Vec<Value>) -> Value {
    let mut c = json!({
        "id": id, "title": format!("Control {id}"),
        "params": [{"id": format!("{id}_prm"), "label": "frequency"}],
        "props": [{"name": "label", "value": id.to_uppercase()}],
        "parts": [{"id": format!("{id}_smt"), "name": "statement", "prose": format!("Do {id}."),
                   "parts": [{"id": format!("{id}_smt.a"), "name": "item", "prose": "first"}]},
                  {"id": format!("{id}_gdn"), "name": "guidance", "prose": "why"}]
    });
    if !children.is_empty() {
        c["controls"] = Value::Array(children);
    }
    c
}

/// A catalog with two groups: a (a-1 with a-1.1 and a-1.2, a-2) and b (b-1, b-10, b-2).
fn sample_catalog(dir: &Path) {
    write(
        dir,
        "catalog.json",
        &json!({"catalog": {
            "uuid": "11111111-1111-4111-8111-111111111111",
            "metadata": metadata("Sample"),
            "groups": [
                {"id": "a", "title": "Group A", "controls": [control("a-1", vec![control("a-1.1", vec![]), control("a-1.2", vec![])]), control("a-2", vec![])]},
                {"id": "b", "title": "Group B", "controls": [control("b-1", vec![]), control("b-10", vec![]), control("b-2", vec![])]}
            ]
        }}),
    );
}

fn profile(dir: &Path, name: &str, body: Value) {
    let mut p = json!({"uuid": "22222222-2222-4222-8222-222222222222", "metadata": metadata(name)});
    p.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    write(dir, name, &json!({"profile": p}));
}

fn resolve(dir: &Path, name: &str) -> Result<iotmark_oscal::resolve::Resolution, ResolveError> {
    Resolver::default().resolve_path(&dir.join(name))
}

#[test]
fn include_controls_by_id_with_and_without_children() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "p.json",
        json!({"imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["a-1"], "with-child-controls": "yes"}, {"with-ids": ["b-2"]}]}], "merge": {"as-is": true}}),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    assert_eq!(ids(&r.catalog), ["a-1", "a-1.1", "a-1.2", "b-2"]);
    assert_eq!(
        r.catalog.groups.len(),
        2,
        "as-is keeps both groups that still hold controls"
    );

    profile(
        dir.path(),
        "q.json",
        json!({"imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["a-1"]}]}], "merge": {"as-is": true}}),
    );
    let r = resolve(dir.path(), "q.json").unwrap();
    assert_eq!(
        ids(&r.catalog),
        ["a-1"],
        "children are not included unless asked for"
    );
    assert_eq!(r.catalog.groups.len(), 1, "empty groups are pruned");
}

#[test]
fn matching_patterns_and_exclusions() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "p.json",
        json!({"imports": [{"href": "catalog.json",
        "include-controls": [{"matching": [{"pattern": "b-*"}]}],
        "exclude-controls": [{"with-ids": ["b-10"]}]}]}),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    assert_eq!(ids(&r.catalog), ["b-1", "b-2"]);
    assert!(
        r.catalog.groups.is_empty(),
        "without a merge directive the result is flat"
    );
}

#[test]
fn an_unselected_parent_keeps_its_selected_children() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    // as-is keeps the parent as the children's container, as NIST's PRIVACY baseline shows.
    profile(
        dir.path(),
        "p.json",
        json!({"imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["a-1.2"]}]}], "merge": {"as-is": true}}),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    assert_eq!(ids(&r.catalog), ["a-1", "a-1.2"]);
    // flat has no structure to keep: the child stands on its own.
    profile(
        dir.path(),
        "q.json",
        json!({"imports": [{"href": "catalog.json", "include-all": {}, "exclude-controls": [{"with-ids": ["a-1"]}]}], "merge": {"flat": {}}}),
    );
    let r = resolve(dir.path(), "q.json").unwrap();
    let top: Vec<&str> = r.catalog.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(top, ["a-1.1", "a-1.2", "a-2", "b-1", "b-10", "b-2"]);
}

#[test]
fn custom_merge_builds_new_groups_in_the_requested_order() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "p.json",
        json!({
            "imports": [{"href": "catalog.json", "include-all": {}}],
            "merge": {"custom": {
                "groups": [{"id": "bs", "title": "All B, descending", "insert-controls": [{"order": "descending", "include-controls": [{"matching": [{"pattern": "b-*"}]}]}]}],
                "insert-controls": [{"order": "ascending", "include-all": {}}]
            }}
        }),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    assert_eq!(r.catalog.groups.len(), 1);
    let in_group: Vec<&str> = r.catalog.groups[0]
        .controls
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(in_group, ["b-10", "b-2", "b-1"], "natural descending order");
    let loose: Vec<&str> = r.catalog.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        loose,
        ["a-1", "a-2"],
        "controls already placed are not placed twice"
    );
}

#[test]
fn nested_profiles_resolve_and_combine_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "inner.json",
        json!({"imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["a-2", "b-1"]}]}],
        "modify": {"set-parameters": [{"param-id": "a-2_prm", "values": ["weekly"]}]}}),
    );
    profile(
        dir.path(),
        "outer.json",
        json!({"imports": [
            {"href": "inner.json", "include-all": {}},
            {"href": "catalog.json", "include-controls": [{"with-ids": ["b-1", "b-2"]}]}
        ]}),
    );
    let r = resolve(dir.path(), "outer.json").unwrap();
    assert_eq!(ids(&r.catalog), ["a-2", "b-1", "b-2"]);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("b-1") && w.contains("more than once")),
        "{:?}",
        r.warnings
    );
    // The inner profile's tailoring survives into the outer result.
    let a2 = r.catalog.control("a-2").unwrap();
    assert_eq!(a2.params[0].values, ["weekly"]);
}

#[test]
fn set_parameters_and_alters() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "p.json",
        json!({
            "imports": [{"href": "catalog.json", "include-controls": [{"with-ids": ["a-1", "b-1"]}]}],
            "modify": {
                "set-parameters": [
                    {"param-id": "a-1_prm", "label": "review interval", "values": ["monthly"], "props": [{"name": "tailored", "value": "yes"}]},
                    {"param-id": "nope", "values": ["x"]}
                ],
                "alters": [
                    {"control-id": "a-1",
                     "removes": [{"by-name": "guidance"}, {"by-id": "a-1_smt.a"}],
                     "adds": [
                        {"position": "starting", "props": [{"name": "priority", "value": "P1"}]},
                        {"position": "after", "by-id": "a-1_smt", "parts": [{"id": "a-1_note", "name": "note", "prose": "added"}]},
                        {"position": "ending", "by-id": "a-1_smt", "parts": [{"id": "a-1_smt.z", "name": "item", "prose": "last"}]}
                     ]},
                    {"control-id": "b-1", "adds": [{"title": "Renamed"}]},
                    {"control-id": "zz-9", "adds": [{"title": "x"}]}
                ]
            }
        }),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    let a1 = r.catalog.control("a-1").unwrap();
    let param = &a1.params[0];
    assert_eq!(param.label.as_deref(), Some("review interval"));
    assert_eq!(param.values, ["monthly"]);
    assert_eq!(param.props[0].name, "tailored");
    assert_eq!(a1.props[0].name, "priority", "starting puts the prop first");
    let part_ids: Vec<&str> = a1.parts.iter().filter_map(|p| p.id.as_deref()).collect();
    assert_eq!(
        part_ids,
        ["a-1_smt", "a-1_note"],
        "guidance removed, note added after the statement"
    );
    let items: Vec<&str> = a1.parts[0]
        .parts
        .iter()
        .filter_map(|p| p.id.as_deref())
        .collect();
    assert_eq!(
        items,
        ["a-1_smt.z"],
        "item a removed by id, item z added at the end"
    );
    assert_eq!(r.catalog.control("b-1").unwrap().title, "Renamed");
    assert!(
        r.warnings.iter().any(|w| w.contains("\"nope\"")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.warnings.iter().any(|w| w.contains("zz-9")),
        "{:?}",
        r.warnings
    );
}

#[test]
fn back_matter_imports_follow_rlinks() {
    let dir = tempfile::tempdir().unwrap();
    sample_catalog(dir.path());
    profile(
        dir.path(),
        "p.json",
        json!({
            "imports": [{"href": "#33333333-3333-4333-8333-333333333333", "include-all": {}}],
            "back-matter": {"resources": [{"uuid": "33333333-3333-4333-8333-333333333333", "rlinks": [{"href": "catalog.xml"}, {"href": "catalog.json"}]}]}
        }),
    );
    let r = resolve(dir.path(), "p.json").unwrap();
    assert_eq!(r.catalog.controls().len(), 7);
}

#[test]
fn circular_imports_are_reported_with_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    profile(
        dir.path(),
        "a.json",
        json!({"imports": [{"href": "b.json", "include-all": {}}]}),
    );
    profile(
        dir.path(),
        "b.json",
        json!({"imports": [{"href": "a.json", "include-all": {}}]}),
    );
    let err = resolve(dir.path(), "a.json").unwrap_err();
    assert!(
        matches!(err, ResolveError::Cycle { ref chain } if chain.len() == 3),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("a.json → ") && text.contains("b.json"),
        "{text}"
    );
}

#[test]
fn a_missing_import_names_the_file_it_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    profile(
        dir.path(),
        "p.json",
        json!({"imports": [{"href": "nowhere.json", "include-all": {}}]}),
    );
    let err = resolve(dir.path(), "p.json").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ResolveError::MissingImport { .. }), "{text}");
    assert!(
        text.contains("nowhere.json") && text.contains("hint:"),
        "{text}"
    );
}

#[test]
fn remote_imports_are_never_fetched() {
    let dir = tempfile::tempdir().unwrap();
    profile(
        dir.path(),
        "p.json",
        json!({"imports": [{"href": "https://example.org/catalog.json", "include-all": {}}]}),
    );
    let text = resolve(dir.path(), "p.json").unwrap_err().to_string();
    assert!(text.contains("not fetched"), "{text}");
}
