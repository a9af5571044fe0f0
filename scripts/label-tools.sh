#!/usr/bin/env bash
# The independent label checkers: zbarimg (Debian's zbar-tools) decodes the QR codes on our
# labels, and rsvg-convert (Debian's librsvg2-bin) rasterises the SVG label first, so neither
# our QR encoder nor our renderer checks itself. crates/iotmark-registry/tests/label.rs runs
# them; nothing is fetched at test time.
#
# Usage: bash scripts/label-tools.sh            (check that they are installed)
#        bash scripts/label-tools.sh --install  (install them with apt-get if missing)
set -euo pipefail

missing() {
  command -v zbarimg >/dev/null || echo zbar-tools
  command -v rsvg-convert >/dev/null || echo librsvg2-bin
}

case "${1:-}" in
  --install)
    mapfile -t need < <(missing)
    if [ ${#need[@]} -gt 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    fi
    ;;
  "") ;;
  *)
    echo "usage: $0 [--install]" >&2
    exit 2
    ;;
esac

mapfile -t need < <(missing)
if [ ${#need[@]} -gt 0 ]; then
  echo "error: missing Debian packages: ${need[*]}; run: bash scripts/label-tools.sh --install" >&2
  exit 1
fi
echo "$(zbarimg --version 2>&1 | head -n1 | sed 's/^/zbarimg /'); $(rsvg-convert --version)"
