//! Runs the `note_parse` fuzz target's corpus (`fuzz/corpus/note_parse/`: seeds plus anything
//! the fuzzer found and we kept) as an ordinary test on stable.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

#[test]
fn note_parse_corpus_runs_without_panicking() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/note_parse");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus directory exists") {
        let path = entry.unwrap().path();
        iotmark_log::note::fuzz_note_parse(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(
        count >= 5,
        "expected the seed corpus in {}, found {count} files",
        dir.display()
    );
}
