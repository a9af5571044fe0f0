//! `iotmark landscape [AREA]`: the NISTIR 8200 standards landscape.

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use clap::Args;
use iotmark_catalogs::{Area, Bundle, CoreArea};
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  iotmark landscape\n  iotmark landscape network-security\n  iotmark landscape 'ISO/IEC 27001' --json"
)]
pub struct LandscapeArgs {
    /// A core or application area (ID or part of its name), or a standard's ID
    area: Option<String>,
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(args: LandscapeArgs) -> Result<ExitCode> {
    let landscape = Bundle::get()
        .landscape()
        .ok_or_else(|| anyhow!("this build has no landscape data"))?;
    let style = Style::stdout();
    let Some(query) = &args.area else {
        if args.json {
            outln!("{}", serde_json::to_string_pretty(landscape)?);
            return Ok(ExitCode::SUCCESS);
        }
        outln!(
            "{}",
            style.bold(&format!(
                "{} ({})",
                landscape.title, landscape.publication.id
            ))
        );
        outln!("{}\n", style.dim(&landscape.remarks));
        outln!("{}", style.bold("Cybersecurity core areas"));
        for area in &landscape.core_areas {
            let mark = if area.unconfirmed {
                style.dim("  [unconfirmed]")
            } else {
                String::new()
            };
            outln!(
                "  {:<46} {} standard(s){mark}",
                style.accent(&area.id),
                area.standards.len()
            );
        }
        outln!("\n{}", style.bold("IoT application areas"));
        for area in &landscape.application_areas {
            outln!("  {:<46} {}", style.accent(&area.id), area.name);
        }
        outln!("\n{}", style.dim("Show one with `iotmark landscape AREA`."));
        return Ok(ExitCode::SUCCESS);
    };
    let found = landscape.find(query);
    if found.is_empty() {
        let ids: Vec<&str> = landscape
            .core_areas
            .iter()
            .map(|a| a.id.as_str())
            .chain(landscape.application_areas.iter().map(|a| a.id.as_str()))
            .collect();
        return Err(anyhow!(
            "no landscape area matches \"{query}\"\nhint: areas are {}",
            ids.join(", ")
        ));
    }
    if args.json {
        let items: Vec<_> = found
            .iter()
            .map(|a| match a {
                Area::Core(c) => json!({"kind": "core-area", "area": c}),
                Area::Application(a) => json!({"kind": "application-area", "area": a}),
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    for area in found {
        match area {
            Area::Core(c) => print_core(style, c)?,
            Area::Application(a) => {
                outln!(
                    "{}  {}",
                    style.bold(&a.name),
                    style.dim("(IoT application area)")
                );
                outln!("{}", a.summary);
                outln!("{}\n", style.dim(&format!("confidence: {}", a.confidence)));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_core(style: Style, c: &CoreArea) -> Result<()> {
    outln!(
        "{}  {}",
        style.bold(&c.name),
        style.dim("(cybersecurity core area)")
    );
    outln!("{}", c.summary);
    let note = if c.unconfirmed {
        "; not confirmed against the publication's text"
    } else {
        ""
    };
    outln!(
        "{}",
        style.dim(&format!("confidence: {}{note}", c.confidence))
    );
    if !c.standards.is_empty() {
        outln!("{}", style.bold("Example standards"));
        for s in &c.standards {
            outln!("  {:<22} {}", style.accent(&s.id), s.title);
        }
    }
    if !c.related_catalog_areas.is_empty() {
        let bundle = Bundle::get();
        outln!("{}", style.bold("Bears on"));
        for id in &c.related_catalog_areas {
            let title = bundle
                .find_control(id)
                .map(|h| h.control.title.clone())
                .or_else(|| {
                    bundle
                        .catalogs()
                        .iter()
                        .flat_map(|b| b.catalog.groups())
                        .find(|g| g.id.as_deref() == Some(id))
                        .map(|g| g.title.clone())
                })
                .unwrap_or_default();
            outln!("  {:<22} {title}", style.accent(id));
        }
    }
    outln!();
    Ok(())
}
