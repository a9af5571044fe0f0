//! The log's checkpoint signer, from an attestation key file.
//!
//! A log signs its checkpoints as C2SP signed notes under its origin name. Its key is kept as
//! an ordinary PKCS#8 key file, so the same key tools (`iotmark key`) make, store and rotate
//! it; the key moves from the file into the note signer as a key, never as a copied seed.

use std::path::{Path, PathBuf};

use iotmark_attest::keys::{FileSigner, KeyError, write_private_file};
use iotmark_log::note::{NoteError, NoteSigner};

/// Why the log's signer could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LogKeyError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{origin:?} cannot be a log name")]
    Origin {
        origin: String,
        #[source]
        source: NoteError,
    },
    #[error("{}: cannot create the log key", path.display())]
    Create {
        path: PathBuf,
        #[source]
        source: KeyError,
    },
}

/// The note signer named `origin` with the key in the PKCS#8 file at `key`.
pub fn log_signer(key: &Path, origin: &str) -> Result<NoteSigner, LogKeyError> {
    note_signer(FileSigner::load(key)?, origin)
}

/// As [`log_signer`], creating the key file (mode 0600) first if there is none: how a
/// registry gets its log key on first start.
pub fn log_signer_creating(key: &Path, origin: &str) -> Result<NoteSigner, LogKeyError> {
    if key.exists() {
        return log_signer(key, origin);
    }
    let create = |source| LogKeyError::Create {
        path: key.to_owned(),
        source,
    };
    let signer = FileSigner::generate().map_err(create)?;
    let pem = signer.to_pkcs8_pem().map_err(create)?;
    write_private_file(key, pem.as_bytes()).map_err(create)?;
    note_signer(signer, origin)
}

fn note_signer(signer: FileSigner, origin: &str) -> Result<NoteSigner, LogKeyError> {
    NoteSigner::from_key(origin, signer.into_signing_key()).map_err(|source| LogKeyError::Origin {
        origin: origin.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;
    use iotmark_attest::keys::Signer;

    #[test]
    fn the_log_signs_with_the_key_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let created = log_signer_creating(&path, "log.example.org").unwrap();
        let file = FileSigner::load(&path).unwrap();
        assert_eq!(
            created.verifier().public_key(),
            file.public_key().to_bytes()
        );
        let again = log_signer(&path, "log.example.org").unwrap();
        assert_eq!(again.verifier().to_string(), created.verifier().to_string());
        assert!(matches!(
            log_signer(&path, "bad name"),
            Err(LogKeyError::Origin { .. })
        ));
        assert!(matches!(
            log_signer(&dir.path().join("missing.key"), "log.example.org"),
            Err(LogKeyError::Key(_))
        ));
    }
}
