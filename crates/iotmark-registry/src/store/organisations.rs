//! Organisations, accreditations, signing keys and API tokens.

use super::rows::{
    self, AccreditationRow, ApiTokenRow, OrganisationRow, SigningKeyRow, TokenHolderRow, seconds,
    write_error,
};
use super::{Accreditation, ApiToken, Organisation, SigningKey, Store, StoreError, queries};

impl Store {
    /// Refuses an existing ID, or a name another organisation has, with
    /// [`StoreError::Exists`].
    pub async fn create_organisation(&self, org: &Organisation) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // Both ID and name are unique keys; asking first tells the caller which one is taken.
        let holder: Option<String> = sqlx::query_scalar(queries::ORGANISATION_WITH_NAME)
            .bind(&org.name)
            .fetch_optional(&mut *tx)
            .await?;
        if holder.is_some() {
            return Err(StoreError::Exists {
                what: "organisation name",
                id: org.name.clone(),
            });
        }
        sqlx::query(queries::INSERT_ORGANISATION)
            .bind(&org.id)
            .bind(&org.name)
            .bind(org.role.as_str())
            .bind(seconds(org.created))
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, ("organisation", &org.id), ("organisation", &org.id)))?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn organisation(&self, id: &str) -> Result<Option<Organisation>, StoreError> {
        self.find::<OrganisationRow, _>(queries::ORGANISATION, id)
            .await
    }

    /// All organisations, by ID.
    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let rows: Vec<OrganisationRow> = sqlx::query_as(queries::ORGANISATIONS)
            .fetch_all(&self.pool)
            .await?;
        rows::convert(rows)
    }

    /// The manufacturer organisation with this name (the one with the lowest ID if several
    /// share it): how a conformity statement's manufacturer is matched to an organisation.
    pub async fn manufacturer_named(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.find::<OrganisationRow, _>(queries::MANUFACTURER_NAMED, name)
            .await
    }

    /// Records an accreditation; idempotent (a second grant keeps the first's time). The
    /// organisation must exist ([`StoreError::NotFound`]). Whether it may be accredited (only a
    /// lab may) is [`crate::admin::accredit`]'s to decide.
    pub async fn grant_accreditation(&self, acc: &Accreditation) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(queries::INSERT_ACCREDITATION)
            .bind(&acc.organisation)
            .bind(&acc.scheme)
            .bind(seconds(acc.granted))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    ("accreditation", &acc.scheme),
                    ("organisation", &acc.organisation),
                )
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// Returns whether there was one to withdraw.
    pub async fn withdraw_accreditation(
        &self,
        organisation: &str,
        scheme: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(queries::DELETE_ACCREDITATION)
            .bind(organisation)
            .bind(scheme)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn accreditations(
        &self,
        organisation: &str,
    ) -> Result<Vec<Accreditation>, StoreError> {
        self.find_all::<AccreditationRow, _>(queries::ACCREDITATIONS, organisation)
            .await
    }

    /// Refuses a key ID registered before (to any organisation) with [`StoreError::Exists`],
    /// and an unknown organisation with [`StoreError::NotFound`].
    pub async fn add_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // Asked first: a key ID taken and an organisation missing at once is the missing
        // organisation, whichever the database would report.
        super::require(
            &mut tx,
            "organisation",
            queries::ORGANISATION,
            &key.organisation,
        )
        .await?;
        sqlx::query(queries::INSERT_SIGNING_KEY)
            .bind(&key.key_id)
            .bind(&key.organisation)
            .bind(&key.public_key)
            .bind(&key.label)
            .bind(seconds(key.added))
            .bind(key.retired.map(seconds))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    ("signing key", &key.key_id),
                    ("organisation", &key.organisation),
                )
            })?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn signing_key(&self, key_id: &str) -> Result<Option<SigningKey>, StoreError> {
        self.find::<SigningKeyRow, _>(queries::SIGNING_KEY, key_id)
            .await
    }

    pub async fn signing_keys(&self, organisation: &str) -> Result<Vec<SigningKey>, StoreError> {
        self.find_all::<SigningKeyRow, _>(queries::SIGNING_KEYS, organisation)
            .await
    }

    /// Sets `retired`; returns whether the key existed and was active.
    pub async fn retire_signing_key(
        &self,
        key_id: &str,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        self.update_one(queries::RETIRE_SIGNING_KEY, key_id, at)
            .await
    }

    /// Refuses a known token ID or secret with [`StoreError::Exists`], and an unknown
    /// organisation with [`StoreError::NotFound`].
    pub async fn create_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        super::require(
            &mut tx,
            "organisation",
            queries::ORGANISATION,
            &token.organisation,
        )
        .await?;
        let same_secret: Option<String> = sqlx::query_scalar(queries::TOKEN_WITH_SECRET)
            .bind(&token.secret_sha256)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(other) = same_secret.filter(|other| *other != token.id) {
            return Err(StoreError::Exists {
                what: "the secret of API token",
                id: other,
            });
        }
        sqlx::query(queries::INSERT_TOKEN)
            .bind(&token.id)
            .bind(&token.organisation)
            .bind(token.role.as_str())
            .bind(&token.secret_sha256)
            .bind(&token.label)
            .bind(seconds(token.created))
            .bind(token.revoked.map(seconds))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                write_error(
                    e,
                    ("API token", &token.id),
                    ("organisation", &token.organisation),
                )
            })?;
        tx.commit().await?;
        Ok(())
    }

    /// The token whose secret hashes to `secret_sha256`, revoked or not.
    pub async fn token_by_secret(
        &self,
        secret_sha256: &[u8],
    ) -> Result<Option<ApiToken>, StoreError> {
        self.find::<ApiTokenRow, _>(queries::TOKEN_BY_SECRET, secret_sha256)
            .await
    }

    /// The token with this secret's SHA-256 and the organisation it acts for, in one query
    /// (every authenticated request asks).
    pub async fn token_holder(
        &self,
        secret_sha256: &[u8],
    ) -> Result<Option<(ApiToken, Organisation)>, StoreError> {
        self.find::<TokenHolderRow, _>(queries::TOKEN_HOLDER, secret_sha256)
            .await
    }

    pub async fn tokens(&self, organisation: &str) -> Result<Vec<ApiToken>, StoreError> {
        self.find_all::<ApiTokenRow, _>(queries::TOKENS, organisation)
            .await
    }

    /// Returns whether the token existed and was active.
    pub async fn revoke_token(&self, id: &str, at: jiff::Timestamp) -> Result<bool, StoreError> {
        self.update_one(queries::REVOKE_TOKEN, id, at).await
    }

    /// Runs `sql`, an update of row `$1` that sets time `$2`, in a write transaction; returns
    /// whether a row changed.
    async fn update_one(
        &self,
        sql: &'static str,
        id: &str,
        at: jiff::Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(sql)
            .bind(id)
            .bind(seconds(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}
