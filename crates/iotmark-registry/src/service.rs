//! The registry's operations, independent of HTTP: open the data directory, accept a
//! submission (rules, log, index), answer queries, and replay the log into the database.
//!
//! Order of a submission: the envelope is checked against the rules, claimed (so a concurrent
//! replay of the same envelope is refused), then handed with its leaf to the sequencer, which
//! writes the envelope file in the same durable write as the batch's tiles, before the
//! checkpoint that commits the leaf. Only then is it indexed in the database, by the indexer
//! task, which records whatever submissions are waiting in one transaction. A crash after the
//! log append loses nothing: on start, [`Registry::open`] replays every log entry the database
//! has not indexed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use iotmark_assess::Scheme;
use iotmark_attest::Sha256;
use iotmark_attest::statement::{Predicate, Route};
use iotmark_conformity::attestation::{Attestation, leaf_timestamp};
use iotmark_log::leaf::LeafRecord;
use iotmark_log::log::{self as tlog, Log, LogError};
use iotmark_log::merkle;
use iotmark_log::note::NoteSigner;
use iotmark_log::receipt::Receipt;
use iotmark_log::sequencer::{Sequencer, SequencerError, Submitter};
use iotmark_log::storage::{DirStorage, Storage, StorageError};

use crate::accept::{self, Accepted, Facts, Refusal, Rule, SignatureError, Signed};
use crate::indexer::Indexer;
use crate::store::{
    ApiToken, AttestationRecord, ConformitySubmission, EntryKind, Image, Indexed, Organisation,
    ReportStatus, Role, Store, StoreError, Triage,
};

/// Entries per log batch, and how long the first entry of a batch waits for company.
const MAX_BATCH: usize = 512;
const MAX_BATCH_WAIT: Duration = Duration::from_millis(5);

/// Longest note on a vulnerability report's triage, in bytes.
const MAX_TRIAGE_NOTE: usize = 2000;

/// Locks that keep status changes of one attestation in order (by the referred envelope's
/// digest).
const STATUS_LOCK_STRIPES: usize = 1024;

/// The default budget of the log tiles and bundles kept in memory for receipts
/// (`registry serve --tile-cache-mib`). The cache keeps two generations of half the budget
/// each, so it holds every tile and bundle of a log of about 1,250,000 entries (250 MiB of
/// them; docs/PERFORMANCE.md, "Proofs on a growing log"); memory is taken only as tiles are
/// read.
pub const DEFAULT_TILE_CACHE_BYTES: usize = 512 << 20;

/// Longest release notes of an announcement, in characters.
const MAX_RELEASE_NOTES_CHARS: usize = 10_000;

/// A version announcement, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnounceRequest {
    pub version: String,
    pub image: AnnouncedImage,
    /// Where devices fetch the image (required from the manufacturer).
    #[serde(default)]
    pub url: Option<String>,
    /// The oldest version that may update to this one.
    #[serde(default)]
    pub min_version: Option<String>,
    #[serde(default)]
    pub release_notes: Option<String>,
}

/// The OTA image of an announced version.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncedImage {
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Bytes (required from the manufacturer).
    #[serde(default)]
    pub size: Option<u64>,
}

/// A CRA Article 14 case with its clocks and the reports' fields filled in.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CraView {
    #[serde(flatten)]
    pub case: crate::store::CraCase,
    pub clocks: Vec<ClockView>,
    pub prefill: CraPrefill,
}

/// One report's deadline and where it stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClockView {
    pub report: iotmark_lifecycle::clocks::Report,
    /// `None` until what it counts from has happened (the final report: a fix).
    pub due: Option<jiff::Timestamp>,
    #[serde(flatten)]
    pub standing: iotmark_lifecycle::clocks::Standing,
}

/// What the registry knows that each report asks for (Article 14(2)): the product, the
/// vulnerability and whether it is exploited, the versions it was found in, and the
/// corrective measure once a fix is recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CraPrefill {
    pub manufacturer: String,
    pub product: String,
    pub product_id: String,
    pub vulnerability: String,
    pub actively_exploited: bool,
    pub affected_versions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrective_measure: Option<String>,
    pub product_page: String,
}

/// A CRA report the manufacturer made, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraReportRequest {
    /// `early-warning`, `notification` or `final-report`.
    #[schema(value_type = String)]
    pub report: iotmark_lifecycle::clocks::Report,
    /// When it was sent (RFC 3339) [default: now].
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub made: Option<jiff::Timestamp>,
    /// The authority's reference for it.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A fix of a CRA case's vulnerability, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraFixRequest {
    pub fixed_in: String,
    /// When it became available (RFC 3339) [default: now].
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub available: Option<jiff::Timestamp>,
}

/// Log entries replayed into the database per transaction.
const REPLAY_BATCH: usize = 256;

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("log: {0}")]
    Log(#[from] LogError),
    #[error("log storage: {0}")]
    LogStorage(#[from] StorageError),
    #[error("log sequencer: {0}")]
    Sequencer(#[from] SequencerError),
    #[error("{path}: {message}")]
    DataDir { path: PathBuf, message: String },
    #[error("replaying log entry {index}: {message}")]
    Replay { index: u64, message: String },
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The vulnerability store the monitor matches against.
    #[error("vulnerability store: {0}")]
    Vulns(String),
    /// A fault of the registry's own (never of the submitter's), e.g. a value it computed
    /// that does not have its form.
    #[error("internal: {0}")]
    Internal(String),
}

/// Where the registry keeps its files and how it names its log.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory: `log/` (tiles, checkpoint, envelopes) and `log.key` live here, and
    /// the SQLite database by default.
    pub data_dir: PathBuf,
    /// The log's origin line, e.g. `registry.example.org/log`.
    pub log_origin: String,
    pub limits: crate::ratelimit::Limits,
    /// The registry's public base URL (for product links and QR codes), no trailing slash.
    pub public_url: String,
}

/// The running registry: the store, the log and its sequencer, the schemes.
#[derive(Debug)]
pub struct Registry {
    pub store: Store,
    pub config: Config,
    pub schemes: Vec<Scheme>,
    /// Shared with the log's writer thread: envelopes are written by submitters in parallel.
    log_storage: Arc<DirStorage>,
    log_origin: String,
    submitter: Mutex<Option<Submitter>>,
    sequencer: Mutex<Option<Sequencer<Arc<DirStorage>>>>,
    /// Envelopes being accepted right now (replays racing each other).
    in_flight: Arc<Mutex<HashSet<Sha256>>>,
    /// Records accepted submissions in the database, many to a transaction.
    indexer: Indexer,
    /// Status changes of one attestation are decided one at a time (each depends on the ones
    /// before); changes of different attestations, by stripe, in parallel.
    status_locks: Vec<tokio::sync::Mutex<()>>,
    pub verifier_key: String,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Submissions per organisation.
    pub submission_limit: crate::ratelimit::RateLimiter,
    /// Public vulnerability reports per client address.
    pub report_limit: crate::ratelimit::RateLimiter,
    /// Rendered product pages; every write about a product drops its page.
    pub pages: crate::pagecache::PageCache,
    /// The monitor's key and organisation: the status changes it signs.
    pub(crate) monitor_key: crate::monitor::MonitorKey,
    /// Monitor runs are one at a time.
    pub(crate) monitor_lock: tokio::sync::Mutex<()>,
    /// The vulnerability store the monitor matches SBOMs against, once attached.
    vulns: std::sync::OnceLock<iotmark_vulns::store::Store>,
    /// The store loaded into memory, and its generation when loaded: loaded again only when
    /// an import or triage decision changed it.
    loaded_vulns: tokio::sync::Mutex<Option<(u64, Arc<iotmark_vulns::report::Loaded>)>>,
    /// Where and how webhooks are delivered.
    webhook_policy: Mutex<crate::webhooks::WebhookPolicy>,
    /// Appeal decisions are made one at a time.
    pub(crate) appeal_lock: tokio::sync::Mutex<()>,
    /// Who runs the label, as the operator named it.
    label_administrator: Mutex<Option<crate::record::LabelAdministrator>>,
    /// The log's tiles and bundles that receipts have needed, kept across checkpoints.
    tiles: std::sync::OnceLock<iotmark_log::tiles::TileCache>,
}

/// Whether a submission's answer carries its receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReceiptWanted {
    Yes,
    No,
}

/// What an accepted submission gets back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Receipted {
    pub log_index: u64,
    pub envelope_sha256: String,
    pub kind: EntryKind,
    pub product_id: String,
    pub version: String,
    /// The C2SP tlog-proof receipt, with the leaf record as its extra data.
    pub receipt: String,
}

impl Registry {
    /// Opens the data directory (creating the log and its key on first start), starts the
    /// sequencer and replays log entries the database has not indexed.
    pub async fn open(store: Store, config: Config) -> Result<Self, RegistryError> {
        let data = &config.data_dir;
        std::fs::create_dir_all(data).map_err(|e| RegistryError::DataDir {
            path: data.clone(),
            message: e.to_string(),
        })?;
        let signer = log_signer(&data.join("log.key"), &config.log_origin)?;
        let verifier_key = signer.verifier().to_string();
        // The public half, for `iotmark log verify --log-key` and trust policies.
        std::fs::write(data.join("log.vkey"), format!("{verifier_key}\n")).map_err(|e| {
            RegistryError::DataDir {
                path: data.join("log.vkey"),
                message: e.to_string(),
            }
        })?;
        let storage = Arc::new(DirStorage::open(data.join("log"))?);
        let log = Log::open(storage.clone(), signer)?;
        let origin = log.checkpoint().origin.clone();
        let sequencer = Sequencer::start(log, MAX_BATCH, MAX_BATCH_WAIT);
        let schemes =
            iotmark_assess::bundled_schemes(iotmark_catalogs::Bundle::get()).map_err(|e| {
                RegistryError::DataDir {
                    path: PathBuf::from("(bundled schemes)"),
                    message: e.to_string(),
                }
            })?;
        let monitor_key = crate::monitor::MonitorKey::open(&store, data, &origin).await?;
        let limits = config.limits;
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let indexer = Indexer::start(store.clone(), metrics.clone());
        let registry = Registry {
            store,
            config,
            metrics,
            submission_limit: crate::ratelimit::RateLimiter::new(
                limits.submissions_per_second,
                limits.submission_burst,
            ),
            pages: Default::default(),
            report_limit: crate::ratelimit::RateLimiter::new(
                limits.reports_per_hour / 3600.0,
                limits.report_burst,
            ),
            schemes,
            log_storage: storage,
            log_origin: origin,
            submitter: Mutex::new(Some(sequencer.submitter())),
            sequencer: Mutex::new(Some(sequencer)),
            in_flight: Arc::default(),
            indexer,
            status_locks: (0..STATUS_LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            verifier_key,
            monitor_key,
            monitor_lock: tokio::sync::Mutex::new(()),
            vulns: std::sync::OnceLock::new(),
            loaded_vulns: tokio::sync::Mutex::new(None),
            webhook_policy: Mutex::default(),
            appeal_lock: tokio::sync::Mutex::new(()),
            label_administrator: Mutex::default(),
            tiles: std::sync::OnceLock::new(),
        };
        registry.replay().await?;
        if let Ok(cp) = registry.checkpoint().and_then(|b| {
            iotmark_log::checkpoint::read_unverified(&b)
                .map_err(|e| RegistryError::Log(LogError::from(e)))
        }) {
            registry.metrics.log_size.set(cp.size);
        }
        Ok(registry)
    }

    /// Sets the memory budget of the tile cache receipts are read through; `false` once a
    /// receipt was made (the cache then exists with the budget it had).
    pub fn set_tile_cache_budget(&self, bytes: usize) -> bool {
        self.tiles
            .set(iotmark_log::tiles::TileCache::new(bytes))
            .is_ok()
    }

    /// Names the label administrator that product records show from now on.
    pub fn set_label_administrator(&self, administrator: crate::record::LabelAdministrator) {
        if let Ok(mut a) = self.label_administrator.lock() {
            *a = Some(administrator);
        }
        self.pages.clear();
    }

    /// The label administrator, once named.
    pub fn label_administrator(&self) -> Option<crate::record::LabelAdministrator> {
        self.label_administrator.lock().ok().and_then(|a| a.clone())
    }

    /// The registry record of `product` (47 CFR 8.222's items), from its declaration and the
    /// attestation `current` that speaks for its newest version.
    pub async fn registry_record(
        &self,
        product: &crate::store::Product,
        declaration: Option<&iotmark_declare::Declaration>,
        current: Option<(&AttestationRecord, crate::status::Standing)>,
    ) -> Result<crate::record::RegistryRecord, RegistryError> {
        let record = current.map(|(r, _)| r);
        let lab_name = match record.filter(|r| r.route == Some(Route::Certification)) {
            Some(r) => self
                .store
                .organisation(&r.submitted_by)
                .await?
                .map(|o| o.name),
            None => None,
        };
        let sbom_held = match record.and_then(|r| r.sbom_sha256.as_deref()) {
            Some(sha) => self.store.sbom_held(sha).await?,
            None => false,
        };
        Ok(crate::record::RegistryRecord::of(crate::record::Sources {
            product,
            declaration,
            current,
            administrator: self.label_administrator(),
            lab_name,
            sbom_held,
        }))
    }

    /// How webhooks are delivered from now on.
    pub fn set_webhook_policy(&self, policy: crate::webhooks::WebhookPolicy) {
        if let Ok(mut p) = self.webhook_policy.lock() {
            *p = policy;
        }
    }

    /// How webhooks are delivered.
    pub fn webhook_policy(&self) -> crate::webhooks::WebhookPolicy {
        self.webhook_policy.lock().map(|p| *p).unwrap_or_default()
    }

    /// The log's origin.
    pub fn log_origin(&self) -> &str {
        &self.log_origin
    }

    /// The log directory (served as static tiles).
    pub fn log_dir(&self) -> &Path {
        self.log_storage.path()
    }

    /// The current signed checkpoint.
    pub fn checkpoint(&self) -> Result<Vec<u8>, RegistryError> {
        Ok(self
            .log_storage
            .read_checkpoint()?
            .ok_or(LogError::NoCheckpoint)?)
    }

    /// Stops the sequencer after committing what is pending.
    pub fn shutdown(&self) {
        self.submitter.lock().map(|mut s| s.take()).ok();
        if let Some(seq) = self.sequencer.lock().ok().and_then(|mut s| s.take()) {
            seq.stop();
        }
    }

    /// The organisation an API token acts for, if the token is known and not revoked.
    pub async fn authenticate(
        &self,
        secret: &str,
    ) -> Result<Option<(ApiToken, Organisation)>, RegistryError> {
        let hash = merkle::sha256(secret.as_bytes());
        Ok(self
            .store
            .token_holder(&hash)
            .await?
            .filter(|(token, _)| token.revoked.is_none()))
    }

    /// Accepts an attestation submitted by `submitter`, or says which rule refused it.
    /// `declaration_json` is the product declaration it was made from (optional), shown on
    /// the product page.
    pub async fn submit(
        &self,
        submitter: &Organisation,
        envelope: &[u8],
        declaration_json: Option<String>,
    ) -> Result<Receipted, RegistryError> {
        self.submit_as(submitter, envelope, declaration_json, ReceiptWanted::Yes)
            .await
    }

    /// [`Registry::submit`], with or without the receipt (the monitor logs changes it
    /// answers for itself and needs none; building a proof per change costs a tile read).
    pub(crate) async fn submit_as(
        &self,
        submitter: &Organisation,
        envelope: &[u8],
        declaration_json: Option<String>,
        receipt: ReceiptWanted,
    ) -> Result<Receipted, RegistryError> {
        let result = self
            .accept(submitter, envelope, declaration_json, receipt)
            .await;
        match &result {
            Ok(r) => {
                self.pages.invalidate(&r.product_id);
                self.metrics.submission("accepted");
                self.metrics
                    .log_size
                    .set(self.metrics.log_size.get().max(r.log_index + 1));
            }
            Err(RegistryError::Refused(r)) => self.metrics.submission(r.rule.as_str()),
            Err(_) => self.metrics.submission("error"),
        }
        result
    }

    async fn accept(
        &self,
        submitter: &Organisation,
        envelope: &[u8],
        declaration_json: Option<String>,
        receipt: ReceiptWanted,
    ) -> Result<Receipted, RegistryError> {
        // The monitor's own key is known without asking the database.
        let keys = if submitter.id == self.monitor_key.organisation.id {
            vec![self.monitor_key.record.clone()]
        } else {
            self.store.signing_keys(&submitter.id).await?
        };
        let signed = accept::check_signature(envelope, submitter, &keys)?;
        let attestation = &signed.attestation;
        // Held until the entry is indexed (or refused): a second copy of the same signed
        // statement racing this one, in whatever bytes, sees it.
        let claim =
            Claim::take(&self.in_flight, attestation.statement_sha256).ok_or_else(|| Refusal {
                rule: Rule::Replay,
                message: format!(
                    "this signed statement (SHA-256 {}) is being accepted right now",
                    attestation.statement_sha256
                ),
            })?;
        let _serial = match &attestation.statement.predicate {
            Predicate::Status(p) => {
                let bytes = p.refers_to.envelope_sha256.as_bytes();
                let stripe =
                    usize::from(u16::from_le_bytes([bytes[0], bytes[1]])) % STATUS_LOCK_STRIPES;
                Some(self.status_locks[stripe].lock().await)
            }
            Predicate::Conformity(_) => None,
        };
        let now = jiff::Timestamp::now();
        let decided = self.decide(submitter, &signed, now).await?;

        let leaf = attestation
            .leaf(now)
            .map_err(|e| RegistryError::Internal(format!("the registry's clock: {e}")))?;
        let entry = leaf.encode().map_err(LogError::from)?;
        // The log index is filled in once the sequencer has given one.
        let record = to_record(&signed, &decided.submitted_by, 0, now, &decided.refers)?;
        let mut item = match decided.accepted {
            Accepted::Conformity { manufacturer } => {
                let Predicate::Conformity(p) = &attestation.statement.predicate else {
                    unreachable!("decided as conformity");
                };
                Indexed::Conformity(ConformitySubmission {
                    record,
                    manufacturer,
                    manufacturer_name: p.product.manufacturer.clone(),
                    name: p.product.name.clone(),
                    model: p.product.model.clone(),
                    images: images(attestation)?,
                    declaration_json,
                })
            }
            Accepted::Status => Indexed::Status(record),
        };
        let answer = {
            let r = item.record();
            Receipted {
                log_index: 0,
                envelope_sha256: r.envelope_sha256.clone(),
                kind: r.kind,
                product_id: r.product_id.clone(),
                version: r.version.clone(),
                receipt: String::new(),
            }
        };
        let sequencer = self
            .submitter
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .ok_or(RegistryError::ShuttingDown)?;
        let indexer = self.indexer.clone();
        let envelope_bytes = envelope.to_vec();
        // Runs to the end even if this request is dropped: once logged, the entry is handed
        // to the indexer, which records it whoever still waits.
        let (index, pending) = tokio::task::spawn_blocking(move || {
            let index = sequencer.submit_with_envelope(entry, envelope_bytes)?;
            match &mut item {
                Indexed::Conformity(sub) => sub.record.log_index = index,
                Indexed::Status(rec) => rec.log_index = index,
            }
            let pending = indexer
                .send(item, Box::new(claim))
                .ok_or(RegistryError::ShuttingDown)?;
            Ok::<_, RegistryError>((index, pending))
        })
        .await
        .map_err(|_| RegistryError::ShuttingDown)??;
        pending.await.map_err(|_| RegistryError::ShuttingDown)??;
        Ok(Receipted {
            log_index: index,
            receipt: match receipt {
                ReceiptWanted::Yes => self.receipt(index)?.encode(),
                ReceiptWanted::No => String::new(),
            },
            ..answer
        })
    }

    /// Publishes the product declaration a product page shows (how updates arrive, how to
    /// change the default password, the support period). Only the product's manufacturer (or
    /// the operator) may, and the declaration must check, be for this product, and name only
    /// firmware images the registry holds attestations for. `name` (e.g. `declaration.yaml`)
    /// says the format and names the text in diagnostics.
    pub async fn publish_declaration(
        &self,
        submitter: &Organisation,
        product_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let refused =
            |rule: Rule, message: String| RegistryError::Refused(Refusal { rule, message });
        self.own_product(submitter, product_id, "publishes its declaration")
            .await?;
        let report =
            iotmark_declare::check(Path::new(name), bytes, &|_| true, jiff::Zoned::now().date());
        let Some(declaration) = report.declaration.clone() else {
            return Err(refused(Rule::Declaration, report.render()));
        };
        if declaration.product.id != product_id {
            return Err(refused(
                Rule::Declaration,
                format!(
                    "the declaration is for product {:?}, not {product_id:?}",
                    declaration.product.id
                ),
            ));
        }
        let attested: HashSet<String> = self
            .store
            .versions(product_id)
            .await?
            .into_iter()
            .flat_map(|v| v.images.into_iter().map(|i| i.sha256))
            .collect();
        if let Some(unknown) = declaration
            .components
            .iter()
            .flat_map(|c| c.firmware.iter())
            .find(|f| !attested.contains(&f.sha256))
        {
            return Err(refused(
                Rule::Declaration,
                format!(
                    "firmware {} (sha256 {}) has no attestation in the registry; a product page describes attested firmware only",
                    unknown.file, unknown.sha256
                ),
            ));
        }
        let json = serde_json::to_string(&declaration).map_err(|e| {
            refused(
                Rule::Declaration,
                format!("cannot store the declaration: {e}"),
            )
        })?;
        self.store
            .set_declaration(product_id, &json, jiff::Timestamp::now())
            .await?;
        self.pages.invalidate(product_id);
        Ok(())
    }

    /// Gives the monitor its vulnerability store (once; a second store is ignored).
    pub fn attach_vulnerability_store(&self, store: iotmark_vulns::store::Store) {
        let _ = self.vulns.set(store);
    }

    /// The attached vulnerability store, if any.
    pub fn vulnerability_store(&self) -> Option<&iotmark_vulns::store::Store> {
        self.vulns.get()
    }

    /// The attached vulnerability store in memory at its current generation, loaded again
    /// only when it changed since the last load; `None` without a store.
    pub async fn loaded_vulnerabilities(
        &self,
    ) -> Result<Option<Arc<iotmark_vulns::report::Loaded>>, RegistryError> {
        let Some(store) = self.vulns.get() else {
            return Ok(None);
        };
        let vulns = |e: iotmark_vulns::store::StoreError| RegistryError::Vulns(e.to_string());
        let mut cached = self.loaded_vulns.lock().await;
        let generation = store.generation().await.map_err(vulns)?;
        if let Some((held, loaded)) = cached.as_ref()
            && *held == generation
        {
            return Ok(Some(loaded.clone()));
        }
        let loaded = Arc::new(
            iotmark_vulns::report::Loaded::load(store)
                .await
                .map_err(vulns)?,
        );
        *cached = Some((generation, loaded.clone()));
        Ok(Some(loaded))
    }

    /// One monitor run now.
    pub async fn monitor_now(self: &Arc<Self>) -> Result<crate::monitor::Run, RegistryError> {
        self.monitor(jiff::Timestamp::now()).await
    }

    /// Keeps the SBOM with SHA-256 `sha256_hex` for the monitor: the bytes must have that
    /// digest, a conformity attestation must name it, the submitter must be that
    /// attestation's submitter, the product's manufacturer or the operator, and it must read
    /// as CycloneDX or SPDX JSON. Uploading it again changes nothing.
    pub async fn upload_sbom(
        &self,
        submitter: &Organisation,
        sha256_hex: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let refused =
            |rule: Rule, message: String| RegistryError::Refused(Refusal { rule, message });
        let actual = Sha256::of(bytes).to_hex();
        if actual != sha256_hex {
            return Err(refused(
                Rule::Sbom,
                format!(
                    "the body's SHA-256 is {actual}, not {sha256_hex}; upload the SBOM exactly as it was attested (`iotmark attest --sbom`)"
                ),
            ));
        }
        let named_by = self.store.sbom_named_by(sha256_hex).await?;
        if named_by.is_empty() {
            return Err(refused(
                Rule::NotFound,
                format!(
                    "no conformity attestation names SBOM {sha256_hex}; attest with `iotmark attest --sbom FILE` and submit that first"
                ),
            ));
        }
        let allowed = submitter.role == Role::Operator
            || named_by
                .iter()
                .any(|(by, owner)| *by == submitter.id || *owner == submitter.id);
        if !allowed {
            return Err(refused(
                Rule::Authority,
                format!(
                    "{} neither attested nor owns a product whose attestation names this SBOM",
                    submitter.id
                ),
            ));
        }
        let text = std::str::from_utf8(bytes)
            .map_err(|e| refused(Rule::Sbom, format!("the SBOM is not UTF-8 JSON: {e}")))?;
        let sbom = iotmark_vulns::sbom::read_sbom("the uploaded SBOM", bytes)
            .map_err(|e| refused(Rule::Sbom, e.to_string()))?;
        let keys: std::collections::BTreeSet<String> = sbom
            .components
            .iter()
            .flat_map(iotmark_vulns::keys::component_keys)
            .collect();
        self.store
            .put_sbom(sha256_hex, text, &keys, jiff::Timestamp::now())
            .await?;
        Ok(())
    }

    /// Records a version announced by the product's manufacturer, or seen in the field by a
    /// lab or the operator: unassessed until an attestation covers its image. Only the
    /// product's manufacturer announces; labs and the operator report. `Ok(false)` when the
    /// same version was announced with the same image before.
    pub async fn announce(
        &self,
        submitter: &Organisation,
        product_id: &str,
        request: AnnounceRequest,
    ) -> Result<bool, RegistryError> {
        let refused = |message: String| {
            RegistryError::Refused(Refusal {
                rule: Rule::Announcement,
                message,
            })
        };
        let Some(product) = self.store.product(product_id).await? else {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::NotFound,
                message: format!(
                    "no product {product_id:?} is registered; its first attestation registers it"
                ),
            }));
        };
        let source = match submitter.role {
            Role::Manufacturer if submitter.id == product.manufacturer => {
                crate::store::AnnouncementSource::Manufacturer
            }
            Role::Manufacturer => {
                return Err(RegistryError::Refused(Refusal {
                    rule: Rule::Authority,
                    message: format!(
                        "{product_id} belongs to {}; only its manufacturer announces its versions",
                        product.manufacturer
                    ),
                }));
            }
            Role::Lab | Role::Operator => crate::store::AnnouncementSource::Field,
        };
        let text = |field: &str, value: &str, max: usize| {
            if value.trim().is_empty()
                || value.chars().count() > max
                || value.chars().any(char::is_control)
            {
                Err(refused(format!(
                    "{field} must be 1 to {max} characters with no control characters"
                )))
            } else {
                Ok(())
            }
        };
        text(
            "version",
            &request.version,
            iotmark_attest::statement::MAX_VERSION_CHARS,
        )?;
        if let Some(v) = &request.min_version {
            text(
                "min_version",
                v,
                iotmark_attest::statement::MAX_VERSION_CHARS,
            )?;
        }
        if request.image.sha256.len() != 64
            || !request
                .image
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(refused(
                "image.sha256 must be the image's SHA-256: 64 lower-case hex digits".to_owned(),
            ));
        }
        if request.image.size == Some(0) {
            return Err(refused(
                "image.size is the image's size in bytes; 0 is no image".to_owned(),
            ));
        }
        if let Some(url) = &request.url {
            text("url", url, 2000)?;
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(refused(format!("url {url:?} is not an http(s) URL")));
            }
        }
        if let Some(notes) = &request.release_notes
            && (notes.chars().count() > MAX_RELEASE_NOTES_CHARS || notes.trim().is_empty())
        {
            return Err(refused(format!(
                "release_notes must be 1 to {MAX_RELEASE_NOTES_CHARS} characters"
            )));
        }
        if source == crate::store::AnnouncementSource::Manufacturer
            && (request.url.is_none() || request.image.size.is_none())
        {
            return Err(refused(
                "a manufacturer's announcement gives the image's size and the URL devices fetch it from".to_owned(),
            ));
        }
        let announcement = crate::store::Announcement {
            product_id: product_id.to_owned(),
            version: request.version,
            image_sha256: request.image.sha256,
            image_size: request.image.size,
            url: request.url,
            min_version: request.min_version,
            release_notes: request.release_notes,
            source,
            announced: jiff::Timestamp::now(),
            announced_by: submitter.id.clone(),
        };
        let new = self.store.announce(&announcement).await.map_err(|e| match e {
            StoreError::Exists { id, .. } => refused(format!(
                "version {id} was announced before with another image; announce the new image as a new version"
            )),
            other => other.into(),
        })?;
        self.pages.invalidate(product_id);
        Ok(new)
    }

    /// The product's CRA Article 14 cases with their clocks' standing at `now` and each
    /// report's fields filled in: for its manufacturer and the operator only.
    pub async fn cra_cases(
        &self,
        submitter: &Organisation,
        product_id: &str,
        now: jiff::Timestamp,
    ) -> Result<Vec<CraView>, RegistryError> {
        let product = self
            .own_product(submitter, product_id, "reads its CRA reporting clocks")
            .await?;
        let mut out = Vec::new();
        for case in self.store.cra_cases(product_id).await? {
            let (affected_versions, ratings) = self
                .store
                .sighted_in(product_id, &case.vulnerability)
                .await?;
            let made = |report| {
                case.reports
                    .iter()
                    .find(|r| r.report == report)
                    .map(|r| r.made)
            };
            let clocks = iotmark_lifecycle::clocks::clocks(
                iotmark_lifecycle::clocks::Occasion::ExploitedVulnerability,
                case.aware,
                case.fix_available,
            )
            .into_iter()
            .map(|c| ClockView {
                report: c.report,
                due: c.due,
                standing: c.standing(now, made(c.report)),
            })
            .collect();
            let rating = ["critical", "high", "medium", "low", "none"]
                .into_iter()
                .find(|r| ratings.iter().any(|x| x == r))
                .map(str::to_owned);
            out.push(CraView {
                prefill: CraPrefill {
                    manufacturer: product.manufacturer_name.clone(),
                    product: format!("{} {}", product.name, product.model),
                    product_id: product.id.clone(),
                    vulnerability: case.vulnerability.clone(),
                    actively_exploited: true,
                    affected_versions,
                    rating,
                    corrective_measure: case
                        .fixed_in
                        .as_ref()
                        .map(|v| format!("Update to version {v}, which fixes it.")),
                    product_page: format!("{}/p/{}", self.config.public_url, product.id),
                },
                clocks,
                case,
            });
        }
        Ok(out)
    }

    /// Records that the manufacturer made a CRA report of `vulnerability` at `made`.
    pub async fn record_cra_report(
        &self,
        submitter: &Organisation,
        product_id: &str,
        vulnerability: &str,
        request: CraReportRequest,
    ) -> Result<(), RegistryError> {
        self.own_product(submitter, product_id, "records its CRA reports")
            .await?;
        let now = jiff::Timestamp::now();
        let made = request.made.unwrap_or(now);
        if made.as_second() > now.as_second() + accept::MAX_CLOCK_SKEW_SECONDS {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::Triage,
                message: format!("made {made} is in the future; give when the report was sent"),
            }));
        }
        if request.reference.as_ref().is_some_and(|r| r.len() > 200) {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::Triage,
                message: "reference is longer than 200 bytes".to_owned(),
            }));
        }
        self.store
            .record_cra_report(
                product_id,
                vulnerability,
                request.report,
                made,
                request.reference.as_deref(),
                now,
                &submitter.id,
            )
            .await
            .map_err(|e| match e {
                StoreError::Exists { .. } => RegistryError::Refused(Refusal {
                    rule: Rule::Replay,
                    message: format!(
                        "the {} on {vulnerability} was recorded before",
                        request.report.as_str()
                    ),
                }),
                StoreError::NotFound { .. } => RegistryError::Refused(Refusal {
                    rule: Rule::NotFound,
                    message: format!(
                        "no CRA case is open for {vulnerability} in {product_id}; the monitor opens one when it finds an actively exploited vulnerability"
                    ),
                }),
                other => other.into(),
            })
    }

    /// Records that a fix of `vulnerability` became available in `fixed_in` at `available`:
    /// the final report's 14 days start.
    pub async fn record_cra_fix(
        &self,
        submitter: &Organisation,
        product_id: &str,
        vulnerability: &str,
        fixed_in: &str,
        available: Option<jiff::Timestamp>,
    ) -> Result<(), RegistryError> {
        self.own_product(submitter, product_id, "records its fixes")
            .await?;
        let now = jiff::Timestamp::now();
        let available = available.unwrap_or(now);
        if fixed_in.trim().is_empty() || fixed_in.len() > 64 {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::Triage,
                message: "fixed_in must be a version of 1 to 64 bytes".to_owned(),
            }));
        }
        if available.as_second() > now.as_second() + accept::MAX_CLOCK_SKEW_SECONDS {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::Triage,
                message: format!("available {available} is in the future"),
            }));
        }
        if !self
            .store
            .record_cra_fix(product_id, vulnerability, available, fixed_in)
            .await?
        {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::NotFound,
                message: format!("no CRA case is open for {vulnerability} in {product_id}"),
            }));
        }
        Ok(())
    }

    /// Records the manufacturer's answer to a vulnerability report of its product: only the
    /// product's manufacturer (or the operator) may. A `fixed` answer names the version with
    /// the fix; the others name none.
    pub async fn triage_report(
        &self,
        submitter: &Organisation,
        product_id: &str,
        report_id: i64,
        status: ReportStatus,
        note: Option<String>,
        fixed_in: Option<String>,
    ) -> Result<Triage, RegistryError> {
        let refused =
            |rule: Rule, message: String| RegistryError::Refused(Refusal { rule, message });
        self.own_product(submitter, product_id, "answers its vulnerability reports")
            .await?;
        match (status, &fixed_in) {
            (ReportStatus::Fixed, None) => {
                return Err(refused(
                    Rule::Triage,
                    "a fixed report names the version with the fix: set fixed_in".to_owned(),
                ));
            }
            (ReportStatus::Fixed, Some(v)) if v.trim().is_empty() || v.len() > 64 => {
                return Err(refused(
                    Rule::Triage,
                    "fixed_in must be a version of 1 to 64 bytes".to_owned(),
                ));
            }
            (ReportStatus::Fixed, Some(_)) | (_, None) => {}
            (other, Some(_)) => {
                return Err(refused(
                    Rule::Triage,
                    format!(
                        "only a fixed report names a version; leave fixed_in out for {}",
                        other.as_str()
                    ),
                ));
            }
        }
        if note.as_ref().is_some_and(|n| n.len() > MAX_TRIAGE_NOTE) {
            return Err(refused(
                Rule::Triage,
                format!("the note is longer than {MAX_TRIAGE_NOTE} bytes"),
            ));
        }
        let triage = Triage {
            status,
            note: note.filter(|n| !n.trim().is_empty()),
            fixed_in,
            at: jiff::Timestamp::now(),
        };
        if !self
            .store
            .triage_vulnerability_report(product_id, report_id, &triage)
            .await?
        {
            return Err(refused(
                Rule::NotFound,
                format!("{product_id} has no vulnerability report {report_id}"),
            ));
        }
        self.pages.invalidate(product_id);
        Ok(triage)
    }

    /// Products whose ID, manufacturer, name or model hold every word of `query`. A query too
    /// long or with too many words is the asker's mistake, refused with the reason.
    pub async fn search(
        &self,
        query: &str,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<crate::store::ProductSummary>, RegistryError> {
        use crate::store::{MAX_SEARCH_BYTES, MAX_SEARCH_WORDS};
        let refused = |message: String| {
            RegistryError::Refused(Refusal {
                rule: Rule::Query,
                message,
            })
        };
        if query.len() > MAX_SEARCH_BYTES {
            return Err(refused(format!(
                "the search is {} bytes long; use at most {MAX_SEARCH_BYTES}",
                query.len()
            )));
        }
        let words = query.split_whitespace().count();
        if words > MAX_SEARCH_WORDS {
            return Err(refused(format!(
                "the search has {words} words; use at most {MAX_SEARCH_WORDS}"
            )));
        }
        Ok(self.store.search(query, limit, offset).await?)
    }

    /// The product, if `submitter` is its manufacturer or the operator: who may do `what`
    /// (e.g. "publishes its declaration") about it.
    async fn own_product(
        &self,
        submitter: &Organisation,
        product_id: &str,
        what: &str,
    ) -> Result<crate::store::Product, RegistryError> {
        let Some(product) = self.store.product(product_id).await? else {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::NotFound,
                message: format!(
                    "no product {product_id:?} is registered; submit its attestation first"
                ),
            }));
        };
        if submitter.role != Role::Operator && submitter.id != product.manufacturer {
            return Err(RegistryError::Refused(Refusal {
                rule: Rule::Authority,
                message: format!(
                    "{product_id} belongs to {}; only its manufacturer {what}",
                    product.manufacturer
                ),
            }));
        }
        Ok(product)
    }

    async fn decide(
        &self,
        submitter: &Organisation,
        signed: &Signed,
        now: jiff::Timestamp,
    ) -> Result<Decided, RegistryError> {
        let statement_sha256 = signed.attestation.statement_sha256.to_hex();
        let (accepted_before, manufacturer_org, product_owner, referred, history) =
            match &signed.attestation.statement.predicate {
                Predicate::Conformity(p) => {
                    let known = self
                        .store
                        .conformity_facts(&statement_sha256, &p.product.id, &p.product.manufacturer)
                        .await?;
                    (
                        known.accepted_before,
                        known.manufacturer,
                        known.product_owner,
                        None,
                        Vec::new(),
                    )
                }
                Predicate::Status(p) => {
                    let accepted_before = self
                        .store
                        .attestation_by_statement(&statement_sha256)
                        .await?
                        .map(|r| r.envelope_sha256);
                    let referred = self
                        .store
                        .attestation(&p.refers_to.envelope_sha256.to_hex())
                        .await?;
                    let (owner, history) = match &referred {
                        Some(r) => (
                            // Only a manufacturer's authority rests on owning the product.
                            if submitter.role == Role::Manufacturer {
                                self.store
                                    .product(&r.product_id)
                                    .await?
                                    .map(|p| p.manufacturer)
                            } else {
                                None
                            },
                            self.store.changes_of(&r.envelope_sha256).await?,
                        ),
                        None => (None, Vec::new()),
                    };
                    (accepted_before, None, owner, referred, history)
                }
            };
        // Only a certification is checked against accreditations.
        let accredited_for: Vec<String> = match &signed.attestation.statement.predicate {
            Predicate::Conformity(p) if p.route == Route::Certification => self
                .store
                .accreditations(&submitter.id)
                .await?
                .into_iter()
                .map(|a| a.scheme)
                .collect(),
            _ => Vec::new(),
        };
        let facts = Facts {
            submitter,
            schemes: &self.schemes,
            accredited_for: &accredited_for,
            manufacturer: manufacturer_org.as_ref(),
            product_owner: product_owner.as_deref(),
            referred: referred.as_ref(),
            referred_history: &history,
            accepted_before,
            monitor_key: Some(self.monitor_key.key_id.as_str()),
            now,
        };
        let accepted = accept::decide(signed, &facts)?;
        Ok(Decided {
            accepted,
            submitted_by: submitter.id.clone(),
            refers: referred,
        })
    }

    /// A receipt for log entry `index` against the current checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Receipt, RegistryError> {
        Ok(tlog::receipt_cached(
            self.log_storage.as_ref(),
            &self.checkpoint()?,
            index,
            self.tiles
                .get_or_init(|| iotmark_log::tiles::TileCache::new(DEFAULT_TILE_CACHE_BYTES)),
        )?)
    }

    /// A hash tile or entry bundle of the log, `None` if there is none. Read through the
    /// log's storage, which follows no link planted in the data directory.
    pub async fn tile(
        &self,
        kind: iotmark_log::tiles::TileKind,
        id: iotmark_log::tiles::TileId,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let storage = self.log_storage.clone();
        let read = tokio::task::spawn_blocking(move || storage.read_tile(kind, id))
            .await
            .map_err(|_| RegistryError::ShuttingDown)?;
        Ok(read?)
    }

    /// The stored envelope with this SHA-256 (hex).
    pub fn envelope(&self, sha256_hex: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let Some(digest) = merkle::parse_hex(sha256_hex) else {
            return Ok(None);
        };
        match tlog::read_envelope(self.log_storage.as_ref(), &digest) {
            Ok(b) => Ok(Some(b)),
            Err(LogError::NoEnvelope { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Indexes every log entry the database has not seen (after a crash between the log
    /// append and the database write). Entries are re-derived from the envelope and the
    /// signing key's organisation, exactly as accepted, and recorded many to a transaction.
    async fn replay(&self) -> Result<(), RegistryError> {
        let size = iotmark_log::checkpoint::read_unverified(&self.checkpoint()?)
            .map_err(LogError::from)?
            .size;
        let missing = self.store.unindexed(size).await?;
        let Some(&first) = missing.first() else {
            return Ok(());
        };
        let wanted: HashSet<u64> = missing.iter().copied().collect();
        let mut leaves = Vec::with_capacity(missing.len());
        tlog::visit_records(self.log_storage.as_ref(), size, first, |index, leaf| {
            if wanted.contains(&index) {
                leaves.push((index, leaf));
            }
            Ok(true)
        })?;
        for chunk in leaves.chunks(REPLAY_BATCH) {
            let mut items = Vec::with_capacity(chunk.len());
            for (index, leaf) in chunk {
                let item = self.replayed(*index, leaf, &items).await?;
                items.push(item);
            }
            let results = self.store.record_batch(&items).await?;
            for ((index, _), result) in chunk.iter().zip(results) {
                match result {
                    Ok(()) => {}
                    // The same signed statement logged twice (in the same bytes or others,
                    // before the registry refused re-encodings): the first entry is its
                    // record, and the log keeps the second as it keeps everything.
                    Err(StoreError::Exists {
                        what: what @ ("attestation" | "statement"),
                        id,
                    }) => tracing::warn!(
                        log_index = index,
                        repeated = what,
                        digest = %id,
                        "log entry repeats a signed statement logged before; indexed once"
                    ),
                    Err(e) => {
                        return Err(RegistryError::Replay {
                            index: *index,
                            message: e.to_string(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The database record of log entry `index`, re-derived from its envelope.
    /// `earlier` are the entries replayed before it in the same transaction.
    async fn replayed(
        &self,
        index: u64,
        leaf: &LeafRecord,
        earlier: &[Indexed],
    ) -> Result<Indexed, RegistryError> {
        let fail = |message: String| RegistryError::Replay { index, message };
        let envelope = tlog::read_envelope(self.log_storage.as_ref(), &leaf.envelope_digest)?;
        let key = self
            .store
            .signing_key(&leaf.signer_key_id)
            .await?
            .ok_or_else(|| fail(format!("signing key {} is unknown", leaf.signer_key_id)))?;
        let org = self
            .store
            .organisation(&key.organisation)
            .await?
            .ok_or_else(|| fail(format!("organisation {} is unknown", key.organisation)))?;
        // Keys retired since are still the keys that signed then.
        let mut active = key.clone();
        active.retired = None;
        let signed = accept::check_signature(&envelope, &org, std::slice::from_ref(&active))
            .map_err(|e| fail(e.to_string()))?;
        let logged = leaf_timestamp(leaf.time).map_err(fail)?;
        // A status change takes its product from the attestation it refers to, which may be
        // replayed in the same transaction, before it.
        let refers = match &signed.attestation.statement.predicate {
            Predicate::Status(p) => {
                let target = p.refers_to.envelope_sha256.to_hex();
                match self.store.attestation(&target).await? {
                    Some(held) => Some(held),
                    None => earlier
                        .iter()
                        .map(Indexed::record)
                        .find(|r| r.kind == EntryKind::Conformity && r.envelope_sha256 == target)
                        .cloned(),
                }
            }
            Predicate::Conformity(_) => None,
        };
        let record =
            to_record(&signed, &org.id, index, logged, &refers).map_err(|e| fail(e.to_string()))?;
        Ok(match &signed.attestation.statement.predicate {
            Predicate::Conformity(p) => {
                // As accepted: an SDoC is its signer's; a certification names the manufacturer.
                let manufacturer = match p.route {
                    Route::Sdoc => org.id.clone(),
                    Route::Certification => {
                        self.store
                            .manufacturer_named(&p.product.manufacturer)
                            .await?
                            .ok_or_else(|| {
                                fail(format!(
                                    "manufacturer {:?} is unknown",
                                    p.product.manufacturer
                                ))
                            })?
                            .id
                    }
                };
                Indexed::Conformity(ConformitySubmission {
                    record,
                    manufacturer,
                    manufacturer_name: p.product.manufacturer.clone(),
                    name: p.product.name.clone(),
                    model: p.product.model.clone(),
                    images: images(&signed.attestation)?,
                    declaration_json: None,
                })
            }
            Predicate::Status(_) => Indexed::Status(record),
        })
    }
}

impl From<SignatureError> for RegistryError {
    fn from(e: SignatureError) -> Self {
        match e {
            SignatureError::Refused(r) => RegistryError::Refused(r),
            corrupt @ SignatureError::CorruptKey { .. } => {
                RegistryError::Internal(corrupt.to_string())
            }
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Decided {
    accepted: Accepted,
    submitted_by: String,
    refers: Option<AttestationRecord>,
}

/// A claim on an envelope digest, released on drop.
struct Claim {
    set: Arc<Mutex<HashSet<Sha256>>>,
    digest: Sha256,
}

impl Claim {
    fn take(set: &Arc<Mutex<HashSet<Sha256>>>, digest: Sha256) -> Option<Self> {
        let mut guard = set.lock().ok()?;
        guard.insert(digest).then(|| Claim {
            set: set.clone(),
            digest,
        })
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut guard) = self.set.lock() {
            guard.remove(&self.digest);
        }
    }
}

/// The firmware images an attestation is bound to, as the store keeps them.
fn images(attestation: &Attestation) -> Result<Vec<Image>, RegistryError> {
    Ok(attestation
        .images()
        .map_err(|e| RegistryError::Internal(format!("a checked statement's {e}")))?
        .into_iter()
        .map(|image| Image {
            name: image.name,
            sha256: image.sha256.to_hex(),
        })
        .collect())
}

/// The database record of an accepted attestation. A status change takes its product and
/// version from `refers`, the attestation it changes, which the caller has found.
fn to_record(
    signed: &Signed,
    submitted_by: &str,
    log_index: u64,
    logged: jiff::Timestamp,
    refers: &Option<AttestationRecord>,
) -> Result<AttestationRecord, RegistryError> {
    let attestation = &signed.attestation;
    record_of(
        &LoggedAttestation {
            envelope_sha256: attestation.envelope_sha256.to_hex(),
            statement_sha256: attestation.statement_sha256.to_hex(),
            signer_key_id: signed.key.key_id.clone(),
            statement: &attestation.statement,
        },
        submitted_by,
        log_index,
        logged,
        refers.as_ref(),
    )
}

/// What the log and the envelope beside it say of one attestation: what a record is made of.
#[derive(Debug, Clone)]
pub struct LoggedAttestation<'a> {
    pub envelope_sha256: String,
    pub statement_sha256: String,
    pub signer_key_id: String,
    pub statement: &'a iotmark_attest::statement::Statement,
}

/// The record of a logged attestation, as the registry indexes it (and as a client reading the
/// log rebuilds it to check the registry's answers). A status change takes its product and
/// version from `refers`, the attestation it changes.
pub fn record_of(
    logged_attestation: &LoggedAttestation<'_>,
    submitted_by: &str,
    log_index: u64,
    logged: jiff::Timestamp,
    refers: Option<&AttestationRecord>,
) -> Result<AttestationRecord, RegistryError> {
    let base = AttestationRecord {
        envelope_sha256: logged_attestation.envelope_sha256.clone(),
        statement_sha256: logged_attestation.statement_sha256.clone(),
        kind: EntryKind::Conformity,
        log_index,
        logged,
        submitted_by: submitted_by.to_owned(),
        signer_key_id: logged_attestation.signer_key_id.clone(),
        product_id: String::new(),
        version: String::new(),
        scheme: None,
        tier: None,
        route: None,
        issued: None,
        valid_until: None,
        support_end: None,
        refers_to: None,
        status: None,
        reason: None,
        effective: None,
        trigger: None,
        vulnerabilities: Vec::new(),
        deadline: None,
        sbom_sha256: None,
    };
    Ok(match &logged_attestation.statement.predicate {
        Predicate::Conformity(p) => AttestationRecord {
            product_id: p.product.id.clone(),
            version: p.product.version.clone(),
            scheme: Some(p.scheme.clone()),
            tier: Some(p.tier.clone()),
            route: Some(p.route),
            issued: Some(p.issued),
            valid_until: Some(p.valid_until),
            support_end: p.support_end,
            sbom_sha256: p.sbom_sha256.map(|d| d.to_hex()),
            ..base
        },
        Predicate::Status(p) => {
            let referred = refers.ok_or_else(|| {
                RegistryError::Refused(Refusal {
                    rule: Rule::RefersTo,
                    message: format!(
                        "the registry holds no attestation with envelope SHA-256 {}",
                        p.refers_to.envelope_sha256
                    ),
                })
            })?;
            AttestationRecord {
                kind: EntryKind::Status,
                product_id: referred.product_id.clone(),
                version: referred.version.clone(),
                refers_to: Some(p.refers_to.envelope_sha256.to_hex()),
                status: Some(p.status),
                reason: Some(p.reason.clone()),
                effective: Some(p.effective),
                issued: Some(p.issued),
                trigger: p.trigger,
                vulnerabilities: p.vulnerabilities.clone(),
                deadline: p.deadline,
                ..base
            }
        }
    })
}

/// The log's signer: an Ed25519 key kept in the data directory (PKCS#8 PEM, mode 0600),
/// created on first start.
fn log_signer(path: &Path, origin: &str) -> Result<NoteSigner, RegistryError> {
    iotmark_conformity::log_key::log_signer_creating(path, origin).map_err(|e| {
        RegistryError::DataDir {
            path: path.to_owned(),
            message: e.to_string(),
        }
    })
}
