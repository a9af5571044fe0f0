#!/usr/bin/env bash
# A full default probe of one host running several services, against nmap on the same ports
# in the same run: `nmap -sV` (service and version detection), and `nmap -sV` with the scripts
# that cover what the probe checks (ssl-enum-ciphers, ssh2-enum-algos, mqtt-subscribe,
# http-headers). The services, all from Debian on 127.0.0.1: openssl s_server with TLS 1.0 and
# with TLS 1.3 only, dropbear, mosquitto with and without anonymous access, lighttpd.
#
# Usage: bash benches/probe.sh [RUNS]   (default 3; the median of each is reported)
# Installs nmap, dropbear, mosquitto and lighttpd from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
need=()
for tool in nmap:nmap dropbear:dropbear-bin mosquitto:mosquitto lighttpd:lighttpd openssl:openssl; do
  command -v "${tool%%:*}" > /dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi
cargo build --quiet --release --locked -p iotmark
bin=${CARGO_TARGET_DIR:-target}/release/iotmark
work=$(mktemp -d "${TMPDIR:-/tmp}/iotmark-probe-bench.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
tls_old=$(port); tls_new=$(port); ssh=$(port); mqtt_open=$(port); mqtt_closed=$(port); http=$(port)
openssl req -x509 -newkey rsa:2048 -keyout "$work/k.pem" -out "$work/c.pem" -days 30 -nodes \
  -subj /CN=bench.test 2> /dev/null
openssl s_server -accept "127.0.0.1:$tls_old" -cert "$work/c.pem" -key "$work/k.pem" \
  -cipher 'ALL:@SECLEVEL=0' -min_protocol TLSv1 -quiet < /dev/null > /dev/null 2>&1 & pids+=($!)
openssl s_server -accept "127.0.0.1:$tls_new" -cert "$work/c.pem" -key "$work/k.pem" -tls1_3 \
  -quiet < /dev/null > /dev/null 2>&1 & pids+=($!)
dropbearkey -t ed25519 -f "$work/hostkey" > /dev/null 2>&1
dropbear -F -E -s -p "127.0.0.1:$ssh" -r "$work/hostkey" > /dev/null 2>&1 & pids+=($!)
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mqtt_open" > "$work/open.conf"
printf 'listener %s 127.0.0.1\nallow_anonymous false\n' "$mqtt_closed" > "$work/closed.conf"
mosquitto -c "$work/open.conf" > /dev/null 2>&1 & pids+=($!)
mosquitto -c "$work/closed.conf" > /dev/null 2>&1 & pids+=($!)
mkdir -p "$work/www" && echo '<h1>admin</h1>' > "$work/www/index.html"
printf 'server.document-root = "%s"\nserver.bind = "127.0.0.1"\nserver.port = %s\nindex-file.names = ("index.html")\n' \
  "$work/www" "$http" > "$work/lighttpd.conf"
lighttpd -D -f "$work/lighttpd.conf" > /dev/null 2>&1 & pids+=($!)
ports="$tls_old,$tls_new,$ssh,$mqtt_open,$mqtt_closed,$http"
for p in ${ports//,/ }; do
  for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$p") 2> /dev/null && break; sleep 0.1; done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
  local start end
  start=$(date +%s.%N); "$@" > "$work/out.txt" 2>&1 || true; end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 3))"
}
echo "machine: $(nproc) cores; services on 127.0.0.1 ports $ports; $runs runs each"
for name in iotmark nmap-sV nmap-sV-scripts; do
  times=()
  for _ in $(seq "$runs"); do
    case $name in
      iotmark) t=$(time_of "$bin" probe 127.0.0.1 --ports "$ports" --json) ;;
      nmap-sV) t=$(time_of nmap -sV -Pn -p "$ports" 127.0.0.1) ;;
      nmap-sV-scripts) t=$(time_of nmap -sV -Pn -p "$ports" \
        --script ssl-enum-ciphers,ssh2-enum-algos,mqtt-subscribe,http-headers 127.0.0.1) ;;
    esac
    times+=("$t")
  done
  printf '%-16s median %6.2f s  (runs: %s)\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
done
"$bin" probe 127.0.0.1 --ports "$ports" > "$work/summary.txt" 2>&1 || true
cat "$work/summary.txt"
