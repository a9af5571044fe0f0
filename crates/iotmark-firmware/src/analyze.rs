//! Static checks on an unpacked filesystem. Each finding names its check ID (the vocabulary
//! in docs/ASSESSMENT.md that rules refer to), the file and line, and what was seen.
//!
//! Nothing here runs content from the image: files are read as bytes and parsed, with every
//! read bounded. The checks are grouped by what they look at:
//! - [`credentials`]: shadow/passwd, htpasswd, mosquitto password files, UCI passwords;
//! - [`services`]: what starts at boot (inittab, rc scripts that are enabled, systemd, inetd);
//! - [`keys`]: private keys and certificates (PEM, DER, OpenSSH, dropbear);
//! - [`config`]: settings that open the device (anonymous MQTT, UPnP, plain-HTTP admin, debug);
//! - [`update`]: how updates are verified and fetched;
//! - [`updater`]: scripts and programs that download an image and write flash, by content;
//! - [`hardening`]: exploit mitigations of the ELF binaries, aggregated per property;
//! - [`kernel`]: the kernel's build configuration (hardening options) and its modules' vermagic.

mod config;
mod credentials;
mod hardening;
pub mod kernel;
pub mod keys;
pub mod public_key;
mod services;
mod update;
pub mod updater;

use std::path::{Component, Path, PathBuf};

pub use iotmark_evidence::Severity;

use crate::tree::{Kind, Tree};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    pub check: &'static str,
    /// `false` for a passing observation that assess counts as positive evidence (an update
    /// verification key is present, every binary has NX, a certificate is valid).
    pub failed: bool,
    /// Serialised as the evidence schema spells it: `low`, `medium`, `high`, `critical`.
    pub severity: Severity,
    pub file: String,
    pub line: Option<u64>,
    pub message: String,
    /// The public half of a key the finding is about, as a network peer would show it, so
    /// the live probe can recognise the key on a running device.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<public_key::PublicKeyDigest>,
}

impl Finding {
    /// The severity as reports write it.
    pub fn severity_name(&self) -> &'static str {
        match self.severity {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What the checks need to know beyond the tree itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// "Now" for certificate expiry, in seconds since the Unix epoch. A parameter so that a
    /// scan can be reproduced (and tests do not depend on the clock).
    pub now: i64,
    /// Whether the image that held this tree carries a signature (a FIT `signature` node, a
    /// signed trailer), as found by the unpacker: `Some(true)` counts as update-verification
    /// material, `Some(false)` as its absence, `None` when the unpacker cannot tell.
    pub image_signed: Option<bool>,
}

impl Context {
    /// The current time, and nothing known about the image's signature.
    pub fn current() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Self {
            now,
            image_signed: None,
        }
    }
}

pub(crate) fn fail(
    check: &'static str,
    severity: Severity,
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
        public_keys: Vec::new(),
    }
}

/// A passing observation; its severity says how much the property matters when it fails.
pub(crate) fn pass(
    check: &'static str,
    severity: Severity,
    file: &str,
    line: Option<usize>,
    message: String,
) -> Finding {
    Finding {
        failed: false,
        ..fail(check, severity, file, line, message)
    }
}

/// Every check ID [`analyze`] can emit. A test keeps this in step with the rules, so that
/// no finding lands without a requirement it bears on.
pub const CHECK_IDS: &[&str] = &[
    "firmware.certs.expired",
    "firmware.config.debug-interface",
    "firmware.config.http-admin",
    "firmware.config.mqtt-anonymous",
    "firmware.config.upnp-insecure",
    "firmware.credentials.default-password",
    "firmware.credentials.duplicate-root",
    "firmware.credentials.empty-password",
    "firmware.credentials.hardcoded",
    "firmware.credentials.weak-hash",
    "firmware.hardening.canary",
    "firmware.hardening.fortify",
    "firmware.hardening.nx",
    "firmware.hardening.pie",
    "firmware.hardening.relro",
    "firmware.kernel.devmem",
    "firmware.kernel.fortify-source",
    "firmware.kernel.hardened-usercopy",
    "firmware.kernel.kaslr",
    "firmware.kernel.module-mismatch",
    "firmware.kernel.module-signing",
    "firmware.kernel.slab-freelist-hardened",
    "firmware.kernel.stack-protector",
    "firmware.kernel.strict-rwx",
    "firmware.keys.private-key",
    "firmware.keys.shared-host-key",
    "firmware.keys.weak",
    "firmware.services.root-console",
    "firmware.services.telnet",
    "firmware.services.unneeded",
    "firmware.update.http-download",
    "firmware.update.http-url",
    "firmware.update.unsigned",
    "firmware.update.unverified-write",
    "firmware.update.updater",
    "firmware.update.verification-key",
];

/// Runs every check with the current time and no knowledge of the image's signature.
pub fn analyze(tree: &Tree) -> Vec<Finding> {
    analyze_with(tree, &Context::current())
}

/// Runs every check with an explicit [`Context`].
pub fn analyze_with(tree: &Tree, ctx: &Context) -> Vec<Finding> {
    let mut out = Vec::new();
    credentials::check(tree, &mut out);
    services::check(tree, &mut out);
    keys::check(tree, ctx.now, &mut out);
    config::check(tree, &mut out);
    update::check(tree, ctx.image_signed, &mut out);
    hardening::check(tree, &mut out);
    kernel::check(tree, &mut out);
    out
}

/// Text files larger than this are not read line by line: configuration and scripts are
/// small, and a bound keeps a huge blob from costing a full UTF-8 pass per check.
pub(crate) const MAX_TEXT: usize = 1 << 20;

pub(crate) fn text(data: &[u8]) -> Option<&str> {
    if data.len() > MAX_TEXT {
        return None;
    }
    std::str::from_utf8(data).ok()
}

/// The path a symlink at `link` points to, resolved inside the tree (one level, lexically:
/// absolute targets are taken from the tree root, `..` cannot climb above it).
pub(crate) fn link_target(tree: &Tree, link: &Path) -> Option<PathBuf> {
    let Kind::Symlink(target) = &tree.entries.get(link)?.kind else {
        return None;
    };
    let base = if target.is_absolute() {
        PathBuf::new()
    } else {
        link.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut out = base;
    for c in target.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    Some(out)
}

/// Follows symlinks inside the tree (a few hops, so a loop ends) to the final path.
pub(crate) fn resolve(tree: &Tree, path: &Path) -> PathBuf {
    let mut at = path.to_path_buf();
    for _ in 0..8 {
        match link_target(tree, &at) {
            Some(next) => at = next,
            None => break,
        }
    }
    at
}

/// The file name of a path as text (empty when it has none or is not UTF-8).
pub(crate) fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// One section of an OpenWrt UCI file (`/etc/config/*`): `config <type> ['<name>']` followed
/// by `option <name> '<value>'` and `list <name> '<value>'` lines.
#[derive(Debug, Default)]
pub(crate) struct UciSection {
    pub kind: String,
    /// (name, value, line, is_list)
    pub options: Vec<(String, String, usize, bool)>,
}

impl UciSection {
    pub fn get(&self, name: &str) -> Option<(&str, usize)> {
        self.options
            .iter()
            .find(|(n, _, _, list)| n == name && !list)
            .map(|(_, v, l, _)| (v.as_str(), *l))
    }
}

/// Splits a UCI line into words, honouring single and double quotes.
fn uci_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                started = true;
            }
            None if c == '#' => break,
            None if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut cur));
                    started = false;
                }
            }
            None => {
                cur.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(cur);
    }
    words
}

/// Parses UCI text; lines that do not fit are skipped (the format has no escapes worth
/// honouring for these checks).
pub(crate) fn uci(text: &str) -> Vec<UciSection> {
    let mut sections: Vec<UciSection> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let words = uci_words(line);
        match words.first().map(String::as_str) {
            Some("config") => sections.push(UciSection {
                kind: words.get(1).cloned().unwrap_or_default(),
                options: Vec::new(),
            }),
            Some(kw @ ("option" | "list")) => {
                if let (Some(sec), Some(name)) = (sections.last_mut(), words.get(1)) {
                    let value = words.get(2).cloned().unwrap_or_default();
                    sec.options.push((name.clone(), value, i + 1, kw == "list"));
                }
            }
            _ => {}
        }
    }
    sections
}

/// The shell words of one script line before any comment, with quotes removed (a simple
/// split: enough to see which program a line starts).
pub(crate) fn shell_words(line: &str) -> Vec<&str> {
    let code = match line.find(" #") {
        Some(i) => &line[..i],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    };
    code.split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '(' | ')' | '`'))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uci_reads_quoted_values_and_lists() {
        let s = uci(
            "config uhttpd 'main'\n\tlist listen_http '0.0.0.0:80'\n\toption redirect_https \"1\" # x\n",
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].kind, "uhttpd");
        assert_eq!(s[0].get("redirect_https"), Some(("1", 3)));
        assert_eq!(s[0].get("listen_http"), None, "a list is not an option");
        assert_eq!(
            s[0].options[0],
            ("listen_http".into(), "0.0.0.0:80".into(), 2, true)
        );
    }

    #[test]
    fn shell_words_split_commands() {
        assert_eq!(
            shell_words("telnetd -p 65534 & # comment"),
            ["telnetd", "-p", "65534"]
        );
        assert!(shell_words("# telnetd").is_empty());
        assert_eq!(shell_words("a;\"b\"|c"), ["a", "b", "c"]);
    }
}
