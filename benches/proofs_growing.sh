#!/usr/bin/env bash
# Receipts and inclusion proofs on a log that grows (issue 15): a log of 1,000,000 entries on
# the real disk (target/bench), then rounds that each append 1,000 entries and sign a new
# checkpoint, and answer 4,000 receipts for random entries of the new tree. Each request gets
# a fresh reader, as a server's does: alone (`receipt_at`), or sharing one TileCache that
# outlives the checkpoints (`receipt_cached`, what the registry does), at the registry's default
# budget and at half of it. The first 64 cached receipts of every round are checked against the
# uncached ones (the run fails on a difference).
#
# Usage: bash benches/proofs_growing.sh   (about 3 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --release --locked -p iotmark-log --example log_bench
bin=${CARGO_TARGET_DIR:-target}/release/examples/log_bench
mkdir -p target/bench
work=$(mktemp -d "$PWD/target/bench/grow.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "== $(nproc) cores; $(df -T "$work" | awk 'NR == 2 {print $2 " on " $1}')"
"$bin" build "$work/log" 1000000
for mib in 512 256; do
  CACHE_MIB=$mib "$bin" growing "$work/log" 50 4000 1000
done
