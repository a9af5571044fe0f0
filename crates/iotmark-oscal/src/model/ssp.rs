//! The OSCAL system security plan model (`system-security-plan`): what the system is, what it
//! is made of, and how each control of its baseline is implemented, by which component.
//!
//! The `implementation-common` pieces it shares with the assessment models (system components,
//! inventory items, users, implementation status) live in [`super::assessment`], and the
//! implementation's `set-parameter` in [`super::component`]; they are used from there, not
//! repeated. Field names and optionality follow `oscal-ssp-oscal-ssp:*` in the official 1.2.1
//! JSON schema, which in places differs from OSCAL 1.1: for instance `system-implementation`
//! no longer requires `users`, and an information type's three impacts are optional.

use serde::{Deserialize, Serialize};

use super::assessment::{ImplementationStatus, InventoryItem, SystemComponent, SystemUser};
use super::component::ImplSetParameter;
use super::metadata::{BackMatter, Link, Metadata, Property, ResponsibleParty, ResponsibleRole};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemSecurityPlan {
    pub uuid: String,
    pub metadata: Metadata,
    pub import_profile: ImportProfile,
    pub system_characteristics: SystemCharacteristics,
    pub system_implementation: SystemImplementation,
    pub control_implementation: ControlImplementation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

impl SystemSecurityPlan {
    /// The component of `system-implementation` with this UUID.
    pub fn component(&self, uuid: &str) -> Option<&SystemComponent> {
        self.system_implementation
            .components
            .iter()
            .find(|c| c.uuid == uuid)
    }

    /// Adds a component to `system-implementation`. A component with the same UUID is
    /// replaced where it stands, so that re-adding an updated component keeps the order (and
    /// the diff of a regenerated plan) stable; otherwise the component is appended.
    pub fn add_component(&mut self, component: SystemComponent) {
        let components = &mut self.system_implementation.components;
        match components.iter_mut().find(|c| c.uuid == component.uuid) {
            Some(existing) => *existing = component,
            None => components.push(component),
        }
    }
}

/// The profile (baseline) the plan implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportProfile {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// System characteristics
// ---------------------------------------------------------------------------------------------

/// What the system is: its names, categorization, status and boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemCharacteristics {
    pub system_ids: Vec<SystemId>,
    pub system_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_name_short: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// A date (`2025-01-31`, optionally with a time zone), not a date-time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_authorized: Option<String>,
    /// `low`, `moderate`, `high`, … (open: the schema allows any string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_sensitivity_level: Option<String>,
    pub system_information: SystemInformation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_impact_level: Option<SecurityImpactLevel>,
    pub status: SystemStatus,
    pub authorization_boundary: DiagramSection,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_architecture: Option<DiagramSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_flow: Option<DiagramSection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_parties: Vec<ResponsibleParty>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// An identifier of a system (`implementation-common:system-id`), also used by the POA&M.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemId {
    /// The identification system, a URI such as `https://ietf.org/rfc/rfc4122` or
    /// `http://fedramp.gov/ns/oscal` (may be extended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_type: Option<String>,
    pub id: String,
}

/// The kinds of information the system handles (`system-information`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemInformation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub information_types: Vec<InformationType>,
}

/// One kind of information, how it is categorized, and its impact levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InformationType {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categorizations: Vec<InformationTypeCategorization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidentiality_impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity_impact: Option<Impact>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability_impact: Option<Impact>,
}

/// Where an information type comes from in a taxonomy (`categorizations[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InformationTypeCategorization {
    /// The taxonomy, such as `http://doi.org/10.6028/NIST.SP.800-60v2r1` (may be extended).
    pub system: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub information_type_ids: Vec<String>,
}

/// The impact of losing one security objective for an information type (`impact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Impact {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// The level the taxonomy recommends, such as `fips-199-moderate` (open).
    pub base: String,
    /// The level chosen for this system, when it differs from `base`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_justification: Option<String>,
}

/// The system's overall impact level per security objective (FIPS 199 high-water mark).
/// Values are open strings such as `fips-199-low`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SecurityImpactLevel {
    pub security_objective_confidentiality: String,
    pub security_objective_integrity: String,
    pub security_objective_availability: String,
}

/// The system's lifecycle `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemStatus {
    pub state: SystemState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A system's operational state. The schema closes this list (unlike a component's state,
/// it has `under-major-modification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SystemState {
    Operational,
    UnderDevelopment,
    UnderMajorModification,
    Disposition,
    Other,
}

/// A description with diagrams. OSCAL's `authorization-boundary`, `network-architecture` and
/// `data-flow` have exactly these fields, so one type serves all three.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DiagramSection {
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagrams: Vec<Diagram>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A diagram; the image itself is referenced by a link (usually `rel: diagram`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Diagram {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// System implementation
// ---------------------------------------------------------------------------------------------

/// What the system is made of: components, inventory, users, and the authorizations of other
/// systems it relies on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SystemImplementation {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leveraged_authorizations: Vec<LeveragedAuthorization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<SystemUser>,
    /// Required, and the schema wants at least one (by convention the `this-system` one).
    pub components: Vec<SystemComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inventory_items: Vec<InventoryItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// An authorization of another system (such as a cloud platform) this one inherits from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LeveragedAuthorization {
    pub uuid: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    pub party_uuid: String,
    /// A date, not a date-time.
    pub date_authorized: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Control implementation
// ---------------------------------------------------------------------------------------------

/// How the controls of the imported profile are implemented (`control-implementation`).
/// Unlike a component definition's, it has no `uuid` or `source`: the source is the
/// imported profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ControlImplementation {
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_parameters: Vec<ImplSetParameter>,
    pub implemented_requirements: Vec<SspImplementedRequirement>,
}

/// How one control is implemented in the system (the SSP's `implemented-requirement`; it
/// differs from a component definition's, which has a required `description` and no
/// `by-components`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SspImplementedRequirement {
    pub uuid: String,
    pub control_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_parameters: Vec<ImplSetParameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<SspStatement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_components: Vec<ByComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// How one statement of a control is implemented (the SSP's `statement`: no `description`
/// of its own; the prose is in each `by-component`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SspStatement {
    pub statement_id: String,
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_components: Vec<ByComponent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// What one component does towards a control or statement (`by-component`), and what it
/// exports to, inherits from or satisfies for leveraging systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ByComponent {
    pub component_uuid: String,
    pub uuid: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_parameters: Vec<ImplSetParameter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation_status: Option<ImplementationStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Export>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited: Vec<InheritedImplementation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub satisfied: Vec<SatisfiedResponsibility>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// What a component offers systems that leverage this one (`export`): capabilities it
/// provides and responsibilities left to the leveraging system.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Export {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provided: Vec<ProvidedImplementation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsibilities: Vec<ImplementationResponsibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A control capability this system provides to leveraging systems (`provided[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ProvidedImplementation {
    pub uuid: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// What a leveraging system must do itself (`responsibilities[]`), optionally tied to a
/// provided capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplementationResponsibility {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_uuid: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A capability inherited from a leveraged system (`inherited[]`). The schema gives it no
/// `remarks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InheritedImplementation {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provided_uuid: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
}

/// How this system meets a responsibility a leveraged system left to it (`satisfied[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SatisfiedResponsibility {
    pub uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsibility_uuid: Option<String>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::assessment::{ComponentState, SystemComponentStatus};
    use serde_json::json;

    const THIS_SYSTEM: &str = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d";
    const FIRMWARE: &str = "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e";
    const PROVIDED: &str = "2c3d4e5f-6a7b-4c8d-8e9f-0a1b2c3d4e5f";

    /// An SSP using every structure the NIST examples leave out: diagrams, leveraged
    /// authorizations, implementation status, inherited and satisfied responsibilities.
    fn plan() -> serde_json::Value {
        json!({
            "uuid": "3d4e5f6a-7b8c-4d9e-9f0a-1b2c3d4e5f6a",
            "metadata": {
                "title": "Thermostat SSP",
                "last-modified": "2025-02-01T09:00:00Z",
                "version": "1.0",
                "oscal-version": "1.2.1",
                "parties": [{ "uuid": "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b", "type": "organization", "name": "Acme" }]
            },
            "import-profile": { "href": "etsi-en-303-645-profile.json" },
            "system-characteristics": {
                "system-ids": [{ "identifier-type": "https://ietf.org/rfc/rfc4122", "id": THIS_SYSTEM }],
                "system-name": "Smart thermostat",
                "system-name-short": "THERMO",
                "description": "A connected thermostat and its cloud service.",
                "date-authorized": "2025-01-31",
                "security-sensitivity-level": "low",
                "system-information": {
                    "information-types": [{
                        "title": "Room temperature history",
                        "description": "Readings kept for scheduling.",
                        "categorizations": [{ "system": "http://doi.org/10.6028/NIST.SP.800-60v2r1", "information-type-ids": ["C.3.5.8"] }],
                        "confidentiality-impact": { "base": "fips-199-low", "selected": "fips-199-moderate", "adjustment-justification": "Reveals occupancy." },
                        "integrity-impact": { "base": "fips-199-low" },
                        "availability-impact": { "base": "fips-199-low" }
                    }]
                },
                "security-impact-level": {
                    "security-objective-confidentiality": "fips-199-moderate",
                    "security-objective-integrity": "fips-199-low",
                    "security-objective-availability": "fips-199-low"
                },
                "status": { "state": "under-major-modification", "remarks": "New radio." },
                "authorization-boundary": {
                    "description": "The device and its cloud tenant.",
                    "diagrams": [{
                        "uuid": "5f6a7b8c-9d0e-4f1a-9b2c-3d4e5f6a7b8c",
                        "caption": "Boundary",
                        "links": [{ "href": "#boundary-png", "rel": "diagram" }]
                    }]
                },
                "network-architecture": { "description": "Wi-Fi to the home router, TLS to the cloud." },
                "data-flow": { "description": "Readings flow to the cloud every minute." }
            },
            "system-implementation": {
                "leveraged-authorizations": [{
                    "uuid": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
                    "title": "Cloud platform",
                    "party-uuid": "4e5f6a7b-8c9d-4e0f-8a1b-2c3d4e5f6a7b",
                    "date-authorized": "2024-06-01"
                }],
                "components": [
                    { "uuid": THIS_SYSTEM, "type": "this-system", "title": "This system", "description": "The whole system.", "status": { "state": "operational" } },
                    { "uuid": FIRMWARE, "type": "software", "title": "Firmware", "description": "Device firmware.", "status": { "state": "under-development" } }
                ]
            },
            "control-implementation": {
                "description": "ETSI EN 303 645 provisions.",
                "set-parameters": [{ "param-id": "prm-5.3-1", "values": ["7 days"] }],
                "implemented-requirements": [{
                    "uuid": "7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",
                    "control-id": "prov-5.1-1",
                    "by-components": [{
                        "component-uuid": FIRMWARE,
                        "uuid": "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f",
                        "description": "Unique password per device.",
                        "implementation-status": { "state": "implemented" },
                        "export": {
                            "provided": [{ "uuid": PROVIDED, "description": "Password generation." }],
                            "responsibilities": [{ "uuid": "9d0e1f2a-3b4c-4d5e-9f6a-7b8c9d0e1f2a", "provided-uuid": PROVIDED, "description": "Print the password on the label." }]
                        },
                        "inherited": [{ "uuid": "0e1f2a3b-4c5d-4e6f-8a7b-8c9d0e1f2a3b", "provided-uuid": PROVIDED, "description": "Platform secret store." }],
                        "satisfied": [{ "uuid": "1f2a3b4c-5d6e-4f7a-9b8c-9d0e1f2a3b4c", "description": "We rotate the secret yearly." }]
                    }],
                    "statements": [{
                        "statement-id": "prov-5.1-1_smt",
                        "uuid": "2a3b4c5d-6e7f-4a8b-8c9d-0e1f2a3b4c5d",
                        "by-components": [{
                            "component-uuid": THIS_SYSTEM,
                            "uuid": "3b4c5d6e-7f8a-4b9c-9d0e-1f2a3b4c5d6e",
                            "description": "No universal default password."
                        }]
                    }]
                }]
            }
        })
    }

    #[test]
    fn system_security_plan_round_trips() {
        let value = plan();
        let violations = crate::validate_value(
            crate::ModelKind::SystemSecurityPlan,
            &json!({ "system-security-plan": value }),
        );
        assert!(violations.is_empty(), "{violations:#?}");
        let parsed: SystemSecurityPlan = serde_json::from_value(value.clone()).expect("parses");
        let characteristics = &parsed.system_characteristics;
        assert_eq!(
            characteristics.status.state,
            SystemState::UnderMajorModification
        );
        let by_component =
            &parsed.control_implementation.implemented_requirements[0].by_components[0];
        assert_eq!(
            by_component.inherited[0].provided_uuid.as_deref(),
            Some(PROVIDED)
        );
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), value);
    }

    #[test]
    fn add_component_replaces_by_uuid_and_appends_otherwise() {
        let mut ssp: SystemSecurityPlan = serde_json::from_value(plan()).expect("parses");
        let mut firmware = ssp.component(FIRMWARE).expect("present").clone();
        firmware.status = SystemComponentStatus {
            state: ComponentState::Operational,
            remarks: None,
        };
        ssp.add_component(firmware);
        let uuids: Vec<&str> = ssp
            .system_implementation
            .components
            .iter()
            .map(|c| c.uuid.as_str())
            .collect();
        assert_eq!(uuids, [THIS_SYSTEM, FIRMWARE], "replaced in place");
        assert_eq!(
            ssp.component(FIRMWARE).map(|c| c.status.state),
            Some(ComponentState::Operational)
        );

        let mut radio = ssp.component(FIRMWARE).expect("present").clone();
        radio.uuid = "4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e7f".to_owned();
        radio.title = "Radio module".to_owned();
        ssp.add_component(radio);
        assert_eq!(ssp.system_implementation.components.len(), 3);
        assert_eq!(
            ssp.component("4c5d6e7f-8a9b-4c0d-8e1f-2a3b4c5d6e7f")
                .map(|c| c.title.as_str()),
            Some("Radio module")
        );
        assert!(ssp.component("no-such-uuid").is_none());
    }

    #[test]
    fn system_state_is_a_closed_set() {
        let status = json!({ "state": "retired" });
        assert!(serde_json::from_value::<SystemStatus>(status).is_err());
    }
}
