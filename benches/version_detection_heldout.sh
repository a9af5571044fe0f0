#!/usr/bin/env bash
# Version detection on packages nobody wrote a signature from: Debian binary packages of the
# corpus's products (../shared/reference/version-detection) from bullseye/armhf,
# bookworm/mipsel, trixie/arm64 and sid/armhf, chosen by benches/version_detection_heldout.py.
# The packages are fetched once into target/heldout (about 750 MB; apt runs with a private
# state directory); the inventory then reads only each package's data, never its control
# file, and the expected version is the Debian version's upstream part.
#
# Usage: bash benches/version_detection_heldout.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dest=target/heldout
corpus=../shared/reference/version-detection
state=$(realpath -m "$dest/apt")
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$dest/debs"
cat > "$state/sources.list" <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian sid main
SOURCES
opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
      -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
      -o "APT::Architectures::=armhf" -o "APT::Architectures::=arm64"
      -o "APT::Architectures::=mipsel" -o "APT::Sandbox::User=root"
      -o "Acquire::IndexTargets::deb::Packages::KeepCompressed=false")
if [ ! -s "$dest/manifest.json" ]; then
  apt-get "${opts[@]}" -qq update
  for f in "$state"/lists/*_Packages.lz4; do [ -e "$f" ] && lz4 -dcqf "$f" "${f%.lz4}"; done
  python3 benches/version_detection_heldout.py choose "$state/lists" "$corpus" "$dest/candidates.json"
  python3 -c 'import json,sys; [print("http://deb.debian.org/debian/" + c["path"]) for c in json.load(open(sys.argv[1]))]' \
    "$dest/candidates.json" | (cd "$dest/debs" && xargs -n1 -P6 curl -sfSO)
  python3 benches/version_detection_heldout.py keep "$dest/candidates.json" "$dest/debs" "$corpus" "$dest/manifest.json"
fi
cargo run --quiet --release --locked -p iotmark-firmware --example version_detection -- \
  --heldout "$dest/manifest.json" "$dest/debs" > "$dest/results.txt"
grep -E '^(format|ipk|rpm|deb|apk|tgz|other) ' "$dest/results.txt" || true
tail -2 "$dest/results.txt"
echo "per-product table, misses and other products: $dest/results.txt"
