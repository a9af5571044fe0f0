#!/usr/bin/env bash
# Whole-process benchmark of OSCAL loading and profile resolution, iotmark against
# compliance-trestle on the same files in the same run (hyperfine, warm cache).
#
#   1. load + schema-validate NIST's SP 800-53 rev5 HIGH resolved catalog (2.1 MB);
#   2. resolve NIST's HIGH baseline profile over that catalog's 370 controls.
#
# Usage: bash benches/oscal.sh [--runs N]   (needs hyperfine: apt-get install hyperfine)
# Results go to target/bench/oscal.{md,json}; copy the table into docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${2:-20}

nist=$(cd ../shared/reference/nist-oscal-content && pwd)
catalog=$nist/NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json
profile=$nist/NIST_SP-800-53_rev5_HIGH-baseline_profile.json
href='#84cbf061-eb87-4ec1-8112-1f529232e907'

command -v hyperfine >/dev/null || { echo "error: hyperfine not found (apt-get install hyperfine)" >&2; exit 1; }
python3 -m pip install --quiet --disable-pip-version-check 'compliance-trestle==5.2.0'
cargo build --release --locked --quiet
bin=$PWD/target/release/iotmark
mkdir -p target/bench

# trestle resolves imports inside a trestle workspace; give it one, with the profile's import
# pointing straight at the same catalog file iotmark gets through --map.
ws=$(mktemp -d)
trap 'rm -rf "$ws"' EXIT
mkdir -p "$ws/.trestle"
python3 - "$profile" "$catalog" "$ws/high-profile.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["profile"]["imports"][0]["href"] = sys.argv[2]
p["profile"].pop("back-matter", None)
json.dump(p, open(sys.argv[3], "w"))
PY

# Each side must do real work: both print the number of controls they found.
trestle_load="python3 -c 'import pathlib,sys; from trestle.oscal.catalog import Catalog; c=Catalog.oscal_read(pathlib.Path(sys.argv[1])); print(sum(len(g.controls or []) for g in c.groups))' $catalog"
trestle_resolve="python3 -c 'import pathlib,sys; from trestle.core.profile_resolver import ProfileResolver as R; c=R.get_resolved_profile_catalog(pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[1])/\"high-profile.json\"); print(sum(len(g.controls or []) for g in c.groups))' $ws"
iotmark_load="$bin catalog import --json $catalog"
iotmark_resolve="$bin catalog resolve $profile --map '$href=$catalog' -o $ws/resolved.json"

hyperfine --warmup 3 --runs "$runs" --style basic \
  --export-markdown target/bench/oscal.md --export-json target/bench/oscal.json \
  -n "iotmark: load + validate HIGH catalog" "$iotmark_load" \
  -n "trestle: load HIGH catalog (pydantic models)" "$trestle_load" \
  -n "iotmark: resolve HIGH profile" "$iotmark_resolve" \
  -n "trestle: resolve HIGH profile" "$trestle_resolve"

python3 - target/bench/oscal.json <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
for task in ("load", "resolve"):
    ours = next(v for k, v in r.items() if k.startswith("iotmark") and task in k)
    peer = next(v for k, v in r.items() if k.startswith("trestle") and task in k)
    print(f"{task}: iotmark {ours*1000:.1f} ms, trestle {peer*1000:.1f} ms, {peer/ours:.1f}x faster")
PY
