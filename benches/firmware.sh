#!/usr/bin/env bash
# Whole-process benchmark of the firmware scan against the peers named in issue 4, on the same
# image in the same run (hyperfine, warm cache):
#   - unsquashfs -d (extraction alone, Debian's squashfs-tools, all cores), once onto the
#     disk and once into a memory-backed directory (/dev/shm): its time on disk moves with how
#     the disk absorbs 13-84 MB of writes that minute, in memory it is decompression alone,
#     the work iotmark shares with it;
#   - binwalk -Me (extraction alone, Debian's binwalk 2);
#   - iotmark scan (unpack + every check + evidence).
# Two images: real Debian armhf binaries with IoTGoat's weaknesses (a realistic router
# image), and this machine's /usr/bin and /usr/sbin (a large stress case).
#
# binwalk refuses to extract as root without --run-as=root (CI runs as root), and exits
# non-zero when an extractor it calls reports a problem even after extracting; its status
# is ignored and its time is what is measured. The script checks that it did extract.
#
# Usage: bash benches/firmware.sh [RUNS]   (needs hyperfine, squashfs-tools, binwalk)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
for tool in hyperfine mksquashfs unsquashfs binwalk openssl dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install hyperfine squashfs-tools binwalk)" >&2; exit 1; }
done
cargo build --release --locked --quiet
bin=$PWD/target/release/iotmark

work=$(mktemp -d)
shm=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$shm"' EXIT

# Image 1, the realistic one: a router root filesystem of real Debian armhf binaries (the
# twelve packages of scripts/fetch-debian-packages.sh) with IoTGoat's weaknesses, as the
# reference notes' benchmark input I1 describes.
bash scripts/fetch-debian-packages.sh >/dev/null
debian=$work/debian
for deb in target/debian-packages/armhf/*.deb; do dpkg-deb -x "$deb" "$debian"; done
printf 'root:x:0:0:root:/root:/bin/ash\niotgoatuser:x:1000:1000::/root:/bin/ash\n' > "$debian/etc/passwd"
printf 'iotgoatuser:%s:18000:0:99999:7:::\n' "$(openssl passwd -1 -salt 79bz0K8z 7ujMko0vizxv)" > "$debian/etc/shadow"
printf '/usr/bin/shellback &\ntelnetd -p 65534 &\nexit 0\n' > "$debian/etc/rc.local"
mksquashfs "$debian" "$work/debian.sqfs" -comp xz -noappend -all-root -quiet -no-progress

# Image 2, a stress case: this machine's /usr/bin and /usr/sbin, far larger than most
# firmware.
root=$work/rootfs
mkdir -p "$root/usr" "$root/etc/init.d"
cp -a /usr/bin /usr/sbin "$root/usr/"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf '::respawn:/bin/sh\n' > "$root/etc/inittab"
printf 'telnetd -l /bin/sh\n' > "$root/etc/init.d/S50telnet"
mksquashfs "$root" "$work/large.sqfs" -comp xz -noappend -all-root -quiet -no-progress

mkdir -p target/bench
for image in debian large; do
  fw=$work/$image.sqfs
  src=$work/$([ "$image" = debian ] && echo debian || echo rootfs)
  echo "image $image: $(du -h "$fw" | cut -f1) squashfs (xz) of $(du -sh "$src" | cut -f1), $(find "$src" -type f | wc -l) files; $(nproc) cores"
  hyperfine --warmup 1 --runs "$runs" --style basic \
    --export-markdown "target/bench/firmware-$image.md" --export-json "target/bench/firmware-$image.json" \
    --prepare "rm -rf $work/u $shm/u $work/e $work/b" \
    -n "unsquashfs -d (extraction only)" "unsquashfs -no-progress -quiet -d $work/u $fw" \
    -n "unsquashfs -d into memory (extraction only)" "unsquashfs -no-progress -quiet -d $shm/u $fw" \
    -n "iotmark scan (unpack + SBOM + all checks + evidence)" "$bin scan $fw --out $work/e --sbom $work/e/sbom.json" \
    -n "binwalk -Me (extraction only)" "binwalk -q -Me --run-as=root -C $work/b $fw || true"
  binwalk -q -Me --run-as=root -C "$work/b" "$fw" >/dev/null 2>&1 || true
  find "$work/b" -name passwd | grep -q . || { echo "error: binwalk extracted nothing; the comparison would be unfair" >&2; exit 1; }
  rm -rf "$work/b"
  # Peak memory of one scan.
  /usr/bin/time -f "iotmark scan peak RSS: %M KiB" "$bin" scan "$fw" --out "$work/e" --sbom "$work/e/sbom.json" >/dev/null
  python3 - "target/bench/firmware-$image.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
u = r["unsquashfs -d (extraction only)"]
m = r["unsquashfs -d into memory (extraction only)"]
i = next(v for k, v in r.items() if k.startswith("iotmark"))
b = next(v for k, v in r.items() if k.startswith("binwalk"))
print(f"iotmark scan {i:.3f} s = {i/u:.2f}x unsquashfs onto disk ({u:.3f} s), {i/m:.2f}x unsquashfs into memory ({m:.3f} s); binwalk {b:.3f} s = {b/i:.1f}x slower than iotmark")
PY
done
