//! The monitor at scale: a registry holding VERSIONS attested product versions, each with its
//! own SBOM, and a vulnerability store; then an import of NEW advisories, and the monitor run
//! that follows it, timed. That run is the figure issue 15 sets a target for (under 10 s for
//! 100,000 versions after a 1,000-advisory import, on 2 cores).
//!
//! ```text
//! monitor_bench [DB_URL]        # default: SQLite in a temporary directory
//! ```
//!
//! Environment (defaults in brackets): `VERSIONS` [100000], `PER_PRODUCT` [20] versions per
//! product, `COMPONENTS` [25] per SBOM drawn from `LIBRARIES` [1000] libraries, `BASE` [20000]
//! advisories in the store before, `NEW` [1000] advisories imported, `HIT_SHARE` [0.01]: the
//! share of the new advisories that name a library the SBOMs use (the rest name the store's
//! other products, as most of a day's CVEs name no IoT component), `VULNS_DB` [SQLite file;
//! the registry's database when DB_URL is PostgreSQL].
//!
//! The data is generated from a fixed seed, so runs are comparable. Every advisory names one
//! library by CPE with a version range; an SBOM component is that library at one of 12
//! versions. Each library's new advisories cover the oldest third of its versions.

use std::sync::Arc;
use std::time::Instant;

use iotmark_attest::Sha256;
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{ConformityInput, Predicate, Route, Subject, conformity_statement};
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store::{self, Role};
use iotmark_vulns::model::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A small deterministic generator (SplitMix64), so every run has the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Library `k` at version index `v` (0..12): `1.v.0`.
fn version(v: u64) -> String {
    format!("1.{v}.0")
}

fn seconds(run: &iotmark_registry::monitor::Run) -> String {
    format!(
        "matching {:.2} s, deciding {:.2} s, applying {:.2} s",
        run.seconds.matching, run.seconds.deciding, run.seconds.applying
    )
}

fn cpe(library: u64, version: &str) -> String {
    format!("cpe:2.3:a:vendor{library}:lib{library}:{version}:*:*:*:*:*:*:*")
}

/// An advisory on library `library`, affecting versions below `1.{below}.0`.
fn advisory(id: &str, library: u64, below: u64, rating: Rating) -> Advisory {
    Advisory {
        id: id.to_owned(),
        source: Source::Nvd,
        aliases: vec![],
        publisher: None,
        published: None,
        modified: Some(jiff::Timestamp::UNIX_EPOCH),
        withdrawn: false,
        summary: format!("A flaw in lib{library} before {}", version(below)).into(),
        severities: vec![Cvss {
            version: CvssVersion::V31,
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            base_score: 9.8,
            rating,
            scored_by: None,
        }],
        weaknesses: vec![],
        references: vec![],
        applies_to: vec![Applicability::Configuration(Configuration {
            operator: Operator::Or,
            negate: false,
            nodes: vec![Node {
                operator: Operator::Or,
                negate: false,
                matches: vec![CpeMatch {
                    criteria: cpe(library, "*"),
                    vulnerable: true,
                    bounds: Bounds {
                        start: None,
                        end: Some(Bound {
                            version: version(below),
                            inclusive: false,
                        }),
                    },
                }],
            }],
        })],
    }
}

fn sbom(product: u64, v: u64, libraries: &[(u64, u64)]) -> Vec<u8> {
    let components: Vec<serde_json::Value> = libraries
        .iter()
        .map(|&(lib, ver)| {
            let version = version(ver);
            serde_json::json!({
                "type": "library",
                "bom-ref": format!("lib{lib}"),
                "name": format!("lib{lib}"),
                "version": version,
                "cpe": cpe(lib, &version),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "firmware", "name": format!("product{product}"), "version": format!("{v}.0")}},
        "components": components,
    }))
    .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let versions = env("VERSIONS", 100_000.0) as u64;
    let per_product = env("PER_PRODUCT", 20.0) as u64;
    let components = env("COMPONENTS", 25.0) as u64;
    let libraries = env("LIBRARIES", 1000.0) as u64;
    let base = env("BASE", 20_000.0) as u64;
    let new = env("NEW", 1000.0) as u64;
    let hit_share = env("HIT_SHARE", 0.01);
    let dir = tempfile::tempdir()?;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("registry.sqlite3").display()));
    let vulns_url = std::env::var("VULNS_DB").unwrap_or_else(|_| {
        if url.starts_with("sqlite") {
            format!("sqlite://{}", dir.path().join("vulns.sqlite3").display())
        } else {
            url.clone()
        }
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = store::open(&url).await?;
        let acme = iotmark_registry::admin::add_organisation(&store, "acme", "Acme Devices Ltd", Role::Manufacturer).await?;
        let signer = Arc::new(FileSigner::generate()?);
        iotmark_registry::admin::add_key(&store, "acme", &signer.public_key(), "bench").await?;
        let registry = Arc::new(
            Registry::open(
                store,
                Config {
                    data_dir: dir.path().join("data"),
                    log_origin: "bench.example/log".to_owned(),
                    limits: Default::default(),
                    public_url: "http://bench.example".to_owned(),
                },
            )
            .await?,
        );
        let vulns = iotmark_vulns::store::Store::open(&vulns_url).await?;
        println!(
            "machine: {} cores; registry {}; versions {versions} ({per_product} per product), {components} components each of {libraries} libraries; store {base} advisories, then {new} new ({:.0}% on the SBOMs' libraries)",
            std::thread::available_parallelism().map_or(1, usize::from),
            iotmark_db::without_password(&url),
            hit_share * 100.0
        );

        // The example product's statement, as the template of every version's.
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let declaration_path = repo.join("examples/acme-securecam/declaration.yaml");
        let bytes = std::fs::read(&declaration_path)?;
        let declaration = iotmark_declare::check(&declaration_path, &bytes, &|_| true, jiff::Zoned::now().date())
            .declaration
            .ok_or("the example declaration does not check")?;
        let mut results: serde_json::Value = serde_json::from_slice(&std::fs::read(
            repo.join("crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json"),
        )?)?;
        let result = &mut results["assessment-results"]["results"][0];
        result["description"] = "Verdict: conforms.".into();
        for f in result["findings"].as_array_mut().ok_or("no findings")? {
            if f["props"][0]["value"] != "not-applicable" {
                f["props"][0]["value"] = "satisfied".into();
                f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
            }
        }
        let now = jiff::Timestamp::now();
        let issued = now.checked_sub(jiff::SignedDuration::from_hours(24 * 30))?;
        let template = conformity_statement(
            &serde_json::to_vec(&results)?,
            std::path::Path::new("assessment-results.json"),
            &declaration,
            &ConformityInput {
                sbom_sha256: None,
                route: Route::Sdoc,
                profile: None,
                organisation: "Acme Devices Ltd".to_owned(),
                key_id: signer.key_id(),
                issued,
                valid_until: issued.checked_add(jiff::SignedDuration::from_hours(24 * 365))?,
            },
        )?;

        // Attest and upload every version's SBOM, a few hundred at a time.
        let started = Instant::now();
        let mut rng = Rng(0x15);
        let mut tasks: tokio::task::JoinSet<Result<(), Box<dyn std::error::Error + Send + Sync>>> =
            tokio::task::JoinSet::new();
        for i in 0..versions {
            let (product, v) = (i / per_product, i % per_product);
            let libs: Vec<(u64, u64)> = (0..components)
                .map(|_| (rng.below(libraries), rng.below(12)))
                .collect();
            let sbom = sbom(product, v, &libs);
            let mut statement = template.clone();
            statement.subject = vec![Subject::sha256(
                &format!("product{product}-{v}.bin"),
                &Sha256::of(format!("product {product} version {v}").as_bytes()).to_hex(),
            )];
            let Predicate::Conformity(p) = &mut statement.predicate else {
                return Err("not a conformity statement".into());
            };
            p.product.id = format!("bench-product-{product}");
            p.product.version = format!("{v}.0");
            p.sbom_sha256 = Some(Sha256::of(&sbom));
            let (registry, acme, signer) = (registry.clone(), acme.clone(), signer.clone());
            if tasks.len() >= 256
                && let Some(done) = tasks.join_next().await
            {
                done?.map_err(|e| e.to_string())?;
            }
            tasks.spawn(async move {
                let envelope = iotmark_attest::sign_statement(&statement, signer.as_ref())?.to_json();
                registry.submit(&acme, envelope.as_bytes(), None).await?;
                let sha = Sha256::of(&sbom).to_hex();
                registry.upload_sbom(&acme, &sha, &sbom).await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done?.map_err(|e| e.to_string())?;
        }
        println!("attested {versions} versions with their SBOMs: {:.1} s", started.elapsed().as_secs_f64());
        // Webhook subscriptions to every product (WEBHOOKS, default 1): each change the
        // monitor makes also queues a message per subscription, in the transaction that
        // records it. Nothing delivers them here.
        let webhooks = env("WEBHOOKS", 1.0) as u64;
        for n in 0..webhooks {
            registry
                .store
                .add_webhook(&iotmark_registry::store::NewWebhook {
                    id: format!("wh_bench{n}"),
                    organisation: "acme".to_owned(),
                    url: "http://127.0.0.1:9/hook".to_owned(),
                    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
                    product_id: None,
                    created: jiff::Timestamp::now(),
                })
                .await?;
        }

        // The store before, then the first run: every SBOM matched whole.
        let started = Instant::now();
        let batch: Vec<Advisory> = (0..base)
            .map(|n| {
                // The SBOMs' libraries and as many others again; one in a hundred reaches a
                // version the SBOMs hold (1.0.0), the others only older ones.
                let library = rng.below(libraries * 2);
                let below = if rng.below(100) == 0 { 1 } else { 0 };
                advisory(&format!("CVE-2020-{n:05}"), library, below, Rating::High)
            })
            .collect();
        for chunk in batch.chunks(5000) {
            vulns.put_advisories(chunk).await?;
        }
        println!("stored {base} advisories: {:.1} s", started.elapsed().as_secs_f64());
        registry.attach_vulnerability_store(vulns);
        let started = Instant::now();
        let first = registry.monitor(jiff::Timestamp::now()).await?;
        println!(
            "first run (every SBOM matched whole): {:.1} s ({}); {} SBOMs matched, {} open vulnerabilities, {} changes",
            started.elapsed().as_secs_f64(),
            seconds(&first),
            first.sboms_matched,
            first.open_vulnerabilities,
            first.changes.len()
        );
        let started = Instant::now();
        let quiet = registry.monitor(jiff::Timestamp::now()).await?;
        println!(
            "a run with nothing new: {:.2} s ({}); {} changes",
            started.elapsed().as_secs_f64(),
            seconds(&quiet),
            quiet.changes.len()
        );

        // The import, then the run the target is about.
        let hits = ((new as f64) * hit_share).round() as u64;
        let batch: Vec<Advisory> = (0..new)
            .map(|n| {
                let library = if n < hits {
                    rng.below(libraries)
                } else {
                    libraries + rng.below(libraries * 9)
                };
                advisory(&format!("CVE-2026-{n:05}"), library, 4, Rating::Critical)
            })
            .collect();
        let started = Instant::now();
        registry
            .vulnerability_store()
            .ok_or("no store")?
            .put_advisories(&batch)
            .await?;
        println!("imported {new} advisories: {:.2} s", started.elapsed().as_secs_f64());
        let started = Instant::now();
        let run = registry.monitor(jiff::Timestamp::now()).await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "MONITOR after the import: {seconds:.2} s ({}) over {} living attestations; {} SBOMs re-matched, {} open vulnerabilities, {} status changes logged",
            self::seconds(&run),
            run.attestations,
            run.sboms_rematched,
            run.open_vulnerabilities,
            run.changes.len()
        );
        let again = registry.monitor(jiff::Timestamp::now()).await?;
        if !again.changes.is_empty() {
            return Err(format!("a second run changed {} more", again.changes.len()).into());
        }
        let queued: u64 = registry
            .store
            .webhooks_of("acme")
            .await?
            .iter()
            .map(|w| w.pending)
            .sum();
        println!("webhook messages queued by the runs: {queued} ({webhooks} subscriptions)");
        registry.shutdown();
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
