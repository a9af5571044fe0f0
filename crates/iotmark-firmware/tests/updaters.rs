//! Updaters found by what they do: a vendor's own update script and program under names no
//! list holds, packed into a real SquashFS with `mksquashfs`, the program compiled by `gcc`;
//! and real Debian BusyBox and curl binaries (whose strings name wget, URLs and flash tools)
//! beside them, which must not be taken for updaters.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use iotmark_firmware::analyze::Finding;
use iotmark_firmware::{Limits, scan};

mod common;
use common::tool;

fn put(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, data).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A file of a real Debian package (fetched by `scripts/fetch-debian-packages.sh`).
fn debian_file(arch: &str, package: &str, file: &str, scratch: &Path) -> Vec<u8> {
    let deb = common::debian_package(arch, &format!("{package}_"));
    let out = scratch.join(format!("{package}-{arch}"));
    std::fs::create_dir_all(&out).unwrap();
    tool(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&out),
        "dpkg",
    );
    std::fs::read(out.join(file)).unwrap()
}

const UNSAFE: &str = "#!/bin/sh
# ACME firmware updater: fetch the latest image and flash it.
SERVER=http://update.acme-devices.example/fw
wget -q -O /tmp/fw.bin \"$SERVER/latest.bin\" || exit 1
wget -q -O /tmp/fw.md5 \"$SERVER/latest.md5\"
[ \"$(md5sum < /tmp/fw.bin)\" = \"$(cat /tmp/fw.md5)\" ] || exit 1
md5sum -c /tmp/fw.md5 || exit 1
mtd -r write /tmp/fw.bin firmware
";

const SAFE: &str = "#!/bin/sh
# ACME firmware updater: fetch the latest image, check its signature, flash it.
SERVER=https://update.acme-devices.example/fw
uclient-fetch -q -O /tmp/fw.bin \"$SERVER/latest.bin\" || exit 1
uclient-fetch -q -O /tmp/fw.sig \"$SERVER/latest.sig\" || exit 1
if ! usign -V -m /tmp/fw.bin -x /tmp/fw.sig -P /etc/acme/keys; then
\tlogger -t acme-fwup 'bad signature'
\texit 1
fi
mtd -r write /tmp/fw.bin firmware
";

/// A vendor's update daemon in C: the commands it runs are strings in the binary.
const PROGRAM: &str = "#include <stdlib.h>
int main(void) {
    if (system(\"wget -O /tmp/fw.bin http://192.168.1.10/firmware/zx81.bin\") != 0) return 1;
    return system(\"mtd write /tmp/fw.bin firmware\");
}
";

fn of<'a>(findings: &'a [Finding], check: &str) -> Vec<(&'a str, Option<u64>)> {
    findings
        .iter()
        .filter(|f| f.check == check && f.failed == (check != "firmware.update.updater"))
        .map(|f| (f.file.as_str(), f.line))
        .collect()
}

#[test]
fn vendor_updaters_by_content_and_general_tools_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    put(&root, "usr/sbin/acme-fwup", UNSAFE.as_bytes());
    put(&root, "usr/sbin/acme-fwup-signed", SAFE.as_bytes());
    let src = dir.path().join("zx.c");
    std::fs::write(&src, PROGRAM).unwrap();
    std::fs::create_dir_all(root.join("opt/zx/bin")).unwrap();
    tool(
        Command::new("gcc")
            .arg("-O2")
            .arg("-o")
            .arg(root.join("opt/zx/bin/zxd"))
            .arg(&src),
        "gcc",
    );
    // Real general tools whose strings mention downloads and flash tools.
    let scratch = dir.path().join("debs");
    let busybox = debian_file("armhf", "busybox-static", "bin/busybox", &scratch);
    put(&root, "bin/busybox", &busybox);
    // Renamed, BusyBox is still BusyBox.
    put(&root, "usr/sbin/fw_helper", &busybox);
    put(
        &root,
        "usr/bin/curl",
        &debian_file("armhf", "curl", "usr/bin/curl", &scratch),
    );
    put(
        &root,
        "usr/bin/fetcher",
        &debian_file("mipsel", "curl", "usr/bin/curl", &scratch),
    );

    let image = dir.path().join("root.sqfs");
    common::squashfs(&root, &image, "xz");
    let report = scan(&std::fs::read(&image).unwrap(), &Limits::default());
    let findings: Vec<Finding> = report.findings.into_iter().map(|(_, f)| f).collect();

    assert_eq!(
        of(&findings, "firmware.update.updater"),
        [
            ("opt/zx/bin/zxd", None),
            ("usr/sbin/acme-fwup", Some(8)),
            ("usr/sbin/acme-fwup-signed", Some(10)),
        ],
        "{findings:#?}"
    );
    assert_eq!(
        of(&findings, "firmware.update.unverified-write"),
        [("opt/zx/bin/zxd", None), ("usr/sbin/acme-fwup", Some(8))]
    );
    assert_eq!(
        of(&findings, "firmware.update.http-download"),
        [("opt/zx/bin/zxd", None), ("usr/sbin/acme-fwup", Some(4))]
    );
    let message = |file: &str, check: &str| {
        findings
            .iter()
            .find(|f| f.file == file && f.check == check)
            .unwrap()
            .message
            .clone()
    };
    let m = message("usr/sbin/acme-fwup", "firmware.update.unverified-write");
    assert!(
        m.contains("mtd write (line 8)") && m.contains("md5sum") && m.contains("not a signature"),
        "{m}"
    );
    let m = message("usr/sbin/acme-fwup-signed", "firmware.update.updater");
    assert!(
        m.contains("usign -V (line 6) checks its signature first"),
        "{m}"
    );
    let m = message("opt/zx/bin/zxd", "firmware.update.http-download");
    assert!(m.contains("wget") && m.contains("plain HTTP"), "{m}");
}
