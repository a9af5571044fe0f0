//! Reading fields of an untrusted JSON document with the JSON pointer of every value kept, so
//! that an error names the exact place ("/statements/3/status: expected a string, found a
//! number") rather than what serde reached.

use serde_json::Value;

use crate::error::{ReadError, escape, kind};
use crate::model::{Bound, Bounds};

/// A value and the JSON pointer to it in its document.
pub(crate) struct Place<'a> {
    file: &'a str,
    value: &'a Value,
    pointer: String,
}

impl<'a> Place<'a> {
    pub fn root(file: &'a str, value: &'a Value) -> Place<'a> {
        Place {
            file,
            value,
            pointer: String::new(),
        }
    }

    pub fn value(&self) -> &'a Value {
        self.value
    }

    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    pub fn error(&self, message: impl Into<String>) -> ReadError {
        ReadError::new(self.file, self.place(), message)
    }

    /// An error about the member `key` (present or not).
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ReadError {
        ReadError::new(
            self.file,
            format!("{}/{}", self.pointer, escape(key)),
            message,
        )
    }

    fn place(&self) -> String {
        if self.pointer.is_empty() {
            "/".to_owned()
        } else {
            self.pointer.clone()
        }
    }

    /// The member `key`, when present and not null.
    pub fn get(&self, key: &str) -> Option<Place<'a>> {
        let value = self.value.get(key).filter(|v| !v.is_null())?;
        Some(Place {
            file: self.file,
            value,
            pointer: format!("{}/{}", self.pointer, escape(key)),
        })
    }

    /// An optional string member; an error when present with another type.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ReadError> {
        match self.get(key) {
            None => Ok(None),
            Some(p) => match p.value {
                Value::String(s) => Ok(Some(s.as_str())),
                other => Err(p.error(format!("expected a string, found {}", kind(other)))),
            },
        }
    }

    /// A string member that must be there.
    pub fn required_str(&self, key: &str) -> Result<&'a str, ReadError> {
        self.str(key)?
            .ok_or_else(|| self.error_at(key, format!("`{key}` is missing")))
    }

    /// An optional object member.
    pub fn object(&self, key: &str) -> Result<Option<Place<'a>>, ReadError> {
        match self.get(key) {
            None => Ok(None),
            Some(p) if p.value.is_object() => Ok(Some(p)),
            Some(p) => Err(p.error(format!("expected an object, found {}", kind(p.value)))),
        }
    }

    /// The items of an optional array member (none when it is absent).
    pub fn items(&self, key: &str) -> Result<Vec<Place<'a>>, ReadError> {
        let Some(p) = self.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = p.value else {
            return Err(p.error(format!("expected an array, found {}", kind(p.value))));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(index, value)| Place {
                file: self.file,
                value,
                pointer: format!("{}/{index}", p.pointer),
            })
            .collect())
    }

    /// The strings of an optional array member.
    pub fn strings(&self, key: &str) -> Result<Vec<(Place<'a>, &'a str)>, ReadError> {
        self.items(key)?
            .into_iter()
            .map(|item| match item.value {
                Value::String(s) => Ok((item, s.as_str())),
                other => Err(item.error(format!("expected a string, found {}", kind(other)))),
            })
            .collect()
    }

    /// An optional RFC 3339 timestamp member.
    pub fn timestamp(&self, key: &str) -> Result<Option<jiff::Timestamp>, ReadError> {
        let Some(text) = self.str(key)? else {
            return Ok(None);
        };
        text.parse::<jiff::Timestamp>().map(Some).map_err(|e| {
            self.error_at(key, format!("`{text}` is not a date and time: {e}"))
                .with_hint("write an RFC 3339 timestamp such as 2024-05-01T12:00:00Z")
        })
    }
}

/// Parses a document's bytes, naming the line and column of a syntax error.
pub(crate) fn parse(file: &str, bytes: &[u8]) -> Result<Value, ReadError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ReadError::json(file, "", &e).with_hint("the file must be a single JSON document")
    })?;
    if !value.is_object() {
        return Err(ReadError::new(
            file,
            "/",
            format!("expected a JSON object, found {}", kind(&value)),
        ));
    }
    Ok(value)
}

/// Why a `vers:` range could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersError {
    #[error("`{0}` is not a vers range (`vers:SCHEME/CONSTRAINTS`)")]
    NotVers(String),
    #[error("the constraint `{0}` cannot be held as an interval")]
    Unsupported(String),
}

/// Reads a `vers:` range (the package-url project's version range specifier, which
/// CycloneDX's `affects[].versions[].range` and CSAF's `product_version_range` use) into
/// intervals: `vers:deb/>=1.2|<1.4` is one interval, `vers:generic/1.0|2.0` two single
/// versions, `vers:all/*` every version. `!=` cannot be held as intervals and is refused
/// rather than ignored, since ignoring it would widen a statement.
pub fn parse_vers(text: &str) -> Result<Vec<Bounds>, VersError> {
    let not_vers = || VersError::NotVers(text.to_owned());
    let rest = text.strip_prefix("vers:").ok_or_else(not_vers)?;
    let (scheme, constraints) = rest.split_once('/').ok_or_else(not_vers)?;
    if scheme.is_empty() || constraints.trim().is_empty() {
        return Err(not_vers());
    }
    let constraints = constraints.trim();
    if constraints == "*" {
        return Ok(vec![Bounds::default()]);
    }
    intervals(constraints.split('|').map(str::trim))
}

/// A CSAF `product_version_range`: a vers range, or (CSAF's "vls" form) bare constraints
/// such as `<=1.14.0` or `>=2.0 <2.4`, each with its operator.
pub fn parse_version_range(text: &str) -> Result<Vec<Bounds>, VersError> {
    if text.starts_with("vers:") {
        return parse_vers(text);
    }
    let constraints: Vec<&str> = text
        .split(['|', ',', ' '])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    if constraints.is_empty() || constraints.iter().any(|c| split_operator(c).0.is_empty()) {
        return Err(VersError::NotVers(text.to_owned()));
    }
    intervals(constraints.into_iter())
}

/// Constraints in ascending order, as vers requires, into intervals.
fn intervals<'a>(constraints: impl Iterator<Item = &'a str>) -> Result<Vec<Bounds>, VersError> {
    let mut intervals = Vec::new();
    let mut start: Option<Bound> = None;
    for raw in constraints {
        let (operator, version) = split_operator(raw);
        if version.is_empty() {
            return Err(VersError::Unsupported(raw.to_owned()));
        }
        let version = unescape(version);
        let bound = |inclusive| Bound {
            version: version.clone(),
            inclusive,
        };
        match operator {
            "" | "=" => intervals.push(Bounds {
                start: Some(bound(true)),
                end: Some(bound(true)),
            }),
            ">=" | ">" => {
                if let Some(open) = start.take() {
                    intervals.push(Bounds {
                        start: Some(open),
                        end: None,
                    });
                }
                start = Some(bound(operator == ">="));
            }
            "<=" | "<" => intervals.push(Bounds {
                start: start.take(),
                end: Some(bound(operator == "<=")),
            }),
            _ => return Err(VersError::Unsupported(raw.to_owned())),
        }
    }
    if let Some(open) = start {
        intervals.push(Bounds {
            start: Some(open),
            end: None,
        });
    }
    Ok(intervals)
}

fn split_operator(constraint: &str) -> (&str, &str) {
    for operator in [">=", "<=", "!=", ">", "<", "="] {
        if let Some(version) = constraint.strip_prefix(operator) {
            return (operator, version.trim());
        }
    }
    ("", constraint)
}

/// Writes an interval as a `vers:` range in `scheme` (`generic` when nothing better is
/// known).
pub fn write_vers(scheme: &str, bounds: &Bounds) -> String {
    let mut constraints = Vec::new();
    match (&bounds.start, &bounds.end) {
        (Some(s), Some(e)) if s.version == e.version && s.inclusive && e.inclusive => {
            constraints.push(escape_version(&s.version));
        }
        _ => {
            if let Some(s) = &bounds.start {
                constraints.push(format!(
                    "{}{}",
                    if s.inclusive { ">=" } else { ">" },
                    escape_version(&s.version)
                ));
            }
            if let Some(e) = &bounds.end {
                constraints.push(format!(
                    "{}{}",
                    if e.inclusive { "<=" } else { "<" },
                    escape_version(&e.version)
                ));
            }
        }
    }
    if constraints.is_empty() {
        return "vers:all/*".to_owned();
    }
    format!("vers:{scheme}/{}", constraints.join("|"))
}

/// Percent-encodes what vers uses as syntax (and `%` itself), so any version survives.
fn escape_version(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    for c in version.chars() {
        if matches!(c, '%' | '|' | '<' | '>' | '=' | '!' | ',' | ' ' | '*' | '/') {
            out.push_str(&format!("%{:02X}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes percent-encoding; text that is not valid encoding is kept as written.
fn unescape(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = (b == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(version: &str, inclusive: bool) -> Option<Bound> {
        Some(Bound {
            version: version.to_owned(),
            inclusive,
        })
    }

    #[test]
    fn vers_ranges_as_intervals() {
        assert_eq!(
            parse_vers("vers:generic/>=2.9|<=4.1").unwrap(),
            vec![Bounds {
                start: b("2.9", true),
                end: b("4.1", true)
            }]
        );
        assert_eq!(
            parse_vers("vers:deb/1.0|>2.0").unwrap(),
            vec![
                Bounds {
                    start: b("1.0", true),
                    end: b("1.0", true)
                },
                Bounds {
                    start: b("2.0", false),
                    end: None
                }
            ]
        );
        assert_eq!(parse_vers("vers:all/*").unwrap(), vec![Bounds::default()]);
        assert!(parse_vers("vers:npm/!=1.0").is_err());
        assert!(parse_vers(">=1.0").is_err());
        assert!(parse_vers("vers:generic/").is_err());
        // CSAF's other form, as sec-vex-2022-0001 writes it.
        assert_eq!(
            parse_version_range("<=1.14.0").unwrap(),
            vec![Bounds {
                start: None,
                end: b("1.14.0", true)
            }]
        );
        assert!(parse_version_range("all versions").is_err());
    }

    #[test]
    fn any_version_survives_a_vers_range() {
        for version in ["1|2", "<1", "50%", "a b", "*", "1.0/x", "é", "%41"] {
            let bounds = Bounds {
                start: b(version, true),
                end: b(version, true),
            };
            let text = write_vers("generic", &bounds);
            assert_eq!(parse_vers(&text).unwrap(), vec![bounds], "{text}");
        }
    }

    #[test]
    fn vers_written_back_reads_the_same() {
        for text in ["vers:generic/>=2.9|<=4.1", "vers:deb/1.0", "vers:rpm/>1|<2"] {
            let bounds = parse_vers(text).unwrap();
            let scheme = text.trim_start_matches("vers:").split('/').next().unwrap();
            assert_eq!(write_vers(scheme, &bounds[0]), text);
        }
    }
}
