//! System security plans and POA&Ms: NIST's published examples (`tests/data/nist-examples/`,
//! provenance in `SOURCE.md` there) load as their model, come back out unchanged in JSON and
//! through YAML, and bad input is refused at the right stage, named.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use iotmark_oscal::model::assessment::{ComponentState, SystemComponent, SystemComponentStatus};
use iotmark_oscal::model::ssp::SystemState;
use iotmark_oscal::{
    Document, LoadError, Loader, ModelKind, PlanOfActionAndMilestones, SystemSecurityPlan,
    write_json, write_yaml,
};
use serde_json::Value;

const SSP: &str = "ssp-example.json";
const LEVERAGED_SSP: &str = "oscal_leveraged-example_ssp.json";
const POAM: &str = "ifa_plan-of-action-and-milestones.json";
const EXAMPLES: [(&str, ModelKind); 3] = [
    (SSP, ModelKind::SystemSecurityPlan),
    (LEVERAGED_SSP, ModelKind::SystemSecurityPlan),
    (POAM, ModelKind::PlanOfActionAndMilestones),
];

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/nist-examples")
        .join(file)
}

fn example_value(file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(example(file)).unwrap()).unwrap()
}

fn load_ssp(file: &str) -> SystemSecurityPlan {
    match Loader::default().load_path(&example(file)).unwrap() {
        Document::SystemSecurityPlan(ssp) => *ssp,
        other => panic!("{file} loaded as {}", other.kind()),
    }
}

fn load_poam(file: &str) -> PlanOfActionAndMilestones {
    match Loader::default().load_path(&example(file)).unwrap() {
        Document::PlanOfActionAndMilestones(poam) => *poam,
        other => panic!("{file} loaded as {}", other.kind()),
    }
}

fn load_text(name: &str, text: &str) -> Result<Document, LoadError> {
    Loader::default().load_bytes(Path::new(name), text.as_bytes())
}

#[test]
fn nist_examples_load_as_their_model_and_round_trip_through_json() {
    for (file, kind) in EXAMPLES {
        let doc = Loader::default()
            .load_path(&example(file))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(doc.kind(), kind, "{file}");
        let written: Value = serde_json::from_str(&write_json(&doc)).unwrap();
        assert_eq!(
            written,
            example_value(file),
            "{file} changed in the round-trip"
        );
    }
}

#[test]
fn nist_examples_round_trip_through_yaml() {
    for (file, _) in EXAMPLES {
        let doc = Loader::default().load_path(&example(file)).unwrap();
        let yaml = write_yaml(&doc);
        let back =
            load_text("roundtrip.yaml", &yaml).unwrap_or_else(|e| panic!("{file} as YAML: {e}"));
        assert_eq!(back, doc, "{file} changed going through YAML");
        assert_eq!(back.to_value(), example_value(file), "{file}");
    }
}

#[test]
fn ssp_example_reads_as_typed_values() {
    let ssp = load_ssp(SSP);
    let characteristics = &ssp.system_characteristics;
    assert_eq!(
        characteristics.system_name,
        "Enterprise Logging and Auditing System"
    );
    assert_eq!(characteristics.status.state, SystemState::Other);
    assert_eq!(
        characteristics
            .security_impact_level
            .as_ref()
            .map(|l| l.security_objective_availability.as_str()),
        Some("fips-199-low")
    );
    let requirements = &ssp.control_implementation.implemented_requirements;
    assert_eq!(requirements.len(), 1);
    assert_eq!(requirements[0].control_id, "au-1");
    // Every by-component of the example points at a component the plan defines.
    let by_components: Vec<_> = requirements[0]
        .statements
        .iter()
        .flat_map(|s| &s.by_components)
        .collect();
    assert!(!by_components.is_empty());
    for b in by_components {
        assert!(
            ssp.component(&b.component_uuid).is_some(),
            "{}",
            b.component_uuid
        );
    }
    // `process` is not among the schema's suggested component types: the set is open.
    let process = ssp
        .component("941e2a87-46f4-4b3e-9e87-bbd187091ca1")
        .unwrap();
    assert_eq!(process.component_type, "process");
    assert_eq!(ssp.system_implementation.components.len(), 6);
}

#[test]
fn leveraged_ssp_exports_what_it_provides() {
    let ssp = load_ssp(LEVERAGED_SSP);
    assert_eq!(
        ssp.system_characteristics.system_name,
        "Leveraged IaaS System"
    );
    // A system ID with no identifier type.
    assert_eq!(
        ssp.system_characteristics.system_ids[0].identifier_type,
        None
    );
    let impact = ssp
        .system_characteristics
        .system_information
        .information_types[0]
        .confidentiality_impact
        .as_ref()
        .unwrap();
    assert_eq!(
        (impact.base.as_str(), impact.selected.as_deref()),
        ("fips-199-moderate", Some("fips-199-low"))
    );
    let requirement = &ssp.control_implementation.implemented_requirements[0];
    assert_eq!(requirement.control_id, "ac-2");
    let export = requirement.statements[0].by_components[0]
        .export
        .as_ref()
        .unwrap();
    assert!(!export.provided.is_empty());
    let provided: Vec<&str> = export.provided.iter().map(|p| p.uuid.as_str()).collect();
    for responsibility in &export.responsibilities {
        let tied = responsibility.provided_uuid.as_deref().unwrap();
        assert!(provided.contains(&tied), "{tied}");
    }
}

#[test]
fn poam_example_reads_as_typed_values() {
    let poam = load_poam(POAM);
    assert_eq!(poam.poam_items.len(), 2);
    assert_eq!(
        poam.poam_items[0].title,
        "Update Django Framework Configuration to Disable Default Admin Panel"
    );
    assert_eq!(
        poam.system_id.as_ref().map(|s| s.id.as_str()),
        Some("8101e04d-8305-4e73-bb95-6b59f645b143")
    );
    assert_eq!(
        poam.import_ssp.as_ref().map(|i| i.href.as_str()),
        Some("../../ssp/xml/ifa_ssp.xml")
    );
    let status = |uuid: &str| {
        poam.risks
            .iter()
            .find(|r| r.uuid == uuid)
            .map(|r| r.status.as_str())
    };
    assert_eq!(
        status("8b8bae66-b28c-4fa5-9a20-b79e7322fc00"),
        Some("deviation-approved")
    );
    assert_eq!(status("1c65d2d3-7735-47fa-8f68-a236744beab7"), Some("open"));
    // The second item points at the open risk. The first item's `risk-uuid` is, in NIST's
    // example, the UUID of risk 1's mitigating factor, not of a risk: the schema cannot see
    // dangling references, so a reference check must not expect none on this file.
    assert_eq!(
        status(&poam.poam_items[1].related_risks[0].risk_uuid),
        Some("open")
    );
    let first = &poam.poam_items[0].related_risks[0].risk_uuid;
    assert_eq!(status(first), None);
    assert_eq!(&poam.risks[0].mitigating_factors[0].uuid, first);
    let milestones = poam
        .risks
        .iter()
        .flat_map(|r| &r.remediations)
        .flat_map(|r| &r.tasks)
        .filter(|t| t.task_type == "milestone")
        .count();
    assert_eq!(milestones, 2);
}

/// The helper later workflows use to record a component, checked end to end: the plan written
/// back is still valid and the component is there.
#[test]
fn an_added_component_is_written_and_reloads() {
    let mut ssp = load_ssp(SSP);
    let firmware = SystemComponent {
        uuid: "5c1f6a3e-2b7d-4e8f-9a0b-1c2d3e4f5a6b".to_owned(),
        component_type: "software".to_owned(),
        title: "Thermostat firmware".to_owned(),
        description: "Firmware of the main MCU.".to_owned(),
        purpose: None,
        props: Vec::new(),
        links: Vec::new(),
        status: SystemComponentStatus {
            state: ComponentState::UnderDevelopment,
            remarks: None,
        },
        responsible_roles: Vec::new(),
        protocols: Vec::new(),
        remarks: None,
    };
    ssp.add_component(firmware.clone());
    ssp.add_component(firmware.clone());
    assert_eq!(ssp.system_implementation.components.len(), 7);
    let text = write_json(&Document::SystemSecurityPlan(Box::new(ssp)));
    let Document::SystemSecurityPlan(back) = load_text("written.json", &text).unwrap() else {
        panic!("not an SSP")
    };
    assert_eq!(back.component(&firmware.uuid), Some(&firmware));
}

#[test]
fn a_poam_item_without_title_is_refused_by_the_schema() {
    let mut value = example_value(POAM);
    let item = &mut value["plan-of-action-and-milestones"]["poam-items"][1];
    item.as_object_mut().unwrap().remove("title").unwrap();
    let text = serde_json::to_string_pretty(&value).unwrap();
    let err = load_text("no-title.json", &text).unwrap_err();
    let LoadError::Schema {
        model, violations, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*model, "plan-of-action-and-milestones");
    let missing = violations
        .iter()
        .find(|v| v.pointer == "/plan-of-action-and-milestones/poam-items/1")
        .unwrap_or_else(|| panic!("{violations:#?}"));
    assert!(missing.message.contains("title"), "{}", missing.message);
    assert!(missing.line.is_some(), "{err}");
}

#[test]
fn an_unknown_poam_field_is_named_by_the_schema_and_by_the_model() {
    let mut value = example_value(POAM);
    value["plan-of-action-and-milestones"]["poam-items"][0]["severity"] = "high".into();
    let text = serde_json::to_string(&value).unwrap();
    let err = load_text("extra.json", &text).unwrap_err();
    let LoadError::Schema { violations, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        violations.iter().any(|v| {
            v.pointer == "/plan-of-action-and-milestones/poam-items/0"
                && v.message.contains("severity")
        }),
        "{violations:#?}"
    );
    // Without the schema stage the typed model refuses it too, naming the field.
    let unchecked = Loader {
        validate: false,
        ..Loader::default()
    };
    let err = unchecked
        .load_bytes(Path::new("extra.json"), text.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::Model { model: "plan-of-action-and-milestones", message, .. }
            if message.contains("unknown field `severity`")),
        "{err}"
    );
}

#[test]
fn an_ssp_with_an_unknown_system_state_is_refused_by_the_schema() {
    let mut value = example_value(SSP);
    value["system-security-plan"]["system-characteristics"]["status"]["state"] = "retired".into();
    let text = serde_json::to_string_pretty(&value).unwrap();
    let err = load_text("retired.json", &text).unwrap_err();
    let LoadError::Schema {
        model, violations, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*model, "system-security-plan");
    assert!(
        violations
            .iter()
            .any(|v| v.pointer == "/system-security-plan/system-characteristics/status/state"),
        "{violations:#?}"
    );
}

#[test]
fn an_unknown_ssp_field_is_named() {
    let mut value = example_value(SSP);
    value["system-security-plan"]["system-characteristics"]["system-nickname"] = "ELAS".into();
    let text = serde_json::to_string(&value).unwrap();
    let err = load_text("extra.json", &text).unwrap_err();
    let LoadError::Schema { violations, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        violations.iter().any(|v| {
            v.pointer == "/system-security-plan/system-characteristics"
                && v.message.contains("system-nickname")
        }),
        "{violations:#?}"
    );
    let unchecked = Loader {
        validate: false,
        ..Loader::default()
    };
    let err = unchecked
        .load_bytes(Path::new("extra.json"), text.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&err, LoadError::Model { model: "system-security-plan", message, .. }
            if message.contains("unknown field `system-nickname`")),
        "{err}"
    );
}

#[test]
fn an_ssp_without_components_is_refused() {
    let mut value = example_value(LEVERAGED_SSP);
    value["system-security-plan"]["system-implementation"]["components"] = Value::Array(vec![]);
    let err = load_text("empty.json", &serde_json::to_string(&value).unwrap()).unwrap_err();
    let LoadError::Schema { violations, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        violations
            .iter()
            .any(|v| v.pointer == "/system-security-plan/system-implementation/components"),
        "{violations:#?}"
    );
}
