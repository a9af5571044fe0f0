//! Runs the feed readers' fuzz corpora (`fuzz/corpus/<target>/`, real seeds plus anything the
//! fuzzer found and we kept) as an ordinary test on stable, so every input that ever
//! crashed a reader stays fixed.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

fn run(target: &str, read: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        read(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count > 0, "expected seeds in {}", dir.display());
}

#[test]
fn feed_corpora_read_without_panicking() {
    run("nvd_read", iotmark_vulns::nvd::fuzz_read);
    run("cve5_read", iotmark_vulns::cve5::fuzz_read);
    run("osv_read", iotmark_vulns::osv::fuzz_read);
    run("kev_read", iotmark_vulns::kev::fuzz_read);
    run("zip_read", iotmark_vulns::zip::fuzz_read);
}
