#!/usr/bin/env bash
# Checks every OSCAL document iotmark ships or produces with two validators we did not write
# (NIST's JSON schema through jsonschema-rs, and compliance-trestle's models):
#   - the bundled catalogs and mapping collections, as shipped and as exported;
#   - YAML exports, converted back to JSON by iotmark (round-trip);
#   - NIST's SP 800-53 rev5 baseline profiles, resolved by iotmark;
#   - the example product's assessment plan, results and component definition under every
#     bundled scheme;
#   - the POA&M and SSP `iotmark procure` writes, at each SP 800-53B baseline;
#   - the POA&M `iotmark fleet check` writes, from its CLI test against a running registry.
set -euo pipefail
cd "$(dirname "$0")/.."

validator=../shared/tools/oscal-validate.py
nist=../shared/reference/nist-oscal-content
catalog_href='#84cbf061-eb87-4ec1-8112-1f529232e907'
cargo build --release --locked --quiet
bin=target/release/iotmark
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

files=(catalogs/catalogs/*.json catalogs/mappings/*.json)
sarif_files=()
for f in catalogs/catalogs/*.json catalogs/mappings/*.json; do
  key=$(basename "$f" .json)
  "$bin" catalog export "$key" --format oscal-json -o "$out/$key.export.json" 2>/dev/null
  "$bin" catalog export "$key" --format oscal-yaml -o "$out/$key.yaml" 2>/dev/null
  files+=("$out/$key.export.json")
done
# A resolved catalog re-read from YAML and written as JSON proves the YAML path is lossless
# for catalogs; resolving a profile that imports our own catalog by file checks it is usable.
for key in en303645 ir8425 sp800-213a; do
  "$bin" catalog resolve "$out/$key.yaml" -o "$out/$key.from-yaml.json" 2>/dev/null
  files+=("$out/$key.from-yaml.json")
done
for baseline in LOW MODERATE HIGH PRIVACY; do
  source=HIGH
  [ "$baseline" = PRIVACY ] && source=PRIVACY
  "$bin" catalog resolve "$nist/NIST_SP-800-53_rev5_${baseline}-baseline_profile.json" \
    --map "$catalog_href=$nist/NIST_SP-800-53_rev5_${source}-baseline-resolved-profile_catalog-min.json" \
    -o "$out/resolved-$baseline.json" 2>/dev/null
  files+=("$out/resolved-$baseline.json")
done

for scheme in $("$bin" scheme list --json | python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin)))'); do
  # Exit 3 means "does not conform", which is the example's honest result.
  "$bin" assess examples/acme-securecam/declaration.yaml --evidence examples/acme-securecam/evidence \
    --date 2026-11-22 --scheme "$scheme" --out "$out/assess-$scheme" > /dev/null || [ $? -eq 3 ]
  for f in assessment-plan assessment-results component-definition; do
    cp "$out/assess-$scheme/$f.json" "$out/$scheme.$f.json"
    files+=("$out/$scheme.$f.json")
  done
  sarif_files+=("$out/assess-$scheme/results.sarif")
done

# The SP 800-213 procurement check's POA&M at each baseline, and NIST's example SSP with the
# example cameras added as components.
for baseline in low moderate high; do
  "$bin" procure --baseline "$baseline" --date 2026-11-22 \
    examples/acme-securecam/declaration.yaml examples/acme-securecam-fixed/declaration.yaml \
    --poam "$out/procure-$baseline.poam.json" \
    --ssp crates/iotmark-oscal/tests/data/nist-examples/ssp-example.json \
    --ssp-out "$out/procure-$baseline.ssp.json" > /dev/null 2>&1
  files+=("$out/procure-$baseline.poam.json" "$out/procure-$baseline.ssp.json")
done

# The fleet check's POA&M, as its CLI test writes it against the demo's registry.
IOTMARK_FLEET_OUT="$out" cargo test --locked --quiet -p iotmark --test fleet_cli > /dev/null
files+=("$out/fleet.poam.json")

# The vulnerability report's SARIF, from the vulns CLI test on real NVD records.
IOTMARK_SARIF_OUT="$out" cargo test --locked --quiet -p iotmark --test vulns_cli -- \
  an_sbom_matched > /dev/null
sarif_files+=("$out/vulns.sarif")

python3 "$validator" "${files[@]}" > "$out/report.txt" || { cat "$out/report.txt"; echo "OSCAL validation failed" >&2; exit 1; }
passed=$(grep -c '^OK ' "$out/report.txt")
failed=$(grep -c '^FAIL ' "$out/report.txt" || true)
echo "oscal-validate: $passed passed, $failed failed"

# SARIF, checked by Microsoft's SARIF Multitool (npm) against the SARIF 2.1.0 schema and its
# own rules. Installed once into target/tools.
tools=target/tools/sarif
if [ ! -x "$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool" ]; then
  mkdir -p "$tools"
  (cd "$tools" && npm install --silent --no-audit --no-fund @microsoft/sarif-multitool@5.7.0 > /dev/null)
  chmod u+x "$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"
fi
multitool=$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
sarif_ok=0
for f in "${sarif_files[@]}"; do
  rm -f "$out/sarif-check.sarif"
  "$multitool" validate "$f" -o "$out/sarif-check.sarif" > /dev/null
  problems=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0].get("results", []); [print(x["ruleId"], x.get("message", {}).get("arguments")) for x in r if x.get("level") in ("error", "warning")]' "$out/sarif-check.sarif")
  if [ -n "$problems" ]; then
    echo "SARIF validation failed for $f:" >&2
    echo "$problems" >&2
    exit 1
  fi
  sarif_ok=$((sarif_ok + 1))
done
echo "sarif-multitool: $sarif_ok passed, 0 failed"
