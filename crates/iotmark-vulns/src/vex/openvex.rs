//! OpenVEX 0.2 (openvex.dev): a document of statements, each about one vulnerability in
//! one or more products. A product listed with `subcomponents` is the image or application
//! the subcomponents ship in: the statement is about the subcomponents, which is what a scan
//! finds, so each subcomponent gets its own statement.

use serde_json::{Value, json};

use crate::error::{Read, ReadError, kind};
use crate::model::{Origin, ProductRef, VexStatement, VexStatus};
use crate::purl::Purl;
use crate::vex::fields::{Place, parse};
use crate::vex::{justification_word, last_per_product, parse_justification, parse_status};

/// The context of the version written.
pub const CONTEXT: &str = "https://openvex.dev/ns/v0.2.0";

/// Reads an OpenVEX document (0.2, and the 0.0.1 shapes where a vulnerability or product is
/// a plain string). A statement that cannot be read is skipped and reported.
pub fn read_openvex(name: &str, bytes: &[u8]) -> Result<Read<VexStatement>, ReadError> {
    let value = parse(name, bytes)?;
    read_value(name, &value)
}

pub(crate) fn read_value(name: &str, value: &Value) -> Result<Read<VexStatement>, ReadError> {
    let root = Place::root(name, value);
    let document_id = root.str("@id")?.map(str::to_owned);
    let author = root.str("author")?.map(str::to_owned);
    let timestamp = root.timestamp("timestamp")?;
    let mut out = Read::default();
    let statements = root.items("statements")?;
    if root.get("statements").is_none() {
        return Err(root
            .error("`statements` is missing")
            .with_hint("an OpenVEX document lists its statements in `statements`"));
    }
    for statement in statements {
        let origin = Origin {
            document: name.to_owned(),
            document_id: document_id.clone(),
            pointer: String::new(),
            author: author.clone(),
            timestamp,
        };
        match read_statement(&statement, origin) {
            Ok(mut records) => out.records.append(&mut records),
            Err(e) => out.skipped.push(e),
        }
    }
    Ok(out)
}

fn read_statement(statement: &Place<'_>, origin: Origin) -> Result<Vec<VexStatement>, ReadError> {
    // The vulnerability's name and its aliases: the statement is said of each, so that it
    // meets an advisory filed under any of them (a GHSA statement, an NVD record).
    let mut names = Vec::new();
    match statement.get("vulnerability") {
        Some(v) => match v.value() {
            Value::String(name) => names.push(name.clone()),
            Value::Object(_) => {
                match v.str("name")? {
                    Some(name) => names.push(name.to_owned()),
                    None => names.push(v.required_str("@id")?.to_owned()),
                }
                for (_, alias) in v.strings("aliases")? {
                    if !names.iter().any(|n| n == alias) {
                        names.push(alias.to_owned());
                    }
                }
            }
            other => return Err(v.error(format!("expected an object, found {}", kind(other)))),
        },
        None => return Err(statement.error("`vulnerability` is missing")),
    }
    let word = statement.required_str("status")?;
    let status = parse_status(word).ok_or_else(|| {
        statement
            .error_at("status", format!("`{word}` is not an OpenVEX status"))
            .with_hint("not_affected, affected, fixed or under_investigation")
    })?;
    let justification = match statement.str("justification")? {
        Some(word) => Some(parse_justification(word).ok_or_else(|| {
            statement
                .error_at(
                    "justification",
                    format!("`{word}` is not an OpenVEX justification"),
                )
                .with_hint("e.g. vulnerable_code_not_present or component_not_present")
        })?),
        None => None,
    };
    let detail = match status {
        VexStatus::NotAffected => statement.str("impact_statement")?,
        VexStatus::Affected => statement.str("action_statement")?,
        _ => None,
    }
    .or(statement.str("status_notes")?.filter(|s| !s.is_empty()))
    .map(str::to_owned);
    let timestamp = statement
        .timestamp("last_updated")?
        .or(statement.timestamp("timestamp")?)
        .or(origin.timestamp);

    let mut products = Vec::new();
    for product in statement.items("products")? {
        let subcomponents = product.items("subcomponents")?;
        if subcomponents.is_empty() {
            products.push(product);
        } else {
            products.extend(subcomponents);
        }
    }
    if products.is_empty() {
        return Err(statement
            .error("the statement names no product")
            .with_hint("a statement applies to the products in `products`"));
    }
    let mut statements = Vec::new();
    for product in &products {
        let id = product_id(product)?;
        for vulnerability in &names {
            statements.push(VexStatement {
                vulnerability: vulnerability.clone(),
                product: ProductRef {
                    id: id.clone(),
                    bounds: Default::default(),
                },
                status,
                justification,
                detail: detail.clone(),
                origin: Origin {
                    pointer: product.pointer().to_owned(),
                    timestamp,
                    ..origin.clone()
                },
            });
        }
    }
    Ok(statements)
}

/// What identifies a product: its purl (as `identifiers.purl` or as the `@id` itself),
/// else its CPE, else the `@id` as written.
fn product_id(product: &Place<'_>) -> Result<String, ReadError> {
    if let Value::String(id) = product.value() {
        return Ok(id.clone());
    }
    let id = product.str("@id")?;
    if let Some(identifiers) = product.object("identifiers")? {
        for key in ["purl", "cpe23", "cpe22"] {
            if let Some(found) = identifiers.str(key)? {
                return Ok(found.to_owned());
            }
        }
    }
    id.map(str::to_owned).ok_or_else(|| {
        product
            .error("the product has neither `@id` nor `identifiers`")
            .with_hint(
                "name the product by purl, e.g. {\"@id\": \"pkg:deb/debian/curl@7.88.1-10\"}",
            )
    })
}

/// An OpenVEX 0.2 document of the statements, one per vulnerability and product (the last
/// one winning). OpenVEX names products, not version ranges: a statement bounded to one
/// version of a purl without a version is written for `purl@version`; any other bounded
/// statement is left out rather than widened to every version ([`openvex_omits`] lists
/// them, so a caller can say so or write another format).
pub fn write_openvex(
    statements: &[VexStatement],
    author: &str,
    id: &str,
    timestamp: jiff::Timestamp,
) -> Value {
    let written: Vec<Value> = last_per_product(statements)
        .into_iter()
        .filter_map(|s| Some((s, product_name(&s.product)?)))
        .map(|(s, name)| {
            let mut statement = json!({
                "vulnerability": {"name": s.vulnerability},
                "products": [product(&name)],
                "status": crate::vex::status_word(s.status),
            });
            if let Some(timestamp) = s.origin.timestamp {
                statement["timestamp"] = json!(timestamp.to_string());
            }
            if let Some(justification) = s.justification {
                statement["justification"] = json!(justification_word(justification));
            }
            match (s.status, &s.detail) {
                (VexStatus::NotAffected, Some(detail)) => {
                    statement["impact_statement"] = json!(detail);
                }
                (VexStatus::NotAffected, None) if s.justification.is_none() => {
                    // OpenVEX requires a justification or an impact statement.
                    statement["impact_statement"] = json!("The product is not affected.");
                }
                (VexStatus::Affected, detail) => {
                    // OpenVEX requires an action statement for "affected".
                    statement["action_statement"] = json!(
                        detail
                            .as_deref()
                            .unwrap_or("No remediation is available yet.")
                    );
                }
                (_, Some(detail)) => statement["status_notes"] = json!(detail),
                _ => {}
            }
            statement
        })
        .collect();
    json!({
        "@context": CONTEXT,
        "@id": id,
        "author": author,
        "timestamp": timestamp.to_string(),
        "version": 1,
        "statements": written,
    })
}

/// The statements [`write_openvex`] leaves out: bounded to more than one version, or to a
/// version of something that is not a purl without one.
pub fn openvex_omits(statements: &[VexStatement]) -> Vec<&VexStatement> {
    statements
        .iter()
        .filter(|s| product_name(&s.product).is_none())
        .collect()
}

/// The name OpenVEX can give a product: its ID when unbounded, `purl@version` for one
/// version of a purl that names none.
fn product_name(product: &ProductRef) -> Option<String> {
    if product.bounds.is_unbounded() {
        return Some(product.id.clone());
    }
    let (Some(start), Some(end)) = (&product.bounds.start, &product.bounds.end) else {
        return None;
    };
    let one_version = start == end && start.inclusive;
    let purl = Purl::parse(&product.id)?;
    if !one_version || purl.version.is_some() {
        return None;
    }
    // The version goes before any qualifiers and subpath, percent-encoded as purl asks.
    let split = product.id.find(['?', '#']).unwrap_or(product.id.len());
    let (base, rest) = product.id.split_at(split);
    Some(format!(
        "{base}@{}{rest}",
        encode_purl_version(&start.version)
    ))
}

fn encode_purl_version(version: &str) -> String {
    let mut out = String::with_capacity(version.len());
    for byte in version.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A product as OpenVEX names one: the `@id`, and the identifier it is.
fn product(id: &str) -> Value {
    if Purl::parse(id).is_some() {
        json!({"@id": id, "identifiers": {"purl": id}})
    } else if id.starts_with("cpe:2.3:") {
        json!({"@id": id, "identifiers": {"cpe23": id}})
    } else if id.starts_with("cpe:/") {
        json!({"@id": id, "identifiers": {"cpe22": id}})
    } else {
        json!({"@id": id})
    }
}
