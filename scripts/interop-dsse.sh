#!/usr/bin/env bash
# Installs the independent DSSE implementation the attestation interop tests check against:
# securesystemslib (the Secure Systems Lab's reference DSSE code, MIT/Apache-2.0) with its
# `crypto` extra for Ed25519, and in-toto, from PyPI into target/tools/securesystemslib.
# Nothing is fetched at test time. Then runs the interop tests of crates/iotmark-attest.
#
# Usage: bash scripts/interop-dsse.sh            (install if missing, run the tests)
#        bash scripts/interop-dsse.sh --install  (install only)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/tools/securesystemslib
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import securesystemslib.dsse, in_toto' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'securesystemslib[crypto]==1.6.0' 'in-toto==3.1.0'
fi
"$venv/bin/python" -c 'import securesystemslib, in_toto; print("securesystemslib", securesystemslib.__version__, "in-toto", in_toto.__version__)'

if [ "${1:-}" = "--install" ]; then
  exit 0
fi
cargo test --locked --quiet -p iotmark-attest --test interop
