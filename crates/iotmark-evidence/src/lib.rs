//! Evidence: dated, attributable records that something is so.
//!
//! Three kinds share one envelope (who, when, about which component digest, bearing on which
//! requirements): automated **observations** (a firmware scan, a live probe, a vulnerability
//! match), inspected **documents** (with their SHA-256), and **verdicts** a tester gives by
//! the SP 800-53A methods examine, interview or test. Producers write them as JSON files in a
//! directory; `assess` reads the directory with [`EvidenceSet::load_dir`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One evidence record. (Unknown keys are refused by the kind-specific part: serde cannot
/// deny them on a struct that flattens another.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    /// Unique within an assessment; claims refer to it.
    pub id: String,
    /// RFC 3339 time the evidence was collected.
    pub collected_at: String,
    pub subject: Subject,
    /// Requirement IDs (any bundled catalog) this record bears on.
    #[serde(default)]
    pub bears_on: Vec<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// What the evidence is about: a component of the declared product, by ID and image digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub component: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Body {
    Observation(Observation),
    Document(Document),
    Verdict(Verdict),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    pub tool: Tool,
    /// A dotted check ID, e.g. `firmware.credentials.default-password`.
    pub check: String,
    pub result: ObservationResult,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub location: Location,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ObservationResult {
    Pass,
    Fail,
    Info,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Where an observation was made: a file in an image, or a host and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Location {
    File {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
    },
    Network {
        host: String,
        port: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        protocol: Option<String>,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File { file, offset, line } => {
                write!(f, "{file}")?;
                if let Some(line) = line {
                    write!(f, ":{line}")?;
                }
                if let Some(offset) = offset {
                    write!(f, " @0x{offset:x}")?;
                }
                Ok(())
            }
            Location::Network {
                host,
                port,
                protocol,
            } => match protocol {
                Some(p) => write!(f, "{p}://{host}:{port}"),
                None => write!(f, "{host}:{port}"),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub title: String,
    /// A path or URL.
    pub location: String,
    pub sha256: String,
    pub result: DocumentResult,
    pub inspector: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentResult {
    Pass,
    Fail,
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verdict {
    pub method: Method,
    pub requirement: String,
    pub result: VerdictResult,
    pub tester: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// SP 800-53A assessment methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Examine,
    Interview,
    Test,
}

impl Method {
    /// The OSCAL observation method name.
    pub fn oscal(self) -> &'static str {
        match self {
            Method::Examine => "EXAMINE",
            Method::Interview => "INTERVIEW",
            Method::Test => "TEST",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictResult {
    Satisfied,
    NotSatisfied,
    NotApplicable,
}

/// Why an evidence directory could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    #[error("cannot read evidence directory {path}: {source}")]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Load(#[from] iotmark_oscal::LoadError),
    #[error(
        "{path}: record {index}: {message}\nhint: see docs/ASSESSMENT.md §2 for the evidence format"
    )]
    Record {
        path: PathBuf,
        index: usize,
        message: String,
    },
    #[error("{path}: evidence ID `{id}` was already used by {first}")]
    DuplicateId {
        path: PathBuf,
        id: String,
        first: PathBuf,
    },
}

/// All evidence of an assessment, by ID.
#[derive(Debug, Clone, Default)]
pub struct EvidenceSet {
    records: BTreeMap<String, (Evidence, PathBuf)>,
}

impl EvidenceSet {
    /// Reads every `*.json` file of `dir` (not recursively); each holds a record or a list.
    /// Every `*.json` file of `dir` is evidence (a record or an array of them), except what
    /// `iotmark scan --out` writes beside its evidence for later steps: SBOMs by their
    /// conventional names (`*.cdx.json`, `*.spdx.json`) for the vulnerability matcher, and
    /// the image's public keys (`*.keys.json`) for the live probe.
    pub fn load_dir(dir: &Path) -> Result<Self, EvidenceError> {
        let err = |source| EvidenceError::Dir {
            path: dir.to_owned(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(err)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json") && !is_companion_file(p))
            .collect();
        files.sort();
        let mut set = EvidenceSet::default();
        let loader = iotmark_oscal::Loader::default();
        for path in files {
            let bytes = std::fs::read(&path).map_err(|source| EvidenceError::Dir {
                path: path.clone(),
                source,
            })?;
            let (_, value) = loader.parse_text(&path, &bytes)?;
            let items = match value {
                serde_json::Value::Array(items) => items,
                other => vec![other],
            };
            for (index, item) in items.into_iter().enumerate() {
                let record: Evidence =
                    serde_json::from_value(item).map_err(|e| EvidenceError::Record {
                        path: path.clone(),
                        index,
                        message: e.to_string(),
                    })?;
                set.insert(record, path.clone())?;
            }
        }
        Ok(set)
    }

    pub fn insert(&mut self, record: Evidence, path: PathBuf) -> Result<(), EvidenceError> {
        if let Some((_, first)) = self.records.get(&record.id) {
            return Err(EvidenceError::DuplicateId {
                path,
                id: record.id.clone(),
                first: first.clone(),
            });
        }
        self.records.insert(record.id.clone(), (record, path));
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Evidence> {
        self.records.get(id).map(|(e, _)| e)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Evidence> {
        self.records.values().map(|(e, _)| e)
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

/// A file that sits beside evidence without being evidence: an SBOM by its conventional name
/// (CycloneDX's `.cdx.json`, SPDX's `.spdx.json`), or an image's public keys (`.keys.json`).
fn is_companion_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        n.ends_with(".cdx.json") || n.ends_with(".spdx.json") || n.ends_with(".keys.json")
    })
}
