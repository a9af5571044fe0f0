-- What changed in the store, and when, so a monitor that matched SBOMs before re-matches only
-- what the changes can reach. Keep in step with ../postgres/1002_change_journal.sql.
--
-- Every write (a batch of advisories, a KEV catalog, a triage decision) takes the next
-- generation in its own transaction, so generations commit in order: a reader that sees
-- generation G sees every change up to G. Each vulnerability a write touched (an advisory's
-- ID and aliases, a KEV entry added, changed or removed, a triage decision's subject) is
-- journaled under that generation.
CREATE TABLE vuln_generation (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    value BIGINT  NOT NULL
);
INSERT INTO vuln_generation (id, value) VALUES (1, 0);

CREATE TABLE vuln_changes (
    generation    BIGINT NOT NULL,
    vulnerability TEXT   NOT NULL,
    PRIMARY KEY (generation, vulnerability)
);
