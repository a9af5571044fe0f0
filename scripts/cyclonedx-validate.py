"""Validates CycloneDX 1.6 JSON documents against the official schema shipped inside
cyclonedx-python-lib (OWASP CycloneDX, Apache-2.0); exits 1 when one fails.
Usage: PYTHON scripts/cyclonedx-validate.py FILE...  with the venv scripts/validate-vex.sh
(or scripts/validate-sbom.sh) installs under target/tools/cyclonedx."""
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

validator = JsonStrictValidator(SchemaVersion.V1_6)
failed = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        error = validator.validate_str(f.read())
    if error is None:
        print(f"OK {path}: CycloneDX 1.6 schema")
    else:
        failed += 1
        print(f"FAIL {path}: {error}")
sys.exit(1 if failed else 0)
