//! What the tests that build images from real tools and real Debian packages share.

#![allow(dead_code, clippy::unwrap_used)] // each test file uses part of it; unwraps fail tests

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs a real tool; its stdout. A missing tool names the Debian package that has it.
pub fn tool(cmd: &mut Command, package: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?} ({e}); install the Debian package `{package}`")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The `.deb` of `package` for `arch` that `scripts/fetch-debian-packages.sh` fetched,
/// found by the start of its file name (`linux-image-` finds the versioned kernel).
pub fn debian_package(arch: &str, name_start: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/debian-packages")
        .join(arch);
    std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(name_start))
        })
        .unwrap_or_else(|| {
            panic!(
                "{name_start}*:{arch} not in {}; run scripts/fetch-debian-packages.sh",
                dir.display()
            )
        })
}

/// Packs `root` into a SquashFS image with the real `mksquashfs`, all files owned by root.
pub fn squashfs(root: &Path, image: &Path, compression: &str) {
    tool(
        Command::new("mksquashfs").arg(root).arg(image).args([
            "-comp",
            compression,
            "-noappend",
            "-all-root",
            "-quiet",
            "-no-progress",
        ]),
        "squashfs-tools",
    );
}
