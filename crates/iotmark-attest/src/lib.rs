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
//! * [`dsse`]: the envelope, its PAE, strict parsing, signing and signature checks.
//! * [`statement`]: the Statement and our two predicates, their JSON Schemas, and building a
//!   conformity statement from OSCAL assessment results and a product declaration.
//! * [`verify`]: trust policies and the verdict.
//!
//! [in-toto Statement v1]: https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md
//! [DSSE]: https://github.com/secure-systems-lab/dsse/blob/master/protocol.md

pub mod dsse;
pub mod keys;
pub mod statement;
pub mod verify;
