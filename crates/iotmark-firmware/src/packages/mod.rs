//! What an image's package managers say they installed.
//!
//! One reader per database kind, each of bytes from the image's [`Tree`] and each bounded:
//!
//! - [`dpkg`]: `var/lib/dpkg/status` (+ `info/<pkg>[:arch].list`), and the `status.d/`
//!   layout of distroless images (+ `<pkg>.md5sums`);
//! - [`opkg`]: `usr/lib/opkg/status` or `var/lib/opkg/status` (+ `info/<pkg>.control`
//!   and `.list`);
//! - [`apk`]: the `lib/apk/db/installed` file;
//! - [`rpm`]: `var/lib/rpm/rpmdb.sqlite`, BerkeleyDB `Packages`, ndb `Packages.db`, all
//!   holding rpm header blobs;
//! - [`lang`]: Python `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`, npm
//!   `node_modules/**/package.json`;
//! - [`changelog`]: `usr/share/doc/<pkg>/changelog.Debian.gz`, the versions and the CVE
//!   IDs each entry names, for the back-port check.
//!
//! A database that does not parse is reported ([`Problem`]) and the others still count.

pub mod apk;
pub mod changelog;
mod control;
pub mod dpkg;
pub mod elf_note;
pub mod lang;
pub mod opkg;
pub mod rpm;

use crate::tree::{Kind, Tree};

pub use changelog::ChangelogEntry;

/// Most packages read from one image, across all databases.
pub const MAX_PACKAGES: usize = 100_000;
/// Most owned-file paths kept for one image, across all packages.
pub const MAX_OWNED_FILES: usize = 2_000_000;

/// The database a package was listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageSource {
    /// `var/lib/dpkg/status`.
    Dpkg,
    /// `var/lib/dpkg/status.d/*` (distroless images).
    DpkgStatusD,
    /// opkg's `status` (OpenWrt, Yocto).
    Opkg,
    /// `lib/apk/db/installed` (Alpine, postmarketOS).
    Apk,
    /// `var/lib/rpm/rpmdb.sqlite`.
    RpmSqlite,
    /// `var/lib/rpm/Packages`, a BerkeleyDB hash database.
    RpmBerkeleyDb,
    /// `var/lib/rpm/Packages.db`, rpm's own ndb format (SUSE).
    RpmNdb,
    /// `*.dist-info/METADATA` or `*.egg-info/PKG-INFO`.
    Python,
    /// `node_modules/**/package.json`.
    Npm,
}

/// An installed package, as its database lists it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Installed {
    pub name: String,
    /// The full package version, without an rpm epoch (that is [`Installed::epoch`]); dpkg
    /// versions keep theirs (`1:2.10-12`), as dpkg writes it.
    pub version: String,
    /// rpm's EPOCH tag.
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    /// Maintainer, Packager, Vendor or author.
    pub supplier: Option<String>,
    pub licenses: Vec<String>,
    /// The source package (dpkg `Source:`, apk `o:`, rpm SOURCERPM).
    pub source_package: Option<String>,
    /// Paths the package owns, with a leading `/`, without directories.
    pub files: Vec<String>,
    /// The database file, with a leading `/`.
    pub database: String,
}

/// A reason a database or a file could not be read: the file and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// The distribution from `etc/os-release` (or `usr/lib/os-release`, or
/// `etc/debian_version`), for purl namespaces and `distro` qualifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Distro {
    /// `ID`, lower case.
    pub id: Option<String>,
    /// `VERSION_ID`.
    pub version_id: Option<String>,
}

impl Distro {
    pub fn of(tree: &Tree) -> Distro {
        let text = tree
            .file("etc/os-release")
            .or_else(|| tree.file("usr/lib/os-release"));
        if let Some(text) = text {
            let text = String::from_utf8_lossy(text);
            let value = |key: &str| {
                text.lines().find_map(|l| {
                    let v = l.strip_prefix(key)?.strip_prefix('=')?;
                    let v = v.trim().trim_matches(['"', '\'']).trim();
                    (!v.is_empty()).then(|| v.to_owned())
                })
            };
            return Distro {
                id: value("ID").map(|v| v.to_ascii_lowercase()),
                version_id: value("VERSION_ID"),
            };
        }
        // A Debian root without os-release (old or minimal images): `12.5` there is
        // VERSION_ID `12` in os-release, so the qualifier names the major release alike.
        if let Some(text) = tree.file("etc/debian_version") {
            let text = String::from_utf8_lossy(text);
            let v = text.trim();
            let major = v.split('.').next().unwrap_or(v);
            return Distro {
                id: Some("debian".to_owned()),
                version_id: (!major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| major.to_owned()),
            };
        }
        Distro::default()
    }

    /// `<ID>-<VERSION_ID>`, the purl `distro` qualifier.
    fn qualifier(&self) -> Option<String> {
        Some(format!(
            "{}-{}",
            self.id.as_deref()?,
            self.version_id.as_deref()?
        ))
    }
}

/// Everything the package databases of one tree say, with what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub packages: Vec<(PackageSource, Installed)>,
    /// Changelog entries by Debian package name (dpkg packages only).
    pub changelogs: std::collections::BTreeMap<String, Vec<ChangelogEntry>>,
    pub problems: Vec<Problem>,
}

/// Reads every package database in `tree`.
pub fn read(tree: &Tree) -> Listing {
    let mut listing = Listing::default();
    let mut found: Vec<(PackageSource, Installed)> = Vec::new();
    let (dpkg, problems) = dpkg::read(tree);
    found.extend(dpkg);
    listing.problems.extend(problems);
    let (opkg, problems) = opkg::read(tree);
    found.extend(opkg.into_iter().map(|p| (PackageSource::Opkg, p)));
    listing.problems.extend(problems);
    if let Some(data) = tree.file(apk::DATABASE) {
        found.extend(
            apk::parse(data)
                .into_iter()
                .map(|p| (PackageSource::Apk, p)),
        );
    }
    let (rpm, problems) = rpm::read(tree);
    found.extend(rpm);
    listing.problems.extend(problems);
    let (lang, problems) = lang::read(tree);
    found.extend(lang);
    listing.problems.extend(problems);
    if found.len() > MAX_PACKAGES {
        listing.problems.push(Problem {
            path: found
                .get(MAX_PACKAGES)
                .map(|(_, p)| p.database.clone())
                .unwrap_or_default(),
            message: format!(
                "{} packages in all, more than {MAX_PACKAGES}; the rest not listed",
                found.len()
            ),
        });
        found.truncate(MAX_PACKAGES);
    }
    let mut owned = 0usize;
    let mut cut = false;
    for (_, p) in &mut found {
        // Directories are not owned files: dpkg lists `/.` and `/usr` for every package.
        p.files.retain(|f| f != "/." && !is_dir(tree, f));
        let room = MAX_OWNED_FILES.saturating_sub(owned);
        if p.files.len() > room && !cut {
            cut = true;
            listing.problems.push(Problem {
                path: p.database.clone(),
                message: format!(
                    "more than {MAX_OWNED_FILES} owned files in all; from package {} on, files not listed",
                    p.name
                ),
            });
        }
        p.files.truncate(room);
        owned += p.files.len();
    }
    listing.packages = found;
    for (source, p) in &listing.packages {
        if !matches!(source, PackageSource::Dpkg | PackageSource::DpkgStatusD) {
            continue;
        }
        let path = format!("usr/share/doc/{}/changelog.Debian.gz", p.name);
        let Some(gz) = tree.file(&path) else {
            continue;
        };
        match changelog::parse_gz(gz) {
            Ok(entries) => {
                listing.changelogs.insert(p.name.clone(), entries);
            }
            Err(message) => listing.problems.push(Problem {
                path: format!("/{path}"),
                message,
            }),
        }
    }
    listing
}

/// The regular files directly in directory `dir` (relative, no trailing `/`), with their
/// names, in name order.
pub(crate) fn files_in<'t>(tree: &'t Tree, dir: &str) -> Vec<(&'t str, &'t [u8])> {
    let dir = std::path::Path::new(dir);
    tree.entries
        .range::<std::path::Path, _>((std::ops::Bound::Excluded(dir), std::ops::Bound::Unbounded))
        .take_while(|(p, _)| p.starts_with(dir))
        .filter_map(|(p, e)| match &e.kind {
            Kind::File(data) if p.parent() == Some(dir) => {
                Some((p.file_name()?.to_str()?, data.as_slice()))
            }
            _ => None,
        })
        .collect()
}

fn is_dir(tree: &Tree, path: &str) -> bool {
    tree.entries
        .get(std::path::Path::new(path.trim_start_matches('/')))
        .is_some_and(|e| matches!(e.kind, Kind::Dir))
}

/// Percent-encodes a purl segment or qualifier value (purl-spec: everything outside the
/// unreserved set).
pub(crate) fn purl_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Python package names compare case-insensitively with runs of `-`, `_` and `.` equal
/// (PEP 503); purl-spec's pypi type writes them lower case with `-`.
fn pypi_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The `upstream` qualifier of a binary package built from a source package of another
/// name (`libssl3` from `openssl`): distributions' advisories name source packages.
fn upstream(p: &Installed) -> Option<(&'static str, String)> {
    p.source_package
        .as_ref()
        .filter(|source| !source.eq_ignore_ascii_case(&p.name))
        .map(|source| ("upstream", source.clone()))
}

/// The package URL of a package from `source`, with the namespace and `distro` qualifier
/// from the image's os-release. Qualifiers are sorted by key, as purl-spec's canonical form
/// requires.
pub fn purl(source: PackageSource, p: &Installed, distro: &Distro) -> String {
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if let Some(arch) = &p.arch {
        qualifiers.push(("arch", arch.clone()));
    }
    let os_ns = |default: &str| distro.id.clone().unwrap_or_else(|| default.to_owned());
    let (kind, namespace, name, version) = match source {
        PackageSource::Dpkg | PackageSource::DpkgStatusD => {
            qualifiers.extend(distro.qualifier().map(|d| ("distro", d)));
            qualifiers.extend(upstream(p));
            (
                "deb",
                Some(os_ns("debian")),
                p.name.to_ascii_lowercase(),
                p.version.clone(),
            )
        }
        PackageSource::Opkg => (
            "opkg",
            Some(os_ns("openwrt")),
            p.name.clone(),
            p.version.clone(),
        ),
        PackageSource::Apk => {
            qualifiers.extend(distro.qualifier().map(|d| ("distro", d)));
            qualifiers.extend(upstream(p));
            (
                "apk",
                Some(os_ns("alpine")),
                p.name.to_ascii_lowercase(),
                p.version.clone(),
            )
        }
        PackageSource::RpmSqlite | PackageSource::RpmBerkeleyDb | PackageSource::RpmNdb => {
            qualifiers.extend(distro.qualifier().map(|d| ("distro", d)));
            qualifiers.extend(p.epoch.map(|e| ("epoch", e.to_string())));
            (
                "rpm",
                Some(os_ns("redhat")),
                p.name.clone(),
                p.version.clone(),
            )
        }
        PackageSource::Python => {
            qualifiers.clear();
            ("pypi", None, pypi_name(&p.name), p.version.clone())
        }
        PackageSource::Npm => {
            qualifiers.clear();
            match p.name.split_once('/') {
                Some((scope, name)) if scope.starts_with('@') => (
                    "npm",
                    Some(scope.to_ascii_lowercase()),
                    name.to_ascii_lowercase(),
                    p.version.clone(),
                ),
                _ => ("npm", None, p.name.to_ascii_lowercase(), p.version.clone()),
            }
        }
    };
    let mut out = format!("pkg:{kind}/");
    if let Some(ns) = namespace {
        out.push_str(&purl_encode(&ns));
        out.push('/');
    }
    out.push_str(&purl_encode(&name));
    out.push('@');
    out.push_str(&purl_encode(&version));
    qualifiers.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in qualifiers.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&purl_encode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, arch: Option<&str>) -> Installed {
        Installed {
            name: name.into(),
            version: version.into(),
            arch: arch.map(Into::into),
            ..Installed::default()
        }
    }

    #[test]
    fn purls_per_type_with_distribution_qualifiers() {
        let debian = Distro {
            id: Some("debian".into()),
            version_id: Some("12".into()),
        };
        assert_eq!(
            purl(
                PackageSource::Dpkg,
                &pkg("openssl", "3.0.17-1~deb12u2", Some("armhf")),
                &debian
            ),
            "pkg:deb/debian/openssl@3.0.17-1~deb12u2?arch=armhf&distro=debian-12"
        );
        assert_eq!(
            purl(
                PackageSource::Dpkg,
                &pkg("hostapd", "2:2.10-12", None),
                &debian
            ),
            "pkg:deb/debian/hostapd@2%3A2.10-12?distro=debian-12"
        );
        let mut libssl = pkg("libssl3", "3.0.17-1~deb12u2", Some("armhf"));
        libssl.source_package = Some("openssl".into());
        assert_eq!(
            purl(PackageSource::Dpkg, &libssl, &debian),
            "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=armhf&distro=debian-12&upstream=openssl"
        );
        let openwrt = Distro {
            id: Some("openwrt".into()),
            version_id: Some("23.05.3".into()),
        };
        assert_eq!(
            purl(
                PackageSource::Opkg,
                &pkg("dnsmasq", "2.90-2", Some("mips_24kc")),
                &openwrt
            ),
            "pkg:opkg/openwrt/dnsmasq@2.90-2?arch=mips_24kc"
        );
        let alpine = Distro {
            id: Some("alpine".into()),
            version_id: Some("3.20.1".into()),
        };
        assert_eq!(
            purl(
                PackageSource::Apk,
                &pkg("musl", "1.2.5-r0", Some("x86_64")),
                &alpine
            ),
            "pkg:apk/alpine/musl@1.2.5-r0?arch=x86_64&distro=alpine-3.20.1"
        );
        let fedora = Distro {
            id: Some("fedora".into()),
            version_id: Some("39".into()),
        };
        let mut bash = pkg("bash", "5.2.21-1.fc39", Some("x86_64"));
        bash.epoch = Some(1);
        assert_eq!(
            purl(PackageSource::RpmSqlite, &bash, &fedora),
            "pkg:rpm/fedora/bash@5.2.21-1.fc39?arch=x86_64&distro=fedora-39&epoch=1"
        );
        assert_eq!(
            purl(
                PackageSource::Python,
                &pkg("Zope.Interface__x", "6.1", None),
                &fedora
            ),
            "pkg:pypi/zope-interface-x@6.1"
        );
        assert_eq!(
            purl(
                PackageSource::Npm,
                &pkg("@babel/core", "7.24.0", None),
                &fedora
            ),
            "pkg:npm/%40babel/core@7.24.0"
        );
        assert_eq!(
            purl(
                PackageSource::Npm,
                &pkg("lodash", "4.17.21", None),
                &Distro::default()
            ),
            "pkg:npm/lodash@4.17.21"
        );
    }

    #[test]
    fn distro_from_os_release_or_debian_version() {
        use crate::tree::Entry;
        let file = |text: &str| Entry {
            kind: Kind::File(text.as_bytes().to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        let mut t = Tree::default();
        t.insert(
            std::path::Path::new("usr/lib/os-release"),
            file("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.1\n"),
        )
        .expect("path");
        assert_eq!(
            Distro::of(&t),
            Distro {
                id: Some("alpine".into()),
                version_id: Some("3.20.1".into())
            }
        );
        let mut t = Tree::default();
        t.insert(std::path::Path::new("etc/debian_version"), file("12.11\n"))
            .expect("path");
        assert_eq!(Distro::of(&t).qualifier().as_deref(), Some("debian-12"));
    }
}
