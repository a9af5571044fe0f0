//! SSH as far as it is in the clear: the server's identification line and its KEXINIT, the
//! algorithms it offers for key exchange, host keys, ciphers and MACs (RFC 4253 §7.1). Which
//! of those are weak follows NIST SP 800-131A and RFC 9142, as ssh-audit reports them, and
//! whether the server is open to the Terrapin prefix truncation (CVE-2023-48795): it offers
//! ChaCha20-Poly1305 or an encrypt-then-MAC mode and not strict key exchange.

use std::net::SocketAddr;

use serde::Serialize;

use crate::conn::{Conn, Limits};
use crate::wire::{Cursor, Short};

/// What the server offered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SshReport {
    /// `SSH-2.0-dropbear_2022.83`.
    pub banner: String,
    pub kex: Vec<String>,
    pub host_keys: Vec<String>,
    pub ciphers: Vec<String>,
    pub macs: Vec<String>,
    pub compression: Vec<String>,
    /// Offered algorithms that are weak, with why.
    pub weak: Vec<(String, &'static str)>,
    /// Open to Terrapin (CVE-2023-48795).
    pub terrapin: bool,
}

/// Why bytes are not an SSH server's greeting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error("no SSH identification line (`SSH-2.0-…`) in the first {0} bytes")]
    NoBanner(usize),
    #[error("a binary packet of {0} bytes, more than RFC 4253 allows")]
    PacketTooLong(usize),
    #[error("the first packet is message {0}, not KEXINIT (20)")]
    NotKexinit(u8),
    #[error("a malformed KEXINIT: {0}")]
    Malformed(#[from] Short),
    #[error("an algorithm list that is not ASCII")]
    NotAscii,
}

/// Most bytes of lines a server may send before its identification (RFC 4253 §4.2).
const MAX_PREAMBLE: usize = 8 << 10;

/// Reads a server's greeting: lines until the `SSH-` identification, then the first binary
/// packet, which must be a KEXINIT. `Ok(None)` when more bytes are needed.
pub fn parse_greeting(bytes: &[u8]) -> Result<Option<SshReport>, SshError> {
    let mut at = 0;
    let banner = loop {
        let Some(end) = bytes[at..].iter().position(|&b| b == b'\n') else {
            if bytes.len() > MAX_PREAMBLE {
                return Err(SshError::NoBanner(MAX_PREAMBLE));
            }
            return Ok(None);
        };
        let line = &bytes[at..at + end];
        at += end + 1;
        if line.starts_with(b"SSH-") {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            break String::from_utf8_lossy(line).into_owned();
        }
        if at > MAX_PREAMBLE {
            return Err(SshError::NoBanner(MAX_PREAMBLE));
        }
    };
    let mut packet = Cursor::new(&bytes[at..]);
    if packet.left() < 5 {
        return Ok(None);
    }
    let len = packet.u32("packet length")? as usize;
    if len > 35_000 {
        return Err(SshError::PacketTooLong(len));
    }
    if packet.left() < len {
        return Ok(None);
    }
    let mut body = packet.sub(len, "packet")?;
    let padding = usize::from(body.u8("padding length")?);
    let payload_len = len.checked_sub(1 + padding).ok_or(Short {
        what: "padding",
        at: 4,
        needed: padding,
        left: len.saturating_sub(1),
    })?;
    let mut payload = body.sub(payload_len, "payload")?;
    let kind = payload.u8("message type")?;
    if kind != 20 {
        return Err(SshError::NotKexinit(kind));
    }
    payload.take(16, "cookie")?;
    let mut list = || -> Result<Vec<String>, SshError> {
        let len = payload.u32("name-list length")? as usize;
        let raw = payload.take(len, "name-list")?;
        if !raw.is_ascii() {
            return Err(SshError::NotAscii);
        }
        Ok(String::from_utf8_lossy(raw)
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    };
    let kex = list()?;
    let host_keys = list()?;
    let ciphers = list()?;
    let ciphers_s2c = list()?;
    let macs = list()?;
    let macs_s2c = list()?;
    let compression = list()?;
    let mut report = SshReport {
        banner,
        kex,
        host_keys,
        ciphers: merge(ciphers, ciphers_s2c),
        macs: merge(macs, macs_s2c),
        compression,
        ..Default::default()
    };
    report.weak = weaknesses(&report);
    let strict = report
        .kex
        .iter()
        .any(|k| k == "kex-strict-s-v00@openssh.com");
    let chacha = report
        .ciphers
        .iter()
        .any(|c| c == "chacha20-poly1305@openssh.com");
    let cbc_etm = report.ciphers.iter().any(|c| c.ends_with("-cbc"))
        && report.macs.iter().any(|m| m.ends_with("-etm@openssh.com"));
    report.terrapin = !strict && (chacha || cbc_etm);
    Ok(Some(report))
}

fn merge(mut a: Vec<String>, b: Vec<String>) -> Vec<String> {
    for x in b {
        if !a.contains(&x) {
            a.push(x);
        }
    }
    a
}

/// The weak algorithms among those offered.
fn weaknesses(r: &SshReport) -> Vec<(String, &'static str)> {
    let mut weak = Vec::new();
    for k in &r.kex {
        let why = match k.as_str() {
            "diffie-hellman-group1-sha1" => Some("a 1024-bit group with SHA-1 (Logjam)"),
            "diffie-hellman-group14-sha1" | "diffie-hellman-group-exchange-sha1" => {
                Some("SHA-1 key exchange (RFC 9142)")
            }
            "ecdh-sha2-nistp256" | "ecdh-sha2-nistp384" | "ecdh-sha2-nistp521" => None,
            _ if k.starts_with("gss-") && k.contains("sha1") => Some("SHA-1 key exchange"),
            _ => None,
        };
        if let Some(why) = why {
            weak.push((k.clone(), why));
        }
    }
    for h in &r.host_keys {
        let why = match h.as_str() {
            "ssh-dss" => Some("DSA host keys (1024-bit, deprecated)"),
            "ssh-rsa" => Some("RSA signatures with SHA-1"),
            _ if h.starts_with("ssh-rsa-cert") || h.starts_with("ssh-dss-cert") => {
                Some("a SHA-1 certificate signature")
            }
            _ => None,
        };
        if let Some(why) = why {
            weak.push((h.clone(), why));
        }
    }
    for c in &r.ciphers {
        let why = if c == "none" {
            Some("no encryption")
        } else if c.starts_with("arcfour") {
            Some("RC4")
        } else if c.starts_with("3des") {
            Some("3DES (64-bit blocks)")
        } else if c.starts_with("blowfish") || c.starts_with("cast128") {
            Some("a 64-bit block cipher")
        } else if c.starts_with("des") {
            Some("single DES")
        } else if c.ends_with("-cbc") {
            Some("CBC mode (plaintext recovery, CVE-2008-5161)")
        } else {
            None
        };
        if let Some(why) = why {
            weak.push((c.clone(), why));
        }
    }
    for m in &r.macs {
        let why = if m == "none" {
            Some("no integrity")
        } else if m.starts_with("hmac-md5") {
            Some("an MD5 MAC")
        } else if m.contains("-96") || m.starts_with("umac-64") {
            Some("a truncated, 64- or 96-bit tag")
        } else if m.starts_with("hmac-sha1") && !m.contains("etm") {
            Some("SHA-1 MAC-then-encrypt")
        } else {
            None
        };
        if let Some(why) = why {
            weak.push((m.clone(), why));
        }
    }
    weak
}

/// Our identification line (RFC 4253 §4.2).
const IDENTIFICATION: &[u8] = b"SSH-2.0-iotmark_probe\r\n";

/// Reads the server's greeting at `addr`; `None` when it does not speak SSH.
pub fn probe(addr: SocketAddr, limits: &Limits) -> std::io::Result<Option<SshReport>> {
    let mut conn = Conn::open(addr, limits)?;
    conn.send(IDENTIFICATION)?;
    let bytes = conn.read_until(|b| !matches!(parse_greeting(b), Ok(None)))?;
    Ok(parse_greeting(&bytes).ok().flatten())
}

/// For the fuzz target: any bytes as an SSH greeting, which must never panic.
pub fn fuzz_greeting(bytes: &[u8]) {
    let _ = parse_greeting(bytes);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// A KEXINIT packet with these name-lists (the same both ways).
    pub(crate) fn kexinit(kex: &str, keys: &str, ciphers: &str, macs: &str) -> Vec<u8> {
        let mut payload = vec![20];
        payload.extend_from_slice(&[0xab; 16]);
        for list in [
            kex, keys, ciphers, ciphers, macs, macs, "none", "none", "", "",
        ] {
            payload.extend_from_slice(&(list.len() as u32).to_be_bytes());
            payload.extend_from_slice(list.as_bytes());
        }
        payload.extend_from_slice(&[0, 0, 0, 0, 0]);
        let padding = 4;
        let len = 1 + payload.len() + padding;
        let mut packet = (len as u32).to_be_bytes().to_vec();
        packet.push(padding as u8);
        packet.extend_from_slice(&payload);
        packet.extend_from_slice(&[0; 4]);
        packet
    }

    #[test]
    fn a_greeting_gives_the_algorithms_their_weaknesses_and_terrapin() {
        let mut bytes = b"a preamble line\r\nSSH-2.0-dropbear_2022.83\r\n".to_vec();
        bytes.extend(kexinit(
            "curve25519-sha256,diffie-hellman-group1-sha1",
            "ssh-ed25519,ssh-rsa",
            "chacha20-poly1305@openssh.com,aes128-ctr,3des-cbc",
            "hmac-sha2-256,hmac-md5",
        ));
        assert_eq!(
            parse_greeting(&bytes[..bytes.len() - 3]),
            Ok(None),
            "incomplete"
        );
        let r = parse_greeting(&bytes).unwrap().unwrap();
        assert_eq!(r.banner, "SSH-2.0-dropbear_2022.83");
        assert_eq!(r.kex.len(), 2);
        let weak: Vec<&str> = r.weak.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            weak,
            [
                "diffie-hellman-group1-sha1",
                "ssh-rsa",
                "3des-cbc",
                "hmac-md5"
            ]
        );
        assert!(r.terrapin);

        let mut strict = b"SSH-2.0-OpenSSH_9.6\r\n".to_vec();
        strict.extend(kexinit(
            "curve25519-sha256,kex-strict-s-v00@openssh.com",
            "ssh-ed25519",
            "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com",
            "hmac-sha2-256-etm@openssh.com",
        ));
        let r = parse_greeting(&strict).unwrap().unwrap();
        assert!(r.weak.is_empty() && !r.terrapin, "{r:?}");

        assert!(matches!(
            parse_greeting(&vec![b'x'; MAX_PREAMBLE + 10]),
            Err(SshError::NoBanner(_))
        ));
        let mut huge = b"SSH-2.0-x\r\n".to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        huge.push(0);
        assert!(matches!(
            parse_greeting(&huge),
            Err(SshError::PacketTooLong(_))
        ));
    }
}
