//! The registry's acceptance rules: whether an organisation may publish an attestation.
//!
//! A submission is accepted only when every rule holds; a refusal names the first rule that
//! failed ([`Refusal::rule`]) and says how to fix it. The rules, in the order they are checked:
//!
//! | rule | holds when |
//! |---|---|
//! | `envelope` | the body is a DSSE envelope carrying an in-toto statement with an iotmark predicate |
//! | `signature` | one of the submitting organisation's active registered keys signed it |
//! | `assessor` | the predicate names that same key as its assessor or issuer |
//! | `scheme` | the scheme is one the registry runs, and the tier is one of its tiers |
//! | `role` | an SDoC comes from a manufacturer, a certification from a lab |
//! | `accreditation` | a certifying lab is accredited for the scheme |
//! | `route` | the route meets what the scheme requires for the tier (third-party testing needs a certification) |
//! | `manufacturer` | an SDoC names the submitter (by its registered name) as the manufacturer; a certification names a registered manufacturer |
//! | `conforms` | the assessment found the product conforms |
//! | `validity` | issued no later than now (with a little clock skew), not yet expired, and valid for no longer than the scheme's validity period |
//! | `support` | the support period, when declared, had not ended when the attestation was issued |
//! | `refers-to` | a status change refers to a conformity attestation the registry holds |
//! | `authority` | the submitter may change that attestation's status (its own submission, its own product's end of support, or the operator) |
//! | `state` | a reinstatement lifts a suspension that is in force |
//! | `replay` | the signed statement has not been accepted before, in these bytes or any others |
//!
//! The checks that need the database are done by the caller, which gathers a [`Facts`] first;
//! this module decides on those facts alone, so the rules are tested without a server.

use iotmark_assess::{Route as SchemeRoute, Scheme};
use iotmark_attest::keys::PublicKey;
use iotmark_attest::statement::{
    ConformityPredicate, Predicate, Route, StatusKind, StatusPredicate,
};
use iotmark_conformity::attestation::{Attestation, OpenError};

use crate::store::{AttestationRecord, EntryKind, Organisation, Role, SigningKey};

/// Clock skew tolerated between a signer's clock and the registry's.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// The rule a refused request broke. Each has a stable name (the `rule` of an API error and a
/// metrics label); the HTTP interface alone decides which status code each maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Not a DSSE envelope with an iotmark statement, or a field of it malformed.
    Envelope,
    /// None of the submitter's active keys signed it.
    Signature,
    /// The predicate names another key as its assessor or issuer.
    Assessor,
    /// A scheme or tier the registry does not run.
    Scheme,
    /// An SDoC from a non-manufacturer, or a certification from a non-lab.
    Role,
    /// A certifying lab not accredited for the scheme.
    Accreditation,
    /// A route less than the tier requires.
    Route,
    /// The product is another organisation's, or named under another's name.
    Manufacturer,
    /// The named manufacturer is not registered.
    UnknownManufacturer,
    /// The assessment found the product does not conform.
    Conforms,
    /// Issued in the future, expired, or valid longer than the scheme allows.
    Validity,
    /// The support period had ended when the attestation was issued.
    Support,
    /// A status change refers to an attestation the registry does not hold.
    RefersTo,
    /// A status change refers to another status change.
    RefersToStatus,
    /// The submitter may not change that attestation's status, or act on that product.
    Authority,
    /// The change does not fit the attestation's state (final, or nothing to reinstate).
    State,
    /// The same signed statement was accepted before.
    Replay,
    /// A published declaration that does not check or does not fit the product.
    Declaration,
    /// A malformed answer to a vulnerability report.
    Triage,
    /// An SBOM upload that is not the SBOM an attestation names, or does not read.
    Sbom,
    /// A version announcement with a malformed field, or another image for a version
    /// announced before.
    Announcement,
    /// A webhook subscription with a receiver URL the registry will not send to, or one too
    /// many.
    Webhook,
    /// An appeal with a malformed field, or one that contests what is not a suspension or
    /// revocation.
    Appeal,
    /// No such product or report.
    NotFound,
    /// A search the registry will not run.
    Query,
}

impl Rule {
    /// The rule's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Envelope => "envelope",
            Rule::Signature => "signature",
            Rule::Assessor => "assessor",
            Rule::Scheme => "scheme",
            Rule::Role => "role",
            Rule::Accreditation => "accreditation",
            Rule::Route => "route",
            Rule::Manufacturer | Rule::UnknownManufacturer => "manufacturer",
            Rule::Conforms => "conforms",
            Rule::Validity => "validity",
            Rule::Support => "support",
            Rule::RefersTo | Rule::RefersToStatus => "refers-to",
            Rule::Authority => "authority",
            Rule::State => "state",
            Rule::Replay => "replay",
            Rule::Declaration => "declaration",
            Rule::Triage => "triage",
            Rule::Sbom => "sbom",
            Rule::Announcement => "announcement",
            Rule::Webhook => "webhook",
            Rule::Appeal => "appeal",
            Rule::NotFound => "not-found",
            Rule::Query => "query",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused: the rule it broke, and in plain words what to do about it. A
/// refusal is always the requester's to put right; the registry's own faults are errors of
/// another kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Refusal {
    pub rule: Rule,
    pub message: String,
}

pub(crate) fn refuse(rule: Rule, message: impl Into<String>) -> Refusal {
    Refusal {
        rule,
        message: message.into(),
    }
}

/// Why a signature could not be checked: the submitter's fault, or the registry's own (a key
/// it stored that is no longer a key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("registered key {key_id} is corrupt in the database: {reason}")]
    CorruptKey { key_id: String, reason: String },
}

/// An envelope that parsed and was signed by one of the submitter's keys.
#[derive(Debug, Clone)]
pub struct Signed {
    pub attestation: Attestation,
    /// The registered key that signed it.
    pub key: SigningKey,
}

/// Parses the envelope and finds which of the submitter's active keys signed it.
pub fn check_signature(
    envelope: &[u8],
    submitter: &Organisation,
    keys: &[SigningKey],
) -> Result<Signed, SignatureError> {
    let active: Vec<&SigningKey> = keys.iter().filter(|k| k.retired.is_none()).collect();
    let mut public = Vec::with_capacity(active.len());
    for k in &active {
        let corrupt = |reason: String| SignatureError::CorruptKey {
            key_id: k.key_id.clone(),
            reason,
        };
        let raw: [u8; 32] = k
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(format!("{} bytes, not 32", k.public_key.len())))?;
        public.push(PublicKey::from_bytes(&raw).map_err(|e| corrupt(e.to_string()))?);
    }
    let attestation = Attestation::open(envelope, &public).map_err(|e| match e {
        OpenError::Envelope(e) => refuse(Rule::Envelope, e.to_string()),
        OpenError::Statement(e) => refuse(Rule::Envelope, e.to_string()),
        OpenError::NoKeys => refuse(
            Rule::Signature,
            format!(
                "{} has no active signing key registered; ask the registry operator to register one (`iotmark registry admin key add`)",
                submitter.id
            ),
        ),
        OpenError::Signature(e) => refuse(
            Rule::Signature,
            format!(
                "no active key registered to {} signed this envelope ({e}); sign with a registered key",
                submitter.id
            ),
        ),
    })?;
    Ok(Signed {
        key: active[attestation.signer].clone(),
        attestation,
    })
}

/// What the registry knows that the rules need, gathered by the caller.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub submitter: &'a Organisation,
    /// The schemes the registry runs.
    pub schemes: &'a [Scheme],
    /// Schemes the submitter is accredited for (labs).
    pub accredited_for: &'a [String],
    /// For a certification: the registered manufacturer organisation whose name is the
    /// predicate's manufacturer, if any. (An SDoC's manufacturer is its submitter, known by the
    /// key that signed it; names only confirm it.)
    pub manufacturer: Option<&'a Organisation>,
    /// The organisation that owns the product, if the registry already has it.
    pub product_owner: Option<&'a str>,
    /// For a status change: the attestation it refers to, if the registry holds it.
    pub referred: Option<&'a AttestationRecord>,
    /// For a status change: the referred attestation's status changes so far, in log order.
    pub referred_history: &'a [AttestationRecord],
    /// The envelope (SHA-256) under which this same signed statement was accepted before, if
    /// it was: an attestation's identity is its statement, whatever bytes carry it.
    pub accepted_before: Option<String>,
    /// The key ID of the registry's own monitor key: a status change it signed is the
    /// monitor's, which the lifecycle table gives other rights than the operator's.
    pub monitor_key: Option<&'a str>,
    pub now: jiff::Timestamp,
}

/// What was decided for an accepted submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A conformity attestation; the product belongs to `manufacturer` (an organisation ID).
    Conformity { manufacturer: String },
    /// A status change of an attestation the registry holds.
    Status,
}

/// Applies the rules to a signed submission.
pub fn decide(signed: &Signed, facts: &Facts<'_>) -> Result<Accepted, Refusal> {
    if let Some(envelope) = &facts.accepted_before {
        return Err(refuse(
            Rule::Replay,
            format!(
                "this signed statement (SHA-256 {}) was accepted before, as envelope {envelope}; fetch that attestation's receipt instead of submitting it again",
                signed.attestation.statement_sha256
            ),
        ));
    }
    match &signed.attestation.statement.predicate {
        Predicate::Conformity(p) => decide_conformity(signed, p, facts),
        Predicate::Status(p) => decide_status(signed, p, facts),
    }
}

fn decide_conformity(
    signed: &Signed,
    p: &ConformityPredicate,
    facts: &Facts<'_>,
) -> Result<Accepted, Refusal> {
    if p.assessor.key_id != signed.key.key_id {
        return Err(refuse(
            Rule::Assessor,
            format!(
                "the predicate names key {} as its assessor, but key {} signed it",
                p.assessor.key_id, signed.key.key_id
            ),
        ));
    }
    let Some(scheme) = facts.schemes.iter().find(|s| s.id == p.scheme) else {
        return Err(refuse(
            Rule::Scheme,
            format!(
                "the registry does not run scheme {:?} (it runs: {})",
                p.scheme,
                facts
                    .schemes
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let Some(tier) = scheme.tiers.iter().find(|t| t.id == p.tier) else {
        return Err(refuse(
            Rule::Scheme,
            format!("scheme {:?} has no tier {:?}", scheme.id, p.tier),
        ));
    };
    let submitter = facts.submitter;
    match (p.route, submitter.role) {
        (Route::Sdoc, Role::Manufacturer) | (Route::Certification, Role::Lab) => {}
        (Route::Sdoc, role) => {
            return Err(refuse(
                Rule::Role,
                format!(
                    "a declaration of conformity (sdoc) is made by the manufacturer; {} is a {}",
                    submitter.id,
                    role.as_str()
                ),
            ));
        }
        (Route::Certification, role) => {
            return Err(refuse(
                Rule::Role,
                format!(
                    "a certification is issued by an accredited lab; {} is a {}",
                    submitter.id,
                    role.as_str()
                ),
            ));
        }
    }
    if p.route == Route::Certification && !facts.accredited_for.iter().any(|s| s == &scheme.id) {
        return Err(refuse(
            Rule::Accreditation,
            format!(
                "{} is not accredited for scheme {:?}; the registry operator grants accreditation",
                submitter.id, scheme.id
            ),
        ));
    }
    if tier.route != SchemeRoute::SelfDeclaration && p.route == Route::Sdoc {
        return Err(refuse(
            Rule::Route,
            format!(
                "tier {:?} of {:?} requires {} ({}); a manufacturer's declaration is not enough: submit the lab's certification",
                tier.id,
                scheme.id,
                tier.route.as_str(),
                tier.route.describe()
            ),
        ));
    }
    let manufacturer = match p.route {
        // The key that signed an SDoC is the manufacturer's: the name it gives must be the
        // name the registry knows that manufacturer by, so no other organisation's name can
        // stand in for it or be stood in for.
        Route::Sdoc => {
            if p.product.manufacturer != submitter.name {
                return Err(refuse(
                    Rule::Manufacturer,
                    format!(
                        "the declaration names the manufacturer {:?}, but {} is registered as {:?}; a manufacturer declares its own products under its registered name",
                        p.product.manufacturer, submitter.id, submitter.name
                    ),
                ));
            }
            submitter
        }
        Route::Certification => {
            let Some(manufacturer) = facts.manufacturer else {
                return Err(refuse(
                    Rule::UnknownManufacturer,
                    format!(
                        "no registered manufacturer is named {:?}; the manufacturer must be registered first",
                        p.product.manufacturer
                    ),
                ));
            };
            manufacturer
        }
    };
    if let Some(owner) = facts.product_owner
        && owner != manufacturer.id
    {
        return Err(refuse(
            Rule::Manufacturer,
            format!(
                "product {:?} belongs to {owner}, not {}",
                p.product.id, manufacturer.id
            ),
        ));
    }
    if !p.assessment.conforms {
        return Err(refuse(
            Rule::Conforms,
            "the assessment found that the product does not conform",
        ));
    }
    check_validity(p, scheme, facts.now)?;
    Ok(Accepted::Conformity {
        manufacturer: manufacturer.id.clone(),
    })
}

/// The `validity` and `support` rules: the dates a conformity attestation claims, against the
/// registry's clock and the scheme's validity period.
fn check_validity(
    p: &ConformityPredicate,
    scheme: &Scheme,
    now: jiff::Timestamp,
) -> Result<(), Refusal> {
    let (issued, valid_until) = (p.issued, p.valid_until);
    if issued.as_second() > now.as_second() + MAX_CLOCK_SKEW_SECONDS {
        return Err(refuse(
            Rule::Validity,
            format!(
                "issued {issued} is in the future (registry time {now}); check the signer's clock"
            ),
        ));
    }
    if valid_until <= now {
        return Err(refuse(
            Rule::Validity,
            format!("the attestation expired at {valid_until}; assess and attest again"),
        ));
    }
    // Calendar months in UTC, as `iotmark attest` counts them: the same function.
    let longest = iotmark_conformity::attesting::valid_until(issued, scheme.validity_months)
        .map_err(|e| refuse(Rule::Validity, e.to_string()))?;
    if valid_until > longest {
        return Err(refuse(
            Rule::Validity,
            format!(
                "valid_until {valid_until} is later than scheme {:?} allows: {} months from issued {issued}, so at most {longest}; attest with the scheme's validity",
                scheme.id, scheme.validity_months
            ),
        ));
    }
    if let Some(end) = p.support_end {
        let issued_on = issued.to_zoned(jiff::tz::TimeZone::UTC).date();
        if end < issued_on {
            return Err(refuse(
                Rule::Support,
                format!(
                    "the support period ended on {end}, before the attestation was issued on {issued_on}; a product out of support cannot be attested"
                ),
            ));
        }
    }
    Ok(())
}

fn decide_status(
    signed: &Signed,
    p: &StatusPredicate,
    facts: &Facts<'_>,
) -> Result<Accepted, Refusal> {
    if p.issuer.key_id != signed.key.key_id {
        return Err(refuse(
            Rule::Assessor,
            format!(
                "the predicate names key {} as its issuer, but key {} signed it",
                p.issuer.key_id, signed.key.key_id
            ),
        ));
    }
    let Some(referred) = facts.referred else {
        return Err(refuse(
            Rule::RefersTo,
            format!(
                "the registry holds no attestation with envelope SHA-256 {}",
                p.refers_to.envelope_sha256
            ),
        ));
    };
    if referred.kind != EntryKind::Conformity {
        return Err(refuse(
            Rule::RefersToStatus,
            "a status change refers to a conformity attestation, not to another status change",
        ));
    }
    let submitter = facts.submitter;
    let own_submission = referred.submitted_by == submitter.id;
    let by_monitor = facts.monitor_key == Some(signed.key.key_id.as_str());
    let for_own_product = facts.product_owner == Some(submitter.id.as_str());
    let allowed = by_monitor
        || match submitter.role {
            Role::Operator => true,
            Role::Lab => own_submission,
            Role::Manufacturer => {
                own_submission
                    || (matches!(p.status, StatusKind::EndOfSupport | StatusKind::Withdrawal)
                        && for_own_product)
            }
        };
    if !allowed {
        return Err(refuse(
            Rule::Authority,
            format!(
                "{} may not change the status of an attestation {} submitted{}",
                submitter.id,
                referred.submitted_by,
                if submitter.role == Role::Manufacturer {
                    " (a manufacturer may end the support of, or withdraw, its own products; other changes are for the issuer or the operator)"
                } else {
                    ""
                }
            ),
        ));
    }
    let effective = p.effective;
    if effective.as_second() > facts.now.as_second() + 366 * 86_400 {
        return Err(refuse(
            Rule::Validity,
            "the change takes effect more than a year from now; submit it closer to the date",
        ));
    }
    // Where the attestation stands after the changes already logged, and whether this one
    // may follow: the lifecycle table decides, for the registry as for the monitor.
    use iotmark_lifecycle::machine::{self, Actor, Refused, Trigger};
    let state = crate::status::state_after(facts.referred_history.iter().filter_map(|r| r.status));
    let actor = if by_monitor {
        // The registry's key signs an appeal's decision for the operator who made it
        // (`POST /api/v1/appeals/{id}/decision`); every other change it signs, as the monitor.
        match p.trigger {
            Some(Trigger::AppealUpheld | Trigger::AppealDismissed) => Actor::Operator,
            _ => Actor::Monitor,
        }
    } else {
        crate::status::actor_of(submitter.role)
    };
    let row = match p.trigger {
        Some(trigger) => machine::next(state, trigger, actor),
        None => machine::by_record(state, p.status.record(), actor),
    };
    if let Err(refused) = row {
        let rule = match refused {
            Refused::NotBy { .. } => Rule::Authority,
            Refused::NotFrom { .. } => Rule::State,
        };
        return Err(refuse(
            rule,
            format!("a {} cannot be logged: {refused}", p.status.as_str()),
        ));
    }
    Ok(Accepted::Status)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::store::Role;

    /// A stored key that is no longer a key is the registry's fault, not the submitter's: it
    /// must never come back as a refusal (a 4xx) of the one who submitted.
    #[test]
    fn a_corrupt_stored_key_is_the_registrys_fault_not_a_refusal() {
        let acme = Organisation {
            id: "acme".into(),
            name: "Acme Devices Ltd".into(),
            role: Role::Manufacturer,
            created: jiff::Timestamp::UNIX_EPOCH,
        };
        let key = SigningKey {
            key_id: "00".repeat(32),
            organisation: "acme".into(),
            public_key: vec![1, 2, 3],
            label: "damaged".into(),
            added: jiff::Timestamp::UNIX_EPOCH,
            retired: None,
        };
        let envelope = br#"{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"","sig":"AAAA"}]}"#;
        match check_signature(envelope, &acme, &[key]) {
            Err(SignatureError::CorruptKey { key_id, reason }) => {
                assert_eq!(key_id, "00".repeat(32));
                assert!(reason.contains("3 bytes"), "{reason}");
            }
            other => panic!("expected a corrupt-key fault, got {other:?}"),
        }
    }

    /// Every rule keeps the name the API and the metrics have always used.
    #[test]
    fn rule_names_are_stable() {
        assert_eq!(Rule::UnknownManufacturer.as_str(), "manufacturer");
        assert_eq!(Rule::RefersToStatus.as_str(), "refers-to");
        assert_eq!(Rule::NotFound.to_string(), "not-found");
    }
}
