//! Loading and writing OSCAL documents of any model.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::error::{LoadError, SchemaViolation};
use crate::model::assessment::{AssessmentPlan, AssessmentResults};
use crate::model::catalog::Catalog;
use crate::model::component::ComponentDefinition;
use crate::model::mapping::MappingCollection;
use crate::model::poam::PlanOfActionAndMilestones;
use crate::model::profile::Profile;
use crate::model::ssp::SystemSecurityPlan;
use crate::{locate, schema};

/// The OSCAL models iotmark reads and writes, named by their root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    Catalog,
    Profile,
    ComponentDefinition,
    AssessmentPlan,
    AssessmentResults,
    MappingCollection,
    SystemSecurityPlan,
    PlanOfActionAndMilestones,
}

impl ModelKind {
    pub const ALL: [ModelKind; 8] = [
        ModelKind::Catalog,
        ModelKind::Profile,
        ModelKind::ComponentDefinition,
        ModelKind::AssessmentPlan,
        ModelKind::AssessmentResults,
        ModelKind::MappingCollection,
        ModelKind::SystemSecurityPlan,
        ModelKind::PlanOfActionAndMilestones,
    ];

    /// The root key of a document of this model.
    pub fn root_key(self) -> &'static str {
        match self {
            ModelKind::Catalog => "catalog",
            ModelKind::Profile => "profile",
            ModelKind::ComponentDefinition => "component-definition",
            ModelKind::AssessmentPlan => "assessment-plan",
            ModelKind::AssessmentResults => "assessment-results",
            ModelKind::MappingCollection => "mapping-collection",
            ModelKind::SystemSecurityPlan => "system-security-plan",
            ModelKind::PlanOfActionAndMilestones => "plan-of-action-and-milestones",
        }
    }

    pub fn from_root_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.root_key() == key)
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.root_key())
    }
}

/// A loaded, schema-valid OSCAL document.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    Catalog(Box<Catalog>),
    Profile(Box<Profile>),
    ComponentDefinition(Box<ComponentDefinition>),
    AssessmentPlan(Box<AssessmentPlan>),
    AssessmentResults(Box<AssessmentResults>),
    MappingCollection(Box<MappingCollection>),
    SystemSecurityPlan(Box<SystemSecurityPlan>),
    PlanOfActionAndMilestones(Box<PlanOfActionAndMilestones>),
}

impl Document {
    pub fn kind(&self) -> ModelKind {
        match self {
            Document::Catalog(_) => ModelKind::Catalog,
            Document::Profile(_) => ModelKind::Profile,
            Document::ComponentDefinition(_) => ModelKind::ComponentDefinition,
            Document::AssessmentPlan(_) => ModelKind::AssessmentPlan,
            Document::AssessmentResults(_) => ModelKind::AssessmentResults,
            Document::MappingCollection(_) => ModelKind::MappingCollection,
            Document::SystemSecurityPlan(_) => ModelKind::SystemSecurityPlan,
            Document::PlanOfActionAndMilestones(_) => ModelKind::PlanOfActionAndMilestones,
        }
    }

    /// The document as a JSON value with its root key, ready to write.
    pub fn to_value(&self) -> Value {
        fn wrap<T: Serialize>(key: &str, inner: &T) -> Value {
            let mut map = serde_json::Map::new();
            // Serializing our own derived types into a Value cannot fail: every key is a string.
            map.insert(
                key.to_owned(),
                serde_json::to_value(inner).unwrap_or(Value::Null),
            );
            Value::Object(map)
        }
        let key = self.kind().root_key();
        match self {
            Document::Catalog(d) => wrap(key, d),
            Document::Profile(d) => wrap(key, d),
            Document::ComponentDefinition(d) => wrap(key, d),
            Document::AssessmentPlan(d) => wrap(key, d),
            Document::AssessmentResults(d) => wrap(key, d),
            Document::MappingCollection(d) => wrap(key, d),
            Document::SystemSecurityPlan(d) => wrap(key, d),
            Document::PlanOfActionAndMilestones(d) => wrap(key, d),
        }
    }
}

/// The serialisation of a document on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// From the file extension, or by sniffing the content when the extension says nothing.
    pub fn detect(path: &Path, bytes: &[u8]) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("json") => Format::Json,
            Some("yaml" | "yml") => Format::Yaml,
            _ => match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'{') | Some(b'[') => Format::Json,
                _ => Format::Yaml,
            },
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        }
    }
}

/// Reads OSCAL documents with bounded resources.
#[derive(Debug, Clone)]
pub struct Loader {
    /// Files larger than this are refused before they are read. NIST's largest published
    /// catalog (SP 800-53 rev5, pretty-printed) is about 10 MiB.
    pub max_bytes: u64,
    /// Deepest nesting accepted in the input. NIST's SP 800-53 catalog nests about a dozen
    /// levels; 64 leaves room and keeps recursion far from the stack's end.
    pub max_depth: usize,
    /// Whether to validate against the official schema (off only for benchmarks of parsing).
    pub validate: bool,
}

impl Default for Loader {
    fn default() -> Self {
        Self {
            max_bytes: 64 * 1024 * 1024,
            max_depth: 64,
            validate: true,
        }
    }
}

impl Loader {
    /// Reads and validates a document from a file.
    pub fn load_path(&self, path: &Path) -> Result<Document, LoadError> {
        let io = |source| LoadError::Io {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > self.max_bytes {
            return Err(LoadError::TooLarge {
                path: path.to_owned(),
                size,
                limit: self.max_bytes,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        self.load_bytes(path, &bytes)
    }

    /// Reads and validates a document from memory; `path` names it in messages and selects
    /// the format by extension.
    pub fn load_bytes(&self, path: &Path, bytes: &[u8]) -> Result<Document, LoadError> {
        let path_buf = path.to_path_buf();
        let (format, mut value) = self.parse_text(path, bytes)?;
        let text = std::str::from_utf8(bytes).unwrap_or_default();
        let kind = root(&path_buf, &value)?.0;
        if self.validate {
            let violations = schema::validate_value(kind, &value);
            if !violations.is_empty() {
                let violations = locate_violations(format, text, violations);
                return Err(LoadError::Schema {
                    path: path_buf,
                    model: kind.root_key(),
                    violations,
                });
            }
        }
        // Validation needed the whole document; the typed model takes the inner value over.
        let inner = value
            .get_mut(kind.root_key())
            .map(Value::take)
            .unwrap_or(Value::Null);
        typed(&path_buf, kind, inner)
    }

    /// Parses JSON or YAML (by extension, else by content) into a value, within this
    /// loader's size and depth bounds, with no OSCAL checks. Other iotmark documents (product
    /// declarations, schemes) share this front end and its located syntax errors.
    pub fn parse_text(&self, path: &Path, bytes: &[u8]) -> Result<(Format, Value), LoadError> {
        if bytes.len() as u64 > self.max_bytes {
            return Err(LoadError::TooLarge {
                path: path.to_owned(),
                size: bytes.len() as u64,
                limit: self.max_bytes,
            });
        }
        let format = Format::detect(path, bytes);
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let (line, column) = locate::line_col(&bytes[..e.valid_up_to()], e.valid_up_to());
            LoadError::Syntax {
                path: path.to_owned(),
                format: format.name(),
                line,
                column,
                message: "the file is not valid UTF-8".to_owned(),
            }
        })?;
        Ok((format, self.parse_value(path, format, text)?))
    }

    fn parse_value(&self, path: &Path, format: Format, text: &str) -> Result<Value, LoadError> {
        let syntax = |line, column, message| LoadError::Syntax {
            path: path.to_owned(),
            format: format.name(),
            line,
            column,
            message,
        };
        match format {
            Format::Json => {
                // serde_json stops at 128 levels of nesting by itself; we check our own limit
                // afterwards so that both formats share it.
                let value: Value = serde_json::from_str(text)
                    .map_err(|e| syntax(e.line(), e.column(), strip_position(&e.to_string())))?;
                self.check_depth(path, format, &value)?;
                Ok(value)
            }
            Format::Yaml => {
                if let Some((line, column)) = yaml_too_deep(text, self.max_depth) {
                    return Err(syntax(
                        line,
                        column,
                        format!("nesting deeper than {} levels", self.max_depth),
                    ));
                }
                let options = serde_saphyr::options! {
                    budget: serde_saphyr::budget! {
                        max_depth: self.max_depth,
                        max_reader_input_bytes: Some(self.max_bytes as usize),
                    },
                };
                let value: Value =
                    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
                        let (line, column) = e
                            .location()
                            .map(|l| (l.line() as usize, l.column() as usize))
                            .unwrap_or((0, 0));
                        syntax(
                            line,
                            column,
                            e.to_string().lines().next().unwrap_or_default().to_owned(),
                        )
                    })?;
                self.check_depth(path, format, &value)?;
                Ok(value)
            }
        }
    }

    fn check_depth(&self, path: &Path, format: Format, value: &Value) -> Result<(), LoadError> {
        fn depth(v: &Value) -> usize {
            match v {
                Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        let d = depth(value);
        if d > self.max_depth {
            return Err(LoadError::Syntax {
                path: path.to_owned(),
                format: format.name(),
                line: 1,
                column: 1,
                message: format!("nesting depth {d} exceeds the limit of {}", self.max_depth),
            });
        }
        Ok(())
    }

    /// Loads a document and insists on one model.
    pub fn load_catalog(&self, path: &Path) -> Result<Catalog, LoadError> {
        match self.load_path(path)? {
            Document::Catalog(c) => Ok(*c),
            other => Err(LoadError::UnexpectedModel {
                path: path.to_owned(),
                expected: "catalog",
                found: other.kind().root_key(),
            }),
        }
    }
}

/// Fills in the line and column of each violation from the source text.
fn locate_violations(
    format: Format,
    text: &str,
    mut violations: Vec<SchemaViolation>,
) -> Vec<SchemaViolation> {
    match format {
        Format::Json => {
            for v in &mut violations {
                if let Some((line, col)) = locate::json_pointer(text, &v.pointer) {
                    (v.line, v.column) = (Some(line), Some(col));
                }
            }
        }
        Format::Yaml => {
            let wanted = violations.iter().map(|v| v.pointer.as_str()).collect();
            let found = locate::yaml_pointers(text, &wanted);
            for v in &mut violations {
                if let Some(&(line, col)) = found.get(&v.pointer) {
                    (v.line, v.column) = (Some(line), Some(col));
                }
            }
        }
    }
    violations
}

/// Where a YAML document first nests deeper than `max_depth`, if it does.
///
/// The event parser works in constant stack, but building a value from deeply nested block
/// collections recurses once per level (and serde-saphyr checks its own depth budget only
/// after that), so hostile nesting is refused here first.
fn yaml_too_deep(text: &str, max_depth: usize) -> Option<(usize, usize)> {
    use serde_saphyr::granit_parser::{Event, Parser};
    let mut depth = 0usize;
    for event in Parser::new_from_str(text) {
        match event {
            Ok((Event::SequenceStart(..) | Event::MappingStart(..), span)) => {
                depth += 1;
                if depth > max_depth {
                    return Some((span.start.line(), span.start.col() + 1));
                }
            }
            Ok((Event::SequenceEnd | Event::MappingEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            // Syntax errors are reported, with their position, by the deserializer.
            Err(_) => return None,
        }
    }
    None
}

/// serde_json appends " at line L column C", which we report in our own fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn root<'v>(path: &Path, value: &'v Value) -> Result<(ModelKind, &'v Value), LoadError> {
    let expected = ModelKind::ALL
        .iter()
        .map(|k| k.root_key())
        .collect::<Vec<_>>()
        .join(", ");
    let wrong = |message: String| LoadError::WrongRoot {
        path: path.to_owned(),
        message,
        expected: expected.clone(),
    };
    let Value::Object(map) = value else {
        return Err(wrong(format!(
            "the top level is {}, not an object",
            kind_name(value)
        )));
    };
    let keys: Vec<&String> = map.keys().filter(|k| k.as_str() != "$schema").collect();
    match keys.as_slice() {
        [key] => match ModelKind::from_root_key(key) {
            Some(kind) => Ok((kind, &map[key.as_str()])),
            None => Err(wrong(format!("unknown root key \"{key}\""))),
        },
        [] => Err(wrong("the top-level object has no root key".to_owned())),
        many => Err(wrong(format!(
            "the top-level object has {} keys ({}), not one",
            many.len(),
            many.iter()
                .map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn typed(path: &Path, kind: ModelKind, inner: Value) -> Result<Document, LoadError> {
    let model = |e: serde_json::Error| LoadError::Model {
        path: path.to_owned(),
        model: kind.root_key(),
        message: e.to_string(),
    };
    Ok(match kind {
        ModelKind::Catalog => {
            Document::Catalog(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::Profile => {
            Document::Profile(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::ComponentDefinition => {
            Document::ComponentDefinition(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::AssessmentPlan => {
            Document::AssessmentPlan(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::AssessmentResults => {
            Document::AssessmentResults(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::MappingCollection => {
            Document::MappingCollection(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::SystemSecurityPlan => {
            Document::SystemSecurityPlan(Box::new(serde_json::from_value(inner).map_err(model)?))
        }
        ModelKind::PlanOfActionAndMilestones => Document::PlanOfActionAndMilestones(Box::new(
            serde_json::from_value(inner).map_err(model)?,
        )),
    })
}

/// Pretty JSON with two-space indentation and a final newline.
pub fn write_json(doc: &Document) -> String {
    let mut out = serde_json::to_string_pretty(&doc.to_value()).unwrap_or_default();
    out.push('\n');
    out
}

/// YAML, in the layout NIST uses for its YAML content.
pub fn write_yaml(doc: &Document) -> String {
    serde_saphyr::to_string(&doc.to_value()).unwrap_or_default()
}
