//! The PostgreSQL backend, for when one machine is not enough.

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StoreError;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const MAX_CONNECTIONS: u32 = 8;

/// The registry's database in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`) and brings the schema up to
    /// date. Several registries may start at once: the migrator holds an advisory lock.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(PgStore { pool })
    }

    /// Waits for the connections to close.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Read committed is enough: each write checks what it relies on inside the transaction,
    /// and a concurrent insert of the same key still fails on the unique index.
    async fn write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}

super::sql::impl_store!(PgStore, sqlx::Postgres);
