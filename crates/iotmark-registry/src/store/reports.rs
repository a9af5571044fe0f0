//! Vulnerability reports and the manufacturer's answers to them.

use super::rows::{VulnerabilityReportRow, seconds, write_error};
use super::{Store, StoreError, Triage, VulnerabilityReport, queries};

impl Store {
    /// Stores a report (the `id` given is ignored) and returns its assigned ID. An unknown
    /// product is refused with [`StoreError::NotFound`].
    pub async fn add_vulnerability_report(
        &self,
        report: &VulnerabilityReport,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        super::require(
            &mut tx,
            "product",
            queries::PRODUCT_EXISTS,
            &report.product_id,
        )
        .await?;
        let id: i64 = sqlx::query_scalar(queries::INSERT_REPORT)
            .bind(&report.product_id)
            .bind(&report.version)
            .bind(&report.summary)
            .bind(&report.details)
            .bind(&report.contact)
            .bind(seconds(report.received))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    ("vulnerability report", ""),
                    ("product", &report.product_id),
                )
            })?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records the manufacturer's answer to report `id` of `product_id`, replacing an earlier
    /// one; `false` if the product has no such report.
    pub async fn triage_vulnerability_report(
        &self,
        product_id: &str,
        id: i64,
        triage: &Triage,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(queries::TRIAGE_REPORT)
            .bind(product_id)
            .bind(id)
            .bind(triage.status.as_str())
            .bind(&triage.note)
            .bind(&triage.fixed_in)
            .bind(seconds(triage.at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(changed == 1)
    }

    pub async fn vulnerability_reports(
        &self,
        product_id: &str,
    ) -> Result<Vec<VulnerabilityReport>, StoreError> {
        self.find_all::<VulnerabilityReportRow, _>(queries::REPORTS, product_id)
            .await
    }
}
