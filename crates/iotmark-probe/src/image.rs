//! The running device against its firmware image: whether a key it presents (an SSH host
//! key, a TLS certificate's key) is one the image scan found baked in, and so the same on
//! every unit. The keys come from `iotmark scan --out DIR` (`image-*.keys.json`).

use std::path::{Path, PathBuf};

use iotmark_evidence::{ObservationResult, Severity};
use iotmark_firmware::analyze::public_key::{ImageKeys, KeyForm};

use crate::PortReport;
use crate::observe::Finding;

/// Why the image's keys could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageKeysError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error(
        "{0}: not the keys of an image scan: {1}; write it again with `iotmark scan IMAGE --out DIR`"
    )]
    Parse(PathBuf, serde_json::Error),
    #[error(
        "no image-*.keys.json in {0}; run `iotmark scan IMAGE --out {0}` first, which writes the public halves of the keys it finds"
    )]
    Missing(PathBuf),
}

/// Every `image-*.keys.json` in `dir`, in name order.
pub fn read(dir: &Path) -> Result<Vec<ImageKeys>, ImageKeysError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImageKeysError::Read(dir.to_owned(), e))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("image-") && n.ends_with(".keys.json"))
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(ImageKeysError::Missing(dir.to_owned()));
    }
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read(&p).map_err(|e| ImageKeysError::Read(p.clone(), e))?;
            serde_json::from_slice(&text).map_err(|e| ImageKeysError::Parse(p, e))
        })
        .collect()
}

/// One finding per key a port presented: failed when an image holds it.
pub fn findings(ports: &[PortReport], images: &[ImageKeys]) -> Vec<Finding> {
    let total: usize = images.iter().map(|i| i.keys.len()).sum();
    let mut out = Vec::new();
    for p in ports {
        let presented = [
            p.ssh_login
                .as_ref()
                .and_then(|l| l.host_key.as_ref())
                .map(|k| {
                    (
                        KeyForm::Ssh,
                        k.sha256.as_str(),
                        "ssh",
                        format!("the SSH host key ({} {})", k.algorithm, k.fingerprint),
                    )
                }),
            p.certificate.as_ref().map(|c| {
                (
                    KeyForm::Spki,
                    c.public_key_sha256.as_str(),
                    "tls",
                    format!("the key of the TLS certificate `{}`", c.subject),
                )
            }),
        ];
        for (form, digest, protocol, what) in presented.into_iter().flatten() {
            let found: Vec<String> = images
                .iter()
                .flat_map(|i| {
                    i.matching(form, digest).map(move |k| {
                        format!(
                            "{} (image {})",
                            k.file,
                            &i.image_sha256[..12.min(i.image_sha256.len())]
                        )
                    })
                })
                .collect();
            out.push(Finding {
                check: "probe.keys.image-key",
                result: if found.is_empty() {
                    ObservationResult::Pass
                } else {
                    ObservationResult::Fail
                },
                severity: Severity::High,
                port: p.port,
                protocol,
                message: if found.is_empty() {
                    format!(
                        "{what} on port {} is none of the {total} keys found in the firmware image",
                        p.port
                    )
                } else {
                    format!(
                        "{what} on port {} is the key baked into the firmware at {}: every unit running it holds the same key",
                        p.port,
                        found.join(", ")
                    )
                },
            });
        }
    }
    out
}
