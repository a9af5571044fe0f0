#!/usr/bin/env bash
# Whole-process benchmark of the firmware scan against the peers named in issue 4, on the same
# image in the same run (hyperfine, warm cache):
#   - unsquashfs -d (extraction alone, Debian's squashfs-tools, all cores);
#   - binwalk -Me (extraction alone, Debian's binwalk 2);
#   - iotmark scan (unpack + every check + evidence).
# The image is a SquashFS (xz) of a root filesystem built from this machine's own binaries
# (/usr/bin and /usr/sbin), with an etc/ carrying planted weaknesses.
#
# binwalk refuses to extract as root without --run-as=root (CI runs as root), and exits
# non-zero when an extractor it calls reports a problem even after extracting; its status
# is ignored and its time is what is measured. The script checks that it did extract.
#
# Usage: bash benches/firmware.sh [RUNS]   (needs hyperfine, squashfs-tools, binwalk)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
for tool in hyperfine mksquashfs unsquashfs binwalk; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install hyperfine squashfs-tools binwalk)" >&2; exit 1; }
done
cargo build --release --locked --quiet
bin=$PWD/target/release/iotmark

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/usr" "$root/etc/init.d"
cp -a /usr/bin /usr/sbin "$root/usr/"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf '::respawn:/bin/sh\n' > "$root/etc/inittab"
printf 'telnetd -l /bin/sh\n' > "$root/etc/init.d/S50telnet"
mksquashfs "$root" "$work/fw.sqfs" -comp xz -noappend -all-root -quiet -no-progress
files=$(find "$root" -type f | wc -l)
echo "image: $(du -h "$work/fw.sqfs" | cut -f1) squashfs (xz) of $(du -sh "$root" | cut -f1), $files files; $(nproc) cores"

mkdir -p target/bench
hyperfine --warmup 1 --runs "$runs" --style basic \
  --export-markdown target/bench/firmware.md --export-json target/bench/firmware.json \
  --prepare "rm -rf $work/u $work/e" \
  -n "unsquashfs -d (extraction only)" "unsquashfs -no-progress -quiet -d $work/u $work/fw.sqfs" \
  -n "iotmark scan (unpack + all checks + evidence)" "$bin scan $work/fw.sqfs --out $work/e" \
  -n "binwalk -Me (extraction only)" "rm -rf $work/b; binwalk -q -Me --run-as=root -C $work/b $work/fw.sqfs || true"

find "$work/b" -name passwd | grep -q . || { echo "error: binwalk extracted nothing; the comparison would be unfair" >&2; exit 1; }

python3 - target/bench/firmware.json <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
u = next(v for k, v in r.items() if k.startswith("unsquashfs"))
i = next(v for k, v in r.items() if k.startswith("iotmark"))
b = next(v for k, v in r.items() if k.startswith("binwalk"))
print(f"iotmark scan {i:.2f} s = {i/u:.2f}x unsquashfs ({u:.2f} s; target <= 1.5x); binwalk {b:.2f} s = {b/i:.1f}x slower than iotmark (target >= 3x)")
PY
