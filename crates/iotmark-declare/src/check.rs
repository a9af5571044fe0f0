//! Checking a declaration file: every problem, located, with the expected form and a hint.
//!
//! Three passes, each reporting all it finds:
//! 1. syntax (JSON or YAML), through the bounded OSCAL loader's front end;
//! 2. structure, against the JSON Schema generated from the Rust types: unknown keys get a
//!    "did you mean", missing keys and wrong types say what was expected;
//! 3. meaning: dates that are not dates or lie in the past, references to components that do
//!    not exist, duplicate IDs, claims about requirements no catalog has.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use iotmark_oscal::{Format, LoadError, Loader, locate};
use serde::Serialize;
use serde_json::Value;

use crate::model::{ClaimStatus, ComponentType, Declaration};
use crate::schema::{declaration_schema, suggest};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a declaration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// JSON pointer of the offending value (`/updates/support_end`).
    pub pointer: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// The form the value should take.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Diagnostic {
    fn error(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            pointer: pointer.into(),
            line: None,
            column: None,
            message: message.into(),
            expected: None,
            hint: None,
        }
    }

    fn warning(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(pointer, message)
        }
    }

    fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// What checking a file found: the diagnostics, and the declaration when there were no errors.
#[derive(Debug, Clone)]
pub struct CheckReport {
    pub path: PathBuf,
    /// The file's text, for rendering snippets.
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
    pub declaration: Option<Declaration>,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The diagnostics as a compiler would print them, with the source line underneath.
    /// Everything taken from the file (keys, values, the line itself, the file's name) is
    /// passed through [`visible`], so a declaration cannot drive the reader's terminal.
    pub fn render(&self) -> String {
        let lines: Vec<&str> = self.source.lines().collect();
        let path = self.path.display().to_string();
        let path = visible(&path);
        let mut out = String::new();
        for d in &self.diagnostics {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            out.push_str(&format!("{level}: {}\n", visible(&d.message)));
            match (d.line, d.column) {
                (Some(line), Some(col)) => {
                    out.push_str(&format!("  --> {path}:{line}:{col}\n"));
                    if let Some(text) = lines.get(line.saturating_sub(1)) {
                        let gutter = line.to_string().len();
                        // The caret goes under the column as shown, escapes included.
                        let before: String = text.chars().take(col.saturating_sub(1)).collect();
                        out.push_str(&format!(
                            "{:gutter$} |\n{line} | {}\n{:gutter$} | {}^\n",
                            "",
                            visible(text),
                            "",
                            " ".repeat(visible(&before).chars().count())
                        ));
                    }
                }
                _ => out.push_str(&format!(
                    "  --> {path} (at {})\n",
                    if d.pointer.is_empty() {
                        Cow::Borrowed("/")
                    } else {
                        visible(&d.pointer)
                    }
                )),
            }
            if let Some(expected) = &d.expected {
                out.push_str(&format!("  = expected: {}\n", visible(expected)));
            }
            if let Some(hint) = &d.hint {
                out.push_str(&format!("  = hint: {}\n", visible(hint)));
            }
            out.push('\n');
        }
        out
    }
}

/// Text from an input file as it may be printed on a terminal: control characters (ESC,
/// BEL, CR, backspace, the C1 range …) become visible escapes such as `\u{1b}`, so the text
/// cannot move the cursor, retitle the window or hide what precedes it. Anything else is
/// left as it is.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// The largest declaration checked. A real one is a few kilobytes; this leaves room and
/// keeps a wrong file (an image, a log) from being read whole.
pub const MAX_DECLARATION_BYTES: u64 = 4 << 20;

/// Reads and checks the declaration at `path`, reading no more than
/// [`MAX_DECLARATION_BYTES`] and one byte (a larger file is reported, not read whole).
pub fn check_file(
    path: &Path,
    known_requirement: &dyn Fn(&str) -> bool,
    today: jiff::civil::Date,
) -> std::io::Result<CheckReport> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_DECLARATION_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(check(path, &bytes, known_requirement, today))
}

/// Checks a declaration in memory. `known_requirement` answers whether a claim's key names a
/// requirement of some catalog, and `today` (YYYY-MM-DD) is the date past dates are judged by.
pub fn check(
    path: &Path,
    bytes: &[u8],
    known_requirement: &dyn Fn(&str) -> bool,
    today: jiff::civil::Date,
) -> CheckReport {
    let source = String::from_utf8_lossy(bytes).into_owned();
    let mut report = CheckReport {
        path: path.to_owned(),
        source,
        diagnostics: Vec::new(),
        declaration: None,
    };
    let loader = Loader {
        max_bytes: MAX_DECLARATION_BYTES,
        ..Loader::default()
    };
    let (format, value) = match loader.parse_text(path, bytes) {
        Ok(parsed) => parsed,
        Err(LoadError::Syntax {
            line,
            column,
            message,
            format,
            ..
        }) => {
            let mut d = Diagnostic::error("", format!("{format} syntax error: {message}"));
            (d.line, d.column) = (Some(line), Some(column));
            report
                .diagnostics
                .push(d.hint("fix the syntax first; the structure is checked after it parses"));
            return report;
        }
        // The loader's own message offers a --max-bytes that `check` has no use for: a
        // declaration this large is the wrong file.
        Err(LoadError::TooLarge { limit, .. }) => {
            report.diagnostics.push(
                Diagnostic::error(
                    "",
                    format!(
                        "the file is larger than {} MiB, the most a declaration may be",
                        limit >> 20
                    ),
                )
                .hint("a declaration is a few kilobytes of YAML or JSON; check that this is the file you meant"),
            );
            return report;
        }
        Err(other) => {
            report
                .diagnostics
                .push(Diagnostic::error("", other.to_string()));
            return report;
        }
    };

    let mut diagnostics = structural(&value);
    if diagnostics.is_empty() {
        match serde_json::from_value::<Declaration>(value.clone()) {
            Ok(declaration) => {
                diagnostics.extend(semantic(&declaration, known_requirement, today));
                report.declaration = Some(declaration);
            }
            // The schema is generated from these types, so this means a bug in iotmark.
            Err(e) => diagnostics.push(Diagnostic::error(
                "",
                format!("internal error: the declaration passed the schema but not the model: {e}"),
            )),
        }
    }
    locate_all(format, &report.source, &mut diagnostics);
    diagnostics.sort_by_key(|d| (d.line.unwrap_or(usize::MAX), d.column.unwrap_or(0)));
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        report.declaration = None;
    }
    report.diagnostics = diagnostics;
    report
}

fn locate_all(format: Format, source: &str, diagnostics: &mut [Diagnostic]) {
    match format {
        Format::Json => {
            for d in diagnostics.iter_mut().filter(|d| d.line.is_none()) {
                if let Some((line, col)) = locate::json_pointer(source, &d.pointer) {
                    (d.line, d.column) = (Some(line), Some(col));
                }
            }
        }
        Format::Yaml => {
            let wanted: HashSet<&str> = diagnostics
                .iter()
                .filter(|d| d.line.is_none())
                .map(|d| d.pointer.as_str())
                .collect();
            let found = locate::yaml_pointers(source, &wanted);
            for d in diagnostics.iter_mut().filter(|d| d.line.is_none()) {
                if let Some(&(line, col)) = found.get(&d.pointer) {
                    (d.line, d.column) = (Some(line), Some(col));
                }
            }
        }
    }
}

fn validator() -> &'static Result<jsonschema::Validator, String> {
    static VALIDATOR: OnceLock<Result<jsonschema::Validator, String>> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(declaration_schema())
            .map_err(|e| e.to_string())
    })
}

/// Pass 2: every structural problem, phrased for a person.
fn structural(value: &Value) -> Vec<Diagnostic> {
    let validator = match validator() {
        Ok(v) => v,
        Err(e) => {
            return vec![Diagnostic::error(
                "",
                format!("internal error: the declaration schema does not compile: {e}"),
            )];
        }
    };
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        let pointer = error.instance_path().to_string();
        let at = if pointer.is_empty() {
            "the top level".to_owned()
        } else {
            format!("`{}`", dotted(&pointer))
        };
        use jsonschema::error::ValidationErrorKind as K;
        match error.kind() {
            K::AdditionalProperties { unexpected } => {
                let allowed = crate::schema::allowed_keys(&pointer);
                for key in unexpected {
                    let mut d = Diagnostic::error(
                        format!("{pointer}/{}", escape(key)),
                        format!("unknown key `{key}` in {at}"),
                    );
                    if !allowed.is_empty() {
                        d = d.expected(format!("one of {}", allowed.join(", ")));
                    }
                    if let Some(best) = suggest(key, &allowed) {
                        d = d.hint(format!("did you mean `{best}`?"));
                    }
                    out.push(d);
                }
            }
            K::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                out.push(
                    Diagnostic::error(pointer.clone(), format!("missing key `{name}` in {at}"))
                        .hint(format!(
                            "add `{name}:`; `iotmark init` writes a complete template"
                        )),
                );
            }
            K::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let given = error.instance().as_str().unwrap_or_default().to_owned();
                let mut d = Diagnostic::error(
                    pointer.clone(),
                    format!("`{given}` is not a valid value for {at}"),
                )
                .expected(format!("one of {}", options.join(", ")));
                if let Some(best) = suggest(&given, &options) {
                    d = d.hint(format!("did you mean `{best}`?"));
                }
                out.push(d);
            }
            K::Pattern { pattern } => out.push(pattern_diagnostic(
                &pointer,
                &at,
                pattern,
                error.instance().as_ref(),
            )),
            K::Type { kind } => {
                let mut d =
                    Diagnostic::error(pointer.clone(), format!("wrong type for {at}: {error}"));
                let wants_string = format!("{kind:?}").contains("String");
                match error.instance().as_ref() {
                    Value::String(s) if matches!(s.as_str(), "yes" | "no" | "true" | "false") => d = d.hint("write true or false without quotes"),
                    Value::Number(_) | Value::Bool(_) if wants_string => d = d.hint("put the value in quotes; YAML reads bare digits and yes/no as numbers and booleans"),
                    _ => {}
                }
                out.push(d);
            }
            K::MinItems { .. } | K::MinLength { .. } => out.push(Diagnostic::error(
                pointer.clone(),
                format!("{at} must not be empty"),
            )),
            K::Minimum { limit } | K::Maximum { limit } => out.push(
                Diagnostic::error(pointer.clone(), format!("{at} is out of range"))
                    .expected(format!("a number within the limit {limit}")),
            ),
            _ => out.push(Diagnostic::error(
                pointer.clone(),
                format!("invalid value for {at}: {error}"),
            )),
        }
    }
    // anyOf branches for optional values can report the same place twice; keep the first.
    let mut seen = HashSet::new();
    out.retain(|d| seen.insert((d.pointer.clone(), d.message.clone())));
    out
}

fn pattern_diagnostic(pointer: &str, at: &str, pattern: &str, instance: &Value) -> Diagnostic {
    let given = instance.as_str().unwrap_or_default();
    let d = Diagnostic::error(pointer, format!("`{given}` is not a valid value for {at}"));
    if pattern.contains("[0-9a-f]{64}") {
        let len = given.len();
        let hint = if len == 64 {
            "use lower-case hexadecimal digits only".to_owned()
        } else {
            format!(
                "it has {len} characters; a SHA-256 digest has 64 (compute it with `sha256sum FILE`)"
            )
        };
        d.expected("a SHA-256 digest: 64 lower-case hexadecimal digits")
            .hint(hint)
    } else if pattern.contains(r"\d{4}-\d{2}-\d{2}") {
        d.expected("a date as YYYY-MM-DD")
            .hint("for example 2030-12-31")
    } else if pattern.starts_with("^https://") {
        d.expected("an https:// URL")
    } else if pointer == "/product/id" {
        d.expected("2 to 63 lower-case letters, digits and dashes, starting with a letter or digit")
            .hint(format!("for example `{}`", slug(given)))
    } else if pointer.ends_with("/contact") {
        d.expected("an e-mail address or an https:// URL")
    } else if pattern == crate::model::HOST_NAME_PATTERN {
        d.expected("a DNS host name such as `api.acme.example`")
            .hint("give the name only: no scheme (`https://`), port or path")
    } else {
        d.expected(format!("text matching {pattern}"))
    }
}

fn slug(s: &str) -> String {
    let mut out: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let trimmed = out.trim_matches('-');
    if trimmed.len() < 2 {
        "acme-camera".to_owned()
    } else {
        trimmed.chars().take(63).collect()
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `/interfaces/network/0/port` → `interfaces.network[0].port`.
pub fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.trim_start_matches('/').split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

/// Pass 3: facts that are well-formed but wrong.
fn semantic(
    d: &Declaration,
    known_requirement: &dyn Fn(&str) -> bool,
    today: jiff::civil::Date,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let ids: Vec<&str> = d.components.iter().map(|c| c.id.as_str()).collect();
    let mut seen = HashSet::new();
    for (i, c) in d.components.iter().enumerate() {
        if !seen.insert(c.id.as_str()) {
            out.push(
                Diagnostic::error(
                    format!("/components/{i}/id"),
                    format!("component ID `{}` is used twice", c.id),
                )
                .hint("give every component its own ID"),
            );
        }
        let mut images = HashSet::new();
        for (j, f) in c.firmware.iter().enumerate() {
            if !images.insert(f.sha256.as_str()) {
                out.push(Diagnostic::warning(
                    format!("/components/{i}/firmware/{j}/sha256"),
                    format!(
                        "firmware digest of `{}` repeats an earlier image of {}",
                        f.file, c.id
                    ),
                ));
            }
        }
        if matches!(c.component_type, ComponentType::Device | ComponentType::Hub)
            && c.firmware.is_empty()
        {
            out.push(
                Diagnostic::warning(format!("/components/{i}"), format!("{} `{}` lists no firmware image", c.component_type.as_str(), c.id))
                    .hint("add `firmware: [{file: ..., sha256: ...}]` so attestations can bind to the exact image"),
            );
        }
    }
    if !d
        .components
        .iter()
        .any(|c| c.component_type == ComponentType::Device)
    {
        out.push(Diagnostic::error(
            "/components",
            "an IoT product needs at least one component of type `device`",
        ));
    }
    let component_ref = |pointer: String, id: &str, out: &mut Vec<Diagnostic>| {
        if !ids.contains(&id) {
            let mut diag = Diagnostic::error(pointer, format!("no component has the ID `{id}`"))
                .expected(format!("one of {}", ids.join(", ")));
            if let Some(best) = suggest(id, &ids.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            {
                diag = diag.hint(format!("did you mean `{best}`?"));
            }
            out.push(diag);
        }
    };
    for (i, s) in d.interfaces.network.iter().enumerate() {
        component_ref(
            format!("/interfaces/network/{i}/component"),
            &s.component,
            &mut out,
        );
    }
    for (i, p) in d.interfaces.physical.iter().enumerate() {
        component_ref(
            format!("/interfaces/physical/{i}/component"),
            &p.component,
            &mut out,
        );
    }
    if let Some(end) = &d.updates.support_end {
        match end.parse::<jiff::civil::Date>() {
            Err(_) => out.push(Diagnostic::error("/updates/support_end", format!("`{end}` is not a calendar date")).expected("a date as YYYY-MM-DD")),
            Ok(date) if date < today => out.push(
                Diagnostic::error("/updates/support_end", format!("the support period ended on {date}, before today ({today})"))
                    .hint("a declaration needs a support period that has not ended; extend it, or the product cannot be declared"),
            ),
            Ok(_) => {}
        }
    } else if d.updates.updatable {
        out.push(
            Diagnostic::warning("/updates", "no support period end (`support_end`) is declared")
                .hint("EN 303 645 5.3-13 and the NTIA elements ask for the end of security-update support"),
        );
    }
    for (key, claim) in &d.claims {
        let pointer = format!("/claims/{}", escape(key));
        if !known_requirement(key) {
            out.push(
                Diagnostic::error(
                    pointer.clone(),
                    format!("no bundled catalog has a requirement `{key}`"),
                )
                .hint("find IDs with `iotmark catalog search WORDS`"),
            );
        }
        if claim.status == ClaimStatus::NotApplicable
            && claim
                .justification
                .as_deref()
                .is_none_or(|j| j.trim().is_empty())
        {
            out.push(
                Diagnostic::error(
                    format!("{pointer}/status"),
                    format!("claim `{key}` is not-applicable without a justification"),
                )
                .hint("add `justification:` saying why it does not apply"),
            );
        }
    }
    out
}
