//! Receipts in the C2SP tlog-proof form (`c2sp.org/tlog-proof@v1`, file extension
//! `.tlog-proof`): one text file that proves an entry was logged, verifiable offline with the
//! log's public key.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, unauthenticated)
//! index <decimal, no leading zeros>
//! <base64 hash>             (inclusion proof, leaf sibling first, one per line)
//!
//! <the checkpoint note, verbatim, with its signature lines>
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{self, Checkpoint, CheckpointError};
use crate::merkle::{self, Hash, ProofError};
use crate::note::NoteVerifier;

/// First line of a receipt.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// An inclusion proof in a tree of at most 2^64 leaves has at most 64 hashes.
pub const MAX_PROOF_HASHES: usize = 64;

/// An inclusion receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Opaque, unauthenticated application data.
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note the proof is against, verbatim.
    pub checkpoint: String,
}

/// Why a receipt was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt line {line}: {reason}")]
    BadLine { line: usize, reason: String },
    #[error("the receipt's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("the receipt's inclusion proof: {0}")]
    Proof(#[from] ProofError),
}

impl Receipt {
    /// The receipt text.
    pub fn encode(&self) -> String {
        let mut s = format!("{HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&STANDARD.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    /// Parses a receipt strictly (the checkpoint is checked by [`Receipt::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, ReceiptError> {
        let bad = |line: usize, reason: String| ReceiptError::BadLine { line, reason };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| bad(0, format!("not UTF-8 at byte {}", e.valid_up_to())))?;
        let (head, checkpoint) = text.split_once("\n\n").ok_or_else(|| {
            bad(
                0,
                "no blank line between the proof and the checkpoint".to_owned(),
            )
        })?;
        let mut lines = head.split('\n').enumerate().map(|(i, l)| (i + 1, l));
        match lines.next() {
            Some((_, HEADER)) => {}
            Some((n, l)) => return Err(bad(n, format!("expected {HEADER:?}, found {l:?}"))),
            None => return Err(bad(1, format!("expected {HEADER:?}"))),
        }
        let mut next = lines.next();
        let mut extra = None;
        if let Some((n, l)) = next
            && let Some(b64) = l.strip_prefix("extra ")
        {
            extra = Some(
                STANDARD
                    .decode(b64)
                    .map_err(|e| bad(n, format!("extra data is not base64: {e}")))?,
            );
            next = lines.next();
        }
        let (n, l) = next.ok_or_else(|| bad(2, "expected \"index <n>\"".to_owned()))?;
        let idx = l
            .strip_prefix("index ")
            .ok_or_else(|| bad(n, format!("expected \"index <n>\", found {l:?}")))?;
        if idx.is_empty()
            || !idx.bytes().all(|b| b.is_ascii_digit())
            || (idx.len() > 1 && idx.starts_with('0'))
        {
            return Err(bad(
                n,
                format!("index {idx:?} is not a decimal number without leading zeros"),
            ));
        }
        let index = idx
            .parse()
            .map_err(|_| bad(n, format!("index {idx} does not fit in 64 bits")))?;
        let mut proof = Vec::new();
        for (n, l) in lines {
            if proof.len() == MAX_PROOF_HASHES {
                return Err(bad(n, format!("more than {MAX_PROOF_HASHES} proof hashes")));
            }
            let h = STANDARD
                .decode(l)
                .map_err(|e| bad(n, format!("proof hash is not base64: {e}")))?;
            let h: Hash = h
                .as_slice()
                .try_into()
                .map_err(|_| bad(n, format!("proof hash is {} bytes, expected 32", h.len())))?;
            proof.push(h);
        }
        Ok(Self {
            extra,
            index,
            proof,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies that `entry` is at `index` in the log `origin`, whose checkpoint must be
    /// signed by one of `trusted`. Returns the checkpoint.
    pub fn verify(
        &self,
        entry: &[u8],
        origin: &str,
        trusted: &[NoteVerifier],
    ) -> Result<Checkpoint, ReceiptError> {
        let (cp, _) = checkpoint::open(self.checkpoint.as_bytes(), origin, trusted)?;
        merkle::verify_inclusion(
            self.index,
            cp.size,
            &merkle::leaf_hash(entry),
            &self.proof,
            &cp.root,
        )?;
        Ok(cp)
    }
}
