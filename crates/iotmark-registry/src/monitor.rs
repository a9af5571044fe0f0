//! The monitor: keeps every registered version's status true after sale.
//!
//! One run walks every conformity attestation that still lives (not revoked, ended or
//! withdrawn) and asks, as `iotmark_lifecycle` says, what has changed since its last status:
//!
//! * its declared support end passed → `end-of-support`;
//! * its validity ended → `expiry`;
//! * its SBOM (the one the attestation names by digest, uploaded to the registry) matched
//!   against the vulnerability store, honouring the store's triage decisions (VEX), has open
//!   vulnerabilities → `vulnerable`, with the scheme's deadline to fix them; the deadline
//!   passed → `suspension`; none open any more → `reinstatement`;
//! * a suspension outlasted the scheme's `revoke_after_suspended_days` → `revocation`.
//!
//! Each change is a status attestation signed by the registry's monitor key and accepted
//! like any other: checked against the lifecycle table under the registry's status lock,
//! logged durably, then indexed. A run therefore changes nothing twice: a second run, or one
//! racing it, finds the state already moved and the table refuses the repeat, which the
//! monitor counts as done. A run killed part-way loses nothing: what it logged is replayed on
//! start, and what it had not logged the next run does. When a vulnerability was first seen
//! is written before any change it causes, so deadlines survive a crash too.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use iotmark_assess::Scheme;
use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{
    Party, Statement, StatusDetails, StatusKind, Trigger, status_statement_with,
};
use iotmark_lifecycle::machine::State;
use iotmark_lifecycle::rules::{PostMarket, Severity};
use std::sync::Arc;

use iotmark_vulns::model::Rating;
use serde::Serialize;

use crate::accept::Rule;
use crate::service::{Registry, RegistryError};
use crate::status;
use crate::store::{MatchedSbom, OpenVulnerability, Organisation, Role, Sighting, Store, Watched};

/// The organisation the registry's monitor signs as. Reserved: the registry creates it on
/// first start, and refuses to start if another organisation holds the ID.
pub const MONITOR_ORGANISATION: &str = "iotmark-monitor";
const MONITOR_NAME: &str = "iotmark registry monitor";

/// Most transitions one attestation makes in one run (vulnerable, then suspended, then
/// revoked, after a long pause): a bound, so a fault cannot loop.
const MAX_STEPS: usize = 4;

/// The registry's monitor identity: its signing key (kept in the data directory as
/// `monitor.key`) and the organisation its changes are recorded under.
#[derive(Debug)]
pub struct MonitorKey {
    signer: FileSigner,
    pub key_id: String,
    pub organisation: Organisation,
    /// The key as the store holds it.
    pub(crate) record: crate::store::SigningKey,
}

impl MonitorKey {
    /// Loads the monitor's key from `data/monitor.key` (creating it, with `monitor.pub` and
    /// `monitor.vkey` beside it, on first start) and makes sure the store knows it.
    pub async fn open(store: &Store, data: &Path, origin: &str) -> Result<Self, RegistryError> {
        let dir_err = |path: &Path, message: String| RegistryError::DataDir {
            path: path.to_owned(),
            message,
        };
        let path = data.join("monitor.key");
        let signer = if path.exists() {
            FileSigner::load(&path).map_err(|e| dir_err(&path, e.to_string()))?
        } else {
            let signer = FileSigner::generate().map_err(|e| dir_err(&path, e.to_string()))?;
            let pem = signer
                .to_pkcs8_pem()
                .map_err(|e| dir_err(&path, e.to_string()))?;
            iotmark_attest::keys::write_private_file(&path, pem.as_bytes())
                .map_err(|e| dir_err(&path, e.to_string()))?;
            signer
        };
        let public = signer.public_key();
        // The public halves, for `iotmark verify --key` and trust policies.
        let name = format!("{}-monitor", origin.split('/').next().unwrap_or(origin));
        for (file, text) in [
            ("monitor.pub", public.to_spki_pem()),
            (
                "monitor.vkey",
                public.to_vkey(&name).map(|v| format!("{v}\n")),
            ),
        ] {
            let target = data.join(file);
            let text = text.map_err(|e| dir_err(&target, e.to_string()))?;
            std::fs::write(&target, text).map_err(|e| dir_err(&target, e.to_string()))?;
        }
        let key_id = public.key_id();
        let organisation = match store.organisation(MONITOR_ORGANISATION).await? {
            Some(org) if org.role == Role::Operator => org,
            Some(org) => {
                return Err(RegistryError::DataDir {
                    path: data.to_owned(),
                    message: format!(
                        "organisation {:?} is a {}, but the ID is reserved for the registry's monitor; rename that organisation",
                        org.id,
                        org.role.as_str()
                    ),
                });
            }
            None => crate::admin::add_organisation(
                store,
                MONITOR_ORGANISATION,
                MONITOR_NAME,
                Role::Operator,
            )
            .await
            .map_err(|e| RegistryError::Internal(format!("creating the monitor: {e}")))?,
        };
        let record = match store.signing_key(&key_id).await? {
            Some(k) if k.organisation == MONITOR_ORGANISATION => k,
            Some(k) => {
                return Err(RegistryError::Internal(format!(
                    "the monitor's key {key_id} is registered to {}",
                    k.organisation
                )));
            }
            None => crate::admin::add_key(store, MONITOR_ORGANISATION, &public, "registry monitor")
                .await
                .map_err(|e| {
                    RegistryError::Internal(format!("registering the monitor key: {e}"))
                })?,
        };
        Ok(MonitorKey {
            signer,
            key_id,
            organisation,
            record,
        })
    }
}

/// One change a run made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub product_id: String,
    pub version: String,
    /// The conformity attestation it changed.
    pub attestation: String,
    pub status: StatusKind,
    pub trigger: Trigger,
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<jiff::Timestamp>,
    pub log_index: u64,
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Run {
    /// The time the run judged against.
    pub at: Option<jiff::Timestamp>,
    /// Conformity attestations still living that it looked at.
    pub attestations: usize,
    /// SBOMs matched whole (never matched before).
    pub sboms_matched: usize,
    /// SBOMs matched again against the vulnerabilities that changed since the last run.
    pub sboms_rematched: usize,
    /// Living attestations that name an SBOM the registry has not been given.
    pub sboms_missing: usize,
    /// Open vulnerabilities over all living attestations.
    pub open_vulnerabilities: usize,
    pub changes: Vec<Change>,
    /// Changes another run made first (the table refused the repeat).
    pub already_made: usize,
    /// CRA Article 14 cases opened: an actively exploited vulnerability newly found in a
    /// product.
    pub cra_cases_opened: usize,
    /// Where the run's time went.
    pub seconds: RunSeconds,
}

/// Seconds a run spent on each part.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSeconds {
    /// Bringing SBOMs' open vulnerabilities up to date with the vulnerability store.
    pub matching: f64,
    /// Reading attestations, open vulnerabilities and sightings, and deciding.
    pub deciding: f64,
    /// Signing, logging and indexing the changes.
    pub applying: f64,
}

/// What the monitor decides for one attestation from one look.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    status: StatusKind,
    trigger: Trigger,
    reason: String,
    vulnerabilities: Vec<String>,
    deadline: Option<jiff::Timestamp>,
}

/// An open vulnerability in one attested version, with when the monitor first saw it.
#[derive(Debug, Clone)]
struct Open {
    id: String,
    severity: Severity,
    known_exploited: bool,
    first_seen: jiff::Timestamp,
}

fn severity(rating: Rating) -> Severity {
    match rating {
        Rating::Critical => Severity::Critical,
        Rating::High => Severity::High,
        Rating::Medium => Severity::Medium,
        Rating::Low => Severity::Low,
        Rating::None => Severity::None,
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::None => "none",
    }
}

fn severity_from_word(word: &str) -> Severity {
    match word {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        _ => Severity::None,
    }
}

/// The deadline to fix every vulnerability in `open`: the earliest of theirs.
fn deadline(rules: &PostMarket, open: &[Open]) -> Option<jiff::Timestamp> {
    open.iter()
        .map(|o| rules.fix_deadline(o.severity, o.known_exploited, o.first_seen))
        .min()
}

/// Up to `n` IDs, then "and K more".
fn some_ids(ids: &[String], n: usize) -> String {
    let shown: Vec<&str> = ids.iter().take(n).map(String::as_str).collect();
    if ids.len() > n {
        format!("{} and {} more", shown.join(", "), ids.len() - n)
    } else {
        shown.join(", ")
    }
}

/// The one next change `record` needs at `at`, given its `state`, when that state began,
/// its scheme's rules and its open vulnerabilities (`None`: not matched, so the
/// vulnerability rules are left alone).
fn decide(
    record: &Watched,
    state: State,
    since: jiff::Timestamp,
    last_trigger: Option<Trigger>,
    rules: Option<&PostMarket>,
    open: Option<&[Open]>,
    at: jiff::Timestamp,
) -> Option<Decision> {
    let decision = |status, trigger, reason: String| Decision {
        status,
        trigger,
        reason,
        vulnerabilities: Vec::new(),
        deadline: None,
    };
    if matches!(
        state,
        State::Revoked | State::EndOfSupport | State::Withdrawn
    ) {
        return None;
    }
    // Support is declared to the day: it ends as that day ends (UTC).
    if let Some(end) = record.support_end {
        let ended = end
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .is_some_and(|z| z.timestamp() <= at);
        if ended {
            return Some(decision(
                StatusKind::EndOfSupport,
                Trigger::SupportEnded,
                format!("the declared security support period ended on {end}"),
            ));
        }
    }
    if matches!(state, State::Conformant | State::Vulnerable)
        && record.valid_until.is_some_and(|t| t <= at)
    {
        let until = record
            .valid_until
            .map(|t| t.to_string())
            .unwrap_or_default();
        return Some(decision(
            StatusKind::Expiry,
            Trigger::ValidityLapsed,
            format!("the attestation was valid until {until} and was not renewed"),
        ));
    }
    if state == State::Suspended
        && let Some(days) = rules.and_then(|r| r.revoke_after_suspended_days)
        && since
            .checked_add(jiff::SignedDuration::from_hours(24 * i64::from(days)))
            .is_ok_and(|t| t <= at)
    {
        return Some(decision(
            StatusKind::Revocation,
            Trigger::SuspensionOutlasted,
            format!("suspended since {since}, longer than the scheme's {days} days; revoked"),
        ));
    }
    let open = open?;
    let mut ids: Vec<String> = open.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    match state {
        State::Conformant if !open.is_empty() => {
            let due = rules.and_then(|r| deadline(r, open));
            let exploited = open.iter().filter(|o| o.known_exploited).count();
            let mut reason = format!(
                "{} known {} open in the attested components: {}",
                open.len(),
                if open.len() == 1 {
                    "vulnerability is"
                } else {
                    "vulnerabilities are"
                },
                some_ids(&ids, 10)
            );
            if exploited > 0 {
                reason.push_str(&format!("; {exploited} known to be exploited (CISA KEV)"));
            }
            if let Some(due) = due {
                reason.push_str(&format!("; the scheme's deadline to fix is {due}"));
            }
            Some(Decision {
                vulnerabilities: ids,
                deadline: due,
                ..decision(
                    StatusKind::Vulnerable,
                    Trigger::ExploitableVulnerability,
                    reason,
                )
            })
        }
        State::Vulnerable | State::Suspended
            if open.is_empty()
                && (state == State::Vulnerable
                    || last_trigger == Some(Trigger::DeadlineMissed)) =>
        {
            Some(decision(
                StatusKind::Reinstatement,
                Trigger::VulnerabilitiesResolved,
                "no known vulnerability remains open: each was fixed, shown not to apply, or \
                 withdrawn by its source"
                    .to_owned(),
            ))
        }
        State::Vulnerable => {
            let rules = rules?;
            let overdue: Vec<String> = {
                let mut v: Vec<String> = open
                    .iter()
                    .filter(|o| {
                        rules.fix_deadline(o.severity, o.known_exploited, o.first_seen) <= at
                    })
                    .map(|o| o.id.clone())
                    .collect();
                v.sort();
                v
            };
            if overdue.is_empty() {
                return None;
            }
            Some(Decision {
                reason: format!(
                    "the scheme's deadline to fix passed with {} still open: {}",
                    if overdue.len() == 1 {
                        "a vulnerability"
                    } else {
                        "vulnerabilities"
                    },
                    some_ids(&overdue, 10)
                ),
                vulnerabilities: overdue,
                ..decision(
                    StatusKind::Suspension,
                    Trigger::DeadlineMissed,
                    String::new(),
                )
            })
        }
        _ => None,
    }
}

/// Expiry of a label whose scheme's requirements changed after it was issued, once the
/// scheme's days to update the declaration have passed (`lapse`: the change and when).
fn lapsed(
    state: State,
    lapse: Option<&(crate::store::RequirementChange, jiff::Timestamp)>,
    at: jiff::Timestamp,
) -> Option<Decision> {
    let (change, when) = lapse?;
    if !matches!(state, State::Conformant | State::Vulnerable) || *when > at {
        return None;
    }
    Some(Decision {
        status: StatusKind::Expiry,
        trigger: Trigger::ValidityLapsed,
        reason: format!(
            "the scheme's requirements changed on {} ({}), and the declaration was not \
             updated against them by {when}",
            change.changed, change.summary
        ),
        vulnerabilities: Vec::new(),
        deadline: None,
    })
}

/// A status change as the monitor replays it.
#[derive(Debug, Clone, Copy)]
struct Step {
    kind: StatusKind,
    trigger: Option<Trigger>,
    effective: jiff::Timestamp,
}

/// Where an attestation stands at `at` after `steps`: its state, when that state began, and
/// the trigger of the change that put it there.
fn standing_of(
    record: &Watched,
    steps: &[Step],
    at: jiff::Timestamp,
) -> (State, jiff::Timestamp, Option<Trigger>) {
    let mut state = State::Conformant;
    let mut since = record.issued.unwrap_or(record.logged);
    let mut trigger = None;
    for step in steps.iter().filter(|s| s.effective <= at) {
        let after = status::state_after_from(state, step.kind);
        if after != state {
            state = after;
            since = step.effective;
            trigger = step.trigger;
        }
    }
    (state, since, trigger)
}

/// One living attestation the run follows.
#[derive(Debug)]
struct Tracked {
    record: Watched,
    steps: Vec<Step>,
    rules: Option<PostMarket>,
    /// The change of its scheme's requirements it lapses for, and when.
    lapse: Option<(crate::store::RequirementChange, jiff::Timestamp)>,
    /// `None`: no matched SBOM, so the vulnerability rules are left alone.
    open: Option<Vec<Open>>,
}

/// More SBOMs than this to match whole, and the run loads the whole vulnerability store once
/// rather than asking it per SBOM.
const LOAD_WHOLE_STORE_ABOVE: usize = 200;

/// Changes submitted at once: enough to fill the log's batches.
const CHANGES_IN_FLIGHT: usize = 256;

/// The open vulnerabilities among `findings`, each once, with the highest rating any finding
/// gives it and whether any says it is known to be exploited.
fn open_of(findings: &[iotmark_vulns::matching::Finding]) -> BTreeMap<String, OpenVulnerability> {
    let mut out: BTreeMap<String, OpenVulnerability> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.status.is_open()) {
        let entry = out
            .entry(f.vulnerability.clone())
            .or_insert_with(|| OpenVulnerability {
                vulnerability: f.vulnerability.clone(),
                rating: severity_word(Severity::None).to_owned(),
                known_exploited: false,
            });
        let severity = severity_from_word(&entry.rating).max(severity(f.rating));
        entry.rating = severity_word(severity).to_owned();
        entry.known_exploited |= f.known_exploited.is_some();
    }
    out
}

/// What changed between an SBOM's open vulnerabilities before and after a matching that
/// judged `judged` (all of them when `None`).
fn difference(
    sha256: &str,
    full: bool,
    before: Option<&Vec<OpenVulnerability>>,
    after: &BTreeMap<String, OpenVulnerability>,
    judged: Option<&std::collections::BTreeSet<String>>,
) -> MatchedSbom {
    let before: BTreeMap<&str, &OpenVulnerability> = before
        .map(|b| b.iter().map(|o| (o.vulnerability.as_str(), o)).collect())
        .unwrap_or_default();
    let closed = before
        .keys()
        .filter(|v| judged.is_none_or(|j| j.contains(**v)) && !after.contains_key(**v))
        .map(|v| (*v).to_owned())
        .collect();
    let opened = after
        .values()
        .filter(|o| before.get(o.vulnerability.as_str()) != Some(o))
        .cloned()
        .collect();
    MatchedSbom {
        sha256: sha256.to_owned(),
        full,
        closed,
        opened,
    }
}

/// `work` on each of `items`, shared out over every core on a blocking thread (the async
/// runtime keeps serving meanwhile); `None` results are left out.
async fn on_every_core<T, R>(
    items: Vec<T>,
    work: impl Fn(T) -> Option<R> + Send + Sync + 'static,
) -> Result<Vec<R>, RegistryError>
where
    T: Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let share = items.len().div_ceil(threads).max(1);
        let mut shares: Vec<Vec<T>> = Vec::new();
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            shares.push(items.by_ref().take(share).collect());
        }
        let work = &work;
        std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    scope.spawn(move || share.into_iter().filter_map(work).collect::<Vec<R>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| match h.join() {
                    Ok(results) => results,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    })
    .await
    .map_err(|_| RegistryError::ShuttingDown)
}

/// An SBOM document as kept, parsed; one that no longer reads is logged and left out.
fn parse_sbom(sha: &str, text: &str) -> Option<iotmark_vulns::sbom::Sbom> {
    iotmark_vulns::sbom::read_sbom(&format!("sbom {sha}"), text.as_bytes())
        .map_err(|e| tracing::warn!(sbom = %sha, error = %e, "a kept SBOM no longer reads"))
        .ok()
}

impl Registry {
    /// One run of the monitor at `at` (now, outside tests). Runs are one at a time; see the
    /// module's documentation.
    pub async fn monitor(self: &Arc<Self>, at: jiff::Timestamp) -> Result<Run, RegistryError> {
        let _one_at_a_time = self.monitor_lock.lock().await;
        let mut run = Run {
            at: Some(at),
            ..Run::default()
        };
        let clock = std::time::Instant::now();
        if let Some(vulns) = self.vulnerability_store() {
            self.match_sboms(vulns, &mut run).await?;
        }
        run.seconds.matching = clock.elapsed().as_secs_f64();
        let clock = std::time::Instant::now();
        let open_by_sbom = self.store.all_open().await?;
        let sightings = self.store.all_sightings().await?;
        let (watched, changes) = self.store.watched().await?;
        let mut steps_of: HashMap<String, Vec<Step>> = HashMap::new();
        for c in changes {
            steps_of.entry(c.refers_to).or_default().push(Step {
                kind: c.status,
                trigger: c.trigger,
                effective: c.effective,
            });
        }
        let matching = self.vulnerability_store().is_some();
        let requirement_changes = self.store.requirement_changes().await?;
        let mut tracked = Vec::new();
        let mut new_sightings = Vec::new();
        for record in watched {
            let steps = steps_of
                .remove(record.envelope_sha256.as_str())
                .unwrap_or_default();
            let (state, _, _) = standing_of(&record, &steps, at);
            if matches!(
                state,
                State::Revoked | State::EndOfSupport | State::Withdrawn
            ) {
                continue;
            }
            run.attestations += 1;
            let rules = record
                .scheme
                .as_deref()
                .and_then(|id| self.schemes.iter().find(|s| s.id == id))
                .and_then(|s: &Scheme| s.post_market.clone());
            let lapse = crate::renewal::rules(&self.schemes, record.scheme.as_deref())
                .zip(record.scheme.as_deref())
                .and_then(|(renewal, scheme)| {
                    crate::renewal::lapse(
                        renewal,
                        &requirement_changes,
                        scheme,
                        record.issued.unwrap_or(record.logged),
                        at,
                    )
                })
                .map(|(change, when)| (change.clone(), when));
            let open = match &record.sbom_sha256 {
                Some(sha) if matching && record.sbom_matched => {
                    let found = open_by_sbom.get(sha).map(Vec::as_slice).unwrap_or_default();
                    run.open_vulnerabilities += found.len();
                    Some(first_seen(
                        &record,
                        found,
                        sightings.get(&record.envelope_sha256),
                        at,
                        &mut new_sightings,
                    ))
                }
                Some(_) => {
                    run.sboms_missing += 1;
                    None
                }
                None => None,
            };
            tracked.push(Tracked {
                record,
                steps,
                rules,
                lapse,
                open,
            });
        }
        // Before any change they cause: a run killed after this keeps the same deadlines, and
        // the same CRA clocks.
        self.store.add_sightings(&new_sightings).await?;
        let exploited: std::collections::BTreeSet<(String, String)> = tracked
            .iter()
            .flat_map(|t| {
                t.open
                    .iter()
                    .flatten()
                    .filter(|o| o.known_exploited)
                    .map(|o| (t.record.product_id.clone(), o.id.clone()))
            })
            .collect();
        run.cra_cases_opened = self
            .store
            .open_cra_cases(&exploited.into_iter().collect::<Vec<_>>(), at)
            .await?;

        let mut pending: Vec<usize> = (0..tracked.len()).collect();
        let mut applying = std::time::Duration::ZERO;
        for _ in 0..MAX_STEPS {
            let decisions: Vec<(usize, Decision)> = pending
                .iter()
                .filter_map(|&i| {
                    let t = &tracked[i];
                    let (state, since, last) = standing_of(&t.record, &t.steps, at);
                    decide(
                        &t.record,
                        state,
                        since,
                        last,
                        t.rules.as_ref(),
                        t.open.as_deref(),
                        at,
                    )
                    .or_else(|| lapsed(state, t.lapse.as_ref(), at))
                    .map(|d| (i, d))
                })
                .collect();
            if decisions.is_empty() {
                break;
            }
            pending.clear();
            let started = std::time::Instant::now();
            let outcomes = self.apply_all(&tracked, decisions, at).await?;
            applying += started.elapsed();
            for (i, outcome) in outcomes {
                match outcome {
                    Some(change) => {
                        tracked[i].steps.push(Step {
                            kind: change.status,
                            trigger: Some(change.trigger),
                            effective: at,
                        });
                        run.changes.push(change);
                        pending.push(i);
                    }
                    None => run.already_made += 1,
                }
            }
            pending.sort_unstable();
        }
        run.seconds.applying = applying.as_secs_f64();
        run.seconds.deciding = (clock.elapsed() - applying).as_secs_f64();
        run.changes
            .sort_by(|a, b| (a.log_index, &a.attestation).cmp(&(b.log_index, &b.attestation)));
        self.metrics
            .monitor_changes
            .inc_by(run.changes.len() as u64);
        Ok(run)
    }

    /// Brings every kept SBOM's open vulnerabilities up to the vulnerability store's current
    /// generation: SBOMs never matched are matched whole; the others only against the
    /// vulnerabilities the store's journal says changed since the last run, and only when a
    /// component is filed under a key those vulnerabilities' advisories name (or one of them
    /// was open in it). If the store's generation went backwards (another store), everything
    /// is matched again.
    async fn match_sboms(
        &self,
        vulns: &iotmark_vulns::store::Store,
        run: &mut Run,
    ) -> Result<(), RegistryError> {
        let verr = |e: iotmark_vulns::store::StoreError| RegistryError::Vulns(e.to_string());
        let now = vulns.generation().await.map_err(verr)?;
        let last = self.store.monitor_generation().await?;
        if now < last {
            tracing::warn!(
                now,
                last,
                "the vulnerability store is another one, or was reset; matching every SBOM again"
            );
            self.store.forget_matches().await?;
        }
        let before = self.store.all_open().await?;
        let mut matched = Vec::new();

        // SBOMs never matched: whole.
        let unmatched = self.store.unmatched_sboms().await?;
        let fresh: std::collections::HashSet<String> =
            unmatched.iter().map(|(sha, _)| sha.clone()).collect();
        run.sboms_matched += unmatched.len();
        let before = Arc::new(before);
        if unmatched.len() > LOAD_WHOLE_STORE_ABOVE {
            let loaded = self.loaded_vulnerabilities().await?.ok_or_else(|| {
                RegistryError::Internal("the vulnerability store went away".into())
            })?;
            let held = before.clone();
            matched.extend(
                on_every_core(unmatched, move |(sha, text)| {
                    let sbom = parse_sbom(&sha, &text)?;
                    let report = loaded.check(&sha, &sbom, &[]);
                    Some(difference(
                        &sha,
                        true,
                        held.get(&sha),
                        &open_of(&report.findings),
                        None,
                    ))
                })
                .await?,
            );
        } else {
            for (sha, text) in &unmatched {
                let Some(sbom) = parse_sbom(sha, text) else {
                    continue;
                };
                let report = iotmark_vulns::report::check(vulns, sha, &sbom, &[])
                    .await
                    .map_err(verr)?;
                matched.push(difference(
                    sha,
                    true,
                    before.get(sha),
                    &open_of(&report.findings),
                    None,
                ));
            }
        }

        // The others: only what changed since the last run, only where it can reach.
        if now > last && self.store.any_sbom_matched().await? {
            let changed = vulns.changed_since(last).await.map_err(verr)?;
            if !changed.is_empty() {
                let advisories = vulns.advisories_naming(&changed).await.map_err(verr)?;
                let keys: std::collections::BTreeSet<String> = advisories
                    .iter()
                    .flat_map(iotmark_vulns::keys::advisory_keys)
                    .collect();
                let mut reached = self.store.sboms_with_keys(&keys).await?;
                reached.extend(
                    before
                        .iter()
                        .filter(|(_, open)| open.iter().any(|o| changed.contains(&o.vulnerability)))
                        .map(|(sha, _)| sha.clone()),
                );
                // Those matched whole just now are up to date already.
                reached.retain(|sha| !fresh.contains(sha));
                let mut cves: std::collections::BTreeSet<String> = changed
                    .iter()
                    .filter(|id| id.starts_with("CVE-"))
                    .cloned()
                    .collect();
                cves.extend(
                    advisories
                        .iter()
                        .flat_map(|a| std::iter::once(&a.id).chain(&a.aliases))
                        .filter(|id| id.starts_with("CVE-"))
                        .cloned(),
                );
                let known_exploited = vulns.known_exploited(&cves).await.map_err(verr)?;
                let triage = vulns.triage().await.map_err(verr)?;
                let index = iotmark_vulns::matching::Index::new(advisories);
                let documents = self.store.sbom_documents(&reached).await?;
                let (held, changed) = (before.clone(), Arc::new(changed));
                matched.extend(
                    on_every_core(documents, move |(sha, text)| {
                        let sbom = parse_sbom(&sha, &text)?;
                        let findings = index.check(&sbom.components, &known_exploited, &triage);
                        let open = open_of(&findings);
                        Some(difference(
                            &sha,
                            false,
                            held.get(&sha),
                            &open,
                            Some(&changed),
                        ))
                    })
                    .await?,
                );
                run.sboms_rematched += reached.len();
            }
        }
        self.store.record_matches(&matched, now).await?;
        Ok(())
    }

    /// Submits `decisions` a few hundred at a time, so the log writes them in shared
    /// batches; each outcome is the change made, or `None` when another run made it first.
    async fn apply_all(
        self: &Arc<Self>,
        tracked: &[Tracked],
        decisions: Vec<(usize, Decision)>,
        at: jiff::Timestamp,
    ) -> Result<Vec<(usize, Option<Change>)>, RegistryError> {
        let mut tasks = tokio::task::JoinSet::new();
        let mut out = Vec::with_capacity(decisions.len());
        for (i, d) in decisions {
            if tasks.len() >= CHANGES_IN_FLIGHT
                && let Some(done) = tasks.join_next().await
            {
                out.push(done.map_err(|_| RegistryError::ShuttingDown)??);
            }
            let registry = self.clone();
            let record = tracked[i].record.clone();
            tasks.spawn(async move {
                Ok::<_, RegistryError>((i, registry.apply(&record, &d, at).await?))
            });
        }
        while let Some(done) = tasks.join_next().await {
            out.push(done.map_err(|_| RegistryError::ShuttingDown)??);
        }
        Ok(out)
    }

    /// Signs and submits one change; `None` when the table refuses it because another run
    /// made it first.
    async fn apply(
        &self,
        record: &Watched,
        d: &Decision,
        at: jiff::Timestamp,
    ) -> Result<Option<Change>, RegistryError> {
        let details = StatusDetails {
            trigger: Some(d.trigger),
            vulnerabilities: d.vulnerabilities.clone(),
            deadline: d.deadline,
        };
        match self
            .sign_change(
                &record.envelope_sha256,
                d.status,
                &d.reason,
                at,
                details,
                crate::service::ReceiptWanted::No,
            )
            .await
        {
            Ok(receipted) => Ok(Some(Change {
                product_id: record.product_id.clone(),
                version: record.version.clone(),
                attestation: record.envelope_sha256.clone(),
                status: d.status,
                trigger: d.trigger,
                reason: d.reason.clone(),
                vulnerabilities: d.vulnerabilities.clone(),
                deadline: d.deadline,
                log_index: receipted.log_index,
            })),
            Err(RegistryError::Refused(r)) if r.rule == Rule::State => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Signs a status change of the logged conformity attestation `envelope_sha256` with
    /// the registry's key, effective `at`, and submits it like any other: the same rules,
    /// the log, the indexer.
    pub(crate) async fn sign_change(
        &self,
        envelope_sha256: &str,
        status: StatusKind,
        reason: &str,
        at: jiff::Timestamp,
        details: StatusDetails,
        receipt: crate::service::ReceiptWanted,
    ) -> Result<crate::service::Receipted, RegistryError> {
        let envelope = self.envelope(envelope_sha256)?.ok_or_else(|| {
            RegistryError::Internal(format!(
                "the log holds no envelope {envelope_sha256} though the database records it"
            ))
        })?;
        let parsed = iotmark_attest::dsse::Envelope::parse(&envelope)
            .map_err(|e| RegistryError::Internal(format!("logged envelope: {e}")))?;
        let original = Statement::parse(&parsed.payload)
            .map_err(|e| RegistryError::Internal(format!("logged statement: {e}")))?;
        let monitor = &self.monitor_key;
        let statement = status_statement_with(
            &envelope,
            original.subject,
            status,
            reason,
            at,
            at,
            Party {
                organisation: monitor.organisation.name.clone(),
                key_id: monitor.key_id.clone(),
            },
            details,
        )
        .map_err(|e| RegistryError::Internal(format!("the registry's statement: {e}")))?;
        let signed = iotmark_attest::sign_statement(&statement, &monitor.signer)
            .map_err(|e| RegistryError::Internal(format!("signing: {e}")))?
            .to_json();
        self.submit_as(&monitor.organisation, signed.as_bytes(), None, receipt)
            .await
    }
}

/// The open vulnerabilities of `record`'s SBOM with when each was first seen in it; ones
/// never seen are added to `new` as seen at `at`.
fn first_seen(
    record: &Watched,
    found: &[OpenVulnerability],
    seen: Option<&Vec<Sighting>>,
    at: jiff::Timestamp,
    new: &mut Vec<(String, Sighting)>,
) -> Vec<Open> {
    let known: HashMap<&str, &Sighting> = seen
        .map(|s| s.iter().map(|s| (s.vulnerability.as_str(), s)).collect())
        .unwrap_or_default();
    found
        .iter()
        .map(|o| {
            let severity = severity_from_word(&o.rating);
            let recorded = known.get(o.vulnerability.as_str());
            if recorded.is_none() {
                new.push((
                    record.envelope_sha256.clone(),
                    Sighting {
                        vulnerability: o.vulnerability.clone(),
                        first_seen: at,
                        rating: o.rating.clone(),
                        known_exploited: o.known_exploited,
                    },
                ));
            }
            // A rating raised since (a new score, a KEV listing) counts from the first
            // sighting: the later of the two readings is the one in force.
            Open {
                id: o.vulnerability.clone(),
                severity: recorded
                    .map_or(severity, |s| severity_from_word(&s.rating).max(severity)),
                known_exploited: o.known_exploited || recorded.is_some_and(|s| s.known_exploited),
                first_seen: recorded.map_or(at, |s| s.first_seen),
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use iotmark_lifecycle::rules::FixWithinDays;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn rules() -> PostMarket {
        PostMarket {
            fix_within_days: FixWithinDays {
                known_exploited: 14,
                critical: 30,
                high: 60,
                medium: 90,
                low: 180,
            },
            revoke_after_suspended_days: Some(90),
            renewal: None,
        }
    }

    fn record() -> Watched {
        Watched {
            envelope_sha256: "e".into(),
            product_id: "p".into(),
            version: "1.0".into(),
            scheme: Some("s".into()),
            issued: Some(ts("2026-01-01T00:00:00Z")),
            logged: ts("2026-01-01T00:00:00Z"),
            valid_until: Some(ts("2028-01-01T00:00:00Z")),
            support_end: Some("2027-06-30".parse().unwrap()),
            sbom_sha256: None,
            sbom_matched: false,
        }
    }

    fn open(id: &str, severity: Severity, kev: bool, seen: &str) -> Open {
        Open {
            id: id.into(),
            severity,
            known_exploited: kev,
            first_seen: ts(seen),
        }
    }

    #[test]
    fn a_known_exploited_vulnerability_gets_the_shorter_deadline_and_then_suspends() {
        let r = record();
        let rules = rules();
        let found = [
            open("CVE-2024-2", Severity::High, false, "2026-03-01T00:00:00Z"),
            open("CVE-2024-1", Severity::Medium, true, "2026-03-01T00:00:00Z"),
        ];
        let at = ts("2026-03-01T00:00:00Z");
        let d = decide(
            &r,
            State::Conformant,
            at,
            None,
            Some(&rules),
            Some(&found),
            at,
        )
        .unwrap();
        assert_eq!(d.status, StatusKind::Vulnerable);
        assert_eq!(d.vulnerabilities, ["CVE-2024-1", "CVE-2024-2"]);
        assert_eq!(d.deadline, Some(ts("2026-03-15T00:00:00Z")), "KEV: 14 days");
        // Within the deadline nothing changes; after it, only the overdue one is named.
        let before = ts("2026-03-14T23:59:59Z");
        assert_eq!(
            decide(
                &r,
                State::Vulnerable,
                at,
                None,
                Some(&rules),
                Some(&found),
                before
            ),
            None
        );
        let after = ts("2026-03-15T00:00:00Z");
        let d = decide(
            &r,
            State::Vulnerable,
            at,
            None,
            Some(&rules),
            Some(&found),
            after,
        )
        .unwrap();
        assert_eq!(
            (d.status, d.trigger),
            (StatusKind::Suspension, Trigger::DeadlineMissed)
        );
        assert_eq!(d.vulnerabilities, ["CVE-2024-1"]);
    }

    #[test]
    fn resolved_vulnerabilities_lift_only_the_monitors_own_suspension() {
        let r = record();
        let rules = rules();
        let at = ts("2026-04-01T00:00:00Z");
        let since = ts("2026-03-20T00:00:00Z");
        let d = decide(
            &r,
            State::Suspended,
            since,
            Some(Trigger::DeadlineMissed),
            Some(&rules),
            Some(&[]),
            at,
        )
        .unwrap();
        assert_eq!(
            (d.status, d.trigger),
            (StatusKind::Reinstatement, Trigger::VulnerabilitiesResolved)
        );
        // An operator's suspension is theirs to lift.
        assert_eq!(
            decide(
                &r,
                State::Suspended,
                since,
                Some(Trigger::Suspend),
                Some(&rules),
                Some(&[]),
                at
            ),
            None
        );
        // Unmatched (no SBOM): the vulnerability rules are left alone.
        assert_eq!(
            decide(&r, State::Vulnerable, since, None, Some(&rules), None, at),
            None
        );
    }

    #[test]
    fn clocks_end_support_expire_and_revoke() {
        let r = record();
        let rules = rules();
        let d = decide(
            &r,
            State::Vulnerable,
            ts("2026-01-01T00:00:00Z"),
            None,
            Some(&rules),
            None,
            ts("2027-06-30T23:59:59Z"),
        );
        assert_eq!(d, None, "support lasts to the end of the declared day");
        let d = decide(
            &r,
            State::Vulnerable,
            ts("2026-01-01T00:00:00Z"),
            None,
            Some(&rules),
            None,
            ts("2027-07-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(d.status, StatusKind::EndOfSupport);
        let mut long = record();
        long.support_end = None;
        let d = decide(
            &long,
            State::Conformant,
            ts("2026-01-01T00:00:00Z"),
            None,
            Some(&rules),
            None,
            ts("2028-01-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (d.status, d.trigger),
            (StatusKind::Expiry, Trigger::ValidityLapsed)
        );
        let since = ts("2026-05-01T00:00:00Z");
        assert_eq!(
            decide(
                &long,
                State::Suspended,
                since,
                Some(Trigger::Suspend),
                Some(&rules),
                None,
                ts("2026-07-29T23:59:59Z")
            ),
            None
        );
        let d = decide(
            &long,
            State::Suspended,
            since,
            Some(Trigger::Suspend),
            Some(&rules),
            None,
            ts("2026-07-30T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (d.status, d.trigger),
            (StatusKind::Revocation, Trigger::SuspensionOutlasted)
        );
        assert_eq!(
            decide(
                &long,
                State::Revoked,
                since,
                None,
                Some(&rules),
                Some(&[]),
                ts("2030-01-01T00:00:00Z")
            ),
            None,
            "final states stay"
        );
    }
}
