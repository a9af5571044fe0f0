//! The registry's database: one [`Store`] trait, two backends.
//!
//! * [`sqlite::SqliteStore`]: the embedded default, a file in the data directory, WAL journal,
//!   `synchronous=FULL` (a write is durable when it returns), foreign keys on.
//! * [`postgres::PgStore`]: PostgreSQL, for when one machine is not enough.
//!
//! Each backend has its own migrations (`migrations/sqlite/`, `migrations/postgres/`), applied
//! on open. The SQL stays in the portable subset where it can (`$1` placeholders, `RETURNING`);
//! times are stored as seconds since the Unix epoch (`BIGINT`; a fraction of a second is
//! dropped), digests as lower-case hex `TEXT`, raw keys and token hashes as `BLOB`/`bytea`,
//! JSON documents as `TEXT`, and a version's images as rows of a child table, so both
//! backends hold the same values. Search matches a lower-cased copy of each product's words
//! made in Rust, so case folding is the same (Unicode's) on both. [`open`] picks the backend
//! from the URL.
//!
//! Every method that writes does so in one transaction: it either happens whole or not at all.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// More words than this in a search query are refused: each becomes one `LIKE` on every row.
pub const MAX_SEARCH_WORDS: usize = 8;
/// Longer search queries than this, in bytes, are refused.
pub const MAX_SEARCH_BYTES: usize = 200;

pub mod postgres;
mod sql;
pub mod sqlite;

/// A database failure, or a write that breaks a rule of the data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be created, opened or reached; `target` is the file, or the URL
    /// without its password.
    #[error("cannot open the database {target}: {source}")]
    Open {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{what} {id:?} already exists")]
    Exists { what: &'static str, id: String },
    #[error("{what} {id:?} does not exist")]
    NotFound { what: &'static str, id: String },
    /// A write the data's rules refuse for a reason other than a duplicate or a missing
    /// reference, e.g. accrediting an organisation that is not a lab.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("unsupported database URL {url:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl { url: String },
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
    pub route: Option<String>,
    pub issued: Option<jiff::Timestamp>,
    pub valid_until: Option<jiff::Timestamp>,
    /// The support period's end, `YYYY-MM-DD`.
    pub support_end: Option<String>,
    /// For status changes: the envelope SHA-256 they refer to, the change and why.
    pub refers_to: Option<String>,
    /// `suspension`, `revocation`, `end-of-support` or `reinstatement`.
    pub status: Option<String>,
    pub reason: Option<String>,
    pub effective: Option<jiff::Timestamp>,
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

/// The registry's database. Implemented by [`sqlite::SqliteStore`] and
/// [`postgres::PgStore`]; the same test story runs against both.
pub trait Store: Clone + Send + Sync + 'static {
    // Organisations, accreditations, keys, tokens -------------------------------------------

    /// Refuses an existing ID with [`StoreError::Exists`].
    fn create_organisation(
        &self,
        org: &Organisation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn organisation(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<Organisation>, StoreError>> + Send;
    /// All organisations, by ID.
    fn organisations(&self) -> impl Future<Output = Result<Vec<Organisation>, StoreError>> + Send;
    /// The manufacturer organisation with this name (the one with the lowest ID if several
    /// share it): how a conformity statement's manufacturer is matched to an organisation.
    fn manufacturer_named(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Organisation>, StoreError>> + Send;

    /// Idempotent (a second grant keeps the first's time). The organisation must exist
    /// ([`StoreError::NotFound`]) and be a lab ([`StoreError::Invalid`]).
    fn grant_accreditation(
        &self,
        acc: &Accreditation,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Returns whether there was one to withdraw.
    fn withdraw_accreditation(
        &self,
        organisation: &str,
        scheme: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn accreditations(
        &self,
        organisation: &str,
    ) -> impl Future<Output = Result<Vec<Accreditation>, StoreError>> + Send;

    /// Refuses a key ID registered before (to any organisation) with [`StoreError::Exists`],
    /// and an unknown organisation with [`StoreError::NotFound`].
    fn add_signing_key(
        &self,
        key: &SigningKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn signing_key(
        &self,
        key_id: &str,
    ) -> impl Future<Output = Result<Option<SigningKey>, StoreError>> + Send;
    fn signing_keys(
        &self,
        organisation: &str,
    ) -> impl Future<Output = Result<Vec<SigningKey>, StoreError>> + Send;
    /// Sets `retired`; returns whether the key existed and was active.
    fn retire_signing_key(
        &self,
        key_id: &str,
        at: jiff::Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Refuses a known token ID or secret with [`StoreError::Exists`], and an unknown
    /// organisation with [`StoreError::NotFound`].
    fn create_token(&self, token: &ApiToken)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The token whose secret hashes to `secret_sha256`, revoked or not.
    /// The token with this secret's SHA-256 and the organisation it acts for, in one query
    /// (every authenticated request asks).
    fn token_holder(
        &self,
        secret_sha256: &[u8],
    ) -> impl Future<Output = Result<Option<(ApiToken, Organisation)>, StoreError>> + Send;
    fn token_by_secret(
        &self,
        secret_sha256: &[u8],
    ) -> impl Future<Output = Result<Option<ApiToken>, StoreError>> + Send;
    fn tokens(
        &self,
        organisation: &str,
    ) -> impl Future<Output = Result<Vec<ApiToken>, StoreError>> + Send;
    /// Returns whether the token existed and was active.
    fn revoke_token(
        &self,
        id: &str,
        at: jiff::Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    // Attestations, products, versions ---------------------------------------------------------

    /// Records a conformity attestation: inserts the record, creates or updates the product
    /// (manufacturer name, name, model, declaration, `updated`) and creates the version with
    /// its images if new (a known version keeps its first images). A submission without a
    /// declaration keeps the product's last one.
    /// A known envelope or log index, or a product ID owned by another manufacturer, is
    /// refused with [`StoreError::Exists`]; an unknown submitter, manufacturer or signing key
    /// with [`StoreError::NotFound`].
    fn record_conformity(
        &self,
        submission: &ConformitySubmission,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.record_one(Indexed::Conformity(submission.clone()))
    }
    /// Records a status change. Its `refers_to` must be a recorded attestation
    /// ([`StoreError::NotFound`]) and a conformity one ([`StoreError::Invalid`]); its product and
    /// version are taken from that attestation, whatever the record says. Duplicates and
    /// unknown submitters or keys are refused as by [`Store::record_conformity`].
    fn record_status(
        &self,
        record: &AttestationRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        self.record_one(Indexed::Status(record.clone()))
    }
    /// One attestation, in a transaction of its own.
    fn record_one(&self, item: Indexed) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            self.record_batch(std::slice::from_ref(&item))
                .await?
                .pop()
                .unwrap_or(Ok(()))
        }
    }
    /// Whether the signed statement is recorded (in any envelope), who owns the product, and
    /// which manufacturer has the statement's manufacturer name, in one query: the facts a
    /// conformity submission is decided on.
    fn conformity_facts(
        &self,
        statement_sha256: &str,
        product_id: &str,
        manufacturer_name: &str,
    ) -> impl Future<Output = Result<ConformityFacts, StoreError>> + Send;
    /// Records several attestations in one transaction, so one durable commit covers them
    /// all; each is recorded as [`Store::record_conformity`] or [`Store::record_status`] would,
    /// in order, and one that is refused is undone alone, its error returned in its place.
    /// The outer error is for the transaction itself, and then nothing was recorded.
    fn record_batch(
        &self,
        items: &[Indexed],
    ) -> impl Future<Output = Result<Vec<Result<(), StoreError>>, StoreError>> + Send;
    fn attestation(
        &self,
        envelope_sha256: &str,
    ) -> impl Future<Output = Result<Option<AttestationRecord>, StoreError>> + Send;
    /// The attestation recorded for this signed statement (the SHA-256 of the DSSE payload),
    /// whichever envelope carried it: at most one, since a statement is recorded once.
    fn attestation_by_statement(
        &self,
        statement_sha256: &str,
    ) -> impl Future<Output = Result<Option<AttestationRecord>, StoreError>> + Send;
    /// Every attestation of a product (conformity and status), by log index.
    fn history(
        &self,
        product_id: &str,
    ) -> impl Future<Output = Result<Vec<AttestationRecord>, StoreError>> + Send;
    /// The highest log index recorded, `None` when empty.
    fn last_log_index(&self) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
    /// The log indices below `size` that no recorded attestation holds, ascending: what a
    /// replay of a log of `size` entries must index. Concurrent submissions are indexed in
    /// any order, so a crash can leave gaps below the highest index recorded.
    fn unindexed(&self, size: u64) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send;

    fn product(&self, id: &str)
    -> impl Future<Output = Result<Option<Product>, StoreError>> + Send;
    /// Replaces the declaration a product page shows (`updated` becomes `at`); returns whether
    /// the product exists.
    fn set_declaration(
        &self,
        product_id: &str,
        declaration_json: &str,
        at: jiff::Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Versions of a product, newest first (by first attestation).
    fn versions(
        &self,
        product_id: &str,
    ) -> impl Future<Output = Result<Vec<ProductVersion>, StoreError>> + Send;
    /// Products of one manufacturer organisation, by ID.
    fn products_of(
        &self,
        manufacturer: &str,
    ) -> impl Future<Output = Result<Vec<ProductSummary>, StoreError>> + Send;
    /// Products whose ID, manufacturer name, name or model contains every word of `query`
    /// (case-insensitive, `%` and `_` meaning themselves), by name; at most `limit` from
    /// `offset`. An empty query lists every product; more than 8 words are refused with
    /// [`StoreError::Invalid`].
    fn search(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> impl Future<Output = Result<Vec<ProductSummary>, StoreError>> + Send;

    // Vulnerability reports -----------------------------------------------------------------

    /// Stores a report (the `id` given is ignored) and returns its assigned ID. An unknown
    /// product is refused with [`StoreError::NotFound`].
    fn add_vulnerability_report(
        &self,
        report: &VulnerabilityReport,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
    /// Records the manufacturer's answer to report `id` of `product_id`, replacing an earlier
    /// one; `false` if the product has no such report.
    fn triage_vulnerability_report(
        &self,
        product_id: &str,
        id: i64,
        triage: &Triage,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn vulnerability_reports(
        &self,
        product_id: &str,
    ) -> impl Future<Output = Result<Vec<VulnerabilityReport>, StoreError>> + Send;
}

/// Either backend, chosen from a URL at start-up: `sqlite://PATH` (created if missing) or
/// `postgres://…` / `postgresql://…`.
#[derive(Debug, Clone)]
pub enum AnyStore {
    Sqlite(sqlite::SqliteStore),
    Postgres(postgres::PgStore),
}

impl AnyStore {
    /// Waits for the connections to close; for SQLite this also folds the WAL into the file.
    pub async fn close(&self) {
        match self {
            AnyStore::Sqlite(s) => s.close().await,
            AnyStore::Postgres(s) => s.close().await,
        }
    }
}

/// Forwards each method to the backend in use.
macro_rules! delegate {
    ($(fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
        impl Store for AnyStore {
            $(async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                match self {
                    AnyStore::Sqlite(s) => s.$name($($arg),*).await,
                    AnyStore::Postgres(s) => s.$name($($arg),*).await,
                }
            })*
        }
    };
}

delegate! {
    fn create_organisation(&self, org: &Organisation) -> ();
    fn organisation(&self, id: &str) -> Option<Organisation>;
    fn organisations(&self) -> Vec<Organisation>;
    fn manufacturer_named(&self, name: &str) -> Option<Organisation>;
    fn grant_accreditation(&self, acc: &Accreditation) -> ();
    fn withdraw_accreditation(&self, organisation: &str, scheme: &str) -> bool;
    fn accreditations(&self, organisation: &str) -> Vec<Accreditation>;
    fn add_signing_key(&self, key: &SigningKey) -> ();
    fn signing_key(&self, key_id: &str) -> Option<SigningKey>;
    fn signing_keys(&self, organisation: &str) -> Vec<SigningKey>;
    fn retire_signing_key(&self, key_id: &str, at: jiff::Timestamp) -> bool;
    fn create_token(&self, token: &ApiToken) -> ();
    fn token_by_secret(&self, secret_sha256: &[u8]) -> Option<ApiToken>;
    fn token_holder(&self, secret_sha256: &[u8]) -> Option<(ApiToken, Organisation)>;
    fn tokens(&self, organisation: &str) -> Vec<ApiToken>;
    fn revoke_token(&self, id: &str, at: jiff::Timestamp) -> bool;
    fn record_batch(&self, items: &[Indexed]) -> Vec<Result<(), StoreError>>;
    fn conformity_facts(&self, statement_sha256: &str, product_id: &str, manufacturer_name: &str) -> ConformityFacts;
    fn attestation(&self, envelope_sha256: &str) -> Option<AttestationRecord>;
    fn attestation_by_statement(&self, statement_sha256: &str) -> Option<AttestationRecord>;
    fn history(&self, product_id: &str) -> Vec<AttestationRecord>;
    fn last_log_index(&self) -> Option<u64>;
    fn unindexed(&self, size: u64) -> Vec<u64>;
    fn product(&self, id: &str) -> Option<Product>;
    fn set_declaration(&self, product_id: &str, declaration_json: &str, at: jiff::Timestamp) -> bool;
    fn versions(&self, product_id: &str) -> Vec<ProductVersion>;
    fn products_of(&self, manufacturer: &str) -> Vec<ProductSummary>;
    fn search(&self, query: &str, limit: u32, offset: u32) -> Vec<ProductSummary>;
    fn add_vulnerability_report(&self, report: &VulnerabilityReport) -> i64;
    fn vulnerability_reports(&self, product_id: &str) -> Vec<VulnerabilityReport>;
    fn triage_vulnerability_report(&self, product_id: &str, id: i64, triage: &Triage) -> bool;
}

/// Opens (and migrates) the database at `url`.
pub async fn open(url: &str) -> Result<AnyStore, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(AnyStore::Sqlite(
            sqlite::SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(AnyStore::Postgres(postgres::PgStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl {
            url: url.to_owned(),
        })
    }
}
