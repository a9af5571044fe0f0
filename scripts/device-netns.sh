#!/usr/bin/env bash
# A device on a LAN of its own for the live probe's tests: a network namespace with a LAN side
# (192.168.77.1/24) and a WAN side (11.77.0.2/24), running one of Debian's discovery servers.
# Needs root.
#
#   device-netns.sh up NAME upnp-open      miniupnpd (nftables backend) mapping ports for any
#                                          LAN host (it refuses to forward from a private WAN
#                                          address, hence the WAN side's)
#   device-netns.sh up NAME upnp-refusing  the same gateway, a permission rule denying every map
#   device-netns.sh up NAME mdns           avahi-daemon advertising a camera's web interface
#                                          (TXT records with its model and firmware version)
#                                          and SSH
#   device-netns.sh down NAME              stop it and delete the namespace
#
# Several servers may share one device: `device-netns.sh up NAME upnp-open mdns`.
#
# Then run the probe inside: `ip netns exec NAME iotmark probe 192.168.77.1 …`. Its own
# address is the device's LAN address, which both servers count as on the LAN.
set -euo pipefail

usage="usage: $0 up NAME upnp-open|upnp-refusing|mdns... | down NAME"
cmd=${1:-}
ns=${2:-}
[ -n "$ns" ] || { echo "$usage" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: network namespaces need root" >&2; exit 1; }
state=${TMPDIR:-/tmp}/$ns.device
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
down) down; exit 0 ;;
up) ;;
*) echo "$usage" >&2; exit 2 ;;
esac

shift 2
modes=("$@")
[ ${#modes[@]} -gt 0 ] || { echo "error: no server: give upnp-open, upnp-refusing or mdns" >&2; exit 2; }
for mode in "${modes[@]}"; do
    case "$mode" in
    upnp-open | upnp-refusing | mdns) ;;
    *) echo "error: mode $mode: give upnp-open, upnp-refusing or mdns" >&2; exit 2 ;;
    esac
done
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

# Waits up to 5 s for a command to succeed.
wait_for() {
    for _ in $(seq 1 100); do
        if "$@" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    return 1
}

start_upnp() {
    # The chains miniupnpd's nftables backend adds its rules to; they must exist first.
    in_ns nft -f - <<'RULES'
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
RULES
    local rules
    if [ "$1" = open ]; then
        rules="secure_mode=no
allow 1024-65535 192.168.77.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535"
    else
        rules="secure_mode=yes
deny 0-65535 0.0.0.0/0 0-65535"
    fi
    cat > "$state/miniupnpd.conf" <<CONF
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
CONF
    setsid ip netns exec "$ns" /usr/sbin/miniupnpd -f "$state/miniupnpd.conf" -d -P "$state/pid" \
        > "$state/miniupnpd.log" 2>&1 < /dev/null &
    wait_for in_ns bash -c "exec 3<>/dev/tcp/$lan_ip/5000" && return 0
    echo "error: miniupnpd did not start; its log:" >&2
    cat "$state/miniupnpd.log" >&2
    return 1
}

# avahi-daemon without D-Bus, in a mount namespace where its services directory and /run are
# ours (the services path is compiled in).
start_mdns() {
    mkdir -p "$state/services" "$state/run"
    cat > "$state/avahi.conf" <<'CONF'
[server]
host-name=camera-1234
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=lan0
enable-dbus=no
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
[reflector]
enable-reflector=no
CONF
    cat > "$state/services/camera.service" <<'SERVICE'
<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group>
  <name>Camera web interface</name>
  <service><type>_http._tcp</type><port>80</port><txt-record>model=SC200</txt-record><txt-record>fw=2.4.1</txt-record></service>
  <service><type>_ssh._tcp</type><port>22</port></service>
</service-group>
SERVICE
    setsid ip netns exec "$ns" unshare -m --propagation private sh -c \
        "mount --bind $state/services /etc/avahi/services && mount --bind $state/run /run && exec avahi-daemon -f $state/avahi.conf --no-drop-root --no-chroot --no-rlimits" \
        > "$state/avahi.log" 2>&1 < /dev/null &
    wait_for grep -q "successfully established" "$state/avahi.log" && return 0
    echo "error: avahi-daemon did not start; its log:" >&2
    cat "$state/avahi.log" >&2
    return 1
}

for mode in "${modes[@]}"; do
    case "$mode" in
    upnp-open) start_upnp open ;;
    upnp-refusing) start_upnp refusing ;;
    mdns) start_mdns ;;
    esac || { down; exit 1; }
done
echo "${modes[*]} in $ns at $lan_ip"
