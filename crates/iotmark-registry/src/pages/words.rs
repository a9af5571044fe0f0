//! Dates and periods in plain words: "31 December 2029", "3 years 1 month left".
//!
//! Pages speak UTC: the registry does not know the reader's time zone, and a date that
//! changed with the reader's zone would make two readers disagree about one declaration.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Unit};

/// `31 December 2029`.
pub(super) fn date(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// The UTC day of `t`, as [`date`].
pub(super) fn day(t: Timestamp) -> String {
    date(t.to_zoned(TimeZone::UTC).date())
}

/// `3 March 2026, 14:05 UTC`.
pub(super) fn moment(t: Timestamp) -> String {
    t.to_zoned(TimeZone::UTC)
        .strftime("%-d %B %Y, %H:%M UTC")
        .to_string()
}

/// RFC 3339 for `<time datetime>`.
pub(super) fn machine(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A `YYYY-MM-DD` date, or `None`.
pub(super) fn parse_date(text: &str) -> Option<Date> {
    text.parse().ok()
}

/// How long from `today` to the last day `end` (inclusive): `3 years 1 month left`,
/// `12 days left`, `ends today`; `None` when `end` is past.
pub(super) fn time_left(today: Date, end: Date) -> Option<String> {
    if end < today {
        return None;
    }
    if end == today {
        return Some("ends today".to_owned());
    }
    let span = today.until((Unit::Year, end)).ok()?;
    let (years, months, days) = (span.get_years(), span.get_months(), span.get_days());
    let mut parts = Vec::new();
    if years > 0 {
        parts.push(plural(i64::from(years), "year", "years"));
    }
    if months > 0 {
        parts.push(plural(i64::from(months), "month", "months"));
    }
    if parts.is_empty() {
        parts.push(plural(i64::from(days), "day", "days"));
    }
    Some(format!("{} left", parts.join(" ")))
}

/// `1 product`, `3 products`.
pub(super) fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn periods_read_as_a_person_would_say_them() {
        assert_eq!(date(d("2029-12-31")), "31 December 2029");
        assert_eq!(date(d("2026-03-01")), "1 March 2026");
        let today = d("2026-11-20");
        assert_eq!(
            time_left(today, d("2029-12-31")).unwrap(),
            "3 years 1 month left"
        );
        assert_eq!(time_left(today, d("2027-11-20")).unwrap(), "1 year left");
        assert_eq!(time_left(today, d("2026-12-02")).unwrap(), "12 days left");
        assert_eq!(time_left(today, d("2026-11-21")).unwrap(), "1 day left");
        assert_eq!(time_left(today, today).unwrap(), "ends today");
        assert_eq!(time_left(today, d("2026-11-19")), None);
        assert_eq!(
            moment("2026-03-03T14:05:09Z".parse().unwrap()),
            "3 March 2026, 14:05 UTC"
        );
    }
}
