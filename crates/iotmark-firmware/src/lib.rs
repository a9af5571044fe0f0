//! Firmware images: unpacking what they contain and checking it for what conformity
//! baselines care about, producing evidence `assess` reads.
//!
//! The pipeline is [`unpack::unpack`] (signatures at any offset, SquashFS, uImage, gzip, cpio, tar,
//! recursively, within [`Limits`]) → [`tree::Tree`] per filesystem (in memory, paths made
//! safe) → [`analyze::analyze`] (credentials, boot services, keys and certificates,
//! configuration, updates, binary hardening) → [`to_evidence`].
//!
//! Safety is part of correctness: content is never executed, nothing is written outside the
//! output directory ([`tree::Tree::write_to`]), and sizes, depth and file counts are capped.
//! There is no `unsafe` code.

pub mod analyze;
pub mod tree;
pub mod unpack;

use std::path::PathBuf;

use iotmark_evidence::{
    Body, Evidence, Location, Observation, ObservationResult, Severity, Subject, Tool,
};
use sha2::{Digest, Sha256};

/// Bounds on the work one image may cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Total bytes unpacked from one image, across all files and streams.
    pub max_unpacked_bytes: u64,
    /// Largest single file or decompressed stream.
    pub max_file_bytes: u64,
    /// Most entries per filesystem.
    pub max_files: usize,
    /// Deepest nesting of containers (a gzip in a uImage is depth 2).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked_bytes: 2 << 30,
            max_file_bytes: 512 << 20,
            max_files: 200_000,
            max_depth: 8,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("cannot read {path}: {source}")]
    Input {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refused path `{path}`: it would leave the output directory")]
    UnsafePath { path: String },
}

/// Everything a scan found.
#[derive(Debug)]
pub struct ScanReport {
    pub sha256: String,
    pub size: u64,
    pub regions: Vec<unpack::Region>,
    /// Each unpacked filesystem, by where it was found.
    pub filesystems: Vec<(String, tree::Tree)>,
    /// Findings, with the filesystem each came from.
    pub findings: Vec<(String, analyze::Finding)>,
}

/// Unpacks and analyses an image held in memory.
pub fn scan(image: &[u8], limits: &Limits) -> ScanReport {
    let unpacked = unpack::unpack(image, limits);
    let mut findings = Vec::new();
    for (label, tree) in &unpacked.filesystems {
        for f in analyze::analyze(tree) {
            findings.push((label.clone(), f));
        }
    }
    ScanReport {
        sha256: tree::hex(&Sha256::digest(image)),
        size: image.len() as u64,
        regions: unpacked.regions,
        filesystems: unpacked.filesystems,
        findings,
    }
}

/// The findings as evidence about `component`'s image. `bears_on` gives the requirements a
/// check bears on (from the bundled rules), and `collected_at` is an RFC 3339 time.
pub fn to_evidence(
    report: &ScanReport,
    component: &str,
    collected_at: &str,
    bears_on: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Evidence> {
    let short = &report.sha256[..12];
    report
        .findings
        .iter()
        .enumerate()
        .map(|(i, (fs, f))| Evidence {
            id: format!(
                "fw-{short}-{i:03}-{}",
                f.check.rsplit('.').next().unwrap_or("finding")
            ),
            collected_at: collected_at.to_owned(),
            subject: Subject {
                component: component.to_owned(),
                sha256: Some(report.sha256.clone()),
            },
            bears_on: bears_on(f.check),
            body: Body::Observation(Observation {
                tool: Tool {
                    name: "iotmark-scan".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                },
                check: f.check.to_owned(),
                result: if f.failed {
                    ObservationResult::Fail
                } else {
                    ObservationResult::Pass
                },
                severity: Some(match f.severity {
                    "critical" => Severity::Critical,
                    "high" => Severity::High,
                    "medium" => Severity::Medium,
                    _ => Severity::Low,
                }),
                location: Location::File {
                    file: f.file.clone(),
                    offset: None,
                    line: f.line,
                },
                message: format!("{} (in {fs})", f.message),
            }),
        })
        .collect()
}

/// The fuzz entry point: scans `data` with small limits and writes nothing. Shared by the
/// libFuzzer target and the corpus test.
#[doc(hidden)]
pub fn fuzz_scan(data: &[u8]) {
    let limits = Limits {
        max_unpacked_bytes: 16 << 20,
        max_file_bytes: 4 << 20,
        max_files: 2_000,
        max_depth: 4,
    };
    let report = scan(data, &limits);
    let _ = to_evidence(&report, "device", "2026-01-01T00:00:00Z", &|_| Vec::new());
}

/// The fuzz entry point for the checks alone: `data` placed where each check looks (shadow,
/// htpasswd, mosquitto and UCI files, boot scripts, key and certificate files, an ELF
/// binary), then analysed. Shared by the libFuzzer target and the corpus test.
#[doc(hidden)]
pub fn fuzz_checks(data: &[u8]) {
    const PATHS: &[&str] = &[
        "etc/shadow",
        "etc/passwd",
        "etc/inittab",
        "etc/rc.local",
        "etc/inetd.conf",
        "etc/httpd.conf",
        "etc/lighttpd/lighttpd.conf",
        "etc/mosquitto/mosquitto.conf",
        "etc/mosquitto/passwd",
        "etc/config/rpcd",
        "etc/config/wireless",
        "etc/config/uhttpd",
        "etc/config/upnpd",
        "etc/opkg.conf",
        "etc/rauc/system.conf",
        "etc/ssl/private/key.pem",
        "etc/ssl/device.der",
        "etc/dropbear/dropbear_rsa_host_key",
        "opt/key",
        "usr/bin/app",
        "lib/systemd/system/x.service",
    ];
    let mut t = tree::Tree::default();
    for p in PATHS {
        let entry = tree::Entry {
            kind: tree::Kind::File(data.to_vec()),
            mode: 0o755,
            uid: 0,
            gid: 0,
        };
        let _ = t.insert(std::path::Path::new(p), entry);
    }
    let link = |target: &str| tree::Entry {
        kind: tree::Kind::Symlink(PathBuf::from(target)),
        mode: 0o777,
        uid: 0,
        gid: 0,
    };
    let _ = t.insert(
        std::path::Path::new("etc/systemd/system/multi-user.target.wants/x.service"),
        link("/lib/systemd/system/x.service"),
    );
    let _ = t.insert(std::path::Path::new("etc/rc.d/S10loop"), link("S10loop"));
    let ctx = analyze::Context {
        now: 1_800_000_000,
        image_signed: None,
    };
    let _ = analyze::analyze_with(&t, &ctx);
}
