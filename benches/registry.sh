#!/usr/bin/env bash
# The registry under load on 127.0.0.1, in the same run:
#  1. the product page (the QR target) with wrk, against nginx serving a saved static copy of
#     the same page from the same machine, and the product's JSON;
#  2. submissions end to end (sign first, then POST from concurrent clients; every answer must
#     be 201: verified, checked against the rules, logged durably, indexed, receipted).
# Runs on the embedded SQLite default, and on PostgreSQL too when TEST_DATABASE_URL is set.
#
# Usage: bash benches/registry.sh [SUBMISSIONS] [CLIENTS] [SECONDS]   (defaults 4000 64 10)
# Installs wrk and nginx from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-4000}
clients=${2:-64}
secs=${3:-10}
need=()
command -v wrk > /dev/null || need+=(wrk)
command -v nginx > /dev/null || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi
cargo build --quiet --release --locked -p iotmark
cargo build --quiet --release --locked -p iotmark-registry --example submit_bench
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/iotmark
bench=$target/release/examples/submit_bench
work=$(mktemp -d "${TMPDIR:-/tmp}/iotmark-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 200); do curl -fs "$1" > /dev/null && return; sleep 0.05; done; echo "not up: $1" >&2; exit 1; }

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); disk $(df -T "$work" | awk 'NR==2{print $2}')"
dbs=(sqlite)
[ -n "${TEST_DATABASE_URL:-}" ] && dbs+=(postgres)
for db in "${dbs[@]}"; do
  data=$work/$db
  port=$(free_port)
  dbflag=()
  if [ "$db" = postgres ]; then
    name=iotmark_bench_$$
    psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    dbflag=(--db "${TEST_DATABASE_URL%/*}/$name")
  fi
  # The demo's product, Acme and its key; then a token for the load.
  "$bin" demo --no-serve --data "$data" --listen "127.0.0.1:$port" "${dbflag[@]}" > /dev/null
  token=$("$bin" registry admin token-create acme --json --data "$data" "${dbflag[@]}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  "$bin" registry serve --data "$data" --listen "127.0.0.1:$port" "${dbflag[@]}" 2> "$work/$db.log" &
  pids+=($!)
  url=http://127.0.0.1:$port
  wait_up "$url/log/checkpoint"
  page=/p/acme-securecam-2
  if curl -fs "$url$page" > /dev/null; then
    # nginx serves the same bytes as a static file.
    mkdir -p "$work/static$page"
    curl -fs "$url$page" > "$work/static$page/index.html"
    # nginx's workers run as nobody when started as root; mktemp made the directory 0700.
    chmod a+x "$work" && chmod -R a+rX "$work/static"
    nport=$(free_port)
    cat > "$work/nginx.conf" << CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$nport;
    root $work/static;
    location / { try_files \$uri \$uri/index.html =404; default_type text/html; }
  }
}
CONF
    nginx -c "$work/nginx.conf" -p "$work"
    wait_up "http://127.0.0.1:$nport$page"
    echo "== $db: product page, wrk -t2 -c64 -d${secs}s: iotmark"
    wrk -t2 -c64 -d"${secs}s" --latency "$url$page" | grep -E 'Requests/sec|^ *(50|90|99)%'
    echo "== product page: nginx, static copy of the same page"
    wrk -t2 -c64 -d"${secs}s" --latency "http://127.0.0.1:$nport$page" | grep -E 'Requests/sec|^ *(50|90|99)%'
    nginx -c "$work/nginx.conf" -p "$work" -s stop
  else
    echo "== $db: no product page served (pages not built?); skipped the page comparison"
  fi
  echo "== $db: the product API (JSON), wrk -t2 -c64 -d${secs}s"
  wrk -t2 -c64 -d"${secs}s" --latency "$url/api/v1/products/acme-securecam-2" | grep -E 'Requests/sec|^ *(50|90|99)%'
  # A fleet tool's batch: 100 lookups (product, version, firmware image) per request.
  image=$(curl -fs "$url/api/v1/products/acme-securecam-2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["versions"][0]["images"][0]["sha256"])')
  python3 - "$image" > "$work/lookup.lua" <<'LUA'
import json, sys
lookups = [{"product": "acme-securecam-2"}, {"product": "acme-securecam-2", "version": "2.4.1"},
           {"image_sha256": sys.argv[1]}, {"product": "no-such-product"}] * 25
body = json.dumps({"lookups": lookups})
print('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = ' + json.dumps(body))
LUA
  echo "== $db: batch lookup, 100 lookups per request, wrk -t2 -c64 -d${secs}s"
  wrk -t2 -c64 -d"${secs}s" --latency -s "$work/lookup.lua" "$url/api/v1/products/lookup" | grep -E 'Requests/sec|^ *(50|90|99)%'
  echo "== $db: $n submissions from $clients clients"
  RESULTS=$data/demo/report/assessment-results.json "$bench" "$url" "$token" "$data/demo/acme.key" "$n" "$clients"

  kill "${pids[-1]}"
done
