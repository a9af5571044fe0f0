-- The post-market lifecycle (docs/LIFECYCLE.md). Keep in step with ../sqlite/0004_lifecycle.sql.
--
-- Status changes gain the records the monitor writes (vulnerable, expiry) and the
-- manufacturer's withdrawal; each keeps the lifecycle trigger that caused it, the
-- vulnerabilities behind it and the deadline to fix them. A conformity attestation keeps the
-- digest of the SBOM it rests on.

ALTER TABLE attestations DROP CONSTRAINT attestations_status_check;
ALTER TABLE attestations ADD CONSTRAINT attestations_status_check
    CHECK (status IN ('vulnerable', 'suspension', 'revocation', 'end-of-support',
                      'reinstatement', 'expiry', 'withdrawal'));
-- The lifecycle trigger (machine::Trigger) of a status change; NULL on older rows.
ALTER TABLE attestations ADD COLUMN trigger TEXT;
-- The vulnerability IDs behind a change, as a JSON array; NULL when none.
ALTER TABLE attestations ADD COLUMN vulnerabilities TEXT;
-- When the deadline to fix them passes.
ALTER TABLE attestations ADD COLUMN deadline BIGINT;
-- A conformity attestation's SBOM digest, when it names one.
ALTER TABLE attestations ADD COLUMN sbom_sha256 TEXT;

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
