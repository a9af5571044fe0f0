//! Every inclusion and consistency vector of transparency-dev/merkle, kept (with its Apache-2.0
//! LICENSE) in ../shared/reference/merkle-test-vectors/{inclusion,consistency}/**. Each file is
//! run through our verifier and must pass or fail as its `wantErr` says.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iotmark_log::merkle;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/merkle-test-vectors"
);

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    out.sort();
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

fn proof(v: &serde_json::Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    json_files(&Path::new(VECTORS).join("inclusion"), &mut files);
    assert_eq!(files.len(), 98, "the vector set has 98 inclusion files");
    for f in &files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let got = merkle::verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(&v["leafHash"]),
            &proof(&v["proof"]),
            &b64(&v["root"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
    }
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    json_files(&Path::new(VECTORS).join("consistency"), &mut files);
    assert_eq!(files.len(), 98, "the vector set has 98 consistency files");
    for f in &files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let got = merkle::verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &proof(&v["proof"]),
            &b64(&v["root1"]),
            &b64(&v["root2"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
    }
}

/// The happy-path vectors also pin proof *generation*: the 8-leaf reference tree's proofs must
/// be exactly the ones in the files (inputs from testonly/constants.go, listed in
/// ../shared/reference/trust-and-registry.md §1.7).
#[test]
fn generated_proofs_equal_the_happy_path_vectors() {
    let inputs: [&[u8]; 8] = [
        b"",
        &[0x00],
        &[0x10],
        &[0x20, 0x21],
        &[0x30, 0x31],
        &[0x40, 0x41, 0x42, 0x43],
        &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        &[
            0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
            0x6e, 0x6f,
        ],
    ];
    let mut tree =
        merkle::MemoryTree::from_leaf_hashes(inputs.iter().map(|d| merkle::leaf_hash(d)));
    let mut checked = 0;
    for dir in ["inclusion", "consistency"] {
        let mut files = Vec::new();
        json_files(&Path::new(VECTORS).join(dir), &mut files);
        for f in files.iter().filter(|f| f.ends_with("happy-path.json")) {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            let want = proof(&v["proof"]);
            let got: Vec<Vec<u8>> = if dir == "inclusion" {
                let (i, n) = (
                    v["leafIdx"].as_u64().unwrap(),
                    v["treeSize"].as_u64().unwrap(),
                );
                assert_eq!(tree.root_at(n).unwrap().to_vec(), b64(&v["root"]));
                merkle::inclusion_proof(&mut tree, i, n).unwrap()
            } else {
                let (m, n) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
                if m == 0 {
                    continue;
                }
                merkle::consistency_proof(&mut tree, m, n).unwrap()
            }
            .iter()
            .map(|h| h.to_vec())
            .collect();
            assert_eq!(got, want, "{}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 8, "checked {checked} happy paths");
}
