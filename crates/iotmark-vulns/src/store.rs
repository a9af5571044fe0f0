//! The local vulnerability store: advisories filed under lookup keys, KEV, triage
//! decisions and the files already imported. SQLite in a local file by default; PostgreSQL
//! when the registry runs on it (the store can share the registry's database: its
//! migrations keep their own table).
//!
//! Writes are idempotent: an advisory replaces the stored one of the same ID and source only
//! when it is at least as new (`modified`), so importing feeds in any order, or twice, ends
//! with the newest record of each. Every batch is one transaction, committed durably before
//! the call returns.

use std::collections::{BTreeMap, BTreeSet};

use crate::keys::advisory_keys;
use crate::model::{Advisory, KnownExploited, VexStatement};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");
static SCHEMA: iotmark_db::Schema = iotmark_db::Schema {
    sqlite: &SQLITE_MIGRATIONS,
    postgres: &POSTGRES_MIGRATIONS,
    table: "_iotmark_vulns_migrations",
};

/// How many keys one lookup statement binds: well under SQLite's and PostgreSQL's limits on
/// parameters, and large enough that a 10,000-component SBOM takes a few dozen statements.
const KEYS_PER_LOOKUP: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Open(#[from] iotmark_db::OpenError),
    #[error("vulnerability store: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored record no longer reads as the model: the database was changed by hand, or
    /// by a newer iotmark.
    #[error("vulnerability store: the stored {what} {id} cannot be read: {reason}")]
    Corrupt {
        what: &'static str,
        id: String,
        reason: String,
    },
}

/// The vulnerability store. Cheap to clone: clones share one pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: iotmark_db::Backend,
}

/// What a batch of advisories did to the store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutSummary {
    /// New, or newer than the stored record of the same ID and source.
    pub written: u64,
    /// Older than the stored record: kept out.
    pub kept_older: u64,
}

/// The files already imported, by the SHA-256 of their content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub digest: String,
    pub path: String,
    pub kind: String,
    pub records: u64,
    pub skipped: u64,
    pub imported: jiff::Timestamp,
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Advisories per source (`nvd`, `osv`, …).
    pub advisories: BTreeMap<String, u64>,
    pub known_exploited: u64,
    pub triage_decisions: u64,
    pub imports: u64,
}

impl Store {
    /// Opens (creating and migrating) the store at `url`: `sqlite://PATH` or
    /// `postgres://…`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let (pool, backend) = iotmark_db::open(url, &SCHEMA).await?;
        Ok(Store { pool, backend })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Writes a batch of advisories in one transaction.
    pub async fn put_advisories(&self, batch: &[Advisory]) -> Result<PutSummary, StoreError> {
        let mut tx = iotmark_db::begin_write(&self.pool, self.backend).await?;
        let generation = next_generation(&mut tx).await?;
        let mut touched: BTreeSet<&str> = BTreeSet::new();
        let mut summary = PutSummary::default();
        for advisory in batch {
            let record = serde_json::to_string(advisory).map_err(|e| StoreError::Corrupt {
                what: "advisory",
                id: advisory.id.clone(),
                reason: e.to_string(),
            })?;
            let modified = advisory.modified.map_or(0, |t| t.as_millisecond());
            let source = advisory.source.as_str();
            // Inserted, or updated because at least as new: the row comes back. Kept
            // because older: nothing does.
            let written: Option<String> = sqlx::query_scalar(
                "INSERT INTO vuln_advisories (id, source, modified, withdrawn, record) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id, source) DO UPDATE SET modified = excluded.modified, \
                 withdrawn = excluded.withdrawn, record = excluded.record \
                 WHERE excluded.modified >= vuln_advisories.modified \
                 RETURNING id",
            )
            .bind(&advisory.id)
            .bind(source)
            .bind(modified)
            .bind(i64::from(advisory.withdrawn))
            .bind(record)
            .fetch_optional(&mut *tx)
            .await?;
            if written.is_none() {
                summary.kept_older += 1;
                continue;
            }
            summary.written += 1;
            touched.insert(&advisory.id);
            touched.extend(advisory.aliases.iter().map(String::as_str));
            for table in ["vuln_keys", "vuln_aliases"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE id = $1 AND source = $2"
                )))
                .bind(&advisory.id)
                .bind(source)
                .execute(&mut *tx)
                .await?;
            }
            // What the record is filed under, and the other names it goes by.
            let aliases: BTreeSet<String> = advisory.aliases.iter().cloned().collect();
            for (table, column, values) in [
                ("vuln_keys", "key", advisory_keys(advisory)),
                ("vuln_aliases", "alias", aliases),
            ] {
                for value in values {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO {table} ({column}, id, source) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING"
                    )))
                    .bind(value)
                    .bind(&advisory.id)
                    .bind(source)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        journal(&mut tx, generation, touched).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Replaces the KEV catalog with `entries` (KEV is published whole; an entry CISA
    /// removed is no longer known exploited).
    pub async fn put_kev(&self, entries: &[KnownExploited]) -> Result<(), StoreError> {
        let mut tx = iotmark_db::begin_write(&self.pool, self.backend).await?;
        let generation = next_generation(&mut tx).await?;
        // Only entries added, changed or removed are journaled: a catalog imported again
        // reaches no SBOM.
        let held: BTreeMap<String, String> = sqlx::query_as("SELECT cve, record FROM vuln_kev")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
        let mut records = BTreeMap::new();
        for entry in entries {
            let record = serde_json::to_string(entry).map_err(|e| StoreError::Corrupt {
                what: "KEV entry",
                id: entry.cve.clone(),
                reason: e.to_string(),
            })?;
            records.insert(entry.cve.as_str(), record);
        }
        let mut touched: BTreeSet<&str> = BTreeSet::new();
        touched.extend(
            held.keys()
                .map(String::as_str)
                .filter(|c| !records.contains_key(c)),
        );
        touched.extend(
            records
                .iter()
                .filter(|(cve, record)| held.get(**cve) != Some(*record))
                .map(|(cve, _)| *cve),
        );
        sqlx::query("DELETE FROM vuln_kev")
            .execute(&mut *tx)
            .await?;
        for (cve, record) in &records {
            sqlx::query(
                "INSERT INTO vuln_kev (cve, record) VALUES ($1, $2) \
                 ON CONFLICT (cve) DO UPDATE SET record = excluded.record",
            )
            .bind(*cve)
            .bind(record)
            .execute(&mut *tx)
            .await?;
        }
        journal(&mut tx, generation, touched).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The store's generation: how many writes it has committed (0 for a store written
    /// before the journal existed, or never).
    pub async fn generation(&self) -> Result<u64, StoreError> {
        let value: i64 = sqlx::query_scalar("SELECT value FROM vuln_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(value).unwrap_or(0))
    }

    /// The vulnerabilities (IDs and aliases) that writes after generation `after` touched.
    pub async fn changed_since(&self, after: u64) -> Result<BTreeSet<String>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT vulnerability FROM vuln_changes WHERE generation > $1",
        )
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// The advisories whose ID or one of whose aliases is in `ids`, withdrawn ones left out:
    /// everything the matcher needs to judge those vulnerabilities again.
    pub async fn advisories_naming(
        &self,
        ids: &BTreeSet<String>,
    ) -> Result<Vec<Advisory>, StoreError> {
        // Two lookups, each on an index: by ID, and by alias. (One statement with an OR of
        // both scans the table.)
        let ids: Vec<&String> = ids.iter().collect();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut out = Vec::new();
        for chunk in ids.chunks(KEYS_PER_LOOKUP) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            for sql in [
                format!(
                    "SELECT id, source, record FROM vuln_advisories \
                     WHERE withdrawn = 0 AND id IN ({list})"
                ),
                format!(
                    "SELECT a.id, a.source, a.record FROM vuln_aliases l \
                     JOIN vuln_advisories a ON a.id = l.id AND a.source = l.source \
                     WHERE a.withdrawn = 0 AND l.alias IN ({list})"
                ),
            ] {
                let mut query =
                    sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    query = query.bind(id.as_str());
                }
                for (id, source, record) in query.fetch_all(&self.pool).await? {
                    if seen.insert((id.clone(), source)) {
                        out.push(read_advisory(&id, &record)?);
                    }
                }
            }
        }
        out.sort_by(|a, b| (&a.id, a.source).cmp(&(&b.id, b.source)));
        Ok(out)
    }

    /// The advisories filed under any of `keys`, each once, withdrawn ones left out.
    pub async fn candidates(&self, keys: &BTreeSet<String>) -> Result<Vec<Advisory>, StoreError> {
        let keys: Vec<&String> = keys.iter().collect();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut out = Vec::new();
        for chunk in keys.chunks(KEYS_PER_LOOKUP) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT a.id, a.source, a.record FROM vuln_keys k \
                 JOIN vuln_advisories a ON a.id = k.id AND a.source = k.source \
                 WHERE a.withdrawn = 0 AND k.key IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, String, String)>(sqlx::AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key.as_str());
            }
            for (id, source, record) in query.fetch_all(&self.pool).await? {
                if seen.insert((id.clone(), source)) {
                    out.push(read_advisory(&id, &record)?);
                }
            }
        }
        out.sort_by(|a, b| (&a.id, a.source).cmp(&(&b.id, b.source)));
        Ok(out)
    }

    /// Every advisory not withdrawn, read in pages of `page` records, for an in-memory
    /// [`crate::matching::Index`].
    pub async fn all_advisories(&self, page: usize) -> Result<Vec<Advisory>, StoreError> {
        let mut out = Vec::new();
        let mut after = (String::new(), String::new());
        let limit = i64::try_from(page.max(1)).unwrap_or(i64::MAX);
        loop {
            // Keyset pagination: both databases order and compare (id, source) the same way
            // (PostgreSQL's columns are in the "C" collation, SQLite's BINARY).
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, source, record FROM vuln_advisories \
                 WHERE withdrawn = 0 AND (id > $1 OR (id = $1 AND source > $2)) \
                 ORDER BY id, source LIMIT $3",
            )
            .bind(&after.0)
            .bind(&after.1)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            let Some((id, source, _)) = rows.last() else {
                break;
            };
            after = (id.clone(), source.clone());
            let full = rows.len() as i64 == limit;
            for (id, _, record) in rows {
                out.push(read_advisory(&id, &record)?);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// The whole KEV catalog.
    pub async fn all_known_exploited(
        &self,
    ) -> Result<BTreeMap<String, KnownExploited>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT cve, record FROM vuln_kev")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(cve, record)| {
                let entry = serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
                    what: "KEV entry",
                    id: cve.clone(),
                    reason: e.to_string(),
                })?;
                Ok((cve, entry))
            })
            .collect()
    }

    /// The KEV entries of `cves`.
    pub async fn known_exploited(
        &self,
        cves: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, KnownExploited>, StoreError> {
        let cves: Vec<&String> = cves.iter().collect();
        let mut out = BTreeMap::new();
        for chunk in cves.chunks(KEYS_PER_LOOKUP) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT cve, record FROM vuln_kev WHERE cve IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
            for cve in chunk {
                query = query.bind(cve.as_str());
            }
            for (cve, record) in query.fetch_all(&self.pool).await? {
                let entry: KnownExploited =
                    serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
                        what: "KEV entry",
                        id: cve.clone(),
                        reason: e.to_string(),
                    })?;
                out.insert(cve, entry);
            }
        }
        Ok(out)
    }

    /// Records a triage decision, replacing an earlier one about the same vulnerability in
    /// the same product.
    pub async fn put_triage(&self, statement: &VexStatement) -> Result<(), StoreError> {
        let record = serde_json::to_string(statement).map_err(|e| StoreError::Corrupt {
            what: "triage decision",
            id: statement.vulnerability.clone(),
            reason: e.to_string(),
        })?;
        let recorded = statement
            .origin
            .timestamp
            .unwrap_or_else(jiff::Timestamp::now)
            .as_millisecond();
        let mut tx = iotmark_db::begin_write(&self.pool, self.backend).await?;
        let generation = next_generation(&mut tx).await?;
        journal(
            &mut tx,
            generation,
            std::iter::once(statement.vulnerability.as_str()),
        )
        .await?;
        sqlx::query(
            "INSERT INTO vuln_triage (vulnerability, product, recorded, record) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (vulnerability, product) DO UPDATE SET recorded = excluded.recorded, \
             record = excluded.record",
        )
        .bind(&statement.vulnerability)
        .bind(&statement.product.id)
        .bind(recorded)
        .bind(record)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every triage decision, oldest first.
    pub async fn triage(&self) -> Result<Vec<VexStatement>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT vulnerability, record FROM vuln_triage ORDER BY recorded, vulnerability, product",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, record)| {
                serde_json::from_str(&record).map_err(|e| StoreError::Corrupt {
                    what: "triage decision",
                    id,
                    reason: e.to_string(),
                })
            })
            .collect()
    }

    /// The import of the file with this content digest, if there was one.
    pub async fn import(&self, digest: &str) -> Result<Option<Import>, StoreError> {
        let row: Option<(String, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT digest, path, kind, records, skipped, imported FROM vuln_imports WHERE digest = $1",
        )
        .bind(digest)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(digest, path, kind, records, skipped, imported)| {
            Ok(Import {
                imported: jiff::Timestamp::from_millisecond(imported).map_err(|e| {
                    StoreError::Corrupt {
                        what: "import",
                        id: digest.clone(),
                        reason: e.to_string(),
                    }
                })?,
                digest,
                path,
                kind,
                records: u64::try_from(records).unwrap_or(0),
                skipped: u64::try_from(skipped).unwrap_or(0),
            })
        })
        .transpose()
    }

    /// Records that a file was imported, after its records are committed.
    pub async fn put_import(&self, import: &Import) -> Result<(), StoreError> {
        let mut tx = iotmark_db::begin_write(&self.pool, self.backend).await?;
        sqlx::query(
            "INSERT INTO vuln_imports (digest, path, kind, records, skipped, imported) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&import.digest)
        .bind(&import.path)
        .bind(&import.kind)
        .bind(i64::try_from(import.records).unwrap_or(i64::MAX))
        .bind(i64::try_from(import.skipped).unwrap_or(i64::MAX))
        .bind(import.imported.as_millisecond())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What the store holds.
    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let mut counts = Counts::default();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT source, COUNT(*) FROM vuln_advisories WHERE withdrawn = 0 GROUP BY source ORDER BY source",
        )
        .fetch_all(&self.pool)
        .await?;
        for (source, n) in rows {
            counts
                .advisories
                .insert(source, u64::try_from(n).unwrap_or(0));
        }
        let count = |table: &'static str| {
            let pool = self.pool.clone();
            async move {
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table}"
                )))
                .fetch_one(&pool)
                .await?;
                Ok::<u64, sqlx::Error>(u64::try_from(n).unwrap_or(0))
            }
        };
        counts.known_exploited = count("vuln_kev").await?;
        counts.triage_decisions = count("vuln_triage").await?;
        counts.imports = count("vuln_imports").await?;
        Ok(counts)
    }
}

/// Takes the next generation for the write in `tx` (see the journal's migration).
async fn next_generation(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE vuln_generation SET value = value + 1 WHERE id = 1 RETURNING value",
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Journals `vulnerabilities` as touched by the write of `generation`.
async fn journal<'a>(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    generation: i64,
    vulnerabilities: impl IntoIterator<Item = &'a str>,
) -> Result<(), StoreError> {
    for id in vulnerabilities {
        sqlx::query(
            "INSERT INTO vuln_changes (generation, vulnerability) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(generation)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn read_advisory(id: &str, record: &str) -> Result<Advisory, StoreError> {
    serde_json::from_str(record).map_err(|e| StoreError::Corrupt {
        what: "advisory",
        id: id.to_owned(),
        reason: e.to_string(),
    })
}
