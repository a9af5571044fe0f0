//! Webhook subscriptions and the outbox their messages wait in until delivered.
//!
//! Messages are put in the outbox by the transaction that records their attestation
//! ([`queue_messages`]), so there is never an attestation without its messages or a message
//! without its attestation. The delivery worker (`crate::webhooks`) takes due messages one
//! attempt at a time with a compare-and-set on `next_attempt`, so two workers never send
//! the same attempt and a worker killed mid-attempt leaves the message due again.

use sqlx::AnyConnection;

use super::rows::{seconds, timestamp};
use super::{Store, StoreError, queries};

/// A subscription as created: the secret is shown to its owner this once.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct NewWebhook {
    /// `wh_` and 32 hex digits.
    pub id: String,
    pub organisation: String,
    pub url: String,
    /// The Standard Webhooks signing secret, `whsec_` and base64.
    pub secret: String,
    /// The one product it asks about; absent for every product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[schema(value_type = String)]
    pub created: jiff::Timestamp,
}

/// A live subscription and what became of its messages.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[schema(value_type = String)]
    pub created: jiff::Timestamp,
    /// Messages not yet delivered and not given up on.
    pub pending: u64,
    pub delivered: u64,
    /// Messages given up on after the last attempt.
    pub failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub last_delivered: Option<jiff::Timestamp>,
    /// The receiver's last refusal or the connection's last failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// A message due for an attempt, with where it goes and how it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueMessage {
    /// The `webhook-id` header.
    pub message_id: String,
    /// The attestation the message is about.
    pub envelope_sha256: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When it fell due, in milliseconds since the epoch (the value a claim compares).
    pub due_ms: i64,
    pub webhook: String,
    pub url: String,
    pub secret: String,
}

/// id, url, product, created, pending, delivered, failed, last delivered, last error.
type ViewRow = (
    String,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);
/// message, envelope, attempts, next attempt, webhook, url, secret.
type DueRow = (String, String, i64, i64, String, String, String);

impl Store {
    /// Records a new subscription.
    pub async fn add_webhook(&self, webhook: &NewWebhook) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        super::require(
            &mut tx,
            "organisation",
            queries::ORGANISATION_EXISTS,
            &webhook.organisation,
        )
        .await?;
        if let Some(product) = &webhook.product_id {
            super::require(&mut tx, "product", queries::PRODUCT_EXISTS, product).await?;
        }
        sqlx::query(queries::INSERT_WEBHOOK)
            .bind(&webhook.id)
            .bind(&webhook.organisation)
            .bind(&webhook.url)
            .bind(&webhook.secret)
            .bind(&webhook.product_id)
            .bind(seconds(webhook.created))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An organisation's live subscriptions, oldest first.
    pub async fn webhooks_of(&self, organisation: &str) -> Result<Vec<WebhookView>, StoreError> {
        let rows: Vec<ViewRow> = sqlx::query_as(queries::WEBHOOKS_OF)
            .bind(organisation)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(
                |(id, url, product_id, created, pending, delivered, failed, last, error)| {
                    Ok(WebhookView {
                        id,
                        url,
                        product_id,
                        created: timestamp("webhook created", created)?,
                        pending: count(pending),
                        delivered: count(delivered),
                        failed: count(failed),
                        last_delivered: last
                            .map(|t| timestamp("webhook delivered", t))
                            .transpose()?,
                        last_error: error,
                    })
                },
            )
            .collect()
    }

    /// Removes `organisation`'s subscription `id` and gives up on its undelivered messages;
    /// `false` when it has no such live subscription.
    pub async fn remove_webhook(
        &self,
        organisation: &str,
        id: &str,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let removed = sqlx::query(queries::REMOVE_WEBHOOK)
            .bind(id)
            .bind(organisation)
            .bind(seconds(at))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if removed {
            sqlx::query(queries::DROP_WEBHOOK_MESSAGES)
                .bind(id)
                .bind(seconds(at))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    /// Up to `limit` messages due at `now_ms`, the longest-waiting first.
    pub async fn due_webhook_messages(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<DueMessage>, StoreError> {
        let rows: Vec<DueRow> = sqlx::query_as(queries::DUE_WEBHOOK_MESSAGES)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(
                |(message_id, envelope_sha256, attempts, due_ms, webhook, url, secret)| {
                    DueMessage {
                        message_id,
                        envelope_sha256,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        due_ms,
                        webhook,
                        url,
                        secret,
                    }
                },
            )
            .collect())
    }

    /// Takes `message` for one attempt made at `now`, unless another worker took it first
    /// (`false`). Until `lease_until_ms` no other worker will: if this one dies mid-attempt,
    /// the message falls due again then.
    pub async fn claim_webhook_message(
        &self,
        message: &DueMessage,
        lease_until_ms: i64,
        now: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let claimed = sqlx::query(queries::CLAIM_WEBHOOK_MESSAGE)
            .bind(&message.message_id)
            .bind(message.due_ms)
            .bind(lease_until_ms)
            .bind(seconds(now))
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(claimed)
    }

    /// The receiver accepted `message_id` at `at`.
    pub async fn webhook_delivered(
        &self,
        message_id: &str,
        at: jiff::Timestamp,
    ) -> Result<(), StoreError> {
        self.webhook_update(
            queries::WEBHOOK_MESSAGE_DELIVERED,
            message_id,
            seconds(at),
            None,
        )
        .await
    }

    /// The attempt failed with `error`; the next one is due at `next_ms`.
    pub async fn webhook_retry(
        &self,
        message_id: &str,
        next_ms: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        self.webhook_update(
            queries::WEBHOOK_MESSAGE_RETRY,
            message_id,
            next_ms,
            Some(error),
        )
        .await
    }

    /// The last attempt failed with `error`: no more are made.
    pub async fn webhook_given_up(
        &self,
        message_id: &str,
        at: jiff::Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        self.webhook_update(
            queries::WEBHOOK_MESSAGE_GIVEN_UP,
            message_id,
            seconds(at),
            Some(error),
        )
        .await
    }

    async fn webhook_update(
        &self,
        sql: &'static str,
        message_id: &str,
        value: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let query = sqlx::query(sql).bind(message_id).bind(value);
        let query = match error {
            Some(e) => query.bind(e),
            None => query,
        };
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Queues one message about the attestation at `log_index` for each live subscription to
/// `product_id` (or to every product), due now; in the caller's transaction.
pub(super) async fn queue_messages(
    conn: &mut AnyConnection,
    log_index: i64,
    envelope_sha256: &str,
    product_id: &str,
) -> Result<(), StoreError> {
    let now = jiff::Timestamp::now();
    sqlx::query(queries::QUEUE_WEBHOOK_MESSAGES)
        .bind(format!("msg_{log_index}_"))
        .bind(envelope_sha256)
        .bind(seconds(now))
        .bind(now.as_millisecond())
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
