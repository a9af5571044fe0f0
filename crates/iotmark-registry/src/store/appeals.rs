//! Appeals: a manufacturer's contest of a suspension or revocation, and the operator's
//! decision, which is logged as a status change and named here.

use super::rows::{seconds, timestamp};
use super::{Store, StoreError, queries};

/// One piece of evidence an appeal rests on: what it is, and where or what bytes it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub description: String,
    /// SHA-256 of the document, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Where the operator can fetch it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What the operator decided.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AppealDecision {
    /// The contested change is undone: the attestation is reinstated.
    Upheld,
    /// The contested change stands.
    Dismissed,
}

impl AppealDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            AppealDecision::Upheld => "upheld",
            AppealDecision::Dismissed => "dismissed",
        }
    }
}

/// An appeal as filed, with its decision once made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Appeal {
    /// `ap_` and 32 hex digits.
    pub id: String,
    pub product_id: String,
    /// The contested suspension or revocation (its envelope's SHA-256).
    pub contests: String,
    /// The conformity attestation the contested change applies to.
    pub attestation: String,
    pub grounds: String,
    pub evidence: Vec<Evidence>,
    #[schema(value_type = String)]
    pub filed: jiff::Timestamp,
    pub filed_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<AppealDecision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub decided: Option<jiff::Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The status change that logged the decision (its envelope's SHA-256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_attestation: Option<String>,
}

/// A decision as it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub decision: AppealDecision,
    pub reasons: String,
    pub at: jiff::Timestamp,
    pub by: String,
    pub attestation: String,
}

/// id, product, contests, attestation, grounds, evidence, filed, filed by, decision,
/// reasons, decided, decided by, decision attestation.
type AppealRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn appeal_from(row: AppealRow) -> Result<Appeal, StoreError> {
    let (
        id,
        product_id,
        contests,
        attestation,
        grounds,
        evidence,
        filed,
        filed_by,
        decision,
        reasons,
        decided,
        decided_by,
        decision_attestation,
    ) = row;
    let corrupt = |what: &'static str, reason: String| StoreError::Corrupt { what, reason };
    Ok(Appeal {
        evidence: serde_json::from_str(&evidence)
            .map_err(|e| corrupt("appeal evidence", e.to_string()))?,
        decision: decision
            .map(|d| match d.as_str() {
                "upheld" => Ok(AppealDecision::Upheld),
                "dismissed" => Ok(AppealDecision::Dismissed),
                other => Err(corrupt("appeal decision", format!("{other:?}"))),
            })
            .transpose()?,
        filed: timestamp("appeal filed", filed)?,
        decided: decided
            .map(|t| timestamp("appeal decided", t))
            .transpose()?,
        id,
        product_id,
        contests,
        attestation,
        grounds,
        filed_by,
        reasons,
        decided_by,
        decision_attestation,
    })
}

impl Store {
    /// Records a new appeal; one that contests a change already contested is refused with
    /// [`StoreError::Exists`], naming the earlier appeal.
    pub async fn file_appeal(&self, appeal: &Appeal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let earlier: Option<String> = sqlx::query_scalar(queries::APPEAL_CONTESTING_ID)
            .bind(&appeal.contests)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(earlier) = earlier {
            return Err(StoreError::Exists {
                what: "appeal of that change",
                id: earlier,
            });
        }
        let evidence =
            serde_json::to_string(&appeal.evidence).map_err(|e| StoreError::Invalid {
                what: "appeal evidence",
                reason: e.to_string(),
            })?;
        sqlx::query(queries::INSERT_APPEAL)
            .bind(&appeal.id)
            .bind(&appeal.product_id)
            .bind(&appeal.contests)
            .bind(&appeal.attestation)
            .bind(&appeal.grounds)
            .bind(evidence)
            .bind(seconds(appeal.filed))
            .bind(&appeal.filed_by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn appeal(&self, id: &str) -> Result<Option<Appeal>, StoreError> {
        let row: Option<AppealRow> = sqlx::query_as(queries::APPEAL)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(appeal_from).transpose()
    }

    /// A product's appeals, oldest first.
    pub async fn appeals_of(&self, product_id: &str) -> Result<Vec<Appeal>, StoreError> {
        let rows: Vec<AppealRow> = sqlx::query_as(queries::APPEALS_OF)
            .bind(product_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(appeal_from).collect()
    }

    /// Records the decision of appeal `id`; `false` when it was decided before (the first
    /// decision stands).
    pub async fn decide_appeal(&self, id: &str, decided: &Decided) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let changed = sqlx::query(queries::DECIDE_APPEAL)
            .bind(id)
            .bind(decided.decision.as_str())
            .bind(&decided.reasons)
            .bind(seconds(decided.at))
            .bind(&decided.by)
            .bind(&decided.attestation)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(changed)
    }
}
