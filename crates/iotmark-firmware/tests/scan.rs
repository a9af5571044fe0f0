//! Real images, built here with Debian's squashfs-tools and u-boot-tools from a root
//! filesystem with known weaknesses planted (and a clean twin without them). The scan must
//! find every planted weakness with the right check and file, find none in the twin, and
//! unpack exactly what `unsquashfs` unpacks.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_firmware::tree::Kind;
use iotmark_firmware::{Limits, scan};
use sha2::{Digest, Sha256};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (scripts/test.sh installs squashfs-tools and u-boot-tools)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(root: &Path, rel: &str, text: &str, mode: u32) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A small embedded-Linux root filesystem; `weak` plants the weaknesses.
fn rootfs(root: &Path, weak: bool) {
    // MD5-crypt on purpose: it is what such firmware ships, and what the scan must crack.
    #[allow(deprecated)]
    let shadow_root = if weak {
        pwhash::md5_crypt::hash_with("$1$iotmark$", "xc3511").unwrap()
    } else {
        "!".to_owned()
    };
    write(
        root,
        "etc/passwd",
        &format!(
            "root:x:0:0:root:/root:/bin/sh\n{}daemon:x:1:1:daemon:/:/bin/false\n",
            if weak {
                "toor:x:0:0:backdoor:/:/bin/sh\n"
            } else {
                ""
            }
        ),
        0o644,
    );
    write(
        root,
        "etc/shadow",
        &format!("root:{shadow_root}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"),
        0o600,
    );
    let console = if weak {
        "::respawn:/bin/sh"
    } else {
        "ttyS0::respawn:/sbin/getty -L ttyS0 115200 vt100"
    };
    write(
        root,
        "etc/inittab",
        &format!("::sysinit:/etc/init.d/rcS\n{console}\n::shutdown:/bin/umount -a -r\n"),
        0o644,
    );
    write(
        root,
        "etc/init.d/rcS",
        "#!/bin/sh\nfor s in /etc/init.d/S*; do $s start; done\n",
        0o755,
    );
    if weak {
        write(
            root,
            "etc/init.d/S50telnet",
            "#!/bin/sh\n# remote maintenance\ntelnetd -l /bin/sh -p 23\n",
            0o755,
        );
        write(
            root,
            "etc/dropbear/dropbear_rsa_host_key",
            "binary-key-material",
            0o600,
        );
        write(
            root,
            "etc/mosquitto/mosquitto.conf",
            "listener 1883\nallow_anonymous true\n",
            0o644,
        );
        write(
            root,
            "etc/miniupnpd.conf",
            "ext_ifname=eth0\nsecure_mode=no\n",
            0o644,
        );
        write(
            root,
            "etc/opkg/distfeeds.conf",
            "src/gz core http://downloads.example.com/packages/core\n",
            0o644,
        );
        write(
            root,
            "etc/config/system",
            "config updater\n\toption update_url 'http://fw.example.com/latest.bin'\n",
            0o644,
        );
        let key = Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519"])
            .output()
            .unwrap();
        assert!(key.status.success());
        write(
            root,
            "etc/ssl/private/device.key",
            std::str::from_utf8(&key.stdout).unwrap(),
            0o600,
        );
    }
    if !weak {
        // The clean twin configures the same services safely.
        write(
            root,
            "etc/mosquitto/mosquitto.conf",
            "listener 1883\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\n",
            0o644,
        );
        write(
            root,
            "etc/miniupnpd.conf",
            "ext_ifname=eth0\nsecure_mode=yes\n",
            0o644,
        );
        write(
            root,
            "etc/opkg/distfeeds.conf",
            "src/gz core https://downloads.example.com/packages/core\n",
            0o644,
        );
        write(
            root,
            "etc/config/system",
            "config updater\n\toption update_url 'https://fw.example.com/latest.bin'\n\t# see http://example.com/docs for the manual\n",
            0o644,
        );
    }
    write(root, "etc/banner", "welcome\n", 0o644);
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy("/bin/ls", root.join("bin/busybox")).unwrap();
    symlink("busybox", root.join("bin/sh")).unwrap();
    symlink("/var/run/app.sock", root.join("etc/app.sock")).unwrap();
    std::fs::create_dir_all(root.join("var/empty")).unwrap();
}

fn squashfs(dir: &Path, weak: bool, comp: &str) -> PathBuf {
    let root = dir.join(format!("rootfs-{weak}-{comp}"));
    rootfs(&root, weak);
    let image = dir.join(format!("root-{weak}-{comp}.sqfs"));
    run(Command::new("mksquashfs").arg(&root).arg(&image).args([
        "-comp",
        comp,
        "-noappend",
        "-all-root",
        "-quiet",
        "-no-progress",
    ]));
    image
}

/// Findings by check, leaving out binary hardening: `bin/busybox` here is a copy of the
/// host's `/bin/ls`, whose mitigations depend on the host's distribution (tests/checks.rs
/// tests hardening on known binaries).
fn checks(report: &iotmark_firmware::ScanReport) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    // Failures only (every scan also records a passing `firmware.sbom.components`), and
    // not hardening: the stand-in busybox is a host binary.
    for (_, f) in report
        .findings
        .iter()
        .filter(|(_, f)| f.failed && !f.check.starts_with("firmware.hardening."))
    {
        out.entry(f.check)
            .or_default()
            .push(format!("{}:{}", f.file, f.line.unwrap_or(0)));
    }
    out
}

#[test]
fn planted_weaknesses_are_found_and_the_clean_twin_has_none() {
    let dir = tempfile::tempdir().unwrap();
    for comp in ["xz", "gzip", "zstd", "lz4"] {
        let weak = scan(
            &std::fs::read(squashfs(dir.path(), true, comp)).unwrap(),
            &Limits::default(),
        );
        let found = checks(&weak);
        assert_eq!(
            found["firmware.credentials.default-password"],
            ["etc/shadow:1"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.credentials.weak-hash"],
            ["etc/shadow:1"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.credentials.duplicate-root"],
            ["etc/passwd:2"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.services.root-console"],
            ["etc/inittab:2"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.services.telnet"],
            ["etc/init.d/S50telnet:3"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.keys.shared-host-key"],
            ["etc/dropbear/dropbear_rsa_host_key:0"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.keys.private-key"],
            ["etc/ssl/private/device.key:1"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.config.mqtt-anonymous"],
            ["etc/mosquitto/mosquitto.conf:2"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.config.upnp-insecure"],
            ["etc/miniupnpd.conf:2"],
            "{comp}"
        );
        assert_eq!(
            found["firmware.update.http-url"],
            ["etc/config/system:2", "etc/opkg/distfeeds.conf:1"],
            "{comp}"
        );
        assert_eq!(found.len(), 10, "{comp}: {found:?}");
        let default = weak
            .findings
            .iter()
            .find(|(_, f)| f.check == "firmware.credentials.default-password")
            .unwrap();
        assert!(
            default.1.message.contains("`xc3511`"),
            "{}",
            default.1.message
        );

        let clean = scan(
            &std::fs::read(squashfs(dir.path(), false, comp)).unwrap(),
            &Limits::default(),
        );
        assert!(
            checks(&clean).is_empty(),
            "{comp}: the clean twin has findings: {:?}",
            checks(&clean)
        );
        assert_eq!(clean.filesystems.len(), 1);
    }
}

/// Paths, types, modes, symlink targets, sizes and contents equal what unsquashfs extracts.
type Listing = BTreeMap<PathBuf, (String, u32, u64, Option<String>)>;

/// What a directory extracted by a reference tool holds: type, mode, size and SHA-256 or
/// symlink target per path.
fn dir_listing(root: &Path) -> Listing {
    fn walk(base: &Path, dir: &Path, out: &mut Listing) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(base).unwrap().to_path_buf();
            let mode = meta.permissions().mode() & 0o7777;
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap().display().to_string();
                out.insert(rel, ("symlink".into(), mode, 0, Some(target)));
            } else if meta.is_dir() {
                out.insert(rel, ("dir".into(), mode, 0, None));
                walk(base, &path, out);
            } else {
                let sha = Sha256::digest(std::fs::read(&path).unwrap())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.insert(rel, ("file".into(), mode, meta.len(), Some(sha)));
            }
        }
    }
    let mut out = Listing::new();
    walk(root, root, &mut out);
    out
}

/// The same listing of what the scan unpacked.
fn tree_listing(tree: &iotmark_firmware::tree::Tree) -> Listing {
    let mut got = Listing::new();
    for (path, e) in &tree.entries {
        let (kind, extra) = match &e.kind {
            Kind::File(_) => ("file", e.sha256()),
            Kind::Dir => ("dir", None),
            Kind::Symlink(target) => ("symlink", Some(target.display().to_string())),
            Kind::Special(k) => (*k, None),
        };
        // unsquashfs reports symlinks with mode 0777, whatever the image stores.
        let mode = if kind == "symlink" {
            0o777
        } else {
            u32::from(e.mode)
        };
        got.insert(path.clone(), (kind.to_owned(), mode, e.size(), extra));
    }
    got
}

fn unsquashfs(image: &Path, out: &Path) -> Listing {
    run(Command::new("unsquashfs")
        .args(["-no-progress", "-quiet", "-d"])
        .arg(out)
        .arg(image));
    dir_listing(out)
}

#[test]
fn extraction_matches_unsquashfs() {
    let dir = tempfile::tempdir().unwrap();
    let image = squashfs(dir.path(), true, "xz");
    let expected = unsquashfs(&image, &dir.path().join("unsquashfs-out"));
    let report = scan(&std::fs::read(&image).unwrap(), &Limits::default());
    let got = tree_listing(&report.filesystems[0].1);
    assert_eq!(got, expected);
    assert!(got.len() > 15);
}

/// fkie-cad/fact_extractor's SquashFS fixtures (GPL-3.0 test data, read from ../shared):
/// every one Debian's unsquashfs reads — version 4 in gzip, LZMA, LZO, xz, LZ4 and zstd,
/// AVM's little-endian variant, and version 3 in both byte orders — unpacks to exactly the
/// same tree; the vendor LZMA variants and version 2 are reported, never skipped.
#[test]
fn fact_extractor_squashfs_fixtures_match_unsquashfs() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/firmware-fixtures/fact_extractor/squashFS/test/data");
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "gzip.sqfs",
        "lzma.sqfs",
        "lzo.sqfs",
        "xz.sqfs",
        "lz4.sqfs",
        "zstd.sqfs",
        "avm_le.sqfs4",
        "zlib_le.sqfs3",
        "zlib_be.sqfs3",
    ] {
        let image = fixtures.join(name);
        let expected = unsquashfs(&image, &dir.path().join(name));
        let report = scan(&std::fs::read(&image).unwrap(), &Limits::default());
        assert_eq!(report.filesystems.len(), 1, "{name}: {:?}", report.regions);
        let got = tree_listing(&report.filesystems[0].1);
        assert_eq!(got, expected, "{name}");
        assert_eq!(got.len(), 4, "{name}");
    }
    // Not readable by unsquashfs either; we must say why rather than skip them.
    for name in [
        "lzma_le.sqfs2",
        "lzma_be.sqfs2",
        "lzma1_le.sqfs3",
        "lzma1_be.sqfs3",
    ] {
        let report = scan(
            &std::fs::read(fixtures.join(name)).unwrap(),
            &Limits::default(),
        );
        let squashfs = report
            .regions
            .iter()
            .find(|r| r.format.starts_with("squashfs"))
            .unwrap_or_else(|| panic!("{name}: no SquashFS region in {:?}", report.regions));
        if cfg!(feature = "gpl-squashfs") && name.contains("sqfs3") {
            assert_eq!(squashfs.outcome, "unpacked", "{name}");
        } else {
            assert!(
                squashfs.outcome.starts_with("failed: "),
                "{name}: {squashfs:?}"
            );
        }
    }
}

#[test]
fn nested_uimage_gzip_squashfs_at_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let sqfs = squashfs(dir.path(), true, "xz");
    let gz = dir.path().join("root.sqfs.gz");
    let compressed = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&std::fs::read(&sqfs).unwrap()).unwrap();
        enc.finish().unwrap()
    };
    std::fs::write(&gz, &compressed).unwrap();
    let uimage = dir.path().join("rootfs.uimg");
    run(Command::new("mkimage")
        .args([
            "-A",
            "arm",
            "-O",
            "linux",
            "-T",
            "filesystem",
            "-C",
            "gzip",
            "-n",
            "iotmark test rootfs",
            "-d",
        ])
        .arg(&gz)
        .arg(&uimage));
    let mut firmware = b"VENDORHDR".repeat(100);
    firmware.extend(std::fs::read(&uimage).unwrap());
    firmware.extend(std::iter::repeat_n(0xffu8, 4096));

    let report = scan(&firmware, &Limits::default());
    assert_eq!(report.filesystems.len(), 1);
    let label = &report.filesystems[0].0;
    assert!(
        label.contains("uImage@900 \"iotmark test rootfs\"")
            && label.contains("gzip@")
            && label.contains("squashfs@0"),
        "{label}"
    );
    assert_eq!(checks(&report).len(), 10);
    let formats: Vec<&str> = report.regions.iter().map(|r| r.format.as_str()).collect();
    assert!(
        formats.contains(&"uimage") && formats.contains(&"gzip") && formats.contains(&"squashfs"),
        "{formats:?}"
    );
    // The vendor header and the padding are reported, not skipped; padding has entropy 0.
    let unknown: Vec<_> = report
        .regions
        .iter()
        .filter(|r| r.format == "unknown")
        .collect();
    assert!(
        unknown.iter().any(|r| r.offset == 0 && r.size == 900),
        "{unknown:?}"
    );
    assert!(
        report
            .regions
            .iter()
            .any(|r| r.format.starts_with("padding")
                && r.outcome == "empty"
                && r.entropy == 0.0
                && r.size == 4096),
        "{:?}",
        report.regions
    );
}

#[test]
fn limits_bound_the_work_and_garbage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let image = std::fs::read(squashfs(dir.path(), true, "gzip")).unwrap();
    let tight = Limits {
        max_files: 5,
        ..Limits::default()
    };
    let report = scan(&image, &tight);
    assert!(report.filesystems[0].1.entries.len() <= 5);
    assert!(
        report
            .regions
            .iter()
            .any(|r| r.outcome.contains("limit of 5 files")),
        "{:?}",
        report.regions
    );

    // Out of time: what was not unpacked is one failed region covering the rest, not a
    // silent stop. A zero budget runs out before the first container.
    let hurried = Limits {
        max_duration: std::time::Duration::ZERO,
        ..Limits::default()
    };
    let report = scan(&image, &hurried);
    assert!(report.filesystems.is_empty());
    assert!(
        report.regions.iter().any(|r| r.offset == 0
            && r.size == image.len() as u64
            && r.outcome.starts_with("failed: stopped at the time limit")),
        "{:?}",
        report.regions
    );

    // A truncated image and random bytes with stray signatures: errors are regions, not panics.
    let truncated = &image[..image.len() / 2];
    let report = scan(truncated, &Limits::default());
    assert!(
        report.regions.iter().any(
            |r| r.format == "squashfs" && r.outcome.starts_with("failed") || r.format == "unknown"
        ),
        "{:?}",
        report.regions
    );
    let mut noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    noise[1000..1004].copy_from_slice(b"hsqs");
    noise[5000..5003].copy_from_slice(&[0x1f, 0x8b, 0x08]);
    noise[9000..9004].copy_from_slice(&[0x27, 0x05, 0x19, 0x56]);
    let report = scan(&noise, &Limits::default());
    assert!(report.filesystems.is_empty());
    assert!(
        report
            .regions
            .iter()
            .all(|r| r.entropy > 7.0 || r.format != "unknown"),
        "{:?}",
        report.regions
    );
}

/// The firmware_scan fuzz target's corpus (`fuzz/corpus/firmware_scan/`) runs here on stable.
#[test]
fn fuzz_corpus_scans_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/firmware_scan");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        iotmark_firmware::fuzz_scan(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 5, "expected the seed corpus in {}", dir.display());
}

/// An initramfs: a gzip-compressed newc cpio archive made by GNU cpio from the weak root
/// filesystem. Every planted weakness is found, and every entry matches the source tree.
#[test]
fn gzip_cpio_initramfs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    rootfs(&root, true);
    let list = Command::new("find")
        .arg(".")
        .current_dir(&root)
        .output()
        .unwrap()
        .stdout;
    let mut cpio = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cpio (scripts/test.sh installs it)");
    {
        use std::io::Write;
        cpio.stdin.take().unwrap().write_all(&list).unwrap();
    }
    let archive = cpio.wait_with_output().unwrap();
    assert!(archive.status.success());
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &archive.stdout).unwrap();
    let initramfs = enc.finish().unwrap();

    let report = scan(&initramfs, &Limits::default());
    assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
    assert!(
        report
            .regions
            .iter()
            .any(|r| r.format == "cpio" && r.outcome == "unpacked"),
        "{:?}",
        report.regions
    );
    assert_eq!(checks(&report).len(), 10, "{:?}", checks(&report));

    let tree = &report.filesystems[0].1;
    let shadow = tree.file("etc/shadow").unwrap();
    assert_eq!(
        shadow,
        std::fs::read(root.join("etc/shadow")).unwrap().as_slice()
    );
    match &tree.entries[Path::new("bin/sh")].kind {
        Kind::Symlink(target) => assert_eq!(target, Path::new("busybox")),
        other => panic!("bin/sh is {other:?}"),
    }
    assert_eq!(tree.entries[Path::new("etc/shadow")].mode, 0o600);
    let source_files = Command::new("find")
        .arg(".")
        .arg("-mindepth")
        .arg("1")
        .current_dir(&root)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        tree.entries.len(),
        String::from_utf8(source_files).unwrap().lines().count()
    );

    // Truncated mid-archive: reported as failed, with what was read kept.
    let cut = &archive.stdout[..archive.stdout.len() / 2];
    let report = scan(cut, &Limits::default());
    assert!(
        report
            .regions
            .iter()
            .any(|r| r.format == "cpio" && r.outcome.starts_with("failed")),
        "{:?}",
        report.regions
    );
}

/// A gzip-compressed tar archive made by GNU tar (long names included): every planted
/// weakness is found and every entry of the source tree is there, with its contents.
#[test]
fn gzip_tar_archive() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    rootfs(&root, true);
    let deep = format!("opt/{}/config.txt", "very-long-directory-name".repeat(6));
    write(&root, &deep, "deep\n", 0o644);
    let archive = dir.path().join("root.tar.gz");
    run(Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&root)
        .arg("."));
    let report = scan(&std::fs::read(&archive).unwrap(), &Limits::default());
    assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
    assert!(
        report
            .regions
            .iter()
            .any(|r| r.format == "tar" && r.outcome == "unpacked"),
        "{:?}",
        report.regions
    );
    assert_eq!(checks(&report).len(), 10, "{:?}", checks(&report));
    let tree = &report.filesystems[0].1;
    assert_eq!(
        tree.file(&deep),
        Some(&b"deep\n"[..]),
        "a GNU long name is read whole"
    );
    assert_eq!(
        tree.file("etc/shadow").unwrap(),
        std::fs::read(root.join("etc/shadow")).unwrap().as_slice()
    );
    let source = Command::new("find")
        .arg(".")
        .arg("-mindepth")
        .arg("1")
        .current_dir(&root)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        tree.entries.len(),
        String::from_utf8(source).unwrap().lines().count()
    );
}
