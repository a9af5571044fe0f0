//! `iotmark init`, `iotmark check` and `iotmark schema`: writing and checking declarations.

use std::io::{BufRead, IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use iotmark_declare::scaffold::Scaffold;
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  iotmark init --id acme-cam --name 'SecureCam' --manufacturer 'Acme' --model SC-200 --category camera -o product.yaml\n  iotmark init            # asks for each value on a terminal"
)]
pub struct InitArgs {
    /// Product ID: lower case letters, digits and dashes
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    manufacturer: Option<String>,
    #[arg(long)]
    model: Option<String>,
    /// camera, router, smart-lock, toy, hub, … (see `iotmark schema`)
    #[arg(long)]
    category: Option<String>,
    /// End of security-update support (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    support_end: Option<String>,
    /// Where to report vulnerabilities: e-mail or https URL
    #[arg(long)]
    contact: Option<String>,
    /// Write here instead of standard output (refuses to overwrite)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  iotmark check product.yaml\n  iotmark check product.yaml --json"
)]
pub struct CheckArgs {
    /// A declaration (YAML or JSON)
    file: PathBuf,
    /// Judge dates against this day instead of today (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    #[arg(long)]
    json: bool,
}

fn ask(prompt: &str, default: &str) -> Result<String> {
    eprint!("{prompt} [{default}]: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() {
        default.to_owned()
    } else {
        line.to_owned()
    })
}

pub fn init(args: InitArgs) -> Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let default_end = (jiff::Zoned::now().date() + jiff::Span::new().years(5)).to_string();
    let value = |given: Option<String>, prompt: &str, default: &str| -> Result<String> {
        match given {
            Some(v) => Ok(v),
            None if interactive => ask(prompt, default),
            None => Ok(default.to_owned()),
        }
    };
    let scaffold = Scaffold {
        product_id: value(args.id, "Product ID", "acme-camera")?,
        manufacturer: value(args.manufacturer, "Manufacturer", "Acme Devices Ltd")?,
        name: value(args.name, "Product name", "Acme Camera")?,
        model: value(args.model, "Model", "AC-100")?,
        category: value(args.category, "Category", "camera")?,
        support_end: value(
            args.support_end,
            "Security updates until (YYYY-MM-DD)",
            &default_end,
        )?,
        contact: value(
            args.contact,
            "Vulnerability report contact",
            "security@example.com",
        )?,
    };
    let text = scaffold.render();
    match args.output {
        Some(path) => {
            if path.exists() {
                bail!(
                    "{} exists\nhint: choose another file, or remove it first",
                    path.display()
                );
            }
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "wrote {}; check it with `iotmark check {}`",
                path.display(),
                path.display()
            );
        }
        None => outln!("{}", text.trim_end()),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn check(args: CheckArgs) -> Result<ExitCode> {
    let report = crate::inputs::check_declaration(&args.file, args.date.as_deref())?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"file": args.file, "valid": report.errors() == 0, "diagnostics": report.diagnostics})
            )?
        );
    } else {
        let style = Style::stderr();
        let file = args.file.display().to_string();
        let file = iotmark_declare::visible(&file);
        if !report.diagnostics.is_empty() {
            eprint!("{}", report.render());
        }
        let warnings = report.diagnostics.len() - report.errors();
        if report.errors() == 0 {
            outln!(
                "{} {file} is a valid declaration{}",
                style.good("✓"),
                if warnings > 0 {
                    format!(" ({warnings} warning(s))")
                } else {
                    String::new()
                }
            );
        } else {
            eprintln!(
                "{} {} error(s), {warnings} warning(s) in {file}",
                style.error("✗"),
                report.errors(),
            );
        }
    }
    Ok(if report.errors() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn schema() -> Result<ExitCode> {
    outln!(
        "{}",
        iotmark_declare::schema::declaration_schema_text().trim_end()
    );
    Ok(ExitCode::SUCCESS)
}
