//! Runs the fuzz target's corpus (`fuzz/corpus/oscal_load/`, seeds plus anything the fuzzer
//! found and we kept) as an ordinary test on stable, so every input that ever crashed the
//! loader stays fixed.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[test]
fn fuzz_corpus_loads_without_panicking() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/oscal_load");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus directory exists") {
        let path = entry.unwrap().path();
        iotmark_oscal::fuzz_load(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(
        count >= 10,
        "expected the seed corpus in {}, found {count} files",
        dir.display()
    );
}
