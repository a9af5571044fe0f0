#!/usr/bin/env bash
# A UPnP Internet Gateway Device for the live probe's tests: Debian's miniupnpd (nftables
# backend) in a network namespace of its own, with a LAN side (192.168.77.1/24) and a WAN side
# (11.77.0.2/24; miniupnpd refuses to forward from a private WAN address). Needs root.
#
#   upnp-netns.sh up NAME open     a gateway that maps ports for any LAN host
#   upnp-netns.sh up NAME refusing the same gateway with a permission rule denying every map
#   upnp-netns.sh down NAME        stop it and delete the namespace
#
# Then run the probe inside: `ip netns exec NAME iotmark probe 192.168.77.1 …`. Its own
# address is the gateway's LAN address, which miniupnpd counts as on the LAN.
set -euo pipefail

cmd=${1:-}
ns=${2:-}
[ -n "$ns" ] || { echo "usage: $0 up NAME open|refusing | down NAME" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: network namespaces need root" >&2; exit 1; }
state=${TMPDIR:-/tmp}/$ns.upnp
lan_ip=192.168.77.1

down() {
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
        sleep 0.2
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    fi
    rm -rf "$state"
}

case "$cmd" in
down)
    down
    exit 0
    ;;
up) ;;
*)
    echo "usage: $0 up NAME open|refusing | down NAME" >&2
    exit 2
    ;;
esac

mode=${3:-open}
down
mkdir -p "$state"
in_ns() { ip netns exec "$ns" "$@"; }

# Two veth pairs (no dummy driver is assumed); the peers stay inside, up and unaddressed.
ip netns add "$ns"
in_ns ip link set lo up
in_ns ip link add lan0 type veth peer name lan0p
in_ns ip link add wan0 type veth peer name wan0p
in_ns ip addr add "$lan_ip/24" dev lan0
in_ns ip addr add 11.77.0.2/24 dev wan0
for l in lan0 lan0p wan0 wan0p; do in_ns ip link set "$l" multicast on up; done
in_ns ip route add default via 11.77.0.1

# The chains miniupnpd's nftables backend adds its rules to; they must exist before it starts.
in_ns nft -f - <<'EOF'
table inet filter {
    chain forward {
        type filter hook forward priority 0; policy drop;
        jump miniupnpd
    }
    chain miniupnpd {
    }
    chain prerouting {
        type nat hook prerouting priority -100; policy accept;
        jump prerouting_miniupnpd
    }
    chain postrouting {
        type nat hook postrouting priority 100; policy accept;
        jump postrouting_miniupnpd
    }
    chain prerouting_miniupnpd {
    }
    chain postrouting_miniupnpd {
    }
}
EOF

case "$mode" in
open) rules="secure_mode=no
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535" ;;
refusing) rules="secure_mode=yes
deny 0-65535 0.0.0.0/0 0-65535" ;;
*) echo "error: mode $mode: give open or refusing" >&2; down; exit 2 ;;
esac
cat > "$state/miniupnpd.conf" <<EOF
ext_ifname=wan0
listening_ip=$lan_ip/24
http_port=5000
enable_upnp=yes
enable_natpmp=no
ipv6_disable=yes
uuid=3f2a1c5e-7b8d-4e6f-9a0b-1c2d3e4f5a6b
friendly_name=iotmark test gateway
serial=IOTMARK-0001
model_number=2.3.1
notify_interval=60
system_uptime=no
lease_file=$state/leases
minissdpdsocket=$state/no-minissdpd.sock
$rules
EOF
setsid ip netns exec "$ns" /usr/sbin/miniupnpd -f "$state/miniupnpd.conf" -d -P "$state/pid" \
    > "$state/log" 2>&1 < /dev/null &
for _ in $(seq 1 100); do
    if in_ns bash -c "exec 3<>/dev/tcp/$lan_ip/5000" 2>/dev/null; then
        echo "miniupnpd ($mode) in $ns at $lan_ip:5000"
        exit 0
    fi
    sleep 0.05
done
echo "error: miniupnpd did not start; its log:" >&2
cat "$state/log" >&2
down
exit 1
