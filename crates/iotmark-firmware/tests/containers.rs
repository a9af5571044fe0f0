//! Compressed streams, packages and vendor containers, built here with the real tools
//! (xz, zstd, lz4, lzop, bzip2, gzip, dpkg-deb, ar, mkimage, openssl) and embedded after
//! junk at odd offsets: the scan must find each one, say where it ends, and unpack the
//! payload's files with the same SHA-256 as the source. Bombs are cut at the limit and
//! truncated streams reported as failed regions, never skipped.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use iotmark_firmware::unpack::Region;
use iotmark_firmware::{Limits, ScanReport, scan};
use sha2::{Digest, Sha256};

/// Runs a tool, failing with the Debian package to install when it is missing.
fn run(cmd: &mut Command, package: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (install the Debian package {package})")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Pipes `input` through a tool and returns its output.
fn filter(args: &[&str], package: &str, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (install the Debian package {package})",
                args[0]
            )
        });
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic junk that no signature matches by accident.
fn junk(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// A small tree of files: text that compresses (so every decoder's matches are exercised),
/// a binary blob, and a file big enough to span several blocks of each format.
fn payload_dir(root: &Path) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut put = |rel: &str, bytes: Vec<u8>| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        files.insert(rel.to_owned(), sha(&bytes));
    };
    put(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/:/bin/false\n".to_vec(),
    );
    put("etc/banner", b"Welcome to the device\n".to_vec());
    let log: String = (0..40_000)
        .map(|i| format!("line {i}: value={} state={}\n", i * 7919 % 1000, i % 13))
        .collect();
    put("var/log/boot.log", log.into_bytes());
    put("usr/lib/blob.bin", junk(70_000, 7));
    files
}

/// The regular files of every unpacked filesystem whose label contains `label`, by path.
fn files_under(report: &ScanReport, label: &str) -> BTreeMap<String, String> {
    report
        .filesystems
        .iter()
        .filter(|(l, _)| l.contains(label))
        .flat_map(|(_, tree)| {
            tree.files()
                .map(|(p, d)| (p.display().to_string(), sha(d)))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn find<'a>(report: &'a ScanReport, format: &str) -> Vec<&'a Region> {
    report
        .regions
        .iter()
        .filter(|r| r.format == format)
        .collect()
}

fn tar_of(dir: &Path) -> Vec<u8> {
    run(
        Command::new("tar")
            .args(["--format=gnu", "-cf", "-", "-C"])
            .arg(dir)
            .arg("."),
        "tar",
    )
}

fn cpio_of(dir: &Path) -> Vec<u8> {
    let list = run(Command::new("find").arg(".").current_dir(dir), "findutils");
    let mut child = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cpio (install the Debian package cpio)");
    child.stdin.take().unwrap().write_all(&list).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

fn squashfs_of(dir: &Path, image: &Path) -> Vec<u8> {
    run(
        Command::new("mksquashfs").arg(dir).arg(image).args([
            "-noappend",
            "-quiet",
            "-no-progress",
            "-all-root",
        ]),
        "squashfs-tools",
    );
    std::fs::read(image).unwrap()
}

/// Every compressor, as its own tool writes it, around tar, cpio and SquashFS payloads,
/// 1001 bytes into junk: the region starts at the stream, the payload's files come out
/// with their SHA-256, and the walk goes on after the stream (a second copy is found too).
#[test]
fn every_stream_format_unpacks_at_an_odd_offset() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("payload");
    let expected = payload_dir(&root);
    let tar = tar_of(&root);
    let cpio = cpio_of(&root);
    let sqfs = squashfs_of(&root, &dir.path().join("p.sqfs"));
    // (region format, command, Debian package, payload format, payload)
    type Case<'a> = (&'a str, &'a [&'a str], &'a str, &'a str, &'a [u8]);
    let cases: &[Case<'_>] = &[
        ("gzip", &["gzip", "-c"], "gzip", "tar", &tar),
        ("gzip", &["gzip", "-9", "-c"], "gzip", "cpio", &cpio),
        ("xz", &["xz", "-c"], "xz-utils", "tar", &tar),
        (
            "xz",
            &["xz", "-c", "--check=sha256"],
            "xz-utils",
            "squashfs",
            &sqfs,
        ),
        (
            "lzma",
            &["xz", "--format=lzma", "-c"],
            "xz-utils",
            "tar",
            &tar,
        ),
        ("zstd", &["zstd", "-q", "-c"], "zstd", "tar", &tar),
        ("zstd", &["zstd", "-q", "-19", "-c"], "zstd", "cpio", &cpio),
        ("lz4", &["lz4", "-q", "-c"], "lz4", "tar", &tar),
        // Linked 64 KiB blocks with checksums: matches reach into the previous block.
        (
            "lz4",
            &["lz4", "-q", "-BD", "-B4", "--content-size", "-BX", "-c"],
            "lz4",
            "cpio",
            &cpio,
        ),
        (
            "lz4-legacy",
            &["lz4", "-q", "-l", "-c"],
            "lz4",
            "cpio",
            &cpio,
        ),
        ("lzop", &["lzop", "-c"], "lzop", "tar", &tar),
        ("lzop", &["lzop", "-9", "-c"], "lzop", "squashfs", &sqfs),
        ("bzip2", &["bzip2", "-c"], "bzip2", "tar", &tar),
    ];
    for &(format, args, package, inner, payload) in cases {
        let stream = filter(args, package, payload);
        let mut image = junk(1001, 1);
        image.extend_from_slice(&stream);
        image.extend_from_slice(&junk(777, 2));
        image.extend_from_slice(&stream);
        image.extend_from_slice(&junk(333, 3));
        let report = scan(&image, &Limits::default());
        let regions = find(&report, format);
        let context = format!("{args:?} around {inner}: {:#?}", report.regions);
        assert_eq!(regions.len(), 2, "{context}");
        assert_eq!(regions[0].offset, 1001, "{context}");
        assert_eq!(regions[0].size, stream.len() as u64, "{context}");
        assert_eq!(
            regions[1].offset,
            1001 + stream.len() as u64 + 777,
            "{context}"
        );
        assert!(regions[0].outcome.starts_with("unpacked"), "{context}");
        let label = format!("image > {format}@1001 > {inner}@0");
        let got = files_under(&report, &label);
        assert_eq!(got, expected, "{context}");
    }
}

/// Linux kernels compressed every way the kernel supports (fact_extractor's bzImage
/// fixtures): the compressed payload inside each is found and decompresses completely.
#[test]
fn kernel_payloads_in_every_compression_are_found() {
    let base = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/firmware-fixtures/fact_extractor/linuxkernel/test/data/"
    );
    for (file, format) in [
        ("bzImage_gzip", "gzip"),
        ("bzImage_xz", "xz"),
        ("bzImage_lzma", "lzma"),
        ("bzImage_bzip2", "bzip2"),
        ("bzImage_lz4", "lz4-legacy"),
        ("bzImage_lzo", "lzop"),
    ] {
        let image = std::fs::read(format!("{base}{file}")).unwrap();
        let report = scan(&image, &Limits::default());
        assert!(
            find(&report, format)
                .iter()
                .any(|r| r.within == "image" && r.outcome.starts_with("unpacked")),
            "{file}: {:#?}",
            report.regions
        );
    }
}

/// A bomb in every stream format, made by the real tools: a small tar, then 16 MiB of
/// zeros. With a 1 MiB stream limit each is cut at the limit while it decompresses and
/// reported as cut there (not as a failure, nor as unrecognised bytes); what came before
/// the cut is still searched, so the tar's file is found; and the walk still finds the
/// file that follows the bomb.
#[test]
fn decompression_bombs_are_cut_at_the_limit_and_what_came_before_is_searched() {
    let limits = Limits {
        max_file_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut payload = tar_of_one("first.txt", b"before the cut\n");
    payload.resize(payload.len() + (16 << 20), 0);
    let follower = filter(
        &["gzip", "-c"],
        "gzip",
        &tar_of_one("after.txt", b"still found\n"),
    );
    for (format, args, package) in [
        ("gzip", &["gzip", "-c"][..], "gzip"),
        ("xz", &["xz", "-c", "-0", "-T1"], "xz-utils"),
        ("lzma", &["xz", "--format=lzma", "-c", "-0"], "xz-utils"),
        ("zstd", &["zstd", "-q", "-c"], "zstd"),
        ("lz4", &["lz4", "-q", "-B4", "-c"], "lz4"),
        ("lzop", &["lzop", "-c"], "lzop"),
        ("bzip2", &["bzip2", "-c"], "bzip2"),
    ] {
        let mut image = junk(333, 4);
        image.extend_from_slice(&filter(args, package, &payload));
        image.extend_from_slice(&follower);
        let report = scan(&image, &limits);
        let bomb = report
            .regions
            .iter()
            .find(|r| r.format == format && r.within == "image" && r.offset == 333)
            .unwrap_or_else(|| panic!("{format}: {:#?}", report.regions));
        assert_eq!(
            bomb.outcome, "cut at the 1 MiB stream limit: kept the first 1048576 bytes",
            "{format}"
        );
        assert_eq!(
            files_under(&report, &format!("{format}@333")).get("first.txt"),
            Some(&sha(b"before the cut\n")),
            "{format}: {:#?}",
            report.regions
        );
        assert_eq!(
            files_under(&report, "gzip@").get("after.txt"),
            Some(&sha(b"still found\n")),
            "{format}: {:#?}",
            report.regions
        );
    }

    // When less of the image's budget is left than a stream may hold, the budget is the
    // limit that cuts, and the region says so.
    let budget = Limits {
        max_unpacked_bytes: 1 << 20,
        max_file_bytes: 8 << 20,
        ..Limits::default()
    };
    let report = scan(&filter(&["gzip", "-c"], "gzip", &payload), &budget);
    assert_eq!(
        find(&report, "gzip")[0].outcome,
        "cut at the unpacking budget of 1 MiB per image (1 MiB were left): kept the first 1048576 bytes"
    );
}

/// Streams nested deeper than `max_depth`: the innermost is decoded and reported as not
/// searched because of the limit, rather than left as unrecognised bytes; one level more
/// of depth and the tar inside it is read.
#[test]
fn the_nesting_depth_limit_is_reported_as_a_limit() {
    let mut nested = tar_of_one("deep.txt", b"three levels down\n");
    for _ in 0..3 {
        nested = filter(&["gzip", "-c"], "gzip", &nested);
    }
    let shallow = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let report = scan(&nested, &shallow);
    let innermost = report
        .regions
        .iter()
        .find(|r| r.within == "image > gzip@0 > gzip@0")
        .unwrap_or_else(|| panic!("{:#?}", report.regions));
    assert!(
        innermost
            .outcome
            .ends_with("; not searched: the nesting depth limit of 2 is reached"),
        "{innermost:?}"
    );
    assert!(
        report.regions.iter().all(|r| r.outcome != "not recognised"),
        "{:#?}",
        report.regions
    );
    assert!(report.filesystems.is_empty());

    let deep_enough = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    let report = scan(&nested, &deep_enough);
    assert_eq!(
        files_under(&report, "gzip@0 > gzip@0 > gzip@0").get("deep.txt"),
        Some(&sha(b"three levels down\n"))
    );
}

fn tar_of_one(name: &str, contents: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), contents).unwrap();
    tar_of(dir.path())
}

/// Streams cut in the middle are reported as truncated, and what they yielded before the
/// cut is still searched.
#[test]
fn truncated_streams_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("payload");
    payload_dir(&root);
    let tar = tar_of(&root);
    for (format, args, package) in [
        ("gzip", &["gzip", "-c"][..], "gzip"),
        ("xz", &["xz", "-c"], "xz-utils"),
        ("lzma", &["xz", "--format=lzma", "-c"], "xz-utils"),
        ("zstd", &["zstd", "-q", "-c"], "zstd"),
        ("lz4", &["lz4", "-q", "-B4", "-c"], "lz4"),
        ("lzop", &["lzop", "-c"], "lzop"),
        ("bzip2", &["bzip2", "-c"], "bzip2"),
    ] {
        let stream = filter(args, package, &tar);
        let mut image = junk(99, 5);
        image.extend_from_slice(&stream[..stream.len() * 2 / 3]);
        let report = scan(&image, &Limits::default());
        let found = find(&report, format);
        assert_eq!(found.len(), 1, "{format}: {:#?}", report.regions);
        assert!(
            found[0].outcome.starts_with("failed: truncated"),
            "{format}: {:?}",
            found[0]
        );
        assert_eq!(found[0].offset, 99);
    }
}

/// A Debian package built by dpkg-deb (xz and zstd members), and a plain ar archive with a
/// GNU long name: the data files come out of `data.tar.*` through the ar, stream and tar
/// readers.
#[test]
fn deb_packages_and_ar_archives_unpack() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    let expected = payload_dir(&pkg);
    std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
    std::fs::write(
        pkg.join("DEBIAN/control"),
        "Package: iotmark-test\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.com>\nDescription: test\n",
    )
    .unwrap();
    for (compression, member) in [
        ("xz", "data.tar.xz"),
        ("zstd", "data.tar.zst"),
        ("gzip", "data.tar.gz"),
    ] {
        let deb = dir.path().join(format!("test-{compression}.deb"));
        run(
            Command::new("dpkg-deb")
                .args(["--root-owner-group", "-Z", compression, "--build"])
                .arg(&pkg)
                .arg(&deb),
            "dpkg",
        );
        let mut image = junk(501, 6);
        image.extend_from_slice(&std::fs::read(&deb).unwrap());
        let report = scan(&image, &Limits::default());
        let ar = find(&report, "ar");
        assert_eq!(ar.len(), 1, "{:#?}", report.regions);
        assert_eq!(ar[0].outcome, "unpacked");
        let outer = &report
            .filesystems
            .iter()
            .find(|(l, _)| l == "image > ar@501")
            .unwrap()
            .1;
        assert_eq!(outer.file("debian-binary"), Some(&b"2.0\n"[..]));
        assert!(outer.file(member).is_some(), "{:?}", outer.entries.keys());
        let data = files_under(&report, &format!("ar@501/{member}"));
        assert_eq!(data, expected, "{:#?}", report.regions);
        let control = files_under(&report, "ar@501/control.tar");
        assert!(control.contains_key("control"), "{control:?}");
    }

    // `ar` itself, with a name longer than 15 characters (GNU long-name table).
    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    std::fs::write(parts.join("short.txt"), b"short\n").unwrap();
    std::fs::write(parts.join("a-rather-long-member-name.bin"), junk(4001, 8)).unwrap();
    let archive = dir.path().join("test.a");
    run(
        Command::new("ar")
            .arg("rc")
            .arg(&archive)
            .arg("short.txt")
            .arg("a-rather-long-member-name.bin")
            .current_dir(&parts),
        "binutils",
    );
    let report = scan(&std::fs::read(&archive).unwrap(), &Limits::default());
    let got = files_under(&report, "ar@0");
    assert_eq!(got.get("short.txt"), Some(&sha(b"short\n")));
    assert_eq!(
        got.get("a-rather-long-member-name.bin"),
        Some(&sha(&junk(4001, 8)))
    );
}

/// An OpenWrt package in both its forms: a gzip'd tar of `debian-binary`,
/// `control.tar.gz` and `data.tar.gz`, and an ar archive of the same members. The data
/// files come out of the nested tar inside gzip inside tar inside gzip.
#[test]
fn openwrt_ipk_in_both_forms_yields_its_data_files() {
    let dir = tempfile::tempdir().unwrap();
    let data_root = dir.path().join("data");
    let expected = payload_dir(&data_root);
    let control_root = dir.path().join("control");
    std::fs::create_dir_all(&control_root).unwrap();
    std::fs::write(control_root.join("control"), "Package: test\nVersion: 1\n").unwrap();
    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    std::fs::write(parts.join("debian-binary"), "2.0\n").unwrap();
    for (name, src) in [
        ("data.tar.gz", &data_root),
        ("control.tar.gz", &control_root),
    ] {
        run(
            Command::new("tar")
                .arg("-czf")
                .arg(parts.join(name))
                .arg("-C")
                .arg(src)
                .arg("."),
            "tar",
        );
    }
    let gz_ipk = run(
        Command::new("tar")
            .args([
                "-czf",
                "-",
                "./debian-binary",
                "./data.tar.gz",
                "./control.tar.gz",
            ])
            .current_dir(&parts),
        "tar",
    );
    let ar_ipk_path = dir.path().join("ar.ipk");
    run(
        Command::new("ar")
            .arg("rc")
            .arg(&ar_ipk_path)
            .args(["debian-binary", "data.tar.gz", "control.tar.gz"])
            .current_dir(&parts),
        "binutils",
    );
    for (form, ipk) in [
        ("gzip", gz_ipk),
        ("ar", std::fs::read(&ar_ipk_path).unwrap()),
    ] {
        let report = scan(&ipk, &Limits::default());
        let data = files_under(&report, "data.tar.gz > gzip@0 > tar@0");
        assert_eq!(data, expected, "{form}: {:#?}", report.regions);
        let control = files_under(&report, "control.tar.gz > gzip@0 > tar@0");
        assert!(control.contains_key("control"), "{form}: {control:?}");
    }
}

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/firmware-fixtures/fact_extractor/"
);

/// A TRX image built here (a gzip'd kernel stand-in and a SquashFS rootfs as partitions,
/// CRC over the rest) unpacks through its partitions; one flipped byte fails the CRC and
/// is reported. fact_extractor's TRX fixture passes its CRC.
#[test]
fn trx_images_are_verified_and_their_partitions_walked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let expected = payload_dir(&root);
    let sqfs = squashfs_of(&root, &dir.path().join("r.sqfs"));
    let kernel = filter(&["gzip", "-c"], "gzip", &junk(10_000, 9));
    let header = 28usize;
    let kernel_at = header;
    let rootfs_at = (kernel_at + kernel.len()).div_ceil(4096) * 4096;
    let len = rootfs_at + sqfs.len();
    let mut trx = vec![0u8; len];
    trx[..4].copy_from_slice(b"HDR0");
    trx[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    trx[12..16].copy_from_slice(&(1u32 << 16).to_le_bytes());
    trx[16..20].copy_from_slice(&(kernel_at as u32).to_le_bytes());
    trx[20..24].copy_from_slice(&(rootfs_at as u32).to_le_bytes());
    trx[kernel_at..kernel_at + kernel.len()].copy_from_slice(&kernel);
    trx[rootfs_at..].copy_from_slice(&sqfs);
    let crc = !crc32fast::hash(&trx[12..]);
    trx[8..12].copy_from_slice(&crc.to_le_bytes());
    let mut image = junk(64, 10);
    image.extend_from_slice(&trx);

    let report = scan(&image, &Limits::default());
    let found = find(&report, "trx");
    assert_eq!(found.len(), 1, "{:#?}", report.regions);
    assert_eq!(found[0].offset, 64);
    assert_eq!(found[0].size, len as u64);
    assert!(found[0].outcome.contains("CRC ok"), "{:?}", found[0]);
    assert_eq!(
        files_under(&report, "trx@64 partition 1 > squashfs@0"),
        expected,
        "{:#?}",
        report.regions
    );
    assert!(
        find(&report, "gzip")[0]
            .within
            .contains("trx@64 partition 0")
    );

    let mut broken = image.clone();
    broken[64 + rootfs_at + 200] ^= 0xff;
    let report = scan(&broken, &Limits::default());
    let found = find(&report, "trx");
    assert!(
        found[0].outcome.starts_with("failed: CRC-32"),
        "{:?}",
        found[0]
    );

    let fixture = std::fs::read(format!("{FIXTURES}trx/test/data/trx.img")).unwrap();
    let report = scan(&fixture, &Limits::default());
    let found = find(&report, "trx");
    assert_eq!(found.len(), 1, "{:#?}", report.regions);
    assert!(found[0].outcome.contains("CRC ok"), "{:?}", found[0]);
}

/// fact_extractor's TP-Link image (header, U-Boot, LZMA kernel, SquashFS): the header is
/// described, and the LZMA kernel and the SquashFS are found and unpacked.
#[test]
fn tplink_image_header_kernel_and_rootfs() {
    let image = std::fs::read(format!("{FIXTURES}tpl/test/data/test.tpl")).unwrap();
    let report = scan(&image, &Limits::default());
    let tplink = find(&report, "tplink");
    assert!(
        tplink
            .iter()
            .any(|r| r.offset == 0 && r.outcome.contains("TP-LINK Technologies")),
        "{:#?}",
        report.regions
    );
    let lzma = find(&report, "lzma");
    assert!(
        lzma.iter()
            .any(|r| r.offset == 0x20400 && r.outcome.starts_with("unpacked")),
        "{:#?}",
        report.regions
    );
    let sqfs = find(&report, "squashfs");
    assert!(
        sqfs.iter()
            .any(|r| r.offset == 0x120200 && r.outcome == "unpacked"),
        "{:#?}",
        report.regions
    );
}

/// The bare LZO1X data of a one-block lzop file: what U-Boot expects in a FIT image with
/// `compression = "lzo"`. The block ends 4 bytes (the end mark) before the file does, and
/// its header gives the uncompressed and compressed sizes.
fn bare_lzo1x(input: &[u8]) -> Vec<u8> {
    let file = filter(&["lzop", "-c"], "lzop", input);
    let end = file.len() - 4;
    for checks in [4, 8] {
        for at in 0..end.saturating_sub(8 + checks) {
            let field = |i: usize| u32::from_be_bytes(file[i..i + 4].try_into().unwrap()) as usize;
            let (dst, src) = (field(at), field(at + 4));
            if dst == input.len() && src < dst && at + 8 + checks + src == end {
                return file[end - src..end].to_vec();
            }
        }
    }
    panic!("no single compressed block in the lzop output");
}

fn its(dir: &Path, kernel: &Path, ramdisk: &Path, signed: bool) -> std::path::PathBuf {
    let signature = if signed {
        r#"
            signature-1 {
                algo = "sha256,rsa2048";
                key-name-hint = "dev";
                sign-images = "kernel", "ramdisk";
            };"#
    } else {
        ""
    };
    let text = format!(
        r#"/dts-v1/;
/ {{
    description = "iotmark test FIT";
    #address-cells = <1>;
    images {{
        kernel-1 {{
            description = "kernel";
            data = /incbin/("{kernel}");
            type = "kernel";
            arch = "arm";
            os = "linux";
            compression = "gzip";
            load = <0x80008000>;
            entry = <0x80008000>;
            hash-1 {{ algo = "sha256"; }};
        }};
        ramdisk-1 {{
            description = "rootfs";
            data = /incbin/("{ramdisk}");
            type = "ramdisk";
            arch = "arm";
            os = "linux";
            compression = "none";
            hash-1 {{ algo = "sha1"; }};
            hash-2 {{ algo = "crc32"; }};
        }};
        firmware-1 {{
            description = "co-processor firmware";
            data = /incbin/("{firmware}");
            type = "firmware";
            arch = "arm";
            compression = "lzo";
            hash-1 {{ algo = "sha256"; }};
        }};
    }};
    configurations {{
        default = "conf-1";
        conf-1 {{
            description = "boot";
            kernel = "kernel-1";
            ramdisk = "ramdisk-1";{signature}
        }};
    }};
}};
"#,
        kernel = kernel.display(),
        ramdisk = ramdisk.display(),
        firmware = dir.join("firmware.lzo").display(),
    );
    let path = dir.join(if signed { "signed.its" } else { "plain.its" });
    std::fs::write(&path, text).unwrap();
    path
}

/// FIT images made by mkimage: unsigned (embedded data, and external data with `-E`) and
/// signed with an RSA key made by openssl. The images, hashes and signature nodes are
/// reported, and the SquashFS ramdisk inside is unpacked with the source's files.
#[test]
fn fit_images_report_signatures_and_unpack_their_ramdisk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("rootfs");
    let expected = payload_dir(&root);
    let ramdisk = dir.path().join("ramdisk.sqfs");
    squashfs_of(&root, &ramdisk);
    let kernel = dir.path().join("kernel.gz");
    std::fs::write(
        &kernel,
        filter(
            &["gzip", "-c"],
            "gzip",
            &tar_of_one("vmlinux", b"kernel bytes\n"),
        ),
    )
    .unwrap();
    let firmware_tar = tar_of_one("fw.bin", &junk(5000, 12).repeat(4));
    std::fs::write(dir.path().join("firmware.lzo"), bare_lzo1x(&firmware_tar)).unwrap();

    // Unsigned, data inside the tree and after it.
    for external in [false, true] {
        let itb = dir.path().join(format!("plain-{external}.itb"));
        let mut cmd = Command::new("mkimage");
        if external {
            cmd.arg("-E");
        }
        run(
            cmd.arg("-f")
                .arg(its(dir.path(), &kernel, &ramdisk, false))
                .arg(&itb),
            "u-boot-tools",
        );
        let mut image = junk(1001, 11);
        image.extend_from_slice(&std::fs::read(&itb).unwrap());
        let report = scan(&image, &Limits::default());
        assert_eq!(report.fit.len(), 1, "{:#?}", report.regions);
        let fit = &report.fit[0];
        assert_eq!(fit.offset, 1001);
        assert_eq!(fit.description, "iotmark test FIT");
        assert_eq!(fit.images.len(), 3);
        assert_eq!(
            fit.images[0].kind,
            iotmark_firmware::unpack::FitImageType::Kernel
        );
        assert_eq!(fit.images[0].compression, "gzip");
        assert_eq!(fit.images[1].external, external);
        for image in &fit.images {
            assert!(
                image.hashes.iter().all(|h| h.status == "verified"),
                "{image:?}"
            );
        }
        assert_eq!(fit.summary(), "FIT without signature nodes");
        assert_eq!(
            files_under(&report, "fit@1001 image ramdisk-1 > squashfs@0"),
            expected,
            "{:#?}",
            report.regions
        );
        assert_eq!(
            files_under(&report, "fit@1001 image kernel-1 > gzip@0 > tar@0").get("vmlinux"),
            Some(&sha(b"kernel bytes\n"))
        );
        // Bare LZO1X, decoded because the image says `compression = "lzo"`.
        assert_eq!(
            files_under(&report, "fit@1001 image firmware-1 > lzo@0 > tar@0").get("fw.bin"),
            Some(&sha(&junk(5000, 12).repeat(4))),
            "{:#?}",
            report.regions
        );
        let region = &find(&report, "fit")[0];
        assert_eq!(
            region.size,
            std::fs::metadata(&itb).unwrap().len(),
            "{region:?}"
        );
    }

    // Signed with a fresh RSA key.
    let keys = dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    run(
        Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(keys.join("dev.key")),
        "openssl",
    );
    run(
        Command::new("openssl")
            .args(["req", "-batch", "-new", "-x509", "-subj", "/CN=dev", "-key"])
            .arg(keys.join("dev.key"))
            .arg("-out")
            .arg(keys.join("dev.crt")),
        "openssl",
    );
    let pubkey = dir.path().join("pubkey.dtb");
    std::fs::write(
        &pubkey,
        filter(
            &["dtc", "-O", "dtb"],
            "device-tree-compiler",
            b"/dts-v1/; / { };",
        ),
    )
    .unwrap();
    let itb = dir.path().join("signed.itb");
    run(
        Command::new("mkimage")
            .arg("-f")
            .arg(its(dir.path(), &kernel, &ramdisk, true))
            .arg("-k")
            .arg(&keys)
            .arg("-K")
            .arg(&pubkey)
            .arg("-r")
            .arg(&itb),
        "u-boot-tools",
    );
    let report = scan(&std::fs::read(&itb).unwrap(), &Limits::default());
    assert_eq!(report.fit.len(), 1, "{:#?}", report.regions);
    let fit = &report.fit[0];
    let signatures: Vec<_> = fit.signatures().collect();
    assert_eq!(signatures.len(), 1);
    let s = signatures[0];
    assert_eq!(s.node, "/configurations/conf-1/signature-1");
    assert_eq!(s.algo, "sha256,rsa2048");
    assert_eq!(s.key_name_hint.as_deref(), Some("dev"));
    assert_eq!(s.signed_images, ["kernel", "ramdisk"]);
    assert!(s.has_value);
    assert!(
        fit.summary()
            .contains("signed with key dev, algo sha256,rsa2048"),
        "{}",
        fit.summary()
    );
    assert_eq!(
        files_under(&report, "image ramdisk-1 > squashfs@0"),
        expected
    );
    // The public key went into the U-Boot device tree: a plain device tree, not a FIT.
    let report = scan(&std::fs::read(&pubkey).unwrap(), &Limits::default());
    assert!(report.fit.is_empty());
    assert_eq!(find(&report, "dtb").len(), 1, "{:#?}", report.regions);
}

/// fact_extractor's FIT fixture: three images (gzip kernel, device tree, gzip rootfs), all
/// hashes verified, no signature nodes.
#[test]
fn fit_fixture_is_described() {
    let image = std::fs::read(format!("{FIXTURES}uboot/test/data/fit.itb")).unwrap();
    let report = scan(&image, &Limits::default());
    assert_eq!(report.fit.len(), 1, "{:#?}", report.regions);
    let fit = &report.fit[0];
    assert_eq!(fit.description, "FACT Test FIT Image");
    let kinds: Vec<_> = fit.images.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["kernel", "flat_dt", "ramdisk"]);
    assert_eq!(fit.summary(), "FIT without signature nodes");
    assert!(
        find(&report, "gzip")
            .iter()
            .filter(|r| r.within.contains("fit@0 image"))
            .count()
            >= 2,
        "{:#?}",
        report.regions
    );
}

/// The fuzz targets' seed corpora (`fuzz/corpus/{streams,ar_read,trx_read,fit_read}/`)
/// run here on stable.
#[test]
fn container_fuzz_corpora_run_without_panicking() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 7] = [
        ("streams", iotmark_firmware::fuzz_streams),
        ("ar_read", iotmark_firmware::fuzz_ar_read),
        ("trx_read", iotmark_firmware::fuzz_trx_read),
        ("fit_read", iotmark_firmware::fuzz_fit_read),
        ("squashfs_read", iotmark_firmware::fuzz_squashfs_read),
        ("uimage_read", iotmark_firmware::fuzz_uimage_read),
        ("cpio_tar_read", iotmark_firmware::fuzz_cpio_tar_read),
    ];
    for (name, target) in targets {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus.join(name)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            target(&bytes);
            // Every prefix too: truncation is the commonest damage.
            for cut in [1, 7, 13, 64, bytes.len() / 2] {
                target(&bytes[..cut.min(bytes.len())]);
            }
            count += 1;
        }
        assert!(count >= 2, "expected a seed corpus in fuzz/corpus/{name}");
    }
}
