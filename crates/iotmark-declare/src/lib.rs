//! The product declaration: one YAML or JSON file per product, written by the manufacturer.
//!
//! It says what the product is (components, firmware digests, interfaces, data), how it is
//! kept secure over time (NTIA update elements, support period, vulnerability disclosure,
//! default credentials), and what the manufacturer claims per requirement. `assess` turns it,
//! with evidence, into findings.
//!
//! [`check`] reports every problem with file, line and column, the expected form and a hint;
//! [`schema`] generates the JSON Schema editors use; [`scaffold`] writes a commented starting
//! point; [`to_component_definition`] exports it as OSCAL, and [`mud::to_mud`] as a
//! Manufacturer Usage Description (RFC 8520).

mod check;
mod model;
pub mod mud;
mod oscal;
pub mod scaffold;
pub mod schema;

pub use check::{
    CheckReport, Diagnostic, MAX_DECLARATION_BYTES, Severity, check, check_file, dotted, visible,
};
pub use model::*;
pub use oscal::to_component_definition;

/// The fuzz entry point: checks `data` as a YAML and as a JSON declaration. Shared by the
/// libFuzzer target and the corpus test so both run exactly the same code.
#[doc(hidden)]
pub fn fuzz_check(data: &[u8]) {
    let today = jiff::civil::date(2026, 1, 1);
    for name in ["fuzz.yaml", "fuzz.json"] {
        let report = check(
            std::path::Path::new(name),
            data,
            &|id| id.starts_with("en303645-"),
            today,
        );
        let _ = report.render();
    }
}
