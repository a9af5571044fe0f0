-- An SBOM upload asks which attestations name its digest; without this it reads them all.
-- Keep in step with ../sqlite/0007_attestations_by_sbom.sql.
CREATE INDEX attestations_by_sbom ON attestations (sbom_sha256);
