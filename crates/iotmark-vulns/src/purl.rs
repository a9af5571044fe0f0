//! Package URLs (purl), read far enough to match on: type, namespace, name, version and
//! qualifiers, each percent-decoded, with the normalisations the purl specification asks
//! for (lower-case type; lower-case namespace and name for the types whose registries
//! ignore case).

use std::collections::BTreeMap;

/// A parsed purl.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
}

impl Purl {
    /// Parses `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS#SUBPATH`; `None` when the text is
    /// not a purl.
    pub fn parse(text: &str) -> Option<Purl> {
        let rest = text.strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (kind, path) = rest.split_once('/')?;
        if kind.is_empty()
            || !kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+.-".contains(&b))
        {
            return None;
        }
        let kind = kind.to_ascii_lowercase();
        // The version follows the last '@' (a namespace may not contain an unescaped one).
        let (path, version) = match path.rsplit_once('@') {
            Some((p, v)) if !v.is_empty() => (p, Some(decode(v)?)),
            _ => (path, None),
        };
        let mut segments: Vec<String> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect::<Option<_>>()?;
        let name = segments.pop()?;
        let namespace = (!segments.is_empty()).then(|| segments.join("/"));
        let mut qualifiers = BTreeMap::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=')?;
            qualifiers.insert(k.to_ascii_lowercase(), decode(v)?);
        }
        let mut purl = Purl {
            kind,
            namespace,
            name,
            version,
            qualifiers,
        };
        purl.normalise();
        Some(purl)
    }

    /// The type-specific rules of the purl specification that matter for matching.
    fn normalise(&mut self) {
        let case_insensitive = matches!(
            self.kind.as_str(),
            "deb" | "apk" | "opkg" | "alpm" | "bitbucket" | "github" | "golang" | "pypi" | "rpm"
        );
        if case_insensitive {
            self.name = self.name.to_ascii_lowercase();
            self.namespace = self.namespace.take().map(|n| n.to_ascii_lowercase());
        }
        if self.kind == "pypi" {
            // PEP 503: runs of '-', '_' and '.' are the same.
            self.name = self.name.replace(['_', '.'], "-");
        }
    }

    /// `TYPE/NAMESPACE/NAME`, the package without its version: what a statement or an
    /// advisory about "this package" names.
    pub fn package(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_purl_with_escaped_version_and_qualifiers() {
        let p =
            Purl::parse("pkg:deb/debian/libssl3@3.0.17-1~deb12u2%2Bb1?arch=armhf&distro=debian-12")
                .unwrap();
        assert_eq!(p.kind, "deb");
        assert_eq!(p.namespace.as_deref(), Some("debian"));
        assert_eq!(p.name, "libssl3");
        assert_eq!(p.version.as_deref(), Some("3.0.17-1~deb12u2+b1"));
        assert_eq!(p.qualifiers["distro"], "debian-12");
        assert_eq!(p.package(), "deb/debian/libssl3");
    }

    #[test]
    fn scoped_npm_and_pypi_names() {
        let p = Purl::parse("pkg:npm/%40angular/core@16.0.0").unwrap();
        assert_eq!(p.namespace.as_deref(), Some("@angular"));
        assert_eq!(p.name, "core");
        let p = Purl::parse("pkg:PyPI/Django_REST.framework@3.14").unwrap();
        assert_eq!(p.kind, "pypi");
        assert_eq!(p.name, "django-rest-framework");
        assert_eq!(Purl::parse("pkg:generic/zlib").unwrap().version, None);
    }

    #[test]
    fn not_purls() {
        for bad in [
            "",
            "pkg:",
            "pkg:deb",
            "cpe:2.3:a",
            "pkg:/x",
            "pkg:deb/%zz",
            "pkg:d b/x",
        ] {
            assert_eq!(Purl::parse(bad), None, "{bad}");
        }
    }
}
