#!/usr/bin/env bash
# Downloads real Debian binary packages for embedded architectures (armhf, mipsel) into
# target/debian-packages/<arch>/, for the firmware tests to build root filesystems from.
# apt runs with a private state directory, so the machine's own architecture list and
# package state are untouched. Packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${DEBIAN_PACKAGES_DIR:-target/debian-packages}
ARCHES=${ARCHES:-armhf mipsel}
# The daemons and libraries an embedded Linux router or camera typically ships.
PACKAGES="busybox-static dropbear-bin dnsmasq-base lighttpd libssl3 openssl curl libcurl4
  mosquitto miniupnpd-nftables inetutils-telnetd hostapd"
# More binaries for the hardening and key checks (tests/checks.rs): dynamically linked
# busybox (mipsel, and big-endian 64-bit s390x), and dropbear for this machine, whose
# dropbearkey makes real dropbear keys.
EXTRA="busybox:mipsel busybox:s390x dropbear-bin:amd64 libtomcrypt1:amd64 libtommath1:amd64"

STATE=$(realpath -m "$DEST/.apt")
mkdir -p "$STATE/lists/partial" "$STATE/cache/archives/partial"
OPTS=(-o "Dir::State::Lists=$STATE/lists" -o "Dir::Cache=$STATE/cache"
      -o "APT::Architectures::=amd64" -o "APT::Sandbox::User=root")
for arch in $ARCHES s390x; do OPTS+=(-o "APT::Architectures::=$arch"); done

missing=0
for arch in $ARCHES; do
  for p in $PACKAGES; do
    ls "$DEST/$arch/${p}_"*.deb >/dev/null 2>&1 || missing=1
  done
done
for pa in $EXTRA; do
  ls "$DEST/${pa#*:}/${pa%%:*}_"*.deb >/dev/null 2>&1 || missing=1
done
# Debian's armhf kernel (its config, modules with vermagic, and the kernel image) for the
# kernel tests. The versioned package name leaves the mirror when Debian moves to the next
# kernel, so it is resolved through the linux-image-armmp metapackage. It has a directory of
# its own, so the root filesystems built from armhf/ stay the size of a router's.
ls "$DEST/armhf-kernel/linux-image-"*"-armmp_"*.deb >/dev/null 2>&1 || missing=1
[ "$missing" = 0 ] && { echo "Debian packages already in $DEST"; exit 0; }

# One index update per run; a failing security mirror is not fatal, the main archive is enough.
apt-get "${OPTS[@]}" -qq update || echo "warning: apt-get update reported errors; continuing" >&2
for arch in $ARCHES; do
  mkdir -p "$DEST/$arch"
  ( cd "$DEST/$arch"
    for p in $PACKAGES; do
      ls "${p}_"*.deb >/dev/null 2>&1 || apt-get "${OPTS[@]}" -qq download "$p:$arch"
    done )
done
for pa in $EXTRA; do
  mkdir -p "$DEST/${pa#*:}"
  ( cd "$DEST/${pa#*:}"
    ls "${pa%%:*}_"*.deb >/dev/null 2>&1 || apt-get "${OPTS[@]}" -qq download "$pa" )
done
mkdir -p "$DEST/armhf-kernel"
( cd "$DEST/armhf-kernel"
  ls linux-image-*-armmp_*.deb >/dev/null 2>&1 || apt-get "${OPTS[@]}" -qq download \
    "$(apt-cache "${OPTS[@]}" depends linux-image-armmp:armhf | awk '/Depends: linux-image-[0-9]/{print $2; exit}')" )
echo "Debian packages in $DEST: $(find "$DEST" -name '*.deb' | wc -l) files"
