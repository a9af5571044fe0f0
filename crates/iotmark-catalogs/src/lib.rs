//! The catalogs iotmark ships: our OSCAL encodings of NIST IR 8259/8259A/8259B, IR 8425,
//! SP 800-213A, ETSI EN 303 645, the EU CRA Annex I and the NTIA update elements; the OSCAL
//! mapping collections between them; and the NISTIR 8200 standards landscape.
//!
//! The data lives in the workspace's `catalogs/` directory (see `docs/CATALOGS.md`) and is
//! compiled into the binary, so every command works offline. Everything here is read-only
//! and parsed once per process.
//!
//! ```
//! let bundle = iotmark_catalogs::Bundle::get();
//! let en = bundle.catalog("en303645").expect("bundled");
//! assert_eq!(en.count_class("provision"), 68); // 67 in clauses 5 and 6, plus 4-1
//! let hops = bundle.crosswalk().map("en303645-5.1-1", "cra-annex-i", 3);
//! assert!(!hops.is_empty());
//! ```

mod bundle;
mod crosswalk;
pub mod export;
mod landscape;
mod search;

pub use bundle::{
    Bundle, BundleError, BundledCatalog, BundledMapping, ControlHit, NS, SP800_53_KEY,
};
pub use crosswalk::{Crosswalk, Edge, Hop, MappedControl, Relationship};
pub use landscape::{ApplicationArea, Area, CoreArea, Landscape, Standard};
pub use search::SearchHit;

/// The bundled conformity schemes, as (id, YAML text); `iotmark-assess` parses them.
pub fn bundled_schemes() -> &'static [(&'static str, &'static str)] {
    bundle::files::SCHEME_FILES
}

/// The bundled assessment rules, as (catalog key, YAML text).
pub fn bundled_rules() -> &'static [(&'static str, &'static str)] {
    bundle::files::RULE_FILES
}
