//! rpm's SQLite database (`rpmdb.sqlite`, rpm 4.16 and later): table `Packages` (`hnum`,
//! `blob`), one header blob a row. Read with SQLite itself, from the bytes in memory,
//! read-only.

use rusqlite::{Connection, MAIN_DB};

/// Most rows read.
pub const MAX_VALUES: usize = 100_000;

/// The header blobs of table `Packages`, in `hnum` order.
pub fn values(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !data.starts_with(b"SQLite format 3\0") || data.len() < 100 {
        return Err("not an SQLite 3 database (no header)".into());
    }
    // rpm keeps the database in WAL mode (header bytes 18 and 19 are 2); an in-memory
    // database cannot open WAL, and with the WAL file left behind empty the main file holds
    // everything, so the copy says "rollback journal" (1) instead.
    let mut bytes = data.to_vec();
    for at in [18, 19] {
        if let Some(b) = bytes.get_mut(at)
            && *b == 2
        {
            *b = 1;
        }
    }
    let e = |e: rusqlite::Error| format!("sqlite: {e}");
    let mut db = Connection::open_in_memory().map_err(e)?;
    db.deserialize_read_exact(MAIN_DB, bytes.as_slice(), bytes.len(), true)
        .map_err(e)?;
    // The schema is the image's: `Packages` must be a plain table, not a view whose query
    // could run without end.
    let kind: Option<String> = db
        .query_row(
            "SELECT type FROM sqlite_master WHERE name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .ok();
    if kind.as_deref() != Some("table") {
        return Err("no table `Packages`".into());
    }
    let mut statement = db
        .prepare("SELECT blob FROM Packages ORDER BY hnum LIMIT ?1")
        .map_err(e)?;
    let rows = statement
        .query_map([MAX_VALUES as i64 + 1], |row| row.get::<_, Vec<u8>>(0))
        .map_err(e)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row.map_err(e)?);
    }
    if out.len() > MAX_VALUES {
        return Err(format!("more than {MAX_VALUES} packages; not read further"));
    }
    Ok(out)
}
