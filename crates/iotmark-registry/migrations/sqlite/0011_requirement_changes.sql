-- When a scheme's requirements changed, as the registry's operator recorded it
-- (docs/LIFECYCLE.md, "Renewal and lapse"). Under a scheme whose rules lapse a label after its
-- requirements change, the monitor lapses every attestation issued before the change once
-- the scheme's days have passed, unless the version was attested again since.
-- Keep in step with ../postgres/0011_requirement_changes.sql.
CREATE TABLE requirement_changes (
    scheme       TEXT   NOT NULL,
    -- When the new requirements took effect.
    changed      BIGINT NOT NULL,
    summary      TEXT   NOT NULL,
    recorded     BIGINT NOT NULL,
    recorded_by  TEXT   NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (scheme, changed)
);
