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

gocode=/usr/share/gocode
xmod="$gocode/src/golang.org/x/mod/sumdb"

present() {
  command -v go >/dev/null && [ -d "$xmod/tlog" ] && [ -d "$xmod/note" ]
}

case "${1:-}" in
  --install)
    if ! present; then
      need=()
      command -v go >/dev/null || need+=(golang-go)
      [ -d "$xmod/tlog" ] && [ -d "$xmod/note" ] || need+=(golang-golang-x-mod-dev)
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

if ! present; then
  echo "error: the Go toolchain or the x/mod sources ($xmod) are missing;" \
    "run: bash scripts/interop-tlog.sh --install" >&2
  exit 1
fi
version=$(dpkg-query -W -f='${Version}' golang-golang-x-mod-dev 2>/dev/null || echo "unknown")
echo "$(go version); golang.org/x/mod $version at $gocode"
