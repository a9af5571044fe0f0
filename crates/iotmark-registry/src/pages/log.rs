//! The log explorer: the current checkpoint, the latest entries, and one entry with its
//! inclusion proof and how to check it.
//!
//! Entries are read from the log's own tiles (a read-only view of the log directory), not
//! from the database: this page shows what the log says.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::log::LogError;
use iotmark_log::merkle;
use iotmark_log::storage::DirStorage;
use serde::Deserialize;

use super::quoting::{shell_word, url_component};
use super::{Chrome, PageError, protect, render, words};
use crate::service::{Registry, RegistryError};

/// Entries per page of the explorer.
const PAGE: u64 = 25;

#[derive(Debug)]
struct CheckpointView {
    origin: String,
    size: u64,
    root_hex: String,
    text: String,
}

fn checkpoint_view(registry: &Registry) -> Result<CheckpointView, PageError> {
    let bytes = registry.checkpoint()?;
    let cp = iotmark_log::checkpoint::read_unverified(&bytes)
        .map_err(|e| RegistryError::from(LogError::from(e)))?;
    Ok(CheckpointView {
        origin: cp.origin.clone(),
        size: cp.size,
        root_hex: merkle::hex(&cp.root),
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

#[derive(Debug)]
struct EntryRow {
    index: u64,
    kind: &'static str,
    when: String,
    iso: String,
    envelope: String,
    /// The envelope digest's first 16 hex digits.
    short: String,
    product: Option<(String, String)>,
}

fn kind_words(kind: LeafKind) -> &'static str {
    match kind {
        LeafKind::Declaration => "declaration",
        LeafKind::Status => "status change",
    }
}

fn logged_at(leaf: &LeafRecord) -> jiff::Timestamp {
    jiff::Timestamp::from_second(i64::try_from(leaf.time).unwrap_or(0)).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    chrome: Chrome,
    checkpoint: CheckpointView,
    verifier_key: String,
    entries: Vec<EntryRow>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct LogQuery {
    before: Option<String>,
}

pub(super) async fn explorer(
    State(registry): State<Arc<Registry>>,
    Query(query): Query<LogQuery>,
) -> Result<Response, PageError> {
    let checkpoint = checkpoint_view(&registry)?;
    let size = checkpoint.size;
    let end = query
        .before
        .and_then(|b| b.parse::<u64>().ok())
        .map_or(size, |b| b.min(size));
    let start = end.saturating_sub(PAGE);
    let mut leaves = Vec::new();
    if start < end {
        let storage = DirStorage::open_read_only(registry.log_dir())
            .map_err(|e| RegistryError::from(LogError::from(e)))?;
        iotmark_log::log::visit_records(&storage, size, start, |index, leaf| {
            leaves.push((index, leaf));
            Ok(index + 1 < end)
        })
        .map_err(RegistryError::from)?;
    }
    let mut entries = Vec::new();
    for (index, leaf) in leaves.into_iter().rev() {
        let envelope = merkle::hex(&leaf.envelope_digest);
        let product = match registry.store.attestation(&envelope).await? {
            Some(r) => {
                let name = registry.store.product(&r.product_id).await?.map_or_else(
                    || r.product_id.clone(),
                    |p| format!("{} {}", p.name, p.model),
                );
                Some((format!("/p/{}", url_component(&r.product_id)), name))
            }
            None => None,
        };
        let at = logged_at(&leaf);
        entries.push(EntryRow {
            index,
            kind: kind_words(leaf.kind),
            when: words::moment(at),
            iso: words::machine(at),
            short: envelope.chars().take(16).collect(),
            envelope,
            product,
        });
    }
    let page = LogPage {
        chrome: Chrome::new("Transparency log", "log"),
        verifier_key: registry.verifier_key.clone(),
        newer: (end < size).then(|| {
            if end + PAGE >= size {
                "/log".to_owned()
            } else {
                format!("/log?before={}", end + PAGE)
            }
        }),
        older: (start > 0).then(|| format!("/log?before={start}")),
        checkpoint,
        entries,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug)]
struct ProofStep {
    level: usize,
    hash: String,
}

#[derive(Template)]
#[template(path = "log_entry.html")]
struct EntryPage {
    chrome: Chrome,
    index: u64,
    /// The log's size in words: "1 entry", "3 entries".
    entries: String,
    kind: &'static str,
    when: String,
    iso: String,
    envelope: String,
    statement: String,
    signer_key_id: String,
    product: Option<(String, String)>,
    leaf_hash: String,
    proof: Vec<ProofStep>,
    proof_holds: bool,
    checkpoint: CheckpointView,
    receipt_url: String,
    command: String,
}

fn entry_index(text: &str) -> Result<u64, PageError> {
    text.parse().map_err(|_| PageError::NotFound {
        heading: "No such log entry".to_owned(),
        message: format!("“{text}” is not a log entry number: entries are numbered 0, 1, 2, …"),
    })
}

fn no_entry(index: u64, size: u64) -> PageError {
    PageError::NotFound {
        heading: "No such log entry".to_owned(),
        message: format!(
            "The log has {} so far; entry {index} does not exist yet.",
            words::plural(i64::try_from(size).unwrap_or(i64::MAX), "entry", "entries")
        ),
    }
}

pub(super) async fn entry(
    State(registry): State<Arc<Registry>>,
    Path(index): Path<String>,
) -> Result<Response, PageError> {
    let index = entry_index(&index)?;
    let checkpoint = checkpoint_view(&registry)?;
    if index >= checkpoint.size {
        return Err(no_entry(index, checkpoint.size));
    }
    let receipt = registry.receipt(index)?;
    // The receipt may be against a newer checkpoint than the one read above: show its own.
    let checkpoint = match iotmark_log::checkpoint::read_unverified(receipt.checkpoint.as_bytes()) {
        Ok(cp) if cp.size != checkpoint.size => CheckpointView {
            origin: cp.origin.clone(),
            size: cp.size,
            root_hex: merkle::hex(&cp.root),
            text: receipt.checkpoint.clone(),
        },
        _ => checkpoint,
    };
    let entry = receipt.extra.clone().unwrap_or_default();
    let leaf = LeafRecord::decode(&entry)
        .map_err(|e| RegistryError::from(LogError::Entry { index, source: e }))?;
    let leaf_hash = merkle::leaf_hash(&entry);
    let root = merkle::parse_hex(&checkpoint.root_hex).unwrap_or_default();
    let proof_holds =
        merkle::verify_inclusion(index, checkpoint.size, &leaf_hash, &receipt.proof, &root).is_ok();
    let envelope = merkle::hex(&leaf.envelope_digest);
    let product = match registry.store.attestation(&envelope).await? {
        Some(r) => Some((
            format!("/p/{}", url_component(&r.product_id)),
            r.product_id.clone(),
        )),
        None => None,
    };
    let at = logged_at(&leaf);
    let file = format!("entry-{index}.tlog-proof");
    let page = EntryPage {
        chrome: Chrome::new(format!("Log entry {index}"), "log"),
        index,
        entries: words::plural(
            i64::try_from(checkpoint.size).unwrap_or(i64::MAX),
            "entry",
            "entries",
        ),
        kind: kind_words(leaf.kind),
        when: words::moment(at),
        iso: words::machine(at),
        statement: merkle::hex(&leaf.statement_digest),
        signer_key_id: leaf.signer_key_id.clone(),
        product,
        leaf_hash: merkle::hex(&leaf_hash),
        proof: receipt
            .proof
            .iter()
            .enumerate()
            .map(|(level, h)| ProofStep {
                level,
                hash: merkle::hex(h),
            })
            .collect(),
        proof_holds,
        receipt_url: format!("/log/entry/{index}/receipt"),
        command: format!(
            "curl -o {file} {}\niotmark log verify {file} --log-key {}",
            shell_word(&format!(
                "{}/log/entry/{index}/receipt",
                registry.config.public_url
            )),
            shell_word(&registry.verifier_key)
        ),
        envelope,
        checkpoint,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Entry `index`'s receipt against the current checkpoint.
pub(super) async fn receipt(
    State(registry): State<Arc<Registry>>,
    Path(index): Path<String>,
) -> Result<Response, PageError> {
    let index = entry_index(&index)?;
    let size = checkpoint_view(&registry)?.size;
    if index >= size {
        return Err(no_entry(index, size));
    }
    let receipt = registry.receipt(index)?;
    let mut response = receipt.encode().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"entry-{index}.tlog-proof\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    protect(headers);
    Ok(response)
}
