//! Throughput of the transparency log, for benches/log.sh. Every append is durable: the log is
//! a `DirStorage` on the real disk, which fsyncs every file and directory it writes, and
//! nothing here turns that off.
//!
//! * `log_bench appends DIR SECS`: for each batch size (1, 64, 256, 1024, 4096), a fresh log
//!   in DIR/empty-<batch>, appended to through `Log::append_records` for SECS seconds.
//! * `log_bench build DIR SIZE...`: fills the log in DIR in batches of 4096 leaf records,
//!   committing exactly at each SIZE so that the tiles of each SIZE exist.
//! * `log_bench appends-on DIR SECS`: the batch-size sweep on the existing log in DIR.
//! * `log_bench stages DIR BATCH BATCHES`: where a batch's time goes (tile writes, tile reads,
//!   the checkpoint write, and the rest: hashing, encoding, signing).
//! * `log_bench sequencer DIR SECS WAIT_MS THREADS...`: submitter threads, each submitting one
//!   record at a time through a `Sequencer` (batches of at most 4096, closed WAIT_MS after
//!   their first entry) on the log in DIR and waiting for its commit.
//! * `log_bench disk-load DIR SECS`: another process's writes on the same disk, for measuring
//!   appends under contention: 1 MiB writes with an fsync every 8 MiB, for at most SECS.
//! * `log_bench proofs DIR N SIZE...`: N inclusion proofs for random leaves from the stored
//!   tiles of the tree of each SIZE, and their verification; then `xcheck` lines with the
//!   proofs of fixed leaves, which benches/log_peer.py compares with pymerkle's.
//!
//! Every result is one line of `key=value` fields after a word naming the measurement. Leaf
//! `i` is always `record(i)`, which benches/log_peer.py rebuilds byte for byte.
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::log::Log;
use iotmark_log::merkle::{self, Hash};
use iotmark_log::note::NoteSigner;
use iotmark_log::sequencer::Sequencer;
use iotmark_log::storage::{
    DirStorage, EnvelopeWrite, Storage, StorageError, StorageTiles, TileWrite,
};
use iotmark_log::tiles::{TileHashes, TileId, TileKind};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const ORIGIN: &str = "log.iotmark.example/bench";
/// A note key string of the usual shape, so that records are of realistic length (110 bytes).
const SIGNER_KEY_ID: &str = "conformity-lab.example.com+4f2a9c1e";
const T0: u64 = 1_790_000_000;
const BATCHES: [usize; 5] = [1, 64, 256, 1024, 4096];

fn signer() -> Result<NoteSigner> {
    Ok(NoteSigner::from_seed(ORIGIN, &[9; 32])?)
}

/// Leaf `i`: one revocation in a hundred, the rest declarations.
fn record(i: u64) -> LeafRecord {
    LeafRecord {
        kind: if i % 100 == 99 {
            LeafKind::Status
        } else {
            LeafKind::Declaration
        },
        statement_digest: merkle::sha256(format!("statement {i}").as_bytes()),
        envelope_digest: merkle::sha256(format!("envelope {i}").as_bytes()),
        signer_key_id: SIGNER_KEY_ID.to_owned(),
        time: T0 + i,
    }
}

fn open_log<S: Storage>(storage: S) -> Result<Log<S>> {
    Ok(Log::open(storage, signer()?)?)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let secs = |i: usize| -> Result<Duration> { Ok(Duration::from_secs_f64(arg(i).parse()?)) };
    let numbers = |from: usize| -> Result<Vec<u64>> {
        Ok(args
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|a| a.parse())
            .collect::<std::result::Result<_, _>>()?)
    };
    let dir = Path::new(arg(2));
    match arg(1) {
        "appends" if args.len() == 4 => {
            for batch in BATCHES {
                let log = open_log(DirStorage::open(dir.join(format!("empty-{batch}")))?)?;
                sweep_one(log, batch, secs(3)?, "empty")?;
            }
        }
        "appends-on" if args.len() == 4 => {
            for batch in BATCHES {
                let log = open_log(DirStorage::open(dir)?)?;
                let start = log.checkpoint().size.to_string();
                sweep_one(log, batch, secs(3)?, &start)?;
            }
        }
        "build" if args.len() >= 4 => build(dir, &numbers(3)?)?,
        "disk-load" if args.len() == 4 => disk_load(dir, secs(3)?)?,
        "stages" if args.len() == 5 => stages(dir, arg(3).parse()?, arg(4).parse()?)?,
        "sequencer" if args.len() >= 6 => {
            let wait = Duration::from_millis(arg(4).parse()?);
            for threads in numbers(5)? {
                sequencer(dir, secs(3)?, wait, threads as usize)?;
            }
        }
        "proofs" if args.len() >= 5 => {
            let n: usize = arg(3).parse()?;
            for size in numbers(4)? {
                proofs(dir, n, size)?;
            }
        }
        "growing" if args.len() == 6 => {
            growing(dir, arg(3).parse()?, arg(4).parse()?, arg(5).parse()?)?;
        }
        _ => {
            eprintln!(
                "usage: log_bench appends DIR SECS | build DIR SIZE... | appends-on DIR SECS \
                 | stages DIR BATCH BATCHES | disk-load DIR SECS | sequencer DIR SECS WAIT_MS THREADS... | proofs DIR N SIZE... \
                 | growing DIR ROUNDS RECEIPTS_PER_ROUND APPENDED_PER_ROUND"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}

/// Appends batches of `batch` records for at least `budget` (and at least 3 batches). Only
/// `append_records` is timed: in a server the records are made by the request handlers.
fn sweep_one<S: Storage>(
    mut log: Log<S>,
    batch: usize,
    budget: Duration,
    start: &str,
) -> Result<()> {
    let (mut spent, mut batches, mut entries) = (Duration::ZERO, 0u64, 0u64);
    let mut slowest = Duration::ZERO;
    while spent < budget || batches < 3 {
        let size = log.checkpoint().size;
        let records: Vec<LeafRecord> = (size..size + batch as u64).map(record).collect();
        let t = Instant::now();
        log.append_records(&records)?;
        let took = t.elapsed();
        spent += took;
        slowest = slowest.max(took);
        batches += 1;
        entries += batch as u64;
    }
    let s = spent.as_secs_f64();
    println!(
        "append start={start} batch={batch} batches={batches} entries={entries} secs={s:.3} \
         entries_per_s={:.0} ms_per_batch={:.2} slowest_ms={:.2}",
        entries as f64 / s,
        s * 1e3 / batches as f64,
        slowest.as_secs_f64() * 1e3
    );
    Ok(())
}

fn build(dir: &Path, sizes: &[u64]) -> Result<()> {
    let mut log = open_log(DirStorage::open(dir)?)?;
    for &target in sizes {
        let from = log.checkpoint().size;
        let t = Instant::now();
        while log.checkpoint().size < target {
            let size = log.checkpoint().size;
            let n = (target - size).min(4096);
            let records: Vec<LeafRecord> = (size..size + n).map(record).collect();
            log.append_records(&records)?;
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "build size={target} entries={} secs={s:.2} entries_per_s={:.0} (batches of 4096, \
             record generation included)",
            target.saturating_sub(from),
            target.saturating_sub(from) as f64 / s
        );
    }
    Ok(())
}

/// Storage that adds up the time spent in each kind of call.
#[derive(Debug)]
struct Timed<S> {
    inner: S,
    /// Nanoseconds: tile reads, tile writes, checkpoint writes.
    ns: [AtomicU64; 3],
}

impl<S> Timed<S> {
    fn time<T>(&self, slot: usize, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        self.ns[slot].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }
}

impl<S: Storage> Storage for Timed<S> {
    fn read_tile(
        &self,
        kind: TileKind,
        id: TileId,
    ) -> std::result::Result<Option<Vec<u8>>, StorageError> {
        self.time(0, || self.inner.read_tile(kind, id))
    }
    fn write_tile(
        &self,
        kind: TileKind,
        id: TileId,
        bytes: &[u8],
        replace: bool,
    ) -> std::result::Result<(), StorageError> {
        self.time(1, || self.inner.write_tile(kind, id, bytes, replace))
    }
    fn write_batch(
        &self,
        envelopes: &[EnvelopeWrite<'_>],
        tiles: &[TileWrite<'_>],
    ) -> std::result::Result<(), StorageError> {
        self.time(1, || self.inner.write_batch(envelopes, tiles))
    }
    fn read_checkpoint(&self) -> std::result::Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_checkpoint()
    }
    fn write_checkpoint(&self, bytes: &[u8]) -> std::result::Result<(), StorageError> {
        self.time(2, || self.inner.write_checkpoint(bytes))
    }
    fn read_envelope(&self, digest: &Hash) -> std::result::Result<Option<Vec<u8>>, StorageError> {
        self.inner.read_envelope(digest)
    }
    fn write_envelope(&self, digest: &Hash, bytes: &[u8]) -> std::result::Result<(), StorageError> {
        self.inner.write_envelope(digest, bytes)
    }
}

fn stages(dir: &Path, batch: u64, batches: u64) -> Result<()> {
    let timed = Timed {
        inner: DirStorage::open(dir)?,
        ns: Default::default(),
    };
    let mut log = open_log(timed)?;
    for slot in &log.storage().ns {
        slot.store(0, Ordering::Relaxed);
    }
    let start = log.checkpoint().size;
    let mut total = Duration::ZERO;
    let files_before = count_files(dir);
    for _ in 0..batches {
        let size = log.checkpoint().size;
        let records: Vec<LeafRecord> = (size..size + batch).map(record).collect();
        let t = Instant::now();
        log.append_records(&records)?;
        total += t.elapsed();
    }
    let files = count_files(dir).saturating_sub(files_before);
    let ms = |ns: u64| ns as f64 / 1e6 / batches as f64;
    let [reads, writes, cp] = log
        .storage()
        .ns
        .each_ref()
        .map(|a| a.load(Ordering::Relaxed));
    let total_ns = total.as_nanos() as u64;
    println!(
        "stages start={start} batch={batch} batches={batches} entries_per_s={:.0} ms_per_batch={:.2} \
         tile_writes_ms={:.2} checkpoint_write_ms={:.2} tile_reads_ms={:.2} rest_ms={:.2} \
         new_files_per_batch={:.1}",
        (batch * batches) as f64 / total.as_secs_f64(),
        ms(total_ns),
        ms(writes),
        ms(cp),
        ms(reads),
        ms(total_ns.saturating_sub(reads + writes + cp)),
        files as f64 / batches as f64
    );
    Ok(())
}

fn disk_load(dir: &Path, budget: Duration) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let chunk = vec![0x5au8; 1 << 20];
    let (t, mut written) = (Instant::now(), 0u64);
    while t.elapsed() < budget {
        let mut f = std::fs::File::create(dir.join(format!("load-{}", written / 8 % 8)))?;
        for _ in 0..8 {
            f.write_all(&chunk)?;
        }
        f.sync_all()?;
        written += 8;
    }
    Ok(())
}

fn count_files(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

fn sequencer(dir: &Path, budget: Duration, max_wait: Duration, threads: usize) -> Result<()> {
    const MAX_BATCH: usize = 4096;
    let log = open_log(DirStorage::open(dir)?)?;
    let start = log.checkpoint().size;
    let next = std::sync::Arc::new(AtomicU64::new(start));
    let seq = Sequencer::start(log, MAX_BATCH, max_wait);
    let errors = std::sync::Arc::new(Mutex::new(Vec::new()));
    let t = Instant::now();
    let deadline = t + budget;
    let mut handles = Vec::with_capacity(threads);
    for _ in 0..threads {
        let (sub, next, errors) = (seq.submitter(), next.clone(), errors.clone());
        handles.push(
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || {
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        let result = record(next.fetch_add(1, Ordering::Relaxed))
                            .encode()
                            .map_err(|e| e.to_string())
                            .and_then(|entry| sub.submit(entry).map_err(|e| e.to_string()));
                        match result {
                            Ok(_) => done += 1,
                            Err(e) => {
                                if let Ok(mut v) = errors.lock() {
                                    v.push(e);
                                }
                                return done;
                            }
                        }
                    }
                    done
                })?,
        );
    }
    let submitted: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let s = t.elapsed().as_secs_f64();
    let (log, stats) = seq.stop().ok_or("the sequencer's writer thread panicked")?;
    if let Ok(v) = errors.lock()
        && let Some(e) = v.first()
    {
        return Err(format!("{} submissions failed, the first: {e}", v.len()).into());
    }
    if stats.entries != submitted || log.checkpoint().size != start + submitted {
        return Err(format!(
            "{submitted} submissions acknowledged but the sequencer committed {} and the log grew by {}",
            stats.entries,
            log.checkpoint().size - start
        )
        .into());
    }
    println!(
        "sequencer start={start} threads={threads} entries={submitted} batches={} mean_batch={:.1} \
         secs={s:.2} entries_per_s={:.0} max_batch={MAX_BATCH} max_wait_ms={}",
        stats.batches,
        submitted as f64 / stats.batches.max(1) as f64,
        submitted as f64 / s,
        max_wait.as_millis()
    );
    Ok(())
}

/// splitmix64: reproducible random leaf indices without a dependency.
fn random_indices(n: usize, size: u64, mut seed: u64) -> Vec<u64> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % size
        })
        .collect()
}

/// Receipts (inclusion proof and entry) on a log that grows: each round appends
/// `appended` records (not timed) and signs a new checkpoint, then answers `per_round`
/// receipts for random entries of the new tree, as a server does: a fresh reader per request,
/// either alone (`receipt_at`) or sharing one `TileCache` that outlives the checkpoints
/// (`receipt_cached`, what the registry does); and the proof alone through the shared cache.
/// Every cached receipt is checked against the uncached one for the first 64 of each round.
/// Before the rounds the cache is warmed with one receipt per bundle, as a running server's
/// is; the warm-up is reported apart.
fn growing(dir: &Path, rounds: usize, per_round: usize, appended: u64) -> Result<()> {
    use iotmark_log::log::{receipt_at, receipt_cached};
    let mut log = open_log(DirStorage::open(dir)?)?;
    let start = log.checkpoint().size;
    // The registry's budget, or CACHE_MIB.
    let mib: usize = std::env::var("CACHE_MIB")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    let cache = iotmark_log::tiles::TileCache::new(mib << 20);
    // A server that has been up a while: one receipt from every bundle, so every tile has
    // been read once (timed apart).
    let warm_up = Instant::now();
    {
        let note = log.storage().read_checkpoint()?.ok_or("no checkpoint")?;
        for i in (0..start).step_by(256) {
            receipt_cached(log.storage(), &note, i, &cache)?;
        }
    }
    let warm_up = warm_up.elapsed().as_secs_f64();
    let (mut fresh, mut cached, mut proof_only, mut entry_from_disk) = (0f64, 0f64, 0f64, 0f64);
    for round in 0..rounds {
        let size = log.checkpoint().size;
        let records: Vec<LeafRecord> = (size..size + appended).map(record).collect();
        log.append_records(&records)?;
        let size = log.checkpoint().size;
        let note = log.storage().read_checkpoint()?.ok_or("no checkpoint")?;
        let indices = random_indices(per_round, size, size ^ round as u64);
        let storage = log.storage();
        let t = Instant::now();
        for &i in &indices {
            std::hint::black_box(receipt_at(storage, &note, i)?);
        }
        fresh += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for &i in &indices {
            std::hint::black_box(receipt_cached(storage, &note, i, &cache)?);
        }
        cached += t.elapsed().as_secs_f64();

        let t = Instant::now();
        for &i in &indices {
            let mut reader = StorageTiles(storage);
            std::hint::black_box(
                TileHashes::with_cache(&mut reader, size, &cache).inclusion_proof(i)?,
            );
        }
        proof_only += t.elapsed().as_secs_f64();
        // The proof through the cache and the entry read from its bundle file each time.
        let t = Instant::now();
        for &i in &indices {
            let mut reader = StorageTiles(storage);
            std::hint::black_box(
                TileHashes::with_cache(&mut reader, size, &cache).inclusion_proof(i)?,
            );
            std::hint::black_box(iotmark_log::log::read_entry(storage, size, i)?);
        }
        entry_from_disk += t.elapsed().as_secs_f64();
        for &i in indices.iter().take(64) {
            let a = receipt_at(storage, &note, i)?;
            let b = receipt_cached(storage, &note, i, &cache)?;
            if a.proof != b.proof || a.extra != b.extra {
                return Err(format!("the cached receipt of {i} at {size} differs").into());
            }
        }
    }
    let n = (rounds * per_round) as f64;
    println!(
        "growing start={start} end={} rounds={rounds} receipts_per_round={per_round} \
         appended_per_round={appended} fresh_receipts_per_s={:.0} cached_receipts_per_s={:.0} \
         cached_proofs_per_s={:.0} cached_proofs_entry_from_disk_per_s={:.0} cache_mib={mib} cache_tiles={} cache_bytes={} warm_up_s={warm_up:.2}",
        log.checkpoint().size,
        n / fresh,
        n / cached,
        n / proof_only,
        n / entry_from_disk,
        cache.len(),
        cache.bytes()
    );
    Ok(())
}

fn proofs(dir: &Path, n: usize, size: u64) -> Result<()> {
    let log = open_log(DirStorage::open(dir)?)?;
    let storage = log.storage();
    let root = TileHashes::new(&mut StorageTiles(storage), size).root()?;
    let indices = random_indices(n, size, size);
    let leaves: Vec<Hash> = indices
        .iter()
        .map(|&i| Ok(merkle::leaf_hash(&record(i).encode()?)))
        .collect::<Result<_>>()?;

    // As a server answers one request: a fresh reader, the tiles read from their files.
    let t = Instant::now();
    let mut proofs = Vec::with_capacity(n);
    for &i in &indices {
        proofs.push(log.inclusion_proof(i, size)?);
    }
    let fresh = t.elapsed().as_secs_f64();

    // One reader kept for the tree size, as a server would keep it for its current checkpoint:
    // the first pass reads and hashes the tiles it meets, the second (other leaves) finds them.
    let mut reader = StorageTiles(storage);
    let mut hashes = TileHashes::new(&mut reader, size);
    let t = Instant::now();
    for &i in &indices {
        std::hint::black_box(hashes.inclusion_proof(i)?);
    }
    let first = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for i in random_indices(n, size, size ^ 0x5eed) {
        std::hint::black_box(hashes.inclusion_proof(i)?);
    }
    let warm = t.elapsed().as_secs_f64();

    let t = Instant::now();
    for ((&i, leaf), proof) in indices.iter().zip(&leaves).zip(&proofs) {
        merkle::verify_inclusion(i, size, leaf, proof, &root)?;
    }
    let verify = t.elapsed().as_secs_f64();
    let rate = |s: f64| n as f64 / s;
    let us = |s: f64| s * 1e6 / n as f64;
    println!(
        "proofs size={size} n={n} fresh_reader_per_s={:.0} kept_reader_first_pass_per_s={:.0} \
         kept_reader_warm_per_s={:.0} verify_per_s={:.0} fresh_us={:.2} kept_first_us={:.2} \
         kept_warm_us={:.2} verify_us={:.2} root={}",
        rate(fresh),
        rate(first),
        rate(warm),
        rate(verify),
        us(fresh),
        us(first),
        us(warm),
        us(verify),
        merkle::hex(&root)
    );

    let mut check = vec![0, 1, 255, 256, size / 2, size - 2, size - 1];
    check.extend(random_indices(9, size, !size));
    for i in check {
        let proof = log.inclusion_proof(i, size)?;
        let hex: Vec<String> = proof.iter().map(|h| merkle::hex(h)).collect();
        println!("xcheck size={size} index={i} proof={}", hex.join(","));
    }
    Ok(())
}
