//! The buyer's side of the registry: checking a fleet of deployed devices against a registry,
//! and the registry against its own log (`iotmark fleet check`).
//!
//! For each group of devices in the inventory (product and version, or firmware image) the check
//! says where the devices stand now and why, when their security support ends, which known
//! vulnerabilities hold their label back (exploited ones first, given CISA's KEV catalog), and
//! which log entries the answer rests on.
//!
//! Nothing the registry's database says is taken on its word. The client keeps its own copy of
//! the log ([`mirror::Mirror`]: the checkpoint it trusts, the tree's frontier, every entry read,
//! rebuilt into records by the registry's own [`service::record_of`](crate::service::record_of)),
//! brings it up to the registry's current checkpoint (signature, consistency proof, every new
//! entry hashed into the root), and works out each device's standing from the log with the
//! registry's own rules ([`status::current`]). It then asks the registry the same questions
//! (the batch lookup) and compares: a record the log does not hold, a record whose fields differ
//! from its entry, an entry the answer leaves out, a version's standing, support end or images
//! that differ, an image resolved to another version. Each is a [`Discrepancy`] that names the
//! product, the log entry and both values; the devices' answers are the log's.

pub mod inventory;
pub mod mirror;
mod poam;
pub mod report;

pub use poam::{PoamError, poam};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::status::{self, Standing};
use crate::store::{AttestationRecord, EntryKind, Image};
use inventory::Device;
use mirror::{LoggedRecord, Mirror, Synced};

/// The registry's largest batch (`POST /api/v1/products/lookup`).
const BATCH: usize = crate::http::MAX_LOOKUPS;

/// Clock difference tolerated between the registry and the client when comparing a standing
/// that changes by itself (an expiry, a change that takes effect later): a standing the log
/// gives within this much of now is not a disagreement. Small, so that a change effective a
/// little earlier cannot hide behind it.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_secs(10);

/// Where a group of devices stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceStatus {
    // In the order a report lists them: what needs action first.
    Revoked,
    Suspended,
    Vulnerable,
    EndOfSupport,
    Expired,
    Withdrawn,
    /// The product is registered, but no attestation covers this version or image.
    NotAttested,
    /// No attestation in the log covers this firmware image.
    UnknownImage,
    /// The registry knows no such product.
    UnknownProduct,
    NotYetValid,
    /// The label holds.
    Valid,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 11] = [
        DeviceStatus::Revoked,
        DeviceStatus::Suspended,
        DeviceStatus::Vulnerable,
        DeviceStatus::EndOfSupport,
        DeviceStatus::Expired,
        DeviceStatus::Withdrawn,
        DeviceStatus::NotAttested,
        DeviceStatus::UnknownImage,
        DeviceStatus::UnknownProduct,
        DeviceStatus::NotYetValid,
        DeviceStatus::Valid,
    ];

    fn of(standing: Standing) -> Self {
        match standing {
            Standing::Valid => DeviceStatus::Valid,
            Standing::NotYetValid => DeviceStatus::NotYetValid,
            Standing::Expired => DeviceStatus::Expired,
            Standing::Suspended => DeviceStatus::Suspended,
            Standing::Revoked => DeviceStatus::Revoked,
            Standing::EndOfSupport => DeviceStatus::EndOfSupport,
            Standing::Vulnerable => DeviceStatus::Vulnerable,
            Standing::Withdrawn => DeviceStatus::Withdrawn,
        }
    }

    /// The status's name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Revoked => "revoked",
            DeviceStatus::Suspended => "suspended",
            DeviceStatus::Vulnerable => "vulnerable",
            DeviceStatus::EndOfSupport => "end-of-support",
            DeviceStatus::Expired => "expired",
            DeviceStatus::Withdrawn => "withdrawn",
            DeviceStatus::NotAttested => "not-attested",
            DeviceStatus::UnknownImage => "unknown-image",
            DeviceStatus::UnknownProduct => "unknown-product",
            DeviceStatus::NotYetValid => "not-yet-valid",
            DeviceStatus::Valid => "valid",
        }
    }

    /// Whether the devices' label holds.
    pub fn holds(self) -> bool {
        self == DeviceStatus::Valid
    }
}

impl std::fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A known vulnerability that holds a device's label back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vulnerability {
    pub id: String,
    /// Listed in CISA's Known Exploited Vulnerabilities catalog; `None` when no catalog was
    /// given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exploited: Option<bool>,
}

impl Vulnerability {
    /// Its ID, marked when it is known to be exploited.
    pub fn label(&self) -> String {
        if self.exploited == Some(true) {
            format!("{} (exploited)", self.id)
        } else {
            self.id.clone()
        }
    }
}

/// The answer for one inventory line.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceResult {
    pub device: Device,
    pub status: DeviceStatus,
    /// Why, in plain words.
    pub why: String,
    /// The product, as the registry names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// The version the devices run (from the inventory, or the image's attestation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// End of the security-support period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_end: Option<jiff::civil::Date>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<jiff::Timestamp>,
    /// Open vulnerabilities behind a `vulnerable` or `suspended` status, exploited first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// When the scheme's deadline to fix them passes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_deadline: Option<jiff::Timestamp>,
    /// The log entries the answer rests on: the attestation, then its status changes.
    pub log_entries: Vec<u64>,
    /// The registry's answer about this product agreed with its log.
    pub registry_agrees: bool,
}

/// Where the registry's answer and its log disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    pub product: String,
    /// The log entry concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    pub what: String,
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub checked: jiff::Timestamp,
    pub registry: String,
    /// The log as verified for this check.
    pub log: Synced,
    /// One per inventory line, what needs action first.
    pub devices: Vec<DeviceResult>,
    /// Devices (summing counts) by status, every status named.
    pub counts: BTreeMap<DeviceStatus, u64>,
    pub total_devices: u64,
    /// Where the registry's answers disagree with its log; empty when it told the truth.
    pub discrepancies: Vec<Discrepancy>,
    /// Log entries the check could not place (see [`Mirror::unplaced`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unplaced: Vec<(u64, String)>,
}

impl FleetReport {
    /// Devices whose label does not hold, or that the registry does not know.
    pub fn needing_action(&self) -> u64 {
        self.devices
            .iter()
            .filter(|d| !d.status.holds())
            .map(|d| d.device.count)
            .sum()
    }
}

/// Why a check did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Sync(#[from] mirror::SyncError),
    /// The registry could not be asked, or refused the question.
    #[error("the registry at {url}: {message}")]
    Registry { url: String, message: String },
}

/// A client of one registry's API and log.
#[derive(Debug)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    log: iotmark_log::remote::HttpLog,
}

impl Client {
    /// A client of the registry at `base` (`http://` or `https://`); its log is at `base/log`.
    pub fn new(base: &str) -> Result<Self, String> {
        let base = base.trim_end_matches('/');
        let log = iotmark_log::remote::HttpLog::new(&format!("{base}/log")).map_err(|e| {
            format!("{e}; give the registry's base URL, e.g. https://registry.example.org")
        })?;
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .user_agent(concat!("iotmark/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Self {
            base: base.to_owned(),
            agent,
            log,
        })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    pub fn log(&self) -> &iotmark_log::remote::HttpLog {
        &self.log
    }

    /// The declaration the manufacturer of `product` published to the registry (JSON), with
    /// the URL of the product's answer it came from; `None` when the product is registered
    /// without one. Declarations are not logged: this is the registry's word.
    pub fn published_declaration(
        &self,
        product: &str,
    ) -> Result<(String, Option<Vec<u8>>), CheckError> {
        let url = format!("{}/api/v1/products/{product}", self.base);
        let fail = |message: String| CheckError::Registry {
            url: url.clone(),
            message,
        };
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| fail(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 => return Err(fail(format!("the registry knows no product {product:?}"))),
            code => return Err(fail(format!("HTTP {code}"))),
        }
        let answer: serde_json::Value = serde_json::from_str(
            &response
                .into_body()
                .with_config()
                .limit(64 << 20)
                .read_to_string()
                .map_err(|e| fail(format!("reading the answer: {e}")))?,
        )
        .map_err(|e| fail(format!("the answer does not read: {e}")))?;
        let declaration = match answer.get("declaration") {
            None | Some(serde_json::Value::Null) => None,
            Some(d) => Some(serde_json::to_vec_pretty(d).map_err(|e| fail(e.to_string()))?),
        };
        Ok((url, declaration))
    }

    fn lookup(&self, lookups: &[Lookup]) -> Result<LookupAnswer, CheckError> {
        let url = format!("{}/api/v1/products/lookup", self.base);
        let fail = |message: String| CheckError::Registry {
            url: url.clone(),
            message,
        };
        let body = serde_json::to_vec(&serde_json::json!({ "lookups": lookups }))
            .map_err(|e| fail(e.to_string()))?;
        let response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(&body[..])
            .map_err(|e| fail(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| fail(format!("reading the answer: {e}")))?;
        if status != 200 {
            return Err(fail(format!(
                "HTTP {status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        serde_json::from_str(&text).map_err(|e| fail(format!("the answer does not read: {e}")))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
struct Lookup {
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_sha256: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LookupAnswer {
    products: BTreeMap<String, ProductAnswer>,
    results: Vec<LookupResult>,
}

#[derive(Debug, Deserialize)]
struct LookupResult {
    product: Option<String>,
    version: Option<String>,
    #[serde(default)]
    also: Vec<LookupHit>,
}

#[derive(Debug, Deserialize)]
struct LookupHit {
    product: String,
    version: String,
}

/// The parts of the registry's product answer the check compares.
#[derive(Debug, Deserialize)]
struct ProductAnswer {
    product: ProductNames,
    versions: Vec<VersionAnswer>,
    history: Vec<AttestationRecord>,
}

#[derive(Debug, Deserialize)]
struct ProductNames {
    manufacturer_name: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct VersionAnswer {
    version: String,
    images: Vec<Image>,
    standing: Option<Standing>,
    support_end: Option<jiff::civil::Date>,
}

/// What the log says of one product.
struct LogProduct {
    history: Vec<AttestationRecord>,
    /// The images each version's conformity attestations cover.
    images: BTreeMap<String, BTreeSet<String>>,
}

/// Options of a check.
#[derive(Debug, Clone)]
pub struct Options {
    /// The moment the check is made for.
    pub now: jiff::Timestamp,
    /// CVE IDs in CISA's KEV catalog, when one was given.
    pub known_exploited: Option<BTreeSet<String>>,
}

/// Checks `devices` against the registry `client` talks to: brings `mirror` up to the log's
/// current checkpoint first (the caller saves it), then compares the registry's answers with
/// the log. `progress` hears (stage, done, total) for the log sync and the lookups.
pub fn check(
    devices: &[Device],
    mirror: &mut Mirror,
    client: &Client,
    options: &Options,
    progress: &(dyn Fn(Stage, u64, u64) + Sync),
) -> Result<FleetReport, CheckError> {
    let synced = mirror.sync(client.log(), &|d, t| progress(Stage::Log, d, t))?;
    let now = options.now;

    // What the log says, by product and by image.
    let mut by_product: HashMap<&str, Vec<&LoggedRecord>> = HashMap::new();
    let mut by_image: HashMap<&str, BTreeSet<(&str, &str)>> = HashMap::new();
    for r in &mirror.records {
        by_product.entry(&r.record.product_id).or_default().push(r);
        for i in &r.images {
            by_image
                .entry(&i.sha256)
                .or_default()
                .insert((&r.record.product_id, &r.record.version));
        }
    }

    // What the registry says: each product once, each image once.
    let mut lookups: BTreeSet<Lookup> = BTreeSet::new();
    for d in devices {
        if let Some(p) = &d.product {
            lookups.insert(Lookup {
                product: Some(p.clone()),
                image_sha256: None,
            });
        }
        if let Some(i) = &d.image_sha256 {
            lookups.insert(Lookup {
                product: None,
                image_sha256: Some(i.clone()),
            });
            // The products the log says ship the image are asked about by name too, so that
            // a registry that does not resolve the image still answers for them.
            for (p, _) in by_image.get(i.as_str()).into_iter().flatten() {
                lookups.insert(Lookup {
                    product: Some((*p).to_owned()),
                    image_sha256: None,
                });
            }
        }
    }
    let lookups: Vec<Lookup> = lookups.into_iter().collect();
    let mut answers: BTreeMap<String, ProductAnswer> = BTreeMap::new();
    let mut registry_images: HashMap<String, BTreeSet<(String, String)>> = HashMap::new();
    let mut asked: BTreeSet<String> = BTreeSet::new();
    let mut done = 0u64;
    progress(Stage::Lookup, 0, lookups.len() as u64);
    for chunk in lookups.chunks(BATCH) {
        let answer = client.lookup(chunk)?;
        if answer.results.len() != chunk.len() {
            return Err(CheckError::Registry {
                url: client.url().to_owned(),
                message: format!(
                    "{} results to {} lookups",
                    answer.results.len(),
                    chunk.len()
                ),
            });
        }
        for (l, r) in chunk.iter().zip(&answer.results) {
            if let Some(p) = &l.product {
                asked.insert(p.clone());
            }
            if let Some(i) = &l.image_sha256 {
                let hits = registry_images.entry(i.clone()).or_default();
                if let (Some(p), Some(v)) = (&r.product, &r.version) {
                    hits.insert((p.clone(), v.clone()));
                    asked.insert(p.clone());
                }
                for h in &r.also {
                    hits.insert((h.product.clone(), h.version.clone()));
                    asked.insert(h.product.clone());
                }
            }
        }
        answers.extend(answer.products);
        done += chunk.len() as u64;
        progress(Stage::Lookup, done, lookups.len() as u64);
    }

    // The log's view of each product asked about, and where the registry's differs.
    let mut discrepancies = Vec::new();
    let mut log_products: HashMap<String, LogProduct> = HashMap::new();
    for product in &asked {
        let records = by_product
            .get(product.as_str())
            .cloned()
            .unwrap_or_default();
        let mut images: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for r in &records {
            if r.record.kind == EntryKind::Conformity {
                images
                    .entry(r.record.version.clone())
                    .or_default()
                    .extend(r.images.iter().map(|i| i.sha256.clone()));
            }
        }
        let logged = LogProduct {
            history: records.iter().map(|r| r.record.clone()).collect(),
            images,
        };
        discrepancies.extend(compare(product, answers.get(product), &logged, mirror, now));
        log_products.insert(product.clone(), logged);
    }
    for (image, registry_hits) in &registry_images {
        let log_hits: BTreeSet<(String, String)> = by_image
            .get(image.as_str())
            .map(|s| {
                s.iter()
                    .map(|(p, v)| ((*p).to_owned(), (*v).to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        if &log_hits != registry_hits {
            let name = |s: &BTreeSet<(String, String)>| {
                if s.is_empty() {
                    "nothing".to_owned()
                } else {
                    s.iter()
                        .map(|(p, v)| format!("{p} {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            };
            discrepancies.push(Discrepancy {
                product: registry_hits
                    .iter()
                    .chain(&log_hits)
                    .next()
                    .map(|(p, _)| p.clone())
                    .unwrap_or_default(),
                log_index: None,
                what: format!(
                    "image {image}: the registry says it is {}, the log says {}",
                    name(registry_hits),
                    name(&log_hits)
                ),
            });
        }
    }
    let disagreeing: BTreeSet<&str> = discrepancies.iter().map(|d| d.product.as_str()).collect();

    let mut results: Vec<DeviceResult> = devices
        .iter()
        .map(|d| evaluate(d, &answers, &log_products, &by_image, &disagreeing, options))
        .collect();
    results.sort_by(|a, b| {
        (a.status, &a.product, &a.version, a.device.line).cmp(&(
            b.status,
            &b.product,
            &b.version,
            b.device.line,
        ))
    });
    let mut counts: BTreeMap<DeviceStatus, u64> =
        DeviceStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for r in &results {
        *counts.entry(r.status).or_default() += r.device.count;
    }
    Ok(FleetReport {
        checked: now,
        registry: client.url().to_owned(),
        log: synced,
        total_devices: results.iter().map(|r| r.device.count).sum(),
        devices: results,
        counts,
        discrepancies,
        unplaced: mirror.unplaced.clone(),
    })
}

/// The stages a check reports progress on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading and checking the log's new entries.
    Log,
    /// Asking the registry.
    Lookup,
}

/// Where the registry's answer about `product` differs from what the log says.
fn compare(
    product: &str,
    answer: Option<&ProductAnswer>,
    logged: &LogProduct,
    mirror: &Mirror,
    now: jiff::Timestamp,
) -> Vec<Discrepancy> {
    let mut found = Vec::new();
    let mut say = |log_index: Option<u64>, what: String| {
        found.push(Discrepancy {
            product: product.to_owned(),
            log_index,
            what,
        })
    };
    let Some(answer) = answer else {
        if let Some(first) = logged.history.first() {
            say(
                Some(first.log_index),
                format!(
                    "the registry says it knows no such product, but its log holds {} entries about it",
                    logged.history.len()
                ),
            );
        }
        return found;
    };
    let answered: BTreeSet<u64> = answer.history.iter().map(|r| r.log_index).collect();
    for claimed in &answer.history {
        let i = claimed.log_index;
        let Some(entry) = mirror.at(i) else {
            say(
                Some(i),
                format!(
                    "the registry shows a {} of version {} as log entry {i}, which the log (of {} entries) does not hold",
                    describe(claimed),
                    claimed.version,
                    mirror.size()
                ),
            );
            continue;
        };
        let fields = differing_fields(claimed, &entry.record);
        if !fields.is_empty() {
            say(Some(i), format!("log entry {i}: {}", fields.join("; ")));
        }
    }
    for r in &logged.history {
        if !answered.contains(&r.log_index) {
            say(
                Some(r.log_index),
                format!(
                    "the registry's answer leaves out log entry {}: the {} of version {} logged {}",
                    r.log_index,
                    describe(r),
                    r.version,
                    r.logged.strftime("%Y-%m-%d")
                ),
            );
        }
    }
    for v in &answer.versions {
        let derived = status::current(&v.version, &logged.history, now);
        let standing = derived.map(|(_, s)| s);
        if standing != v.standing {
            // A standing that changes by itself may have changed between the two clocks.
            let near = [now - CLOCK_SKEW, now + CLOCK_SKEW].iter().any(|t| {
                status::current(&v.version, &logged.history, *t).map(|(_, s)| s) == v.standing
            });
            if !near {
                say(
                    derived.map(|(r, _)| r.log_index),
                    format!(
                        "version {}: the registry says {}, the log says {}",
                        v.version,
                        standing_name(v.standing),
                        standing_name(standing)
                    ),
                );
            }
        }
        let support_end = derived.and_then(|(r, _)| r.support_end);
        if support_end != v.support_end {
            say(
                derived.map(|(r, _)| r.log_index),
                format!(
                    "version {}: the registry says support ends {}, the log says {}",
                    v.version,
                    date_name(v.support_end),
                    date_name(support_end)
                ),
            );
        }
        let claimed: BTreeSet<String> = v.images.iter().map(|i| i.sha256.clone()).collect();
        let empty = BTreeSet::new();
        let logged_images = logged.images.get(&v.version).unwrap_or(&empty);
        if &claimed != logged_images {
            say(
                None,
                format!(
                    "version {}: the registry lists images {}, the log's attestations cover {}",
                    v.version,
                    join(&claimed),
                    join(logged_images)
                ),
            );
        }
    }
    let listed: BTreeSet<&str> = answer.versions.iter().map(|v| v.version.as_str()).collect();
    for version in logged.images.keys() {
        if !listed.contains(version.as_str()) {
            say(
                None,
                format!("the registry does not list version {version}, which the log attests"),
            );
        }
    }
    found
}

/// The fields of the registry's record that differ from the log's. The submitting
/// organisation is the registry's alone, so it is not compared; times are compared in whole
/// seconds, as the registry's database keeps them.
fn differing_fields(claimed: &AttestationRecord, logged: &AttestationRecord) -> Vec<String> {
    let seconds = |t: &mut Option<jiff::Timestamp>| {
        *t = t.and_then(|t| jiff::Timestamp::from_second(t.as_second()).ok());
    };
    let value = |r: &AttestationRecord| {
        let mut r = r.clone();
        r.submitted_by = String::new();
        let mut logged = Some(r.logged);
        seconds(&mut logged);
        r.logged = logged.unwrap_or(r.logged);
        seconds(&mut r.issued);
        seconds(&mut r.valid_until);
        seconds(&mut r.effective);
        seconds(&mut r.deadline);
        serde_json::to_value(r).unwrap_or_default()
    };
    let (a, b) = (value(claimed), value(logged));
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return vec!["does not read".to_owned()];
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&serde_json::Value>| {
                v.map_or_else(|| "nothing".to_owned(), |v| v.to_string())
            };
            format!(
                "{k} is {} at the registry, {} in the log",
                show(a.get(k)),
                show(b.get(k))
            )
        })
        .collect()
}

fn describe(r: &AttestationRecord) -> String {
    match (r.kind, r.status) {
        (EntryKind::Status, Some(s)) => format!("status change ({})", s.as_str()),
        (EntryKind::Status, None) => "status change".to_owned(),
        (EntryKind::Conformity, _) => "conformity attestation".to_owned(),
    }
}

fn standing_name(s: Option<Standing>) -> String {
    s.map_or_else(
        || "not attested".to_owned(),
        |s| format!("it {}", s.describe()),
    )
}

fn date_name(d: Option<jiff::civil::Date>) -> String {
    d.map_or_else(|| "(not given)".to_owned(), |d| d.to_string())
}

fn join(s: &BTreeSet<String>) -> String {
    if s.is_empty() {
        "none".to_owned()
    } else {
        s.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// The answer for one inventory line, from the log.
fn evaluate(
    device: &Device,
    answers: &BTreeMap<String, ProductAnswer>,
    logged: &HashMap<String, LogProduct>,
    by_image: &HashMap<&str, BTreeSet<(&str, &str)>>,
    disagreeing: &BTreeSet<&str>,
    options: &Options,
) -> DeviceResult {
    let mut result = DeviceResult {
        device: device.clone(),
        status: DeviceStatus::UnknownProduct,
        why: String::new(),
        product: device.product.clone(),
        product_name: None,
        manufacturer: None,
        version: device.version.clone(),
        support_end: None,
        valid_until: None,
        vulnerabilities: Vec::new(),
        fix_deadline: None,
        log_entries: Vec::new(),
        registry_agrees: true,
    };
    // Which product and version the devices run.
    if let Some(image) = &device.image_sha256 {
        let hits = by_image.get(image.as_str());
        let hit = hits.and_then(|h| {
            h.iter()
                .find(|(p, v)| {
                    device.product.as_deref().is_none_or(|d| d == *p)
                        && device.version.as_deref().is_none_or(|d| d == *v)
                })
                .copied()
        });
        match (hit, hits) {
            (Some((p, v)), _) => {
                result.product = Some(p.to_owned());
                result.version = Some(v.to_owned());
            }
            (None, Some(h)) if !h.is_empty() => {
                let (p, v) = h.iter().next().copied().unwrap_or_default();
                result.product = Some(p.to_owned());
                result.version = Some(v.to_owned());
                result.status = DeviceStatus::NotAttested;
                result.why = format!(
                    "the image is attested as {p} {v}, not as the {} the inventory says",
                    device.label()
                );
                return named(result, answers, disagreeing);
            }
            _ => {
                result.status = if device.product.is_some() {
                    DeviceStatus::NotAttested
                } else {
                    DeviceStatus::UnknownImage
                };
                result.why =
                    "no attestation in the registry's log covers this firmware image".to_owned();
                return named(result, answers, disagreeing);
            }
        }
    }
    let Some(product) = result.product.clone() else {
        return result;
    };
    let version = result.version.clone().unwrap_or_default();
    let history = logged
        .get(&product)
        .map(|l| l.history.as_slice())
        .unwrap_or_default();
    if history.is_empty() && !answers.contains_key(&product) {
        result.status = DeviceStatus::UnknownProduct;
        result.why = format!("the registry knows no product {product:?}");
        return named(result, answers, disagreeing);
    }
    let Some((attestation, standing)) = status::current(&version, history, options.now) else {
        let attested: BTreeSet<&str> = history
            .iter()
            .filter(|r| r.kind == EntryKind::Conformity)
            .map(|r| r.version.as_str())
            .collect();
        result.status = DeviceStatus::NotAttested;
        result.why = if attested.is_empty() {
            format!("no version of {product} is attested")
        } else {
            format!(
                "no attestation covers version {version}; attested: {}",
                attested.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        return named(result, answers, disagreeing);
    };
    result.status = DeviceStatus::of(standing);
    result.support_end = attestation.support_end;
    result.valid_until = attestation.valid_until;
    result.log_entries.push(attestation.log_index);
    let changes: Vec<&AttestationRecord> = history
        .iter()
        .filter(|r| {
            r.kind == EntryKind::Status
                && r.refers_to.as_deref() == Some(attestation.envelope_sha256.as_str())
                && r.effective.is_some_and(|t| t <= options.now)
        })
        .collect();
    result
        .log_entries
        .extend(changes.iter().map(|r| r.log_index));
    let last = changes.last();
    let day = |t: Option<jiff::Timestamp>| {
        t.map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    result.why = match standing {
        Standing::Valid => match attestation.support_end {
            Some(end) => format!("the label holds; security support until {end}"),
            None => "the label holds".to_owned(),
        },
        Standing::NotYetValid => format!("the label is valid from {}", day(attestation.issued)),
        Standing::Expired
            if last.is_none_or(|r| {
                r.status != Some(iotmark_attest::statement::StatusKind::Expiry)
            }) =>
        {
            format!("the label expired {}", day(attestation.valid_until))
        }
        _ => match last {
            Some(r) => format!(
                "{} {}: {}",
                standing.describe(),
                day(r.effective),
                r.reason.as_deref().unwrap_or("no reason given")
            ),
            None => standing.describe().to_owned(),
        },
    };
    if matches!(standing, Standing::Vulnerable | Standing::Suspended)
        && let Some(r) = changes.iter().rev().find(|r| !r.vulnerabilities.is_empty())
    {
        let mut vulnerabilities: Vec<Vulnerability> = r
            .vulnerabilities
            .iter()
            .map(|id| Vulnerability {
                id: id.clone(),
                exploited: options.known_exploited.as_ref().map(|kev| kev.contains(id)),
            })
            .collect();
        vulnerabilities.sort_by_key(|v| (v.exploited != Some(true), v.id.clone()));
        result.vulnerabilities = vulnerabilities;
        result.fix_deadline = r.deadline;
    }
    named(result, answers, disagreeing)
}

/// Adds the registry's names of the product and whether its answer agreed with the log.
fn named(
    mut result: DeviceResult,
    answers: &BTreeMap<String, ProductAnswer>,
    disagreeing: &BTreeSet<&str>,
) -> DeviceResult {
    if let Some(p) = &result.product {
        if let Some(a) = answers.get(p) {
            result.product_name = Some(a.product.name.clone());
            result.manufacturer = Some(a.product.manufacturer_name.clone());
        }
        result.registry_agrees = !disagreeing.contains(p.as_str());
    }
    result
}

/// What one inventory line looked like at a check, to tell what changed at the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub label: String,
    pub status: DeviceStatus,
    pub support_end: Option<jiff::civil::Date>,
    pub vulnerabilities: Vec<String>,
}

/// What every inventory line looked like at a check, by [`Device::key`].
pub type Snapshot = BTreeMap<String, Seen>;

/// The report's snapshot. Lines that name the same devices in the same place for the same
/// owner are told apart by their order in the inventory (`#2`, `#3`, …).
pub fn snapshot(report: &FleetReport) -> Snapshot {
    let mut lines: Vec<&DeviceResult> = report.devices.iter().collect();
    lines.sort_by_key(|d| d.device.line);
    let mut seen: HashMap<String, usize> = HashMap::new();
    lines
        .into_iter()
        .map(|d| {
            let key = d.device.key();
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let key = if *n == 1 { key } else { format!("{key}#{n}") };
            (
                key,
                Seen {
                    label: d.device.label(),
                    status: d.status,
                    support_end: d.support_end,
                    vulnerabilities: d.vulnerabilities.iter().map(|v| v.id.clone()).collect(),
                },
            )
        })
        .collect()
}

/// One thing that changed between two checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The inventory line's key ([`Device::key`]) and label.
    pub key: String,
    pub label: String,
    pub what: String,
    /// The status now (`None`: the line left the inventory).
    pub status: Option<DeviceStatus>,
}

/// What changed from `before` to `after`.
pub fn changes(before: &Snapshot, after: &Snapshot) -> Vec<Change> {
    let mut out = Vec::new();
    for (key, now) in after {
        let mut say = |what: String| {
            out.push(Change {
                key: key.clone(),
                label: now.label.clone(),
                what,
                status: Some(now.status),
            })
        };
        let Some(was) = before.get(key) else {
            say(format!("new in the inventory: {}", now.status));
            continue;
        };
        if was.status != now.status {
            say(format!("{} → {}", was.status, now.status));
        }
        if was.support_end != now.support_end {
            say(format!(
                "support end {} → {}",
                date_name(was.support_end),
                date_name(now.support_end)
            ));
        }
        let newly = missing_from(&now.vulnerabilities, &was.vulnerabilities);
        if !newly.is_empty() {
            say(format!("newly known vulnerable to {newly}"));
        }
        let fixed = missing_from(&was.vulnerabilities, &now.vulnerabilities);
        if !fixed.is_empty() {
            say(format!("no longer held back by {fixed}"));
        }
    }
    for (key, was) in before {
        if !after.contains_key(key) {
            out.push(Change {
                key: key.clone(),
                label: was.label.clone(),
                what: "no longer in the inventory".to_owned(),
                status: None,
            });
        }
    }
    out
}

/// The IDs of `these` that `those` lacks, comma-separated.
fn missing_from(these: &[String], those: &[String]) -> String {
    these
        .iter()
        .filter(|v| !those.contains(v))
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `bytes` to `path` durably: a new file beside it, flushed, renamed over it, and the
/// directory flushed, so a crash leaves the old file or the new one.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}
