-- Fleet tools look products up by the SHA-256 of the firmware image a device runs
-- (POST /api/v1/products/lookup); without an index that is a scan of every image.
-- Keep in step with ../sqlite/0012_image_digest_index.sql.
CREATE INDEX images_by_sha256 ON images (sha256);
