//! The workflows of iotmark, shared by the command line and the registry.
//!
//! The crates below this one hold data models and formats; this one holds what is done with
//! them, once, so that `iotmark attest`, `iotmark log append` and a registry submission take
//! the same path from their input to the log leaf:
//!
//! * [`assessment`]: load a declaration, find a scheme, write the assessment's reports.
//! * [`attesting`]: an assessment's results, the declaration, the scheme and a signer become
//!   a signed conformity envelope; a status change of an envelope becomes another.
//! * [`attestation`]: an envelope (untrusted bytes) is parsed and verified once into a typed
//!   [`attestation::Attestation`], whose digests, times and kinds are types; it gives the log
//!   leaf that records it.
//! * [`log_key`]: the log's checkpoint signer from an attestation key file.
//! * [`mud`]: a declaration becomes a Manufacturer Usage Description (RFC 8520), signed.
//! * [`procure`]: an SP 800-53 baseline becomes SP 800-213A device requirements, and
//!   candidate products are compared against them.
//!
//! The binary and the server parse their arguments or requests, call these functions, and
//! print or answer; neither holds a workflow of its own.

pub mod assessment;
pub mod attestation;
pub mod attesting;
pub mod log_key;
pub mod mud;
pub mod procure;
