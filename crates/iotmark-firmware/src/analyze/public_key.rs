//! The public half of a key found in the image, as the digest a network peer would show:
//! the SHA-256 of the SSH public key blob (what `ssh-keygen -l` and a client's host key check
//! hash) and of the X.509 SubjectPublicKeyInfo (what a TLS certificate carries). With these
//! the live probe can tell whether a running device presents a key baked into its firmware,
//! which every unit of that firmware then shares.
//!
//! The public half is rebuilt from the private key's own fields (RSA n and e, the EC public
//! point a SEC1 key carries, the halves of a dropbear or OpenSSH key); nothing is derived by
//! computation, so a key whose file lacks its public half (a bare Ed25519 PKCS#8 seed) gives
//! no digest.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::keys::{OID_EC, OID_RSA, items, seq, string, tlv};
use crate::reader::{ByteOrder, Reader};

/// How a public key is written where it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyForm {
    /// An SSH public key blob (RFC 4253 section 6.6).
    Ssh,
    /// A DER SubjectPublicKeyInfo (RFC 5280 section 4.1).
    Spki,
}

/// One public key, by the SHA-256 of its form, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyDigest {
    pub form: KeyForm,
    pub sha256: String,
}

impl PublicKeyDigest {
    pub fn of(form: KeyForm, bytes: &[u8]) -> Self {
        Self {
            form,
            sha256: sha2::Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }
}

/// A key found in an image, where it was found, and its public half.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageKey {
    /// The filesystem it is in (as the scan labels them) and its path there.
    pub filesystem: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The finding that reported it (`firmware.keys.shared-host-key` …).
    pub check: String,
    #[serde(flatten)]
    pub key: PublicKeyDigest,
}

/// The keys of one image: what `iotmark scan --out DIR` writes as `image-*.keys.json` and
/// `iotmark probe --image-evidence DIR` compares with what a device presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageKeys {
    pub image_sha256: String,
    pub keys: Vec<ImageKey>,
}

impl ImageKeys {
    /// Every key the findings carry, each (file, form, digest) once.
    pub fn of(image_sha256: &str, findings: &[(String, super::Finding)]) -> Self {
        let mut keys: Vec<ImageKey> = Vec::new();
        for (filesystem, f) in findings {
            for k in &f.public_keys {
                if !keys
                    .iter()
                    .any(|seen| seen.file == f.file && seen.key == *k)
                {
                    keys.push(ImageKey {
                        filesystem: filesystem.clone(),
                        file: f.file.clone(),
                        line: f.line,
                        check: f.check.to_owned(),
                        key: k.clone(),
                    });
                }
            }
        }
        Self {
            image_sha256: image_sha256.to_owned(),
            keys,
        }
    }

    /// The keys found with this digest in this form.
    pub fn matching(&self, form: KeyForm, sha256: &str) -> impl Iterator<Item = &ImageKey> {
        self.keys
            .iter()
            .filter(move |k| k.key.form == form && k.key.sha256.eq_ignore_ascii_case(sha256))
    }
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An unsigned big-endian integer as an SSH mpint: no leading zeros, one added when the top
/// bit is set.
fn put_mpint(out: &mut Vec<u8>, unsigned: &[u8]) {
    let start = unsigned
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(unsigned.len());
    let digits = &unsigned[start..];
    let mut v = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(digits);
    put_string(out, &v);
}

/// A DER element.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER INTEGER from an unsigned big-endian value.
fn der_uint(unsigned: &[u8]) -> Vec<u8> {
    let start = unsigned
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(unsigned.len().saturating_sub(1));
    let digits = &unsigned[start..];
    let mut v = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        v.push(0);
    }
    v.extend_from_slice(digits);
    der(0x02, &v)
}

/// A DER INTEGER's content as an unsigned value (its sign byte dropped).
fn unsigned(int: &[u8]) -> &[u8] {
    match int {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => int,
    }
}

/// The digests of an RSA public key, in both forms.
fn rsa(n: &[u8], e: &[u8]) -> Vec<PublicKeyDigest> {
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_mpint(&mut blob, e);
    put_mpint(&mut blob, n);
    let mut alg = der(0x06, OID_RSA);
    alg.extend_from_slice(&[0x05, 0x00]);
    let mut public = der_uint(n);
    public.extend_from_slice(&der_uint(e));
    let mut bits = vec![0];
    bits.extend_from_slice(&der(0x30, &public));
    let mut spki = der(0x30, &alg);
    spki.extend_from_slice(&der(0x03, &bits));
    vec![
        PublicKeyDigest::of(KeyForm::Ssh, &blob),
        PublicKeyDigest::of(KeyForm::Spki, &der(0x30, &spki)),
    ]
}

/// The SPKI digest of an EC key on the curve `curve_oid` with the public point in `point`
/// (a BIT STRING's content, its unused-bits byte first).
fn ec(curve_oid: &[u8], point: &[u8]) -> Vec<PublicKeyDigest> {
    let mut alg = der(0x06, OID_EC);
    alg.extend_from_slice(&der(0x06, curve_oid));
    let mut spki = der(0x30, &alg);
    spki.extend_from_slice(&der(0x03, point));
    let mut out = vec![PublicKeyDigest::of(KeyForm::Spki, &der(0x30, &spki))];
    // The SSH form names the curve; only the three SSH defines.
    let name: Option<&[u8]> = match curve_oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => Some(b"nistp256"),
        [0x2b, 0x81, 0x04, 0x00, 0x22] => Some(b"nistp384"),
        [0x2b, 0x81, 0x04, 0x00, 0x23] => Some(b"nistp521"),
        _ => None,
    };
    if let (Some(name), Some(q)) = (name, point.get(1..)) {
        let mut blob = Vec::new();
        put_string(&mut blob, &[b"ecdsa-sha2-".as_slice(), name].concat());
        put_string(&mut blob, name);
        put_string(&mut blob, q);
        out.push(PublicKeyDigest::of(KeyForm::Ssh, &blob));
    }
    out
}

/// The public key of a DER private key (PKCS#8, PKCS#1 RSA, SEC1 EC).
pub fn of_der_private_key(der_key: &[u8]) -> Vec<PublicKeyDigest> {
    let Some(s) = seq(der_key) else {
        return Vec::new();
    };
    match s.as_slice() {
        // PKCS#8: the algorithm says what the inner key is.
        [(0x02, v), (0x30, alg), (0x04, key), ..] if v.len() == 1 && v[0] <= 1 => {
            let Some(a) = items(alg) else {
                return Vec::new();
            };
            match a.as_slice() {
                [(0x06, oid), ..] if *oid == OID_RSA => of_der_private_key(key),
                [(0x06, oid), (0x06, curve), ..] if *oid == OID_EC => sec1(key, Some(curve)),
                _ => Vec::new(),
            }
        }
        [(0x02, [1]), (0x04, _), ..] => sec1(der_key, None),
        // PKCS#1: version, n, e, d, p, q, dp, dq, qinv.
        [(0x02, _), (0x02, n), (0x02, e), rest @ ..] if rest.len() == 6 => {
            rsa(unsigned(n), unsigned(e))
        }
        _ => Vec::new(),
    }
}

/// A SEC1 ECPrivateKey: its [1] public point, on its [0] curve (or the PKCS#8 one).
fn sec1(key: &[u8], curve: Option<&[u8]>) -> Vec<PublicKeyDigest> {
    let Some(s) = seq(key) else {
        return Vec::new();
    };
    let tagged = |tag: u8| {
        s.iter()
            .find(|(t, _)| *t == tag)
            .and_then(|(_, c)| tlv(c))
            .map(|(t, c, _)| (t, c))
    };
    let curve = curve.or_else(|| tagged(0xa0).filter(|(t, _)| *t == 0x06).map(|(_, c)| c));
    match (curve, tagged(0xa1)) {
        (Some(curve), Some((0x03, point))) => ec(curve, point),
        _ => Vec::new(),
    }
}

/// The public key of an SSH public key blob as it stands (OpenSSH private keys carry it).
pub fn of_ssh_blob(blob: &[u8]) -> Vec<PublicKeyDigest> {
    vec![PublicKeyDigest::of(KeyForm::Ssh, blob)]
}

/// The public key of an `openssh-key-v1` private key: the first public blob of its header.
pub fn of_openssh_key(der_key: &[u8]) -> Vec<PublicKeyDigest> {
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    let Some(body) = der_key.strip_prefix(MAGIC) else {
        return Vec::new();
    };
    let mut w = Reader::new(body, MAGIC.len());
    let w = &mut w;
    let blob = (|| {
        for _ in 0..3 {
            string(w)?; // cipher, kdf, kdf options
        }
        (w.u32(ByteOrder::Big, "key count").ok()? > 0).then_some(())?;
        string(w)
    })();
    blob.map(of_ssh_blob).unwrap_or_default()
}

/// The public key of a dropbear private key file: its public fields, written as a blob.
pub fn of_dropbear_key(data: &[u8]) -> Vec<PublicKeyDigest> {
    let mut w = Reader::new(data, 0);
    let w = &mut w;
    let blob = (|| {
        let kind = string(w)?;
        let mut blob = Vec::new();
        put_string(&mut blob, kind);
        // The public fields that come first: RSA e, n (then d, p, q); DSA p, q, g, y (then
        // x); ECDSA curve, Q (then d).
        let public_fields = match kind {
            b"ssh-rsa" => 2,
            b"ssh-dss" => 4,
            b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => 2,
            // One string: the 32-byte seed, then the 32-byte public key.
            b"ssh-ed25519" => {
                let both = string(w)?;
                (both.len() == 64).then_some(())?;
                put_string(&mut blob, both.get(32..)?);
                0
            }
            _ => return None,
        };
        for _ in 0..public_fields {
            let field = string(w)?;
            put_string(&mut blob, field);
        }
        Some(blob)
    })();
    blob.map(|b| of_ssh_blob(&b)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_minimally_and_unsigned() {
        let mut out = Vec::new();
        put_mpint(&mut out, &[0x00, 0x80, 0x01]);
        assert_eq!(out, [0, 0, 0, 3, 0x00, 0x80, 0x01]);
        assert_eq!(der_uint(&[0x00, 0x00, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(der_uint(&[0xff]), [0x02, 0x02, 0x00, 0xff]);
        assert_eq!(der(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert!(of_der_private_key(b"\x30\x03\x02\x01").is_empty());
        assert!(of_dropbear_key(b"\0\0\0\x0bssh-ed25519\0\0\0\x05short").is_empty());
    }
}
