//! The registry's database: one [`Store`], on SQLite or PostgreSQL.
//!
//! * SQLite: the embedded default, a file in the data directory, WAL journal,
//!   `synchronous=FULL` (a write is durable when it returns), foreign keys on.
//! * PostgreSQL: for when one machine is not enough.
//!
//! [`open`] picks the backend from the URL. Both are driven through one `sqlx::AnyPool`, so
//! every method is written once, in plain Rust, and every statement is a named constant in
//! `queries` that both backends run as written. What differs by backend is small and said where
//! it is chosen, by [`Backend`]: how a connection is set up and migrated (`sqlite`, `postgres`),
//! and how a write transaction begins ([`Store::write`]).
//!
//! Each backend has its own migrations (`migrations/sqlite/`, `migrations/postgres/`), applied
//! on open. The SQL stays in the portable subset (`$1` placeholders, `ON CONFLICT`,
//! `RETURNING`); times are stored as seconds since the Unix epoch (`BIGINT`; a fraction of a
//! second is dropped), digests as lower-case hex `TEXT`, raw keys and token hashes as
//! `BLOB`/`bytea`, JSON documents as `TEXT`, and a version's images as rows of a child table, so
//! both backends hold the same values (and only types the `Any` driver carries: integers, text,
//! bytes). Search matches a lower-cased copy of each product's words made in Rust, so case
//! folding is the same (Unicode's) on both.
//!
//! The store keeps the data whole (keys, references, a statement recorded once); what the
//! registry's rules allow is decided outside it: who may be accredited in [`crate::admin`], who
//! may publish in [`crate::accept`], whose product a submission may record in the indexer
//! (which the store asks, inside the transaction that records it).
//!
//! Every method that writes does so in one transaction: it either happens whole or not at all.

use iotmark_attest::statement::{Route, StatusKind, Trigger};
use serde::{Deserialize, Serialize};

/// More words than this in a search query are refused: each becomes one `LIKE` on every row.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longer search queries than this, in bytes, are refused.
pub const MAX_SEARCH_BYTES: usize = 200;

mod appeals;
mod attestations;
mod cra;
mod lifecycle;
mod organisations;
mod queries;
mod reports;
mod rows;
mod webhooks;

pub use appeals::{Appeal, AppealDecision, Decided, Evidence};
pub use cra::{CraCase, CraReport, RequirementChange};
pub use iotmark_db::Backend;
pub use lifecycle::{MatchedSbom, OpenVulnerability, Sighting, Watched, WatchedChange};
pub use webhooks::{DueMessage, NewWebhook, WebhookView};

static SCHEMA: iotmark_db::Schema = iotmark_db::Schema {
    sqlite: &SQLITE_MIGRATIONS,
    postgres: &POSTGRES_MIGRATIONS,
    // The table sqlx names by default, which registries made before the vulnerability store
    // existed already have.
    table: "_sqlx_migrations",
};
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A database failure, or a write that breaks a rule of the data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be opened, reached or migrated.
    #[error(transparent)]
    Open(#[from] iotmark_db::OpenError),
    #[error("{what} {id:?} already exists")]
    Exists { what: &'static str, id: String },
    #[error("{what} {id:?} does not exist")]
    NotFound { what: &'static str, id: String },
    /// A write the data's rules refuse for a reason other than a duplicate or a missing
    /// reference, e.g. accrediting an organisation that is not a lab.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("stored {what} is invalid: {reason}")]
    Corrupt { what: &'static str, reason: String },
}

/// What an organisation may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the registry: creates organisations, accredits labs, registers keys.
    Operator,
    /// Declares conformity of its own products (SDoC) and changes their status.
    Manufacturer,
    /// Certifies products under the schemes it is accredited for, and changes their status.
    Lab,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Manufacturer => "manufacturer",
            Role::Lab => "lab",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "operator" => Ok(Role::Operator),
            "manufacturer" => Ok(Role::Manufacturer),
            "lab" => Ok(Role::Lab),
            other => Err(format!(
                "role {other:?} is not operator, manufacturer or lab"
            )),
        }
    }
}

/// An organisation known to the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Short stable identifier, `[a-z0-9-]{1,64}`, e.g. `acme`.
    pub id: String,
    /// Display name; for a manufacturer, the name its declarations carry.
    pub name: String,
    pub role: Role,
    pub created: jiff::Timestamp,
}

/// A public key registered to an organisation; attestations it signs count as that
/// organisation's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    /// Hex SHA-256 of the raw Ed25519 public key (`iotmark_attest::keys::PublicKey::key_id`).
    pub key_id: String,
    pub organisation: String,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    /// Free text, e.g. "release signing key 2026".
    pub label: String,
    pub added: jiff::Timestamp,
    /// When the key stopped being accepted for new submissions.
    pub retired: Option<jiff::Timestamp>,
}

/// An API token. Only the SHA-256 of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    /// Public identifier shown in listings and logs (not secret), e.g. `tok_4f2a…`.
    pub id: String,
    pub organisation: String,
    /// The role the token acts in: the organisation's own role.
    pub role: Role,
    /// SHA-256 of the secret token string.
    pub secret_sha256: Vec<u8>,
    pub label: String,
    pub created: jiff::Timestamp,
    pub revoked: Option<jiff::Timestamp>,
}

/// A lab's accreditation for one scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accreditation {
    pub organisation: String,
    pub scheme: String,
    pub granted: jiff::Timestamp,
}

/// What a log entry was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A declaration of conformity or a certification.
    Conformity,
    /// A suspension, revocation, end of support or reinstatement.
    Status,
}

/// One accepted attestation, as indexed from the log. Conformity attestations fill the
/// product fields; status changes fill `refers_to`, `status`, `reason` and `effective` and
/// copy product and version from the attestation they refer to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AttestationRecord {
    /// Hex SHA-256 of the envelope bytes (unique: a replay is refused).
    pub envelope_sha256: String,
    pub statement_sha256: String,
    pub kind: EntryKind,
    /// The index of the log entry that recorded it (unique).
    pub log_index: u64,
    pub logged: jiff::Timestamp,
    /// The organisation that submitted it.
    pub submitted_by: String,
    /// The key that signed it.
    pub signer_key_id: String,
    pub product_id: String,
    pub version: String,
    /// For conformity attestations: scheme, tier, route (`sdoc`/`certification`), profile.
    pub scheme: Option<String>,
    pub tier: Option<String>,
    #[schema(value_type = Option<String>)]
    pub route: Option<Route>,
    pub issued: Option<jiff::Timestamp>,
    pub valid_until: Option<jiff::Timestamp>,
    /// The support period's end, `YYYY-MM-DD`.
    #[schema(value_type = Option<String>)]
    pub support_end: Option<jiff::civil::Date>,
    /// For status changes: the envelope SHA-256 they refer to, the change and why.
    pub refers_to: Option<String>,
    /// `vulnerable`, `suspension`, `revocation`, `end-of-support`, `reinstatement`, `expiry`
    /// or `withdrawal`.
    #[schema(value_type = Option<String>)]
    pub status: Option<StatusKind>,
    pub reason: Option<String>,
    pub effective: Option<jiff::Timestamp>,
    /// For status changes: the lifecycle trigger that caused it (docs/LIFECYCLE.md), when
    /// the change named one.
    #[schema(value_type = Option<String>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// The vulnerabilities behind a change (a `vulnerable` record, a missed deadline).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
    /// For a `vulnerable` record: when the deadline to fix passes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<jiff::Timestamp>,
    /// For conformity attestations: the SHA-256 of the SBOM they rest on, when named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom_sha256: Option<String>,
}

/// Who told the registry of a version it has no attestation for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AnnouncementSource {
    /// The manufacturer, releasing it.
    Manufacturer,
    /// A lab or the operator, who saw it running in the field.
    Field,
}

impl AnnouncementSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementSource::Manufacturer => "manufacturer",
            AnnouncementSource::Field => "field",
        }
    }
}

/// A firmware version announced by its manufacturer or seen in the field: unassessed until
/// a conformity attestation covers its image's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Announcement {
    pub product_id: String,
    pub version: String,
    /// The OTA image's SHA-256 (lower-case hex).
    pub image_sha256: String,
    /// The image's size in bytes, when announced by the manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u64>,
    /// Where devices fetch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The oldest version that may update to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_notes: Option<String>,
    pub source: AnnouncementSource,
    pub announced: jiff::Timestamp,
    /// The organisation that announced or reported it.
    pub announced_by: String,
}

/// A product as the registry shows it. Created by its first conformity attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The declaration's `product.id`.
    pub id: String,
    /// The manufacturer organisation that owns it.
    pub manufacturer: String,
    /// The manufacturer's name as declared.
    pub manufacturer_name: String,
    pub name: String,
    pub model: String,
    /// The product declaration (JSON) the latest conformity attestation was made from, for the
    /// consumer page: updates, default passwords, support. `None` when not submitted.
    pub declaration_json: Option<String>,
    pub created: jiff::Timestamp,
    pub updated: jiff::Timestamp,
}

/// A firmware version of a product and its images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductVersion {
    pub product_id: String,
    pub version: String,
    /// `[{"name": …, "sha256": …}]` of the attested images.
    pub images: Vec<Image>,
    pub first_attested: jiff::Timestamp,
}

/// A firmware image by name and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Image {
    pub name: String,
    pub sha256: String,
}

/// What a new conformity attestation adds besides its record: the product (created or
/// updated), its version and images, and the declaration it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConformitySubmission {
    pub record: AttestationRecord,
    pub manufacturer: String,
    pub manufacturer_name: String,
    pub name: String,
    pub model: String,
    pub images: Vec<Image>,
    pub declaration_json: Option<String>,
}

/// What the acceptance rules need to know about a conformity submission, read at once (see
/// [`Store::conformity_facts`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConformityFacts {
    /// The envelope (SHA-256) under which this signed statement is recorded, if it is.
    pub accepted_before: Option<String>,
    /// The organisation that owns the product, if the product is registered.
    pub product_owner: Option<String>,
    /// The manufacturer organisation with the statement's manufacturer name, as
    /// [`Store::manufacturer_named`] finds it.
    pub manufacturer: Option<Organisation>,
}

/// An accepted attestation on its way into the database, for [`Store::record_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Indexed {
    Conformity(ConformitySubmission),
    Status(AttestationRecord),
}

impl Indexed {
    /// The record being indexed.
    pub fn record(&self) -> &AttestationRecord {
        match self {
            Indexed::Conformity(sub) => &sub.record,
            Indexed::Status(rec) => rec,
        }
    }
}

/// A vulnerability report received through the registry (IR 8259B "information and query
/// reception").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VulnerabilityReport {
    /// Assigned by the store, increasing.
    pub id: i64,
    pub product_id: String,
    pub version: Option<String>,
    pub summary: String,
    pub details: String,
    /// How to reach the reporter; optional (anonymous reports are allowed).
    pub contact: Option<String>,
    pub received: jiff::Timestamp,
    /// The manufacturer's answer; `None` while the report is not yet triaged.
    pub triage: Option<Triage>,
}

/// What the public sees of a vulnerability report: not its details or the reporter's
/// contact, which stay with the registry and the manufacturer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicReport {
    pub id: i64,
    pub version: Option<String>,
    pub summary: String,
    pub received: jiff::Timestamp,
    /// The manufacturer's answer; absent while the report is not yet triaged.
    pub triage: Option<Triage>,
}

impl VulnerabilityReport {
    /// The part of the report that is shown publicly.
    pub fn public(&self) -> PublicReport {
        PublicReport {
            id: self.id,
            version: self.version.clone(),
            summary: self.summary.clone(),
            received: self.received,
            triage: self.triage.clone(),
        }
    }
}

/// Where a vulnerability report stands for the product, in OpenVEX's status words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// The manufacturer is looking into it.
    UnderInvestigation,
    /// Confirmed: the product is affected and no fixed version is out yet.
    Affected,
    /// The product is not affected (the note says why).
    NotAffected,
    /// Fixed in the version `fixed_in` names.
    Fixed,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::UnderInvestigation => "under_investigation",
            ReportStatus::Affected => "affected",
            ReportStatus::NotAffected => "not_affected",
            ReportStatus::Fixed => "fixed",
        }
    }
}

impl std::str::FromStr for ReportStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "under_investigation" => ReportStatus::UnderInvestigation,
            "affected" => ReportStatus::Affected,
            "not_affected" => ReportStatus::NotAffected,
            "fixed" => ReportStatus::Fixed,
            other => {
                return Err(format!(
                    "{other:?} is not a report status; use under_investigation, affected, \
                     not_affected or fixed"
                ));
            }
        })
    }
}

/// The manufacturer's answer to a vulnerability report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Triage {
    pub status: ReportStatus,
    /// Shown on the product page: what was found, or what the owner should do.
    pub note: Option<String>,
    /// The first version with the fix (for `fixed`).
    pub fixed_in: Option<String>,
    pub at: jiff::Timestamp,
}

/// A search hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub manufacturer_name: String,
    pub name: String,
    pub model: String,
    pub latest_version: Option<String>,
}

/// The registry's database. Cheap to clone: clones share one pool of connections.
#[derive(Debug, Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: Backend,
}

/// Opens (and migrates) the database at `url`: `sqlite://PATH` (created, with its directory,
/// if missing) or `postgres://…` / `postgresql://…`.
pub async fn open(url: &str) -> Result<Store, StoreError> {
    let (pool, backend) = iotmark_db::open(url, &SCHEMA).await?;
    Ok(Store { pool, backend })
}

impl Store {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Waits for the connections to close; for SQLite this also folds the WAL into the file.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction (see [`iotmark_db::begin_write`]).
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        iotmark_db::begin_write(&self.pool, self.backend).await
    }
}

/// The reads most methods are: one statement with one parameter, its rows converted.
impl Store {
    /// The row `sql` finds for its one parameter `key`, as a `T`.
    async fn find<'k, R, T>(
        &self,
        sql: &'static str,
        key: impl sqlx::Encode<'k, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'k,
    ) -> Result<Option<T>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let row: Option<R> = sqlx::query_as(sql)
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(T::try_from).transpose()
    }

    /// Every row `sql` finds for its one parameter `key`, in its order, as `T`s.
    async fn find_all<'k, R, T>(
        &self,
        sql: &'static str,
        key: impl sqlx::Encode<'k, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'k,
    ) -> Result<Vec<T>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
        T: TryFrom<R, Error = StoreError>,
    {
        let rows: Vec<R> = sqlx::query_as(sql).bind(key).fetch_all(&self.pool).await?;
        rows.into_iter().map(T::try_from).collect()
    }
}

/// Fails with [`StoreError::NotFound`] unless `sql`, given `id`, finds a row: a write that
/// refers to a missing row says which, before the database's foreign key would say less.
async fn require(
    conn: &mut sqlx::AnyConnection,
    what: &'static str,
    sql: &'static str,
    id: &str,
) -> Result<(), StoreError> {
    let found: Option<String> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound {
            what,
            id: id.to_owned(),
        }),
    }
}
