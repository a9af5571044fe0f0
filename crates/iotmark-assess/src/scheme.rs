//! Conformity schemes: which requirements apply, how the risk tier follows from the
//! declaration, which route each tier needs, and what holds after the assessment.

use std::path::Path;

use iotmark_catalogs::Bundle;
use serde::{Deserialize, Serialize};

use crate::condition::{Condition, Facts, all_hold};
use crate::error::AssessError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub inspired_by: Option<String>,
    /// The bundled catalog the scheme's requirements come from.
    pub catalog: String,
    pub requirements: RequirementSet,
    /// Risk tiers, first match wins.
    pub tiers: Vec<Tier>,
    pub validity_months: u32,
    #[serde(default)]
    pub obligations: Obligations,
    /// What holds after sale (docs/LIFECYCLE.md): deadlines to fix, suspension and
    /// revocation, renewal. Without it, no deadline applies.
    #[serde(default)]
    pub post_market: Option<iotmark_lifecycle::rules::PostMarket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementSet {
    /// Control classes that are assessed (`provision`, `outcome`, …).
    pub classes: Vec<String>,
    /// `all`, or a list of IDs.
    #[serde(default = "all")]
    pub include: Selection,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Which requirements are mandatory.
    #[serde(default = "all")]
    pub mandatory: Selection,
}

fn all() -> Selection {
    Selection::All
}

/// `all`, `by-status` (EN 303 645's mandatory/recommendation), or a list of IDs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Selection {
    Keyword(SelectionKeyword),
    Ids(Vec<String>),
    #[serde(skip)]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectionKeyword {
    All,
    ByStatus,
}

impl Selection {
    fn selects(&self, id: &str, status: Option<&str>) -> bool {
        match self {
            Selection::All | Selection::Keyword(SelectionKeyword::All) => true,
            Selection::Keyword(SelectionKeyword::ByStatus) => status == Some("mandatory"),
            Selection::Ids(ids) => ids.iter().any(|i| i == id),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub when: Vec<Condition>,
    pub route: Route,
    /// Replaces the scheme's requirement set for this tier (levels that ask for more).
    #[serde(default)]
    pub requirements: Option<RequirementSet>,
}

/// How conformity must be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Route {
    SelfDeclaration,
    ThirdPartyTesting,
    ThirdPartyTestingWithPenetrationTesting,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::SelfDeclaration => "self-declaration",
            Route::ThirdPartyTesting => "third-party-testing",
            Route::ThirdPartyTestingWithPenetrationTesting => {
                "third-party-testing-with-penetration-testing"
            }
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Route::SelfDeclaration => "the manufacturer's own declaration of conformity",
            Route::ThirdPartyTesting => "testing by an accredited laboratory",
            Route::ThirdPartyTestingWithPenetrationTesting => {
                "testing and penetration testing by an accredited laboratory"
            }
        }
    }
}

impl std::str::FromStr for Route {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [
            Route::SelfDeclaration,
            Route::ThirdPartyTesting,
            Route::ThirdPartyTestingWithPenetrationTesting,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| {
            format!(
                "route {s:?} is not self-declaration, third-party-testing or third-party-testing-with-penetration-testing"
            )
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligations {
    #[serde(default)]
    pub on_update: Option<String>,
    #[serde(default)]
    pub vulnerability_response_days: Option<u32>,
    /// The support period must reach at least this far past the assessment date.
    #[serde(default)]
    pub minimum_support_years: Option<u32>,
}

impl Scheme {
    /// Parses and checks a scheme against the bundled catalogs.
    pub fn parse(name: &str, text: &str, bundle: &Bundle) -> Result<Scheme, AssessError> {
        let scheme: Scheme = serde_saphyr::from_str(text).map_err(|e| AssessError::Scheme {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        scheme.validate(name, bundle)?;
        Ok(scheme)
    }

    /// Reads a user's scheme file.
    pub fn load(path: &Path, bundle: &Bundle) -> Result<Scheme, AssessError> {
        let text = std::fs::read_to_string(path).map_err(|source| AssessError::Io {
            path: path.to_owned(),
            source,
        })?;
        Scheme::parse(&path.display().to_string(), &text, bundle)
    }

    fn validate(&self, name: &str, bundle: &Bundle) -> Result<(), AssessError> {
        let fail = |message: String| {
            Err(AssessError::Scheme {
                name: name.to_owned(),
                message,
            })
        };
        let Some(catalog) = bundle.catalog(&self.catalog) else {
            return fail(format!(
                "catalog `{}` is not bundled (known: {})",
                self.catalog,
                bundle
                    .catalogs()
                    .iter()
                    .map(|c| c.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        if self.tiers.is_empty() {
            return fail("a scheme needs at least one tier".to_owned());
        }
        let sets = std::iter::once(&self.requirements)
            .chain(self.tiers.iter().filter_map(|t| t.requirements.as_ref()));
        for set in sets {
            for list in [
                set_ids(&set.include),
                set_ids(&set.mandatory),
                Some(&set.exclude),
            ]
            .into_iter()
            .flatten()
            {
                for id in list {
                    if catalog.catalog.control(id).is_none() {
                        return fail(format!(
                            "requirement `{id}` is not in catalog `{}`",
                            self.catalog
                        ));
                    }
                }
            }
        }
        for tier in &self.tiers {
            for c in &tier.when {
                if let Some(problem) = c.validate() {
                    return fail(format!("tier `{}`: {problem}", tier.id));
                }
            }
        }
        if let Some(Err(invalid)) = self.post_market.as_ref().map(|p| p.validate()) {
            return fail(invalid.to_string());
        }
        Ok(())
    }

    /// The first tier whose conditions the declaration meets.
    pub fn tier(&self, facts: Facts<'_>) -> Option<&Tier> {
        self.tiers.iter().find(|t| all_hold(&t.when, facts))
    }

    /// The requirement set in force for a tier.
    pub fn requirements_for<'a>(&'a self, tier: Option<&'a Tier>) -> &'a RequirementSet {
        tier.and_then(|t| t.requirements.as_ref())
            .unwrap_or(&self.requirements)
    }
}

fn set_ids(s: &Selection) -> Option<&Vec<String>> {
    match s {
        Selection::Ids(ids) => Some(ids),
        _ => None,
    }
}

impl RequirementSet {
    /// Whether a control is assessed; `status` is its EN 303 645-style status prop, if any.
    pub fn includes(&self, id: &str, class: Option<&str>, status: Option<&str>) -> bool {
        class.is_some_and(|c| self.classes.iter().any(|k| k == c))
            && self.include.selects(id, status)
            && !self.exclude.iter().any(|e| e == id)
    }

    pub fn is_mandatory(&self, id: &str, status: Option<&str>) -> bool {
        self.mandatory.selects(id, status)
    }
}

/// Every bundled scheme, parsed and checked.
pub fn bundled_schemes(bundle: &Bundle) -> Result<Vec<Scheme>, AssessError> {
    iotmark_catalogs::bundled_schemes()
        .iter()
        .map(|(name, text)| Scheme::parse(name, text, bundle))
        .collect()
}
