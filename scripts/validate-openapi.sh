#!/usr/bin/env bash
# Checks the registry's OpenAPI document (the committed snapshot, which a test keeps equal to
# what the registry serves) with openapi-spec-validator, an OpenAPI 3.1 validator we did not
# write. Installs it from PyPI into target/tools/openapi when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/tools/openapi
if [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'openapi-spec-validator==0.9.0'
fi
"$venv/bin/openapi-spec-validator" crates/iotmark-registry/openapi.json
