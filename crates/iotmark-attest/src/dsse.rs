//! DSSE v1 envelopes (secure-systems-lab/dsse `protocol.md` v1.0.2, `envelope.md`).
//!
//! ```json
//! {"payload": "<base64>", "payloadType": "<type>", "signatures": [{"keyid": "<hint>", "sig": "<base64>"}]}
//! ```
//!
//! Signatures are over the pre-authentication encoding
//! `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in decimal
//! bytes. Parsing is strict: unknown or duplicate fields, a missing field, a wrong JSON type,
//! bad base64 (in either the standard or the URL-safe alphabet, which the spec requires
//! verifiers to accept) and oversized input are errors that name the field. securesystemslib
//! 1.6 writes exactly these fields (`keyid` and `sig` in each signature), so the strictness
//! costs no interoperability. `keyid` is an unauthenticated hint: verification tries the key
//! on every signature and never trusts the hint.

use base64::Engine;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_PAD_INDIFFERENT, URL_SAFE_PAD_INDIFFERENT,
};
use std::borrow::Cow;
use std::fmt;

use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::keys::{KeyError, PublicKey, Signature, Signer};

/// The payload type of in-toto Statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Envelopes larger than this are refused before parsing (1 MiB; ours are a few KiB).
pub const MAX_ENVELOPE_BYTES: usize = 1 << 20;

/// More signatures than this are refused (the spec's threshold use needs a handful).
pub const MAX_SIGNATURES: usize = 16;

/// What is wrong with an envelope, or why it does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsseError {
    #[error("the envelope is {size} bytes; the limit is {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the envelope is not valid UTF-8 JSON at byte {offset}")]
    NotUtf8 { offset: usize },
    #[error("the envelope is not a DSSE envelope: {message} (line {line}, column {column})")]
    Json {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("`{field}` is not valid base64 (standard or URL-safe): {reason}")]
    BadBase64 { field: String, reason: String },
    #[error("the envelope has no signatures")]
    NoSignatures,
    #[error("the envelope has {count} signatures; at most {max} are accepted")]
    TooManySignatures { count: usize, max: usize },
    #[error("`payloadType` is empty")]
    EmptyPayloadType,
    #[error("`payloadType` is {found:?}, expected {expected:?}")]
    WrongPayloadType { expected: String, found: String },
    #[error(
        "`signatures[{index}].sig` is {len} bytes; an Ed25519 signature is 64 bytes (is it another algorithm?)"
    )]
    SignatureLength { index: usize, len: usize },
    #[error(
        "signature {index} names key {key_id} but does not verify: the payload, its type or the signature was changed after signing"
    )]
    BadSignature { index: usize, key_id: String },
    #[error(
        "no signature is by the expected key {expected}; the envelope is signed by {}",
        if found.is_empty() { "keys it does not name".to_owned() } else { found.join(", ") }
    )]
    WrongKey {
        expected: String,
        found: Vec<String>,
    },
    #[error("signing failed: {0}")]
    Sign(String),
}

impl From<KeyError> for DsseError {
    fn from(e: KeyError) -> Self {
        DsseError::Sign(e.to_string())
    }
}

/// One signature: the key ID hint and the signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeSignature {
    /// Unauthenticated hint; empty when the envelope did not give one.
    pub keyid: String,
    pub sig: Vec<u8>,
}

/// A parsed DSSE envelope. The payload is **not** trusted until [`Envelope::verify`] says so;
/// use the bytes it returns, never re-read the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload_type: String,
    pub payload: Vec<u8>,
    pub signatures: Vec<EnvelopeSignature>,
}

// Serialised with serde's derive; deserialised by hand (below) because serde's derived
// structs also accept JSON arrays (fields by position), and a DSSE envelope and its
// signatures are objects only. Checking that in the same pass keeps parsing single-pass.
#[derive(Serialize)]
struct WireEnvelope {
    payload: String,
    #[serde(rename = "payloadType")]
    payload_type: String,
    signatures: Vec<WireSignature>,
}

#[derive(Serialize)]
struct WireSignature {
    // Optional in the spec; present (possibly null) in what securesystemslib writes.
    #[serde(skip_serializing_if = "Option::is_none")]
    keyid: Option<String>,
    sig: String,
}

const ENVELOPE_FIELDS: &[&str] = &["payload", "payloadType", "signatures"];
const SIGNATURE_FIELDS: &[&str] = &["keyid", "sig"];

/// Stores a field's value, refusing a second occurrence.
fn set_once<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> Deserialize<'de> for WireEnvelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireEnvelope;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DSSE envelope object with `payload`, `payloadType` and `signatures`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireEnvelope, A::Error> {
                let (mut payload, mut payload_type, mut signatures) = (None, None, None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "payload" => set_once(&mut payload, "payload", &mut map)?,
                        "payloadType" => set_once(&mut payload_type, "payloadType", &mut map)?,
                        "signatures" => set_once(&mut signatures, "signatures", &mut map)?,
                        other => return Err(A::Error::unknown_field(other, ENVELOPE_FIELDS)),
                    }
                }
                Ok(WireEnvelope {
                    payload: payload.ok_or_else(|| A::Error::missing_field("payload"))?,
                    payload_type: payload_type
                        .ok_or_else(|| A::Error::missing_field("payloadType"))?,
                    signatures: signatures.ok_or_else(|| A::Error::missing_field("signatures"))?,
                })
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for WireSignature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireSignature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a signature object with `sig` and optionally `keyid`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireSignature, A::Error> {
                let (mut keyid, mut sig): (Option<Option<String>>, _) = (None, None);
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "keyid" => set_once(&mut keyid, "keyid", &mut map)?,
                        "sig" => set_once(&mut sig, "sig", &mut map)?,
                        other => return Err(A::Error::unknown_field(other, SIGNATURE_FIELDS)),
                    }
                }
                Ok(WireSignature {
                    keyid: keyid.flatten(),
                    sig: sig.ok_or_else(|| A::Error::missing_field("sig"))?,
                })
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// The pre-authentication encoding DSSE signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let ty = payload_type.as_bytes();
    let mut out = Vec::with_capacity(ty.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(ty.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(ty);
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

fn decode_b64(field: &str, text: &str) -> Result<Vec<u8>, DsseError> {
    // The spec: verifiers MUST accept both alphabets. Choose by the alphabet-specific
    // characters so each error message is about the alphabet actually used.
    let engine = if text.contains(['-', '_']) {
        &URL_SAFE_PAD_INDIFFERENT
    } else {
        &STANDARD_PAD_INDIFFERENT
    };
    engine.decode(text).map_err(|e| DsseError::BadBase64 {
        field: field.to_owned(),
        reason: e.to_string(),
    })
}

impl Envelope {
    /// Parses envelope JSON with the strict rules above.
    pub fn parse(bytes: &[u8]) -> Result<Self, DsseError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DsseError::TooLarge {
                size: bytes.len(),
                max: MAX_ENVELOPE_BYTES,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| DsseError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let json_error = |e: serde_json::Error| DsseError::Json {
            message: strip_position(&e.to_string()),
            line: e.line(),
            column: e.column(),
        };
        let wire: WireEnvelope = serde_json::from_str(text).map_err(json_error)?;
        if wire.payload_type.is_empty() {
            return Err(DsseError::EmptyPayloadType);
        }
        if wire.signatures.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        if wire.signatures.len() > MAX_SIGNATURES {
            return Err(DsseError::TooManySignatures {
                count: wire.signatures.len(),
                max: MAX_SIGNATURES,
            });
        }
        let payload = decode_b64("payload", &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(EnvelopeSignature {
                    keyid: s.keyid.unwrap_or_default(),
                    sig: decode_b64(&format!("signatures[{i}].sig"), &s.sig)?,
                })
            })
            .collect::<Result<Vec<_>, DsseError>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Signs `payload` as `payload_type` with every signer (at least one).
    pub fn sign(
        payload_type: &str,
        payload: Vec<u8>,
        signers: &[&dyn Signer],
    ) -> Result<Self, DsseError> {
        if payload_type.is_empty() {
            return Err(DsseError::EmptyPayloadType);
        }
        if signers.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        let message = pae(payload_type, &payload);
        let signatures = signers
            .iter()
            .map(|s| {
                Ok(EnvelopeSignature {
                    keyid: s.key_id(),
                    sig: s.sign(&message)?.to_bytes().to_vec(),
                })
            })
            .collect::<Result<Vec<_>, DsseError>>()?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures,
        })
    }

    /// The envelope as JSON (standard base64 with padding, as securesystemslib writes it).
    pub fn to_json(&self) -> String {
        let wire = WireEnvelope {
            payload: STANDARD.encode(&self.payload),
            payload_type: self.payload_type.clone(),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: Some(s.keyid.clone()),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        // Serialising these plain structs cannot fail.
        serde_json::to_string_pretty(&wire).unwrap_or_default() + "\n"
    }

    /// Checks that `key` signed this envelope. Returns the index of the signature that
    /// verified and the payload bytes, which are the only bytes to trust afterwards.
    pub fn verify(&self, key: &PublicKey) -> Result<(usize, &[u8]), DsseError> {
        self.verify_any(std::slice::from_ref(key))
            .map(|(sig, _, payload)| (sig, payload))
    }

    /// Checks that one of `keys` signed this envelope: (signature index, key index, payload).
    pub fn verify_any(&self, keys: &[PublicKey]) -> Result<(usize, usize, &[u8]), DsseError> {
        let message = pae(&self.payload_type, &self.payload);
        // Key IDs (a SHA-256 each) are only needed to explain a failure or to match a hint.
        let key_ids: Vec<String> = if self.signatures.iter().all(|s| s.keyid.is_empty()) {
            Vec::new()
        } else {
            keys.iter().map(PublicKey::key_id).collect()
        };
        let mut first_bad: Option<(usize, String)> = None;
        for (index, s) in self.signatures.iter().enumerate() {
            let Ok(bytes) = <[u8; 64]>::try_from(s.sig.as_slice()) else {
                // Another algorithm's signature may sit beside ours; only fail on length
                // when nothing verifies (below).
                continue;
            };
            let signature = Signature::from_bytes(&bytes);
            for (k, key) in keys.iter().enumerate() {
                if key.verify(&message, &signature) {
                    return Ok((index, k, &self.payload));
                }
                if first_bad.is_none()
                    && key_ids
                        .get(k)
                        .is_some_and(|id| s.keyid.eq_ignore_ascii_case(id))
                {
                    first_bad = Some((index, key_ids[k].clone()));
                }
            }
        }
        if let Some((index, key_id)) = first_bad {
            return Err(DsseError::BadSignature { index, key_id });
        }
        if let Some((index, s)) = self
            .signatures
            .iter()
            .enumerate()
            .find(|(_, s)| s.sig.len() != 64)
        {
            return Err(DsseError::SignatureLength {
                index,
                len: s.sig.len(),
            });
        }
        Err(DsseError::WrongKey {
            expected: keys
                .iter()
                .map(PublicKey::key_id)
                .collect::<Vec<_>>()
                .join(" or "),
            found: self
                .signatures
                .iter()
                .filter(|s| !s.keyid.is_empty())
                .map(|s| s.keyid.clone())
                .collect(),
        })
    }

    /// Fails unless the payload type is `expected`.
    pub fn expect_payload_type(&self, expected: &str) -> Result<(), DsseError> {
        if self.payload_type == expected {
            Ok(())
        } else {
            Err(DsseError::WrongPayloadType {
                expected: expected.to_owned(),
                found: self.payload_type.clone(),
            })
        }
    }
}

/// serde_json appends " at line L column C"; we report those as fields.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_spec_vector() {
        // secure-systems-lab/dsse protocol.md §Test Vectors (trust-and-registry.md §1.7).
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn both_base64_alphabets_and_missing_padding_are_accepted() {
        assert_eq!(decode_b64("f", "-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_b64("f", "+/8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_b64("f", "+_8=").is_err());
    }
}
