#!/usr/bin/env bash
# DSSE verification throughput, iotmark against securesystemslib 1.6 (the reference DSSE
# implementation, pyca/cryptography's Ed25519 underneath) on the same envelope in the same
# run: an in-toto Statement with our conformity predicate (≈ 0.9 KB payload), one Ed25519
# signature. Each side, in one thread, parses the envelope JSON, verifies the signature
# over the PAE and parses the payload JSON; iotmark also checks the statement's fields.
#
# Usage: bash benches/dsse.sh [N]     (default N = 20000; installs the venv if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bash scripts/interop-dsse.sh --install > /dev/null
venv=target/tools/securesystemslib
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --release --locked -p iotmark-attest --example dsse_verify
bin=${CARGO_TARGET_DIR:-target}/release/examples/dsse_verify
"$bin" prepare fuzz/corpus/dsse_envelope/conformity.statement.json "$work"
keyid=$(cat "$work/keyid")
echo "== envelope: $(wc -c < "$work/envelope.json") bytes; $n verifications each, one thread"
"$bin" run "$work/envelope.json" "$work/key.pub" "$n"
"$venv/bin/python" crates/iotmark-attest/tests/python/sslib_dsse.py bench \
  "$work/envelope.json" "$work/key.pub" "$keyid" "$n"
