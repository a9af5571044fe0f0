-- An attestation's identity is its signed statement, not the bytes of the envelope that
-- carries it: the same statement re-encoded (other JSON whitespace, URL-safe base64, an extra
-- signature) is the same attestation, and is recorded once. The registry refuses a second
-- record before it logs it; this index is the floor under that rule.
CREATE UNIQUE INDEX attestations_by_statement ON attestations (statement_sha256);

-- A certification finds the manufacturer by its display name, so a display name belongs to
-- one organisation. The registry compares names ignoring case and spacing before it writes;
-- this index refuses exact repeats whatever the writer.
CREATE UNIQUE INDEX organisations_by_name ON organisations (name);
