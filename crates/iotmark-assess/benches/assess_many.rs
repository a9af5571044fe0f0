//! Assess 10,000 generated declarations against EN 303 645 and IR 8425 (issue 3's target:
//! under a second in total on 2 cores). Run: `cargo bench -p iotmark-assess --bench assess_many`.
//!
//! The declarations are variants of examples/acme-securecam: category, data, credentials,
//! interfaces, update facts and claims vary with the index, so tiers, applicability and
//! findings differ from one to the next. Each carries three evidence records. Checking
//! (parsing and validation) is timed apart from assessment.

use std::path::Path;
use std::time::Instant;

use iotmark_assess::{Assessor, RuleBook, Status, bundled_schemes};
use iotmark_catalogs::Bundle;
use iotmark_declare::{Category, ClaimStatus, Declaration, DefaultPassword, SensitiveData};
use iotmark_evidence::EvidenceSet;

// The allocator the `iotmark` binary uses, so the figure is the one a user gets.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 10_000;

fn variants(base: &Declaration) -> Vec<Declaration> {
    let categories = [
        Category::Camera,
        Category::Plug,
        Category::Router,
        Category::Toy,
        Category::Thermostat,
        Category::SmartLock,
    ];
    let passwords = [
        DefaultPassword::SetAtSetup,
        DefaultPassword::UniquePerDevice,
        DefaultPassword::Shared,
        DefaultPassword::None,
    ];
    (0..N)
        .map(|i| {
            let mut d = base.clone();
            d.product.id = format!("gen-{i:05}");
            d.product.category = categories[i % categories.len()];
            d.credentials.default_password = passwords[i % passwords.len()];
            d.credentials.uses_passwords = i % 7 != 0;
            d.intended_use.data.sensitive = if i % 3 == 0 {
                vec![SensitiveData::Video]
            } else {
                Vec::new()
            };
            d.intended_use.data.telemetry = i % 2 == 0;
            d.updates.automatic = i % 5 != 0;
            if let Some(delivery) = d.updates.delivery.as_mut() {
                delivery.signed = i % 11 != 0;
            }
            d.interfaces.physical[0].disabled_in_software = i % 4 == 0;
            d.security.least_privilege = i % 2 == 1;
            if let Some(claim) = d.claims.get_mut("en303645-5.9-1") {
                claim.status = if i % 2 == 0 {
                    ClaimStatus::Planned
                } else {
                    ClaimStatus::Implemented
                };
            }
            d
        })
        .collect()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/acme-securecam");
    let bytes = std::fs::read(root.join("declaration.yaml")).expect("example declaration");
    let bundle = Bundle::get();
    let today = jiff::civil::date(2026, 11, 22);
    let known = |id: &str| bundle.catalog_of(id).is_some();

    let started = Instant::now();
    for _ in 0..1000 {
        let r = iotmark_declare::check(Path::new("declaration.yaml"), &bytes, &known, today);
        assert_eq!(r.errors(), 0);
    }
    let check_per = started.elapsed() / 1000;

    let base = iotmark_declare::check(Path::new("declaration.yaml"), &bytes, &known, today)
        .declaration
        .expect("valid");
    let declarations = variants(&base);
    let evidence = EvidenceSet::load_dir(&root.join("evidence")).expect("example evidence");
    let schemes = bundled_schemes(bundle).expect("schemes");
    let pick = |id: &str| {
        schemes
            .iter()
            .find(|s| s.id == id)
            .expect("bundled scheme")
            .clone()
    };
    let (en, ir) = (
        pick("en303645-self-declaration"),
        pick("us-cyber-trust-mark"),
    );
    let assessor = Assessor {
        bundle,
        rules: RuleBook::bundled().expect("rules"),
        today,
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);

    // Warm up once (bundle parsing, rule loading) so the timing is of assessment alone.
    let _ = assessor.assess(&declarations[0], &evidence, &en);

    let started = Instant::now();
    let chunk = declarations.len().div_ceil(threads);
    let (findings, not_satisfied) = std::thread::scope(|scope| {
        let handles: Vec<_> = declarations
            .chunks(chunk)
            .map(|part| {
                let (assessor, evidence, en, ir) = (&assessor, &evidence, &en, &ir);
                scope.spawn(move || {
                    let mut findings = 0usize;
                    let mut failed = 0usize;
                    for d in part {
                        for scheme in [en, ir] {
                            let a = assessor.assess(d, evidence, scheme);
                            findings += a.findings.len();
                            failed += a.count(Status::NotSatisfied, false);
                        }
                    }
                    (findings, failed)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    let elapsed = started.elapsed();
    println!(
        "check (parse + validate) of the example declaration: {:.1} µs each",
        check_per.as_secs_f64() * 1e6
    );
    println!(
        "assessed {N} declarations x 2 schemes (EN 303 645, IR 8425) on {threads} thread(s): {:.3} s, {:.1} µs per assessment, {findings} findings ({not_satisfied} not satisfied)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / (2 * N) as f64
    );
}
