//! `iotmark demo`: the whole flow on one machine. It writes the example product (the camera
//! after its fixes), assesses it, signs the manufacturer's declaration of conformity, starts
//! the registry on the embedded default (SQLite in the data directory) with the product
//! registered, and prints the page to open.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use iotmark_assess::{Assessor, RuleBook, Verdict};
use iotmark_attest::keys::{FileSigner, Signer, generate_key_files};
use iotmark_attest::statement::Route;
use iotmark_catalogs::Bundle;
use iotmark_conformity::assessment::{resolve_scheme, write_reports};
use iotmark_conformity::attesting::{ConformityRequest, attest, now_to_the_second};
use iotmark_evidence::EvidenceSet;
use iotmark_registry::admin;
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store::{self, Role};

use crate::style::Style;

/// The example product after Acme fixed its gaps (examples/acme-securecam-fixed/).
const DECLARATION: &str =
    include_str!("../../../../examples/acme-securecam-fixed/declaration.yaml");
const EVIDENCE: [(&str, &str); 3] = [
    (
        "documents.json",
        include_str!("../../../../examples/acme-securecam-fixed/evidence/documents.json"),
    ),
    (
        "firmware-scan.json",
        include_str!("../../../../examples/acme-securecam-fixed/evidence/firmware-scan.json"),
    ),
    (
        "verdicts.json",
        include_str!("../../../../examples/acme-securecam-fixed/evidence/verdicts.json"),
    ),
];
const SCHEME: &str = "en303645-self-declaration";

#[derive(Debug, Args)]
#[command(
    after_help = "Everything is written under the data directory: demo/ holds the declaration, evidence,\nreports, keys and the signed envelope; the registry keeps its database and log beside it.\nRun it again to serve the same registry; nothing is signed twice.\n\nExamples:\n  iotmark demo\n  iotmark demo --listen 127.0.0.1:9000 --data /tmp/iotmark-demo"
)]
pub struct DemoArgs {
    /// The registry's data directory
    #[arg(long, value_name = "DIR", default_value = "iotmark-data")]
    data: PathBuf,
    /// The database [default: SQLite in the data directory]
    #[arg(long, value_name = "URL")]
    db: Option<String>,
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Prepare everything and exit without serving (for scripts and tests)
    #[arg(long)]
    no_serve: bool,
}

pub fn run(args: DemoArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(demo(args))
}

fn step(text: &str) {
    eprintln!("{} {text}", Style::stderr().accent("→"));
}

async fn demo(args: DemoArgs) -> Result<ExitCode> {
    let work = args.data.join("demo");
    std::fs::create_dir_all(work.join("evidence"))
        .with_context(|| format!("cannot create {}", work.display()))?;
    let declaration_path = work.join("declaration.yaml");
    std::fs::write(&declaration_path, DECLARATION)?;
    for (name, text) in EVIDENCE {
        std::fs::write(work.join("evidence").join(name), text)?;
    }

    step("assessing the example product (Acme SecureCam 2, firmware 2.5.0) against EN 303 645");
    let report = crate::inputs::check_declaration(&declaration_path, None)?;
    let Some(declaration) = report.declaration.clone() else {
        eprint!("{}", report.render());
        bail!("the bundled example declaration does not check; this is a bug in iotmark");
    };
    let bundle = Bundle::get();
    let scheme = resolve_scheme(SCHEME, bundle)?;
    let evidence = EvidenceSet::load_dir(&work.join("evidence"))?;
    let assessment = Assessor {
        bundle,
        rules: RuleBook::bundled()?,
        today: jiff::Zoned::now().date(),
    }
    .assess(&declaration, &evidence, &scheme);
    let reports = work.join("report");
    write_reports(
        &reports,
        &declaration_path,
        &report,
        &declaration,
        &assessment,
    )?;
    if assessment.verdict() != Verdict::Conforms {
        bail!(
            "the example no longer conforms ({:?}); see {}",
            assessment.verdict(),
            reports.join("report.md").display()
        );
    }
    eprintln!("  conforms; reports in {}", reports.display());

    let url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.data.join("registry.sqlite3").display()));
    let store = store::open(&url)
        .await
        .context("cannot open the registry database")?;
    let key_stem = work.join("acme");
    let signer = if key_stem.with_extension("key").exists() {
        FileSigner::load(&key_stem.with_extension("key"))?
    } else {
        step("creating Acme's signing key");
        generate_key_files(&key_stem, "acme.example")?;
        FileSigner::load(&key_stem.with_extension("key"))?
    };
    if store.organisation("acme").await?.is_none() {
        step("registering Acme Devices Ltd as a manufacturer, with its key");
        admin::add_organisation(
            &store,
            "acme",
            &declaration.product.manufacturer.name,
            Role::Manufacturer,
        )
        .await?;
        admin::add_key(&store, "acme", &signer.public_key(), "demo signing key").await?;
    }
    let public_url = format!("http://{}", args.listen);
    let registry = Arc::new(
        Registry::open(
            store,
            Config {
                data_dir: args.data.clone(),
                log_origin: "iotmark.localhost/log".to_owned(),
                limits: Default::default(),
                public_url: public_url.clone(),
            },
        )
        .await
        .with_context(|| format!("cannot open the registry in {}", args.data.display()))?,
    );

    let product_id = declaration.product.id.clone();
    if registry.store.product(&product_id).await?.is_none() {
        step("signing the declaration of conformity and publishing it in the log");
        let results_path = reports.join("assessment-results.json");
        let results = std::fs::read(&results_path)?;
        let envelope = attest(&ConformityRequest {
            results: &results,
            results_path: &results_path,
            declaration: &declaration,
            scheme_file: None,
            route: Route::Sdoc,
            organisation: None,
            signer: &signer,
            issued: now_to_the_second(),
            sbom_sha256: None,
        })?
        .envelope;
        std::fs::write(work.join("securecam.dsse.json"), &envelope)?;
        let acme = registry
            .store
            .organisation("acme")
            .await?
            .context("the demo organisation vanished")?;
        let declaration_json = serde_json::to_string(&declaration)?;
        let receipted = registry
            .submit(&acme, envelope.as_bytes(), Some(declaration_json))
            .await?;
        std::fs::write(work.join("securecam.tlog-proof"), &receipted.receipt)?;
        eprintln!(
            "  logged as entry {}; receipt in {}",
            receipted.log_index,
            work.join("securecam.tlog-proof").display()
        );
    }

    let page = format!("{public_url}/p/{product_id}");
    if args.no_serve {
        outln!("{page}");
        registry.shutdown();
        return Ok(ExitCode::SUCCESS);
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}; pass --listen ADDR", args.listen))?;
    let style = Style::stdout();
    outln!("\n{} {}", style.good("Open"), style.bold(&page));
    outln!(
        "{}",
        style.dim("(the page behind the QR code on the box; Ctrl-C stops the registry)")
    );
    let app = iotmark_registry::http::router(registry.clone());
    iotmark_registry::server::serve(listener, app, Default::default(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped")?;
    registry.shutdown();
    Ok(ExitCode::SUCCESS)
}
