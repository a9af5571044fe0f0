//! C2SP tlog-checkpoint v1.0.0: a signed note whose text is the log's origin, the tree size in
//! decimal (no leading zeros) and the base64 root hash, then optional non-empty extension lines.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::merkle::{self, Hash};
use crate::note::{self, NoteError, NoteSigner, NoteVerifier, VerifiedNote};

/// A tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique identifier of the log, e.g. `example.com/log42`.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Opaque extension lines (not recommended; kept for round trips).
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint line {line} ({field}): {reason}")]
    BadLine {
        line: usize,
        field: &'static str,
        reason: String,
    },
    #[error("the checkpoint text has {lines} lines; it needs origin, tree size and root hash")]
    TooShort { lines: usize },
    #[error("the checkpoint is for origin {found:?}, expected {expected:?}")]
    WrongOrigin { found: String, expected: String },
    #[error("checkpoint signature: {0}")]
    Note(#[from] NoteError),
}

impl Checkpoint {
    /// The checkpoint of an empty tree.
    pub fn empty(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            size: 0,
            root: merkle::empty_root(),
            extensions: Vec::new(),
        }
    }

    /// The note text (ends with a newline).
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a checkpoint note text strictly.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::BadLine {
                line: text.split('\n').count(),
                field: "end",
                reason: "the text must end with a newline".to_owned(),
            });
        };
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooShort { lines: lines.len() });
        }
        let bad = |line: usize, field: &'static str, reason: String| CheckpointError::BadLine {
            line,
            field,
            reason,
        };
        let origin = lines[0];
        if origin.is_empty() {
            return Err(bad(1, "origin", "it is empty".to_owned()));
        }
        let size_s = lines[1];
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(bad(
                2,
                "tree size",
                format!("{size_s:?} is not a decimal number without leading zeros"),
            ));
        }
        let size: u64 = size_s
            .parse()
            .map_err(|_| bad(2, "tree size", format!("{size_s} does not fit in 64 bits")))?;
        let root_bytes = STANDARD
            .decode(lines[2])
            .map_err(|e| bad(3, "root hash", format!("not standard padded base64: {e}")))?;
        let root: Hash = root_bytes.as_slice().try_into().map_err(|_| {
            bad(
                3,
                "root hash",
                format!("{} bytes, expected 32", root_bytes.len()),
            )
        })?;
        let mut extensions = Vec::new();
        for (i, l) in lines[3..].iter().enumerate() {
            if l.is_empty() {
                return Err(bad(
                    i + 4,
                    "extension",
                    "extension lines must be non-empty".to_owned(),
                ));
            }
            extensions.push((*l).to_owned());
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint; returns the note text.
    pub fn sign(&self, signers: &[&NoteSigner]) -> Result<String, CheckpointError> {
        Ok(note::sign(&self.body(), signers)?)
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} size {} root {}",
            self.origin,
            self.size,
            merkle::hex(&self.root)
        )
    }
}

/// The checkpoint in a signed note, **without checking its signatures**: for a log reading its
/// own checkpoint from its own storage (which it verified when it wrote it). Anything from
/// elsewhere goes through [`open`].
pub fn read_unverified(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    let text = std::str::from_utf8(bytes).map_err(|e| CheckpointError::BadLine {
        line: 0,
        field: "note",
        reason: format!("not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    let body = text.split_once("\n\n").map(|(b, _)| b).unwrap_or(text);
    Checkpoint::parse_body(&format!("{}\n", body.trim_end_matches('\n')))
}

/// Opens a signed checkpoint: the note must carry a valid signature by one of `trusted` and
/// the origin must be `origin`. Returns the checkpoint and the verified note.
pub fn open(
    bytes: &[u8],
    origin: &str,
    trusted: &[NoteVerifier],
) -> Result<(Checkpoint, VerifiedNote), CheckpointError> {
    let note = note::open(bytes, trusted)?;
    let cp = Checkpoint::parse_body(&note.text)?;
    if cp.origin != origin {
        return Err(CheckpointError::WrongOrigin {
            found: cp.origin,
            expected: origin.to_owned(),
        });
    }
    Ok((cp, note))
}
