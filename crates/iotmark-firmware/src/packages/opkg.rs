//! opkg's database (OpenWrt, Yocto): a `status` file of control stanzas, and per package
//! `info/<pkg>.control` (the package's own control file, with Maintainer and License) and
//! `info/<pkg>.list` (the files it installed).

use super::control;
use super::{Installed, Problem, files_in};
use crate::tree::Tree;

/// Where opkg keeps its state: OpenWrt uses `usr/lib/opkg`, Yocto images `var/lib/opkg`.
const ROOTS: [&str; 2] = ["usr/lib/opkg", "var/lib/opkg"];

/// Every opkg package in `tree`. Without a `status` file the `info/*.control` files are
/// the list (images whose status file was dropped to save flash).
pub fn read(tree: &Tree) -> (Vec<Installed>, Vec<Problem>) {
    let mut out = Vec::new();
    for root in ROOTS {
        let info = format!("{root}/info");
        let status_path = format!("{root}/status");
        let mut listed: Vec<Installed> = match tree.file(&status_path) {
            Some(data) => control::stanzas(data)
                .iter()
                .filter_map(|s| super::dpkg::from_stanza(s, &status_path))
                .collect(),
            None => files_in(tree, &info)
                .into_iter()
                .filter(|(name, _)| name.ends_with(".control"))
                .flat_map(|(name, data)| {
                    let path = format!("{info}/{name}");
                    control::stanzas(data)
                        .iter()
                        .filter_map(|s| super::dpkg::from_stanza(s, &path))
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        for p in &mut listed {
            if let Some(c) = tree.file(&format!("{info}/{}.control", p.name))
                && let Some(s) = control::stanzas(c).first()
            {
                p.supplier = p.supplier.take().or_else(|| s.line("Maintainer"));
                p.source_package = p.source_package.take().or_else(|| s.line("Source"));
                p.licenses.extend(s.line("License"));
                if p.arch.is_none() {
                    p.arch = s.line("Architecture");
                }
            }
            if let Some(list) = tree.file(&format!("{info}/{}.list", p.name)) {
                p.files = control::file_list(list);
            }
        }
        out.extend(listed);
    }
    (out, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Entry, Kind};

    #[test]
    fn status_enriched_from_info_control_and_list() {
        let mut t = Tree::default();
        for (path, text) in [
            (
                "usr/lib/opkg/status",
                "Package: dnsmasq\nVersion: 2.90-2\nDepends: libc\nStatus: install user installed\nArchitecture: mips_24kc\nInstalled-Time: 1700000000\n\n",
            ),
            (
                "usr/lib/opkg/info/dnsmasq.control",
                "Package: dnsmasq\nVersion: 2.90-2\nLicense: GPL-2.0\nSection: net\nMaintainer: Kevin Darbyshire-Bryant <ldir@darbyshire-bryant.me.uk>\nSource: package/network/services/dnsmasq\nArchitecture: mips_24kc\n",
            ),
            (
                "usr/lib/opkg/info/dnsmasq.list",
                "/etc/init.d/dnsmasq\n/usr/sbin/dnsmasq\n",
            ),
        ] {
            let entry = Entry {
                kind: Kind::File(text.as_bytes().to_vec()),
                mode: 0o644,
                uid: 0,
                gid: 0,
            };
            t.insert(std::path::Path::new(path), entry).expect("path");
        }
        let (p, problems) = read(&t);
        assert!(problems.is_empty());
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].licenses, ["GPL-2.0"]);
        assert_eq!(
            p[0].supplier.as_deref(),
            Some("Kevin Darbyshire-Bryant <ldir@darbyshire-bryant.me.uk>")
        );
        assert_eq!(p[0].files, ["/etc/init.d/dnsmasq", "/usr/sbin/dnsmasq"]);
        assert_eq!(p[0].database, "/usr/lib/opkg/status");
    }
}
