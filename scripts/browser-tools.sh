#!/usr/bin/env bash
# A real browser for the registry's page tests: Debian's chromium and its chromedriver, which
# crates/iotmark-registry/tests/browser.rs drives over WebDriver (headless, no network beyond
# the test's own registry on 127.0.0.1). Nothing is fetched at test time.
#
# Usage: bash scripts/browser-tools.sh            (check that they are installed)
#        bash scripts/browser-tools.sh --install  (install them with apt-get if missing)
set -euo pipefail
# shellcheck source=lib/debian-tools.sh
source "$(dirname "$0")/lib/debian-tools.sh"

missing() {
  [ -x /usr/bin/chromium ] || echo chromium
  command -v chromedriver >/dev/null || echo chromium-driver
}

debian_tools scripts/browser-tools.sh "${1:-}"
echo "$(/usr/bin/chromium --version 2>/dev/null | head -n1); $(chromedriver --version | head -n1)"
