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
#
# The packages are fetched once (about 750 MB for each distribution; apt runs with a private
# state directory and checks each archive's signature with its own keyring: Ubuntu's comes
# from Debian's ubuntu-keyring package). The inventory then reads only each package's data,
# never its control file, and the expected version is the package version's upstream part.
#
# Usage: bash benches/version_detection_heldout.sh [debian|ubuntu|x86|ports]
set -euo pipefail
cd "$(dirname "$0")/.."
distro=${1:-debian}
corpus=../shared/reference/version-detection
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg
case "$distro" in
  debian)
    dest=target/heldout
    mirror=http://deb.debian.org/debian
    plan=bullseye=armhf,bookworm=mipsel,trixie=arm64,sid=armhf
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(armhf arm64 mipsel)
    ;;
  x86)
    dest=target/heldout-x86
    mirror=http://deb.debian.org/debian
    plan=bullseye=i386,bookworm=amd64,trixie=i386,sid=amd64
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(i386 amd64)
    ;;
  ports)
    dest=target/heldout-ports
    mirror=http://deb.debian.org/debian
    plan=bullseye=ppc64el,bookworm=s390x,trixie=ppc64el,sid=riscv64
    suites=(bullseye bookworm trixie sid)
    components=main
    keyring=$debian_keyring
    archs=(ppc64el s390x riscv64)
    ;;
  ubuntu)
    dest=target/heldout-ubuntu
    mirror=http://archive.ubuntu.com/ubuntu
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
      echo "deb [signed-by=$debian_keyring] http://deb.debian.org/debian trixie main" > "$keys/sources.list"
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
    echo "usage: $0 [debian|ubuntu|x86|ports]" >&2
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
# Ubuntu builds many of Debian's upstream versions; measure apart the ones Debian's set lacks.
if [ "$distro" = ubuntu ] && [ -s target/heldout/manifest.json ]; then
  python3 benches/version_detection_heldout.py unseen "$dest/manifest.json" "$dest/unseen.json" \
    target/heldout/manifest.json
  cargo run --quiet --release --locked -p iotmark-firmware --example version_detection -- \
    --heldout "$dest/unseen.json" "$dest/debs" > "$dest/results-unseen.txt"
  echo "versions Debian's set does not hold:"
  tail -2 "$dest/results-unseen.txt"
fi
