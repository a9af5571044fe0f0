//! OSV schema 1.x records (OSS-Fuzz, Debian, Alpine, PyPI, GitHub advisories, …) in JSON,
//! or YAML as the `oss-fuzz-vulns` repository stores them, read into [`Advisory`]s with
//! [`PackageRule`]s: one file, a directory tree of them, or an OSV zip export
//! (`all.zip`, `<ecosystem>/all.zip`).
//!
//! Severity: a `CVSS_V3` or `CVSS_V2` vector is scored with the specification's formula
//! ([`crate::cvss`]); a `CVSS_V4` vector has no formula and is kept only when the record
//! rates it (`database_specific.severity`), with the score left at the bottom of that
//! rating's band (e.g. 7.0 for HIGH), so that no number is invented beyond the rating.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Read, ReadError};
use crate::feed_value::{At, add_references, parse_json, push_unique, rating_word};
use crate::model::{
    Advisory, Applicability, Cvss, CvssVersion, Event, EventRange, Package, PackageRule, RangeKind,
    Rating, Source,
};
use crate::zip;

/// The deepest nesting accepted in a YAML record (OSV records nest five or six levels).
const MAX_YAML_DEPTH: usize = 64;

/// Reads one OSV record: JSON, or YAML when `name` ends in `.yaml` or `.yml`.
pub fn read(name: &str, bytes: &[u8]) -> Result<Advisory, ReadError> {
    let value = if name.ends_with(".yaml") || name.ends_with(".yml") {
        parse_yaml(name, bytes)?
    } else {
        parse_json(name, bytes)?
    };
    record(At::root(name, "", &value))
}

fn parse_yaml(name: &str, bytes: &[u8]) -> Result<Value, ReadError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ReadError::new(name, format!("offset {}", e.valid_up_to()), "not UTF-8"))?;
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_YAML_DEPTH,
        },
    };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!("line {} column {}", l.line(), l.column()))
            .unwrap_or_else(|| "/".to_owned());
        ReadError::new(
            name,
            place,
            e.to_string().lines().next().unwrap_or_default().to_owned(),
        )
        .with_hint("the file is not valid YAML")
    })
}

/// Whether a file name is an OSV record's.
fn is_record_name(name: &str) -> bool {
    [".json", ".yaml", ".yml"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Reads every record (`*.json`, `*.yaml`, `*.yml`) under `dir`, recursively, in path
/// order so that the result does not depend on the file system. A record that cannot be
/// read is skipped and reported; a directory that cannot be listed is an error.
pub fn read_dir(dir: &Path) -> Result<Read<Advisory>, ReadError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut read = Read::default();
    for path in files {
        let name = path.display().to_string();
        let outcome = std::fs::read(&path)
            .map_err(|e| ReadError::new(&name, "/", format!("cannot read: {e}")))
            .and_then(|bytes| self::read(&name, &bytes));
        match outcome {
            Ok(advisory) => read.records.push(advisory),
            Err(e) => read.skipped.push(e),
        }
    }
    Ok(read)
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    let name = dir.display().to_string();
    let entries = std::fs::read_dir(dir)
        .map_err(|e| ReadError::new(&name, "/", format!("cannot list the directory: {e}")))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| ReadError::new(&name, "/", format!("cannot list the directory: {e}")))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| ReadError::new(&path.display().to_string(), "/", e.to_string()))?;
        if file_type.is_dir() {
            collect(&path, files)?;
        } else if file_type.is_file() && is_record_name(&entry.file_name().to_string_lossy()) {
            files.push(path);
        }
    }
    Ok(())
}

/// Reads every record of an OSV zip export held in memory. The archive's own damage (a bad
/// directory) is an error; a damaged or unreadable entry is skipped and reported as
/// `name!entry`.
pub fn read_zip(name: &str, bytes: &[u8]) -> Result<Read<Advisory>, ReadError> {
    let archive = zip::open(name, bytes, zip::Limits::default())?;
    let mut entries: Vec<&zip::Entry> = archive
        .entries()
        .iter()
        .filter(|e| !e.is_dir() && is_record_name(&e.name))
        .collect();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut read = Read::default();
    for entry in entries {
        let entry_name = format!("{name}!{}", entry.name);
        match archive
            .read(entry)
            .and_then(|b| self::read(&entry_name, &b))
        {
            Ok(advisory) => read.records.push(advisory),
            Err(e) => read.skipped.push(e),
        }
    }
    Ok(read)
}

fn record(root: At<'_, '_>) -> Result<Advisory, ReadError> {
    let id = root.required_str("id")?;
    let mut advisory = Advisory {
        id: id.to_owned(),
        source: Source::Osv,
        aliases: Vec::new(),
        publisher: None,
        published: root.timestamp("published")?,
        modified: root.timestamp("modified")?,
        withdrawn: root.timestamp("withdrawn")?.is_some(),
        summary: match (root.str("summary")?, root.str("details")?) {
            (Some(s), _) if !s.trim().is_empty() => s.into(),
            (_, Some(d)) => d.into(),
            _ => "".into(),
        },
        severities: Vec::new(),
        weaknesses: Vec::new(),
        references: Vec::new(),
        applies_to: Vec::new(),
    };
    for alias in root.array("aliases")? {
        push_unique(&mut advisory.aliases, alias.at().as_str()?);
    }
    let rating = match root.get("database_specific")? {
        Some(specific) => {
            let specific = specific.at();
            if let Some(cwes) = specific.get("cwe_ids")? {
                for cwe in cwes.at().items()? {
                    push_unique(&mut advisory.weaknesses, cwe.at().as_str()?);
                }
            }
            rating_word(specific.str("severity").unwrap_or(None))
        }
        None => None,
    };
    for severity in root.array("severity")? {
        if let Some(cvss) = severity_entry(severity.at(), rating)? {
            advisory.severities.push(cvss);
        }
    }
    add_references(root, &mut advisory.references)?;
    for affected in root.array("affected")? {
        advisory
            .applies_to
            .push(Applicability::Package(package_rule(affected.at())?));
    }
    Ok(advisory)
}

fn severity_entry(at: At<'_, '_>, rating: Option<Rating>) -> Result<Option<Cvss>, ReadError> {
    let kind = at.required_str("type")?;
    let vector = at.required_str("score")?;
    match kind {
        "CVSS_V2" | "CVSS_V3" => {
            let (version, base_score) = crate::cvss::base_score(vector)
                .ok_or_else(|| at.error(format!("\"{vector}\" is not a valid {kind} vector")))?;
            let rating = if version == CvssVersion::V2 {
                crate::cvss::v2_rating(base_score)
            } else {
                Rating::of_score(base_score)
            };
            Ok(Some(Cvss {
                version,
                vector: vector.into(),
                base_score,
                rating,
                scored_by: None,
            }))
        }
        "CVSS_V4" => Ok(rating.map(|rating| Cvss {
            version: CvssVersion::V40,
            vector: vector.into(),
            base_score: match rating {
                Rating::None => 0.0,
                Rating::Low => 0.1,
                Rating::Medium => 4.0,
                Rating::High => 7.0,
                Rating::Critical => 9.0,
            },
            rating,
            scored_by: None,
        })),
        // Ubuntu's priority words and future types are not CVSS.
        _ => Ok(None),
    }
}

fn package_rule(at: At<'_, '_>) -> Result<PackageRule, ReadError> {
    let package = match at.get("package")? {
        Some(package) => {
            let package = package.at();
            Package {
                ecosystem: package.required_str("ecosystem")?.to_owned(),
                name: package.required_str("name")?.to_owned(),
                purl: package.str("purl")?.map(str::to_owned),
            }
        }
        // The schema allows an entry without a package when a GIT range names the
        // repository (osv.dev's records converted from CVEs): the repository is the name.
        None => Package {
            ecosystem: GIT_ECOSYSTEM.to_owned(),
            name: git_repository(at)?.ok_or_else(|| {
                at.error_at("package", "neither a package nor a GIT range with a repo")
            })?,
            purl: None,
        },
    };
    let mut rule = PackageRule {
        package,
        ranges: Vec::new(),
        versions: Vec::new(),
        unaffected: Vec::new(),
    };
    for range in at.array("ranges")? {
        rule.ranges.push(event_range(range.at())?);
    }
    for version in at.array("versions")? {
        push_unique(&mut rule.versions, version.at().as_str()?);
    }
    Ok(rule)
}

/// The ecosystem given to an entry that names only a repository.
pub const GIT_ECOSYSTEM: &str = "GIT";

/// The `repo` of the entry's first GIT range.
fn git_repository(at: At<'_, '_>) -> Result<Option<String>, ReadError> {
    for range in at.array("ranges")? {
        let range = range.at();
        if range.str("type")? == Some("GIT")
            && let Some(repo) = range.str("repo")?
        {
            return Ok(Some(repo.to_owned()));
        }
    }
    Ok(None)
}

fn event_range(at: At<'_, '_>) -> Result<EventRange, ReadError> {
    let kind = match at.required_str("type")? {
        "SEMVER" => RangeKind::Semver,
        "ECOSYSTEM" => RangeKind::Ecosystem,
        "GIT" => RangeKind::Git,
        other => {
            return Err(at
                .error_at("type", format!("unknown range type \"{other}\""))
                .with_hint("SEMVER, ECOSYSTEM or GIT"));
        }
    };
    let mut events = Vec::new();
    for event in at.array("events")? {
        let event = event.at();
        let Value::Object(map) = event.value else {
            return Err(event.error("an event must be an object"));
        };
        // Exactly one of the four keys; anything else is a different schema.
        let mut found = None;
        for (key, value) in map {
            let make: fn(String) -> Event = match key.as_str() {
                "introduced" => Event::Introduced,
                "fixed" => Event::Fixed,
                "last_affected" => Event::LastAffected,
                "limit" => Event::Limit,
                other => {
                    return Err(event.error(format!("unknown event \"{other}\"")));
                }
            };
            let Some(version) = value.as_str() else {
                return Err(event.error(format!("\"{key}\" must be a string")));
            };
            if found.replace(make(version.to_owned())).is_some() {
                return Err(event.error("an event with more than one version"));
            }
        }
        events.push(found.ok_or_else(|| event.error("an empty event"))?);
    }
    Ok(EventRange { kind, events })
}

/// Fuzzing entry point: any bytes as a JSON and as a YAML record, never a panic.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    let _ = read("fuzz.json", bytes);
    let _ = read("fuzz.yaml", bytes);
}
