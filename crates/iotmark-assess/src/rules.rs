//! Assessment rules: per requirement, when it applies, which declared facts satisfy or break
//! it, which evidence checks bear on it, and how to fix it (docs/ASSESSMENT.md §3).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::error::AssessError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    catalog: String,
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub requirement: String,
    #[serde(default)]
    pub applies_if: Vec<Condition>,
    #[serde(default)]
    pub not_applicable_because: Option<String>,
    #[serde(default)]
    pub satisfied_if: Vec<Condition>,
    #[serde(default)]
    pub fails_if: Vec<Condition>,
    #[serde(default)]
    pub checks: Vec<String>,
    pub fix: String,
}

/// Rules of every bundled catalog, by requirement ID.
#[derive(Debug, Clone, Default)]
pub struct RuleBook {
    rules: HashMap<String, Rule>,
}

impl RuleBook {
    pub fn bundled() -> Result<RuleBook, AssessError> {
        let mut book = RuleBook::default();
        for (name, text) in iotmark_catalogs::bundled_rules() {
            book.add(name, text)?;
        }
        Ok(book)
    }

    pub fn add(&mut self, name: &str, text: &str) -> Result<(), AssessError> {
        let file: RuleFile = serde_saphyr::from_str(text).map_err(|e| AssessError::Rules {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        for rule in file.rules {
            for c in rule
                .applies_if
                .iter()
                .chain(&rule.satisfied_if)
                .chain(&rule.fails_if)
            {
                if let Some(problem) = c.validate() {
                    return Err(AssessError::Rules {
                        name: name.to_owned(),
                        message: format!("{}: {problem}", rule.requirement),
                    });
                }
            }
            self.rules.insert(rule.requirement.clone(), rule);
        }
        Ok(())
    }

    pub fn get(&self, requirement: &str) -> Option<&Rule> {
        self.rules.get(requirement)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Rule> {
        self.rules.values()
    }
}
