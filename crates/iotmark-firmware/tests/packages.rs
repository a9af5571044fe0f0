//! Package databases end to end, each made by the real tool that makes it: a dpkg root from
//! real Debian packages (control fields, file lists and changelogs as the .debs ship them),
//! and rpm databases from Debian's `rpm` (SQLite, the one backend it can write), the same
//! headers in a BerkeleyDB hash file written by Berkeley DB's own `db5.3_load`, and in an
//! ndb store laid out as rpm's ndb backend writes it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use iotmark_firmware::inventory::{
    Component, Relation, Technique, inventory, inventory_with_problems,
};
use iotmark_firmware::packages::PackageSource;
use iotmark_firmware::tree::{Entry, Kind, Tree};

mod common;

/// A real tool's output as text (`common::tool` names the package that has a missing tool).
fn run(cmd: &mut Command, package: &str) -> String {
    String::from_utf8(common::tool(cmd, package)).expect("UTF-8 output")
}

/// A directory on disk as a tree, the way the unpacker would hold it.
fn tree_of(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, t: &mut Tree) {
        for e in std::fs::read_dir(dir).expect("read_dir") {
            let path = e.expect("entry").path();
            let rel = path.strip_prefix(root).expect("under root");
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            let kind = if meta.file_type().is_symlink() {
                Kind::Symlink(std::fs::read_link(&path).expect("link"))
            } else if meta.is_dir() {
                walk(root, &path, t);
                Kind::Dir
            } else {
                Kind::File(std::fs::read(&path).expect("read"))
            };
            let entry = Entry {
                kind,
                mode: 0o644,
                uid: 0,
                gid: 0,
            };
            t.insert(rel, entry).expect("safe path");
        }
    }
    let mut t = Tree::default();
    walk(root, root, &mut t);
    t
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, data).expect("write");
}

fn debian_packages() -> PathBuf {
    let dir = std::env::var_os("DEBIAN_PACKAGES_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/debian-packages"),
        PathBuf::from,
    );
    dir.join("armhf")
}

fn deb(name: &str) -> PathBuf {
    let dir = debian_packages();
    std::fs::read_dir(&dir)
        .ok()
        .and_then(|d| {
            d.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{name}_")))
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "{name}_*.deb not in {}; run scripts/fetch-debian-packages.sh",
                dir.display()
            )
        })
}

/// Installs `.debs` into `root` as dpkg would record them: each package's control fields
/// with an installed status in `var/lib/dpkg/status`, and the paths it unpacked in
/// `info/<pkg>[:arch].list` (`/.` and directories included, as dpkg writes them).
/// `version_of` may replace a package's version in the status file.
fn install_debs(root: &Path, names: &[&str], version_of: &dyn Fn(&str) -> Option<String>) {
    let mut status = String::new();
    for name in names {
        let deb = deb(name);
        let unpacked = run(
            Command::new("dpkg-deb").arg("-X").arg(&deb).arg(root),
            "dpkg",
        );
        let control = run(Command::new("dpkg-deb").arg("-f").arg(&deb), "dpkg");
        let mut list = String::new();
        for line in unpacked.lines() {
            let path = line.trim_start_matches('.').trim_end_matches('/');
            list.push_str(if path.is_empty() { "/." } else { path });
            list.push('\n');
        }
        let field = |f: &str| {
            control
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{f}: ")))
                .map(str::to_owned)
        };
        let list_name = if field("Multi-Arch").as_deref() == Some("same") {
            format!("{name}:{}", field("Architecture").expect("Architecture"))
        } else {
            (*name).to_owned()
        };
        write(
            root,
            &format!("var/lib/dpkg/info/{list_name}.list"),
            list.as_bytes(),
        );
        status.push_str("Status: install ok installed\n");
        for line in control.lines() {
            match (line.strip_prefix("Version: "), version_of(name)) {
                (Some(_), Some(v)) => status.push_str(&format!("Version: {v}\n")),
                _ => {
                    status.push_str(line);
                    status.push('\n');
                }
            }
        }
        status.push('\n');
    }
    // dpkg keeps a removed package's stanza while its configuration files remain.
    status.push_str("Package: telnetd\nStatus: deinstall ok config-files\nVersion: 0.17-44\nArchitecture: armhf\n");
    write(root, "var/lib/dpkg/status", status.as_bytes());
    write(root, "etc/os-release", b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n");
}

fn component<'a>(cs: &'a [Component], name: &str) -> &'a Component {
    cs.iter()
        .find(|c| c.relation == Relation::Package && c.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no package {name} in {:#?}",
                cs.iter().map(|c| &c.purl).collect::<Vec<_>>()
            )
        })
}

/// CVE IDs in a text, as a reader would pick them out.
fn cve_ids(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| {
            let parts: Vec<&str> = w.split('-').collect();
            parts.len() == 3
                && parts[0] == "CVE"
                && parts[1].len() == 4
                && parts[2].len() >= 4
                && parts[1..]
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_dpkg_root_from_real_debs_gives_purls_owned_files_and_changelog_cves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let names = ["libssl3", "openssl", "libcurl4", "curl", "dnsmasq-base"];
    install_debs(&root, &names, &|_| None);
    let cs = inventory(&tree_of(&root));

    let version = run(
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb("libssl3"))
            .arg("Version"),
        "dpkg",
    );
    let version = version.trim();
    let ssl = component(&cs, "libssl3");
    assert_eq!(
        ssl.purl,
        format!(
            "pkg:deb/debian/libssl3@{}?arch=armhf&distro=debian-12&upstream=openssl",
            version.replace('+', "%2B")
        )
    );
    assert_eq!(ssl.source, Some(PackageSource::Dpkg));
    assert_eq!(ssl.arch.as_deref(), Some("armhf"));
    assert_eq!(ssl.source_package.as_deref(), Some("openssl"));
    let maintainer = run(
        Command::new("dpkg-deb")
            .arg("-f")
            .arg(deb("libssl3"))
            .arg("Maintainer"),
        "dpkg",
    );
    assert_eq!(ssl.supplier.as_deref(), Some(maintainer.trim()));
    let upstream = version.split('-').next().expect("upstream");
    assert_eq!(
        ssl.cpe.as_deref(),
        Some(format!("cpe:2.3:a:openssl:openssl:{upstream}:*:*:*:*:*:*:*").as_str())
    );
    let libcrypto = "/usr/lib/arm-linux-gnueabihf/libcrypto.so.3";
    assert!(ssl.files.iter().any(|f| f == libcrypto), "{:?}", ssl.files);
    assert!(
        !ssl.files
            .iter()
            .any(|f| f == "/usr" || f == "/." || f == "/usr/lib"),
        "directories are not owned files: {:?}",
        ssl.files
    );
    // The version string in the library the package owns is evidence on the package, not
    // a second OpenSSL component.
    assert!(
        ssl.evidence
            .iter()
            .any(|e| e.technique == Technique::BinaryAnalysis && e.path == libcrypto),
        "{:#?}",
        ssl.evidence
    );
    assert!(
        !cs.iter()
            .any(|c| c.product == "openssl"
                && matches!(c.relation, Relation::Is | Relation::Contains)),
        "{:#?}",
        cs.iter()
            .filter(|c| c.product == "openssl")
            .collect::<Vec<_>>()
    );
    assert!(
        component(&cs, "curl")
            .purl
            .starts_with("pkg:deb/debian/curl@")
    );
    assert!(
        !cs.iter().any(|c| c.name == "telnetd"),
        "a removed package is not installed"
    );

    // The changelog: every entry's version and CVE IDs, as dpkg-parsechangelog splits it.
    let changelog = root.join("usr/share/doc/libssl3/changelog.Debian.gz");
    let parsed = run(
        Command::new("dpkg-parsechangelog")
            .arg("-l")
            .arg(&changelog)
            .args(["--format", "rfc822", "--all"]),
        "dpkg-dev",
    );
    let mut expected: Vec<(String, BTreeSet<String>)> = Vec::new();
    for stanza in parsed.split("\n\n").filter(|s| !s.trim().is_empty()) {
        let version = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Version: "))
            .expect("Version");
        let changes = stanza.split_once("\nChanges:").map_or("", |(_, c)| c);
        // Leave out the entry's header line, which is in Changes too.
        let body = changes.split_once('\n').map_or("", |(_, b)| b);
        expected.push((version.to_owned(), cve_ids(body)));
    }
    let got: Vec<(String, BTreeSet<String>)> = ssl
        .changelog
        .iter()
        .map(|e| (e.version.clone(), e.cves.iter().cloned().collect()))
        .collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    let newest = &ssl.changelog[0];
    assert_eq!(newest.version, version);
    assert_eq!(
        (newest.upstream.as_str(), newest.revision.as_deref()),
        (upstream, version.split_once('-').map(|(_, r)| r))
    );
    assert!(
        !newest.cves.is_empty(),
        "the newest openssl upload fixes CVEs"
    );
    let all: usize = ssl.changelog.iter().map(|e| e.cves.len()).sum();
    assert!(all > 50, "openssl's changelog names many CVEs: {all}");
}

#[test]
fn a_version_string_that_contradicts_its_package_is_kept_and_marked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    // The database claims an older libssl3 than the library the image actually holds.
    install_debs(&root, &["libssl3"], &|name| {
        (name == "libssl3").then(|| "3.0.11-1~deb12u2".to_owned())
    });
    let cs = inventory(&tree_of(&root));
    let ssl = component(&cs, "libssl3");
    assert_eq!(ssl.version, "3.0.11-1~deb12u2");
    let strings: Vec<&Component> = cs
        .iter()
        .filter(|c| c.product == "openssl" && c.relation == Relation::Is)
        .collect();
    assert_eq!(strings.len(), 1, "{strings:#?}");
    assert_ne!(strings[0].version, "3.0.11");
    assert_eq!(
        strings[0].contradicted_by.as_deref(),
        Some(ssl.purl.as_str())
    );
    assert!(
        strings[0]
            .evidence
            .iter()
            .all(|e| e.technique == Technique::BinaryAnalysis)
    );
}

/// Distroless images have no `status` file: `status.d/<pkg>` holds the package's control
/// stanza and `status.d/<pkg>.md5sums` the files, as the .deb's control archive ships them.
#[test]
fn a_distroless_status_d_from_a_real_deb_gives_the_package_and_its_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let control = dir.path().join("control");
    let deb = deb("libssl3");
    run(
        Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root),
        "dpkg",
    );
    run(
        Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control),
        "dpkg",
    );
    let status_d = root.join("var/lib/dpkg/status.d");
    std::fs::create_dir_all(&status_d).expect("mkdir");
    std::fs::copy(control.join("control"), status_d.join("libssl3")).expect("control");
    std::fs::copy(control.join("md5sums"), status_d.join("libssl3.md5sums")).expect("md5sums");
    write(&root, "etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    let cs = inventory(&tree_of(&root));
    let ssl = component(&cs, "libssl3");
    assert_eq!(ssl.source, Some(PackageSource::DpkgStatusD));
    assert!(
        ssl.purl.starts_with("pkg:deb/debian/libssl3@3."),
        "{}",
        ssl.purl
    );
    let sums = std::fs::read_to_string(control.join("md5sums")).expect("md5sums");
    assert_eq!(ssl.files.len(), sums.lines().count());
    assert!(
        ssl.files
            .iter()
            .any(|f| f == "/usr/lib/arm-linux-gnueabihf/libcrypto.so.3")
    );
    assert!(
        !ssl.changelog.is_empty(),
        "the changelog is read for status.d packages too"
    );
}

// ---------------------------------------------------------------------------------------
// rpm

/// One package's spec: name, epoch, and how many files it installs.
fn spec(name: &str, epoch: u32, files: usize) -> String {
    let mut install = String::from(
        "mkdir -p %{buildroot}/usr/share/NAME %{buildroot}/usr/bin\necho hi > %{buildroot}/usr/bin/NAME\n",
    );
    let mut listed = String::from("/usr/bin/NAME\n");
    for i in 0..files {
        install.push_str(&format!(
            "echo {i} > %{{buildroot}}/usr/share/NAME/data-file-with-a-long-name-{i:04}\n"
        ));
        listed.push_str(&format!(
            "/usr/share/NAME/data-file-with-a-long-name-{i:04}\n"
        ));
    }
    format!(
        "Name: NAME\nVersion: 1.2.{files}\nRelease: 4.fc39\nEpoch: {epoch}\nSummary: test package\nLicense: MIT AND BSD-3-Clause\nVendor: Example Vendor\nPackager: Jane Packager <jane@example.org>\nBuildArch: noarch\n%description\nA package for the rpm database tests.\n%install\n{install}%files\n{listed}"
    )
    .replace("NAME", name)
}

/// (name, epoch, version-release, arch, vendor, licence, source rpm).
type RpmFields = (String, Option<u32>, String, String, String, String, String);

/// What `rpm -qa` says of each package in the database at `dbpath`, as
/// (name, epoch, version-release, arch, vendor, licence, source rpm).
fn rpm_oracle(dbpath: &Path) -> BTreeSet<RpmFields> {
    let out = run(
        Command::new("rpm").arg("--dbpath").arg(dbpath).args([
            "-qa",
            "--qf",
            "%{NAME}|%{EPOCH}|%{VERSION}-%{RELEASE}|%{ARCH}|%{VENDOR}|%{LICENSE}|%{SOURCERPM}\\n",
        ]),
        "rpm",
    );
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (
                f[0].to_owned(),
                f[1].parse().ok(),
                f[2].to_owned(),
                f[3].to_owned(),
                f[4].to_owned(),
                f[5].to_owned(),
                f[6].to_owned(),
            )
        })
        .collect()
}

fn as_oracle(cs: &[Component]) -> BTreeSet<RpmFields> {
    cs.iter()
        .filter(|c| c.relation == Relation::Package)
        .map(|c| {
            let (epoch, vr) = match c.version.split_once(':') {
                Some((e, vr)) => (e.parse().ok(), vr.to_owned()),
                None => (None, c.version.clone()),
            };
            (
                c.name.clone(),
                epoch,
                vr,
                c.arch.clone().unwrap_or_default(),
                c.supplier.clone().unwrap_or_default(),
                c.licenses.join(" "),
                c.source_package.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// A root whose `var/lib/rpm/rpmdb.sqlite` Debian's rpm wrote, with three packages (one
/// with a header large enough to span several database pages), and the header blobs rpm
/// stored, in order.
fn rpm_root(dir: &Path) -> (PathBuf, Vec<Vec<u8>>) {
    let top = dir.join("rpmbuild");
    let mut rpms = Vec::new();
    for (name, epoch, files) in [
        ("hello-iot", 2, 3),
        ("libwidget", 0, 1),
        ("bigdata", 1, 400),
    ] {
        let spec_path = dir.join(format!("{name}.spec"));
        std::fs::write(&spec_path, spec(name, epoch, files)).expect("spec");
        run(
            Command::new("rpmbuild")
                .arg("-bb")
                .arg("--define")
                .arg(format!("_topdir {}", top.display()))
                .arg(&spec_path),
            "rpm",
        );
        rpms.push(top.join(format!("RPMS/noarch/{name}-1.2.{files}-4.fc39.noarch.rpm")));
    }
    let root = dir.join("root");
    let dbpath = root.join("var/lib/rpm");
    std::fs::create_dir_all(&dbpath).expect("mkdir");
    run(
        Command::new("rpm")
            .arg("--dbpath")
            .arg(&dbpath)
            .arg("--initdb"),
        "rpm",
    );
    run(
        Command::new("rpm")
            .arg("--dbpath")
            .arg(&dbpath)
            .args([
                "-i",
                "--justdb",
                "--nodeps",
                "--noscripts",
                "--ignorearch",
                "--ignoreos",
            ])
            .args(&rpms),
        "rpm",
    );
    write(
        &root,
        "etc/os-release",
        b"NAME=\"Fedora Linux\"\nVERSION_ID=39\nID=fedora\n",
    );
    let db = rusqlite::Connection::open(dbpath.join("rpmdb.sqlite")).expect("sqlite");
    let mut q = db
        .prepare("SELECT blob FROM Packages ORDER BY hnum")
        .expect("query");
    let blobs = q
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    (root, blobs)
}

#[test]
fn rpm_databases_in_every_backend_list_what_rpm_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (root, blobs) = rpm_root(dir.path());
    let oracle = rpm_oracle(&root.join("var/lib/rpm"));
    assert_eq!(oracle.len(), 3);

    // SQLite, as rpm wrote it (WAL mode, with its -shm and -wal files beside).
    let mut tree = tree_of(&root);
    let (cs, problems) = inventory_with_problems(&tree);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(as_oracle(&cs), oracle);
    let hello = component(&cs, "hello-iot");
    assert_eq!(
        hello.purl,
        "pkg:rpm/fedora/hello-iot@1.2.3-4.fc39?arch=noarch&distro=fedora-39&epoch=2"
    );
    assert_eq!(hello.source, Some(PackageSource::RpmSqlite));
    assert_eq!(hello.licenses, ["MIT AND BSD-3-Clause"]);
    let files = run(
        Command::new("rpm")
            .arg("--dbpath")
            .arg(root.join("var/lib/rpm"))
            .args(["-ql", "bigdata"]),
        "rpm",
    );
    let bigdata = component(&cs, "bigdata");
    assert_eq!(bigdata.files, files.lines().collect::<Vec<_>>());
    assert_eq!(bigdata.files.len(), 401);
    // A write-ahead log with changes left in it is said, not silently ignored.
    let wal = Entry {
        kind: Kind::File(vec![0x37, 0x7f, 0x06, 0x82]),
        mode: 0o644,
        uid: 0,
        gid: 0,
    };
    tree.insert(Path::new("var/lib/rpm/rpmdb.sqlite-wal"), wal)
        .expect("path");
    let (_, problems) = inventory_with_problems(&tree);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].message.contains("write-ahead log"),
        "{problems:?}"
    );
    let widget = component(&cs, "libwidget");
    assert!(
        widget.purl.contains("&epoch=0") || widget.purl.ends_with("distro=fedora-39"),
        "{}",
        widget.purl
    );

    // BerkeleyDB hash, written by Berkeley DB's db_load with the same blobs under 4-byte
    // instance keys, as rpm up to 4.15 kept them (4096-byte pages: the large header runs
    // through a chain of overflow pages).
    let bdb_root = dir.path().join("bdb");
    std::fs::create_dir_all(bdb_root.join("var/lib/rpm")).expect("mkdir");
    db_load(
        &bdb_root.join("var/lib/rpm/Packages"),
        "db_pagesize=4096\n",
        numbered(&blobs),
    );
    write(
        &bdb_root,
        "etc/os-release",
        b"ID=centos\nVERSION_ID=\"7\"\n",
    );
    let cs = inventory(&tree_of(&bdb_root));
    assert_eq!(as_oracle(&cs), oracle);
    assert_eq!(component(&cs, "bigdata").files.len(), 401);
    assert_eq!(
        component(&cs, "hello-iot").purl,
        "pkg:rpm/centos/hello-iot@1.2.3-4.fc39?arch=noarch&distro=centos-7&epoch=2"
    );
    assert!(
        cs.iter()
            .all(|c| c.source == Some(PackageSource::RpmBerkeleyDb))
    );

    // ndb: Debian's rpm is built without it, so the store is laid out here as rpm's ndb
    // backend documents it.
    let ndb_root = dir.path().join("ndb");
    write(&ndb_root, "var/lib/rpm/Packages.db", &ndb(&blobs));
    let cs = inventory(&tree_of(&ndb_root));
    assert_eq!(as_oracle(&cs), oracle);
    assert!(cs.iter().all(|c| c.source == Some(PackageSource::RpmNdb)));
}

/// A Berkeley DB hash file at `path` written by db_load from a dump (db_dump's
/// `bytevalue` format) of `records`, each under its 4-byte record number as rpm keys them.
/// `header` is more header lines (`db_pagesize=…`).
fn db_load<'v>(path: &Path, header: &str, records: impl IntoIterator<Item = (u32, &'v [u8])>) {
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let mut dump = format!("VERSION=3\nformat=bytevalue\ntype=hash\n{header}HEADER=END\n");
    for (key, value) in records {
        dump.push_str(&format!(" {}\n {}\n", hex(&key.to_le_bytes()), hex(value)));
    }
    dump.push_str("DATA=END\n");
    let dump_path = path.with_extension("dump");
    std::fs::write(&dump_path, dump).expect("dump");
    run(
        Command::new("db5.3_load")
            .arg("-f")
            .arg(&dump_path)
            .arg(path),
        "db5.3-util",
    );
}

/// Values numbered from 1, as rpm numbers its package records.
fn numbered(values: &[Vec<u8>]) -> impl Iterator<Item = (u32, &[u8])> {
    (1..).zip(values.iter().map(Vec::as_slice))
}

/// An ndb `Packages.db` holding `blobs`: the header and slots in one 4096-byte slot page,
/// each blob (`BlbS`, index, timestamp, length, bytes, then a tail) in 16-byte blocks after.
fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    out[0..4].copy_from_slice(b"RpmP");
    out[12..16].copy_from_slice(&1u32.to_le_bytes());
    out[16..20].copy_from_slice(&(blobs.len() as u32 + 1).to_le_bytes());
    for s in 0..(4096 - 32) / 16 {
        out[32 + 16 * s..36 + 16 * s].copy_from_slice(b"Slot");
    }
    for (i, blob) in blobs.iter().enumerate() {
        let index = i as u32 + 1;
        let start = out.len();
        let mut record = Vec::new();
        record.extend_from_slice(b"BlbS");
        record.extend_from_slice(&index.to_le_bytes());
        record.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        record.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        record.extend_from_slice(blob);
        record.extend_from_slice(&[0; 4]); // adler32, not checked by the reader
        record.extend_from_slice(&(blob.len() as u32).to_le_bytes());
        record.extend_from_slice(b"BlbE");
        while record.len() % 16 != 0 {
            record.push(0);
        }
        let slot = 32 + 16 * i;
        out[slot + 4..slot + 8].copy_from_slice(&index.to_le_bytes());
        out[slot + 8..slot + 12].copy_from_slice(&((start / 16) as u32).to_le_bytes());
        out[slot + 12..slot + 16].copy_from_slice(&((record.len() / 16) as u32).to_le_bytes());
        out.extend_from_slice(&record);
    }
    out
}

/// The package fuzz targets' seed corpora run here on stable; the rpm seeds (a header blob
/// from Debian's rpm, the same header in a Berkeley DB file from db5.3_load with 512-byte
/// pages, and in an ndb store) each read as the package.
#[test]
fn fuzz_corpora_parse_without_panicking() {
    use iotmark_firmware::packages::rpm;
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    type Target = fn(&[u8]);
    let targets: [(&str, Target); 4] = [
        ("rpm_database", iotmark_firmware::fuzz_rpm_database),
        ("apk_database", iotmark_firmware::fuzz_apk_database),
        ("debian_changelog", iotmark_firmware::fuzz_debian_changelog),
        ("dpkg_status", iotmark_firmware::fuzz_dpkg_status),
    ];
    for (name, target) in targets {
        let mut count = 0;
        for entry in std::fs::read_dir(corpus.join(name)).expect("corpus directory") {
            let data = std::fs::read(entry.expect("entry").path()).expect("seed");
            target(&data);
            for cut in [1, data.len() / 2, data.len().saturating_sub(1)] {
                target(&data[..cut.min(data.len())]);
            }
            // Every byte in turn inverted (the fields a hostile image would lie in:
            // counts, offsets, lengths, page numbers), as a fuzzer's first mutations would.
            let mut mutated = data.clone();
            for i in 0..mutated.len() {
                mutated[i] ^= 0xff;
                target(&mutated);
                mutated[i] ^= 0xff;
            }
            count += 1;
        }
        assert!(count >= 1, "expected a seed corpus in fuzz/corpus/{name}");
    }
    let seed = |f: &str| std::fs::read(corpus.join("rpm_database").join(f)).expect("seed");
    let name = |blob: &[u8]| {
        rpm::package(blob, "seed")
            .expect("header")
            .map(|p| (p.name, p.version, p.epoch))
    };
    let expected = Some(("hello-iot".to_owned(), "1.2.3-4.fc39".to_owned(), Some(2)));
    assert_eq!(name(&seed("header.bin")), expected);
    for (file, values) in [
        (
            "Packages",
            rpm::bdb::values as fn(&[u8]) -> Result<Vec<Vec<u8>>, String>,
        ),
        ("Packages.db", rpm::ndb::values),
    ] {
        let blobs = values(&seed(file)).expect(file);
        assert_eq!(blobs.len(), 1, "{file}");
        assert_eq!(name(&blobs[0]), expected, "{file}");
    }
    let changelog =
        std::fs::read(corpus.join("debian_changelog/changelog.Debian.gz")).expect("seed");
    let entries = iotmark_firmware::packages::changelog::parse_gz(&changelog).expect("gzip");
    assert!(
        entries[0].cves.iter().any(|c| c.starts_with("CVE-")),
        "{entries:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Language packages

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let meta = std::fs::symlink_metadata(e.path()).expect("metadata");
        let dest = to.join(e.file_name());
        if meta.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if meta.is_file() {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// The Python distributions this machine's python3 has installed (their `*.dist-info` and
/// `*.egg-info` as pip and Debian wrote them) in an image's `dist-packages`, listed as
/// Python's own importlib.metadata lists them.
#[test]
fn python_distributions_are_listed_as_importlib_lists_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let site = root.join("usr/lib/python3/dist-packages");
    std::fs::create_dir_all(&site).expect("mkdir");
    // The python3 on PATH, and Debian's own when that is another one (its dist-packages
    // hold distutils-era `*.egg-info` files).
    let mut paths = String::new();
    for python in ["python3", "/usr/bin/python3"] {
        if let Ok(out) = Command::new(python)
            .args(["-c", "import sys; print('\\n'.join(sys.path))"])
            .output()
        {
            paths.push_str(&String::from_utf8_lossy(&out.stdout));
        }
    }
    for dir in paths.lines().filter(|p| p.ends_with("-packages")) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            let dest = site.join(&name);
            if !(name.ends_with(".dist-info") || name.ends_with(".egg-info")) || dest.exists() {
                continue;
            }
            if e.path().is_dir() {
                copy_dir(&e.path(), &dest);
            } else {
                std::fs::copy(e.path(), &dest).expect("copy");
            }
        }
    }
    let oracle = run(
        Command::new("python3").arg("-c").arg(format!(
            "import importlib.metadata as m\nfor d in m.distributions(path=[{:?}]):\n    print(d.metadata['Name'] + '|' + d.version)",
            site.display().to_string()
        )),
        "python3",
    );
    let oracle: BTreeSet<(String, String)> = oracle
        .lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    assert!(
        !oracle.is_empty(),
        "python3 lists no distributions (pip at least)"
    );
    let cs = inventory(&tree_of(&root));
    let got: BTreeSet<(String, String)> = cs
        .iter()
        .filter(|c| c.source == Some(PackageSource::Python))
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect();
    assert_eq!(got, oracle);
    let pip = cs
        .iter()
        .find(|c| c.name == "pip" && c.source == Some(PackageSource::Python));
    if let Some(pip) = pip {
        assert_eq!(pip.purl, format!("pkg:pypi/pip@{}", pip.version));
        assert!(
            pip.files.iter().any(|f| f.ends_with("/pip/__init__.py")),
            "RECORD gives the owned files: {:?}",
            pip.files.iter().take(5).collect::<Vec<_>>()
        );
    }
}

/// npm as this machine's Node.js installed it (npm and the packages it bundles under
/// `node_modules`), listed as `npm ls --all` lists it.
#[test]
fn npm_packages_are_listed_as_npm_ls_lists_them() {
    let cli = run(
        Command::new("sh").args(["-c", "readlink -f \"$(command -v npm)\""]),
        "npm",
    );
    // `…/npm/bin/npm-cli.js`: the package is two levels up.
    let npm_dir = Path::new(cli.trim())
        .parent()
        .and_then(Path::parent)
        .expect("npm's package directory")
        .to_path_buf();
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("root");
    let copy = root.join("opt/app/node_modules/npm");
    copy_dir(&npm_dir, &copy);
    let listed = Command::new("npm")
        .args(["ls", "--all", "--parseable", "--long"])
        .current_dir(&copy)
        .output()
        .expect("npm ls");
    let oracle: BTreeSet<(String, String)> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let path = f.next()?;
            let spec = f.next()?;
            let at = spec.rfind('@').filter(|&i| i > 0)?;
            Path::new(path)
                .join("package.json")
                .exists()
                .then(|| (spec[..at].to_owned(), spec[at + 1..].to_owned()))
        })
        .collect();
    assert!(
        oracle.len() > 10,
        "npm bundles its dependencies: {oracle:?}"
    );
    let cs = inventory(&tree_of(&root));
    let got: BTreeSet<(String, String)> = cs
        .iter()
        .filter(|c| c.source == Some(PackageSource::Npm))
        .map(|c| (c.name.clone(), c.version.clone()))
        .collect();
    assert_eq!(got, oracle);
    let npm = component(&cs, "npm");
    assert_eq!(npm.purl, format!("pkg:npm/npm@{}", npm.version));
    if let Some(scoped) = cs.iter().find(|c| c.name.starts_with("@npmcli/")) {
        assert!(
            scoped.purl.starts_with("pkg:npm/%40npmcli/"),
            "{}",
            scoped.purl
        );
    }
}

/// This machine's own dpkg database (status, file lists, changelogs; written by the real
/// dpkg over the machine's life) as an image: every installed package, with the version
/// and architecture `dpkg-query` reports.
#[test]
fn the_hosts_dpkg_database_reads_as_dpkg_query_lists_it() {
    let oracle = run(
        Command::new("dpkg-query").args([
            "-W",
            "-f",
            "${db:Status-Abbrev}|${Package}|${Version}|${Architecture}\\n",
        ]),
        "dpkg",
    );
    let oracle: BTreeSet<(String, String, String)> = oracle
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            (f.first()?.starts_with("ii"))
                .then(|| (f[1].to_owned(), f[2].to_owned(), f[3].to_owned()))
        })
        .collect();
    let mut t = Tree::default();
    let mut add = |path: &Path| {
        let data = std::fs::read(path).expect("read");
        let entry = Entry {
            kind: Kind::File(data),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        t.insert(path, entry).expect("safe path");
    };
    add(Path::new("/var/lib/dpkg/status"));
    for e in std::fs::read_dir("/var/lib/dpkg/info").expect("info") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "list") {
            add(&path);
        }
    }
    for e in std::fs::read_dir("/usr/share/doc").expect("doc") {
        let path = e.expect("entry").path().join("changelog.Debian.gz");
        if path.is_file() {
            add(&path);
        }
    }
    let started = std::time::Instant::now();
    let listing = iotmark_firmware::packages::read(&t);
    let elapsed = started.elapsed();
    let got: BTreeSet<(String, String, String)> = listing
        .packages
        .iter()
        .map(|(_, p)| {
            (
                p.name.clone(),
                p.version.clone(),
                p.arch.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(got, oracle);
    let files: usize = listing.packages.iter().map(|(_, p)| p.files.len()).sum();
    let cves: usize = listing
        .changelogs
        .values()
        .flatten()
        .map(|e| e.cves.len())
        .sum();
    eprintln!(
        "{} packages, {files} owned paths, {} changelogs with {cves} CVE mentions, read in {elapsed:?}",
        got.len(),
        listing.changelogs.len()
    );
    assert!(listing.problems.is_empty(), "{:?}", listing.problems);
    assert!(files > got.len());
}

/// The BerkeleyDB hash reader against files Berkeley DB's own db_load writes, in both byte
/// orders and at the smallest, a common and the largest page size: values inline on hash
/// pages and values through overflow chains come back exactly, and rpm's instance-0 record
/// is left out.
#[test]
fn berkeley_db_hash_files_in_either_byte_order_and_any_page_size() {
    use iotmark_firmware::packages::rpm::bdb;
    let dir = tempfile::tempdir().expect("tempdir");
    // Sizes from a few bytes to several pages, so some stay inline and some overflow.
    let values: Vec<Vec<u8>> = (0..40u32)
        .map(|i| {
            let len = [3usize, 100, 700, 2500, 9000][i as usize % 5] + i as usize;
            (0..len).map(|j| (j as u32 * 31 + i) as u8).collect()
        })
        .collect();
    for order in ["1234", "4321"] {
        for page in [512, 4096, 65536] {
            let db = dir.path().join(format!("db-{order}-{page}"));
            // With rpm's record 0 (the instance counter), which is not a package.
            let counter = [41u8, 0, 0, 0];
            db_load(
                &db,
                &format!("db_pagesize={page}\ndb_lorder={order}\n"),
                std::iter::once((0, &counter[..])).chain(numbered(&values)),
            );
            let mut got = bdb::values(&std::fs::read(&db).expect("db")).expect("values");
            got.sort();
            let mut expected = values.clone();
            expected.sort();
            assert_eq!(got, expected, "byte order {order}, page size {page}");
        }
    }
}

/// A program linked by GNU ld with `--package-metadata`, as Fedora and Ubuntu build theirs.
fn program_with_package_note(dir: &Path, name: &str, metadata: &str) -> Vec<u8> {
    let source = dir.join("main.c");
    std::fs::write(&source, "int main(void) { return 0; }\n").expect("write");
    let out = dir.join(name);
    common::tool(
        Command::new("gcc")
            .arg(&source)
            .arg("-o")
            .arg(&out)
            .arg("-Xlinker")
            .arg(format!("--package-metadata={metadata}")),
        "gcc",
    );
    std::fs::read(out).expect("read")
}

#[test]
fn an_elf_package_note_names_the_component_and_outranks_strings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut t = Tree::default();
    let mut add = |path: &str, data: Vec<u8>| {
        let entry = Entry {
            kind: Kind::File(data),
            mode: 0o755,
            uid: 0,
            gid: 0,
        };
        t.insert(Path::new(path), entry).expect("safe path");
    };
    // The note names the source package, with Debian's version form.
    add(
        "usr/bin/rsync",
        program_with_package_note(
            dir.path(),
            "rsync",
            r#"{"type":"deb","os":"ubuntu","name":"rsync","version":"3.4.1+ds1-7","architecture":"amd64"}"#,
        ),
    );
    // A note naming dbus is not Berkeley DB's (whose packages are `db*`-named).
    add(
        "usr/bin/dbus-daemon",
        program_with_package_note(
            dir.path(),
            "dbus-daemon",
            r#"{"type":"deb","os":"ubuntu","name":"dbus","version":"1.16.2-2ubuntu4","architecture":"amd64"}"#,
        ),
    );
    // A pre-release package: `~` sorts it before 0.27.0, and the version keeps its tag.
    add(
        "usr/bin/opensc-tool",
        program_with_package_note(
            dir.path(),
            "opensc-tool",
            r#"{"type":"deb","os":"ubuntu","name":"opensc","version":"0.27.0~rc1-1","architecture":"amd64"}"#,
        ),
    );
    let components = inventory(&t);
    let opensc = components
        .iter()
        .find(|c| c.product == "opensc")
        .unwrap_or_else(|| panic!("{components:#?}"));
    assert_eq!(opensc.version, "0.27.0rc1");
    assert!(
        opensc
            .cpe
            .as_deref()
            .is_some_and(|c| c.contains(":opensc:0.27.0:rc1:")),
        "{opensc:#?}"
    );
    let rsync = components
        .iter()
        .find(|c| c.product == "rsync")
        .unwrap_or_else(|| panic!("{components:#?}"));
    assert_eq!(rsync.version, "3.4.1");
    assert_eq!(rsync.relation, Relation::Is);
    assert!(
        rsync
            .evidence
            .iter()
            .any(|e| e.technique == Technique::ManifestAnalysis
                && e.value.contains("package note: rsync 3.4.1+ds1-7")),
        "{rsync:#?}"
    );
    assert!(
        !components.iter().any(|c| c.product == "berkeley_db"),
        "{components:#?}"
    );
}
