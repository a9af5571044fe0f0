//! CPE 2.3 names: the formatted-string binding (NISTIR 7695 §6.2, `cpe:2.3:a:openssl:openssl:…`)
//! that NVD uses, the 2.2 URI binding (§6.1, `cpe:/a:openssl:openssl:1.1.1`) that SPDX's
//! `cpe22Type` carries, and name matching (NISTIR 7696 §6) of an advisory's CPE against a
//! component's.
//!
//! Values are held unescaped; wildcards (`*` and `?` at either end of a value) are kept apart
//! from the text, so a quoted `\*` in a name is text and never a wildcard.
//!
//! ```
//! use iotmark_vulns::cpe::Cpe;
//!
//! let advisory = Cpe::parse("cpe:2.3:a:openssl:openssl:1.1.1?:*:*:*:*:*:*:*").unwrap();
//! let component = Cpe::parse("cpe:/a:openssl:openssl:1.1.1w").unwrap();
//! assert!(advisory.matches(&component));
//! assert_eq!(component.version(), Some("1.1.1w"));
//! assert_eq!(component.to_string(), "cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*");
//! ```
//!
//! Not implemented, deliberately: the well-formed name (WFN) string form and the language tag
//! check (any text is accepted as `language`).

use std::fmt;

/// A CPE 2.3 name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cpe {
    pub part: Part,
    pub vendor: Value,
    pub product: Value,
    pub version: Value,
    pub update: Value,
    pub edition: Value,
    pub language: Value,
    pub sw_edition: Value,
    pub target_sw: Value,
    pub target_hw: Value,
    pub other: Value,
}

/// What a CPE names: an application, an operating system or a hardware device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Application,
    OperatingSystem,
    Hardware,
    Any,
}

/// One attribute's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `*`: any value.
    Any,
    /// `-`: not applicable.
    Na,
    /// A literal value, unescaped (`1.0\:beta` is held as `1.0:beta`).
    Text(String),
    /// A literal with a wildcard at one end or both (`1.1.*`, `??x`).
    Pattern(Pattern),
}

/// A value with wildcards: only a source name (an advisory's) may carry them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    pub leading: Wildcard,
    /// The literal between the wildcards, unescaped.
    pub text: String,
    pub trailing: Wildcard,
}

/// A wildcard at one end of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Wildcard {
    None,
    /// `*`: any number of characters.
    Any,
    /// `?` repeated: up to this many characters.
    UpTo(usize),
}

/// A string that is not a CPE name, with the attribute and byte offset where reading stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CpeError {
    #[error(
        "not a CPE name: it starts with neither `cpe:2.3:` (formatted string) nor `cpe:/` (2.2 URI)"
    )]
    Prefix,
    #[error(
        "CPE 2.3 formatted string has {found} attributes after `cpe:2.3:`, expected 11 (part, vendor, product, version, update, edition, language, sw_edition, target_sw, target_hw, other)"
    )]
    AttributeCount { found: usize },
    #[error("CPE 2.2 URI has {found} components after `cpe:/`, at most 7 are allowed")]
    UriComponentCount { found: usize },
    #[error("CPE attribute `{attribute}` at byte {offset}: {problem}")]
    Attribute {
        attribute: &'static str,
        offset: usize,
        problem: &'static str,
    },
}

const ATTRIBUTES: [&str; 11] = [
    "part",
    "vendor",
    "product",
    "version",
    "update",
    "edition",
    "language",
    "sw_edition",
    "target_sw",
    "target_hw",
    "other",
];

/// How one attribute relates to the same attribute of another name (NISTIR 7696 Table 6-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Superset,
    Equal,
    Subset,
    Disjoint,
    Undefined,
}

/// One character of a value as read: whether it was escaped decides whether `*` and `?` are
/// wildcards.
#[derive(Clone, Copy)]
struct Char {
    value: char,
    quoted: bool,
}

impl Cpe {
    /// Reads a formatted string (`cpe:2.3:…`) or a 2.2 URI (`cpe:/…`).
    pub fn parse(name: &str) -> Result<Cpe, CpeError> {
        let prefix = |p: &str| {
            name.len() >= p.len() && name.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        if prefix("cpe:2.3:") {
            parse_formatted(name)
        } else if prefix("cpe:/") {
            parse_uri(name)
        } else {
            Err(CpeError::Prefix)
        }
    }

    /// The vendor when it is literal text.
    pub fn vendor(&self) -> Option<&str> {
        self.vendor.text()
    }

    /// The product when it is literal text.
    pub fn product(&self) -> Option<&str> {
        self.product.text()
    }

    /// The version when it is literal text.
    pub fn version(&self) -> Option<&str> {
        self.version.text()
    }

    fn values(&self) -> [&Value; 10] {
        [
            &self.vendor,
            &self.product,
            &self.version,
            &self.update,
            &self.edition,
            &self.language,
            &self.sw_edition,
            &self.target_sw,
            &self.target_hw,
            &self.other,
        ]
    }

    /// NISTIR 7696 name matching with `self` as the source (an advisory's name, which may
    /// hold ANY, NA and wildcards) and `target` a concrete name (a component's): true when
    /// every attribute of the source is a superset of, or equal to, the target's. Text compares
    /// case-insensitively. A target holding wildcards matches nothing (the relation is
    /// undefined).
    pub fn matches(&self, target: &Cpe) -> bool {
        let part = match (self.part, target.part) {
            (Part::Any, Part::Any) => Relation::Equal,
            (Part::Any, _) => Relation::Superset,
            (_, Part::Any) => Relation::Subset,
            (x, y) if x == y => Relation::Equal,
            _ => Relation::Disjoint,
        };
        std::iter::once(part)
            .chain(
                self.values()
                    .into_iter()
                    .zip(target.values())
                    .map(|(source, target)| relation(source, target)),
            )
            .all(|relation| matches!(relation, Relation::Superset | Relation::Equal))
    }
}

impl Value {
    /// The literal text; `None` for ANY, NA and patterns.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }
}

fn relation(source: &Value, target: &Value) -> Relation {
    match (source, target) {
        (Value::Any, Value::Any) => Relation::Equal,
        (Value::Any, _) => Relation::Superset,
        (Value::Na, Value::Na) => Relation::Equal,
        (_, Value::Any) => Relation::Subset,
        (Value::Na, _) | (_, Value::Na) => Relation::Disjoint,
        (_, Value::Pattern(_)) => Relation::Undefined,
        (Value::Text(source), Value::Text(target)) => {
            if eq_ignore_case(source, target) {
                Relation::Equal
            } else {
                Relation::Disjoint
            }
        }
        (Value::Pattern(pattern), Value::Text(target)) => {
            if pattern.matches(target) {
                Relation::Superset
            } else {
                Relation::Disjoint
            }
        }
    }
}

pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        // Nearly every name: byte by byte, without decoding characters.
        return a.eq_ignore_ascii_case(b);
    }
    a.len() == b.len()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| x.to_lowercase().eq(y.to_lowercase()))
}

impl Pattern {
    /// Whether the literal occurs in `target` with at most as many characters before and
    /// after it as the wildcards allow (NISTIR 7696 §6.1.3's `compare_strings`).
    fn matches(&self, target: &str) -> bool {
        let text_chars = self.text.chars().count();
        let target_chars = target.chars().count();
        let Some(last_start) = target_chars.checked_sub(text_chars) else {
            return false;
        };
        let allows = |wildcard: Wildcard, count: usize| match wildcard {
            Wildcard::None => count == 0,
            Wildcard::Any => true,
            Wildcard::UpTo(max) => count <= max,
        };
        target
            .char_indices()
            .map(|(offset, _)| offset)
            .chain(std::iter::once(target.len()))
            .enumerate()
            .take(last_start + 1)
            .any(|(before, offset)| {
                let after = target_chars - before - text_chars;
                allows(self.leading, before)
                    && allows(self.trailing, after)
                    && starts_with_ignore_case(&target[offset..], &self.text)
            })
    }
}

fn starts_with_ignore_case(haystack: &str, prefix: &str) -> bool {
    let mut haystack = haystack.chars();
    prefix.chars().all(|p| {
        haystack
            .next()
            .is_some_and(|h| h.to_lowercase().eq(p.to_lowercase()))
    })
}

/// Splits the formatted string at unescaped colons and reads each attribute.
fn parse_formatted(name: &str) -> Result<Cpe, CpeError> {
    let body_start = "cpe:2.3:".len();
    let body = &name[body_start..];
    let mut fields: Vec<(usize, Vec<Char>)> = vec![(body_start, Vec::new())];
    let mut chars = body.char_indices();
    while let Some((offset, c)) = chars.next() {
        match c {
            ':' => fields.push((body_start + offset + 1, Vec::new())),
            '\\' => {
                let attribute = ATTRIBUTES.get(fields.len() - 1).copied().unwrap_or("other");
                let Some((_, quoted)) = chars.next() else {
                    return Err(CpeError::Attribute {
                        attribute,
                        offset: body_start + offset,
                        problem: "a backslash ends the name; it must quote a character",
                    });
                };
                if let Some((_, field)) = fields.last_mut() {
                    field.push(Char {
                        value: quoted,
                        quoted: true,
                    });
                }
            }
            c => {
                if let Some((_, field)) = fields.last_mut() {
                    field.push(Char {
                        value: c,
                        quoted: false,
                    });
                }
            }
        }
    }
    if fields.len() != ATTRIBUTES.len() {
        return Err(CpeError::AttributeCount {
            found: fields.len(),
        });
    }
    let mut values = Vec::with_capacity(10);
    for ((offset, chars), attribute) in fields.iter().zip(ATTRIBUTES).skip(1) {
        values.push(read_value(attribute, *offset, chars)?);
    }
    let (part_offset, part_chars) = &fields[0];
    let part = read_part(*part_offset, part_chars)?;
    Ok(assemble(part, values))
}

fn read_part(offset: usize, chars: &[Char]) -> Result<Part, CpeError> {
    match chars {
        [
            Char {
                value,
                quoted: false,
            },
        ] => match value.to_ascii_lowercase() {
            'a' => Ok(Part::Application),
            'o' => Ok(Part::OperatingSystem),
            'h' => Ok(Part::Hardware),
            '*' => Ok(Part::Any),
            _ => Err(part_error(offset)),
        },
        [] => Ok(Part::Any),
        _ => Err(part_error(offset)),
    }
}

fn part_error(offset: usize) -> CpeError {
    CpeError::Attribute {
        attribute: "part",
        offset,
        problem: "part must be `a` (application), `o` (operating system), `h` (hardware) or `*`",
    }
}

fn assemble(part: Part, values: Vec<Value>) -> Cpe {
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Any);
    Cpe {
        part,
        vendor: next(),
        product: next(),
        version: next(),
        update: next(),
        edition: next(),
        language: next(),
        sw_edition: next(),
        target_sw: next(),
        target_hw: next(),
        other: next(),
    }
}

/// One attribute's characters: `*` alone is ANY, `-` alone NA, otherwise text with unquoted
/// `*` (one) or `?` (any number) allowed only at either end.
fn read_value(attribute: &'static str, offset: usize, chars: &[Char]) -> Result<Value, CpeError> {
    let error = |problem| CpeError::Attribute {
        attribute,
        offset,
        problem,
    };
    let unquoted = |c: &Char, want: char| !c.quoted && c.value == want;
    match chars {
        [] => {
            return Err(error(
                "the value is empty; write `*` for any value or `-` for not applicable",
            ));
        }
        [c] if unquoted(c, '*') => return Ok(Value::Any),
        [c] if unquoted(c, '-') => return Ok(Value::Na),
        _ => {}
    }
    let (leading, rest) = leading_wildcard(chars);
    let (trailing, middle) = trailing_wildcard(rest);
    let mut text = String::with_capacity(middle.len());
    for c in middle {
        if !c.quoted && matches!(c.value, '*' | '?') {
            return Err(error(
                "an unquoted `*` or `?` may stand only at the start or end of a value; quote it as `\\*` or `\\?`",
            ));
        }
        if c.value.is_whitespace() || c.value.is_control() {
            return Err(error(
                "whitespace and control characters are not allowed in a CPE value",
            ));
        }
        text.push(c.value);
    }
    if leading == Wildcard::None && trailing == Wildcard::None {
        Ok(Value::Text(text))
    } else {
        Ok(Value::Pattern(Pattern {
            leading,
            text,
            trailing,
        }))
    }
}

fn leading_wildcard(chars: &[Char]) -> (Wildcard, &[Char]) {
    match chars.first() {
        Some(c) if !c.quoted && c.value == '*' => (Wildcard::Any, &chars[1..]),
        _ => {
            let questions = chars
                .iter()
                .take_while(|c| !c.quoted && c.value == '?')
                .count();
            if questions == 0 {
                (Wildcard::None, chars)
            } else {
                (Wildcard::UpTo(questions), &chars[questions..])
            }
        }
    }
}

fn trailing_wildcard(chars: &[Char]) -> (Wildcard, &[Char]) {
    match chars.last() {
        Some(c) if !c.quoted && c.value == '*' => (Wildcard::Any, &chars[..chars.len() - 1]),
        _ => {
            let questions = chars
                .iter()
                .rev()
                .take_while(|c| !c.quoted && c.value == '?')
                .count();
            if questions == 0 {
                (Wildcard::None, chars)
            } else {
                (Wildcard::UpTo(questions), &chars[..chars.len() - questions])
            }
        }
    }
}

/// The 2.2 URI: up to seven colon-separated components (part to language), empty or missing
/// ones ANY, `-` NA, percent-encoding (`%01` the `?` wildcard, `%02` the `*` wildcard), and
/// the edition component packing the 2.3 extended attributes as `~ed~sw~tsw~thw~other`.
fn parse_uri(name: &str) -> Result<Cpe, CpeError> {
    let body_start = "cpe:/".len();
    let body = &name[body_start..];
    let mut components: Vec<(usize, &str)> = Vec::new();
    let mut offset = body_start;
    for component in body.split(':') {
        components.push((offset, component));
        offset += component.len() + 1;
    }
    if components.len() > 7 {
        return Err(CpeError::UriComponentCount {
            found: components.len(),
        });
    }
    let (part_offset, part_text) = components.first().copied().unwrap_or((body_start, ""));
    let part_chars = decode_uri(part_text, "part", part_offset)?;
    let part = read_part(part_offset, &part_chars)?;
    let mut values = Vec::with_capacity(10);
    for (index, attribute) in ATTRIBUTES.iter().enumerate().skip(1).take(5) {
        let (offset, text) = components.get(index).copied().unwrap_or((offset, ""));
        if *attribute == "edition" && text.starts_with('~') {
            let packed: Vec<&str> = text[1..].split('~').collect();
            let [edition, sw_edition, target_sw, target_hw, other] = packed[..] else {
                return Err(CpeError::Attribute {
                    attribute: "edition",
                    offset,
                    problem: "a packed edition must be `~edition~sw_edition~target_sw~target_hw~other`",
                });
            };
            values.push(uri_value(edition, "edition", offset)?);
            let language = components.get(index + 1).copied().unwrap_or((offset, ""));
            values.push(uri_value(language.1, "language", language.0)?);
            for (packed_text, packed_attribute) in [sw_edition, target_sw, target_hw, other]
                .into_iter()
                .zip(["sw_edition", "target_sw", "target_hw", "other"])
            {
                values.push(uri_value(packed_text, packed_attribute, offset)?);
            }
            return Ok(assemble(part, values));
        }
        values.push(uri_value(text, attribute, offset)?);
    }
    let (offset, language) = components.get(6).copied().unwrap_or((offset, ""));
    values.push(uri_value(language, "language", offset)?);
    Ok(assemble(part, values))
}

fn uri_value(text: &str, attribute: &'static str, offset: usize) -> Result<Value, CpeError> {
    match text {
        "" => Ok(Value::Any),
        "-" => Ok(Value::Na),
        _ => read_value(attribute, offset, &decode_uri(text, attribute, offset)?),
    }
}

/// Percent-decoding: `%01` and `%02` become the unquoted wildcards `?` and `*`; every other
/// decoded character is literal.
fn decode_uri(text: &str, attribute: &'static str, offset: usize) -> Result<Vec<Char>, CpeError> {
    let mut chars = Vec::with_capacity(text.len());
    let mut bytes = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '%' {
            let hex = rest.get(1..3).and_then(hex_byte);
            let Some(byte) = hex else {
                return Err(CpeError::Attribute {
                    attribute,
                    offset: offset + (text.len() - rest.len()),
                    problem: "`%` must start a two-digit hexadecimal escape",
                });
            };
            rest = &rest[3..];
            match byte {
                0x01 => chars.push(Char {
                    value: '?',
                    quoted: false,
                }),
                0x02 => chars.push(Char {
                    value: '*',
                    quoted: false,
                }),
                _ => {
                    // Percent-escapes may spell UTF-8 sequences; gather them before decoding.
                    bytes.clear();
                    bytes.push(byte);
                    while let Some(next) = rest
                        .strip_prefix('%')
                        .and_then(|r| r.get(..2))
                        .and_then(hex_byte)
                        .filter(|&b| b >= 0x80)
                    {
                        bytes.push(next);
                        rest = &rest[3..];
                    }
                    let decoded = std::str::from_utf8(&bytes).map_err(|_| CpeError::Attribute {
                        attribute,
                        offset,
                        problem: "percent-escapes do not spell UTF-8 text",
                    })?;
                    chars.extend(decoded.chars().map(|value| Char {
                        value,
                        quoted: true,
                    }));
                }
            }
        } else {
            chars.push(Char {
                value: c,
                quoted: false,
            });
            rest = &rest[c.len_utf8()..];
        }
    }
    Ok(chars)
}

/// Two hexadecimal digits (`from_str_radix` alone would take a sign).
fn hex_byte(digits: &str) -> Option<u8> {
    if digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        u8::from_str_radix(digits, 16).ok()
    } else {
        None
    }
}

impl fmt::Display for Cpe {
    /// The formatted-string binding (`cpe:2.3:…`), quoting what needs it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = match self.part {
            Part::Application => "a",
            Part::OperatingSystem => "o",
            Part::Hardware => "h",
            Part::Any => "*",
        };
        write!(f, "cpe:2.3:{part}")?;
        for value in self.values() {
            f.write_str(":")?;
            write_value(f, value)?;
        }
        Ok(())
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Any => f.write_str("*"),
        Value::Na => f.write_str("-"),
        Value::Text(text) => {
            // A lone hyphen would read back as NA.
            if text == "-" {
                f.write_str("\\-")
            } else {
                write_text(f, text)
            }
        }
        Value::Pattern(pattern) => {
            write_wildcard(f, pattern.leading)?;
            write_text(f, &pattern.text)?;
            write_wildcard(f, pattern.trailing)
        }
    }
}

fn write_wildcard(f: &mut fmt::Formatter<'_>, wildcard: Wildcard) -> fmt::Result {
    match wildcard {
        Wildcard::None => Ok(()),
        Wildcard::Any => f.write_str("*"),
        Wildcard::UpTo(count) => (0..count).try_for_each(|_| f.write_str("?")),
    }
}

/// Letters, digits, `_`, `.` and `-` stand as they are (the binding writes them unquoted);
/// other ASCII punctuation is quoted with a backslash.
fn write_text(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        if c.is_ascii_punctuation() && !matches!(c, '_' | '.' | '-') {
            write!(f, "\\{c}")?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl std::str::FromStr for Cpe {
    type Err = CpeError;

    fn from_str(name: &str) -> Result<Cpe, CpeError> {
        Cpe::parse(name)
    }
}

/// For the `cpe_parse` fuzz target: any bytes either fail to parse, or parse to a name
/// whose formatted string parses back to the same name.
pub fn fuzz_cpe_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(cpe) = Cpe::parse(text) {
        let bound = cpe.to_string();
        let again = Cpe::parse(&bound);
        assert_eq!(again.as_ref(), Ok(&cpe), "{text:?} bound as {bound:?}");
        // Matching never panics, whatever the names hold.
        let _ = cpe.matches(&cpe);
    }
}

#[cfg(test)]
mod tests;
