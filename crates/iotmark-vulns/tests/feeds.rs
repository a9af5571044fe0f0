//! The feed readers against real records: NVD CVE JSON 2.0 from the fkie-cad mirror and
//! CVE JSON 5 from cvelistV5 (tests/data, see SOURCES.md), every OSS-Fuzz OSV record of
//! ../shared/reference/osv, and CISA's KEV catalog. Feeds and archives are assembled from
//! those records with the real `gzip` and `zip` tools.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_vulns::model::{
    Advisory, Applicability, Bound, CvssVersion, Event, Operator, RangeKind, Rating,
};
use iotmark_vulns::{cve5, cvss, kev, nvd, osv, zip};
use serde_json::{Value, json};

fn data(kind: &str, file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(kind)
        .join(file)
}

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference")
        .join(path)
}

fn nvd_record(id: &str) -> Advisory {
    let name = format!("{id}.json");
    let bytes = std::fs::read(data("nvd", &name)).unwrap();
    let mut read = nvd::read(&name, &bytes).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert_eq!(read.records.len(), 1);
    read.records.remove(0)
}

fn nvd_json(id: &str) -> Value {
    serde_json::from_slice(&std::fs::read(data("nvd", &format!("{id}.json"))).unwrap()).unwrap()
}

fn configurations(advisory: &Advisory) -> Vec<&iotmark_vulns::model::Configuration> {
    advisory
        .applies_to
        .iter()
        .map(|a| match a {
            Applicability::Configuration(c) => c,
            other => panic!("expected a configuration, found {other:?}"),
        })
        .collect()
}

const NVD_IDS: [&str; 5] = [
    "CVE-2023-38545",
    "CVE-2023-28450",
    "CVE-2022-48174",
    "CVE-2022-22707",
    "CVE-2017-17215",
];

#[test]
fn nvd_record_of_curl_socks5_overflow_keeps_its_cpe_bounds_and_scores() {
    let a = nvd_record("CVE-2023-38545");
    assert_eq!(a.id, "CVE-2023-38545");
    assert_eq!(a.publisher.as_deref(), Some("support@hackerone.com"));
    // NVD writes UTC without an offset.
    assert_eq!(a.published.unwrap().to_string(), "2023-10-18T04:15:11.077Z");
    assert_eq!(a.modified.unwrap().to_string(), "2024-01-21T02:23:03.223Z");
    assert!(!a.withdrawn);
    assert!(
        a.summary.starts_with("This flaw makes curl overflow"),
        "English, not Spanish"
    );
    assert_eq!(a.weaknesses, ["CWE-787"]);
    assert_eq!(a.references.len(), 4);
    let score = &a.severities[0];
    assert_eq!(score.version, CvssVersion::V31);
    assert_eq!(score.base_score, 9.8);
    assert_eq!(score.rating, Rating::Critical);
    assert_eq!(score.scored_by.as_deref(), Some("nvd@nist.gov"));
    let configs = configurations(&a);
    assert_eq!(configs.len(), 3);
    let libcurl = &configs[0].nodes[0].matches[0];
    assert_eq!(libcurl.criteria, "cpe:2.3:a:haxx:libcurl:*:*:*:*:*:*:*:*");
    assert!(libcurl.vulnerable);
    let start = Bound {
        version: "7.69.0".into(),
        inclusive: true,
    };
    let end = Bound {
        version: "8.4.0".into(),
        inclusive: false,
    };
    assert_eq!(libcurl.bounds.start.as_ref(), Some(&start));
    assert_eq!(libcurl.bounds.end.as_ref(), Some(&end));
    assert_eq!(configs[2].nodes[0].matches.len(), 4);
}

#[test]
fn nvd_router_record_keeps_the_and_of_firmware_and_hardware_platform() {
    let a = nvd_record("CVE-2017-17215");
    let configs = configurations(&a);
    assert_eq!(configs[0].operator, Operator::And);
    let [firmware, hardware] = configs[0].nodes.as_slice() else {
        panic!("two nodes")
    };
    assert!(firmware.matches[0].vulnerable);
    assert_eq!(
        hardware.matches[0].criteria,
        "cpe:2.3:h:huawei:hg532:-:*:*:*:*:*:*:*"
    );
    assert!(
        !hardware.matches[0].vulnerable,
        "the hardware is the platform, not the flaw"
    );
    // Primary v3.0 first, then v2 (whose severity NVD writes beside cvssData).
    let versions: Vec<_> = a
        .severities
        .iter()
        .map(|s| (s.version, s.base_score, s.rating))
        .collect();
    assert_eq!(
        versions,
        [
            (CvssVersion::V30, 8.8, Rating::High),
            (CvssVersion::V2, 6.5, Rating::Medium)
        ]
    );
}

#[test]
fn nvd_inclusive_bounds_both_ends_and_end_only() {
    let lighttpd = nvd_record("CVE-2022-22707");
    let m = &configurations(&lighttpd)[0].nodes[0].matches[0];
    assert_eq!(
        m.bounds.start,
        Some(Bound {
            version: "1.4.46".into(),
            inclusive: true
        })
    );
    assert_eq!(
        m.bounds.end,
        Some(Bound {
            version: "1.4.63".into(),
            inclusive: true
        })
    );
    let busybox = nvd_record("CVE-2022-48174");
    let m = &configurations(&busybox)[0].nodes[0].matches[0];
    assert_eq!(m.bounds.start, None);
    assert_eq!(
        m.bounds.end,
        Some(Bound {
            version: "1.36.1".into(),
            inclusive: true
        })
    );
}

#[test]
fn nvd_scores_agree_with_the_cvss_formula() {
    for id in NVD_IDS {
        for score in nvd_record(id).severities {
            let (version, computed) = cvss::base_score(&score.vector).unwrap();
            assert_eq!(version, score.version, "{id} {}", score.vector);
            assert!(
                (computed - score.base_score).abs() < 1e-9,
                "{id} {}: {computed}",
                score.vector
            );
        }
    }
}

#[test]
fn nvd_primary_score_comes_before_the_secondary_and_placeholder_cwes_are_dropped() {
    let a = nvd_record("CVE-2023-28450");
    let scorers: Vec<_> = a
        .severities
        .iter()
        .map(|s| s.scored_by.as_deref().unwrap())
        .collect();
    assert_eq!(
        scorers,
        ["nvd@nist.gov", "134c704f-9b21-4f2e-91b3-4a467353bcc0"]
    );
    assert!(a.weaknesses.is_empty(), "NVD-CWE-noinfo is not a CWE");
    // 13 references, each URL once.
    assert_eq!(a.references.len(), 7);
    let m = &configurations(&a)[0].nodes[0].matches[0];
    assert_eq!(
        m.bounds.end,
        Some(Bound {
            version: "2.90".into(),
            inclusive: false
        })
    );
}

#[test]
fn nvd_rejected_record_is_withdrawn() {
    let a = nvd_record("CVE-2023-52071");
    assert!(a.withdrawn);
    assert!(a.summary.starts_with("Rejected reason:"));
    assert!(a.severities.is_empty() && a.applies_to.is_empty() && a.references.is_empty());
}

/// A yearly-feed shaped document of the stored records, the second one broken.
fn feed_with_a_broken_record() -> Vec<u8> {
    let mut broken = nvd_json("CVE-2022-22707");
    broken["configurations"][0]["nodes"][0]["cpeMatch"][0]["vulnerable"] = json!("yes");
    let mut vulnerabilities = vec![
        json!({ "cve": nvd_json("CVE-2023-38545") }),
        json!({ "cve": broken }),
    ];
    for id in ["CVE-2022-48174", "CVE-2017-17215"] {
        vulnerabilities.push(json!({ "cve": nvd_json(id) }));
    }
    serde_json::to_vec_pretty(&json!({
        "resultsPerPage": 4,
        "startIndex": 0,
        "totalResults": 4,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-12-01T00:00:00.000",
        "vulnerabilities": vulnerabilities,
    }))
    .unwrap()
}

#[test]
fn nvd_feed_reads_the_good_records_and_names_the_broken_one() {
    let mut ids = Vec::new();
    let summary = nvd::read_feed(
        "nvdcve-2.0-test.json",
        &feed_with_a_broken_record()[..],
        |a| ids.push(a.id),
    )
    .unwrap();
    assert_eq!(ids, ["CVE-2023-38545", "CVE-2022-48174", "CVE-2017-17215"]);
    assert_eq!(summary.read, 3);
    assert_eq!(
        summary.timestamp.unwrap().to_string(),
        "2026-12-01T00:00:00Z"
    );
    let [bad] = summary.skipped.as_slice() else {
        panic!("one skipped: {:?}", summary.skipped)
    };
    assert_eq!(bad.file, "nvdcve-2.0-test.json");
    assert_eq!(
        bad.place,
        "/vulnerabilities/1/cve/configurations/0/nodes/0/cpeMatch/0/vulnerable"
    );
    assert!(
        bad.message
            .starts_with("CVE-2022-22707: expected a boolean"),
        "{}",
        bad.message
    );
}

#[test]
fn nvd_gzip_feed_reads_like_the_plain_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nvdcve-2.0-test.json");
    std::fs::write(&path, feed_with_a_broken_record()).unwrap();
    let status = Command::new("gzip").arg("-9").arg(&path).status().unwrap();
    assert!(status.success());
    let file = std::fs::File::open(dir.path().join("nvdcve-2.0-test.json.gz")).unwrap();
    let mut count = 0;
    let summary = nvd::read_feed("nvdcve-2.0-test.json.gz", file, |_| count += 1).unwrap();
    assert_eq!((count, summary.read, summary.skipped.len()), (3, 3, 1));

    // A truncated gzip stream is an error, not a short feed.
    let gz = std::fs::read(dir.path().join("nvdcve-2.0-test.json.gz")).unwrap();
    let error = nvd::read_feed("cut.json.gz", &gz[..gz.len() / 2], |_| {}).unwrap_err();
    assert!(error.place.starts_with("line "), "{error}");
}

#[test]
fn nvd_malformed_json_names_line_and_column() {
    let feed = String::from_utf8(feed_with_a_broken_record()).unwrap();
    // Drop the comma after the first record: a syntax error on a known line.
    let cut = feed.replacen("  },\n    {\n      \"cve\"", "  }\n    {\n      \"cve\"", 1);
    assert_ne!(cut, feed);
    let error = nvd::read("broken.json", cut.as_bytes()).unwrap_err();
    assert_eq!(error.file, "broken.json");
    assert!(
        error.place.starts_with("line ") && error.place.contains(" column "),
        "{error}"
    );
}

#[test]
fn nvd_api_wrapper_and_bare_record_read_the_same() {
    let bare = nvd_record("CVE-2017-17215");
    let wrapped = nvd::read(
        "page.json",
        &serde_json::to_vec(&json!({"cve": nvd_json("CVE-2017-17215")})).unwrap(),
    )
    .unwrap();
    assert_eq!(wrapped.records, [bare]);
    // A CVE 5 record is not an NVD one: an error, not an empty feed.
    let cve5_bytes = std::fs::read(data("cve5", "CVE-2023-38545.json")).unwrap();
    let error = nvd::read("CVE-2023-38545.json", &cve5_bytes).unwrap_err();
    assert_eq!(error.place, "/");
    assert!(error.hint.is_some());
}

fn cve5_record(id: &str) -> Advisory {
    let name = format!("{id}.json");
    cve5::read(&name, &std::fs::read(data("cve5", &name)).unwrap()).unwrap()
}

#[test]
fn cve5_record_of_curl_has_vendor_product_versions() {
    let a = cve5_record("CVE-2023-38545");
    assert_eq!(a.publisher.as_deref(), Some("hackerone"));
    assert_eq!(a.published.unwrap().to_string(), "2023-10-18T03:52:00.816Z");
    let [Applicability::VendorProduct(rule)] = a.applies_to.as_slice() else {
        panic!("{:?}", a.applies_to)
    };
    assert_eq!(
        (rule.vendor.as_str(), rule.product.as_str()),
        ("curl", "curl")
    );
    assert_eq!(rule.versions.len(), 2);
    assert!(rule.versions[0].affected);
    assert_eq!(rule.versions[0].less_than.as_deref(), Some("8.4.0"));
    assert_eq!(rule.versions[0].version_type.as_deref(), Some("semver"));
    assert!(!rule.versions[1].affected);
    assert_eq!(a.references.len(), 7);
}

#[test]
fn cve5_cisa_adp_adds_the_score_the_cna_left_out() {
    let a = cve5_record("CVE-2023-28450");
    // The CNA said "n/a" for vendor, product and version: nothing to match on.
    assert!(a.applies_to.is_empty());
    let [score] = a.severities.as_slice() else {
        panic!("{:?}", a.severities)
    };
    assert_eq!(
        (score.version, score.base_score, score.rating),
        (CvssVersion::V31, 7.5, Rating::High)
    );
    assert_eq!(score.scored_by.as_deref(), Some("CISA-ADP"));
    // "CWE-noinfo" is not a CWE.
    assert!(a.weaknesses.is_empty());
    // References the ADP repeats are kept once; the Debian LTS one is the ADP's own.
    assert_eq!(a.references.len(), 7);
    assert!(
        a.references
            .iter()
            .any(|r| r.contains("debian-lts-announce"))
    );
}

#[test]
fn cve5_dates_without_offset_are_utc_and_rejection_withdraws() {
    let a = cve5_record("CVE-2022-48174");
    assert_eq!(a.published.unwrap().to_string(), "2023-08-22T00:00:00Z");
    let mut record: Value =
        serde_json::from_slice(&std::fs::read(data("cve5", "CVE-2022-48174.json")).unwrap())
            .unwrap();
    record["cveMetadata"]["state"] = json!("REJECTED");
    record["containers"]["cna"]["rejectedReasons"] = json!([{"lang": "en", "value": "duplicate"}]);
    let rejected = cve5::read("r.json", &serde_json::to_vec(&record).unwrap()).unwrap();
    assert!(rejected.withdrawn);
    assert_eq!(&*rejected.summary, "duplicate");
    record["dataType"] = json!("CVE_RECORD_LIST");
    let error = cve5::read("r.json", &serde_json::to_vec(&record).unwrap()).unwrap_err();
    assert!(
        error.to_string().contains("not CVE_RECORD") && error.hint.is_some(),
        "{error}"
    );
}

fn oss_fuzz() -> PathBuf {
    shared("osv/oss-fuzz-vulns/vulns")
}

#[test]
fn every_oss_fuzz_record_reads() {
    let read = osv::read_dir(&oss_fuzz()).unwrap();
    assert!(
        read.skipped.is_empty(),
        "{:#?}",
        &read.skipped[..read.skipped.len().min(5)]
    );
    assert_eq!(read.records.len(), 4026);
    // Sorted by path, so reading twice gives the same order.
    let ids: Vec<_> = read.records.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        osv::read_dir(&oss_fuzz())
            .unwrap()
            .records
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>()
    );
    let zstd = read
        .records
        .iter()
        .find(|a| a.id == "OSV-2022-110")
        .unwrap();
    let [Applicability::Package(rule)] = zstd.applies_to.as_slice() else {
        panic!()
    };
    assert_eq!(rule.package.ecosystem, "OSS-Fuzz");
    assert_eq!(rule.package.purl.as_deref(), Some("pkg:generic/zstd"));
    assert_eq!(rule.ranges[0].kind, RangeKind::Git);
    assert_eq!(
        rule.ranges[0].events[1],
        Event::Fixed("cad9f8d5f9c451b1cc8ce00a16c125e3d2ffc418".into())
    );
    assert_eq!(
        zstd.published.unwrap().to_string(),
        "2022-02-01T00:01:50.971611Z"
    );
}

/// The zstd records of OSS-Fuzz (YAML) as OSV's `all.zip` holds them: one `<ID>.json` per
/// record, zipped by `zip` with `extra_args`. The JSON is converted from the YAML here.
fn zstd_archive(dir: &Path, extra_args: &[&str]) -> (Vec<u8>, Vec<Advisory>) {
    let src = oss_fuzz().join("zstd");
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let expected = osv::read_dir(&src).unwrap().records;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let yaml = std::fs::read_to_string(&path).unwrap();
        let value: Value = serde_saphyr::from_str(&yaml).unwrap();
        let name = format!("{}.json", value["id"].as_str().unwrap());
        std::fs::write(tree.join(&name), serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        names.push(name);
    }
    let zip_path = dir.join("all.zip");
    let status = Command::new("zip")
        .arg("-q")
        .args(extra_args)
        .arg(&zip_path)
        .args(&names)
        .current_dir(&tree)
        .status()
        .unwrap();
    assert!(status.success());
    (std::fs::read(&zip_path).unwrap(), expected)
}

#[test]
fn osv_zip_export_reads_like_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, expected) = zstd_archive(dir.path(), &[]);
    let read = osv::read_zip("all.zip", &bytes).unwrap();
    assert!(read.skipped.is_empty(), "{:?}", read.skipped);
    assert!(expected.len() > 10);
    // The JSON records in the archive read exactly as the YAML ones of the tree.
    assert_eq!(read.records, expected);
}

#[test]
fn osv_zip64_and_stored_archives_read_too() {
    for args in [&["-fz"][..], &["-0"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, expected) = zstd_archive(dir.path(), args);
        let read = osv::read_zip("all.zip", &bytes).unwrap();
        assert_eq!(read.records, expected, "zip {args:?}");
    }
}

#[test]
fn zip_damage_is_reported_with_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = zstd_archive(dir.path(), &[]);
    // Truncated: the end-of-central-directory record is gone.
    let error = zip::open(
        "cut.zip",
        &bytes[..bytes.len() - 30],
        zip::Limits::default(),
    )
    .unwrap_err();
    assert!(error.hint.is_some(), "{error}");
    // A flipped byte in the first entry's data: its CRC-32 (or inflation) fails, the rest read.
    let mut damaged = bytes.clone();
    let archive = zip::open("x.zip", &bytes, zip::Limits::default()).unwrap();
    let first = archive
        .entries()
        .iter()
        .find(|e| !e.is_dir())
        .unwrap()
        .clone();
    let local = first.local_header_offset as usize;
    let field = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let data_at = local + 30 + field(local + 26) + field(local + 28);
    damaged[data_at + 3] ^= 0xff;
    let read = osv::read_zip("damaged.zip", &damaged).unwrap();
    assert_eq!(read.skipped.len(), 1, "{:?}", read.skipped);
    assert!(read.skipped[0].file.starts_with("damaged.zip"));
    assert!(
        read.skipped[0].place.starts_with("offset "),
        "{}",
        read.skipped[0]
    );
}

#[test]
fn zip_bomb_is_refused_before_inflating() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("zeros.json"), vec![b' '; 8 << 20]).unwrap();
    let status = Command::new("zip")
        .args(["-q", "bomb.zip", "zeros.json"])
        .current_dir(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(dir.path().join("bomb.zip")).unwrap();
    let error = zip::open("bomb.zip", &bytes, zip::Limits::default()).unwrap_err();
    assert!(error.message.contains("compression ratio"), "{error}");
}

#[test]
fn osv_json_record_with_cvss_and_malformed_event() {
    let record = json!({
        "id": "GHSA-test", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-2023-38545"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "curl"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u4"}]}]}],
    });
    let a = osv::read("GHSA-test.json", &serde_json::to_vec(&record).unwrap()).unwrap();
    assert_eq!(a.aliases, ["CVE-2023-38545"]);
    assert_eq!(
        (a.severities[0].base_score, a.severities[0].rating),
        (9.8, Rating::Critical)
    );
    let mut bad = record.clone();
    bad["affected"][0]["ranges"][0]["events"][1] = json!({"fixed": "1", "introduced": "0"});
    let error = osv::read("bad.json", &serde_json::to_vec(&bad).unwrap()).unwrap_err();
    assert_eq!(error.place, "/affected/0/ranges/0/events/1");
    // An entry with only a repository (osv.dev's CVE conversions) is named by it.
    let mut git_only = record.clone();
    git_only["affected"] = json!([{"ranges": [{"type": "GIT", "repo": "https://github.com/curl/curl",
        "events": [{"introduced": "0"}, {"fixed": "fb4415d8aee6c1045be932a34fe6107c2f5ed147"}]}],
        "versions": ["curl-8_3_0"]}]);
    let a = osv::read("git.json", &serde_json::to_vec(&git_only).unwrap()).unwrap();
    let [Applicability::Package(rule)] = a.applies_to.as_slice() else {
        panic!()
    };
    assert_eq!(
        (rule.package.ecosystem.as_str(), rule.package.name.as_str()),
        (osv::GIT_ECOSYSTEM, "https://github.com/curl/curl")
    );
    assert_eq!(rule.versions, ["curl-8_3_0"]);
    git_only["affected"][0]["ranges"][0]["type"] = json!("SEMVER");
    let error = osv::read("nogit.json", &serde_json::to_vec(&git_only).unwrap()).unwrap_err();
    assert_eq!(error.place, "/affected/0/package");
    let error = osv::read("bad.yaml", b"id: [unclosed\n").unwrap_err();
    assert!(error.place.starts_with("line "), "{error}");
}

#[test]
fn kev_catalog_reads_every_entry() {
    let bytes = std::fs::read(shared("kev/known_exploited_vulnerabilities.json")).unwrap();
    let catalog = kev::read("known_exploited_vulnerabilities.json", &bytes).unwrap();
    assert_eq!(catalog.version, "2025.08.25");
    assert_eq!(
        catalog.released.unwrap().to_string(),
        "2025-08-25T17:04:19.9796Z"
    );
    assert!(
        catalog.entries.skipped.is_empty(),
        "{:?}",
        catalog.entries.skipped
    );
    assert_eq!(catalog.entries.records.len(), 1404);
    let git = &catalog.entries.records[0];
    assert_eq!(git.cve, "CVE-2025-48384");
    assert_eq!(git.date_added.to_string(), "2025-08-25");
    assert_eq!(git.due_date.to_string(), "2025-09-15");
    assert_eq!(git.ransomware_use, "Unknown");

    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    value["vulnerabilities"][3]["dueDate"] = json!("soon");
    let catalog = kev::read("kev.json", &serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(catalog.entries.records.len(), 1403);
    assert_eq!(
        catalog.entries.skipped[0].place,
        "/vulnerabilities/3/dueDate"
    );
}

/// A component as an SBOM of the Debian test images names it.
fn component(name: &str, cpe: &str, version: &str) -> iotmark_vulns::Component {
    iotmark_vulns::Component {
        reference: name.into(),
        name: name.into(),
        version: Some(version.into()),
        purl: None,
        cpes: vec![cpe.replace("*:*:*:*:*:*:*:*", &format!("{version}:*:*:*:*:*:*:*"))],
        supplier: None,
        fixes: vec![],
    }
}

#[test]
fn read_records_reach_the_matcher_with_their_bounds() {
    use iotmark_vulns::matching::{Status, match_components};
    // The upstream versions Debian 12 ships in the test images' packages.
    let components = [
        component(
            "libcurl4",
            "cpe:2.3:a:haxx:libcurl:*:*:*:*:*:*:*:*",
            "7.88.1",
        ),
        component(
            "busybox",
            "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*",
            "1.35.0",
        ),
        component(
            "lighttpd",
            "cpe:2.3:a:lighttpd:lighttpd:*:*:*:*:*:*:*:*",
            "1.4.69",
        ),
        component(
            "hg532",
            "cpe:2.3:o:huawei:hg532_firmware:*:*:*:*:*:*:*:*",
            "-",
        ),
    ];
    let advisories: Vec<Advisory> = NVD_IDS.iter().map(|id| nvd_record(id)).collect();
    // dnsmasq 2.89 (Debian 12) is before the excluded end 2.90.
    let dnsmasq = component(
        "dnsmasq-base",
        "cpe:2.3:a:thekelleys:dnsmasq:*:*:*:*:*:*:*:*",
        "2.89",
    );
    let components = [components.as_slice(), &[dnsmasq]].concat();
    let found: Vec<_> = match_components(&components, &advisories, &Default::default(), &[])
        .into_iter()
        .map(|f| {
            (
                f.component.reference.clone(),
                f.vulnerability,
                f.status,
                f.fixed_in,
            )
        })
        .collect();
    let expect = |reference: &str, cve: &str, status: Status, fixed: &[&str]| {
        assert!(
            found
                .iter()
                .any(|(r, v, s, f)| r == reference && v == cve && *s == status && f == fixed),
            "{reference} {cve} {status:?} not in {found:#?}"
        );
    };
    expect("libcurl4", "CVE-2023-38545", Status::Affected, &["8.4.0"]);
    expect("busybox", "CVE-2022-48174", Status::Affected, &[]);
    expect(
        "dnsmasq-base",
        "CVE-2023-28450",
        Status::Affected,
        &["2.90"],
    );
    // The router firmware is vulnerable only with the HG532 hardware, which no component is.
    expect("hg532", "CVE-2017-17215", Status::Conditional, &[]);
    // lighttpd 1.4.69 is past the inclusive end 1.4.63.
    assert!(!found.iter().any(|(r, ..)| r == "lighttpd"), "{found:#?}");
}

#[test]
fn cve5_adp_cpes_join_the_cna_product_they_name() {
    let mut record: Value =
        serde_json::from_slice(&std::fs::read(data("cve5", "CVE-2023-38545.json")).unwrap())
            .unwrap();
    // The shape CISA's ADP container gives when it adds CPEs to a CNA's product.
    record["containers"]["adp"] = json!([{
        "providerMetadata": {"orgId": "134c704f-9b21-4f2e-91b3-4a467353bcc0", "shortName": "CISA-ADP"},
        "affected": [
            {"vendor": "Curl", "product": "curl", "cpes": ["cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*"],
             "defaultStatus": "unknown",
             "versions": [{"version": "7.69.0", "status": "affected", "lessThan": "8.4.0", "versionType": "custom"}]},
            {"vendor": "haxx", "product": "libcurl", "cpes": ["cpe:2.3:a:haxx:libcurl:*:*:*:*:*:*:*:*"],
             "versions": [{"version": "7.69.0", "status": "affected", "lessThan": "8.4.0", "versionType": "custom"}]}
        ]
    }]);
    let a = cve5::read("adp.json", &serde_json::to_vec(&record).unwrap()).unwrap();
    let rules: Vec<_> = a
        .applies_to
        .iter()
        .map(|r| match r {
            Applicability::VendorProduct(v) => v,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].product, "curl");
    assert_eq!(rules[0].cpes, ["cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*"]);
    // The CNA's own versions stay; the ADP's product of another name stands on its own.
    assert_eq!(rules[0].versions[0].version_type.as_deref(), Some("semver"));
    assert_eq!(rules[1].product, "libcurl");
}

#[test]
fn nvd_record_larger_than_the_limit_stops_the_feed() {
    let mut record = nvd_json("CVE-2022-48174");
    record["descriptions"][0]["value"] = json!(" ".repeat(64 << 10));
    let feed = serde_json::to_vec(
        &json!({"vulnerabilities": [{"cve": nvd_json("CVE-2017-17215")}, {"cve": record}]}),
    )
    .unwrap();
    let mut ids = Vec::new();
    let error =
        nvd::read_feed_limited("huge.json", &feed[..], 32 << 10, |a| ids.push(a.id)).unwrap_err();
    assert!(error.message.contains("larger than"), "{error}");
    assert!(
        error.hint.as_deref().unwrap().contains("not NVD data"),
        "{error}"
    );
    assert_eq!(
        ids,
        ["CVE-2017-17215"],
        "the records before it were handed on"
    );
}
