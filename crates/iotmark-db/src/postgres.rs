//! The PostgreSQL backend's set-up: the pool.

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use super::OpenError;

const MAX_CONNECTIONS: u32 = 8;

/// Connects to `url` (`postgres://user@host:port/database`). Several registries may start at
/// once: the migrator that runs next holds an advisory lock.
pub(super) async fn connect(url: &str) -> Result<AnyPool, OpenError> {
    // See `sqlite::open`: the `Any` driver needs its backends installed, once.
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect(url)
        .await
        .map_err(|source| OpenError::Open {
            target: without_password(url),
            source,
        })?;
    Ok(pool)
}

/// The URL fit for an error message or a log: `postgres://user:***@host/db`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn passwords_stay_out_of_error_messages() {
        assert_eq!(
            without_password("postgres://reg:s3cr@t@db.example:5432/iotmark?sslmode=disable"),
            "postgres://reg:***@db.example:5432/iotmark?sslmode=disable"
        );
        assert_eq!(
            without_password("postgres://reg@db.example/iotmark"),
            "postgres://reg@db.example/iotmark"
        );
        assert_eq!(
            without_password("postgresql://db.example/a@b"),
            "postgresql://db.example/a@b"
        );
    }
}
