//! What the attestation and log CLI tests share.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example's assessment results with every gap fixed (as the attestation library's own
/// tests derive them), so the product conforms and may be attested.
pub fn passing_results() -> Vec<u8> {
    let path =
        repo().join("crates/iotmark-attest/tests/data/securecam-en303645.assessment-results.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let result = &mut v["assessment-results"]["results"][0];
    result["description"] = "Verdict: conforms.".into();
    for f in result["findings"].as_array_mut().unwrap() {
        if f["props"][0]["value"] != "not-applicable" {
            f["props"][0]["value"] = "satisfied".into();
            f["target"]["status"] = serde_json::json!({"state": "satisfied", "reason": "pass"});
        }
    }
    serde_json::to_vec_pretty(&v).unwrap()
}

/// A SquashFS image of a small root filesystem in `dir` (as `fw.sqfs`) that starts telnetd at
/// boot through Buildroot's rcS (every S?? script in init.d is started), plus the `extra`
/// files given as (path, text). File times are fixed, so the image's bytes are the same on
/// every run.
pub fn telnet_image(dir: &Path, extra: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("rootfs");
    let files = [
        ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
        ("etc/inittab", "::sysinit:/etc/init.d/rcS\n"),
        (
            "etc/init.d/rcS",
            "#!/bin/sh\nfor i in /etc/init.d/S??* ; do\n  $i start\ndone\n",
        ),
        ("etc/init.d/S50telnet", "#!/bin/sh\ntelnetd -p 23\n"),
    ];
    for (rel, text) in files.iter().chain(extra) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let image = dir.join("fw.sqfs");
    let out = std::process::Command::new("mksquashfs")
        .arg(&root)
        .arg(&image)
        .args(["-noappend", "-all-root", "-quiet", "-no-progress"])
        .args(["-mkfs-time", "0", "-all-time", "0"])
        .output()
        .expect("mksquashfs (scripts/test.sh installs squashfs-tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    image
}
