//! Writing CSAF 2.0 `csaf_vex` documents: complete enough to pass the CSAF mandatory tests
//! (section 6.1), including the VEX profile's (6.1.27: document and vulnerability notes, a
//! product tree, a VEX product status, an impact statement for every not-affected product
//! and an action statement for every affected one).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::model::{VexStatement, VexStatus};
use crate::purl::Purl;
use crate::vex::{justification_word, last_per_product, vers_scheme, write_vers};

/// The publisher of a written CSAF document (`document.publisher`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsafPublisher {
    pub name: String,
    /// A URL of the publisher's own (`https://psirt.example.com`), as CSAF requires.
    pub namespace: String,
}

/// A `csaf_vex` document of the statements (the last one about a vulnerability and product
/// winning), released at `timestamp` as version 1 of `tracking_id`. Each distinct product
/// becomes one product (`CSAFPID-N`) named by its purl or CPE helper; a bounded product is
/// a `product_version_range` branch whose name is the vers range.
pub fn write_csaf_vex(
    statements: &[VexStatement],
    publisher: &CsafPublisher,
    tracking_id: &str,
    timestamp: jiff::Timestamp,
) -> Value {
    let statements = last_per_product(statements);
    let date = timestamp.to_string();

    let mut product_ids: Vec<(&crate::model::ProductRef, String)> = Vec::new();
    let mut full_product_names = Vec::new();
    let mut branches = Vec::new();
    for s in &statements {
        if product_ids.iter().any(|(p, _)| *p == &s.product) {
            continue;
        }
        let id = format!("CSAFPID-{:04}", product_ids.len() + 1);
        let mut product = json!({"name": s.product.id, "product_id": id});
        if Purl::parse(&s.product.id).is_some() {
            product["product_identification_helper"] = json!({"purl": s.product.id});
        } else if crate::cpe::Cpe::parse(&s.product.id).is_ok() {
            product["product_identification_helper"] = json!({"cpe": s.product.id});
        }
        if s.product.bounds.is_unbounded() {
            full_product_names.push(product);
        } else {
            let range = write_vers(&vers_scheme(&s.product.id), &s.product.bounds);
            product["name"] = json!(format!("{} {range}", s.product.id));
            branches.push(json!({
                "category": "product_version_range",
                "name": range,
                "product": product,
            }));
        }
        product_ids.push((&s.product, id));
    }
    let product_id = |s: &VexStatement| {
        product_ids
            .iter()
            .find(|(p, _)| *p == &s.product)
            .map(|(_, id)| id.clone())
            .unwrap_or_default()
    };

    let mut by_vulnerability: BTreeMap<&str, Vec<&VexStatement>> = BTreeMap::new();
    for s in &statements {
        by_vulnerability
            .entry(s.vulnerability.as_str())
            .or_default()
            .push(s);
    }
    let vulnerabilities: Vec<Value> = by_vulnerability
        .into_iter()
        .map(|(vulnerability, members)| {
            let mut status: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            let mut flags: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            let mut threats = Vec::new();
            let mut remediations = Vec::new();
            for s in &members {
                let id = product_id(s);
                let list = match s.status {
                    VexStatus::NotAffected => "known_not_affected",
                    VexStatus::Affected => "known_affected",
                    VexStatus::Fixed => "fixed",
                    VexStatus::UnderInvestigation => "under_investigation",
                };
                status.entry(list).or_default().push(id.clone());
                match s.status {
                    VexStatus::NotAffected => {
                        if let Some(justification) = s.justification {
                            flags
                                .entry(justification_word(justification))
                                .or_default()
                                .push(id.clone());
                        }
                        // Every not-affected product needs a flag or an impact statement
                        // (6.1.27.9); the detail is the impact statement when there is one.
                        if s.detail.is_some() || s.justification.is_none() {
                            threats.push(json!({
                                "category": "impact",
                                "details": s.detail.as_deref().unwrap_or("The product is not affected."),
                                "product_ids": [id],
                            }));
                        }
                    }
                    VexStatus::Affected => {
                        // Every affected product needs an action statement (6.1.27.10).
                        // The model does not say which kind of remedy the detail is.
                        remediations.push(json!({
                            "category": if s.detail.is_some() { "mitigation" } else { "none_available" },
                            "details": s.detail.as_deref().unwrap_or("No remediation is available yet."),
                            "product_ids": [id],
                        }));
                    }
                    VexStatus::Fixed | VexStatus::UnderInvestigation => {
                        if let Some(detail) = &s.detail {
                            threats.push(json!({
                                "category": "impact",
                                "details": detail,
                                "product_ids": [id],
                            }));
                        }
                    }
                }
            }
            let mut entry = json!({
                "notes": [{
                    "category": "description",
                    "title": "Statement",
                    "text": format!("How {vulnerability} affects the products listed."),
                }],
                "product_status": status,
            });
            if is_cve(vulnerability) {
                entry["cve"] = json!(vulnerability);
            } else {
                entry["ids"] = json!([{
                    "system_name": system_name(vulnerability),
                    "text": vulnerability,
                }]);
            }
            if !flags.is_empty() {
                entry["flags"] = flags
                    .into_iter()
                    .map(|(label, ids)| json!({"label": label, "product_ids": ids}))
                    .collect();
            }
            if !threats.is_empty() {
                entry["threats"] = json!(threats);
            }
            if !remediations.is_empty() {
                entry["remediations"] = json!(remediations);
            }
            entry
        })
        .collect();

    let mut product_tree = json!({});
    if !full_product_names.is_empty() {
        product_tree["full_product_names"] = json!(full_product_names);
    }
    if !branches.is_empty() {
        product_tree["branches"] = json!(branches);
    }
    json!({
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "lang": "en",
            "title": format!("VEX statements {tracking_id}"),
            "publisher": {
                "category": "vendor",
                "name": publisher.name,
                "namespace": publisher.namespace,
            },
            "notes": [{
                "category": "summary",
                "title": "About this document",
                "text": "Vulnerability exploitability statements about the products listed.",
            }],
            "tracking": {
                "id": tracking_id,
                "version": "1",
                "status": "final",
                "initial_release_date": date,
                "current_release_date": date,
                "revision_history": [{"number": "1", "date": date, "summary": "Initial version."}],
                "generator": {
                    "date": date,
                    "engine": {"name": "iotmark", "version": env!("CARGO_PKG_VERSION")},
                },
            },
        },
        "product_tree": product_tree,
        "vulnerabilities": vulnerabilities,
    })
}

/// `CVE-YYYY-NNNN…`, the only IDs CSAF's `cve` field takes.
fn is_cve(id: &str) -> bool {
    id.strip_prefix("CVE-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(year, number)| {
            year.len() == 4
                && number.len() >= 4
                && year
                    .bytes()
                    .chain(number.bytes())
                    .all(|b| b.is_ascii_digit())
        })
}

/// The system an ID belongs to, by its prefix (`GHSA-…`, `OSV-…`, `DSA-…`).
fn system_name(id: &str) -> &str {
    id.split_once('-')
        .map(|(prefix, _)| prefix)
        .filter(|p| !p.is_empty())
        .unwrap_or("vulnerability identifier")
}
