//! `iotmark vulns`: match an SBOM, a scan's output or a firmware image against the local
//! vulnerability store; import feeds into it; record triage decisions.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use iotmark_vulns::matching::Status;
use iotmark_vulns::report::{self, Report};
use iotmark_vulns::sbom::{Sbom, read_sbom};
use iotmark_vulns::store::Store;

use crate::style::Style;

const AFTER_HELP: &str = "\
The store is SQLite in the data directory unless --db names another database (the registry's
PostgreSQL, say). Nothing is downloaded: import the files you fetched (NVD's yearly feeds,
OSV exports, CISA's KEV catalog, vendors' CSAF advisories).

Exit codes:
  0  matched (findings or not), or imported
  1  an input cannot be read (import: a file could not be read at all; the others are
     imported), or the store cannot be opened
  3  --fail-on was given and a finding of that kind is open

Examples:
  iotmark vulns import nvdcve-2.0-2024.json.gz known_exploited_vulnerabilities.json osv/
  iotmark vulns camera.cdx.json --vex camera.openvex.json
  iotmark vulns evidence/ --out evidence/ --component camera
  iotmark vulns firmware.bin --sarif > vulns.sarif
  iotmark vulns camera.cdx.json --html > vulns.html --fail-on exploited
  iotmark vulns triage CVE-2023-38545 pkg:deb/debian/libcurl4@7.88.1-10+deb12u8 --status fixed
  iotmark vulns vex --format openvex --author \"Acme PSIRT\" -o camera.openvex.json
  iotmark vulns status";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, after_help = AFTER_HELP)]
pub struct VulnsArgs {
    #[command(subcommand)]
    command: Option<VulnsCommand>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum VulnsCommand {
    /// Import vulnerability data: NVD JSON 2.0 feeds and records, CVE JSON 5 records, OSV
    /// records, trees and zip exports, CISA's KEV catalog, CSAF advisories
    Import(ImportArgs),
    /// Record a triage decision about one vulnerability in one component (kept in the store)
    Triage(TriageArgs),
    /// Write the triage decisions kept in the store as a VEX document (OpenVEX, CSAF VEX or
    /// CycloneDX VEX)
    Vex(VexArgs),
    /// What the store holds
    Status(StatusArgs),
}

/// Where the store is.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The data directory
    #[arg(
        long,
        value_name = "DIR",
        default_value = "iotmark-data",
        env = "IOTMARK_DATA",
        global = true
    )]
    data: PathBuf,
    /// The vulnerability store: sqlite://PATH or postgres://… [default: SQLite in the data
    /// directory]
    #[arg(long, value_name = "URL", env = "IOTMARK_VULNS_DB", global = true)]
    db: Option<String>,
}

impl StoreArgs {
    async fn open(&self) -> Result<Store> {
        let url = self
            .db
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data.join("vulns.sqlite3").display()));
        Store::open(&url).await.with_context(|| {
            format!(
                "cannot open the vulnerability store {}",
                iotmark_db::without_password(&url)
            )
        })
    }
}

/// What to match.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// A CycloneDX or SPDX JSON SBOM, a directory `iotmark scan --out` wrote, or a firmware
    /// image (scanned first)
    input: Option<PathBuf>,
    /// VEX documents to honour (CSAF VEX, OpenVEX, CycloneDX VEX); each statement applies to
    /// one vulnerability in the one component it names
    #[arg(long, value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Print the report as JSON
    #[arg(long, conflicts_with_all = ["sarif", "html"])]
    json: bool,
    /// Print the report as SARIF 2.1.0
    #[arg(long, conflicts_with = "html")]
    sarif: bool,
    /// Print the report as a self-contained HTML page
    #[arg(long)]
    html: bool,
    /// Write evidence for `iotmark assess` into this directory
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The declared component the evidence is about
    #[arg(long, default_value = "device")]
    component: String,
    /// Exit with status 3 when a finding of this kind is open
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Refuse images larger than this many bytes
    #[arg(long, default_value_t = 1 << 30)]
    max_bytes: u64,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FailOn {
    /// Any open vulnerability
    Affected,
    /// An open vulnerability in CISA's Known Exploited Vulnerabilities catalog
    Exploited,
    /// An open vulnerability rated critical or high
    High,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to import
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The decision is kept in the store and applies to every later match of this vulnerability in\nthis component version, whatever firmware it ships in. `iotmark vulns vex` writes the decisions as VEX.\n\nExamples:\n  iotmark vulns triage CVE-2023-0286 pkg:deb/debian/libssl3@3.0.11-1~deb12u2 --status not-affected \\\n      --justification vulnerable-code-not-in-execute-path --detail \"X.400 addresses are never parsed\"\n  iotmark vulns triage CVE-2024-2398 'cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*' --status under-investigation"
)]
pub struct TriageArgs {
    /// The vulnerability (CVE ID or another ID an advisory uses)
    vulnerability: String,
    /// The component: its purl (with version) or CPE 2.3 name
    product: String,
    #[arg(long, value_enum)]
    status: TriageStatus,
    /// Why it is not affected (required with --status not-affected)
    #[arg(long, value_enum)]
    justification: Option<TriageJustification>,
    /// Free text: the impact statement, or what is being done
    #[arg(long)]
    detail: Option<String>,
    /// Who decided
    #[arg(long, env = "IOTMARK_AUTHOR")]
    author: Option<String>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TriageStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TriageJustification {
    ComponentNotPresent,
    VulnerableCodeNotPresent,
    VulnerableCodeNotInExecutePath,
    VulnerableCodeCannotBeControlledByAdversary,
    InlineMitigationsAlreadyExist,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  iotmark vulns vex --format openvex --author \"Acme PSIRT\" -o camera.openvex.json\n  iotmark vulns vex --format csaf --author \"Acme PSIRT\" --namespace https://psirt.acme.example --id ACME-VEX-2026-001 -o vex.json\n  iotmark vulns vex --format cyclonedx --author \"Acme PSIRT\" > camera.vex.cdx.json"
)]
pub struct VexArgs {
    #[arg(long, value_enum)]
    format: VexFormat,
    /// Who states it (the document's author or publisher)
    #[arg(long, env = "IOTMARK_AUTHOR")]
    author: String,
    /// The document's ID: OpenVEX @id, CSAF tracking ID [default: derived from the
    /// decisions]
    #[arg(long)]
    id: Option<String>,
    /// The publisher's namespace URL (CSAF requires one)
    #[arg(long, value_name = "URL")]
    namespace: Option<String>,
    /// Write to this file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VexFormat {
    Openvex,
    Csaf,
    Cyclonedx,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

pub fn run(args: VulnsArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.command {
        Some(VulnsCommand::Import(a)) => runtime.block_on(import(a)),
        Some(VulnsCommand::Triage(a)) => runtime.block_on(triage(a)),
        Some(VulnsCommand::Vex(a)) => runtime.block_on(vex(a)),
        Some(VulnsCommand::Status(a)) => runtime.block_on(status(a)),
        None => runtime.block_on(check(args.check)),
    }
}

/// The SBOM to match: the file itself, the CycloneDX a scan wrote into a directory, or the
/// components of a firmware image scanned now.
fn load_input(args: &CheckArgs, input: &Path) -> Result<(String, Sbom)> {
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    if input.is_dir() {
        let mut sboms: Vec<PathBuf> = std::fs::read_dir(input)
            .with_context(|| format!("cannot read {}", input.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".cdx.json") || n.ends_with(".spdx.json"))
            })
            .collect();
        sboms.sort();
        let [sbom] = sboms.as_slice() else {
            bail!(
                "{} holds {} SBOMs (*.cdx.json, *.spdx.json); give the one to match\nhint: `iotmark scan IMAGE --out DIR` writes one SBOM beside its evidence",
                input.display(),
                sboms.len()
            );
        };
        let bytes =
            std::fs::read(sbom).with_context(|| format!("cannot read {}", sbom.display()))?;
        return Ok((name(sbom), read_sbom(&sbom.display().to_string(), &bytes)?));
    }
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    if bytes
        .first()
        .is_some_and(|b| matches!(b, b'{' | b' ' | b'\n' | b'\r' | b'\t'))
    {
        return Ok((
            name(input),
            read_sbom(&input.display().to_string(), &bytes)?,
        ));
    }
    // Not JSON: a firmware image. Scan it and read its components from the SBOM the scan
    // writes, the same document `iotmark scan --sbom` would.
    let scan = crate::inputs::scan_image(input, args.max_bytes)?;
    let image = name(input);
    let collected_at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let doc = iotmark_firmware::sbom::sbom_json(
        &scan,
        &scan.components,
        &iotmark_firmware::sbom::Subject::named(&image),
        &collected_at,
    );
    let sbom_name = format!("{image}.cdx.json");
    let sbom = read_sbom(&sbom_name, &serde_json::to_vec(&doc)?)?;
    Ok((sbom_name, sbom))
}

fn load_vex(paths: &[PathBuf]) -> Result<Vec<iotmark_vulns::model::VexStatement>> {
    let mut statements = Vec::new();
    for path in paths {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        let read = iotmark_vulns::vex::read_vex(&name, &bytes)?;
        for problem in &read.skipped {
            eprintln!("warning: {problem}");
        }
        statements.extend(read.records);
    }
    Ok(statements)
}

async fn check(args: CheckArgs) -> Result<ExitCode> {
    let Some(input) = args.input.clone() else {
        bail!(
            "give an SBOM, a scan directory or a firmware image to match\nhint: iotmark vulns --help shows examples"
        );
    };
    let (sbom_name, sbom) = load_input(&args, &input)?;
    for problem in &sbom.problems {
        eprintln!("warning: {problem}");
    }
    let vex = load_vex(&args.vex)?;
    let store = args.store.open().await?;
    let report = report::check(&store, &sbom_name, &sbom, &vex).await?;
    store.close().await;

    if let Some(dir) = &args.out {
        let bears_on = crate::inputs::bears_on()?;
        let collected_at = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        let evidence = report::to_evidence(&report, &args.component, &collected_at, &bears_on);
        let stem = report
            .sha256
            .as_deref()
            .map_or_else(|| "sbom".to_owned(), |s| s.chars().take(12).collect());
        let path = dir.join(format!("vulns-{stem}.json"));
        crate::inputs::write_json(&path, &serde_json::to_value(&evidence)?)?;
        eprintln!(
            "wrote {} evidence record(s) to {}",
            evidence.len(),
            path.display()
        );
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else if args.sarif {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report::to_sarif(&report))?
        );
    } else if args.html {
        outln!("{}", report::to_html(&report));
    } else {
        print_table(&report)?;
    }
    let failing = |f: &&iotmark_vulns::matching::Finding| match args.fail_on {
        Some(FailOn::Affected) => true,
        Some(FailOn::Exploited) => f.known_exploited.is_some(),
        Some(FailOn::High) => f.rating >= iotmark_vulns::model::Rating::High,
        None => false,
    };
    Ok(if report.open().any(|f| failing(&f)) {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(report: &Report) -> Result<()> {
    let style = Style::stdout();
    let counts = report.counts();
    let count = |s: Status| counts.get(&s).copied().unwrap_or(0);
    outln!(
        "{} ({}): {} component(s), {} without a purl or CPE",
        style.bold(&report.sbom),
        report.format,
        report.components,
        report.unidentified.len()
    );
    for f in &report.findings {
        let status = match f.status {
            Status::Affected => style.error("affected"),
            Status::UnderInvestigation => style.warn("investigating"),
            Status::Conditional => style.warn("conditional"),
            Status::Fixed => style.good("fixed"),
            Status::NotAffected => style.good("not affected"),
        };
        let kev = if f.known_exploited.is_some() {
            style.error(" KEV")
        } else {
            String::new()
        };
        let component = match &f.component.version {
            Some(v) => format!("{} {v}", f.component.name),
            None => f.component.name.clone(),
        };
        outln!(
            "  {:<16} {:<36} {status}{kev} ({:?})",
            f.vulnerability,
            component,
            f.rating
        );
        outln!("  {}", style.dim(&format!("  {}", f.reason)));
    }
    outln!(
        "{} affected, {} under investigation, {} conditional, {} fixed, {} not affected; {} known exploited and open",
        count(Status::Affected),
        count(Status::UnderInvestigation),
        count(Status::Conditional),
        count(Status::Fixed),
        count(Status::NotAffected),
        report
            .open()
            .filter(|f| f.known_exploited.is_some())
            .count()
    );
    Ok(())
}

async fn import(args: ImportArgs) -> Result<ExitCode> {
    use iotmark_vulns::import::Event;
    let store = args.store.open().await?;
    // A spinner on a terminal: which file, and how many of its records are in.
    let bar = Style::progress_on_stderr().then(|| {
        let bar = indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    });
    let progress = |event: Event| {
        if let Some(bar) = &bar {
            match event {
                Event::File { path, index, of } => {
                    bar.set_message(format!("[{}/{of}] {path}", index + 1));
                }
                Event::Written { path, records } => {
                    bar.set_message(format!("{path}: {records} records"));
                }
            }
        }
    };
    let summary = iotmark_vulns::import::import_paths(&store, &args.paths, &progress).await?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    store.close().await;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        for file in &summary.files {
            outln!("{file}");
        }
    }
    Ok(if summary.any_failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn triage(args: TriageArgs) -> Result<ExitCode> {
    use iotmark_vulns::model::{
        Bounds, Justification, Origin, ProductRef, VexStatement, VexStatus,
    };
    if !(args.product.starts_with("pkg:") || args.product.starts_with("cpe:2.3:")) {
        bail!(
            "{:?} names no component: give its purl (pkg:deb/debian/curl@7.88.1-10+deb12u8) or CPE 2.3 name",
            args.product
        );
    }
    let status = match args.status {
        TriageStatus::NotAffected => VexStatus::NotAffected,
        TriageStatus::Affected => VexStatus::Affected,
        TriageStatus::Fixed => VexStatus::Fixed,
        TriageStatus::UnderInvestigation => VexStatus::UnderInvestigation,
    };
    let justification = args.justification.map(|j| match j {
        TriageJustification::ComponentNotPresent => Justification::ComponentNotPresent,
        TriageJustification::VulnerableCodeNotPresent => Justification::VulnerableCodeNotPresent,
        TriageJustification::VulnerableCodeNotInExecutePath => {
            Justification::VulnerableCodeNotInExecutePath
        }
        TriageJustification::VulnerableCodeCannotBeControlledByAdversary => {
            Justification::VulnerableCodeCannotBeControlledByAdversary
        }
        TriageJustification::InlineMitigationsAlreadyExist => {
            Justification::InlineMitigationsAlreadyExist
        }
    });
    if status == VexStatus::NotAffected && justification.is_none() && args.detail.is_none() {
        bail!("a not-affected decision needs --justification or --detail, as VEX requires");
    }
    let statement = VexStatement {
        vulnerability: args.vulnerability.clone(),
        product: ProductRef {
            id: args.product.clone(),
            bounds: Bounds::default(),
        },
        status,
        justification,
        detail: args.detail.clone(),
        origin: Origin {
            document: "triage".into(),
            document_id: None,
            pointer: format!("/{}/{}", args.vulnerability, args.product),
            author: args.author.clone(),
            timestamp: Some(iotmark_conformity::attesting::now_to_the_second()),
        },
    };
    let store = args.store.open().await?;
    store.put_triage(&statement).await?;
    store.close().await;
    eprintln!(
        "recorded: {} in {} is {}",
        args.vulnerability,
        args.product,
        serde_json::to_value(status)?.as_str().unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

async fn vex(args: VexArgs) -> Result<ExitCode> {
    use iotmark_vulns::vex;
    let store = args.store.open().await?;
    let statements = store.triage().await?;
    store.close().await;
    if statements.is_empty() {
        bail!("the store holds no triage decisions\nhint: record one with `iotmark vulns triage`");
    }
    let now = iotmark_conformity::attesting::now_to_the_second();
    let digest = vex::statements_digest(&statements);
    let doc = match args.format {
        VexFormat::Openvex => {
            let id = args
                .id
                .clone()
                .unwrap_or_else(|| format!("urn:iotmark:vex:{digest}"));
            for left_out in vex::openvex_omits(&statements) {
                eprintln!(
                    "warning: {} in {} is bounded to a version range, which OpenVEX cannot state; left out (write CSAF or CycloneDX for it)",
                    left_out.vulnerability, left_out.product.id
                );
            }
            vex::write_openvex(&statements, &args.author, &id, now)
        }
        VexFormat::Csaf => {
            let Some(namespace) = args.namespace.clone() else {
                bail!(
                    "CSAF names its publisher by a namespace URL: give --namespace https://psirt.example.com"
                );
            };
            let publisher = vex::CsafPublisher {
                name: args.author.clone(),
                namespace,
            };
            let id = args
                .id
                .clone()
                .unwrap_or_else(|| format!("IOTMARK-VEX-{digest}"));
            vex::write_csaf_vex(&statements, &publisher, &id, now)
        }
        VexFormat::Cyclonedx => {
            let serial = vex::serial_number(&statements, now);
            vex::write_cyclonedx_vex(&statements, &serial, &args.author, now)
        }
    };
    match &args.out {
        Some(path) => {
            crate::inputs::write_json(path, &doc)?;
            eprintln!(
                "wrote {} triage decision(s) to {}",
                statements.len(),
                path.display()
            );
        }
        None => outln!("{}", serde_json::to_string_pretty(&doc)?),
    }
    Ok(ExitCode::SUCCESS)
}

async fn status(args: StatusArgs) -> Result<ExitCode> {
    let store = args.store.open().await?;
    let counts = store.counts().await?;
    store.close().await;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&counts)?);
    } else {
        for (source, n) in &counts.advisories {
            outln!("{source:<6} {n} advisories");
        }
        outln!("kev    {} known exploited", counts.known_exploited);
        outln!("triage {} decisions", counts.triage_decisions);
        outln!("files  {} imported", counts.imports);
    }
    Ok(ExitCode::SUCCESS)
}
