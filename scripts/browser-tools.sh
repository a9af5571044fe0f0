#!/usr/bin/env bash
# A real browser for the registry's page tests: Debian's chromium and its chromedriver, which
# crates/iotmark-registry/tests/browser.rs drives over WebDriver (headless, no network beyond
# the test's own registry on 127.0.0.1). Nothing is fetched at test time.
#
# Usage: bash scripts/browser-tools.sh            (check that they are installed)
#        bash scripts/browser-tools.sh --install  (install them with apt-get if missing)
set -euo pipefail

missing() {
  [ -x /usr/bin/chromium ] || echo chromium
  command -v chromedriver >/dev/null || echo chromium-driver
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
  echo "error: missing Debian packages: ${need[*]}; run: bash scripts/browser-tools.sh --install" >&2
  exit 1
fi
echo "$(/usr/bin/chromium --version 2>/dev/null | head -n1); $(chromedriver --version | head -n1)"
