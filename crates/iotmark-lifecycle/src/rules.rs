//! A scheme's post-market rules, as the `post_market` section of its scheme file states
//! them:
//!
//! ```yaml
//! post_market:
//!   fix_within_days: {known_exploited: 14, critical: 30, high: 60, medium: 90, low: 180}
//!   revoke_after_suspended_days: 90
//!   renewal: {opens_days_before: 91, closes_days_before: 42,
//!             lapse_days_after_requirements_change: 42}
//! ```
//!
//! How long a label is valid is the scheme's own `validity_months`, which the attestation's
//! `valid_until` already carries; the renewal window counts back from it.
//!
//! The deadline to fix runs from when the registry learns that an attested version carries
//! the vulnerability; a known-exploited vulnerability takes the shorter of its own deadline
//! and its severity's. A missed deadline suspends the version; a suspension that lasts
//! `revoke_after_suspended_days` revokes it (never, without that field).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How severe a vulnerability is, as its highest CVSS rating says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// No score yet, or a score of 0: held to the low deadline.
    None,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostMarket {
    pub fix_within_days: FixWithinDays,
    /// Days a version may stay suspended before it is revoked; without it, a suspension
    /// lasts until a fix, an appeal or the end of support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_after_suspended_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewal: Option<Renewal>,
}

/// Days to fix a vulnerability, by severity, and for one known to be exploited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixWithinDays {
    pub known_exploited: u32,
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
}

/// When a label may be renewed, and when it lapses after its requirements change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    /// Renewal may be asked from this many days before expiry …
    pub opens_days_before: u32,
    /// … until this many days before it.
    pub closes_days_before: u32,
    /// When the requirements change, the label lapses this many days later unless the
    /// version is attested again against them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapse_days_after_requirements_change: Option<u32>,
}

/// A rule that cannot hold, named by its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("post_market.{field}: {problem}")]
pub struct Invalid {
    pub field: &'static str,
    pub problem: String,
}

impl PostMarket {
    /// Checks what the types cannot: no deadline of zero days, and a renewal window that
    /// opens before it closes.
    pub fn validate(&self) -> Result<(), Invalid> {
        let days = &self.fix_within_days;
        for (field, value) in [
            ("fix_within_days.known_exploited", days.known_exploited),
            ("fix_within_days.critical", days.critical),
            ("fix_within_days.high", days.high),
            ("fix_within_days.medium", days.medium),
            ("fix_within_days.low", days.low),
        ] {
            if value == 0 {
                return Err(Invalid {
                    field,
                    problem: "a deadline of 0 days suspends at once; give at least 1".into(),
                });
            }
        }
        if self.revoke_after_suspended_days == Some(0) {
            return Err(Invalid {
                field: "revoke_after_suspended_days",
                problem: "0 revokes at once; give at least 1, or leave it out for never".into(),
            });
        }
        if let Some(r) = &self.renewal
            && r.opens_days_before <= r.closes_days_before
        {
            return Err(Invalid {
                field: "renewal.opens_days_before",
                problem: format!(
                    "the renewal window opens {} days before expiry but closes {} days \
                     before it; opening must be the larger number",
                    r.opens_days_before, r.closes_days_before
                ),
            });
        }
        Ok(())
    }

    /// When a vulnerability the registry learnt of at `learned` must be fixed by.
    pub fn fix_deadline(
        &self,
        severity: Severity,
        known_exploited: bool,
        learned: Timestamp,
    ) -> Timestamp {
        let d = &self.fix_within_days;
        let by_severity = match severity {
            Severity::Critical => d.critical,
            Severity::High => d.high,
            Severity::Medium => d.medium,
            Severity::Low | Severity::None => d.low,
        };
        let days = if known_exploited {
            by_severity.min(d.known_exploited)
        } else {
            by_severity
        };
        after_days(learned, days)
    }

    /// When a version suspended at `suspended` is revoked, if the scheme revokes at all.
    pub fn revocation_due(&self, suspended: Timestamp) -> Option<Timestamp> {
        Some(after_days(suspended, self.revoke_after_suspended_days?))
    }
}

impl Renewal {
    /// When renewal may be asked, for a label valid until `valid_until`: from, until.
    pub fn window(&self, valid_until: Timestamp) -> (Timestamp, Timestamp) {
        (
            before_days(valid_until, self.opens_days_before),
            before_days(valid_until, self.closes_days_before),
        )
    }

    /// When a label lapses after its requirements `changed`, if the scheme says.
    pub fn lapses_at(&self, changed: Timestamp) -> Option<Timestamp> {
        Some(after_days(
            changed,
            self.lapse_days_after_requirements_change?,
        ))
    }
}

fn after_days(from: Timestamp, days: u32) -> Timestamp {
    from.checked_add(SignedDuration::from_hours(i64::from(days) * 24))
        .unwrap_or(Timestamp::MAX)
}

fn before_days(from: Timestamp, days: u32) -> Timestamp {
    from.checked_sub(SignedDuration::from_hours(i64::from(days) * 24))
        .unwrap_or(Timestamp::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// A BSI-style label: two years; renewal from three months (91 days) to six weeks before
    /// expiry; lapse six weeks after the requirements change.
    const RULES: &str = "
fix_within_days: {known_exploited: 14, critical: 30, high: 60, medium: 90, low: 180}
revoke_after_suspended_days: 90
renewal:
  opens_days_before: 91
  closes_days_before: 42
  lapse_days_after_requirements_change: 42
";

    fn rules() -> PostMarket {
        let rules: PostMarket = serde_saphyr::from_str(RULES).unwrap();
        rules.validate().unwrap();
        rules
    }

    #[test]
    fn deadlines_follow_severity_and_a_known_exploit_shortens_them() {
        let rules = rules();
        let learned = at("2026-12-01T00:00:00Z");
        assert_eq!(
            rules.fix_deadline(Severity::High, false, learned),
            at("2027-01-30T00:00:00Z")
        );
        assert_eq!(
            rules.fix_deadline(Severity::High, true, learned),
            at("2026-12-15T00:00:00Z")
        );
        assert_eq!(
            rules.fix_deadline(Severity::None, false, learned),
            rules.fix_deadline(Severity::Low, false, learned)
        );
        assert_eq!(
            rules.revocation_due(at("2027-01-30T00:00:00Z")),
            Some(at("2027-04-30T00:00:00Z"))
        );
    }

    #[test]
    fn a_two_year_label_renews_from_three_months_to_six_weeks_before_expiry() {
        let renewal = rules().renewal.unwrap();
        // Issued 2026-02-28 for 24 months.
        let until = at("2028-02-28T12:00:00Z");
        let (opens, closes) = renewal.window(until);
        assert_eq!(opens, at("2027-11-29T12:00:00Z"));
        assert_eq!(closes, at("2028-01-17T12:00:00Z"));
        assert_eq!(
            renewal.lapses_at(at("2027-03-01T00:00:00Z")),
            Some(at("2027-04-12T00:00:00Z"))
        );
    }

    #[test]
    fn impossible_rules_name_their_field() {
        let mut rules = rules();
        rules.fix_within_days.high = 0;
        assert_eq!(rules.validate().unwrap_err().field, "fix_within_days.high");
        let mut rules = self::rules();
        if let Some(r) = rules.renewal.as_mut() {
            r.closes_days_before = 120;
        }
        let error = rules.validate().unwrap_err();
        assert_eq!(error.field, "renewal.opens_days_before");
        assert!(
            error
                .to_string()
                .contains("opening must be the larger number")
        );
        // An unknown field is refused, not ignored.
        let typo = RULES.replace("revoke_after_suspended_days", "revoke_after_days");
        assert!(serde_saphyr::from_str::<PostMarket>(&typo).is_err());
    }
}
