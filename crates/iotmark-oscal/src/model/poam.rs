//! The OSCAL plan of action and milestones model (`plan-of-action-and-milestones`): the
//! weaknesses of a system still to be fixed, each a POA&M item tied to the observations, risks
//! and findings behind it.
//!
//! Observations, risks (with their remediations and milestone tasks) and findings are
//! `assessment-common` types, shared with assessment results and used from
//! [`super::assessment`]; the system identifier is the SSP's [`SystemId`]. Field names and
//! optionality follow `oscal-poam-oscal-poam:*` in the official 1.2.1 JSON schema: only
//! `uuid`, `metadata` and `poam-items` are required, so a POA&M can stand without the SSP.

use serde::{Deserialize, Serialize};

use super::assessment::{
    AssessmentAssets, AssociatedRisk, Finding, ImportSsp, InventoryItem, Observation, OriginActor,
    RelatedObservation, Risk, SystemComponent,
};
use super::metadata::{BackMatter, Link, Metadata, Property};
use super::ssp::SystemId;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PlanOfActionAndMilestones {
    pub uuid: String,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_ssp: Option<ImportSsp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_definitions: Option<PoamLocalDefinitions>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observations: Vec<Observation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risks: Vec<Risk>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    pub poam_items: Vec<PoamItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

/// The POA&M's `local-definitions`: components, inventory items and assessment assets not
/// defined in the SSP (or all of them, when there is no SSP).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PoamLocalDefinitions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<SystemComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory_items: Vec<InventoryItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_assets: Option<AssessmentAssets>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// One weakness to be dealt with (`poam-item`). The plan itself (remediations, milestones,
/// deadline, status) lives in the related [`Risk`]s.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PoamItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<PoamItemOrigin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_findings: Vec<RelatedFinding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_observations: Vec<RelatedObservation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_risks: Vec<AssociatedRisk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Who identified a POA&M item. Narrower than assessment-common's
/// [`Origin`](super::assessment::Origin): actors only, no related tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PoamItemOrigin {
    pub actors: Vec<OriginActor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RelatedFinding {
    pub finding_uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assessment::ActorType;
    use serde_json::json;

    const TOOL: &str = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d";
    const FINDING: &str = "3f4a5b6c-7d8e-4f9a-8b0c-1d2e3f4a5b6c";

    /// A POA&M with the parts the NIST example leaves out: local definitions, findings, item
    /// origins and related findings.
    #[test]
    fn poam_round_trips() {
        let value = json!({
            "uuid": "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e",
            "metadata": {
                "title": "Thermostat POA&M",
                "last-modified": "2025-02-05T09:00:00Z",
                "version": "1.0",
                "oscal-version": "1.2.1"
            },
            "system-id": { "id": "thermostat" },
            "local-definitions": {
                "components": [{
                    "uuid": TOOL, "type": "software", "title": "Port scanner",
                    "description": "Scanner.", "status": { "state": "operational" }
                }],
                "remarks": "No SSP yet."
            },
            "findings": [{
                "uuid": FINDING,
                "title": "prov-5.3-2 not satisfied",
                "description": "Updates are not signed.",
                "target": { "type": "statement-id", "target-id": "prov-5.3-2_smt", "status": { "state": "not-satisfied" } }
            }],
            "poam-items": [{
                "title": "Sign firmware updates",
                "description": "Add signature verification to the updater.",
                "origins": [{ "actors": [{ "type": "tool", "actor-uuid": TOOL }] }],
                "related-findings": [{ "finding-uuid": FINDING }]
            }]
        });
        let violations = crate::validate_value(
            crate::ModelKind::PlanOfActionAndMilestones,
            &json!({ "plan-of-action-and-milestones": value }),
        );
        assert!(violations.is_empty(), "{violations:#?}");
        let parsed: PlanOfActionAndMilestones =
            serde_json::from_value(value.clone()).expect("parses");
        assert_eq!(
            parsed.poam_items[0].origins[0].actors[0].actor_type,
            ActorType::Tool
        );
        assert_eq!(
            parsed.poam_items[0].related_findings[0].finding_uuid,
            FINDING
        );
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), value);
    }

    #[test]
    fn item_origins_have_no_tasks() {
        let origin = json!({
            "actors": [{ "type": "tool", "actor-uuid": TOOL }],
            "related-tasks": [{ "task-uuid": TOOL }]
        });
        assert!(serde_json::from_value::<PoamItemOrigin>(origin).is_err());
    }
}
