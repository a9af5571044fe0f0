//! One run of the matcher over one SBOM, and what it is written as: JSON (the [`Report`]
//! itself), SARIF 2.1.0 for code-scanning tools, a self-contained HTML page, and evidence
//! records for `iotmark assess`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use iotmark_evidence::{
    Body, Evidence, Location, Observation, ObservationResult, Severity, Subject, Tool,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::matching::{Finding, Index, Status};
use crate::model::{Rating, VexStatement};
use crate::sbom::Sbom;
use crate::store::{Store, StoreError};

/// Check IDs of the evidence this module writes; the rules in `catalogs/rules/` name them.
pub const CHECK_KNOWN_EXPLOITABLE: &str = "vulns.known-exploitable";
pub const CHECK_KNOWN_VULNERABLE: &str = "vulns.known-vulnerable";

/// The result of matching one SBOM.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The SBOM's file name.
    pub sbom: String,
    /// `CycloneDX 1.6`, `SPDX 2.3`.
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_version: Option<String>,
    /// The image's SHA-256, when the SBOM gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub components: usize,
    /// Components that cannot be matched at all: no purl and no CPE.
    pub unidentified: Vec<String>,
    pub findings: Vec<Finding>,
    /// Parts of the SBOM that were dropped, each with its place.
    pub problems: Vec<String>,
    /// The VEX statements and triage decisions the run honoured.
    pub vex_statements: usize,
}

impl Report {
    /// Findings per status.
    pub fn counts(&self) -> BTreeMap<Status, usize> {
        let mut counts = BTreeMap::new();
        for f in &self.findings {
            *counts.entry(f.status).or_default() += 1;
        }
        counts
    }

    /// Open findings (affected or under investigation).
    pub fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.status.is_open())
    }
}

/// Matches the components of `sbom` against the store: candidates by key, KEV, and the VEX
/// statements given (`vex`, from files) followed by the triage decisions kept in the store,
/// which therefore win over a file's statement about the same pair.
pub async fn check(
    store: &Store,
    sbom_name: &str,
    sbom: &Sbom,
    vex: &[VexStatement],
) -> Result<Report, StoreError> {
    let keys: BTreeSet<String> = sbom
        .components
        .iter()
        .flat_map(crate::keys::component_keys)
        .collect();
    let advisories = store.candidates(&keys).await?;
    let ids: BTreeSet<String> = advisories
        .iter()
        .flat_map(|a| std::iter::once(&a.id).chain(&a.aliases))
        .filter(|id| id.starts_with("CVE-"))
        .cloned()
        .collect();
    let known_exploited = store.known_exploited(&ids).await?;
    let mut statements = vex.to_vec();
    statements.extend(store.triage().await?);
    // The candidates are ours: compiled in place, not copied.
    let findings = Index::new(advisories).check(&sbom.components, &known_exploited, &statements);
    Ok(report(sbom_name, sbom, findings, statements.len()))
}

/// What a monitor that matches many SBOMs holds in memory: every advisory compiled and
/// filed by key, the KEV catalog and the triage decisions, loaded from the store once.
#[derive(Debug)]
pub struct Loaded {
    pub index: Index,
    pub known_exploited: BTreeMap<String, crate::model::KnownExploited>,
    pub triage: Vec<VexStatement>,
}

impl Loaded {
    pub async fn load(store: &Store) -> Result<Loaded, StoreError> {
        Ok(Loaded {
            index: Index::new(store.all_advisories(10_000).await?),
            known_exploited: store.all_known_exploited().await?,
            triage: store.triage().await?,
        })
    }

    /// The same answer as [`check`], from memory.
    pub fn check(&self, sbom_name: &str, sbom: &Sbom, vex: &[VexStatement]) -> Report {
        let mut statements = vex.to_vec();
        statements.extend(self.triage.iter().cloned());
        let findings = self
            .index
            .check(&sbom.components, &self.known_exploited, &statements);
        report(sbom_name, sbom, findings, statements.len())
    }
}

fn report(sbom_name: &str, sbom: &Sbom, findings: Vec<Finding>, vex_statements: usize) -> Report {
    Report {
        sbom: sbom_name.to_owned(),
        format: sbom.format.to_string(),
        subject_name: sbom.subject.name.clone(),
        subject_version: sbom.subject.version.clone(),
        sha256: sbom.subject.sha256.clone(),
        components: sbom.components.len(),
        unidentified: sbom
            .components
            .iter()
            .filter(|c| c.purl.is_none() && c.cpes.is_empty())
            .map(|c| c.name.clone())
            .collect(),
        findings,
        problems: sbom.problems.iter().map(ToString::to_string).collect(),
        vex_statements,
    }
}

fn severity(rating: Rating) -> Option<Severity> {
    match rating {
        Rating::Critical => Some(Severity::Critical),
        Rating::High => Some(Severity::High),
        Rating::Medium => Some(Severity::Medium),
        Rating::Low => Some(Severity::Low),
        Rating::None => None,
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Affected => "affected",
        Status::UnderInvestigation => "under investigation",
        Status::Conditional => "conditional",
        Status::Fixed => "fixed",
        Status::NotAffected => "not affected",
    }
}

fn component_text(f: &Finding) -> String {
    match &f.component.version {
        Some(v) => format!("{} {v}", f.component.name),
        None => f.component.name.clone(),
    }
}

/// Evidence for `iotmark assess`: one observation per open or conditional finding
/// (`vulns.known-vulnerable`), and one verdict on known exploited vulnerabilities
/// (`vulns.known-exploitable`), each bound to the declared component and, when the SBOM
/// gives it, the image digest. `bears_on` gives the requirements a check bears on.
pub fn to_evidence(
    report: &Report,
    component: &str,
    collected_at: &str,
    bears_on: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Evidence> {
    let tool = Tool {
        name: "iotmark vulns".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let subject = Subject {
        component: component.to_owned(),
        sha256: report.sha256.clone(),
    };
    let prefix = report
        .sha256
        .as_deref()
        .map_or_else(|| "sbom".to_owned(), |s| s.chars().take(12).collect());
    let record =
        |id: String, check: &str, result, severity, location: String, message: String| Evidence {
            id,
            collected_at: collected_at.to_owned(),
            subject: subject.clone(),
            bears_on: bears_on(check),
            body: Body::Observation(Observation {
                tool: tool.clone(),
                check: check.to_owned(),
                result,
                severity,
                location: Location::File {
                    file: location,
                    offset: None,
                    line: None,
                },
                message,
            }),
        };
    let mut out = Vec::new();
    let exploited: Vec<&Finding> = report
        .open()
        .filter(|f| f.known_exploited.is_some())
        .collect();
    let message = if exploited.is_empty() {
        format!(
            "no open vulnerability of the {} component(s) is in CISA's Known Exploited Vulnerabilities catalog",
            report.components
        )
    } else {
        let list: Vec<String> = exploited
            .iter()
            .map(|f| format!("{} in {}", f.vulnerability, component_text(f)))
            .collect();
        format!("known exploited and not fixed: {}", list.join(", "))
    };
    out.push(record(
        format!("vulns-{prefix}-known-exploitable"),
        CHECK_KNOWN_EXPLOITABLE,
        if exploited.is_empty() {
            ObservationResult::Pass
        } else {
            ObservationResult::Fail
        },
        (!exploited.is_empty()).then_some(Severity::Critical),
        report.sbom.clone(),
        message,
    ));
    let mut any = false;
    for f in report
        .findings
        .iter()
        .filter(|f| f.status.is_open() || f.status == Status::Conditional)
    {
        any = true;
        let result = if f.status == Status::Conditional {
            ObservationResult::Info
        } else {
            ObservationResult::Fail
        };
        out.push(record(
            format!(
                "vulns-{prefix}-{}-{}",
                f.vulnerability.to_ascii_lowercase(),
                f.component.reference
            ),
            CHECK_KNOWN_VULNERABLE,
            result,
            severity(f.rating),
            format!("{}#{}", report.sbom, f.component.reference),
            format!(
                "{} in {} ({}): {}",
                f.vulnerability,
                component_text(f),
                status_word(f.status),
                f.reason
            ),
        ));
    }
    if !any {
        out.push(record(
            format!("vulns-{prefix}-known-vulnerable"),
            CHECK_KNOWN_VULNERABLE,
            ObservationResult::Pass,
            None,
            report.sbom.clone(),
            format!(
                "no open known vulnerability in the {} component(s) ({} unidentified)",
                report.components,
                report.unidentified.len()
            ),
        ));
    }
    out
}

/// SARIF 2.1.0: one rule per vulnerability, one result per open or conditional finding,
/// located at the component in the SBOM.
pub fn to_sarif(report: &Report) -> Value {
    let shown: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.status.is_open() || f.status == Status::Conditional)
        .collect();
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for f in &shown {
        rules.entry(f.vulnerability.as_str()).or_insert_with(|| {
            let mut rule = json!({
                "id": f.vulnerability,
                "shortDescription": { "text": f.vulnerability },
                "properties": { "tags": ["security", "vulnerability"] },
            });
            if !f.summary.is_empty() {
                rule["fullDescription"] = json!({ "text": f.summary });
            }
            if let Some(score) = f.cvss_v31.as_ref().or(f.cvss_v40.as_ref()) {
                // GitHub's convention: security-severity is the CVSS base score as text.
                rule["properties"]["security-severity"] = json!(format!("{:.1}", score.base_score));
            }
            if f.vulnerability.starts_with("CVE-") {
                rule["helpUri"] = json!(format!(
                    "https://nvd.nist.gov/vuln/detail/{}",
                    f.vulnerability
                ));
            }
            rule
        });
    }
    let rule_index: BTreeMap<&str, usize> =
        rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = shown
        .iter()
        .map(|f| {
            let level = match (f.status, f.rating) {
                (Status::Conditional, _) => "note",
                (_, Rating::Critical | Rating::High) => "error",
                (_, Rating::Medium) => "warning",
                _ if f.known_exploited.is_some() => "error",
                _ => "warning",
            };
            let mut message = format!(
                "{} in {}: {}",
                f.vulnerability,
                component_text(f),
                f.reason
            );
            if let Some(kev) = &f.known_exploited {
                let _ = write!(
                    message,
                    ". Known exploited (CISA KEV, due {})",
                    kev.due_date
                );
            }
            if !f.fixed_in.is_empty() {
                let _ = write!(message, ". Fixed in {}", f.fixed_in.join(", "));
            }
            json!({
                "ruleId": f.vulnerability,
                "ruleIndex": rule_index[f.vulnerability.as_str()],
                "level": level,
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": report.sbom } },
                    "logicalLocations": [{
                        "name": f.component.name,
                        "fullyQualifiedName": f.component.purl.clone().unwrap_or_else(|| f.component.reference.clone()),
                        "kind": "module",
                    }],
                }],
                "partialFingerprints": {
                    "vulnerability/component": format!("{}/{}", f.vulnerability, f.component.reference),
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "iotmark vulns",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/iotmark/iotmark",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "artifacts": [{ "location": { "uri": report.sbom } }],
            "results": results,
        }],
    })
}

/// A self-contained HTML page: no scripts, no external resources; the table is the content,
/// readable by a screen reader and without CSS.
pub fn to_html(report: &Report) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let title = report.subject_name.as_deref().map_or_else(
        || report.sbom.clone(),
        |n| match &report.subject_version {
            Some(v) => format!("{n} {v}"),
            None => n.to_owned(),
        },
    );
    let counts = report.counts();
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — iotmark vulnerabilities</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;line-height:1.5}}
header,main{{max-width:70rem;margin:0 auto;padding:1rem}}
table{{border-collapse:collapse;width:100%;font-size:.95rem}} caption{{text-align:left;font-weight:600;padding:.3rem 0}}
th,td{{border-bottom:1px solid #d0d7de;padding:.35rem;text-align:left;vertical-align:top}} th{{background:#f6f8fa}}
.kev{{color:#b42318;font-weight:600}} .s-affected{{color:#b42318;font-weight:600}} .s-fixed,.s-not-affected{{color:#1a7f37}}
.s-conditional,.s-under-investigation{{color:#8a5300}}
dl{{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}} dt{{font-weight:600}} dd{{margin:0}}
</style>
</head>
<body>
<header>
<p>iotmark vulnerabilities</p>
<h1>{title}</h1>
</header>
<main>
<section aria-labelledby="summary">
<h2 id="summary">Summary</h2>
<dl>
<dt>SBOM</dt><dd>{sbom} ({format})</dd>
<dt>Components</dt><dd>{components} ({unidentified} without a purl or CPE)</dd>
"#,
        title = esc(&title),
        sbom = esc(&report.sbom),
        format = esc(&report.format),
        components = report.components,
        unidentified = report.unidentified.len(),
    );
    if let Some(sha) = &report.sha256 {
        let _ = writeln!(
            out,
            "<dt>Image SHA-256</dt><dd><code>{}</code></dd>",
            esc(sha)
        );
    }
    for status in [
        Status::Affected,
        Status::UnderInvestigation,
        Status::Conditional,
        Status::Fixed,
        Status::NotAffected,
    ] {
        let _ = writeln!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            status_word(status),
            counts.get(&status).copied().unwrap_or(0)
        );
    }
    let kev = report
        .open()
        .filter(|f| f.known_exploited.is_some())
        .count();
    let _ = writeln!(
        out,
        "<dt>Known exploited, open</dt><dd>{kev}</dd>\n</dl>\n</section>"
    );
    let _ = writeln!(
        out,
        r#"<section aria-labelledby="findings">
<h2 id="findings">Findings</h2>
<table>
<caption>Most urgent first: open before settled, known exploited first, then by severity</caption>
<thead><tr><th scope="col">Vulnerability</th><th scope="col">Component</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Why</th></tr></thead>
<tbody>"#
    );
    for f in &report.findings {
        let severity = match (&f.cvss_v31, &f.cvss_v40) {
            (Some(s), _) | (None, Some(s)) => format!("{:?} {:.1}", f.rating, s.base_score),
            (None, None) => format!("{:?}", f.rating),
        };
        let kev = f.known_exploited.as_ref().map_or_else(String::new, |k| {
            format!(
                r#"<br><span class="kev">Known exploited (KEV, due {})</span>"#,
                k.due_date
            )
        });
        let fixed = if f.fixed_in.is_empty() {
            String::new()
        } else {
            format!("<br>Fixed in {}", esc(&f.fixed_in.join(", ")))
        };
        let status = status_word(f.status);
        let _ = writeln!(
            out,
            r#"<tr><th scope="row">{id}{kev}</th><td>{component}</td><td class="s-{class}">{status}</td><td>{severity}</td><td>{reason}{fixed}</td></tr>"#,
            id = esc(&f.vulnerability),
            component = esc(&component_text(f)),
            class = status.replace(' ', "-"),
            reason = esc(&f.reason),
        );
    }
    let _ = writeln!(
        out,
        "</tbody>\n</table>\n</section>\n</main>\n</body>\n</html>"
    );
    out
}
