//! The SP 800-213 procurement check against the expected table in tests/data (derived by an
//! independent script from the same mapping and NIST's SP 800-53B profiles), and rows checked
//! by hand against SP 800-53B's baseline allocations.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use iotmark_conformity::procure::{Baseline, Candidate, compare, derive};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// baseline → requirement → (because of, statuses of the two examples).
fn expected() -> BTreeMap<String, BTreeMap<String, (String, Vec<String>)>> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/procure-expected.tsv"),
    )
    .unwrap();
    let mut out: BTreeMap<String, BTreeMap<String, (String, Vec<String>)>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let cells: Vec<&str> = line.split('\t').collect();
        out.entry(cells[0].to_owned()).or_default().insert(
            cells[1].to_owned(),
            (
                cells[2].to_owned(),
                cells[3..].iter().map(|s| (*s).to_owned()).collect(),
            ),
        );
    }
    out
}

/// The example camera and its fixed version.
fn examples() -> [Candidate; 2] {
    ["acme-securecam", "acme-securecam-fixed"].map(|name| Candidate {
        declaration: repo().join(format!("examples/{name}/declaration.yaml")),
        evidence: None,
        published: None,
    })
}

const BASELINES: [(Baseline, &str); 3] = [
    (Baseline::Low, "low"),
    (Baseline::Moderate, "moderate"),
    (Baseline::High, "high"),
];

#[test]
fn each_baseline_leads_to_the_expected_requirements_for_the_expected_controls() {
    let expected = expected();
    for (baseline, name) in BASELINES {
        let d = derive(baseline, None).unwrap();
        let got: BTreeMap<String, String> = d
            .requirements
            .iter()
            .map(|r| {
                let mut because = r.because_of.clone();
                because.sort();
                (r.id.clone(), because.join(","))
            })
            .collect();
        let want: BTreeMap<String, String> = expected[name]
            .iter()
            .map(|(id, (because, _))| (id.clone(), because.clone()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn rows_checked_by_hand_against_sp_800_53b() {
    let row = |baseline, id: &str| {
        derive(baseline, None)
            .unwrap()
            .requirements
            .into_iter()
            .find(|r| r.id == id)
            .map(|r| r.because_of)
    };
    // IA-3 (device identification and authentication) is allocated to MODERATE and HIGH,
    // not LOW: identifier management is required at LOW through CM-8 and IA-4 only, and
    // device authentication (DI (DAS)) not at all.
    assert!(
        !row(Baseline::Low, "sp800-213a-di-ims")
            .unwrap()
            .contains(&"ia-3".to_owned())
    );
    assert!(
        row(Baseline::Moderate, "sp800-213a-di-ims")
            .unwrap()
            .contains(&"ia-3".to_owned())
    );
    assert_eq!(row(Baseline::Low, "sp800-213a-di-das"), None);
    assert_eq!(
        row(Baseline::Moderate, "sp800-213a-di-das").unwrap(),
        ["ia-3"]
    );
    // SC-8 and SC-8(1) (transmission confidentiality) start at MODERATE.
    assert_eq!(row(Baseline::Low, "sp800-213a-dp-stx"), None);
    assert_eq!(
        row(Baseline::Moderate, "sp800-213a-dp-stx").unwrap(),
        ["sc-8", "sc-8.1"]
    );
    // AC-10 (concurrent sessions) and SC-24 (fail in known state) are HIGH only.
    assert_eq!(row(Baseline::Moderate, "sp800-213a-la-ldu"), None);
    assert_eq!(row(Baseline::High, "sp800-213a-la-ldu").unwrap(), ["ac-10"]);
    assert_eq!(row(Baseline::High, "sp800-213a-ds-ops").unwrap(), ["sc-24"]);
}

#[test]
fn the_example_products_get_the_expected_statuses_at_each_baseline() {
    let expected = expected();
    let candidates = examples();
    for (baseline, name) in BASELINES {
        let d = derive(baseline, None).unwrap();
        let c = compare(d, &candidates, jiff::civil::date(2026, 12, 5)).unwrap();
        for (i, candidate) in c.candidates.iter().enumerate() {
            for (id, (_, statuses)) in &expected[name] {
                let got = candidate.statuses[id].0.as_str();
                assert_eq!(
                    got,
                    statuses[i],
                    "{name} {id} for {}",
                    candidate.declaration.display()
                );
            }
            // Every requirement not shown to be met names the controls the agency supplies.
            assert_eq!(
                candidate.compensating.len(),
                candidate.missing + candidate.to_review
            );
        }
        // The unfixed camera fails role support (LA (ROL)); the fixed one does not.
        assert_eq!(
            c.candidates[0].statuses["sp800-213a-la-rol"].0.as_str(),
            "not-satisfied"
        );
        assert_ne!(
            c.candidates[1].statuses["sp800-213a-la-rol"].0.as_str(),
            "not-satisfied"
        );
    }
}

#[test]
fn a_tailored_profile_replaces_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agency.json");
    std::fs::write(
        &path,
        serde_json::json!({"profile": {
            "uuid": "5b1b4f52-8f6a-4c1c-9a57-6a5c2a3f7e10",
            "metadata": {"title": "Agency tailoring", "last-modified": "2026-12-05T00:00:00Z",
                         "version": "1", "oscal-version": "1.1.2"},
            "imports": [{"href": "#catalog", "include-controls": [{"with-ids": ["sc-8", "sc-8.1", "si-2"]}]}]
        }})
        .to_string(),
    )
    .unwrap();
    let d = derive(Baseline::Low, Some(&path)).unwrap();
    let ids: Vec<&str> = d.requirements.iter().map(|r| r.id.as_str()).collect();
    assert!(ids.contains(&"sp800-213a-dp-stx"), "{ids:?}");
    assert!(ids.contains(&"sp800-213a-su-upd"), "{ids:?}");
    assert!(!ids.contains(&"sp800-213a-di-ims"), "{ids:?}");
    assert_eq!(d.baseline_controls, 3);
}

#[test]
fn the_gaps_become_a_poam_and_the_products_ssp_components() {
    use iotmark_conformity::procure::{attach_to_ssp, poam};
    use iotmark_oscal::{Document, Loader, write_json};
    let candidates = examples();
    let c = compare(
        derive(Baseline::Moderate, None).unwrap(),
        &candidates,
        jiff::civil::date(2026, 12, 5),
    )
    .unwrap();
    let now: jiff::Timestamp = "2026-12-05T12:00:00Z".parse().unwrap();
    let plan = poam(&c, now).unwrap();
    // Written and read back through the schema-validating loader.
    let text = write_json(&Document::PlanOfActionAndMilestones(Box::new(plan)));
    let Document::PlanOfActionAndMilestones(plan) = Loader::default()
        .load_bytes(Path::new("gaps.json"), text.as_bytes())
        .unwrap()
    else {
        panic!("not a POA&M")
    };
    let gaps: usize = c.candidates.iter().map(|x| x.compensating.len()).sum();
    assert_eq!(plan.poam_items.len(), gaps);
    assert_eq!(plan.risks.len(), gaps);
    for item in &plan.poam_items {
        let risk = &item.related_risks[0].risk_uuid;
        assert!(plan.risks.iter().any(|r| &r.uuid == risk), "{risk}");
    }
    // The unfixed camera's failed role support is an item naming its compensating controls.
    let rol = plan
        .poam_items
        .iter()
        .find(|i| i.title.contains("LA (ROL)") && i.title.ends_with("not met"))
        .unwrap();
    assert!(
        rol.description.contains("ac-2, ac-3, ac-5, ac-6"),
        "{}",
        rol.description
    );
    assert_eq!(plan.local_definitions.as_ref().unwrap().components.len(), 2);

    let example = repo().join("crates/iotmark-oscal/tests/data/nist-examples/ssp-example.json");
    let Document::SystemSecurityPlan(mut ssp) = Loader::default().load_path(&example).unwrap()
    else {
        panic!("not an SSP")
    };
    let before = ssp.system_implementation.components.len();
    attach_to_ssp(&mut ssp, &c, now).unwrap();
    attach_to_ssp(&mut ssp, &c, now).unwrap();
    // Both cameras (two versions of one product) are added, once however often attached.
    assert_eq!(ssp.system_implementation.components.len(), before + 2);
    let text = write_json(&Document::SystemSecurityPlan(ssp));
    Loader::default()
        .load_bytes(Path::new("ssp.json"), text.as_bytes())
        .unwrap();
}
