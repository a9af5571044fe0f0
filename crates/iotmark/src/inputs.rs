//! Reading the command line's shared inputs: dates and times given as flags, a declaration
//! that must check before anything is done with it, a firmware image scanned with a progress
//! bar, and the requirements each check bears on. Commands use these; no
//! command module reaches into another.

use std::path::Path;

use anyhow::{Context, Result, bail};
use iotmark_assess::RuleBook;
use iotmark_declare::{CheckReport, Declaration};
use iotmark_firmware::{Limits, Progress, ScanReport, scan_with_progress};

use crate::style::Style;

/// `--date`, or today (local calendar) when not given.
pub fn today(date: Option<&str>) -> Result<jiff::civil::Date> {
    match date {
        Some(d) => d
            .parse()
            .with_context(|| format!("--date {d} is not a date; write YYYY-MM-DD")),
        None => Ok(jiff::Zoned::now().date()),
    }
}

/// A time flag, or now (to the second) when not given.
pub fn time_or_now(flag: &str, value: Option<&str>) -> Result<jiff::Timestamp> {
    match value {
        Some(t) => t.parse::<jiff::Timestamp>().with_context(|| {
            format!("{flag} {t:?} is not an RFC 3339 time such as 2026-11-22T10:00:00Z")
        }),
        None => Ok(iotmark_conformity::attesting::now_to_the_second()),
    }
}

/// Checks the declaration at `path` as of `date` (see [`today`]).
pub fn check_declaration(path: &Path, date: Option<&str>) -> Result<CheckReport> {
    Ok(iotmark_conformity::assessment::check_declaration(
        path,
        today(date)?,
    )?)
}

/// The declaration at `path`, or its diagnostics on standard error and a failure that says
/// how to see them again.
pub fn valid_declaration(path: &Path, date: Option<&str>) -> Result<(CheckReport, Declaration)> {
    let report = check_declaration(path, date)?;
    match report.declaration.clone() {
        Some(declaration) => Ok((report, declaration)),
        None => {
            eprint!("{}", report.render());
            bail!(
                "{} is not a valid declaration; fix it first (`iotmark check {}`)",
                path.display(),
                path.display()
            )
        }
    }
}

/// Reads and scans the firmware image at `path`, refusing one over `max_bytes`; a progress
/// bar shows on a terminal.
pub fn scan_image(path: &Path, max_bytes: u64) -> Result<ScanReport> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > max_bytes {
        bail!(
            "{} is {size} bytes, over --max-bytes {max_bytes}",
            path.display()
        );
    }
    let image = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(scan_showing_progress(&image, &Limits::default()))
}

/// The requirements a check bears on: those whose rules name it, in every bundled catalog.
pub fn bears_on() -> Result<impl Fn(&str) -> Vec<String>> {
    let rules = RuleBook::bundled()?;
    Ok(move |check: &str| {
        let mut ids: Vec<String> = rules
            .iter()
            .filter(|r| r.checks.iter().any(|c| c == check))
            .map(|r| r.requirement.clone())
            .collect();
        ids.sort();
        ids
    })
}

/// Scans on a worker thread while this one draws a progress bar on stderr (only on a
/// terminal, and not under `NO_COLOR`): bytes of the image walked, then filesystems analysed.
fn scan_showing_progress(image: &[u8], limits: &Limits) -> ScanReport {
    let progress = Progress::default();
    std::thread::scope(|scope| {
        let worker = scope.spawn(|| scan_with_progress(image, limits, &progress));
        if Style::progress_on_stderr() {
            let bar = indicatif::ProgressBar::new(image.len() as u64).with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg:<12} [{bar:30}] {bytes}/{total_bytes} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message("unpacking");
            while !worker.is_finished() {
                match progress.analysed() {
                    (_, 0) => bar.set_position(progress.unpacked()),
                    (done, total) => {
                        bar.set_position(image.len() as u64);
                        bar.set_message(format!("analysing {done}/{total}"));
                    }
                }
                bar.tick();
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            bar.finish_and_clear();
        }
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Writes a JSON document, creating the directory it goes in.
pub fn write_json(path: &std::path::Path, doc: &serde_json::Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
