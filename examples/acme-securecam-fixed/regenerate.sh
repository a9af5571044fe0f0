#!/usr/bin/env bash
# Regenerates the expected reports of the fixed example product after an intended change to the
# engine, a rule or a scheme. Review the diff before committing it: this product should keep
# conforming under en303645-self-declaration.
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p expected
for scheme in en303645-self-declaration us-cyber-trust-mark eu-cra; do
  # Exit codes 3 and 4 (does not conform, undetermined) still write the reports.
  cargo run --quiet --release -- assess declaration.yaml --evidence evidence --date 2026-11-22 \
    --scheme "$scheme" --out "$out/$scheme" > /dev/null || true
  cp "$out/$scheme/report.md" "expected/$scheme.md"
done
cp "$out/en303645-self-declaration/report.html" expected/en303645-self-declaration.html
echo "expected reports regenerated; review with git diff"
