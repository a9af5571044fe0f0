//! Runs the seed corpora of this crate's fuzz targets (`fuzz/corpus/version_compare/`, `sbom_read/`,
//! `fuzz/corpus/cpe_parse/`) and every single-byte truncation and mutation of each seed on
//! stable, so a regression the fuzzer once found stays found without nightly.

use std::path::Path;

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the corpus directory exists") {
        let path = entry.expect("directory entry").path();
        seeds.push(std::fs::read(&path).expect("read a seed"));
    }
    assert!(
        seeds.len() >= 5,
        "expected the seed corpus in {}, found {}",
        dir.display(),
        seeds.len()
    );
    seeds
}

/// Each seed, each of its prefixes, and each with one byte replaced by a byte that matters to
/// the parsers (separators, escapes, wildcards, a non-ASCII byte).
fn variants(seed: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let prefixes = (0..=seed.len()).map(|end| seed[..end].to_vec());
    let mutations = (0..seed.len()).flat_map(move |at| {
        b":\\*?-~^_.%\n\xc3".iter().map(move |&byte| {
            let mut mutated = seed.to_vec();
            mutated[at] = byte;
            mutated
        })
    });
    prefixes.chain(mutations)
}

#[test]
fn version_compare_corpus_and_its_mutations_keep_the_order_laws() {
    for seed in corpus("version_compare") {
        for input in variants(&seed) {
            iotmark_vulns::version::fuzz_version_compare(&input);
        }
    }
}

#[test]
fn cpe_parse_corpus_parses_and_its_mutations_never_panic() {
    for seed in corpus("cpe_parse") {
        let text = std::str::from_utf8(&seed).expect("seeds are text");
        iotmark_vulns::cpe::Cpe::parse(text).expect("every seed is a CPE name");
        for input in variants(&seed) {
            iotmark_vulns::cpe::fuzz_cpe_parse(&input);
        }
    }
}

#[test]
fn sbom_read_corpus_and_its_mutations_never_panic() {
    let mut read = 0;
    for seed in corpus("sbom_read") {
        for input in variants(&seed) {
            if let Ok(sbom) = iotmark_vulns::sbom::read_sbom("fuzz.json", &input) {
                read += 1;
                for c in &sbom.components {
                    if let Some(purl) = &c.purl {
                        assert!(iotmark_vulns::purl::Purl::parse(purl).is_some());
                    }
                }
            }
        }
    }
    assert!(read > 0, "some variants are still SBOMs");
}

/// The feed readers' corpora (`nvd_read`, `cve5_read`, `osv_read`, `kev_read`, `zip_read`):
/// every seed whole, and a spread of its truncations and mutations (every 61st, since the
/// seeds are whole records of kilobytes, not names).
/// A fuzz target's entry point.
type Target = fn(&[u8]);

#[test]
fn feed_corpora_and_their_mutations_never_panic() {
    let targets: [(&str, Target); 5] = [
        ("nvd_read", iotmark_vulns::nvd::fuzz_read),
        ("cve5_read", iotmark_vulns::cve5::fuzz_read),
        ("osv_read", iotmark_vulns::osv::fuzz_read),
        ("kev_read", iotmark_vulns::kev::fuzz_read),
        ("zip_read", iotmark_vulns::zip::fuzz_read),
    ];
    for (target, read) in targets {
        for seed in corpus(target) {
            read(&seed);
            for input in variants(&seed).step_by(61) {
                read(&input);
            }
        }
    }
}
