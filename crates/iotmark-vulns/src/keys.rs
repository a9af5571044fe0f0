//! Lookup keys: the names under which the store files an advisory, and under which the
//! matcher looks for a component's. A key names a product without its version; the
//! matcher then evaluates each candidate's ranges in the right version order.
//!
//! - `cpe:VENDOR:PRODUCT` — NVD configurations (only their vulnerable CPEs: a platform is
//!   never the thing that is vulnerable), CVE 5 vendor/product pairs and their CPEs;
//! - `purl:TYPE/NAMESPACE/NAME` — CSAF products and OSV packages that give a purl;
//! - `osv:ECOSYSTEM:NAME` — OSV packages by ecosystem (without its release: `Debian:12` is
//!   filed under `debian`), and components whose purl type has an OSV ecosystem; OSS-Fuzz
//!   names upstream projects, so a component with a CPE is also filed under
//!   `osv:oss-fuzz:PRODUCT`.

use std::collections::BTreeSet;

use crate::component::Component;
use crate::cpe::Cpe;
use crate::model::{Advisory, Applicability};
use crate::purl::Purl;

/// The keys an advisory is filed under.
pub fn advisory_keys(advisory: &Advisory) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    for applicability in &advisory.applies_to {
        match applicability {
            Applicability::Configuration(configuration) => {
                for node in &configuration.nodes {
                    for m in node.matches.iter().filter(|m| m.vulnerable) {
                        keys.extend(cpe_key(&m.criteria));
                    }
                }
            }
            Applicability::Package(rule) => {
                keys.insert(osv_key(&rule.package.ecosystem, &rule.package.name));
                if let Some(purl) = rule.package.purl.as_deref().and_then(Purl::parse) {
                    keys.insert(format!("purl:{}", purl.package()));
                }
            }
            Applicability::VendorProduct(rule) => {
                keys.insert(format!(
                    "cpe:{}:{}",
                    cpe_word(&rule.vendor),
                    cpe_word(&rule.product)
                ));
                keys.extend(rule.cpes.iter().filter_map(|c| cpe_key(c)));
            }
        }
    }
    keys
}

/// The keys a component is looked up by.
pub fn component_keys(component: &Component) -> BTreeSet<String> {
    let cpes: Vec<Cpe> = component
        .cpes
        .iter()
        .filter_map(|c| Cpe::parse(c).ok())
        .collect();
    let purl = component.purl.as_deref().and_then(Purl::parse);
    keys_of(&cpes, purl.as_ref()).into_iter().collect()
}

/// [`component_keys`] from a component's CPEs and purl already parsed, sorted, each once.
pub(crate) fn keys_of(cpes: &[Cpe], purl: Option<&Purl>) -> Vec<String> {
    let mut keys = Vec::new();
    for cpe in cpes {
        if let (Some(vendor), Some(product)) = (cpe.vendor(), cpe.product()) {
            let product = product.to_ascii_lowercase();
            keys.push(format!("cpe:{}:{product}", vendor.to_ascii_lowercase()));
            // OSS-Fuzz files its records under the upstream project's name, which is the
            // CPE product for the projects it covers (curl, openssl, libxml2).
            keys.push(osv_key("OSS-Fuzz", &product));
        }
    }
    if let Some(purl) = purl {
        keys.push(format!("purl:{}", purl.package()));
        if let Some(ecosystem) = osv_ecosystem(purl) {
            keys.push(osv_key(ecosystem, &osv_name(purl)));
            // Debian's advisories name source packages; a binary package built from
            // another source says so in its purl's `upstream` qualifier, as syft and
            // iotmark write it.
            if let Some(source) = purl.qualifiers.get("upstream") {
                let source = source.split_once('@').map_or(source.as_str(), |(s, _)| s);
                keys.push(osv_key(ecosystem, source));
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// `cpe:VENDOR:PRODUCT` of a CPE name, when it has both as words.
pub fn cpe_key(criteria: &str) -> Option<String> {
    let cpe = Cpe::parse(criteria).ok()?;
    Some(format!(
        "cpe:{}:{}",
        cpe.vendor()?.to_ascii_lowercase(),
        cpe.product()?.to_ascii_lowercase()
    ))
}

/// A CVE 5 vendor or product as a CPE word: lower case, spaces as underscores, as NVD
/// writes `Apache Software Foundation`'s `HTTP Server` (`apache:http_server`).
fn cpe_word(text: &str) -> String {
    text.trim().to_lowercase().replace(' ', "_")
}

/// `osv:ECOSYSTEM:NAME`, the ecosystem without its release and in lower case.
pub fn osv_key(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    format!("osv:{}:{name}", base.to_ascii_lowercase())
}

/// The OSV ecosystem that publishes advisories for packages of a purl's type.
fn osv_ecosystem(purl: &Purl) -> Option<&'static str> {
    Some(match (purl.kind.as_str(), purl.namespace.as_deref()) {
        ("deb", Some("ubuntu")) => "Ubuntu",
        ("deb", _) => "Debian",
        ("apk", Some("alpine") | None) => "Alpine",
        ("opkg", _) => "OpenWrt",
        ("pypi", _) => "PyPI",
        ("npm", _) => "npm",
        ("cargo", _) => "crates.io",
        ("golang", _) => "Go",
        ("maven", _) => "Maven",
        ("gem", _) => "RubyGems",
        ("nuget", _) => "NuGet",
        ("composer", _) => "Packagist",
        ("hex", _) => "Hex",
        ("pub", _) => "Pub",
        _ => return None,
    })
}

/// The package name as the OSV ecosystem writes it.
fn osv_name(purl: &Purl) -> String {
    match (purl.kind.as_str(), &purl.namespace) {
        // npm scopes and Go module paths are part of the name.
        ("npm" | "golang", Some(ns)) => format!("{ns}/{}", purl.name),
        ("maven", Some(group)) => format!("{group}:{}", purl.name),
        _ => purl.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_keys_drop_the_release() {
        assert_eq!(osv_key("Debian:12", "openssl"), "osv:debian:openssl");
        assert_eq!(osv_key("OSS-Fuzz", "curl"), "osv:oss-fuzz:curl");
    }

    #[test]
    fn a_debian_binary_package_is_also_found_by_its_source() {
        let c = Component {
            reference: "c".into(),
            name: "libssl3".into(),
            version: Some("3.0.17-1~deb12u2".into()),
            purl: Some(
                "pkg:deb/debian/libssl3@3.0.17-1~deb12u2?arch=armhf&upstream=openssl".into(),
            ),
            cpes: vec!["cpe:2.3:a:openssl:openssl:3.0.17:*:*:*:*:*:*:*".into()],
            supplier: None,
            fixes: vec![],
        };
        let keys = component_keys(&c);
        for k in [
            "cpe:openssl:openssl",
            "purl:deb/debian/libssl3",
            "osv:debian:libssl3",
            "osv:debian:openssl",
        ] {
            assert!(keys.contains(k), "{k} missing from {keys:?}");
        }
    }

    #[test]
    fn cve5_vendor_products_become_cpe_words() {
        assert_eq!(
            cpe_word(" Apache Software Foundation"),
            "apache_software_foundation"
        );
    }
}
