//! dpkg's database: `var/lib/dpkg/status` with `info/<pkg>[:arch].list`, or the
//! `status.d/` directory of distroless images (one stanza a file, `<pkg>.md5sums` beside).

use super::control::{self, Stanza};
use super::{Installed, PackageSource, Problem, files_in};
use crate::tree::Tree;

pub const STATUS: &str = "var/lib/dpkg/status";
pub const STATUS_D: &str = "var/lib/dpkg/status.d";
const INFO: &str = "var/lib/dpkg/info";

/// An installed package from one stanza; `None` for a stanza without a name or version, or
/// one whose status is not installed.
pub(crate) fn from_stanza(s: &Stanza, database: &str) -> Option<Installed> {
    if !control::installed(s.get("Status")) {
        return None;
    }
    Some(Installed {
        name: s.line("Package")?,
        version: s.line("Version")?,
        arch: s.line("Architecture"),
        supplier: s.line("Maintainer"),
        // `Source: openssl (3.0.17-1)` when the binary version differs: the name is enough.
        source_package: s
            .line("Source")
            .and_then(|v| v.split_whitespace().next().map(str::to_owned)),
        database: format!("/{database}"),
        ..Installed::default()
    })
}

/// The installed packages of a `status` file's bytes.
pub fn parse_status(data: &[u8], database: &str) -> Vec<Installed> {
    control::stanzas(data)
        .iter()
        .filter_map(|s| from_stanza(s, database))
        .collect()
}

/// The paths of an `md5sums` file (`<md5>  <path without leading slash>`).
fn md5sums_paths(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| {
            let (_, path) = l.split_once("  ")?;
            Some(format!("/{}", path.trim_start_matches('/')))
        })
        .collect()
}

/// Every dpkg package in `tree`.
pub fn read(tree: &Tree) -> (Vec<(PackageSource, Installed)>, Vec<Problem>) {
    let mut out = Vec::new();
    if let Some(data) = tree.file(STATUS) {
        for mut p in parse_status(data, STATUS) {
            // Multi-Arch: same packages name their list `<pkg>:<arch>.list`.
            let list = p
                .arch
                .as_ref()
                .and_then(|a| tree.file(&format!("{INFO}/{}:{a}.list", p.name)))
                .or_else(|| tree.file(&format!("{INFO}/{}.list", p.name)));
            if let Some(list) = list {
                p.files = control::file_list(list);
            }
            out.push((PackageSource::Dpkg, p));
        }
    }
    let entries = files_in(tree, STATUS_D);
    let sums: std::collections::BTreeMap<&str, &[u8]> = entries
        .iter()
        .filter_map(|&(n, data)| Some((n.strip_suffix(".md5sums")?, data)))
        .collect();
    for &(name, data) in &entries {
        if name.ends_with(".md5sums") {
            continue;
        }
        let database = format!("{STATUS_D}/{name}");
        for mut p in parse_status(data, &database) {
            if let Some(sums) = sums.get(name) {
                p.files = md5sums_paths(sums);
            }
            out.push((PackageSource::DpkgStatusD, p));
        }
    }
    (out, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_and_removed_packages() {
        let status = b"Package: libssl3\nStatus: install ok installed\nPriority: optional\nArchitecture: armhf\nMulti-Arch: same\nSource: openssl (3.0.17-1~deb12u2)\nVersion: 3.0.17-1~deb12u2\nMaintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>\nDescription: Secure Sockets Layer toolkit\n shared libraries\n\nPackage: telnetd\nStatus: deinstall ok config-files\nVersion: 0.17-44\n";
        let p = parse_status(status, STATUS);
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].name, "libssl3");
        assert_eq!(p[0].version, "3.0.17-1~deb12u2");
        assert_eq!(p[0].arch.as_deref(), Some("armhf"));
        assert_eq!(p[0].source_package.as_deref(), Some("openssl"));
        assert_eq!(
            p[0].supplier.as_deref(),
            Some("Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>")
        );
        assert_eq!(p[0].database, "/var/lib/dpkg/status");
        assert_eq!(
            md5sums_paths(b"d41d8cd98f00b204e9800998ecf8427e  usr/lib/x.so\n"),
            ["/usr/lib/x.so"]
        );
    }
}
