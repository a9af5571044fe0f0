//! Our stored log checked by an implementation we did not write: Go's
//! golang.org/x/mod/sumdb/tlog and sumdb/note (Debian's golang-golang-x-mod-dev). The checker
//! in tests/go/tlogcheck verifies the checkpoint signature with note.Open, builds x/mod's own
//! tree from our entry bundles and compares every one of our hash tiles with it byte for
//! byte, reads every leaf hash through x/mod's TileHashReader (checked against the signed
//! root), and compares our inclusion and consistency proofs with x/mod's.
//!
//! Why both: x/mod 0.7.0's TileHashReader leaves some tiles it reads unchecked (it checks
//! tiles against their parents only from position `len(stx)` of its read list, though several
//! right-edge subtree hashes share one tile), so in a tree of 1000 a damaged `tile/0/001`
//! passes it. The byte-for-byte comparison covers every tile.
//!
//! Needs `go` and the x/mod sources: `bash scripts/interop-tlog.sh --install`. Without them
//! these tests fail and say so, unless IOTMARK_SKIP_GO_INTEROP=1.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use iotmark_log::log::Log;
use iotmark_log::merkle::{self, Hash, MemoryTree};
use iotmark_log::note::NoteSigner;
use iotmark_log::storage::DirStorage;
use iotmark_log::tiles::{self, TileId};
use serde_json::json;

/// Where Debian's golang-golang-x-mod-dev puts the x/mod sources (a GOPATH tree).
const DEBIAN_GOCODE: &str = "/usr/share/gocode";
const HINT: &str = "run `bash scripts/interop-tlog.sh --install` (or set \
                    IOTMARK_SKIP_GO_INTEROP=1 to skip the x/mod cross-check)";

fn gopath() -> PathBuf {
    std::env::var_os("IOTMARK_GOPATH").map_or_else(|| PathBuf::from(DEBIAN_GOCODE), PathBuf::from)
}

/// `go` with everything that could make it reach the network or read user settings off:
/// GOPATH mode over the Debian sources, no proxy, no toolchain switching.
fn go(cache: &Path) -> Command {
    let mut c = Command::new("go");
    c.env("GO111MODULE", "off")
        .env("GOPATH", gopath())
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOENV", "off")
        .env("CGO_ENABLED", "0")
        .env("GOCACHE", cache);
    c
}

/// The checker binary, built on first use and kept under the target directory, named by a
/// digest of its source and the toolchain so a changed checker is rebuilt. `None` when the
/// check is switched off.
fn checker() -> Option<PathBuf> {
    if std::env::var("IOTMARK_SKIP_GO_INTEROP").as_deref() == Ok("1") {
        eprintln!(
            "go_interop: skipped (IOTMARK_SKIP_GO_INTEROP=1): the x/mod cross-check did not run"
        );
        return None;
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-interop");
    let cache = work.join("go-build-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let version = match go(&cache).arg("version").output() {
        Ok(o) if o.status.success() => o.stdout,
        Ok(o) => panic!(
            "`go version` failed: {}; {HINT}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("the Go toolchain (`go`) is not available ({e}); {HINT}"),
    };
    for pkg in ["tlog", "note"] {
        let src = gopath().join(format!("src/golang.org/x/mod/sumdb/{pkg}"));
        assert!(
            src.is_dir(),
            "the x/mod sources are missing: {} is not a directory; {HINT}",
            src.display()
        );
    }
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/tlogcheck");
    let source = std::fs::read(src_dir.join("main.go")).unwrap();
    let mut id = source.clone();
    id.extend_from_slice(&version);
    id.extend_from_slice(gopath().to_string_lossy().as_bytes());
    let exe = work.join(format!(
        "tlogcheck-{}",
        &merkle::hex(&merkle::sha256(&id))[..16]
    ));
    if exe.is_file() {
        return Some(exe);
    }
    // Built beside the final name and renamed, so tests building at once never see half a file.
    let tmp = tempfile::tempdir_in(&work).unwrap();
    let out = go(&cache)
        .current_dir(&src_dir)
        .arg("build")
        .arg("-o")
        .arg(tmp.path().join("tlogcheck"))
        .arg("main.go")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building the x/mod checker failed (offline, GOPATH={}):\n{}\n{HINT}",
        gopath().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(tmp.path().join("tlogcheck"), &exe).unwrap();
    // Checkers built from earlier versions of the source are of no further use.
    for old in std::fs::read_dir(&work).unwrap().flatten() {
        let name = old.file_name();
        if name.to_string_lossy().starts_with("tlogcheck-") && old.path() != exe {
            let _ = std::fs::remove_file(old.path());
        }
    }
    Some(exe)
}

/// Entries of varied shape: mostly short text, some empty, some longer than 255 bytes (both
/// bytes of the length prefix matter), and one of the largest size a bundle can frame.
fn entry(i: u64) -> Vec<u8> {
    if i == 1 {
        (0..u16::MAX).map(|b| (b % 251) as u8).collect()
    } else if i % 97 == 5 {
        Vec::new()
    } else if i.is_multiple_of(13) {
        format!("long entry {i} ").repeat(20).into_bytes()
    } else {
        format!("iotmark interop entry {i}").into_bytes()
    }
}

/// A stored log, the checkpoint after every batch, and our proofs written for the checker.
struct Built {
    tmp: tempfile::TempDir,
    origin: String,
    vkey: String,
    size: u64,
    root: Hash,
    inclusion: usize,
    consistency: usize,
}

impl Built {
    fn dir(&self) -> PathBuf {
        self.tmp.path().join("log")
    }

    fn proofs(&self) -> PathBuf {
        self.tmp.path().join("proofs.json")
    }
}

fn build_log(batches: &[u64]) -> Built {
    let size: u64 = batches.iter().sum();
    let origin = format!("interop.iotmark.example/log-{size}");
    let tmp = tempfile::tempdir().unwrap();
    let signer = NoteSigner::from_seed(&origin, &[size as u8; 32]).unwrap();
    let mut log = Log::open(DirStorage::open(tmp.path().join("log")).unwrap(), signer).unwrap();
    let mut heads = Vec::new();
    let mut mem = MemoryTree::new();
    let mut next = 0;
    for &n in batches {
        let batch: Vec<Vec<u8>> = (next..next + n).map(entry).collect();
        log.append_batch(&batch).unwrap();
        for e in &batch {
            mem.push_leaf_hash(merkle::leaf_hash(e));
        }
        next += n;
        heads.push((log.checkpoint().size, log.checkpoint().root));
    }
    let cp = log.checkpoint().clone();
    assert_eq!(cp.size, size);

    // Inclusion: every entry of a small tree, tile and subtree edges of a large one, and a
    // few entries of every earlier checkpoint (those proofs come from the old partial tiles).
    let mut inclusion = BTreeSet::new();
    if size <= 300 {
        inclusion.extend((0..size).map(|i| (size, i)));
    } else {
        for i in [0, 1, 2, 255, 256, 257, 511, 512, 4095, 65535, 65536, 65537] {
            inclusion.insert((size, i));
        }
        inclusion.extend((0..size).step_by(997).map(|i| (size, i)));
        inclusion.extend([size / 2, size - 2, size - 1].map(|i| (size, i)));
    }
    for &(s, _) in &heads {
        inclusion.extend([0, s / 2, s - 1].map(|i| (s, i)));
    }
    inclusion.retain(|&(s, i)| i < s);
    let inclusion: Vec<_> = inclusion
        .into_iter()
        .map(|(s, i)| {
            let proof = log.inclusion_proof(i, s).unwrap();
            json!({"size": s, "index": i, "proof": proof.iter().map(|h| merkle::hex(h)).collect::<Vec<_>>()})
        })
        .collect();

    // Consistency: from every earlier checkpoint to the current tree and to the next
    // checkpoint, and from sizes no checkpoint had (roots from our in-memory tree).
    let mut consistency = BTreeSet::new();
    for (k, &(s, _)) in heads.iter().enumerate() {
        consistency.insert((s, size));
        if let Some(&(next, _)) = heads.get(k + 1) {
            consistency.insert((s, next));
        }
    }
    for s in [
        1,
        2,
        3,
        7,
        255,
        256,
        257,
        511,
        65535,
        65537,
        size.saturating_sub(1),
    ] {
        consistency.insert((s, size));
    }
    consistency.retain(|&(old, new)| old >= 1 && old <= new && new <= size);
    let consistency: Vec<_> = consistency
        .into_iter()
        .map(|(old, new)| {
            let proof = log.consistency_proof(old, new).unwrap();
            let old_root = mem.root_at(old).unwrap();
            if let Some(&(_, root)) = heads.iter().find(|&&(s, _)| s == old) {
                assert_eq!(old_root, root, "checkpoint root at size {old}");
            }
            json!({
                "old_size": old,
                "old_root": merkle::hex(&old_root),
                "size": new,
                "proof": proof.iter().map(|h| merkle::hex(h)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let built = Built {
        origin,
        vkey: log.verifier().to_string(),
        size,
        root: cp.root,
        inclusion: inclusion.len(),
        consistency: consistency.len(),
        tmp,
    };
    std::fs::write(
        built.proofs(),
        serde_json::to_vec(&json!({"inclusion": inclusion, "consistency": consistency})).unwrap(),
    )
    .unwrap();
    built
}

fn run(exe: &Path, b: &Built) -> Output {
    Command::new(exe)
        .arg("-dir")
        .arg(b.dir())
        .args(["-vkey", &b.vkey, "-origin", &b.origin, "-proofs"])
        .arg(b.proofs())
        .output()
        .unwrap()
}

fn assert_passes(exe: &Path, b: &Built) {
    let out = run(exe, b);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "x/mod checker refused the log of size {}:\n{stdout}{}",
        b.size,
        String::from_utf8_lossy(&out.stderr)
    );
    let head = format!(
        "ok: {} size {} root {}",
        b.origin,
        b.size,
        merkle::hex(&b.root)
    );
    assert!(stdout.starts_with(&head), "expected {head:?}, got {stdout}");
    if b.size > 0 {
        // x/mod compared every hash tile of the tree and every entry, and every proof we wrote.
        let tiles = tiles::tiles_of_tree(b.size).len();
        for part in [
            format!(
                "all {tiles} hash tiles equal x/mod's tree built from the {} entries, whose root is the signed root",
                b.size
            ),
            "through x/mod's TileHashReader every leaf hash = tlog.RecordHash(entry)".to_owned(),
            format!(
                "{} inclusion and {} consistency proofs equal x/mod's",
                b.inclusion, b.consistency
            ),
        ] {
            assert!(stdout.contains(&part), "expected {part:?} in {stdout}");
        }
    }
}

/// The checker must exit 1 and its message must contain every one of `expect`.
fn assert_fails(exe: &Path, b: &Built, expect: &[&str]) {
    let out = run(exe, b);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "x/mod checker should have refused the log:\n{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.starts_with("FAIL: "), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "expected {e:?} in: {stderr}");
    }
}

fn flip(path: &Path, offset: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[offset] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

/// Sizes 0, 1, 255, 256 and 257 (an empty tree, partial and exactly full tiles) and 1000 (a
/// partial level-1 tile), each grown in several batches.
#[test]
fn x_mod_accepts_our_small_logs_and_agrees_with_our_proofs() {
    let Some(exe) = checker() else { return };
    for batches in [
        &[][..],
        &[1],
        &[100, 155],
        &[255, 1],
        &[256, 1],
        &[1, 2, 253, 300, 444],
    ] {
        assert_passes(&exe, &build_log(batches));
    }
}

/// Size 70 000, the tlog-tiles example: full and partial tiles at levels 0 and 1 and a
/// partial level-2 tile, with checkpoints at 65 536 (a full level-1 tile) and just after.
#[test]
fn x_mod_accepts_our_log_of_70000_entries() {
    let Some(exe) = checker() else { return };
    assert_passes(&exe, &build_log(&[1, 255, 65_280, 1, 4_463]));
}

/// x/mod's tile coordinate paths, without their height element, are ours: the same
/// three-digit groups with `x` prefixes and the same partial-tile suffix.
#[test]
fn x_mod_tile_paths_are_ours_without_the_height() {
    let Some(exe) = checker() else { return };
    let mut ids = Vec::new();
    for index in [0, 5, 999, 1000, 1001, 123_456, 1_234_067, 999_999_999_999] {
        for (level, width) in [(0, 256), (0, 1), (1, 17), (2, 255), (63, 256)] {
            ids.push(TileId {
                level,
                index,
                width,
            });
        }
    }
    let input: String = ids
        .iter()
        .flat_map(|t| {
            [
                format!("{} {} {}\n", t.level, t.index, t.width),
                format!("-1 {} {}\n", t.index, t.width),
            ]
        })
        .collect();
    let mut child = Command::new(&exe)
        .arg("paths")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let ours: Vec<String> = ids
        .iter()
        .flat_map(|t| [t.hash_path(), t.entries_path()])
        .collect();
    assert_eq!(theirs, ours);
}

/// A flipped bit in a hash tile: the checker names the tile and the hash, and says the tile
/// is wrong because x/mod's tree over the entries still has the signed root. A full leaf
/// tile, the partial right-edge leaf tile, and a level-1 tile.
#[test]
fn a_damaged_hash_tile_is_refused_and_named() {
    let Some(exe) = checker() else { return };
    let batches = [1, 2, 253, 300, 444];
    for (path, hash, expect) in [
        ("tile/0/001", 3, "tile/0/001 hash 3 (leaf 259) is "),
        (
            "tile/0/003.p/232",
            200,
            "tile/0/003.p/232 hash 200 (leaf 968) is ",
        ),
        (
            "tile/1/000.p/3",
            1,
            "tile/1/000.p/3 hash 1 (node 1 at tree level 8) is ",
        ),
    ] {
        let b = build_log(&batches);
        assert_passes(&exe, &b);
        flip(&b.dir().join(path), hash * 32 + 7);
        let mut expect = vec![
            expect.to_owned(),
            "but x/mod's tree built from the entries has ".to_owned(),
            "that tree's root is the signed root, so the tile is wrong".to_owned(),
        ];
        if let Some(index) = path.strip_prefix("tile/0/") {
            expect.push(format!(
                "= tlog.RecordHash(entry {hash} of tile/entries/{index})"
            ));
        }
        assert_fails(
            &exe,
            &b,
            &expect.iter().map(String::as_str).collect::<Vec<_>>(),
        );
    }
}

#[test]
fn a_missing_hash_tile_is_named() {
    let Some(exe) = checker() else { return };
    let b = build_log(&[1, 2, 253, 300, 444]);
    std::fs::remove_file(b.dir().join("tile/0/000")).unwrap();
    assert_fails(&exe, &b, &["hash tile: tile/0/000: open ", "no such file"]);
}

/// An entry changed in its bundle: its leaf hash no longer matches, and x/mod's tree over the
/// entries no longer has the signed root, so the entry is what is wrong.
#[test]
fn a_damaged_entry_bundle_is_refused_and_the_entry_named() {
    let Some(exe) = checker() else { return };
    let b = build_log(&[1, 2, 253, 300, 444]);
    assert_passes(&exe, &b);
    // Entry 522 is the 11th of bundle 2 (entries 512..768); skip the ten before it and its
    // own length prefix.
    let offset: usize = (512..522).map(|i| 2 + entry(i).len()).sum::<usize>() + 2 + 3;
    assert!(!entry(522).is_empty());
    flip(&b.dir().join("tile/entries/002"), offset);
    assert_fails(
        &exe,
        &b,
        &[
            "tile/0/002 hash 10 (leaf 522) is ",
            "= tlog.RecordHash(entry 10 of tile/entries/002)",
            "is not the signed root",
            "so the entries are not what the checkpoint signed",
        ],
    );
}

/// One flipped bit in the Ed25519 signature: x/mod's note.Open rejects the checkpoint.
#[test]
fn a_damaged_checkpoint_signature_is_refused() {
    let Some(exe) = checker() else { return };
    let b = build_log(&[1, 2, 253, 300, 444]);
    assert_passes(&exe, &b);
    let path = b.dir().join("checkpoint");
    let text = std::fs::read_to_string(&path).unwrap();
    let (body, sig_line) = text.trim_end().rsplit_once('\n').unwrap();
    let (prefix, b64) = sig_line.rsplit_once(' ').unwrap();
    let mut sig = STANDARD.decode(b64).unwrap();
    sig[4 + 10] ^= 0x01; // past the 4-byte key ID, inside the signature
    std::fs::write(
        &path,
        format!("{body}\n{prefix} {}\n", STANDARD.encode(&sig)),
    )
    .unwrap();
    // The key's name and ID; the base64 key after them may itself contain '+'.
    let key: Vec<&str> = b.vkey.splitn(3, '+').take(2).collect();
    let key = key.join("+");
    assert_fails(
        &exe,
        &b,
        &[
            &format!("checkpoint: the signature by {key} does not verify"),
            "invalid signature for key",
        ],
    );
}

/// A proof hash changed after our log produced it: x/mod's proof differs, and the checker
/// names the proof and the hash.
#[test]
fn a_wrong_proof_is_refused_and_named() {
    let Some(exe) = checker() else { return };
    let b = build_log(&[1, 2, 253, 300, 444]);
    assert_passes(&exe, &b);
    let original = std::fs::read(b.proofs()).unwrap();
    let edit = |kind: &str, pick: &dyn Fn(&serde_json::Value) -> bool, at: usize| {
        let mut v: serde_json::Value = serde_json::from_slice(&original).unwrap();
        let item = v[kind]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|p| pick(p))
            .unwrap();
        let h = item["proof"][at].as_str().unwrap();
        let flipped = format!("{}{}", if h.starts_with('0') { "1" } else { "0" }, &h[1..]);
        item["proof"][at] = flipped.into();
        std::fs::write(b.proofs(), serde_json::to_vec(&v).unwrap()).unwrap();
    };
    edit("inclusion", &|p| p["size"] == 1000 && p["index"] == 257, 2);
    assert_fails(
        &exe,
        &b,
        &["inclusion proof of entry 257 in the tree of size 1000: hash 2 differs: ours "],
    );
    edit(
        "consistency",
        &|p| p["old_size"] == 556 && p["size"] == 1000,
        0,
    );
    assert_fails(
        &exe,
        &b,
        &["consistency proof from size 556 to 1000: hash 0 differs: ours "],
    );
}
