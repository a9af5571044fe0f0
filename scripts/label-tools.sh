#!/usr/bin/env bash
# The independent label checkers: zbarimg (Debian's zbar-tools) decodes the QR codes on our
# labels, and rsvg-convert (Debian's librsvg2-bin) rasterises the SVG label first, so neither
# our QR encoder nor our renderer checks itself. crates/iotmark-registry/tests/label.rs runs
# them; nothing is fetched at test time.
#
# Usage: bash scripts/label-tools.sh            (check that they are installed)
#        bash scripts/label-tools.sh --install  (install them with apt-get if missing)
set -euo pipefail
# shellcheck source=lib/debian-tools.sh
source "$(dirname "$0")/lib/debian-tools.sh"

missing() {
  command -v zbarimg >/dev/null || echo zbar-tools
  command -v rsvg-convert >/dev/null || echo librsvg2-bin
}

debian_tools scripts/label-tools.sh "${1:-}"
echo "$(zbarimg --version 2>&1 | head -n1 | sed 's/^/zbarimg /'); $(rsvg-convert --version)"
