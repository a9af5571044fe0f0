//! The peer corpus's version-string vectors (`mapping_test_data` in
//! `../shared/reference/version-detection/expected.json`, from cve-bin-tool's test suite,
//! GPL-3.0): a product, a version, and the strings a binary of that version holds.
//!
//! Each vector becomes the bytes of a stripped binary: the strings NUL-separated (a vector's
//! `\n` separates two strings, as `strings` prints them), with machine code around them, in a
//! file whose name says nothing about the product. Detection must name the product and the
//! version, and no other product may be reported from the same strings, except for the
//! vectors in [`NOT_HOW_THE_PRODUCT_PRINTS`], each with the reason it cannot hold.

use std::collections::BTreeMap;
use std::path::Path;

use iotmark_firmware::inventory::detect;

/// Vectors that do not show how the product states its version, so no honest pattern
/// matches them (or matches only them): (product, version, why). A vector listed here may
/// still be found; one not listed must be.
const NOT_HOW_THE_PRODUCT_PRINTS: &[(&str, &str, &str)] = &[
    (
        "acpid",
        "2.0.34",
        "the corpus's packages expect this same string to be acpid2, its NVD product",
    ),
    (
        "libdbus",
        "1.12.18",
        "another vector expects the same symbol version to be dbus",
    ),
    (
        "dbus",
        "1.8.22",
        "\"libdbus X\" is counted only in dbus's own files: other programs print it about the library they load",
    ),
    (
        "gcc",
        "9.3.1",
        "every object gcc compiled carries \"GCC: (GNU) X\": only gcc's own files are gcc",
    ),
    (
        "gcc",
        "9.1",
        "every object gcc compiled carries \"GCC: (GNU) X\": only gcc's own files are gcc",
    ),
    (
        "gmp",
        "6.2.0",
        "a truncated Fedora debuglink name, a packaging artefact",
    ),
    (
        "libidn2",
        "2.3.3",
        "a truncated Fedora debuglink name, a packaging artefact",
    ),
    (
        "janus",
        "1.1.0",
        "in Debian's build the string beside \"not-a-git-repo\" is another library's version",
    ),
    (
        "kerberos_5",
        "1.15.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1",
        "not a version",
    ),
    (
        "luajit",
        "2.1.0",
        "the vector's string is \"LuaJIT 2.1.0-beta3\": iotmark reports the pre-release as printed, 2.1.0-beta3 (CPE update beta3), not the release after it",
    ),
    (
        "ldns",
        "4.4.0",
        "ldns has no 4.x release: a function name beside a number",
    ),
    (
        "libjpeg",
        "9a",
        "no literal text to anchor on beside the version and date",
    ),
    (
        "openswan",
        "2.6.30",
        "pluto lists other releases this way, so only Openswan's own files count",
    ),
    (
        "strongswan",
        "4.6.3",
        "pluto lists other releases this way, so only strongSwan's own files count",
    ),
    (
        "sqlite",
        "3.30.1",
        "only SQLITE_SOURCE_ID (date and hash), no version",
    ),
    (
        "sqlite",
        "3.16.1",
        "only SQLITE_SOURCE_ID (date and hash), no version",
    ),
    (
        "sqlite",
        "3.12.2",
        "only SQLITE_SOURCE_ID (date and hash), no version",
    ),
    (
        "sqlite",
        "2020.04.06 18:16:31 1e4b6a93987cdfbf829e2ff35ef417c290625f2894ad11949e301af518f1fb44",
        "the expected version is a source ID, not a version",
    ),
    (
        "subversion",
        "1.13.0",
        "the same string is planted in the sudo vector, so the rule needs subversion's build path",
    ),
    (
        "tcpdump",
        "4.9.2",
        "the strings beside the version are not tcpdump's own",
    ),
    (
        "xerces-c\\+\\+",
        "3.1.1",
        "an underscore-written version under an escaped product name",
    ),
    (
        "zstandard",
        "1.4.0",
        "a literal \"/n\" joins message and version, which zstd never prints",
    ),
    (
        "docker",
        "19.03.15",
        "the vector also holds moby-24.0.7, the engine's own (second) version",
    ),
    (
        "moby",
        "24.0.5",
        "moby-X is the engine's source name, which docker packages ship too",
    ),
];

fn excepted(product: &str, version: &str) -> bool {
    NOT_HOW_THE_PRODUCT_PRINTS
        .iter()
        .any(|(p, v, _)| *p == product && *v == version)
}

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
        if !found && !excepted(&v.product, &v.version) {
            missed.push(format!(
                "{} {} from {:?}",
                v.product, v.version, v.version_strings
            ));
        }
        for (p, ver, _, matched) in hits {
            if (p != v.product || ver != v.version) && !excepted(&v.product, &v.version) {
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
