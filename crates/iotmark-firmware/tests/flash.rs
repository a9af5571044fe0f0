//! Flash filesystems (JFFS2, UBI, UBIFS), built here with Debian's mtd-utils from a source
//! tree and read back: every path, type, mode, owner, symlink target, size and SHA-256 must
//! equal the source. Real fixtures from fact_extractor must unpack, and damaged images must
//! give a `failed: …` region that says what is wrong, never a panic.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_firmware::tree::{Kind, Tree};
use iotmark_firmware::{Limits, ScanReport, scan};
use sha2::{Digest, Sha256};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/firmware-fixtures/fact_extractor"
);

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (install the Debian package mtd-utils)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One entry as compared: type, permission bits, uid, gid, size, and SHA-256 or link target.
type Row = (String, u32, u32, u32, u64, Option<String>);

fn write(root: &Path, rel: &str, bytes: &[u8], mode: u32) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A small root filesystem that exercises what flash readers get wrong: files of several
/// data nodes (or UBIFS blocks), incompressible data, an empty file, a file whose size is
/// not a multiple of the block, deep directories, odd modes, symlinks (relative, absolute,
/// long) and a hard link.
fn source_tree(root: &Path) {
    let mut noise = Vec::new();
    let mut x = 0x1234_5678u32;
    for _ in 0..30_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    let text: Vec<u8> = (0..2_000)
        .flat_map(|i| format!("line {i}: the quick brown fox\n").into_bytes())
        .collect();
    write(
        root,
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\n",
        0o644,
    );
    write(root, "etc/shadow", b"root:!:19000:0:99999:7:::\n", 0o600);
    write(root, "etc/init.d/rcS", b"#!/bin/sh\nmount -a\n", 0o755);
    write(root, "bin/busybox", &noise, 0o4755);
    write(root, "usr/share/doc/long.txt", &text, 0o644);
    write(root, "usr/share/doc/one-block.txt", &text[..4096], 0o640);
    write(root, "usr/share/doc/block-and-a-bit", &text[..4097], 0o444);
    write(root, "var/empty-file", b"", 0o600);
    write(root, "a/b/c/d/e/f/deep", b"deep\n", 0o700);
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();
    std::fs::create_dir_all(root.join("mnt/empty-dir")).unwrap();
    symlink("busybox", root.join("bin/sh")).unwrap();
    symlink("/bin/busybox", root.join("bin/ls")).unwrap();
    symlink("../../".repeat(40) + "target", root.join("bin/long-link")).unwrap();
    std::fs::hard_link(root.join("etc/passwd"), root.join("etc/passwd.hardlink")).unwrap();
}

/// The source tree as rows; `owner` gives the uid/gid an image records for each path.
fn expected(root: &Path, owner: &dyn Fn(&Path, u32, u32) -> (u32, u32)) -> BTreeMap<PathBuf, Row> {
    fn walk(
        base: &Path,
        dir: &Path,
        owner: &dyn Fn(&Path, u32, u32) -> (u32, u32),
        out: &mut BTreeMap<PathBuf, Row>,
    ) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(base).unwrap().to_path_buf();
            let (uid, gid) = owner(&rel, meta.uid(), meta.gid());
            let mode = meta.permissions().mode() & 0o7777;
            let row = if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap().display().to_string();
                ("symlink".into(), mode, uid, gid, 0, Some(target))
            } else if meta.is_dir() {
                walk(base, &path, owner, out);
                ("dir".into(), mode, uid, gid, 0, None)
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let size = bytes.len() as u64;
                ("file".into(), mode, uid, gid, size, Some(sha(&bytes)))
            };
            out.insert(rel, row);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, owner, &mut out);
    out
}

fn rows(tree: &Tree) -> BTreeMap<PathBuf, Row> {
    tree.entries
        .iter()
        .map(|(path, e)| {
            let (kind, extra) = match &e.kind {
                Kind::File(_) => ("file".to_owned(), e.sha256()),
                Kind::Dir => ("dir".to_owned(), None),
                Kind::Symlink(t) => ("symlink".to_owned(), Some(t.display().to_string())),
                Kind::Special(k) => ((*k).to_owned(), None),
            };
            let mode = if kind == "symlink" {
                0o777
            } else {
                u32::from(e.mode)
            };
            (path.clone(), (kind, mode, e.uid, e.gid, e.size(), extra))
        })
        .collect()
}

/// A device table (as mkfs.jffs2 and mkfs.ubifs read it with `-D`): device nodes no
/// unprivileged build could make, and owners changed on two files.
const DEVTABLE: &str = "\
/dev d 755 0 0 - - - - -
/dev/console c 600 0 5 5 1 - - -
/dev/mtdblock b 640 0 6 31 0 0 1 2
/etc/shadow f 600 0 42 - - - - -
/usr/share/doc/long.txt f 644 1000 100 - - - - -
";

/// The rows a source tree built with [`DEVTABLE`] must give.
fn expected_with_devtable(src: &Path) -> BTreeMap<PathBuf, Row> {
    let mut want = expected(src, &|rel, uid, gid| match rel.to_str() {
        Some("etc/shadow") => (0, 42),
        Some("usr/share/doc/long.txt") => (1000, 100),
        _ => (uid, gid),
    });
    for (path, kind, mode, gid) in [
        ("dev", "dir", 0o755, 0),
        ("dev/console", "character device", 0o600, 5),
        ("dev/mtdblock0", "block device", 0o640, 6),
        ("dev/mtdblock1", "block device", 0o640, 6),
    ] {
        want.insert(path.into(), (kind.into(), mode, 0, gid, 0, None));
    }
    want
}

/// The one filesystem a report holds, with its regions printed on failure.
fn only_tree(report: &ScanReport) -> &Tree {
    assert_eq!(report.filesystems.len(), 1, "{:#?}", report.regions);
    &report.filesystems[0].1
}

fn jffs2_image(dir: &Path, src: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let out = dir.join(name);
    run(Command::new("mkfs.jffs2")
        .arg("-r")
        .arg(src)
        .arg("-o")
        .arg(&out)
        .args(args));
    std::fs::read(out).unwrap()
}

/// Both byte orders, each compression mkfs.jffs2 offers, with and without padding to the
/// erase block, and 4 KiB and 16 KiB data nodes: the tree equals the source.
#[test]
fn jffs2_images_match_the_source_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let devtable = dir.path().join("devtable");
    std::fs::write(&devtable, DEVTABLE).unwrap();
    let want = expected_with_devtable(&src);
    for (name, args) in [
        ("le-zlib", &["-l"][..]),
        ("be-zlib", &["-b"][..]),
        ("le-none", &["-l", "-x", "zlib", "-x", "rtime"][..]),
        ("be-rtime", &["-b", "-x", "zlib"][..]),
        (
            "le-lzo",
            &["-l", "-X", "lzo", "-x", "zlib", "-x", "rtime"][..],
        ),
        ("le-pad", &["-l", "--pad", "-e", "0x10000"][..]),
        ("be-16k", &["-b", "-s", "16384", "-e", "0x20000", "-n"][..]),
    ] {
        let mut args = args.to_vec();
        args.extend(["-D", devtable.to_str().unwrap()]);
        let image = jffs2_image(dir.path(), &src, name, &args);
        let report = scan(&image, &Limits::default());
        let region = &report.regions[0];
        assert!(
            region.format.starts_with("jffs2"),
            "{name}: {:?}",
            report.regions
        );
        assert_eq!(region.outcome, "unpacked", "{name}: {:?}", report.regions);
        assert_eq!(
            region.size,
            image.len() as u64,
            "{name}: claims the whole image"
        );
        assert_eq!(rows(only_tree(&report)), want, "{name}");
    }
}

/// fact_extractor's JFFS2 fixtures, one per byte order: the same four entries, unpacked
/// with every CRC matching, contents as the fixture's own test expects.
#[test]
fn jffs2_fixtures_unpack() {
    let want: BTreeMap<&str, &[u8]> = [
        (
            "testfile1",
            &b"test file:\ncontent: MyTestRule 1.2.3\nVersion: Program 0.0.0.0\n"[..],
        ),
        ("testfile2", b"This is the second test file"),
        ("generic folder/test file 3_.txt", b"The third test file!"),
    ]
    .into();
    for (name, format) in [
        ("jffs2_le.img", "jffs2"),
        ("jffs2_be.img", "jffs2 (big-endian)"),
    ] {
        let image = std::fs::read(format!("{FIXTURES}/jffs2/test/data/{name}")).unwrap();
        let report = scan(&image, &Limits::default());
        assert_eq!(report.regions.len(), 1, "{name}: {:?}", report.regions);
        assert_eq!(report.regions[0].format, format);
        assert_eq!(report.regions[0].outcome, "unpacked");
        let tree = only_tree(&report);
        let files: BTreeMap<&str, &[u8]> = tree
            .files()
            .map(|(p, b)| (p.to_str().unwrap(), b))
            .collect();
        assert_eq!(files, want, "{name}");
        assert_eq!(tree.entries[Path::new("generic folder")].kind, Kind::Dir);
        assert_eq!(tree.entries.len(), 4);
    }
}

/// Linux's `crc32(0, …)` as JFFS2 stores it.
fn jffs2_crc(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new_with_initial(u32::MAX);
    h.update(bytes);
    !h.finalize()
}

/// A little-endian JFFS2 node of `nodetype` with `body` after the header and `crc_at` the
/// offsets of (CRC field, bytes covered from the node start) to fill in, padded to 4 bytes.
fn jffs2_node(nodetype: u16, body: &[u8], crcs: &[(usize, std::ops::Range<usize>)]) -> Vec<u8> {
    let mut n = Vec::new();
    n.extend(0x1985u16.to_le_bytes());
    n.extend(nodetype.to_le_bytes());
    n.extend((12 + body.len() as u32).to_le_bytes());
    n.extend(jffs2_crc(&n[..8]).to_le_bytes());
    n.extend(body);
    for (at, range) in crcs {
        let c = jffs2_crc(&n[range.clone()]);
        n[*at..*at + 4].copy_from_slice(&c.to_le_bytes());
    }
    while n.len() % 4 != 0 {
        n.push(0xff);
    }
    n
}

fn jffs2_dirent(pino: u32, version: u32, ino: u32, name: &str, dtype: u8) -> Vec<u8> {
    let mut b = Vec::new();
    for x in [pino, version, ino, 0] {
        b.extend(x.to_le_bytes());
    }
    b.extend([name.len() as u8, dtype, 0, 0]);
    b.extend([0; 8]); // node and name CRCs
    b.extend(name.as_bytes());
    let end = 40 + name.len();
    jffs2_node(0xe001, &b, &[(32, 0..32), (36, 40..end)])
}

/// An inode node carrying `data` uncompressed at `offset`.
fn jffs2_inode(
    nodetype: u16,
    ino: u32,
    version: u32,
    isize: u32,
    offset: u32,
    data: &[u8],
) -> Vec<u8> {
    jffs2_data(
        nodetype,
        ino,
        version,
        isize,
        offset,
        data,
        data.len() as u32,
        0,
    )
}

/// An inode node carrying `data` compressed with `compr` to `dsize` bytes at `offset`.
#[allow(clippy::too_many_arguments)]
fn jffs2_data(
    nodetype: u16,
    ino: u32,
    version: u32,
    isize: u32,
    offset: u32,
    data: &[u8],
    dsize: u32,
    compr: u8,
) -> Vec<u8> {
    let mut b = Vec::new();
    for x in [ino, version, 0o100644] {
        b.extend(x.to_le_bytes());
    }
    b.extend(7u16.to_le_bytes()); // uid
    b.extend(8u16.to_le_bytes()); // gid
    for x in [isize, 0, 0, 0, offset, data.len() as u32, dsize] {
        b.extend(x.to_le_bytes());
    }
    b.extend([compr, 0, 0, 0]); // compression, user compression, flags
    b.extend([0; 8]); // data and node CRCs
    b.extend(data);
    let end = 68 + data.len();
    jffs2_node(nodetype, &b, &[(60, 68..end), (64, 0..60)])
}

/// The log as Linux reads it: the newest version wins whatever its place in the log, a
/// dirent to inode 0 deletes a name (a rename is a delete plus a new name), writes past the
/// end leave zero holes, the newest size truncates, and obsolete nodes are ignored.
#[test]
fn jffs2_newest_versions_win_and_deletions_apply() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let mut image = jffs2_image(dir.path(), &src, "base", &["-l"]);
    let ino = 5000;
    for node in [
        jffs2_dirent(1, 9000, 0, "tmp", 4), // rm -r /tmp
        jffs2_dirent(1, 1, ino, "new", 8),
        jffs2_inode(0xe002, ino, 1, 11, 0, b"hello world"),
        jffs2_inode(0xe002, ino, 3, 21, 20, b"x"),
        jffs2_inode(0xe002, ino, 2, 11, 6, b"WORLD"), // older than the one before it
        jffs2_inode(0xe002, ino, 4, 16, 0, b""),      // truncate to 16 bytes
        jffs2_inode(0xc002, ino, 5, 16, 0, b"OBSOLETE"),
        jffs2_dirent(1, 2, 0, "new", 8),
        jffs2_dirent(1, 3, ino, "renamed", 8),
    ] {
        image.extend(node);
    }
    let report = scan(&image, &Limits::default());
    assert_eq!(
        report.regions[0].outcome, "unpacked",
        "{:?}",
        report.regions
    );
    let tree = only_tree(&report);
    assert_eq!(tree.file("renamed"), Some(&b"hello WORLD\0\0\0\0\0"[..]));
    assert_eq!(
        (
            tree.entries[Path::new("renamed")].uid,
            tree.entries[Path::new("renamed")].gid
        ),
        (7, 8)
    );
    assert!(!tree.entries.contains_key(Path::new("new")));
    assert!(!tree.entries.contains_key(Path::new("tmp")));
    assert!(tree.entries.contains_key(Path::new("etc/passwd")));
}

/// OpenWrt's kernels add LZMA to JFFS2 (mtd-utils here cannot write it): raw LZMA1 with
/// lc=0, lp=0, pb=0 and an 8 KiB dictionary, which the reader must decode.
#[test]
fn jffs2_lzma_nodes() {
    let text: Vec<u8> = (0..1000)
        .flat_map(|i| format!("{i} lzma ").into_bytes())
        .take(4096)
        .collect();
    let mut opts = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
    opts.literal_context_bits(0)
        .literal_position_bits(0)
        .position_bits(0)
        .dict_size(0x2000);
    let mut enc = liblzma::stream::Stream::new_lzma_encoder(&opts).unwrap();
    let mut alone = Vec::with_capacity(8192);
    enc.process_vec(&text, &mut alone, liblzma::stream::Action::Finish)
        .unwrap();
    let raw = &alone[13..]; // the .lzma header is not stored in the node
    let mut image = jffs2_dirent(1, 1, 2, "f", 8);
    image.extend(jffs2_data(0xe002, 2, 1, 4096, 0, raw, 4096, 8));
    let report = scan(&image, &Limits::default());
    assert_eq!(
        report.regions[0].outcome, "unpacked",
        "{:?}",
        report.regions
    );
    assert_eq!(only_tree(&report).file("f"), Some(&text[..]));
}

/// A truncated image keeps what was read and says it was truncated; a flipped byte is
/// caught by a CRC and named with its offset; noise with stray magics is not a filesystem.
#[test]
fn damaged_jffs2_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let image = jffs2_image(dir.path(), &src, "img", &["-b"]);

    let cut = &image[..image.len() * 2 / 3];
    let report = scan(cut, &Limits::default());
    let outcome = &report.regions[0].outcome;
    assert!(
        outcome.starts_with("failed: ") && outcome.contains("truncated"),
        "{outcome}"
    );
    assert!(!only_tree(&report).entries.is_empty());

    // Every single flipped byte in the first few kilobytes: reported, never trusted, no panic.
    for at in (0..image.len().min(6000)).step_by(7) {
        let mut bad = image.clone();
        bad[at] ^= 0x40;
        let report = scan(&bad, &Limits::default());
        let Some(r) = report
            .regions
            .iter()
            .find(|r| r.format.starts_with("jffs2"))
        else {
            continue; // the very first header was hit: no longer a JFFS2 signature there
        };
        if r.offset == 0 {
            assert!(
                r.outcome.starts_with("failed: ") && r.outcome.contains("offset"),
                "byte {at}: {}",
                r.outcome
            );
        }
    }

    let mut noise: Vec<u8> = (0..100_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for at in (0..noise.len()).step_by(997) {
        noise[at..at + 2].copy_from_slice(&[0x85, 0x19]);
    }
    let report = scan(&noise, &Limits::default());
    assert!(report.filesystems.is_empty(), "{:?}", report.regions);
}

/// The flash fuzz targets' seed corpora (`fuzz/corpus/<target>/`) run here on stable. Each
/// whole seed must also unpack in a real scan, so the seeds keep reaching deep code.
#[test]
fn flash_fuzz_corpora_read_without_panicking() {
    type Reader = fn(&[u8]);
    let targets: [(&str, Reader); 3] = [
        ("jffs2_read", iotmark_firmware::fuzz_jffs2_read),
        ("ubi_read", iotmark_firmware::fuzz_ubi_read),
        ("ubifs_read", iotmark_firmware::fuzz_ubifs_read),
    ];
    for (target, read) in targets {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.len() < 64 << 10, "seeds stay small");
            read(&bytes);
            if !path.to_string_lossy().contains("truncated") {
                let report = scan(&bytes, &Limits::default());
                assert!(
                    !report.filesystems.is_empty()
                        && report
                            .regions
                            .iter()
                            .all(|r| !r.outcome.starts_with("failed")),
                    "{}: {:?}",
                    path.display(),
                    report.regions
                );
            }
            // Every prefix of it, too, through the whole scan.
            for cut in (0..bytes.len()).step_by(61) {
                iotmark_firmware::fuzz_scan(&bytes[..cut]);
            }
            count += 1;
        }
        assert!(count >= 3, "expected the seed corpus in {}", dir.display());
    }
}

/// UBI's CRC as its headers store it.
fn ubi_crc(bytes: &[u8]) -> u32 {
    !crc32fast::hash(bytes)
}

/// A ustar archive of one file, made by GNU tar.
fn tar_of(dir: &Path, name: &str, text: &str) -> Vec<u8> {
    let src = dir.join(format!("{name}.d"));
    write(&src, "config.txt", text.as_bytes(), 0o644);
    let out = dir.join(format!("{name}.tar"));
    run(Command::new("tar")
        .args(["--format=ustar", "-cf"])
        .arg(&out)
        .arg("-C")
        .arg(&src)
        .arg("config.txt"));
    std::fs::read(out).unwrap()
}

/// A UBI image as ubinize makes it for 2 KiB-page NAND with 128 KiB erase blocks, with a
/// dynamic UBIFS volume, a static SquashFS volume and a dynamic volume holding a tar.
fn ubi_image(dir: &Path, src: &Path, ubifs: &Path) -> Vec<u8> {
    let sqfs = dir.join("root.sqfs");
    run(Command::new("mksquashfs").arg(src).arg(&sqfs).args([
        "-comp",
        "gzip",
        "-noappend",
        "-quiet",
    ]));
    std::fs::write(dir.join("data.tar"), tar_of(dir, "old", "generation 1\n")).unwrap();
    let cfg = dir.join("ubinize.ini");
    std::fs::write(
        &cfg,
        format!(
            "[rootfs]\nmode=ubi\nimage={}\nvol_id=0\nvol_type=dynamic\nvol_name=rootfs\n\
             [ro]\nmode=ubi\nimage={}\nvol_id=1\nvol_type=static\nvol_name=ro-squash\n\
             [data]\nmode=ubi\nimage={}\nvol_id=2\nvol_type=dynamic\nvol_name=data\nvol_size=1MiB\n",
            ubifs.display(),
            sqfs.display(),
            dir.join("data.tar").display()
        ),
    )
    .unwrap();
    let img = dir.join("ubi.img");
    run(Command::new("ubinize")
        .arg("-o")
        .arg(&img)
        .args(["-m", "2048", "-p", "128KiB"])
        .arg(&cfg));
    std::fs::read(img).unwrap()
}

fn ubifs_image(dir: &Path, src: &Path, name: &str, compr: &str, devtable: &Path) -> PathBuf {
    let out = dir.join(name);
    run(Command::new("mkfs.ubifs")
        .arg("-r")
        .arg(src)
        .args([
            "-m", "2048", "-e", "129024", "-c", "2047", "-x", compr, "-D",
        ])
        .arg(devtable)
        .arg("-o")
        .arg(&out));
    out
}

/// Three volumes come out of a ubinize image with their names; the UBIFS in the dynamic
/// volume and the SquashFS in the static one unpack to the source tree; where a LEB has two copies the newer one (by sequence
/// number, not by place) wins.
#[test]
fn ubi_volumes_are_reassembled_and_searched() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let devtable = dir.path().join("devtable");
    std::fs::write(&devtable, DEVTABLE).unwrap();
    let ubifs = ubifs_image(dir.path(), &src, "root.ubifs", "lzo", &devtable);
    let mut image = ubi_image(dir.path(), &src, &ubifs);

    // Two more copies of the data volume's LEB 0: the newer first, a stale one after it.
    let peb = 128 << 10;
    let data_leb = (0..image.len() / peb)
        .map(|i| i * peb)
        .find(|&at| image[at + 2048 + 8..at + 2048 + 16] == [0, 0, 0, 2, 0, 0, 0, 0])
        .unwrap();
    let sqnum = u64::from_be_bytes(image[data_leb + 2048 + 40..][..8].try_into().unwrap());
    for (text, bump) in [("generation 3\n", 2), ("generation 2\n", 1)] {
        let mut copy = image[data_leb..data_leb + peb].to_vec();
        copy[2048 + 40..2048 + 48].copy_from_slice(&(sqnum + bump).to_be_bytes());
        let c = ubi_crc(&copy[2048..2048 + 60]);
        copy[2048 + 60..2048 + 64].copy_from_slice(&c.to_be_bytes());
        let tar = tar_of(dir.path(), &format!("gen{bump}"), text);
        copy[4096..].fill(0xff);
        copy[4096..4096 + tar.len()].copy_from_slice(&tar);
        image.extend(copy);
    }

    let report = scan(&image, &Limits::default());
    let ubi = &report.regions[0];
    assert_eq!(ubi.format, "ubi");
    assert_eq!(ubi.size, image.len() as u64);
    assert!(
        ubi.outcome
            .starts_with("unpacked (131072-byte PEBs, 3 volumes: ")
            && ubi.outcome.contains("0 \"rootfs\"")
            && ubi.outcome.contains("1 \"ro-squash\"")
            && ubi.outcome.contains("2 \"data\""),
        "{}",
        ubi.outcome
    );
    let fs = |label: &str| {
        report
            .filesystems
            .iter()
            .find(|(l, _)| l.contains(label))
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("no {label}: {:#?}", report.regions))
    };
    let squash = fs("volume 1 \"ro-squash\" > squashfs@0");
    assert_eq!(
        squash.file("usr/share/doc/long.txt"),
        Some(&std::fs::read(src.join("usr/share/doc/long.txt")).unwrap()[..])
    );
    assert!(squash.entries.len() > 15);
    let rootfs = fs("volume 0 \"rootfs\" > ubifs@0");
    assert_eq!(rows(rootfs), expected_with_devtable(&src));
    let data = fs("volume 2 \"data\" > tar@0");
    assert_eq!(data.file("config.txt"), Some(&b"generation 3\n"[..]));
}

/// A truncated UBI image says so and still yields the volumes it has; a corrupt header
/// is named by offset; neither panics.
#[test]
fn damaged_ubi_is_reported_not_trusted() {
    let image = std::fs::read(format!("{FIXTURES}/ubi/test/data/ubi.img")).unwrap();
    let cut = &image[..image.len() / 2 + 100];
    let report = scan(cut, &Limits::default());
    let ubi = &report.regions[0];
    assert!(
        ubi.outcome.starts_with("failed: ") && ubi.outcome.contains("truncated"),
        "{}",
        ubi.outcome
    );
    let mut bad = image.clone();
    bad[5 * 1024 + 64 + 13] ^= 1; // PEB 5's volume header: lnum
    let report = scan(&bad, &Limits::default());
    let ubi = &report.regions[0];
    assert!(
        ubi.outcome
            .contains("PEB at offset 5120: volume header CRC mismatch"),
        "{}",
        ubi.outcome
    );
    // The static volume now misses a LEB: it is reported, not filled in silently.
    assert!(ubi.outcome.contains("misses LEB 3"), "{}", ubi.outcome);
    // An erased PEB right after the first: the PEB size is still found, nothing is lost.
    let mut erased = image.clone();
    erased[1024..2048].fill(0xff);
    let report = scan(&erased, &Limits::default());
    assert!(
        report.regions[0]
            .outcome
            .starts_with("unpacked (1024-byte PEBs, 1 volumes: 1 \"rootfs\" 1703936 bytes)"),
        "{:?}",
        report.regions[0]
    );
    assert_eq!(report.filesystems[0].1.entries.len(), 4);
    for at in (0..4096).step_by(5) {
        let mut bad = image[..64 << 10].to_vec();
        bad[at] ^= 0x10;
        let _ = scan(&bad, &Limits::default());
    }
}

/// fact_extractor's UBIFS fixture, bare and inside its UBI image (a static volume): the
/// same four entries as its JFFS2 twin, with the contents its own test expects.
#[test]
fn ubifs_fixtures_unpack() {
    for (name, label) in [
        ("test.ubifs", "image > ubifs@0"),
        ("ubi.img", "image > ubi@0 > volume 1 \"rootfs\" > ubifs@0"),
    ] {
        let image = std::fs::read(format!("{FIXTURES}/ubi/test/data/{name}")).unwrap();
        let report = scan(&image, &Limits::default());
        assert!(
            report
                .regions
                .iter()
                .all(|r| r.outcome.starts_with("unpacked")),
            "{name}: {:#?}",
            report.regions
        );
        assert_eq!(report.filesystems.len(), 1, "{name}");
        assert_eq!(report.filesystems[0].0, label);
        let tree = &report.filesystems[0].1;
        assert_eq!(
            tree.file("generic folder/test file 3_.txt"),
            Some(&b"The third test file!"[..])
        );
        assert_eq!(
            tree.file("testfile2"),
            Some(&b"This is the second test file"[..])
        );
        assert_eq!(
            tree.file("testfile1"),
            Some(&b"test file:\ncontent: MyTestRule 1.2.3\nVersion: Program 0.0.0.0\n"[..])
        );
        assert_eq!(tree.entries.len(), 4);
        assert_eq!(tree.entries[Path::new("generic folder")].mode, 0o755);
    }
}

/// Bare UBIFS images from mkfs.ubifs in every compression it offers (zlib is raw deflate,
/// favor_lzo mixes LZO and zlib per block): the tree equals the source.
#[test]
fn ubifs_images_match_the_source_tree() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let devtable = dir.path().join("devtable");
    std::fs::write(&devtable, DEVTABLE).unwrap();
    let want = expected_with_devtable(&src);
    for compr in ["lzo", "zlib", "none", "zstd", "favor_lzo"] {
        let image = ubifs_image(
            dir.path(),
            &src,
            &format!("{compr}.ubifs"),
            compr,
            &devtable,
        );
        let image = std::fs::read(image).unwrap();
        let report = scan(&image, &Limits::default());
        let region = &report.regions[0];
        assert_eq!(region.format, "ubifs", "{compr}: {:?}", report.regions);
        assert_eq!(region.outcome, "unpacked", "{compr}: {:?}", report.regions);
        assert_eq!(region.size, image.len() as u64);
        assert_eq!(rows(only_tree(&report)), want, "{compr}");
    }
}

/// A truncated UBIFS keeps what it could read and says it was truncated; a flipped byte in
/// a node is caught by its CRC and named by LEB and offset; nothing panics.
#[test]
fn damaged_ubifs_is_reported_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let devtable = dir.path().join("devtable");
    std::fs::write(&devtable, DEVTABLE).unwrap();
    let image = std::fs::read(ubifs_image(dir.path(), &src, "x.ubifs", "zlib", &devtable)).unwrap();
    let leb = 129024;

    let cut = &image[..image.len() / 2];
    let report = scan(cut, &Limits::default());
    let r = &report.regions[0];
    assert!(
        r.format == "ubifs" && r.outcome.starts_with("failed: ") && r.outcome.contains("truncated"),
        "{:?}",
        report.regions
    );

    // Flip one byte inside every node of the main area in turn (8-byte steps).
    let main = 8 * leb; // past the superblock, master, log, LPT and orphan LEBs
    let mut caught = 0;
    for at in (main..image.len()).step_by(16_411) {
        let mut bad = image.clone();
        bad[at] ^= 0x01;
        let report = scan(&bad, &Limits::default());
        let r = &report.regions[0];
        if r.outcome.contains("CRC mismatch") {
            assert!(
                r.outcome.contains("LEB ") && r.outcome.contains(" offset "),
                "{}",
                r.outcome
            );
            caught += 1;
        }
    }
    assert!(caught > 0, "no flipped byte was caught");

    // The superblock and master areas, byte by byte in steps: never a panic.
    for at in (0..3 * leb).step_by(4_999) {
        let mut bad = image.clone();
        bad[at] ^= 0x80;
        let _ = scan(&bad, &Limits::default());
    }
}

/// A whole flash dump: a vendor header, a big-endian JFFS2 padded to its erase block, and
/// the UBI fixture right after it. Both are found at their offsets, nothing is merged.
#[test]
fn flash_dump_with_jffs2_then_ubi_at_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("root");
    source_tree(&src);
    let jffs2 = jffs2_image(dir.path(), &src, "j", &["-b", "--pad", "-e", "0x10000"]);
    let ubi = std::fs::read(format!("{FIXTURES}/ubi/test/data/ubi.img")).unwrap();
    let mut dump = b"VENDOR".repeat(130);
    let jffs2_at = dump.len();
    dump.extend(&jffs2);
    let ubi_at = dump.len();
    dump.extend(&ubi);
    let report = scan(&dump, &Limits::default());
    let top: Vec<_> = report
        .regions
        .iter()
        .filter(|r| r.within == "image")
        .collect();
    let find = |format: &str| {
        top.iter()
            .find(|r| r.format == format)
            .unwrap_or_else(|| panic!("no {format}: {top:#?}"))
    };
    let j = find("jffs2 (big-endian)");
    assert_eq!((j.offset, j.size), (jffs2_at as u64, jffs2.len() as u64));
    assert_eq!(j.outcome, "unpacked");
    let u = find("ubi");
    assert_eq!((u.offset, u.size), (ubi_at as u64, ubi.len() as u64));
    assert!(u.outcome.starts_with("unpacked"), "{}", u.outcome);
    assert_eq!(report.filesystems.len(), 2, "{:#?}", report.regions);
    assert_eq!(
        report.filesystems[1].0,
        format!("image > ubi@{ubi_at} > volume 1 \"rootfs\" > ubifs@0")
    );
}
