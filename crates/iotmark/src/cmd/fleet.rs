//! `iotmark fleet`: check the devices an organisation runs against a registry, and the
//! registry against its log.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use iotmark_registry::fleet::inventory;
use iotmark_registry::fleet::mirror::{Mirror, SyncError};
use iotmark_registry::fleet::{
    self, CheckError, Client, DeviceStatus, FleetReport, Options, Snapshot, Stage,
};

use crate::style::Style;

/// Some devices' label does not hold, or the registry does not know them.
const EXIT_NEEDS_ACTION: u8 = 3;
/// The registry's answers disagree with its log, or the log broke its promises.
const EXIT_CAUGHT: u8 = 4;

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Check deployed devices against a registry, verified against the registry's log
    Check(CheckArgs),
}

#[derive(Debug, Args)]
#[command(after_help = "\
The inventory is CSV (a header row naming the columns product, version, image_sha256,
count, location, owner, in any order) or JSON (an array of objects with those fields).
Name each group of devices by product and version, or by its firmware image's SHA-256.

Nothing is taken on the registry's word. The state directory keeps the log's checkpoint
from the last check and a copy of every log entry read; each check verifies the new
checkpoint's signature with the log key, its consistency with the kept one, and every new
entry against its root, works out each device's status from the log with the registry's
rules, and compares the registry's answers with it. The first check needs the log's key
(--log-key: the registry's log.vkey, from its operator); later checks keep using it.

Exit codes:
  0  every device's label holds, and the registry's answers agree with its log
  1  the inventory, the state or the registry could not be read
  3  some devices need action (revoked, suspended, vulnerable, end of support, expired,
     withdrawn, not attested or unknown)
  4  the registry was caught: its answers disagree with its log, or the log rewrote history

Examples:
  iotmark fleet check devices.csv --registry https://registry.example.org --log-key log.vkey
  iotmark fleet check devices.csv --registry https://registry.example.org --html fleet.html
  iotmark fleet check devices.json --json --kev known_exploited_vulnerabilities.json
  iotmark fleet check devices.csv --changes
  iotmark fleet check devices.csv --watch --every 3600")]
pub struct CheckArgs {
    /// The inventory: CSV or JSON
    #[arg(value_name = "INVENTORY")]
    inventory: PathBuf,
    /// The registry's base URL
    #[arg(
        long,
        value_name = "URL",
        env = "IOTMARK_REGISTRY",
        default_value = "http://127.0.0.1:8080"
    )]
    registry: String,
    /// The registry log's verifier key: a `name+id+key` string or a file holding one
    /// (required on the first check; kept in the state directory)
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// Where the kept checkpoint, the copy of the log and the last check's results are
    #[arg(
        long,
        value_name = "DIR",
        env = "IOTMARK_FLEET_STATE",
        default_value = "iotmark-fleet"
    )]
    state: PathBuf,
    /// CISA's Known Exploited Vulnerabilities catalog (known_exploited_vulnerabilities.json),
    /// to mark exploited vulnerabilities and list them first
    #[arg(long, value_name = "FILE")]
    kev: Option<PathBuf>,
    /// Also write the report as a standalone HTML page
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Also write the devices that need action as an OSCAL plan of action and milestones
    #[arg(long, value_name = "FILE")]
    poam: Option<PathBuf>,
    /// Report only what changed since the last check
    #[arg(long)]
    changes: bool,
    /// Check again and again, reporting only what changed each time (stop with Ctrl-C)
    #[arg(long)]
    watch: bool,
    /// Seconds between checks with --watch
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    every: u64,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(command: FleetCommand) -> Result<ExitCode> {
    match command {
        FleetCommand::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> Result<ExitCode> {
    let devices = inventory::read(&args.inventory)?;
    let client = Client::new(&args.registry).map_err(anyhow::Error::msg)?;
    let known_exploited = args.kev.as_deref().map(read_kev).transpose()?;
    let mirror_path = args.state.join("log.json");
    let last_path = args.state.join("last-check.json");
    let mut mirror = open_mirror(&mirror_path, args.log_key.as_deref())?;
    loop {
        let options = Options {
            now: jiff::Timestamp::now(),
            known_exploited: known_exploited.clone(),
        };
        let outcome = with_progress(|progress| {
            fleet::check(&devices, &mut mirror, &client, &options, progress)
        });
        let report = match outcome {
            Ok(report) => report,
            Err(CheckError::Sync(SyncError::Caught(caught))) => {
                let style = Style::stderr();
                eprintln!(
                    "{} the registry's log at {} was caught: {caught}",
                    style.error("error:"),
                    client.log().url()
                );
                eprintln!(
                    "The kept checkpoint ({}) was not replaced. Keep it as evidence, and tell the registry's operator.",
                    mirror_path.display()
                );
                return Ok(ExitCode::from(EXIT_CAUGHT));
            }
            // Watching, a registry that cannot be reached this round may be back by the next.
            Err(e) if args.watch => {
                eprintln!(
                    "{} {e}; checking again in {} s",
                    Style::stderr().warn("warning:"),
                    args.every
                );
                std::thread::sleep(Duration::from_secs(args.every));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        // The log was verified: keep what was learned before saying anything.
        mirror.save(&mirror_path)?;
        let before: Option<Snapshot> = read_snapshot(&last_path)?;
        let after = fleet::snapshot(&report);
        if let Some(path) = &args.html {
            let html = fleet::report::render(&report).context("rendering the HTML report")?;
            fleet::write_durably(path, html.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        if let Some(path) = &args.poam {
            let plan = fleet::poam(&report)?;
            let text = iotmark_oscal::write_json(
                &iotmark_oscal::Document::PlanOfActionAndMilestones(Box::new(plan)),
            );
            fleet::write_durably(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {} (OSCAL POA&M)", path.display());
        }
        if args.changes || args.watch {
            let changes = before
                .as_ref()
                .map(|b| fleet::changes(b, &after))
                .unwrap_or_default();
            print_changes(&args, &report, before.is_some(), &changes)?;
        } else if args.json {
            outln!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_table(&report)?;
        }
        fleet::write_durably(&last_path, &serde_json::to_vec(&after)?)
            .with_context(|| format!("cannot write {}", last_path.display()))?;
        if !args.watch {
            return Ok(exit_code(&report));
        }
        std::thread::sleep(Duration::from_secs(args.every));
    }
}

fn exit_code(report: &FleetReport) -> ExitCode {
    if !report.discrepancies.is_empty() {
        ExitCode::from(EXIT_CAUGHT)
    } else if report.needing_action() > 0 {
        ExitCode::from(EXIT_NEEDS_ACTION)
    } else {
        ExitCode::SUCCESS
    }
}

/// The kept copy of the log, or a new one for `log_key`; a key that is not the kept one is
/// refused rather than silently trusted.
fn open_mirror(path: &Path, log_key: Option<&str>) -> Result<Mirror> {
    let given = log_key.map(read_vkey).transpose()?;
    match (Mirror::load(path)?, given) {
        (Some(mirror), Some(key)) if mirror.log_key != key => bail!(
            "--log-key {key:?} is not the key kept in {} ({:?}); to trust another log, use another --state directory",
            path.display(),
            mirror.log_key
        ),
        (Some(mirror), _) => Ok(mirror),
        (None, Some(key)) => Mirror::new(&key).map_err(anyhow::Error::msg),
        (None, None) => bail!(
            "{} holds no kept checkpoint yet: give the log's key with --log-key (the registry's log.vkey, from its operator) for the first check",
            path.display()
        ),
    }
}

fn read_vkey(given: &str) -> Result<String> {
    let text = if Path::new(given).is_file() {
        std::fs::read_to_string(given).with_context(|| format!("cannot read {given}"))?
    } else {
        given.to_owned()
    };
    let text = text.trim().to_owned();
    iotmark_log::note::NoteVerifier::parse(&text).with_context(|| {
        format!(
            "--log-key {given:?} is neither a verifier key (name+id+key) nor a file holding one"
        )
    })?;
    Ok(text)
}

fn read_kev(path: &Path) -> Result<BTreeSet<String>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let catalog = iotmark_vulns::kev::read(&path.display().to_string(), &bytes)?;
    Ok(catalog.entries.records.into_iter().map(|e| e.cve).collect())
}

fn read_snapshot(path: &Path) -> Result<Option<Snapshot>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} does not read; remove it (the next check then reports everything)",
                path.display()
            )
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Runs `work` while a progress bar on stderr shows the log entries read and the lookups
/// made (only on a terminal, and not under `NO_COLOR`).
fn with_progress<T>(work: impl FnOnce(&(dyn Fn(Stage, u64, u64) + Sync)) -> T) -> T {
    if !Style::progress_on_stderr() {
        return work(&|_, _, _| {});
    }
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<22} [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let result = work(&|stage, done, total| {
        bar.set_message(match stage {
            Stage::Log => "checking log entries",
            Stage::Lookup => "asking the registry",
        });
        bar.set_length(total);
        bar.set_position(done);
    });
    bar.finish_and_clear();
    result
}

fn status_cell(style: Style, status: DeviceStatus) -> String {
    let text = format!("{:<15}", status.as_str());
    match status {
        DeviceStatus::Valid => style.good(&text),
        DeviceStatus::Revoked | DeviceStatus::Suspended | DeviceStatus::Vulnerable => {
            style.error(&text)
        }
        _ => style.warn(&text),
    }
}

fn print_table(report: &FleetReport) -> Result<()> {
    let style = Style::stdout();
    outln!(
        "{} {}  {} {}  {}",
        style.bold(&format!("{:<15}", "STATUS")),
        style.bold(&format!("{:>7}", "DEVICES")),
        style.bold(&format!("{:<32}", "PRODUCT VERSION")),
        style.bold(&format!("{:<11}", "SUPPORT END")),
        style.bold("LOCATION / OWNER: WHY")
    );
    for d in &report.devices {
        let mut why = d.why.clone();
        if !d.vulnerabilities.is_empty() {
            let ids: Vec<String> = d
                .vulnerabilities
                .iter()
                .map(fleet::Vulnerability::label)
                .collect();
            why.push_str(&format!(" [{}]", ids.join(", ")));
        }
        if !d.registry_agrees {
            why.push_str(" (the registry's answer disagrees with its log)");
        }
        let place = match (d.device.location.as_str(), d.device.owner.as_str()) {
            ("", "") => String::new(),
            (l, "") => format!("{l}: "),
            ("", o) => format!("{o}: "),
            (l, o) => format!("{l}, {o}: "),
        };
        let name = match (&d.product, &d.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => d.device.label(),
        };
        outln!(
            "{} {:>7}  {:<32} {:<11}  {}{}",
            status_cell(style, d.status),
            d.device.count,
            iotmark_declare::visible(&name),
            d.support_end
                .map(|e| e.to_string())
                .unwrap_or_else(|| "-".to_owned()),
            iotmark_declare::visible(&place),
            iotmark_declare::visible(&why)
        );
    }
    outln!();
    let counts: Vec<String> = report
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    outln!("{} devices: {}", report.total_devices, counts.join(", "));
    print_log_line(report)?;
    Ok(())
}

/// `n thing`, or `n things` (`entry`: `entries`).
fn plural(n: u64, thing: &str) -> String {
    match (n, thing.strip_suffix('y')) {
        (1, _) => format!("1 {thing}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        (_, None) => format!("{n} {thing}s"),
    }
}

fn print_log_line(report: &FleetReport) -> Result<()> {
    let style = Style::stdout();
    let log = &report.log;
    let how = if log.consistency_proved {
        format!(
            "consistent with the kept checkpoint of {} entries",
            log.from_size
        )
    } else if log.from_size == 0 {
        "first check: the whole log read".to_owned()
    } else {
        "unchanged since the kept checkpoint".to_owned()
    };
    outln!(
        "Log {} verified at {} ({how}; {} checked).",
        log.origin,
        plural(log.size, "entry"),
        plural(log.entries_read, "new entry")
    );
    if report.discrepancies.is_empty() {
        outln!(
            "{}",
            style.good("The registry's answers agree with its log.")
        );
    } else {
        outln!(
            "{}",
            style.error(&format!(
                "The registry's answers disagree with its log in {} places (the answers above are the log's):",
                report.discrepancies.len()
            ))
        );
        for d in &report.discrepancies {
            outln!("  {}: {}", d.product, iotmark_declare::visible(&d.what));
        }
    }
    for (index, why) in &report.unplaced {
        outln!("note: log entry {index} could not be placed: {why}");
    }
    Ok(())
}

fn print_changes(
    args: &CheckArgs,
    report: &FleetReport,
    had_before: bool,
    changes: &[fleet::Change],
) -> Result<()> {
    if args.json {
        outln!(
            "{}",
            serde_json::to_string(&serde_json::json!({
                "checked": report.checked,
                "since_last_check": had_before,
                "changes": changes,
                "discrepancies": report.discrepancies,
                "counts": report.counts,
            }))?
        );
        return Ok(());
    }
    let stamp = report.checked.strftime("%Y-%m-%d %H:%M:%S UTC");
    if !had_before {
        outln!("{stamp}: first check, nothing to compare with:");
        print_table(report)?;
        return Ok(());
    }
    if changes.is_empty() {
        outln!("{stamp}: no change since the last check");
    }
    for c in changes {
        outln!(
            "{stamp}: {}: {}",
            iotmark_declare::visible(&c.label),
            iotmark_declare::visible(&c.what)
        );
    }
    if !report.discrepancies.is_empty() {
        print_log_line(report)?;
    }
    Ok(())
}
