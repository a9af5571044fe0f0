//! in-toto Statement v1 (`in-toto/attestation` `spec/v1/statement.md`) with iotmark's two
//! predicate types, and building a conformity statement from an assessment.
//!
//! * [`CONFORMITY_PREDICATE`]: a declaration of conformity (route `sdoc`, signed by the
//!   manufacturer) or a certification (route `certification`, signed by the certification
//!   body) that the subject firmware images conform to a scheme. Schema:
//!   `schemas/attestation-conformity-v1.schema.json`.
//! * [`STATUS_PREDICATE`]: a suspension, revocation, end of support or reinstatement of an
//!   earlier attestation, named by the SHA-256 of its envelope. Schema:
//!   `schemas/attestation-status-v1.schema.json`.
//!
//! Subjects are the firmware images by SHA-256; in-toto matches subjects by digest only.
//! Every predicate struct denies unknown fields, and [`Statement::parse`] checks what the
//! types cannot (timestamps, dates, digests, key IDs, order of dates), naming the field.

use std::collections::BTreeMap;
use std::path::Path;

use iotmark_declare::{ComponentType, Declaration};
use iotmark_oscal::model::assessment::{AssessmentResults, ObjectiveState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Sha256;
pub use iotmark_lifecycle::machine::{Record, Trigger};

/// The in-toto Statement `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Declarations of conformity and certifications.
pub const CONFORMITY_PREDICATE: &str = "https://iotmark.dev/attestation/conformity/v1";
/// Suspension, revocation, end of support, reinstatement.
pub const STATUS_PREDICATE: &str = "https://iotmark.dev/attestation/status/v1";
/// More subjects than this are refused (a product ships a handful of images).
pub const MAX_SUBJECTS: usize = 256;
/// Longest manufacturer, product or model name, scheme, tier or organisation, in characters:
/// these are shown on public pages and labels, and nothing printed on a box is longer.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest product version, in characters.
pub const MAX_VERSION_CHARS: usize = 64;
/// Longest reason for a status change, in characters.
pub const MAX_REASON_CHARS: usize = 2000;
/// Most vulnerabilities one status change names.
pub const MAX_VULNERABILITIES: usize = 1000;
/// Longest vulnerability ID (`CVE-2024-123456`, `GHSA-…`, an OSV ID), in characters.
pub const MAX_VULNERABILITY_ID_CHARS: usize = 100;

/// A problem with a statement: the field (dotted path) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statement `{field}`: {message}")]
pub struct StatementError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> StatementError {
    StatementError {
        field: field.into(),
        message: message.into(),
    }
}

/// A firmware image: its file name and digests (`sha256` required).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub name: String,
    /// Algorithm → lower-case hex digest; `sha256` must be present.
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    pub fn sha256(name: &str, hex_digest: &str) -> Self {
        Subject {
            name: name.to_owned(),
            digest: BTreeMap::from([("sha256".to_owned(), hex_digest.to_owned())]),
        }
    }
}

/// How conformity was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    /// The manufacturer's supplier's declaration of conformity, signed by the manufacturer.
    Sdoc,
    /// Third-party certification, signed by the certification body.
    Certification,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Sdoc => "sdoc",
            Route::Certification => "certification",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Route::Sdoc => "the manufacturer's declaration of conformity",
            Route::Certification => "third-party certification",
        }
    }
}

impl std::str::FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sdoc" => Ok(Route::Sdoc),
            "certification" => Ok(Route::Certification),
            other => Err(format!("route {other:?} is not `sdoc` or `certification`")),
        }
    }
}

/// The product, as its declaration names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestedProduct {
    /// The declaration's `product.id`.
    #[schemars(regex(pattern = iotmark_declare::PRODUCT_ID_PATTERN))]
    pub id: String,
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub manufacturer: String,
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub name: String,
    #[schemars(length(min = 1, max = MAX_NAME_CHARS))]
    pub model: String,
    /// The version of the product's device component (its firmware version).
    #[schemars(length(min = 1, max = MAX_VERSION_CHARS))]
    pub version: String,
}

/// Finding counts of the assessment, by iotmark status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingCounts {
    pub satisfied: u32,
    pub not_satisfied: u32,
    pub not_applicable: u32,
    pub needs_review: u32,
}

/// The assessment results the attestation rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentRef {
    /// SHA-256 of the OSCAL assessment-results file, exactly as written by `iotmark assess`.
    #[schemars(with = "String", regex(pattern = r"^[0-9a-f]{64}$"))]
    pub results_sha256: Sha256,
    pub summary: FindingCounts,
    /// Whether the assessment found the product conforms.
    pub conforms: bool,
}

/// Who signs: the organisation and its key ID (hex SHA-256 of the raw Ed25519 key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Party {
    pub organisation: String,
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub key_id: String,
}

/// `https://iotmark.dev/attestation/conformity/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "iotmark conformity attestation predicate v1")]
pub struct ConformityPredicate {
    pub product: AttestedProduct,
    /// The conformity scheme's ID (`iotmark scheme list`).
    pub scheme: String,
    /// The risk tier the assessment placed the product in.
    pub tier: String,
    pub route: Route,
    /// The requirement catalog or OSCAL profile the scheme assessed against, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub assessment: AssessmentRef,
    pub assessor: Party,
    /// When the attestation was issued (RFC 3339).
    #[serde(with = "rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub issued: jiff::Timestamp,
    /// Until when it is valid (RFC 3339, exclusive).
    #[serde(with = "rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub valid_until: jiff::Timestamp,
    /// End of the security-update support period (YYYY-MM-DD), when declared.
    #[serde(
        default,
        with = "calendar_date",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub support_end: Option<jiff::civil::Date>,
    /// SHA-256 of the SBOM of the attested images (CycloneDX or SPDX JSON, its bytes as
    /// written), when the attestation rests on one. The registry keeps that SBOM, and only
    /// that one, to watch the version for new vulnerabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9a-f]{64}$"))]
    pub sbom_sha256: Option<Sha256>,
}

/// What a status attestation does to the one it refers to: the record a row of the
/// lifecycle table (`iotmark_lifecycle::machine::TRANSITIONS`) writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StatusKind {
    /// A known exploitable vulnerability in an attested component is open; the scheme's
    /// deadline to fix it runs. The attestation does not hold meanwhile.
    Vulnerable,
    /// Not valid until reinstated.
    Suspension,
    /// Never valid again (unless the operator upholds an appeal).
    Revocation,
    /// Security updates have ended; the attestation no longer holds.
    EndOfSupport,
    /// Lifts a suspension, or the vulnerable state once its vulnerabilities are resolved.
    Reinstatement,
    /// The validity period ended without renewal.
    Expiry,
    /// The manufacturer marked the version invalid.
    Withdrawal,
}

impl StatusKind {
    pub const ALL: [StatusKind; 7] = [
        StatusKind::Vulnerable,
        StatusKind::Suspension,
        StatusKind::Revocation,
        StatusKind::EndOfSupport,
        StatusKind::Reinstatement,
        StatusKind::Expiry,
        StatusKind::Withdrawal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Vulnerable => "vulnerable",
            StatusKind::Suspension => "suspension",
            StatusKind::Revocation => "revocation",
            StatusKind::EndOfSupport => "end-of-support",
            StatusKind::Reinstatement => "reinstatement",
            StatusKind::Expiry => "expiry",
            StatusKind::Withdrawal => "withdrawal",
        }
    }

    /// The lifecycle record this status is.
    pub fn record(self) -> Record {
        match self {
            StatusKind::Vulnerable => Record::Vulnerable,
            StatusKind::Suspension => Record::Suspension,
            StatusKind::Revocation => Record::Revocation,
            StatusKind::EndOfSupport => Record::EndOfSupport,
            StatusKind::Reinstatement => Record::Reinstatement,
            StatusKind::Expiry => Record::Expiry,
            StatusKind::Withdrawal => Record::Withdrawal,
        }
    }
}

impl std::str::FromStr for StatusKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        StatusKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let words: Vec<&str> = StatusKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("status {s:?} is not one of {}", words.join(", "))
            })
    }
}

/// The attestation a status attestation changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RefersTo {
    /// SHA-256 of the referred envelope's bytes, as published.
    #[schemars(with = "String", regex(pattern = r"^[0-9a-f]{64}$"))]
    pub envelope_sha256: Sha256,
    /// The referred statement's subject (the firmware images).
    pub subject: Vec<Subject>,
}

/// `https://iotmark.dev/attestation/status/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "iotmark status attestation predicate v1")]
pub struct StatusPredicate {
    pub status: StatusKind,
    pub refers_to: RefersTo,
    pub reason: String,
    /// From when the change applies (RFC 3339).
    #[serde(with = "rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub effective: jiff::Timestamp,
    #[serde(with = "rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub issued: jiff::Timestamp,
    pub issuer: Party,
    /// Why, in the lifecycle table's words (`attested`, `deadline-missed`, `appeal-upheld`,
    /// …). Without it, the registry takes the one row that records `status`, applies to the
    /// attestation's state and may be caused by the signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// For `vulnerable` (and the suspension that follows a missed deadline): the open
    /// vulnerabilities, by ID, that caused the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
    /// For `vulnerable`: when the scheme's deadline to fix them passes (RFC 3339).
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub deadline: Option<jiff::Timestamp>,
}

/// What a status change says beyond its kind and reason; the monitor fills it, a person
/// changing a status usually leaves it empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusDetails {
    pub trigger: Option<Trigger>,
    pub vulnerabilities: Vec<String>,
    pub deadline: Option<jiff::Timestamp>,
}

/// A statement's predicate, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Predicate {
    Conformity(ConformityPredicate),
    Status(StatusPredicate),
}

impl Predicate {
    pub fn type_uri(&self) -> &'static str {
        match self {
            Predicate::Conformity(_) => CONFORMITY_PREDICATE,
            Predicate::Status(_) => STATUS_PREDICATE,
        }
    }
}

/// An in-toto Statement v1 with one of our predicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub subject: Vec<Subject>,
    pub predicate: Predicate,
}

#[derive(Serialize)]
struct WireStatement {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    predicate: Value,
}

/// Reading side: the predicate stays raw text until its type is known, so it is parsed once,
/// straight into its struct.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireStatementIn<'a> {
    #[serde(rename = "_type")]
    statement_type: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(borrow)]
    predicate: &'a serde_json::value::RawValue,
}

impl Statement {
    /// The statement as JSON, the DSSE payload.
    pub fn to_json(&self) -> Vec<u8> {
        let predicate = match &self.predicate {
            Predicate::Conformity(p) => serde_json::to_value(p),
            Predicate::Status(p) => serde_json::to_value(p),
        }
        .unwrap_or(Value::Null);
        let wire = WireStatement {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: self.subject.clone(),
            predicate_type: self.predicate.type_uri().to_owned(),
            predicate,
        };
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Parses and checks a statement (a verified DSSE payload).
    pub fn parse(bytes: &[u8]) -> Result<Self, StatementError> {
        let wire: WireStatementIn<'_> = serde_json::from_slice(bytes).map_err(|e| {
            err(
                "(statement)",
                format!(
                    "not an in-toto Statement: {e}; expected an object with `_type`, `subject`, `predicateType` and `predicate`"
                ),
            )
        })?;
        if wire.statement_type != STATEMENT_TYPE {
            return Err(err(
                "_type",
                format!("is {:?}, expected {STATEMENT_TYPE:?}", wire.statement_type),
            ));
        }
        check_subjects("subject", &wire.subject)?;
        let predicate = match wire.predicate_type.as_str() {
            CONFORMITY_PREDICATE => {
                let p: ConformityPredicate = predicate(wire.predicate.get())?;
                check_conformity(&p)?;
                Predicate::Conformity(p)
            }
            STATUS_PREDICATE => {
                let p: StatusPredicate = predicate(wire.predicate.get())?;
                check_status(&p)?;
                Predicate::Status(p)
            }
            other => {
                return Err(err(
                    "predicateType",
                    format!(
                        "{other:?} is not an iotmark predicate type; expected {CONFORMITY_PREDICATE} or {STATUS_PREDICATE}"
                    ),
                ));
            }
        };
        Ok(Statement {
            subject: wire.subject,
            predicate,
        })
    }
}

fn check_subjects(field: &str, subjects: &[Subject]) -> Result<(), StatementError> {
    if subjects.is_empty() {
        return Err(err(
            field,
            "is empty; at least one firmware image is needed",
        ));
    }
    if subjects.len() > MAX_SUBJECTS {
        return Err(err(
            field,
            format!("has {} entries; at most {MAX_SUBJECTS}", subjects.len()),
        ));
    }
    for (i, s) in subjects.iter().enumerate() {
        match s.digest.get("sha256") {
            Some(d) => check_hex64(&format!("{field}[{i}].digest.sha256"), d)?,
            None => {
                return Err(err(
                    format!("{field}[{i}].digest"),
                    "has no `sha256`; subjects are matched by SHA-256",
                ));
            }
        }
    }
    Ok(())
}

fn check_hex64(field: &str, value: &str) -> Result<(), StatementError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(err(
            field,
            format!(
                "{:?} is not a SHA-256 digest (64 lower-case hexadecimal digits)",
                truncate(value)
            ),
        ))
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A predicate, straight into its typed struct. Only when that fails is the text read again,
/// through a path-tracking deserializer, to name the field at fault: the common case pays for
/// one parse.
fn predicate<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, StatementError> {
    serde_json::from_str(raw).or_else(|_| {
        let value: Value =
            serde_json::from_str(raw).map_err(|e| err("predicate", e.to_string()))?;
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let field = if path == "." {
                "predicate".to_owned()
            } else {
                format!("predicate.{path}")
            };
            err(field, e.into_inner().to_string())
        })
    })
}

/// RFC 3339 timestamps in predicates, written as jiff writes them (`2026-11-22T10:00:00Z`).
mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(t)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(|_| {
            serde::de::Error::custom(format!(
                "{:?} is not an RFC 3339 timestamp such as 2026-11-22T10:00:00Z",
                super::truncate(&text)
            ))
        })
    }
}

/// Optional RFC 3339 timestamps in predicates.
mod rfc3339_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<jiff::Timestamp>, D::Error> {
        let Some(text) = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? else {
            return Ok(None);
        };
        text.parse().map(Some).map_err(|_| {
            serde::de::Error::custom(format!(
                "{:?} is not an RFC 3339 timestamp such as 2026-11-22T10:00:00Z",
                super::truncate(&text)
            ))
        })
    }
}

/// Optional `YYYY-MM-DD` dates in predicates (exactly ten characters: no other forms jiff
/// would also read).
mod calendar_date {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        d: &Option<jiff::civil::Date>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<jiff::civil::Date>, D::Error> {
        let Some(text) = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)? else {
            return Ok(None);
        };
        match text.parse::<jiff::civil::Date>() {
            Ok(date) if text.len() == 10 => Ok(Some(date)),
            _ => Err(serde::de::Error::custom(format!(
                "{:?} is not a date in the form YYYY-MM-DD",
                super::truncate(&text)
            ))),
        }
    }
}

fn check_conformity(p: &ConformityPredicate) -> Result<(), StatementError> {
    check_hex64("predicate.assessor.key_id", &p.assessor.key_id)?;
    if p.valid_until <= p.issued {
        return Err(err(
            "predicate.valid_until",
            format!("{} is not after `issued` {}", p.valid_until, p.issued),
        ));
    }
    iotmark_declare::check_product_id(&p.product.id).map_err(|e| {
        let shown = iotmark_declare::preview(&p.product.id);
        err("predicate.product.id", format!("{shown:?}: {e}"))
    })?;
    for (field, value, max) in [
        (
            "predicate.product.manufacturer",
            &p.product.manufacturer,
            MAX_NAME_CHARS,
        ),
        ("predicate.product.name", &p.product.name, MAX_NAME_CHARS),
        ("predicate.product.model", &p.product.model, MAX_NAME_CHARS),
        (
            "predicate.product.version",
            &p.product.version,
            MAX_VERSION_CHARS,
        ),
        ("predicate.scheme", &p.scheme, MAX_NAME_CHARS),
        ("predicate.tier", &p.tier, MAX_NAME_CHARS),
        (
            "predicate.assessor.organisation",
            &p.assessor.organisation,
            MAX_NAME_CHARS,
        ),
    ] {
        check_text(field, value, max)?;
    }
    Ok(())
}

/// A name or version shown to people: not empty, at most `max` characters, and no control
/// characters (which would reach terminals and logs as they are).
fn check_text(field: &str, value: &str, max: usize) -> Result<(), StatementError> {
    if value.trim().is_empty() {
        return Err(err(field, "is empty"));
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(err(field, format!("has {chars} characters; at most {max}")));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(err(
            field,
            format!("holds the control character {c:?}; remove it"),
        ));
    }
    Ok(())
}

fn check_status(p: &StatusPredicate) -> Result<(), StatementError> {
    check_subjects("predicate.refers_to.subject", &p.refers_to.subject)?;
    check_hex64("predicate.issuer.key_id", &p.issuer.key_id)?;
    if p.reason.trim().is_empty() {
        return Err(err("predicate.reason", "is empty; say why"));
    }
    let chars = p.reason.chars().count();
    if chars > MAX_REASON_CHARS {
        return Err(err(
            "predicate.reason",
            format!("has {chars} characters; at most {MAX_REASON_CHARS}"),
        ));
    }
    check_text(
        "predicate.issuer.organisation",
        &p.issuer.organisation,
        MAX_NAME_CHARS,
    )?;
    if p.vulnerabilities.len() > MAX_VULNERABILITIES {
        return Err(err(
            "predicate.vulnerabilities",
            format!(
                "names {} vulnerabilities; at most {MAX_VULNERABILITIES}",
                p.vulnerabilities.len()
            ),
        ));
    }
    for (i, id) in p.vulnerabilities.iter().enumerate() {
        check_text(
            &format!("predicate.vulnerabilities[{i}]"),
            id,
            MAX_VULNERABILITY_ID_CHARS,
        )?;
    }
    if let Some(trigger) = p.trigger {
        let row = iotmark_lifecycle::machine::TRANSITIONS
            .iter()
            .find(|t| t.trigger == trigger);
        if row.is_none_or(|t| t.records != p.status.record()) {
            return Err(err(
                "predicate.trigger",
                format!(
                    "{trigger} does not record a {}; see the lifecycle table",
                    p.status.as_str()
                ),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// JSON Schemas
// ---------------------------------------------------------------------------------------------

/// `$id` of the conformity predicate's schema (`schemas/attestation-conformity-v1.schema.json`).
pub const CONFORMITY_SCHEMA_ID: &str =
    "https://iotmark.dev/schemas/attestation-conformity-v1.schema.json";
/// `$id` of the status predicate's schema (`schemas/attestation-status-v1.schema.json`).
pub const STATUS_SCHEMA_ID: &str = "https://iotmark.dev/schemas/attestation-status-v1.schema.json";

fn schema_text(mut schema: Value, id: &str) -> String {
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".to_owned(), Value::String(id.to_owned()));
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The conformity predicate's JSON Schema as committed (pretty, final newline).
pub fn conformity_schema_text() -> String {
    schema_text(
        serde_json::to_value(schemars::schema_for!(ConformityPredicate)).unwrap_or(Value::Null),
        CONFORMITY_SCHEMA_ID,
    )
}

/// The status predicate's JSON Schema as committed.
pub fn status_schema_text() -> String {
    schema_text(
        serde_json::to_value(schemars::schema_for!(StatusPredicate)).unwrap_or(Value::Null),
        STATUS_SCHEMA_ID,
    )
}

// ---------------------------------------------------------------------------------------------
// Building a conformity statement
// ---------------------------------------------------------------------------------------------

/// Why no conformity statement could be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Load(#[from] iotmark_oscal::LoadError),
    #[error(
        "{path}: is an OSCAL {found}, expected assessment-results (written by `iotmark assess --out DIR`)"
    )]
    NotResults { path: String, found: String },
    #[error("{path}: {message}")]
    Results { path: String, message: String },
    #[error("the declaration {0}")]
    Declaration(String),
    #[error(
        "the assessment found that the product does not conform ({satisfied} satisfied, {not_satisfied} not satisfied, {needs_review} needing review, of which {open_mandatory} mandatory); fix the gaps and assess again before attesting"
    )]
    DoesNotConform {
        satisfied: u32,
        not_satisfied: u32,
        needs_review: u32,
        open_mandatory: u32,
    },
    #[error(
        "tier {tier:?} of scheme {scheme:?} must be shown by {required}; a manufacturer's SDoC is not enough: use route `certification`, signed by the certification body"
    )]
    RouteTooWeak {
        scheme: String,
        tier: String,
        required: String,
    },
    #[error("{0}")]
    Invalid(#[from] StatementError),
}

/// What the signer adds to the assessment and the declaration.
#[derive(Debug, Clone)]
pub struct ConformityInput {
    pub route: Route,
    /// The catalog or profile the scheme assessed against, when the caller knows it.
    pub profile: Option<String>,
    /// The signing organisation (manufacturer for `sdoc`, certification body otherwise).
    pub organisation: String,
    /// The signer's key ID ([`crate::keys::Signer::key_id`]).
    pub key_id: String,
    pub issued: jiff::Timestamp,
    pub valid_until: jiff::Timestamp,
    /// SHA-256 of the SBOM the attestation rests on, when there is one.
    pub sbom_sha256: Option<Sha256>,
}

const IOTMARK_NS: &str = "https://iotmark.dev/ns/oscal";

/// Builds a conformity statement from the bytes of an OSCAL assessment-results file written
/// by `iotmark assess` (`results_name` names it in errors) and the product declaration.
///
/// The mapping, kept deliberately small:
/// * scheme, tier and assessment route come from the results' metadata props in the iotmark
///   namespace (`scheme`, `risk-tier`, `route`); `product-id` must equal the declaration's;
/// * counts come from the findings of the last result: the iotmark `assessment-status` prop
///   when present (satisfied, not-satisfied, not-applicable, needs-review), else OSCAL's
///   `target.status.state` (satisfied / not-satisfied); `mandatory` defaults to true;
/// * the product conforms when no mandatory finding is not-satisfied or needs-review and
///   the result's description does not say "Verdict: does not conform" (scheme obligations
///   are not findings, but they do set the verdict);
/// * product identity and the firmware subjects come from the declaration: every
///   `components[].firmware[]` image, and the version of the first device component;
/// * a non-conforming product is refused, and so is route `sdoc` when the tier requires
///   third-party testing.
pub fn conformity_statement(
    results: &[u8],
    results_name: &Path,
    declaration: &Declaration,
    input: &ConformityInput,
) -> Result<Statement, BuildError> {
    let assessed = AssessedResults::read(results, results_name)?;
    conformity_statement_from(&assessed, declaration, input)
}

/// What an OSCAL assessment-results file written by `iotmark assess` says, read once: the
/// facts a conformity statement is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessedResults {
    /// The file, as named to [`AssessedResults::read`], for messages.
    pub path: String,
    /// SHA-256 of the file's bytes, which the statement binds.
    pub sha256: Sha256,
    pub product_id: String,
    /// The scheme's ID (`iotmark scheme list`).
    pub scheme: String,
    pub tier: String,
    /// How the scheme's tier must be shown.
    pub route: iotmark_assess::Route,
    pub counts: FindingCounts,
    /// Mandatory findings not satisfied or needing review.
    pub open_mandatory: u32,
    pub conforms: bool,
}

impl AssessedResults {
    /// Loads and validates the results (`name` names them in errors) and reads their facts.
    pub fn read(results: &[u8], name: &Path) -> Result<Self, BuildError> {
        let path = name.display().to_string();
        let document = iotmark_oscal::Loader::default().load_bytes(name, results)?;
        let iotmark_oscal::Document::AssessmentResults(ar) = document else {
            return Err(BuildError::NotResults {
                path,
                found: document.kind().root_key().to_owned(),
            });
        };
        read_results(&ar, path, Sha256::of(results))
    }
}

/// As [`conformity_statement`], from results already read.
pub fn conformity_statement_from(
    facts: &AssessedResults,
    declaration: &Declaration,
    input: &ConformityInput,
) -> Result<Statement, BuildError> {
    let facts = facts.clone();
    let path = facts.path.clone();
    if facts.product_id != declaration.product.id {
        return Err(BuildError::Results {
            path,
            message: format!(
                "the results are for product {:?}, the declaration is for {:?}",
                facts.product_id, declaration.product.id
            ),
        });
    }
    if !facts.conforms {
        return Err(BuildError::DoesNotConform {
            satisfied: facts.counts.satisfied,
            not_satisfied: facts.counts.not_satisfied,
            needs_review: facts.counts.needs_review,
            open_mandatory: facts.open_mandatory,
        });
    }
    if input.route == Route::Sdoc && facts.route != iotmark_assess::Route::SelfDeclaration {
        return Err(BuildError::RouteTooWeak {
            scheme: facts.scheme,
            tier: facts.tier,
            required: facts.route.as_str().to_owned(),
        });
    }
    let subject: Vec<Subject> = declaration
        .components
        .iter()
        .flat_map(|c| c.firmware.iter())
        .map(|f| Subject::sha256(&f.file, &f.sha256))
        .collect();
    if subject.is_empty() {
        return Err(BuildError::Declaration(
            "lists no firmware image; add `components[].firmware` entries with `file` and `sha256` so the attestation names what it covers".to_owned(),
        ));
    }
    let version = declaration
        .components
        .iter()
        .find(|c| c.component_type == ComponentType::Device)
        .or_else(|| declaration.components.first())
        .map(|c| c.version.clone())
        .unwrap_or_default();
    let predicate = ConformityPredicate {
        product: AttestedProduct {
            id: declaration.product.id.clone(),
            manufacturer: declaration.product.manufacturer.name.clone(),
            name: declaration.product.name.clone(),
            model: declaration.product.model.clone(),
            version,
        },
        scheme: facts.scheme,
        tier: facts.tier,
        route: input.route,
        profile: input.profile.clone(),
        assessment: AssessmentRef {
            results_sha256: facts.sha256,
            summary: facts.counts,
            conforms: facts.conforms,
        },
        assessor: Party {
            organisation: input.organisation.clone(),
            key_id: input.key_id.clone(),
        },
        issued: input.issued,
        valid_until: input.valid_until,
        support_end: declaration
            .updates
            .support_end
            .as_deref()
            .map(|end| {
                end.parse::<jiff::civil::Date>().map_err(|e| {
                    BuildError::Declaration(format!(
                        "updates.support_end {end:?} is not a date (YYYY-MM-DD): {e}"
                    ))
                })
            })
            .transpose()?,
        sbom_sha256: input.sbom_sha256,
    };
    check_subjects("subject", &subject)
        .map_err(|e| BuildError::Declaration(format!("firmware digests: {e}")))?;
    check_conformity(&predicate)?;
    Ok(Statement {
        subject,
        predicate: Predicate::Conformity(predicate),
    })
}

/// A status statement about the envelope `envelope` (its bytes as published), whose
/// statement had `subject`.
pub fn status_statement(
    envelope: &[u8],
    subject: Vec<Subject>,
    status: StatusKind,
    reason: &str,
    effective: jiff::Timestamp,
    issued: jiff::Timestamp,
    issuer: Party,
) -> Result<Statement, StatementError> {
    status_statement_with(
        envelope,
        subject,
        status,
        reason,
        effective,
        issued,
        issuer,
        StatusDetails::default(),
    )
}

/// [`status_statement`] with its trigger, vulnerabilities and deadline.
#[allow(clippy::too_many_arguments)] // each is one field of the predicate
pub fn status_statement_with(
    envelope: &[u8],
    subject: Vec<Subject>,
    status: StatusKind,
    reason: &str,
    effective: jiff::Timestamp,
    issued: jiff::Timestamp,
    issuer: Party,
    details: StatusDetails,
) -> Result<Statement, StatementError> {
    let predicate = StatusPredicate {
        status,
        refers_to: RefersTo {
            envelope_sha256: Sha256::of(envelope),
            subject: subject.clone(),
        },
        reason: reason.to_owned(),
        effective,
        issued,
        issuer,
        trigger: details.trigger,
        vulnerabilities: details.vulnerabilities,
        deadline: details.deadline,
    };
    check_subjects("subject", &subject)?;
    check_status(&predicate)?;
    Ok(Statement {
        subject,
        predicate: Predicate::Status(predicate),
    })
}

fn read_results(
    ar: &AssessmentResults,
    path: String,
    sha256: Sha256,
) -> Result<AssessedResults, BuildError> {
    let prop = |name: &str| {
        ar.metadata
            .props
            .iter()
            .find(|p| p.name == name && p.ns.as_deref() == Some(IOTMARK_NS))
            .map(|p| p.value.clone())
            .ok_or_else(|| BuildError::Results {
                path: path.to_owned(),
                message: format!(
                    "metadata has no `{name}` prop in namespace {IOTMARK_NS}; were these results written by `iotmark assess`?"
                ),
            })
    };
    let (product_id, scheme, tier, route) = (
        prop("product-id")?,
        prop("scheme")?,
        prop("risk-tier")?,
        prop("route")?,
    );
    let route = route.parse().map_err(|message| BuildError::Results {
        path: path.to_owned(),
        message,
    })?;
    let Some(result) = ar.results.last() else {
        return Err(BuildError::Results {
            path: path.to_owned(),
            message: "`results` is empty".to_owned(),
        });
    };
    let mut counts = FindingCounts::default();
    let mut open_mandatory = 0u32;
    for (i, f) in result.findings.iter().enumerate() {
        let own = |name: &str| {
            f.props
                .iter()
                .find(|p| p.name == name && p.ns.as_deref() == Some(IOTMARK_NS))
                .map(|p| p.value.as_str())
        };
        let status = match own("assessment-status") {
            Some(s) => s,
            None => match f.target.status.state {
                ObjectiveState::Satisfied => "satisfied",
                ObjectiveState::NotSatisfied => "not-satisfied",
            },
        };
        let mandatory = own("mandatory") != Some("false");
        let slot = match status {
            "satisfied" => &mut counts.satisfied,
            "not-satisfied" => &mut counts.not_satisfied,
            "not-applicable" => &mut counts.not_applicable,
            "needs-review" => &mut counts.needs_review,
            other => {
                return Err(BuildError::Results {
                    path: path.to_owned(),
                    message: format!(
                        "findings[{i}] has assessment-status {other:?}; expected satisfied, not-satisfied, not-applicable or needs-review"
                    ),
                });
            }
        };
        *slot = slot.saturating_add(1);
        if mandatory && matches!(status, "not-satisfied" | "needs-review") {
            open_mandatory = open_mandatory.saturating_add(1);
        }
    }
    let verdict_says_no = result
        .description
        .trim_start()
        .starts_with("Verdict: does not conform");
    Ok(AssessedResults {
        path,
        sha256,
        product_id,
        scheme,
        tier,
        route,
        counts,
        open_mandatory,
        conforms: open_mandatory == 0 && !verdict_says_no,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // read by Debug only: the test is whether it parses
    struct Times {
        #[serde(with = "rfc3339")]
        at: jiff::Timestamp,
        #[serde(default, with = "calendar_date")]
        on: Option<jiff::civil::Date>,
    }

    fn times(json: &str) -> Result<Times, StatementError> {
        predicate(json)
    }

    #[test]
    fn dates_and_timestamps_must_be_well_formed() {
        assert!(times(r#"{"at": "2026-11-22T10:00:00Z"}"#).is_ok());
        assert!(times(r#"{"at": "2026-11-22T10:00:00+01:00", "on": "2031-06-30"}"#).is_ok());
        assert_eq!(
            times(r#"{"at": "yesterday"}"#).unwrap_err().to_string(),
            "statement `predicate.at`: \"yesterday\" is not an RFC 3339 timestamp such as 2026-11-22T10:00:00Z"
        );
        for bad in ["2031-6-30", "2031-02-30", "20310630"] {
            let json = format!(r#"{{"at": "2026-11-22T10:00:00Z", "on": "{bad}"}}"#);
            let e = times(&json).unwrap_err();
            assert_eq!(e.field, "predicate.on", "{e}");
        }
    }
}
