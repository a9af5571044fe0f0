//! From a firmware image to a finding: `iotmark scan` writes evidence bound to the image's
//! digest, and `iotmark assess` counts it only for the declaration that lists that image.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

fn iotmark() -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn image(dir: &Path) -> PathBuf {
    common::telnet_image(dir, &[])
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn scan_evidence_counts_for_the_declared_image_only() {
    let dir = tempfile::tempdir().unwrap();
    let image = image(dir.path());
    let evidence = dir.path().join("evidence");
    iotmark()
        .arg("scan")
        .arg(&image)
        .args(["--component", "camera", "--out"])
        .arg(&evidence)
        .assert()
        .success();
    // The evidence, and beside it the SBOM the vulnerability matcher reads and the image's
    // public keys the live probe compares; `assess` below reads the directory and takes only
    // the evidence.
    let mut files: Vec<String> = std::fs::read_dir(&evidence)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let digest = &sha256(&image)[..12];
    assert_eq!(
        files,
        [
            format!("firmware-{digest}.json"),
            format!("image-{digest}.keys.json"),
            format!("sbom-{digest}.cdx.json")
        ]
    );
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(evidence.join(&files[2])).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let file = evidence.join(&files[0]);
    let records: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let telnet = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["check"] == "firmware.services.telnet")
        .expect("telnet found");
    assert_eq!(telnet["subject"]["sha256"], sha256(&image));
    assert_eq!(telnet["location"]["file"], "etc/init.d/S50telnet");
    assert!(
        telnet["bears_on"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "en303645-5.6-1"),
        "{telnet}"
    );

    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/acme-securecam/declaration.yaml");
    let text = std::fs::read_to_string(&example).unwrap();
    let declared = dir.path().join("declared.yaml");
    std::fs::write(
        &declared,
        text.replace(
            "9f2c1e7b4a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a",
            &sha256(&image),
        ),
    )
    .unwrap();
    let assess = |decl: &Path| {
        let out = iotmark()
            .arg("assess")
            .arg(decl)
            .args([
                "--scheme",
                "en303645-self-declaration",
                "--date",
                "2026-11-22",
                "--json",
                "--evidence",
            ])
            .arg(&evidence)
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["assessment"].clone()
    };
    let a = assess(&declared);
    let f = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["requirement"] == "en303645-5.6-1")
        .unwrap();
    assert_eq!(f["status"], "not-satisfied");
    assert!(
        f["evidence"][0]["id"].as_str().unwrap().starts_with("fw-"),
        "{f}"
    );
    // The untouched example declares another image: the scan is about something else.
    let a = assess(&example);
    assert_eq!(
        a["ignored_evidence"].as_array().unwrap().len(),
        records.as_array().unwrap().len()
    );
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

/// Runs `iotmark scan IMAGE --extract DIR`, expecting exit status 1; returns its stderr.
fn extraction_refused(image: &Path, dir: &Path) -> String {
    let run = iotmark()
        .arg("scan")
        .arg(image)
        .arg("--extract")
        .arg(dir)
        .assert()
        .code(1);
    String::from_utf8_lossy(&run.get_output().stderr).into_owned()
}

/// `--extract DIR` where DIR already holds `fs0` as a link to another directory: the scan
/// refuses the directory before it starts, says what is in the way, and writes nothing
/// through the link. A DIR that is itself a link is refused too; a new DIR is used.
#[test]
fn extract_refuses_output_dir_with_planted_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let image = image(dir.path());
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("fs0")).unwrap();
    let stderr = extraction_refused(&image, &out);
    assert!(stderr.contains("already holds `fs0`"), "{stderr}");
    assert!(!stderr.contains("would leave"), "{stderr}");
    assert!(
        is_empty(&elsewhere),
        "nothing written through the planted link"
    );

    let linked = dir.path().join("linked");
    std::os::unix::fs::symlink(&elsewhere, &linked).unwrap();
    let stderr = extraction_refused(&image, &linked);
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert!(is_empty(&elsewhere));

    let fresh = dir.path().join("fresh");
    iotmark()
        .arg("scan")
        .arg(&image)
        .arg("--extract")
        .arg(&fresh)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(fresh.join("fs0/etc/passwd")).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
}

/// A tar whose entry `link` is a symlink to another directory, and whose later entry
/// `link/planted.txt` would be written through it. The scan and the extraction finish
/// (exit 0, JSON out); the entry is skipped, reported as a finding with its path, and
/// nothing lands where the link points.
#[test]
fn extract_skips_and_reports_a_file_under_a_planted_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target");
    std::fs::create_dir(&target).unwrap();
    let links = dir.path().join("links");
    std::fs::create_dir_all(links.join("etc")).unwrap();
    std::fs::write(links.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::os::unix::fs::symlink(&target, links.join("link")).unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("link")).unwrap();
    std::fs::write(files.join("link/planted.txt"), "written through the link\n").unwrap();
    let tar = dir.path().join("planted.tar");
    // First the link and a real file, then the file under the link appended from a tree
    // where `link` is a directory: GNU tar writes what it is given, as an attacker would.
    for (mode, from, names) in [
        ("-cf", &links, &["etc", "link"][..]),
        ("-rf", &files, &["link/planted.txt"]),
    ] {
        let status = Std::new("tar")
            .args(["--format=gnu", mode])
            .arg(&tar)
            .arg("-C")
            .arg(from)
            .args(names)
            .status()
            .unwrap();
        assert!(status.success());
    }

    let out = dir.path().join("out");
    let run = iotmark()
        .arg("scan")
        .arg(&tar)
        .arg("--json")
        .arg("--extract")
        .arg(&out)
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&run.get_output().stdout).unwrap();
    let finding = report["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["check"] == "firmware.image.entry-through-symlink")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(finding["location"]["file"], "link/planted.txt");
    assert_eq!(finding["result"], "fail");
    assert!(is_empty(&target), "nothing written through the link");
    assert!(
        std::fs::symlink_metadata(out.join("fs0/link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(out.join("fs0/etc/passwd").is_file());
}
