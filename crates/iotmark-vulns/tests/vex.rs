//! CSAF and VEX documents as their publishers wrote them (OASIS's CSAF examples, CycloneDX's
//! and CISA's VEX use cases, OpenVEX's own test documents) are read into the statements a
//! reader of each would see; documents iotmark writes read back the same and pass the
//! formats' own validators (OpenVEX's JSON schema here; CSAF's mandatory tests and the
//! CycloneDX schema too when scripts/validate-vex.sh has installed their validators).

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use iotmark_vulns::Component;
use iotmark_vulns::csaf;
use iotmark_vulns::matching::{Status, match_components};
use iotmark_vulns::model::{Advisory, Package, PackageRule, Source};
use iotmark_vulns::model::{
    Applicability, Bound, Bounds, Justification, Origin, ProductRef, VexStatement, VexStatus,
};
use iotmark_vulns::sbom::read_sbom;
use iotmark_vulns::vex::{
    self, CsafPublisher, read_cyclonedx_vex, read_openvex, read_vex, write_csaf_vex,
    write_cyclonedx_vex, write_openvex,
};

fn reference(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference")
        .join(relative)
}

fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn count(statements: &[VexStatement], status: VexStatus) -> usize {
    statements.iter().filter(|s| s.status == status).count()
}

#[test]
fn every_csaf_example_loads() {
    let dir = reference("csaf/examples/csaf");
    let mut files = json_files(&dir);
    files.extend(json_files(&dir.join("csaf_vex")));
    assert_eq!(files.len(), 19);
    for path in &files {
        let name = file_name(path);
        let doc = csaf::read(&name, &bytes(path)).unwrap_or_else(|e| panic!("{e}"));
        // Every vulnerability entry of the examples is readable; what is skipped is only
        // products that name neither purl nor CPE.
        for problem in &doc.skipped {
            assert!(problem.message.contains("has no purl or CPE"), "{problem}");
        }
        println!(
            "{name}: {} advisories, {} statements, {} unmatchable products",
            doc.advisories.len(),
            doc.statements.len(),
            doc.skipped.len()
        );
    }
}

#[test]
fn bsi_advisory_by_cpe() {
    let name = "bsi-2022-0001.json";
    let doc = csaf::read(
        name,
        &bytes(&reference("csaf/examples/csaf/bsi-2022-0001.json")),
    )
    .unwrap();
    assert_eq!(doc.tracking_id, "BSI-2022-0001");
    assert_eq!(doc.category, "csaf_security_advisory");
    let [advisory] = doc.advisories.as_slice() else {
        panic!("{:?}", doc.advisories)
    };
    assert_eq!(advisory.id, "CVE-2022-27193");
    assert_eq!(
        advisory.publisher.as_deref(),
        Some("Bundesamt für Sicherheit in der Informationstechnik")
    );
    // The affected versions are named by CPE only: one NVD-style configuration each.
    let criteria: Vec<&str> = advisory
        .applies_to
        .iter()
        .map(|a| match a {
            Applicability::Configuration(c) => c.nodes[0].matches[0].criteria.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        criteria.contains(&"cpe:/a:csaf-tools:cvrf-csaf-converter:1.0.0-alpha"),
        "{criteria:?}"
    );
    assert_eq!(advisory.severities.len(), 1);
    assert_eq!(advisory.severities[0].base_score, 6.1);
    assert!(count(&doc.statements, VexStatus::Fixed) >= 1);
    let fixed = doc
        .statements
        .iter()
        .find(|s| s.status == VexStatus::Fixed)
        .unwrap();
    assert!(
        fixed
            .origin
            .pointer
            .starts_with("/vulnerabilities/0/product_status/")
    );
    assert_eq!(fixed.origin.document_id.as_deref(), Some("BSI-2022-0001"));
    assert!(doc.skipped.is_empty(), "{:?}", doc.skipped);
}

#[test]
fn red_hat_relationship_products_are_resolved_to_their_components() {
    // Every fixed product of RHSA-2022:0011 is "telnet … as a component of RHEL 7.6 …",
    // defined by a relationship. The components carry no purl, so no component can match
    // them: each is reported by the combined product ID (not as an undefined product).
    let name = "rhsa-2022_0011.json";
    let doc = csaf::read(
        name,
        &bytes(&reference("csaf/examples/csaf/rhsa-2022_0011.json")),
    )
    .unwrap();
    assert_eq!(doc.advisories.len(), 1);
    assert!(doc.statements.is_empty());
    assert_eq!(doc.skipped.len(), 15);
    let problem = doc
        .skipped
        .iter()
        .find(|p| {
            p.message
                .contains("`7Server-7.6.AUS:telnet-1:0.17-65.el7_6.src`")
        })
        .expect("the relationship's product is named");
    assert!(
        problem.place.starts_with("/product_tree/relationships/"),
        "{problem}"
    );
}

/// A CSAF VEX document as a device maker would publish one: the firmware as a product with
/// a CPE, curl as a component of it (a relationship) with a purl.
fn firmware_vex() -> serde_json::Value {
    serde_json::json!({
        "document": {
            "category": "csaf_vex", "csaf_version": "2.0", "title": "Router OS 2.1 and curl",
            "publisher": {"category": "vendor", "name": "Example Routers PSIRT", "namespace": "https://psirt.example.com"},
            "tracking": {"id": "EXR-VEX-2024-0007", "version": "1", "status": "final",
                "initial_release_date": "2024-05-01T10:00:00Z", "current_release_date": "2024-05-02T10:00:00Z",
                "revision_history": [{"number": "1", "date": "2024-05-01T10:00:00Z", "summary": "Initial"}]}
        },
        "product_tree": {
            "branches": [{"category": "vendor", "name": "Example Routers", "branches": [
                {"category": "product_name", "name": "Router OS 2.1", "product": {"name": "Router OS 2.1", "product_id": "ROS-2.1",
                    "product_identification_helper": {"cpe": "cpe:2.3:o:example:router_os:2.1:*:*:*:*:*:*:*"}}},
                {"category": "product_version", "name": "curl 7.88.1", "product": {"name": "curl 7.88.1", "product_id": "CURL-7.88.1",
                    "product_identification_helper": {"purl": "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5"}}}
            ]}],
            "relationships": [{"category": "default_component_of", "product_reference": "CURL-7.88.1",
                "relates_to_product_reference": "ROS-2.1",
                "full_product_name": {"name": "curl 7.88.1 in Router OS 2.1", "product_id": "ROS-2.1:CURL-7.88.1"}}],
            "product_groups": [{"group_id": "G-CURL", "product_ids": ["ROS-2.1:CURL-7.88.1"]}]
        },
        "vulnerabilities": [
            {"cve": "CVE-2023-38545", "notes": [{"category": "description", "text": "SOCKS5 heap overflow"}],
             "product_status": {"known_not_affected": ["ROS-2.1:CURL-7.88.1"]},
             "flags": [{"label": "vulnerable_code_not_in_execute_path", "group_ids": ["G-CURL"]}],
             "threats": [{"category": "impact", "details": "The firmware never configures a SOCKS proxy.", "product_ids": ["ROS-2.1:CURL-7.88.1"]}]},
            {"cve": "CVE-2024-2398", "notes": [{"category": "description", "text": "HTTP/2 push headers leak"}],
             "product_status": {"known_affected": ["ROS-2.1:CURL-7.88.1"], "fixed": ["ROS-2.1"]},
             "remediations": [{"category": "vendor_fix", "details": "Update to Router OS 2.2.", "product_ids": ["ROS-2.1:CURL-7.88.1"]}]},
            {"cve": "CVE-2024-0000", "product_status": {"known_affected": ["NO-SUCH-PRODUCT"]}}
        ]
    })
}

#[test]
fn csaf_vex_statement_about_a_component_of_the_firmware() {
    let bytes = serde_json::to_vec(&firmware_vex()).unwrap();
    let doc = csaf::read("exr.json", &bytes).unwrap();
    let curl = "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5";
    let not_affected = &doc.statements[0];
    assert_eq!(not_affected.vulnerability, "CVE-2023-38545");
    assert_eq!(not_affected.product.id, curl);
    assert_eq!(not_affected.status, VexStatus::NotAffected);
    assert_eq!(
        not_affected.justification,
        Some(Justification::VulnerableCodeNotInExecutePath)
    );
    assert_eq!(
        not_affected.detail.as_deref(),
        Some("The firmware never configures a SOCKS proxy.")
    );
    assert_eq!(
        not_affected.origin,
        Origin {
            document: "exr.json".into(),
            document_id: Some("EXR-VEX-2024-0007".into()),
            pointer: "/vulnerabilities/0/product_status/known_not_affected/0".into(),
            author: Some("Example Routers PSIRT".into()),
            timestamp: Some("2024-05-02T10:00:00Z".parse().unwrap()),
        }
    );
    let affected = &doc.statements[1];
    assert_eq!(
        (affected.status, affected.product.id.as_str()),
        (VexStatus::Affected, curl)
    );
    assert_eq!(affected.detail.as_deref(), Some("Update to Router OS 2.2."));
    let fixed = &doc.statements[2];
    assert_eq!(fixed.status, VexStatus::Fixed);
    assert_eq!(
        fixed.product.id,
        "cpe:2.3:o:example:router_os:2.1:*:*:*:*:*:*:*"
    );
    // The advisory applies to curl 7.88.1-10+deb12u5 by purl.
    let advisory = &doc.advisories[1];
    let Applicability::Package(rule) = &advisory.applies_to[0] else {
        panic!("{:?}", advisory.applies_to)
    };
    assert_eq!(rule.package.ecosystem, "deb");
    assert_eq!(rule.package.name, "curl");
    assert_eq!(rule.versions, ["7.88.1-10+deb12u5"]);
    // The third entry names an undefined product: that product alone is skipped, with its
    // place.
    assert_eq!(doc.advisories.len(), 3);
    assert_eq!(doc.skipped.len(), 1);
    assert_eq!(
        doc.skipped[0].place,
        "/vulnerabilities/2/product_status/known_affected/0"
    );
    assert!(doc.skipped[0].message.contains("NO-SUCH-PRODUCT"));
}

#[test]
fn cyclonedx_use_cases_load() {
    let mut total = 0;
    for set in ["CISA-Use-Cases", "Use-Cases"] {
        let dir = reference(&format!("vex/cyclonedx/{set}"));
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.expect("a directory entry").path())
            .collect();
        cases.sort();
        for case in cases {
            for path in json_files(&case) {
                let name = file_name(&path);
                if name.starts_with("bom") {
                    continue;
                }
                let read = read_vex(&name, &bytes(&path)).unwrap_or_else(|e| panic!("{e}"));
                if set == "Use-Cases" && file_name(&case) == "Case-7" {
                    // "Not exploitable in any product": a statement about no product cannot
                    // be held against any component, and is reported rather than applied
                    // to everything.
                    assert!(read.records.is_empty());
                    assert_eq!(read.skipped.len(), 1);
                    assert_eq!(read.skipped[0].place, "/vulnerabilities/0/affects");
                    continue;
                }
                assert!(
                    read.skipped.is_empty(),
                    "{}: {:?}",
                    path.display(),
                    read.skipped
                );
                assert!(!read.records.is_empty(), "{}", path.display());
                total += read.records.len();
                println!(
                    "{set}/{}/{name}: {} statements",
                    file_name(&case),
                    read.records.len()
                );
            }
        }
    }
    assert!(total > 20, "{total}");
}

#[test]
fn cisa_case_1_not_affected_with_justification() {
    let path = reference("vex/cyclonedx/CISA-Use-Cases/Case-1/vex-not_affected.json");
    let read = read_vex("vex-not_affected.json", &bytes(&path)).unwrap();
    let [statement] = read.records.as_slice() else {
        panic!("{:?}", read.records)
    };
    assert_eq!(statement.vulnerability, "CVE-2021-44228");
    assert_eq!(statement.status, VexStatus::NotAffected);
    assert_eq!(
        statement.justification,
        Some(Justification::VulnerableCodeNotPresent)
    );
    // The product has no purl or CPE: its bom-ref stands for it.
    assert_eq!(statement.product.id, "product-ABC");
    assert!(
        statement
            .detail
            .as_deref()
            .unwrap()
            .contains("Class with vulnerable code was removed")
    );
    assert_eq!(statement.origin.pointer, "/vulnerabilities/0/affects/0");
    assert_eq!(
        statement.origin.timestamp,
        Some("2022-03-03T00:00:00Z".parse().unwrap())
    );
}

#[test]
fn cisa_case_7_versions_and_ranges_and_bom_links() {
    let path = reference("vex/cyclonedx/CISA-Use-Cases/Case-7/vex.json");
    let read = read_vex("vex.json", &bytes(&path)).unwrap();
    let abc = "urn:cdx:cbb2cd68-2857-43b8-a10b-e8c03d277d18/1#product-ABC";
    let affected: Vec<&VexStatement> = read
        .records
        .iter()
        .filter(|s| s.product.id == abc && s.status == VexStatus::Affected)
        .collect();
    // 2.4, 2.6 and >=2.9|<=4.1.
    assert_eq!(affected.len(), 3);
    assert_eq!(
        affected[2].product.bounds,
        Bounds {
            start: Some(Bound {
                version: "2.9".into(),
                inclusive: true
            }),
            end: Some(Bound {
                version: "4.1".into(),
                inclusive: true
            }),
        }
    );
    assert_eq!(
        affected[2].origin.pointer,
        "/vulnerabilities/0/affects/0/versions/2"
    );
}

#[test]
fn a_bom_link_resolves_to_the_component_of_the_bom() {
    let dir = reference("vex/cyclonedx");
    let bom = read_sbom("bom.json", &bytes(&dir.join("bom.json"))).unwrap();
    let vex_bytes = bytes(&dir.join("vex.json"));
    let unresolved = read_cyclonedx_vex("vex.json", &vex_bytes, None).unwrap();
    assert!(
        unresolved.records[0]
            .product
            .id
            .starts_with("urn:cdx:3e671687")
    );
    let read = read_cyclonedx_vex("vex.json", &vex_bytes, Some(&bom.components)).unwrap();
    // Said of the CVE and of the Snyk ID its `references` give for the same vulnerability.
    let [statement, alias] = read.records.as_slice() else {
        panic!("{:?}", read.records)
    };
    assert_eq!(
        alias.vulnerability,
        "SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302"
    );
    assert_eq!(alias.product, statement.product);
    assert_eq!(
        statement.product.id,
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.10.0?type=jar"
    );
    assert_eq!(statement.vulnerability, "CVE-2020-25649");
    assert_eq!(
        statement.justification,
        Some(Justification::VulnerableCodeNotInExecutePath)
    );
}

#[test]
fn openvex_documents_of_the_openvex_project() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openvex");
    let demo = read_openvex("demo.vex.json", &bytes(&dir.join("demo.vex.json"))).unwrap();
    assert_eq!(demo.records.len(), 2);
    assert!(demo.records.iter().all(|s| s.status == VexStatus::Fixed));
    assert_eq!(
        demo.records[1].product.id,
        "pkg:apk/distro/git@2.39.0-r1?arch=x86_64"
    );
    assert_eq!(demo.records[1].origin.pointer, "/statements/0/products/1");
    assert_eq!(
        demo.records[1].origin.author.as_deref(),
        Some("Wolfi J Inkinson")
    );
    let v020 = read_vex("v020-1.vex.json", &bytes(&dir.join("v020-1.vex.json"))).unwrap();
    assert_eq!(v020.records.len(), 1);
    assert_eq!(v020.records[0].status, VexStatus::UnderInvestigation);
    assert_eq!(
        v020.records[0].origin.timestamp,
        Some("2022-12-22T21:36:43Z".parse().unwrap())
    );
}

#[test]
fn openvex_statement_about_subcomponents() {
    let doc = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1", "author": "Example", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2023-38545", "aliases": ["GHSA-xxxx-curl-0001"]}, "status": "not_affected",
             "justification": "vulnerable_code_not_in_execute_path",
             "products": [{"@id": "pkg:oci/router-os@sha256%3Aabc", "subcomponents": [
                 {"@id": "pkg:deb/debian/curl@7.88.1-10"},
                 {"@id": "libcurl", "identifiers": {"purl": "pkg:deb/debian/libcurl4@7.88.1-10"}}]}]},
            {"vulnerability": {"name": "CVE-1"}, "status": "broken", "products": [{"@id": "pkg:deb/debian/x"}]}
        ]
    });
    let read = read_openvex("doc.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    // Each subcomponent, under the vulnerability's name and its alias.
    let said: Vec<(&str, &str)> = read
        .records
        .iter()
        .map(|s| (s.vulnerability.as_str(), s.product.id.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("CVE-2023-38545", "pkg:deb/debian/curl@7.88.1-10"),
            ("GHSA-xxxx-curl-0001", "pkg:deb/debian/curl@7.88.1-10"),
            ("CVE-2023-38545", "pkg:deb/debian/libcurl4@7.88.1-10"),
            ("GHSA-xxxx-curl-0001", "pkg:deb/debian/libcurl4@7.88.1-10"),
        ]
    );
    assert_eq!(
        read.records[3].origin.pointer,
        "/statements/0/products/0/subcomponents/1"
    );
    assert_eq!(read.skipped.len(), 1);
    assert_eq!(read.skipped[0].place, "/statements/1/status");
    assert!(
        read.skipped[0]
            .to_string()
            .contains("`broken` is not an OpenVEX status")
    );
}

#[test]
fn what_is_not_vex_is_refused_clearly() {
    let e = read_vex("sbom.json", br#"{"spdxVersion": "SPDX-2.3"}"#).unwrap_err();
    assert!(e.message.contains("not a VEX document"), "{e}");
    let e = read_vex("broken.json", b"{\n  \"statements\": [,]\n}").unwrap_err();
    assert_eq!(e.place, "line 2 column 18");
    let e = csaf::read(
        "c.json",
        br#"{"document": {"category": "csaf_vex", "tracking": {"id": "X"}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.json: /document/publisher: `publisher` is missing"
    );
    let e = read_vex("list.json", b"[]").unwrap_err();
    assert!(e.message.contains("found an array"), "{e}");
}

/// Statements of every status and justification, with and without version bounds.
fn statements() -> Vec<VexStatement> {
    let origin = Origin {
        document: "triage".into(),
        document_id: None,
        pointer: String::new(),
        author: None,
        timestamp: None,
    };
    let statement =
        |vulnerability: &str, product: &str, status, justification, detail: Option<&str>| {
            VexStatement {
                vulnerability: vulnerability.into(),
                product: ProductRef {
                    id: product.into(),
                    bounds: Bounds::default(),
                },
                status,
                justification,
                detail: detail.map(str::to_owned),
                origin: origin.clone(),
            }
        };
    let curl = "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5";
    let mut all = vec![
        statement(
            "CVE-2023-38545",
            curl,
            VexStatus::NotAffected,
            Some(Justification::VulnerableCodeNotInExecutePath),
            Some("No SOCKS proxy is configured."),
        ),
        statement(
            "CVE-2024-2398",
            curl,
            VexStatus::Affected,
            None,
            Some("Update to 2.2."),
        ),
        statement(
            "CVE-2024-2398",
            "pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5",
            VexStatus::Fixed,
            None,
            None,
        ),
        statement(
            "CVE-2023-44487",
            "cpe:2.3:a:nghttp2:nghttp2:1.52.0:*:*:*:*:*:*:*",
            VexStatus::UnderInvestigation,
            None,
            None,
        ),
        statement(
            "GHSA-xxxx-yyyy-zzzz",
            "pkg:pypi/requests@2.31.0",
            VexStatus::NotAffected,
            Some(Justification::ComponentNotPresent),
            None,
        ),
        statement(
            "CVE-2022-0001",
            "pkg:generic/busybox",
            VexStatus::NotAffected,
            Some(Justification::InlineMitigationsAlreadyExist),
            None,
        ),
        statement(
            "CVE-2022-0002",
            "pkg:generic/busybox",
            VexStatus::NotAffected,
            Some(Justification::VulnerableCodeCannotBeControlledByAdversary),
            None,
        ),
        statement(
            "CVE-2022-0003",
            "pkg:generic/busybox",
            VexStatus::NotAffected,
            Some(Justification::VulnerableCodeNotPresent),
            None,
        ),
    ];
    let mut bounded = statement(
        "CVE-2022-0004",
        "pkg:deb/debian/openssl",
        VexStatus::Fixed,
        None,
        None,
    );
    bounded.product.bounds = Bounds {
        start: Some(Bound {
            version: "3.0.11-1".into(),
            inclusive: true,
        }),
        end: Some(Bound {
            version: "3.1".into(),
            inclusive: false,
        }),
    };
    all.push(bounded);
    all
}

/// What a statement says, without where it was read from.
type Said = (
    String,
    ProductRef,
    VexStatus,
    Option<Justification>,
    Option<String>,
);

fn said(statements: &[VexStatement]) -> Vec<Said> {
    let mut said: Vec<_> = statements
        .iter()
        .map(|s| {
            (
                s.vulnerability.clone(),
                s.product.clone(),
                s.status,
                s.justification,
                s.detail.clone(),
            )
        })
        .collect();
    said.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    said
}

fn timestamp() -> jiff::Timestamp {
    "2024-06-01T12:00:00Z".parse().unwrap()
}

/// OpenVEX has no version bounds: its documents carry the unbounded statements only.
fn unbounded() -> Vec<VexStatement> {
    statements()
        .into_iter()
        .filter(|s| s.product.bounds.is_unbounded())
        .collect()
}

fn openvex_document(statements: &[VexStatement]) -> serde_json::Value {
    write_openvex(
        statements,
        "iotmark test lab",
        "https://example.com/vex/7",
        timestamp(),
    )
}

fn cyclonedx_document(statements: &[VexStatement]) -> serde_json::Value {
    write_cyclonedx_vex(
        statements,
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "iotmark test lab",
        timestamp(),
    )
}

fn csaf_document(statements: &[VexStatement]) -> serde_json::Value {
    let publisher = CsafPublisher {
        name: "iotmark test lab".into(),
        namespace: "https://iotmark.example".into(),
    };
    write_csaf_vex(statements, &publisher, "IOTMARK-VEX-0001", timestamp())
}

#[test]
fn openvex_names_one_version_by_purl_and_never_widens_a_range() {
    let mut one = statements()[2].clone();
    one.product.id = "pkg:deb/debian/libcurl4?arch=armhf".into();
    let version = Some(Bound {
        version: "7.88.1-10+deb12u5".into(),
        inclusive: true,
    });
    one.product.bounds = Bounds {
        start: version.clone(),
        end: version,
    };
    let range = statements().pop().unwrap();
    let written = [one, range.clone()];
    assert_eq!(vex::openvex_omits(&written), [&range]);
    let doc = openvex_document(&written);
    let read = read_openvex("out.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    let [statement] = read.records.as_slice() else {
        panic!("{:?}", read.records)
    };
    assert_eq!(
        statement.product.id,
        "pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u5?arch=armhf"
    );
}

#[test]
fn openvex_round_trip() {
    let statements = unbounded();
    let doc = openvex_document(&statements);
    let read = read_openvex("out.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert_eq!(said(&read.records), said(&statements));
    assert_eq!(
        read.records[0].origin.document_id.as_deref(),
        Some("https://example.com/vex/7")
    );
}

#[test]
fn cyclonedx_round_trip() {
    let statements = statements();
    let doc = cyclonedx_document(&statements);
    let read = read_vex("out.cdx.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert_eq!(said(&read.records), said(&statements));
}

#[test]
fn csaf_round_trip() {
    let statements = statements();
    let doc = csaf_document(&statements);
    let read = read_vex("out.csaf.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert_eq!(said(&read.records), said(&statements));
}

#[test]
fn written_openvex_passes_the_openvex_schema() {
    let schema: serde_json::Value =
        serde_json::from_slice(&bytes(&reference("vex/openvex/openvex_json_schema.json"))).unwrap();
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let doc = openvex_document(&unbounded());
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The OpenVEX project's own demo passes too, so the schema is the one it means.
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openvex/demo.vex.json");
    let demo: serde_json::Value = serde_json::from_slice(&bytes(&demo)).unwrap();
    assert!(validator.is_valid(&demo));
    assert_eq!(vex::status_word(VexStatus::NotAffected), "not_affected");
}

/// Runs a validator on written documents; its output is shown with the test's.
fn validate(program: &Path, args: &[&Path]) {
    let output = std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "{} found the documents invalid:\n{stdout}",
        program.display()
    );
}

/// The CSAF and CycloneDX documents iotmark writes pass their formats' own validators:
/// @secvisogram/csaf-validator-lib's schema and mandatory tests, and the CycloneDX 1.6 schema
/// of cyclonedx-python-lib; so do CISA's CycloneDX VEX use cases converted by iotmark.
/// scripts/validate-vex.sh installs both validators under target/tools and names that folder
/// in IOTMARK_VEX_TOOLS; without it, target/tools is used when they are there.
#[test]
fn written_documents_pass_the_csaf_and_cyclonedx_validators() {
    let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools");
    let tools = match std::env::var_os("IOTMARK_VEX_TOOLS") {
        Some(tools) => PathBuf::from(tools),
        None if installed
            .join("csaf-validator/node_modules/@secvisogram/csaf-validator-lib")
            .is_dir()
            && installed.join("cyclonedx/bin/python").is_file() =>
        {
            installed
        }
        None => {
            eprintln!("the validators are not installed: run scripts/validate-vex.sh");
            return;
        }
    };
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts");
    let out = tempfile::tempdir().unwrap();
    let statements = statements();
    let csaf = out.path().join("iotmark.csaf.json");
    std::fs::write(
        &csaf,
        serde_json::to_vec_pretty(&csaf_document(&statements)).unwrap(),
    )
    .unwrap();
    // One statement alone, and the unbounded ones, are documents of other shapes.
    let single = out.path().join("single.csaf.json");
    std::fs::write(
        &single,
        serde_json::to_vec(&csaf_document(&statements[..1])).unwrap(),
    )
    .unwrap();
    let unbounded_csaf = out.path().join("unbounded.csaf.json");
    std::fs::write(
        &unbounded_csaf,
        serde_json::to_vec(&csaf_document(&unbounded())).unwrap(),
    )
    .unwrap();
    // CISA's use cases, read and written again in both formats.
    let mut converted = Vec::new();
    let cisa = reference("vex/cyclonedx/CISA-Use-Cases");
    for case in 1..=8 {
        for path in json_files(&cisa.join(format!("Case-{case}"))) {
            let name = file_name(&path);
            if name.starts_with("bom") {
                continue;
            }
            let read = read_vex(&name, &bytes(&path)).unwrap();
            let stem = format!("cisa-{case}-{}", name.trim_end_matches(".json"));
            let csaf_path = out.path().join(format!("{stem}.csaf.json"));
            std::fs::write(
                &csaf_path,
                serde_json::to_vec(&csaf_document(&read.records)).unwrap(),
            )
            .unwrap();
            let cdx_path = out.path().join(format!("{stem}.cdx.json"));
            std::fs::write(
                &cdx_path,
                serde_json::to_vec(&cyclonedx_document(&read.records)).unwrap(),
            )
            .unwrap();
            converted.push((csaf_path, cdx_path));
        }
    }
    assert_eq!(converted.len(), 11);
    let mut csaf_files = vec![
        scripts.join("csaf-validate.mjs"),
        tools.join("csaf-validator"),
        csaf,
        single,
        unbounded_csaf,
    ];
    csaf_files.extend(converted.iter().map(|(c, _)| c.clone()));
    let csaf_args: Vec<&Path> = csaf_files.iter().map(PathBuf::as_path).collect();
    validate(Path::new("node"), &csaf_args);
    let cdx = out.path().join("iotmark.cdx.json");
    std::fs::write(
        &cdx,
        serde_json::to_vec_pretty(&cyclonedx_document(&statements)).unwrap(),
    )
    .unwrap();
    let mut cdx_files = vec![scripts.join("cyclonedx-validate.py"), cdx];
    cdx_files.extend(converted.iter().map(|(_, c)| c.clone()));
    let cdx_args: Vec<&Path> = cdx_files.iter().map(PathBuf::as_path).collect();
    validate(&tools.join("cyclonedx/bin/python"), &cdx_args);
}

/// The seed corpus of the three fuzz targets runs through the same functions the targets
/// call, so a crash the fuzzer once found stays fixed.
#[test]
fn the_fuzz_corpus_reads_without_panicking() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 3] = [
        ("csaf_read", vex::fuzz_csaf_read),
        ("openvex_read", vex::fuzz_openvex_read),
        ("cyclonedx_vex_read", vex::fuzz_cyclonedx_vex_read),
    ];
    for (target, run) in targets {
        let files = json_files(&corpus.join(target));
        assert!(!files.is_empty(), "{target} has no seeds");
        for file in files {
            run(&bytes(&file));
        }
    }
}

/// What a user notices: the maker's CSAF VEX says curl in the firmware is not affected by
/// CVE-2023-38545, so the match of OSV's record against the SBOM's curl is reported as not
/// affected, naming the statement; the CVE it says nothing about stays affected.
#[test]
fn a_csaf_statement_read_suppresses_the_match_it_names() {
    let doc = csaf::read("exr.json", &serde_json::to_vec(&firmware_vex()).unwrap()).unwrap();
    let curl = Component {
        reference: "curl".into(),
        name: "curl".into(),
        version: Some("7.88.1-10+deb12u5".into()),
        purl: Some("pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=armhf".into()),
        cpes: Vec::new(),
        supplier: None,
        fixes: Vec::new(),
    };
    let advisory = |id: &str| Advisory {
        id: id.into(),
        source: Source::Osv,
        aliases: Vec::new(),
        publisher: None,
        published: None,
        modified: None,
        withdrawn: false,
        summary: "".into(),
        severities: Vec::new(),
        weaknesses: Vec::new(),
        references: Vec::new(),
        applies_to: vec![Applicability::Package(PackageRule {
            package: Package {
                ecosystem: "deb".into(),
                name: "curl".into(),
                purl: Some("pkg:deb/debian/curl".into()),
            },
            ranges: Vec::new(),
            versions: vec!["7.88.1-10+deb12u5".into()],
            unaffected: Vec::new(),
        })],
    };
    let advisories = [advisory("CVE-2023-38545"), advisory("CVE-2023-9999")];
    let findings = match_components(&[curl], &advisories, &Default::default(), &doc.statements);
    let status = |id: &str| {
        findings
            .iter()
            .find(|f| f.vulnerability == id)
            .map(|f| (f.status, f.reason.clone()))
            .unwrap()
    };
    let (not_affected, reason) = status("CVE-2023-38545");
    assert_eq!(not_affected, Status::NotAffected, "{reason}");
    assert!(reason.contains("exr.json"), "{reason}");
    assert_eq!(status("CVE-2023-9999").0, Status::Affected);
}

/// A relationship may name a product that a later relationship defines (a library in a
/// container in a product); a cycle is reported, not followed.
#[test]
fn chained_relationships_resolve_in_any_order_and_cycles_are_reported() {
    let relationship = |component: &str, id: &str| {
        serde_json::json!({"category": "default_component_of", "product_reference": component,
            "relates_to_product_reference": "X", "full_product_name": {"name": id, "product_id": id}})
    };
    let doc = serde_json::json!({
        "document": {"category": "csaf_vex", "csaf_version": "2.0", "publisher": {"name": "P"}, "tracking": {"id": "T-1"}},
        "product_tree": {
            "full_product_names": [
                {"name": "openssl", "product_id": "A", "product_identification_helper": {"purl": "pkg:deb/debian/openssl@3.0.15-1"}},
                {"name": "X", "product_id": "X"}
            ],
            "relationships": [relationship("B", "C"), relationship("A", "B"), relationship("E", "D"), relationship("D", "E")]
        },
        "vulnerabilities": [{"cve": "CVE-2024-5535", "product_status": {"fixed": ["C"]}}]
    });
    let read = csaf::read("chain.json", &serde_json::to_vec(&doc).unwrap()).unwrap();
    assert_eq!(read.statements.len(), 1);
    assert_eq!(
        read.statements[0].product.id,
        "pkg:deb/debian/openssl@3.0.15-1"
    );
    let cycle: Vec<&str> = read.skipped.iter().map(|e| e.place.as_str()).collect();
    assert_eq!(
        cycle,
        [
            "/product_tree/relationships/3",
            "/product_tree/relationships/2"
        ]
    );
}
