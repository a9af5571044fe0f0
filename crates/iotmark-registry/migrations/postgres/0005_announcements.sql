-- Versions a manufacturer announced (its OTA image, where to get it, which versions may update
-- to it) or a lab or the operator saw in the field. Until a conformity attestation covers the
-- image's digest, the version is unassessed, and the product page says so.
-- Keep in step with ../sqlite/0005_announcements.sql.
CREATE TABLE announcements (
    product_id    TEXT   NOT NULL REFERENCES products (id),
    version       TEXT   NOT NULL,
    image_sha256  TEXT   NOT NULL,
    -- Bytes; NULL for a version seen in the field.
    image_size    BIGINT CHECK (image_size > 0),
    url           TEXT,
    -- The oldest version that may update to this one.
    min_version   TEXT,
    release_notes TEXT,
    source        TEXT   NOT NULL CHECK (source IN ('manufacturer', 'field')),
    announced     BIGINT NOT NULL,
    announced_by  TEXT   NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (product_id, version)
);
CREATE INDEX announcements_by_image ON announcements (image_sha256);
