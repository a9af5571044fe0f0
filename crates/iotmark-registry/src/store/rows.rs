//! The rows the store reads, and how values cross between Rust and the database: times as
//! seconds since the epoch, log indices as `BIGINT`, enums as their words. A stored value that
//! does not convert back is [`StoreError::Corrupt`], naming the field.

use iotmark_attest::statement::{Route, StatusKind};

use super::{
    Accreditation, ApiToken, AttestationRecord, ConformityFacts, EntryKind, Image,
    MAX_SEARCH_WORDS, Organisation, Product, ProductSummary, ProductVersion, Role, SigningKey,
    StoreError, Triage, VulnerabilityReport,
};

pub(super) fn seconds(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

pub(super) fn timestamp(what: &'static str, secs: i64) -> Result<jiff::Timestamp, StoreError> {
    jiff::Timestamp::from_second(secs).map_err(|e| StoreError::Corrupt {
        what,
        reason: format!("{secs} is not a time in seconds since the epoch: {e}"),
    })
}

fn opt_timestamp(
    what: &'static str,
    secs: Option<i64>,
) -> Result<Option<jiff::Timestamp>, StoreError> {
    secs.map(|s| timestamp(what, s)).transpose()
}

/// A `YYYY-MM-DD` date as stored.
fn date(what: &'static str, text: &str) -> Result<jiff::civil::Date, StoreError> {
    text.parse().map_err(|e| StoreError::Corrupt {
        what,
        reason: format!("{text:?} is not a date (YYYY-MM-DD): {e}"),
    })
}

fn role(what: &'static str, s: &str) -> Result<Role, StoreError> {
    s.parse()
        .map_err(|reason| StoreError::Corrupt { what, reason })
}

/// Log indexes are `u64` in the log but `BIGINT` in both databases.
pub(super) fn log_index_to_db(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| StoreError::Invalid {
        what: "attestation record",
        reason: format!("log index {index} is larger than the database can hold (2^63 - 1)"),
    })
}

pub(super) fn log_index_from_db(index: i64) -> Result<u64, StoreError> {
    u64::try_from(index).map_err(|_| StoreError::Corrupt {
        what: "attestation log index",
        reason: format!("{index} is negative"),
    })
}

fn route(s: &str) -> Result<Route, StoreError> {
    s.parse().map_err(|reason| StoreError::Corrupt {
        what: "attestation route",
        reason,
    })
}

/// The status word's enum: the one whose [`StatusKind::as_str`] it is, so the words stored are
/// the words written.
fn status_kind(s: &str) -> Result<StatusKind, StoreError> {
    s.parse().map_err(|reason| StoreError::Corrupt {
        what: "attestation status",
        reason,
    })
}

pub(super) fn kind_str(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Conformity => "conformity",
        EntryKind::Status => "status",
    }
}

/// What a search matches against: lower-cased here (full Unicode rules) rather than with SQL's
/// `LOWER`, which SQLite applies to ASCII only, so both backends find the same products.
/// Newlines separate the fields because no search word contains one.
pub(super) fn search_text(id: &str, manufacturer_name: &str, name: &str, model: &str) -> String {
    [id, manufacturer_name, name, model]
        .join("\n")
        .to_lowercase()
}

pub(super) fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

/// The `LIKE` patterns for a query: one per word, lower-cased, with `\`, `%` and `_` escaped
/// so that they match themselves.
pub(super) fn search_patterns(query: &str) -> Result<Vec<String>, StoreError> {
    let words: Vec<&str> = query.split_whitespace().collect();
    if words.len() > MAX_SEARCH_WORDS {
        return Err(StoreError::Invalid {
            what: "search query",
            reason: format!(
                "it has {} words; use at most {MAX_SEARCH_WORDS}",
                words.len()
            ),
        });
    }
    Ok(words
        .into_iter()
        .map(|word| {
            let mut pattern = String::with_capacity(word.len() + 2);
            pattern.push('%');
            for c in word.to_lowercase().chars() {
                if matches!(c, '\\' | '%' | '_') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
        .collect())
}

/// Maps a database error on a write to what the caller should hear: a unique key that is
/// already taken, a row that is referred to but missing, a value a constraint refuses.
pub(super) fn write_error(
    e: sqlx::Error,
    exists: (&'static str, &str),
    missing: (&'static str, &str),
) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                return StoreError::Exists {
                    what: exists.0,
                    id: exists.1.to_owned(),
                };
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                return StoreError::NotFound {
                    what: missing.0,
                    id: missing.1.to_owned(),
                };
            }
            sqlx::error::ErrorKind::CheckViolation | sqlx::error::ErrorKind::NotNullViolation => {
                return StoreError::Invalid {
                    what: exists.0,
                    reason: db.message().to_owned(),
                };
            }
            _ => {}
        }
    }
    StoreError::Database(e)
}

// Rows, as selected. ---------------------------------------------------------------------------

#[derive(Debug, sqlx::FromRow)]
pub(super) struct OrganisationRow {
    id: String,
    name: String,
    role: String,
    created: i64,
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = StoreError;
    fn try_from(r: OrganisationRow) -> Result<Self, StoreError> {
        Ok(Organisation {
            role: role("organisation role", &r.role)?,
            created: timestamp("organisation creation time", r.created)?,
            id: r.id,
            name: r.name,
        })
    }
}

/// A token and its organisation, read together.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TokenHolderRow {
    #[sqlx(flatten)]
    token: ApiTokenRow,
    organisation_name: String,
    organisation_role: String,
    organisation_created: i64,
}

impl TryFrom<TokenHolderRow> for (ApiToken, Organisation) {
    type Error = StoreError;
    fn try_from(r: TokenHolderRow) -> Result<Self, StoreError> {
        let organisation = OrganisationRow {
            id: r.token.organisation.clone(),
            name: r.organisation_name,
            role: r.organisation_role,
            created: r.organisation_created,
        }
        .try_into()?;
        Ok((r.token.try_into()?, organisation))
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ConformityFactsRow {
    accepted_before: Option<String>,
    product_owner: Option<String>,
    id: Option<String>,
    name: Option<String>,
    role: Option<String>,
    created: Option<i64>,
}

impl TryFrom<ConformityFactsRow> for ConformityFacts {
    type Error = StoreError;
    fn try_from(r: ConformityFactsRow) -> Result<Self, StoreError> {
        let manufacturer = match (r.id, r.name, r.role, r.created) {
            (Some(id), Some(name), Some(role), Some(created)) => Some(
                OrganisationRow {
                    id,
                    name,
                    role,
                    created,
                }
                .try_into()?,
            ),
            _ => None,
        };
        Ok(ConformityFacts {
            accepted_before: r.accepted_before,
            product_owner: r.product_owner,
            manufacturer,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct AccreditationRow {
    organisation: String,
    scheme: String,
    granted: i64,
}

impl TryFrom<AccreditationRow> for Accreditation {
    type Error = StoreError;
    fn try_from(r: AccreditationRow) -> Result<Self, StoreError> {
        Ok(Accreditation {
            granted: timestamp("accreditation grant time", r.granted)?,
            organisation: r.organisation,
            scheme: r.scheme,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct SigningKeyRow {
    key_id: String,
    organisation: String,
    public_key: Vec<u8>,
    label: String,
    added: i64,
    retired: Option<i64>,
}

impl TryFrom<SigningKeyRow> for SigningKey {
    type Error = StoreError;
    fn try_from(r: SigningKeyRow) -> Result<Self, StoreError> {
        Ok(SigningKey {
            added: timestamp("signing key time added", r.added)?,
            retired: opt_timestamp("signing key retirement time", r.retired)?,
            key_id: r.key_id,
            organisation: r.organisation,
            public_key: r.public_key,
            label: r.label,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ApiTokenRow {
    id: String,
    organisation: String,
    role: String,
    secret_sha256: Vec<u8>,
    label: String,
    created: i64,
    revoked: Option<i64>,
}

impl TryFrom<ApiTokenRow> for ApiToken {
    type Error = StoreError;
    fn try_from(r: ApiTokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            role: role("API token role", &r.role)?,
            created: timestamp("API token creation time", r.created)?,
            revoked: opt_timestamp("API token revocation time", r.revoked)?,
            id: r.id,
            organisation: r.organisation,
            secret_sha256: r.secret_sha256,
            label: r.label,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct AttestationRow {
    envelope_sha256: String,
    statement_sha256: String,
    kind: String,
    log_index: i64,
    logged: i64,
    submitted_by: String,
    signer_key_id: String,
    product_id: String,
    version: String,
    scheme: Option<String>,
    tier: Option<String>,
    route: Option<String>,
    issued: Option<i64>,
    valid_until: Option<i64>,
    support_end: Option<String>,
    refers_to: Option<String>,
    status: Option<String>,
    reason: Option<String>,
    effective: Option<i64>,
    trigger: Option<String>,
    vulnerabilities: Option<String>,
    deadline: Option<i64>,
    sbom_sha256: Option<String>,
}

/// A change's vulnerability IDs as stored: a JSON array, or NULL for none.
pub(super) fn vulnerabilities_to_db(ids: &[String]) -> Option<String> {
    (!ids.is_empty()).then(|| serde_json::to_string(ids).unwrap_or_default())
}

fn vulnerabilities_from_db(text: Option<&str>) -> Result<Vec<String>, StoreError> {
    text.map_or(Ok(Vec::new()), |t| {
        serde_json::from_str(t).map_err(|e| StoreError::Corrupt {
            what: "status change vulnerabilities",
            reason: format!("not a JSON array of IDs: {e}"),
        })
    })
}

impl TryFrom<AttestationRow> for AttestationRecord {
    type Error = StoreError;
    fn try_from(r: AttestationRow) -> Result<Self, StoreError> {
        let kind = match r.kind.as_str() {
            "conformity" => EntryKind::Conformity,
            "status" => EntryKind::Status,
            other => {
                return Err(StoreError::Corrupt {
                    what: "attestation kind",
                    reason: format!("{other:?} is not conformity or status"),
                });
            }
        };
        Ok(AttestationRecord {
            kind,
            log_index: log_index_from_db(r.log_index)?,
            logged: timestamp("attestation log time", r.logged)?,
            issued: opt_timestamp("attestation issue time", r.issued)?,
            valid_until: opt_timestamp("attestation validity end", r.valid_until)?,
            effective: opt_timestamp("status change effective time", r.effective)?,
            envelope_sha256: r.envelope_sha256,
            statement_sha256: r.statement_sha256,
            submitted_by: r.submitted_by,
            signer_key_id: r.signer_key_id,
            product_id: r.product_id,
            version: r.version,
            scheme: r.scheme,
            tier: r.tier,
            route: r.route.as_deref().map(route).transpose()?,
            support_end: r
                .support_end
                .as_deref()
                .map(|s| date("attestation support end", s))
                .transpose()?,
            refers_to: r.refers_to,
            status: r.status.as_deref().map(status_kind).transpose()?,
            reason: r.reason,
            trigger: r
                .trigger
                .as_deref()
                .map(|t| {
                    t.parse().map_err(|reason| StoreError::Corrupt {
                        what: "status change trigger",
                        reason,
                    })
                })
                .transpose()?,
            vulnerabilities: vulnerabilities_from_db(r.vulnerabilities.as_deref())?,
            deadline: opt_timestamp("status change deadline", r.deadline)?,
            sbom_sha256: r.sbom_sha256,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ProductRow {
    id: String,
    manufacturer: String,
    manufacturer_name: String,
    name: String,
    model: String,
    declaration_json: Option<String>,
    created: i64,
    updated: i64,
}

impl TryFrom<ProductRow> for Product {
    type Error = StoreError;
    fn try_from(r: ProductRow) -> Result<Self, StoreError> {
        Ok(Product {
            created: timestamp("product creation time", r.created)?,
            updated: timestamp("product update time", r.updated)?,
            id: r.id,
            manufacturer: r.manufacturer,
            manufacturer_name: r.manufacturer_name,
            name: r.name,
            model: r.model,
            declaration_json: r.declaration_json,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct VersionRow {
    pub(super) product_id: String,
    pub(super) version: String,
    pub(super) first_attested: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ImageRow {
    version: String,
    name: String,
    sha256: String,
}

/// Versions (newest first) with their images (in attested order), from two queries.
pub(super) fn versions_with_images(
    versions: Vec<VersionRow>,
    images: Vec<ImageRow>,
) -> Result<Vec<ProductVersion>, StoreError> {
    let mut out = Vec::with_capacity(versions.len());
    for v in versions {
        out.push(ProductVersion {
            first_attested: timestamp("version first attestation time", v.first_attested)?,
            images: Vec::new(),
            product_id: v.product_id,
            version: v.version,
        });
    }
    for image in images {
        if let Some(v) = out.iter_mut().find(|v| v.version == image.version) {
            v.images.push(Image {
                name: image.name,
                sha256: image.sha256,
            });
        }
    }
    Ok(out)
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct SummaryRow {
    id: String,
    manufacturer_name: String,
    name: String,
    model: String,
    latest_version: Option<String>,
}

impl From<SummaryRow> for ProductSummary {
    fn from(r: SummaryRow) -> Self {
        ProductSummary {
            id: r.id,
            manufacturer_name: r.manufacturer_name,
            name: r.name,
            model: r.model,
            latest_version: r.latest_version,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct VulnerabilityReportRow {
    id: i64,
    product_id: String,
    version: Option<String>,
    summary: String,
    details: String,
    contact: Option<String>,
    received: i64,
    triage_status: Option<String>,
    triage_note: Option<String>,
    fixed_in: Option<String>,
    triaged: Option<i64>,
}

impl TryFrom<VulnerabilityReportRow> for VulnerabilityReport {
    type Error = StoreError;
    fn try_from(r: VulnerabilityReportRow) -> Result<Self, StoreError> {
        let triage = match (r.triage_status, r.triaged) {
            (Some(status), Some(at)) => Some(Triage {
                status: status.parse().map_err(|reason| StoreError::Corrupt {
                    what: "vulnerability report status",
                    reason,
                })?,
                note: r.triage_note,
                fixed_in: r.fixed_in,
                at: timestamp("vulnerability report triage time", at)?,
            }),
            _ => None,
        };
        Ok(VulnerabilityReport {
            triage,
            received: timestamp("vulnerability report receipt time", r.received)?,
            id: r.id,
            product_id: r.product_id,
            version: r.version,
            summary: r.summary,
            details: r.details,
            contact: r.contact,
        })
    }
}

pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_and_status_words_read_back_or_are_named_as_corrupt() {
        for s in StatusKind::ALL {
            assert_eq!(status_kind(s.as_str()).ok(), Some(s));
        }
        assert_eq!(route("certification").ok(), Some(Route::Certification));
        assert!(matches!(
            status_kind("recalled"),
            Err(StoreError::Corrupt {
                what: "attestation status",
                ..
            })
        ));
        assert!(matches!(
            route("self"),
            Err(StoreError::Corrupt {
                what: "attestation route",
                ..
            })
        ));
    }
}
