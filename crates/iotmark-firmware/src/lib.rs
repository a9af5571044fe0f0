//! Firmware images: unpacking what they contain and checking it for what conformity
//! baselines care about, producing evidence `assess` reads.
//!
//! The pipeline is [`unpack::unpack`] (signatures at any offset: SquashFS, uImage, FIT, TRX,
//! compressed streams, cpio, tar, ar, ext2/3/4, cramfs, romfs, JFFS2, UBI, UBIFS;
//! recursively, within [`Limits`]) → [`tree::Tree`] per filesystem (in memory, paths made
//! safe) → [`analyze::analyze`] (credentials, boot services, keys and certificates,
//! configuration, updates and updaters found by content, binary hardening, the kernel's
//! build configuration) and [`inventory::inventory`] (components for the SBOM) →
//! [`to_evidence`]. Kernel configurations embedded with IKCONFIG and the releases modules
//! were built for ([`kernel`]) are gathered into [`ScanReport::kernel`].
//!
//! Safety is part of correctness: content is never executed, nothing is written outside the
//! output directory, nor through a link ([`extract`]), and sizes, depth and file counts are
//! capped.
//! There is no `unsafe` code.

pub mod analyze;
pub mod extract;
pub mod inventory;
pub mod kernel;
pub mod packages;
mod parallel;
mod reader;
pub mod sbom;
pub mod spdx;
pub mod tree;
pub mod unpack;

#[doc(hidden)]
pub use unpack::{
    fuzz_ar_read, fuzz_cpio_tar_read, fuzz_fit_read, fuzz_squashfs_read, fuzz_streams,
    fuzz_trx_read, fuzz_uimage_read,
};

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use iotmark_evidence::{
    Body, Evidence, Location, Observation, ObservationResult, Severity, Subject, Tool,
};
use sha2::{Digest, Sha256};

/// Bounds on the work one image may cause.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Total bytes unpacked from one image, across all files and streams.
    pub max_unpacked_bytes: u64,
    /// Largest single file or decompressed stream. A stream is cut here while it
    /// decompresses (its buffer never grows past this), reported as cut at this limit, and
    /// what it yielded up to the cut is still searched.
    pub max_file_bytes: u64,
    /// Most entries per filesystem.
    pub max_files: usize,
    /// Deepest nesting of containers (a gzip in a uImage is depth 2). A container at this
    /// depth is still read and reported, with its contents marked as not searched.
    pub max_depth: usize,
    /// Wall-clock time for unpacking; what is left when it runs out is reported as a
    /// region `failed: stopped at the time limit`, never silently dropped.
    pub max_duration: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_unpacked_bytes: 2 << 30,
            max_file_bytes: 512 << 20,
            max_files: 200_000,
            max_depth: 8,
            max_duration: std::time::Duration::from_secs(600),
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
    #[error("refused path `{path}`: it climbs out of its filesystem")]
    UnsafePath { path: String },
    #[error(
        "refused to extract into {path}: it is a symbolic link\nhint: name a new directory, or an empty one that is not a link"
    )]
    OutputIsLink { path: PathBuf },
    #[error("refused to extract into {path}: it exists and is not a directory")]
    OutputNotDirectory { path: PathBuf },
    #[error(
        "refused to extract into {path}: it already holds `{holds}`\nhint: name a new or empty directory; extraction never writes over what is there"
    )]
    OutputNotEmpty { path: PathBuf, holds: String },
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
    /// FIT images found, with their images and how they are signed.
    pub fit: Vec<unpack::FitInfo>,
    /// Components found (package databases, kernel banners, version strings), each
    /// occurrence labelled with its filesystem. Header-only hits are kept as evidence.
    pub components: Vec<inventory::Component>,
    /// The kernel's build configurations and the releases its modules were built for.
    pub kernel: kernel::KernelReport,
}

/// How far a scan has got, for a progress display on another thread: the position in the
/// top-level image while unpacking, then the filesystems analysed. Counters only, so the
/// scan never waits for whoever watches.
#[derive(Debug, Default)]
pub struct Progress {
    unpacked: AtomicU64,
    analysed: AtomicU64,
    filesystems: AtomicU64,
}

impl Progress {
    /// Bytes of the top-level image walked so far.
    pub fn unpacked(&self) -> u64 {
        self.unpacked.load(Ordering::Relaxed)
    }

    /// Filesystems analysed so far, and how many there are (0 until unpacking ends).
    pub fn analysed(&self) -> (u64, u64) {
        (
            self.analysed.load(Ordering::Relaxed),
            self.filesystems.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn set_unpacked(&self, bytes: u64) {
        self.unpacked.store(bytes, Ordering::Relaxed);
    }
}

/// Unpacks and analyses an image held in memory.
pub fn scan(image: &[u8], limits: &Limits) -> ScanReport {
    scan_with_progress(image, limits, &Progress::default())
}

/// [`scan`], reporting how far it has got in `progress`.
pub fn scan_with_progress(image: &[u8], limits: &Limits, progress: &Progress) -> ScanReport {
    // The signature table is built once per process (an automaton over every anchor), and
    // the image's digest is one pass over all of it: both go beside the unpacking, whose
    // decompression leaves gaps on the cores, rather than after it, when nothing else runs.
    // Every stage shares rayon's pool (see `parallel`), so no core is asked for two threads.
    let (image_sha256, unpacked) = rayon::join(
        || {
            inventory::signature_count();
            tree::hex(&Sha256::digest(image))
        },
        || unpack::unpack_with_progress(image, limits, progress),
    );
    progress.set_unpacked(image.len() as u64);
    progress
        .filesystems
        .store(unpacked.filesystems.len() as u64, Ordering::Relaxed);
    let mut findings = fit_findings(&unpacked.fit);
    let mut components = inventory::kernel_components(&unpacked.kernels);
    let banner_releases: Vec<&str> = unpacked
        .kernels
        .iter()
        .map(|b| b.version.as_str())
        .collect();
    let mut kernel_report = kernel::KernelReport::default();
    // Configurations embedded in files of the filesystems; one the unpacker also saw in the
    // raw bytes (a configs.ko stored uncompressed) is judged once, as the file.
    let mut seen_configs = Vec::new();
    for (index, (label, tree)) in unpacked.filesystems.iter().enumerate() {
        // A filesystem that came out of a FIT image is as signed as that FIT is; elsewhere
        // the unpacker cannot tell.
        let ctx = analyze::Context {
            image_signed: unpacked.fit_of(index).map(unpack::FitInfo::is_signed),
            ..analyze::Context::current()
        };
        // The checks (one thread: password hashes, keys) and the inventory (its search on
        // every core) share nothing, so they run side by side.
        let (checked, (found, problems)) = rayon::join(
            || analyze::analyze_with(tree, &ctx),
            || inventory::inventory_with_problems(tree),
        );
        for f in checked.into_iter().chain(misplaced_findings(tree)) {
            findings.push((label.clone(), f));
        }
        for found in analyze::kernel::configs(tree) {
            let judged = analyze::kernel::config_findings(&found.config, &found.source);
            kernel_report.configs.push(config_report(
                label,
                &found.source.file,
                &found.config,
                &judged,
            ));
            if found.source.embedded {
                seen_configs.push(found.config);
            }
        }
        let modules = analyze::kernel::modules(tree);
        for f in analyze::kernel::module_findings(&modules, &banner_releases) {
            findings.push((label.clone(), f));
        }
        for (release, ms) in analyze::kernel::modules_by_release(&modules) {
            let Some(first) = ms.first() else { continue };
            inventory::add_module_kernel(&mut components, label, release, first);
            kernel_report.modules.push(kernel::ModuleRelease {
                filesystem: label.clone(),
                release: release.to_owned(),
                properties: first.vermagic.properties.clone(),
                count: ms.len(),
                example: format!("/{}", first.path),
                matches_banner: (!banner_releases.is_empty())
                    .then(|| banner_releases.contains(&release)),
            });
        }
        for mut c in found {
            for o in &mut c.occurrences {
                o.filesystem.clone_from(label);
            }
            components.push(c);
        }
        // A package database that does not parse leaves the SBOM short of what it lists:
        // said next to the SBOM's own line, so a reader sees why.
        for p in problems {
            findings.push((
                label.clone(),
                analyze::Finding {
                    public_keys: Vec::new(),
                    check: "firmware.sbom.components",
                    failed: false,
                    severity: Severity::Low,
                    file: p.path.clone(),
                    line: None,
                    message: format!("package metadata {} not read: {}", p.path, p.message),
                },
            ));
        }
        progress.analysed.fetch_add(1, Ordering::Relaxed);
    }
    for (within, embedded) in &unpacked.kernel_configs {
        let config = kernel::parse_config(&embedded.text);
        if seen_configs.contains(&config) {
            continue;
        }
        let source = analyze::kernel::ConfigSource {
            file: format!("IKCONFIG@{}", embedded.offset),
            text_lines: false,
            embedded: true,
        };
        let judged = analyze::kernel::config_findings(&config, &source);
        kernel_report
            .configs
            .push(config_report(within, &source.file, &config, &judged));
        findings.extend(judged.into_iter().map(|f| (within.clone(), f)));
        seen_configs.push(config);
    }
    let listed = sbom::listed(&components);
    findings.push((
        "image".to_owned(),
        analyze::Finding {
            public_keys: Vec::new(),
            check: "firmware.sbom.components",
            failed: false,
            severity: Severity::Low,
            file: String::new(),
            line: None,
            message: format!(
                "a CycloneDX 1.6 SBOM lists {listed} components (from package databases, kernel banners and version strings)"
            ),
        },
    ));
    ScanReport {
        sha256: image_sha256,
        size: image.len() as u64,
        regions: unpacked.regions,
        filesystems: unpacked.filesystems,
        findings,
        fit: unpacked.fit,
        components,
        kernel: kernel_report,
    }
}

fn config_report(
    within: &str,
    file: &str,
    config: &kernel::KernelConfig,
    judged: &[analyze::Finding],
) -> kernel::ConfigReport {
    kernel::ConfigReport {
        within: within.to_owned(),
        file: file.to_owned(),
        options: config.options.len(),
        hardening: judged
            .iter()
            .map(|f| (f.check.to_owned(), !f.failed))
            .collect(),
    }
}

/// Entries the image places under its own symlinks or files: an image that does this is
/// broken, or built to make an extractor write where it should not. Each is reported, and
/// extraction skips it.
fn misplaced_findings(tree: &tree::Tree) -> Vec<analyze::Finding> {
    tree.misplaced_entries()
        .into_iter()
        .map(|m| {
            let (path, under) = (m.path.display(), m.under.display());
            let (check, message) = match &m.link_target {
                Some(target) => (
                    "firmware.image.entry-through-symlink",
                    format!(
                        "`{path}` lies under `{under}`, a symbolic link to `{}` in the same image: writing it would follow the link, so extraction skips it",
                        target.display()
                    ),
                ),
                None => (
                    "firmware.image.entry-under-file",
                    format!(
                        "`{path}` lies under `{under}`, which is not a directory in the image: extraction skips it"
                    ),
                ),
            };
            analyze::Finding {
                public_keys: Vec::new(),
                check,
                failed: true,
                severity: Severity::Medium,
                file: m.path.display().to_string(),
                line: None,
                message,
            }
        })
        .collect()
}

/// Whether each FIT image is signed: U-Boot verifies a signed FIT before booting it (with
/// the key in its own device tree), so a signature is update-verification evidence and its
/// absence means any image written to flash boots.
fn fit_findings(fits: &[unpack::FitInfo]) -> Vec<(String, analyze::Finding)> {
    fits.iter()
        .map(|fit| {
            let signed = fit.is_signed();
            let finding = analyze::Finding {
                public_keys: Vec::new(),
                check: if signed {
                    "firmware.update.verification-key"
                } else {
                    "firmware.update.unsigned"
                },
                failed: !signed,
                severity: if signed {
                    Severity::Low
                } else {
                    Severity::High
                },
                file: format!("FIT@{}", fit.offset),
                line: None,
                message: if signed {
                    fit.summary()
                } else {
                    format!(
                        "{}: U-Boot boots whatever image is written, with no signature to check",
                        fit.summary()
                    )
                },
            };
            (fit.within.clone(), finding)
        })
        .collect()
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
                severity: Some(f.severity),
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

/// The `jffs2_read` fuzz entry point: the JFFS2 reader at offset 0 with its CRC checks off,
/// so that mutated inputs reach the code behind them.
#[doc(hidden)]
pub fn fuzz_jffs2_read(data: &[u8]) {
    unpack::fuzz_jffs2(data, &unpack::fuzz_limits());
}

/// The `ubi_read` fuzz entry point: the UBI reader at offset 0 with its CRC checks off;
/// volumes it assembles are searched as in a scan.
#[doc(hidden)]
pub fn fuzz_ubi_read(data: &[u8]) {
    unpack::fuzz_ubi(data, &unpack::fuzz_limits());
}

/// The `ubifs_read` fuzz entry point: the UBIFS reader at offset 0 with its CRC checks off.
#[doc(hidden)]
pub fn fuzz_ubifs_read(data: &[u8]) {
    unpack::fuzz_ubifs(data, &unpack::fuzz_limits());
}

/// The fuzz entry point: scans `data` with small limits and writes nothing. Shared by the
/// libFuzzer target and the corpus test.
#[doc(hidden)]
pub fn fuzz_scan(data: &[u8]) {
    let report = scan(data, &unpack::fuzz_limits());
    let _ = to_evidence(&report, "device", "2026-01-01T00:00:00Z", &|_| Vec::new());
    let _ = sbom::sbom_json(
        &report,
        &report.components,
        &sbom::Subject::named("image"),
        "2026-01-01T00:00:00Z",
    );
}

/// The inventory fuzz entry point: `data` as the contents of files whose names select every
/// path of the inventory (package databases, a library named as a product, a plain file),
/// then the kernel banner search and the SBOM. Shared by the libFuzzer target and the
/// corpus test.
#[doc(hidden)]
pub fn fuzz_inventory(data: &[u8]) {
    let mut t = tree::Tree::default();
    for path in [
        "usr/lib/opkg/status",
        "lib/apk/db/installed",
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/pkg",
        "var/lib/dpkg/info/pkg.list",
        "usr/lib/opkg/info/pkg.control",
        "var/lib/rpm/Packages",
        "var/lib/rpm/Packages.db",
        "usr/share/doc/pkg/changelog.Debian.gz",
        "usr/lib/python3/dist-packages/pkg.dist-info/METADATA",
        "opt/app/node_modules/pkg/package.json",
        "usr/lib/libcrypto.so.3",
        "usr/sbin/dnsmasq",
        "usr/bin/other",
    ] {
        let entry = tree::Entry {
            kind: tree::Kind::File(data.to_vec()),
            mode: 0o755,
            uid: 0,
            gid: 0,
        };
        let _ = t.insert(std::path::Path::new(path), entry);
    }
    let mut components = inventory::inventory(&t);
    let mut banners = Vec::new();
    inventory::kernel_banners(data, "fuzz", &mut banners);
    components.extend(inventory::kernel_components(&banners));
    let report = ScanReport {
        sha256: tree::hex(&Sha256::digest(data)),
        size: data.len() as u64,
        regions: Vec::new(),
        filesystems: Vec::new(),
        findings: Vec::new(),
        fit: Vec::new(),
        components,
        kernel: kernel::KernelReport::default(),
    };
    let _ = sbom::sbom_json(
        &report,
        &report.components,
        &sbom::Subject::named("fuzz"),
        "2026-01-01T00:00:00Z",
    );
}

/// The `rpm_database` fuzz entry point: `data` as an rpm header blob, and as each rpm
/// database backend (SQLite, BerkeleyDB hash, ndb) whose values are then read as headers.
#[doc(hidden)]
pub fn fuzz_rpm_database(data: &[u8]) {
    use packages::rpm;
    let _ = rpm::package(data, "fuzz");
    for values in [rpm::sqlite::values, rpm::bdb::values, rpm::ndb::values] {
        for blob in values(data).unwrap_or_default() {
            let _ = rpm::package(&blob, "fuzz");
        }
    }
}

/// The `apk_database` fuzz entry point: `data` as apk's `installed` file.
#[doc(hidden)]
pub fn fuzz_apk_database(data: &[u8]) {
    let _ = packages::apk::parse(data);
}

/// The `debian_changelog` fuzz entry point: `data` as a gzip-compressed changelog and as
/// changelog text.
#[doc(hidden)]
pub fn fuzz_debian_changelog(data: &[u8]) {
    let _ = packages::changelog::parse_gz(data);
    let _ = packages::changelog::parse(&String::from_utf8_lossy(data));
}

/// The `dpkg_status` fuzz entry point: `data` as a dpkg status file.
#[doc(hidden)]
pub fn fuzz_dpkg_status(data: &[u8]) {
    let _ = packages::dpkg::parse_status(data, "fuzz");
}

/// The `kernel_config` fuzz entry point: `data` searched for an IKCONFIG block and a module
/// `vermagic`, decompressed as a module each way kmod compresses them, parsed as `.config`
/// text, and placed where a filesystem keeps configurations (text, `config.gz`,
/// `configs.ko`) and modules, then judged. Shared by the libFuzzer target and the corpus test.
#[doc(hidden)]
pub fn fuzz_kernel_config(data: &[u8]) {
    for found in kernel::embedded_configs(data) {
        let _ = kernel::parse_config(&found.text);
    }
    let _ = kernel::vermagic(data);
    for name in ["x.ko.xz", "x.ko.gz", "x.ko.zst"] {
        let _ = kernel::decompress_module(name, data, 1 << 20);
    }
    let mut t = tree::Tree::default();
    for path in [
        "boot/config-6.1.0",
        "proc/config.gz",
        "lib/modules/6.1.0/kernel/kernel/configs.ko",
        "lib/modules/6.1.0/kernel/kernel/configs.ko.xz",
        "lib/modules/6.1.0/extra/a.ko.zst",
    ] {
        let entry = tree::Entry {
            kind: tree::Kind::File(data.to_vec()),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        let _ = t.insert(std::path::Path::new(path), entry);
    }
    for found in analyze::kernel::configs(&t) {
        let _ = analyze::kernel::config_findings(&found.config, &found.source);
    }
    let modules = analyze::kernel::modules(&t);
    let _ = analyze::kernel::module_findings(&modules, &["6.1.0"]);
    let _ = analyze::kernel::module_findings(&modules, &[]);
}

/// The `ext_read` fuzz entry point: `data` read as an ext2/3/4 filesystem starting at byte 0.
#[doc(hidden)]
pub fn fuzz_ext_read(data: &[u8]) {
    let _ = unpack::fuzz_filesystem("ext", data, &unpack::fuzz_limits());
}

/// The `cramfs_read` fuzz entry point: `data` read as a cramfs image starting at byte 0.
#[doc(hidden)]
pub fn fuzz_cramfs_read(data: &[u8]) {
    let _ = unpack::fuzz_filesystem("cramfs", data, &unpack::fuzz_limits());
}

/// The `romfs_read` fuzz entry point: `data` read as a romfs image starting at byte 0.
#[doc(hidden)]
pub fn fuzz_romfs_read(data: &[u8]) {
    let _ = unpack::fuzz_filesystem("romfs", data, &unpack::fuzz_limits());
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
