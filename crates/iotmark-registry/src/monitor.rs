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
use iotmark_vulns::model::Rating;
use iotmark_vulns::report::Loaded;
use serde::Serialize;

use crate::accept::Rule;
use crate::service::{Registry, RegistryError};
use crate::status;
use crate::store::{AttestationRecord, EntryKind, Organisation, Role, Sighting, Store};

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
        match store.signing_key(&key_id).await? {
            Some(k) if k.organisation == MONITOR_ORGANISATION => {}
            Some(k) => {
                return Err(RegistryError::Internal(format!(
                    "the monitor's key {key_id} is registered to {}",
                    k.organisation
                )));
            }
            None => {
                crate::admin::add_key(store, MONITOR_ORGANISATION, &public, "registry monitor")
                    .await
                    .map_err(|e| {
                        RegistryError::Internal(format!("registering the monitor key: {e}"))
                    })?;
            }
        }
        Ok(MonitorKey {
            signer,
            key_id,
            organisation,
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
    /// Of those, the ones whose SBOM it matched.
    pub sboms_matched: usize,
    /// Living attestations that name an SBOM the registry has not been given.
    pub sboms_missing: usize,
    /// Open vulnerabilities over all matched SBOMs.
    pub open_vulnerabilities: usize,
    pub changes: Vec<Change>,
    /// Changes another run made first (the table refused the repeat).
    pub already_made: usize,
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
    record: &AttestationRecord,
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

/// Where `record` stands at `at`: its state, when that state began, and the trigger of the
/// change that put it there.
fn standing_of(
    record: &AttestationRecord,
    changes: &[&AttestationRecord],
    at: jiff::Timestamp,
) -> (State, jiff::Timestamp, Option<Trigger>) {
    let mut state = State::Conformant;
    let mut since = record.issued.unwrap_or(record.logged);
    let mut trigger = None;
    for c in changes
        .iter()
        .filter(|c| c.effective.is_some_and(|t| t <= at))
    {
        let Some(kind) = c.status else { continue };
        let after = status::state_after_from(state, kind);
        if after != state {
            state = after;
            since = c.effective.unwrap_or(c.logged);
            trigger = c.trigger;
        }
    }
    (state, since, trigger)
}

impl Registry {
    /// One run of the monitor at `at` (now, outside tests), matching SBOMs against `vulns`
    /// when given. Runs are one at a time; see the module's documentation.
    pub async fn monitor(
        &self,
        vulns: Option<&Loaded>,
        at: jiff::Timestamp,
    ) -> Result<Run, RegistryError> {
        let _one_at_a_time = self.monitor_lock.lock().await;
        let all = self.store.all_attestations().await?;
        let mut changes_of: HashMap<&str, Vec<&AttestationRecord>> = HashMap::new();
        for r in all.iter().filter(|r| r.kind == EntryKind::Status) {
            if let Some(target) = r.refers_to.as_deref() {
                changes_of.entry(target).or_default().push(r);
            }
        }
        let sightings = self.store.all_sightings().await?;
        let mut sbom_cache: BTreeMap<String, Option<iotmark_vulns::sbom::Sbom>> = BTreeMap::new();
        let mut run = Run {
            at: Some(at),
            ..Run::default()
        };
        for record in all.iter().filter(|r| r.kind == EntryKind::Conformity) {
            let changes = changes_of
                .get(record.envelope_sha256.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let (state, _, _) = standing_of(record, changes, at);
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
                .and_then(|s: &Scheme| s.post_market.as_ref());
            let open = match (vulns, &record.sbom_sha256) {
                (Some(loaded), Some(sha)) => {
                    let sbom = match sbom_cache.get(sha) {
                        Some(s) => s.clone(),
                        None => {
                            let parsed = self.store.sbom(sha).await?.and_then(|text| {
                                iotmark_vulns::sbom::read_sbom(&format!("sbom {sha}"), text.as_bytes())
                                    .map_err(|e| {
                                        tracing::warn!(sbom = %sha, error = %e, "a kept SBOM no longer reads");
                                    })
                                    .ok()
                            });
                            sbom_cache.insert(sha.clone(), parsed.clone());
                            parsed
                        }
                    };
                    match sbom {
                        Some(sbom) => {
                            run.sboms_matched += 1;
                            Some(
                                self.open_vulnerabilities(
                                    loaded,
                                    &sbom,
                                    record,
                                    sightings.get(&record.envelope_sha256),
                                    at,
                                )
                                .await?,
                            )
                        }
                        None => {
                            run.sboms_missing += 1;
                            None
                        }
                    }
                }
                _ => None,
            };
            run.open_vulnerabilities += open.as_ref().map_or(0, Vec::len);
            let mut made: Vec<AttestationRecord> = Vec::new();
            for _ in 0..MAX_STEPS {
                let mut all_changes: Vec<&AttestationRecord> = changes.to_vec();
                all_changes.extend(made.iter());
                let (state, since, last_trigger) = standing_of(record, &all_changes, at);
                let Some(d) = decide(
                    record,
                    state,
                    since,
                    last_trigger,
                    rules,
                    open.as_deref(),
                    at,
                ) else {
                    break;
                };
                match self.apply(record, &d, at).await? {
                    Some(change) => {
                        made.push(AttestationRecord {
                            kind: EntryKind::Status,
                            refers_to: Some(record.envelope_sha256.clone()),
                            status: Some(d.status),
                            trigger: Some(d.trigger),
                            effective: Some(at),
                            log_index: change.log_index,
                            ..record.clone()
                        });
                        run.changes.push(change);
                    }
                    None => {
                        run.already_made += 1;
                        break;
                    }
                }
            }
        }
        self.metrics
            .monitor_changes
            .inc_by(run.changes.len() as u64);
        Ok(run)
    }

    /// The open vulnerabilities of `record`'s SBOM, each with when it was first seen (new
    /// ones are recorded as seen at `at`, before any change they cause).
    async fn open_vulnerabilities(
        &self,
        loaded: &Loaded,
        sbom: &iotmark_vulns::sbom::Sbom,
        record: &AttestationRecord,
        seen: Option<&Vec<Sighting>>,
        at: jiff::Timestamp,
    ) -> Result<Vec<Open>, RegistryError> {
        let report = loaded.check(&record.envelope_sha256, sbom, &[]);
        let mut by_id: BTreeMap<String, (Severity, bool)> = BTreeMap::new();
        for f in report.open() {
            let entry = by_id
                .entry(f.vulnerability.clone())
                .or_insert((Severity::None, false));
            entry.0 = entry.0.max(severity(f.rating));
            entry.1 |= f.known_exploited.is_some();
        }
        let known: HashMap<&str, &Sighting> = seen
            .map(|s| s.iter().map(|s| (s.vulnerability.as_str(), s)).collect())
            .unwrap_or_default();
        let mut new = Vec::new();
        let mut open = Vec::with_capacity(by_id.len());
        for (id, (severity, known_exploited)) in by_id {
            let first_seen = match known.get(id.as_str()) {
                Some(s) => s.first_seen,
                None => {
                    new.push((
                        record.envelope_sha256.clone(),
                        Sighting {
                            vulnerability: id.clone(),
                            first_seen: at,
                            rating: severity_word(severity).to_owned(),
                            known_exploited,
                        },
                    ));
                    at
                }
            };
            // A rating raised since (a new score, a KEV listing) counts from the first
            // sighting: the later of the two readings is the one in force.
            let recorded = known.get(id.as_str());
            open.push(Open {
                severity: recorded
                    .map_or(severity, |s| severity_from_word(&s.rating).max(severity)),
                known_exploited: known_exploited || recorded.is_some_and(|s| s.known_exploited),
                id,
                first_seen,
            });
        }
        self.store.add_sightings(&new).await?;
        Ok(open)
    }

    /// Signs and submits one change; `None` when the table refuses it because another run
    /// made it first.
    async fn apply(
        &self,
        record: &AttestationRecord,
        d: &Decision,
        at: jiff::Timestamp,
    ) -> Result<Option<Change>, RegistryError> {
        let envelope = self.envelope(&record.envelope_sha256)?.ok_or_else(|| {
            RegistryError::Internal(format!(
                "the log holds no envelope {} though the database records it",
                record.envelope_sha256
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
            d.status,
            &d.reason,
            at,
            at,
            Party {
                organisation: monitor.organisation.name.clone(),
                key_id: monitor.key_id.clone(),
            },
            StatusDetails {
                trigger: Some(d.trigger),
                vulnerabilities: d.vulnerabilities.clone(),
                deadline: d.deadline,
            },
        )
        .map_err(|e| RegistryError::Internal(format!("the monitor's statement: {e}")))?;
        let signed = iotmark_attest::sign_statement(&statement, &monitor.signer)
            .map_err(|e| RegistryError::Internal(format!("signing: {e}")))?
            .to_json();
        match self
            .submit(&monitor.organisation, signed.as_bytes(), None)
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

    fn record() -> AttestationRecord {
        AttestationRecord {
            envelope_sha256: "e".into(),
            statement_sha256: "s".into(),
            kind: EntryKind::Conformity,
            log_index: 0,
            logged: ts("2026-01-01T00:00:00Z"),
            submitted_by: "acme".into(),
            signer_key_id: "k".into(),
            product_id: "p".into(),
            version: "1.0".into(),
            scheme: Some("s".into()),
            tier: None,
            route: None,
            issued: Some(ts("2026-01-01T00:00:00Z")),
            valid_until: Some(ts("2028-01-01T00:00:00Z")),
            support_end: Some("2027-06-30".parse().unwrap()),
            refers_to: None,
            status: None,
            reason: None,
            effective: None,
            trigger: None,
            vulnerabilities: Vec::new(),
            deadline: None,
            sbom_sha256: None,
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
