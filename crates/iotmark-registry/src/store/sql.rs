//! What the two backends share: row types, conversions, error mapping, and the body of the
//! [`Store`](super::Store) implementation.
//!
//! The SQL is the same for SQLite and PostgreSQL (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`, `LIMIT`/`OFFSET`), so the implementation is written once, in
//! [`impl_store!`], and stamped out for each pool type; generic code over `sqlx::Database`
//! would need a wall of higher-ranked bounds for the same result.

use super::{
    Accreditation, ApiToken, AttestationRecord, EntryKind, Image, Organisation, Product,
    ProductSummary, ProductVersion, Role, SigningKey, StoreError, VulnerabilityReport,
};

/// `SELECT <attestation columns> FROM attestations <rest>`, as a `&'static str`.
macro_rules! select_attestations {
    ($rest:literal) => {
        concat!(
            "SELECT envelope_sha256, statement_sha256, kind, log_index, logged, submitted_by, \
             signer_key_id, product_id, version, scheme, tier, route, issued, valid_until, \
             support_end, refers_to, status, reason, effective FROM attestations ",
            $rest
        )
    };
}

/// `SELECT <summary columns> FROM products p <rest>`, as a `&'static str`. The latest version
/// is the one first attested last in the log.
macro_rules! select_summaries {
    ($rest:literal) => {
        concat!(
            "SELECT p.id, p.manufacturer_name, p.name, p.model, \
             (SELECT v.version FROM versions v WHERE v.product_id = p.id \
             ORDER BY v.first_log_index DESC LIMIT 1) AS latest_version FROM products p ",
            $rest
        )
    };
}

pub(crate) use super::MAX_SEARCH_WORDS;

pub(crate) fn seconds(t: jiff::Timestamp) -> i64 {
    t.as_second()
}

fn timestamp(what: &'static str, secs: i64) -> Result<jiff::Timestamp, StoreError> {
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

fn role(what: &'static str, s: &str) -> Result<Role, StoreError> {
    s.parse()
        .map_err(|reason| StoreError::Corrupt { what, reason })
}

/// Log indexes are `u64` in the log but `BIGINT` in both databases.
pub(crate) fn log_index_to_db(index: u64) -> Result<i64, StoreError> {
    i64::try_from(index).map_err(|_| StoreError::Invalid {
        what: "attestation record",
        reason: format!("log index {index} is larger than the database can hold (2^63 - 1)"),
    })
}

fn log_index_from_db(index: i64) -> Result<u64, StoreError> {
    u64::try_from(index).map_err(|_| StoreError::Corrupt {
        what: "attestation log index",
        reason: format!("{index} is negative"),
    })
}

pub(crate) fn kind_str(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Conformity => "conformity",
        EntryKind::Status => "status",
    }
}

/// What a search matches against: lower-cased here (full Unicode rules) rather than with SQL's
/// `LOWER`, which SQLite applies to ASCII only, so both backends find the same products.
/// Newlines separate the fields because no search word contains one.
pub(crate) fn search_text(id: &str, manufacturer_name: &str, name: &str, model: &str) -> String {
    [id, manufacturer_name, name, model]
        .join("\n")
        .to_lowercase()
}

pub(crate) fn sort_key(name: &str) -> String {
    name.to_lowercase()
}

/// The `LIKE` patterns for a query: one per word, lower-cased, with `\`, `%` and `_` escaped
/// so that they match themselves.
pub(crate) fn search_patterns(query: &str) -> Result<Vec<String>, StoreError> {
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

/// The search statement for `words` patterns: `$1..$words` are the patterns, then limit and
/// offset. Only the number of `LIKE` terms varies; every value is a bound parameter.
pub(crate) fn search_sql(words: usize) -> String {
    let mut sql = String::from(select_summaries!(""));
    for n in 1..=words {
        sql.push_str(if n == 1 { " WHERE " } else { " AND " });
        sql.push_str(&format!("p.search_text LIKE ${n} ESCAPE '\\'"));
    }
    sql.push_str(&format!(
        " ORDER BY p.sort_key, p.id LIMIT ${} OFFSET ${}",
        words + 1,
        words + 2
    ));
    sql
}

/// Maps a database error on a write to what the caller should hear: a unique key that is
/// already taken, a row that is referred to but missing, a value a constraint refuses.
pub(crate) fn write_error(
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
pub(crate) struct OrganisationRow {
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
pub(crate) struct TokenHolderRow {
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
pub(crate) struct ConformityFactsRow {
    accepted_before: Option<String>,
    product_owner: Option<String>,
    id: Option<String>,
    name: Option<String>,
    role: Option<String>,
    created: Option<i64>,
}

impl TryFrom<ConformityFactsRow> for super::ConformityFacts {
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
        Ok(super::ConformityFacts {
            accepted_before: r.accepted_before,
            product_owner: r.product_owner,
            manufacturer,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AccreditationRow {
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
pub(crate) struct SigningKeyRow {
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
pub(crate) struct ApiTokenRow {
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
pub(crate) struct AttestationRow {
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
            route: r.route,
            support_end: r.support_end,
            refers_to: r.refers_to,
            status: r.status,
            reason: r.reason,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ProductRow {
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
pub(crate) struct VersionRow {
    pub(crate) product_id: String,
    pub(crate) version: String,
    pub(crate) first_attested: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ImageRow {
    version: String,
    name: String,
    sha256: String,
}

/// Versions (newest first) with their images (in attested order), from two queries.
pub(crate) fn versions_with_images(
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
pub(crate) struct SummaryRow {
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
pub(crate) struct VulnerabilityReportRow {
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
            (Some(status), Some(at)) => Some(super::Triage {
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

pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// The [`Store`](super::Store) implementation for a store type with a `pool` field of
/// `sqlx::Pool<$db>` and a `write` method that begins a write transaction.
macro_rules! impl_store {
    ($store:ty, $db:ty) => {
        impl $crate::store::Store for $store {
            async fn create_organisation(
                &self,
                org: &$crate::store::Organisation,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let holder: Option<String> =
                    sqlx::query_scalar("SELECT id FROM organisations WHERE name = $1")
                        .bind(&org.name)
                        .fetch_optional(&mut *tx)
                        .await?;
                if holder.is_some() {
                    return Err($crate::store::StoreError::Exists {
                        what: "organisation name",
                        id: org.name.clone(),
                    });
                }
                sqlx::query(
                    "INSERT INTO organisations (id, name, role, created) VALUES ($1, $2, $3, $4)",
                )
                .bind(&org.id)
                .bind(&org.name)
                .bind(org.role.as_str())
                .bind($crate::store::sql::seconds(org.created))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    $crate::store::sql::write_error(
                        e,
                        ("organisation", &org.id),
                        ("organisation", &org.id),
                    )
                })?;
                tx.commit().await?;
                Ok(())
            }

            async fn organisation(
                &self,
                id: &str,
            ) -> Result<Option<$crate::store::Organisation>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql::OrganisationRow> = sqlx::query_as(
                    "SELECT id, name, role, created FROM organisations WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn organisations(
                &self,
            ) -> Result<Vec<$crate::store::Organisation>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql::OrganisationRow> =
                    sqlx::query_as("SELECT id, name, role, created FROM organisations ORDER BY id")
                        .fetch_all(&self.pool)
                        .await?;
                $crate::store::sql::convert(rows)
            }

            async fn grant_accreditation(
                &self,
                acc: &$crate::store::Accreditation,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let role: Option<String> =
                    sqlx::query_scalar("SELECT role FROM organisations WHERE id = $1")
                        .bind(&acc.organisation)
                        .fetch_optional(&mut *tx)
                        .await?;
                match role.as_deref() {
                    None => {
                        return Err($crate::store::StoreError::NotFound {
                            what: "organisation",
                            id: acc.organisation.clone(),
                        });
                    }
                    Some("lab") => {}
                    Some(other) => {
                        return Err($crate::store::StoreError::Invalid {
                            what: "accreditation",
                            reason: format!(
                                "organisation {:?} is a {other}; only a lab can be accredited",
                                acc.organisation
                            ),
                        });
                    }
                }
                sqlx::query(
                    "INSERT INTO accreditations (organisation, scheme, granted) \
                     VALUES ($1, $2, $3) \
                     ON CONFLICT (organisation, scheme) DO NOTHING",
                )
                .bind(&acc.organisation)
                .bind(&acc.scheme)
                .bind($crate::store::sql::seconds(acc.granted))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn withdraw_accreditation(
                &self,
                organisation: &str,
                scheme: &str,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "DELETE FROM accreditations WHERE organisation = $1 AND scheme = $2",
                )
                .bind(organisation)
                .bind(scheme)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn accreditations(
                &self,
                organisation: &str,
            ) -> Result<Vec<$crate::store::Accreditation>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql::AccreditationRow> = sqlx::query_as(
                    "SELECT organisation, scheme, granted FROM accreditations \
                     WHERE organisation = $1 ORDER BY scheme",
                )
                .bind(organisation)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::sql::convert(rows)
            }

            async fn add_signing_key(
                &self,
                key: &$crate::store::SigningKey,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.write().await?;
                self.require(
                    &mut tx,
                    "organisation",
                    "SELECT id FROM organisations WHERE id = $1",
                    &key.organisation,
                )
                .await?;
                sqlx::query(
                    "INSERT INTO signing_keys \
                     (key_id, organisation, public_key, label, added, retired) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key.key_id)
                .bind(&key.organisation)
                .bind(&key.public_key)
                .bind(&key.label)
                .bind($crate::store::sql::seconds(key.added))
                .bind(key.retired.map($crate::store::sql::seconds))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    $crate::store::sql::write_error(
                        e,
                        ("signing key", &key.key_id),
                        ("organisation", &key.organisation),
                    )
                })?;
                tx.commit().await?;
                Ok(())
            }

            async fn signing_key(
                &self,
                key_id: &str,
            ) -> Result<Option<$crate::store::SigningKey>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql::SigningKeyRow> = sqlx::query_as(
                    "SELECT key_id, organisation, public_key, label, added, retired \
                     FROM signing_keys WHERE key_id = $1",
                )
                .bind(key_id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn signing_keys(
                &self,
                organisation: &str,
            ) -> Result<Vec<$crate::store::SigningKey>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql::SigningKeyRow> = sqlx::query_as(
                    "SELECT key_id, organisation, public_key, label, added, retired \
                     FROM signing_keys WHERE organisation = $1 ORDER BY added, key_id",
                )
                .bind(organisation)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::sql::convert(rows)
            }

            async fn retire_signing_key(
                &self,
                key_id: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "UPDATE signing_keys SET retired = $2 WHERE key_id = $1 AND retired IS NULL",
                )
                .bind(key_id)
                .bind($crate::store::sql::seconds(at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn create_token(
                &self,
                token: &$crate::store::ApiToken,
            ) -> Result<(), $crate::store::StoreError> {
                let mut tx = self.write().await?;
                self.require(
                    &mut tx,
                    "organisation",
                    "SELECT id FROM organisations WHERE id = $1",
                    &token.organisation,
                )
                .await?;
                let same_secret: Option<String> =
                    sqlx::query_scalar("SELECT id FROM api_tokens WHERE secret_sha256 = $1")
                        .bind(&token.secret_sha256)
                        .fetch_optional(&mut *tx)
                        .await?;
                if let Some(other) = same_secret.filter(|other| *other != token.id) {
                    return Err($crate::store::StoreError::Exists {
                        what: "the secret of API token",
                        id: other,
                    });
                }
                sqlx::query(
                    "INSERT INTO api_tokens \
                     (id, organisation, role, secret_sha256, label, created, revoked) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&token.id)
                .bind(&token.organisation)
                .bind(token.role.as_str())
                .bind(&token.secret_sha256)
                .bind(&token.label)
                .bind($crate::store::sql::seconds(token.created))
                .bind(token.revoked.map($crate::store::sql::seconds))
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    $crate::store::sql::write_error(
                        e,
                        ("API token", &token.id),
                        ("organisation", &token.organisation),
                    )
                })?;
                tx.commit().await?;
                Ok(())
            }

            async fn token_by_secret(
                &self,
                secret_sha256: &[u8],
            ) -> Result<Option<$crate::store::ApiToken>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql::ApiTokenRow> = sqlx::query_as(
                    "SELECT id, organisation, role, secret_sha256, label, created, revoked \
                     FROM api_tokens WHERE secret_sha256 = $1",
                )
                .bind(secret_sha256)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn token_holder(
                &self,
                secret_sha256: &[u8],
            ) -> Result<
                Option<($crate::store::ApiToken, $crate::store::Organisation)>,
                $crate::store::StoreError,
            > {
                let row: Option<$crate::store::sql::TokenHolderRow> = sqlx::query_as(
                    "SELECT t.id, t.organisation, t.role, t.secret_sha256, t.label, t.created, \
                     t.revoked, o.name AS organisation_name, o.role AS organisation_role, \
                     o.created AS organisation_created \
                     FROM api_tokens t JOIN organisations o ON o.id = t.organisation \
                     WHERE t.secret_sha256 = $1",
                )
                .bind(secret_sha256)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn tokens(
                &self,
                organisation: &str,
            ) -> Result<Vec<$crate::store::ApiToken>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql::ApiTokenRow> = sqlx::query_as(
                    "SELECT id, organisation, role, secret_sha256, label, created, revoked \
                     FROM api_tokens WHERE organisation = $1 ORDER BY created, id",
                )
                .bind(organisation)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::sql::convert(rows)
            }

            async fn revoke_token(
                &self,
                id: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let done = sqlx::query(
                    "UPDATE api_tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL",
                )
                .bind(id)
                .bind($crate::store::sql::seconds(at))
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn record_batch(
                &self,
                items: &[$crate::store::Indexed],
            ) -> Result<Vec<Result<(), $crate::store::StoreError>>, $crate::store::StoreError> {
                use sqlx::Connection as _;
                // Items were checked against the rules before they were logged, so a refusal
                // here is rare: first all of them in one transaction with no savepoints (each
                // costs two more statements per item); only if one is refused, again with a
                // savepoint per item, so that each is recorded or refused on its own.
                let mut tx = self.write().await?;
                let mut refused = None;
                for item in items {
                    if let Err(e) = self.item_in(&mut tx, item).await {
                        refused = Some(e);
                        break;
                    }
                }
                let Some(refused) = refused else {
                    tx.commit().await?;
                    return Ok(items.iter().map(|_| Ok(())).collect());
                };
                tx.rollback().await?;
                if items.len() == 1 {
                    return Ok(vec![Err(refused)]);
                }

                let mut tx = self.write().await?;
                let mut results = Vec::with_capacity(items.len());
                for item in items {
                    // Each item in a savepoint of its own: a refused item is undone alone.
                    let mut item_tx = tx.begin().await?;
                    let result = self.item_in(&mut item_tx, item).await;
                    match result {
                        Ok(()) => item_tx.commit().await?,
                        Err(_) => item_tx.rollback().await?,
                    }
                    results.push(result);
                }
                tx.commit().await?;
                Ok(results)
            }

            async fn conformity_facts(
                &self,
                statement_sha256: &str,
                product_id: &str,
                manufacturer_name: &str,
            ) -> Result<$crate::store::ConformityFacts, $crate::store::StoreError> {
                let row: $crate::store::sql::ConformityFactsRow = sqlx::query_as(
                    "SELECT (SELECT envelope_sha256 FROM attestations WHERE statement_sha256 = $1) \
                     AS accepted_before, \
                     (SELECT manufacturer FROM products WHERE id = $2) AS product_owner, \
                     m.id, m.name, m.role, m.created \
                     FROM (SELECT 1 AS one) AS one LEFT JOIN \
                     (SELECT id, name, role, created FROM organisations \
                     WHERE role = 'manufacturer' AND name = $3 ORDER BY id LIMIT 1) AS m ON TRUE",
                )
                .bind(statement_sha256)
                .bind(product_id)
                .bind(manufacturer_name)
                .fetch_one(&self.pool)
                .await?;
                row.try_into()
            }

            async fn unindexed(&self, size: u64) -> Result<Vec<u64>, $crate::store::StoreError> {
                // The first index missing below `size` (a gap, or the end): entries before it
                // are all indexed, so only the rest of the log is compared one by one.
                let size_db = $crate::store::sql::log_index_to_db(size)?;
                let first_gap: i64 = sqlx::query_scalar(
                    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM attestations WHERE log_index = 0) \
                     THEN 0 ELSE (SELECT MIN(a.log_index) + 1 FROM attestations a \
                     WHERE NOT EXISTS (SELECT 1 FROM attestations b \
                     WHERE b.log_index = a.log_index + 1)) END",
                )
                .fetch_one(&self.pool)
                .await?;
                if first_gap >= size_db {
                    return Ok(Vec::new());
                }
                let indexed: Vec<i64> = sqlx::query_scalar(
                    "SELECT log_index FROM attestations WHERE log_index >= $1 AND log_index < $2 \
                     ORDER BY log_index",
                )
                .bind(first_gap)
                .bind(size_db)
                .fetch_all(&self.pool)
                .await?;
                let indexed: std::collections::HashSet<i64> = indexed.into_iter().collect();
                Ok((first_gap..size_db)
                    .filter(|i| !indexed.contains(i))
                    .filter_map(|i| u64::try_from(i).ok())
                    .collect())
            }

            async fn manufacturer_named(
                &self,
                name: &str,
            ) -> Result<Option<$crate::store::Organisation>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql::OrganisationRow> = sqlx::query_as(
                    "SELECT id, name, role, created FROM organisations \
                     WHERE role = 'manufacturer' AND name = $1 ORDER BY id LIMIT 1",
                )
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn attestation(
                &self,
                envelope_sha256: &str,
            ) -> Result<Option<$crate::store::AttestationRecord>, $crate::store::StoreError> {
                let sql = $crate::store::sql::select_attestations!("WHERE envelope_sha256 = $1");
                let row: Option<$crate::store::sql::AttestationRow> = sqlx::query_as(sql)
                    .bind(envelope_sha256)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn attestation_by_statement(
                &self,
                statement_sha256: &str,
            ) -> Result<Option<$crate::store::AttestationRecord>, $crate::store::StoreError> {
                let sql = $crate::store::sql::select_attestations!("WHERE statement_sha256 = $1");
                let row: Option<$crate::store::sql::AttestationRow> = sqlx::query_as(sql)
                    .bind(statement_sha256)
                    .fetch_optional(&self.pool)
                    .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn history(
                &self,
                product_id: &str,
            ) -> Result<Vec<$crate::store::AttestationRecord>, $crate::store::StoreError> {
                let sql = $crate::store::sql::select_attestations!(
                    "WHERE product_id = $1 ORDER BY log_index"
                );
                let rows: Vec<$crate::store::sql::AttestationRow> = sqlx::query_as(sql)
                    .bind(product_id)
                    .fetch_all(&self.pool)
                    .await?;
                $crate::store::sql::convert(rows)
            }

            async fn last_log_index(&self) -> Result<Option<u64>, $crate::store::StoreError> {
                let max: Option<i64> =
                    sqlx::query_scalar("SELECT MAX(log_index) FROM attestations")
                        .fetch_one(&self.pool)
                        .await?;
                max.map(|i| {
                    u64::try_from(i).map_err(|_| $crate::store::StoreError::Corrupt {
                        what: "attestation log index",
                        reason: format!("{i} is negative"),
                    })
                })
                .transpose()
            }

            async fn product(
                &self,
                id: &str,
            ) -> Result<Option<$crate::store::Product>, $crate::store::StoreError> {
                let row: Option<$crate::store::sql::ProductRow> = sqlx::query_as(
                    "SELECT id, manufacturer, manufacturer_name, name, model, declaration_json, \
                     created, updated FROM products WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.map(TryInto::try_into).transpose()
            }

            async fn set_declaration(
                &self,
                product_id: &str,
                declaration_json: &str,
                at: jiff::Timestamp,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let changed = sqlx::query(
                    "UPDATE products SET declaration_json = $1, updated = $2 WHERE id = $3",
                )
                .bind(declaration_json)
                .bind($crate::store::sql::seconds(at))
                .bind(product_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(changed == 1)
            }

            async fn versions(
                &self,
                product_id: &str,
            ) -> Result<Vec<$crate::store::ProductVersion>, $crate::store::StoreError> {
                // Two reads of one product: a snapshot keeps images and versions consistent.
                let mut tx = self.pool.begin().await?;
                let versions: Vec<$crate::store::sql::VersionRow> = sqlx::query_as(
                    "SELECT product_id, version, first_attested FROM versions \
                     WHERE product_id = $1 ORDER BY first_log_index DESC",
                )
                .bind(product_id)
                .fetch_all(&mut *tx)
                .await?;
                let images: Vec<$crate::store::sql::ImageRow> = sqlx::query_as(
                    "SELECT version, name, sha256 FROM images WHERE product_id = $1 \
                     ORDER BY version, position",
                )
                .bind(product_id)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                $crate::store::sql::versions_with_images(versions, images)
            }

            async fn products_of(
                &self,
                manufacturer: &str,
            ) -> Result<Vec<$crate::store::ProductSummary>, $crate::store::StoreError> {
                let sql = $crate::store::sql::select_summaries!(
                    "WHERE p.manufacturer = $1 ORDER BY p.id"
                );
                let rows: Vec<$crate::store::sql::SummaryRow> = sqlx::query_as(sql)
                    .bind(manufacturer)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn search(
                &self,
                query: &str,
                limit: u32,
                offset: u32,
            ) -> Result<Vec<$crate::store::ProductSummary>, $crate::store::StoreError> {
                let patterns = $crate::store::sql::search_patterns(query)?;
                // Safe to assert: the statement text depends only on the number of words, and
                // every word is bound as a parameter.
                let sql = sqlx::AssertSqlSafe($crate::store::sql::search_sql(patterns.len()));
                let mut q = sqlx::query_as::<_, $crate::store::sql::SummaryRow>(sql);
                for pattern in patterns {
                    q = q.bind(pattern);
                }
                let rows = q
                    .bind(i64::from(limit))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn add_vulnerability_report(
                &self,
                report: &$crate::store::VulnerabilityReport,
            ) -> Result<i64, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                self.require(
                    &mut tx,
                    "product",
                    "SELECT id FROM products WHERE id = $1",
                    &report.product_id,
                )
                .await?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO vulnerability_reports \
                     (product_id, version, summary, details, contact, received) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(&report.product_id)
                .bind(&report.version)
                .bind(&report.summary)
                .bind(&report.details)
                .bind(&report.contact)
                .bind($crate::store::sql::seconds(report.received))
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    $crate::store::sql::write_error(
                        e,
                        ("vulnerability report", ""),
                        ("product", &report.product_id),
                    )
                })?;
                tx.commit().await?;
                Ok(id)
            }

            async fn triage_vulnerability_report(
                &self,
                product_id: &str,
                id: i64,
                triage: &$crate::store::Triage,
            ) -> Result<bool, $crate::store::StoreError> {
                let mut tx = self.write().await?;
                let changed = sqlx::query(
                    "UPDATE vulnerability_reports SET triage_status = $3, triage_note = $4, \
                     fixed_in = $5, triaged = $6 WHERE product_id = $1 AND id = $2",
                )
                .bind(product_id)
                .bind(id)
                .bind(triage.status.as_str())
                .bind(&triage.note)
                .bind(&triage.fixed_in)
                .bind($crate::store::sql::seconds(triage.at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(changed == 1)
            }

            async fn vulnerability_reports(
                &self,
                product_id: &str,
            ) -> Result<Vec<$crate::store::VulnerabilityReport>, $crate::store::StoreError> {
                let rows: Vec<$crate::store::sql::VulnerabilityReportRow> = sqlx::query_as(
                    "SELECT id, product_id, version, summary, details, contact, received, \
                     triage_status, triage_note, fixed_in, triaged \
                     FROM vulnerability_reports WHERE product_id = $1 ORDER BY id",
                )
                .bind(product_id)
                .fetch_all(&self.pool)
                .await?;
                $crate::store::sql::convert(rows)
            }
        }

        /// Steps shared by the write methods, inside their transaction.
        impl $store {
            async fn item_in(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                item: &$crate::store::Indexed,
            ) -> Result<(), $crate::store::StoreError> {
                match item {
                    $crate::store::Indexed::Conformity(sub) => self.conformity_in(conn, sub).await,
                    $crate::store::Indexed::Status(rec) => self.status_in(conn, rec).await,
                }
            }

            async fn conformity_in(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                sub: &$crate::store::ConformitySubmission,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql;
                let rec = &sub.record;
                if rec.kind != $crate::store::EntryKind::Conformity || rec.refers_to.is_some() {
                    return Err($crate::store::StoreError::Invalid {
                        what: "conformity attestation record",
                        reason: "its kind must be conformity, without refers_to"
                            .into(),
                    });
                }
                let log_index = sql::log_index_to_db(rec.log_index)?;
                let logged = sql::seconds(rec.logged);
                let owner = self
                    .check_new_attestation(
                        conn,
                        rec,
                        log_index,
                        Some((&sub.manufacturer, &rec.product_id)),
                    )
                    .await?;
                let search = sql::search_text(
                    &rec.product_id,
                    &sub.manufacturer_name,
                    &sub.name,
                    &sub.model,
                );
                let sort = sql::sort_key(&sub.name);
                if owner.is_some_and(|owner| owner != sub.manufacturer) {
                    return Err($crate::store::StoreError::Exists {
                        what: "product of another manufacturer",
                        id: rec.product_id.clone(),
                    });
                }
                // A submission without the declaration keeps the last one submitted, so the
                // consumer page does not lose it to a lab's certification.
                sqlx::query(
                    "INSERT INTO products (id, manufacturer, manufacturer_name, name, model, \
                     declaration_json, created, updated, search_text, sort_key) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) \
                     ON CONFLICT (id) DO UPDATE SET manufacturer_name = excluded.manufacturer_name, \
                     name = excluded.name, model = excluded.model, \
                     declaration_json = COALESCE(excluded.declaration_json, \
                     products.declaration_json), \
                     updated = excluded.updated, search_text = excluded.search_text, \
                     sort_key = excluded.sort_key",
                )
                .bind(&rec.product_id)
                .bind(&sub.manufacturer)
                .bind(&sub.manufacturer_name)
                .bind(&sub.name)
                .bind(&sub.model)
                .bind(&sub.declaration_json)
                .bind(logged)
                .bind(&search)
                .bind(&sort)
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    sql::write_error(
                        e,
                        ("product", &rec.product_id),
                        ("organisation", &sub.manufacturer),
                    )
                })?;

                let new_version = sqlx::query(
                    "INSERT INTO versions (product_id, version, first_attested, first_log_index) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (product_id, version) DO NOTHING",
                )
                .bind(&rec.product_id)
                .bind(&rec.version)
                .bind(logged)
                .bind(log_index)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                    > 0;
                if new_version {
                    for (position, image) in sub.images.iter().enumerate() {
                        let position = i32::try_from(position).map_err(|_| {
                            $crate::store::StoreError::Invalid {
                                what: "conformity attestation record",
                                reason: format!("{} images are too many", sub.images.len()),
                            }
                        })?;
                        sqlx::query(
                            "INSERT INTO images (product_id, version, position, name, sha256) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(&rec.product_id)
                        .bind(&rec.version)
                        .bind(position)
                        .bind(&image.name)
                        .bind(&image.sha256)
                        .execute(&mut *conn)
                        .await?;
                    }
                }

                self.insert_attestation(conn, rec, log_index, &rec.product_id, &rec.version)
                    .await
            }

            async fn status_in(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                rec: &$crate::store::AttestationRecord,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql;
                let (Some(refers_to), $crate::store::EntryKind::Status, Some(_)) =
                    (&rec.refers_to, rec.kind, &rec.status)
                else {
                    return Err($crate::store::StoreError::Invalid {
                        what: "status attestation record",
                        reason: "its kind must be status, with refers_to and status set".into(),
                    });
                };
                let log_index = sql::log_index_to_db(rec.log_index)?;
                self.check_new_attestation(conn, rec, log_index, None).await?;
                let target: Option<(String, String, String)> = sqlx::query_as(
                    "SELECT kind, product_id, version FROM attestations WHERE envelope_sha256 = $1",
                )
                .bind(refers_to)
                .fetch_optional(&mut *conn)
                .await?;
                let Some((kind, product_id, version)) = target else {
                    return Err($crate::store::StoreError::NotFound {
                        what: "attestation",
                        id: refers_to.clone(),
                    });
                };
                if kind != "conformity" {
                    return Err($crate::store::StoreError::Invalid {
                        what: "status attestation record",
                        reason: format!(
                            "it refers to {refers_to}, a status change; a status change must refer \
                             to a conformity attestation"
                        ),
                    });
                }
                self.insert_attestation(conn, rec, log_index, &product_id, &version)
                    .await
            }

            /// Fails with [`NotFound`]($crate::store::StoreError::NotFound) unless `sql`, given
            /// `id`, finds a row.
            async fn require(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                what: &'static str,
                sql: &'static str,
                id: &str,
            ) -> Result<(), $crate::store::StoreError> {
                let found: Option<String> = sqlx::query_scalar(sql)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                match found {
                    Some(_) => Ok(()),
                    None => Err($crate::store::StoreError::NotFound {
                        what,
                        id: id.to_owned(),
                    }),
                }
            }

            /// Refuses a replayed envelope or a taken log index, and a submitter or key the
            /// registry does not know, each with its own error. For a conformity attestation,
            /// `product` is its (manufacturer, product ID): the manufacturer must be known, and
            /// the product's current owner is returned.
            async fn check_new_attestation(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                rec: &$crate::store::AttestationRecord,
                log_index: i64,
                product: Option<(&str, &str)>,
            ) -> Result<Option<String>, $crate::store::StoreError> {
                use $crate::store::StoreError::{Exists, NotFound};
                // One round trip for every check: in a batch, each item makes them.
                let (envelope_known, statement_known, index_taken, submitter_known, key_known, manufacturer_known, owner): (
                    bool,
                    bool,
                    bool,
                    bool,
                    bool,
                    bool,
                    Option<String>,
                ) = sqlx::query_as(
                    "SELECT \
                     EXISTS (SELECT 1 FROM attestations WHERE envelope_sha256 = $1), \
                     EXISTS (SELECT 1 FROM attestations WHERE statement_sha256 = $7), \
                     EXISTS (SELECT 1 FROM attestations WHERE log_index = $2), \
                     EXISTS (SELECT 1 FROM organisations WHERE id = $3), \
                     EXISTS (SELECT 1 FROM signing_keys WHERE key_id = $4), \
                     EXISTS (SELECT 1 FROM organisations WHERE id = $5), \
                     (SELECT manufacturer FROM products WHERE id = $6)",
                )
                .bind(&rec.envelope_sha256)
                .bind(log_index)
                .bind(&rec.submitted_by)
                .bind(&rec.signer_key_id)
                .bind(product.map(|p| p.0))
                .bind(product.map(|p| p.1))
                .bind(&rec.statement_sha256)
                .fetch_one(&mut *conn)
                .await?;
                if envelope_known {
                    return Err(Exists {
                        what: "attestation",
                        id: rec.envelope_sha256.clone(),
                    });
                }
                if statement_known {
                    return Err(Exists {
                        what: "statement",
                        id: rec.statement_sha256.clone(),
                    });
                }
                if index_taken {
                    return Err(Exists {
                        what: "attestation at log index",
                        id: rec.log_index.to_string(),
                    });
                }
                if !submitter_known {
                    return Err(NotFound {
                        what: "organisation",
                        id: rec.submitted_by.clone(),
                    });
                }
                if !key_known {
                    return Err(NotFound {
                        what: "signing key",
                        id: rec.signer_key_id.clone(),
                    });
                }
                if let Some((manufacturer, _)) = product
                    && !manufacturer_known
                {
                    return Err(NotFound {
                        what: "organisation",
                        id: manufacturer.to_owned(),
                    });
                }
                Ok(owner)
            }

            async fn insert_attestation(
                &self,
                conn: &mut <$db as sqlx::Database>::Connection,
                rec: &$crate::store::AttestationRecord,
                log_index: i64,
                product_id: &str,
                version: &str,
            ) -> Result<(), $crate::store::StoreError> {
                use $crate::store::sql;
                sqlx::query(
                    "INSERT INTO attestations (envelope_sha256, statement_sha256, kind, \
                     log_index, logged, submitted_by, signer_key_id, product_id, version, \
                     scheme, tier, route, issued, valid_until, support_end, refers_to, \
                     refers_to_kind, status, reason, effective) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                     $16, $17, $18, $19, $20)",
                )
                .bind(&rec.envelope_sha256)
                .bind(&rec.statement_sha256)
                .bind(sql::kind_str(rec.kind))
                .bind(log_index)
                .bind(sql::seconds(rec.logged))
                .bind(&rec.submitted_by)
                .bind(&rec.signer_key_id)
                .bind(product_id)
                .bind(version)
                .bind(&rec.scheme)
                .bind(&rec.tier)
                .bind(&rec.route)
                .bind(rec.issued.map(sql::seconds))
                .bind(rec.valid_until.map(sql::seconds))
                .bind(&rec.support_end)
                .bind(&rec.refers_to)
                .bind(rec.refers_to.as_ref().map(|_| "conformity"))
                .bind(&rec.status)
                .bind(&rec.reason)
                .bind(rec.effective.map(sql::seconds))
                .execute(&mut *conn)
                .await
                .map_err(|e| {
                    sql::write_error(
                        e,
                        ("attestation", &rec.envelope_sha256),
                        (
                            "attestation",
                            rec.refers_to.as_deref().unwrap_or(&rec.envelope_sha256),
                        ),
                    )
                })?;
                Ok(())
            }
        }
    };
}

pub(crate) use {impl_store, select_attestations, select_summaries};
