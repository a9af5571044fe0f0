//! Validation against the official OSCAL 1.2.1 JSON schemas.
//!
//! The schemas are NIST's release files, compiled into the binary from
//! `../shared/reference/oscal-1.2-json-schema/` so validation never touches the network.
//! Each validator is built once per process, on first use.

use std::sync::OnceLock;

use serde_json::Value;

use crate::document::ModelKind;
use crate::error::SchemaViolation;

macro_rules! schema_file {
    ($name:literal) => {
        include_str!(concat!(
            "../../../../shared/reference/oscal-1.2-json-schema/",
            $name
        ))
    };
}

fn schema_text(kind: ModelKind) -> &'static str {
    match kind {
        ModelKind::Catalog => schema_file!("oscal_catalog_schema.json"),
        ModelKind::Profile => schema_file!("oscal_profile_schema.json"),
        ModelKind::ComponentDefinition => schema_file!("oscal_component_schema.json"),
        ModelKind::AssessmentPlan => schema_file!("oscal_assessment-plan_schema.json"),
        ModelKind::AssessmentResults => schema_file!("oscal_assessment-results_schema.json"),
        ModelKind::MappingCollection => schema_file!("oscal_mapping_schema.json"),
        ModelKind::SystemSecurityPlan => schema_file!("oscal_ssp_schema.json"),
        ModelKind::PlanOfActionAndMilestones => schema_file!("oscal_poam_schema.json"),
    }
}

type Compiled = Result<jsonschema::Validator, String>;

fn validator(kind: ModelKind) -> &'static Compiled {
    static CELLS: [OnceLock<Compiled>; ModelKind::ALL.len()] =
        [const { OnceLock::new() }; ModelKind::ALL.len()];
    let index = ModelKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    CELLS[index].get_or_init(|| {
        let schema: Value = serde_json::from_str(schema_text(kind)).map_err(|e| e.to_string())?;
        jsonschema::draft7::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| e.to_string())
    })
}

/// Validates a whole document (with its root key) against the schema of `kind`.
/// An empty list means the document is valid. Lines are not filled in here: only the caller
/// has the source text.
pub fn validate_value(kind: ModelKind, document: &Value) -> Vec<SchemaViolation> {
    match validator(kind) {
        Ok(v) => v
            .iter_errors(document)
            .map(|e| SchemaViolation {
                pointer: e.instance_path().to_string(),
                line: None,
                column: None,
                message: shorten(&e.to_string()),
            })
            .collect(),
        // The bundled schemas are fixed at build time and tested; this branch means the
        // binary itself is broken, which we still report rather than panic on.
        Err(e) => vec![SchemaViolation {
            pointer: String::new(),
            line: None,
            column: None,
            message: format!("internal error: the bundled {kind} schema does not compile: {e}"),
        }],
    }
}

/// Validator messages quote the whole offending value, which for a control can be pages long.
fn shorten(message: &str) -> String {
    const MAX: usize = 300;
    if message.len() <= MAX {
        return message.to_owned();
    }
    let mut cut = MAX;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &message[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_schema_compiles() {
        for kind in ModelKind::ALL {
            assert!(
                validator(kind).is_ok(),
                "{kind}: {:?}",
                validator(kind).as_ref().err()
            );
        }
    }
}
