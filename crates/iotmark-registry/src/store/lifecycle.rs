//! What the monitor reads and keeps: every attestation at once, the SBOMs attestations name,
//! and when each open vulnerability was first seen in an attested version.

use std::collections::{BTreeSet, HashMap};

use super::rows::{AttestationRow, seconds, timestamp};
use super::{Announcement, AnnouncementSource, AttestationRecord, Store, StoreError, queries};

/// When the monitor first saw a vulnerability open in an attested version, and how it was
/// rated then: the deadline to fix runs from `first_seen`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The vulnerability's ID (a CVE ID when one is known).
    pub vulnerability: String,
    pub first_seen: jiff::Timestamp,
    /// `critical`, `high`, `medium`, `low` or `none`.
    pub rating: String,
    pub known_exploited: bool,
}

/// A conformity attestation as the monitor follows it: only what its rules read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub envelope_sha256: String,
    pub product_id: String,
    pub version: String,
    pub scheme: Option<String>,
    pub issued: Option<jiff::Timestamp>,
    pub logged: jiff::Timestamp,
    pub valid_until: Option<jiff::Timestamp>,
    pub support_end: Option<jiff::civil::Date>,
    pub sbom_sha256: Option<String>,
    /// The named SBOM is kept and the monitor has matched it.
    pub sbom_matched: bool,
}

/// A status change as the monitor replays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedChange {
    /// The conformity attestation it changed.
    pub refers_to: String,
    pub status: iotmark_attest::statement::StatusKind,
    pub trigger: Option<iotmark_attest::statement::Trigger>,
    pub effective: jiff::Timestamp,
}

type WatchedRow = (
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    i64,
);

/// An open vulnerability in an SBOM, as last matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenVulnerability {
    pub vulnerability: String,
    /// `critical`, `high`, `medium`, `low` or `none`: the highest any source gives.
    pub rating: String,
    pub known_exploited: bool,
}

/// What a matching changed for one SBOM.
#[derive(Debug, Clone, Default)]
pub struct MatchedSbom {
    pub sha256: String,
    /// Matched whole (not only for the vulnerabilities that changed).
    pub full: bool,
    /// Vulnerabilities no longer open.
    pub closed: Vec<String>,
    /// Vulnerabilities now open, or open with another rating.
    pub opened: Vec<OpenVulnerability>,
}

/// Values per `IN (…)` lookup: well under both databases' limits on bound parameters.
const LOOKUP_CHUNK: usize = 500;

/// Rows per multi-row statement: 200 rows of at most 5 values stay well under both
/// databases' limits on bound parameters.
const ROWS_PER_STATEMENT: usize = 200;

/// `($1, $2), ($3, $4), …`: `rows` tuples of `columns` placeholders.
fn tuples(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let values: Vec<String> = (1..=columns)
                .map(|c| format!("${}", r * columns + c))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, sqlx::FromRow)]
struct SightingRow {
    attestation: String,
    vulnerability: String,
    first_seen: i64,
    rating: String,
    known_exploited: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct AnnouncementRow {
    product_id: String,
    version: String,
    image_sha256: String,
    image_size: Option<i64>,
    url: Option<String>,
    min_version: Option<String>,
    release_notes: Option<String>,
    source: String,
    announced: i64,
    announced_by: String,
}

impl TryFrom<AnnouncementRow> for Announcement {
    type Error = StoreError;
    fn try_from(r: AnnouncementRow) -> Result<Self, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            what: "announcement",
            reason,
        };
        Ok(Announcement {
            source: match r.source.as_str() {
                "manufacturer" => AnnouncementSource::Manufacturer,
                "field" => AnnouncementSource::Field,
                other => return Err(corrupt(format!("source {other:?}"))),
            },
            image_size: r
                .image_size
                .map(|n| u64::try_from(n).map_err(|_| corrupt(format!("image size {n}"))))
                .transpose()?,
            announced: timestamp("announcement time", r.announced)?,
            product_id: r.product_id,
            version: r.version,
            image_sha256: r.image_sha256,
            url: r.url,
            min_version: r.min_version,
            release_notes: r.release_notes,
            announced_by: r.announced_by,
        })
    }
}

impl Store {
    /// Records an announcement. `Ok(true)` when new, `Ok(false)` when the same version was
    /// announced before with the same image (a repeat changes nothing); a version announced
    /// with another image is refused with [`StoreError::Exists`].
    pub async fn announce(&self, a: &Announcement) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let inserted = sqlx::query(queries::INSERT_ANNOUNCEMENT)
            .bind(&a.product_id)
            .bind(&a.version)
            .bind(&a.image_sha256)
            .bind(a.image_size.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
            .bind(&a.url)
            .bind(&a.min_version)
            .bind(&a.release_notes)
            .bind(a.source.as_str())
            .bind(seconds(a.announced))
            .bind(&a.announced_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                super::rows::write_error(
                    e,
                    ("announcement", &a.version),
                    ("product", &a.product_id),
                )
            })?
            .rows_affected()
            == 1;
        if inserted {
            tx.commit().await?;
            return Ok(true);
        }
        let held: AnnouncementRow = sqlx::query_as(queries::ANNOUNCEMENT)
            .bind(&a.product_id)
            .bind(&a.version)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        if held.image_sha256 == a.image_sha256 {
            Ok(false)
        } else {
            Err(StoreError::Exists {
                what: "announcement of version",
                id: format!(
                    "{} (image {}, not {})",
                    a.version, held.image_sha256, a.image_sha256
                ),
            })
        }
    }

    /// A product's announcements, newest first.
    pub async fn announcements(&self, product_id: &str) -> Result<Vec<Announcement>, StoreError> {
        let rows: Vec<AnnouncementRow> = sqlx::query_as(queries::ANNOUNCEMENTS)
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Every conformity attestation, and every status change in log order, with only the
    /// columns the monitor reads (a run reads them all).
    pub async fn watched(&self) -> Result<(Vec<Watched>, Vec<WatchedChange>), StoreError> {
        let corrupt = |what: &'static str, reason: String| StoreError::Corrupt { what, reason };
        let rows: Vec<WatchedRow> = sqlx::query_as(queries::WATCHED)
            .fetch_all(&self.pool)
            .await?;
        let mut watched = Vec::with_capacity(rows.len());
        for (
            sha,
            product_id,
            version,
            scheme,
            issued,
            logged,
            valid_until,
            support_end,
            sbom,
            matched,
        ) in rows
        {
            watched.push(Watched {
                envelope_sha256: sha,
                product_id,
                version,
                scheme,
                issued: issued
                    .map(|t| timestamp("attestation issue time", t))
                    .transpose()?,
                logged: timestamp("attestation log time", logged)?,
                valid_until: valid_until
                    .map(|t| timestamp("attestation validity end", t))
                    .transpose()?,
                support_end: support_end
                    .map(|d| {
                        d.parse()
                            .map_err(|e| corrupt("attestation support end", format!("{d:?}: {e}")))
                    })
                    .transpose()?,
                sbom_sha256: sbom,
                sbom_matched: matched != 0,
            });
        }
        let rows: Vec<(String, String, Option<String>, i64)> =
            sqlx::query_as(queries::WATCHED_CHANGES)
                .fetch_all(&self.pool)
                .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for (refers_to, status, trigger, effective) in rows {
            changes.push(WatchedChange {
                refers_to,
                status: status
                    .parse()
                    .map_err(|reason| corrupt("attestation status", reason))?,
                trigger: trigger
                    .map(|t| {
                        t.parse()
                            .map_err(|reason| corrupt("status change trigger", reason))
                    })
                    .transpose()?,
                effective: timestamp("status change effective time", effective)?,
            });
        }
        Ok((watched, changes))
    }

    /// Every attestation (conformity and status), by product and then log index.
    pub async fn all_attestations(&self) -> Result<Vec<AttestationRecord>, StoreError> {
        let rows: Vec<AttestationRow> = sqlx::query_as(queries::ALL_ATTESTATIONS)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// The organisations that may upload the SBOM with digest `sha256`: for each conformity
    /// attestation naming it, (who submitted it, who owns the product). Empty when no
    /// attestation names it.
    pub async fn sbom_named_by(&self, sha256: &str) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(queries::SBOM_NAMED_BY)
            .bind(sha256)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Keeps an SBOM by its digest with the lookup keys of its components; one already kept
    /// is left as it is (same digest, same bytes).
    pub async fn put_sbom(
        &self,
        sha256: &str,
        document: &str,
        keys: &BTreeSet<String>,
        received: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let new = sqlx::query(queries::INSERT_SBOM)
            .bind(sha256)
            .bind(document)
            .bind(seconds(received))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if new {
            for key in keys {
                sqlx::query(queries::INSERT_SBOM_KEY)
                    .bind(key)
                    .bind(sha256)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Forgets every matching, so the next run matches every SBOM whole.
    pub async fn forget_matches(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM sbom_open")
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sboms SET matched_generation = NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query(queries::SET_MONITOR_GENERATION)
            .bind(0_i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Kept SBOMs the monitor has not matched yet, with their documents.
    pub async fn unmatched_sboms(&self) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(queries::UNMATCHED_SBOMS)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Whether the SBOM with SHA-256 `sha256` is kept.
    pub async fn sbom_held(&self, sha256: &str) -> Result<bool, StoreError> {
        let found: Option<String> = sqlx::query_scalar(queries::SBOM_HELD)
            .bind(sha256)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// The documents of the SBOMs `shas`.
    pub async fn sbom_documents(
        &self,
        shas: &BTreeSet<String>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::with_capacity(shas.len());
        let list: Vec<&String> = shas.iter().collect();
        for chunk in list.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT sha256, document FROM sboms WHERE sha256 IN ({})",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, String)>(sqlx::AssertSqlSafe(sql));
            for sha in chunk {
                query = query.bind(sha.as_str());
            }
            out.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// The SBOMs with a component filed under one of `keys`.
    pub async fn sboms_with_keys(
        &self,
        keys: &BTreeSet<String>,
    ) -> Result<BTreeSet<String>, StoreError> {
        let mut out = BTreeSet::new();
        let list: Vec<&String> = keys.iter().collect();
        for chunk in list.chunks(LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT DISTINCT sbom_sha256 FROM sbom_keys WHERE key IN ({})",
                placeholders(chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key.as_str());
            }
            out.extend(query.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    /// Every SBOM's open vulnerabilities as last matched.
    pub async fn all_open(&self) -> Result<HashMap<String, Vec<OpenVulnerability>>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(queries::ALL_OPEN)
            .fetch_all(&self.pool)
            .await?;
        let mut out: HashMap<String, Vec<OpenVulnerability>> = HashMap::new();
        for (sbom, vulnerability, rating, kev) in rows {
            out.entry(sbom).or_default().push(OpenVulnerability {
                vulnerability,
                rating,
                known_exploited: kev != 0,
            });
        }
        Ok(out)
    }

    /// The vulnerability store generation the open vulnerabilities reflect.
    pub async fn monitor_generation(&self) -> Result<u64, StoreError> {
        let g: i64 = sqlx::query_scalar(queries::MONITOR_GENERATION)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(g).unwrap_or(0))
    }

    /// Records a matching in one transaction: each SBOM of `matched` now has exactly its
    /// open vulnerabilities (`full`: matched whole, so marked as matched at `generation`),
    /// and the open vulnerabilities reflect `generation`.
    pub async fn record_matches(
        &self,
        matched: &[MatchedSbom],
        generation: u64,
    ) -> Result<(), StoreError> {
        let generation = i64::try_from(generation).unwrap_or(i64::MAX);
        let closed: Vec<(&str, &str)> = matched
            .iter()
            .flat_map(|m| m.closed.iter().map(|v| (m.sha256.as_str(), v.as_str())))
            .collect();
        let opened: Vec<(&str, &OpenVulnerability)> = matched
            .iter()
            .flat_map(|m| m.opened.iter().map(|o| (m.sha256.as_str(), o)))
            .collect();
        let full: Vec<&str> = matched
            .iter()
            .filter(|m| m.full)
            .map(|m| m.sha256.as_str())
            .collect();
        // Many rows to a statement: a run after a large import writes tens of thousands, and
        // each statement is a round trip to PostgreSQL.
        let mut tx = self.write().await?;
        for chunk in closed.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "DELETE FROM sbom_open WHERE (sbom_sha256, vulnerability) IN (VALUES {})",
                tuples(chunk.len(), 2)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (sha, vulnerability) in chunk {
                query = query.bind(*sha).bind(*vulnerability);
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in opened.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO sbom_open (sbom_sha256, vulnerability, rating, known_exploited) \
                 VALUES {} ON CONFLICT (sbom_sha256, vulnerability) DO UPDATE \
                 SET rating = excluded.rating, known_exploited = excluded.known_exploited",
                tuples(chunk.len(), 4)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (sha, o) in chunk {
                query = query
                    .bind(*sha)
                    .bind(o.vulnerability.as_str())
                    .bind(o.rating.as_str())
                    .bind(i64::from(o.known_exploited));
            }
            query.execute(&mut *tx).await?;
        }
        for chunk in full.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE sboms SET matched_generation = $1 WHERE sha256 IN ({})",
                (2..chunk.len() + 2)
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(generation);
            for sha in chunk {
                query = query.bind(*sha);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query(queries::SET_MONITOR_GENERATION)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the monitor has matched any SBOM.
    pub async fn any_sbom_matched(&self) -> Result<bool, StoreError> {
        let found: Option<i64> = sqlx::query_scalar(queries::ANY_SBOM_MATCHED)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }

    /// Every sighting, by the conformity attestation (envelope SHA-256) it is about.
    pub async fn all_sightings(&self) -> Result<HashMap<String, Vec<Sighting>>, StoreError> {
        let rows: Vec<SightingRow> = sqlx::query_as(queries::ALL_SIGHTINGS)
            .fetch_all(&self.pool)
            .await?;
        let mut out: HashMap<String, Vec<Sighting>> = HashMap::new();
        for r in rows {
            out.entry(r.attestation).or_default().push(Sighting {
                vulnerability: r.vulnerability,
                first_seen: timestamp("sighting time", r.first_seen)?,
                rating: r.rating,
                known_exploited: r.known_exploited != 0,
            });
        }
        Ok(out)
    }

    /// Records sightings in one transaction; a vulnerability already seen in that
    /// attestation keeps its first sighting.
    pub async fn add_sightings(&self, sightings: &[(String, Sighting)]) -> Result<(), StoreError> {
        if sightings.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        for chunk in sightings.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO monitor_sightings (attestation, vulnerability, first_seen, rating, \
                 known_exploited) VALUES {} ON CONFLICT (attestation, vulnerability) DO NOTHING",
                tuples(chunk.len(), 5)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (attestation, s) in chunk {
                query = query
                    .bind(attestation.as_str())
                    .bind(s.vulnerability.as_str())
                    .bind(seconds(s.first_seen))
                    .bind(s.rating.as_str())
                    .bind(i64::from(s.known_exploited));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
