//! CISA's Known Exploited Vulnerabilities catalog (`known_exploited_vulnerabilities.json`,
//! schema `known_exploited_vulnerabilities_schema.json`): the CVEs CISA has evidence are
//! exploited, which the matcher reports first.

use crate::error::{Read, ReadError};
use crate::feed_value::{At, parse_json};
use crate::model::KnownExploited;

/// One KEV catalog: its version, when CISA released it, and its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    /// `catalogVersion` (`2025.08.25`).
    pub version: String,
    pub released: Option<jiff::Timestamp>,
    /// The entries; one that cannot be read is skipped and reported, the others kept.
    pub entries: Read<KnownExploited>,
}

/// Reads a KEV catalog.
pub fn read(name: &str, bytes: &[u8]) -> Result<Catalog, ReadError> {
    let value = parse_json(name, bytes)?;
    let root = At::root(name, "", &value);
    let version = root
        .required_str("catalogVersion")
        .map_err(|e| e.with_hint("CISA's known_exploited_vulnerabilities.json"))?;
    let mut entries = Read::default();
    for item in root.require("vulnerabilities")?.at().items()? {
        match entry(item.at()) {
            Ok(e) => entries.records.push(e),
            Err(mut e) => {
                // The CVE ID, when readable, says which entry without counting.
                if let Some(cve) = item.at().value.get("cveID").and_then(|v| v.as_str()) {
                    e.message = format!("{cve}: {}", e.message);
                }
                entries.skipped.push(e);
            }
        }
    }
    Ok(Catalog {
        version: version.to_owned(),
        released: root.timestamp("dateReleased")?,
        entries,
    })
}

fn date(at: At<'_, '_>, key: &str) -> Result<jiff::civil::Date, ReadError> {
    let text = at.required_str(key)?;
    text.parse().map_err(|_| {
        ReadError::new(
            at.file,
            format!("{}/{key}", at.pointer),
            format!("\"{text}\" is not a date"),
        )
        .with_hint("KEV dates are YYYY-MM-DD")
    })
}

fn entry(at: At<'_, '_>) -> Result<KnownExploited, ReadError> {
    let cve = at.required_str("cveID")?;
    Ok(KnownExploited {
        cve: cve.to_owned(),
        vendor: at.str("vendorProject")?.unwrap_or_default().to_owned(),
        product: at.str("product")?.unwrap_or_default().to_owned(),
        name: at.str("vulnerabilityName")?.unwrap_or_default().to_owned(),
        date_added: date(at, "dateAdded")?,
        due_date: date(at, "dueDate")?,
        required_action: at.str("requiredAction")?.unwrap_or_default().to_owned(),
        ransomware_use: at
            .str("knownRansomwareCampaignUse")?
            .unwrap_or("Unknown")
            .to_owned(),
    })
}

/// Fuzzing entry point: any bytes as a catalog, never a panic.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    let _ = read("fuzz", bytes);
}
