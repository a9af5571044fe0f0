//! The declaration as an OSCAL component-definition: one component per product component,
//! with the product's claims as implemented requirements of the catalogs they name.

use std::collections::BTreeMap;

use iotmark_oscal::model::component::{
    ComponentDefinition, ControlImplementationSet, DefinedComponent, ImplementedRequirement,
};
use iotmark_oscal::{Metadata, Property};
use uuid::Uuid;

use crate::model::{ClaimStatus, Declaration};

const NS: &str = "https://iotmark.dev/ns/oscal";

fn uuid_for(declaration: &Declaration, what: &str) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!(
            "https://iotmark.dev/products/{}/{what}",
            declaration.product.id
        )
        .as_bytes(),
    )
    .to_string()
}

/// Exports the declaration. `source_of` gives the OSCAL source (href) of the catalog a
/// requirement ID belongs to, or `None` for IDs no catalog knows (those claims are skipped).
pub fn to_component_definition(
    declaration: &Declaration,
    last_modified: &str,
    source_of: &dyn Fn(&str) -> Option<String>,
) -> ComponentDefinition {
    let product = &declaration.product;
    let mut metadata = Metadata::new(
        format!(
            "{} {} ({})",
            product.manufacturer.name, product.name, product.model
        ),
        last_modified,
        "1",
    );
    metadata
        .props
        .push(Property::in_ns(NS, "product-id", product.id.clone()));
    metadata.remarks = product.description.clone();

    // Claims grouped by the catalog they belong to, each an implemented requirement.
    let mut by_source: BTreeMap<String, Vec<ImplementedRequirement>> = BTreeMap::new();
    for (id, claim) in &declaration.claims {
        let Some(source) = source_of(id) else {
            continue;
        };
        let status = match claim.status {
            ClaimStatus::Implemented => "implemented",
            ClaimStatus::Partial => "partial",
            ClaimStatus::Planned => "planned",
            ClaimStatus::NotApplicable => "not-applicable",
        };
        let mut props = vec![Property::new("implementation-status", status)];
        for e in &claim.evidence {
            props.push(Property::in_ns(NS, "evidence", e.clone()));
        }
        let description = claim
            .statement
            .clone()
            .or_else(|| claim.justification.clone())
            .unwrap_or_else(|| format!("{status} (no statement given)"));
        by_source
            .entry(source)
            .or_default()
            .push(ImplementedRequirement {
                uuid: uuid_for(declaration, &format!("claim/{id}")),
                control_id: id.clone(),
                description,
                props,
                links: Vec::new(),
                set_parameters: Vec::new(),
                responsible_roles: Vec::new(),
                statements: Vec::new(),
                remarks: None,
            });
    }

    let components = declaration
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut props = vec![
                Property::in_ns(NS, "component-type", c.component_type.as_str()),
                Property::new("version", c.version.clone()),
            ];
            for f in &c.firmware {
                let mut p = Property::in_ns(NS, "firmware-sha256", f.sha256.clone());
                p.remarks = Some(f.file.clone());
                props.push(p);
            }
            // The product's claims are attached to its first device, which carries them.
            let control_implementations = if i == 0 {
                by_source
                    .iter()
                    .map(|(source, reqs)| ControlImplementationSet {
                        uuid: uuid_for(declaration, &format!("ci/{source}")),
                        source: source.clone(),
                        description: format!("{}'s implementation claims", product.name),
                        set_parameters: Vec::new(),
                        implemented_requirements: reqs.clone(),
                        props: Vec::new(),
                        links: Vec::new(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            DefinedComponent {
                uuid: uuid_for(declaration, &format!("component/{}", c.id)),
                component_type: match c.component_type.as_str() {
                    "device" | "hub" => "hardware".to_owned(),
                    "app" => "software".to_owned(),
                    _ => "service".to_owned(),
                },
                title: c.name.clone(),
                description: format!(
                    "{} {} of {}",
                    c.component_type.as_str(),
                    c.version,
                    product.name
                ),
                purpose: None,
                props,
                links: Vec::new(),
                responsible_roles: Vec::new(),
                protocols: Vec::new(),
                control_implementations,
                remarks: None,
            }
        })
        .collect();

    ComponentDefinition {
        uuid: uuid_for(declaration, "component-definition"),
        metadata,
        import_component_definitions: Vec::new(),
        components,
        capabilities: Vec::new(),
        back_matter: None,
    }
}
