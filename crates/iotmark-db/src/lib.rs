//! Opens the databases iotmark keeps: the registry's, and the vulnerability store, which
//! may share one. `sqlite://PATH` is the embedded default (a file, created with its
//! directory); `postgres://…` serves a registry run by an operator. Both are driven through
//! one `sqlx::AnyPool`, so the statements of each store are written once; [`Backend`] says
//! which database is underneath where the two differ (write locks, upserts).
//!
//! Each store brings its own migrations and names its own migration table, so several
//! stores can live in one database without taking each other's migrations for missing
//! ones.

mod postgres;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;

use std::borrow::Cow;

use sqlx::migrate::Migrator;

pub use postgres::without_password;

/// Which database a pool runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database could not be opened or brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
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
    #[error("unsupported database URL {url:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl { url: String },
}

/// One store's schema: its migrations for each backend (from `sqlx::migrate!`), and the
/// table that records which of them ran.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
    /// `_sqlx_migrations` for the registry (as it always was); another store names its own.
    pub table: &'static str,
}

impl Schema {
    fn migrator(&self, backend: Backend) -> Migrator {
        let source = match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        };
        let mut migrator = Migrator::with_migrations(source.migrations.to_vec());
        migrator.dangerous_set_table_name(Cow::Borrowed(self.table));
        migrator
    }
}

/// Opens (and migrates) the database at `url`: `sqlite://PATH` or `postgres://…` /
/// `postgresql://…`.
pub async fn open(url: &str, schema: &Schema) -> Result<(sqlx::AnyPool, Backend), OpenError> {
    let (pool, backend) = if let Some(path) = url.strip_prefix("sqlite://") {
        (
            sqlite::open(std::path::Path::new(path)).await?,
            Backend::Sqlite,
        )
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        (postgres::connect(url).await?, Backend::Postgres)
    } else {
        return Err(OpenError::UnsupportedUrl {
            url: url.to_owned(),
        });
    };
    schema.migrator(backend).run(&pool).await?;
    Ok((pool, backend))
}

/// Begins a write transaction.
///
/// SQLite: `BEGIN IMMEDIATE` takes the write lock at the start, not at the first write: a
/// transaction that read first and then found another writer ahead of it would fail at
/// once instead of waiting (the busy timeout covers only the wait for the lock).
///
/// PostgreSQL: read committed is enough when each write checks what it relies on inside the
/// transaction, and a concurrent insert of the same key still fails on the unique index.
pub async fn begin_write(
    pool: &sqlx::AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}
