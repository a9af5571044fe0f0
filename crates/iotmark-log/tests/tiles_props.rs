//! Tiles built by appending random batches give the same roots and proofs as the in-memory
//! tree, and any single-bit change or truncation of any stored tile or bundle is detected.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_log::merkle::{self, MemoryTree};
use iotmark_log::tiles::{self, MemoryTiles, TileError, TileHashes, TileKind};
use proptest::prelude::*;

fn build(batches: &[u16]) -> (MemoryTiles, MemoryTree, u64) {
    let mut store = MemoryTiles::default();
    let mut tree = MemoryTree::new();
    let mut size = 0u64;
    for &b in batches {
        let entries: Vec<Vec<u8>> = (0..u64::from(b))
            .map(|i| format!("entry {}", size + i).into_bytes())
            .collect();
        let a = tiles::append(&mut store, size, &entries).unwrap();
        store.apply(&a).unwrap();
        for e in &entries {
            tree.push_leaf_hash(merkle::leaf_hash(e));
        }
        size = a.new_size;
    }
    (store, tree, size)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tiles_give_the_same_root_and_proofs_as_the_tree(
        batches in prop::collection::vec(0u16..700, 1..6), pick in any::<u64>()
    ) {
        let (mut store, mut tree, size) = build(&batches);
        prop_assume!(size > 0);
        let root = tree.root_at(size).unwrap();
        let mut th = TileHashes::new(&mut store, size);
        prop_assert_eq!(th.root().unwrap(), root);
        let index = pick % size;
        let p = th.inclusion_proof(index).unwrap();
        prop_assert_eq!(&p, &merkle::inclusion_proof(&mut tree, index, size).unwrap());
        let old = 1 + pick % size;
        let c = th.consistency_proof(old).unwrap();
        prop_assert_eq!(&c, &merkle::consistency_proof(&mut tree, old, size).unwrap());
        prop_assert!(tiles::check_tree(&mut store, size, &root).is_ok());
    }

    #[test]
    fn any_bit_flip_or_truncation_of_a_tile_is_detected(
        batches in prop::collection::vec(1u16..600, 1..4), which in any::<u64>(), bit in any::<u64>(), cut in any::<bool>()
    ) {
        let (store, mut tree, size) = build(&batches);
        let root = tree.root_at(size).unwrap();
        let all = tiles::tiles_of_tree(size);
        let id = all[(which % all.len() as u64) as usize];
        let kind = if id.level == 0 && bit % 2 == 0 { TileKind::Entries } else { TileKind::Hashes };
        let mut bad = store.clone();
        let map = match kind { TileKind::Hashes => &mut bad.hashes, TileKind::Entries => &mut bad.bundles };
        let bytes = map.get_mut(&id).unwrap();
        if cut {
            bytes.pop();
        } else {
            let b = (bit / 2 % (bytes.len() as u64 * 8)) as usize;
            bytes[b / 8] ^= 1 << (b % 8);
        }
        let err = tiles::check_tree(&mut bad, size, &root);
        prop_assert!(err.is_err(), "{:?} {} not detected", kind, id.hash_path());
    }
}

#[test]
fn a_truncated_tile_names_its_path_and_lengths() {
    let (mut store, mut tree, size) = build(&[300]);
    let root = tree.root_at(size).unwrap();
    let id = tiles::tile_in_tree(size, 0, 1).unwrap();
    store.hashes.get_mut(&id).unwrap().truncate(100);
    let err = tiles::check_tree(&mut store, size, &root).unwrap_err();
    assert!(
        matches!(
            err,
            TileError::BadTileLength {
                len: 100,
                width: 44,
                expected: 1408,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "tile/0/001.p/44 is 100 bytes, expected 1408 (44 hashes of 32 bytes)"
    );
}

#[test]
fn an_altered_leaf_hash_names_tile_position_and_entry() {
    let (mut store, mut tree, size) = build(&[600]);
    let root = tree.root_at(size).unwrap();
    let id = tiles::tile_in_tree(size, 0, 1).unwrap();
    store.hashes.get_mut(&id).unwrap()[32 * 5] ^= 1;
    let err = tiles::check_tree(&mut store, size, &root).unwrap_err();
    match &err {
        TileError::HashMismatch {
            path,
            level,
            position,
            node_index,
            derived_from,
            ..
        } => {
            assert_eq!(path, "tile/0/001");
            assert_eq!((*level, *position, *node_index), (0, 5, 261));
            assert_eq!(derived_from, "entry 5 of tile/entries/001");
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn an_altered_level1_hash_names_the_tile_below() {
    let (mut store, mut tree, size) = build(&[600]);
    let root = tree.root_at(size).unwrap();
    let id = tiles::tile_in_tree(size, 1, 0).unwrap();
    store.hashes.get_mut(&id).unwrap()[32] ^= 0x80;
    let err = tiles::check_tree(&mut store, size, &root).unwrap_err();
    assert!(
        err.to_string().starts_with("tile/1/000.p/2, hash 1"),
        "{err}"
    );
    assert!(err.to_string().contains("the root of tile/0/001"), "{err}");
}

#[test]
fn a_wrong_checkpoint_root_is_reported_as_such() {
    let (mut store, _, size) = build(&[10]);
    let err = tiles::check_tree(&mut store, size, &[0u8; 32]).unwrap_err();
    assert!(
        matches!(err, TileError::RootMismatch { size: 10, .. }),
        "{err}"
    );
}
