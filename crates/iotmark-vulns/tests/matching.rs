//! Matching semantics, each rule on its own: bounds of every kind, the CPE vendor, the
//! AND/OR tree with platforms, OSV ranges and GIT version lists, back-ports, VEX scoped to
//! one component, KEV. The records are built here in the model's terms so that each case
//! shows one rule; tests/real_data.rs runs the same matcher on real NVD and OSV records.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;

use iotmark_vulns::Component;
use iotmark_vulns::matching::{Status, match_components, tag_version};
use iotmark_vulns::model::*;

fn component(reference: &str, cpe: &str, purl: Option<&str>, version: &str) -> Component {
    Component {
        reference: reference.into(),
        name: reference.into(),
        version: Some(version.into()),
        purl: purl.map(str::to_owned),
        cpes: vec![cpe.into()],
        supplier: None,
        fixes: vec![],
    }
}

fn curl(version: &str) -> Component {
    component(
        "curl",
        &format!("cpe:2.3:a:haxx:curl:{version}:*:*:*:*:*:*:*"),
        None,
        version,
    )
}

fn bound(version: &str, inclusive: bool) -> Option<Bound> {
    Some(Bound {
        version: version.into(),
        inclusive,
    })
}

fn nvd(id: &str, nodes: Vec<Node>, operator: Operator) -> Advisory {
    Advisory {
        id: id.into(),
        source: Source::Nvd,
        aliases: vec![],
        publisher: None,
        published: None,
        modified: None,
        withdrawn: false,
        summary: "".into(),
        severities: vec![Cvss {
            version: CvssVersion::V31,
            vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
            base_score: 9.8,
            rating: Rating::Critical,
            scored_by: Some("nvd@nist.gov".into()),
        }],
        weaknesses: vec![],
        references: vec![],
        applies_to: vec![Applicability::Configuration(Configuration {
            operator,
            negate: false,
            nodes,
        })],
    }
}

fn node(matches: Vec<CpeMatch>) -> Node {
    Node {
        operator: Operator::Or,
        negate: false,
        matches,
    }
}

fn cpe_match(
    criteria: &str,
    vulnerable: bool,
    start: Option<Bound>,
    end: Option<Bound>,
) -> CpeMatch {
    CpeMatch {
        criteria: criteria.into(),
        vulnerable,
        bounds: Bounds { start, end },
    }
}

fn statuses(
    components: &[Component],
    advisories: &[Advisory],
    vex: &[VexStatement],
) -> Vec<(String, String, Status)> {
    match_components(components, advisories, &BTreeMap::new(), vex)
        .into_iter()
        .map(|f| (f.component.reference.clone(), f.vulnerability, f.status))
        .collect()
}

#[test]
fn every_bound_kind_at_its_edge() {
    let any = "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*";
    let cases = [
        // (start, end, version, affected)
        (bound("7.69.0", true), bound("8.7.1", false), "7.69.0", true),
        (bound("7.69.0", true), bound("8.7.1", false), "8.7.1", false),
        (bound("7.69.0", true), bound("8.7.1", false), "8.7.0", true),
        (
            bound("7.69.0", false),
            bound("8.7.1", true),
            "7.69.0",
            false,
        ),
        (bound("7.69.0", false), bound("8.7.1", true), "8.7.1", true),
        (bound("7.69.0", false), bound("8.7.1", true), "8.7.2", false),
        (None, bound("7.88.1", false), "7.9.8", true), // numeric, not text, order
        (None, bound("7.88.1", false), "7.88.10", false),
        (bound("1.1.1", true), bound("1.1.1w", false), "1.1.1v", true), // OpenSSL letters
        (
            bound("1.1.1", true),
            bound("1.1.1w", false),
            "1.1.1w",
            false,
        ),
        (None, None, "1.0", true),
    ];
    for (start, end, version, affected) in cases {
        let advisory = nvd(
            "CVE-1",
            vec![node(vec![cpe_match(any, true, start.clone(), end.clone())])],
            Operator::Or,
        );
        let found = statuses(&[curl(version)], &[advisory], &[]);
        assert_eq!(
            !found.is_empty(),
            affected,
            "{version} in {start:?}..{end:?}: {found:?}"
        );
    }
}

#[test]
fn an_exact_version_in_the_cpe_and_the_vendor_both_count() {
    let exact = nvd(
        "CVE-2",
        vec![node(vec![cpe_match(
            "cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*",
            true,
            None,
            None,
        )])],
        Operator::Or,
    );
    assert_eq!(
        statuses(&[curl("7.88.1")], std::slice::from_ref(&exact), &[]).len(),
        1
    );
    assert!(statuses(&[curl("7.88.2")], &[exact], &[]).is_empty());
    // Another vendor's product of the same name is another product.
    let other_vendor = nvd(
        "CVE-3",
        vec![node(vec![cpe_match(
            "cpe:2.3:a:curl_project:curl:*:*:*:*:*:*:*:*",
            true,
            None,
            None,
        )])],
        Operator::Or,
    );
    assert!(statuses(&[curl("7.88.1")], &[other_vendor], &[]).is_empty());
}

#[test]
fn a_platform_node_is_looked_for_among_the_other_components() {
    // CVE-2021-… style: the application is vulnerable only when running on Windows.
    let on_windows = nvd(
        "CVE-4",
        vec![
            node(vec![cpe_match(
                "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*",
                true,
                None,
                bound("8.0.0", false),
            )]),
            node(vec![cpe_match(
                "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*",
                false,
                None,
                None,
            )]),
        ],
        Operator::And,
    );
    // An SBOM that lists its operating system (Linux), not Windows: not affected.
    let linux = component(
        "kernel",
        "cpe:2.3:o:linux:linux_kernel:6.1.0:*:*:*:*:*:*:*",
        None,
        "6.1.0",
    );
    assert!(
        statuses(
            &[curl("7.88.1"), linux],
            std::slice::from_ref(&on_windows),
            &[]
        )
        .is_empty()
    );
    // An SBOM that lists no operating system at all: conditional, not affected, not dropped.
    assert_eq!(
        statuses(&[curl("7.88.1")], std::slice::from_ref(&on_windows), &[]),
        [("curl".into(), "CVE-4".into(), Status::Conditional)]
    );
    // With Windows listed: affected.
    let windows = component(
        "os",
        "cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*",
        None,
        "-",
    );
    assert_eq!(
        statuses(&[curl("7.88.1"), windows], &[on_windows], &[])[0].2,
        Status::Affected
    );
}

#[test]
fn a_debian_package_is_held_by_its_upstream_version_and_a_backport_fixes_it() {
    let advisory = nvd(
        "CVE-2024-2398",
        vec![node(vec![cpe_match(
            "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*",
            true,
            bound("7.44.0", true),
            bound("8.7.1", false),
        )])],
        Operator::Or,
    );
    let mut libcurl = component(
        "libcurl4",
        "cpe:2.3:a:haxx:curl:7.88.1-10+deb12u8:*:*:*:*:*:*:*",
        Some(
            "pkg:deb/debian/libcurl4@7.88.1-10%2Bdeb12u8?arch=armhf&distro=debian-12&upstream=curl",
        ),
        "7.88.1-10+deb12u8",
    );
    let found = match_components(
        std::slice::from_ref(&libcurl),
        std::slice::from_ref(&advisory),
        &BTreeMap::new(),
        &[],
    );
    assert_eq!(found[0].status, Status::Affected);
    assert_eq!(found[0].fixed_in, ["8.7.1"]);
    libcurl.fixes.push(iotmark_vulns::Fix {
        vulnerability: "CVE-2024-2398".into(),
        evidence:
            "changelog.Debian.gz of libcurl4: the entry of 7.88.1-10+deb12u6 names CVE-2024-2398"
                .into(),
    });
    let found = match_components(&[libcurl], &[advisory], &BTreeMap::new(), &[]);
    assert_eq!(found[0].status, Status::Fixed);
    assert!(
        found[0].reason.contains("7.88.1-10+deb12u6"),
        "{}",
        found[0].reason
    );
}

#[test]
fn a_distribution_advisory_that_fixes_the_shipped_revision_is_a_backport() {
    let upstream = nvd(
        "CVE-2024-2398",
        vec![node(vec![cpe_match(
            "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*",
            true,
            None,
            bound("8.7.1", false),
        )])],
        Operator::Or,
    );
    let debian = Advisory {
        id: "DEBIAN-CVE-2024-2398".into(),
        source: Source::Osv,
        aliases: vec!["CVE-2024-2398".into()],
        applies_to: vec![Applicability::Package(PackageRule {
            package: Package {
                ecosystem: "Debian:12".into(),
                name: "curl".into(),
                purl: None,
            },
            ranges: vec![EventRange {
                kind: RangeKind::Ecosystem,
                events: vec![
                    Event::Introduced("0".into()),
                    Event::Fixed("7.88.1-10+deb12u6".into()),
                ],
            }],
            versions: vec![],
            unaffected: vec![],
        })],
        ..upstream.clone()
    };
    let shipped = |version: &str| {
        component(
            "libcurl4",
            "cpe:2.3:a:haxx:curl:7.88.1:*:*:*:*:*:*:*",
            Some(&format!(
                "pkg:deb/debian/libcurl4@{version}?distro=debian-12&upstream=curl"
            )),
            version,
        )
    };
    let found = match_components(
        &[shipped("7.88.1-10+deb12u8")],
        &[upstream.clone(), debian.clone()],
        &BTreeMap::new(),
        &[],
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].status, Status::Fixed);
    assert!(
        found[0].reason.contains("DEBIAN-CVE-2024-2398"),
        "{}",
        found[0].reason
    );
    // The revision before the fix is affected, by both records.
    let found = match_components(
        &[shipped("7.88.1-10+deb12u5")],
        &[upstream, debian],
        &BTreeMap::new(),
        &[],
    );
    assert_eq!(found[0].status, Status::Affected);
    assert_eq!(found[0].matched_by.len(), 2, "{:#?}", found[0].matched_by);
}

#[test]
fn vex_for_one_component_does_not_hide_the_cve_in_another() {
    let advisory = nvd(
        "CVE-2023-0286",
        vec![node(vec![cpe_match(
            "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*",
            true,
            bound("3.0.0", true),
            bound("3.0.8", false),
        )])],
        Operator::Or,
    );
    let a = component(
        "libssl-a",
        "cpe:2.3:a:openssl:openssl:3.0.7:*:*:*:*:*:*:*",
        Some("pkg:generic/openssl-a@3.0.7"),
        "3.0.7",
    );
    let b = component(
        "libssl-b",
        "cpe:2.3:a:openssl:openssl:3.0.7:*:*:*:*:*:*:*",
        Some("pkg:generic/openssl-b@3.0.7"),
        "3.0.7",
    );
    let statement = VexStatement {
        vulnerability: "CVE-2023-0286".into(),
        product: ProductRef {
            id: "pkg:generic/openssl-a@3.0.7".into(),
            bounds: Bounds::default(),
        },
        status: VexStatus::NotAffected,
        justification: Some(Justification::VulnerableCodeNotInExecutePath),
        detail: None,
        origin: Origin {
            document: "camera.openvex.json".into(),
            document_id: None,
            pointer: "/statements/0".into(),
            author: None,
            timestamp: None,
        },
    };
    let found = statuses(&[a, b], &[advisory], &[statement]);
    assert!(
        found.contains(&(
            "libssl-a".into(),
            "CVE-2023-0286".into(),
            Status::NotAffected
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&("libssl-b".into(), "CVE-2023-0286".into(), Status::Affected)),
        "{found:?}"
    );
}

#[test]
fn a_known_exploited_vulnerability_is_flagged_and_comes_first() {
    let advisory = |id: &str| {
        nvd(
            id,
            vec![node(vec![cpe_match(
                "cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*",
                true,
                None,
                None,
            )])],
            Operator::Or,
        )
    };
    let kev = BTreeMap::from([(
        "CVE-9".to_owned(),
        KnownExploited {
            cve: "CVE-9".into(),
            vendor: "Haxx".into(),
            product: "curl".into(),
            name: "curl overflow".into(),
            date_added: jiff::civil::date(2024, 1, 2),
            due_date: jiff::civil::date(2024, 1, 23),
            required_action: "Apply updates".into(),
            ransomware_use: "Unknown".into(),
        },
    )]);
    let found = match_components(
        &[curl("7.0")],
        &[advisory("CVE-1"), advisory("CVE-9")],
        &kev,
        &[],
    );
    assert_eq!(found[0].vulnerability, "CVE-9");
    assert_eq!(
        found[0].known_exploited.as_ref().unwrap().due_date,
        jiff::civil::date(2024, 1, 23)
    );
    assert!(found[1].known_exploited.is_none());
}

#[test]
fn osv_git_ranges_match_through_their_tag_lists() {
    assert_eq!(tag_version("curl-7_74_0").as_deref(), Some("7.74.0"));
    assert_eq!(tag_version("OpenSSL_1_1_1k").as_deref(), Some("1.1.1k"));
    assert_eq!(tag_version("v2.9.10").as_deref(), Some("2.9.10"));
    assert_eq!(tag_version("libxml2-2.9.10").as_deref(), Some("2.9.10"));
    let advisory = Advisory {
        id: "OSV-2021-1".into(),
        source: Source::Osv,
        applies_to: vec![Applicability::Package(PackageRule {
            package: Package {
                ecosystem: "OSS-Fuzz".into(),
                name: "curl".into(),
                purl: None,
            },
            ranges: vec![EventRange {
                kind: RangeKind::Git,
                events: vec![Event::Introduced("abc".into()), Event::Fixed("def".into())],
            }],
            versions: vec!["curl-7_73_0".into(), "curl-7_74_0".into()],
            unaffected: vec![],
        })],
        ..nvd("x", vec![], Operator::Or)
    };
    assert_eq!(
        statuses(&[curl("7.74.0")], std::slice::from_ref(&advisory), &[]).len(),
        1
    );
    assert!(statuses(&[curl("7.75.0")], &[advisory], &[]).is_empty());
}
