//! Reading fields of a parsed feed record (NVD, CVE 5, OSV, KEV) with the JSON pointer of
//! each value kept, so every error names the exact place in the file: a record is parsed
//! into a [`Value`] first (bounded by the reader), then walked here.

use serde_json::Value;

use crate::error::{ReadError, escape, kind};
use crate::model::Rating;

/// A value inside a document, with the file it came from and its JSON pointer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'p, 'a> {
    pub file: &'a str,
    pub pointer: &'p str,
    pub value: &'a Value,
}

/// An owned pointer for a child, so [`At`] can borrow it.
#[derive(Debug)]
pub(crate) struct Child<'a> {
    file: &'a str,
    pointer: String,
    value: &'a Value,
}

impl<'a> Child<'a> {
    pub fn at(&self) -> At<'_, 'a> {
        At {
            file: self.file,
            pointer: &self.pointer,
            value: self.value,
        }
    }
}

impl<'p, 'a> At<'p, 'a> {
    pub fn root(file: &'a str, pointer: &'p str, value: &'a Value) -> At<'p, 'a> {
        At {
            file,
            pointer,
            value,
        }
    }

    pub fn error(&self, message: impl Into<String>) -> ReadError {
        let place = if self.pointer.is_empty() {
            "/".to_owned()
        } else {
            self.pointer.to_owned()
        };
        ReadError::new(self.file, place, message)
    }

    /// An error about the member `key` (present or not), at its pointer.
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ReadError {
        ReadError::new(self.file, self.child_pointer(key), message)
    }

    fn child_pointer(&self, key: &str) -> String {
        format!("{}/{}", self.pointer, escape(key))
    }

    /// The member `key` of this object; `None` when it is absent or null (feeds write both
    /// for "not given"). An error when this value is not an object.
    pub fn get(&self, key: &str) -> Result<Option<Child<'a>>, ReadError> {
        let Value::Object(map) = self.value else {
            return Err(self.error(format!("expected an object, found {}", kind(self.value))));
        };
        Ok(match map.get(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Child {
                file: self.file,
                pointer: self.child_pointer(key),
                value,
            }),
        })
    }

    /// The member `key`, which must be present.
    pub fn require(&self, key: &str) -> Result<Child<'a>, ReadError> {
        self.get(key)?
            .ok_or_else(|| self.error(format!("the required member \"{key}\" is missing")))
    }

    pub fn as_str(&self) -> Result<&'a str, ReadError> {
        self.value
            .as_str()
            .ok_or_else(|| self.error(format!("expected a string, found {}", kind(self.value))))
    }

    pub fn as_bool(&self) -> Result<bool, ReadError> {
        self.value
            .as_bool()
            .ok_or_else(|| self.error(format!("expected a boolean, found {}", kind(self.value))))
    }

    pub fn as_f64(&self) -> Result<f64, ReadError> {
        self.value
            .as_f64()
            .ok_or_else(|| self.error(format!("expected a number, found {}", kind(self.value))))
    }

    /// The elements of this array, each with its pointer.
    pub fn items(&self) -> Result<Vec<Child<'a>>, ReadError> {
        let Value::Array(items) = self.value else {
            return Err(self.error(format!("expected an array, found {}", kind(self.value))));
        };
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Child {
                file: self.file,
                pointer: format!("{}/{i}", self.pointer),
                value,
            })
            .collect())
    }

    /// The string member `key`, if given.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ReadError> {
        match self.get(key)? {
            Some(child) => child.at().as_str().map(Some),
            None => Ok(None),
        }
    }

    /// The string member `key`, which must be present and not empty.
    pub fn required_str(&self, key: &str) -> Result<&'a str, ReadError> {
        let child = self.require(key)?;
        let text = child.at().as_str()?;
        if text.trim().is_empty() {
            return Err(child.at().error(format!("\"{key}\" is empty")));
        }
        Ok(text)
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>, ReadError> {
        match self.get(key)? {
            Some(child) => child.at().as_bool().map(Some),
            None => Ok(None),
        }
    }

    /// The elements of the array member `key`; none when it is absent.
    pub fn array(&self, key: &str) -> Result<Vec<Child<'a>>, ReadError> {
        match self.get(key)? {
            Some(child) => child.at().items(),
            None => Ok(Vec::new()),
        }
    }

    /// The timestamp member `key`, if given, in any of the forms the feeds write.
    pub fn timestamp(&self, key: &str) -> Result<Option<jiff::Timestamp>, ReadError> {
        let Some(child) = self.get(key)? else {
            return Ok(None);
        };
        let text = child.at().as_str()?;
        parse_timestamp(text).map(Some).ok_or_else(|| {
            child
                .at()
                .error(format!("\"{text}\" is not a date and time"))
                .with_hint("expected RFC 3339, e.g. 2023-10-18T04:15:11.077Z")
        })
    }
}

/// A timestamp as the feeds write them: RFC 3339 with an offset (OSV, CVE 5), without one
/// (NVD 2.0 writes UTC without saying so, as do some CVE 5 records), or a bare date.
pub(crate) fn parse_timestamp(text: &str) -> Option<jiff::Timestamp> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// Adds `item` unless it is already there: feeds repeat references once per source.
pub(crate) fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_owned());
    }
}

/// The English text of a `[{lang, value}]` list (NVD `descriptions`, CVE 5
/// `descriptions`), or the first one when none is English.
pub(crate) fn english(items: &[Child<'_>], text_key: &str) -> Result<Option<String>, ReadError> {
    let mut first = None;
    for item in items {
        let at = item.at();
        let Some(text) = at.str(text_key)? else {
            continue;
        };
        let lang = at.str("lang")?.unwrap_or_default();
        if lang == "en" || lang.starts_with("en-") || lang.starts_with("en_") {
            return Ok(Some(text.to_owned()));
        }
        first.get_or_insert_with(|| text.to_owned());
    }
    Ok(first)
}

/// Parses JSON bytes into a [`Value`], a syntax error naming line and column.
pub(crate) fn parse_json(file: &str, bytes: &[u8]) -> Result<Value, ReadError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ReadError::json(file, "", &e).with_hint("the file is not valid JSON"))
}

/// The `baseScore` of a CVSS object (NVD `cvssData`, CVE 5 `cvssV3_1`, …), within 0–10.
pub(crate) fn base_score(data: At<'_, '_>) -> Result<f64, ReadError> {
    let score = data.require("baseScore")?.at().as_f64()?;
    if !(0.0..=10.0).contains(&score) {
        return Err(data.error(format!("baseScore {score} is outside 0–10")));
    }
    Ok(score)
}

/// A severity word as the sources write it (`HIGH`, `Critical`, GitHub's `Moderate`).
pub(crate) fn rating_word(word: Option<&str>) -> Option<Rating> {
    match word?.to_ascii_lowercase().as_str() {
        "none" => Some(Rating::None),
        "low" => Some(Rating::Low),
        "medium" | "moderate" => Some(Rating::Medium),
        "high" => Some(Rating::High),
        "critical" => Some(Rating::Critical),
        _ => None,
    }
}

/// Adds the `url` of every element of `references`, once each.
pub(crate) fn add_references(at: At<'_, '_>, list: &mut Vec<String>) -> Result<(), ReadError> {
    for reference in at.array("references")? {
        push_unique(list, reference.at().required_str("url")?);
    }
    Ok(())
}
