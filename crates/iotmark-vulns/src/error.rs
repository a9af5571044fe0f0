//! Errors of reading untrusted documents: each names the file and the place in it (a JSON
//! pointer, or a line and column for syntax), says what was wrong and, where it can, how to
//! fix it.

use serde_json::Value;

/// A document, or one record in it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {place}: {message}{}", hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default())]
pub struct ReadError {
    /// The file (or other name) the bytes came from.
    pub file: String,
    /// A JSON pointer (`/vulnerabilities/12/cve/configurations/0`), or `line L column C`
    /// for a syntax error.
    pub place: String,
    pub message: String,
    pub hint: Option<String>,
}

impl ReadError {
    pub fn new(file: &str, place: impl Into<String>, message: impl Into<String>) -> ReadError {
        ReadError {
            file: file.to_owned(),
            place: place.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> ReadError {
        self.hint = Some(hint.into());
        self
    }

    /// A serde_json error at the top of a document: syntax errors carry line and column;
    /// data errors the path serde reached, which callers that know better replace.
    pub fn json(file: &str, pointer: &str, error: &serde_json::Error) -> ReadError {
        let place = if error.is_syntax() || error.is_eof() {
            format!("line {} column {}", error.line(), error.column())
        } else if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer.to_owned()
        };
        ReadError::new(file, place, error.to_string())
    }
}

/// JSON pointer escaping of one reference token (RFC 6901).
pub(crate) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// What a JSON value is, for "expected …, found …" messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What reading a multi-record document gave: the good records, and the bad ones skipped
/// with the reason, so one broken record never costs the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Read<T> {
    pub records: Vec<T>,
    pub skipped: Vec<ReadError>,
}

impl<T> Default for Read<T> {
    fn default() -> Self {
        Read {
            records: Vec::new(),
            skipped: Vec::new(),
        }
    }
}
