//! Conditions over a declaration: `{path, <op>: value}` (docs/ASSESSMENT.md §3).
//!
//! Rules and schemes are data, so their logic is a handful of comparisons on the
//! declaration's JSON form, addressed by dotted path. A missing path never matches, except
//! `present: false` and `none`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One comparison. Exactly one operator is set; [`Condition::validate`] says so otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub in_list: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_in: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_today: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<serde_json::Map<String, Value>>,
}

/// Where a condition's value is taken from: the declaration and today's date.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub declaration: &'a Value,
    pub today: jiff::civil::Date,
}

impl Condition {
    fn ops(&self) -> usize {
        [
            self.is.is_some(),
            self.in_list.is_some(),
            self.not_in.is_some(),
            self.present.is_some(),
            self.after_today.is_some(),
            self.min.is_some(),
            self.any.is_some(),
            self.none.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count()
    }

    /// A problem with the condition itself, for loading-time errors.
    pub fn validate(&self) -> Option<String> {
        match self.ops() {
            1 => None,
            0 => Some(format!(
                "condition on `{}` has no operator (is, in, not_in, present, after_today, min, any, none)",
                self.path
            )),
            _ => Some(format!(
                "condition on `{}` has more than one operator",
                self.path
            )),
        }
    }

    pub fn holds(&self, facts: Facts<'_>) -> bool {
        let value = lookup(facts.declaration, &self.path);
        if let Some(present) = self.present {
            return value.is_some_and(|v| !v.is_null()) == present;
        }
        if let Some(spec) = &self.none {
            return value
                .and_then(Value::as_array)
                .is_none_or(|items| !items.iter().any(|i| matches_fields(i, spec)));
        }
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return false;
        };
        if let Some(expected) = &self.is {
            return value == expected;
        }
        if let Some(list) = self.in_list.as_ref() {
            // On a list of plain values, `in` asks whether it contains any of them.
            return match value {
                Value::Array(items) => items.iter().any(|i| list.contains(i)),
                v => list.contains(v),
            };
        }
        if let Some(list) = &self.not_in {
            return match value {
                Value::Array(items) => !items.iter().any(|i| list.contains(i)),
                v => !list.contains(v),
            };
        }
        if let Some(wanted) = self.after_today {
            let after = value
                .as_str()
                .and_then(|s| s.parse::<jiff::civil::Date>().ok())
                .is_some_and(|d| d > facts.today);
            return after == wanted;
        }
        if let Some(min) = self.min {
            return value.as_f64().is_some_and(|v| v >= min);
        }
        if let Some(spec) = &self.any {
            return value
                .as_array()
                .is_some_and(|items| items.iter().any(|i| matches_fields(i, spec)));
        }
        false
    }

    /// The condition in words, for reasons in findings.
    pub fn describe(&self) -> String {
        let show = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let list = |l: &[Value]| l.iter().map(show).collect::<Vec<_>>().join(", ");
        if let Some(v) = &self.is {
            format!("{} is {}", self.path, show(v))
        } else if let Some(l) = self.in_list.as_ref() {
            format!("{} is one of {}", self.path, list(l))
        } else if let Some(l) = &self.not_in {
            format!("{} is none of {}", self.path, list(l))
        } else if let Some(p) = self.present {
            format!("{} is {}", self.path, if p { "given" } else { "not given" })
        } else if let Some(a) = self.after_today {
            format!(
                "{} is {} today",
                self.path,
                if a { "after" } else { "not after" }
            )
        } else if let Some(m) = self.min {
            format!("{} is at least {m}", self.path)
        } else if let Some(spec) = &self.any {
            format!("some {} has {}", self.path, fields(spec))
        } else if let Some(spec) = &self.none {
            format!("no {} has {}", self.path, fields(spec))
        } else {
            self.path.clone()
        }
    }
}

fn fields(spec: &serde_json::Map<String, Value>) -> String {
    spec.iter()
        .map(|(k, v)| {
            format!(
                "{k} = {}",
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A list element matches when every given field equals the value, or is one of a list.
fn matches_fields(item: &Value, spec: &serde_json::Map<String, Value>) -> bool {
    spec.iter().all(|(k, want)| match (item.get(k), want) {
        (Some(got), Value::Array(options)) => options.contains(got),
        (Some(got), want) => got == want,
        (None, _) => false,
    })
}

/// The value at a dotted path (`updates.delivery.signed`).
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(root, |v, key| v.get(key))
}

/// True when every condition holds (an empty list holds).
pub fn all_hold(conditions: &[Condition], facts: Facts<'_>) -> bool {
    conditions.iter().all(|c| c.holds(facts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(v: Value) -> Condition {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn operators() {
        let d = json!({"a": {"b": true, "n": 5, "list": ["x", "y"], "date": "2030-01-01",
                       "ports": [{"kind": "uart", "accessible": true}, {"kind": "usb", "accessible": false}]}});
        let facts = Facts {
            declaration: &d,
            today: jiff::civil::date(2026, 11, 22),
        };
        assert!(cond(json!({"path": "a.b", "is": true})).holds(facts));
        assert!(!cond(json!({"path": "a.missing", "is": true})).holds(facts));
        assert!(cond(json!({"path": "a.list", "in": ["y", "z"]})).holds(facts));
        assert!(cond(json!({"path": "a.list", "not_in": ["z"]})).holds(facts));
        assert!(!cond(json!({"path": "a.list", "not_in": ["x"]})).holds(facts));
        assert!(cond(json!({"path": "a.missing", "present": false})).holds(facts));
        assert!(cond(json!({"path": "a.date", "after_today": true})).holds(facts));
        assert!(cond(json!({"path": "a.n", "min": 5})).holds(facts));
        assert!(
            cond(json!({"path": "a.ports", "any": {"kind": ["uart", "jtag"], "accessible": true}}))
                .holds(facts)
        );
        assert!(!cond(json!({"path": "a.ports", "none": {"kind": "uart"}})).holds(facts));
        assert!(cond(json!({"path": "a.missing", "none": {"kind": "uart"}})).holds(facts));
        assert!(
            cond(json!({"path": "a.b", "is": true, "present": true}))
                .validate()
                .is_some()
        );
    }
}
