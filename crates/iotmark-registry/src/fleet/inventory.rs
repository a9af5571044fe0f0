//! A fleet inventory: the devices an organisation runs, from a CSV or JSON file.
//!
//! CSV (RFC 4180: a header row, commas, fields quoted with `"` when they hold commas, quotes or
//! line breaks) with the columns `product`, `version`, `image_sha256`, `count`, `location` and
//! `owner`, in any order; JSON as an array of objects with the same fields (or an object with a
//! `devices` array). Each device is named by product and version, or by the SHA-256 of its
//! firmware image, or both (then both must agree). `count` defaults to 1. An unknown column or
//! field is refused rather than ignored: a misspelt `verison` would otherwise turn every device
//! into a product without a version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Largest inventory file read: a million devices of a hundred bytes each.
pub const MAX_INVENTORY_BYTES: usize = 128 << 20;

/// One line of the inventory: a group of identical devices in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// Where it is in the file: the CSV line or the JSON array position (1-based).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Lower-case hex SHA-256 of the firmware image the devices run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_sha256: Option<String>,
    pub count: u64,
    pub location: String,
    pub owner: String,
}

impl Device {
    /// What names the device for people: `product version`, or the image digest.
    pub fn label(&self) -> String {
        match (&self.product, &self.version, &self.image_sha256) {
            (Some(p), Some(v), _) => format!("{p} {v}"),
            (Some(p), None, Some(d)) => format!("{p} image {}", &d[..12]),
            (_, _, Some(d)) => format!("image {}", &d[..12]),
            (Some(p), None, None) => p.clone(),
            (None, _, None) => String::new(),
        }
    }

    /// A key that stays the same from one run to the next while the inventory line means the
    /// same devices (its position in the file may change).
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.product.as_deref().unwrap_or_default(),
            self.version.as_deref().unwrap_or_default(),
            self.image_sha256.as_deref().unwrap_or_default(),
            self.location,
            self.owner
        )
    }
}

/// Why an inventory did not read. Each names the file and the line or field.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {len} bytes; an inventory is read whole, at most {MAX_INVENTORY_BYTES} bytes")]
    TooLarge { path: PathBuf, len: u64 },
    #[error("{path}:{line}: {message}")]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// Reads an inventory file: JSON when it ends in `.json` or starts with `[` or `{`, else CSV.
pub fn read(path: &Path) -> Result<Vec<Device>, InventoryError> {
    let len = std::fs::metadata(path)
        .map_err(|source| InventoryError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    if len > MAX_INVENTORY_BYTES as u64 {
        return Err(InventoryError::TooLarge {
            path: path.to_owned(),
            len,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| InventoryError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &bytes)
}

/// Parses inventory bytes read from `path` (named in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Device>, InventoryError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let json = path.extension().is_some_and(|e| e == "json") || matches!(first, Some(b'[' | b'{'));
    let devices = if json {
        parse_json(path, bytes)?
    } else {
        parse_csv(path, bytes)?
    };
    if devices.is_empty() {
        return Err(InventoryError::File {
            path: path.to_owned(),
            message: "no devices; give one row (or object) per group of devices".to_owned(),
        });
    }
    Ok(devices)
}

/// The fields of one device as written, before they are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    image_sha256: Option<String>,
    #[serde(default)]
    count: Option<u64>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    owner: Option<String>,
}

fn parse_json(path: &Path, bytes: &[u8]) -> Result<Vec<Device>, InventoryError> {
    // Parsed as a value first, so a syntax error has its line and column and a field error its
    // device's position.
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| InventoryError::Line {
            path: path.to_owned(),
            line: e.line(),
            message: format!("not JSON: {e}"),
        })?;
    let items = match &value {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(o) => match o.get("devices") {
            Some(serde_json::Value::Array(items)) if o.len() == 1 => items.clone(),
            _ => {
                return Err(InventoryError::File {
                    path: path.to_owned(),
                    message: "a JSON inventory is an array of devices, or an object whose only field is \"devices\", an array".to_owned(),
                });
            }
        },
        _ => {
            return Err(InventoryError::File {
                path: path.to_owned(),
                message: "a JSON inventory is an array of devices".to_owned(),
            });
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = |message: String| InventoryError::File {
                path: path.to_owned(),
                message: format!("device {} (devices[{i}]): {message}", i + 1),
            };
            let raw: RawDevice = serde_json::from_value(item).map_err(|e| {
                at(format!(
                    "{e}; the fields are product, version, image_sha256, count, location, owner"
                ))
            })?;
            check(raw, i + 1).map_err(at)
        })
        .collect()
}

/// The CSV columns, in the order the header may name them.
const COLUMNS: [&str; 6] = [
    "product",
    "version",
    "image_sha256",
    "count",
    "location",
    "owner",
];

fn parse_csv(path: &Path, bytes: &[u8]) -> Result<Vec<Device>, InventoryError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        InventoryError::Line {
            path: path.to_owned(),
            line,
            message: format!(
                "not UTF-8 at byte {}; save the inventory as UTF-8",
                e.valid_up_to()
            ),
        }
    })?;
    let at = |line: usize, message: String| InventoryError::Line {
        path: path.to_owned(),
        line,
        message,
    };
    let mut records = Records::new(text);
    let (header_line, header) = match records.next() {
        Some(r) => r.map_err(|(line, m)| at(line, m))?,
        None => {
            return Err(InventoryError::File {
                path: path.to_owned(),
                message: "empty; the first line names the columns (product,version,count,location,owner or image_sha256,…)".to_owned(),
            });
        }
    };
    let mut columns = Vec::with_capacity(header.len());
    for name in &header {
        let name = name.trim().to_ascii_lowercase();
        let name = if name == "image" {
            "image_sha256".to_owned()
        } else {
            name
        };
        if !COLUMNS.contains(&name.as_str()) {
            return Err(at(
                header_line,
                format!(
                    "unknown column {name:?}; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
        }
        if columns.contains(&name) {
            return Err(at(header_line, format!("column {name:?} appears twice")));
        }
        columns.push(name);
    }
    if !columns
        .iter()
        .any(|c| c == "product" || c == "image_sha256")
    {
        return Err(at(
            header_line,
            "no product or image_sha256 column: name each device by product and version, or by image".to_owned(),
        ));
    }
    let mut devices = Vec::new();
    for record in records {
        let (line, fields) = record.map_err(|(line, m)| at(line, m))?;
        if fields.len() == 1 && fields[0].trim().is_empty() {
            continue; // a blank line
        }
        if fields.len() != columns.len() {
            return Err(at(
                line,
                format!(
                    "{} fields, but the header names {} columns",
                    fields.len(),
                    columns.len()
                ),
            ));
        }
        let mut raw = RawDevice::default();
        for (name, value) in columns.iter().zip(fields) {
            let value = value.trim().to_owned();
            if value.is_empty() {
                continue;
            }
            match name.as_str() {
                "product" => raw.product = Some(value),
                "version" => raw.version = Some(value),
                "image_sha256" => raw.image_sha256 = Some(value),
                "count" => {
                    raw.count = Some(value.parse().map_err(|_| {
                        at(
                            line,
                            format!("count {value:?} is not a whole number of devices"),
                        )
                    })?)
                }
                "location" => raw.location = Some(value),
                _ => raw.owner = Some(value),
            }
        }
        devices.push(check(raw, line).map_err(|m| at(line, m))?);
    }
    Ok(devices)
}

/// Checks one device's fields.
fn check(raw: RawDevice, line: usize) -> Result<Device, String> {
    let image_sha256 = match raw.image_sha256 {
        Some(d) => {
            let d = d.to_ascii_lowercase();
            let d = d.strip_prefix("sha256:").unwrap_or(&d).to_owned();
            if d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "image_sha256 {d:?} is not a SHA-256 digest: give 64 hexadecimal digits"
                ));
            }
            Some(d)
        }
        None => None,
    };
    if let Some(p) = &raw.product
        && (p.is_empty()
            || p.len() > 128
            || !p
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
    {
        return Err(format!(
            "product {p:?} is not a product ID: registry IDs are lower-case letters, digits and hyphens, as on the product's page"
        ));
    }
    match (&raw.product, &raw.version, &image_sha256) {
        (None, None, None) => {
            return Err("names no device: give product and version, or image_sha256".to_owned());
        }
        (None, Some(_), _) => {
            return Err("a version without a product: add the product's ID".to_owned());
        }
        (Some(_), None, None) => {
            return Err(
                "a product without a version: give the version the devices run, or their image_sha256"
                    .to_owned(),
            );
        }
        _ => {}
    }
    let count = raw.count.unwrap_or(1);
    if count == 0 {
        return Err("count is 0: leave out devices no longer deployed".to_owned());
    }
    Ok(Device {
        line,
        product: raw.product,
        version: raw.version,
        image_sha256,
        count,
        location: raw.location.unwrap_or_default(),
        owner: raw.owner.unwrap_or_default(),
    })
}

/// The records of a CSV text with the line each starts on; an error names its line.
struct Records<'a> {
    rest: &'a str,
    line: usize,
}

impl<'a> Records<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            rest: text,
            line: 1,
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<(usize, Vec<String>), (usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let start = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut chars = self.rest.char_indices().peekable();
        let mut quoted = false;
        let mut at_field_start = true;
        let mut after_quote = false;
        while let Some((i, c)) = chars.next() {
            if quoted {
                match c {
                    '"' if chars.peek().is_some_and(|&(_, n)| n == '"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => {
                        quoted = false;
                        after_quote = true;
                    }
                    '\n' => {
                        self.line += 1;
                        field.push(c);
                    }
                    _ => field.push(c),
                }
                continue;
            }
            match c {
                '"' if at_field_start => {
                    quoted = true;
                    at_field_start = false;
                }
                '"' => {
                    self.rest = "";
                    return Some(Err((
                        self.line,
                        "a quote inside an unquoted field: quote the whole field and double the quotes inside it".to_owned(),
                    )));
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    at_field_start = true;
                    after_quote = false;
                }
                '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => {}
                '\n' => {
                    fields.push(std::mem::take(&mut field));
                    self.rest = &self.rest[i + 1..];
                    self.line += 1;
                    return Some(Ok((start, fields)));
                }
                _ if after_quote && !c.is_whitespace() => {
                    self.rest = "";
                    return Some(Err((
                        self.line,
                        format!(
                            "{c:?} after a closing quote: a quoted field ends at a comma or the line's end"
                        ),
                    )));
                }
                _ => {
                    field.push(c);
                    at_field_start = false;
                }
            }
        }
        if quoted {
            self.rest = "";
            return Some(Err((
                start,
                "a quoted field is not closed before the end of the file".to_owned(),
            )));
        }
        fields.push(field);
        self.rest = "";
        Some(Ok((start, fields)))
    }
}

/// For the fuzz target: parses arbitrary bytes as an inventory, which must never panic.
pub fn fuzz_parse(bytes: &[u8]) {
    let _ = parse(Path::new("fuzz.csv"), bytes);
    let _ = parse(Path::new("fuzz.json"), bytes);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn csv(text: &str) -> Result<Vec<Device>, InventoryError> {
        parse(Path::new("fleet.csv"), text.as_bytes())
    }

    #[test]
    fn a_csv_inventory_reads_with_quotes_crlf_and_columns_in_any_order() {
        let devices = csv(&format!(
            "owner,location,product,version,count,image_sha256\r\n\
             \"Facilities, East\",\"Building \"\"A\"\"\",acme-cam,2.5.0,12,\r\n\
             it,\"Lab\nroom 2\",,,,{}\r\n",
            DIGEST.to_ascii_uppercase()
        ))
        .unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[0].owner, "Facilities, East");
        assert_eq!(devices[0].location, "Building \"A\"");
        assert_eq!(devices[0].count, 12);
        assert_eq!(devices[0].line, 2);
        assert_eq!(devices[1].location, "Lab\nroom 2");
        assert_eq!(devices[1].image_sha256.as_deref(), Some(DIGEST));
        assert_eq!(devices[1].count, 1);
        assert_eq!(devices[1].line, 3);
    }

    #[test]
    fn mistakes_name_their_line_and_say_how_to_fix_them() {
        for (text, line, needle) in [
            ("product,verison\nx,1\n", 1, "unknown column \"verison\""),
            ("product,version\nacme,1\nacme\n", 3, "1 fields"),
            ("product,version\nAcme Cam,1\n", 2, "not a product ID"),
            ("product,version\nacme,\n", 2, "a product without a version"),
            ("product,version,count\nacme,1,many\n", 2, "whole number"),
            ("product,version,count\nacme,1,0\n", 2, "count is 0"),
            ("product,image_sha256\nacme,abc\n", 2, "64 hexadecimal"),
            ("product,version\n\"acme,1\n", 2, "not closed"),
            ("product,version\nac\"me,1\n", 2, "quote inside"),
        ] {
            let err = csv(text).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("fleet.csv:{line}: ")) && err.contains(needle),
                "{text:?}: {err}"
            );
        }
        assert!(
            csv("location\nhq\n")
                .unwrap_err()
                .to_string()
                .contains("no product")
        );
        assert!(
            csv("product,version\n")
                .unwrap_err()
                .to_string()
                .contains("no devices")
        );
    }

    #[test]
    fn a_json_inventory_reads_and_refuses_unknown_fields() {
        let path = Path::new("fleet.json");
        let devices = parse(
            path,
            br#"{"devices": [{"product": "acme-cam", "version": "2.5.0", "count": 3, "owner": "it"}]}"#,
        )
        .unwrap();
        assert_eq!(devices[0].count, 3);
        assert_eq!(devices[0].label(), "acme-cam 2.5.0");
        let err = parse(path, br#"[{"product": "acme-cam", "verison": "2"}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("device 1 (devices[0])") && err.contains("verison"),
            "{err}"
        );
        let err = parse(path, b"[{\"product\": \n 1,}]")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("fleet.json:2: not JSON"), "{err}");
    }
}
