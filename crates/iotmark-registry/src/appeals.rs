//! Due process: a manufacturer contests the suspension or revocation in force on one of its
//! attestations, with its grounds and evidence; the operator decides, with reasons.
//!
//! The decision is a status change like any other, logged and shown in the product's
//! timeline: an upheld appeal reinstates the attestation (`appeal-upheld`); a dismissed one
//! records the contested suspension or revocation again (`appeal-dismissed`), which changes
//! nothing but puts the decision and its reasons in the log. The registry signs it with its
//! own key for the operator who decided (the operator decides through the API, holding no
//! signing key there); the reason names the appeal and the operator.
//!
//! Filing is recorded in the database, not in the log: the grounds and evidence are the
//! manufacturer's and the operator's, not the public's. That an appeal is pending is public.

use iotmark_attest::statement::{StatusDetails, StatusKind, Trigger};
use iotmark_lifecycle::machine::State;

use crate::accept::{Refusal, Rule};
use crate::service::{ReceiptWanted, Registry, RegistryError};
use crate::store::{
    Appeal, AppealDecision, AttestationRecord, Decided, EntryKind, Evidence, Organisation, Role,
};

/// Longest grounds or reasons, in characters.
const MAX_TEXT_CHARS: usize = 10_000;
/// Most pieces of evidence in one appeal.
const MAX_EVIDENCE: usize = 20;
/// Longest description of a piece of evidence, in characters.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// An appeal, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    /// The SHA-256 of the contested suspension's or revocation's envelope.
    pub contests: String,
    /// Why the change is wrong.
    pub grounds: String,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// The operator's decision, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: AppealDecision,
    /// Why; logged and shown on the product page.
    pub reasons: String,
}

/// A decision made: the appeal as now recorded, and where the log has it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct DecisionMade {
    pub appeal: Appeal,
    pub log_index: u64,
}

fn refused(rule: Rule, message: String) -> RegistryError {
    RegistryError::Refused(Refusal { rule, message })
}

/// Checks free text: not blank, at most `max` characters, no control characters but line
/// breaks and tabs.
fn text(field: &str, value: &str, max: usize) -> Result<(), RegistryError> {
    if value.trim().is_empty()
        || value.chars().count() > max
        || value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(refused(
            Rule::Appeal,
            format!("{field} must be 1 to {max} characters with no control characters"),
        ));
    }
    Ok(())
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_evidence(evidence: &[Evidence]) -> Result<(), RegistryError> {
    if evidence.len() > MAX_EVIDENCE {
        return Err(refused(
            Rule::Appeal,
            format!("at most {MAX_EVIDENCE} pieces of evidence; bundle the rest into one document"),
        ));
    }
    for (i, e) in evidence.iter().enumerate() {
        text(
            &format!("evidence[{i}].description"),
            &e.description,
            MAX_DESCRIPTION_CHARS,
        )?;
        if let Some(sha) = &e.sha256
            && !is_sha256(sha)
        {
            return Err(refused(
                Rule::Appeal,
                format!("evidence[{i}].sha256 must be 64 lower-case hex digits"),
            ));
        }
        if let Some(url) = &e.url {
            let ok = url.len() <= 2048
                && url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(refused(
                    Rule::Appeal,
                    format!("evidence[{i}].url must be an http:// or https:// URL"),
                ));
            }
        }
    }
    Ok(())
}

fn new_id() -> Result<String, RegistryError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| RegistryError::Internal(format!("random: {e}")))?;
    Ok(format!(
        "ap_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// The words a decision's reason starts with, which also find it again in the log.
fn reason_prefix(id: &str, decision: AppealDecision) -> String {
    format!("Appeal {id} {}", decision.as_str())
}

impl Registry {
    /// Where the conformity attestation `attestation` stands at `now` and the change that
    /// put it there (none while it is conformant as attested).
    async fn change_in_force(
        &self,
        attestation: &str,
        now: jiff::Timestamp,
    ) -> Result<(State, Option<AttestationRecord>), RegistryError> {
        let mut state = State::Conformant;
        let mut in_force = None;
        for change in self.store.changes_of(attestation).await? {
            let Some(kind) = change.status else { continue };
            if change.effective.is_some_and(|t| t > now) {
                continue;
            }
            let after = crate::status::state_after_from(state, kind);
            if after != state {
                state = after;
                in_force = Some(change);
            }
        }
        Ok((state, in_force))
    }

    /// Files the manufacturer's appeal against the suspension or revocation in force on one
    /// of its product's attestations.
    pub async fn file_appeal(
        &self,
        submitter: &Organisation,
        product_id: &str,
        request: AppealRequest,
    ) -> Result<Appeal, RegistryError> {
        let Some(product) = self.store.product(product_id).await? else {
            return Err(refused(
                Rule::NotFound,
                format!("no product {product_id:?} is registered"),
            ));
        };
        if submitter.role != Role::Manufacturer || submitter.id != product.manufacturer {
            return Err(refused(
                Rule::Authority,
                format!(
                    "only {product_id}'s manufacturer, {}, appeals its suspensions and revocations",
                    product.manufacturer
                ),
            ));
        }
        text("grounds", &request.grounds, MAX_TEXT_CHARS)?;
        check_evidence(&request.evidence)?;
        if !is_sha256(&request.contests) {
            return Err(refused(
                Rule::Appeal,
                "contests must be the SHA-256 (64 lower-case hex digits) of the suspension's or revocation's envelope".to_owned(),
            ));
        }
        let contested = self
            .store
            .attestation(&request.contests)
            .await?
            .filter(|r| r.product_id == product_id)
            .ok_or_else(|| {
                refused(
                    Rule::NotFound,
                    format!(
                        "{product_id} has no attestation {}; GET /api/v1/products/{product_id} lists its history",
                        request.contests
                    ),
                )
            })?;
        let (
            EntryKind::Status,
            Some(StatusKind::Suspension | StatusKind::Revocation),
            Some(attestation),
        ) = (
            contested.kind,
            contested.status,
            contested.refers_to.clone(),
        )
        else {
            return Err(refused(
                Rule::Appeal,
                "an appeal contests a suspension or a revocation; that attestation is neither"
                    .to_owned(),
            ));
        };
        let now = jiff::Timestamp::now();
        let (state, in_force) = self.change_in_force(&attestation, now).await?;
        if in_force.as_ref().map(|c| c.envelope_sha256.as_str()) != Some(request.contests.as_str())
        {
            return Err(refused(
                Rule::State,
                format!(
                    "that {} is no longer in force: version {} is {state} now",
                    contested.status.map(|s| s.as_str()).unwrap_or_default(),
                    contested.version
                ),
            ));
        }
        let appeal = Appeal {
            id: new_id()?,
            product_id: product_id.to_owned(),
            contests: request.contests,
            attestation,
            grounds: request.grounds,
            evidence: request.evidence,
            filed: now,
            filed_by: submitter.id.clone(),
            decision: None,
            reasons: None,
            decided: None,
            decided_by: None,
            decision_attestation: None,
        };
        match self.store.file_appeal(&appeal).await {
            Err(crate::store::StoreError::Exists { id: earlier, .. }) => {
                return Err(refused(
                    Rule::Replay,
                    format!(
                        "that {} was appealed before: appeal {earlier} (GET /api/v1/products/{product_id}/appeals)",
                        contested.status.map(|s| s.as_str()).unwrap_or_default()
                    ),
                ));
            }
            other => other?,
        }
        self.pages.invalidate(product_id);
        Ok(appeal)
    }

    /// A product's appeals with their grounds and evidence: for its manufacturer and the
    /// operator.
    pub async fn appeals(
        &self,
        caller: &Organisation,
        product_id: &str,
    ) -> Result<Vec<Appeal>, RegistryError> {
        let Some(product) = self.store.product(product_id).await? else {
            return Err(refused(
                Rule::NotFound,
                format!("no product {product_id:?} is registered"),
            ));
        };
        if caller.role != Role::Operator && caller.id != product.manufacturer {
            return Err(refused(
                Rule::Authority,
                format!(
                    "{product_id}'s appeals are for its manufacturer and the operator; the product page says which are pending"
                ),
            ));
        }
        Ok(self.store.appeals_of(product_id).await?)
    }

    /// The operator's decision of appeal `id`, logged as a status change the registry signs.
    pub async fn decide_appeal(
        &self,
        operator: &Organisation,
        id: &str,
        request: DecisionRequest,
    ) -> Result<DecisionMade, RegistryError> {
        if operator.role != Role::Operator {
            return Err(refused(
                Rule::Authority,
                "only the registry's operator decides appeals".to_owned(),
            ));
        }
        text("reasons", &request.reasons, MAX_TEXT_CHARS)?;
        // Decisions are rare: one at a time, so two cannot both be logged.
        let _one = self.appeal_lock.lock().await;
        let appeal = self
            .store
            .appeal(id)
            .await?
            .ok_or_else(|| refused(Rule::NotFound, format!("no appeal {id:?}")))?;
        if let (Some(decision), Some(decided)) = (appeal.decision, appeal.decided) {
            return Err(refused(
                Rule::Replay,
                format!(
                    "appeal {id} was {} on {decided}; a decision is final",
                    decision.as_str()
                ),
            ));
        }
        let prefix = reason_prefix(id, request.decision);
        // A decision logged before a crash kept it from being recorded here: record that
        // one, rather than log a second.
        let changes = self.store.changes_of(&appeal.attestation).await?;
        let logged = changes.iter().find(|c| {
            matches!(
                c.trigger,
                Some(Trigger::AppealUpheld | Trigger::AppealDismissed)
            ) && c
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with(&format!("Appeal {id} ")))
        });
        let (record, log_index) = match logged {
            Some(change) => (change.clone(), change.log_index),
            None => {
                let now = jiff::Timestamp::now();
                let (state, in_force) = self.change_in_force(&appeal.attestation, now).await?;
                if in_force.as_ref().map(|c| c.envelope_sha256.as_str())
                    != Some(appeal.contests.as_str())
                {
                    return Err(refused(
                        Rule::State,
                        format!(
                            "the change appeal {id} contests is no longer in force (the attestation is {state} now): there is nothing to decide"
                        ),
                    ));
                }
                let contested = self
                    .store
                    .attestation(&appeal.contests)
                    .await?
                    .and_then(|r| r.status)
                    .ok_or_else(|| {
                        RegistryError::Internal(format!(
                            "appeal {id} contests {}, which is not a recorded status change",
                            appeal.contests
                        ))
                    })?;
                let (status, trigger) = match request.decision {
                    AppealDecision::Upheld => (StatusKind::Reinstatement, Trigger::AppealUpheld),
                    AppealDecision::Dismissed => (contested, Trigger::AppealDismissed),
                };
                let reason = format!(
                    "{prefix} by {} ({}): {}",
                    operator.name, operator.id, request.reasons
                );
                let receipted = self
                    .sign_change(
                        &appeal.attestation,
                        status,
                        &reason,
                        now,
                        StatusDetails {
                            trigger: Some(trigger),
                            ..Default::default()
                        },
                        ReceiptWanted::No,
                    )
                    .await?;
                let record = self
                    .store
                    .attestation(&receipted.envelope_sha256)
                    .await?
                    .ok_or_else(|| {
                        RegistryError::Internal(format!(
                            "the decision {} was logged but is not recorded",
                            receipted.envelope_sha256
                        ))
                    })?;
                (record, receipted.log_index)
            }
        };
        let decision = if record.trigger == Some(Trigger::AppealUpheld) {
            AppealDecision::Upheld
        } else {
            AppealDecision::Dismissed
        };
        let decided = Decided {
            decision,
            reasons: request.reasons,
            at: record.logged,
            by: operator.id.clone(),
            attestation: record.envelope_sha256.clone(),
        };
        self.store.decide_appeal(id, &decided).await?;
        self.pages.invalidate(&appeal.product_id);
        let appeal = self
            .store
            .appeal(id)
            .await?
            .ok_or_else(|| RegistryError::Internal(format!("appeal {id} vanished")))?;
        Ok(DecisionMade { appeal, log_index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_checked_field_by_field() {
        let piece = |description: &str, sha256: Option<&str>, url: Option<&str>| Evidence {
            description: description.to_owned(),
            sha256: sha256.map(str::to_owned),
            url: url.map(str::to_owned),
        };
        assert!(
            check_evidence(&[piece(
                "test report",
                Some(&"a".repeat(64)),
                Some("https://acme.example/r.pdf")
            )])
            .is_ok()
        );
        let message = |e: RegistryError| e.to_string();
        assert!(
            message(check_evidence(&[piece("", None, None)]).unwrap_err())
                .contains("evidence[0].description")
        );
        assert!(
            message(check_evidence(&[piece("x", Some("ABC"), None)]).unwrap_err())
                .contains("evidence[0].sha256")
        );
        assert!(
            message(check_evidence(&[piece("x", None, Some("file:///etc/passwd"))]).unwrap_err())
                .contains("evidence[0].url")
        );
        let many: Vec<Evidence> = (0..21).map(|_| piece("x", None, None)).collect();
        assert!(message(check_evidence(&many).unwrap_err()).contains("at most 20"));
        assert!(text("grounds", "line one\nline two\twith a tab", 100).is_ok());
        assert!(text("grounds", "bell\u{7}", 100).is_err());
        assert!(text("grounds", "  ", 100).is_err());
    }
}
