//! Language package managers' records: Python distributions in `site-packages` or
//! `dist-packages` (`*.dist-info/METADATA` with `RECORD`, `*.egg-info/PKG-INFO`), and npm
//! packages (`node_modules/[@scope/]name/package.json`).

use std::path::Path;

use super::{Installed, PackageSource, Problem};
use crate::tree::Tree;

/// Largest metadata file read; real ones are a few kilobytes.
const MAX_METADATA_BYTES: usize = 1 << 20;

/// Where a metadata file sits, if it is one this module reads.
fn kind_of(path: &str) -> Option<PackageSource> {
    let in_site = path.contains("/site-packages/") || path.contains("/dist-packages/");
    // distutils wrote `*.egg-info` as a single file of PKG-INFO fields; setuptools as a
    // directory holding PKG-INFO.
    let python = [".dist-info/METADATA", ".egg-info/PKG-INFO", ".egg-info"];
    if in_site && python.iter().any(|end| path.ends_with(end)) {
        return Some(PackageSource::Python);
    }
    // Only a package's own manifest: `node_modules/x/package.json` or
    // `node_modules/@s/x/package.json`. Test fixtures and examples deeper inside a package
    // (`node_modules/x/test/fixtures/y/package.json`) are not installed packages.
    let (_, rest) = path.rsplit_once("node_modules/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let own = match parts.as_slice() {
        [name, "package.json"] => !name.starts_with(['@', '.']),
        [scope, _, "package.json"] => scope.starts_with('@'),
        _ => false,
    };
    own.then_some(PackageSource::Npm)
}

/// The header fields of a Python core-metadata file (RFC 822 style, up to the first blank
/// line).
fn python_metadata(data: &[u8], path: &str) -> Option<Installed> {
    let text = String::from_utf8_lossy(data);
    let mut p = Installed {
        database: format!("/{path}"),
        ..Installed::default()
    };
    let (mut author, mut maintainer) = (None, None);
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() || v == "UNKNOWN" {
            continue;
        }
        match k {
            "Name" => p.name = v.to_owned(),
            // A version holds no whitespace (PEP 440); ntpsec's setup writes its build
            // time after it (`1.2.0 2021-06-17T05:15:04Z`), which no purl or CPE may carry.
            "Version" => p.version = v.split_whitespace().next().unwrap_or(v).to_owned(),
            "Author" | "Author-email" if author.is_none() => author = Some(v.to_owned()),
            "Maintainer" | "Maintainer-email" if maintainer.is_none() => {
                maintainer = Some(v.to_owned());
            }
            "License-Expression" => p.licenses = vec![v.to_owned()],
            "License" if p.licenses.is_empty() && !v.contains('\n') && v.len() < 100 => {
                p.licenses.push(v.to_owned());
            }
            _ => {}
        }
    }
    p.supplier = author.or(maintainer);
    (!p.name.is_empty() && !p.version.is_empty()).then_some(p)
}

/// The files a wheel's `RECORD` (CSV: path, hash, size) lists, relative to the
/// `site-packages` directory `base`, as absolute tree paths.
fn record_files(data: &[u8], base: &Path) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| {
            // A path with a comma is quoted; such paths are rare enough to leave out.
            let rel = l.split(',').next()?.trim();
            if rel.is_empty() || rel.starts_with('"') {
                return None;
            }
            let mut path = base.to_path_buf();
            for part in rel.split('/') {
                match part {
                    ".." => {
                        path.pop();
                    }
                    "." | "" => {}
                    p => path.push(p),
                }
            }
            Some(format!("/{}", path.display()))
        })
        .collect()
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum NameOrObject {
    Text(String),
    Object {
        #[serde(alias = "type")]
        name: Option<String>,
    },
}

impl NameOrObject {
    fn text(self) -> Option<String> {
        match self {
            NameOrObject::Text(t) => Some(t),
            NameOrObject::Object { name } => name,
        }
    }
}

#[derive(serde::Deserialize)]
struct PackageJson {
    name: Option<String>,
    version: Option<String>,
    author: Option<NameOrObject>,
    license: Option<NameOrObject>,
}

fn npm_manifest(data: &[u8], path: &str) -> Result<Option<Installed>, String> {
    let json: PackageJson = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    let (Some(name), Some(version)) = (json.name, json.version) else {
        return Ok(None);
    };
    Ok(Some(Installed {
        name,
        version,
        supplier: json.author.and_then(NameOrObject::text),
        licenses: json
            .license
            .and_then(NameOrObject::text)
            .into_iter()
            .collect(),
        database: format!("/{path}"),
        ..Installed::default()
    }))
}

/// Every Python and npm package in `tree`.
pub fn read(tree: &Tree) -> (Vec<(PackageSource, Installed)>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (path, data) in tree.files() {
        let Some(shown) = path.to_str() else {
            continue;
        };
        let Some(kind) = kind_of(&format!("/{shown}")) else {
            continue;
        };
        if data.len() > MAX_METADATA_BYTES {
            problems.push(Problem {
                path: format!("/{shown}"),
                message: format!("larger than {MAX_METADATA_BYTES} bytes; not read"),
            });
            continue;
        }
        match kind {
            PackageSource::Python => {
                if let Some(mut p) = python_metadata(data, shown) {
                    let info = path.parent();
                    if let (Some(info), Some(site)) = (info, info.and_then(Path::parent))
                        && let Some(record) = tree.file(&info.join("RECORD").to_string_lossy())
                    {
                        p.files = record_files(record, site);
                    }
                    out.push((kind, p));
                }
            }
            _ => match npm_manifest(data, shown) {
                Ok(Some(p)) => out.push((kind, p)),
                Ok(None) => {}
                Err(message) => problems.push(Problem {
                    path: format!("/{shown}"),
                    message,
                }),
            },
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_files_are_package_metadata() {
        let py = Some(PackageSource::Python);
        let npm = Some(PackageSource::Npm);
        assert_eq!(
            kind_of("/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA"),
            py
        );
        assert_eq!(
            kind_of("/usr/lib/python3.11/site-packages/six-1.16.0.egg-info/PKG-INFO"),
            py
        );
        assert_eq!(
            kind_of("/usr/lib/python3/dist-packages/pycairo-1.20.1.egg-info"),
            py
        );
        assert_eq!(kind_of("/opt/app/node_modules/lodash/package.json"), npm);
        assert_eq!(
            kind_of("/opt/app/node_modules/@babel/core/package.json"),
            npm
        );
        assert_eq!(
            kind_of("/opt/app/node_modules/a/node_modules/b/package.json"),
            npm
        );
        assert_eq!(
            kind_of("/opt/app/node_modules/resolve/test/fixtures/x/package.json"),
            None
        );
        assert_eq!(kind_of("/opt/app/node_modules/.bin/package.json"), None);
        assert_eq!(kind_of("/opt/app/package.json"), None);
    }

    #[test]
    fn python_and_npm_fields() {
        let meta = b"Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.2\nSummary: x\nAuthor: Armin Ronacher\nLicense: BSD-3-Clause\n\nLong description: Version: 9\n";
        let p = python_metadata(meta, "x/METADATA").expect("parsed");
        assert_eq!((p.name.as_str(), p.version.as_str()), ("Jinja2", "3.1.2"));
        assert_eq!(p.supplier.as_deref(), Some("Armin Ronacher"));
        assert_eq!(p.licenses, ["BSD-3-Clause"]);
        let stamped = b"Metadata-Version: 1.1\nName: ntpsec\nVersion: 1.2.0 2021-06-17T05:15:04Z\n";
        let p = python_metadata(stamped, "x/PKG-INFO").expect("parsed");
        assert_eq!(p.version, "1.2.0");
        let files = record_files(
            b"jinja2/__init__.py,sha256=x,1\n../../../bin/jinja,,\nJinja2-3.1.2.dist-info/RECORD,,\n",
            Path::new("usr/lib/python3/dist-packages"),
        );
        assert_eq!(
            files,
            [
                "/usr/lib/python3/dist-packages/jinja2/__init__.py",
                "/usr/bin/jinja",
                "/usr/lib/python3/dist-packages/Jinja2-3.1.2.dist-info/RECORD"
            ]
        );
        let p = npm_manifest(
            br#"{"name":"@babel/core","version":"7.24.0","author":{"name":"The Babel Team"},"license":"MIT"}"#,
            "p",
        )
        .expect("json")
        .expect("package");
        assert_eq!(p.supplier.as_deref(), Some("The Babel Team"));
        assert_eq!(p.licenses, ["MIT"]);
        assert!(npm_manifest(b"{", "p").is_err());
        assert_eq!(npm_manifest(b"{\"private\":true}", "p"), Ok(None));
    }
}
