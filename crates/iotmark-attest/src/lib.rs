//! Signed conformity attestations for iotmark.
//!
//! A manufacturer (SDoC) or a certification body signs a statement that a firmware image,
//! identified by its SHA-256, conforms to a scheme: an [in-toto Statement v1] with one of our
//! predicate types, inside a [DSSE] envelope, signed with Ed25519. Suspension, revocation,
//! end of support and reinstatement are statements too, pointing at the envelope they change.
//! Verification is offline, against one public key or a trust policy in the form of C2SP
//! tlog-policy, and ends in a plain-words [`verify::Verdict`].
//!
//! * [`keys`]: key generation and files, the [`keys::Signer`] trait (an HSM can replace the
//!   file key), public keys as PEM and as signed-note verifier keys.
//! * [`digest`]: the SHA-256 digest type every envelope, statement and image is named by.
//! * [`dsse`]: the envelope, its PAE, strict parsing, signing and signature checks.
//! * [`statement`]: the Statement and our two predicates, their JSON Schemas, and building a
//!   conformity statement from OSCAL assessment results and a product declaration.
//! * [`verify`]: trust policies and the verdict.
//!
//! ```no_run
//! use std::path::Path;
//! use iotmark_attest::keys::{FileSigner, PublicKey, Signer};
//! use iotmark_attest::statement::{ConformityInput, Route, conformity_statement};
//! use iotmark_attest::verify::{Trust, verify};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = FileSigner::load(Path::new("acme.key"))?;
//! let path = Path::new("product.yaml");
//! let bytes = std::fs::read(path)?;
//! let declaration = iotmark_declare::check(path, &bytes, &|_| true, jiff::Zoned::now().date())
//!     .declaration
//!     .ok_or("the declaration has errors; `iotmark check product.yaml` lists them")?;
//! let results = std::fs::read("out/assessment-results.json")?;
//! let now = jiff::Timestamp::now();
//! let statement = conformity_statement(
//!     &results,
//!     Path::new("out/assessment-results.json"),
//!     &declaration,
//!     &ConformityInput {
//!         sbom_sha256: None,
//!         route: Route::Sdoc,
//!         profile: None,
//!         organisation: "Acme Devices Ltd".into(),
//!         key_id: signer.key_id(),
//!         issued: now,
//!         valid_until: now.checked_add(jiff::SignedDuration::from_hours(3 * 8766))?,
//!     },
//! )?;
//! let envelope = iotmark_attest::sign_statement(&statement, &signer)?.to_json();
//!
//! let key = PublicKey::load(Path::new("acme.pub"))?;
//! println!("{}", verify(envelope.as_bytes(), Trust::Key(&key), now)?);
//! # Ok(())
//! # }
//! ```
//!
//! [in-toto Statement v1]: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
//! [DSSE]: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md

pub mod cms;
pub mod digest;
pub mod dsse;
pub mod keys;
pub mod statement;
pub mod verify;

pub use digest::Sha256;

/// Signs a statement as a DSSE envelope with payload type `application/vnd.in-toto+json`.
/// For a conformity statement, `signer` must be the key its assessor names, or verification
/// refuses it.
pub fn sign_statement(
    statement: &statement::Statement,
    signer: &dyn keys::Signer,
) -> Result<dsse::Envelope, dsse::DsseError> {
    dsse::Envelope::sign(dsse::IN_TOTO_PAYLOAD_TYPE, statement.to_json(), &[signer])
}
