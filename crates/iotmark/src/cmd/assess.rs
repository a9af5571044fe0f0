//! `iotmark assess` and `iotmark scheme`: findings against a scheme, and the schemes known.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use iotmark_assess::{Assessment, Assessor, RuleBook, Status, Verdict, bundled_schemes};
use iotmark_catalogs::Bundle;
use iotmark_evidence::EvidenceSet;
use serde_json::json;

use iotmark_conformity::assessment::{resolve_scheme, write_reports};

use crate::inputs::{today, valid_declaration};
use crate::style::Style;

/// Exit code when the product does not conform.
pub const EXIT_NONCONFORMING: u8 = 3;
/// Exit code when mandatory requirements still need review.
pub const EXIT_UNDETERMINED: u8 = 4;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 conforms; 3 does not conform; 4 mandatory requirements need review; 1 invalid input.\n\nExamples:\n  iotmark assess product.yaml --scheme en303645-self-declaration\n  iotmark assess product.yaml --scheme us-cyber-trust-mark --evidence evidence/ --out report/\n  iotmark assess product.yaml --scheme my-scheme.yaml --json"
)]
pub struct AssessArgs {
    /// The product declaration (YAML or JSON)
    declaration: PathBuf,
    /// A bundled scheme ID (see `iotmark scheme list`) or a scheme file
    #[arg(long)]
    scheme: String,
    /// A directory of evidence records (JSON)
    #[arg(long, value_name = "DIR")]
    evidence: Option<PathBuf>,
    /// Write every report here: OSCAL plan and results, component definition, HTML,
    /// Markdown, SARIF and JSON
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Assess as of this day (YYYY-MM-DD) instead of today
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Print the assessment as JSON instead of the summary
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SchemeCommand {
    /// List the bundled conformity schemes
    List(SchemeJson),
    /// Show a scheme: its catalog, tiers, routes and obligations
    Show(SchemeShow),
}

#[derive(Debug, Args)]
pub struct SchemeJson {
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SchemeShow {
    /// A bundled scheme ID or a scheme file
    id: String,
    #[arg(long)]
    json: bool,
}

pub fn scheme(command: SchemeCommand) -> Result<ExitCode> {
    let bundle = Bundle::get();
    match command {
        SchemeCommand::List(a) => {
            let schemes = bundled_schemes(bundle)?;
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&schemes)?);
                return Ok(ExitCode::SUCCESS);
            }
            let style = Style::stdout();
            for s in &schemes {
                let routes: Vec<&str> = s.tiers.iter().map(|t| t.route.as_str()).collect();
                outln!(
                    "{:<28} {}  {}",
                    style.accent(&s.id),
                    s.title,
                    style.dim(&format!("[{}; {}]", s.catalog, dedup(routes).join(", ")))
                );
            }
        }
        SchemeCommand::Show(a) => {
            let s = resolve_scheme(&a.id, bundle)?;
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
                return Ok(ExitCode::SUCCESS);
            }
            let style = Style::stdout();
            outln!("{}\n{}\n", style.bold(&s.title), s.description.trim());
            if let Some(i) = &s.inspired_by {
                outln!("{} {}\n", style.dim("Modelled on:"), i.trim());
            }
            outln!(
                "{} {}   {} {} months",
                style.dim("catalog"),
                s.catalog,
                style.dim("validity"),
                s.validity_months
            );
            outln!("\n{}", style.bold("Risk tiers (first match wins)"));
            for t in &s.tiers {
                let when = if t.when.is_empty() {
                    "otherwise".to_owned()
                } else {
                    t.when
                        .iter()
                        .map(|c| c.describe())
                        .collect::<Vec<_>>()
                        .join(" and ")
                };
                outln!(
                    "  {:<26} {:<46} {}",
                    style.accent(&t.id),
                    t.route.as_str(),
                    style.dim(&format!("when {when}"))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(*x));
    v
}

pub fn assess(args: AssessArgs) -> Result<ExitCode> {
    let bundle = Bundle::get();
    let (report, declaration) = valid_declaration(&args.declaration, args.date.as_deref())?;
    let scheme = resolve_scheme(&args.scheme, bundle)?;
    let evidence = match &args.evidence {
        Some(dir) => EvidenceSet::load_dir(dir)?,
        None => EvidenceSet::default(),
    };
    let assessor = Assessor {
        bundle,
        rules: RuleBook::bundled()?,
        today: today(args.date.as_deref())?,
    };
    let assessment = assessor.assess(&declaration, &evidence, &scheme);

    if let Some(dir) = &args.out {
        write_reports(dir, &args.declaration, &report, &declaration, &assessment)?;
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"verdict": assessment.verdict(), "assessment": assessment})
            )?
        );
    } else {
        summary(&assessment, evidence.len())?;
        if let Some(dir) = &args.out {
            outln!(
                "\nReports in {}: report.html, report.md, results.sarif, assessment-results.json, assessment-plan.json, component-definition.json, assessment.json",
                dir.display()
            );
        }
    }
    Ok(match assessment.verdict() {
        Verdict::Conforms => ExitCode::SUCCESS,
        Verdict::Undetermined => ExitCode::from(EXIT_UNDETERMINED),
        Verdict::DoesNotConform => ExitCode::from(EXIT_NONCONFORMING),
    })
}

fn summary(a: &Assessment, evidence_records: usize) -> Result<()> {
    let style = Style::stdout();
    let verdict = match a.verdict() {
        Verdict::Conforms => style.good("CONFORMS"),
        Verdict::Undetermined => style.warn("UNDETERMINED"),
        Verdict::DoesNotConform => style.error("DOES NOT CONFORM"),
    };
    outln!("{}  {}", style.bold(&a.product), verdict);
    outln!("{} {} ({})", style.dim("scheme"), a.scheme_title, a.scheme);
    outln!(
        "{} {} → {} ({})",
        style.dim("tier  "),
        a.tier_title,
        a.route.as_str(),
        a.route.describe()
    );
    outln!(
        "{} {} satisfied, {} not satisfied, {} need review, {} not applicable ({} evidence record(s))",
        style.dim("result"),
        a.count(Status::Satisfied, false),
        a.count(Status::NotSatisfied, false),
        a.count(Status::NeedsReview, false),
        a.count(Status::NotApplicable, false),
        evidence_records
    );
    for o in &a.obligations {
        outln!("{} {o}", style.error("obligation:"));
    }
    for i in &a.ignored_evidence {
        outln!("{} {i}", style.warn("evidence not counted:"));
    }
    outln!("\n{}", style.bold("Coverage"));
    for (area, c) in a.coverage() {
        let assessed = c[0] + c[1] + c[2];
        if assessed == 0 {
            outln!(
                "  {}   —   {area}  {}",
                " ".repeat(20),
                style.dim(&format!("(all {} not applicable)", c[3]))
            );
            continue;
        }
        let pct = c[0] * 100 / assessed;
        let bar: String = (0..20)
            .map(|i| if i * 5 < pct { '█' } else { '░' })
            .collect();
        outln!(
            "  {bar} {pct:>3}%  {area}  {}",
            style.dim(&format!("({} of {assessed}; {} n/a)", c[0], c[3]))
        );
    }
    let gaps = a.gaps();
    if !gaps.is_empty() {
        outln!("\n{}", style.bold("Gaps, in the order to fix them"));
        for (i, f) in gaps.iter().take(15).enumerate() {
            let weight = if f.mandatory {
                style.error("mandatory")
            } else {
                style.dim("recommended")
            };
            outln!(
                "{:>3}. {} {}  [{}, {}]",
                i + 1,
                style.accent(&f.label),
                f.title,
                weight,
                f.status.as_str()
            );
            outln!("     {}", f.reason);
            if let Some(fix) = &f.fix {
                outln!("     {} {fix}", style.good("fix:"));
            }
        }
        if gaps.len() > 15 {
            outln!(
                "{}",
                style.dim(&format!(
                    "     … and {} more; see the reports (--out DIR)",
                    gaps.len() - 15
                ))
            );
        }
    }
    Ok(())
}
