//! The `dsse_envelope` and `certificate_read` fuzz targets' seed corpora (`fuzz/corpus/`) run here on
//! stable, with every truncation and a sweep of byte flips of each seed: errors, no panics.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use iotmark_attest::verify::fuzz_dsse_envelope;

#[test]
fn fuzz_corpus_and_its_mutations_run_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dsse_envelope");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        fuzz_dsse_envelope(&data);
        for len in 0..data.len() {
            fuzz_dsse_envelope(&data[..len]);
        }
        let mut mutated = data.clone();
        for i in (0..data.len()).step_by(7) {
            for b in [0x00, b'"', b'\\', b'}', 0xff] {
                let old = mutated[i];
                mutated[i] = b;
                fuzz_dsse_envelope(&mutated);
                mutated[i] = old;
            }
        }
        count += 1;
    }
    assert!(count >= 7, "expected the seed corpus in {}", dir.display());
}

#[test]
fn the_conformity_seed_is_a_genuine_envelope() {
    // Keeps the seed meaningful: it must get past the signature to the statement checks.
    use iotmark_attest::keys::{FileSigner, Signer};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/dsse_envelope");
    let key = FileSigner::from_seed(&[7u8; 32]).public_key();
    for seed in [
        "conformity.dsse.json",
        "status.dsse.json",
        "urlsafe.dsse.json",
    ] {
        let env =
            iotmark_attest::dsse::Envelope::parse(&std::fs::read(dir.join(seed)).unwrap()).unwrap();
        let (_, payload) = env.verify(&key).unwrap();
        iotmark_attest::statement::Statement::parse(payload).unwrap();
    }
}

#[test]
fn certificate_seeds_are_genuine_and_their_mutations_do_not_panic() {
    use iotmark_attest::cms::fuzz_certificate;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/certificate_read");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        assert!(fuzz_certificate(&data), "{} is not read", path.display());
        for len in 0..data.len() {
            fuzz_certificate(&data[..len]);
        }
        let mut mutated = data.clone();
        for i in 0..data.len() {
            for b in [0x00, 0x80, 0x84, 0xff] {
                let old = mutated[i];
                mutated[i] = b;
                fuzz_certificate(&mutated);
                mutated[i] = old;
            }
        }
        count += 1;
    }
    assert!(count >= 2, "expected the seed corpus in {}", dir.display());
}
