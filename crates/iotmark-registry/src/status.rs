//! Whether a conformity attestation holds now, from its record and its status changes: what
//! the product page, the API and the search results say.

use serde::Serialize;

use iotmark_attest::statement::StatusKind;
use iotmark_lifecycle::machine::{self, Actor, State};

use crate::store::{AttestationRecord, EntryKind};

/// The standing of one conformity attestation at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Standing {
    /// Within its validity period, and nothing suspended, revoked or ended it.
    Valid,
    NotYetValid,
    Expired,
    Suspended,
    Revoked,
    EndOfSupport,
    /// A known exploitable vulnerability in an attested component is open; the scheme's
    /// deadline to fix it runs.
    Vulnerable,
    /// The manufacturer marked the version invalid.
    Withdrawn,
}

impl Standing {
    /// Plain words for a consumer.
    pub fn describe(self) -> &'static str {
        match self {
            Standing::Valid => "holds",
            Standing::NotYetValid => "is not valid yet",
            Standing::Expired => "has expired",
            Standing::Suspended => "is suspended",
            Standing::Revoked => "was revoked",
            Standing::EndOfSupport => "ended with the end of security support",
            Standing::Vulnerable => "does not hold while a known vulnerability is open",
            Standing::Withdrawn => "was withdrawn by the manufacturer",
        }
    }

    pub fn holds(self) -> bool {
        self == Standing::Valid
    }
}

/// The lifecycle actor an organisation of `role` is.
pub(crate) fn actor_of(role: crate::store::Role) -> Actor {
    match role {
        crate::store::Role::Manufacturer => Actor::Manufacturer,
        crate::store::Role::Lab => Actor::Lab,
        crate::store::Role::Operator => Actor::Operator,
    }
}

/// The lifecycle state a conformity attestation reaches through its status `changes` (in log
/// order), as `iotmark_lifecycle::machine` says. What each change records decides where it
/// leads (every record leads to one state), so older changes logged without their trigger
/// replay the same way.
pub(crate) fn state_after(changes: impl IntoIterator<Item = StatusKind>) -> State {
    machine::replay_records(
        State::Conformant,
        changes.into_iter().map(StatusKind::record),
    )
}

/// The state one more status change of `kind` leads to from `state`.
pub(crate) fn state_after_from(state: State, kind: StatusKind) -> State {
    machine::replay_records(state, [kind.record()])
}

/// The standing of `attestation` at `now`, given every record of its product (in log order);
/// only status changes that refer to it and are effective at `now` count, replayed through
/// the lifecycle table: revocation and end of support are final; a suspension holds until a
/// later reinstatement.
pub fn standing(
    attestation: &AttestationRecord,
    history: &[AttestationRecord],
    now: jiff::Timestamp,
) -> Standing {
    let changes = history
        .iter()
        .filter(|r| {
            r.kind == EntryKind::Status
                && r.refers_to.as_deref() == Some(attestation.envelope_sha256.as_str())
                && r.effective.is_some_and(|t| t <= now)
        })
        .filter_map(|r| r.status);
    match state_after(changes) {
        State::Revoked => return Standing::Revoked,
        State::EndOfSupport => return Standing::EndOfSupport,
        State::Suspended => return Standing::Suspended,
        State::Vulnerable => return Standing::Vulnerable,
        State::Withdrawn => return Standing::Withdrawn,
        State::Expired => return Standing::Expired,
        State::Conformant | State::Unassessed => {}
    }
    if attestation.issued.is_some_and(|t| t > now) {
        return Standing::NotYetValid;
    }
    if attestation.valid_until.is_some_and(|t| t <= now) {
        return Standing::Expired;
    }
    Standing::Valid
}

/// Whether a conformity attestation of the product covers the announced version's image
/// (by digest, whatever version label it was attested under).
pub fn assessed(
    announcement: &crate::store::Announcement,
    versions: &[crate::store::ProductVersion],
) -> bool {
    versions
        .iter()
        .flat_map(|v| &v.images)
        .any(|i| i.sha256 == announcement.image_sha256)
}

/// The first moment after `now` at which something in `history` starts or stops holding:
/// until then, what a product's page and API answer say does not change by itself.
pub fn next_change(history: &[AttestationRecord], now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    history
        .iter()
        .flat_map(|r| [r.issued, r.valid_until, r.effective])
        .flatten()
        .filter(|t| *t > now)
        .min()
}

/// The attestation that speaks for `version` now: the newest conformity attestation of that
/// version that holds, else the newest one whatever its standing.
pub fn current<'a>(
    version: &str,
    history: &'a [AttestationRecord],
    now: jiff::Timestamp,
) -> Option<(&'a AttestationRecord, Standing)> {
    let mut newest = None;
    for r in history
        .iter()
        .rev()
        .filter(|r| r.kind == EntryKind::Conformity && r.version == version)
    {
        let s = standing(r, history, now);
        if s.holds() {
            return Some((r, s));
        }
        newest.get_or_insert((r, s));
    }
    newest
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use iotmark_attest::statement::Route;

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn conformity(sha: &str, index: u64, until: &str) -> AttestationRecord {
        AttestationRecord {
            envelope_sha256: sha.to_owned(),
            statement_sha256: format!("s{sha}"),
            kind: EntryKind::Conformity,
            log_index: index,
            logged: ts("2026-01-01T00:00:00Z"),
            submitted_by: "acme".to_owned(),
            signer_key_id: "k".to_owned(),
            product_id: "p".to_owned(),
            version: "1.0".to_owned(),
            scheme: Some("s".to_owned()),
            tier: Some("t".to_owned()),
            route: Some(Route::Sdoc),
            issued: Some(ts("2026-01-01T00:00:00Z")),
            valid_until: Some(ts(until)),
            support_end: None,
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

    fn change(refers: &str, index: u64, status: StatusKind, effective: &str) -> AttestationRecord {
        AttestationRecord {
            kind: EntryKind::Status,
            refers_to: Some(refers.to_owned()),
            status: Some(status),
            reason: Some("r".to_owned()),
            effective: Some(ts(effective)),
            scheme: None,
            tier: None,
            route: None,
            issued: None,
            valid_until: None,
            ..conformity(&format!("c{index}"), index, "2030-01-01T00:00:00Z")
        }
    }

    #[test]
    fn suspension_reinstatement_revocation_and_expiry() {
        let a = conformity("a", 0, "2028-01-01T00:00:00Z");
        let mut history = vec![a.clone()];
        assert_eq!(
            standing(&a, &history, ts("2027-01-01T00:00:00Z")),
            Standing::Valid
        );
        assert_eq!(
            standing(&a, &history, ts("2028-01-01T00:00:00Z")),
            Standing::Expired
        );
        assert_eq!(
            standing(&a, &history, ts("2025-12-31T00:00:00Z")),
            Standing::NotYetValid
        );
        history.push(change(
            "a",
            1,
            StatusKind::Suspension,
            "2026-06-01T00:00:00Z",
        ));
        assert_eq!(
            standing(&a, &history, ts("2026-05-31T00:00:00Z")),
            Standing::Valid
        );
        assert_eq!(
            standing(&a, &history, ts("2026-06-02T00:00:00Z")),
            Standing::Suspended
        );
        history.push(change(
            "a",
            2,
            StatusKind::Reinstatement,
            "2026-07-01T00:00:00Z",
        ));
        assert_eq!(
            standing(&a, &history, ts("2026-07-02T00:00:00Z")),
            Standing::Valid
        );
        // A change to another attestation does not count.
        history.push(change(
            "zzz",
            3,
            StatusKind::Revocation,
            "2026-08-01T00:00:00Z",
        ));
        assert_eq!(
            standing(&a, &history, ts("2026-08-02T00:00:00Z")),
            Standing::Valid
        );
        history.push(change(
            "a",
            4,
            StatusKind::Revocation,
            "2026-09-01T00:00:00Z",
        ));
        assert_eq!(
            standing(&a, &history, ts("2026-09-02T00:00:00Z")),
            Standing::Revoked
        );
        // Only an upheld appeal reinstates a revoked attestation: the registry accepts that
        // reinstatement from the operator alone, so one in the log lifts the revocation.
        history.push(change(
            "a",
            5,
            StatusKind::Reinstatement,
            "2026-09-10T00:00:00Z",
        ));
        assert_eq!(
            standing(&a, &history, ts("2026-10-01T00:00:00Z")),
            Standing::Valid,
            "an appeal upheld"
        );
    }

    #[test]
    fn the_current_attestation_prefers_one_that_holds() {
        let old = conformity("old", 0, "2030-01-01T00:00:00Z");
        let new = conformity("new", 1, "2030-01-01T00:00:00Z");
        let mut history = vec![old, new];
        let now = ts("2027-01-01T00:00:00Z");
        assert_eq!(
            current("1.0", &history, now).unwrap().0.envelope_sha256,
            "new"
        );
        history.push(change(
            "new",
            2,
            StatusKind::Revocation,
            "2026-12-01T00:00:00Z",
        ));
        let (r, s) = current("1.0", &history, now).unwrap();
        assert_eq!((r.envelope_sha256.as_str(), s), ("old", Standing::Valid));
        assert!(current("2.0", &history, now).is_none());
    }
}
