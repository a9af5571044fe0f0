//! Credentials stored in the image: system accounts (passwd/shadow), web-server password
//! files (htpasswd, htdigest, busybox/uhttpd httpd.conf), mosquitto password files and
//! passwords or keys in OpenWrt UCI configuration.
//!
//! Every hash is tried against the public default-credential list. The work is bounded:
//! at most one hash computation per list entry per account, and schemes whose cost is set
//! unusually high (sha-crypt rounds, bcrypt cost, PBKDF2 iterations) are not tried.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};

use super::{Finding, Severity, fail, file_name, shell_words, text, uci};
use crate::tree::Tree;

/// Public default credentials, tried against every password hash in the image.
/// Source: the username/password table of the Mirai botnet's scanner (2016), as published in
/// its leaked source and reproduced in many analyses; one `user:password` per line.
const DEFAULT_CREDENTIALS: &str = include_str!("../../data/default-credentials.txt");

/// Highest costs tried: defaults of the tools that write these hashes are well below
/// (sha-crypt 5000 rounds, mosquitto 101 PBKDF2 iterations, htpasswd bcrypt cost 5).
const MAX_SHA_CRYPT_ROUNDS: u64 = 50_000;
const MAX_BCRYPT_COST: u32 = 10;
const MAX_PBKDF2_ITERATIONS: u32 = 100_000;

pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) {
    system_accounts(tree, out);
    web_password_files(tree, out);
    mosquitto_password_files(tree, out);
    uci_secrets(tree, out);
}

/// The passwords to try for `user`: the list's entries for that user first (the likeliest),
/// then every other distinct password, since devices reuse the same defaults under other
/// account names (IoTGoat's `iotgoatuser` has one the list gives for `root`).
fn candidates(user: &str) -> Vec<&'static str> {
    let pairs: Vec<(&str, &str)> = DEFAULT_CREDENTIALS
        .lines()
        .filter_map(|l| l.split_once(':'))
        .collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (u, p) in pairs
        .iter()
        .filter(|(u, _)| *u == user || *u == "*")
        .chain(pairs.iter())
    {
        let _ = u;
        if seen.insert(*p) {
            out.push(*p);
        }
    }
    out
}

fn shown(password: &str) -> String {
    if password.is_empty() {
        "(empty)".to_owned()
    } else {
        format!("`{password}`")
    }
}

/// A secret as it may appear in evidence: enough to recognise it, not enough to use it.
pub(super) fn masked(secret: &str) -> String {
    let n = secret.chars().count();
    let head: String = secret.chars().take(2).collect();
    format!("`{head}…` ({n} characters)")
}

/// How a stored password is protected.
enum Stored<'a> {
    /// A crypt(3) string of a scheme pwhash verifies, in exactly that scheme's shape.
    Crypt { hash: &'a str, scheme: CryptScheme },
    /// Apache's MD5 variant (`$apr1$salt$hash`).
    Apr1 { salt: &'a str, hash: &'a str },
    /// `{SHA}` + base64 of an unsalted SHA-1.
    Sha1(Vec<u8>),
    /// htdigest: hex MD5 of `user:realm:password`.
    Digest { realm: &'a str, hex: &'a str },
    /// mosquitto `$6$`: base64 SHA-512 of password + salt, one iteration.
    MosqSha512 { salt: Vec<u8>, hash: Vec<u8> },
    /// mosquitto `$7$`: PBKDF2-HMAC-SHA512.
    MosqPbkdf2 {
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    /// Not a hash at all.
    Plain(&'a str),
    /// A scheme we recognise but cannot verify (or whose cost is beyond the bound).
    Unverifiable,
}

/// The crypt(3) schemes handed to pwhash, with the cost each string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CryptScheme {
    /// Traditional DES crypt: 2 salt and 11 hash characters, no `$`.
    Des,
    /// `$1$`: MD5-crypt.
    Md5,
    /// `$5$` (SHA-256-crypt) or `$6$` (SHA-512-crypt), with its rounds (5000 when the
    /// string names none).
    Sha { rounds: u64 },
    /// `$2a$`, `$2b$`, `$2y$`: bcrypt, with its cost (log2 of the rounds).
    Bcrypt { cost: u32 },
}

impl Stored<'_> {
    /// The scheme's name when it is fast to crack or has no salt, else `None`.
    fn weakness(&self) -> Option<&'static str> {
        match self {
            Stored::Crypt {
                scheme: CryptScheme::Md5,
                ..
            } => Some("MD5-crypt"),
            Stored::Crypt {
                scheme: CryptScheme::Des,
                ..
            } => Some("DES crypt"),
            Stored::Apr1 { .. } => Some("Apache MD5 (apr1)"),
            Stored::Sha1(_) => Some("unsalted SHA-1 ({SHA})"),
            Stored::Digest { .. } => Some("unsalted MD5 (htdigest)"),
            Stored::MosqSha512 { .. } => Some("a single round of SHA-512 (mosquitto $6$)"),
            _ => None,
        }
    }

    fn verify(&self, user: &str, password: &str) -> bool {
        match self {
            Stored::Crypt { hash, .. } => pwhash::unix::verify(password, hash),
            Stored::Apr1 { salt, hash } => apr1(password, salt) == *hash,
            Stored::Sha1(digest) => {
                sha1::Sha1::digest(password.as_bytes()).as_slice() == digest.as_slice()
            }
            Stored::Digest { realm, hex } => {
                let d = Md5::digest(format!("{user}:{realm}:{password}").as_bytes());
                crate::tree::hex(&d).eq_ignore_ascii_case(hex)
            }
            Stored::MosqSha512 { salt, hash } => {
                let mut h = sha2::Sha512::new();
                sha2::Digest::update(&mut h, password.as_bytes());
                sha2::Digest::update(&mut h, salt);
                sha2::Digest::finalize(h).as_slice() == hash.as_slice()
            }
            Stored::MosqPbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut out = vec![0u8; hash.len()];
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
                    password.as_bytes(),
                    salt,
                    *iterations,
                    &mut out,
                );
                out == *hash
            }
            Stored::Plain(p) => p == &password,
            Stored::Unverifiable => false,
        }
    }
}

/// The characters crypt(3) salts and hashes are written in (`./0-9A-Za-z`).
fn crypt_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// The scheme of a crypt(3) string that has exactly the shape its scheme writes: the
/// magic, a salt of the scheme's length from the crypt alphabet, the rounds or cost in the
/// range the scheme allows, and a hash of the scheme's exact length; otherwise `None`.
///
/// pwhash parses leniently and then trusts what it parsed: fuzzing found an MD5-crypt
/// string with NUL bytes in its salt reaching an arithmetic overflow inside it. So a
/// string reaches pwhash only when this accepts it, whatever its length or content.
fn crypt_scheme(hash: &str) -> Option<CryptScheme> {
    let salted = |salt: &str, max_salt: usize, digest: &str, digest_len: usize| {
        (1..=max_salt).contains(&salt.len())
            && crypt_chars(salt)
            && digest.len() == digest_len
            && crypt_chars(digest)
    };
    let fields: Vec<&str> = hash.split('$').collect();
    match fields.as_slice() {
        [des] => (des.len() == 13 && crypt_chars(des)).then_some(CryptScheme::Des),
        ["", "1", salt, digest] => salted(salt, 8, digest, 22).then_some(CryptScheme::Md5),
        ["", id @ ("5" | "6"), rest @ ..] => {
            let (rounds, salt, digest) = match rest {
                [salt, digest] => (5000, salt, digest),
                [rounds, salt, digest] => (sha_crypt_rounds(rounds)?, salt, digest),
                _ => return None,
            };
            let digest_len = if *id == "5" { 43 } else { 86 };
            salted(salt, 16, digest, digest_len).then_some(CryptScheme::Sha { rounds })
        }
        ["", "2a" | "2b" | "2y", cost, salt_and_digest] => {
            let cost = two_digits(cost).filter(|c| (4..=31).contains(c))?;
            // 22 characters of salt, then 31 of hash.
            (salt_and_digest.len() == 53 && crypt_chars(salt_and_digest))
                .then_some(CryptScheme::Bcrypt { cost })
        }
        _ => None,
    }
}

/// A sha-crypt `rounds=N` field: N in decimal, within the 1000 to 999,999,999 that
/// implementations accept.
fn sha_crypt_rounds(field: &str) -> Option<u64> {
    let digits = field.strip_prefix("rounds=")?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse()
        .ok()
        .filter(|r| (1000..=999_999_999).contains(r))
}

/// A bcrypt cost: exactly two decimal digits.
fn two_digits(field: &str) -> Option<u32> {
    if field.len() == 2 && field.bytes().all(|b| b.is_ascii_digit()) {
        field.parse().ok()
    } else {
        None
    }
}

/// Classifies a crypt(3)-style string (shadow, htpasswd, rpcd, httpd.conf).
fn classify(hash: &str) -> Stored<'_> {
    if let Some(rest) = hash.strip_prefix("$apr1$") {
        return match rest.split_once('$') {
            Some((salt, h)) if crypt_chars(salt) && h.len() == 22 && crypt_chars(h) => {
                Stored::Apr1 { salt, hash: h }
            }
            _ => Stored::Unverifiable,
        };
    }
    if let Some(b64) = hash.strip_prefix("{SHA}") {
        return B64
            .decode(b64)
            .map(Stored::Sha1)
            .unwrap_or(Stored::Unverifiable);
    }
    match crypt_scheme(hash) {
        Some(CryptScheme::Sha { rounds }) if rounds > MAX_SHA_CRYPT_ROUNDS => Stored::Unverifiable,
        Some(CryptScheme::Bcrypt { cost }) if cost > MAX_BCRYPT_COST => Stored::Unverifiable,
        Some(scheme) => Stored::Crypt { hash, scheme },
        // Malformed crypt strings, yescrypt, NT hashes and other `$id$` schemes:
        // recognised as hashes, not verified here.
        None if hash.starts_with('$') => Stored::Unverifiable,
        None => Stored::Plain(hash),
    }
}

/// Reports one stored credential: weak scheme, plain text, or a password from the list.
fn judge(out: &mut Vec<Finding>, stored: &Stored<'_>, user: &str, file: &str, line: usize) {
    if let Some(scheme) = stored.weakness() {
        out.push(fail(
            "firmware.credentials.weak-hash",
            Severity::Medium,
            file,
            Some(line),
            format!("the password of `{user}` is stored with {scheme}, which is fast to crack"),
        ));
    }
    if let Stored::Plain(p) = stored {
        out.push(fail(
            "firmware.credentials.hardcoded",
            Severity::High,
            file,
            Some(line),
            format!(
                "the password of `{user}` is stored in plain text ({}): every unit has the same one",
                masked(p)
            ),
        ));
    }
    if matches!(stored, Stored::Unverifiable) {
        return;
    }
    if let Some(password) = candidates(user)
        .into_iter()
        .find(|p| stored.verify(user, p))
    {
        out.push(fail(
            "firmware.credentials.default-password",
            Severity::Critical,
            file,
            Some(line),
            format!(
                "the password of `{user}` is {}, from a public list of default credentials",
                shown(password)
            ),
        ));
    }
}

/// shadow and passwd: empty passwords, a second UID 0, weak hash schemes, and passwords from
/// the default list.
fn system_accounts(tree: &Tree, out: &mut Vec<Finding>) {
    let mut hashes: Vec<(String, String, &str, usize)> = Vec::new(); // user, hash, file, line
    if let Some(passwd) = tree.file("etc/passwd").and_then(text) {
        let mut roots = Vec::new();
        for (i, line) in passwd.lines().enumerate() {
            let f: Vec<&str> = line.split(':').collect();
            let (Some(user), Some(pw), Some(uid)) = (f.first(), f.get(1), f.get(2)) else {
                continue;
            };
            if f.len() < 7 {
                continue;
            }
            if *uid == "0" {
                roots.push((*user, i + 1));
            }
            if pw.is_empty() {
                out.push(fail(
                    "firmware.credentials.empty-password",
                    Severity::Critical,
                    "etc/passwd",
                    Some(i + 1),
                    format!("account `{user}` has an empty password field: anyone can log in"),
                ));
            } else if *pw != "x" && *pw != "*" && !pw.starts_with('!') {
                hashes.push(((*user).to_owned(), (*pw).to_owned(), "etc/passwd", i + 1));
            }
        }
        for (user, line) in roots.iter().skip(1) {
            out.push(fail(
                "firmware.credentials.duplicate-root",
                Severity::High,
                "etc/passwd",
                Some(*line),
                format!("account `{user}` also has UID 0 (root privileges)"),
            ));
        }
    }
    if let Some(shadow) = tree.file("etc/shadow").and_then(text) {
        for (i, line) in shadow.lines().enumerate() {
            let f: Vec<&str> = line.split(':').collect();
            let (Some(user), Some(pw)) = (f.first(), f.get(1)) else {
                continue;
            };
            if pw.is_empty() {
                out.push(fail(
                    "firmware.credentials.empty-password",
                    Severity::Critical,
                    "etc/shadow",
                    Some(i + 1),
                    format!("account `{user}` has no password: anyone can log in"),
                ));
            } else if !pw.starts_with('!') && !pw.starts_with('*') {
                hashes.push(((*user).to_owned(), (*pw).to_owned(), "etc/shadow", i + 1));
            }
        }
    }
    for (user, hash, file, line) in hashes {
        // A system account's field is never plain text: crypt() of anything else just fails
        // to match, so an unrecognised value is only tried, not reported as plain.
        let stored = match classify(&hash) {
            Stored::Plain(_) => Stored::Unverifiable,
            s => s,
        };
        judge(out, &stored, &user, file, line);
    }
}

/// How a web password file stores its passwords, from the configuration naming it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WebFile {
    Htpasswd,
    Plain,
    Htdigest,
    /// busybox/uhttpd `httpd.conf`: `/path:user:password` lines among other directives.
    HttpdConf,
}

/// Web server password files: by conventional name, and wherever lighttpd or Apache
/// configuration points (`auth.backend.*.userfile`, `AuthUserFile`).
fn web_password_files(tree: &Tree, out: &mut Vec<Finding>) {
    let mut files: Vec<(String, WebFile)> = Vec::new();
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let name = file_name(path);
        if name == ".htpasswd" || name == "htpasswd" || name.ends_with(".htpasswd") {
            files.push((p.to_string(), WebFile::Htpasswd));
        } else if name == "httpd.conf" && p.starts_with("etc/") {
            files.push((p.to_string(), WebFile::HttpdConf));
        }
        let config = p.starts_with("etc/lighttpd/") || p.starts_with("etc/apache") || {
            p.starts_with("etc/httpd/")
        };
        if !config {
            continue;
        }
        let Some(t) = text(data) else { continue };
        for line in t.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let (kind, value) = if let Some((k, v)) = line.split_once('=') {
                let k = k.trim();
                let kind = match k {
                    "auth.backend.htpasswd.userfile" => WebFile::Htpasswd,
                    "auth.backend.plain.userfile" => WebFile::Plain,
                    "auth.backend.htdigest.userfile" => WebFile::Htdigest,
                    _ => continue,
                };
                (kind, v.trim())
            } else if let Some(v) = line.strip_prefix("AuthUserFile") {
                (WebFile::Htpasswd, v.trim())
            } else {
                continue;
            };
            let target = value.trim_matches('"').trim_start_matches('/').to_owned();
            files.retain(|(f, _)| *f != target);
            files.push((target, kind));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files.dedup_by(|a, b| a.0 == b.0);
    for (file, kind) in files {
        let Some(t) = tree.file(&file).and_then(text) else {
            continue;
        };
        for (i, line) in t.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (user, stored) = match kind {
                WebFile::HttpdConf => {
                    // `/cgi-bin:admin:secret`; `$p$root` defers to the system account.
                    let Some(rest) = line.strip_prefix('/') else {
                        continue;
                    };
                    let mut f = rest.splitn(3, ':');
                    let (_, Some(user), Some(pw)) = (f.next(), f.next(), f.next()) else {
                        continue;
                    };
                    if pw.starts_with("$p$") || pw.is_empty() {
                        continue;
                    }
                    (user, classify(pw))
                }
                WebFile::Htdigest => {
                    let mut f = line.splitn(3, ':');
                    let (Some(user), Some(realm), Some(hex)) = (f.next(), f.next(), f.next())
                    else {
                        continue;
                    };
                    (user, Stored::Digest { realm, hex })
                }
                WebFile::Plain => {
                    let Some((user, pw)) = line.split_once(':') else {
                        continue;
                    };
                    (user, Stored::Plain(pw))
                }
                WebFile::Htpasswd => {
                    let Some((user, pw)) = line.split_once(':') else {
                        continue;
                    };
                    (user, classify(pw))
                }
            };
            judge(out, &stored, user, &file, i + 1);
        }
    }
}

/// mosquitto password files: where `password_file` points, and the usual names.
fn mosquitto_password_files(tree: &Tree, out: &mut Vec<Finding>) {
    let mut files: BTreeSet<String> = [
        "etc/mosquitto/passwd",
        "etc/mosquitto/pwfile",
        "etc/mosquitto/passwordfile",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if !(p.starts_with("etc/mosquitto/") && p.ends_with(".conf")) {
            continue;
        }
        let Some(t) = text(data) else { continue };
        for line in t.lines() {
            let w = shell_words(line);
            if w.first() == Some(&"password_file")
                && let Some(f) = w.get(1)
            {
                files.insert(f.trim_start_matches('/').to_owned());
            }
        }
    }
    for file in files {
        let Some(t) = tree.file(&file).and_then(text) else {
            continue;
        };
        for (i, line) in t.lines().enumerate() {
            let line = line.trim();
            let Some((user, pw)) = line.split_once(':') else {
                continue;
            };
            if user.starts_with('#') || pw.is_empty() {
                continue;
            }
            let stored = mosquitto_hash(pw);
            judge(out, &stored, user, &file, i + 1);
        }
    }
}

fn mosquitto_hash(pw: &str) -> Stored<'_> {
    let parts: Vec<&str> = pw.split('$').collect();
    match parts.as_slice() {
        ["", "6", salt, hash] => match (B64.decode(salt), B64.decode(hash)) {
            (Ok(salt), Ok(hash)) => Stored::MosqSha512 { salt, hash },
            _ => Stored::Unverifiable,
        },
        ["", "7", iterations, salt, hash] => {
            match (iterations.parse(), B64.decode(salt), B64.decode(hash)) {
                (Ok(iterations), Ok(salt), Ok(hash))
                    if iterations <= MAX_PBKDF2_ITERATIONS && hash.len() <= 128 =>
                {
                    Stored::MosqPbkdf2 {
                        iterations,
                        salt,
                        hash,
                    }
                }
                _ => Stored::Unverifiable,
            }
        }
        _ if pw.starts_with('$') => Stored::Unverifiable,
        _ => Stored::Plain(pw),
    }
}

/// Option names whose value is a secret in OpenWrt UCI files (`key` only in Wi-Fi sections,
/// where it is the PSK; elsewhere, e.g. uhttpd, it names a key file).
const UCI_SECRETS: &[&str] = &[
    "password",
    "passwd",
    "psk",
    "secret",
    "sae_password",
    "auth_secret",
    "acct_secret",
    "private_key",
    "preshared_key",
];

/// Passwords and keys written into `/etc/config/*`: plain text is shared by every unit;
/// crypt hashes (rpcd logins) are judged like shadow entries.
fn uci_secrets(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if !p.starts_with("etc/config/") {
            continue;
        }
        let Some(t) = text(data) else { continue };
        for sec in uci(t) {
            let wifi = sec.kind == "wifi-iface";
            let open = wifi
                && sec
                    .get("encryption")
                    .is_none_or(|(e, _)| e == "none" || e == "owe");
            for (name, value, line, _) in &sec.options {
                let secret = UCI_SECRETS.contains(&name.as_str())
                    || wifi && (name == "key" || name.starts_with("key") && name.len() == 4);
                if !secret || value.is_empty() || value.starts_with("$p$") || open {
                    continue;
                }
                let who = sec
                    .get("username")
                    .or_else(|| sec.get("ssid"))
                    .map(|(u, _)| u.to_owned())
                    .unwrap_or_else(|| format!("{} {name}", sec.kind));
                match classify(value) {
                    Stored::Plain(v) => out.push(fail(
                        "firmware.credentials.hardcoded",
                        Severity::High,
                        &p,
                        Some(*line),
                        format!(
                            "`{name}` of `{who}` is set in plain text ({}): every unit has the same one",
                            masked(v)
                        ),
                    )),
                    stored => judge(out, &stored, &who, &p, *line),
                }
            }
        }
    }
}

/// Apache's `$apr1$` MD5 password hash: the MD5-crypt algorithm with the magic `$apr1$`
/// (as described in the Apache httpd password-format documentation).
fn apr1(password: &str, salt: &str) -> String {
    let pw = password.as_bytes();
    let salt = &salt.as_bytes()[..salt.len().min(8)];
    let alt = {
        let mut h = Md5::new();
        h.update(pw);
        h.update(salt);
        h.update(pw);
        h.finalize()
    };
    let mut h = Md5::new();
    h.update(pw);
    h.update(b"$apr1$");
    h.update(salt);
    let mut left = pw.len();
    while left > 0 {
        let n = left.min(16);
        h.update(&alt[..n]);
        left -= n;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            h.update([0u8]);
        } else {
            h.update(&pw[..1]);
        }
        i >>= 1;
    }
    let mut fin = h.finalize();
    for round in 0..1000 {
        let mut h = Md5::new();
        if round & 1 == 1 {
            h.update(pw);
        } else {
            h.update(fin);
        }
        if round % 3 != 0 {
            h.update(salt);
        }
        if round % 7 != 0 {
            h.update(pw);
        }
        if round & 1 == 1 {
            h.update(fin);
        } else {
            h.update(pw);
        }
        fin = h.finalize();
    }
    const ITOA: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::new();
    let mut put = |mut v: u32, n: usize| {
        for _ in 0..n {
            out.push(char::from(ITOA[(v & 0x3f) as usize]));
            v >>= 6;
        }
    };
    let b = |i: usize| u32::from(fin[i]);
    for (x, y, z) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        put(b(x) << 16 | b(y) << 8 | b(z), 4);
    }
    put(b(11), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_put_the_users_own_entries_first_and_repeat_none() {
        let c = candidates("admin");
        assert_eq!(c.first(), Some(&"admin"));
        let unique: BTreeSet<_> = c.iter().collect();
        assert_eq!(unique.len(), c.len());
        assert!(c.contains(&"7ujMko0vizxv"));
    }

    #[test]
    fn only_crypt_strings_of_their_schemes_exact_shape_reach_pwhash() {
        let md5 = "$1$79bz0K8z$Ii6Q/if83F1QodGmkb4Ah.";
        assert_eq!(crypt_scheme(md5), Some(CryptScheme::Md5));
        // The fuzzer's cases: NUL bytes in an MD5-crypt salt, short and long (the long one
        // is past the length the old check looked at).
        for nuls in [3, 250] {
            let bad = format!("$1$79b{}z0K8z$Ii6Q/if83F1QodGmkb4Ah.", "\0".repeat(nuls));
            assert_eq!(crypt_scheme(&bad), None, "{nuls} NULs");
            assert!(matches!(classify(&bad), Stored::Unverifiable));
        }
        let sha512 = format!("$6$saltsalt${}", "a".repeat(86));
        assert_eq!(
            crypt_scheme(&sha512),
            Some(CryptScheme::Sha { rounds: 5000 })
        );
        let with_rounds = format!("$5$rounds=20000$salt${}", "b".repeat(43));
        assert_eq!(
            crypt_scheme(&with_rounds),
            Some(CryptScheme::Sha { rounds: 20000 })
        );
        let bcrypt = format!("$2b$05${}", "c".repeat(53));
        assert_eq!(crypt_scheme(&bcrypt), Some(CryptScheme::Bcrypt { cost: 5 }));
        assert_eq!(crypt_scheme("aZGJuE6EXrjEE"), Some(CryptScheme::Des));
        for malformed in [
            "$1$$Ii6Q/if83F1QodGmkb4Ah.".to_owned(), // empty salt
            "$1$123456789$Ii6Q/if83F1QodGmkb4Ah.".to_owned(), // salt too long
            "$1$79b$Ii6Q/if83F1QodGmkb4Ah".to_owned(), // hash one short
            "$1$7 9$Ii6Q/if83F1QodGmkb4Ah.".to_owned(), // outside the alphabet
            format!("$5$rounds=abc$salt${}", "b".repeat(43)),
            format!("$5$rounds=999$salt${}", "b".repeat(43)),
            format!("$5$rounds=+5000$salt${}", "b".repeat(43)),
            format!("$6$saltsaltsaltsalts${}", "a".repeat(86)), // 17-character salt
            format!("$6$salt${}", "a".repeat(43)),              // a SHA-256 length
            "$2b$05$\u{1}".to_owned(),
            format!("$2b$5${}", "c".repeat(53)),
            format!("$2b$03${}", "c".repeat(53)),
            format!("$2b$05${}$", "c".repeat(53)),
            "aZGJuE6EXrjE\u{0}".to_owned(),
        ] {
            assert_eq!(crypt_scheme(&malformed), None, "{malformed:?}");
        }
    }

    #[test]
    fn costly_hashes_are_not_tried() {
        assert!(matches!(
            classify(&format!("$6$rounds=999999999$salt${}", "a".repeat(86))),
            Stored::Unverifiable
        ));
        assert!(matches!(
            classify(&format!("$2b$31${}", "a".repeat(53))),
            Stored::Unverifiable
        ));
        assert_eq!(
            crypt_scheme(&format!("$2b$31${}", "a".repeat(53))),
            Some(CryptScheme::Bcrypt { cost: 31 })
        );
        assert!(matches!(
            mosquitto_hash("$7$4000000000$AAAA$AAAA"),
            Stored::Unverifiable
        ));
    }
}
