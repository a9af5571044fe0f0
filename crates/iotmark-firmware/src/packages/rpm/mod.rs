//! rpm databases: three backends, one value format (the [`header`] blob).

pub mod bdb;
pub mod header;
pub mod ndb;
pub mod sqlite;

use super::{Installed, PackageSource, Problem};
use crate::tree::Tree;
use header::Header;

/// The database directories: Fedora 36 and later keep it in `usr/lib/sysimage/rpm` with
/// `var/lib/rpm` a link to it.
const DIRS: [&str; 2] = ["var/lib/rpm", "usr/lib/sysimage/rpm"];
/// Each backend's file and reader.
type Values = fn(&[u8]) -> Result<Vec<Vec<u8>>, String>;
const BACKENDS: [(&str, PackageSource, Values); 3] = [
    ("rpmdb.sqlite", PackageSource::RpmSqlite, sqlite::values),
    ("Packages", PackageSource::RpmBerkeleyDb, bdb::values),
    ("Packages.db", PackageSource::RpmNdb, ndb::values),
];

/// The package a header blob describes; `None` for rpm's `gpg-pubkey` entries, which
/// are imported signing keys, not software.
pub fn package(blob: &[u8], database: &str) -> Result<Option<Installed>, header::HeaderError> {
    let h = Header::parse(blob)?;
    let Some(name) = h.string(header::NAME)? else {
        return Ok(None);
    };
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = h.string(header::VERSION)?.unwrap_or_default();
    let version = match h.string(header::RELEASE)? {
        Some(release) => format!("{version}-{release}"),
        None => version,
    };
    Ok(Some(Installed {
        name,
        version,
        epoch: h.int32s(header::EPOCH)?.first().copied(),
        arch: h.string(header::ARCH)?,
        supplier: match h.string(header::VENDOR)? {
            Some(v) => Some(v),
            None => h.string(header::PACKAGER)?,
        },
        licenses: h.string(header::LICENSE)?.into_iter().collect(),
        source_package: h.string(header::SOURCERPM)?,
        files: h.files()?,
        database: format!("/{database}"),
    }))
}

/// Every rpm package in `tree`, from the first database directory that has one.
pub fn read(tree: &Tree) -> (Vec<(PackageSource, Installed)>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for dir in DIRS {
        for (file, source, values) in BACKENDS {
            let path = format!("{dir}/{file}");
            let Some(data) = tree.file(&path) else {
                continue;
            };
            // rpm closes its database with the write-ahead log checkpointed into the main
            // file; a log with content left in it holds changes this reader does not see.
            if source == PackageSource::RpmSqlite
                && let Some(wal) = tree.file(&format!("{path}-wal"))
                && !wal.is_empty()
            {
                problems.push(Problem {
                    path: format!("/{path}-wal"),
                    message: format!(
                        "{} bytes of write-ahead log not applied; packages installed last may be missing",
                        wal.len()
                    ),
                });
            }
            let blobs = match values(data) {
                Ok(b) => b,
                Err(message) => {
                    problems.push(Problem {
                        path: format!("/{path}"),
                        message,
                    });
                    continue;
                }
            };
            for (i, blob) in blobs.iter().enumerate() {
                match package(blob, &path) {
                    Ok(Some(p)) => out.push((source, p)),
                    Ok(None) => {}
                    Err(e) => problems.push(Problem {
                        path: format!("/{path}"),
                        message: format!("package {}: header: {e}", i + 1),
                    }),
                }
            }
        }
        if !out.is_empty() {
            break;
        }
    }
    (out, problems)
}
