//! Static checks on an unpacked filesystem. Each finding names its check ID (the vocabulary
//! in docs/ASSESSMENT.md that rules refer to), the file and line, and what was seen.
//!
//! Nothing here runs content from the image: files are read as bytes and parsed.

use std::path::Path;

use crate::tree::Tree;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub failed: bool,
    pub severity: &'static str,
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
}

fn fail(
    check: &'static str,
    severity: &'static str,
    file: &str,
    line: Option<usize>,
    message: String,
) -> Finding {
    Finding {
        check,
        failed: true,
        severity,
        file: file.to_owned(),
        line: line.map(|l| l as u64),
        message,
    }
}

/// Public default credentials, tried against every password hash in the image.
/// Source: the username/password table of the Mirai botnet's scanner (2016), as published in
/// its leaked source and reproduced in many analyses; one `user:password` per line.
const DEFAULT_CREDENTIALS: &str = include_str!("../data/default-credentials.txt");

pub fn analyze(tree: &Tree) -> Vec<Finding> {
    let mut out = Vec::new();
    credentials(tree, &mut out);
    services(tree, &mut out);
    keys(tree, &mut out);
    configuration(tree, &mut out);
    out
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// shadow and passwd: empty passwords, a second UID 0, weak hash schemes, and passwords from
/// the default list.
fn credentials(tree: &Tree, out: &mut Vec<Finding>) {
    let mut hashes: Vec<(String, String, &str, usize)> = Vec::new(); // user, hash, file, line
    if let Some(passwd) = tree.file("etc/passwd").and_then(text) {
        let mut roots = Vec::new();
        for (i, line) in passwd.lines().enumerate() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 7 {
                continue;
            }
            if f[2] == "0" {
                roots.push((f[0], i + 1));
            }
            if f[1].is_empty() {
                out.push(fail(
                    "firmware.credentials.empty-password",
                    "critical",
                    "etc/passwd",
                    Some(i + 1),
                    format!(
                        "account `{}` has an empty password field: anyone can log in",
                        f[0]
                    ),
                ));
            } else if f[1] != "x" && f[1] != "*" && !f[1].starts_with('!') {
                hashes.push((f[0].to_owned(), f[1].to_owned(), "etc/passwd", i + 1));
            }
        }
        for (user, line) in roots.iter().skip(1) {
            out.push(fail(
                "firmware.credentials.duplicate-root",
                "high",
                "etc/passwd",
                Some(*line),
                format!("account `{user}` also has UID 0 (root privileges)"),
            ));
        }
    }
    if let Some(shadow) = tree.file("etc/shadow").and_then(text) {
        for (i, line) in shadow.lines().enumerate() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 2 {
                continue;
            }
            if f[1].is_empty() {
                out.push(fail(
                    "firmware.credentials.empty-password",
                    "critical",
                    "etc/shadow",
                    Some(i + 1),
                    format!("account `{}` has no password: anyone can log in", f[0]),
                ));
            } else if !f[1].starts_with('!') && !f[1].starts_with('*') {
                hashes.push((f[0].to_owned(), f[1].to_owned(), "etc/shadow", i + 1));
            }
        }
    }
    for (user, hash, file, line) in hashes {
        let scheme = if hash.starts_with("$1$") {
            Some("MD5-crypt")
        } else if !hash.starts_with('$') && hash.len() == 13 {
            Some("DES crypt")
        } else {
            None
        };
        if let Some(scheme) = scheme {
            out.push(fail(
                "firmware.credentials.weak-hash",
                "medium",
                file,
                Some(line),
                format!("the password of `{user}` is stored with {scheme}, which is fast to crack"),
            ));
        }
        // Only supported schemes are tried; each try is one hash computation, so the work is
        // bounded by the list's length per account.
        let cracked = DEFAULT_CREDENTIALS
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(u, _)| *u == user || *u == "*")
            .map(|(_, p)| p)
            .find(|p| pwhash::unix::verify(p, &hash));
        if let Some(password) = cracked {
            let shown = if password.is_empty() {
                "(empty)".to_owned()
            } else {
                format!("`{password}`")
            };
            out.push(fail(
                "firmware.credentials.default-password",
                "critical",
                file,
                Some(line),
                format!(
                    "the password of `{user}` is {shown}, from a public list of default credentials"
                ),
            ));
        }
    }
}

/// Services started at boot: a shell on a console without login, telnet, from inittab, rc
/// scripts and inetd.
fn services(tree: &Tree, out: &mut Vec<Finding>) {
    if let Some(inittab) = tree.file("etc/inittab").and_then(text) {
        for (i, line) in inittab.lines().enumerate() {
            let line = line.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            // busybox: id::action:process; System V: id:runlevels:action:process.
            let f: Vec<&str> = line.splitn(4, ':').collect();
            if f.len() < 4 {
                continue;
            }
            let (action, process) = (f[2], f[3]);
            let program = process
                .trim_start_matches('-')
                .split_whitespace()
                .next()
                .unwrap_or("");
            let shell = matches!(
                Path::new(program).file_name().and_then(|n| n.to_str()),
                Some("sh" | "ash" | "bash" | "hush")
            );
            if shell && matches!(action, "respawn" | "askfirst" | "once" | "sysinit" | "wait") {
                let console = if f[0].is_empty() {
                    "the console".to_owned()
                } else {
                    f[0].to_owned()
                };
                out.push(fail(
                    "firmware.services.root-console",
                    "high",
                    "etc/inittab",
                    Some(i + 1),
                    format!(
                        "a root shell ({program}) is started on {console} without a login prompt"
                    ),
                ));
            }
            if process.contains("telnetd") {
                out.push(fail(
                    "firmware.services.telnet",
                    "high",
                    "etc/inittab",
                    Some(i + 1),
                    "telnetd is started from inittab".to_owned(),
                ));
            }
        }
    }
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let boot_script = p.starts_with("etc/init.d/")
            || p.starts_with("etc/rc.d/")
            || p == "etc/rc.local"
            || p.starts_with("etc/rc");
        let inetd = p == "etc/inetd.conf";
        if !(boot_script || inetd) {
            continue;
        }
        let Some(text) = text(data) else { continue };
        for (i, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap_or("");
            let starts_telnet = if inetd {
                code.split_whitespace().next() == Some("telnet")
            } else {
                code.split_whitespace().any(|w| w.ends_with("telnetd"))
            };
            if starts_telnet {
                out.push(fail(
                    "firmware.services.telnet",
                    "high",
                    &p,
                    Some(i + 1),
                    format!("telnet is started at boot by {p}"),
                ));
                break;
            }
        }
    }
}

/// Private keys in the image: every unit shipped with this image has the same key.
fn keys(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("dropbear_") && name.ends_with("_host_key")
            || name.starts_with("ssh_host_") && name.ends_with("_key")
        {
            out.push(fail(
                "firmware.keys.shared-host-key",
                "high",
                &p,
                None,
                format!("SSH host key {name} is baked into the image, so every unit shares it"),
            ));
            continue;
        }
        if data.len() > 1 << 20 {
            continue;
        }
        let Some(text) = text(data) else { continue };
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("-----BEGIN ") && line.contains("PRIVATE KEY-----") {
                let kind = line
                    .trim_start_matches("-----BEGIN ")
                    .trim_end_matches("-----");
                out.push(fail(
                    "firmware.keys.private-key",
                    "high",
                    &p,
                    Some(i + 1),
                    format!("{kind} in the image: every unit has the same key"),
                ));
                break;
            }
        }
    }
}

/// Configuration that opens the device: anonymous MQTT, UPnP without secure mode, and
/// updates fetched over plain HTTP.
fn configuration(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if !p.starts_with("etc/") || data.len() > 1 << 20 {
            continue;
        }
        let Some(text) = text(data) else { continue };
        let mosquitto = p.starts_with("etc/mosquitto/") && p.ends_with(".conf");
        let upnp = p == "etc/miniupnpd.conf"
            || p.ends_with("miniupnpd/miniupnpd.conf")
            || p == "etc/config/upnpd";
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if mosquitto
                && words.first() == Some(&"allow_anonymous")
                && words.get(1) == Some(&"true")
            {
                out.push(fail(
                    "firmware.config.mqtt-anonymous",
                    "high",
                    &p,
                    Some(i + 1),
                    "the MQTT broker accepts clients without authentication".to_owned(),
                ));
            }
            if upnp {
                // miniupnpd.conf: secure_mode=no; OpenWrt UCI: option secure_mode '0'.
                let unquoted = line.replace(['\'', '"'], "");
                if unquoted == "secure_mode=no" || unquoted == "option secure_mode 0" {
                    out.push(fail("firmware.config.upnp-insecure", "medium", &p, Some(i + 1), "UPnP runs without secure mode: any LAN client can map ports for any address".to_owned()));
                }
            }
            if let Some(url) = plain_update_url(&p, line) {
                out.push(fail(
                    "firmware.update.http-url",
                    "high",
                    &p,
                    Some(i + 1),
                    format!(
                        "updates are fetched over plain HTTP ({url}), open to tampering in transit"
                    ),
                ));
            }
        }
    }
}

/// An `http://` URL that software updates come from: opkg and apk package feeds, and
/// settings whose name says update, upgrade, OTA or firmware.
fn plain_update_url(path: &str, line: &str) -> Option<String> {
    let start = line.find("http://")?;
    let url: String = line[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    let feed = (path == "etc/opkg.conf" || path.starts_with("etc/opkg/"))
        && line.starts_with("src")
        || path == "etc/apk/repositories";
    let key = line[..start].to_ascii_lowercase();
    let update_setting = ["update", "upgrade", "ota", "firmware"]
        .iter()
        .any(|k| key.contains(k));
    (feed || update_setting).then_some(url)
}
