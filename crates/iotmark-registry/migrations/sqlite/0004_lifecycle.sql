-- The post-market lifecycle (docs/LIFECYCLE.md). Keep in step with ../postgres/0004_lifecycle.sql.
--
-- Status changes gain the records the monitor writes (vulnerable, expiry) and the
-- manufacturer's withdrawal; each keeps the lifecycle trigger that caused it, the
-- vulnerabilities behind it and the deadline to fix them. A conformity attestation keeps the
-- digest of the SBOM it rests on. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with the same rows (its indexes go with it and are made again).

CREATE TABLE attestations_lifecycle (
    envelope_sha256  TEXT   NOT NULL PRIMARY KEY,
    statement_sha256 TEXT   NOT NULL,
    kind             TEXT   NOT NULL CHECK (kind IN ('conformity', 'status')),
    log_index        BIGINT NOT NULL UNIQUE CHECK (log_index >= 0),
    logged           BIGINT NOT NULL,
    submitted_by     TEXT   NOT NULL REFERENCES organisations (id),
    signer_key_id    TEXT   NOT NULL REFERENCES signing_keys (key_id),
    product_id       TEXT   NOT NULL,
    version          TEXT   NOT NULL,
    scheme           TEXT,
    tier             TEXT,
    route            TEXT,
    issued           BIGINT,
    valid_until      BIGINT,
    support_end      TEXT,
    refers_to        TEXT,
    refers_to_kind   TEXT CHECK (refers_to_kind = 'conformity'),
    status           TEXT CHECK (status IN ('vulnerable', 'suspension', 'revocation',
                         'end-of-support', 'reinstatement', 'expiry', 'withdrawal')),
    reason           TEXT,
    effective        BIGINT,
    -- The lifecycle trigger (machine::Trigger) of a status change; NULL on older rows.
    trigger          TEXT,
    -- The vulnerability IDs behind a change, as a JSON array; NULL when none.
    vulnerabilities  TEXT,
    -- When the deadline to fix them passes.
    deadline         BIGINT,
    -- A conformity attestation's SBOM digest, when it names one.
    sbom_sha256      TEXT,
    UNIQUE (envelope_sha256, kind),
    FOREIGN KEY (product_id, version) REFERENCES versions (product_id, version),
    -- Refers to the new table itself: renamed below, the reference follows it, and dropping
    -- the old table deletes no row anything refers to.
    FOREIGN KEY (refers_to, refers_to_kind) REFERENCES attestations_lifecycle (envelope_sha256, kind),
    CHECK ((kind = 'status') = (refers_to IS NOT NULL AND refers_to_kind IS NOT NULL AND status IS NOT NULL))
);
INSERT INTO attestations_lifecycle (envelope_sha256, statement_sha256, kind, log_index, logged,
    submitted_by, signer_key_id, product_id, version, scheme, tier, route, issued, valid_until,
    support_end, refers_to, refers_to_kind, status, reason, effective)
SELECT envelope_sha256, statement_sha256, kind, log_index, logged, submitted_by,
    signer_key_id, product_id, version, scheme, tier, route, issued, valid_until, support_end,
    refers_to, refers_to_kind, status, reason, effective
FROM attestations;
DROP TABLE attestations;
ALTER TABLE attestations_lifecycle RENAME TO attestations;
CREATE INDEX attestations_by_product ON attestations (product_id, log_index);
CREATE INDEX attestations_by_refers_to ON attestations (refers_to);
CREATE UNIQUE INDEX attestations_by_statement ON attestations (statement_sha256);

-- SBOMs the registry keeps, each bound by its digest to the conformity attestations that
-- name it; the monitor matches them against new vulnerability data.
CREATE TABLE sboms (
    sha256   TEXT   NOT NULL PRIMARY KEY,
    document TEXT   NOT NULL,
    received BIGINT NOT NULL
);

-- When the monitor first saw each open vulnerability in an attested version: the deadline to
-- fix runs from there. Written before any change it causes, so a run killed in between
-- resumes with the same deadlines.
CREATE TABLE monitor_sightings (
    attestation     TEXT    NOT NULL REFERENCES attestations (envelope_sha256),
    vulnerability   TEXT    NOT NULL,
    first_seen      BIGINT  NOT NULL,
    rating          TEXT    NOT NULL,
    known_exploited INTEGER NOT NULL CHECK (known_exploited IN (0, 1)),
    PRIMARY KEY (attestation, vulnerability)
);
