//! `iotmark procure`: the SP 800-213 procurement check of candidate products.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use iotmark_assess::Status;
use iotmark_conformity::procure::{Baseline, Candidate, attach_to_ssp, compare, derive, poam};
use iotmark_oscal::{Document, Loader, write_json};

use crate::style::Style;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BaselineArg {
    Low,
    Moderate,
    High,
}

#[derive(Debug, Args)]
#[command(after_help = "\
The IoT device requirements are the SP 800-213A sub-capabilities related to a control of
the baseline (NIST SP 800-53B, or the agency's tailored OSCAL profile with --tailoring).
Each product is assessed against them; for each one a product does not meet, or does not
show it meets, the table names the baseline controls the agency must supply itself.

A PRODUCT is a declaration, or DECLARATION=EVIDENCE_DIR to use `iotmark scan` evidence.
With --registry, a PRODUCT is a product ID, and its declaration is the one its manufacturer
published to that registry.

Examples:
  iotmark procure --baseline moderate camera-a.yaml camera-b.yaml
  iotmark procure --baseline low camera.yaml=evidence/ --json
  iotmark procure --baseline high --tailoring agency-profile.json camera.yaml
  iotmark procure --baseline moderate --registry https://registry.example.org acme-securecam-2
  iotmark procure --baseline moderate camera.yaml --poam gaps.poam.json \\
      --ssp system.ssp.json --ssp-out system-with-camera.ssp.json")]
pub struct ProcureArgs {
    /// The SP 800-53B baseline of the system the devices join
    #[arg(long, value_enum)]
    baseline: BaselineArg,
    /// The agency's tailored baseline: an OSCAL profile naming its controls
    #[arg(long, value_name = "FILE")]
    tailoring: Option<PathBuf>,
    /// Candidate products: DECLARATION or DECLARATION=EVIDENCE_DIR (with --registry: product IDs)
    #[arg(required = true, value_name = "PRODUCT")]
    products: Vec<String>,
    /// Take each product's declaration from this registry (its base URL), by product ID
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// Judge dates against this day instead of today (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Write the gaps as an OSCAL plan of action and milestones (JSON)
    #[arg(long, value_name = "FILE")]
    poam: Option<PathBuf>,
    /// An existing OSCAL system security plan to add the products to as components
    #[arg(long, value_name = "FILE", requires = "ssp_out")]
    ssp: Option<PathBuf>,
    /// Where to write the SSP with the products added
    #[arg(long, value_name = "FILE", requires = "ssp")]
    ssp_out: Option<PathBuf>,
    /// Print the derivation and the comparison as JSON
    #[arg(long)]
    json: bool,
}

fn write_document(path: &Path, document: &Document) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, write_json(document))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn status_cell(style: Style, status: Status) -> String {
    let text = format!("{:<14}", status.as_str());
    match status {
        Status::Satisfied | Status::NotApplicable => style.good(&text),
        Status::NotSatisfied => style.error(&text),
        Status::NeedsReview => style.warn(&text),
    }
}

/// Each product's declaration as its manufacturer published it to the registry at `url`.
fn from_registry(url: &str, products: &[String]) -> Result<Vec<Candidate>> {
    let client = iotmark_registry::fleet::Client::new(url).map_err(anyhow::Error::msg)?;
    products
        .iter()
        .map(|id| {
            let (source, declaration) = client.published_declaration(id)?;
            let Some(bytes) = declaration else {
                bail!(
                    "{id} has no published declaration at {url}; ask its manufacturer to publish one (PUT /api/v1/products/{id}/declaration), or compare its declaration file"
                );
            };
            Ok(Candidate {
                declaration: source.into(),
                evidence: None,
                published: Some(bytes),
            })
        })
        .collect()
}

pub fn run(args: ProcureArgs) -> Result<ExitCode> {
    let baseline = match args.baseline {
        BaselineArg::Low => Baseline::Low,
        BaselineArg::Moderate => Baseline::Moderate,
        BaselineArg::High => Baseline::High,
    };
    let candidates: Vec<Candidate> = match &args.registry {
        Some(url) => from_registry(url, &args.products)?,
        None => args
            .products
            .iter()
            .map(|p| match p.split_once('=') {
                Some((declaration, evidence)) => Candidate {
                    declaration: declaration.into(),
                    evidence: Some(evidence.into()),
                    published: None,
                },
                None => Candidate {
                    declaration: p.into(),
                    evidence: None,
                    published: None,
                },
            })
            .collect(),
    };
    let derivation = derive(baseline, args.tailoring.as_deref())?;
    let comparison = compare(
        derivation,
        &candidates,
        crate::inputs::today(args.date.as_deref())?,
    )?;
    let now = crate::inputs::time_or_now("--now", None)?;
    if let Some(path) = &args.poam {
        let plan = poam(&comparison, now)?;
        write_document(path, &Document::PlanOfActionAndMilestones(Box::new(plan)))?;
        eprintln!("wrote {} (OSCAL POA&M)", path.display());
    }
    if let (Some(input), Some(output)) = (&args.ssp, &args.ssp_out) {
        let Document::SystemSecurityPlan(mut ssp) = Loader::default().load_path(input)? else {
            bail!("{} is not an OSCAL system security plan", input.display());
        };
        attach_to_ssp(&mut ssp, &comparison, now)?;
        write_document(output, &Document::SystemSecurityPlan(ssp))?;
        eprintln!(
            "wrote {} (the SSP with the products as components)",
            output.display()
        );
    }
    if args.json {
        serde_json::to_writer_pretty(std::io::stdout().lock(), &comparison)?;
        println!();
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    let d = &comparison.derivation;
    println!(
        "{} baseline {} ({} SP 800-53 controls) → {} SP 800-213A device requirements\n",
        style.bold("SP 800-213 procurement check:"),
        d.baseline,
        d.baseline_controls,
        d.requirements.len()
    );
    print!(
        "{:<12} {:<40} {:<22}",
        "213A", "requirement", "because of (800-53)"
    );
    for c in &comparison.candidates {
        print!(" {:<14}", c.product_id.chars().take(14).collect::<String>());
    }
    println!();
    for r in &d.requirements {
        let title: String = r.title.chars().take(40).collect();
        let mut because = r.because_of.join(", ");
        if because.chars().count() > 22 {
            because = because.chars().take(21).collect::<String>() + "…";
        }
        print!("{:<12} {title:<40} {because:<22}", r.label);
        for c in &comparison.candidates {
            let status = c.statuses.get(&r.id).map_or(Status::NeedsReview, |s| s.0);
            print!(" {}", status_cell(style, status));
        }
        println!();
    }
    for c in &comparison.candidates {
        println!(
            "\n{} ({}): {} met, {} not met, {} to review",
            style.bold(&c.product),
            c.declaration.display(),
            c.met,
            c.missing,
            c.to_review
        );
        if !c.compensating.is_empty() {
            let mut controls: Vec<&str> = c
                .compensating
                .values()
                .flatten()
                .map(String::as_str)
                .collect();
            controls.sort_unstable();
            controls.dedup();
            println!(
                "  the agency supplies: {}",
                style.accent(&controls.join(", "))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
