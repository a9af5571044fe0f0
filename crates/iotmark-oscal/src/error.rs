use std::path::PathBuf;

/// Why a document could not be loaded. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is {size} bytes, over the limit of {limit} bytes\nhint: raise the limit with --max-bytes if the file is trusted"
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}:{line}:{column}: {format} syntax error: {message}")]
    Syntax {
        path: PathBuf,
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: {message}\nhint: an OSCAL document has exactly one root key, one of: {expected}"
    )]
    WrongRoot {
        path: PathBuf,
        message: String,
        expected: String,
    },
    #[error("{path}: expected an OSCAL {expected}, found a {found}")]
    UnexpectedModel {
        path: PathBuf,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: {} schema violation(s) against the OSCAL {} schema:\n{}", violations.len(), model, render_violations(path, violations))]
    Schema {
        path: PathBuf,
        model: &'static str,
        violations: Vec<SchemaViolation>,
    },
    #[error("{path}: valid against the schema but not readable as an OSCAL {model}: {message}")]
    Model {
        path: PathBuf,
        model: &'static str,
        message: String,
    },
}

/// One schema violation, located in the input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SchemaViolation {
    /// JSON pointer (RFC 6901) of the offending value.
    pub pointer: String,
    /// 1-based line of the offending value, when the source text could be located.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What the schema expected.
    pub message: String,
}

/// How many violations a message lists before it summarises the rest.
const SHOWN_VIOLATIONS: usize = 20;

fn render_violations(path: &std::path::Path, violations: &[SchemaViolation]) -> String {
    let mut out = String::new();
    for v in violations.iter().take(SHOWN_VIOLATIONS) {
        let pointer = if v.pointer.is_empty() {
            "/"
        } else {
            &v.pointer
        };
        match (v.line, v.column) {
            (Some(line), Some(col)) => out.push_str(&format!(
                "  {}:{line}:{col}: at {pointer}: {}\n",
                path.display(),
                v.message
            )),
            _ => out.push_str(&format!("  at {pointer}: {}\n", v.message)),
        }
    }
    if violations.len() > SHOWN_VIOLATIONS {
        out.push_str(&format!(
            "  … and {} more\n",
            violations.len() - SHOWN_VIOLATIONS
        ));
    }
    out.push_str("hint: fix the first violation first; later ones often follow from it");
    out
}
