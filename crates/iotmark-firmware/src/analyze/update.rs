//! How the device updates: whether it holds material to verify updates with (passing
//! observations assess can count), whether an updater runs without any, and update URLs on
//! plain HTTP. Updaters are found by what they do ([`super::updater`]); the fixed list of
//! well-known updater paths here is the fallback for those whose work happens elsewhere
//! (OpenWrt's sysupgrade hands the write to a stage-two script).

use std::path::Path;

use super::{Finding, Severity, fail, file_name, pass, shell_words, text};
use crate::tree::{Kind, Tree};

/// Programs known to install updates or packages, by path. Present as a file or a link
/// (busybox-style).
const UPDATERS: &[&str] = &[
    "sbin/sysupgrade",
    "bin/opkg",
    "usr/bin/opkg",
    "sbin/apk",
    "usr/bin/rauc",
    "usr/bin/swupdate",
    "usr/bin/mender",
    "usr/bin/mender-update",
    "sbin/fwupdate",
    "usr/sbin/fwupdate",
    "usr/bin/fwupdate",
    "usr/sbin/fw_update",
    "usr/bin/apt-get",
];

pub(super) fn check(tree: &Tree, image_signed: Option<bool>, out: &mut Vec<Finding>) {
    let before = out.len();
    verification_material(tree, out);
    let mut verified = out.len() > before;
    if image_signed == Some(true) {
        verified = true;
    }
    // An updater of the image's own that checks signatures is verification too.
    verified |= super::updater::check(tree, out);
    opkg_signatures(tree, out);
    let updater = UPDATERS
        .iter()
        .find(|p| tree.entries.contains_key(Path::new(p)));
    if let (Some(updater), false) = (updater, verified) {
        let image = if image_signed == Some(false) {
            "; the image itself carries no signature either"
        } else {
            ""
        };
        out.push(fail(
            "firmware.update.unsigned",
            Severity::High,
            updater,
            None,
            format!(
                "`/{updater}` installs updates, but the image holds no key to verify them with (no opkg/usign, apk, RAUC, SWUpdate, Mender or apt keys){image}"
            ),
        ));
    }
    http_urls(tree, out);
}

/// Public keys and keyrings that updaters verify signatures against.
fn verification_material(tree: &Tree, out: &mut Vec<Finding>) {
    let mut found = |file: &str, line: Option<usize>, what: String| {
        out.push(pass(
            "firmware.update.verification-key",
            Severity::High,
            file,
            line,
            what,
        ));
    };
    for (path, entry) in &tree.entries {
        let Kind::File(data) = &entry.kind else {
            continue;
        };
        let p = path.to_string_lossy();
        let parent = path.parent().and_then(Path::to_str).unwrap_or("");
        let name = file_name(path);
        if parent == "etc/opkg/keys" && !data.is_empty() {
            found(
                &p,
                None,
                format!(
                    "usign public key {name} verifies opkg package lists and sysupgrade images"
                ),
            );
        } else if parent == "etc/apk/keys" && name.ends_with(".pub") {
            found(&p, None, format!("apk verifies packages against {name}"));
        } else if (parent == "etc/apt/trusted.gpg.d" || parent == "usr/share/keyrings")
            && (name.ends_with(".gpg") || name.ends_with(".asc"))
            || p == "etc/apt/trusted.gpg"
        {
            found(
                &p,
                None,
                format!("apt verifies repositories against the keyring {name}"),
            );
        } else if p == "etc/rauc/system.conf" {
            if let Some((line, key)) = ini_value(data, "keyring", &["path", "directory"]) {
                found(
                    &p,
                    Some(line),
                    format!("RAUC verifies bundles against the keyring {key}"),
                );
            }
        } else if p.starts_with("etc/swupdate")
            && (name.ends_with(".cfg") || name.ends_with(".conf"))
            || p == "etc/swupdate.cfg"
            || p == "etc/default/swupdate"
        {
            if let Some(t) = text(data) {
                for (i, l) in t.lines().enumerate() {
                    let l = l.trim();
                    if (l.starts_with("public-key-file") || l.contains(" -k "))
                        && !l.starts_with('#')
                    {
                        found(
                            &p,
                            Some(i + 1),
                            "SWUpdate verifies images against a configured public key".to_owned(),
                        );
                        break;
                    }
                }
            }
        } else if p == "etc/mender/mender.conf"
            && let Some(t) = text(data)
            && let Some(i) = t.lines().position(|l| l.contains("\"ArtifactVerifyKey"))
        {
            found(
                &p,
                Some(i + 1),
                "Mender verifies artifacts against ArtifactVerifyKey".to_owned(),
            );
        }
    }
}

/// The value of `key` (any of `names`) in the `[section]` of an INI file, with its line.
fn ini_value(data: &[u8], section: &str, names: &[&str]) -> Option<(usize, String)> {
    let t = text(data)?;
    let mut inside = false;
    for (i, l) in t.lines().enumerate() {
        let l = l.trim();
        if l.starts_with('[') {
            inside = l.trim_matches(['[', ']']) == section;
        } else if inside
            && let Some((k, v)) = l.split_once('=')
            && names.contains(&k.trim())
        {
            return Some((i + 1, v.trim().to_owned()));
        }
    }
    None
}

/// opkg checks package signatures only with `option check_signature` set (OpenWrt writes
/// it bare, which means on); `0` turns it off explicitly.
fn opkg_signatures(tree: &Tree, out: &mut Vec<Finding>) {
    let p = "etc/opkg.conf";
    let Some(t) = tree.file(p).and_then(text) else {
        return;
    };
    let mut setting = None;
    for (i, line) in t.lines().enumerate() {
        let w = shell_words(line);
        if w.first() == Some(&"option") && w.get(1) == Some(&"check_signature") {
            setting = Some((i + 1, w.get(2).copied().unwrap_or("1")));
        }
    }
    match setting {
        Some((line, "0" | "false" | "no" | "off")) => out.push(fail(
            "firmware.update.unsigned",
            Severity::High,
            p,
            Some(line),
            "opkg is told not to check package signatures (`option check_signature 0`)".to_owned(),
        )),
        Some(_) => {}
        None => out.push(fail(
            "firmware.update.unsigned",
            Severity::High,
            p,
            None,
            "opkg checks no package signatures: opkg.conf has no `option check_signature`"
                .to_owned(),
        )),
    }
}

/// `http://` update sources: opkg and apk feeds, UCI and other settings named after
/// updates, upgrades, OTA or firmware.
fn http_urls(tree: &Tree, out: &mut Vec<Finding>) {
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if !p.starts_with("etc/") {
            continue;
        }
        let Some(t) = text(data) else { continue };
        for (i, raw) in t.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some(url) = plain_update_url(&p, line) {
                out.push(fail(
                    "firmware.update.http-url",
                    Severity::High,
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
    let url: String = line
        .get(start..)?
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    let feed = (path == "etc/opkg.conf" || path.starts_with("etc/opkg/"))
        && line.starts_with("src")
        || path == "etc/apk/repositories";
    let key = line.get(..start)?.to_ascii_lowercase();
    let update_setting = ["update", "upgrade", "ota", "firmware"]
        .iter()
        .any(|k| key.contains(k));
    (feed || update_setting).then_some(url)
}
