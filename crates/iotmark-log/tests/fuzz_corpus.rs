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

/// A cheap stand-in for the fuzzer on stable: every seed with each byte replaced, removed or
/// duplicated must still parse-or-refuse without panicking and round-trip when it parses.
#[test]
fn single_byte_mutations_of_the_seeds_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/note_parse");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let seed = std::fs::read(entry.unwrap().path()).unwrap();
        for i in 0..seed.len() {
            for v in [0u8, b'\n', b' ', b'+', b'=', b'A', 0x80, 0xe2, 0xff] {
                let mut m = seed.clone();
                m[i] = v;
                iotmark_log::note::fuzz_note_parse(&m);
            }
            let mut m = seed.clone();
            m.remove(i);
            iotmark_log::note::fuzz_note_parse(&m);
            let mut m = seed.clone();
            m.insert(i, seed[i]);
            iotmark_log::note::fuzz_note_parse(&m);
        }
    }
}

#[test]
fn tile_parse_corpus_and_its_single_byte_mutations_never_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/tile_parse");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the corpus directory exists") {
        let seed = std::fs::read(entry.unwrap().path()).unwrap();
        iotmark_log::tiles::fuzz_tile_parse(&seed);
        count += 1;
        for i in 0..seed.len() {
            for v in [0u8, 1, 2, 0x7f, 0xff, b'/', b'x', b'.'] {
                let mut m = seed.clone();
                m[i] = v;
                iotmark_log::tiles::fuzz_tile_parse(&m);
            }
            let mut m = seed.clone();
            m.remove(i);
            iotmark_log::tiles::fuzz_tile_parse(&m);
        }
    }
    assert!(
        count >= 6,
        "expected the seed corpus in {}, found {count} files",
        dir.display()
    );
}
