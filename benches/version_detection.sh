#!/usr/bin/env bash
# Version detection on cve-bin-tool's condensed corpus (../shared/reference/version-detection:
# 682 packages of 360 products, OpenWrt ipk, rpm, deb, apk and tgz, reduced to their strings,
# with the expected product and version of each), in the same run for iotmark's inventory and
# for cve-bin-tool 3.4's
# VersionScanner, the peer named in the reference notes. cve-bin-tool is installed from PyPI
# into target/tools/cve-bin-tool; only its version scanner runs (no CVE database, no network).
#
# Usage: bash benches/version_detection.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/tools/cve-bin-tool
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'cve-bin-tool==3.4'
fi
# Its SQLite checker keeps a cache here and fails without the directory.
mkdir -p "${XDG_CACHE_HOME:-$HOME/.cache}/cve-bin-tool"
echo "== iotmark (per-product table, misses, overall)"
cargo run --quiet --release --locked -p iotmark-firmware --example version_detection | tail -11
echo "== cve-bin-tool 3.4"
"$venv/bin/python" benches/version_detection_peer.py 2>/dev/null
