//! Attestations and what they make: products, versions and their images; and the reads the
//! pages and the rules make of them.

use std::collections::HashSet;

use sqlx::{AnyConnection, Connection as _};

use super::rows::{
    self, AttestationRow, ConformityFactsRow, ImageRow, ProductRow, SummaryRow, VersionRow,
    kind_str, log_index_to_db, seconds, write_error,
};
use super::{
    AttestationRecord, ConformityFacts, ConformitySubmission, EntryKind, Indexed, Product,
    ProductSummary, ProductVersion, Store, StoreError, queries,
};

impl Store {
    /// Records a conformity attestation: inserts the record, creates or updates the product
    /// (manufacturer name, name, model, declaration, `updated`) and creates the version with
    /// its images if new (a known version keeps its first images). A submission without a
    /// declaration keeps the product's last one.
    /// A known envelope or log index, or a product ID owned by another manufacturer, is
    /// refused with [`StoreError::Exists`]; an unknown submitter, manufacturer or signing key
    /// with [`StoreError::NotFound`].
    pub async fn record_conformity(
        &self,
        submission: &ConformitySubmission,
    ) -> Result<(), StoreError> {
        self.record_one(Indexed::Conformity(submission.clone()))
            .await
    }

    /// Records a status change. Its `refers_to` must be a recorded attestation
    /// ([`StoreError::NotFound`]) and a conformity one ([`StoreError::Invalid`]); its product and
    /// version are taken from that attestation, whatever the record says. Duplicates and
    /// unknown submitters or keys are refused as by [`Store::record_conformity`].
    pub async fn record_status(&self, record: &AttestationRecord) -> Result<(), StoreError> {
        self.record_one(Indexed::Status(record.clone())).await
    }

    /// One attestation, in a transaction of its own.
    pub async fn record_one(&self, item: Indexed) -> Result<(), StoreError> {
        self.record_batch(std::slice::from_ref(&item))
            .await?
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Records several attestations in one transaction, so one durable commit covers them
    /// all; each is recorded as [`Store::record_conformity`] or [`Store::record_status`] would,
    /// in order, and one that is refused is undone alone, its error returned in its place.
    /// The outer error is for the transaction itself, and then nothing was recorded.
    pub async fn record_batch(
        &self,
        items: &[Indexed],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        // Items were checked against the rules before they were logged, so a refusal here is
        // rare: first all of them in one transaction with no savepoints (each costs two more
        // statements per item); only if one is refused, again with a savepoint per item, so
        // that each is recorded or refused on its own.
        let mut tx = self.write().await?;
        let mut refused = None;
        for item in items {
            if let Err(e) = record_item(&mut tx, item).await {
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
            let result = record_item(&mut item_tx, item).await;
            match result {
                Ok(()) => item_tx.commit().await?,
                Err(_) => item_tx.rollback().await?,
            }
            results.push(result);
        }
        tx.commit().await?;
        Ok(results)
    }

    /// Whether the signed statement is recorded (in any envelope), who owns the product, and
    /// which manufacturer has the statement's manufacturer name, in one query: the facts a
    /// conformity submission is decided on.
    pub async fn conformity_facts(
        &self,
        statement_sha256: &str,
        product_id: &str,
        manufacturer_name: &str,
    ) -> Result<ConformityFacts, StoreError> {
        let row: ConformityFactsRow = sqlx::query_as(queries::CONFORMITY_FACTS)
            .bind(statement_sha256)
            .bind(product_id)
            .bind(manufacturer_name)
            .fetch_one(&self.pool)
            .await?;
        row.try_into()
    }

    pub async fn attestation(
        &self,
        envelope_sha256: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        self.find::<AttestationRow, _>(queries::ATTESTATION_BY_ENVELOPE, envelope_sha256)
            .await
    }

    /// The attestation recorded for this signed statement (the SHA-256 of the DSSE payload),
    /// whichever envelope carried it: at most one, since a statement is recorded once.
    pub async fn attestation_by_statement(
        &self,
        statement_sha256: &str,
    ) -> Result<Option<AttestationRecord>, StoreError> {
        self.find::<AttestationRow, _>(queries::ATTESTATION_BY_STATEMENT, statement_sha256)
            .await
    }

    /// Every attestation of a product (conformity and status), by log index.
    pub async fn history(&self, product_id: &str) -> Result<Vec<AttestationRecord>, StoreError> {
        self.find_all::<AttestationRow, _>(queries::HISTORY, product_id)
            .await
    }

    /// The status changes of the attestation with envelope `envelope_sha256`, by log index.
    pub async fn changes_of(
        &self,
        envelope_sha256: &str,
    ) -> Result<Vec<AttestationRecord>, StoreError> {
        self.find_all::<AttestationRow, _>(queries::CHANGES_OF, envelope_sha256)
            .await
    }

    /// The highest log index recorded, `None` when empty.
    pub async fn last_log_index(&self) -> Result<Option<u64>, StoreError> {
        let max: Option<i64> = sqlx::query_scalar(queries::LAST_LOG_INDEX)
            .fetch_one(&self.pool)
            .await?;
        max.map(rows::log_index_from_db).transpose()
    }

    /// The log indices below `size` that no recorded attestation holds, ascending: what a
    /// replay of a log of `size` entries must index. Concurrent submissions are indexed in
    /// any order, so a crash can leave gaps below the highest index recorded.
    pub async fn unindexed(&self, size: u64) -> Result<Vec<u64>, StoreError> {
        // Entries before the first gap are all indexed, so only the rest of the log is
        // compared one by one.
        let size_db = log_index_to_db(size)?;
        let first_gap: i64 = sqlx::query_scalar(queries::FIRST_UNINDEXED)
            .fetch_one(&self.pool)
            .await?;
        if first_gap >= size_db {
            return Ok(Vec::new());
        }
        let indexed: Vec<i64> = sqlx::query_scalar(queries::INDEXED_BETWEEN)
            .bind(first_gap)
            .bind(size_db)
            .fetch_all(&self.pool)
            .await?;
        let indexed: HashSet<i64> = indexed.into_iter().collect();
        Ok((first_gap..size_db)
            .filter(|i| !indexed.contains(i))
            .filter_map(|i| u64::try_from(i).ok())
            .collect())
    }

    pub async fn product(&self, id: &str) -> Result<Option<Product>, StoreError> {
        self.find::<ProductRow, _>(queries::PRODUCT, id).await
    }

    /// Replaces the declaration a product page shows (`updated` becomes `at`); returns whether
    /// the product exists.
    pub async fn set_declaration(
        &self,
        product_id: &str,
        declaration_json: &str,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(queries::SET_DECLARATION)
            .bind(declaration_json)
            .bind(seconds(at))
            .bind(product_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(changed == 1)
    }

    /// Versions of a product, newest first (by first attestation).
    /// The (product, version) pairs whose declared firmware includes the image with this
    /// SHA-256 (lower-case hex).
    pub async fn versions_by_image(
        &self,
        sha256: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as::<_, (String, String)>(queries::VERSIONS_BY_IMAGE)
                .bind(sha256)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn versions(&self, product_id: &str) -> Result<Vec<ProductVersion>, StoreError> {
        // Two reads of one product: a snapshot keeps images and versions consistent.
        let mut tx = self.pool.begin().await?;
        let versions: Vec<VersionRow> = sqlx::query_as(queries::VERSIONS)
            .bind(product_id)
            .fetch_all(&mut *tx)
            .await?;
        let images: Vec<ImageRow> = sqlx::query_as(queries::IMAGES)
            .bind(product_id)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows::versions_with_images(versions, images)
    }

    /// Products of one manufacturer organisation, by ID.
    pub async fn products_of(&self, manufacturer: &str) -> Result<Vec<ProductSummary>, StoreError> {
        let rows: Vec<SummaryRow> = sqlx::query_as(queries::PRODUCTS_OF)
            .bind(manufacturer)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Products whose ID, manufacturer name, name or model contains every word of `query`
    /// (case-insensitive, `%` and `_` meaning themselves), by name; at most `limit` from
    /// `offset`. An empty query lists every product; more than
    /// [`MAX_SEARCH_WORDS`](super::MAX_SEARCH_WORDS) words are refused with
    /// [`StoreError::Invalid`].
    pub async fn search(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<ProductSummary>, StoreError> {
        let patterns = rows::search_patterns(query)?;
        // Safe to assert: the statement text depends only on the number of words, and every
        // word is bound as a parameter.
        let sql = sqlx::AssertSqlSafe(queries::search(patterns.len()));
        let mut q = sqlx::query_as::<_, SummaryRow>(sql);
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
}

// The steps of recording one attestation, inside the caller's transaction. -------------------

async fn record_item(conn: &mut AnyConnection, item: &Indexed) -> Result<(), StoreError> {
    match item {
        Indexed::Conformity(sub) => record_conformity_in(conn, sub).await,
        Indexed::Status(rec) => record_status_in(conn, rec).await,
    }
}

async fn record_conformity_in(
    conn: &mut AnyConnection,
    sub: &ConformitySubmission,
) -> Result<(), StoreError> {
    let rec = &sub.record;
    if rec.kind != EntryKind::Conformity || rec.refers_to.is_some() || rec.status.is_some() {
        return Err(StoreError::Invalid {
            what: "conformity attestation record",
            reason: "its kind must be conformity, without refers_to or status".into(),
        });
    }
    let log_index = log_index_to_db(rec.log_index)?;
    let logged = seconds(rec.logged);
    let owner = check_new_attestation(
        conn,
        rec,
        log_index,
        Some((&sub.manufacturer, &rec.product_id)),
    )
    .await?;
    // Whose product this may be is the registry's rule, decided on the owner read in this
    // transaction (so after any earlier item of the same batch that created the product).
    crate::indexer::may_record_product(&rec.product_id, &sub.manufacturer, owner.as_deref())?;
    let search = rows::search_text(
        &rec.product_id,
        &sub.manufacturer_name,
        &sub.name,
        &sub.model,
    );
    sqlx::query(queries::UPSERT_PRODUCT)
        .bind(&rec.product_id)
        .bind(&sub.manufacturer)
        .bind(&sub.manufacturer_name)
        .bind(&sub.name)
        .bind(&sub.model)
        .bind(&sub.declaration_json)
        .bind(logged)
        .bind(&search)
        .bind(rows::sort_key(&sub.name))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            write_error(
                e,
                ("product", &rec.product_id),
                ("organisation", &sub.manufacturer),
            )
        })?;

    let new_version = sqlx::query(queries::INSERT_VERSION)
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
            let position = i32::try_from(position).map_err(|_| StoreError::Invalid {
                what: "conformity attestation record",
                reason: format!("{} images are too many", sub.images.len()),
            })?;
            sqlx::query(queries::INSERT_IMAGE)
                .bind(&rec.product_id)
                .bind(&rec.version)
                .bind(position)
                .bind(&image.name)
                .bind(&image.sha256)
                .execute(&mut *conn)
                .await?;
        }
    }

    insert_attestation(conn, rec, log_index, &rec.product_id, &rec.version).await
}

async fn record_status_in(
    conn: &mut AnyConnection,
    rec: &AttestationRecord,
) -> Result<(), StoreError> {
    let (Some(refers_to), EntryKind::Status, Some(_)) = (&rec.refers_to, rec.kind, &rec.status)
    else {
        return Err(StoreError::Invalid {
            what: "status attestation record",
            reason: "its kind must be status, with refers_to and status set".into(),
        });
    };
    let log_index = log_index_to_db(rec.log_index)?;
    check_new_attestation(conn, rec, log_index, None).await?;
    let target: Option<(String, String, String)> = sqlx::query_as(queries::REFERRED_ATTESTATION)
        .bind(refers_to)
        .fetch_optional(&mut *conn)
        .await?;
    let Some((kind, product_id, version)) = target else {
        return Err(StoreError::NotFound {
            what: "attestation",
            id: refers_to.clone(),
        });
    };
    if kind != kind_str(EntryKind::Conformity) {
        return Err(StoreError::Invalid {
            what: "status attestation record",
            reason: format!(
                "it refers to {refers_to}, a status change; a status change must refer to a \
                 conformity attestation"
            ),
        });
    }
    insert_attestation(conn, rec, log_index, &product_id, &version).await
}

/// Refuses a replayed envelope or statement or a taken log index, and a submitter or key the
/// store does not know, each with its own error. For a conformity attestation, `product` is
/// its (manufacturer, product ID): the manufacturer must be known, and the product's current
/// owner is returned.
async fn check_new_attestation(
    conn: &mut AnyConnection,
    rec: &AttestationRecord,
    log_index: i64,
    product: Option<(&str, &str)>,
) -> Result<Option<String>, StoreError> {
    use StoreError::{Exists, NotFound};
    type Checks = (
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<String>,
    );
    let (
        envelope_known,
        statement_known,
        index_taken,
        submitter_known,
        key_known,
        manufacturer_known,
        owner,
    ): Checks = sqlx::query_as(queries::NEW_ATTESTATION_CHECKS)
        .bind(&rec.envelope_sha256)
        .bind(log_index)
        .bind(&rec.submitted_by)
        .bind(&rec.signer_key_id)
        .bind(product.map(|p| p.0))
        .bind(product.map(|p| p.1))
        .bind(&rec.statement_sha256)
        .fetch_one(&mut *conn)
        .await?;
    if envelope_known.is_some() {
        return Err(Exists {
            what: "attestation",
            id: rec.envelope_sha256.clone(),
        });
    }
    if statement_known.is_some() {
        return Err(Exists {
            what: "statement",
            id: rec.statement_sha256.clone(),
        });
    }
    if index_taken.is_some() {
        return Err(Exists {
            what: "attestation at log index",
            id: rec.log_index.to_string(),
        });
    }
    if submitter_known.is_none() {
        return Err(NotFound {
            what: "organisation",
            id: rec.submitted_by.clone(),
        });
    }
    if key_known.is_none() {
        return Err(NotFound {
            what: "signing key",
            id: rec.signer_key_id.clone(),
        });
    }
    if let Some((manufacturer, _)) = product
        && manufacturer_known.is_none()
    {
        return Err(NotFound {
            what: "organisation",
            id: manufacturer.to_owned(),
        });
    }
    Ok(owner)
}

async fn insert_attestation(
    conn: &mut AnyConnection,
    rec: &AttestationRecord,
    log_index: i64,
    product_id: &str,
    version: &str,
) -> Result<(), StoreError> {
    sqlx::query(queries::INSERT_ATTESTATION)
        .bind(&rec.envelope_sha256)
        .bind(&rec.statement_sha256)
        .bind(kind_str(rec.kind))
        .bind(log_index)
        .bind(seconds(rec.logged))
        .bind(&rec.submitted_by)
        .bind(&rec.signer_key_id)
        .bind(product_id)
        .bind(version)
        .bind(&rec.scheme)
        .bind(&rec.tier)
        .bind(rec.route.map(|r| r.as_str()))
        .bind(rec.issued.map(seconds))
        .bind(rec.valid_until.map(seconds))
        .bind(rec.support_end.map(|d| d.to_string()))
        .bind(&rec.refers_to)
        // Always `conformity` on a status row: the schema's foreign key on (refers_to,
        // refers_to_kind) can then only be met by a conformity attestation.
        .bind(
            rec.refers_to
                .as_ref()
                .map(|_| kind_str(EntryKind::Conformity)),
        )
        .bind(rec.status.map(|s| s.as_str()))
        .bind(&rec.reason)
        .bind(rec.effective.map(seconds))
        .bind(rec.trigger.map(|t| t.as_str()))
        .bind(rows::vulnerabilities_to_db(&rec.vulnerabilities))
        .bind(rec.deadline.map(seconds))
        .bind(&rec.sbom_sha256)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            write_error(
                e,
                ("attestation", &rec.envelope_sha256),
                (
                    "attestation",
                    rec.refers_to.as_deref().unwrap_or(&rec.envelope_sha256),
                ),
            )
        })?;
    super::webhooks::queue_messages(conn, log_index, &rec.envelope_sha256, product_id).await
}
