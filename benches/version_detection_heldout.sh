#!/usr/bin/env bash
# Version detection on packages nobody wrote a signature from: binary packages of the
# corpus's products (../shared/reference/version-detection), chosen by
# benches/version_detection_heldout.py, from releases and architectures the corpus does not
# hold.
#
#   debian   bullseye/armhf, bookworm/mipsel, trixie/arm64, sid/armhf (target/heldout)
#   ports    Debian bullseye/ppc64el, bookworm/s390x, trixie/ppc64el, sid/riscv64
#            (target/heldout-ports): other instruction sets, one of them big-endian, first
#            measured after the rules of the others were written
#   ubuntu   jammy, noble and resolute, amd64, main and universe (target/heldout-ubuntu)
#   x86      Debian bullseye/i386, bookworm/amd64, trixie/i386, sid/amd64 (target/heldout-x86):
#            the upstream versions of the debian set, built for the architectures no rule
#            was written from, where the compiler lays a program's strings out differently
#   fresh    Debian bookworm/armel, trixie/armel, forky/arm64 and the backports of bookworm
#            (arm64) and trixie (armel) (target/heldout-fresh): measured before and after
#            round 7's rules, with no rule written from it (bullseye's LTS archive no longer
#            carries armel or mips64el)
#
# The Debian archive is the one this machine's apt sources name (DEBIAN_MIRROR overrides
# it); Ubuntu's must be given as UBUNTU_MIRROR.
#
# The packages are fetched once (about 750 MB for each distribution; apt runs with a private
# state directory and checks each archive's signature with its own keyring: Ubuntu's comes
# from Debian's ubuntu-keyring package). The inventory then reads only each package's data,
# never its control file, and the expected version is the package version's upstream part.
#
# Each set is measured twice: package by package (results.txt), and as installed
# (results-installed.txt), each package with the packages of its own source it depends on
# (fetched beside it): a package whose program sits in a sibling (dnsmasq, dropbear,
# ghostscript) is then what an image installing it holds.
#
# Usage: bash benches/version_detection_heldout.sh [debian|ubuntu|x86|ports|fresh]
set -euo pipefail
cd "$(dirname "$0")/.."
distro=${1:-debian}
corpus=../shared/reference/version-detection
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
# The first Debian archive (not its security archive) in this machine's apt sources.
debian_mirror=${DEBIAN_MIRROR:-$( (grep -rhoE 'https?://[^ ]+/debian/?( |$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) | head -1 | tr -d ' ')}
if [ -z "$debian_mirror" ]; then
  echo "no Debian archive in this machine's apt sources: set DEBIAN_MIRROR" >&2
  exit 2
fi
case "$distro" in
  debian)
    dest=target/heldout
    mirror=$debian_mirror
    plan=bullseye=armhf,bookworm=mipsel,trixie=arm64,sid=armhf
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(armhf arm64 mipsel)
    ;;
  x86)
    dest=target/heldout-x86
    mirror=$debian_mirror
    plan=bullseye=i386,bookworm=amd64,trixie=i386,sid=amd64
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(i386 amd64)
    ;;
  ports)
    dest=target/heldout-ports
    mirror=$debian_mirror
    plan=bullseye=ppc64el,bookworm=s390x,trixie=ppc64el,sid=riscv64
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(ppc64el s390x riscv64)
    ;;
  fresh)
    dest=target/heldout-fresh
    mirror=$debian_mirror
    plan=bookworm=armel,trixie=armel,forky=arm64,bookworm-backports=arm64,trixie-backports=armel
    suites=(bookworm trixie forky bookworm-backports trixie-backports)
    components=main
    keyring=$debian_keyring
    archs=(armel arm64)
    ;;
  ubuntu)
    dest=target/heldout-ubuntu
    mirror=${UBUNTU_MIRROR:?set UBUNTU_MIRROR to an Ubuntu archive (the URL apt would use)}
    plan=jammy=amd64,noble=amd64,resolute=amd64
    suites=(jammy noble resolute)
    components="main universe"
    keyring=$(realpath -m "$dest/ubuntu-archive-keyring.gpg")
    archs=(amd64)
    if [ ! -s "$keyring" ]; then
      # Debian ships Ubuntu's archive keys from trixie on; fetch them through Debian's
      # signed archive, with a private apt state of their own.
      keys=$(realpath -m "$dest/keyring")
      mkdir -p "$keys/lists/partial" "$keys/cache/archives/partial"
      echo "deb [signed-by=$debian_keyring] $debian_mirror trixie main" > "$keys/sources.list"
      key_opts=(-o "Dir::State::Lists=$keys/lists" -o "Dir::Cache=$keys/cache"
                -o "Dir::Etc::SourceList=$keys/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
                -o "APT::Sandbox::User=root")
      apt-get "${key_opts[@]}" -qq update
      (cd "$keys" && apt-get "${key_opts[@]}" -qq download ubuntu-keyring)
      dpkg-deb -x "$keys"/ubuntu-keyring_*.deb "$keys/root"
      cp "$keys/root/usr/share/keyrings/ubuntu-archive-keyring.gpg" "$keyring"
    fi
    ;;
  *)
    echo "usage: $0 [debian|ubuntu|x86|ports|fresh]" >&2
    exit 2
    ;;
esac
state=$(realpath -m "$dest/apt")
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest/debs"
for suite in "${suites[@]}"; do
  echo "deb [signed-by=$keyring] $mirror $suite $components"
done > "$state/sources.list"
opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
      -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
      -o "APT::Sandbox::User=root"
      -o "Acquire::IndexTargets::deb::Packages::KeepCompressed=false")
for arch in "${archs[@]}"; do opts+=(-o "APT::Architectures::=$arch"); done
if [ ! -s "$dest/manifest.json" ]; then
  apt-get "${opts[@]}" -qq update
  for f in "$state"/lists/*_Packages.lz4; do [ -e "$f" ] && lz4 -dcqf "$f" "${f%.lz4}"; done
  python3 benches/version_detection_heldout.py choose "$state/lists" "$corpus" "$dest/candidates.json" "$plan"
  python3 -c 'import json,sys; [print(sys.argv[2] + "/" + c["path"]) for c in json.load(open(sys.argv[1]))]' \
    "$dest/candidates.json" "$mirror" | (cd "$dest/debs" && xargs -n1 -P6 curl -sfSO) ||
    echo "some packages could not be fetched (the archive moved on since its index); measuring the rest" >&2
  python3 benches/version_detection_heldout.py keep "$dest/candidates.json" "$dest/debs" "$corpus" "$dest/manifest.json"
fi
cargo run --quiet --release --locked -p iotmark-firmware --example version_detection -- \
  --heldout "$dest/manifest.json" "$dest/debs" > "$dest/results.txt"
tail -2 "$dest/results.txt"
echo "per-product table, misses and other products: $dest/results.txt"
# The same packages as installed: each with the packages of its own source it depends on
# (dnsmasq's daemon is in dnsmasq-base, ghostscript's library in libgs10), as in an image.
python3 benches/version_detection_heldout.py installed "$state/lists" "$dest/manifest.json" \
  "$dest/installed.json"
python3 -c 'import json,sys,os; [print(sys.argv[2] + "/" + p) for e in json.load(open(sys.argv[1]))
  for p in e["fetch"] if not os.path.exists(os.path.join(sys.argv[3], os.path.basename(p)))]' \
  "$dest/installed.json" "$mirror" "$dest/debs" | (cd "$dest/debs" && xargs -r -n1 -P6 curl -sfSO) ||
  echo "some packages could not be fetched; their dependants are measured without them" >&2
python3 -c 'import json,sys,os
entries = json.load(open(sys.argv[1]))
for e in entries:
    e["with"] = [w for w in e["with"] if os.path.exists(os.path.join(sys.argv[2], w))]
json.dump(entries, open(sys.argv[1], "w"), indent=1)' "$dest/installed.json" "$dest/debs"
cargo run --quiet --release --locked -p iotmark-firmware --example version_detection -- \
  --heldout "$dest/installed.json" "$dest/debs" > "$dest/results-installed.txt"
echo "as installed (with the packages of their own source they depend on):"
tail -2 "$dest/results-installed.txt"
# Ubuntu builds many of Debian's upstream versions, and the fresh set's releases those of the
# other sets: measure apart the versions no other set holds.
others=()
case "$distro" in
  ubuntu) others=(target/heldout/manifest.json) ;;
  fresh) others=(target/heldout/manifest.json target/heldout-x86/manifest.json
                 target/heldout-ports/manifest.json target/heldout-ubuntu/manifest.json) ;;
esac
present=()
for m in "${others[@]}"; do [ -s "$m" ] && present+=("$m"); done
if [ ${#present[@]} -gt 0 ]; then
  python3 benches/version_detection_heldout.py unseen "$dest/manifest.json" "$dest/unseen.json" \
    "${present[@]}"
  cargo run --quiet --release --locked -p iotmark-firmware --example version_detection -- \
    --heldout "$dest/unseen.json" "$dest/debs" > "$dest/results-unseen.txt"
  echo "versions no other set holds:"
  tail -2 "$dest/results-unseen.txt"
fi
