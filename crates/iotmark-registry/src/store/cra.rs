//! CRA Article 14 cases (an actively exploited vulnerability in a product's attested
//! firmware, the moment the registry told the manufacturer, the fix, and the reports made),
//! and the other clocks the schemes run on: changes of their requirements.

use iotmark_lifecycle::clocks::Report;

use super::rows::{seconds, timestamp};
use super::{Store, StoreError, queries};

/// One actively exploited vulnerability in one product.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CraCase {
    pub product_id: String,
    pub vulnerability: String,
    /// When the registry's monitor found it and the clocks started.
    pub aware: jiff::Timestamp,
    /// When a fix or mitigation became available, as the manufacturer recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_available: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    pub reports: Vec<CraReport>,
}

/// A report the manufacturer made, as it recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CraReport {
    pub report: Report,
    pub made: jiff::Timestamp,
    /// The reference the authority gave it (a case number, a submission ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub recorded: jiff::Timestamp,
    pub recorded_by: String,
}

/// product, vulnerability, aware, fix available, fixed in.
type CaseRow = (String, String, i64, Option<i64>, Option<String>);
/// vulnerability, report, made, reference, recorded, recorded by.
type ReportRow = (String, String, i64, Option<String>, i64, String);

impl Store {
    /// Opens cases for `(product, vulnerability)` pairs found at `aware`; a case already open
    /// keeps its start.
    pub async fn open_cra_cases(
        &self,
        cases: &[(String, String)],
        aware: jiff::Timestamp,
    ) -> Result<usize, StoreError> {
        if cases.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write().await?;
        let mut opened = 0;
        for (product, vulnerability) in cases {
            opened += sqlx::query(queries::OPEN_CRA_CASE)
                .bind(product)
                .bind(vulnerability)
                .bind(seconds(aware))
                .execute(&mut *tx)
                .await?
                .rows_affected() as usize;
        }
        tx.commit().await?;
        Ok(opened)
    }

    /// A product's cases with their reports, by vulnerability.
    pub async fn cra_cases(&self, product_id: &str) -> Result<Vec<CraCase>, StoreError> {
        let rows: Vec<CaseRow> = sqlx::query_as(queries::CRA_CASES)
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        let reports: Vec<ReportRow> = sqlx::query_as(queries::CRA_REPORTS)
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        let mut cases = Vec::with_capacity(rows.len());
        for (product_id, vulnerability, aware, fix, fixed_in) in rows {
            let mut made = Vec::new();
            for (v, report, at, reference, recorded, by) in &reports {
                if *v != vulnerability {
                    continue;
                }
                made.push(CraReport {
                    report: report.parse().map_err(|reason| StoreError::Corrupt {
                        what: "CRA report",
                        reason,
                    })?,
                    made: timestamp("CRA report time", *at)?,
                    reference: reference.clone(),
                    recorded: timestamp("CRA report record time", *recorded)?,
                    recorded_by: by.clone(),
                });
            }
            cases.push(CraCase {
                aware: timestamp("CRA case start", aware)?,
                fix_available: fix.map(|t| timestamp("CRA fix time", t)).transpose()?,
                product_id,
                vulnerability,
                fixed_in,
                reports: made,
            });
        }
        Ok(cases)
    }

    /// The versions of `product_id` whose SBOM the monitor saw `vulnerability` open in, and
    /// the highest rating it had.
    pub async fn sighted_in(
        &self,
        product_id: &str,
        vulnerability: &str,
    ) -> Result<(Vec<String>, Vec<String>), StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(queries::SIGHTED_IN)
            .bind(product_id)
            .bind(vulnerability)
            .fetch_all(&self.pool)
            .await?;
        let (mut versions, mut ratings): (Vec<String>, Vec<String>) = rows.into_iter().unzip();
        versions.sort();
        versions.dedup();
        ratings.sort();
        ratings.dedup();
        Ok((versions, ratings))
    }

    /// Records a report; each report is recorded once per case ([`StoreError::Exists`]), and
    /// only for an open case ([`StoreError::NotFound`]).
    #[allow(clippy::too_many_arguments)] // each is one column of the record
    pub async fn record_cra_report(
        &self,
        product_id: &str,
        vulnerability: &str,
        report: Report,
        made: jiff::Timestamp,
        reference: Option<&str>,
        recorded: jiff::Timestamp,
        recorded_by: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(queries::INSERT_CRA_REPORT)
            .bind(product_id)
            .bind(vulnerability)
            .bind(report.as_str())
            .bind(seconds(made))
            .bind(reference)
            .bind(seconds(recorded))
            .bind(recorded_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                super::rows::write_error(
                    e,
                    ("CRA report", report.as_str()),
                    ("CRA case", vulnerability),
                )
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// Records when a fix became available and in which version; `false` when there is no
    /// such case.
    pub async fn record_cra_fix(
        &self,
        product_id: &str,
        vulnerability: &str,
        available: jiff::Timestamp,
        fixed_in: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(queries::SET_CRA_FIX)
            .bind(product_id)
            .bind(vulnerability)
            .bind(seconds(available))
            .bind(fixed_in)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(changed == 1)
    }
}

/// A change of a scheme's requirements, as the operator recorded it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RequirementChange {
    pub scheme: String,
    /// When the new requirements took effect.
    #[schema(value_type = String)]
    pub changed: jiff::Timestamp,
    pub summary: String,
    #[schema(value_type = String)]
    pub recorded: jiff::Timestamp,
    pub recorded_by: String,
}

impl Store {
    /// Records a change of `scheme`'s requirements; `false` when one at that moment was
    /// recorded before.
    pub async fn add_requirement_change(
        &self,
        change: &RequirementChange,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = sqlx::query(queries::INSERT_REQUIREMENT_CHANGE)
            .bind(&change.scheme)
            .bind(seconds(change.changed))
            .bind(&change.summary)
            .bind(seconds(change.recorded))
            .bind(&change.recorded_by)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(added)
    }

    /// Every recorded change of every scheme's requirements, by scheme and time.
    pub async fn requirement_changes(&self) -> Result<Vec<RequirementChange>, StoreError> {
        let rows: Vec<(String, i64, String, i64, String)> =
            sqlx::query_as(queries::REQUIREMENT_CHANGES)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(scheme, changed, summary, recorded, recorded_by)| {
                Ok(RequirementChange {
                    scheme,
                    changed: timestamp("requirements changed", changed)?,
                    summary,
                    recorded: timestamp("requirement change recorded", recorded)?,
                    recorded_by,
                })
            })
            .collect()
    }
}
