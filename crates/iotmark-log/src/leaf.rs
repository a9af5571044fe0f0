//! The log's leaf record: a small canonical record of one attestation.
//!
//! The attestation envelope itself is stored beside the tree (by SHA-256); the leaf commits to
//! it by digest. Encoding (version 1), all integers big-endian, no padding, nothing after:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | format version, `0x01` |
//! | 1 | kind: `0x01` declaration or certification, `0x02` status change |
//! | 32 | SHA-256 of the in-toto statement |
//! | 32 | SHA-256 of the envelope (as stored) |
//! | 1 | length `k` of the signer key id, 1..=255 |
//! | k | signer key id, UTF-8, no control characters or spaces |
//! | 8 | time, seconds since the Unix epoch (UTC), unsigned |
//!
//! There is exactly one encoding of each record, so equal records have equal leaf hashes.

use crate::merkle::Hash;

/// What a leaf records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafKind {
    /// A conformity declaration (or certificate) was published.
    Declaration,
    /// The status of an earlier declaration changed (suspension, revocation, end of support,
    /// reinstatement); the statement says which declaration and how.
    Status,
}

impl LeafKind {
    fn code(self) -> u8 {
        match self {
            LeafKind::Declaration => 1,
            LeafKind::Status => 2,
        }
    }
}

/// One leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafRecord {
    pub kind: LeafKind,
    pub statement_digest: Hash,
    pub envelope_digest: Hash,
    /// Identifies the key that signed the envelope (e.g. a note key string `name+keyid`).
    pub signer_key_id: String,
    /// When the log accepted the entry, seconds since the Unix epoch.
    pub time: u64,
}

/// Why bytes are not a leaf record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    #[error("leaf record: {field} at byte {offset}: {reason}")]
    Malformed {
        field: &'static str,
        offset: usize,
        reason: String,
    },
}

const VERSION: u8 = 1;

impl LeafRecord {
    /// The canonical encoding (the log entry).
    pub fn encode(&self) -> Result<Vec<u8>, LeafError> {
        check_key_id(&self.signer_key_id, 67)?;
        let id = self.signer_key_id.as_bytes();
        let mut out = Vec::with_capacity(75 + id.len());
        out.push(VERSION);
        out.push(self.kind.code());
        out.extend_from_slice(&self.statement_digest);
        out.extend_from_slice(&self.envelope_digest);
        out.push(id.len() as u8);
        out.extend_from_slice(id);
        out.extend_from_slice(&self.time.to_be_bytes());
        Ok(out)
    }

    /// Decodes a leaf strictly.
    pub fn decode(b: &[u8]) -> Result<Self, LeafError> {
        let bad = |field: &'static str, offset: usize, reason: String| LeafError::Malformed {
            field,
            offset,
            reason,
        };
        let short = |field: &'static str, offset: usize, need: usize| {
            bad(
                field,
                offset,
                format!(
                    "needs {need} bytes, the record has {} left",
                    b.len().saturating_sub(offset)
                ),
            )
        };
        let version = *b.first().ok_or_else(|| short("version", 0, 1))?;
        if version != VERSION {
            return Err(bad("version", 0, format!("{version}, expected {VERSION}")));
        }
        let kind = match *b.get(1).ok_or_else(|| short("kind", 1, 1))? {
            1 => LeafKind::Declaration,
            2 => LeafKind::Status,
            k => return Err(bad("kind", 1, format!("{k}, expected 1 or 2"))),
        };
        let digest = |offset: usize, field| -> Result<Hash, LeafError> {
            b.get(offset..offset + 32)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| short(field, offset, 32))
        };
        let statement_digest = digest(2, "statement digest")?;
        let envelope_digest = digest(34, "envelope digest")?;
        let k = usize::from(
            *b.get(66)
                .ok_or_else(|| short("signer key id length", 66, 1))?,
        );
        let id = b
            .get(67..67 + k)
            .ok_or_else(|| short("signer key id", 67, k))?;
        let signer_key_id = std::str::from_utf8(id)
            .map_err(|_| bad("signer key id", 67, "not UTF-8".to_owned()))?
            .to_owned();
        check_key_id(&signer_key_id, 67)?;
        let t = 67 + k;
        let time_bytes: [u8; 8] = b
            .get(t..t + 8)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| short("time", t, 8))?;
        if b.len() != t + 8 {
            return Err(bad(
                "end",
                t + 8,
                format!("{} bytes follow the record", b.len() - t - 8),
            ));
        }
        Ok(Self {
            kind,
            statement_digest,
            envelope_digest,
            signer_key_id,
            time: u64::from_be_bytes(time_bytes),
        })
    }
}

fn check_key_id(id: &str, offset: usize) -> Result<(), LeafError> {
    let bad = |reason: &str| LeafError::Malformed {
        field: "signer key id",
        offset,
        reason: reason.to_owned(),
    };
    if id.is_empty() || id.len() > 255 {
        return Err(bad("must be 1..=255 bytes"));
    }
    if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("contains a control character or space"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test
    use super::*;

    fn rec() -> LeafRecord {
        LeafRecord {
            kind: LeafKind::Status,
            statement_digest: [1; 32],
            envelope_digest: [2; 32],
            signer_key_id: "lab.example+0a0b0c0d".to_owned(),
            time: 1_790_000_000,
        }
    }

    #[test]
    fn encoding_round_trips_and_is_exact() {
        let e = rec().encode().unwrap();
        assert_eq!(e.len(), 1 + 1 + 32 + 32 + 1 + 20 + 8);
        assert_eq!(&e[..2], &[1, 2]);
        assert_eq!(LeafRecord::decode(&e).unwrap(), rec());
        for cut in 0..e.len() {
            assert!(LeafRecord::decode(&e[..cut]).is_err(), "cut {cut}");
        }
        let mut long = e.clone();
        long.push(0);
        assert_eq!(
            LeafRecord::decode(&long).unwrap_err().to_string(),
            "leaf record: end at byte 95: 1 bytes follow the record"
        );
        let mut k = e.clone();
        k[1] = 9;
        assert!(
            LeafRecord::decode(&k)
                .unwrap_err()
                .to_string()
                .contains("kind at byte 1")
        );
    }
}
