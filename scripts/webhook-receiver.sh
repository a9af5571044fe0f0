#!/usr/bin/env bash
# Installs the independent Standard Webhooks implementation the registry's webhook tests
# check every delivered message with: `standardwebhooks` (PyPI, the Standard Webhooks
# project's reference library, MIT), into target/tools/standardwebhooks. Nothing is fetched at
# test time. Then runs the registry's webhook tests.
#
# Usage: bash scripts/webhook-receiver.sh            (install if missing, run the tests)
#        bash scripts/webhook-receiver.sh --install  (install only)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/tools/standardwebhooks
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import standardwebhooks' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'standardwebhooks==1.3.0'
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("standardwebhooks", m.version("standardwebhooks"))'

if [ "${1:-}" = "--install" ]; then
  exit 0
fi
cargo test --locked --quiet -p iotmark-registry --test webhooks
