//! Ed25519 keys: generating and storing a key pair, the [`Signer`] seam an HSM can fill
//! later, and the public side that verifies.
//!
//! On disk the private key is PKCS#8 PEM (RFC 8410, `-----BEGIN PRIVATE KEY-----`) written
//! with mode 0600 from the moment the file exists; the public key is SubjectPublicKeyInfo PEM
//! (`-----BEGIN PUBLIC KEY-----`) and also a C2SP signed-note verifier key
//! (`<name>+<hex key hash>+<base64(0x01 ‖ public key)>`, <https://c2sp.org/signed-note>), the
//! form trust policies list signers in.
//!
//! **Key ID.** Our key ID is the lower-case hex SHA-256 of the raw 32-byte Ed25519 public
//! key. It is what DSSE signatures carry in `keyid` (a hint only; verification never trusts
//! it) and what predicates name the assessor by. It is not the signed-note key hash, which
//! also covers the key's name and is only 4 bytes.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::Signature;

/// The signed-note signature type of Ed25519 keys.
const ED25519_NOTE_TYPE: u8 = 0x01;

/// Why a key could not be made, read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: already exists; refusing to overwrite a key")]
    Exists { path: PathBuf },
    #[error(
        "{what} is not an Ed25519 private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`): {reason}"
    )]
    PrivateKey { what: String, reason: String },
    #[error(
        "{what} is not an Ed25519 public key: expected SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) or a signed-note verifier key `<name>+<hex key hash>+<base64>`: {reason}"
    )]
    PublicKey { what: String, reason: String },
    #[error("signed-note key name {name:?} is invalid: {reason}")]
    KeyName { name: String, reason: String },
    #[error("signing failed: {0}")]
    Sign(String),
}

/// Something that signs with an Ed25519 key. [`FileSigner`] holds the key in memory; an HSM
/// or KMS signer implements the same trait without ever exposing the private key.
pub trait Signer {
    /// The signer's key ID (hex SHA-256 of the raw public key).
    fn key_id(&self) -> String {
        self.public_key().key_id()
    }
    /// The public half, for verifiers and for naming the signer in statements.
    fn public_key(&self) -> PublicKey;
    /// Signs `message` (for DSSE, the PAE of the payload).
    fn sign(&self, message: &[u8]) -> Result<Signature, KeyError>;
}

/// A private key read from (or generated for) a PKCS#8 file.
pub struct FileSigner {
    key: SigningKey,
}

impl fmt::Debug for FileSigner {
    // Never print key material, even in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSigner")
            .field("key_id", &self.public_key().key_id())
            .finish_non_exhaustive()
    }
}

impl FileSigner {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        let key = SigningKey::from_bytes(&seed);
        // The seed is the private key; do not leave a copy on the stack.
        seed.fill(0);
        Ok(FileSigner { key })
    }

    /// The key from its 32-byte seed (RFC 8032 private key). For tests and key import.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        FileSigner {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// The Ed25519 key itself, for a signer of another form with the same key (a log signs
    /// its checkpoints as signed notes). The workspace has one ed25519-dalek, so the key moves
    /// as a key, never as a copied seed.
    pub fn into_signing_key(self) -> SigningKey {
        self.key
    }

    /// Reads a PKCS#8 PEM private key; `what` names the source in errors.
    pub fn from_pkcs8_pem(pem: &str, what: &str) -> Result<Self, KeyError> {
        let key = SigningKey::from_pkcs8_pem(pem).map_err(|e| KeyError::PrivateKey {
            what: what.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(FileSigner { key })
    }

    /// Reads a PKCS#8 PEM private key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::from_pkcs8_pem(&text, &path.display().to_string())
    }

    /// The private key as PKCS#8 PEM. The string holds the secret: write it only with
    /// [`write_private_file`].
    ///
    /// Written as PKCS#8 v1 (RFC 8410 §7, the form OpenSSL writes), without the optional
    /// public key: ed25519-dalek's default v2 encoding (RFC 5958, public key included) is
    /// refused by pyca/cryptography ("extra data"), which the interop tests caught.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyError> {
        let bytes = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        bytes
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|e| KeyError::PrivateKey {
                what: "the generated key".to_owned(),
                reason: e.to_string(),
            })
    }
}

impl Signer for FileSigner {
    fn public_key(&self) -> PublicKey {
        PublicKey(self.key.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        use ed25519_dalek::Signer as _;
        self.key
            .try_sign(message)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// An Ed25519 public key: what verifies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// From the raw 32 bytes; fails for bytes that are not a curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey)
            .map_err(|e| KeyError::PublicKey {
                what: "the key bytes".to_owned(),
                reason: e.to_string(),
            })
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Our key ID: the lower-case hex SHA-256 of the raw public key.
    pub fn key_id(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }

    /// SubjectPublicKeyInfo PEM, as OpenSSL, `cryptography` and securesystemslib read it.
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::PublicKey {
                what: "the key".to_owned(),
                reason: e.to_string(),
            })
    }

    /// The C2SP signed-note verifier key `<name>+<hex key hash>+<base64(0x01 ‖ key)>`, where
    /// the key hash is the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ key).
    pub fn to_vkey(&self, name: &str) -> Result<String, KeyError> {
        check_key_name(name)?;
        let mut typed = Vec::with_capacity(33);
        typed.push(ED25519_NOTE_TYPE);
        typed.extend_from_slice(self.0.as_bytes());
        Ok(format!(
            "{name}+{}+{}",
            hex(&note_key_hash(name, &typed)),
            STANDARD.encode(&typed)
        ))
    }

    /// Parses a signed-note verifier key of an Ed25519 key, checking its key hash. Returns
    /// the key name with the key.
    pub fn from_vkey(vkey: &str) -> Result<(String, Self), KeyError> {
        let bad = |reason: String| KeyError::PublicKey {
            what: format!("verifier key {:?}", truncate(vkey, 80)),
            reason,
        };
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(
                "expected three parts separated by `+`: name, key hash, key".to_owned(),
            ));
        };
        check_key_name(name).map_err(|e| bad(e.to_string()))?;
        if hash.len() != 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(format!(
                "the key hash {hash:?} is not 8 hexadecimal digits"
            )));
        }
        let typed = STANDARD
            .decode(key)
            .map_err(|e| bad(format!("the key part is not standard base64: {e}")))?;
        match typed.first() {
            Some(&ED25519_NOTE_TYPE) => {}
            Some(other) => {
                return Err(bad(format!(
                    "signature type 0x{other:02x} is not Ed25519 (0x01)"
                )));
            }
            None => return Err(bad("the key part is empty".to_owned())),
        }
        let raw: [u8; 32] = typed[1..].try_into().map_err(|_| {
            bad(format!(
                "an Ed25519 key is 32 bytes after the type byte, this one is {}",
                typed.len() - 1
            ))
        })?;
        let expected = hex(&note_key_hash(name, &typed));
        if !hash.eq_ignore_ascii_case(&expected) {
            return Err(bad(format!(
                "the key hash is {hash} but the name and key hash to {expected}"
            )));
        }
        let key = VerifyingKey::from_bytes(&raw).map_err(|e| bad(e.to_string()))?;
        Ok((name.to_owned(), PublicKey(key)))
    }

    /// Reads SPKI PEM or a verifier key, whichever `text` is; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        if trimmed.starts_with("-----BEGIN") {
            VerifyingKey::from_public_key_pem(trimmed)
                .map(PublicKey)
                .map_err(|e| KeyError::PublicKey {
                    what: what.to_owned(),
                    reason: e.to_string(),
                })
        } else if trimmed.contains('+') && !trimmed.contains('\n') {
            Self::from_vkey(trimmed).map(|(_, key)| key)
        } else {
            Err(KeyError::PublicKey {
                what: what.to_owned(),
                reason: "it is neither".to_owned(),
            })
        }
    }

    /// Reads a public key file (SPKI PEM or a verifier key).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Checks an Ed25519 signature over `message` with the strict rules (no small-order
    /// keys, canonical `S`), so one signature has one encoding.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.0.verify_strict(message, signature).is_ok()
    }
}

/// Signed-note key names: non-empty, no whitespace, no `+` (signed-note §Format).
fn check_key_name(name: &str) -> Result<(), KeyError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('+') {
        "it contains `+`"
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains whitespace or a control character"
    } else {
        return Ok(());
    };
    Err(KeyError::KeyName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

fn note_key_hash(name: &str, typed_key: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(typed_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Writes `contents` to a new file readable only by its owner (mode 0600 on Unix). The mode
/// is set when the file is created, so the secret is never world-readable, not even briefly;
/// an existing file is never overwritten.
pub fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })
}

/// The files `iotmark key generate` writes, and the verifier key to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedKey {
    /// `<stem>.key`: PKCS#8 PEM, mode 0600.
    pub private_key: PathBuf,
    /// `<stem>.pub`: SPKI PEM.
    pub public_key: PathBuf,
    /// `<stem>.vkey`: the signed-note verifier key, one line.
    pub verifier_key_file: PathBuf,
    /// The verifier key itself, for trust policies (`signer <vkey>`).
    pub verifier_key: String,
    /// Our key ID (hex SHA-256 of the raw public key).
    pub key_id: String,
}

/// Generates a key pair named `name` (the signed-note key name, e.g. `acme.example`) and
/// writes `<stem>.key`, `<stem>.pub` and `<stem>.vkey`. Refuses to overwrite any of them.
pub fn generate_key_files(stem: &Path, name: &str) -> Result<GeneratedKey, KeyError> {
    check_key_name(name)?;
    let with_ext = |ext: &str| {
        let mut p = stem.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let (private_key, public_key, verifier_key_file) =
        (with_ext(".key"), with_ext(".pub"), with_ext(".vkey"));
    for path in [&private_key, &public_key, &verifier_key_file] {
        if path.exists() {
            return Err(KeyError::Exists { path: path.clone() });
        }
    }
    let signer = FileSigner::generate()?;
    let public = signer.public_key();
    let verifier_key = public.to_vkey(name)?;
    write_private_file(&private_key, signer.to_pkcs8_pem()?.as_bytes())?;
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })
    };
    write(&public_key, public.to_spki_pem()?)?;
    write(&verifier_key_file, format!("{verifier_key}\n"))?;
    Ok(GeneratedKey {
        private_key,
        public_key,
        verifier_key_file,
        verifier_key,
        key_id: public.key_id(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn vkey_matches_the_go_sumdb_note_test_vector() {
        // golang/mod sumdb/note/note_test.go (cited in trust-and-registry.md §1.7): the
        // verifier key of PeterNeumann. Parsing checks the key hash over name and key.
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let (name, key) = PublicKey::from_vkey(vkey).unwrap();
        assert_eq!(name, "PeterNeumann");
        assert_eq!(key.to_vkey("PeterNeumann").unwrap(), vkey);
    }

    #[test]
    fn vkey_matches_the_c2sp_signed_note_example() {
        let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        let (_, key) = PublicKey::from_vkey(vkey).unwrap();
        assert_eq!(key.to_vkey("example.com/foo").unwrap(), vkey);
    }

    #[test]
    fn bad_vkeys_say_what_is_wrong() {
        let err = |v: &str| PublicKey::from_vkey(v).unwrap_err().to_string();
        assert!(
            err("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
                .contains("key hash is c74f20a4 but")
        );
        assert!(err("Peter+c74f20a3").contains("three parts"));
        assert!(err("+c74f20a3+AR").contains("empty"));
        assert!(err("P+c74f20a3+AhpcAA==").contains("not Ed25519"));
        assert!(err("P+xyz+ARpc").contains("8 hexadecimal"));
        assert!(err("P+c74f20a3+ARpc").contains("32 bytes"));
    }

    #[test]
    fn pem_round_trips_and_key_id_is_sha256_of_the_raw_key() {
        let signer = FileSigner::from_seed(&[7u8; 32]);
        let pem = signer.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let again = FileSigner::from_pkcs8_pem(&pem, "test").unwrap();
        assert_eq!(again.public_key(), signer.public_key());
        let public = signer.public_key();
        let spki = public.to_spki_pem().unwrap();
        assert_eq!(PublicKey::parse(&spki, "test").unwrap(), public);
        assert_eq!(
            public.key_id(),
            hex(&Sha256::digest(public.to_bytes())),
            "key id is SHA-256 of the raw key"
        );
        assert!(!format!("{signer:?}").contains(&pem[30..40]));
    }
}
