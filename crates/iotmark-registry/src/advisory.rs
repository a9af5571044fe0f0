//! CSAF 2.0 security advisories: one per status change the monitor made because of
//! vulnerabilities (a version found vulnerable, or suspended when the deadline to fix
//! passed), for the product version it concerns.
//!
//! The advisory names the version by its manufacturer, product and version, and by the
//! SHA-256 of each attested firmware image; lists each vulnerability with its CVE (or other
//! ID), the source's description and CVSS v3 score where the vulnerability store has them,
//! whether CISA lists it as exploited, the product as `known_affected`, and the remedy: the
//! manufacturer's fixed version when it recorded one (the CRA case's fix), or none yet, with
//! the scheme's deadline. It references itself, the signed change in the log, and the
//! product page. The tracking ID is the change's log index, so the advisory of a change is
//! always the same document; its release date is when the change was logged.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::accept::{Refusal, Rule};
use crate::service::{Registry, RegistryError};
use crate::store::{AttestationRecord, EntryKind};

/// The one product of an advisory.
const PRODUCT_ID: &str = "CSAFPID-0001";

/// What one vulnerability of an advisory says, beyond its ID.
#[derive(Debug, Clone, Default)]
pub struct VulnerabilityFacts {
    pub summary: Option<String>,
    /// CVSS v3 (version, vector, base score, rating word in capitals).
    pub cvss_v3: Option<(String, String, f64, String)>,
    pub known_exploited: bool,
    /// The first version the manufacturer says fixes it.
    pub fixed_in: Option<String>,
}

/// Everything an advisory is made from.
#[derive(Debug)]
pub struct AdvisorySources<'a> {
    /// The status change, with its vulnerabilities.
    pub change: &'a AttestationRecord,
    pub manufacturer: &'a str,
    /// Name and model, as the product page heads it.
    pub product_name: &'a str,
    /// (file name, SHA-256) of each attested image.
    pub images: &'a [(String, String)],
    pub vulnerabilities: &'a BTreeMap<String, VulnerabilityFacts>,
    /// Who publishes: the label administrator, or the registry itself.
    pub publisher: &'a str,
    pub public_url: &'a str,
}

/// The CSAF 2.0 `csaf_security_advisory` document of a change.
pub fn csaf_advisory(s: &AdvisorySources<'_>) -> Value {
    let change = s.change;
    let date = change.logged.to_string();
    let version = &change.version;
    let status = change.status.map(|k| k.as_str()).unwrap_or("status change");
    let self_url = format!(
        "{}/api/v1/attestations/{}/csaf",
        s.public_url, change.envelope_sha256
    );
    let mut product = json!({
        "name": format!("{} {} {version}", s.manufacturer, s.product_name),
        "product_id": PRODUCT_ID,
    });
    if !s.images.is_empty() {
        product["product_identification_helper"] = json!({
            "hashes": s.images.iter().map(|(file, sha)| json!({
                "file_hashes": [{"algorithm": "sha256", "value": sha}],
                "filename": file,
            })).collect::<Vec<_>>(),
        });
    }
    let deadline = change
        .deadline
        .map(|d| format!(" The scheme's deadline to fix is {d}."))
        .unwrap_or_default();
    let vulnerabilities: Vec<Value> = change
        .vulnerabilities
        .iter()
        .map(|id| {
            let facts = s.vulnerabilities.get(id).cloned().unwrap_or_default();
            let mut v = if is_cve(id) {
                json!({"cve": id})
            } else {
                json!({"ids": [{"system_name": id_system(id), "text": id}]})
            };
            v["notes"] = json!([{
                "category": "description",
                "title": "Description",
                "text": facts.summary.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| format!(
                    "{id} is open in a component of the firmware {} declared for this version.",
                    s.manufacturer
                )),
            }]);
            v["product_status"] = json!({"known_affected": [PRODUCT_ID]});
            v["remediations"] = json!([match &facts.fixed_in {
                Some(fixed) => json!({
                    "category": "vendor_fix",
                    "details": format!("Update to version {fixed}, which the manufacturer says fixes it."),
                    "product_ids": [PRODUCT_ID],
                }),
                None => json!({
                    "category": "none_available",
                    "details": format!("The manufacturer has not recorded a fix yet.{deadline}"),
                    "product_ids": [PRODUCT_ID],
                }),
            }]);
            if let Some((cvss_version, vector, score, rating)) = &facts.cvss_v3 {
                v["scores"] = json!([{
                    "cvss_v3": {
                        "version": cvss_version,
                        "vectorString": vector,
                        "baseScore": score,
                        "baseSeverity": rating,
                    },
                    "products": [PRODUCT_ID],
                }]);
            }
            if facts.known_exploited {
                v["threats"] = json!([{
                    "category": "exploit_status",
                    "details": "Listed in CISA's Known Exploited Vulnerabilities catalog: exploited in the wild.",
                    "product_ids": [PRODUCT_ID],
                }]);
            }
            v
        })
        .collect();
    json!({
        "document": {
            "category": "csaf_security_advisory",
            "csaf_version": "2.0",
            "lang": "en",
            "title": format!(
                "{} {} {version}: {status} because of {}",
                s.manufacturer,
                s.product_name,
                plural(change.vulnerabilities.len(), "known vulnerability", "known vulnerabilities")
            ),
            "publisher": {
                "category": "coordinator",
                "name": s.publisher,
                "namespace": s.public_url,
            },
            "notes": [{
                "category": "summary",
                "title": "What the registry recorded",
                "text": change.reason.clone().unwrap_or_else(|| status.to_owned()),
            }, {
                "category": "general",
                "title": "Where this comes from",
                "text": "The registry's monitor matched the software bill of materials bound to this version's declaration of conformity against the vulnerability data it holds, and logged the change this advisory describes as a signed status attestation in the registry's transparency log.",
            }],
            "references": [{
                "category": "self",
                "summary": "This advisory",
                "url": self_url,
            }, {
                "category": "external",
                "summary": "The signed status change in the transparency log",
                "url": format!("{}/log/entry/{}", s.public_url, change.log_index),
            }, {
                "category": "external",
                "summary": "The product's page in the registry",
                "url": format!("{}/p/{}", s.public_url, change.product_id),
            }],
            "tracking": {
                "id": format!("iotmark-{}-{}", change.product_id, change.log_index),
                "status": "final",
                "version": "1",
                "initial_release_date": date,
                "current_release_date": date,
                "revision_history": [{"date": date, "number": "1", "summary": "Logged by the registry."}],
                "generator": {
                    "date": date,
                    "engine": {"name": "iotmark", "version": env!("CARGO_PKG_VERSION")},
                },
            },
        },
        "product_tree": {
            "branches": [{
                "category": "vendor",
                "name": s.manufacturer,
                "branches": [{
                    "category": "product_name",
                    "name": s.product_name,
                    "branches": [{
                        "category": "product_version",
                        "name": version,
                        "product": product,
                    }],
                }],
            }],
        },
        "vulnerabilities": vulnerabilities,
    })
}

fn is_cve(id: &str) -> bool {
    id.strip_prefix("CVE-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(year, n)| {
            year.len() == 4
                && n.len() >= 4
                && year.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit())
        })
}

/// The ID system a non-CVE ID belongs to, by its prefix.
fn id_system(id: &str) -> String {
    match id.split_once('-') {
        Some(("GHSA", _)) => "GitHub Security Advisory".to_owned(),
        Some(("DSA" | "DLA", _)) => "Debian Security Advisory".to_owned(),
        Some(("OSV", _)) => "OSV".to_owned(),
        Some((prefix, _)) => prefix.to_owned(),
        None => "other".to_owned(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Registry {
    /// The CSAF advisory of the status change `envelope_sha256`; refused for an attestation
    /// that is not a change made because of vulnerabilities.
    pub async fn advisory(&self, envelope_sha256: &str) -> Result<Value, RegistryError> {
        let refused = |message: String| {
            RegistryError::Refused(Refusal {
                rule: Rule::NotFound,
                message,
            })
        };
        let change = self
            .store
            .attestation(envelope_sha256)
            .await?
            .ok_or_else(|| refused(format!("no attestation {envelope_sha256}")))?;
        if change.kind != EntryKind::Status || change.vulnerabilities.is_empty() {
            return Err(refused(format!(
                "attestation {envelope_sha256} is not a status change made because of vulnerabilities; advisories exist for those only"
            )));
        }
        let product = self
            .store
            .product(&change.product_id)
            .await?
            .ok_or_else(|| {
                RegistryError::Internal(format!("{} is not recorded", change.product_id))
            })?;
        let images: Vec<(String, String)> = self
            .store
            .versions(&change.product_id)
            .await?
            .into_iter()
            .find(|v| v.version == change.version)
            .map(|v| v.images.into_iter().map(|i| (i.name, i.sha256)).collect())
            .unwrap_or_default();
        let fixes: BTreeMap<String, String> = self
            .store
            .cra_cases(&change.product_id)
            .await?
            .into_iter()
            .filter_map(|c| c.fixed_in.map(|f| (c.vulnerability, f)))
            .collect();
        let ids: BTreeSet<String> = change.vulnerabilities.iter().cloned().collect();
        let mut facts: BTreeMap<String, VulnerabilityFacts> = ids
            .iter()
            .map(|id| {
                (
                    id.clone(),
                    VulnerabilityFacts {
                        fixed_in: fixes.get(id).cloned(),
                        ..Default::default()
                    },
                )
            })
            .collect();
        if let Some(vulns) = self.vulnerability_store() {
            let verr = |e: iotmark_vulns::store::StoreError| RegistryError::Vulns(e.to_string());
            for advisory in vulns.advisories_naming(&ids).await.map_err(verr)? {
                let named = std::iter::once(&advisory.id).chain(&advisory.aliases);
                for id in named.filter(|i| ids.contains(*i)) {
                    let f = facts.entry(id.clone()).or_default();
                    if f.summary.is_none() && !advisory.summary.trim().is_empty() {
                        f.summary = Some(advisory.summary.to_string());
                    }
                    if f.cvss_v3.is_none() {
                        f.cvss_v3 = advisory.severities.iter().find_map(cvss_v3);
                    }
                }
            }
            for cve in vulns.known_exploited(&ids).await.map_err(verr)?.into_keys() {
                facts.entry(cve).or_default().known_exploited = true;
            }
        }
        let publisher = self
            .label_administrator()
            .map(|a| a.name)
            .unwrap_or_else(|| format!("iotmark registry ({})", self.log_origin()));
        Ok(csaf_advisory(&AdvisorySources {
            change: &change,
            manufacturer: &product.manufacturer_name,
            product_name: &format!("{} {}", product.name, product.model),
            images: &images,
            vulnerabilities: &facts,
            publisher: &publisher,
            public_url: &self.config.public_url,
        }))
    }
}

/// A CVSS v3 score in CSAF's terms.
fn cvss_v3(c: &iotmark_vulns::model::Cvss) -> Option<(String, String, f64, String)> {
    use iotmark_vulns::model::CvssVersion;
    let version = match c.version {
        CvssVersion::V30 => "3.0",
        CvssVersion::V31 => "3.1",
        _ => return None,
    };
    let rating = format!("{:?}", c.rating).to_uppercase();
    Some((
        version.to_owned(),
        c.vector.to_string(),
        c.base_score,
        rating,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_told_apart() {
        assert!(is_cve("CVE-2017-18368"));
        assert!(!is_cve("CVE-17-1"));
        assert!(!is_cve("GHSA-xxxx-yyyy-zzzz"));
        assert_eq!(id_system("GHSA-j8r2-6x86-q33q"), "GitHub Security Advisory");
        assert_eq!(id_system("DSA-5555-1"), "Debian Security Advisory");
        assert_eq!(id_system("PYSEC-2021-1"), "PYSEC");
    }
}
