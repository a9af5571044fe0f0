//! Renewal windows and lapses after a change of requirements, as a scheme's post-market rules
//! state them (`post_market.renewal`): when a label's renewal may be asked, and when a label
//! issued before its scheme's requirements changed lapses. The monitor lapses; the page and
//! the API show both; all three ask here.

use iotmark_assess::Scheme;
use iotmark_lifecycle::rules::Renewal;

use crate::store::RequirementChange;

/// The renewal rules of `scheme_id` among `schemes`, if it has any.
pub fn rules<'s>(schemes: &'s [Scheme], scheme_id: Option<&str>) -> Option<&'s Renewal> {
    let id = scheme_id?;
    schemes
        .iter()
        .find(|s| s.id == id)?
        .post_market
        .as_ref()?
        .renewal
        .as_ref()
}

/// The first change of `scheme_id`'s requirements after a label was `issued` that has taken
/// effect by `at`, and when the label lapses because of it (if the rules lapse labels).
pub fn lapse<'c>(
    rules: &Renewal,
    changes: &'c [RequirementChange],
    scheme_id: &str,
    issued: jiff::Timestamp,
    at: jiff::Timestamp,
) -> Option<(&'c RequirementChange, jiff::Timestamp)> {
    let change = changes
        .iter()
        .filter(|c| c.scheme == scheme_id && c.changed > issued && c.changed <= at)
        .min_by_key(|c| c.changed)?;
    Some((change, rules.lapses_at(change.changed)?))
}

/// A change of a scheme's requirements, as the API takes it.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementChangeRequest {
    /// When the new requirements took effect (RFC 3339).
    #[schema(value_type = String)]
    pub changed: jiff::Timestamp,
    /// What changed, in a sentence or two; shown on the pages of the labels it lapses.
    pub summary: String,
}

/// Longest summary of a change, in characters.
const MAX_SUMMARY_CHARS: usize = 2000;

impl crate::service::Registry {
    /// Records, for the operator, that `scheme_id`'s requirements changed; labels of the
    /// scheme issued before then lapse when its rules say, unless attested again. `false`
    /// when that change was recorded before.
    pub async fn record_requirement_change(
        &self,
        operator: &crate::store::Organisation,
        scheme_id: &str,
        request: RequirementChangeRequest,
    ) -> Result<bool, crate::service::RegistryError> {
        use crate::accept::{Refusal, Rule};
        let refused = |rule, message: String| {
            crate::service::RegistryError::Refused(Refusal { rule, message })
        };
        if operator.role != crate::store::Role::Operator {
            return Err(refused(
                Rule::Authority,
                "only the registry's operator records a change of a scheme's requirements"
                    .to_owned(),
            ));
        }
        if !self.schemes.iter().any(|s| s.id == scheme_id) {
            return Err(refused(
                Rule::NotFound,
                format!("this registry runs no scheme {scheme_id:?}"),
            ));
        }
        let lapses = rules(&self.schemes, Some(scheme_id))
            .is_some_and(|r| r.lapse_days_after_requirements_change.is_some());
        if !lapses {
            return Err(refused(
                Rule::Scheme,
                format!(
                    "{scheme_id}'s rules do not lapse labels when its requirements change \
                     (post_market.renewal.lapse_days_after_requirements_change); recording a \
                     change would have no effect"
                ),
            ));
        }
        let summary = request.summary.trim();
        if summary.is_empty()
            || summary.chars().count() > MAX_SUMMARY_CHARS
            || summary.chars().any(char::is_control)
        {
            return Err(refused(
                Rule::Scheme,
                format!(
                    "summary must be 1 to {MAX_SUMMARY_CHARS} characters with no control characters"
                ),
            ));
        }
        let now = jiff::Timestamp::now();
        if request.changed.as_second() > now.as_second() + 366 * 86_400 {
            return Err(refused(
                Rule::Scheme,
                "the change takes effect more than a year from now; record it closer to the date"
                    .to_owned(),
            ));
        }
        let added = self
            .store
            .add_requirement_change(&RequirementChange {
                scheme: scheme_id.to_owned(),
                changed: request.changed,
                summary: summary.to_owned(),
                recorded: now,
                recorded_by: operator.id.clone(),
            })
            .await?;
        // Every page of the scheme may now carry a notice.
        self.pages.clear();
        Ok(added)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn change(scheme: &str, changed: &str) -> RequirementChange {
        RequirementChange {
            scheme: scheme.to_owned(),
            changed: at(changed),
            summary: "new requirements".to_owned(),
            recorded: at(changed),
            recorded_by: "operator".to_owned(),
        }
    }

    #[test]
    fn a_label_lapses_after_the_first_change_since_it_was_issued() {
        let rules = Renewal {
            opens_days_before: 91,
            closes_days_before: 42,
            lapse_days_after_requirements_change: Some(42),
        };
        let changes = [
            change("de-bsi-it-security-label", "2026-01-10T00:00:00Z"),
            change("de-bsi-it-security-label", "2026-06-01T00:00:00Z"),
            change("de-bsi-it-security-label", "2026-09-01T00:00:00Z"),
            change("other", "2026-03-01T00:00:00Z"),
        ];
        let issued = at("2026-02-01T00:00:00Z");
        let scheme = "de-bsi-it-security-label";
        // Before the next change has taken effect: nothing.
        assert!(lapse(&rules, &changes, scheme, issued, at("2026-05-31T00:00:00Z")).is_none());
        let (c, when) =
            lapse(&rules, &changes, scheme, issued, at("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(c.changed, at("2026-06-01T00:00:00Z"));
        assert_eq!(when, at("2026-07-13T00:00:00Z"));
        // A label issued after every change does not lapse.
        assert!(
            lapse(
                &rules,
                &changes,
                scheme,
                at("2026-10-01T00:00:00Z"),
                at("2027-01-01T00:00:00Z")
            )
            .is_none()
        );
        // Nor one whose rules do not lapse labels.
        let no_lapse = Renewal {
            lapse_days_after_requirements_change: None,
            ..rules
        };
        assert!(
            lapse(
                &no_lapse,
                &changes,
                scheme,
                issued,
                at("2026-12-01T00:00:00Z")
            )
            .is_none()
        );
        let (opens, closes) = rules.window(at("2028-02-01T00:00:00Z"));
        assert_eq!(
            (opens, closes),
            (at("2027-11-02T00:00:00Z"), at("2027-12-21T00:00:00Z"))
        );
    }
}
