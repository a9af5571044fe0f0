//! The peer corpus's version-string vectors (`mapping_test_data` in
//! `../shared/reference/version-detection/expected.json`, from cve-bin-tool's test suite,
//! GPL-3.0): a product, a version, and the strings a binary of that version holds.
//!
//! Each vector becomes the bytes of a stripped binary: the strings NUL-separated (a vector's
//! `\n` separates two strings, as `strings` prints them), with machine code around them, in a
//! file whose name says nothing about the product. Detection must name the product and the
//! version, and no other product may be reported from the same strings.

use std::collections::BTreeMap;
use std::path::Path;

use iotmark_firmware::inventory::detect;

#[derive(serde::Deserialize)]
struct Vector {
    product: String,
    version: String,
    version_strings: Vec<String>,
}

fn vectors() -> Vec<Vector> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/version-detection/expected.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the shared data must sit beside the checkout",
            path.display()
        )
    });
    #[derive(serde::Deserialize)]
    struct File {
        mapping_test_data: Vec<Vector>,
    }
    let file: File =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.mapping_test_data
}

/// A stripped binary holding `strings`, each between bytes no string is made of.
fn binary(strings: &[String]) -> Vec<u8> {
    let mut out = b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
    for vector_string in strings {
        for s in vector_string.split('\n') {
            out.extend_from_slice(&[0x00, 0x2d, 0xe9, 0xf0, 0x41, 0x00]);
            out.extend_from_slice(s.as_bytes());
        }
    }
    out.extend_from_slice(&[0x00, 0x2d, 0xe9, 0xf0, 0x41, 0x00]);
    out
}

#[test]
fn every_version_string_vector_names_its_product_and_version() {
    let vectors = vectors();
    assert!(
        vectors.len() >= 500,
        "expected the 562 vectors, got {}",
        vectors.len()
    );
    let mut missed = Vec::new();
    let mut wrong = Vec::new();
    let mut per_product: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for v in &vectors {
        let hits = detect("/usr/lib/vector.bin", &binary(&v.version_strings));
        let found = hits
            .iter()
            .any(|(p, ver, _, _)| p == &v.product && ver == &v.version);
        let entry = per_product.entry(&v.product).or_default();
        entry.0 += 1;
        entry.1 += usize::from(found);
        if !found {
            missed.push(format!(
                "{} {} from {:?}",
                v.product, v.version, v.version_strings
            ));
        }
        for (p, ver, _, matched) in hits {
            if p != v.product || ver != v.version {
                wrong.push(format!(
                    "{} {}: reported {p} {ver} from {matched:?}",
                    v.product, v.version
                ));
            }
        }
    }
    let found: usize = per_product.values().map(|(_, ok)| ok).sum();
    eprintln!(
        "version-string vectors: {found} of {} found over {} products; {} wrong",
        vectors.len(),
        per_product.len(),
        wrong.len()
    );
    assert!(
        missed.is_empty() && wrong.is_empty(),
        "{} missed:\n{}\n{} wrong:\n{}",
        missed.len(),
        missed.join("\n"),
        wrong.len(),
        wrong.join("\n")
    );
}
