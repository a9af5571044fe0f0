#!/usr/bin/env bash
# The probe against nmap on a host nobody tuned the probe on: a device on a LAN of its own
# (scripts/device-netns.sh: miniupnpd mapping ports for anyone, avahi-daemon advertising a
# camera), running other servers than the tests use: GnuTLS's gnutls-serv answering HTTP over
# TLS 1.2 and 1.3, OpenSSH's sshd taking passwords, lighttpd over TLS with a Digest login, and
# mosquitto. Both tools run inside the namespace against 192.168.77.1 in the same run: a full
# default `iotmark probe` (its 36 TCP ports, and UPnP and mDNS on UDP), `nmap -sV` on the same
# TCP ports, `nmap -sS -sU -sV` on those and UDP 1900 and 5353, and that with the scripts
# covering what the probe checks.
#
# Usage: bash benches/probe-heldout.sh [RUNS]   (default 3; the median of each is reported)
# Needs root (network namespaces). Installs what is missing from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
need=()
for tool in nmap:nmap gnutls-serv:gnutls-bin sshd:openssh-server lighttpd:lighttpd \
    mosquitto:mosquitto miniupnpd:miniupnpd-nftables nft:nftables avahi-daemon:avahi-daemon; do
  command -v "${tool%%:*}" > /dev/null || need+=("${tool#*:}")
done
[ -e /usr/lib/lighttpd/mod_openssl.so ] || need+=(lighttpd-mod-openssl)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi
cargo build --quiet --release --locked -p iotmark
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/iotmark")
ns=iotmark-bench-$$
work=$(mktemp -d "${TMPDIR:-/tmp}/iotmark-probe-heldout.XXXXXX")
cleanup() { bash scripts/device-netns.sh down "$ns" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
bash scripts/device-netns.sh up "$ns" upnp-open mdns > /dev/null
in_ns() { ip netns exec "$ns" "$@"; }
start() { setsid ip netns exec "$ns" "$@" < /dev/null > /dev/null 2>&1 & }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -keyout "$work/key.pem" \
  -out "$work/cert.pem" -days 30 -nodes -subj /CN=camera.heldout 2> /dev/null
# GnuTLS answering HTTP on 443.
start gnutls-serv --http --port 443 --x509certfile "$work/cert.pem" --x509keyfile "$work/key.pem" \
  --priority NORMAL
# OpenSSH taking passwords on 22 (no account has one of the default pairs).
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh_host_ed25519_key"
cat > "$work/sshd_config" << EOF
Port 22
ListenAddress 192.168.77.1
HostKey $work/ssh_host_ed25519_key
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PidFile $work/sshd.pid
EOF
mkdir -p /run/sshd
start /usr/sbin/sshd -D -e -f "$work/sshd_config"
# lighttpd over TLS with a Digest login on 8443.
mkdir -p "$work/www" && echo '<h1>camera</h1>' > "$work/www/index.html"
echo 'admin:Vq7-unique-per-device' > "$work/users"
cat > "$work/lighttpd.conf" << EOF
server.document-root = "$work/www"
server.bind = "192.168.77.1"
server.port = 8443
index-file.names = ("index.html")
server.modules += ("mod_openssl", "mod_auth", "mod_authn_file")
ssl.engine = "enable"
ssl.pemfile = "$work/cert.pem"
ssl.privkey = "$work/key.pem"
auth.backend = "plain"
auth.backend.plain.userfile = "$work/users"
auth.require = ("/" => ("method" => "digest", "realm" => "camera", "require" => "valid-user"))
EOF
start lighttpd -D -f "$work/lighttpd.conf"
printf 'listener 1883 192.168.77.1\nallow_anonymous false\n' > "$work/mosquitto.conf"
start mosquitto -c "$work/mosquitto.conf"
listening=22,443,1883,5000,8443
# The probe's default TCP ports, as its source lists them.
tcp=$(sed -n '/^pub const DEFAULT_PORTS/,/];/p' crates/iotmark-probe/src/lib.rs | tail -n +2 \
  | tr -cs '0-9' ',' | sed 's/^,//; s/,$//')
for p in ${listening//,/ }; do
  for _ in $(seq 100); do
    in_ns bash -c "exec 3<>/dev/tcp/192.168.77.1/$p" 2> /dev/null && break
    sleep 0.1
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() {
  local start end
  start=$(date +%s.%N); "$@" > "$work/out.txt" 2>&1 || true; end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 3))"
}
echo "machine: $(nproc) cores; 192.168.77.1 in $ns listening on TCP $listening, UDP 1900,5353"
echo "ports given to each tool: TCP $tcp; $runs runs each"
scripts=ssl-enum-ciphers,ssh2-enum-algos,ssh-auth-methods,mqtt-subscribe,http-headers,http-auth,upnp-info,dns-service-discovery
# A server that dies under a scanner's probes would make the next tool's job easier: say
# which were listening before each tool ran.
listening_now() {
  local up=()
  for p in ${listening//,/ }; do
    in_ns bash -c "exec 3<>/dev/tcp/192.168.77.1/$p" 2> /dev/null && up+=("$p")
  done
  echo "${up[*]}"
}
for name in iotmark nmap-sV-tcp nmap-sV-tcp-udp nmap-sV-scripts; do
  echo "listening before $name: $(listening_now)"
  times=()
  for _ in $(seq "$runs"); do
    case $name in
      iotmark) t=$(time_of in_ns "$bin" probe 192.168.77.1 --json) ;;
      nmap-sV-tcp) t=$(time_of in_ns nmap -sV -Pn -p "$tcp" 192.168.77.1) ;;
      nmap-sV-tcp-udp) t=$(time_of in_ns nmap -sS -sU -sV -Pn -p "T:$tcp,U:1900,5353" 192.168.77.1) ;;
      nmap-sV-scripts) t=$(time_of in_ns nmap -sS -sU -sV -Pn -p "T:$tcp,U:1900,5353" \
        --script "$scripts" 192.168.77.1) ;;
    esac
    times+=("$t")
  done
  printf '%-16s median %6.2f s  (runs: %s)\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
done
in_ns "$bin" probe 192.168.77.1 > "$work/summary.txt" 2>&1 || true
cat "$work/summary.txt"
echo "--- nmap with scripts"
in_ns nmap -sS -sU -sV -Pn -p "T:$tcp,U:1900,5353" --script "$scripts" 192.168.77.1 2>&1 | head -150
