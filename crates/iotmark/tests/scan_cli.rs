//! From a firmware image to a finding: `iotmark scan` writes evidence bound to the image's
//! digest, and `iotmark assess` counts it only for the declaration that lists that image.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;

fn iotmark() -> Command {
    let mut cmd = Command::cargo_bin("iotmark").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn image(dir: &Path) -> PathBuf {
    let root = dir.join("rootfs");
    std::fs::create_dir_all(root.join("etc/init.d")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/inittab"), "::sysinit:/etc/init.d/rcS\n").unwrap();
    // Buildroot's rcS: every S?? script in init.d is started at boot.
    std::fs::write(
        root.join("etc/init.d/rcS"),
        "#!/bin/sh\nfor i in /etc/init.d/S??* ; do\n  $i start\ndone\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/init.d/S50telnet"),
        "#!/bin/sh\ntelnetd -p 23\n",
    )
    .unwrap();
    let image = dir.join("fw.sqfs");
    let out = Std::new("mksquashfs")
        .arg(&root)
        .arg(&image)
        .args(["-noappend", "-all-root", "-quiet", "-no-progress"])
        .output()
        .expect("mksquashfs (scripts/test.sh installs squashfs-tools)");
    assert!(out.status.success());
    image
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
    let file = std::fs::read_dir(&evidence)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
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
