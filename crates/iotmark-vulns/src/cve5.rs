//! CVE JSON 5.x records (`dataType: CVE_RECORD`), as the CVE Program publishes them in
//! `cvelistV5`: the CNA's container and the ADP containers (CISA's "Vulnrichment" adds CVSS
//! scores, CWEs and CPEs to records whose CNA gave none) read into one [`Advisory`] with
//! [`VendorProductRule`]s.

use crate::error::ReadError;
use crate::feed_value::{
    At, Child, add_references, base_score, english, parse_json, push_unique, rating_word,
};
use crate::model::{
    Advisory, Applicability, Cvss, CvssVersion, Rating, Source, VendorProductRule, VersionEntry,
};

/// Reads one CVE JSON 5 record.
pub fn read(name: &str, bytes: &[u8]) -> Result<Advisory, ReadError> {
    let value = parse_json(name, bytes)?;
    record(At::root(name, "", &value))
}

fn record(root: At<'_, '_>) -> Result<Advisory, ReadError> {
    match root.str("dataType")? {
        Some("CVE_RECORD") => {}
        other => {
            return Err(root
                .error(format!(
                    "dataType is {}, not CVE_RECORD",
                    other.map_or("missing".to_owned(), |o| format!("\"{o}\""))
                ))
                .with_hint("a CVE JSON 5 record from cvelistV5 or the CVE Services API"));
        }
    }
    if let Some(version) = root.str("dataVersion")?
        && !version.starts_with("5.")
    {
        return Err(root.error_at("dataVersion", format!("dataVersion {version} is not 5.x")));
    }
    let metadata = root.require("cveMetadata")?;
    let metadata = metadata.at();
    let state = metadata.required_str("state")?;
    let withdrawn = match state {
        "PUBLISHED" => false,
        "REJECTED" => true,
        other => {
            return Err(metadata
                .error_at("state", format!("unknown state \"{other}\""))
                .with_hint("PUBLISHED or REJECTED"));
        }
    };
    let containers = root.require("containers")?;
    let containers = containers.at();
    let cna = containers.require("cna")?;
    let cna = cna.at();
    // A rejected record's CNA container says why instead of what.
    let descriptions = if withdrawn {
        cna.array("rejectedReasons")?
    } else {
        cna.array("descriptions")?
    };
    let mut advisory = Advisory {
        id: metadata.required_str("cveId")?.to_owned(),
        source: Source::Cve5,
        aliases: Vec::new(),
        publisher: metadata.str("assignerShortName")?.map(str::to_owned),
        published: metadata.timestamp("datePublished")?,
        modified: metadata.timestamp("dateUpdated")?,
        withdrawn,
        summary: english(&descriptions, "value")?.unwrap_or_default().into(),
        severities: Vec::new(),
        weaknesses: Vec::new(),
        references: Vec::new(),
        applies_to: Vec::new(),
    };
    let adp = containers.array("adp")?;
    // The CNA first: its statements are the record's own; ADPs add to them.
    let all: Vec<At<'_, '_>> = std::iter::once(cna)
        .chain(adp.iter().map(Child::at))
        .collect();
    let mut rules: Vec<VendorProductRule> = Vec::new();
    for container in all {
        let scorer = match container.get("providerMetadata")? {
            Some(p) => p.at().str("shortName")?.map(str::to_owned),
            None => None,
        };
        for metric in container.array("metrics")? {
            if let Some(cvss) = metric_score(metric.at(), scorer.as_deref())? {
                advisory.severities.push(cvss);
            }
        }
        for problem in container.array("problemTypes")? {
            for description in problem.at().array("descriptions")? {
                if let Some(cwe) = cwe(description.at())? {
                    push_unique(&mut advisory.weaknesses, &cwe);
                }
            }
        }
        add_references(container, &mut advisory.references)?;
        for affected in container.array("affected")? {
            if let Some(rule) = affected_rule(affected.at())? {
                merge(&mut rules, rule);
            }
        }
    }
    advisory.applies_to = rules
        .into_iter()
        .map(Applicability::VendorProduct)
        .collect();
    Ok(advisory)
}

/// An ADP entry for a product the CNA already named adds its CPEs and versions to the CNA's
/// rule rather than standing beside it.
fn merge(rules: &mut Vec<VendorProductRule>, rule: VendorProductRule) {
    let same = rules.iter_mut().find(|r| {
        r.vendor.eq_ignore_ascii_case(&rule.vendor) && r.product.eq_ignore_ascii_case(&rule.product)
    });
    match same {
        Some(existing) => {
            for cpe in &rule.cpes {
                push_unique(&mut existing.cpes, cpe);
            }
            if existing.versions.is_empty() {
                existing.versions = rule.versions;
            }
            existing.default_affected = existing.default_affected.or(rule.default_affected);
        }
        None => rules.push(rule),
    }
}

/// Whether a CVE 5 field holds a real name: CNAs write "n/a" when they had none.
fn named(text: Option<&str>) -> Option<&str> {
    text.map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("n/a"))
}

fn affected_rule(at: At<'_, '_>) -> Result<Option<VendorProductRule>, ReadError> {
    let mut cpes = Vec::new();
    for cpe in at.array("cpes")? {
        push_unique(&mut cpes, cpe.at().as_str()?);
    }
    let vendor = named(at.str("vendor")?);
    let product = named(at.str("product")?).or(named(at.str("packageName")?));
    // "n/a" for both, with no CPE, says nothing a component could be matched against.
    let (Some(product), vendor) = (product, vendor) else {
        return Ok(None);
    };
    let default_affected = match at.str("defaultStatus")? {
        Some("affected") => Some(true),
        Some("unaffected") => Some(false),
        Some("unknown") | None => None,
        Some(other) => {
            return Err(at.error_at(
                "defaultStatus",
                format!("unknown defaultStatus \"{other}\""),
            ));
        }
    };
    let mut versions = Vec::new();
    for entry in at.array("versions")? {
        let entry = entry.at();
        let affected = match entry.required_str("status")? {
            "affected" => true,
            "unaffected" => false,
            // "unknown" says nothing either way.
            "unknown" => continue,
            other => {
                return Err(entry
                    .error_at("status", format!("unknown status \"{other}\""))
                    .with_hint("affected, unaffected or unknown"));
            }
        };
        let version = entry.required_str("version")?;
        // A lone "n/a" entry is a CNA's placeholder, not a version.
        if version.eq_ignore_ascii_case("n/a") && entry.get("lessThan")?.is_none() {
            continue;
        }
        versions.push(VersionEntry {
            version: version.to_owned(),
            affected,
            version_type: entry.str("versionType")?.map(str::to_owned),
            less_than: entry.str("lessThan")?.map(str::to_owned),
            less_than_or_equal: entry.str("lessThanOrEqual")?.map(str::to_owned),
        });
    }
    Ok(Some(VendorProductRule {
        vendor: vendor.unwrap_or_default().to_owned(),
        product: product.to_owned(),
        cpes,
        default_affected,
        versions,
    }))
}

/// A `metrics[]` entry: a CVSS object under its version's key, or `other` (SSVC), which is
/// not a score.
fn metric_score(at: At<'_, '_>, scorer: Option<&str>) -> Result<Option<Cvss>, ReadError> {
    for (key, version) in [
        ("cvssV4_0", CvssVersion::V40),
        ("cvssV3_1", CvssVersion::V31),
        ("cvssV3_0", CvssVersion::V30),
        ("cvssV2_0", CvssVersion::V2),
    ] {
        let Some(data) = at.get(key)? else {
            continue;
        };
        let data = data.at();
        let base_score = base_score(data)?;
        let rating = match rating_word(data.str("baseSeverity")?) {
            Some(rating) => rating,
            None if version == CvssVersion::V2 => crate::cvss::v2_rating(base_score),
            None => Rating::of_score(base_score),
        };
        return Ok(Some(Cvss {
            version,
            vector: data.required_str("vectorString")?.into(),
            base_score,
            rating,
            scored_by: scorer.map(Into::into),
        }));
    }
    Ok(None)
}

/// The CWE of a `problemTypes[].descriptions[]` entry: its `cweId`, or a description that
/// starts with one (`CWE-787 Out-of-bounds Write`).
fn cwe(at: At<'_, '_>) -> Result<Option<String>, ReadError> {
    if let Some(id) = at.str("cweId")? {
        return Ok(Some(id.to_owned()));
    }
    let Some(text) = at.str("description")? else {
        return Ok(None);
    };
    let Some(rest) = text.strip_prefix("CWE-") else {
        return Ok(None);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Ok((!digits.is_empty()).then(|| format!("CWE-{digits}")))
}

/// Fuzzing entry point: any bytes as a record, never a panic.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    let _ = read("fuzz", bytes);
}
