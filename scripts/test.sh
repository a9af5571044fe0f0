#!/usr/bin/env bash
# Installs what the tests need and runs every test: the Rust test suite (unit, integration,
# whole-CLI runs, the fuzz corpus) and the independent OSCAL validation of everything we
# generate. Run from anywhere; needs ../shared beside the project checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/reference ]; then
  echo "error: ../shared/reference not found; clone the project beside the shared folder" >&2
  exit 1
fi

echo "== installing test tools"
# Real image builders and compressors for the firmware tests, openssl for planted keys and
# signed FIT images, debugfs to cross-check ext4 extraction, and the package managers'
# own tools that write and list the databases the inventory reads (rpm, Berkeley DB,
# dpkg-parsechangelog, npm), zip for OSV's zip exports, and the servers the live probe is
# tested against (mosquitto, dropbear, lighttpd with its TLS module; openssl's s_server;
# miniupnpd and avahi-daemon in network namespaces made with iproute2, miniupnpd's port maps
# in nftables).
need=()
for tool in mksquashfs:squashfs-tools unsquashfs:squashfs-tools mkimage:u-boot-tools \
    dtc:device-tree-compiler cpio:cpio openssl:openssl mke2fs:e2fsprogs debugfs:e2fsprogs \
    mkfs.cramfs:util-linux genromfs:genromfs mkfs.jffs2:mtd-utils mkfs.ubifs:mtd-utils \
    ubinize:mtd-utils xz:xz-utils zstd:zstd lz4:lz4 lzop:lzop bzip2:bzip2 gzip:gzip \
    dpkg-deb:dpkg ar:binutils rpm:rpm rpmbuild:rpm db5.3_load:db5.3-util \
    dpkg-parsechangelog:dpkg-dev npm:npm gcc:gcc zip:zip yanglint:libyang2-tools \
    mosquitto:mosquitto dropbearkey:dropbear-bin lighttpd:lighttpd \
    miniupnpd:miniupnpd-nftables nft:nftables ip:iproute2 avahi-daemon:avahi-daemon; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
[ -e /usr/lib/lighttpd/mod_openssl.so ] || need+=(lighttpd-mod-openssl)
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi
# Independent OSCAL checkers (the official JSON schema via jsonschema-rs, and compliance-trestle).
python3 -m pip install --quiet --disable-pip-version-check 'compliance-trestle==5.2.0' 'jsonschema-rs>=0.60'
command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
# securesystemslib and in-toto (PyPI, into target/tools), to check our DSSE envelopes.
bash scripts/interop-dsse.sh --install
# standardwebhooks (PyPI, into target/tools), to check the registry's signed webhooks.
bash scripts/webhook-receiver.sh --install
# sslyze and ssh-audit (PyPI, into target/tools), to check what the live probe finds.
bash scripts/probe-peers.sh --install
# Go's golang.org/x/mod tlog and note (Debian), to check our log's tiles and proofs.
bash scripts/interop-tlog.sh --install
# zbarimg and rsvg-convert (Debian), to read back the QR codes on our product labels.
bash scripts/label-tools.sh --install
# Debian's Chromium and chromedriver, for the registry's real-browser page test.
bash scripts/browser-tools.sh --install
# Debian's PostgreSQL, for the registry's tests against its second backend.
bash scripts/postgres.sh --install
# PyPA's packaging and npm's semver (into target/tools), the version orders' oracles.
bash scripts/version-oracles.sh --install
# Real armhf and mipsel Debian packages, to build firmware root filesystems from.
bash scripts/fetch-debian-packages.sh

# A private PostgreSQL under target/postgres for the registry tests; stopped however we exit.
eval "$(bash scripts/postgres.sh start)" && export TEST_DATABASE_URL
trap 'bash scripts/postgres.sh stop' EXIT

echo "== Rust tests"
cargo nextest run --workspace --locked --no-fail-fast
# What the build and the tests left on the disk: the doc tests link last, and a full disk
# shows up there as the linker's SIGBUS, not as a message naming the disk.
df -h target | sed 's/^/disk: /'
# The opt-in GPL SquashFS reader: the vendor LZMA fixtures the default build reports as
# unreadable must unpack with it.
cargo test --locked --quiet -p iotmark-firmware --features gpl-squashfs --test scan \
  fact_extractor_squashfs_fixtures_match_unsquashfs
# Doc examples (nextest does not run them).
cargo test --workspace --locked --doc --quiet

echo "== independent OSCAL validation"
bash scripts/validate-oscal.sh

echo "== independent OpenAPI validation"
bash scripts/validate-openapi.sh

echo "== independent CycloneDX validation"
bash scripts/validate-sbom.sh

echo "== independent CSAF and CycloneDX VEX validation"
bash scripts/validate-vex.sh
