//! Every statement the store runs, as text both backends accept: `$n` placeholders,
//! `ON CONFLICT`, `RETURNING`, `LIMIT`/`OFFSET`, scalar subqueries. One constant per statement,
//! named for what it does, so that a reader (or rust-analyzer's "find references") goes from a
//! method to its SQL and back.
//!
//! No statement returns a boolean: SQLite has none and PostgreSQL's does not decode as an
//! integer, so "does it exist" is `(SELECT 1 …)`, NULL when not.

// Organisations ----------------------------------------------------------------------------------

pub(super) const ORGANISATION_WITH_NAME: &str = "SELECT id FROM organisations WHERE name = $1";

pub(super) const INSERT_ORGANISATION: &str =
    "INSERT INTO organisations (id, name, role, created) VALUES ($1, $2, $3, $4)";

pub(super) const ORGANISATION: &str =
    "SELECT id, name, role, created FROM organisations WHERE id = $1";

pub(super) const ORGANISATION_EXISTS: &str = "SELECT id FROM organisations WHERE id = $1";

pub(super) const ORGANISATIONS: &str =
    "SELECT id, name, role, created FROM organisations ORDER BY id";

/// The lowest ID first, should several manufacturers share a name.
pub(super) const MANUFACTURER_NAMED: &str = "SELECT id, name, role, created FROM organisations \
     WHERE role = 'manufacturer' AND name = $1 ORDER BY id LIMIT 1";

// Accreditations ---------------------------------------------------------------------------------

/// A second grant keeps the first's time.
pub(super) const INSERT_ACCREDITATION: &str = "INSERT INTO accreditations (organisation, scheme, granted) VALUES ($1, $2, $3) \
     ON CONFLICT (organisation, scheme) DO NOTHING";

pub(super) const DELETE_ACCREDITATION: &str =
    "DELETE FROM accreditations WHERE organisation = $1 AND scheme = $2";

pub(super) const ACCREDITATIONS: &str = "SELECT organisation, scheme, granted FROM accreditations \
     WHERE organisation = $1 ORDER BY scheme";

// Signing keys -----------------------------------------------------------------------------------

pub(super) const INSERT_SIGNING_KEY: &str = "INSERT INTO signing_keys \
     (key_id, organisation, public_key, label, added, retired) VALUES ($1, $2, $3, $4, $5, $6)";

pub(super) const SIGNING_KEY: &str = "SELECT key_id, organisation, public_key, label, added, \
     retired FROM signing_keys WHERE key_id = $1";

pub(super) const SIGNING_KEYS: &str = "SELECT key_id, organisation, public_key, label, added, \
     retired FROM signing_keys WHERE organisation = $1 ORDER BY added, key_id";

pub(super) const RETIRE_SIGNING_KEY: &str =
    "UPDATE signing_keys SET retired = $2 WHERE key_id = $1 AND retired IS NULL";

// API tokens -------------------------------------------------------------------------------------

pub(super) const TOKEN_WITH_SECRET: &str = "SELECT id FROM api_tokens WHERE secret_sha256 = $1";

pub(super) const INSERT_TOKEN: &str = "INSERT INTO api_tokens \
     (id, organisation, role, secret_sha256, label, created, revoked) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(super) const TOKEN_BY_SECRET: &str = "SELECT id, organisation, role, secret_sha256, label, \
     created, revoked FROM api_tokens WHERE secret_sha256 = $1";

/// Every authenticated request asks: the token and its organisation in one read.
pub(super) const TOKEN_HOLDER: &str = "SELECT t.id, t.organisation, t.role, t.secret_sha256, \
     t.label, t.created, t.revoked, o.name AS organisation_name, o.role AS organisation_role, \
     o.created AS organisation_created \
     FROM api_tokens t JOIN organisations o ON o.id = t.organisation WHERE t.secret_sha256 = $1";

pub(super) const TOKENS: &str = "SELECT id, organisation, role, secret_sha256, label, created, \
     revoked FROM api_tokens WHERE organisation = $1 ORDER BY created, id";

pub(super) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL";

// Attestations -----------------------------------------------------------------------------------

/// What a conformity submission is decided on, in one read: `$1` statement SHA-256, `$2`
/// product ID, `$3` manufacturer name. The `LEFT JOIN` keeps the one row when no manufacturer
/// has the name.
pub(super) const CONFORMITY_FACTS: &str = "SELECT \
     (SELECT envelope_sha256 FROM attestations WHERE statement_sha256 = $1) AS accepted_before, \
     (SELECT manufacturer FROM products WHERE id = $2) AS product_owner, \
     m.id, m.name, m.role, m.created \
     FROM (SELECT 1 AS one) AS one LEFT JOIN \
     (SELECT id, name, role, created FROM organisations \
     WHERE role = 'manufacturer' AND name = $3 ORDER BY id LIMIT 1) AS m ON TRUE";

/// What recording an attestation checks first, in one round trip (each item of a batch makes
/// it): `$1` envelope, `$2` log index, `$3` submitter, `$4` signing key, `$5` manufacturer,
/// `$6` product ID, `$7` statement. Each column is 1 or NULL but the last, the product's owner.
pub(super) const NEW_ATTESTATION_CHECKS: &str = "SELECT \
     (SELECT 1 FROM attestations WHERE envelope_sha256 = $1) AS envelope_known, \
     (SELECT 1 FROM attestations WHERE statement_sha256 = $7) AS statement_known, \
     (SELECT 1 FROM attestations WHERE log_index = $2) AS index_taken, \
     (SELECT 1 FROM organisations WHERE id = $3) AS submitter_known, \
     (SELECT 1 FROM signing_keys WHERE key_id = $4) AS key_known, \
     (SELECT 1 FROM organisations WHERE id = $5) AS manufacturer_known, \
     (SELECT manufacturer FROM products WHERE id = $6) AS product_owner";

/// Creates or updates a product. A submission without the declaration (`$6` NULL) keeps the
/// last one submitted, so the consumer page does not lose it to a lab's certification.
pub(super) const UPSERT_PRODUCT: &str = "INSERT INTO products (id, manufacturer, \
     manufacturer_name, name, model, declaration_json, created, updated, search_text, sort_key) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) \
     ON CONFLICT (id) DO UPDATE SET manufacturer_name = excluded.manufacturer_name, \
     name = excluded.name, model = excluded.model, \
     declaration_json = COALESCE(excluded.declaration_json, products.declaration_json), \
     updated = excluded.updated, search_text = excluded.search_text, \
     sort_key = excluded.sort_key";

/// A known version keeps its first attestation (and images): no row is affected.
pub(super) const INSERT_VERSION: &str = "INSERT INTO versions \
     (product_id, version, first_attested, first_log_index) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (product_id, version) DO NOTHING";

pub(super) const INSERT_IMAGE: &str = "INSERT INTO images \
     (product_id, version, position, name, sha256) VALUES ($1, $2, $3, $4, $5)";

/// What a status change refers to: its kind, product and version.
pub(super) const REFERRED_ATTESTATION: &str =
    "SELECT kind, product_id, version FROM attestations WHERE envelope_sha256 = $1";

pub(super) const INSERT_ATTESTATION: &str = "INSERT INTO attestations (envelope_sha256, \
     statement_sha256, kind, log_index, logged, submitted_by, signer_key_id, product_id, \
     version, scheme, tier, route, issued, valid_until, support_end, refers_to, refers_to_kind, \
     status, reason, effective, trigger, vulnerabilities, deadline, sbom_sha256) VALUES ($1, $2, \
     $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, \
     $23, $24)";

pub(super) const ATTESTATION_BY_ENVELOPE: &str = "SELECT envelope_sha256, statement_sha256, \
     kind, log_index, logged, submitted_by, signer_key_id, product_id, version, scheme, tier, \
     route, issued, valid_until, support_end, refers_to, status, reason, effective, trigger, \
     vulnerabilities, deadline, sbom_sha256 FROM attestations WHERE envelope_sha256 = $1";

pub(super) const ATTESTATION_BY_STATEMENT: &str = "SELECT envelope_sha256, statement_sha256, \
     kind, log_index, logged, submitted_by, signer_key_id, product_id, version, scheme, tier, \
     route, issued, valid_until, support_end, refers_to, status, reason, effective, trigger, \
     vulnerabilities, deadline, sbom_sha256 FROM attestations WHERE statement_sha256 = $1";

pub(super) const HISTORY: &str = "SELECT envelope_sha256, statement_sha256, kind, log_index, \
     logged, submitted_by, signer_key_id, product_id, version, scheme, tier, route, issued, \
     valid_until, support_end, refers_to, status, reason, effective, trigger, vulnerabilities, \
     deadline, sbom_sha256 FROM attestations WHERE product_id = $1 ORDER BY log_index";

pub(super) const CHANGES_OF: &str = "SELECT envelope_sha256, statement_sha256, kind, log_index, \
     logged, submitted_by, signer_key_id, product_id, version, scheme, tier, route, issued, \
     valid_until, support_end, refers_to, status, reason, effective, trigger, vulnerabilities, \
     deadline, sbom_sha256 FROM attestations WHERE refers_to = $1 ORDER BY log_index";

pub(super) const LAST_LOG_INDEX: &str = "SELECT MAX(log_index) FROM attestations";

/// The first log index no attestation holds: 0, or one past the first entry whose successor is
/// missing. Entries before it are all indexed.
pub(super) const FIRST_UNINDEXED: &str = "SELECT CASE \
     WHEN NOT EXISTS (SELECT 1 FROM attestations WHERE log_index = 0) THEN 0 \
     ELSE (SELECT MIN(a.log_index) + 1 FROM attestations a WHERE NOT EXISTS \
     (SELECT 1 FROM attestations b WHERE b.log_index = a.log_index + 1)) END";

pub(super) const INDEXED_BETWEEN: &str = "SELECT log_index FROM attestations \
     WHERE log_index >= $1 AND log_index < $2 ORDER BY log_index";

// Products and versions --------------------------------------------------------------------------

pub(super) const PRODUCT: &str = "SELECT id, manufacturer, manufacturer_name, name, model, \
     declaration_json, created, updated FROM products WHERE id = $1";

pub(super) const PRODUCT_EXISTS: &str = "SELECT id FROM products WHERE id = $1";

pub(super) const SET_DECLARATION: &str =
    "UPDATE products SET declaration_json = $1, updated = $2 WHERE id = $3";

pub(super) const VERSIONS: &str = "SELECT product_id, version, first_attested FROM versions \
     WHERE product_id = $1 ORDER BY first_log_index DESC";

pub(super) const IMAGES: &str = "SELECT version, name, sha256 FROM images WHERE product_id = $1 \
     ORDER BY version, position";

/// The product versions that ship an image, by its SHA-256 (`images_by_sha256`).
pub(super) const VERSIONS_BY_IMAGE: &str = "SELECT DISTINCT product_id, version FROM images \
     WHERE sha256 = $1 ORDER BY product_id, version";

/// Product summaries; the latest version is the one first attested last in the log.
/// [`search`] adds its `WHERE` to this.
pub(super) const SUMMARIES: &str = "SELECT p.id, p.manufacturer_name, p.name, p.model, \
     (SELECT v.version FROM versions v WHERE v.product_id = p.id \
     ORDER BY v.first_log_index DESC LIMIT 1) AS latest_version FROM products p";

pub(super) const PRODUCTS_OF: &str = "SELECT p.id, p.manufacturer_name, p.name, p.model, \
     (SELECT v.version FROM versions v WHERE v.product_id = p.id \
     ORDER BY v.first_log_index DESC LIMIT 1) AS latest_version FROM products p \
     WHERE p.manufacturer = $1 ORDER BY p.id";

/// The search statement for `words` patterns: `$1..$words` are the patterns, then limit and
/// offset. Only the number of `LIKE` terms varies; every value is a bound parameter.
pub(super) fn search(words: usize) -> String {
    let mut sql = String::from(SUMMARIES);
    for n in 1..=words {
        sql.push_str(if n == 1 { " WHERE " } else { " AND " });
        sql.push_str(&format!("p.search_text LIKE ${n} ESCAPE '\\'"));
    }
    sql.push_str(&format!(
        " ORDER BY p.sort_key, p.id LIMIT ${} OFFSET ${}",
        words + 1,
        words + 2
    ));
    sql
}

// Vulnerability reports --------------------------------------------------------------------------

pub(super) const INSERT_REPORT: &str = "INSERT INTO vulnerability_reports \
     (product_id, version, summary, details, contact, received) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

pub(super) const TRIAGE_REPORT: &str = "UPDATE vulnerability_reports SET triage_status = $3, \
     triage_note = $4, fixed_in = $5, triaged = $6 WHERE product_id = $1 AND id = $2";

pub(super) const REPORTS: &str = "SELECT id, product_id, version, summary, details, contact, \
     received, triage_status, triage_note, fixed_in, triaged \
     FROM vulnerability_reports WHERE product_id = $1 ORDER BY id";

/// Every attestation, by product and log index: what the monitor walks.
pub(super) const ALL_ATTESTATIONS: &str = "SELECT envelope_sha256, statement_sha256, kind, \
     log_index, logged, submitted_by, signer_key_id, product_id, version, scheme, tier, route, \
     issued, valid_until, support_end, refers_to, status, reason, effective, trigger, \
     vulnerabilities, deadline, sbom_sha256 FROM attestations ORDER BY product_id, log_index";

/// The conformity attestations, with what the monitor's rules read.
pub(super) const WATCHED: &str = "SELECT a.envelope_sha256, a.product_id, a.version, a.scheme, \
     a.issued, a.logged, a.valid_until, a.support_end, a.sbom_sha256, \
     CASE WHEN s.matched_generation IS NULL THEN 0 ELSE 1 END FROM attestations a \
     LEFT JOIN sboms s ON s.sha256 = a.sbom_sha256 WHERE a.kind = 'conformity'";

/// The status changes, in log order, with what the monitor replays (a change's effective
/// time, or its log time when it has none).
pub(super) const WATCHED_CHANGES: &str = "SELECT refers_to, status, trigger, \
     COALESCE(effective, logged) FROM attestations WHERE kind = 'status' ORDER BY log_index";

/// Who may upload the SBOM `$1`: the submitters and product owners of the conformity
/// attestations that name it.
pub(super) const SBOM_NAMED_BY: &str = "SELECT a.submitted_by, p.manufacturer FROM attestations a \
     JOIN products p ON p.id = a.product_id WHERE a.kind = 'conformity' AND a.sbom_sha256 = $1";

pub(super) const INSERT_SBOM: &str = "INSERT INTO sboms (sha256, document, received) \
     VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING";

pub(super) const ALL_SIGHTINGS: &str = "SELECT attestation, vulnerability, first_seen, rating, \
     known_exploited FROM monitor_sightings";

pub(super) const INSERT_ANNOUNCEMENT: &str = "INSERT INTO announcements (product_id, version, \
     image_sha256, image_size, url, min_version, release_notes, source, announced, announced_by) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (product_id, version) DO NOTHING";

pub(super) const ANNOUNCEMENTS: &str = "SELECT product_id, version, image_sha256, image_size, url, \
     min_version, release_notes, source, announced, announced_by FROM announcements \
     WHERE product_id = $1 ORDER BY announced DESC, version";

pub(super) const ANNOUNCEMENT: &str = "SELECT product_id, version, image_sha256, image_size, url, \
     min_version, release_notes, source, announced, announced_by FROM announcements \
     WHERE product_id = $1 AND version = $2";

pub(super) const INSERT_SBOM_KEY: &str =
    "INSERT INTO sbom_keys (key, sbom_sha256) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(super) const ANY_SBOM_MATCHED: &str =
    "SELECT 1 FROM sboms WHERE matched_generation IS NOT NULL LIMIT 1";

pub(super) const UNMATCHED_SBOMS: &str =
    "SELECT sha256, document FROM sboms WHERE matched_generation IS NULL ORDER BY sha256";

pub(super) const ALL_OPEN: &str =
    "SELECT sbom_sha256, vulnerability, rating, known_exploited FROM sbom_open";

pub(super) const MONITOR_GENERATION: &str =
    "SELECT vulns_generation FROM monitor_state WHERE id = 1";

pub(super) const SET_MONITOR_GENERATION: &str =
    "UPDATE monitor_state SET vulns_generation = $1 WHERE id = 1";

pub(super) const OPEN_CRA_CASE: &str = "INSERT INTO cra_cases (product_id, vulnerability, aware) \
     VALUES ($1, $2, $3) ON CONFLICT (product_id, vulnerability) DO NOTHING";

pub(super) const CRA_CASES: &str = "SELECT product_id, vulnerability, aware, fix_available, \
     fixed_in FROM cra_cases WHERE product_id = $1 ORDER BY aware, vulnerability";

pub(super) const CRA_REPORTS: &str = "SELECT vulnerability, report, made, reference, recorded, \
     recorded_by FROM cra_reports WHERE product_id = $1 ORDER BY made";

pub(super) const INSERT_CRA_REPORT: &str = "INSERT INTO cra_reports (product_id, vulnerability, \
     report, made, reference, recorded, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(super) const SIGHTED_IN: &str = "SELECT a.version, s.rating FROM monitor_sightings s \
     JOIN attestations a ON a.envelope_sha256 = s.attestation \
     WHERE a.product_id = $1 AND s.vulnerability = $2";

pub(super) const SET_CRA_FIX: &str = "UPDATE cra_cases SET fix_available = $3, fixed_in = $4 \
     WHERE product_id = $1 AND vulnerability = $2";

pub(super) const SBOM_HELD: &str = "SELECT sha256 FROM sboms WHERE sha256 = $1";

// Webhooks -------------------------------------------------------------------------------------

pub(super) const INSERT_WEBHOOK: &str = "INSERT INTO webhooks (id, organisation, url, secret, \
     product_id, created) VALUES ($1, $2, $3, $4, $5, $6)";

/// An organisation's live subscriptions with what became of their messages.
pub(super) const WEBHOOKS_OF: &str = "SELECT w.id, w.url, w.product_id, w.created, \
     (SELECT COUNT(*) FROM webhook_outbox o WHERE o.webhook = w.id AND o.delivered IS NULL \
        AND o.failed IS NULL), \
     (SELECT COUNT(*) FROM webhook_outbox o WHERE o.webhook = w.id AND o.delivered IS NOT NULL), \
     (SELECT COUNT(*) FROM webhook_outbox o WHERE o.webhook = w.id AND o.failed IS NOT NULL), \
     (SELECT MAX(o.delivered) FROM webhook_outbox o WHERE o.webhook = w.id), \
     (SELECT o.last_error FROM webhook_outbox o WHERE o.webhook = w.id \
        AND o.last_error IS NOT NULL ORDER BY o.last_attempt DESC LIMIT 1) \
     FROM webhooks w WHERE w.organisation = $1 AND w.removed IS NULL ORDER BY w.created, w.id";

pub(super) const REMOVE_WEBHOOK: &str = "UPDATE webhooks SET removed = $3 \
     WHERE id = $1 AND organisation = $2 AND removed IS NULL";

/// A removed subscription's messages not yet sent are given up on.
pub(super) const DROP_WEBHOOK_MESSAGES: &str = "UPDATE webhook_outbox SET failed = $2, \
     last_error = 'the subscription was removed' \
     WHERE webhook = $1 AND delivered IS NULL AND failed IS NULL";

/// One message per live subscription to the attestation's product or to every product; run in
/// the transaction that records the attestation. `$1` is the message ID's prefix.
pub(super) const QUEUE_WEBHOOK_MESSAGES: &str = "INSERT INTO webhook_outbox (message_id, \
     webhook, envelope_sha256, created, next_attempt) \
     SELECT $1 || id, id, $2, $3, $4 FROM webhooks \
     WHERE removed IS NULL AND (product_id IS NULL OR product_id = $5)";

pub(super) const DUE_WEBHOOK_MESSAGES: &str = "SELECT o.message_id, o.envelope_sha256, \
     o.attempts, o.next_attempt, w.id, w.url, w.secret FROM webhook_outbox o \
     JOIN webhooks w ON w.id = o.webhook \
     WHERE o.delivered IS NULL AND o.failed IS NULL AND o.next_attempt <= $1 \
     ORDER BY o.next_attempt, o.message_id LIMIT $2";

/// Takes a due message for one attempt: only the worker whose `next_attempt` still matches
/// wins it, and the message's next attempt moves to the end of the attempt's lease.
pub(super) const CLAIM_WEBHOOK_MESSAGE: &str = "UPDATE webhook_outbox \
     SET next_attempt = $3, attempts = attempts + 1, last_attempt = $4 \
     WHERE message_id = $1 AND next_attempt = $2 AND delivered IS NULL AND failed IS NULL";

pub(super) const WEBHOOK_MESSAGE_DELIVERED: &str = "UPDATE webhook_outbox SET delivered = $2, \
     last_error = NULL WHERE message_id = $1 AND delivered IS NULL";

pub(super) const WEBHOOK_MESSAGE_RETRY: &str = "UPDATE webhook_outbox SET next_attempt = $2, \
     last_error = $3 WHERE message_id = $1 AND delivered IS NULL AND failed IS NULL";

pub(super) const WEBHOOK_MESSAGE_GIVEN_UP: &str = "UPDATE webhook_outbox SET failed = $2, \
     last_error = $3 WHERE message_id = $1 AND delivered IS NULL AND failed IS NULL";

// Requirement changes --------------------------------------------------------------------------

pub(super) const INSERT_REQUIREMENT_CHANGE: &str = "INSERT INTO requirement_changes (scheme, \
     changed, summary, recorded, recorded_by) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (scheme, changed) DO NOTHING";

pub(super) const REQUIREMENT_CHANGES: &str = "SELECT scheme, changed, summary, recorded, \
     recorded_by FROM requirement_changes ORDER BY scheme, changed";

// Appeals -----------------------------------------------------------------------------------------

pub(super) const INSERT_APPEAL: &str = "INSERT INTO appeals (id, product_id, contests, \
     attestation, grounds, evidence, filed, filed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The columns every read of an appeal takes, in `AppealRow`'s order.
macro_rules! appeal_columns {
    () => {
        "SELECT id, product_id, contests, attestation, grounds, evidence, filed, filed_by, \
         decision, reasons, decided, decided_by, decision_attestation FROM appeals"
    };
}

pub(super) const APPEAL: &str = concat!(appeal_columns!(), " WHERE id = $1");

pub(super) const APPEAL_CONTESTING_ID: &str = "SELECT id FROM appeals WHERE contests = $1";

pub(super) const APPEALS_OF: &str = concat!(
    appeal_columns!(),
    " WHERE product_id = $1 ORDER BY filed, id"
);

/// Records the decision once: a decided appeal keeps its first.
pub(super) const DECIDE_APPEAL: &str = "UPDATE appeals SET decision = $2, reasons = $3, \
     decided = $4, decided_by = $5, decision_attestation = $6 \
     WHERE id = $1 AND decision IS NULL";

#[cfg(test)]
mod tests {
    #[test]
    fn search_binds_every_word_and_the_page() {
        assert_eq!(
            super::search(2).strip_prefix(super::SUMMARIES),
            Some(
                " WHERE p.search_text LIKE $1 ESCAPE '\\' AND p.search_text LIKE $2 ESCAPE '\\' \
                 ORDER BY p.sort_key, p.id LIMIT $3 OFFSET $4"
            )
        );
    }
}
