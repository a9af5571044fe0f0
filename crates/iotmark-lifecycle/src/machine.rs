//! The states of a product version and the one table of transitions between them.
//!
//! Every change of a version's standing is one row of [`TRANSITIONS`]: the states it may
//! start from, what triggers it, who may cause it, where it leads and what it records.
//! [`next`] is the one check of a change: the registry checks every status change it is sent
//! with it, and gives an attestation's standing by [`replay`]ing its logged changes; the
//! monitor (issue 15) is to cause its own transitions through it too.

use serde::{Deserialize, Serialize};

/// Where a product version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Announced by its manufacturer or seen in the field, and no conformity attestation
    /// covers its image digest.
    Unassessed,
    /// A declaration of conformity or a certification covers it, and nothing since says
    /// otherwise.
    Conformant,
    /// A known exploitable vulnerability in an attested component is neither fixed nor shown
    /// not to apply; the scheme's deadline to fix it runs.
    Vulnerable,
    /// Not valid until reinstated: the deadline to fix passed.
    Suspended,
    /// Not valid again, unless the operator upholds an appeal.
    Revoked,
    /// Its validity ended without renewal, or its requirements changed and it was not
    /// brought up to date in time.
    Expired,
    /// The declared end of security support passed. Final.
    EndOfSupport,
    /// The manufacturer marked the version invalid (the Matter ledger's
    /// `softwareVersionValid: false`). Final.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Unassessed,
        State::Conformant,
        State::Vulnerable,
        State::Suspended,
        State::Revoked,
        State::Expired,
        State::EndOfSupport,
        State::Withdrawn,
    ];

    /// Whether a buyer or consumer may rely on the version's attestation.
    pub fn holds(self) -> bool {
        self == State::Conformant
    }

    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassessed => "unassessed",
            State::Conformant => "conformant",
            State::Vulnerable => "vulnerable",
            State::Suspended => "suspended",
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::EndOfSupport => "end-of-support",
            State::Withdrawn => "withdrawn",
        }
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What sets a transition off.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// A conformity attestation covering the version's image digest was accepted: its first,
    /// or one that renews its validity.
    Attested,
    /// The monitor found a known exploitable vulnerability in an attested component, not
    /// fixed and not shown not to apply by a VEX statement.
    ExploitableVulnerability,
    /// No known exploitable vulnerability remains: each was fixed in the shipped version,
    /// shown not to apply, or withdrawn by its source. From `suspended`, this lifts only a
    /// suspension the monitor made for a missed deadline; the registry keeps each
    /// suspension's cause.
    VulnerabilitiesResolved,
    /// The scheme's deadline to fix passed while the version was vulnerable.
    DeadlineMissed,
    /// The attestation's issuer or the operator suspends it (a complaint under
    /// investigation, a lab's finding).
    Suspend,
    /// The issuer or the operator lifts a suspension they made.
    LiftSuspension,
    /// The version stayed suspended as long as the scheme allows.
    SuspensionOutlasted,
    /// The issuer or the operator revokes: a false statement, or non-conformity found by
    /// surveillance.
    Revoke,
    /// The operator upholds the manufacturer's appeal against a suspension or revocation.
    AppealUpheld,
    /// The operator dismisses the manufacturer's appeal: the suspension or revocation
    /// stands, and the decision is logged as a record of it again, with the reasons.
    AppealDismissed,
    /// The declared end of the support period passed.
    SupportEnded,
    /// The validity period ended without renewal, or the window after a change of the
    /// requirements passed without an updated attestation.
    ValidityLapsed,
    /// The manufacturer marks the version invalid.
    WithdrawnByManufacturer,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Attested => "attested",
            Trigger::ExploitableVulnerability => "exploitable-vulnerability",
            Trigger::VulnerabilitiesResolved => "vulnerabilities-resolved",
            Trigger::DeadlineMissed => "deadline-missed",
            Trigger::Suspend => "suspend",
            Trigger::LiftSuspension => "lift-suspension",
            Trigger::SuspensionOutlasted => "suspension-outlasted",
            Trigger::Revoke => "revoke",
            Trigger::AppealUpheld => "appeal-upheld",
            Trigger::AppealDismissed => "appeal-dismissed",
            Trigger::SupportEnded => "support-ended",
            Trigger::ValidityLapsed => "validity-lapsed",
            Trigger::WithdrawnByManufacturer => "withdrawn-by-manufacturer",
        }
    }
}

impl std::str::FromStr for Trigger {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TRANSITIONS
            .iter()
            .map(|t| t.trigger)
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let words: Vec<&str> = TRANSITIONS.iter().map(|t| t.trigger.as_str()).collect();
                format!("{s:?} is not a lifecycle trigger ({})", words.join(", "))
            })
    }
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who causes a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Actor {
    /// The manufacturer, signing with its organisation's key.
    Manufacturer,
    /// A recognised test lab, on the certification route.
    Lab,
    /// The registry's monitor, acting on vulnerability data and clocks.
    Monitor,
    /// The registry's operator: the scheme owner or its delegate.
    Operator,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Manufacturer => "manufacturer",
            Actor::Lab => "lab",
            Actor::Monitor => "monitor",
            Actor::Operator => "operator",
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a transition writes to the log: the conformity attestation that caused it, or the
/// status change the registry signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Record {
    /// The accepted conformity attestation itself.
    Conformity,
    Vulnerable,
    Suspension,
    Revocation,
    Reinstatement,
    Expiry,
    EndOfSupport,
    Withdrawal,
}

impl Record {
    pub fn as_str(self) -> &'static str {
        match self {
            Record::Conformity => "conformity",
            Record::Vulnerable => "vulnerable",
            Record::Suspension => "suspension",
            Record::Revocation => "revocation",
            Record::Reinstatement => "reinstatement",
            Record::Expiry => "expiry",
            Record::EndOfSupport => "end-of-support",
            Record::Withdrawal => "withdrawal",
        }
    }
}

/// One row of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: &'static [State],
    pub trigger: Trigger,
    pub by: &'static [Actor],
    pub to: State,
    pub records: Record,
}

/// States a version still lives in (not revoked, ended, or withdrawn).
const LIVING: &[State] = &[
    State::Unassessed,
    State::Conformant,
    State::Vulnerable,
    State::Suspended,
    State::Expired,
];

/// Who issued an attestation (its manufacturer or lab), or the operator.
const ISSUER_OR_OPERATOR: &[Actor] = &[Actor::Manufacturer, Actor::Lab, Actor::Operator];

/// Every transition a product version can make. The table says which kinds of actor may
/// cause each; the registry checks that a manufacturer or lab acting is the attestation's
/// issuer or the product's owner.
pub const TRANSITIONS: &[Transition] = &[
    Transition {
        from: &[State::Unassessed, State::Conformant, State::Expired],
        trigger: Trigger::Attested,
        by: &[Actor::Manufacturer, Actor::Lab],
        to: State::Conformant,
        records: Record::Conformity,
    },
    Transition {
        from: &[State::Conformant],
        trigger: Trigger::ExploitableVulnerability,
        by: &[Actor::Monitor],
        to: State::Vulnerable,
        records: Record::Vulnerable,
    },
    Transition {
        from: &[State::Vulnerable, State::Suspended],
        trigger: Trigger::VulnerabilitiesResolved,
        by: &[Actor::Monitor],
        to: State::Conformant,
        records: Record::Reinstatement,
    },
    Transition {
        from: &[State::Vulnerable],
        trigger: Trigger::DeadlineMissed,
        by: &[Actor::Monitor],
        to: State::Suspended,
        records: Record::Suspension,
    },
    Transition {
        from: &[State::Conformant, State::Vulnerable],
        trigger: Trigger::Suspend,
        by: ISSUER_OR_OPERATOR,
        to: State::Suspended,
        records: Record::Suspension,
    },
    Transition {
        from: &[State::Suspended],
        trigger: Trigger::LiftSuspension,
        by: ISSUER_OR_OPERATOR,
        to: State::Conformant,
        records: Record::Reinstatement,
    },
    Transition {
        from: &[State::Suspended],
        trigger: Trigger::SuspensionOutlasted,
        by: &[Actor::Monitor],
        to: State::Revoked,
        records: Record::Revocation,
    },
    Transition {
        from: &[
            State::Conformant,
            State::Vulnerable,
            State::Suspended,
            State::Expired,
        ],
        trigger: Trigger::Revoke,
        by: ISSUER_OR_OPERATOR,
        to: State::Revoked,
        records: Record::Revocation,
    },
    Transition {
        from: &[State::Suspended, State::Revoked],
        trigger: Trigger::AppealUpheld,
        by: &[Actor::Operator],
        to: State::Conformant,
        records: Record::Reinstatement,
    },
    // A dismissal changes nothing; it is in the table so that it is logged through the same
    // door as every change, by the operator only, and only while there is something to
    // contest.
    Transition {
        from: &[State::Suspended],
        trigger: Trigger::AppealDismissed,
        by: &[Actor::Operator],
        to: State::Suspended,
        records: Record::Suspension,
    },
    Transition {
        from: &[State::Revoked],
        trigger: Trigger::AppealDismissed,
        by: &[Actor::Operator],
        to: State::Revoked,
        records: Record::Revocation,
    },
    Transition {
        from: LIVING,
        trigger: Trigger::SupportEnded,
        // The monitor on the declared date; the manufacturer, the lab that certified it or
        // the operator when support ends earlier than declared.
        by: &[
            Actor::Monitor,
            Actor::Manufacturer,
            Actor::Lab,
            Actor::Operator,
        ],
        to: State::EndOfSupport,
        records: Record::EndOfSupport,
    },
    Transition {
        from: &[State::Conformant, State::Vulnerable],
        trigger: Trigger::ValidityLapsed,
        by: &[Actor::Monitor],
        to: State::Expired,
        records: Record::Expiry,
    },
    Transition {
        from: LIVING,
        trigger: Trigger::WithdrawnByManufacturer,
        by: &[Actor::Manufacturer],
        to: State::Withdrawn,
        records: Record::Withdrawal,
    },
];

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error(
        "{trigger} does not apply to a version that is {state}, only to one that is {}",
        list(allowed)
    )]
    NotFrom {
        state: State,
        trigger: Trigger,
        allowed: Vec<State>,
    },
    #[error("{trigger} is for the {} to cause, not the {actor}", list(allowed))]
    NotBy {
        trigger: Trigger,
        actor: Actor,
        allowed: Vec<Actor>,
    },
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let words: Vec<String> = items.iter().map(ToString::to_string).collect();
    match words.as_slice() {
        [] => "none".to_owned(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The transition `trigger`, caused by `actor`, makes from `state`, or why it cannot.
pub fn next(state: State, trigger: Trigger, actor: Actor) -> Result<&'static Transition, Refused> {
    let rows = || TRANSITIONS.iter().filter(|t| t.trigger == trigger);
    // A trigger's rows differ only in the states they leave from (a dismissal keeps
    // whichever it finds).
    let Some(row) = rows()
        .find(|t| t.from.contains(&state))
        .or_else(|| rows().next())
    else {
        return Err(Refused::NotFrom {
            state,
            trigger,
            allowed: Vec::new(),
        });
    };
    if !row.by.contains(&actor) {
        return Err(Refused::NotBy {
            trigger,
            actor,
            allowed: row.by.to_vec(),
        });
    }
    if !row.from.contains(&state) {
        return Err(Refused::NotFrom {
            state,
            trigger,
            allowed: rows().flat_map(|t| t.from.iter().copied()).collect(),
        });
    }
    Ok(row)
}

/// The row that writes `record` from `state` when `actor` causes it, for a change that does
/// not name its trigger (a person suspending or reinstating); or why none does, naming the
/// trigger the change would most likely be.
pub fn by_record(
    state: State,
    record: Record,
    actor: Actor,
) -> Result<&'static Transition, Refused> {
    // A change that names no trigger is never taken for a dismissal: a second suspension
    // signed by the operator is refused, not logged as a decision nobody made.
    let rows = || {
        TRANSITIONS
            .iter()
            .filter(|t| t.records == record && t.trigger != Trigger::AppealDismissed)
    };
    if let Some(row) = rows().find(|t| t.from.contains(&state) && t.by.contains(&actor)) {
        return Ok(row);
    }
    if let Some(row) = rows().find(|t| t.from.contains(&state)) {
        return Err(Refused::NotBy {
            trigger: row.trigger,
            actor,
            allowed: row.by.to_vec(),
        });
    }
    let mut allowed: Vec<State> = rows().flat_map(|t| t.from.iter().copied()).collect();
    allowed.sort();
    allowed.dedup();
    let trigger = rows()
        .find(|t| t.by.contains(&actor))
        .or_else(|| rows().next())
        .map_or(Trigger::Attested, |t| t.trigger);
    Err(Refused::NotFrom {
        state,
        trigger,
        allowed,
    })
}

/// The state a version reaches from `start` through `triggers`, each applied as the table
/// says whoever caused it (the registry checked who when it accepted each). A trigger that
/// does not apply leaves the state as it was: records accepted under earlier, looser checks
/// (a second suspension) change nothing.
pub fn replay(start: State, triggers: impl IntoIterator<Item = Trigger>) -> State {
    triggers.into_iter().fold(start, |state, trigger| {
        TRANSITIONS
            .iter()
            .find(|t| t.trigger == trigger && t.from.contains(&state))
            .map_or(state, |t| t.to)
    })
}

/// The state a version reaches from `start` through logged `records` (what each change
/// wrote, in log order), when who caused each is not known: each record moves the state the
/// way the one row that writes it from there says. A record no row writes from the current
/// state changes nothing. Every record leads to one state, whichever row wrote it, so this
/// agrees with [`replay`] on any history the registry accepted.
pub fn replay_records(start: State, records: impl IntoIterator<Item = Record>) -> State {
    records.into_iter().fold(start, |state, record| {
        TRANSITIONS
            .iter()
            .find(|t| t.records == record && t.from.contains(&state))
            .map_or(state, |t| t.to)
    })
}

/// The table as Markdown, for docs/LIFECYCLE.md (a test keeps the two the same).
pub fn table_markdown() -> String {
    let mut out = String::from("| from | trigger | by | to | records |\n|---|---|---|---|---|\n");
    for t in TRANSITIONS {
        let from: Vec<&str> = t.from.iter().map(|s| s.as_str()).collect();
        let by: Vec<&str> = t.by.iter().map(|a| a.as_str()).collect();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            from.join(", "),
            t.trigger,
            by.join(", "),
            t.to,
            t.records.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trigger_leads_from_each_state_one_way() {
        for (i, a) in TRANSITIONS.iter().enumerate() {
            for b in &TRANSITIONS[i + 1..] {
                if a.trigger == b.trigger {
                    assert!(
                        a.from.iter().all(|s| !b.from.contains(s)),
                        "two rows for {} from one state",
                        a.trigger
                    );
                    assert_eq!(a.by, b.by, "{}'s rows differ in who causes it", a.trigger);
                }
            }
        }
    }

    #[test]
    fn a_dismissed_appeal_keeps_the_state_and_only_a_named_one_is_a_dismissal() {
        for state in [State::Suspended, State::Revoked] {
            let row = next(state, Trigger::AppealDismissed, Actor::Operator).unwrap();
            assert_eq!(row.to, state);
            assert_eq!(replay_records(state, [row.records]), state);
        }
        assert!(matches!(
            next(
                State::Suspended,
                Trigger::AppealDismissed,
                Actor::Manufacturer
            ),
            Err(Refused::NotBy { .. })
        ));
        let refused = next(State::Conformant, Trigger::AppealDismissed, Actor::Operator)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("suspended or revoked"), "{refused}");
        // The operator suspending a suspended version again names no trigger: refused.
        assert!(by_record(State::Suspended, Record::Suspension, Actor::Operator).is_err());
        assert!(by_record(State::Revoked, Record::Revocation, Actor::Operator).is_err());
    }

    #[test]
    fn every_state_is_reachable_from_an_announced_version() {
        let mut reached = vec![State::Unassessed];
        let mut i = 0;
        while let Some(&state) = reached.get(i) {
            for t in TRANSITIONS.iter().filter(|t| t.from.contains(&state)) {
                if !reached.contains(&t.to) {
                    reached.push(t.to);
                }
            }
            i += 1;
        }
        for state in State::ALL {
            assert!(reached.contains(&state), "{state} cannot be reached");
        }
    }

    #[test]
    fn end_of_support_and_withdrawal_are_final_and_revocation_yields_only_to_appeal() {
        // Transitions that leave the state (a dismissed appeal stays).
        let leaving = |state: State| -> Vec<Trigger> {
            TRANSITIONS
                .iter()
                .filter(|t| t.from.contains(&state) && t.to != state)
                .map(|t| t.trigger)
                .collect()
        };
        assert!(leaving(State::EndOfSupport).is_empty());
        assert!(leaving(State::Withdrawn).is_empty());
        assert_eq!(leaving(State::Revoked), [Trigger::AppealUpheld]);
    }

    #[test]
    fn the_lifecycle_the_registry_runs_end_to_end() {
        // Announced, attested, found vulnerable, deadline missed, suspended; the fix ships
        // as a new version, and this one ends with its support.
        let mut state = State::Unassessed;
        for (trigger, actor, to) in [
            (Trigger::Attested, Actor::Manufacturer, State::Conformant),
            (
                Trigger::ExploitableVulnerability,
                Actor::Monitor,
                State::Vulnerable,
            ),
            (Trigger::DeadlineMissed, Actor::Monitor, State::Suspended),
            (Trigger::SupportEnded, Actor::Monitor, State::EndOfSupport),
        ] {
            let t = next(state, trigger, actor).unwrap();
            assert_eq!(t.to, to);
            state = t.to;
        }
    }

    #[test]
    fn replaying_a_history_skips_what_no_longer_applies() {
        use Trigger::*;
        assert_eq!(
            replay(State::Conformant, [Suspend, Suspend, LiftSuspension]),
            State::Conformant
        );
        assert_eq!(
            replay(State::Conformant, [SupportEnded, Revoke, LiftSuspension]),
            State::EndOfSupport
        );
        assert_eq!(
            replay(State::Conformant, [LiftSuspension, Suspend]),
            State::Suspended
        );
    }

    #[test]
    fn a_fix_or_an_appeal_reinstates_a_suspended_version() {
        let fixed = next(
            State::Suspended,
            Trigger::VulnerabilitiesResolved,
            Actor::Monitor,
        )
        .unwrap();
        assert_eq!(
            (fixed.to, fixed.records),
            (State::Conformant, Record::Reinstatement)
        );
        let appeal = next(State::Revoked, Trigger::AppealUpheld, Actor::Operator).unwrap();
        assert_eq!(appeal.to, State::Conformant);
    }

    #[test]
    fn a_change_by_the_wrong_actor_or_from_the_wrong_state_is_refused_with_the_rule() {
        let wrong_actor =
            next(State::Suspended, Trigger::AppealUpheld, Actor::Manufacturer).unwrap_err();
        assert_eq!(
            wrong_actor.to_string(),
            "appeal-upheld is for the operator to cause, not the manufacturer"
        );
        let wrong_state =
            next(State::Withdrawn, Trigger::Attested, Actor::Manufacturer).unwrap_err();
        assert_eq!(
            wrong_state.to_string(),
            "attested does not apply to a version that is withdrawn, only to one that is \
             unassessed, conformant or expired"
        );
        // Finding another vulnerability in a version already vulnerable changes nothing.
        assert!(
            next(
                State::Vulnerable,
                Trigger::ExploitableVulnerability,
                Actor::Monitor
            )
            .is_err()
        );
    }
}
