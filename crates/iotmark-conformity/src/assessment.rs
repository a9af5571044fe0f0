//! Before an attestation: the declaration checked, the scheme found, the assessment's reports
//! written.

use std::path::{Path, PathBuf};

use iotmark_assess::report::{html, markdown, oscal, sarif};
use iotmark_assess::{AssessError, Assessment, Scheme, bundled_schemes};
use iotmark_catalogs::Bundle;
use iotmark_declare::{CheckReport, Declaration};
use serde_json::json;

/// Why a step before attesting failed.
#[derive(Debug, thiserror::Error)]
pub enum AssessmentError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Assess(#[from] AssessError),
    #[error("cannot render {what}")]
    Render {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// The files [`write_reports`] writes, in the order it writes them.
pub const REPORT_FILES: [&str; 7] = [
    "component-definition.json",
    "assessment-plan.json",
    "assessment-results.json",
    "results.sarif",
    "report.md",
    "report.html",
    "assessment.json",
];

/// Whether a requirement ID exists in any bundled catalog: what a declaration's claims are
/// checked against.
pub fn known_requirement(id: &str) -> bool {
    Bundle::get().catalog_of(id).is_some()
}

/// Checks the declaration file at `path`, judging dates against `today`. The report holds the
/// declaration when it has no errors, and every diagnostic either way.
pub fn check_declaration(
    path: &Path,
    today: jiff::civil::Date,
) -> Result<CheckReport, AssessmentError> {
    iotmark_declare::check_file(path, &known_requirement, today).map_err(|source| {
        AssessmentError::Read {
            path: path.to_owned(),
            source,
        }
    })
}

/// A scheme by its bundled ID, or from a scheme file at that path.
pub fn resolve_scheme(id: &str, bundle: &Bundle) -> Result<Scheme, AssessError> {
    let schemes = bundled_schemes(bundle)?;
    if let Some(s) = schemes.iter().find(|s| s.id == id) {
        return Ok(s.clone());
    }
    if Path::new(id).is_file() {
        return Scheme::load(Path::new(id), bundle);
    }
    let known = schemes
        .iter()
        .map(|s| s.id.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Err(AssessError::UnknownScheme {
        id: id.to_owned(),
        known,
    })
}

/// Writes every report of an assessment into `dir` (see [`REPORT_FILES`]): the OSCAL
/// component definition, plan and results, SARIF located on the declaration's lines,
/// Markdown, HTML and the assessment as JSON. Each file is written whole under a temporary
/// name and renamed, so a reader never sees half a report.
pub fn write_reports(
    dir: &Path,
    declaration_path: &Path,
    report: &CheckReport,
    declaration: &Declaration,
    a: &Assessment,
) -> Result<(), AssessmentError> {
    std::fs::create_dir_all(dir).map_err(|source| AssessmentError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let timestamp = format!("{}T00:00:00Z", a.assessed_on);
    let bundle = Bundle::get();
    let source_of = |id: &str| {
        bundle
            .catalog_of(id)
            .map(|k| format!("https://iotmark.dev/catalogs/{k}.json"))
    };
    let component_definition =
        iotmark_declare::to_component_definition(declaration, &timestamp, &source_of);
    let cd = json!({"component-definition": component_definition});
    // Claims' lines in the declaration locate SARIF results.
    let pointers: Vec<String> = a
        .findings
        .iter()
        .map(|f| format!("/claims/{}", f.requirement))
        .collect();
    let wanted = pointers.iter().map(String::as_str).collect();
    let lines = match iotmark_oscal::Format::detect(declaration_path, report.source.as_bytes()) {
        iotmark_oscal::Format::Yaml => {
            iotmark_oscal::locate::yaml_pointers(&report.source, &wanted)
        }
        iotmark_oscal::Format::Json => pointers
            .iter()
            .filter_map(|p| {
                iotmark_oscal::locate::json_pointer(&report.source, p).map(|lc| (p.clone(), lc))
            })
            .collect(),
    };
    let line_of = |req: &str| lines.get(&format!("/claims/{req}")).map(|(l, _)| *l);
    // SARIF names the declaration by its file name; a path with none is named by its kind.
    let uri = declaration_path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("declaration.yaml")
        .to_owned();
    let texts = [
        pretty("the component definition", &cd)?,
        pretty(
            "the assessment plan",
            &oscal::assessment_plan(a, REPORT_FILES[0], &timestamp),
        )?,
        pretty(
            "the assessment results",
            &oscal::assessment_results(a, REPORT_FILES[1], &timestamp),
        )?,
        pretty("the SARIF log", &sarif::render(a, &uri, &line_of))?,
        markdown::render(a),
        html::render(a),
        pretty(
            "the assessment",
            &json!({"verdict": a.verdict(), "assessment": a}),
        )?,
    ];
    for (name, text) in REPORT_FILES.iter().zip(texts) {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).map_err(|source| AssessmentError::Write {
            path: tmp.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| AssessmentError::Write { path, source })?;
    }
    Ok(())
}

fn pretty(what: &'static str, v: &serde_json::Value) -> Result<String, AssessmentError> {
    let mut s = serde_json::to_string_pretty(v)
        .map_err(|source| AssessmentError::Render { what, source })?;
    s.push('\n');
    Ok(s)
}
