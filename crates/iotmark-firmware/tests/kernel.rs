//! The kernel beyond its banner, on Debian's real armhf kernel package
//! (`linux-image-*-armmp`, fetched by `scripts/fetch-debian-packages.sh`): its
//! `boot/config-*`, its modules' vermagic, and the same configuration embedded the way
//! `CONFIG_IKCONFIG` embeds it.
//!
//! Debian does not build its kernels with IKCONFIG (it ships `boot/config-*` instead), so
//! the embedded copy is made here the way the kernel build makes it: `kernel/configs.c`
//! places `gzip -n -9` output of the real `.config` between the markers `IKCFG_ST` and
//! `IKCFG_ED` in the kernel's read-only data. We put exactly that, made by the real gzip
//! tool from Debian's real config, into the real decompressed kernel, and compress the
//! kernel again with gzip as a bootloader image would carry it.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use iotmark_firmware::analyze::Finding;
use iotmark_firmware::analyze::kernel::{ConfigSource, config_findings};
use iotmark_firmware::inventory::Relation;
use iotmark_firmware::kernel::{ConfigValue, parse_config};
use iotmark_firmware::{Limits, scan};

mod common;
use common::tool;

/// Runs `program` with `input` on stdin; its stdout, or `None` when it fails.
fn filter(program: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e})"));
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from a thread: the child's stdout fills while we would block writing.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out.status.success().then_some(out.stdout)
}

/// The unpacked Debian kernel package (once per test run) and its release.
fn debian_kernel() -> &'static (PathBuf, String) {
    static DIR: OnceLock<(PathBuf, String)> = OnceLock::new();
    DIR.get_or_init(|| {
        let deb = common::debian_package("armhf-kernel", "linux-image-");
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("debian-kernel");
        let root = base.join(deb.file_stem().unwrap());
        if !root.exists() {
            // nextest runs each test in its own process: unpack aside, first rename wins.
            let staging = base.join(format!("staging-{}", std::process::id()));
            std::fs::create_dir_all(&base).unwrap();
            tool(
                Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&staging),
                "dpkg",
            );
            if std::fs::rename(&staging, &root).is_err() {
                std::fs::remove_dir_all(&staging).unwrap();
            }
        }
        let release = std::fs::read_dir(root.join("lib/modules"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name()
            .into_string()
            .unwrap();
        (root, release)
    })
}

/// The decompressed kernel inside Debian's ARM zImage: the xz stream (one of the places
/// the xz magic appears) that the real `xz` decodes to bytes with a banner.
fn decompressed_kernel(zimage: &[u8]) -> Vec<u8> {
    memchr::memmem::find_iter(zimage, b"\xfd7zXZ\0")
        .find_map(|at| {
            let image = filter("xz", &["-dc", "--single-stream"], &zimage[at..])?;
            memchr::memmem::find(&image, b"Linux version ").map(|_| image)
        })
        .expect("an xz stream holding the kernel in the zImage")
}

/// The 1-based line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> u64 {
    text.lines().position(|l| l.starts_with(prefix)).unwrap() as u64 + 1
}

fn finding<'a>(findings: &'a [(String, Finding)], check: &str, file: &str) -> &'a Finding {
    findings
        .iter()
        .map(|(_, f)| f)
        .find(|f| f.check == check && f.file == file)
        .unwrap_or_else(|| panic!("no {check} for {file} in {findings:#?}"))
}

#[test]
fn debian_kernel_config_modules_and_ikconfig() {
    let (pkg, release) = debian_kernel();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let config_name = format!("boot/config-{release}");
    let config_text = std::fs::read_to_string(pkg.join(&config_name)).unwrap();
    let modules = pkg.join("lib/modules").join(release).join("kernel");
    let put = |rel: &str, data: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    };
    put(&config_name, config_text.as_bytes());
    // Three modules where kmod keeps them, one renamed without `.ko` (found by content),
    // one compressed with xz as kmod can install them.
    for m in ["tag_brcm", "tag_dsa", "tag_trailer"] {
        put(
            &format!("lib/modules/{release}/kernel/net/dsa/{m}.ko"),
            &std::fs::read(modules.join(format!("net/dsa/{m}.ko"))).unwrap(),
        );
    }
    let af_key = std::fs::read(modules.join("net/key/af_key.ko")).unwrap();
    put(&format!("lib/modules/{release}/extra/wlan_drv"), &af_key);
    let xz = tool(
        Command::new("xz")
            .args(["-c", "--check=crc32"])
            .arg(modules.join("net/vmw_vsock/vsock_loopback.ko")),
        "xz-utils",
    );
    put(
        &format!("lib/modules/{release}/kernel/net/vsock_loopback.ko.xz"),
        &xz,
    );
    // A vendor module built for another kernel: the same real module with its vermagic
    // naming an earlier ABI of the same kernel (one digit changed, so the ELF stays intact).
    let dash = release.find('-').unwrap();
    let digit = if &release[dash + 1..dash + 2] == "4" {
        "3"
    } else {
        "4"
    };
    let other = format!("{}{digit}{}", &release[..=dash], &release[dash + 2..]);
    let needle = format!("vermagic={release} ");
    let at = memchr::memmem::find(&af_key, needle.as_bytes()).unwrap() + "vermagic=".len();
    let mut stale = af_key.clone();
    stale[at..at + other.len()].copy_from_slice(other.as_bytes());
    put("opt/vendor/old_wifi.ko", &stale);

    // The kernel, with the real config embedded as IKCONFIG, gzip-compressed by the real
    // tool as a bootloader would load it.
    let zimage = std::fs::read(pkg.join(format!("boot/vmlinuz-{release}"))).unwrap();
    let mut kernel = decompressed_kernel(&zimage);
    let config_gz = filter("gzip", &["-n", "-9"], config_text.as_bytes()).unwrap();
    let mut ikcfg = b"IKCFG_ST".to_vec();
    ikcfg.extend_from_slice(&config_gz);
    ikcfg.extend_from_slice(b"IKCFG_ED");
    let middle = kernel.len() / 2;
    kernel.splice(middle..middle, ikcfg);
    let kernel_gz = filter("gzip", &["-n", "-6"], &kernel).unwrap();

    let sqfs = dir.path().join("root.sqfs");
    common::squashfs(&root, &sqfs, "gzip");
    let mut image = kernel_gz;
    image.resize(image.len().next_multiple_of(1 << 16), 0xff);
    image.extend_from_slice(&std::fs::read(&sqfs).unwrap());

    let report = scan(&image, &Limits::default());

    // The kernel release: from the banner, confirmed by the modules' vermagic.
    let kernels: Vec<_> = report
        .components
        .iter()
        .filter(|c| c.relation == Relation::Kernel)
        .collect();
    let ours = kernels.iter().find(|c| &c.version == release).unwrap();
    assert!(
        ours.evidence
            .iter()
            .any(|e| e.value.starts_with("Linux version "))
    );
    assert!(
        ours.evidence
            .iter()
            .any(|e| e.value.starts_with(&format!("vermagic={release} SMP"))
                && e.path.starts_with(&format!("/lib/modules/{release}/"))),
        "{ours:#?}"
    );
    let by_release: Vec<_> = report
        .kernel
        .modules
        .iter()
        .map(|m| (m.release.as_str(), m.count, m.matches_banner))
        .collect();
    assert_eq!(
        by_release,
        [
            (other.as_str(), 1, Some(false)),
            (release.as_str(), 5, Some(true))
        ],
        "the renamed and the xz module are found by content"
    );
    let mismatch = finding(
        &report.findings,
        "firmware.kernel.module-mismatch",
        "opt/vendor/old_wifi.ko",
    );
    assert!(mismatch.failed && mismatch.message.contains(release.as_str()));
    assert_eq!(
        report
            .findings
            .iter()
            .filter(|(_, f)| f.check == "firmware.kernel.module-mismatch")
            .count(),
        1
    );

    // The shipped config: each check at the line of the option that decides it.
    let stack = finding(
        &report.findings,
        "firmware.kernel.stack-protector",
        &config_name,
    );
    assert!(!stack.failed, "{stack:?}");
    assert_eq!(
        stack.line,
        Some(line_of(&config_text, "CONFIG_STACKPROTECTOR_STRONG=y"))
    );
    let signing = finding(
        &report.findings,
        "firmware.kernel.module-signing",
        &config_name,
    );
    assert!(signing.failed && signing.message.contains("MODULE_SIG_FORCE"));
    assert_eq!(
        signing.line,
        Some(line_of(
            &config_text,
            "# CONFIG_MODULE_SIG_FORCE is not set"
        ))
    );
    for (check, option) in [
        ("firmware.kernel.strict-rwx", "CONFIG_STRICT_KERNEL_RWX=y"),
        ("firmware.kernel.devmem", "CONFIG_STRICT_DEVMEM=y"),
        (
            "firmware.kernel.slab-freelist-hardened",
            "CONFIG_SLAB_FREELIST_HARDENED=y",
        ),
        (
            "firmware.kernel.hardened-usercopy",
            "CONFIG_HARDENED_USERCOPY=y",
        ),
        ("firmware.kernel.fortify-source", "CONFIG_FORTIFY_SOURCE=y"),
    ] {
        let f = finding(&report.findings, check, &config_name);
        assert!(!f.failed, "{f:?}");
        assert_eq!(f.line, Some(line_of(&config_text, option)), "{check}");
    }
    // 32-bit ARM offers no KASLR: not judged rather than failed.
    assert!(
        !report
            .findings
            .iter()
            .any(|(_, f)| f.check == "firmware.kernel.kaslr")
    );

    // The embedded copy, found in the decompressed kernel stream, judged the same.
    let embedded: Vec<_> = report
        .kernel
        .configs
        .iter()
        .filter(|c| c.file.starts_with("IKCONFIG@"))
        .collect();
    assert_eq!(embedded.len(), 1, "{:#?}", report.kernel.configs);
    assert!(embedded[0].within.contains("gzip@0"), "{:?}", embedded[0]);
    let shipped = report
        .kernel
        .configs
        .iter()
        .find(|c| c.file == config_name)
        .unwrap();
    assert_eq!(embedded[0].hardening, shipped.hardening);
    assert_eq!(embedded[0].options, shipped.options);
    let embedded_signing = finding(
        &report.findings,
        "firmware.kernel.module-signing",
        &embedded[0].file,
    );
    assert!(embedded_signing.failed && embedded_signing.line.is_none());
}

/// The same real configuration with hardening changed the way a vendor would change it.
#[test]
fn module_signing_forced_or_modules_off_pass_and_devmem_open_fails() {
    let (pkg, release) = debian_kernel();
    let text = std::fs::read_to_string(pkg.join(format!("boot/config-{release}"))).unwrap();
    let source = ConfigSource {
        file: "boot/config".into(),
        text_lines: true,
        embedded: false,
    };
    let judge = |text: &str, check: &str| {
        config_findings(&parse_config(text), &source)
            .into_iter()
            .find(|f| f.check == check)
            .unwrap()
    };
    let forced = text.replace(
        "# CONFIG_MODULE_SIG_FORCE is not set",
        "CONFIG_MODULE_SIG_FORCE=y",
    );
    let f = judge(&forced, "firmware.kernel.module-signing");
    assert!(!f.failed && f.message.contains("sha256"), "{f:?}");
    let no_modules = text.replace("CONFIG_MODULES=y", "# CONFIG_MODULES is not set");
    assert_eq!(
        parse_config(&no_modules).get("MODULES").map(|o| &o.value),
        Some(&ConfigValue::NotSet)
    );
    assert!(!judge(&no_modules, "firmware.kernel.module-signing").failed);
    let open = text.replace(
        "CONFIG_STRICT_DEVMEM=y",
        "# CONFIG_STRICT_DEVMEM is not set",
    );
    let f = judge(&open, "firmware.kernel.devmem");
    assert!(f.failed, "{f:?}");
    let no_protector = text
        .replace(
            "CONFIG_STACKPROTECTOR=y",
            "# CONFIG_STACKPROTECTOR is not set",
        )
        .replace("CONFIG_STACKPROTECTOR_STRONG=y", "");
    assert!(judge(&no_protector, "firmware.kernel.stack-protector").failed);
}

#[test]
fn fuzz_kernel_config_corpus_runs_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/kernel_config");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        iotmark_firmware::fuzz_kernel_config(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 5, "expected the seed corpus in {}", dir.display());
}
