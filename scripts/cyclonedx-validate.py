"""Validates CycloneDX 1.6 JSON documents against the official schema shipped inside
cyclonedx-python-lib (OWASP CycloneDX, Apache-2.0); exits 1 when one fails.
Usage: PYTHON scripts/cyclonedx-validate.py FILE...  with the venv scripts/validate-vex.sh and
scripts/validate-sbom.sh (both call it) install under target/tools/cyclonedx."""
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
print(f"cyclonedx-1.6: {len(sys.argv) - 1 - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
