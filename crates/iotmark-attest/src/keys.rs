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
        PublicKey::from(self.key.verifying_key())
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, KeyError> {
        use ed25519_dalek::Signer as _;
        self.key
            .try_sign(message)
            .map_err(|e| KeyError::Sign(e.to_string()))
    }
}

/// An Ed25519 public key: what verifies.
///
/// The key is decoded (its point decompressed) once, when it is read; whether it is a
/// small-order ("weak") key is decided then too, so verifying does neither again.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    /// `key` has small order: it verifies nothing (see [`PublicKey::verify`]).
    weak: bool,
}

impl From<VerifyingKey> for PublicKey {
    fn from(key: VerifyingKey) -> Self {
        PublicKey {
            weak: key.is_weak(),
            key,
        }
    }
}

/// The canonical encodings of the eight points of small order (the 8-torsion subgroup,
/// curve25519-dalek's `EIGHT_TORSION`): the identity, the point of order 2, the two of
/// order 4 and the four of order 8. libsodium's blocklist and the "Taming the many EdDSAs"
/// vectors (Chalkias, Garillot, Nikolaenko, SSR 2020) list the same points.
const SMALL_ORDER_POINTS: [[u8; 32]; 8] = {
    const fn point(first: [u8; 31], last: u8) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 31 {
            out[i] = first[i];
            i += 1;
        }
        out[31] = last;
        out
    }
    const ZERO: [u8; 31] = [0; 31];
    let mut one = ZERO;
    one[0] = 1;
    let mut minus_one = [0xff; 31];
    minus_one[0] = 0xec;
    const ORDER8_A: [u8; 31] = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc,
    ];
    const ORDER8_B: [u8; 31] = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03,
    ];
    [
        point(one, 0x00),       // identity, y = 1
        point(minus_one, 0x7f), // order 2, y = p - 1
        point(ZERO, 0x00),      // order 4, y = 0
        point(ZERO, 0x80),      // order 4, y = 0, the other x
        point(ORDER8_A, 0x05),  // order 8
        point(ORDER8_A, 0x85),  // order 8, the other x
        point(ORDER8_B, 0x7a),  // order 8
        point(ORDER8_B, 0xfa),  // order 8, the other x
    ]
};

/// Whether `bytes` is the canonical encoding of a point of small order.
fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_POINTS.contains(bytes)
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

impl PublicKey {
    /// From the raw 32 bytes; fails for bytes that are not a curve point.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        VerifyingKey::from_bytes(bytes)
            .map(PublicKey::from)
            .map_err(|e| KeyError::PublicKey {
                what: "the key bytes".to_owned(),
                reason: e.to_string(),
            })
    }

    /// The raw 32 bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Our key ID: the lower-case hex SHA-256 of the raw public key.
    pub fn key_id(&self) -> String {
        hex(&Sha256::digest(self.key.as_bytes()))
    }

    /// SubjectPublicKeyInfo PEM, as OpenSSL, `cryptography` and securesystemslib read it.
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        self.key
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
        typed.extend_from_slice(self.key.as_bytes());
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
        Ok((name.to_owned(), PublicKey::from(key)))
    }

    /// Reads SPKI PEM or a verifier key, whichever `text` is; `what` names it in errors.
    pub fn parse(text: &str, what: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim();
        if trimmed.starts_with("-----BEGIN") {
            VerifyingKey::from_public_key_pem(trimmed)
                .map(PublicKey::from)
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

    /// Checks an Ed25519 signature over `message` with the strict rules, so one signature
    /// has one encoding: no small-order key, no small-order `R`, `R` and `S` canonical.
    ///
    /// This accepts exactly what ed25519-dalek's `verify_strict` accepts, without its
    /// per-call work that gives no answer of its own: `verify_strict` decompresses `R` and
    /// tests the key's order on every call. Here the key's order was tested when it was read
    /// (`weak`), and `R` is compared with the eight canonical small-order encodings: the
    /// check below recomputes `R` as `[S]B - [k]A` and compares its canonical encoding with
    /// the signature's bytes, so a non-canonical or undecodable `R` fails there already, and
    /// the canonical encodings of small-order points are the only ones left to refuse.
    /// `verify` (cofactorless, canonical `S`) is that check. A test holds both to the same
    /// answers on the "Taming the many EdDSAs" vectors.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        use ed25519_dalek::Verifier as _;
        !self.weak
            && !is_small_order_encoding(signature.r_bytes())
            && self.key.verify(message, signature).is_ok()
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
    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let bytes: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }

    #[test]
    fn the_small_order_list_is_the_eight_torsion_subgroup() {
        let torsion: Vec<[u8; 32]> = curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .map(|p| p.compress().to_bytes())
            .collect();
        for point in &torsion {
            assert!(SMALL_ORDER_POINTS.contains(point), "{}", hex(point));
        }
        for point in &SMALL_ORDER_POINTS {
            assert!(torsion.contains(point), "{}", hex(point));
            assert!(VerifyingKey::from_bytes(point).unwrap().is_weak());
        }
    }

    /// The test vectors of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, SSR
    /// 2020), novifinancial/ed25519-speccheck `cases.json` at commit 336651ba: message,
    /// public key, signature, and whether a strict verifier accepts it. Case 1 verifies
    /// cofactorless but its key has small order; case 2 verifies cofactorless but its `R`
    /// has small order (only the `R` blocklist refuses it); case 0 has both; 4 and 5 verify
    /// only cofactored; 6 and 7 have `S` ≥ ℓ; 8 and 9 a non-canonical `R`. Case 3 is the one
    /// valid signature (mixed-order key and `R`).
    const TAMING: [(&str, &str, &str, bool); 10] = [
        (
            "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
            false,
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
            false,
        ),
        (
            "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
            false,
        ),
        (
            "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
            true,
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
            false,
        ),
        (
            "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
            "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
            "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
            false,
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
            false,
        ),
        (
            "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
            "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
            "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
            false,
        ),
        (
            "fdaebc429f4a735932a160da1301080c13280eea8bc280d1b392c6b9e6ba3a5a",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f454d370c8d9fc323a41450f8d513eafeb5b0697390c1e505a0d4ddc71f566607",
            false,
        ),
        (
            "84b698d39be126ff55fe45079e6c8bf64a0d7db6994560b4e96b7021eb39c1a1",
            "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f084d5b99c2a9463d9c8bd5026916996984eeec87ddf1d3be329006ace1b37b09",
            false,
        ),
    ];

    #[test]
    fn strict_verification_matches_verify_strict_on_the_taming_vectors() {
        use ed25519_dalek::Verifier as _;
        for (i, (message, key, signature, strict)) in TAMING.iter().enumerate() {
            let message: [u8; 32] = unhex(message);
            let key_bytes: [u8; 32] = unhex(key);
            let signature = Signature::from_bytes(&unhex(signature));
            let dalek = VerifyingKey::from_bytes(&key_bytes).unwrap();
            let ours = PublicKey::from_bytes(&key_bytes).unwrap();
            assert_eq!(ours.verify(&message, &signature), *strict, "case {i}");
            assert_eq!(
                dalek.verify_strict(&message, &signature).is_ok(),
                *strict,
                "case {i}: ed25519-dalek's verify_strict"
            );
            // Cases 0–3 pass the plain cofactorless check: only the strict rules refuse
            // 0–2, so these show that each of the two small-order tests is in place.
            assert_eq!(
                dalek.verify(&message, &signature).is_ok(),
                i <= 3,
                "case {i}: cofactorless"
            );
        }
    }

    #[test]
    fn small_order_and_non_canonical_r_are_refused_like_verify_strict() {
        // Every encoding of a small-order point, canonical or not (the eight above and the
        // six non-canonical ones C2SP/CCTV's ed25519 vectors list: y = 1 and y = p - 1 with
        // the sign bit set, y = p and y = p + 1, each with either sign bit), as `R` and as
        // the key, against signatures whose `S` is 0 and 1: ours and `verify_strict` agree.
        let mut encodings: Vec<[u8; 32]> = SMALL_ORDER_POINTS.to_vec();
        for (low, high) in [
            (0x01, 0x80),
            (0xec, 0xff),
            (0xed, 0x7f),
            (0xed, 0xff),
            (0xee, 0x7f),
            (0xee, 0xff),
        ] {
            let mut e = [0xff; 32];
            if low == 0x01 {
                e = [0; 32];
            }
            e[0] = low;
            e[31] = high;
            encodings.push(e);
        }
        let genuine = FileSigner::from_seed(&[9u8; 32]).public_key().to_bytes();
        for r in &encodings {
            for key in encodings.iter().chain([&genuine]) {
                let Ok(dalek) = VerifyingKey::from_bytes(key) else {
                    continue;
                };
                let ours = PublicKey::from_bytes(key).unwrap();
                for s in [0u8, 1] {
                    let mut sig = [0u8; 64];
                    sig[..32].copy_from_slice(r);
                    sig[32] = s;
                    let sig = Signature::from_bytes(&sig);
                    for message in [&b""[..], b"m", &[0u8; 32]] {
                        assert!(!ours.verify(message, &sig));
                        assert!(dalek.verify_strict(message, &sig).is_err());
                    }
                }
            }
        }
    }

    #[test]
    fn a_genuine_signature_verifies_and_a_changed_one_does_not() {
        let signer = FileSigner::from_seed(&[3u8; 32]);
        let key = signer.public_key();
        let sig = signer.sign(b"message").unwrap();
        assert!(key.verify(b"message", &sig));
        assert!(!key.verify(b"messagE", &sig));
        let mut bytes = sig.to_bytes();
        // S + ℓ: the same signature with a non-canonical S.
        let ell: [u8; 32] =
            unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = u16::from(bytes[32 + i]) + u16::from(ell[i]) + carry;
            bytes[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        assert!(!key.verify(b"message", &Signature::from_bytes(&bytes)));
    }
}
