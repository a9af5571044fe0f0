#!/usr/bin/env bash
# DSSE verification throughput, iotmark against securesystemslib 1.6 (the reference DSSE
# implementation, pyca/cryptography's Ed25519 underneath) on the same envelope in the same
# run: an in-toto Statement with our conformity predicate (≈ 0.9 KB payload), one Ed25519
# signature. Each side, in one thread, parses the envelope JSON, verifies the signature
# over the PAE and parses the payload JSON; iotmark also checks the statement's fields.
# Then the Ed25519 verifiers on the same signature, in one process, interleaved
# (`dsse_verify compare`): ours, ed25519-dalek's verify_strict, ring's.
#
# Usage: bash benches/dsse.sh [N]     (default N = 20000; installs the venv if missing)
#   DSSE_BACKENDS=1  also builds the example with curve25519-dalek's backend forced to
#                    `serial` and to `avx512` (AVX-512 IFMA; the default build picks AVX2
#                    at run time) in target/dsse-backend-*, runs the end-to-end loop on each
#                    and compares the three builds' verifiers, alternating. Each is a full
#                    release build of the crate's dependencies.
#   DSSE_AWS_LC=1    also builds a small program timing aws-lc-rs's Ed25519 verify on the
#                    same signature (target/tools/awslc-ed25519; needs a C compiler) and
#                    runs it between the others. aws-lc-rs is not a dependency of iotmark.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bash scripts/interop-dsse.sh --install > /dev/null
venv=target/tools/securesystemslib
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --release --locked -p iotmark-attest --example dsse_verify
bin=${CARGO_TARGET_DIR:-target}/release/examples/dsse_verify
"$bin" prepare fuzz/corpus/dsse_envelope/conformity.statement.json "$work"
keyid=$(cat "$work/keyid")
echo "== envelope: $(wc -c < "$work/envelope.json") bytes; $n verifications each, one thread"
"$bin" run "$work/envelope.json" "$work/key.pub" "$n"
"$venv/bin/python" crates/iotmark-attest/tests/python/sslib_dsse.py bench \
  "$work/envelope.json" "$work/key.pub" "$keyid" "$n"

rounds=9 calls=2000
backends=("$bin")
if [[ ${DSSE_BACKENDS:-} == 1 ]]; then
  for b in serial avx512; do
    RUSTFLAGS="--cfg curve25519_dalek_backend=\"$b\"" CARGO_TARGET_DIR=target/dsse-backend-$b \
      cargo build --quiet --release --locked -p iotmark-attest --example dsse_verify
    backends+=("target/dsse-backend-$b/release/examples/dsse_verify")
  done
fi
awslc=
if [[ ${DSSE_AWS_LC:-} == 1 ]]; then
  dir=target/tools/awslc-ed25519
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<'TOML'
[package]
name = "awslc-ed25519"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
aws-lc-rs = { version = "=1.19.0", default-features = false, features = ["aws-lc-sys"] }
TOML
  cat > "$dir/src/main.rs" <<'RUST'
// aws-lc-rs's Ed25519 verify on the files `dsse_verify prepare` writes: MESSAGE SIG KEY N.
use aws_lc_rs::signature::{ED25519, ParsedPublicKey};
use std::time::Instant;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let read = |i: usize| std::fs::read(&a[i]).expect("readable");
    let (msg, sig, key) = (read(1), read(2), read(3));
    let n: u32 = a[4].parse().expect("a count");
    let key = ParsedPublicKey::new(&ED25519, &key).expect("an Ed25519 key");
    assert!(key.verify_sig(&msg, &sig).is_ok());
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(key.verify_sig(std::hint::black_box(&msg), &sig).is_ok());
    }
    println!("{:.1}", start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
}
RUST
  cargo build --quiet --release --manifest-path "$dir/Cargo.toml" --target-dir "$dir/target"
  awslc=$dir/target/release/awslc-ed25519
fi

if ((${#backends[@]} > 1)); then
  # End to end on each backend, then securesystemslib again: the machine's drift shows.
  for b in "${backends[@]:1}"; do
    echo "-- $b"
    "$b" run "$work/envelope.json" "$work/key.pub" "$n"
  done
  "$venv/bin/python" crates/iotmark-attest/tests/python/sslib_dsse.py bench \
    "$work/envelope.json" "$work/key.pub" "$keyid" "$n"
fi

echo "== Ed25519 verifiers on the envelope's signature, in one process"
for ((pass = 0; pass < (${#backends[@]} > 1 ? 3 : 1); pass++)); do
  for b in "${backends[@]}"; do
    echo "-- $b"
    "$b" compare "$work/envelope.json" "$work/key.pub" "$calls" "$rounds"
    if [[ -n $awslc ]]; then
      t=()
      for _ in 1 2 3; do
        t+=("$("$awslc" "$work/message.pae" "$work/sig.bin" "$work/key.raw" "$calls")")
      done
      echo "aws-lc-rs ParsedPublicKey::verify_sig (separate process), three runs: ${t[*]} µs"
    fi
  done
done
