//! RFC 6962 Merkle tree hashing and proofs (RFC 9162 §2.1).
//!
//! * leaf hash `SHA-256(0x00 ‖ entry)`, interior node `SHA-256(0x01 ‖ left ‖ right)`, and the
//!   root of the empty tree is `SHA-256("")`;
//! * for `n > 1` leaves, with `k` the largest power of two below `n`, the root is
//!   `node(MTH(D[0:k]), MTH(D[k:n]))`.
//!
//! Proof *generation* works over any [`HashSource`] — an in-memory [`MemoryTree`] or the tiles
//! of a stored log — because every hash a proof needs is the root of a range `[start, end)`
//! whose start is aligned, and such a range is a right fold of perfect subtrees.
//!
//! Proof *verification* takes the proof, leaf hash and roots as raw bytes: they come from
//! untrusted receipts and files, and a hash of the wrong length must give a precise error
//! rather than be unrepresentable.

use sha2::{Digest, Sha256};

/// Length of a SHA-256 hash in bytes.
pub const HASH_LEN: usize = 32;

/// A SHA-256 tree hash.
pub type Hash = [u8; HASH_LEN];

/// Why a proof did not verify, or why a proof could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {size1} is larger than tree size {size2}; a log only grows")]
    SizesReversed { size1: u64, size2: u64 },
    #[error(
        "a consistency proof from the empty tree proves nothing (size1 is 0, size2 is {size2})"
    )]
    FromEmptyTree { size2: u64 },
    #[error("{what} is {len} bytes, expected a {HASH_LEN}-byte SHA-256 hash")]
    BadHashLength { what: String, len: usize },
    #[error("the proof has {got} hashes, expected {expected} for these tree sizes/index")]
    WrongProofLength { got: usize, expected: usize },
    #[error("the roots differ although both trees have size {size}")]
    EqualSizesDifferentRoots { size: u64 },
    #[error("the proof yields root {computed}, but the expected root is {expected}")]
    RootMismatch { computed: String, expected: String },
    #[error(
        "the proof yields old root {computed} for size {size1}, but the expected old root is {expected}"
    )]
    OldRootMismatch {
        size1: u64,
        computed: String,
        expected: String,
    },
    #[error("the tree has no node at level {level}, index {index}")]
    MissingNode { level: u8, index: u64 },
    #[error(
        "a frontier of a tree of size {size} has {got} hashes, expected {expected} (one per set bit of the size)"
    )]
    FrontierLength {
        size: u64,
        got: usize,
        expected: usize,
    },
}

/// Lowercase hex of a hash, for messages.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A hash from 64 hex digits (either case); `None` for anything else.
pub fn parse_hex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Plain SHA-256 (for content digests such as envelopes).
pub fn sha256(data: &[u8]) -> Hash {
    Sha256::digest(data).into()
}

/// Leaf hash of an entry, `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// Interior node hash, `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Root (MTH) of a list of leaf hashes.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Where proof generation gets its hashes: the root of the perfect subtree of `2^level` leaves
/// that starts at leaf `index << level`.
pub trait HashSource {
    type Error: From<ProofError>;
    fn perfect_hash(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Root of leaves `[start, end)`, where `start` is a multiple of the largest power of two not
/// above `end - start` (true of every range an RFC 6962 proof or root needs). Computed as the
/// right fold of the range's perfect subtrees, largest first.
pub fn range_hash<S: HashSource>(src: &mut S, start: u64, end: u64) -> Result<Hash, S::Error> {
    if end <= start {
        return Ok(empty_root());
    }
    let mut parts = Vec::new();
    let mut at = start;
    while at < end {
        let rest = end - at;
        // Largest power of two ≤ rest that keeps `at` aligned.
        let mut level = 63 - rest.leading_zeros();
        while level > 0 && !at.is_multiple_of(1u64 << level) {
            level -= 1;
        }
        parts.push(src.perfect_hash(level as u8, at >> level)?);
        at += 1u64 << level;
    }
    let mut acc = parts.pop().unwrap_or_else(empty_root);
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// Inclusion proof (audit path, leaf sibling first) for leaf `index` in the tree of `size`
/// leaves (RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: HashSource>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size }.into());
    }
    let mut path = Vec::new();
    // Iterative form of PATH(m, D[start:end]): descend, recording siblings, then reverse.
    let (mut start, mut end, m) = (0u64, size, index);
    while end - start > 1 {
        let k = largest_power_of_two_below(end - start);
        if m < start + k {
            path.push(range_hash(src, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(src, start, start + k)?);
            start += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// Consistency proof between the tree of `size1` leaves and the tree of `size2` leaves
/// (RFC 9162 §2.1.4.1). Empty when the sizes are equal; refused from the empty tree.
pub fn consistency_proof<S: HashSource>(
    src: &mut S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, S::Error> {
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 }.into());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree { size2 }.into());
    }
    if size1 == size2 {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:end], b), iteratively; siblings are collected top-down.
    let mut path = Vec::new();
    let (mut start, mut end, mut complete) = (0u64, size2, true);
    let m = size1;
    loop {
        if m == end {
            if !complete {
                path.push(range_hash(src, start, end)?);
            }
            break;
        }
        let k = largest_power_of_two_below(end - start);
        if m <= start + k {
            path.push(range_hash(src, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(src, start, start + k)?);
            start += k;
            complete = false;
        }
    }
    path.reverse();
    Ok(path)
}

fn as_hash(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::BadHashLength {
        what: what(),
        len: bytes.len(),
    })
}

fn proof_hashes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| as_hash(|| format!("proof hash {i}"), p.as_ref()))
        .collect()
}

/// Number of hashes in an inclusion proof for `index` in a tree of `size` (`index < size`).
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// The root that an inclusion proof for `leaf_hash` at `index` in a tree of `size` implies
/// (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[P],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let leaf = as_hash(|| "leaf hash".to_owned(), leaf_hash)?;
    let proof = proof_hashes(proof)?;
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength {
            got: proof.len(),
            expected,
        });
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in &proof {
        if s == 0 {
            // Unreachable after the length check; kept so that a logic slip fails closed.
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                expected,
            });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongProofLength {
            got: proof.len(),
            expected,
        });
    }
    Ok(r)
}

/// Checks an inclusion proof for `leaf_hash` at `index` against `root` of a tree of `size`.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    let computed = root_from_inclusion_proof(index, size, leaf_hash, proof)?;
    let root = as_hash(|| "root".to_owned(), root)?;
    if computed != root {
        return Err(ProofError::RootMismatch {
            computed: hex(&computed),
            expected: hex(&root),
        });
    }
    Ok(())
}

/// Checks a consistency proof that the tree of `size1` with `root1` is a prefix of the tree of
/// `size2` with `root2` (RFC 9162 §2.1.4.2).
///
/// Edge semantics follow the transparency-dev vectors: from size 0 is always an error; equal
/// sizes need an empty proof and byte-identical roots.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree { size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                expected: 0,
            });
        }
        if root1 != root2 {
            return Err(ProofError::EqualSizesDifferentRoots { size: size1 });
        }
        return Ok(());
    }
    let root1 = as_hash(|| "root1".to_owned(), root1)?;
    let root2 = as_hash(|| "root2".to_owned(), root2)?;
    let mut path = proof_hashes(proof)?;
    let expected = consistency_proof_len(size1, size2);
    if path.len() != expected {
        return Err(ProofError::WrongProofLength {
            got: path.len(),
            expected,
        });
    }
    // When size1 is a power of two the old root is itself a node of the new tree and the
    // proof omits it; the algorithm starts from it.
    if size1.is_power_of_two() {
        path.insert(0, root1);
    }
    let (mut f, mut s) = (size1 - 1, size2 - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let Some((&first, rest)) = path.split_first() else {
        return Err(ProofError::WrongProofLength { got: 0, expected });
    };
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if s == 0 {
            return Err(ProofError::WrongProofLength {
                got: proof.len(),
                expected,
            });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s != 0 {
        return Err(ProofError::WrongProofLength {
            got: proof.len(),
            expected,
        });
    }
    if fr != root1 {
        return Err(ProofError::OldRootMismatch {
            size1,
            computed: hex(&fr),
            expected: hex(&root1),
        });
    }
    if sr != root2 {
        return Err(ProofError::RootMismatch {
            computed: hex(&sr),
            expected: hex(&root2),
        });
    }
    Ok(())
}

/// Number of hashes in a consistency proof for `0 < size1 < size2`.
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let inner = 64 - ((size1 - 1) ^ (size2 - 1)).leading_zeros();
    let border = ((size1 - 1) >> inner).count_ones();
    let shift = (size1 - 1).trailing_ones().min(inner);
    // The proof omits hashes the verifier can already derive from the old root: the lowest
    // `shift` inner levels when the first tree's right edge is a complete subtree, and the
    // old root itself when size1 is a power of two.
    let base = (inner - shift + border) as usize;
    if size1.is_power_of_two() {
        base
    } else {
        base + 1
    }
}

/// The right edge of a tree: the roots of its perfect subtrees, largest (leftmost) first, at
/// most one per bit of its size. Enough to compute the root and to keep appending, in
/// O(log n) memory: a client that keeps a checkpoint and its frontier can read the entries
/// logged since, append their leaf hashes and compare the root with the next checkpoint's,
/// which checks every new entry and that the old tree is a prefix of the new one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// One hash per set bit of `size`, from the highest bit down.
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier kept from before: `hashes` must hold one hash per set bit of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, ProofError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(ProofError::FrontierLength {
                size,
                got: hashes.len(),
                expected: size.count_ones() as usize,
            });
        }
        Ok(Self { size, hashes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        // Each trailing one bit of the old size is a perfect subtree the new leaf completes.
        let mut carry = self.size;
        while carry & 1 == 1 {
            if let Some(left) = self.hashes.pop() {
                node = node_hash(&left, &node);
            }
            carry >>= 1;
        }
        self.hashes.push(node);
        self.size += 1;
    }

    /// The tree's root (MTH).
    pub fn root(&self) -> Hash {
        let mut subtrees = self.hashes.iter().rev();
        let Some(last) = subtrees.next() else {
            return empty_root();
        };
        subtrees.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// An in-memory tree: every level of complete nodes. For tests, tools and building proofs
/// over a batch; a stored log reads the same hashes from its tiles.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the perfect subtree hash at level `l`, index `i`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the tree of the given leaf hashes.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Self::new();
        for h in leaves {
            t.push_leaf_hash(h);
        }
        t
    }

    /// Appends one leaf hash, completing any perfect subtrees it closes.
    pub fn push_leaf_hash(&mut self, h: Hash) {
        let mut level = 0;
        let mut node = h;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(node);
            let row = &self.levels[level];
            if !row.len().is_multiple_of(2) {
                break;
            }
            node = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hashes.
    pub fn leaf_hashes(&self) -> &[Hash] {
        self.levels.first().map_or(&[], |l| l.as_slice())
    }

    /// Root of the first `size` leaves.
    pub fn root_at(&mut self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange {
                index: size,
                size: self.size(),
            });
        }
        range_hash(self, 0, size)
    }
}

impl HashSource for MemoryTree {
    type Error = ProofError;
    fn perfect_hash(&mut self, level: u8, index: u64) -> Result<Hash, ProofError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i))
            .copied()
            .ok_or(ProofError::MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use super::*;

    #[test]
    fn the_frontier_gives_the_root_of_every_size() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::new();
        assert_eq!(frontier.root(), empty_root());
        for (n, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf);
            assert_eq!(frontier.root(), root(&leaves[..=n]), "size {}", n + 1);
            assert_eq!(frontier.hashes().len(), (n + 1).count_ones() as usize);
        }
        let kept = Frontier::from_parts(frontier.size(), frontier.hashes().to_vec()).unwrap();
        assert_eq!(kept, frontier);
        assert!(Frontier::from_parts(3, vec![leaves[0]]).is_err());
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // Values from transparency-dev/merkle rfc6962/rfc6962_test.go and testonly/constants.go, as
    // listed in ../shared/reference/trust-and-registry.md §1.7.
    #[test]
    fn hex_round_trips_and_refuses_anything_else() {
        let h = sha256(b"iotmark");
        assert_eq!(parse_hex(&hex(&h)), Some(h));
        assert_eq!(parse_hex(&hex(&h).to_uppercase()), Some(h));
        assert_eq!(parse_hex(&hex(&h)[..62]), None);
        assert_eq!(parse_hex(&format!("{}zz", &hex(&h)[..62])), None);
        assert_eq!(parse_hex(&format!("{}é", &hex(&h)[..62])), None);
    }

    #[test]
    fn rfc6962_known_hashes() {
        assert!(hex(&empty_root()).starts_with("e3b0c442"));
        assert!(hex(&leaf_hash(b"")).starts_with("6e340b9c"));
        assert!(hex(&leaf_hash(b"L123456")).starts_with("395aa064"));
        let n = {
            let mut h = Sha256::new();
            h.update([1]);
            h.update(b"N123");
            h.update(b"N456");
            hex(&h.finalize())
        };
        assert!(n.starts_with("aa217fe8"));
        let inputs = [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ];
        let leaves: Vec<Hash> = inputs.iter().map(|s| leaf_hash(&unhex(s))).collect();
        assert!(hex(&root(&leaves)).starts_with("5dc9da79"));
        assert!(hex(&root(&leaves)).ends_with("4328"));
    }

    #[test]
    fn proof_lengths_match_generated_proofs() {
        for n in 1..=70u64 {
            let mut t = MemoryTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_be_bytes())));
            for m in 0..n {
                assert_eq!(
                    inclusion_proof(&mut t, m, n).unwrap().len(),
                    inclusion_proof_len(m, n)
                );
            }
            for m in 1..n {
                assert_eq!(
                    consistency_proof(&mut t, m, n).unwrap().len(),
                    consistency_proof_len(m, n),
                    "m={m} n={n}"
                );
            }
        }
    }
}
