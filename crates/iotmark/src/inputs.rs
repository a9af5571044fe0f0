//! Reading the command line's shared inputs: dates and times given as flags, and a
//! declaration that must check before anything is done with it. Commands use these; no
//! command module reaches into another.

use std::path::Path;

use anyhow::{Context, Result, bail};
use iotmark_declare::{CheckReport, Declaration};

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
