//! The SQLite backend's set-up: the file and the settings every connection needs.

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::Executor as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

use super::OpenError;

/// SQLite admits one writer at a time; a few connections let pages read while it writes.
const MAX_CONNECTIONS: u32 = 4;

/// How long a write waits for another connection's write to finish before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Run on every new connection: these settings belong to a connection, not to the file.
/// WAL lets readers go on while one writer commits; `synchronous = FULL` makes each commit
/// durable when it returns, not merely consistent after a power cut; foreign keys are off
/// unless asked for.
fn connection_settings() -> String {
    format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA busy_timeout = {};",
        BUSY_TIMEOUT.as_millis()
    )
}

/// Opens the database file at `path`, creating it and its directory if missing.
pub(super) async fn open(path: &Path) -> Result<AnyPool, OpenError> {
    // The `Any` driver picks a backend by the URL's scheme among those installed; a second
    // install is a no-op.
    sqlx::any::install_default_drivers();
    let failed = |source| OpenError::Open {
        target: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| failed(sqlx::Error::Io(e)))?;
    }
    let url = url(path).map_err(|e| failed(sqlx::Error::Io(e)))?;
    let options: AnyConnectOptions = url.parse().map_err(failed)?;
    let pool = AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(connection_settings()))
                    .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(failed)?;
    Ok(pool)
}

/// The `sqlite://` URL the `Any` driver opens `path` by, created if missing (`mode=rwc`).
///
/// The driver reads the path back from the URL after a URL parser has been at it, which
/// would take `a/../b` as `b` under a host `a`. So the path is made absolute, its directory
/// without `.` or `..` (the directory exists by now), and every byte but letters, digits and
/// `/-._~` percent-encoded, `%`, `?` and `#` included.
fn url(path: &Path) -> std::io::Result<String> {
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::canonicalize(dir)?,
        None => std::env::current_dir()?,
    };
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path names a directory, not a database file",
        )
    })?;
    let absolute = dir.join(name);
    let mut url = String::from("sqlite://");
    for &b in absolute.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url.push_str("?mode=rwc");
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    /// The durability settings are per connection: every connection of the pool must have
    /// them, not only the first.
    #[tokio::test]
    async fn every_connection_has_wal_full_sync_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let pool = open(&dir.path().join("nested/dir/registry.db"))
            .await
            .unwrap();
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            let mut conn = pool.acquire().await.unwrap();
            let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            assert_eq!(journal, "wal");
            assert_eq!(synchronous, 2, "synchronous=FULL is 2");
            assert_eq!(foreign_keys, 1);
            assert_eq!(busy, 5000);
            held.push(conn);
        }
    }

    /// The path goes through a URL on its way to SQLite: characters a URL gives meaning to,
    /// and `..`, must still name the file they name on disk.
    #[tokio::test]
    async fn odd_paths_open_the_file_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("a b%41?c#d/../e f%2e%2E?#é.db");
        open(&odd).await.unwrap().close().await;
        assert!(dir.path().join("e f%2e%2E?#é.db").is_file());
        assert!(dir.path().join("a b%41?c#d").is_dir());
    }

    #[tokio::test]
    async fn a_path_that_cannot_be_a_database_is_named_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-directory");
        std::fs::write(&file, "x").unwrap();
        let path = file.join("registry.db");
        match open(&path).await {
            Err(e @ OpenError::Open { .. }) => {
                assert!(e.to_string().contains(&path.display().to_string()), "{e}")
            }
            other => panic!("expected Open, got {other:?}"),
        }
    }
}
