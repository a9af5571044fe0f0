-- Appeals (docs/LIFECYCLE.md, "Due process"): a manufacturer contests the suspension or
-- revocation in force on one of its attestations, with its grounds and evidence; the
-- operator decides. The decision is logged as a status change the registry signs for the
-- operator (an upheld appeal reinstates; a dismissed one records the contested change
-- again), and named here.
-- Keep in step with ../postgres/0010_appeals.sql.
CREATE TABLE appeals (
    id                   TEXT   NOT NULL PRIMARY KEY,
    product_id           TEXT   NOT NULL REFERENCES products (id),
    -- The contested suspension or revocation: one appeal per change.
    contests             TEXT   NOT NULL UNIQUE REFERENCES attestations (envelope_sha256),
    -- The conformity attestation that change applies to.
    attestation          TEXT   NOT NULL REFERENCES attestations (envelope_sha256),
    grounds              TEXT   NOT NULL,
    -- JSON array of {"description", "sha256"?, "url"?}.
    evidence             TEXT   NOT NULL,
    filed                BIGINT NOT NULL,
    filed_by             TEXT   NOT NULL REFERENCES organisations (id),
    decision             TEXT   CHECK (decision IN ('upheld', 'dismissed')),
    reasons              TEXT,
    decided              BIGINT,
    decided_by           TEXT   REFERENCES organisations (id),
    -- The status change that logged the decision.
    decision_attestation TEXT   REFERENCES attestations (envelope_sha256)
);
CREATE INDEX appeals_of ON appeals (product_id);
