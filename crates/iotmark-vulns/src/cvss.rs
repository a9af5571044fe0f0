//! Base scores of CVSS v3.x and v2 vectors, for sources that give a vector without a score
//! (OSV's `severity[]`). The formulas and weights are FIRST's: CVSS v3.1 specification
//! section 7.1 and appendix A (Roundup), CVSS v3.0 section 8.1, CVSS v2 guide section 3.2.1.
//! CVSS v4.0 scores come from a lookup table over macro-vectors rather than a formula, so
//! a v4.0 vector is not scored here.

use crate::model::{CvssVersion, Rating};

/// The metrics of a vector, `None` when one is missing, repeated or unknown.
fn metrics<'a>(parts: impl Iterator<Item = &'a str>, names: &[&str]) -> Option<Vec<&'a str>> {
    let mut values: Vec<Option<&str>> = vec![None; names.len()];
    for part in parts {
        let (name, value) = part.split_once(':')?;
        // Temporal and environmental metrics may follow; they do not change the base score.
        if let Some(i) = names.iter().position(|n| *n == name) {
            let slot = values.get_mut(i)?;
            if slot.replace(value).is_some() {
                return None;
            }
        }
    }
    values.into_iter().collect()
}

/// The version of a vector string and its base score.
pub fn base_score(vector: &str) -> Option<(CvssVersion, f64)> {
    if let Some(rest) = vector.strip_prefix("CVSS:3.1/") {
        return v3(rest, true).map(|s| (CvssVersion::V31, s));
    }
    if let Some(rest) = vector.strip_prefix("CVSS:3.0/") {
        return v3(rest, false).map(|s| (CvssVersion::V30, s));
    }
    if vector.starts_with("CVSS:") {
        return None;
    }
    // v2 vectors carry no prefix; NVD sometimes wraps them in parentheses.
    let v2_vector = vector.trim_start_matches('(').trim_end_matches(')');
    v2(v2_vector).map(|s| (CvssVersion::V2, s))
}

/// The rating of a v2 score (NVD's table: v2 has no "none" or "critical").
pub fn v2_rating(score: f64) -> Rating {
    if score >= 7.0 {
        Rating::High
    } else if score >= 4.0 {
        Rating::Medium
    } else {
        Rating::Low
    }
}

fn v3(vector: &str, roundup_v31: bool) -> Option<f64> {
    let m = metrics(
        vector.split('/'),
        &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
    )?;
    let [av, ac, pr, ui, s, c, i, a] = m.as_slice() else {
        return None;
    };
    let changed = match *s {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = match *av {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *ac {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*pr, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *ui {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |x: &str| match x {
        "H" => Some(0.56),
        "L" => Some(0.22),
        "N" => Some(0.0),
        _ => None,
    };
    let iss = 1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02_f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let sum = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    let roundup = if roundup_v31 {
        roundup_v31_fn
    } else {
        roundup_v30
    };
    Some(roundup(sum.min(10.0)))
}

/// CVSS v3.0: the smallest number with one decimal not below the input.
fn roundup_v30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// CVSS v3.1 appendix A: the same, computed on integers so that floating-point error in
/// the input does not round 4.000000001 up to 4.1.
fn roundup_v31_fn(x: f64) -> f64 {
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 {
        int_input as f64 / 100_000.0
    } else {
        ((int_input / 10_000) + 1) as f64 / 10.0
    }
}

fn v2(vector: &str) -> Option<f64> {
    let m = metrics(vector.split('/'), &["AV", "AC", "Au", "C", "I", "A"])?;
    let [av, ac, au, c, i, a] = m.as_slice() else {
        return None;
    };
    let av = match *av {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        _ => return None,
    };
    let ac = match *ac {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        _ => return None,
    };
    let au = match *au {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        _ => return None,
    };
    let cia = |x: &str| match x {
        "N" => Some(0.0),
        "P" => Some(0.275),
        "C" => Some(0.660),
        _ => None,
    };
    let impact = 10.41 * (1.0 - (1.0 - cia(c)?) * (1.0 - cia(i)?) * (1.0 - cia(a)?));
    let exploitability = 20.0 * av * ac * au;
    let f_impact: f64 = if impact == 0.0 { 0.0 } else { 1.176 };
    let score: f64 = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact;
    Some((score * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_match_the_specification_examples() {
        // Scores NVD published with these vectors (tests/data/nvd records and their peers).
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
            ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5),
            ("AV:N/AC:M/Au:N/C:N/I:N/A:P", 4.3),
            ("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0),
        ];
        for (vector, score) in cases {
            let (_, got) = base_score(vector).unwrap_or_else(|| panic!("{vector} scores"));
            assert!((got - score).abs() < 1e-9, "{vector}: {got} != {score}");
        }
    }

    #[test]
    fn malformed_vectors_have_no_score() {
        for vector in [
            "",
            "CVSS:3.1/AV:N",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            "AV:N/AC:L/Au:S",
        ] {
            assert_eq!(base_score(vector), None, "{vector}");
        }
    }
}
