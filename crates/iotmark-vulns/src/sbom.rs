//! Reads the components of a CycloneDX (1.2–1.6) or SPDX (2.2, 2.3) JSON SBOM, as a
//! manufacturer supplies it or `iotmark scan` writes it.
//!
//! The document is untrusted: a component without a name, or a field of the wrong type, is
//! an error naming the file and the JSON pointer; a purl or CPE that cannot be what it
//! claims is dropped from that component with a problem reported, so the rest of the SBOM
//! is still matched.

use serde_json::Value;

use crate::component::{Component, Fix};
use crate::error::{ReadError, escape, kind};

/// Which SBOM standard a document follows, and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    CycloneDx(String),
    Spdx(String),
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::CycloneDx(v) => write!(f, "CycloneDX {v}"),
            Format::Spdx(v) => write!(f, "SPDX {v}"),
        }
    }
}

/// What the SBOM describes: the firmware or product as a whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub name: Option<String>,
    pub version: Option<String>,
    /// The SHA-256 of the image, when the SBOM gives one (iotmark's scans always do), so
    /// results can be bound to the exact firmware.
    pub sha256: Option<String>,
}

/// The components of one SBOM.
#[derive(Debug, Clone, PartialEq)]
pub struct Sbom {
    pub format: Format,
    pub subject: Subject,
    pub components: Vec<Component>,
    /// Parts of components that were dropped (a malformed purl or CPE), each with its place.
    pub problems: Vec<ReadError>,
}

/// Reads a CycloneDX or SPDX JSON document; `name` names it in errors.
pub fn read_sbom(name: &str, bytes: &[u8]) -> Result<Sbom, ReadError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| ReadError::json(name, "", &e))?;
    let reader = Reader { name };
    if doc.get("bomFormat").is_some() {
        reader.cyclonedx(&doc)
    } else if doc.get("spdxVersion").is_some() {
        reader.spdx(&doc)
    } else {
        Err(ReadError::new(name, "/", "neither a CycloneDX nor an SPDX document").with_hint(
            "an SBOM in CycloneDX JSON has \"bomFormat\": \"CycloneDX\"; one in SPDX JSON has \"spdxVersion\": \"SPDX-2.3\"",
        ))
    }
}

struct Reader<'a> {
    name: &'a str,
}

impl Reader<'_> {
    fn error(&self, pointer: &str, message: impl Into<String>) -> ReadError {
        ReadError::new(self.name, pointer, message)
    }

    /// An optional string field: absent or null is `None`, any other type an error.
    fn string(&self, v: &Value, pointer: &str, key: &str) -> Result<Option<String>, ReadError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(
                &format!("{pointer}/{}", escape(key)),
                format!("expected a string, found {}", kind(other)),
            )),
        }
    }

    fn array<'v>(&self, v: &'v Value, pointer: &str, key: &str) -> Result<&'v [Value], ReadError> {
        match v.get(key) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.error(
                &format!("{pointer}/{}", escape(key)),
                format!("expected an array, found {}", kind(other)),
            )),
        }
    }

    fn cyclonedx(&self, doc: &Value) -> Result<Sbom, ReadError> {
        if doc["bomFormat"] != "CycloneDX" {
            return Err(self
                .error(
                    "/bomFormat",
                    format!("{} is not \"CycloneDX\"", doc["bomFormat"]),
                )
                .with_hint("CycloneDX documents say \"bomFormat\": \"CycloneDX\""));
        }
        let spec = self.string(doc, "", "specVersion")?.ok_or_else(|| {
            self.error("/specVersion", "missing")
                .with_hint("CycloneDX 1.4 to 1.6 are read: add \"specVersion\": \"1.6\"")
        })?;
        if !matches!(spec.as_str(), "1.2" | "1.3" | "1.4" | "1.5" | "1.6") {
            return Err(self
                .error("/specVersion", format!("CycloneDX {spec} is not supported"))
                .with_hint("CycloneDX 1.2 to 1.6 JSON are read"));
        }
        let mut sbom = Sbom {
            format: Format::CycloneDx(spec),
            subject: Subject::default(),
            components: Vec::new(),
            problems: Vec::new(),
        };
        if let Some(subject) = doc.get("metadata").and_then(|m| m.get("component")) {
            let pointer = "/metadata/component";
            sbom.subject = Subject {
                name: self.string(subject, pointer, "name")?,
                version: self.string(subject, pointer, "version")?,
                sha256: self.sha256(subject, pointer)?,
            };
            // A product's SBOM may nest its parts under the product itself.
            for (i, c) in self
                .array(subject, pointer, "components")?
                .iter()
                .enumerate()
            {
                self.cyclonedx_component(c, &format!("{pointer}/components/{i}"), &mut sbom)?;
            }
        }
        for (i, c) in self.array(doc, "", "components")?.iter().enumerate() {
            self.cyclonedx_component(c, &format!("/components/{i}"), &mut sbom)?;
        }
        Ok(sbom)
    }

    fn sha256(&self, component: &Value, pointer: &str) -> Result<Option<String>, ReadError> {
        for (i, hash) in self.array(component, pointer, "hashes")?.iter().enumerate() {
            let at = format!("{pointer}/hashes/{i}");
            if self.string(hash, &at, "alg")?.as_deref() == Some("SHA-256") {
                let content = self.string(hash, &at, "content")?.unwrap_or_default();
                if content.len() != 64 || !content.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.error(
                        &format!("{at}/content"),
                        "a SHA-256 is 64 hexadecimal digits",
                    ));
                }
                return Ok(Some(content.to_ascii_lowercase()));
            }
        }
        Ok(None)
    }

    fn cyclonedx_component(
        &self,
        c: &Value,
        pointer: &str,
        sbom: &mut Sbom,
    ) -> Result<(), ReadError> {
        if !c.is_object() {
            return Err(self.error(pointer, format!("expected a component, found {}", kind(c))));
        }
        let name = self.string(c, pointer, "name")?.ok_or_else(|| {
            self.error(&format!("{pointer}/name"), "a component has no name")
                .with_hint("every CycloneDX component needs \"name\"")
        })?;
        let reference = self
            .string(c, pointer, "bom-ref")?
            .unwrap_or_else(|| pointer.to_owned());
        let mut component = Component {
            reference,
            name,
            version: self.string(c, pointer, "version")?,
            purl: None,
            cpes: Vec::new(),
            supplier: match c.get("supplier") {
                Some(s) => self.string(s, &format!("{pointer}/supplier"), "name")?,
                None => None,
            },
            fixes: Vec::new(),
        };
        if let Some(purl) = self.string(c, pointer, "purl")? {
            self.keep_purl(&mut component, purl, &format!("{pointer}/purl"), sbom);
        }
        if let Some(cpe) = self.string(c, pointer, "cpe")? {
            self.keep_cpe(&mut component, cpe, &format!("{pointer}/cpe"), sbom);
        }
        if let Some(pedigree) = c.get("pedigree") {
            let at = format!("{pointer}/pedigree");
            for (i, patch) in self.array(pedigree, &at, "patches")?.iter().enumerate() {
                let at = format!("{at}/patches/{i}");
                for (j, resolved) in self.array(patch, &at, "resolves")?.iter().enumerate() {
                    let at = format!("{at}/resolves/{j}");
                    // Only security issues are fixes a vulnerability match can rest on.
                    if self.string(resolved, &at, "type")?.as_deref() != Some("security") {
                        continue;
                    }
                    let Some(id) = self.string(resolved, &at, "id")? else {
                        sbom.problems.push(self.error(
                            &format!("{at}/id"),
                            "a resolved security issue without an ID cannot be matched",
                        ));
                        continue;
                    };
                    let evidence =
                        self.string(resolved, &at, "description")?
                            .unwrap_or_else(|| {
                                format!(
                                    "CycloneDX pedigree of {}: a {} patch resolves {id}",
                                    component.name,
                                    patch["type"].as_str().unwrap_or("")
                                )
                            });
                    component.fixes.push(Fix {
                        vulnerability: id,
                        evidence,
                    });
                }
            }
        }
        let children = self.array(c, pointer, "components")?;
        sbom.components.push(component);
        for (i, child) in children.iter().enumerate() {
            self.cyclonedx_component(child, &format!("{pointer}/components/{i}"), sbom)?;
        }
        Ok(())
    }

    fn keep_purl(&self, component: &mut Component, purl: String, pointer: &str, sbom: &mut Sbom) {
        match crate::purl::Purl::parse(&purl) {
            Some(_) => component.purl = Some(purl),
            None => sbom.problems.push(
                self.error(pointer, format!("{purl:?} dropped: not a package URL"))
                    .with_hint("a purl looks like pkg:deb/debian/openssl@3.0.17-1~deb12u2"),
            ),
        }
    }

    fn keep_cpe(&self, component: &mut Component, cpe: String, pointer: &str, sbom: &mut Sbom) {
        if cpe.starts_with("cpe:2.3:") || cpe.starts_with("cpe:/") {
            component.cpes.push(cpe);
        } else {
            sbom.problems.push(
                self.error(pointer, format!("{cpe:?} dropped: not a CPE 2.3 name"))
                    .with_hint(
                        "a CPE 2.3 name looks like cpe:2.3:a:openssl:openssl:3.0.17:*:*:*:*:*:*:*",
                    ),
            );
        }
    }

    fn spdx(&self, doc: &Value) -> Result<Sbom, ReadError> {
        let version = self.string(doc, "", "spdxVersion")?.unwrap_or_default();
        let Some(number) = version.strip_prefix("SPDX-") else {
            return Err(self
                .error(
                    "/spdxVersion",
                    format!("{version:?} is not an SPDX version"),
                )
                .with_hint("SPDX 2.3 JSON says \"spdxVersion\": \"SPDX-2.3\""));
        };
        if !matches!(number, "2.2" | "2.3") {
            return Err(self
                .error("/spdxVersion", format!("SPDX {number} is not supported"))
                .with_hint("SPDX 2.2 and 2.3 JSON are read"));
        }
        let described: Vec<String> = self
            .array(doc, "", "documentDescribes")?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let mut sbom = Sbom {
            format: Format::Spdx(number.to_owned()),
            subject: Subject::default(),
            components: Vec::new(),
            problems: Vec::new(),
        };
        for (i, p) in self.array(doc, "", "packages")?.iter().enumerate() {
            let pointer = format!("/packages/{i}");
            if !p.is_object() {
                return Err(self.error(&pointer, format!("expected a package, found {}", kind(p))));
            }
            let id = self.string(p, &pointer, "SPDXID")?.ok_or_else(|| {
                self.error(&format!("{pointer}/SPDXID"), "a package has no SPDXID")
                    .with_hint("every SPDX package needs \"SPDXID\": \"SPDXRef-…\"")
            })?;
            let name = self.string(p, &pointer, "name")?.ok_or_else(|| {
                self.error(&format!("{pointer}/name"), "a package has no name")
                    .with_hint("every SPDX package needs \"name\"")
            })?;
            let version = self.string(p, &pointer, "versionInfo")?;
            if described.contains(&id) {
                sbom.subject = Subject {
                    name: Some(name),
                    version,
                    sha256: self.spdx_sha256(p, &pointer)?,
                };
                continue;
            }
            let supplier = self
                .string(p, &pointer, "supplier")?
                .filter(|s| s != "NOASSERTION")
                .map(|s| spdx_agent(&s));
            let mut component = Component {
                reference: id,
                name,
                version,
                purl: None,
                cpes: Vec::new(),
                supplier,
                fixes: Vec::new(),
            };
            for (j, r) in self.array(p, &pointer, "externalRefs")?.iter().enumerate() {
                let at = format!("{pointer}/externalRefs/{j}");
                let kind = self.string(r, &at, "referenceType")?.unwrap_or_default();
                let Some(locator) = self.string(r, &at, "referenceLocator")? else {
                    continue;
                };
                let at = format!("{at}/referenceLocator");
                match kind.as_str() {
                    "purl" => self.keep_purl(&mut component, locator, &at, &mut sbom),
                    "cpe23Type" | "cpe22Type" => {
                        self.keep_cpe(&mut component, locator, &at, &mut sbom)
                    }
                    _ => {}
                }
            }
            sbom.components.push(component);
        }
        Ok(sbom)
    }

    fn spdx_sha256(&self, package: &Value, pointer: &str) -> Result<Option<String>, ReadError> {
        for (i, sum) in self
            .array(package, pointer, "checksums")?
            .iter()
            .enumerate()
        {
            let at = format!("{pointer}/checksums/{i}");
            if self.string(sum, &at, "algorithm")?.as_deref() == Some("SHA256") {
                return Ok(self
                    .string(sum, &at, "checksumValue")?
                    .map(|s| s.to_ascii_lowercase()));
            }
        }
        Ok(None)
    }
}

/// The name in an SPDX agent (`Organization: Acme Corp (security@acme.example)`).
fn spdx_agent(agent: &str) -> String {
    let name = agent
        .split_once(": ")
        .map_or(agent, |(_, name)| name)
        .trim();
    match name.rfind(" (") {
        Some(at) if name.ends_with(')') => name[..at].trim().to_owned(),
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyclonedx_components_nested_and_their_backported_fixes() {
        let doc = br#"{"bomFormat":"CycloneDX","specVersion":"1.6",
          "metadata":{"component":{"type":"firmware","name":"cam.bin","version":"2.4.1",
            "hashes":[{"alg":"SHA-256","content":"AB00000000000000000000000000000000000000000000000000000000000000"}]}},
          "components":[{"bom-ref":"c1","name":"curl","version":"7.88.1-10+deb12u8",
            "purl":"pkg:deb/debian/curl@7.88.1-10%2Bdeb12u8?arch=armhf",
            "cpe":"cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*",
            "supplier":{"name":"Alessandro Ghedini"},
            "pedigree":{"patches":[{"type":"backport","resolves":[
              {"type":"security","id":"CVE-2024-2398","description":"changelog entry 7.88.1-10+deb12u6 names CVE-2024-2398"},
              {"type":"defect","id":"BUG-1"}]}]},
            "components":[{"name":"zlib","version":"1.2.13","purl":"not a purl"}]}]}"#;
        let sbom = read_sbom("cam.cdx.json", doc).unwrap();
        assert_eq!(sbom.format, Format::CycloneDx("1.6".into()));
        assert_eq!(sbom.subject.version.as_deref(), Some("2.4.1"));
        assert_eq!(
            sbom.subject.sha256.as_deref(),
            Some("ab00000000000000000000000000000000000000000000000000000000000000")
        );
        assert_eq!(sbom.components.len(), 2);
        let curl = &sbom.components[0];
        assert_eq!(curl.reference, "c1");
        assert_eq!(curl.fixes.len(), 1, "only the security issue is a fix");
        assert_eq!(curl.fixes[0].vulnerability, "CVE-2024-2398");
        assert!(curl.fixes[0].evidence.contains("7.88.1-10+deb12u6"));
        let zlib = &sbom.components[1];
        assert_eq!(zlib.reference, "/components/0/components/0");
        assert_eq!(zlib.purl, None);
        assert_eq!(sbom.problems.len(), 1);
        assert_eq!(sbom.problems[0].place, "/components/0/components/0/purl");
    }

    #[test]
    fn spdx_packages_with_purl_and_cpe_refs() {
        let doc = br#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT",
          "documentDescribes":["SPDXRef-fw"],
          "packages":[
            {"SPDXID":"SPDXRef-fw","name":"cam.bin","versionInfo":"2.4.1",
             "checksums":[{"algorithm":"SHA256","checksumValue":"00ff"}]},
            {"SPDXID":"SPDXRef-1","name":"openssl","versionInfo":"3.0.17",
             "supplier":"Organization: OpenSSL Foundation (openssl-security@openssl.org)",
             "externalRefs":[
               {"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:generic/openssl@3.0.17"},
               {"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:openssl:openssl:3.0.17:*:*:*:*:*:*:*"}]}]}"#;
        let sbom = read_sbom("cam.spdx.json", doc).unwrap();
        assert_eq!(sbom.subject.name.as_deref(), Some("cam.bin"));
        assert_eq!(sbom.components.len(), 1);
        let c = &sbom.components[0];
        assert_eq!(c.supplier.as_deref(), Some("OpenSSL Foundation"));
        assert_eq!(c.purl.as_deref(), Some("pkg:generic/openssl@3.0.17"));
        assert_eq!(c.cpes.len(), 1);
    }

    #[test]
    fn malformed_documents_name_the_place() {
        let e =
            read_sbom("x.json", b"{\"bomFormat\":\"CycloneDX\",\n\"specVersion\":").unwrap_err();
        assert!(e.place.starts_with("line 2"), "{e}");
        let e = read_sbom(
            "x.json",
            br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"version":"1"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.place, "/components/0/name");
        assert!(e.to_string().contains("hint"), "{e}");
        let e = read_sbom(
            "x.json",
            br#"{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"name":"a","version":3}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.place, "/components/0/version");
        let e = read_sbom("x.json", br#"{"spdxVersion":"SPDX-3.0"}"#).unwrap_err();
        assert_eq!(e.place, "/spdxVersion");
        let e = read_sbom("x.json", br#"{"hello":1}"#).unwrap_err();
        assert!(e.hint.is_some());
    }
}
