#!/usr/bin/env bash
# The independent transparency-log checker's tools: the Go toolchain and Go's
# golang.org/x/mod sources (sumdb/tlog and sumdb/note), from Debian's golang-go and
# golang-golang-x-mod-dev. crates/iotmark-log/tests/go_interop.rs builds its checker from them
# offline (GOPATH mode over /usr/share/gocode); nothing is fetched at test time.
#
# Usage: bash scripts/interop-tlog.sh            (check that they are installed)
#        bash scripts/interop-tlog.sh --install  (install them with apt-get if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/debian-tools.sh
source scripts/lib/debian-tools.sh

gocode=/usr/share/gocode
xmod="$gocode/src/golang.org/x/mod/sumdb"

missing() {
  command -v go >/dev/null || echo golang-go
  [ -d "$xmod/tlog" ] && [ -d "$xmod/note" ] || echo golang-golang-x-mod-dev
}

debian_tools scripts/interop-tlog.sh "${1:-}"
version=$(dpkg-query -W -f='${Version}' golang-golang-x-mod-dev 2>/dev/null || echo "unknown")
echo "$(go version); golang.org/x/mod $version at $gocode"
