//! Key material in the image: private keys (PEM of every kind, DER PKCS#8/PKCS#1/SEC1,
//! OpenSSH `openssh-key-v1`, dropbear's binary host keys) and certificates (PEM and DER).
//!
//! A private key in an image is the same on every unit. Certificates are reported with
//! subject, issuer, key and expiry; an expired one fails `firmware.certs.expired`, and RSA
//! or DSA keys under 2048 bits, EC keys under 224 bits and MD5/SHA-1 certificate signatures
//! fail `firmware.keys.weak`.
//!
//! The ASN.1 reading is our own and small: definite-length DER only, single-byte tags,
//! every length checked against the bytes that are there.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::public_key::{self, KeyForm, PublicKeyDigest};
use super::{Finding, Severity, fail, file_name, pass};
use crate::reader::{ByteOrder, Reader};
use crate::tree::Tree;

/// Files larger than this are not searched for PEM blocks or parsed as DER/dropbear keys.
const MAX_KEY_FILE: usize = 4 << 20;
/// A DER key or certificate file is small; larger files starting with a SEQUENCE are not tried.
const MAX_DER_FILE: usize = 64 << 10;
/// PEM blocks read per file: a CA bundle has a few hundred.
const MAX_PEM_BLOCKS: usize = 1000;
/// Most `-----BEGIN ` markers examined in one file, blocks or not: a file of markers with no
/// END would otherwise cost a search of the rest of the file for each.
const MAX_PEM_MARKERS: usize = 4 * MAX_PEM_BLOCKS;
/// Longest PEM body looked for: a 16384-bit RSA key is 12 KiB of base64, a long certificate
/// chain is one block per certificate.
const MAX_PEM_BODY: usize = 256 * 1024;

pub(super) fn check(tree: &Tree, now: i64, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let name = file_name(path);
        if data.len() > MAX_KEY_FILE {
            continue;
        }
        if name.starts_with("dropbear_") && name.ends_with("_host_key")
            || name.starts_with("ssh_host_") && name.ends_with("_key")
        {
            let what = host_key_info(data)
                .map(|k| format!(" ({})", k.describe()))
                .unwrap_or_default();
            out.push(Finding {
                public_keys: host_key_digests(data),
                ..fail(
                    "firmware.keys.shared-host-key",
                    Severity::High,
                    &p,
                    None,
                    format!(
                        "SSH host key {name}{what} is baked into the image, so every unit shares it"
                    ),
                )
            });
            if let Some(k) = host_key_info(data) {
                weak_key(&k, &p, None, "host key", out);
            }
            continue;
        }
        if let Some(k) = dropbear_key(data) {
            let check = if p.starts_with("etc/dropbear/") {
                "firmware.keys.shared-host-key"
            } else {
                "firmware.keys.private-key"
            };
            out.push(Finding {
                public_keys: public_key::of_dropbear_key(data),
                ..fail(
                    check,
                    Severity::High,
                    &p,
                    None,
                    format!(
                        "dropbear private key ({}) in the image: every unit has the same key",
                        k.describe()
                    ),
                )
            });
            weak_key(&k, &p, None, "private key", out);
            continue;
        }
        let trust_store = is_trust_store(&p);
        for block in pem_blocks(data) {
            item(
                &block.label,
                &block.der,
                &p,
                Some(block.line),
                trust_store,
                now,
                out,
            );
        }
        if data.len() <= MAX_DER_FILE
            && data.first() == Some(&0x30)
            && let Some((_, _, rest)) = tlv(data)
            && rest.is_empty()
        {
            item("DER", data, &p, None, trust_store, now, out);
        }
    }
}

/// Trust anchors (CA bundles) are not the device's own certificates: their expiry and
/// algorithms are the distribution's business, and reporting each would be noise.
fn is_trust_store(p: &str) -> bool {
    [
        "etc/ssl/certs/",
        "usr/share/ca-certificates/",
        "etc/pki/",
        "usr/lib/ssl/certs/",
        "usr/share/pki/",
    ]
    .iter()
    .any(|d| p.starts_with(d))
        || matches!(
            p.rsplit('/').next(),
            Some("ca-certificates.crt" | "ca-bundle.crt" | "ca-bundle.pem" | "cacert.pem")
        )
}

/// One PEM block or DER file: a private key, a certificate, or neither.
fn item(
    label: &str,
    der: &[u8],
    file: &str,
    line: Option<usize>,
    trust_store: bool,
    now: i64,
    out: &mut Vec<Finding>,
) {
    let is_key_label = label.contains("PRIVATE KEY");
    if (label == "CERTIFICATE"
        || label == "X509 CERTIFICATE"
        || label == "TRUSTED CERTIFICATE"
        || label == "DER")
        && let Some(cert) = certificate(der)
    {
        if !trust_store {
            report_cert(&cert, file, line, now, out);
        }
        return;
    }
    let key = match label {
        "OPENSSH PRIVATE KEY" => openssh_key(der),
        "ENCRYPTED PRIVATE KEY" => Some(Key::new("encrypted PKCS#8", None, true)),
        "RSA PRIVATE KEY" | "DSA PRIVATE KEY" | "EC PRIVATE KEY" | "PRIVATE KEY" | "DER" => {
            der_private_key(der)
        }
        _ => None,
    };
    let key = match key {
        Some(k) => k,
        // A PEM label says private key but the body is not one we read (legacy encryption
        // with Proc-Type headers, PuTTY, vendor formats): still a key.
        None if is_key_label => Key::new(label.trim_end_matches(" PRIVATE KEY"), None, false),
        None => return,
    };
    let kind = if label == "DER" {
        format!("DER private key ({})", key.describe())
    } else {
        format!("{label} ({})", key.describe())
    };
    let public_keys = if label == "OPENSSH PRIVATE KEY" {
        public_key::of_openssh_key(der)
    } else {
        public_key::of_der_private_key(der)
    };
    out.push(Finding {
        public_keys,
        ..fail(
            "firmware.keys.private-key",
            Severity::High,
            file,
            line,
            format!("{kind} in the image: every unit has the same key"),
        )
    });
    weak_key(&key, file, line, "private key", out);
}

fn weak_key(key: &Key, file: &str, line: Option<usize>, what: &str, out: &mut Vec<Finding>) {
    if let Some(why) = key.weakness() {
        out.push(fail(
            "firmware.keys.weak",
            Severity::Medium,
            file,
            line,
            format!("{what} {}: {why}", key.describe()),
        ));
    }
}

/// A public or private key: its algorithm and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub alg: String,
    pub bits: Option<u32>,
    pub encrypted: bool,
}

impl Key {
    fn new(alg: &str, bits: Option<u32>, encrypted: bool) -> Self {
        Self {
            alg: alg.to_owned(),
            bits,
            encrypted,
        }
    }

    /// `RSA 2048-bit`, `EC P-256 256-bit, encrypted`.
    pub fn describe(&self) -> String {
        let mut s = self.alg.clone();
        if let Some(b) = self.bits {
            s.push_str(&format!(" {b}-bit"));
        }
        if self.encrypted {
            s.push_str(", encrypted");
        }
        s
    }

    /// Why the key is too weak, if it is.
    pub fn weakness(&self) -> Option<String> {
        let bits = self.bits?;
        match self.alg.as_str() {
            "RSA" if bits < 2048 => Some("RSA keys under 2048 bits are breakable".to_owned()),
            "DSA" => Some("DSA is deprecated (FIPS 186-5) and limited to weak sizes".to_owned()),
            a if a.starts_with("EC") && bits < 224 => {
                Some("elliptic curves under 224 bits are too weak".to_owned())
            }
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------
// PEM

struct PemBlock {
    label: String,
    der: Vec<u8>,
    line: usize,
}

/// Every `-----BEGIN X-----` … `-----END X-----` block, in text or embedded in a binary.
fn pem_blocks(data: &[u8]) -> Vec<PemBlock> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut out = Vec::new();
    let mut at = 0;
    // Lines are counted as the search moves on, never again from the start.
    let (mut counted_to, mut line) = (0, 1);
    let mut markers = 0;
    while out.len() < MAX_PEM_BLOCKS && markers < MAX_PEM_MARKERS {
        let Some(start) = find(data.get(at..).unwrap_or_default(), BEGIN).map(|i| i + at) else {
            break;
        };
        markers += 1;
        let after = start + BEGIN.len();
        let rest = data.get(after..).unwrap_or_default();
        let Some(label_end) = find(rest, b"-----") else {
            break;
        };
        let label = String::from_utf8_lossy(rest.get(..label_end).unwrap_or_default()).into_owned();
        at = after + label_end + 5;
        if label.len() > 64 || label.contains('\n') {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let body_all = data
            .get(at..at.saturating_add(MAX_PEM_BODY).min(data.len()))
            .unwrap_or_default();
        let Some(body_len) = find(body_all, end_marker.as_bytes()) else {
            continue;
        };
        let body = body_all.get(..body_len).unwrap_or_default();
        // Legacy headers (`Proc-Type: 4,ENCRYPTED`) are lines with a colon.
        let encrypted_header = find(body, b"ENCRYPTED").is_some();
        let b64: Vec<u8> = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.contains(&b':'))
            .flat_map(|l| l.iter().copied().filter(|b| !b.is_ascii_whitespace()))
            .collect();
        // Programs that write PEM (dropbearconvert, openssl) carry both markers as format
        // strings with code and other strings between them: only a body of base64 text,
        // with optional `Name: value` header lines, is a PEM block.
        let pem_text = body
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
        let base64_only = b64
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if !pem_text || !base64_only || (b64.is_empty() && !encrypted_header) {
            at += body_len + end_marker.len();
            continue;
        }
        line += data
            .get(counted_to..start)
            .map_or(0, |d| memchr::memchr_iter(b'\n', d).count());
        counted_to = start;
        at += body_len + end_marker.len();
        let der = if encrypted_header {
            Vec::new()
        } else {
            B64.decode(&b64).unwrap_or_default()
        };
        out.push(PemBlock { label, der, line });
    }
    out
}

/// Where `needle` first occurs in `hay`. Every file of an image is searched for the PEM
/// markers, so this is memchr's vectorised search, not a byte-by-byte scan.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

// ---------------------------------------------------------------------------------------
// DER

/// Splits one TLV off the front: (tag, content, rest). Single-byte tags and definite
/// lengths of up to four bytes only, which is all DER keys and certificates use.
pub(super) fn tlv(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *data.first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let first = *data.get(1)?;
    let (len, hdr) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in data.get(2..2 + n)? {
            len = len.checked_mul(256)?.checked_add(usize::from(*b))?;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((tag, data.get(hdr..end)?, data.get(end..)?))
}

/// The elements of a constructed value.
pub(super) fn items(mut content: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (t, c, rest) = tlv(content)?;
        out.push((t, c));
        content = rest;
        if out.len() > 4096 {
            return None;
        }
    }
    Some(out)
}

pub(super) fn seq(data: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let (tag, content, _) = tlv(data)?;
    if tag != 0x30 {
        return None;
    }
    items(content)
}

/// Bits in an unsigned big-endian integer (leading zero bytes ignored).
fn int_bits(bytes: &[u8]) -> u32 {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => bytes.get(i..).unwrap_or_default(),
        None => return 0,
    };
    let lead = trimmed.first().map_or(0, |b| b.leading_zeros());
    u32::try_from(trimmed.len())
        .unwrap_or(u32::MAX / 8)
        .saturating_mul(8)
        .saturating_sub(lead)
}

pub(super) const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
pub(super) const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];
const OID_X448: &[u8] = &[0x2b, 0x65, 0x6f];

fn curve(oid: &[u8]) -> (&'static str, Option<u32>) {
    match oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07] => ("EC P-256", Some(256)),
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01] => ("EC P-192", Some(192)),
        [0x2b, 0x81, 0x04, 0x00, 0x21] => ("EC P-224", Some(224)),
        [0x2b, 0x81, 0x04, 0x00, 0x22] => ("EC P-384", Some(384)),
        [0x2b, 0x81, 0x04, 0x00, 0x23] => ("EC P-521", Some(521)),
        [0x2b, 0x81, 0x04, 0x00, 0x0a] => ("EC secp256k1", Some(256)),
        [0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07] => ("EC brainpoolP256r1", Some(256)),
        _ => ("EC", None),
    }
}

/// A public key from an AlgorithmIdentifier and its key bytes (SubjectPublicKeyInfo's
/// BIT STRING content, or PKCS#8's privateKey OCTET STRING content when `private`).
fn key_from_alg(alg: &[u8], key: &[u8], private: bool) -> Option<Key> {
    let a = items(alg)?;
    let (oid_tag, oid) = *a.first()?;
    if oid_tag != 0x06 {
        return None;
    }
    let k = if oid == OID_RSA || oid == OID_RSA_PSS {
        let body = if private { key } else { key.get(1..)? };
        let ints = seq(body)?;
        // RSAPublicKey {n, e}; RSAPrivateKey {version, n, e, d, ...}.
        let n = if private { ints.get(1)? } else { ints.first()? };
        Key::new("RSA", Some(int_bits(n.1)), false)
    } else if oid == OID_EC {
        let (tag, params) = *a.get(1)?;
        if tag == 0x06 {
            let (name, bits) = curve(params);
            Key::new(name, bits, false)
        } else {
            Key::new("EC", None, false)
        }
    } else if oid == OID_DSA {
        let p = a
            .get(1)
            .and_then(|(_, params)| items(params)?.first().map(|i| int_bits(i.1)));
        Key::new("DSA", p, false)
    } else if oid == OID_ED25519 {
        Key::new("Ed25519", Some(256), false)
    } else if oid == OID_ED448 {
        Key::new("Ed448", Some(456), false)
    } else if oid == OID_X25519 {
        Key::new("X25519", Some(256), false)
    } else if oid == OID_X448 {
        Key::new("X448", Some(448), false)
    } else {
        Key::new("unknown algorithm", None, false)
    };
    Some(k)
}

/// PKCS#8, PKCS#1 RSA, OpenSSL DSA, SEC1 EC and encrypted PKCS#8 private keys, told apart
/// by their ASN.1 structure.
fn der_private_key(der: &[u8]) -> Option<Key> {
    let s = seq(der)?;
    let first = s.first()?;
    match s.as_slice() {
        // PrivateKeyInfo / OneAsymmetricKey: version, AlgorithmIdentifier, OCTET STRING.
        [(0x02, v), (0x30, alg), (0x04, key), ..] if v.len() == 1 && v[0] <= 1 => {
            key_from_alg(alg, key, true)
        }
        // EncryptedPrivateKeyInfo: AlgorithmIdentifier (PBES2...), OCTET STRING.
        [(0x30, alg), (0x04, _)] if items(alg)?.first()?.0 == 0x06 => {
            Some(Key::new("encrypted PKCS#8", None, true))
        }
        // SEC1 ECPrivateKey: version 1, OCTET STRING, [0] curve, [1] public key.
        [(0x02, [1]), (0x04, _), rest @ ..] => {
            let params = rest.iter().find(|(t, _)| *t == 0xa0);
            let (name, bits) = params
                .and_then(|(_, p)| tlv(p))
                .filter(|(t, _, _)| *t == 0x06)
                .map_or(("EC", None), |(_, oid, _)| curve(oid));
            Some(Key::new(name, bits, false))
        }
        // PKCS#1 RSAPrivateKey: nine INTEGERs; OpenSSL DSA: six.
        _ if first.0 == 0x02 && s.iter().all(|(t, _)| *t == 0x02) => match s.len() {
            9 => Some(Key::new("RSA", Some(int_bits(s.get(1)?.1)), false)),
            6 => Some(Key::new("DSA", Some(int_bits(s.get(1)?.1)), false)),
            _ => None,
        },
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Certificates

/// What a certificate says, as the image checks and the live probe report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// `CN=…, O=…`, the common attribute types only.
    pub subject: String,
    pub issuer: String,
    /// Issuer and subject are the same name (byte for byte).
    pub self_issued: bool,
    pub key: Key,
    pub signature: &'static str,
    /// Seconds since the epoch, and as `YYYY-MM-DD`.
    pub not_before: i64,
    pub not_before_text: String,
    pub not_after: i64,
    pub not_after_text: String,
    /// The DER SubjectPublicKeyInfo: what says whether two certificates share a key.
    pub public_key_info: Vec<u8>,
}

impl Certificate {
    /// Why the signature's hash is weak, if it is (MD5 and SHA-1 have practical collisions).
    pub fn weak_signature(&self) -> bool {
        self.signature.starts_with("md5")
            || self.signature.contains("SHA1")
            || self.signature.starts_with("sha1")
    }
}

/// Reads a DER X.509 certificate; `None` when it is not one (every length is checked).
pub fn certificate(der: &[u8]) -> Option<Certificate> {
    let outer = seq(der)?;
    let [(0x30, tbs), (0x30, _), (0x03, _)] = outer.as_slice() else {
        return None;
    };
    let mut f = items(tbs)?.into_iter().peekable();
    if f.peek().is_some_and(|(t, _)| *t == 0xa0) {
        f.next();
    }
    let (serial_tag, _) = f.next()?;
    let (sig_tag, sig_alg) = f.next()?;
    let (issuer_tag, issuer) = f.next()?;
    let (validity_tag, validity) = f.next()?;
    let (subject_tag, subject) = f.next()?;
    let (spki_tag, spki) = f.next()?;
    if (
        serial_tag,
        sig_tag,
        issuer_tag,
        validity_tag,
        subject_tag,
        spki_tag,
    ) != (0x02, 0x30, 0x30, 0x30, 0x30, 0x30)
    {
        return None;
    }
    let times = items(validity)?;
    let (bt, ba) = *times.first()?;
    let (not_before, not_before_text) = time(bt, ba)?;
    let (nt, na) = *times.get(1)?;
    let (not_after, not_after_text) = time(nt, na)?;
    let public_key_info = spki_der(tbs)?;
    let spki = items(spki)?;
    let [(0x30, alg), (0x03, bits)] = spki.as_slice() else {
        return None;
    };
    let key = key_from_alg(alg, bits, false)?;
    let sig_oid = items(sig_alg)?.first().map(|(_, o)| *o).unwrap_or_default();
    Some(Certificate {
        subject: name(subject),
        issuer: name(issuer),
        self_issued: subject == issuer,
        key,
        signature: signature_name(sig_oid),
        not_before,
        not_before_text,
        not_after,
        not_after_text,
        public_key_info,
    })
}

/// The whole SubjectPublicKeyInfo element of `tbs` (tag and length too): the element after
/// the subject, the sixth (or seventh, after an explicit version).
fn spki_der(tbs: &[u8]) -> Option<Vec<u8>> {
    let mut rest = tbs;
    let mut elements = Vec::new();
    while !rest.is_empty() {
        let (_, _, after) = tlv(rest)?;
        elements.push(&rest[..rest.len() - after.len()]);
        rest = after;
    }
    let at = if tbs.first() == Some(&0xa0) { 6 } else { 5 };
    elements.get(at).map(|e| e.to_vec())
}

fn signature_name(oid: &[u8]) -> &'static str {
    const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
    const ECDSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04];
    match oid {
        [r @ .., 0x04] if r == RSA => "md5WithRSAEncryption",
        [r @ .., 0x05] if r == RSA => "sha1WithRSAEncryption",
        [r @ .., 0x0b] if r == RSA => "sha256WithRSAEncryption",
        [r @ .., 0x0c] if r == RSA => "sha384WithRSAEncryption",
        [r @ .., 0x0d] if r == RSA => "sha512WithRSAEncryption",
        [r @ .., 0x0a] if r == RSA => "RSASSA-PSS",
        [r @ .., 0x01] if r == ECDSA => "ecdsa-with-SHA1",
        [r @ .., 0x03, 0x02] if r == ECDSA => "ecdsa-with-SHA256",
        [r @ .., 0x03, 0x03] if r == ECDSA => "ecdsa-with-SHA384",
        [r @ .., 0x03, 0x04] if r == ECDSA => "ecdsa-with-SHA512",
        o if o == OID_ED25519 => "Ed25519",
        o if o == OID_ED448 => "Ed448",
        _ => "an unrecognised signature algorithm",
    }
}

/// `CN=…, O=…` from a Name, with the common attribute types.
fn name(der: &[u8]) -> String {
    let mut parts = Vec::new();
    for (_, set) in items(der).unwrap_or_default() {
        for (_, atv) in items(set).unwrap_or_default() {
            let Some(pair) = items(atv) else { continue };
            let [(0x06, oid), (tag, value)] = pair.as_slice() else {
                continue;
            };
            let short = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x07] => "L",
                [0x55, 0x04, 0x08] => "ST",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                _ => continue,
            };
            let v = if *tag == 0x1e {
                // A BMPString: UTF-16 big-endian (an odd last byte is dropped).
                let mut utf16 = Reader::new(value, 0);
                let units: Vec<u16> =
                    std::iter::from_fn(|| utf16.u16(ByteOrder::Big, "UTF-16 unit").ok()).collect();
                String::from_utf16_lossy(&units)
            } else {
                String::from_utf8_lossy(value).into_owned()
            };
            parts.push(format!("{short}={v}"));
        }
    }
    if parts.is_empty() {
        "(empty)".to_owned()
    } else {
        parts.join(", ")
    }
}

/// UTCTime (`YYMMDDHHMMSSZ`, years 1950–2049) or GeneralizedTime (`YYYYMMDDHHMMSSZ`) as
/// seconds since the epoch and as `YYYY-MM-DD`.
fn time(tag: u8, v: &[u8]) -> Option<(i64, String)> {
    let s = std::str::from_utf8(v).ok()?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = s.get(..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        0x18 => (s.get(..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let num = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (month, day, hour, min) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?);
    let sec = num(8..10).unwrap_or(0);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let t = days * 86_400 + hour * 3600 + min * 60 + sec;
    Some((t, format!("{year:04}-{month:02}-{day:02}")))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known civil-from-days
/// inverse: shift the year to start in March so leap days fall at its end).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn report_cert(
    cert: &Certificate,
    file: &str,
    line: Option<usize>,
    now: i64,
    out: &mut Vec<Finding>,
) {
    let what = format!(
        "certificate `{}` issued by `{}` ({}, signed with {})",
        cert.subject,
        cert.issuer,
        cert.key.describe(),
        cert.signature
    );
    let judged = if cert.not_after < now {
        fail(
            "firmware.certs.expired",
            Severity::Medium,
            file,
            line,
            format!("{what} expired on {}", cert.not_after_text),
        )
    } else {
        pass(
            "firmware.certs.expired",
            Severity::Medium,
            file,
            line,
            format!("{what} is valid until {}", cert.not_after_text),
        )
    };
    out.push(Finding {
        public_keys: vec![PublicKeyDigest::of(KeyForm::Spki, &cert.public_key_info)],
        ..judged
    });
    weak_key(&cert.key, file, line, "certificate key", out);
    if cert.weak_signature() {
        out.push(fail(
            "firmware.keys.weak",
            Severity::Medium,
            file,
            line,
            format!(
                "certificate `{}` is signed with {}, a hash with practical collisions",
                cert.subject, cert.signature
            ),
        ));
    }
}

// ---------------------------------------------------------------------------------------
// SSH wire format (OpenSSH private keys, dropbear host keys)

/// An SSH wire-format string: a big-endian `u32` length, then that many bytes.
pub(super) fn string<'a>(w: &mut Reader<'a>) -> Option<&'a [u8]> {
    let n = w.u32(ByteOrder::Big, "SSH string length").ok()?;
    w.take(usize::try_from(n).ok()?, "SSH string").ok()
}

/// The algorithm and size of an SSH public key blob, or of the start of a dropbear private
/// key (which is the public part followed by the private one).
fn ssh_key(w: &mut Reader<'_>) -> Option<Key> {
    let kind = string(w)?;
    let k = match kind {
        b"ssh-rsa" => {
            let _e = string(w)?;
            Key::new("RSA", Some(int_bits(string(w)?)), false)
        }
        b"ssh-dss" => Key::new("DSA", Some(int_bits(string(w)?)), false),
        b"ssh-ed25519" => {
            let _pk = string(w)?;
            Key::new("Ed25519", Some(256), false)
        }
        b"ecdsa-sha2-nistp256" | b"ecdsa-sha2-nistp384" | b"ecdsa-sha2-nistp521" => {
            let curve = string(w)?;
            let _q = string(w)?;
            let bits = match curve {
                b"nistp256" => 256,
                b"nistp384" => 384,
                _ => 521,
            };
            Key::new(&format!("EC P-{bits}"), Some(bits), false)
        }
        _ => return None,
    };
    Some(k)
}

/// `openssh-key-v1`: magic, cipher, kdf, kdf options, key count, then public keys.
fn openssh_key(der: &[u8]) -> Option<Key> {
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    let mut w = Reader::new(der.strip_prefix(MAGIC)?, MAGIC.len());
    let w = &mut w;
    let cipher = string(w)?;
    let _kdf = string(w)?;
    let _kdf_opts = string(w)?;
    if w.u32(ByteOrder::Big, "key count").ok()? == 0 {
        return None;
    }
    let mut blob = Reader::new(string(w)?, 0);
    let mut k = ssh_key(&mut blob)?;
    k.encrypted = cipher != b"none";
    Some(k)
}

/// dropbear's own private key file: the SSH wire fields of the key, nothing else, so the
/// whole file must be consumed by the fields its type has.
fn dropbear_key(data: &[u8]) -> Option<Key> {
    if data.len() > 16 << 10 || data.get(..4) == Some(&[0, 0, 0, 0]) {
        return None;
    }
    let mut w = Reader::new(data, 0);
    let w = &mut w;
    let key = ssh_key(w)?;
    let remaining = match key.alg.as_str() {
        "RSA" => 3,     // d, p, q
        "DSA" => 4,     // q, g, y, x
        "Ed25519" => 0, // the one string held private and public halves
        _ => 1,         // ECDSA: d
    };
    for _ in 0..remaining {
        string(w)?;
    }
    (w.remaining() == 0).then_some(key)
}

/// The public half of a host key file, in whichever format it is.
fn host_key_digests(data: &[u8]) -> Vec<PublicKeyDigest> {
    let from_dropbear = public_key::of_dropbear_key(data);
    if !from_dropbear.is_empty() {
        return from_dropbear;
    }
    match pem_blocks(data).into_iter().next() {
        Some(b) if b.label == "OPENSSH PRIVATE KEY" => public_key::of_openssh_key(&b.der),
        Some(b) => public_key::of_der_private_key(&b.der),
        None => Vec::new(),
    }
}

/// What a host key file holds, in whichever format it is.
fn host_key_info(data: &[u8]) -> Option<Key> {
    if let Some(k) = dropbear_key(data) {
        return Some(k);
    }
    let block = pem_blocks(data).into_iter().next()?;
    match block.label.as_str() {
        "OPENSSH PRIVATE KEY" => openssh_key(&block.der),
        _ => der_private_key(&block.der),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_convert_to_epoch_seconds() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            time(0x17, b"491231235959Z"),
            Some((2_524_607_999, "2049-12-31".to_owned()))
        );
        assert_eq!(time(0x18, b"19700101000000Z").map(|t| t.0), Some(0));
        assert_eq!(time(0x17, b"501301000000Z"), None, "month 13");
    }

    #[test]
    fn pem_blocks_keep_their_lines_and_markers_without_an_end_stay_cheap() {
        let block = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let text = format!("# keys\n\n{block}between\n{block}");
        let found = pem_blocks(text.as_bytes());
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].line, found[1].line), (3, 7));
        assert_eq!(found[0].der.len(), 44);
        // A hostile file: 240,000 BEGIN markers (4 MB, near the largest file searched) and no
        // END. Each used to search the rest of the file for its END; now a bounded number
        // each look a bounded way.
        let hostile = "-----BEGIN A-----".repeat(240_000);
        assert!(pem_blocks(hostile.as_bytes()).is_empty());
        let mut late = hostile.into_bytes();
        late.extend_from_slice(text.as_bytes());
        // Past the markers' budget a real block is not read: the cost stays bounded.
        assert!(pem_blocks(&late).is_empty());
    }

    #[test]
    fn der_lengths_are_checked() {
        assert!(tlv(&[0x30, 0x82, 0xff, 0xff, 0]).is_none());
        assert!(tlv(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert_eq!(tlv(&[0x02, 0x01, 0x05]), Some((0x02, &[5u8][..], &[][..])));
        assert_eq!(int_bits(&[0x00, 0x80, 0x00]), 16);
    }
}
