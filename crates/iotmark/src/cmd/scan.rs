//! `iotmark scan IMAGE`: unpack a firmware image, check it, and write evidence.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use iotmark_declare::visible;
use iotmark_firmware::extract::OutputDir;
use iotmark_firmware::to_evidence;
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  iotmark scan firmware.bin --component camera --out evidence/ --sbom camera.cdx.json\n  iotmark scan firmware.bin --spdx camera.spdx.json --supplier \"Acme Corp\" --firmware-version 2.4.1\n  iotmark scan firmware.bin --extract rootfs/ --json\n\nExit status: 0 when the scan ran (findings or not), 1 when the image cannot be read."
)]
pub struct ScanArgs {
    /// The firmware image
    image: PathBuf,
    /// The declared component the image belongs to
    #[arg(long, default_value = "device")]
    component: String,
    /// Write the evidence (one JSON file) and a CycloneDX SBOM into this directory, for
    /// `iotmark assess --evidence` and `iotmark vulns`
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Also write the unpacked filesystems here, as fs0, fs1, …: DIR must be new or empty,
    /// and nothing is written through a link
    #[arg(long, value_name = "DIR")]
    extract: Option<PathBuf>,
    /// Write a CycloneDX 1.6 SBOM (JSON) of the components found
    #[arg(long, value_name = "FILE")]
    sbom: Option<PathBuf>,
    /// Write an SPDX 2.3 SBOM (JSON) of the components found
    #[arg(long, value_name = "FILE")]
    spdx: Option<PathBuf>,
    /// The firmware's version, as its maker names it, for the SBOMs
    #[arg(long, value_name = "VERSION")]
    firmware_version: Option<String>,
    /// Who supplies the firmware (the manufacturer), for the SBOMs
    #[arg(long, value_name = "NAME")]
    supplier: Option<String>,
    /// Refuse images larger than this many bytes
    #[arg(long, default_value_t = 1 << 30)]
    max_bytes: u64,
    #[arg(long)]
    json: bool,
}

pub fn run(args: ScanArgs) -> Result<ExitCode> {
    // Checked before the scan, so that a directory that cannot be used costs no waiting.
    let extract_to = args.extract.as_deref().map(OutputDir::create).transpose()?;
    let report = crate::inputs::scan_image(&args.image, args.max_bytes)?;

    let bears_on = crate::inputs::bears_on()?;
    let collected_at = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let evidence = to_evidence(&report, &args.component, &collected_at, &bears_on);

    if let Some(dir) = &extract_to {
        for (i, (_, tree)) in report.filesystems.iter().enumerate() {
            dir.write_tree(&format!("fs{i}"), tree)?;
        }
    }
    let image_name = args
        .image
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "firmware".to_owned());
    let subject = iotmark_firmware::sbom::Subject {
        name: &image_name,
        version: args.firmware_version.as_deref(),
        supplier: args.supplier.as_deref(),
    };
    let listed = iotmark_firmware::sbom::listed(&report.components);
    if let Some(path) = &args.sbom {
        let sbom =
            iotmark_firmware::sbom::sbom_json(&report, &report.components, &subject, &collected_at);
        crate::inputs::write_json(path, &sbom)?;
        eprintln!(
            "wrote a CycloneDX 1.6 SBOM of {listed} component(s) to {}",
            path.display()
        );
    }
    if let Some(path) = &args.spdx {
        let spdx =
            iotmark_firmware::spdx::spdx_json(&report, &report.components, &subject, &collected_at);
        crate::inputs::write_json(path, &spdx)?;
        eprintln!(
            "wrote an SPDX 2.3 SBOM of {listed} component(s) to {}",
            path.display()
        );
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("firmware-{}.json", &report.sha256[..12]));
        let mut text = serde_json::to_string_pretty(&evidence)?;
        text.push('\n');
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "wrote {} evidence record(s) to {}",
            evidence.len(),
            path.display()
        );
        // The components beside the evidence, so `iotmark vulns DIR` can match them later
        // without scanning the image again.
        let sbom_path = dir.join(format!("sbom-{}.cdx.json", &report.sha256[..12]));
        let sbom =
            iotmark_firmware::sbom::sbom_json(&report, &report.components, &subject, &collected_at);
        crate::inputs::write_json(&sbom_path, &sbom)?;
        // The public halves of the keys in the image, so `iotmark probe --image-evidence DIR`
        // can tell a device presenting one of them.
        let keys =
            iotmark_firmware::analyze::public_key::ImageKeys::of(&report.sha256, &report.findings);
        let keys_path = dir.join(format!("image-{}.keys.json", &report.sha256[..12]));
        crate::inputs::write_json(&keys_path, &serde_json::to_value(&keys)?)?;
    }
    if args.json {
        let filesystems: Vec<_> = report
            .filesystems
            .iter()
            .map(|(label, t)| json!({"location": label, "entries": t.entries.len()}))
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"image": args.image, "sha256": report.sha256, "size": report.size, "regions": report.regions, "filesystems": filesystems, "fit": report.fit, "components": report.components, "kernel": report.kernel, "evidence": evidence})
            )?
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Names, messages and labels quote the image (user names, header strings, file paths):
    // each goes through `visible`, so an image cannot drive the terminal.
    let style = Style::stdout();
    outln!(
        "{}  {}",
        style.bold(&visible(&args.image.display().to_string())),
        style.dim(&format!("sha256 {} · {} bytes", report.sha256, report.size))
    );
    for r in &report.regions {
        outln!(
            "  {:>10}  {:<8} {:>10} B  entropy {:.2}  {}  {}",
            format!("@{}", r.offset),
            r.format,
            r.size,
            r.entropy,
            visible(&r.outcome),
            style.dim(&visible(&r.within))
        );
    }
    for (label, t) in &report.filesystems {
        outln!(
            "  {} {} ({} entries)",
            style.good("unpacked"),
            visible(label),
            t.entries.len()
        );
    }
    for fit in &report.fit {
        outln!("  {} {}", style.bold("FIT"), visible(&fit.summary()));
    }
    let listed: Vec<_> = report
        .components
        .iter()
        .filter(|c| c.relation != iotmark_firmware::inventory::Relation::HeaderOnly)
        .collect();
    if !listed.is_empty() {
        outln!("\n{} ({})", style.bold("Components"), listed.len());
        for c in &listed {
            let at = c
                .occurrences
                .first()
                .map(|o| o.path.as_str())
                .unwrap_or_default();
            outln!(
                "  {:<24} {:<16} {}",
                visible(&c.name),
                visible(&c.version),
                style.dim(&visible(&format!("{:?} {at}", c.relation).to_lowercase()))
            );
        }
    }
    let kernel = &report.kernel;
    if !kernel.configs.is_empty() || !kernel.modules.is_empty() {
        outln!("\n{}", style.bold("Kernel"));
        for c in &kernel.configs {
            let passing = c.hardening.iter().filter(|(_, ok)| *ok).count();
            outln!(
                "  config  {:<40} {} options, {passing} of {} hardening checks pass  {}",
                visible(&c.file),
                c.options,
                c.hardening.len(),
                style.dim(&visible(&c.within))
            );
        }
        for m in &kernel.modules {
            let banner = match m.matches_banner {
                Some(true) => " (the banner's kernel)",
                Some(false) => " (not the banner's kernel)",
                None => "",
            };
            outln!(
                "  modules {:<40} {} built for {}{banner}  {}",
                visible(&m.example),
                m.count,
                visible(&m.release),
                style.dim(&visible(&m.filesystem))
            );
        }
    }
    let (failed, passed): (Vec<_>, Vec<_>) = report.findings.iter().partition(|(_, f)| f.failed);
    if failed.is_empty() {
        outln!("\n{} no failing checks", style.good("✓"));
    } else {
        outln!("\n{} ({})", style.bold("Findings"), failed.len());
        for (_, f) in &failed {
            outln!(
                "  {:<9} {:<40} {}  {}",
                style.error(f.severity_name()),
                f.check,
                visible(&f.message),
                style.dim(&visible(&at(f)))
            );
        }
    }
    if !passed.is_empty() {
        outln!("\n{} ({})", style.bold("Passed"), passed.len());
        for (_, f) in &passed {
            outln!(
                "  {:<9} {:<40} {}  {}",
                style.good("pass"),
                f.check,
                visible(&f.message),
                style.dim(&visible(&at(f)))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a finding was seen: `file:line`, the file, or nothing for the image as a whole.
fn at(f: &iotmark_firmware::analyze::Finding) -> String {
    match f.line {
        Some(line) => format!("{}:{line}", f.file),
        None => f.file.clone(),
    }
}
