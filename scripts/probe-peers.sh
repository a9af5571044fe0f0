#!/usr/bin/env bash
# Installs the independent scanners the live probe's results are checked against, from PyPI
# into target/tools/probe-peers: sslyze (TLS versions and accepted suites; its nassl wheel
# carries its own OpenSSL builds) and ssh-audit (the algorithms an SSH server offers). And
# Debian's busybox-static, unpacked there (not installed: it would replace busybox), for its
# telnetd and login, the telnet server the probe's login tests run.
# Nothing is fetched at test time. Then runs the probe's server tests.
#
# Usage: bash scripts/probe-peers.sh            (install if missing, run the tests)
#        bash scripts/probe-peers.sh --install  (install only)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/tools/probe-peers
if [ ! -x "$venv/bin/sslyze" ] || [ ! -x "$venv/bin/ssh-audit" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'sslyze==6.3.1' 'ssh-audit==3.9.0'
fi
"$venv/bin/python" -c 'import importlib.metadata as m; print("sslyze", m.version("sslyze"), "ssh-audit", m.version("ssh-audit"))'
if [ ! -x "$venv/busybox-static/bin/busybox" ]; then
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq busybox-static)
  dpkg-deb -x "$work"/busybox-static_*.deb "$venv/busybox-static"
  rm -rf "$work"
fi
"$venv/busybox-static/bin/busybox" --list | grep -qx telnetd

if [ "${1:-}" = "--install" ]; then
  exit 0
fi
cargo test --locked --quiet -p iotmark-probe --test servers
