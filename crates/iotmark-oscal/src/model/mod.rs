//! Rust types for the OSCAL 1.2 models, one module per OSCAL module.
//!
//! Every struct denies unknown fields: a document that parses here has lost nothing, which is
//! what makes a round-trip faithful. Optional arrays are empty `Vec`s (OSCAL forbids empty
//! arrays, so "absent" and "empty" are the same thing) and are omitted when written.

pub mod assessment;
pub mod catalog;
pub mod component;
pub mod control;
pub mod mapping;
pub mod metadata;
pub mod poam;
pub mod profile;
pub mod ssp;
