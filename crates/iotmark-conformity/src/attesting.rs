//! Signing: an assessment becomes a conformity attestation, and an attestation's status
//! changes become status attestations.

use std::path::Path;

use iotmark_assess::{AssessError, Scheme};
use iotmark_attest::Sha256;
use iotmark_attest::dsse::DsseError;
use iotmark_attest::keys::Signer;
use iotmark_attest::statement::{
    AssessedResults, BuildError, ConformityInput, Party, Predicate, Route, Statement,
    StatementError, StatusKind, conformity_statement_from,
};
use iotmark_catalogs::Bundle;
use iotmark_declare::Declaration;

use crate::assessment::resolve_scheme;

/// Why nothing was signed.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Statement(#[from] StatementError),
    #[error("cannot sign: {0}")]
    Sign(#[from] DsseError),
    #[error(transparent)]
    Scheme(#[from] AssessError),
    #[error("{file} defines scheme {defined:?}, but the results were assessed under {assessed:?}")]
    SchemeMismatch {
        file: String,
        defined: String,
        assessed: String,
    },
    #[error("the results were assessed under scheme {scheme:?}; pass its file with --scheme")]
    SchemeNotFound {
        scheme: String,
        #[source]
        source: AssessError,
    },
    #[error("a certification is signed by the certification body: name it with --organisation")]
    CertifierUnnamed,
    #[error("{issued} plus the scheme's {months} months of validity is not a time: {reason}")]
    Validity {
        issued: jiff::Timestamp,
        months: u32,
        reason: String,
    },
    #[error("{name} is not a DSSE envelope carrying an iotmark statement: {reason}")]
    NotAnAttestation { name: String, reason: String },
    #[error(
        "{name} is itself a status attestation; a status change refers to the conformity attestation"
    )]
    StatusOfStatus { name: String },
}

/// A signed attestation, ready to be written or submitted.
#[derive(Debug, Clone)]
pub struct Signed {
    pub statement: Statement,
    /// The DSSE envelope as JSON: these exact bytes are what is published and logged.
    pub envelope: String,
    pub envelope_sha256: Sha256,
}

/// Now, to the second: attestations are read by people, and sub-second precision in an issue
/// date only adds noise.
pub fn now_to_the_second() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The end of an attestation's validity: `issued` plus the scheme's validity in calendar
/// months, counted in UTC. The registry refuses any attestation valid for longer.
pub fn valid_until(issued: jiff::Timestamp, months: u32) -> Result<jiff::Timestamp, AttestError> {
    issued
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().months(i64::from(months)))
        .map(|t| t.timestamp())
        .map_err(|e| AttestError::Validity {
            issued,
            months,
            reason: e.to_string(),
        })
}

/// What a conformity attestation is made from.
#[allow(missing_debug_implementations)] // holds a signer, and signers are never printed
pub struct ConformityRequest<'a> {
    /// The bytes of `assessment-results.json` as `iotmark assess --out` wrote them.
    pub results: &'a [u8],
    /// Their file, for messages.
    pub results_path: &'a Path,
    pub declaration: &'a Declaration,
    /// A scheme file to use instead of the bundled scheme the results name.
    pub scheme_file: Option<&'a Path>,
    pub route: Route,
    /// The signing organisation; for an SDoC, the declaration's manufacturer when `None`.
    pub organisation: Option<String>,
    pub signer: &'a dyn Signer,
    pub issued: jiff::Timestamp,
    /// SHA-256 of the SBOM of the attested images, bound into the attestation so a registry
    /// can watch the version for new vulnerabilities.
    pub sbom_sha256: Option<Sha256>,
}

/// Signs a conformity attestation: the results are read once, their scheme found (bundled,
/// or the file given, which must be the same scheme), validity set by the scheme, and the
/// statement built and signed. Refuses a product that does not conform and a route weaker
/// than the tier needs.
pub fn attest(request: &ConformityRequest<'_>) -> Result<Signed, AttestError> {
    let assessed = AssessedResults::read(request.results, request.results_path)?;
    let bundle = Bundle::get();
    let scheme = match request.scheme_file {
        Some(file) => {
            let scheme = Scheme::load(file, bundle)?;
            if scheme.id != assessed.scheme {
                return Err(AttestError::SchemeMismatch {
                    file: file.display().to_string(),
                    defined: scheme.id,
                    assessed: assessed.scheme,
                });
            }
            scheme
        }
        None => resolve_scheme(&assessed.scheme, bundle).map_err(|source| {
            AttestError::SchemeNotFound {
                scheme: assessed.scheme.clone(),
                source,
            }
        })?,
    };
    let organisation = match (&request.organisation, request.route) {
        (Some(o), _) => o.clone(),
        (None, Route::Sdoc) => request.declaration.product.manufacturer.name.clone(),
        (None, Route::Certification) => return Err(AttestError::CertifierUnnamed),
    };
    let statement = conformity_statement_from(
        &assessed,
        request.declaration,
        &ConformityInput {
            route: request.route,
            profile: Some(scheme.catalog.clone()),
            organisation,
            key_id: request.signer.key_id(),
            issued: request.issued,
            valid_until: valid_until(request.issued, scheme.validity_months)?,
            sbom_sha256: request.sbom_sha256,
        },
    )?;
    sign(statement, request.signer)
}

/// What a status change is made from.
#[allow(missing_debug_implementations)] // holds a signer, and signers are never printed
pub struct StatusRequest<'a> {
    /// The conformity attestation's envelope, its bytes as published.
    pub envelope: &'a [u8],
    /// Its file, for messages.
    pub envelope_name: &'a str,
    pub status: StatusKind,
    pub reason: &'a str,
    pub effective: jiff::Timestamp,
    pub issued: jiff::Timestamp,
    /// The issuing organisation; the original's assessor when `None`.
    pub organisation: Option<String>,
    pub signer: &'a dyn Signer,
    /// Why, in the lifecycle table's words, when the status alone does not say it (an
    /// operator's reinstatement after an upheld appeal: `appeal-upheld`).
    pub trigger: Option<iotmark_attest::statement::Trigger>,
}

/// Signs a status change of a conformity attestation. The original's signature is not
/// checked here (the signer may not hold the original signer's public key); its statement
/// only supplies the subject and the default issuer.
pub fn change_status(request: &StatusRequest<'_>) -> Result<Signed, AttestError> {
    let not_one = |reason: String| AttestError::NotAnAttestation {
        name: request.envelope_name.to_owned(),
        reason,
    };
    let parsed = iotmark_attest::dsse::Envelope::parse(request.envelope)
        .map_err(|e| not_one(e.to_string()))?;
    let original = Statement::parse(&parsed.payload).map_err(|e| not_one(e.to_string()))?;
    let Predicate::Conformity(conformity) = &original.predicate else {
        return Err(AttestError::StatusOfStatus {
            name: request.envelope_name.to_owned(),
        });
    };
    let statement = iotmark_attest::statement::status_statement_with(
        request.envelope,
        original.subject.clone(),
        request.status,
        request.reason,
        request.effective,
        request.issued,
        Party {
            organisation: request
                .organisation
                .clone()
                .unwrap_or_else(|| conformity.assessor.organisation.clone()),
            key_id: request.signer.key_id(),
        },
        iotmark_attest::statement::StatusDetails {
            trigger: request.trigger,
            ..Default::default()
        },
    )?;
    sign(statement, request.signer)
}

fn sign(statement: Statement, signer: &dyn Signer) -> Result<Signed, AttestError> {
    let envelope = iotmark_attest::sign_statement(&statement, signer)?.to_json();
    Ok(Signed {
        envelope_sha256: Sha256::of(envelope.as_bytes()),
        statement,
        envelope,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    #[test]
    fn validity_counts_calendar_months_in_utc() {
        let issued: jiff::Timestamp = "2026-01-31T23:30:00Z".parse().unwrap();
        // January 31 plus one month is the last day of February, at the same UTC time.
        assert_eq!(
            valid_until(issued, 1).unwrap().to_string(),
            "2026-02-28T23:30:00Z"
        );
        assert_eq!(
            valid_until(issued, 36).unwrap().to_string(),
            "2029-01-31T23:30:00Z"
        );
        assert!(matches!(
            valid_until(jiff::Timestamp::MAX, 1),
            Err(AttestError::Validity { .. })
        ));
    }
}
