//! Risk tier and route selection: for each bundled scheme, declarations that land in different
//! tiers get the tier and route the scheme's YAML gives them, and a tier's own requirement block
//! replaces the scheme's.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;
use common::*;

use iotmark_assess::{Assessment, Route};
use iotmark_declare::{Category, Declaration, SafetyImpact, Sector, SensitiveData};
use iotmark_evidence::EvidenceSet;

fn assess(d: &Declaration, scheme_id: &str) -> Assessment {
    assessor().assess(d, &EvidenceSet::default(), &scheme(scheme_id))
}

/// A consumer product with no personal or sensitive data and no safety impact.
fn plain(category: Category) -> Declaration {
    let mut d = example();
    d.product.category = category;
    d.intended_use.safety_impact = SafetyImpact::None;
    d.intended_use.sector = Sector::Consumer;
    d.intended_use.data.personal = false;
    d.intended_use.data.sensitive = Vec::new();
    d
}

#[track_caller]
fn assert_tier(a: &Assessment, tier: &str, route: Route) {
    assert_eq!(
        (a.tier.as_str(), a.route),
        (tier, route),
        "{} for {}",
        a.scheme,
        a.product
    );
    let s = scheme(&a.scheme);
    let t = s.tiers.iter().find(|t| t.id == tier).unwrap();
    assert_eq!(a.tier_title, t.title);
}

#[test]
fn us_cyber_trust_mark_has_one_lab_tested_tier() {
    let camera = assess(&example(), "us-cyber-trust-mark");
    assert_tier(&camera, "labelled", Route::ThirdPartyTesting);
    let mut risky = plain(Category::SmartLock);
    risky.intended_use.safety_impact = SafetyImpact::High;
    assert_tier(
        &assess(&risky, "us-cyber-trust-mark"),
        "labelled",
        Route::ThirdPartyTesting,
    );
    assert_tier(
        &assess(&plain(Category::Plug), "us-cyber-trust-mark"),
        "labelled",
        Route::ThirdPartyTesting,
    );
    assert_eq!(camera.findings.len(), 29);
}

#[test]
fn en303645_is_always_self_declared() {
    for d in [example(), plain(Category::Smartcard), {
        let mut d = plain(Category::MedicalDevice);
        d.intended_use.safety_impact = SafetyImpact::High;
        d
    }] {
        let a = assess(&d, "en303645-self-declaration");
        assert_tier(&a, "declared", Route::SelfDeclaration);
        assert_eq!(a.findings.len(), 68);
    }
}

#[test]
fn sg_cls_levels_follow_data_and_safety() {
    let l1 = assess(&plain(Category::Plug), "sg-cls");
    assert_tier(&l1, "level-1", Route::SelfDeclaration);

    let mut personal = plain(Category::Plug);
    personal.intended_use.data.personal = true;
    personal.intended_use.data.sensitive = vec![SensitiveData::Location];
    let l2 = assess(&personal, "sg-cls");
    assert_tier(&l2, "level-2", Route::SelfDeclaration);

    // The example camera handles video and audio.
    let l3 = assess(&example(), "sg-cls");
    assert_tier(&l3, "level-3", Route::ThirdPartyTesting);
    let mut video_only = plain(Category::Camera);
    video_only.intended_use.data.sensitive = vec![SensitiveData::Video];
    assert_tier(
        &assess(&video_only, "sg-cls"),
        "level-3",
        Route::ThirdPartyTesting,
    );

    let mut unsafe_ = plain(Category::SmartLock);
    unsafe_.intended_use.safety_impact = SafetyImpact::High;
    let l4 = assess(&unsafe_, "sg-cls");
    assert_tier(
        &l4,
        "level-4",
        Route::ThirdPartyTestingWithPenetrationTesting,
    );
    // Safety outranks data: a camera that could hurt someone is level 4, not 3.
    let mut camera = example();
    camera.intended_use.safety_impact = SafetyImpact::Moderate;
    assert_tier(
        &assess(&camera, "sg-cls"),
        "level-4",
        Route::ThirdPartyTestingWithPenetrationTesting,
    );
}

#[test]
fn sg_cls_tier_requirement_blocks_replace_the_schemes() {
    let l1 = assess(&plain(Category::Plug), "sg-cls");
    let mut personal = plain(Category::Plug);
    personal.intended_use.data.personal = true;
    let l2 = assess(&personal, "sg-cls");
    assert_eq!(l2.tier, "level-2");
    let l3 = assess(&example(), "sg-cls");

    let ids = |a: &Assessment| {
        a.findings
            .iter()
            .map(|f| f.requirement.clone())
            .collect::<Vec<_>>()
    };
    assert!(l1.findings.len() < l2.findings.len());
    assert_eq!(
        ids(&l1),
        [
            "en303645-5.1-1",
            "en303645-5.1-2",
            "en303645-5.1-3",
            "en303645-5.1-4",
            "en303645-5.1-5",
            "en303645-5.2-1",
            "en303645-5.3-2",
            "en303645-5.3-3",
            "en303645-5.3-7",
            "en303645-5.3-8",
            "en303645-5.3-10",
            "en303645-5.3-13",
            "en303645-5.3-16",
        ]
    );
    assert_eq!(l2.findings.len(), 68);
    // Level 1: everything it asks is mandatory. Level 2: by EN 303 645 status.
    assert!(l1.findings.iter().all(|f| f.mandatory));
    let mandatory = |a: &Assessment, id: &str| {
        a.findings
            .iter()
            .find(|f| f.requirement == id)
            .unwrap()
            .mandatory
    };
    assert!(mandatory(&l2, "en303645-5.1-1"));
    assert!(!mandatory(&l2, "en303645-5.2-3"));
    assert!(!mandatory(&l2, "en303645-5.6-9"));
    // Level 3 adds security by design to the mandatory set.
    assert!(mandatory(&l3, "en303645-5.2-3"));
    assert!(mandatory(&l3, "en303645-5.6-9"));
    assert!(!mandatory(&l3, "en303645-5.2-2"));
    assert_eq!(
        l3.findings.iter().filter(|f| f.mandatory).count(),
        l2.findings.iter().filter(|f| f.mandatory).count() + 2
    );
}

#[test]
fn eu_cra_tiers_follow_the_product_class() {
    assert_tier(
        &assess(&plain(Category::Smartcard), "eu-cra"),
        "critical",
        Route::ThirdPartyTestingWithPenetrationTesting,
    );
    assert_tier(
        &assess(&plain(Category::Hsm), "eu-cra"),
        "critical",
        Route::ThirdPartyTestingWithPenetrationTesting,
    );
    assert_tier(
        &assess(&plain(Category::Firewall), "eu-cra"),
        "important-class-ii",
        Route::ThirdPartyTesting,
    );
    assert_tier(
        &assess(&plain(Category::Router), "eu-cra"),
        "important-class-i",
        Route::ThirdPartyTesting,
    );
    assert_tier(
        &assess(&example(), "eu-cra"),
        "important-class-i",
        Route::ThirdPartyTesting,
    );
    assert_tier(
        &assess(&plain(Category::Plug), "eu-cra"),
        "default",
        Route::SelfDeclaration,
    );

    // Toys and wearables: the data they handle decides.
    assert_tier(
        &assess(&plain(Category::Toy), "eu-cra"),
        "default",
        Route::SelfDeclaration,
    );
    let mut talking_toy = plain(Category::Toy);
    talking_toy.intended_use.data.sensitive = vec![SensitiveData::Audio];
    assert_tier(
        &assess(&talking_toy, "eu-cra"),
        "important-class-i-toy",
        Route::ThirdPartyTesting,
    );
    let mut health_wearable = plain(Category::Wearable);
    health_wearable.intended_use.data.sensitive = vec![SensitiveData::Health];
    assert_tier(
        &assess(&health_wearable, "eu-cra"),
        "important-class-i-wearable",
        Route::ThirdPartyTesting,
    );
    // Audio data alone does not make a wearable important.
    let mut audio_wearable = plain(Category::Wearable);
    audio_wearable.intended_use.data.sensitive = vec![SensitiveData::Audio];
    assert_tier(
        &assess(&audio_wearable, "eu-cra"),
        "default",
        Route::SelfDeclaration,
    );
}

#[test]
fn us_federal_impact_follows_safety_sector_and_data() {
    let mut high = plain(Category::IndustrialController);
    high.intended_use.safety_impact = SafetyImpact::High;
    assert_tier(
        &assess(&high, "us-federal-sp800-213"),
        "high",
        Route::ThirdPartyTestingWithPenetrationTesting,
    );
    let mut moderate = plain(Category::Thermostat);
    moderate.intended_use.safety_impact = SafetyImpact::Moderate;
    assert_tier(
        &assess(&moderate, "us-federal-sp800-213"),
        "moderate",
        Route::ThirdPartyTesting,
    );
    let mut healthcare = plain(Category::HealthMonitor);
    healthcare.intended_use.sector = Sector::Healthcare;
    assert_tier(
        &assess(&healthcare, "us-federal-sp800-213"),
        "moderate-sector",
        Route::ThirdPartyTesting,
    );
    let mut biometric = plain(Category::SmartLock);
    biometric.intended_use.data.sensitive = vec![SensitiveData::Biometric];
    assert_tier(
        &assess(&biometric, "us-federal-sp800-213"),
        "moderate-data",
        Route::ThirdPartyTesting,
    );
    assert_tier(
        &assess(&plain(Category::Plug), "us-federal-sp800-213"),
        "low",
        Route::SelfDeclaration,
    );
    // The example camera: consumer sector, low safety impact, video and audio only.
    assert_tier(
        &assess(&example(), "us-federal-sp800-213"),
        "low",
        Route::SelfDeclaration,
    );
}
