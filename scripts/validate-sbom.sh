#!/usr/bin/env bash
# Checks the SBOMs iotmark produces with validators we did not write, installed once into
# target/tools from PyPI (nothing is fetched at run time):
# - CycloneDX: the official CycloneDX 1.6 JSON schema, through cyclonedx-python-lib (OWASP
#   CycloneDX, Apache-2.0) and the schema files shipped inside its package;
# - SPDX 2.3 JSON: spdx-tools (the SPDX project's Python parser and validator), and NTIA's
#   minimum elements with ntia-conformance-checker (the SPDX project's checker).
#
# The SBOMs come from the firmware crate's integration tests (tests/inventory.rs): an image
# built with mksquashfs and gzip from the host's curl, libcurl and libcrypto, an opkg database,
# the hostapd/OpenSSL header trap and a compressed kernel; and the bzImage_gzip kernel fixture;
# and from `iotmark scan --sbom` on a SquashFS of real Debian armhf packages installed by dpkg.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

venv=target/tools/cyclonedx
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'cyclonedx-python-lib[json-validation]==11.12.0'
fi

IOTMARK_SBOM_OUT="$out" cargo test --locked --quiet -p iotmark-firmware --test inventory -- \
  sbom_of_an_image a_compressed_kernel > /dev/null

# And the whole CLI on a router image of real Debian armhf binaries, when they are fetched
# (scripts/test.sh fetches them first).
# dpkg itself unpacks them, so the image has a package database and Debian changelogs
# (whose CVEs become the SBOM's back-port pedigree).
if ls target/debian-packages/armhf/*.deb >/dev/null 2>&1; then
  mkdir -p "$out/rootfs/var/lib/dpkg/info" "$out/rootfs/var/lib/dpkg/updates"
  touch "$out/rootfs/var/lib/dpkg/status" "$out/rootfs/var/lib/dpkg/available"
  dpkg --root="$out/rootfs" --force-all --force-script-chrootless --no-triggers \
    --unpack target/debian-packages/armhf/*.deb > /dev/null
  mksquashfs "$out/rootfs" "$out/debian-armhf.sqfs" -comp xz -all-root -noappend -quiet -no-progress
  cargo run --locked --quiet -p iotmark -- scan "$out/debian-armhf.sqfs" \
    --sbom "$out/debian-armhf.cdx.json" --spdx "$out/debian-armhf.spdx.json" \
    --supplier "iotmark test lab" --firmware-version 1.0 > /dev/null
fi

shopt -s nullglob
files=("$out"/*.cdx.json)
if [ ${#files[@]} -eq 0 ]; then
  echo "validate-sbom: the tests wrote no SBOM" >&2
  exit 1
fi

"$venv/bin/python" scripts/cyclonedx-validate.py "${files[@]}"

spdx_files=("$out"/*.spdx.json)
if [ ${#spdx_files[@]} -eq 0 ]; then
  echo "validate-sbom: the tests wrote no SPDX document" >&2
  exit 1
fi
spdx_venv=target/tools/spdx
if [ ! -x "$spdx_venv/bin/python" ]; then
  python3 -m venv "$spdx_venv"
  "$spdx_venv/bin/pip" install --quiet --disable-pip-version-check \
    'spdx-tools==0.8.5' 'ntia-conformance-checker==6.0.0'
fi
for f in "${spdx_files[@]}"; do
  "$spdx_venv/bin/pyspdxtools" -i "$f" || { echo "FAIL $f: spdx-tools found it invalid" >&2; exit 1; }
  "$spdx_venv/bin/sbomcheck" -c ntia -r json "$f" | "$spdx_venv/bin/python" -c '
import json, sys
report = json.load(sys.stdin)
if not report["isNtiaConformant"]:
    missing = {k: v["nonconformantComponents"] for k, v in report.items()
               if isinstance(v, dict) and v.get("allProvided") is False}
    sys.exit(f"FAIL {sys.argv[1]}: not NTIA conformant: {missing}")
print(f"OK {sys.argv[1]}: SPDX 2.3 valid, NTIA minimum elements present")
' "$f"
done
