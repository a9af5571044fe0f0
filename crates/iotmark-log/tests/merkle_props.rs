//! Property tests: for random trees every generated proof verifies, and flipping any single bit
//! of a proof hash, the leaf hash or a root makes verification fail.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use iotmark_log::merkle::{self, Hash, MemoryTree};
use proptest::prelude::*;

fn tree(n: u64, salt: u8) -> MemoryTree {
    MemoryTree::from_leaf_hashes((0..n).map(|i| {
        let mut d = i.to_be_bytes().to_vec();
        d.push(salt);
        merkle::leaf_hash(&d)
    }))
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #[test]
    fn inclusion_proofs_verify_and_any_bit_flip_is_rejected(
        n in 1u64..600, pick in any::<u64>(), bit in 0usize..256, salt in any::<u8>(), which in any::<u64>()
    ) {
        let mut t = tree(n, salt);
        let index = pick % n;
        let root = t.root_at(n).unwrap();
        let leaf = t.leaf_hashes()[index as usize];
        let proof = merkle::inclusion_proof(&mut t, index, n).unwrap();
        prop_assert!(merkle::verify_inclusion(index, n, &leaf, &proof, &root).is_ok());

        prop_assert!(merkle::verify_inclusion(index, n, &flip(&leaf, bit), &proof, &root).is_err());
        prop_assert!(merkle::verify_inclusion(index, n, &leaf, &proof, &flip(&root, bit)).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let k = (which % proof.len() as u64) as usize;
            bad[k] = flip(&bad[k], bit);
            prop_assert!(merkle::verify_inclusion(index, n, &leaf, &bad, &root).is_err());
        }
        // Another index or size with the same proof is also refused.
        if n > 1 {
            let other = (index + 1 + which % (n - 1)) % n;
            prop_assert!(merkle::verify_inclusion(other, n, &leaf, &proof, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_any_bit_flip_is_rejected(
        n in 2u64..600, pick in any::<u64>(), bit in 0usize..256, salt in any::<u8>(), which in any::<u64>()
    ) {
        let mut t = tree(n, salt);
        let m = 1 + pick % (n - 1);
        let (r1, r2) = (t.root_at(m).unwrap(), t.root_at(n).unwrap());
        let proof = merkle::consistency_proof(&mut t, m, n).unwrap();
        prop_assert!(merkle::verify_consistency(m, n, &proof, &r1, &r2).is_ok());
        prop_assert!(merkle::verify_consistency(m, n, &proof, &flip(&r1, bit), &r2).is_err());
        prop_assert!(merkle::verify_consistency(m, n, &proof, &r1, &flip(&r2, bit)).is_err());
        let k = (which % proof.len() as u64) as usize;
        let mut bad = proof.clone();
        bad[k] = flip(&bad[k], bit);
        prop_assert!(merkle::verify_consistency(m, n, &bad, &r1, &r2).is_err());
        // Dropping or adding a hash is refused.
        prop_assert!(merkle::verify_consistency(m, n, &proof[1..], &r1, &r2).is_err());
        let mut longer = proof.clone();
        longer.push(r1);
        prop_assert!(merkle::verify_consistency(m, n, &longer, &r1, &r2).is_err());
    }

    #[test]
    fn the_root_is_the_rfc6962_recursive_definition(n in 0u64..300, salt in any::<u8>()) {
        let mut t = tree(n, salt);
        let recursive = merkle::root(t.leaf_hashes());
        prop_assert_eq!(t.root_at(n).unwrap(), recursive);
    }
}
