//! C2SP signed notes (signed-note v1.0.0) with Ed25519 keys (signature type 0x01).
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
//! `— <key name> <base64(key ID[4] ‖ signature)>`. The text is split from the signatures at
//! the *last* blank line. No ASCII control characters other than newline are allowed. The key
//! ID is `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`, big-endian.
//!
//! Key strings follow the Go `sumdb/note` encoding:
//! * verifier: `<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte public key)>`;
//! * signer: `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 ‖ 32-byte seed)>`.
//!
//! Parsing is strict, and every error names the line and what was expected.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Signature type byte for Ed25519 note signatures.
pub const ALG_ED25519: u8 = 0x01;
/// Most signature lines a note may carry (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;
/// Largest note accepted, in bytes.
pub const MAX_NOTE_LEN: usize = 1 << 20;

const SIG_PREFIX: &str = "\u{2014} ";

/// Why a note or a key string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note is {len} bytes; at most {MAX_NOTE_LEN} are accepted")]
    TooLarge { len: usize },
    #[error("the note is not valid UTF-8 at byte {offset}")]
    NotUtf8 { offset: usize },
    #[error("line {line}: control character U+{code:04X} (only newline is allowed)")]
    ControlCharacter { line: usize, code: u32 },
    #[error("the note does not end with a newline")]
    NoFinalNewline,
    #[error("no blank line separates the text from the signatures")]
    NoSignatureBlock,
    #[error("the note text is empty")]
    EmptyText,
    #[error("line {line}: {reason}")]
    BadSignatureLine { line: usize, reason: String },
    #[error("the note has {count} signatures; at most {MAX_SIGNATURES} are accepted")]
    TooManySignatures { count: usize },
    #[error("key name {name:?}: {reason}")]
    BadKeyName { name: String, reason: String },
    #[error("key string: {reason}")]
    BadKey { reason: String },
    #[error("two trusted keys are both {name}+{key_id:08x}")]
    AmbiguousKey { name: String, key_id: u32 },
    #[error("the signature by {name}+{key_id:08x} does not verify")]
    InvalidSignature { name: String, key_id: u32 },
    #[error("no signature by a trusted key (signed by: {signers})")]
    NoTrustedSignature { signers: String },
    #[error("the text to sign: {reason}")]
    BadText { reason: String },
    #[error("no randomness for a new key: {reason}")]
    Random { reason: String },
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line, with its final newline.
    pub fn line(&self) -> String {
        let mut blob = self.key_id.to_be_bytes().to_vec();
        blob.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}\n", self.name, STANDARD.encode(blob))
    }
}

/// A parsed (not yet verified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a note's syntax. Signatures are not checked: see [`open`].
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > MAX_NOTE_LEN {
            return Err(NoteError::TooLarge { len: bytes.len() });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut line = 1;
        for c in s.chars() {
            if c == '\n' {
                line += 1;
            } else if (c as u32) < 0x20 {
                return Err(NoteError::ControlCharacter {
                    line,
                    code: c as u32,
                });
            }
        }
        if !s.ends_with('\n') {
            return Err(NoteError::NoFinalNewline);
        }
        let split = s.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let text = &s[..split + 1];
        if text.trim_end_matches('\n').is_empty() {
            return Err(NoteError::EmptyText);
        }
        let first_sig_line = text.matches('\n').count() + 2;
        let block = &s[split + 2..];
        if block.is_empty() {
            return Err(NoteError::BadSignatureLine {
                line: first_sig_line,
                reason: "expected at least one signature line after the blank line".to_owned(),
            });
        }
        let lines: Vec<&str> = block
            .strip_suffix('\n')
            .unwrap_or(block)
            .split('\n')
            .collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures { count: lines.len() });
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, l)| parse_signature_line(l, first_sig_line + i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The note as text: the text, a blank line, the signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out
    }
}

fn parse_signature_line(l: &str, line: usize) -> Result<NoteSignature, NoteError> {
    let bad = |reason: &str| NoteError::BadSignatureLine {
        line,
        reason: reason.to_owned(),
    };
    let rest = l
        .strip_prefix(SIG_PREFIX)
        .ok_or_else(|| bad("a signature line must start with an em dash (U+2014) and a space"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or_else(|| bad("expected \"— <key name> <base64 signature>\""))?;
    check_name(name).map_err(|e| bad(&e.to_string()))?;
    let blob = STANDARD
        .decode(b64)
        .map_err(|e| bad(&format!("the signature is not standard padded base64: {e}")))?;
    if blob.len() < 5 {
        return Err(bad(&format!(
            "the signature decodes to {} bytes; it needs a 4-byte key ID and a signature",
            blob.len()
        )));
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]),
        signature: blob[4..].to_vec(),
    })
}

/// Key names are non-empty and contain no Unicode spaces and no `+`.
pub fn check_name(name: &str) -> Result<(), NoteError> {
    let bad = |reason: &str| NoteError::BadKeyName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(bad("it is empty"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(bad("it contains a space"));
    }
    if name.contains('+') {
        return Err(bad("it contains '+'"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("it contains a control character"));
    }
    Ok(())
}

/// Key ID of an Ed25519 key: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]` as big-endian u32.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

fn parse_key_parts(name: &str, id_hex: &str, b64: &str) -> Result<(u32, [u8; 32]), NoteError> {
    let bad = |reason: String| NoteError::BadKey { reason };
    check_name(name)?;
    if id_hex.len() != 8
        || !id_hex
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(bad(format!(
            "key ID {id_hex:?} is not 8 lowercase hex digits"
        )));
    }
    let id = u32::from_str_radix(id_hex, 16).map_err(|e| bad(e.to_string()))?;
    let blob = STANDARD
        .decode(b64)
        .map_err(|e| bad(format!("the key is not standard padded base64: {e}")))?;
    match blob.split_first() {
        Some((&ALG_ED25519, key)) => {
            let key: [u8; 32] = key.try_into().map_err(|_| {
                bad(format!(
                    "an Ed25519 key is 32 bytes after the type byte, this one is {}",
                    key.len()
                ))
            })?;
            Ok((id, key))
        }
        Some((alg, _)) => Err(bad(format!(
            "signature type 0x{alg:02x} is not supported (only Ed25519, 0x01)"
        ))),
        None => Err(bad("the key is empty".to_owned())),
    }
}

/// A trusted public key that verifies note signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteVerifier({self})")
    }
}

impl NoteVerifier {
    /// Parses a verifier key string `<name>+<hex id>+<base64(0x01 ‖ key)>`.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        // The base64 key may itself contain '+', so only the first two separate fields.
        let parts: Vec<&str> = vkey.splitn(3, '+').collect();
        let [name, id_hex, b64] = parts[..] else {
            return Err(NoteError::BadKey {
                reason: format!(
                    "expected <name>+<key ID>+<key>, found {} '+'-separated parts",
                    parts.len()
                ),
            });
        };
        let (id, raw) = parse_key_parts(name, id_hex, b64)?;
        Self::from_parts(name, id, &raw)
    }

    fn from_parts(name: &str, id: u32, raw: &[u8; 32]) -> Result<Self, NoteError> {
        let key = VerifyingKey::from_bytes(raw).map_err(|_| NoteError::BadKey {
            reason: "the public key is not a valid Ed25519 point".to_owned(),
        })?;
        let expected = key_id(name, raw);
        if id != expected {
            return Err(NoteError::BadKey {
                reason: format!(
                    "key ID {id:08x} does not match the name and key (expected {expected:08x})"
                ),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            key_id: id,
            key,
        })
    }

    /// A verifier for a raw Ed25519 public key.
    pub fn from_public_key(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Self::from_parts(name, key_id(name, public_key), public_key)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Whether `sig` is this key's valid signature of `text` (RFC 8032, strict: rejects
    /// non-canonical and small-order encodings).
    pub fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify_strict(text, &sig).is_ok()
    }
}

impl fmt::Display for NoteVerifier {
    /// The verifier key string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(blob)
        )
    }
}

/// A private key that signs notes. Its `Debug` output does not reveal the key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoteSigner({}+{:08x})", self.name, self.key_id)
    }
}

impl NoteSigner {
    /// Parses a signer key string `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    pub fn parse(skey: &str) -> Result<Self, NoteError> {
        let parts: Vec<&str> = skey.splitn(5, '+').collect();
        let ["PRIVATE", "KEY", name, id_hex, b64] = parts[..] else {
            return Err(NoteError::BadKey {
                reason: "expected PRIVATE+KEY+<name>+<key ID>+<key>".to_owned(),
            });
        };
        let (id, seed) = parse_key_parts(name, id_hex, b64)?;
        let s = Self::from_seed(name, &seed)?;
        if s.key_id != id {
            return Err(NoteError::BadKey {
                reason: format!(
                    "key ID {id:08x} does not match the name and key (expected {:08x})",
                    s.key_id
                ),
            });
        }
        Ok(s)
    }

    /// A signer from a 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        Self::from_key(name, SigningKey::from_bytes(seed))
    }

    /// A signer named `name` with an Ed25519 key held elsewhere (e.g. an attestation key file).
    pub fn from_key(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// A new random key.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| NoteError::Random {
            reason: e.to_string(),
        })?;
        Self::from_seed(name, &seed)
    }

    /// The signer key string. It is secret: store it like a private key.
    pub fn to_key_string(&self) -> String {
        let mut blob = vec![ALG_ED25519];
        blob.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            STANDARD.encode(blob)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a note text.
    pub fn sign(&self, text: &str) -> NoteSignature {
        NoteSignature {
            name: self.name.clone(),
            key_id: self.key_id,
            signature: self.key.sign(text.as_bytes()).to_bytes().to_vec(),
        }
    }
}

/// Signs `text` with each signer and returns the whole note. The text must be a valid note
/// text: non-empty, ending in a newline, no blank-line-only final line, no control characters.
pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<String, NoteError> {
    if signers.is_empty() {
        return Err(NoteError::BadText {
            reason: "no signer given".to_owned(),
        });
    }
    let note = Note {
        text: text.to_owned(),
        signatures: signers.iter().map(|s| s.sign(text)).collect(),
    };
    let out = note.to_text();
    // The note must read back as exactly this text, or a verifier would split it differently.
    match Note::parse(out.as_bytes()) {
        Ok(back) if back.text == text => Ok(out),
        Ok(_) => Err(NoteError::BadText {
            reason: "it ends with a blank line, so the signatures would not follow the last \
                     blank line"
                .to_owned(),
        }),
        Err(e) => Err(NoteError::BadText {
            reason: e.to_string(),
        }),
    }
}

/// A note whose signatures were checked against trusted keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    pub text: String,
    /// Signatures by trusted keys, each verified (one per key).
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys not in the trusted set (ignored, as the spec requires).
    pub unverified: Vec<NoteSignature>,
}

/// Parses a note and checks it against `trusted`: signatures from unknown keys are ignored, a
/// signature from a trusted key that fails rejects the whole note, and at least one trusted
/// signature must verify.
pub fn open(bytes: &[u8], trusted: &[NoteVerifier]) -> Result<VerifiedNote, NoteError> {
    let note = Note::parse(bytes)?;
    let mut verified: Vec<NoteSignature> = Vec::new();
    let mut unverified = Vec::new();
    for sig in note.signatures {
        let mut matching = trusted
            .iter()
            .filter(|v| v.name == sig.name && v.key_id == sig.key_id);
        let Some(v) = matching.next() else {
            unverified.push(sig);
            continue;
        };
        if matching.any(|other| other != v) {
            return Err(NoteError::AmbiguousKey {
                name: sig.name,
                key_id: sig.key_id,
            });
        }
        if !v.verify(note.text.as_bytes(), &sig.signature) {
            return Err(NoteError::InvalidSignature {
                name: sig.name,
                key_id: sig.key_id,
            });
        }
        if !verified
            .iter()
            .any(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            verified.push(sig);
        }
    }
    if verified.is_empty() {
        return Err(NoteError::NoTrustedSignature {
            signers: unverified
                .iter()
                .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(VerifiedNote {
        text: note.text,
        verified,
        unverified,
    })
}

/// Fuzz entry point: parse any bytes as a note, a receipt, key strings and a checkpoint body; must never panic, and a
/// note that parses must re-serialise to the same bytes.
#[doc(hidden)]
pub fn fuzz_note_parse(data: &[u8]) {
    if let Ok(r) = crate::receipt::Receipt::parse(data) {
        assert_eq!(
            r.encode().as_bytes(),
            data,
            "a parsed receipt re-serialises exactly"
        );
    }
    if let Ok(n) = Note::parse(data) {
        assert_eq!(
            n.to_text().as_bytes(),
            data,
            "a parsed note re-serialises exactly"
        );
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = NoteVerifier::parse(s) {
            assert_eq!(
                v.to_string(),
                s,
                "a parsed verifier key re-serialises exactly"
            );
        }
        let _ = NoteSigner::parse(s);
        let _ = crate::checkpoint::Checkpoint::parse_body(s);
    }
}
