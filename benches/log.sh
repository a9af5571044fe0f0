#!/usr/bin/env bash
# Transparency log throughput (issue 5): durable appends and inclusion proofs of iotmark-log,
# with pymerkle 7.0.0 (PyPI, installed into target/tools/pymerkle) as the peer for proofs, in
# the same run. The log lives in target/bench on the real disk, not in /tmp (often a tmpfs),
# and every append is fsynced as in production.
#
#   1. appends through Log::append_records, batches of 1 to 4096 leaf records (110 bytes),
#      from an empty log and from one of 1,000,000 entries;
#   2. the same while another process writes to the same disk (1 MiB writes, an fsync every
#      8 MiB), where fsync latency is what it is on a busy server;
#   3. appends through the Sequencer, with 1 to 4096 submitter threads;
#   4. inclusion proofs at 100,000 and 1,000,000 leaves from the stored tiles, and their
#      verification, against pymerkle's prove_inclusion and verify_inclusion on the same leaves;
#      our roots and proofs are cross-checked against pymerkle's (the script fails on a
#      difference).
#
# Usage: bash benches/log.sh [SECS]   (SECS per append case, default 2; about 3 minutes)
# Raw lines go to target/bench/log-raw.txt, the tables to target/bench/log.md.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-2}

venv=target/tools/pymerkle
if ! "$venv/bin/python" -c 'import pymerkle, sys; sys.exit(pymerkle.__version__ != "7.0.0")' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'pymerkle==7.0.0'
fi

cargo build --quiet --release --locked -p iotmark-log --example log_bench
bin=${CARGO_TARGET_DIR:-target}/release/examples/log_bench
mkdir -p target/bench
work=$(mktemp -d "$PWD/target/bench/log.XXXXXX")
trap 'rm -rf "$work"' EXIT
raw=target/bench/log-raw.txt

fs=$(df -T "$work" | awk 'NR == 2 {print $2 " on " $1}')
echo "== $(nproc) cores; the logs are on $fs" | tee "$raw"
{
  "$bin" appends "$work" "$secs"
  "$bin" build "$work/big" 100000 1000000
  "$bin" proofs "$work/big" 200000 100000 1000000 | tee "$work/proofs.txt"
  "$bin" appends-on "$work/big" "$secs"
  "$bin" stages "$work/big" 4096 10
  "$bin" stages "$work/big" 1 50
  "$bin" disk-load "$work/load" 60 &
  load=$!
  sleep 1
  for batch in 1 64 1024 4096; do
    "$bin" stages "$work/big" "$batch" $((batch == 4096 ? 10 : 30)) | sed 's/^stages/loaded/'
  done
  kill "$load"
  wait "$load" 2>/dev/null || true
  rm -rf "$work/load"
  "$bin" sequencer "$work/big" "$secs" 0 1 16 256 1024 4096
  "$bin" sequencer "$work/big" "$secs" 5 1 16 256 1024 4096
  "$venv/bin/python" benches/log_peer.py "$work/proofs.txt" 20000 "$work" 100000 1000000
} | grep -v '^xcheck size=[0-9]* index=' | tee -a "$raw"

python3 - "$raw" "$fs" > target/bench/log.md <<'PY'
import sys
rows = []
for line in open(sys.argv[1]):
    word, *fields = line.split()
    r = dict(f.split("=", 1) for f in fields if "=" in f)
    if "size" in r or "batch" in r or "threads" in r:
        rows.append((word, r))
n = lambda v: f"{float(v):,.0f}"
print(f"Appends through `Log::append_records` (durable; {sys.argv[2]}; target 50,000 entries/s):\n")
print("| log at start | batch | entries/s | ms per batch |")
print("|---:|---:|---:|---:|")
for w, r in rows:
    if w == "append":
        print(f"| {n(r['start']) if r['start'] != 'empty' else 'empty'} | {r['batch']} | {n(r['entries_per_s'])} | {r['ms_per_batch']} |")
for title, word in (("Where a batch's time goes, idle disk (ms per batch)", "stages"),
                    ("The same while another process writes to the disk (1 MiB writes, an fsync every 8 MiB)", "loaded")):
    print(f"\n{title}:\n")
    print("| batch | entries/s | ms per batch | tile writes | checkpoint write | the rest (hashing, signing) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for w, r in rows:
        if w == word:
            print(f"| {r['batch']} | {n(r['entries_per_s'])} | {r['ms_per_batch']} | {r['tile_writes_ms']} "
                  f"| {r['checkpoint_write_ms']} | {float(r['rest_ms']) + float(r['tile_reads_ms']):.2f} |")
print("\nThrough the `Sequencer` (each thread submits one record and waits for its commit; batches of at most 4096):\n")
print("| submitter threads | max wait | mean batch | entries/s |")
print("|---:|---:|---:|---:|")
for w, r in rows:
    if w == "sequencer":
        print(f"| {r['threads']} | {r['max_wait_ms']} ms | {r['mean_batch']} | {n(r['entries_per_s'])} |")
print("\nInclusion proofs, one thread (target 100,000 proofs/s):\n")
print("| leaves | iotmark, fresh reader per proof | iotmark, kept reader | iotmark verify | pymerkle InmemoryTree prove | pymerkle verify | pymerkle SqliteTree prove |")
print("|---:|---:|---:|---:|---:|---:|---:|")
peer = {(r["size"], r["backend"]): r for w, r in rows if w == "pymerkle"}
for w, r in rows:
    if w == "proofs":
        mem = peer.get((r["size"], "InmemoryTree"), {})
        sql = peer.get((r["size"], "SqliteTree"))
        print(f"| {n(r['size'])} | {n(r['fresh_reader_per_s'])} | {n(r['kept_reader_warm_per_s'])} "
              f"(first pass {n(r['kept_reader_first_pass_per_s'])}) | {n(r['verify_per_s'])} "
              f"| {n(mem['prove_per_s'])} | {n(mem['verify_per_s'])} "
              f"| {n(sql['prove_per_s']) + ' (first pass ' + n(sql['prove_first_pass_per_s']) + ')' if sql else '—'} |")
for w, r in rows:
    if w == "xcheck":
        print(f"\nCross-check at {n(r['size'])} leaves: roots equal, proofs equal {r['proofs_equal']}, pymerkle verifies ours {r['pymerkle_verifies_ours']}.")
PY
echo
cat target/bench/log.md
