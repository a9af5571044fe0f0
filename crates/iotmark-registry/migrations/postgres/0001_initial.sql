-- The registry's index of the log, for PostgreSQL. Keep in step with ../sqlite/0001_initial.sql:
-- the same tables, columns, constraints and indexes, so both backends hold the same values.
-- Times are seconds since the Unix epoch; digests lower-case hex; keys and token hashes raw.
-- Columns that results are ordered by use the "C" collation: byte order, as SQLite's BINARY,
-- whatever locale the cluster was created with.

CREATE TABLE organisations (
    id      TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    name    TEXT    NOT NULL,
    role    TEXT    NOT NULL CHECK (role IN ('operator', 'manufacturer', 'lab')),
    created BIGINT  NOT NULL
);

CREATE TABLE accreditations (
    organisation TEXT   NOT NULL REFERENCES organisations (id),
    scheme       TEXT   COLLATE "C" NOT NULL,
    granted      BIGINT NOT NULL,
    PRIMARY KEY (organisation, scheme)
);

CREATE TABLE signing_keys (
    key_id       TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    organisation TEXT   NOT NULL REFERENCES organisations (id),
    public_key   BYTEA  NOT NULL,
    label        TEXT   NOT NULL,
    added        BIGINT NOT NULL,
    retired      BIGINT
);
CREATE INDEX signing_keys_by_organisation ON signing_keys (organisation);

CREATE TABLE api_tokens (
    id            TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    organisation  TEXT   NOT NULL REFERENCES organisations (id),
    role          TEXT   NOT NULL CHECK (role IN ('operator', 'manufacturer', 'lab')),
    -- Every request looks its token up by this; UNIQUE gives the index.
    secret_sha256 BYTEA  NOT NULL UNIQUE,
    label         TEXT   NOT NULL,
    created       BIGINT NOT NULL,
    revoked       BIGINT
);
CREATE INDEX api_tokens_by_organisation ON api_tokens (organisation);

CREATE TABLE products (
    id                TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    manufacturer      TEXT   NOT NULL REFERENCES organisations (id),
    manufacturer_name TEXT   NOT NULL,
    name              TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    declaration_json  TEXT,
    created           BIGINT NOT NULL,
    updated           BIGINT NOT NULL,
    -- Lower-cased by the application (Unicode rules, the same for both backends): ID,
    -- manufacturer name, name and model joined by newlines, which a search word never holds.
    search_text       TEXT   NOT NULL,
    -- The lower-cased name: search results are ordered by it.
    sort_key          TEXT   COLLATE "C" NOT NULL
);
CREATE INDEX products_by_manufacturer ON products (manufacturer, id);
-- A search scans in this order and stops once it has a page of matches.
CREATE INDEX products_by_sort_key ON products (sort_key, id);

CREATE TABLE versions (
    product_id      TEXT   NOT NULL REFERENCES products (id),
    version         TEXT   NOT NULL,
    first_attested  BIGINT NOT NULL,
    -- Orders versions when two were first attested in the same second.
    first_log_index BIGINT NOT NULL,
    PRIMARY KEY (product_id, version)
);
CREATE INDEX versions_by_first_log_index ON versions (product_id, first_log_index);

CREATE TABLE images (
    product_id TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    PRIMARY KEY (product_id, version, position),
    FOREIGN KEY (product_id, version) REFERENCES versions (product_id, version)
);

CREATE TABLE attestations (
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
    -- Always 'conformity' on a status row, so that the foreign key below can only be met by a
    -- conformity attestation.
    refers_to_kind   TEXT CHECK (refers_to_kind = 'conformity'),
    status           TEXT CHECK (status IN ('suspension', 'revocation', 'end-of-support', 'reinstatement')),
    reason           TEXT,
    effective        BIGINT,
    UNIQUE (envelope_sha256, kind),
    FOREIGN KEY (product_id, version) REFERENCES versions (product_id, version),
    FOREIGN KEY (refers_to, refers_to_kind) REFERENCES attestations (envelope_sha256, kind),
    CHECK ((kind = 'status') = (refers_to IS NOT NULL AND refers_to_kind IS NOT NULL AND status IS NOT NULL))
);
CREATE INDEX attestations_by_product ON attestations (product_id, log_index);
CREATE INDEX attestations_by_refers_to ON attestations (refers_to);

CREATE TABLE vulnerability_reports (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id TEXT    NOT NULL REFERENCES products (id),
    version    TEXT,
    summary    TEXT    NOT NULL,
    details    TEXT    NOT NULL,
    contact    TEXT,
    received   BIGINT  NOT NULL
);
CREATE INDEX vulnerability_reports_by_product ON vulnerability_reports (product_id, id);
