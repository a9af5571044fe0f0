//! For the tests of the stores built on this crate: the databases to run a test against.
//! Enabled by the `testing` feature, which only dev-dependencies turn on.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The database URLs a store's test runs against: a SQLite file `file` in `dir`, and a
/// fresh PostgreSQL database beside the one `TEST_DATABASE_URL` names. Without that
/// variable the test fails with a hint, unless `IOTMARK_SKIP_POSTGRES=1` says to run on
/// SQLite only.
pub fn backends(dir: &Path, file: &str) -> Vec<(&'static str, String)> {
    let mut out = vec![("sqlite", format!("sqlite://{}", dir.join(file).display()))];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => out.push(("postgres", fresh_postgres_database(&url))),
        Err(_) if std::env::var("IOTMARK_SKIP_POSTGRES").as_deref() == Ok("1") => {
            eprintln!("PostgreSQL run skipped (IOTMARK_SKIP_POSTGRES=1)");
        }
        Err(_) => panic!(
            "TEST_DATABASE_URL is not set: start PostgreSQL with `eval \"$(bash scripts/postgres.sh start)\"` (after `bash scripts/postgres.sh --install`), or set IOTMARK_SKIP_POSTGRES=1 to run on SQLite only"
        ),
    }
    out
}

/// Creates a new, empty database beside the one `url` names and returns its URL. Names are
/// unique per process and call, so tests running at once never share one.
#[allow(clippy::unwrap_used, clippy::expect_used)] // a test's set-up: failing is the report
fn fresh_postgres_database(url: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!(
        "iotmark_t_{:x}_{:x}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the set-up");
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL: {e}"));
        // The name is ours (hex digits and a counter), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let (base, _) = url.rsplit_once('/').expect("a database URL ends in /NAME");
    format!("{base}/{name}")
}
