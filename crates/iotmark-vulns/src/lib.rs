//! Vulnerability intelligence for iotmark: the answer to "no known exploitable
//! vulnerabilities" (EN 303 645 5.3, IR 8425's software-update outcome, CRA Annex I) for the
//! components a scan found or an SBOM lists.
//!
//! - [`model`]: advisories in their sources' own terms, KEV entries and VEX statements;
//! - [`component`]: what is matched;
//! - [`version`]: each ecosystem's version order (dpkg, rpm, apk, SemVer, PEP 440, NVD's
//!   upstream versions), NVD bounds and OSV range events;
//! - [`cpe`]: CPE 2.3 names (formatted string and 2.2 URI) and NISTIR 7696 name matching.

pub mod component;
pub mod cpe;
pub mod error;
pub mod model;
pub mod version;

pub use component::{Component, Fix};
pub use error::{Read, ReadError};
