//! Bad declarations each get a precise diagnostic: where (line and column), what was
//! expected, and a hint. Good ones pass, and the committed JSON Schema is current.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use iotmark_declare::{CheckReport, Severity, check};

fn example() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/acme-securecam/declaration.yaml"),
    )
    .unwrap()
}

/// Stands in for the bundled catalogs: the requirements the example and the scaffold claim.
fn known(id: &str) -> bool {
    [
        "en303645-4-1",
        "en303645-5.1-1",
        "en303645-5.1-3",
        "en303645-5.3-8",
        "en303645-5.3-16",
        "en303645-5.4-2",
        "en303645-5.6-7",
        "en303645-5.9-1",
    ]
    .contains(&id)
}

fn run(name: &str, text: &str) -> CheckReport {
    check(
        Path::new(name),
        text.as_bytes(),
        &known,
        jiff::civil::date(2026, 11, 22),
    )
}

/// The one diagnostic whose message contains `needle`.
fn find<'a>(r: &'a CheckReport, needle: &str) -> &'a iotmark_declare::Diagnostic {
    r.diagnostics
        .iter()
        .find(|d| d.message.contains(needle))
        .unwrap_or_else(|| panic!("no diagnostic with {needle:?}:\n{}", r.render()))
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn the_example_is_valid() {
    let r = run("example.yaml", &example());
    assert_eq!(r.errors(), 0, "{}", r.render());
    let d = r.declaration.unwrap();
    assert_eq!(d.product.id, "acme-securecam-2");
    assert_eq!(d.components.len(), 3);
}

#[test]
fn syntax_errors_point_at_the_line() {
    let text = example().replace("  model: SC-200", "  model: [SC-200");
    let r = run("broken.yaml", &text);
    assert_eq!(r.errors(), 1);
    let d = &r.diagnostics[0];
    assert!(d.message.contains("YAML syntax error"), "{}", r.render());
    assert!(
        d.line.unwrap() >= line_of(&text, "model: [SC-200"),
        "{}",
        r.render()
    );
    assert!(r.declaration.is_none());
}

#[test]
fn unknown_keys_suggest_the_right_one() {
    let text = example().replace("  support_end: 2029-12-31", "  suport_end: 2029-12-31");
    let r = run("typo.yaml", &text);
    let d = find(&r, "unknown key `suport_end`");
    assert_eq!(d.line, Some(line_of(&text, "suport_end")));
    assert_eq!(d.hint.as_deref(), Some("did you mean `support_end`?"));
    assert!(
        d.expected.as_deref().unwrap().contains("updatable"),
        "{:?}",
        d.expected
    );
}

#[test]
fn wrong_types_say_what_was_expected() {
    let text = example().replace("  updatable: true", "  updatable: \"yes\"");
    let r = run("types.yaml", &text);
    let d = find(&r, "wrong type for `updates.updatable`");
    assert_eq!(d.line, Some(line_of(&text, "updatable: \"yes\"")));
    assert_eq!(
        d.hint.as_deref(),
        Some("write true or false without quotes")
    );

    let text = example().replace("      port: 322", "      port: 70000");
    let r = run("range.yaml", &text);
    let d = find(&r, "interfaces.network[0].port");
    assert_eq!(d.line, Some(line_of(&text, "port: 70000")));
}

#[test]
fn enum_values_get_suggestions() {
    let text = example().replace("  category: camera", "  category: camra");
    let r = run("enum.yaml", &text);
    let d = find(&r, "`camra` is not a valid value for `product.category`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `camera`?"));
    assert!(d.expected.as_deref().unwrap().contains("smart-lock"));
}

#[test]
fn digests_of_the_wrong_length_are_caught_with_their_length() {
    let text = example().replace(
        "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
        "9f2c1e7b4a0d3c5e",
    );
    let r = run("digest.yaml", &text);
    let d = find(&r, "components[0].firmware[0].sha256");
    assert_eq!(d.line, Some(line_of(&text, "sha256: \"9f2c1e7b4a0d3c5e\"")));
    assert!(
        d.hint.as_deref().unwrap().contains("it has 16 characters"),
        "{:?}",
        d.hint
    );
    assert!(
        d.expected
            .as_deref()
            .unwrap()
            .contains("64 lower-case hexadecimal")
    );
}

#[test]
fn dates_in_the_past_are_errors() {
    let text = example().replace("support_end: 2029-12-31", "support_end: 2024-01-31");
    let r = run("past.yaml", &text);
    let d = find(&r, "the support period ended on 2024-01-31");
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.line, Some(line_of(&text, "support_end: 2024-01-31")));
    let text = example().replace("support_end: 2029-12-31", "support_end: 2029-02-30");
    let r = run("invalid-date.yaml", &text);
    find(&r, "`2029-02-30` is not a calendar date");
}

#[test]
fn missing_keys_and_dangling_references() {
    let text = example().replace("  model: SC-200\n", "");
    let r = run("missing.yaml", &text);
    let d = find(&r, "missing key `model` in `product`");
    assert!(d.hint.as_deref().unwrap().contains("iotmark init"));

    let text = example().replace("      component: cloud", "      component: clud");
    let r = run("ref.yaml", &text);
    let d = find(&r, "no component has the ID `clud`");
    assert_eq!(d.hint.as_deref(), Some("did you mean `cloud`?"));
    assert_eq!(d.line, Some(line_of(&text, "component: clud")));
}

#[test]
fn claims_must_name_real_requirements_and_justify_not_applicable() {
    let text = example().replace("  en303645-5.9-1:", "  en303645-9.9-9:");
    let r = run("claims.yaml", &text);
    find(&r, "no bundled catalog has a requirement `en303645-9.9-9`");
    let text = example().replace("    justification: No hard-coded per-device identity is used for security; identities are provisioned certificates.\n", "");
    let r = run("na.yaml", &text);
    find(
        &r,
        "claim `en303645-5.4-2` is not-applicable without a justification",
    );
}

#[test]
fn every_problem_is_reported_at_once_in_json_too() {
    let text = example()
        .replace("  category: camera", "  category: camra")
        .replace("  updatable: true", "  updatable: 1");
    let r = run("two.json.yaml", &text);
    assert_eq!(r.errors(), 2, "{}", r.render());
    // The same problems in a JSON file are located just as well.
    let value: serde_json::Value = serde_saphyr_free_parse(&text);
    let json = serde_json::to_string_pretty(&value).unwrap();
    let r = run("two.json", &json);
    assert_eq!(r.errors(), 2, "{}", r.render());
    assert!(
        r.diagnostics.iter().all(|d| d.line.is_some()),
        "{}",
        r.render()
    );
}

/// Converts YAML to a JSON value through the same front end iotmark uses.
fn serde_saphyr_free_parse(yaml: &str) -> serde_json::Value {
    iotmark_oscal::Loader::default()
        .parse_text(Path::new("x.yaml"), yaml.as_bytes())
        .unwrap()
        .1
}

#[test]
fn rendering_shows_the_source_line_and_hint() {
    let text = example().replace("  category: camera", "  category: camra");
    let r = run("render.yaml", &text);
    let out = r.render();
    let line = line_of(&text, "category: camra");
    assert!(out.contains(&format!("--> render.yaml:{line}:")), "{out}");
    assert!(out.contains("  category: camra"), "{out}");
    assert!(out.contains("= hint: did you mean `camera`?"), "{out}");
}

#[test]
fn init_scaffold_is_a_valid_declaration() {
    let text = iotmark_declare::scaffold::Scaffold {
        product_id: "acme-plug".into(),
        manufacturer: "Acme \"Quoted\" Ltd".into(),
        name: "Smart Plug".into(),
        model: "SP-1".into(),
        category: "plug".into(),
        support_end: "2031-06-30".into(),
        contact: "security@acme.example".into(),
    }
    .render();
    let r = run("init.yaml", &text);
    assert_eq!(r.errors(), 0, "{}", r.render());
    assert_eq!(
        r.declaration.unwrap().product.manufacturer.name,
        "Acme \"Quoted\" Ltd"
    );
}

#[test]
fn committed_json_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/declaration.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == iotmark_declare::schema::declaration_schema_text(),
        "schemas/declaration.schema.json is stale; regenerate it with `cargo run -- schema > schemas/declaration.schema.json`"
    );
}

#[test]
fn component_definition_export_is_valid_oscal() {
    let d = run("example.yaml", &example()).declaration.unwrap();
    let cd = iotmark_declare::to_component_definition(&d, "2026-11-22T00:00:00Z", &|id| {
        known(id).then(|| "https://iotmark.dev/catalogs/en303645.json".to_owned())
    });
    let value = serde_json::json!({"component-definition": cd});
    let violations =
        iotmark_oscal::validate_value(iotmark_oscal::ModelKind::ComponentDefinition, &value);
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(cd.components.len(), 3);
    let reqs = &cd.components[0].control_implementations[0].implemented_requirements;
    assert_eq!(reqs.len(), d.claims.len());
}

/// The declaration fuzz target's corpus (`fuzz/corpus/declaration_check/`) runs here on stable.
#[test]
fn fuzz_corpus_checks_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/declaration_check");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        iotmark_declare::fuzz_check(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 8, "expected the seed corpus in {}", dir.display());
}
