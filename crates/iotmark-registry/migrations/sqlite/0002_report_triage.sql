-- The manufacturer's answer to a vulnerability report, in OpenVEX's status words; NULL while
-- the report is received and not yet triaged. A fix names the version that has it.
ALTER TABLE vulnerability_reports ADD COLUMN triage_status TEXT
    CHECK (triage_status IN ('under_investigation', 'affected', 'not_affected', 'fixed'));
ALTER TABLE vulnerability_reports ADD COLUMN triage_note TEXT;
ALTER TABLE vulnerability_reports ADD COLUMN fixed_in TEXT;
ALTER TABLE vulnerability_reports ADD COLUMN triaged BIGINT;
