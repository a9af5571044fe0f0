//! ext2/3/4, cramfs and romfs images built here with the real tools (e2fsprogs, util-linux's
//! mkfs.cramfs, genromfs) from one source tree, found at offset 0 and behind junk, and read
//! back entry by entry: paths, types, modes, owners, symlink targets, sizes and SHA-256 must
//! equal the source tree (and what debugfs and fsck.cramfs extract), within what each format
//! keeps. Truncated and corrupted images must give a `failed: …` region, never a panic.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_firmware::tree::{Kind, Tree};
use iotmark_firmware::{Limits, ScanReport, scan};
use sha2::{Digest, Sha256};

fn run(cmd: &mut Command, package: &str) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (install the Debian package {package})")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Bytes that do not compress and are the same on every run.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn put(root: &Path, rel: &str, bytes: &[u8], mode: u32) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

/// The source tree every image is made from.
fn source(root: &Path) {
    put(
        root,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\n",
        0o644,
    );
    put(root, "etc/shadow", b"root:!:19000:0:99999:7:::\n", 0o600);
    put(root, "etc/group", b"root:x:0:\n", 0o640);
    put(root, "bin/tool", &noise(5_000, 1), 0o755);
    put(root, "bin/suid", b"#!/bin/sh\n", 0o4755);
    // Over 268 KiB: with 1 KiB blocks this needs double indirect blocks (ext2/3) and
    // several extents or an extent index (ext4).
    put(root, "opt/big.bin", &noise(300_000, 2), 0o644);
    put(root, "empty", b"", 0o644);
    put(root, "a/b/c/d/deep.txt", b"four levels down\n", 0o444);
    put(root, "names/with space.txt", b"space\n", 0o644);
    put(root, "names/\u{fc}n\u{ef}code.txt", b"utf-8\n", 0o644);
    // Enough entries that the directory spans several blocks.
    for i in 0..120 {
        put(
            root,
            &format!("many/entry-with-a-longer-name-{i:03}.conf"),
            format!("value={i}\n").as_bytes(),
            0o644,
        );
    }
    // A sparse file: data, a hole, data.
    {
        use std::io::{Seek, SeekFrom, Write};
        let path = root.join("opt/sparse.img");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&noise(3_000, 3)).unwrap();
        f.seek(SeekFrom::Start(700_000)).unwrap();
        f.write_all(b"after the hole").unwrap();
        f.set_len(1 << 20).unwrap();
    }
    // Data in every other 4 KiB block: holes the host keeps, so ext4 needs more extents
    // than the inode holds (an extent tree of depth 1) and ext2 indirect blocks with holes.
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(root.join("opt/holes.bin")).unwrap();
        for i in (0..30u8).step_by(2) {
            f.seek(SeekFrom::Start(u64::from(i) * 4096)).unwrap();
            f.write_all(&[i + 1; 4096]).unwrap();
        }
        f.set_len(31 * 4096).unwrap();
    }
    std::fs::create_dir_all(root.join("private")).unwrap();
    std::fs::set_permissions(root.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    put(root, "private/key", b"secret\n", 0o600);
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::create_dir_all(root.join("var/empty")).unwrap();
    symlink("tool", root.join("bin/sh")).unwrap();
    let long = format!("/opt/{}/target", "a-long-symlink-target".repeat(4));
    assert!(long.len() > 60, "a slow symlink in ext");
    symlink(&long, root.join("bin/long-link")).unwrap();
    std::fs::hard_link(root.join("etc/passwd"), root.join("etc/passwd.hard")).unwrap();
    run(
        Command::new("mkfifo").arg(root.join("tmp/ctl.fifo")),
        "coreutils",
    );
    chown(&root.join("etc/group"), 0, 42);
    chown(&root.join("private"), 1000, 100);
    chown(&root.join("private/key"), 1000, 100);
    chown(&root.join("bin/sh"), 7, 8);
}

/// One entry as a comparable record: kind, mode, uid, gid, size, and SHA-256 or target.
type Record = (String, u32, u32, u32, u64, Option<String>);

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Everything under `base` as records, by path relative to it.
fn on_disk(base: &Path) -> BTreeMap<PathBuf, Record> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Record>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(base).unwrap().to_path_buf();
            let (mode, uid, gid) = (meta.mode() & 0o7777, meta.uid(), meta.gid());
            let ft = meta.file_type();
            let record = if ft.is_symlink() {
                let target = std::fs::read_link(&path).unwrap().display().to_string();
                ("symlink".into(), mode, uid, gid, 0, Some(target))
            } else if ft.is_dir() {
                walk(base, &path, out);
                ("dir".into(), mode, uid, gid, 0, None)
            } else if ft.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                let len = bytes.len() as u64;
                ("file".into(), mode, uid, gid, len, Some(sha(&bytes)))
            } else {
                ("named pipe".into(), mode, uid, gid, 0, None)
            };
            out.insert(rel, record);
        }
    }
    let mut out = BTreeMap::new();
    walk(base, base, &mut out);
    out
}

/// Asserts two listings are equal, showing only the entries that differ.
#[track_caller]
fn assert_same(got: &BTreeMap<PathBuf, Record>, want: &BTreeMap<PathBuf, Record>, what: &str) {
    let diff: Vec<String> = got
        .keys()
        .chain(want.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|p| got.get(*p) != want.get(*p))
        .map(|p| {
            format!(
                "{}: got {:?}, want {:?}",
                p.display(),
                got.get(p),
                want.get(p)
            )
        })
        .collect();
    assert!(
        diff.is_empty(),
        "{what}: {} differences:\n{}",
        diff.len(),
        diff.join("\n")
    );
    assert!(got.len() > 5, "{what}: only {} entries", got.len());
}

fn in_tree(tree: &Tree) -> BTreeMap<PathBuf, Record> {
    tree.entries
        .iter()
        .map(|(path, e)| {
            let (kind, extra) = match &e.kind {
                Kind::File(bytes) => ("file".to_owned(), Some(sha(bytes))),
                Kind::Dir => ("dir".to_owned(), None),
                Kind::Symlink(t) => ("symlink".to_owned(), Some(t.display().to_string())),
                Kind::Special(k) => ((*k).to_owned(), None),
            };
            let record = (kind, u32::from(e.mode), e.uid, e.gid, e.size(), extra);
            (path.clone(), record)
        })
        .collect()
}

/// Scans `image` alone and behind 3001 junk bytes (with junk after), and returns the one
/// filesystem found each time, checking it was found where it was put.
fn scan_both(image: &[u8], format: &str) -> Tree {
    scan_both_at(image, format, 0)
}

/// As [`scan_both`], for a filesystem whose region starts `start` bytes into `image`.
fn scan_both_at(image: &[u8], format: &str, start: u64) -> Tree {
    let alone = scan(image, &Limits::default());
    let mut embedded = noise(3_001, 9);
    embedded.extend_from_slice(image);
    embedded.extend(noise(2_000, 10));
    let behind = scan(&embedded, &Limits::default());
    let mut trees = Vec::new();
    for (report, at) in [(alone, start), (behind, start + 3_001)] {
        let region = report
            .regions
            .iter()
            .find(|r| r.format == format)
            .unwrap_or_else(|| panic!("no {format} region: {:?}", report.regions));
        assert_eq!(region.offset, at, "{:?}", report.regions);
        assert_eq!(region.outcome, "unpacked", "{:?}", report.regions);
        assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
        let (label, tree) = report.filesystems.into_iter().next().unwrap();
        assert!(label.ends_with(&format!("{format}@{at}")), "{label}");
        trees.push(tree);
    }
    assert_same(
        &in_tree(&trees[0]),
        &in_tree(&trees[1]),
        "alone and embedded",
    );
    trees.swap_remove(0)
}

fn mke2fs(dir: &Path, src: &Path, args: &[&str], name: &str) -> Vec<u8> {
    let image = dir.join(name);
    run(
        Command::new("mke2fs")
            .args(["-q", "-F", "-b", "1024", "-N", "2048", "-d"])
            .arg(src)
            .args(args)
            .arg(&image)
            .arg("8M"),
        "e2fsprogs",
    );
    std::fs::read(image).unwrap()
}

fn failures(report: &ScanReport, format: &str) -> Vec<String> {
    report
        .regions
        .iter()
        .filter(|r| r.format == format && r.outcome.starts_with("failed: "))
        .map(|r| r.outcome.clone())
        .collect()
}

#[test]
fn ext2_ext3_ext4_match_the_source_and_debugfs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    // ext keeps everything the source has.
    let expected = on_disk(&src);
    for (name, args) in [
        // 1024 blocks a group: eight groups, so inodes and data spread over several.
        ("ext2", &["-t", "ext2", "-g", "1024"][..]),
        ("ext3", &["-t", "ext3", "-g", "1024"][..]),
        ("ext4", &["-t", "ext4"][..]),
        (
            "ext4-64bit-inline",
            &[
                "-t",
                "ext4",
                "-O",
                "64bit,inline_data,^resize_inode,meta_bg",
                "-I",
                "256",
                // 32 groups of 64-byte descriptors: two meta groups, the second's
                // descriptors in group 16; 8 inodes a group spread the files over both.
                "-g",
                "256",
                "-N",
                "256",
            ][..],
        ),
        ("ext4-4k", &["-t", "ext4", "-b", "4096", "-I", "256"][..]),
    ] {
        let image = mke2fs(dir.path(), &src, args, &format!("{name}.img"));
        if name.starts_with("ext4") {
            let extents = Command::new("debugfs")
                .args(["-R", "ex /opt/holes.bin"])
                .arg(dir.path().join(format!("{name}.img")))
                .output()
                .unwrap();
            let extents = String::from_utf8_lossy(&extents.stdout);
            assert!(
                extents.contains(" 1/ 1"),
                "{name}: an extent tree of depth 1: {extents}"
            );
        }
        let tree = scan_both(&image, "ext");
        let mut got = in_tree(&tree);
        let lost = got.remove(Path::new("lost+found"));
        assert!(lost.is_some_and(|l| l.0 == "dir"), "{name}: lost+found");
        let mut want = expected.clone();
        if name.contains("inline") {
            // mke2fs 1.47.0 with inline_data stores a file that ends in a hole without that
            // hole (i_size stops at the last data); debugfs below agrees with what we read.
            // Such a file must be the source's start, and the rest of the source zeros.
            for (path, record) in want.iter_mut() {
                let Some(ours) = tree.file(&path.to_string_lossy()) else {
                    continue;
                };
                if (ours.len() as u64) < record.4 {
                    let full = std::fs::read(src.join(path)).unwrap();
                    assert!(full.starts_with(ours), "{name}: {}", path.display());
                    assert!(full[ours.len()..].iter().all(|&b| b == 0));
                    (record.4, record.5) = (ours.len() as u64, Some(sha(ours)));
                }
            }
        }
        assert_same(&got, &want, name);

        // debugfs's own extraction agrees (it leaves out the fifo).
        let out = dir.path().join(format!("{name}-rdump"));
        std::fs::create_dir(&out).unwrap();
        run(
            Command::new("debugfs")
                .arg("-R")
                .arg(format!("rdump / {}", out.display()))
                .arg(dir.path().join(format!("{name}.img"))),
            "e2fsprogs",
        );
        let mut dumped = on_disk(&out);
        // debugfs 1.47.0 dumps an inline file shorter than 60 bytes as the whole 60-byte
        // i_block area: our contents must be its start, followed by zeros.
        for (path, record) in dumped.iter_mut() {
            if let Some(iotmark_firmware::tree::Entry {
                kind: Kind::File(bytes),
                ..
            }) = tree.entries.get(path)
                && record.4 == 60
                && bytes.len() < 60
            {
                let raw = std::fs::read(out.join(path)).unwrap();
                assert!(raw.starts_with(bytes) && raw[bytes.len()..].iter().all(|&b| b == 0));
                (record.4, record.5) = (bytes.len() as u64, Some(sha(bytes)));
            }
        }
        let mut ours = in_tree(&tree);
        ours.retain(|_, r| r.0 != "named pipe");
        // rdump drops setuid, setgid and sticky bits, and leaves symlinks owned by root.
        for r in ours.values_mut() {
            r.1 &= 0o777;
            if r.0 == "symlink" {
                (r.2, r.3) = (0, 0);
            }
        }
        assert_same(&ours, &dumped, &format!("{name} against debugfs rdump"));
    }
}

/// Directory indexes (htree) built by `e2fsck -D` are read through their linear entries.
#[test]
fn ext4_hashed_directories() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    for i in 0..400 {
        put(&src, &format!("many/more-{i:04}"), b"", 0o644);
    }
    let path = dir.path().join("htree.img");
    std::fs::write(
        &path,
        mke2fs(dir.path(), &src, &["-t", "ext4"], "htree.img"),
    )
    .unwrap();
    let fsck = Command::new("e2fsck")
        .args(["-f", "-y", "-D"])
        .arg(&path)
        .output()
        .expect("e2fsck (Debian package e2fsprogs)");
    // 1 means "errors corrected": the directories were optimised.
    assert!(fsck.status.code().is_some_and(|c| c <= 1), "{fsck:?}");
    let stat = Command::new("debugfs")
        .args(["-R", "stat /many"])
        .arg(&path)
        .output()
        .unwrap();
    let stat = String::from_utf8_lossy(&stat.stdout);
    let flags = stat
        .split("Flags: 0x")
        .nth(1)
        .and_then(|f| u32::from_str_radix(f.split_whitespace().next()?, 16).ok())
        .unwrap();
    assert!(
        flags & 0x1000 != 0,
        "e2fsck -D made /many an indexed directory: {stat}"
    );
    let tree = scan_both(&std::fs::read(&path).unwrap(), "ext");
    let mut got = in_tree(&tree);
    got.remove(Path::new("lost+found"));
    assert_same(&got, &on_disk(&src), "htree");
}

#[test]
fn ext_damage_is_reported_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = mke2fs(dir.path(), &src, &["-t", "ext4"], "damage.img");

    // Truncated: what is there is read, and the region says why the rest is missing.
    let cut = &image[..image.len() / 2];
    let report = scan(cut, &Limits::default());
    let failed = failures(&report, "ext");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("truncated: the superblock says 8388608 bytes")),
        "{failed:?}"
    );

    // An incompatible feature the reader does not know is refused by name.
    let mut refused = image.clone();
    refused[1024 + 96] |= 0x1; // compression
    let report = scan(&refused, &Limits::default());
    let failed = failures(&report, "ext");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("unsupported incompatible feature: compression")),
        "{failed:?}"
    );
    assert!(report.filesystems.is_empty());

    // The root inode wiped: named as the problem.
    let tree = scan(&image, &Limits::default());
    assert_eq!(tree.filesystems.len(), 1);
    let table = {
        let gd = 2048; // 1 KiB blocks: descriptors in block 2
        u32::from_le_bytes(image[gd + 8..gd + 12].try_into().unwrap()) as usize * 1024
    };
    let mut wiped = image.clone();
    wiped[table + 256..table + 512].fill(0); // inode 2 (256-byte inodes)
    let report = scan(&wiped, &Limits::default());
    let failed = failures(&report, "ext");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("/: inode 2 is not a directory")),
        "{failed:?}"
    );

    // Bytes flipped all over the metadata: regions, never a panic.
    for i in 0..200usize {
        let mut bad = image.clone();
        let at = 1024 + (i * 7919) % (table + 64 * 1024 - 1024);
        bad[at] ^= 0x5a ^ (i as u8);
        let _ = scan(&bad, &Limits::default());
    }
}

/// A filesystem cut short, found past the start of an image: its problems say, for what
/// could not be read, which structure was expected and where in the image it would be.
#[test]
fn a_truncated_filesystem_names_the_image_offset_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = mke2fs(dir.path(), &src, &["-t", "ext4"], "cut.img");
    let start = 8192;
    let mut seen = Vec::new();
    // Cuts that leave the superblock but lose the inode tables or file data; where each
    // structure lies is up to mke2fs, so several are tried.
    for cut in [image.len() / 64, image.len() / 16, image.len() / 4] {
        let mut data = vec![0u8; start];
        data.extend_from_slice(&image[..cut]);
        let report = scan(&data, &Limits::default());
        let failed = failures(&report, "ext");
        for problem in failed.iter().flat_map(|f| f.split("; ")) {
            // `… <what> at offset <n>: <needed> bytes needed, <available> available`
            let Some((what, tail)) = problem.rsplit_once(" at offset ") else {
                continue;
            };
            let numbers = (|| {
                let (offset, counts) = tail.split_once(": ")?;
                let (needed, available) = counts.split_once(" bytes needed, ")?;
                let available = available.strip_suffix(" available")?;
                Some((
                    offset.parse::<usize>().ok()?,
                    needed.parse::<usize>().ok()?,
                    available.parse::<usize>().ok()?,
                ))
            })();
            let (offset, needed, available) = numbers.unwrap_or_else(|| panic!("{problem}"));
            // The offset counts from the start of the image, not of the filesystem: the
            // read ran into the end of the image exactly.
            assert!(offset >= start && needed > available, "{problem}");
            assert_eq!(offset + available, data.len().max(offset), "{problem}");
            seen.push(what.rsplit(": ").next().unwrap_or_default().to_owned());
        }
    }
    assert!(
        seen.iter().any(
            |what| ["data block", "inode table entry", "extent tree node"].contains(&what.as_str())
        ),
        "{seen:?}"
    );
}

#[test]
fn ext_limits_bound_the_work() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = mke2fs(dir.path(), &src, &["-t", "ext2"], "limits.img");
    let tight = Limits {
        max_files: 10,
        max_file_bytes: 100_000,
        ..Limits::default()
    };
    let report = scan(&image, &tight);
    assert!(report.filesystems[0].1.entries.len() <= 10);
    let failed = failures(&report, "ext");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("limit of 10 files") || f.contains("over the size limit")),
        "{failed:?}"
    );
    let report = scan(
        &image,
        &Limits {
            max_file_bytes: 100_000,
            ..Limits::default()
        },
    );
    let failed = failures(&report, "ext");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("opt/big.bin") && f.contains("over the size limit")),
        "{failed:?}"
    );
    assert!(report.filesystems[0].1.file("etc/passwd").is_some());
}

/// The ext2, ext3 and ext4 partitions of fact_extractor's MBR disk image, against debugfs.
#[test]
fn fact_extractor_mbr_partitions() {
    let xz = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/firmware-fixtures/fact_extractor/generic_fs/test/data/mbr.img.xz"
    );
    let out = Command::new("xz")
        .args(["-dc", xz])
        .output()
        .expect("xz (Debian package xz-utils)");
    assert!(out.status.success());
    let disk = out.stdout;
    let report = scan(&disk, &Limits::default());
    let found: Vec<(u64, &str)> = report
        .regions
        .iter()
        .filter(|r| r.format == "ext")
        .map(|r| (r.offset, r.outcome.as_str()))
        .collect();
    // Partitions 2, 3 and 4 start at sectors 6144, 12288 and 16384 (partition 1 is NTFS).
    // The fixture stops 611,392 bytes into the 1 MiB fourth partition.
    assert_eq!(
        found,
        [
            (6144 * 512, "unpacked"),
            (12288 * 512, "unpacked"),
            (
                16384 * 512,
                "failed: truncated: the superblock says 1048576 bytes, the image holds 611392"
            )
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    for (i, (label, tree)) in report.filesystems.iter().enumerate().take(2) {
        let start = [6144usize, 12288][i] * 512;
        let part = dir.path().join(format!("part{i}.img"));
        std::fs::write(&part, &disk[start..]).unwrap();
        let dump = dir.path().join(format!("part{i}"));
        std::fs::create_dir(&dump).unwrap();
        run(
            Command::new("debugfs")
                .arg("-R")
                .arg(format!("rdump / {}", dump.display()))
                .arg(&part),
            "e2fsprogs",
        );
        assert_eq!(in_tree(tree), on_disk(&dump), "{label}");
    }
    // What the truncated ext2 still holds is read: its (empty) lost+found.
    let last: Vec<_> = report.filesystems[2].1.entries.keys().collect();
    assert_eq!(last, [Path::new("lost+found")]);
    assert_eq!(
        report.filesystems[0]
            .1
            .file("yara_test_file")
            .map(<[u8]>::len),
        Some(23)
    );
    assert_eq!(
        report.filesystems[1].1.file("testfile1").map(<[u8]>::len),
        Some(62)
    );
}

fn mkfs_cramfs(dir: &Path, src: &Path, args: &[&str], name: &str) -> Vec<u8> {
    let image = dir.join(name);
    run(
        Command::new("mkfs.cramfs").args(args).arg(src).arg(&image),
        "util-linux (mkfs.cramfs)",
    );
    std::fs::read(image).unwrap()
}

/// What cramfs keeps of the source: 8-bit gids, and no hard links (a second name for the
/// same data is a plain copy).
fn as_cramfs(mut tree: BTreeMap<PathBuf, Record>) -> BTreeMap<PathBuf, Record> {
    for r in tree.values_mut() {
        r.3 &= 0xff;
    }
    tree
}

#[test]
fn cramfs_both_byte_orders_match_the_source_and_fsck_cramfs() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let expected = as_cramfs(on_disk(&src));
    for (name, args) in [
        ("little", &["-N", "little"][..]),
        ("big", &["-N", "big"][..]),
        ("holes", &["-N", "little", "-z"][..]),
        ("padded", &["-N", "big", "-p"][..]),
    ] {
        let image = mkfs_cramfs(dir.path(), &src, args, &format!("{name}.cramfs"));
        // The boot padding of `-p` is left to the walk; the region starts at the superblock.
        let start = if name == "padded" { 512 } else { 0 };
        let tree = scan_both_at(&image, "cramfs", start);
        assert_same(&in_tree(&tree), &expected, name);

        if name == "holes" {
            continue; // fsck.cramfs refuses the holes flag ("unsupported filesystem features")
        }
        let out = dir.path().join(format!("{name}-x"));
        run(
            Command::new("fsck.cramfs")
                .arg(format!("--extract={}", out.display()))
                .arg(dir.path().join(format!("{name}.cramfs"))),
            "util-linux (fsck.cramfs)",
        );
        let mut ours = in_tree(&tree);
        let extracted = on_disk(&out);
        // fsck.cramfs cannot make a fifo it does not own the mode of on every system; compare
        // what it wrote.
        ours.retain(|p, _| extracted.contains_key(p));
        assert_same(&ours, &extracted, &format!("{name} against fsck.cramfs"));
    }
}

#[test]
fn cramfs_damage_is_reported_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = mkfs_cramfs(dir.path(), &src, &["-N", "little"], "damage.cramfs");

    let cut = &image[..image.len() / 2];
    let failed = failures(&scan(cut, &Limits::default()), "cramfs");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("truncated: the superblock says")),
        "{failed:?}"
    );

    let mut flipped = image.clone();
    let last = flipped.len() - 100;
    flipped[last] ^= 0xff;
    let failed = failures(&scan(&flipped, &Limits::default()), "cramfs");
    assert!(
        failed.iter().any(|f| f.contains("CRC mismatch")),
        "{failed:?}"
    );

    for i in 0..400usize {
        let mut bad = image.clone();
        let at = (i * 7919) % 8192.min(bad.len());
        bad[at] ^= 0x5a ^ (i as u8);
        let _ = scan(&bad, &Limits::default());
    }
}

/// binwalk's cramfs fixture: one file, read as fsck.cramfs reads it.
#[test]
fn binwalk_cramfs_fixture() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/firmware-fixtures/binwalk/cramfs.bin"
    );
    let report = scan(&std::fs::read(path).unwrap(), &Limits::default());
    assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
    let tree = &report.filesystems[0].1;
    let release = tree.file("lsb-release").unwrap();
    assert_eq!(release.len(), 104);
    assert!(release.starts_with(b"DISTRIB_ID=Ubuntu\n"));
    let entry = &tree.entries[Path::new("lsb-release")];
    assert_eq!((entry.mode, entry.uid, entry.gid), (0o644, 1000, 232));
}

fn genromfs(dir: &Path, src: &Path, name: &str) -> Vec<u8> {
    let image = dir.join(name);
    run(
        Command::new("genromfs")
            .arg("-d")
            .arg(src)
            .arg("-f")
            .arg(&image)
            .args(["-V", "iotmark"]),
        "genromfs",
    );
    std::fs::read(image).unwrap()
}

/// What romfs keeps: no owners, and modes as Linux shows them (0644 plus x for all when any
/// x bit was set on a file or directory; 0777 for symlinks).
fn as_romfs(mut tree: BTreeMap<PathBuf, Record>) -> BTreeMap<PathBuf, Record> {
    for r in tree.values_mut() {
        r.1 = match r.0.as_str() {
            "symlink" => 0o777,
            "file" | "dir" if r.1 & 0o111 != 0 => 0o755,
            _ => 0o644,
        };
        (r.2, r.3) = (0, 0);
    }
    tree
}

#[test]
fn romfs_matches_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = genromfs(dir.path(), &src, "root.romfs");
    let tree = scan_both(&image, "romfs");
    assert_same(&in_tree(&tree), &as_romfs(on_disk(&src)), "romfs");
}

#[test]
fn romfs_damage_is_reported_and_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    source(&src);
    let image = genromfs(dir.path(), &src, "damage.romfs");

    let cut = &image[..image.len() / 2];
    let failed = failures(&scan(cut, &Limits::default()), "romfs");
    assert!(
        failed
            .iter()
            .any(|f| f.contains("truncated: the superblock says")),
        "{failed:?}"
    );

    let mut bad_sum = image.clone();
    bad_sum[40] ^= 1; // inside the first file header, under the superblock checksum
    let failed = failures(&scan(&bad_sum, &Limits::default()), "romfs");
    assert!(
        failed.iter().any(|f| f.contains("superblock checksum")),
        "{failed:?}"
    );

    for i in 0..400usize {
        let mut bad = image.clone();
        let at = (i * 7919) % 8192.min(bad.len());
        bad[at] ^= 0x5a ^ (i as u8);
        let _ = scan(&bad, &Limits::default());
    }
}

/// binwalk's and fact_extractor's romfs fixtures.
#[test]
fn romfs_fixtures() {
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/firmware-fixtures/"
    );
    let report = scan(
        &std::fs::read(format!("{base}binwalk/romfs.bin")).unwrap(),
        &Limits::default(),
    );
    assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
    let tree = &report.filesystems[0].1;
    assert_eq!(tree.entries.len(), 1);
    assert!(
        tree.file("lsb-release")
            .unwrap()
            .starts_with(b"DISTRIB_ID=Ubuntu\n")
    );

    let report = scan(
        &std::fs::read(format!(
            "{base}fact_extractor/generic_fs/test/data/romfs.img"
        ))
        .unwrap(),
        &Limits::default(),
    );
    assert_eq!(report.filesystems.len(), 1, "{:?}", report.regions);
    let tree = &report.filesystems[0].1;
    assert!(
        tree.file("testfile1")
            .unwrap()
            .starts_with(b"test file:\ncontent: MyTestRule 1.2.3\n"),
        "{tree:?}"
    );
    assert_eq!(
        tree.file("generic folder/test file 3_.txt"),
        Some(&b"The third test file!"[..])
    );
}

/// The seed corpora of the ext_read, cramfs_read and romfs_read fuzz targets run here on
/// stable.
#[test]
fn fuzz_corpora_read_without_panicking() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (target, read) in [
        ("ext_read", iotmark_firmware::fuzz_ext_read as fn(&[u8])),
        ("cramfs_read", iotmark_firmware::fuzz_cramfs_read),
        ("romfs_read", iotmark_firmware::fuzz_romfs_read),
    ] {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus.join(target)).unwrap() {
            read(&std::fs::read(entry.unwrap().path()).unwrap());
            count += 1;
        }
        assert!(count >= 2, "expected the seed corpus of {target}");
    }
}
