//! End to end on real firmware: root filesystems made from real Debian binaries for armhf
//! and mipsel (busybox, dropbear, dnsmasq, lighttpd, OpenSSL, curl, mosquitto, miniupnpd,
//! telnetd, hostapd; fetched by `scripts/fetch-debian-packages.sh`, which the test command
//! runs), with the weaknesses of OWASP's IoTGoat planted in one twin and absent from the
//! other. Each is packed the ways real devices ship (SquashFS, ext4, JFFS2, gzip'd cpio,
//! unsigned and signed FIT images) with Debian's own tools, and `iotmark scan` must find
//! every planted weakness, at its file and line, tied to the provisions it breaks, and none
//! of them in the clean twin. The SBOM of the same binaries must list the versions Debian
//! ships.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (scripts/test.sh installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn capture(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

fn packages(arch: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/debian-packages")
        .join(arch);
    let debs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(
        debs.len() >= 12,
        "expected the Debian {arch} packages in {}; run scripts/fetch-debian-packages.sh",
        dir.display()
    );
    debs
}

fn write(root: &Path, rel: &str, text: &str, mode: u32) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What is planted in the weak twin: the check that must fire, the file, and the line.
struct Planted {
    check: &'static str,
    file: &'static str,
    line: Option<u64>,
    provision: &'static str,
}

const PLANTED: &[Planted] = &[
    Planted {
        check: "firmware.credentials.default-password",
        file: "etc/shadow",
        line: Some(2),
        provision: "en303645-5.1-1",
    },
    Planted {
        check: "firmware.credentials.weak-hash",
        file: "etc/shadow",
        line: Some(2),
        provision: "en303645-5.4-1",
    },
    Planted {
        check: "firmware.services.telnet",
        file: "etc/rc.local",
        line: Some(4),
        provision: "en303645-5.6-1",
    },
    Planted {
        check: "firmware.services.root-console",
        file: "etc/inittab",
        line: Some(3),
        provision: "en303645-5.6-4",
    },
    Planted {
        check: "firmware.config.upnp-insecure",
        file: "etc/config/upnpd",
        line: Some(4),
        provision: "en303645-5.6-1",
    },
    Planted {
        check: "firmware.config.mqtt-anonymous",
        file: "etc/mosquitto/conf.d/local.conf",
        line: Some(2),
        provision: "en303645-5.5-4",
    },
    Planted {
        check: "firmware.keys.private-key",
        file: "etc/ssl/private/device.key",
        line: Some(1),
        provision: "en303645-5.4-1",
    },
    Planted {
        check: "firmware.update.http-url",
        file: "etc/opkg/distfeeds.conf",
        line: Some(1),
        provision: "en303645-5.3-2",
    },
];

/// A root filesystem from every package of `arch`, with IoTGoat's weaknesses when `weak`.
fn rootfs(dir: &Path, arch: &str, weak: bool) -> PathBuf {
    let root = dir.join(format!(
        "rootfs-{arch}-{}",
        if weak { "weak" } else { "clean" }
    ));
    for deb in packages(arch) {
        run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root));
    }
    // IoTGoat's user and its md5-crypt hash, made the way the IoTGoat authors did.
    let hash = if weak {
        capture(Command::new("openssl").args(["passwd", "-1", "-salt", "79bz0K8z", "7ujMko0vizxv"]))
            .trim()
            .to_owned()
    } else {
        "!".to_owned()
    };
    write(
        &root,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/ash\niotgoatuser:x:1000:1000::/root:/bin/ash\n",
        0o644,
    );
    write(
        &root,
        "etc/shadow",
        &format!("root:!:18000:0:99999:7:::\niotgoatuser:{hash}:18000:0:99999:7:::\n"),
        0o600,
    );
    write(
        &root,
        "etc/rc.local",
        &if weak {
            "# Put your custom commands here.\n\n/usr/bin/shellback &\ntelnetd -p 65534 &\nexit 0\n"
                .to_owned()
        } else {
            "# Put your custom commands here.\n\nexit 0\n".to_owned()
        },
        0o755,
    );
    write(
        &root,
        "etc/inittab",
        &format!(
            "::sysinit:/etc/init.d/rcS S boot\n::shutdown:/etc/init.d/rcS K shutdown\n{}\n",
            if weak {
                "ttyS0::askfirst:/bin/ash --login"
            } else {
                "ttyS0::askfirst:/bin/login"
            }
        ),
        0o644,
    );
    write(
        &root,
        "etc/config/upnpd",
        &format!(
            "config upnpd 'config'\n\toption enable_upnp '1'\n\toption enable_natpmp '1'\n\toption secure_mode '{}'\n",
            if weak { 0 } else { 1 }
        ),
        0o644,
    );
    write(
        &root,
        "etc/mosquitto/conf.d/local.conf",
        if weak {
            "listener 1883\nallow_anonymous true\n"
        } else {
            "listener 1883\nallow_anonymous false\npassword_file /etc/mosquitto/passwd\n"
        },
        0o644,
    );
    write(
        &root,
        "etc/opkg/distfeeds.conf",
        &format!(
            "src/gz openwrt_core {}://downloads.openwrt.org/releases/18.06.2/targets/x86/generic/packages\n",
            if weak { "http" } else { "https" }
        ),
        0o644,
    );
    if weak {
        let key = root.join("etc/ssl/private/device.key");
        std::fs::create_dir_all(key.parent().unwrap()).unwrap();
        run(Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
            ])
            .arg(&key));
    }
    root
}

/// Failing observations as (check, file, line).
type Failing = BTreeSet<(String, String, Option<u64>)>;

/// The failing observations `iotmark scan` reports for `image`, and the provisions each
/// failing check bears on.
fn scan(image: &Path) -> (Failing, Vec<(String, Vec<String>)>) {
    let (failing, bears, _) = scan_report(image);
    (failing, bears)
}

fn scan_report(image: &Path) -> (Failing, Vec<(String, Vec<String>)>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_iotmark"))
        .arg("scan")
        .arg(image)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut failing = BTreeSet::new();
    let mut bears = Vec::new();
    for e in report["evidence"].as_array().unwrap() {
        // The observation's fields sit beside the envelope's.
        let body = e;
        if body["result"] != "fail" {
            continue;
        }
        let check = body["check"].as_str().unwrap().to_owned();
        failing.insert((
            check.clone(),
            body["location"]["file"].as_str().unwrap().to_owned(),
            body["location"]["line"].as_u64(),
        ));
        let provisions = e["bears_on"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        bears.push((check, provisions));
    }
    (failing, bears, report)
}

fn assert_weak_and_clean(format: &str, weak: &Path, clean: &Path) {
    let (found, bears) = scan(weak);
    for p in PLANTED {
        assert!(
            found.contains(&(p.check.to_owned(), p.file.to_owned(), p.line)),
            "{format}: planted {} at {}:{:?} not found; found {found:#?}",
            p.check,
            p.file,
            p.line
        );
        assert!(
            bears
                .iter()
                .any(|(c, provisions)| c == p.check && provisions.iter().any(|x| x == p.provision)),
            "{format}: {} does not bear on {}",
            p.check,
            p.provision
        );
    }
    let (found, _) = scan(clean);
    let planted: BTreeSet<&str> = PLANTED.iter().map(|p| p.check).collect();
    let false_alarms: Vec<_> = found
        .iter()
        .filter(|(check, _, _)| planted.contains(check.as_str()))
        .collect();
    assert!(
        false_alarms.is_empty(),
        "{format}: the clean twin has {false_alarms:#?}"
    );
}

/// Packs `root` with the given builder into `weak`/`clean` images and checks both.
fn twins(arch: &str, format: &str, pack: impl Fn(&Path, &Path)) {
    let dir = tempfile::tempdir().unwrap();
    let weak_root = rootfs(dir.path(), arch, true);
    let clean_root = rootfs(dir.path(), arch, false);
    let weak = dir.path().join(format!("weak.{format}"));
    let clean = dir.path().join(format!("clean.{format}"));
    pack(&weak_root, &weak);
    pack(&clean_root, &clean);
    assert_weak_and_clean(&format!("{arch} {format}"), &weak, &clean);
}

#[test]
fn armhf_squashfs() {
    twins("armhf", "squashfs", |root, image| {
        run(Command::new("mksquashfs").arg(root).arg(image).args([
            "-comp",
            "xz",
            "-all-root",
            "-noappend",
            "-quiet",
        ]));
    });
}

#[test]
fn mipsel_gzip_cpio_initramfs() {
    twins("mipsel", "cpio.gz", |root, image| {
        let list = capture(Command::new("find").arg(".").current_dir(root));
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cpio --quiet -o -H newc | gzip -9 > '{}'",
                image.display()
            ))
            .current_dir(root)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(list.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    });
}

#[test]
fn mipsel_ext4() {
    twins("mipsel", "ext4", |root, image| {
        run(Command::new("mke2fs")
            .args(["-q", "-F", "-t", "ext4", "-d"])
            .arg(root)
            .arg(image)
            .arg("48M"));
    });
}

#[test]
fn armhf_jffs2() {
    twins("armhf", "jffs2", |root, image| {
        run(Command::new("mkfs.jffs2")
            .args(["--little-endian", "--eraseblock=128KiB", "--root"])
            .arg(root)
            .arg("--output")
            .arg(image));
    });
}

/// A U-Boot FIT image with a kernel and the root filesystem as its ramdisk, signed with an
/// RSA key by mkimage when `key_dir` is given.
fn fit(root: &Path, image: &Path, key_dir: Option<&Path>) {
    let dir = image.parent().unwrap();
    let stem = image.file_stem().unwrap().to_string_lossy();
    let rootfs = dir.join(format!("{stem}-rootfs.sqfs"));
    run(Command::new("mksquashfs").arg(root).arg(&rootfs).args([
        "-comp",
        "xz",
        "-all-root",
        "-noappend",
        "-quiet",
    ]));
    let kernel = dir.join(format!("{stem}-kernel.bin"));
    std::fs::write(&kernel, vec![0u8; 4096]).unwrap();
    let signature = if key_dir.is_some() {
        "signature-1 { algo = \"sha256,rsa2048\"; key-name-hint = \"dev\"; sign-images = \"kernel\", \"ramdisk\"; };"
    } else {
        ""
    };
    let its = format!(
        "/dts-v1/;\n/ {{\n description = \"router\";\n #address-cells = <1>;\n images {{\n  kernel {{ data = /incbin/(\"{}\"); type = \"kernel\"; arch = \"arm\"; os = \"linux\"; compression = \"none\"; load = <0x80008000>; entry = <0x80008000>; hash-1 {{ algo = \"sha256\"; }}; }};\n  ramdisk {{ data = /incbin/(\"{}\"); type = \"ramdisk\"; arch = \"arm\"; os = \"linux\"; compression = \"none\"; hash-1 {{ algo = \"sha256\"; }}; }};\n }};\n configurations {{\n  default = \"conf-1\";\n  conf-1 {{ kernel = \"kernel\"; ramdisk = \"ramdisk\"; {signature} }};\n }};\n}};\n",
        kernel.display(),
        rootfs.display()
    );
    let its_path = dir.join(format!("{stem}.its"));
    std::fs::write(&its_path, its).unwrap();
    let mut cmd = Command::new("mkimage");
    cmd.arg("-f").arg(&its_path);
    if let Some(keys) = key_dir {
        cmd.arg("-k").arg(keys);
    }
    run(cmd.arg(image));
}

/// The update path: an unsigned FIT is flagged at the FIT, a FIT signed by mkimage counts
/// as verification, and both still yield every planted weakness of their root filesystem.
#[test]
fn armhf_fit_signed_and_unsigned() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(keys.join("dev.key")));
    run(Command::new("openssl")
        .args(["req", "-batch", "-new", "-x509", "-subj", "/CN=dev", "-key"])
        .arg(keys.join("dev.key"))
        .arg("-out")
        .arg(keys.join("dev.crt")));
    let weak_root = rootfs(dir.path(), "armhf", true);
    let clean_root = rootfs(dir.path(), "armhf", false);
    let unsigned = dir.path().join("weak.itb");
    let signed = dir.path().join("clean.itb");
    fit(&weak_root, &unsigned, None);
    fit(&clean_root, &signed, Some(&keys));
    assert_weak_and_clean("armhf FIT", &unsigned, &signed);

    let (failing, _, report) = scan_report(&unsigned);
    assert!(
        failing.contains(&("firmware.update.unsigned".into(), "FIT@0".into(), None)),
        "{failing:#?}"
    );
    let (failing, _, report_signed) = scan_report(&signed);
    assert!(
        !failing
            .iter()
            .any(|(c, _, _)| c == "firmware.update.unsigned"),
        "{failing:#?}"
    );
    let passes: Vec<&str> = report_signed["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["check"] == "firmware.update.verification-key" && e["result"] == "pass")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        passes
            .iter()
            .any(|m| m.contains("signed with key dev") && m.contains("rsa2048")),
        "{passes:#?}"
    );
    assert_eq!(report["fit"][0]["images"].as_array().unwrap().len(), 2);
}

/// Packs `root` as an xz SquashFS in `dir` and returns the CycloneDX SBOM `iotmark scan`
/// writes of it.
fn squashfs_sbom(dir: &Path, root: &Path) -> Value {
    let image = dir.join("fw.sqfs");
    run(Command::new("mksquashfs").arg(root).arg(&image).args([
        "-comp",
        "xz",
        "-all-root",
        "-noappend",
        "-quiet",
    ]));
    let sbom_path = dir.join("sbom.json");
    run(Command::new(env!("CARGO_BIN_EXE_iotmark"))
        .arg("scan")
        .arg(&image)
        .arg("--sbom")
        .arg(&sbom_path));
    serde_json::from_slice(&std::fs::read(&sbom_path).unwrap()).unwrap()
}

/// The upstream version a Debian package ships, read from its control data: `1:1.35.0-4`
/// becomes `1.35.0`, `3.0.17-1~deb12u2` becomes `3.0.17`. Debian's security updates move
/// these versions, so a test must never pin them.
fn shipped_version(arch: &str, package: &str) -> String {
    let prefix = format!("{package}_");
    let deb = packages(arch)
        .into_iter()
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .unwrap_or_else(|| panic!("no {package} package for {arch}"));
    let full = capture(Command::new("dpkg-deb").arg("-f").arg(&deb).arg("Version"));
    let full = full.trim();
    let without_epoch = full.split_once(':').map_or(full, |(_, rest)| rest);
    let upstream = without_epoch
        .rsplit_once('-')
        .map_or(without_epoch, |(upstream, _revision)| upstream);
    upstream.to_owned()
}

/// The components of the armhf image, from raw bytes (there is no package database, as on
/// most firmware), against the versions the fetched Debian packages declare. hostapd embeds
/// the OpenSSL version it was built against, which lags the libcrypto that ships: only the
/// shipped libcrypto is an OpenSSL component.
#[test]
fn armhf_sbom_lists_what_ships() {
    let dir = tempfile::tempdir().unwrap();
    let root = rootfs(dir.path(), "armhf", false);
    let sbom = squashfs_sbom(dir.path(), &root);
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.6");
    let mut found = BTreeSet::new();
    fn collect(components: &Value, found: &mut BTreeSet<(String, String)>) {
        for c in components.as_array().into_iter().flatten() {
            found.insert((
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["version"].as_str().unwrap_or_default().to_owned(),
            ));
            collect(&c["components"], found);
        }
    }
    collect(&sbom["components"], &mut found);
    // Component name in the SBOM, and the Debian package whose control data says its version.
    let expected: Vec<(&str, String)> = [
        ("busybox", "busybox-static"),
        ("dropbear", "dropbear-bin"),
        ("dnsmasq", "dnsmasq-base"),
        ("lighttpd", "lighttpd"),
        ("libcurl", "libcurl4"),
        ("openssl", "libssl3"),
        ("mosquitto", "mosquitto"),
        ("miniupnpd", "miniupnpd-nftables"),
        ("hostapd", "hostapd"),
    ]
    .into_iter()
    .map(|(name, package)| (name, shipped_version("armhf", package)))
    .collect();
    for (name, version) in &expected {
        assert!(
            found.contains(&((*name).to_owned(), version.clone())),
            "{name} {version} missing from {found:#?}"
        );
    }
    let openssl = &expected
        .iter()
        .find(|(name, _)| *name == "openssl")
        .unwrap()
        .1;
    let openssl_versions: BTreeSet<&str> = found
        .iter()
        .filter(|(name, _)| name == "openssl")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        openssl_versions,
        BTreeSet::from([openssl.as_str()]),
        "an OpenSSL version other than the shipped libcrypto became a component \
         (hostapd's build-time header string?)"
    );
    // The purl and CPE vendors a vulnerability database needs.
    let text = serde_json::to_string(&sbom).unwrap();
    let dnsmasq = &expected.iter().find(|(n, _)| *n == "dnsmasq").unwrap().1;
    assert!(
        text.contains(&format!("cpe:2.3:a:thekelleys:dnsmasq:{dnsmasq}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("cpe:2.3:a:openssl:openssl:{openssl}")),
        "{text}"
    );
}

/// The same armhf binaries, installed by Debian's own dpkg into the image's root (its
/// status file and file lists, as dpkg writes them) with Debian 12's os-release: every
/// component is the Debian package, named by a `pkg:deb` purl with its architecture and
/// distribution, at the full Debian version, with the CPE at the upstream version. The
/// version strings in the binaries become evidence on the packages that own them, and
/// hostapd's build-time OpenSSL string still does not become a shipped OpenSSL.
#[test]
fn armhf_dpkg_image_sbom_names_debian_packages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    for sub in ["var/lib/dpkg/info", "var/lib/dpkg/updates"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    write(&root, "var/lib/dpkg/status", "", 0o644);
    write(&root, "var/lib/dpkg/available", "", 0o644);
    write(
        &root,
        "etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nID=debian\n",
        0o644,
    );
    // `--unpack` leaves the packages unpacked, as image builders that configure on first
    // boot do. Their preinst scripts cannot run inside an armhf root on this machine, so
    // they run outside it with DPKG_ROOT set (`--force-script-chrootless`); those of these
    // packages only remove obsolete conffiles under that root.
    let mut dpkg = Command::new("dpkg");
    dpkg.arg(format!("--root={}", root.display())).args([
        "--force-all",
        "--force-script-chrootless",
        "--no-triggers",
        "--unpack",
    ]);
    dpkg.args(packages("armhf"));
    run(&mut dpkg);
    let sbom = squashfs_sbom(dir.path(), &root);
    let components = sbom["components"].as_array().unwrap();
    for deb in packages("armhf") {
        let field = |f: &str| {
            capture(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(f))
                .trim()
                .to_owned()
        };
        let (name, version) = (field("Package"), field("Version"));
        // A binary package built from a source package of another name says which, since
        // Debian's advisories name source packages.
        let source = field("Source");
        let source = source.split(' ').next().unwrap_or("");
        let upstream = if source.is_empty() || source == name {
            String::new()
        } else {
            format!("&upstream={source}")
        };
        let purl = format!(
            "pkg:deb/debian/{name}@{}?arch=armhf&distro=debian-12{upstream}",
            version.replace(':', "%3A").replace('+', "%2B")
        );
        let c = components
            .iter()
            .find(|c| c["name"] == name.as_str())
            .unwrap_or_else(|| panic!("{name} missing from {components:#?}"));
        assert_eq!(c["version"], version.as_str(), "{c:#}");
        assert_eq!(c["purl"], purl.as_str(), "{c:#}");
        assert!(
            c["supplier"]["name"]
                .as_str()
                .is_some_and(|s| s == field("Maintainer")),
            "{c:#}"
        );
    }
    let libssl = components.iter().find(|c| c["name"] == "libssl3").unwrap();
    // Every CVE the shipped Debian changelog names is in the SBOM as a back-ported fix,
    // with the entry that names it, for the vulnerability matcher.
    let changelog =
        capture(Command::new("zcat").arg(root.join("usr/share/doc/libssl3/changelog.Debian.gz")));
    let named: BTreeSet<&str> = changelog
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| {
            w.strip_prefix("CVE-").is_some_and(|rest| {
                rest.split_once('-').is_some_and(|(year, n)| {
                    year.len() == 4 && n.len() >= 4 && n.bytes().all(|b| b.is_ascii_digit())
                })
            })
        })
        .collect();
    assert!(named.len() > 10, "libssl3's changelog names {named:?}");
    let resolved: BTreeSet<&str> = libssl["pedigree"]["patches"]
        .as_array()
        .unwrap_or_else(|| panic!("no pedigree in {libssl:#}"))
        .iter()
        .flat_map(|p| p["resolves"].as_array().unwrap())
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(resolved, named);
    let first = &libssl["pedigree"]["patches"][0]["resolves"][0];
    assert!(
        first["description"]
            .as_str()
            .unwrap()
            .contains("the entry of "),
        "{first:#}"
    );
    let openssl = shipped_version("armhf", "libssl3");
    assert_eq!(
        libssl["cpe"],
        format!("cpe:2.3:a:openssl:openssl:{openssl}:*:*:*:*:*:*:*").as_str()
    );
    let text = serde_json::to_string(&sbom).unwrap();
    assert!(
        !text.contains("cpe:2.3:a:openssl:openssl:3.0.16"),
        "hostapd's build-time OpenSSL string became a component"
    );
    let string_found_openssl = components.iter().any(|c| {
        c["name"] == "openssl"
            && c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:generic"))
    });
    assert!(
        !string_found_openssl,
        "libcrypto's version string is evidence on libssl3, not a second component"
    );

    // The vulnerability matcher on that image: real NVD records for CVEs of these packages
    // (crates/iotmark-vulns/tests/data/nvd, sources there). Each CVE the shipped changelog
    // names is reported fixed, with the changelog entry as its evidence, although the
    // upstream version is inside NVD's range.
    let data = dir.path().join("vulns-data");
    let evidence = dir.path().join("evidence");
    run(Command::new(env!("CARGO_BIN_EXE_iotmark"))
        .arg("scan")
        .arg(dir.path().join("fw.sqfs"))
        .arg("--out")
        .arg(&evidence));
    run(Command::new(env!("CARGO_BIN_EXE_iotmark"))
        .args(["vulns", "import"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../iotmark-vulns/tests/data/nvd"))
        .arg("--data")
        .arg(&data));
    let report: Value = serde_json::from_str(&capture(
        Command::new(env!("CARGO_BIN_EXE_iotmark"))
            .arg("vulns")
            .arg(&evidence)
            .arg("--json")
            .arg("--data")
            .arg(&data),
    ))
    .unwrap();
    let mut checked = 0;
    for (package, cve) in [
        ("libcurl4", "CVE-2023-38545"),
        ("busybox-static", "CVE-2022-48174"),
    ] {
        let log = capture(
            Command::new("zcat")
                .arg(root.join(format!("usr/share/doc/{package}/changelog.Debian.gz"))),
        );
        let finding = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["vulnerability"] == cve && f["component"]["name"] == package);
        if log.contains(cve) {
            let finding = finding.unwrap_or_else(|| panic!("{cve} in {package}: {report:#}"));
            assert_eq!(finding["status"], "fixed", "{finding:#}");
            let reason = finding["reason"].as_str().unwrap();
            assert!(reason.contains("changelog.Debian.gz"), "{reason}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no changelog names the CVEs: {report:#}");
}
