//! The EU Cyber Resilience Act's Article 14 reporting clocks (Regulation (EU) 2024/2847,
//! applying from 11 September 2026).
//!
//! For an actively exploited vulnerability in a product: an early warning within 24 hours of
//! the manufacturer becoming aware, a notification within 72 hours, and a final report within
//! 14 days after a corrective or mitigating measure is available. For a severe incident: 24
//! hours, 72 hours, and a final report one month after the notification. The registry starts
//! these clocks when it learns that a product's attested firmware carries an exploited
//! vulnerability, shows them, and records when each report was made; a missed clock is a fact
//! on the record.

use jiff::{SignedDuration, Timestamp, ToSpan, tz::TimeZone};
use serde::{Deserialize, Serialize};

/// The three reports, in the order they fall due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Report {
    EarlyWarning,
    Notification,
    FinalReport,
}

impl Report {
    pub const ALL: [Report; 3] = [
        Report::EarlyWarning,
        Report::Notification,
        Report::FinalReport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Report::EarlyWarning => "early-warning",
            Report::Notification => "notification",
            Report::FinalReport => "final-report",
        }
    }
}

impl std::str::FromStr for Report {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Report::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("report {s:?} is not early-warning, notification or final-report")
            })
    }
}

/// What the clocks run for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Occasion {
    ExploitedVulnerability,
    SevereIncident,
}

/// One report's deadline: `None` while what it counts from has not happened yet (the final
/// report on a vulnerability before a fix is available, or on an incident before the
/// notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    pub report: Report,
    pub due: Option<Timestamp>,
}

/// Where one report stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "standing")]
pub enum Standing {
    /// Not yet made, and not yet due.
    Running { due: Timestamp },
    /// Its deadline is not known yet (see [`Clock`]).
    NotStarted,
    /// Made by its deadline.
    Met { made: Timestamp },
    /// Made after its deadline.
    Late { made: Timestamp, due: Timestamp },
    /// Not made, and the deadline passed.
    Missed { due: Timestamp },
}

/// The clocks of `occasion`, from when the manufacturer became `aware`; `since` is when the
/// final report's period starts (a fix or mitigation available, for a vulnerability; the
/// notification made, for an incident), if it has.
pub fn clocks(occasion: Occasion, aware: Timestamp, since: Option<Timestamp>) -> [Clock; 3] {
    let hours = |h: i64| aware.checked_add(SignedDuration::from_hours(h)).ok();
    let final_due = since.and_then(|start| match occasion {
        Occasion::ExploitedVulnerability => {
            start.checked_add(SignedDuration::from_hours(14 * 24)).ok()
        }
        // "One month": a calendar month, counted in UTC.
        Occasion::SevereIncident => start
            .to_zoned(TimeZone::UTC)
            .checked_add(1.month())
            .ok()
            .map(|z| z.timestamp()),
    });
    [
        Clock {
            report: Report::EarlyWarning,
            due: hours(24),
        },
        Clock {
            report: Report::Notification,
            due: hours(72),
        },
        Clock {
            report: Report::FinalReport,
            due: final_due,
        },
    ]
}

impl Clock {
    /// Where the report stands at `now`, given when it was `made`, if it was.
    pub fn standing(&self, now: Timestamp, made: Option<Timestamp>) -> Standing {
        match (self.due, made) {
            (Some(due), Some(made)) if made > due => Standing::Late { made, due },
            (_, Some(made)) => Standing::Met { made },
            (None, None) => Standing::NotStarted,
            (Some(due), None) if now > due => Standing::Missed { due },
            (Some(due), None) => Standing::Running { due },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn an_exploited_vulnerability_gives_24_hours_72_hours_and_14_days_after_the_fix() {
        let aware = at("2026-09-14T08:30:00Z");
        let [early, notification, last] = clocks(Occasion::ExploitedVulnerability, aware, None);
        assert_eq!(early.due, Some(at("2026-09-15T08:30:00Z")));
        assert_eq!(notification.due, Some(at("2026-09-17T08:30:00Z")));
        assert_eq!(last.due, None, "no fix yet, so no final-report deadline");
        assert_eq!(
            last.standing(at("2026-12-01T00:00:00Z"), None),
            Standing::NotStarted
        );
        let fix = at("2026-09-20T12:00:00Z");
        let [_, _, last] = clocks(Occasion::ExploitedVulnerability, aware, Some(fix));
        assert_eq!(last.due, Some(at("2026-10-04T12:00:00Z")));
    }

    #[test]
    fn a_severe_incident_final_report_is_due_a_calendar_month_after_the_notification() {
        let aware = at("2027-01-29T10:00:00Z");
        let notified = at("2027-01-31T09:00:00Z");
        let [_, _, last] = clocks(Occasion::SevereIncident, aware, Some(notified));
        // January 31st plus one month is the last day of February.
        assert_eq!(last.due, Some(at("2027-02-28T09:00:00Z")));
    }

    #[test]
    fn a_report_is_running_met_late_or_missed() {
        let aware = at("2026-09-14T08:30:00Z");
        let [early, ..] = clocks(Occasion::ExploitedVulnerability, aware, None);
        let due = at("2026-09-15T08:30:00Z");
        assert_eq!(
            early.standing(at("2026-09-15T08:00:00Z"), None),
            Standing::Running { due }
        );
        assert_eq!(
            early.standing(at("2026-09-15T08:30:01Z"), None),
            Standing::Missed { due }
        );
        let made = at("2026-09-15T08:30:00Z");
        assert_eq!(
            early.standing(at("2026-09-20T00:00:00Z"), Some(made)),
            Standing::Met { made },
            "made at the deadline is in time"
        );
        let late = at("2026-09-15T09:00:00Z");
        assert_eq!(
            early.standing(at("2026-09-20T00:00:00Z"), Some(late)),
            Standing::Late { made: late, due }
        );
    }
}
