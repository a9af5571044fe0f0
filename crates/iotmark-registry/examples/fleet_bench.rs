//! `fleet check` at scale: a registry serving VERSIONS attested product versions (a share of
//! them revoked, suspended or ended), and a fleet of DEVICES inventory lines over them, checked
//! over HTTP on 127.0.0.1 the way `iotmark fleet check` does: the first check reads and
//! verifies the whole log; the next ones read only what the log added. This is the figure
//! issue 16 asks for (100,000 devices over 5,000 versions against a local registry).
//!
//! ```text
//! fleet_bench [DB_URL]        # default: SQLite in a temporary directory
//! ```
//!
//! Environment (defaults in brackets): `VERSIONS` [5000], `PER_PRODUCT` [10] versions per
//! product, `DEVICES` [100000] inventory lines, `CHANGED` [0.05] share of versions given a
//! status change, `LATER` [100] status changes logged between the second and third checks.

use std::sync::Arc;
use std::time::Instant;

use iotmark_attest::Sha256;
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{
    ConformityInput, Party, Predicate, Route, StatusDetails, StatusKind, Subject,
    conformity_statement, status_statement_with,
};
use iotmark_registry::fleet::mirror::Mirror;
use iotmark_registry::fleet::{self, Client, Options};
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store::{self, Role};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A status change of `envelope` by the operator.
fn change(envelope: &[u8], kind: StatusKind, signer: &FileSigner) -> Result<String, BoxError> {
    let parsed = iotmark_attest::dsse::Envelope::parse(envelope)?;
    let statement = iotmark_attest::statement::Statement::parse(&parsed.payload)?;
    let now = jiff::Timestamp::now();
    let change = status_statement_with(
        envelope,
        statement.subject,
        kind,
        "benchmark",
        now.checked_sub(jiff::SignedDuration::from_secs(60))?,
        now,
        Party {
            organisation: "Registry Operator".to_owned(),
            key_id: signer.key_id(),
        },
        StatusDetails::default(),
    )?;
    Ok(iotmark_attest::sign_statement(&change, signer)?.to_json())
}

fn main() -> Result<(), BoxError> {
    let versions = env("VERSIONS", 5000.0) as u64;
    let per_product = env("PER_PRODUCT", 10.0) as u64;
    let devices = env("DEVICES", 100_000.0) as u64;
    let changed = env("CHANGED", 0.05);
    let later = env("LATER", 100.0) as u64;
    let dir = tempfile::tempdir()?;
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("registry.sqlite3").display()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    println!(
        "machine: {} cores; registry {}; {versions} versions ({per_product} per product, {:.0}% with a status change), {devices} inventory lines",
        std::thread::available_parallelism().map_or(1, usize::from),
        iotmark_db::without_password(&url),
        changed * 100.0
    );
    let (registry, operator, operator_key, envelopes) = runtime.block_on(async {
        let store = store::open(&url).await?;
        let acme = iotmark_registry::admin::add_organisation(
            &store,
            "acme",
            "Acme Devices Ltd",
            Role::Manufacturer,
        )
        .await?;
        let operator = iotmark_registry::admin::add_organisation(
            &store,
            "operator",
            "Registry Operator",
            Role::Operator,
        )
        .await?;
        let signer = Arc::new(FileSigner::generate()?);
        let operator_key = Arc::new(FileSigner::generate()?);
        iotmark_registry::admin::add_key(&store, "acme", &signer.public_key(), "bench").await?;
        iotmark_registry::admin::add_key(&store, "operator", &operator_key.public_key(), "bench")
            .await?;
        let registry = Arc::new(
            Registry::open(
                store,
                Config {
                    data_dir: dir.path().join("data"),
                    log_origin: "bench.example/log".to_owned(),
                    limits: Default::default(),
                    public_url: base_url.clone(),
                },
            )
            .await?,
        );
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let declaration_path = repo.join("examples/acme-securecam/declaration.yaml");
        let bytes = std::fs::read(&declaration_path)?;
        let declaration = iotmark_declare::check(
            &declaration_path,
            &bytes,
            &|_| true,
            jiff::Zoned::now().date(),
        )
        .declaration
        .ok_or("the example declaration does not check")?;
        let mut results: serde_json::Value = serde_json::from_slice(&std::fs::read(repo.join(
            "crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json",
        ))?)?;
        let result = &mut results["assessment-results"]["results"][0];
        result["description"] = "Verdict: conforms.".into();
        for f in result["findings"].as_array_mut().ok_or("no findings")? {
            if f["props"][0]["value"] != "not-applicable" {
                f["props"][0]["value"] = "satisfied".into();
                f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
            }
        }
        let issued =
            jiff::Timestamp::now().checked_sub(jiff::SignedDuration::from_hours(24 * 30))?;
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
        let started = Instant::now();
        let mut tasks: tokio::task::JoinSet<Result<(u64, String), BoxError>> =
            tokio::task::JoinSet::new();
        let mut envelopes = vec![String::new(); versions as usize];
        for i in 0..versions {
            let (product, v) = (i / per_product, i % per_product);
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
            let (registry, acme, signer) = (registry.clone(), acme.clone(), signer.clone());
            if tasks.len() >= 256
                && let Some(done) = tasks.join_next().await
            {
                let (i, e) = done??;
                envelopes[i as usize] = e;
            }
            tasks.spawn(async move {
                let envelope =
                    iotmark_attest::sign_statement(&statement, signer.as_ref())?.to_json();
                registry.submit(&acme, envelope.as_bytes(), None).await?;
                Ok((i, envelope))
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (i, e) = done??;
            envelopes[i as usize] = e;
        }
        // Every twentieth version (by default) revoked, suspended or ended, in turn.
        let step = (1.0 / changed.max(1e-9)).round().max(1.0) as usize;
        let kinds = [
            StatusKind::Revocation,
            StatusKind::Suspension,
            StatusKind::EndOfSupport,
        ];
        for (n, envelope) in envelopes.iter().step_by(step).enumerate() {
            let envelope = change(envelope.as_bytes(), kinds[n % 3], &operator_key)?;
            registry
                .submit(&operator, envelope.as_bytes(), None)
                .await?;
        }
        println!(
            "attested {versions} versions and logged {} status changes: {:.1} s",
            versions.div_ceil(step as u64),
            started.elapsed().as_secs_f64()
        );
        Ok::<_, BoxError>((registry, operator, operator_key, envelopes))
    })?;
    let app = iotmark_registry::http::router(registry.clone());
    runtime.spawn(async move {
        iotmark_registry::server::serve(listener, app, Default::default(), std::future::pending())
            .await
    });

    // The inventory: every version deployed at several sites; one line in a hundred names its
    // devices by firmware image instead.
    let mut csv = String::from("product,version,image_sha256,count,location,owner\n");
    for i in 0..devices {
        let v = i % versions;
        let (product, minor) = (v / per_product, v % per_product);
        if i % 100 == 99 {
            let image =
                Sha256::of(format!("product {product} version {minor}").as_bytes()).to_hex();
            csv.push_str(&format!(
                ",,{image},{},site-{},team-{}\n",
                1 + i % 50,
                i % 300,
                i % 40
            ));
        } else {
            csv.push_str(&format!(
                "bench-product-{product},{minor}.0,,{},site-{},team-{}\n",
                1 + i % 50,
                i % 300,
                i % 40
            ));
        }
    }
    let path = dir.path().join("fleet.csv");
    std::fs::write(&path, &csv)?;
    let started = Instant::now();
    let inventory = fleet::inventory::read(&path)?;
    println!(
        "read the inventory ({} lines, {:.1} MB): {:.2} s",
        inventory.len(),
        csv.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let vkey = std::fs::read_to_string(dir.path().join("data/log.vkey"))?;
    let mut mirror = Mirror::new(&vkey)?;
    let client = Client::new(&base_url)?;
    let mut check = |what: &str| -> Result<fleet::FleetReport, BoxError> {
        let options = Options {
            now: jiff::Timestamp::now(),
            known_exploited: None,
        };
        let started = Instant::now();
        let report = fleet::check(&inventory, &mut mirror, &client, &options, &|_, _, _| {})?;
        let seconds = started.elapsed().as_secs_f64();
        let saved = Instant::now();
        mirror.save(&dir.path().join("state.json"))?;
        let save = saved.elapsed().as_secs_f64();
        if !report.discrepancies.is_empty() {
            return Err(format!("discrepancies: {:?}", &report.discrepancies[..1]).into());
        }
        println!(
            "{what}: {seconds:.2} s ({:.0} inventory lines/s; {} log entries read; state saved in {save:.2} s); {} devices, {} need action",
            inventory.len() as f64 / seconds,
            report.log.entries_read,
            report.total_devices,
            report.needing_action()
        );
        Ok(report)
    };
    let first = check("first check (the whole log read and verified)")?;
    check("second check (nothing new in the log)")?;
    runtime.block_on(async {
        // Versions with no status change yet (every twentieth one has one).
        for envelope in envelopes.iter().skip(1).step_by(20).take(later as usize) {
            let envelope = change(envelope.as_bytes(), StatusKind::Revocation, &operator_key)?;
            registry
                .submit(&operator, envelope.as_bytes(), None)
                .await?;
        }
        Ok::<_, BoxError>(())
    })?;
    let third = check(&format!("third check ({later} new revocations logged)"))?;
    let changes = fleet::changes(&fleet::snapshot(&first), &fleet::snapshot(&third));
    println!(
        "{} inventory lines changed status between the first and third checks",
        changes.len()
    );
    let started = Instant::now();
    let html = fleet::report::render(&third)?;
    println!(
        "HTML report: {:.1} MB in {:.2} s",
        html.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let json = serde_json::to_vec(&third)?;
    println!(
        "JSON report: {:.1} MB in {:.2} s",
        json.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
