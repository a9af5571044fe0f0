//! What the attestation and log CLI tests share.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;

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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Server {
    pub fn start(data: &Path, db: &Option<String>, port: u16) -> Server {
        let mut cmd = Process::cargo_bin("iotmark").unwrap();
        cmd.args([
            "registry",
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data")
        .arg(data)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(db) = db {
            cmd.args(["--db", db]);
        }
        let child = cmd.spawn().unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if agent()
                .get(&format!("{url}/log/checkpoint"))
                .call()
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            assert!(Instant::now() < deadline, "the registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, url }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .new_agent()
}
