//! NIST OSCAL 1.2 for iotmark: typed models, loading from JSON or YAML, validation against the
//! official JSON schemas (bundled, checked offline), and profile resolution.
//!
//! Loading is one pipeline for every model: bytes → syntax check → which model is it (the
//! root key) → schema validation → typed value. Each stage reports the file and, where the
//! input says, the line and the JSON pointer of the problem.
//!
//! ```no_run
//! use iotmark_oscal::{Document, Loader};
//! let doc = Loader::default().load_path("profile.json".as_ref())?;
//! if let Document::Profile(profile) = doc {
//!     println!("{} imports", profile.imports.len());
//! }
//! # Ok::<(), iotmark_oscal::LoadError>(())
//! ```

mod document;
mod error;
pub mod locate;
pub mod model;
pub mod resolve;
mod schema;

pub use document::{Document, Format, Loader, ModelKind, write_json, write_yaml};
pub use error::{LoadError, SchemaViolation};
pub use model::catalog::{Catalog, Control, ControlRef, Group};
pub use model::mapping::MappingCollection;
pub use model::metadata::{BackMatter, Link, Metadata, Property};
pub use model::poam::PlanOfActionAndMilestones;
pub use model::profile::Profile;
pub use model::ssp::SystemSecurityPlan;
pub use resolve::{ResolveError, Resolver};
pub use schema::validate_value;

/// The fuzz entry point: loads `data` as JSON and as YAML with small limits, and, when it
/// is a profile, resolves it (imports then fail to load, which exercises the error paths).
/// Shared by the libFuzzer target and the corpus test so both run exactly the same code.
#[doc(hidden)]
pub fn fuzz_load(data: &[u8]) {
    let loader = Loader {
        max_bytes: 1 << 20,
        ..Loader::default()
    };
    for name in ["fuzz.json", "fuzz.yaml"] {
        if let Ok(Document::Profile(profile)) = loader.load_bytes(std::path::Path::new(name), data)
        {
            let _ = Resolver::new(loader.clone())
                .resolve(&profile, std::path::Path::new("/nonexistent"));
        }
    }
}

/// The OSCAL version iotmark writes and validates against.
pub const OSCAL_VERSION: &str = "1.2.1";
