//! Vulnerability intelligence for iotmark: the answer to "no known exploitable
//! vulnerabilities" (EN 303 645 5.3, IR 8425's software-update outcome, CRA Annex I) for the
//! components a scan found or an SBOM lists.
//!
//! - [`model`]: advisories in their sources' own terms, KEV entries and VEX statements;
//! - [`component`]: what is matched, and [`sbom`]: reading it from CycloneDX or SPDX;
//! - [`version`]: each ecosystem's version order (dpkg, rpm, apk, SemVer, PEP 440, NVD's
//!   upstream versions), NVD bounds and OSV range events;
//! - [`cpe`]: CPE 2.3 names (formatted string and 2.2 URI) and NISTIR 7696 name matching;
//! - [`nvd`], [`cve5`], [`osv`] (with [`zip`] for OSV's exports) and [`kev`]: the public
//!   feeds read into the model, every record's errors by file and JSON pointer; [`cvss`]
//!   scores the vectors a source gives without a score;
//! - [`store`]: the local store the feeds are imported into ([`import`]), filed by [`keys`];
//! - [`matching`]: advisories against components, with back-ports, VEX and KEV, and
//!   [`report`]: its JSON, SARIF, HTML and evidence;
//! - [`csaf`]: CSAF 2.0 advisories and VEX, and [`vex`]: VEX read and written as CSAF,
//!   OpenVEX and CycloneDX.

pub mod component;
pub mod cpe;
pub mod csaf;
pub mod cve5;
pub mod cvss;
pub mod error;
mod feed_value;
pub mod import;
pub mod kev;
pub mod keys;
pub mod matching;
pub mod model;
pub mod nvd;
pub mod osv;
pub mod purl;
pub mod report;
pub mod sbom;
pub mod store;
pub mod version;
pub mod vex;
pub mod zip;

pub use component::{Component, Fix};
pub use error::{Read, ReadError};
