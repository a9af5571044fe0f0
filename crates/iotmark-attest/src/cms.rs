//! Detached CMS signatures (RFC 5652 SignedData), as RFC 8520 §13 asks of a MUD file: the
//! manufacturer signs the file's exact bytes with the key of its X.509 certificate, and a
//! MUD manager checks the signature against the certificate chain before it trusts the file.
//!
//! The signer's key is ECDSA P-256 or RSA (SHA-256 either way): what MUD managers and
//! OpenSSL verify. Ed25519, which iotmark's attestation keys use, is refused with a hint:
//! CMS with EdDSA (RFC 8419) is not verified by OpenSSL 3.0's `cms` command.
//!
//! The signature carries the signed attributes every verifier expects (content type,
//! signing time, message digest), identifies the signer by issuer and serial number, and
//! includes the certificates given (the signer's first, then any intermediates).

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair,
};
use sha2::{Digest as _, Sha256};

/// Why a detached signature could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CmsError {
    #[error("{what}: no PEM block `{label}` found")]
    NoPem { what: String, label: &'static str },
    #[error("{what}: the PEM block is not valid base64: {reason}")]
    Base64 { what: String, reason: String },
    #[error("{what}: not an X.509 certificate: {reason} at byte {offset}")]
    Certificate {
        what: String,
        reason: &'static str,
        offset: usize,
    },
    #[error("{what}: not an ECDSA P-256 or RSA private key in PKCS#8 (or PKCS#1 for RSA){hint}")]
    Key { what: String, hint: &'static str },
    #[error("the private key does not belong to the signer certificate (the first in {what})")]
    Mismatch { what: String },
    #[error("signing failed: {0}")]
    Sign(String),
}

// Object identifiers, DER-encoded (contents octets only).
const ID_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const ID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const ID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const ID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const ID_SIGNING_TIME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05];
const ID_SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
const ID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ID_RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const NULL: u8 = 0x05;
const OID: u8 = 0x06;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// One DER element: tag, definite length, contents.
fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    der(SEQUENCE, &parts.concat())
}

/// A DER `SET OF`: its elements sorted by their encodings (X.690 §11.6).
fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    der(SET, &elements.concat())
}

fn algorithm(oid: &[u8], null_parameters: bool) -> Vec<u8> {
    if null_parameters {
        seq(&[&der(OID, oid), &der(NULL, &[])])
    } else {
        seq(&[&der(OID, oid)])
    }
}

fn attribute(oid: &[u8], value: Vec<u8>) -> Vec<u8> {
    seq(&[&der(OID, oid), &set_of(vec![value])])
}

/// The signing time as RFC 5652 §11.3 wants it: UTCTime through 2049, GeneralizedTime after.
fn signing_time(at: jiff::Timestamp) -> Vec<u8> {
    let utc = at.to_zoned(jiff::tz::TimeZone::UTC);
    if utc.year() < 2050 {
        der(
            UTC_TIME,
            utc.strftime("%y%m%d%H%M%SZ").to_string().as_bytes(),
        )
    } else {
        der(
            GENERALIZED_TIME,
            utc.strftime("%Y%m%d%H%M%SZ").to_string().as_bytes(),
        )
    }
}

/// A DER element read from `data` at `offset`: (tag, contents range, end).
fn read(
    data: &[u8],
    offset: usize,
    what: &str,
) -> Result<(u8, std::ops::Range<usize>, usize), CmsError> {
    let bad = |reason, offset| CmsError::Certificate {
        what: what.to_owned(),
        reason,
        offset,
    };
    let tag = *data.get(offset).ok_or(bad("truncated", offset))?;
    let first = *data.get(offset + 1).ok_or(bad("truncated", offset + 1))?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad("unsupported length", offset + 1));
        }
        let bytes = data
            .get(offset + 2..offset + 2 + n)
            .ok_or(bad("truncated", offset + 2))?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, 2 + n)
    };
    let start = offset + header;
    let end = start
        .checked_add(len)
        .ok_or(bad("length overflow", offset))?;
    if end > data.len() {
        return Err(bad("element runs past the end", offset));
    }
    Ok((tag, start..end, end))
}

/// What a signer needs from its certificate: the issuer and serial number (raw DER), and
/// the public key bits.
#[derive(Debug, PartialEq, Eq)]
struct CertificateParts<'a> {
    serial: &'a [u8],
    issuer: &'a [u8],
    public_key: &'a [u8],
}

/// Reads the parts of an X.509 certificate (RFC 5280 §4.1) a signer identifies itself by.
fn certificate_parts<'a>(cert: &'a [u8], what: &str) -> Result<CertificateParts<'a>, CmsError> {
    let bad = |reason, offset| CmsError::Certificate {
        what: what.to_owned(),
        reason,
        offset,
    };
    let expect = |tag: u8, want: u8, reason, offset| {
        if tag == want {
            Ok(())
        } else {
            Err(bad(reason, offset))
        }
    };
    let (tag, outer, _) = read(cert, 0, what)?;
    expect(tag, SEQUENCE, "the certificate is not a SEQUENCE", 0)?;
    let (tag, tbs, _) = read(cert, outer.start, what)?;
    expect(
        tag,
        SEQUENCE,
        "tbsCertificate is not a SEQUENCE",
        outer.start,
    )?;
    let mut at = tbs.start;
    // [0] EXPLICIT version, present from v2 on.
    let (tag, _, end) = read(cert, at, what)?;
    if tag == 0xa0 {
        at = end;
    }
    let (tag, _, end) = read(cert, at, what)?;
    expect(tag, INTEGER, "serialNumber is not an INTEGER", at)?;
    let serial = &cert[at..end];
    at = end;
    let (_, _, end) = read(cert, at, what)?; // signature algorithm
    at = end;
    let (tag, _, end) = read(cert, at, what)?;
    expect(tag, SEQUENCE, "issuer is not a Name", at)?;
    let issuer = &cert[at..end];
    at = end;
    let (_, _, end) = read(cert, at, what)?; // validity
    at = end;
    let (_, _, end) = read(cert, at, what)?; // subject
    at = end;
    let (tag, spki, _) = read(cert, at, what)?;
    expect(tag, SEQUENCE, "subjectPublicKeyInfo is not a SEQUENCE", at)?;
    let (_, _, end) = read(cert, spki.start, what)?; // algorithm
    let (tag, bits, _) = read(cert, end, what)?;
    expect(tag, BIT_STRING, "subjectPublicKey is not a BIT STRING", end)?;
    let public_key = cert
        .get(bits.start + 1..bits.end)
        .ok_or(bad("empty subjectPublicKey", bits.start))?;
    Ok(CertificateParts {
        serial,
        issuer,
        public_key,
    })
}

/// The DER contents of every PEM block labelled `label`, in order.
fn pem_blocks(text: &str, label: &'static str, what: &str) -> Result<Vec<Vec<u8>>, CmsError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let Some(stop) = body.find(&end) else { break };
        let b64: String = body[..stop].split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| CmsError::Base64 {
                what: what.to_owned(),
                reason: e.to_string(),
            })?;
        out.push(bytes);
        rest = &body[stop + end.len()..];
    }
    if out.is_empty() {
        return Err(CmsError::NoPem {
            what: what.to_owned(),
            label,
        });
    }
    Ok(out)
}

enum SigningKey {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

impl SigningKey {
    fn parse(pem: &str, what: &str, rng: &SystemRandom) -> Result<Self, CmsError> {
        let refuse = |hint| CmsError::Key {
            what: what.to_owned(),
            hint,
        };
        if let Ok(blocks) = pem_blocks(pem, "PRIVATE KEY", what) {
            let der = &blocks[0];
            if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der, rng) {
                return Ok(SigningKey::Ecdsa(k));
            }
            if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
                return Ok(SigningKey::Rsa(k));
            }
            // id-Ed25519 (1.3.101.112) in the PrivateKeyInfo's algorithm.
            if der.windows(5).any(|w| w == [0x06, 0x03, 0x2b, 0x65, 0x70]) {
                return Err(refuse(
                    "; this is an Ed25519 key, which OpenSSL 3.0 cannot verify in CMS: use `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`",
                ));
            }
            return Err(refuse(""));
        }
        if let Ok(blocks) = pem_blocks(pem, "RSA PRIVATE KEY", what) {
            return RsaKeyPair::from_der(&blocks[0])
                .map(SigningKey::Rsa)
                .map_err(|_| refuse(""));
        }
        if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
            return Err(refuse(
                "; this is a SEC1 EC key: convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`",
            ));
        }
        Err(refuse(""))
    }

    fn public_key(&self) -> &[u8] {
        match self {
            SigningKey::Ecdsa(k) => k.public_key().as_ref(),
            SigningKey::Rsa(k) => k.public_key().as_ref(),
        }
    }

    fn algorithm(&self) -> Vec<u8> {
        match self {
            // RFC 5758 §3.2: ecdsa-with-SHA256 takes no parameters.
            SigningKey::Ecdsa(_) => algorithm(ID_ECDSA_SHA256, false),
            // RFC 4055 §5: sha256WithRSAEncryption takes NULL.
            SigningKey::Rsa(_) => algorithm(ID_RSA_SHA256, true),
        }
    }

    fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Vec<u8>, CmsError> {
        match self {
            SigningKey::Ecdsa(k) => k
                .sign(rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|e| CmsError::Sign(e.to_string())),
            SigningKey::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&RSA_PKCS1_SHA256, rng, message, &mut sig)
                    .map_err(|e| CmsError::Sign(e.to_string()))?;
                Ok(sig)
            }
        }
    }
}

/// A DER-encoded, detached CMS SignedData over `content`, by the key in `key_pem` (PKCS#8;
/// or PKCS#1 for RSA) for the certificate chain in `certs_pem` (the signer's certificate
/// first). `key_what` and `certs_what` name the inputs in errors.
pub fn sign_detached(
    content: &[u8],
    key_pem: &str,
    key_what: &str,
    certs_pem: &str,
    certs_what: &str,
    at: jiff::Timestamp,
) -> Result<Vec<u8>, CmsError> {
    let rng = SystemRandom::new();
    let key = SigningKey::parse(key_pem, key_what, &rng)?;
    let certs = pem_blocks(certs_pem, "CERTIFICATE", certs_what)?;
    let signer = certificate_parts(&certs[0], certs_what)?;
    if signer.public_key != key.public_key() {
        return Err(CmsError::Mismatch {
            what: certs_what.to_owned(),
        });
    }
    for cert in &certs[1..] {
        certificate_parts(cert, certs_what)?;
    }
    let digest = Sha256::digest(content);
    let attributes = vec![
        attribute(ID_CONTENT_TYPE, der(OID, ID_DATA)),
        attribute(ID_SIGNING_TIME, signing_time(at)),
        attribute(ID_MESSAGE_DIGEST, der(OCTET_STRING, &digest)),
    ];
    // The signature covers the attributes as a SET (RFC 5652 §5.4); the SignerInfo carries
    // the same bytes under the implicit tag [0].
    let signed_set = set_of(attributes);
    let signature = key.sign(&rng, &signed_set)?;
    let mut signed_attrs = signed_set.clone();
    signed_attrs[0] = 0xa0;
    let sha256 = algorithm(ID_SHA256, false);
    let signer_info = seq(&[
        &der(INTEGER, &[1]),
        &seq(&[signer.issuer, signer.serial]),
        &sha256,
        &signed_attrs,
        &key.algorithm(),
        &der(OCTET_STRING, &signature),
    ]);
    let mut certificates = set_of(certs.clone());
    certificates[0] = 0xa0;
    let signed_data = seq(&[
        &der(INTEGER, &[1]),
        &set_of(vec![sha256.clone()]),
        // Detached: the content type only, no eContent.
        &seq(&[&der(OID, ID_DATA)]),
        &certificates,
        &set_of(vec![signer_info]),
    ]);
    Ok(seq(&[&der(OID, ID_SIGNED_DATA), &der(0xa0, &signed_data)]))
}

/// The fuzz entry point for the certificate reader: any bytes as a DER certificate, and as
/// PEM text holding certificates. Whether any certificate was read, so the seed corpus can
/// be checked to be genuine.
#[doc(hidden)]
pub fn fuzz_certificate(data: &[u8]) -> bool {
    let mut read = certificate_parts(data, "fuzz").is_ok();
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(blocks) = pem_blocks(text, "CERTIFICATE", "fuzz")
    {
        for der in blocks {
            read |= certificate_parts(&der, "fuzz").is_ok();
        }
    }
    read
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn lengths_are_definite_and_minimal() {
        assert_eq!(der(OCTET_STRING, &[7; 3])[..2], [0x04, 3]);
        assert_eq!(der(OCTET_STRING, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(der(OCTET_STRING, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn a_truncated_or_wrong_certificate_is_named_with_its_offset() {
        let err = certificate_parts(&[0x30, 0x05, 0x02], "cert.pem").unwrap_err();
        assert!(err.to_string().contains("cert.pem"), "{err}");
        assert!(err.to_string().contains("byte"), "{err}");
        let err = certificate_parts(&[0x02, 0x01, 0x01], "cert.pem").unwrap_err();
        assert!(err.to_string().contains("not a SEQUENCE"), "{err}");
    }

    #[test]
    fn signing_times_switch_to_generalized_time_in_2050() {
        let t: jiff::Timestamp = "2049-12-31T23:59:59Z".parse().unwrap();
        assert_eq!(signing_time(t)[0], UTC_TIME);
        let t: jiff::Timestamp = "2050-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(signing_time(t)[0], GENERALIZED_TIME);
    }
}
