//! The stored log as a user meets it: appends that survive reopening and kill -9, proofs that
//! verify against signed checkpoints, and audits that name the exact tile when one is damaged.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use iotmark_log::checkpoint::{self, Checkpoint, CheckpointError};
use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::log::{self, Log, LogError};
use iotmark_log::merkle;
use iotmark_log::note::{NoteError, NoteSigner};
use iotmark_log::storage::{DirStorage, Storage};
use iotmark_log::tiles::{self, TileError, TileKind};

const SEED: [u8; 32] = [7; 32];
const ORIGIN: &str = "log.iotmark.example/test";

fn signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, &SEED).unwrap()
}

fn entries(from: u64, n: u64) -> Vec<Vec<u8>> {
    (from..from + n)
        .map(|i| format!("entry {i}").into_bytes())
        .collect()
}

fn open(dir: &Path) -> Log<DirStorage> {
    Log::open(DirStorage::open(dir).unwrap(), signer()).unwrap()
}

#[test]
fn appends_survive_reopening_and_proofs_verify_against_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let mut checkpoints = Vec::new();
    {
        let mut log = open(dir.path());
        assert_eq!(log.checkpoint().size, 0);
        let mut size = 0;
        for n in [1u64, 255, 3, 600, 1] {
            let idx = log.append_batch(&entries(size, n)).unwrap();
            assert_eq!(idx, (size..size + n).collect::<Vec<_>>());
            size += n;
            checkpoints.push(log.signed_checkpoint().to_owned());
        }
    }
    let log = open(dir.path());
    let v = log.verifier();
    let (cp, _) = checkpoint::open(
        log.signed_checkpoint().as_bytes(),
        ORIGIN,
        std::slice::from_ref(&v),
    )
    .unwrap();
    assert_eq!(cp.size, 860);
    for i in [0u64, 1, 255, 256, 511, 858, 859] {
        let e = log.entry(i).unwrap();
        assert_eq!(e, format!("entry {i}").into_bytes());
        let proof = log.inclusion_proof(i, cp.size).unwrap();
        merkle::verify_inclusion(i, cp.size, &merkle::leaf_hash(&e), &proof, &cp.root).unwrap();
    }
    // Every earlier checkpoint is consistent with the current one, and proofs against old
    // checkpoints still come from the (kept) old partial tiles.
    for signed in &checkpoints {
        let (old, _) =
            checkpoint::open(signed.as_bytes(), ORIGIN, std::slice::from_ref(&v)).unwrap();
        let p = log.consistency_proof(old.size, cp.size).unwrap();
        merkle::verify_consistency(old.size, cp.size, &p, &old.root, &cp.root).unwrap();
        let p = log.inclusion_proof(0, old.size).unwrap();
        merkle::verify_inclusion(0, old.size, &merkle::leaf_hash(b"entry 0"), &p, &old.root)
            .unwrap();
        let report = log::audit(log.storage(), &v, &old).unwrap();
        assert_eq!(report.current, cp);
    }
    assert!(matches!(
        log.entry(860),
        Err(LogError::NoSuchEntry {
            index: 860,
            size: 860
        })
    ));
    assert!(matches!(
        log.inclusion_proof(0, 861),
        Err(LogError::BeyondCheckpoint { .. })
    ));
}

/// Receipts through one cache kept across checkpoints, as the registry makes them, are the
/// receipts made from disk, and verify against the checkpoint they carry, however the log
/// grew since the cache first saw its tiles.
#[test]
fn receipts_through_a_kept_cache_match_and_verify_as_the_log_grows() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    let cache = tiles::TileCache::new(64 << 20);
    let mut size = 0;
    for n in [300u64, 1, 255, 700, 2] {
        log.append_batch(&entries(size, n)).unwrap();
        size += n;
        let note = log.signed_checkpoint().as_bytes().to_vec();
        for i in [0, 1, 255, 256, size / 2, size - 1] {
            let cached = log::receipt_cached(log.storage(), &note, i, &cache).unwrap();
            let plain = log::receipt_at(log.storage(), &note, i).unwrap();
            assert_eq!(cached.proof, plain.proof, "proof of {i} at {size}");
            assert_eq!(cached.extra, plain.extra, "entry {i} at {size}");
            assert_eq!(
                cached.extra.as_deref(),
                Some(format!("entry {i}").as_bytes())
            );
            cached
                .verify(&cached.extra.clone().unwrap(), ORIGIN, &[log.verifier()])
                .unwrap();
        }
        assert!(matches!(
            log::receipt_cached(log.storage(), &note, size, &cache),
            Err(LogError::NoSuchEntry { .. })
        ));
    }
}

#[test]
fn leaf_records_and_envelopes_are_stored_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    let envelope =
        br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}"#;
    let digest = log.put_envelope(envelope).unwrap();
    let rec = LeafRecord {
        kind: LeafKind::Declaration,
        statement_digest: merkle::sha256(b"{}"),
        envelope_digest: digest,
        signer_key_id: "lab.example+01020304".into(),
        time: 1_790_000_000,
    };
    let idx = log.append_records(std::slice::from_ref(&rec)).unwrap();
    let back = LeafRecord::decode(&log.entry(idx[0]).unwrap()).unwrap();
    assert_eq!(back, rec);
    assert_eq!(log.envelope(&back.envelope_digest).unwrap(), envelope);
    // An envelope altered on disk is refused by digest.
    let h = merkle::hex(&digest);
    std::fs::write(
        dir.path().join(format!("envelopes/{}/{h}", &h[..2])),
        b"forged",
    )
    .unwrap();
    assert!(matches!(
        log.envelope(&digest),
        Err(LogError::EnvelopeDigest { .. })
    ));
}

fn built_log(dir: &Path, size: u64) -> Checkpoint {
    let mut log = open(dir);
    log.append_batch(&entries(0, size)).unwrap();
    log.checkpoint().clone()
}

#[test]
fn a_truncated_tile_on_disk_is_named_by_audit_and_breaks_proofs() {
    let dir = tempfile::tempdir().unwrap();
    let cp = built_log(dir.path(), 700);
    let trusted = Checkpoint::empty(ORIGIN);
    let path = dir.path().join("tile/0/001");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
    let s = DirStorage::open(dir.path()).unwrap();
    let err = log::audit(&s, &signer().verifier(), &trusted).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tile/0/001 is 8187 bytes, expected 8192 (256 hashes of 32 bytes)"
    );
    // A proof served from the damaged tile cannot be produced.
    let log = Log::open(s, signer()).unwrap();
    assert!(matches!(
        log.inclusion_proof(300, cp.size),
        Err(LogError::Tile(TileError::BadTileLength { .. }))
    ));
}

#[test]
fn an_altered_hash_in_a_tile_is_named_by_audit_and_its_proofs_fail() {
    let dir = tempfile::tempdir().unwrap();
    let cp = built_log(dir.path(), 700);
    let path = dir.path().join("tile/0/001");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[32 * 44 + 3] ^= 0x10; // leaf 256 + 44 = 300
    std::fs::write(&path, &bytes).unwrap();
    let s = DirStorage::open(dir.path()).unwrap();
    match log::audit(&s, &signer().verifier(), &Checkpoint::empty(ORIGIN)).unwrap_err() {
        LogError::Tile(TileError::HashMismatch {
            path,
            level,
            position,
            node_index,
            derived_from,
            ..
        }) => {
            assert_eq!(
                (path.as_str(), level, position, node_index),
                ("tile/0/001", 0, 44, 300)
            );
            assert_eq!(derived_from, "entry 44 of tile/entries/001");
        }
        other => panic!("unexpected {other}"),
    }
    // A client holding the signed checkpoint rejects proofs built from the altered tile.
    let log = Log::open(s, signer()).unwrap();
    let leaf = merkle::leaf_hash(b"entry 301");
    let proof = log.inclusion_proof(301, cp.size).unwrap();
    let err = merkle::verify_inclusion(301, cp.size, &leaf, &proof, &cp.root).unwrap_err();
    assert!(
        matches!(err, merkle::ProofError::RootMismatch { .. }),
        "{err}"
    );
}

#[test]
fn an_altered_entry_bundle_and_a_level1_tile_are_named_by_audit() {
    let dir = tempfile::tempdir().unwrap();
    built_log(dir.path(), 700);
    let bundle = dir.path().join("tile/entries/000");
    let mut b = std::fs::read(&bundle).unwrap();
    // Entry 0 starts at byte 2 ("entry 0"); change its last byte.
    b[2 + 6] = b'X';
    std::fs::write(&bundle, &b).unwrap();
    let s = DirStorage::open(dir.path()).unwrap();
    let err = log::audit(&s, &signer().verifier(), &Checkpoint::empty(ORIGIN)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("tile/0/000, hash 0 (leaf/node index 0"),
        "{err}"
    );
    drop(s);

    let dir = tempfile::tempdir().unwrap();
    built_log(dir.path(), 700);
    let l1 = dir.path().join("tile/1/000.p/2");
    let mut b = std::fs::read(&l1).unwrap();
    b[40] ^= 1;
    std::fs::write(&l1, &b).unwrap();
    let s = DirStorage::open(dir.path()).unwrap();
    let err = log::audit(&s, &signer().verifier(), &Checkpoint::empty(ORIGIN)).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("tile/1/000.p/2, hash 1 (leaf/node index 1 at tile level 1)"),
        "{err}"
    );
}

#[test]
fn a_forked_checkpoint_is_reported_as_inconsistent_with_the_trusted_one() {
    // The operator rewrites history: a second log with other entry 5, same key and origin.
    let dir = tempfile::tempdir().unwrap();
    let trusted = built_log(dir.path(), 10);
    let fork = tempfile::tempdir().unwrap();
    {
        let mut log = open(fork.path());
        let mut e = entries(0, 20);
        e[5] = b"rewritten".to_vec();
        log.append_batch(&e).unwrap();
    }
    let s = DirStorage::open(fork.path()).unwrap();
    let err = log::audit(&s, &signer().verifier(), &trusted).unwrap_err();
    match &err {
        LogError::Inconsistent {
            trusted_size: 10,
            current_size: 20,
            reason,
            ..
        } => {
            assert!(reason.contains("old root"), "{reason}");
            assert!(reason.contains("the current tiles give root"), "{reason}");
        }
        other => panic!("unexpected {other}"),
    }
    // And a shrunk log.
    let small = tempfile::tempdir().unwrap();
    built_log(small.path(), 3);
    let s = DirStorage::open(small.path()).unwrap();
    assert!(matches!(
        log::audit(&s, &signer().verifier(), &trusted),
        Err(LogError::Shrunk {
            trusted: 10,
            current: 3
        })
    ));
}

#[test]
fn a_tampered_checkpoint_file_fails_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    built_log(dir.path(), 10);
    let p = dir.path().join("checkpoint");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replacen("\n10\n", "\n11\n", 1);
    std::fs::write(&p, text).unwrap();
    let s = DirStorage::open(dir.path()).unwrap();
    assert!(matches!(
        log::audit(&s, &signer().verifier(), &Checkpoint::empty(ORIGIN)),
        Err(LogError::Checkpoint(CheckpointError::Note(
            NoteError::InvalidSignature { .. }
        )))
    ));
    assert!(Log::open(s, signer()).is_err());
}

/// A batch that crashed after writing some tiles but before its checkpoint is not part of the
/// log; the next batch overwrites what it left, and the log audits clean.
#[test]
fn leftovers_of_an_uncommitted_batch_are_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    built_log(dir.path(), 250);
    {
        let s = DirStorage::open(dir.path()).unwrap();
        let ghost: Vec<Vec<u8>> = (0..300)
            .map(|i| format!("ghost {i}").into_bytes())
            .collect();
        let a = tiles::append(&mut iotmark_log::storage::StorageTiles(&s), 250, &ghost).unwrap();
        for (id, b) in &a.bundles {
            s.write_tile(
                TileKind::Entries,
                *id,
                &tiles::encode_bundle(b).unwrap(),
                true,
            )
            .unwrap();
        }
        for (id, h) in &a.hash_tiles {
            s.write_tile(TileKind::Hashes, *id, &tiles::encode_hash_tile(h), true)
                .unwrap();
        }
        // No checkpoint: the process "died" here.
    }
    let mut log = open(dir.path());
    assert_eq!(log.checkpoint().size, 250);
    log.append_batch(&entries(250, 300)).unwrap();
    assert_eq!(log.entry(300).unwrap(), b"entry 300");
    let v = log.verifier();
    log::audit(log.storage(), &v, &Checkpoint::empty(ORIGIN)).unwrap();
}

const CRASH_DIR: &str = "IOTMARK_LOG_CRASH_DIR";

/// Child process for the kill -9 test: appends batches forever and prints `ACK <last index>`
/// after each `append_batch` returns. Does nothing unless started by the parent test.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CRASH_DIR) else {
        return;
    };
    let mut log = open(Path::new(&dir));
    loop {
        let size = log.checkpoint().size;
        let n = 1 + size % 37;
        let idx = log.append_batch(&entries(size, n)).unwrap();
        println!("ACK {}", idx.last().unwrap());
    }
}

/// kill -9 at arbitrary moments (after a varying number of acknowledgements, while the child is
/// in the middle of further batches): every acknowledged entry is there after restart, no tile
/// is torn, and the log audits clean.
#[test]
fn kill_9_loses_no_acknowledged_entry_and_leaves_no_torn_tile() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Option<u64> = None;
    for round in 0..6u64 {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CRASH_DIR, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let wanted = 3 + round * 7;
        let mut seen = 0;
        let mut line = String::new();
        while seen < wanted {
            line.clear();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the child stopped early"
            );
            if let Some(i) = line.trim().strip_prefix("ACK ") {
                acked = Some(i.parse().unwrap());
                seen += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        drop(out);

        let log = open(dir.path());
        let last = acked.unwrap();
        assert!(
            log.checkpoint().size > last,
            "round {round}: acknowledged {last} lost"
        );
        for i in [0, last / 2, last] {
            assert_eq!(log.entry(i).unwrap(), format!("entry {i}").into_bytes());
        }
        let v = log.verifier();
        log::audit(log.storage(), &v, &Checkpoint::empty(ORIGIN)).unwrap();
    }
}

#[test]
fn a_read_only_view_reads_beside_the_writer_and_refuses_every_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = open(dir.path());
    log.append_batch(&entries(0, 300)).unwrap();
    // The writer still holds its lock; a second writer is refused, a reader is not.
    assert!(matches!(
        DirStorage::open(dir.path()),
        Err(iotmark_log::storage::StorageError::Locked { .. })
    ));
    let view = DirStorage::open_read_only(dir.path()).unwrap();
    let report = log::audit(&view, &signer().verifier(), &Checkpoint::empty(ORIGIN)).unwrap();
    assert_eq!(report.current.size, 300);
    let checkpoint_before = view.read_checkpoint().unwrap();
    let full = tiles::TileId {
        level: 0,
        index: 0,
        width: 256,
    };
    let bytes = view.read_tile(TileKind::Hashes, full).unwrap().unwrap();
    let read_only = |r: Result<(), iotmark_log::storage::StorageError>| {
        assert!(
            matches!(r, Err(iotmark_log::storage::StorageError::ReadOnly { .. })),
            "{r:?}"
        );
    };
    read_only(view.write_checkpoint(b"forged"));
    read_only(view.write_tile(TileKind::Hashes, full, &bytes, true));
    read_only(view.write_batch(
        &[],
        &[iotmark_log::storage::TileWrite {
            kind: TileKind::Hashes,
            id: full,
            bytes: &bytes,
            replace: true,
        }],
    ));
    read_only(view.write_envelope(&merkle::sha256(b"x"), b"x"));
    assert_eq!(view.read_checkpoint().unwrap(), checkpoint_before);
    assert!(DirStorage::open_read_only(dir.path().join("missing")).is_err());
}

/// A crash between a temporary file's creation and its rename leaves it behind in `.tmp/`
/// (or, for a log written before temporaries had their own directory, at the root); the next
/// writer removes them and touches nothing else.
#[test]
fn temporaries_left_by_a_crash_are_removed_when_the_writer_opens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = open(dir.path());
        log.append_batch(&entries(0, 3)).unwrap();
    }
    let outside = tempfile::tempdir().unwrap();
    let kept = outside.path().join("not-the-logs");
    std::fs::write(&kept, b"not the log's").unwrap();
    let planted = [
        dir.path().join(".tmp/.tmp-4242-0"),
        dir.path().join(".tmp/.tmp-4242-1"),
        dir.path().join(".tmp-4242-2"),
    ];
    for p in &planted {
        std::fs::write(p, b"half a tile").unwrap();
    }
    // A link among the temporaries is removed itself; what it points to is not touched.
    std::os::unix::fs::symlink(&kept, dir.path().join(".tmp/.tmp-link")).unwrap();
    let mut log = open(dir.path());
    assert_eq!(log.checkpoint().size, 3);
    for p in &planted {
        assert!(!p.exists(), "{} is still there", p.display());
    }
    assert!(
        dir.path()
            .join(".tmp/.tmp-link")
            .symlink_metadata()
            .is_err()
    );
    assert_eq!(std::fs::read(&kept).unwrap(), b"not the log's");
    // The log goes on, and its writes leave no temporaries.
    log.append_batch(&entries(3, 2)).unwrap();
    assert_eq!(log.checkpoint().size, 5);
    assert_eq!(
        std::fs::read_dir(dir.path().join(".tmp")).unwrap().count(),
        0
    );
}

/// The log writes only regular files in real directories: a link planted in its place (for a
/// tile, a directory of tiles, the checkpoint or an envelope) is refused by name, never
/// followed to what it points at.
#[test]
fn links_planted_in_the_log_directory_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut log = open(dir.path());
        log.append_batch(&entries(0, 3)).unwrap();
    }
    let secret = dir.path().join("secret.key");
    std::fs::write(&secret, b"PRIVATE KEY").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("000"), b"PRIVATE KEY").unwrap();
    std::os::unix::fs::symlink(&secret, dir.path().join("tile/0/007")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("tile/1")).unwrap();
    let storage = DirStorage::open_read_only(dir.path()).unwrap();
    for (what, id) in [
        (
            "a linked tile",
            tiles::TileId {
                level: 0,
                index: 7,
                width: 256,
            },
        ),
        (
            "a tile in a linked directory",
            tiles::TileId {
                level: 1,
                index: 0,
                width: 256,
            },
        ),
    ] {
        match storage.read_tile(TileKind::Hashes, id) {
            Err(e) => assert!(e.to_string().contains("symbolic link"), "{what}: {e}"),
            Ok(bytes) => panic!("{what} was read: {bytes:?}"),
        }
    }
    // The real tiles still read.
    assert!(
        storage
            .read_tile(
                TileKind::Hashes,
                tiles::TileId {
                    level: 0,
                    index: 0,
                    width: 3
                }
            )
            .unwrap()
            .is_some()
    );
}
