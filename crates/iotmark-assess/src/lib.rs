//! Assessment: schemes, rules and the engine that turns a declaration and evidence into a
//! finding per requirement, with the reports people and machines read.
//!
//! Schemes and rules are data (`catalogs/schemes/`, `catalogs/rules/`, docs/ASSESSMENT.md);
//! this crate parses and checks them, picks the product's risk tier and route, decides each
//! requirement on named evidence, and renders the result as OSCAL assessment plan and
//! results, SARIF 2.1.0, Markdown, a self-contained HTML page and JSON.

pub mod condition;
mod engine;
mod error;
pub mod report;
mod rules;
mod scheme;

pub use engine::{Assessment, Assessor, EvidenceRef, Finding, Status, Verdict};
pub use error::AssessError;
pub use rules::{Rule, RuleBook};
pub use scheme::{Obligations, RequirementSet, Route, Scheme, Selection, Tier, bundled_schemes};
