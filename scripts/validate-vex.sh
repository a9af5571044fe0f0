#!/usr/bin/env bash
# Checks the VEX documents iotmark writes with validators we did not write, installed once
# into target/tools from the package registries (nothing is fetched at run time):
# - CSAF 2.0 csaf_vex (and the registry's csaf_security_advisory documents): the schema test
#   and every mandatory test of
#   @secvisogram/csaf-validator-lib (npm; BSI's Secvisogram project, MIT);
# - CycloneDX 1.6: the official JSON schema through cyclonedx-python-lib (PyPI; the same
#   venv scripts/validate-sbom.sh uses).
# (OpenVEX is checked against its JSON schema in the ordinary test run, with the jsonschema
# crate.) The tests find the tools through IOTMARK_VEX_TOOLS.
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/tools
csaf="$tools/csaf-validator"
if [ ! -f "$csaf/node_modules/@secvisogram/csaf-validator-lib/package.json" ]; then
  mkdir -p "$csaf"
  echo '{"private": true}' > "$csaf/package.json"
  npm install --prefix "$csaf" --no-audit --no-fund --silent '@secvisogram/csaf-validator-lib@2.0.10'
fi
venv="$tools/cyclonedx"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import cyclonedx.validation.json' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'cyclonedx-python-lib[json-validation]==11.12.0'
fi

IOTMARK_VEX_TOOLS="$PWD/$tools" cargo test --locked --quiet -p iotmark-vulns --test vex -- \
  --nocapture written_documents_pass
# The registry's CSAF security advisories, from the monitor's end-to-end story.
IOTMARK_VEX_TOOLS="$PWD/$tools" cargo test --locked --quiet -p iotmark-registry --test monitor -- \
  --nocapture the_monitor_keeps_status_true_after_sale
