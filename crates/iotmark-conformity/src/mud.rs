//! A Manufacturer Usage Description for a declared product, signed as RFC 8520 §13 asks:
//! the declaration is checked, turned into the MUD file's exact bytes, and those bytes are
//! signed with the manufacturer's certificate.

use std::path::{Path, PathBuf};

use iotmark_declare::mud::{MudError, MudOptions, to_mud};
use iotmark_declare::{CheckReport, Declaration, Severity};

use crate::assessment::{AssessmentError, check_declaration};

/// Why no MUD file was written.
#[derive(Debug, thiserror::Error)]
pub enum MudFileError {
    #[error(transparent)]
    Read(#[from] AssessmentError),
    /// The declaration has errors; the report holds them.
    #[error("{} is not a valid declaration; fix it first (`iotmark check {}`)", .0.path.display(), .0.path.display())]
    Invalid(Box<CheckReport>),
    #[error(transparent)]
    Mud(#[from] MudError),
    #[error("{path}: {source}")]
    ReadSigner {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sign(#[from] iotmark_attest::cms::CmsError),
}

/// The signer of a MUD file: a private key and the certificate chain it belongs to.
#[derive(Debug, Clone)]
pub struct MudSigner {
    pub key: PathBuf,
    pub certificates: PathBuf,
}

/// A written MUD file.
#[derive(Debug)]
pub struct MudFile {
    /// The file's bytes, as published and signed.
    pub json: Vec<u8>,
    /// The detached CMS signature (DER), when a signer was given.
    pub signature: Option<Vec<u8>>,
    /// `is-supported` as written.
    pub supported: bool,
    /// Access-control entries, all lists together.
    pub entries: usize,
    /// The declaration's warnings (its errors stop the MUD file).
    pub report: CheckReport,
}

/// The declaration at `path`, checked as of `today`. A declaration whose only error is that
/// its support period has ended still describes the product: a MUD file for it says
/// `is-supported: false`, so it is checked as of its last day of support instead.
fn declaration(
    path: &Path,
    today: jiff::civil::Date,
) -> Result<(CheckReport, Declaration), MudFileError> {
    let report = check_declaration(path, today)?;
    if let Some(d) = report.declaration.clone() {
        return Ok((report, d));
    }
    let only_support_ended = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .all(|d| d.pointer == "/updates/support_end" && d.message.contains("ended"));
    let end = report_support_end(&report);
    if only_support_ended && let Some(end) = end {
        let again = check_declaration(path, end)?;
        if let Some(d) = again.declaration.clone() {
            return Ok((again, d));
        }
    }
    Err(MudFileError::Invalid(Box::new(report)))
}

/// The support end a declaration states (`updates.support_end`), when it is a date.
fn report_support_end(report: &CheckReport) -> Option<jiff::civil::Date> {
    let loader = iotmark_oscal::Loader {
        max_bytes: iotmark_declare::MAX_DECLARATION_BYTES,
        ..iotmark_oscal::Loader::default()
    };
    let (_, value) = loader
        .parse_text(&report.path, report.source.as_bytes())
        .ok()?;
    value["updates"]["support_end"].as_str()?.parse().ok()
}

/// Writes the MUD file for the declaration at `path` and, with a signer, its signature.
pub fn mud_file(
    path: &Path,
    options: &MudOptions,
    signer: Option<&MudSigner>,
) -> Result<MudFile, MudFileError> {
    let (report, d) = declaration(path, options.today)?;
    let mud = to_mud(&d, options)?;
    let supported = mud["ietf-mud:mud"]["is-supported"] == true;
    let entries = mud["ietf-access-control-list:acls"]["acl"]
        .as_array()
        .map_or(0, |acls| {
            acls.iter()
                .filter_map(|a| a["aces"]["ace"].as_array())
                .map(Vec::len)
                .sum()
        });
    let mut json = serde_json::to_vec_pretty(&mud).unwrap_or_default();
    json.push(b'\n');
    let signature = match signer {
        None => None,
        Some(s) => {
            let read = |p: &Path| {
                std::fs::read_to_string(p).map_err(|source| MudFileError::ReadSigner {
                    path: p.to_owned(),
                    source,
                })
            };
            Some(iotmark_attest::cms::sign_detached(
                &json,
                &read(&s.key)?,
                &s.key.display().to_string(),
                &read(&s.certificates)?,
                &s.certificates.display().to_string(),
                options.now,
            )?)
        }
    };
    Ok(MudFile {
        json,
        signature,
        supported,
        entries,
        report,
    })
}
