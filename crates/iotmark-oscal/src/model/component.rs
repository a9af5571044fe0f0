//! The OSCAL component definition model: reusable components and capabilities, and how they
//! implement controls, plus the `implementation-common` pieces it uses (protocols, port ranges,
//! parameter settings).

use serde::{Deserialize, Serialize};

use super::metadata::{BackMatter, Link, Metadata, Property, ResponsibleRole};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ComponentDefinition {
    pub uuid: String,
    pub metadata: Metadata,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import_component_definitions: Vec<ImportComponentDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<DefinedComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<Capability>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_matter: Option<BackMatter>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImportComponentDefinition {
    pub href: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A component (`defined-component`): software, hardware, a service, a policy, and so on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DefinedComponent {
    pub uuid: String,
    /// `software`, `hardware`, `service`, … (the allowed values may be extended).
    #[serde(rename = "type")]
    pub component_type: String,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<Protocol>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_implementations: Vec<ControlImplementationSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A grouping of components that together provide a capability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Capability {
    pub uuid: String,
    pub name: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incorporates_components: Vec<IncorporatesComponent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub control_implementations: Vec<ControlImplementationSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct IncorporatesComponent {
    pub component_uuid: String,
    pub description: String,
}

/// The controls a component or capability implements from one catalog or profile
/// (`control-implementation`, whose `source` points at it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ControlImplementationSet {
    pub uuid: String,
    pub source: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_parameters: Vec<ImplSetParameter>,
    pub implemented_requirements: Vec<ImplementedRequirement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplementedRequirement {
    pub uuid: String,
    pub control_id: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub props: Vec<Property>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_parameters: Vec<ImplSetParameter>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responsible_roles: Vec<ResponsibleRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<Statement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// How one statement (a part of the control's `statement`) is implemented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Statement {
    pub statement_id: String,
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

/// A parameter value set by an implementation (`implementation-common:set-parameter`);
/// unlike a profile's `set-parameter` it carries only values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImplSetParameter {
    pub param_id: String,
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// A service protocol (`protocol`). OSCAL 1.2's JSON schema makes every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Protocol {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The IANA service name, such as `https`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub port_ranges: Vec<PortRange>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PortRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Transport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Transport {
    Tcp,
    Udp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn component_definition_round_trips() {
        let value = json!({
            "uuid": "8d0c7a0e-3b7c-4c1e-9a53-0f3b1f2d6a10",
            "metadata": {
                "title": "Smart thermostat firmware",
                "last-modified": "2025-01-15T10:00:00Z",
                "version": "1.0",
                "oscal-version": "1.2.1",
                "roles": [{ "id": "provider", "title": "Provider" }],
                "parties": [{
                    "uuid": "0b6d4c4e-7a0f-4c9b-8f36-2d1e5e0a9b11",
                    "type": "organization",
                    "name": "Acme Devices"
                }]
            },
            "import-component-definitions": [{ "href": "platform-components.json" }],
            "components": [{
                "uuid": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
                "type": "software",
                "title": "Thermostat firmware",
                "description": "Firmware running on the thermostat's main MCU.",
                "purpose": "Controls heating and exposes a local API.",
                "props": [{ "name": "version", "value": "4.2.0" }],
                "responsible-roles": [{
                    "role-id": "provider",
                    "party-uuids": ["0b6d4c4e-7a0f-4c9b-8f36-2d1e5e0a9b11"]
                }],
                "protocols": [{
                    "uuid": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
                    "name": "https",
                    "title": "HTTPS",
                    "port-ranges": [{ "start": 443, "end": 443, "transport": "TCP" }]
                }],
                "control-implementations": [{
                    "uuid": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70",
                    "source": "https://example.com/etsi-en-303-645-profile.json",
                    "description": "ETSI EN 303 645 provisions met by the firmware.",
                    "set-parameters": [{ "param-id": "prm-5.3-1", "values": ["7 days"] }],
                    "implemented-requirements": [{
                        "uuid": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7081",
                        "control-id": "prov-5.1-1",
                        "description": "No universal default passwords are used.",
                        "props": [{ "name": "implementation-status", "value": "implemented" }],
                        "statements": [{
                            "statement-id": "prov-5.1-1_smt",
                            "uuid": "f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f708192",
                            "description": "Each device gets a unique password at manufacture.",
                            "responsible-roles": [{ "role-id": "provider" }]
                        }]
                    }]
                }]
            }],
            "capabilities": [{
                "uuid": "a7b8c9d0-e1f2-4a3b-8c4d-5e6f708192a3",
                "name": "Secure update",
                "description": "Signed over-the-air updates.",
                "incorporates-components": [{
                    "component-uuid": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
                    "description": "Verifies update signatures."
                }]
            }]
        });
        let document = json!({ "component-definition": value });
        let violations = crate::validate_value(crate::ModelKind::ComponentDefinition, &document);
        assert!(violations.is_empty(), "{violations:#?}");
        let parsed: ComponentDefinition =
            serde_json::from_value(value.clone()).expect("deserializes");
        let component = &parsed.components[0];
        assert_eq!(
            component.protocols[0].port_ranges[0].transport,
            Some(Transport::Tcp)
        );
        let requirement = &component.control_implementations[0].implemented_requirements[0];
        assert_eq!(requirement.statements[0].statement_id, "prov-5.1-1_smt");
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), value);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let value = json!({ "param-id": "p1", "values": ["x"], "select": {} });
        assert!(serde_json::from_value::<ImplSetParameter>(value).is_err());
    }
}
