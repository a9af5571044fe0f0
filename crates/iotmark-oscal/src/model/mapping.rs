//! The OSCAL 1.2 control mapping model: typed relationships between controls of two catalogs.

use serde::{Deserialize, Serialize};

use super::control::SelectControlById;
use super::metadata::{BackMatter, Link, Metadata, Property, ResponsibleParty};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MappingCollection {
    pub uuid: String,
    pub metadata: Metadata,
    pub provenance: MappingProvenance,
    pub mappings: Vec<Mapping>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MappingProvenance {
    pub method: MappingMethod,
    pub matching_rationale: MatchingRationale,
    pub status: MappingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<ConfidenceScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    pub mapping_description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingMethod {
    Human,
    Automation,
    Hybrid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchingRationale {
    Syntactic,
    Semantic,
    Functional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingStatus {
    Complete,
    NotComplete,
    Draft,
    Deprecated,
    Superseded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Mapping {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<MappingMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_rationale: Option<MatchingRationale>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<MappingStatus>,
    pub source_resource: ResourceReference,
    pub target_resource: ResourceReference,
    pub maps: Vec<Map>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_gap_summary: Option<GapSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_gap_summary: Option<GapSummary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<ConfidenceScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ResourceReference {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    #[serde(rename = "type")]
    pub resource_type: String,
    pub href: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// One relationship: `sources` *relationship* `targets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Map {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_rationale: Option<MatchingRationale>,
    pub relationship: String,
    pub sources: Vec<MappingItem>,
    pub targets: Vec<MappingItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<Qualifier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_score: Option<ConfidenceScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

impl Map {
    pub fn prop(&self, name: &str, ns: Option<&str>) -> Option<&str> {
        super::catalog::find_prop(&self.props, name, ns)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MappingItem {
    #[serde(rename = "type")]
    pub item_type: String,
    pub id_ref: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Qualifier {
    pub subject: String,
    pub predicate: String,
    pub category: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct GapSummary {
    pub uuid: String,
    pub unmapped_controls: Vec<SelectControlById>,
}

/// Either a category (`high`, `medium`, `low`, `unspecified`) or a percentage between 0 and 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConfidenceScore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<serde_json::Number>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Coverage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_method: Option<String>,
    pub target_coverage: serde_json::Number,
}
