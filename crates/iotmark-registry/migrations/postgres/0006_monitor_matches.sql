-- What the monitor keeps between runs, so a run after an import re-matches only the SBOMs the
-- import can reach. Keep in step with ../sqlite/0006_monitor_matches.sql.

-- The lookup keys of each kept SBOM's components (as the vulnerability store files
-- advisories: cpe:VENDOR:PRODUCT, purl:TYPE/NS/NAME, osv:ECOSYSTEM:NAME).
CREATE TABLE sbom_keys (
    key         TEXT NOT NULL,
    sbom_sha256 TEXT NOT NULL REFERENCES sboms (sha256),
    PRIMARY KEY (key, sbom_sha256)
);

-- Each SBOM's open vulnerabilities, as the monitor last matched them.
CREATE TABLE sbom_open (
    sbom_sha256     TEXT    NOT NULL REFERENCES sboms (sha256),
    vulnerability   TEXT    NOT NULL,
    rating          TEXT    NOT NULL,
    known_exploited INTEGER NOT NULL CHECK (known_exploited IN (0, 1)),
    PRIMARY KEY (sbom_sha256, vulnerability)
);
CREATE INDEX sbom_open_by_vulnerability ON sbom_open (vulnerability);

-- The vulnerability store's generation an SBOM was fully matched at; NULL: not yet.
ALTER TABLE sboms ADD COLUMN matched_generation BIGINT;

-- The vulnerability store's generation that sbom_open reflects.
CREATE TABLE monitor_state (
    id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    vulns_generation BIGINT  NOT NULL
);
INSERT INTO monitor_state (id, vulns_generation) VALUES (1, 0);
