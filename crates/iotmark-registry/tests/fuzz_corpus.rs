//! The `fleet_inventory` fuzz target's seed corpus (`fuzz/corpus/`) runs here on stable, with
//! every truncation and a sweep of byte flips of each seed: errors, no panics. The seeds
//! include a kept state written by a real check, so the state reader's checks are reached.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use iotmark_registry::fleet::inventory::fuzz_parse;
use iotmark_registry::fleet::mirror::fuzz_state;

fn run(data: &[u8]) {
    fuzz_parse(data);
    fuzz_state(data);
}

#[test]
fn fuzz_corpus_and_its_mutations_run_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/fleet_inventory");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        run(&data);
        for len in 0..data.len() {
            run(&data[..len]);
        }
        let mut mutated = data.clone();
        for i in (0..data.len()).step_by(5) {
            for b in [0x00, b'"', b',', b'\n', b'\r', b'[', 0xff] {
                let old = mutated[i];
                mutated[i] = b;
                run(&mutated);
                mutated[i] = old;
            }
        }
        count += 1;
    }
    assert!(count >= 3, "expected the seed corpus in {}", dir.display());
}

#[test]
fn the_state_seed_is_a_genuine_kept_state() {
    // Keeps the seed meaningful: a state a real check wrote (against the demo's registry),
    // so mutations reach the frontier and order checks rather than stopping at the syntax.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/fleet_inventory/state.json");
    let bytes = std::fs::read(&path).unwrap();
    let mirror = iotmark_registry::fleet::mirror::Mirror::parse(&path, &bytes).unwrap();
    assert_eq!(mirror.size(), 1);
    assert_eq!(mirror.origin(), "iotmark.localhost/log");
    // A frontier that does not give the checkpoint's root is refused.
    let text = String::from_utf8(bytes).unwrap();
    let altered = text.replace("121229de", "021229de");
    let err =
        iotmark_registry::fleet::mirror::Mirror::parse(&path, altered.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("frontier"), "{err}");
}
