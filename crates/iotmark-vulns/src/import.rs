//! Importing vulnerability data the user fetched: each file is recognised by its content,
//! read by its reader, and written to the store in batches, one transaction each.
//!
//! - Idempotent: a file is remembered by the SHA-256 of its bytes once its records are
//!   committed; the same file again is skipped. A changed file (NVD's feeds are rewritten
//!   daily) is read again, and the store keeps the newest version of each record.
//! - Incremental: a record older than the stored one of the same ID and source is kept out,
//!   so feeds may be imported in any order.
//! - A record that cannot be read is skipped and reported with its place; the good ones are
//!   kept. A file that cannot be read at all is reported, and the other files still go in.
//! - NVD feeds are streamed: records are parsed on a blocking thread and written by the
//!   async side as they arrive, so a 300 MB feed is never held whole.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::Digest as _;

use crate::error::ReadError;
use crate::model::Advisory;
use crate::store::{Import, Store, StoreError};

/// Records written per transaction.
const BATCH: usize = 1000;

/// The largest file read into memory whole (all but NVD feeds, which are streamed).
const MAX_FILE_BYTES: u64 = 512 << 20;

/// What a file holds, recognised from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An NVD CVE JSON 2.0 feed, API page or record (plain or gzip).
    Nvd,
    /// A CVE JSON 5 record.
    Cve5,
    /// An OSV record (JSON or YAML).
    Osv,
    /// An OSV zip export (`all.zip`).
    OsvZip,
    /// CISA's Known Exploited Vulnerabilities catalog.
    Kev,
    /// A CSAF 2.0 advisory (security advisory or VEX).
    Csaf,
}

impl Kind {
    /// The word the store and `--json` use (`nvd`, `osv-zip`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Nvd => "nvd",
            Kind::Cve5 => "cve5",
            Kind::Osv => "osv",
            Kind::OsvZip => "osv-zip",
            Kind::Kev => "kev",
            Kind::Csaf => "csaf",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::Nvd => "NVD",
            Kind::Cve5 => "CVE 5",
            Kind::Osv => "OSV",
            Kind::OsvZip => "OSV zip",
            Kind::Kev => "KEV",
            Kind::Csaf => "CSAF",
        })
    }
}

/// What importing one file did.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    /// Records read from the file.
    pub records: u64,
    /// Records written (new, or newer than the stored one).
    pub written: u64,
    /// Records older than the stored one, kept out.
    pub kept_older: u64,
    /// Records that could not be read, each with its place and reason.
    pub skipped: Vec<String>,
    /// The same bytes were imported before: nothing was done.
    pub already_imported: bool,
    /// The file could not be read at all (then nothing of it was written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

impl std::fmt::Display for FileSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = self.kind.map(|k| k.to_string()).unwrap_or_default();
        if let Some(why) = &self.failed {
            return write!(f, "{}: not imported: {why}", self.path);
        }
        if self.already_imported {
            return write!(f, "{} ({kind}): already imported, unchanged", self.path);
        }
        write!(
            f,
            "{} ({kind}): {} record(s), {} written, {} older than the store's kept out, {} skipped",
            self.path,
            self.records,
            self.written,
            self.kept_older,
            self.skipped.len()
        )?;
        for problem in &self.skipped {
            write!(f, "\n  skipped: {problem}")?;
        }
        Ok(())
    }
}

/// What an import did, file by file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub files: Vec<FileSummary>,
}

impl Summary {
    /// Whether any file could not be read at all.
    pub fn any_failed(&self) -> bool {
        self.files.iter().any(|f| f.failed.is_some())
    }
}

/// Progress as the import goes: the file it starts, and records written so far.
#[derive(Debug, Clone)]
pub enum Event {
    File {
        path: String,
        index: usize,
        of: usize,
    },
    Written {
        path: String,
        records: u64,
    },
}

/// Imports every file under `paths` (directories walked recursively, in path order).
pub async fn import_paths(
    store: &Store,
    paths: &[PathBuf],
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Summary, StoreError> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files);
    }
    let mut summary = Summary::default();
    let of = files.len();
    for (index, file) in files.into_iter().enumerate() {
        let path = file.display().to_string();
        progress(Event::File {
            path: path.clone(),
            index,
            of,
        });
        summary
            .files
            .push(import_file(store, &file, progress).await?);
    }
    Ok(summary)
}

/// Files under `path`, or `path` itself; unreadable directories show up as files that
/// then fail with their reason.
fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(path) else {
        out.push(path.to_owned());
        return;
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            collect(&child, out);
        } else if is_data_file(&child) {
            out.push(child);
        }
    }
}

/// Inside a directory, the files that may hold records (a tree of OSV records also holds
/// READMEs and licences).
fn is_data_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    [".json", ".json.gz", ".yaml", ".yml", ".zip"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

impl FileSummary {
    fn new(path: &str, kind: Option<Kind>) -> FileSummary {
        FileSummary {
            path: path.to_owned(),
            kind,
            records: 0,
            written: 0,
            kept_older: 0,
            skipped: Vec::new(),
            already_imported: false,
            failed: None,
        }
    }

    fn failed(mut self, why: impl Into<String>) -> FileSummary {
        self.failed = Some(why.into());
        self
    }
}

/// Imports one file.
pub async fn import_file(
    store: &Store,
    file: &Path,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<FileSummary, StoreError> {
    let path = file.display().to_string();
    let digest = match file_digest(file) {
        Ok(d) => d,
        Err(e) => return Ok(FileSummary::new(&path, None).failed(format!("cannot read: {e}"))),
    };
    let kind = match sniff(file) {
        Ok(kind) => kind,
        Err(why) => return Ok(FileSummary::new(&path, None).failed(why)),
    };
    let mut summary = FileSummary::new(&path, Some(kind));
    if store.import(&digest).await?.is_some() {
        summary.already_imported = true;
        return Ok(summary);
    }
    let outcome = match kind {
        Kind::Nvd => import_nvd(store, file, &path, &mut summary, progress).await,
        other => match read_whole(file, &path, other) {
            Ok(Contents::Advisories(read)) => {
                summary.skipped = read.skipped.iter().map(ToString::to_string).collect();
                summary.records = read.records.len() as u64;
                write_advisories(store, &read.records, &path, &mut summary, progress).await?;
                Ok(())
            }
            Ok(Contents::Kev(read)) => {
                summary.skipped = read.skipped.iter().map(ToString::to_string).collect();
                summary.records = read.records.len() as u64;
                store.put_kev(&read.records).await?;
                summary.written = summary.records;
                Ok(())
            }
            Ok(Contents::Csaf(document)) => {
                // The advisory's product status goes into the store as advisories (a
                // distribution's `fixed` is a back-port the matcher reads); its VEX
                // statements are for `--vex`, where the user chooses to honour them.
                summary.skipped = document.skipped.iter().map(ToString::to_string).collect();
                summary.records = document.advisories.len() as u64;
                write_advisories(store, &document.advisories, &path, &mut summary, progress)
                    .await?;
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    if let Err(e) = outcome {
        return Ok(summary.failed(e.to_string()));
    }
    store
        .put_import(&Import {
            digest,
            path: path.clone(),
            kind: kind.as_str().to_owned(),
            records: summary.records,
            skipped: summary.skipped.len() as u64,
            imported: jiff::Timestamp::now(),
        })
        .await?;
    Ok(summary)
}

async fn write_advisories(
    store: &Store,
    records: &[Advisory],
    path: &str,
    summary: &mut FileSummary,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<(), StoreError> {
    for batch in records.chunks(BATCH) {
        let put = store.put_advisories(batch).await?;
        summary.written += put.written;
        summary.kept_older += put.kept_older;
        progress(Event::Written {
            path: path.to_owned(),
            records: summary.written + summary.kept_older,
        });
    }
    Ok(())
}

/// Streams an NVD feed: a blocking thread parses and sends batches; this side writes them.
async fn import_nvd(
    store: &Store,
    file: &Path,
    path: &str,
    summary: &mut FileSummary,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<(), ReadError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Advisory>>(4);
    let reader_file = file.to_owned();
    let name = path.to_owned();
    let parser = tokio::task::spawn_blocking(move || {
        let opened = std::fs::File::open(&reader_file)
            .map_err(|e| ReadError::new(&name, "/", format!("cannot open: {e}")))?;
        let mut batch = Vec::with_capacity(BATCH);
        let result = crate::nvd::read_feed(&name, opened, |advisory| {
            batch.push(advisory);
            if batch.len() == BATCH {
                // The writer went away only when it failed; its error is reported.
                let _ = tx.blocking_send(std::mem::take(&mut batch));
            }
        });
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        result
    });
    let mut written: Result<(), StoreError> = Ok(());
    while let Some(batch) = rx.recv().await {
        summary.records += batch.len() as u64;
        if written.is_ok() {
            match store.put_advisories(&batch).await {
                Ok(put) => {
                    summary.written += put.written;
                    summary.kept_older += put.kept_older;
                    progress(Event::Written {
                        path: path.to_owned(),
                        records: summary.records,
                    });
                }
                Err(e) => written = Err(e),
            }
        }
    }
    let parsed = parser
        .await
        .map_err(|e| ReadError::new(path, "/", format!("the reader stopped: {e}")))?;
    if let Err(e) = written {
        return Err(ReadError::new(path, "/", format!("cannot store: {e}")));
    }
    let feed = parsed?;
    summary.skipped = feed.skipped.iter().map(ToString::to_string).collect();
    Ok(())
}

enum Contents {
    Advisories(crate::error::Read<Advisory>),
    Kev(crate::error::Read<crate::model::KnownExploited>),
    Csaf(crate::csaf::Csaf),
}

fn read_whole(file: &Path, path: &str, kind: Kind) -> Result<Contents, ReadError> {
    let bytes = read_bounded(file).map_err(|e| ReadError::new(path, "/", e))?;
    Ok(match kind {
        Kind::Nvd => unreachable_kind(path)?,
        Kind::Cve5 => Contents::Advisories(crate::error::Read {
            records: vec![crate::cve5::read(path, &bytes)?],
            skipped: Vec::new(),
        }),
        Kind::Osv => Contents::Advisories(crate::error::Read {
            records: vec![crate::osv::read(path, &bytes)?],
            skipped: Vec::new(),
        }),
        Kind::OsvZip => Contents::Advisories(crate::osv::read_zip(path, &bytes)?),
        Kind::Kev => Contents::Kev(crate::kev::read(path, &bytes)?.entries),
        Kind::Csaf => Contents::Csaf(crate::csaf::read(path, &bytes)?),
    })
}

/// NVD feeds are streamed, never read whole; reaching this is a defect of the dispatch.
fn unreachable_kind(path: &str) -> Result<Contents, ReadError> {
    Err(ReadError::new(
        path,
        "/",
        "an NVD feed is streamed, not read whole",
    ))
}

fn read_bounded(file: &Path) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} MiB: only NVD feeds may be larger, and they are recognised by their first bytes",
            MAX_FILE_BYTES >> 20
        ));
    }
    Ok(bytes)
}

fn file_digest(file: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(file)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Recognises a file from its first bytes: gzip (NVD's feeds), zip (OSV's exports), YAML
/// (an OSV record), or JSON by the keys each format puts at its top level.
fn sniff(file: &Path) -> Result<Kind, String> {
    let mut head = vec![0u8; 1 << 16];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read: {e}"))?;
    head.truncate(n);
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Kind::Nvd);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Kind::OsvZip);
    }
    let name = file.to_string_lossy();
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return Ok(Kind::Osv);
    }
    let text = String::from_utf8_lossy(&head);
    let has = |key: &str| text.contains(&format!("\"{key}\""));
    if has("cveMetadata") || text.contains("\"CVE_RECORD\"") {
        Ok(Kind::Cve5)
    } else if has("catalogVersion") {
        Ok(Kind::Kev)
    } else if has("csaf_version") {
        Ok(Kind::Csaf)
    } else if has("resultsPerPage")
        || text.contains("\"NVD_CVE\"")
        || has("cve")
        || has("sourceIdentifier")
        || has("vulnStatus")
    {
        Ok(Kind::Nvd)
    } else if has("affected") || has("schema_version") || has("modified") {
        Ok(Kind::Osv)
    } else {
        Err("not a format iotmark imports: NVD CVE JSON 2.0 (feed or record), CVE JSON 5, OSV (record, tree or zip), CISA KEV, or CSAF 2.0".into())
    }
}
