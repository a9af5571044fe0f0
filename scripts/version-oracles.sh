#!/usr/bin/env bash
# Installs the independent version-order implementations that crates/iotmark-vulns checks its
# orders against, under target/tools/version-oracles: PyPA's `packaging` (PEP 440, from PyPI,
# in a venv) and npm's `semver` (SemVer, from the npm registry). dpkg and rpm come from
# Debian's packages (scripts/test.sh installs them). Nothing is fetched at test time.
#
# Usage: bash scripts/version-oracles.sh            (install if missing, run the tests)
#        bash scripts/version-oracles.sh --install  (install only)
set -euo pipefail
cd "$(dirname "$0")/.."

tools=target/tools/version-oracles
if [ ! -x "$tools/venv/bin/python" ] || ! "$tools/venv/bin/python" -c 'import packaging.version' 2>/dev/null; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check 'packaging==26.4'
fi
if [ ! -f "$tools/node/node_modules/semver/package.json" ]; then
  mkdir -p "$tools/node"
  npm install --silent --no-audit --no-fund --prefix "$tools/node" 'semver@7.8.6'
fi
"$tools/venv/bin/python" -c 'import packaging; print("packaging", packaging.__version__)'
node -e "console.log('semver', require('./$tools/node/node_modules/semver/package.json').version)"

if [ "${1:-}" = "--install" ]; then
  exit 0
fi
cargo test --locked --quiet -p iotmark-vulns --test version_oracles
