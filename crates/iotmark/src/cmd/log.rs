//! `iotmark log`: append attestations to a transparency log kept as a directory of tiles,
//! print its checkpoint, write and verify receipts, and audit a log (a directory or a URL)
//! from a trusted checkpoint.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use iotmark_attest::keys::PublicKey;
use iotmark_attest::verify::TrustPolicy;
use iotmark_conformity::attestation::{Attestation, OpenError, leaf_timestamp};
use iotmark_conformity::log_key::log_signer;
use iotmark_log::checkpoint::{self, Checkpoint};
use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::log::{self as tlog, Log, LogError};
use iotmark_log::merkle;
use iotmark_log::note::NoteVerifier;
use iotmark_log::receipt::Receipt;
use iotmark_log::remote::HttpLog;
use iotmark_log::storage::{DirStorage, Storage};
use serde_json::json;

use crate::style::Style;

/// Exit status when an audit or a receipt shows the log was altered.
const EXIT_TAMPERED: u8 = 3;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Verify attestations and append them to the log as one durable batch
    #[command(
        after_help = "The log is created on first use; its name (origin) comes from --origin or from the\nverifier key file beside the key (STEM.vkey from `iotmark key generate`). Each envelope must be\nsigned by a key the policy (or --signer) trusts. Appending an envelope that is already in the\nlog does nothing and reports its index.\n\nExamples:\n  iotmark key generate log.example.org --out keys/log\n  iotmark log append registry-log --key keys/log.key securecam.dsse.json --signer keys/acme.pub\n  iotmark log append registry-log --key keys/log.key *.dsse.json --trust policy.txt --receipts receipts/"
    )]
    Append(AppendArgs),
    /// Print the log's current signed checkpoint
    #[command(
        after_help = "Examples:\n  iotmark log checkpoint registry-log\n  iotmark log checkpoint registry-log --json"
    )]
    Checkpoint(CheckpointArgs),
    /// Write a receipt (C2SP tlog-proof) proving an attestation is in the log, or a consistency proof
    #[command(
        after_help = "Examples:\n  iotmark log prove registry-log --envelope securecam.dsse.json -o securecam.tlog-proof\n  iotmark log prove registry-log --index 41\n  iotmark log prove registry-log --consistency 1000 --json"
    )]
    Prove(ProveArgs),
    /// Verify a receipt offline against the log's public key
    #[command(
        after_help = "Exit status: 0 the receipt proves inclusion; 3 the receipt, its checkpoint or the envelope\ndoes not match (altered); 1 cannot check (unreadable input, unknown log).\n\nExamples:\n  iotmark log verify securecam.tlog-proof --log-key keys/log.vkey --envelope securecam.dsse.json\n  iotmark log verify securecam.tlog-proof --trust policy.txt --json"
    )]
    Verify(VerifyReceiptArgs),
    /// Audit a log from a trusted checkpoint: signature, every tile, consistency
    #[command(
        after_help = "Without --from, the audit starts from the empty tree (everything is checked, nothing is\nassumed). Save the audited checkpoint with --save and pass it as --from next time to prove\nthe log only grew.\n\nExit status: 0 consistent; 3 the log is damaged or inconsistent with the trusted checkpoint\n(the first problem is named); 1 cannot audit (unreachable, bad arguments).\n\nExamples:\n  iotmark log audit registry-log --log-key keys/log.vkey --save seen.checkpoint\n  iotmark log audit https://registry.example.org/log --trust policy.txt --from seen.checkpoint --save seen.checkpoint"
    )]
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("signers").required(true).args(["signer", "trust"]))]
pub struct AppendArgs {
    /// The log directory (created if missing)
    log: PathBuf,
    /// The attestation envelopes to append
    #[arg(required = true, value_name = "ENVELOPE")]
    envelopes: Vec<PathBuf>,
    /// The log's signing key (PKCS#8 PEM from `iotmark key generate`)
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The log's name when creating it, e.g. log.example.org [default: the name in KEY's .vkey]
    #[arg(long, value_name = "NAME")]
    origin: Option<String>,
    /// Accept envelopes signed by this public key (repeatable)
    #[arg(long, value_name = "PUB")]
    signer: Vec<PathBuf>,
    /// Accept envelopes signed by the signers this trust policy lists
    #[arg(long, value_name = "POLICY")]
    trust: Option<PathBuf>,
    /// Write a receipt for each envelope into this directory (NAME.tlog-proof)
    #[arg(long, value_name = "DIR")]
    receipts: Option<PathBuf>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct CheckpointArgs {
    /// The log directory
    log: PathBuf,
    /// Machine-readable output (origin, size, root)
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("what").required(true).args(["index", "envelope", "consistency"]))]
pub struct ProveArgs {
    /// The log directory
    log: PathBuf,
    /// The entry to prove
    #[arg(long, value_name = "N")]
    index: Option<u64>,
    /// The envelope whose entry to prove (found by its SHA-256)
    #[arg(long, value_name = "FILE")]
    envelope: Option<PathBuf>,
    /// Prove that the tree of this size is a prefix of the current tree
    #[arg(long, value_name = "OLD_SIZE")]
    consistency: Option<u64>,
    /// Where to write the receipt [default: standard output]
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// How the log's checkpoint signatures are trusted.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("logkey").required(true).args(["log_key", "trust"]))]
pub struct LogTrustArgs {
    /// The log's verifier key: a `name+id+key` string or a file holding one (STEM.vkey)
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// A trust policy whose `log` lines name the log
    #[arg(long, value_name = "POLICY")]
    trust: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyReceiptArgs {
    /// The receipt (.tlog-proof)
    receipt: PathBuf,
    #[command(flatten)]
    trust: LogTrustArgs,
    /// Check that the receipt is for this envelope
    #[arg(long, value_name = "FILE")]
    envelope: Option<PathBuf>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The log: a directory, or the URL of a tlog-tiles prefix (http:// or https://)
    log: String,
    #[command(flatten)]
    trust: LogTrustArgs,
    /// A checkpoint trusted from before (signed note), e.g. saved by an earlier audit
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// After a successful audit, write the audited checkpoint here
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Also fetch every envelope the leaves name and check its SHA-256
    #[arg(long)]
    envelopes: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(command: LogCommand) -> Result<ExitCode> {
    match command {
        LogCommand::Append(a) => append(a),
        LogCommand::Checkpoint(a) => show_checkpoint(a),
        LogCommand::Prove(a) => prove(a),
        LogCommand::Verify(a) => verify_receipt(a),
        LogCommand::Audit(a) => audit(a),
    }
}

/// The origin of an existing log (its checkpoint's first line), unverified: the caller opens
/// the log with a key, which verifies it.
fn existing_origin(storage: &DirStorage) -> Result<Option<String>> {
    Ok(storage.read_checkpoint()?.and_then(|b| {
        String::from_utf8_lossy(&b)
            .lines()
            .next()
            .map(str::to_owned)
    }))
}

fn open_log(dir: &Path, key: &Path, origin: Option<&str>) -> Result<Log<DirStorage>> {
    let storage = DirStorage::open(dir)
        .with_context(|| format!("cannot open the log directory {}", dir.display()))?;
    let origin = match (existing_origin(&storage)?, origin) {
        (Some(existing), Some(asked)) if existing != asked => {
            bail!("{} is the log {existing:?}, not {asked:?}", dir.display())
        }
        (Some(existing), _) => existing,
        (None, Some(asked)) => asked.to_owned(),
        (None, None) => {
            let vkey = key.with_extension("vkey");
            let text = std::fs::read_to_string(&vkey).with_context(|| {
                format!(
                    "a new log needs a name: pass --origin NAME (e.g. log.example.org), or keep {} beside the key",
                    vkey.display()
                )
            })?;
            NoteVerifier::parse(text.trim())
                .with_context(|| format!("{} is not a verifier key", vkey.display()))?
                .name()
                .to_owned()
        }
    };
    let signer = log_signer(key, &origin)?;
    Log::open(storage, signer).with_context(|| {
        format!(
            "cannot open the log in {} with the key {}",
            dir.display(),
            key.display()
        )
    })
}

/// A verified envelope, ready to become a leaf.
struct Accepted {
    path: PathBuf,
    bytes: Vec<u8>,
    record: LeafRecord,
    what: String,
}

fn accept(path: &Path, keys: &[PublicKey], logged: jiff::Timestamp) -> Result<Accepted> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let attestation = Attestation::open(&bytes, keys).map_err(|e| match e {
        OpenError::Envelope(e) => anyhow!("{} is not a DSSE envelope: {e}", path.display()),
        OpenError::NoKeys | OpenError::Signature(_) => anyhow!(
            "{}: no trusted key signed it ({e}); add its signer with --signer or to the policy",
            path.display()
        ),
        OpenError::Statement(e) => anyhow!(
            "{} does not carry an iotmark statement: {e}",
            path.display()
        ),
    })?;
    Ok(Accepted {
        path: path.to_owned(),
        record: attestation.leaf(logged)?,
        what: attestation.describe(),
        bytes,
    })
}

fn append(args: AppendArgs) -> Result<ExitCode> {
    let mut keys = args
        .signer
        .iter()
        .map(|p| PublicKey::load(p).map_err(anyhow::Error::from))
        .collect::<Result<Vec<_>>>()?;
    if let Some(policy) = &args.trust {
        keys.extend(
            TrustPolicy::load(policy)?
                .signers
                .into_iter()
                .map(|s| s.key),
        );
    }
    let mut log = open_log(&args.log, &args.key, args.origin.as_deref())?;
    let now = jiff::Timestamp::now();
    // Everything is checked before anything is written: one bad envelope appends none.
    let accepted = args
        .envelopes
        .iter()
        .map(|p| accept(p, &keys, now))
        .collect::<Result<Vec<_>>>()?;

    let size = log.checkpoint().size;
    let mut indices: Vec<Option<u64>> = Vec::with_capacity(accepted.len());
    let mut fresh: Vec<&Accepted> = Vec::new();
    for a in &accepted {
        let earlier = tlog::find_envelope(log.storage(), size, &a.record.envelope_digest)?
            .map(|(i, _)| i)
            .or_else(|| {
                // The same envelope twice in one call is logged once.
                fresh
                    .iter()
                    .position(|f| f.record.envelope_digest == a.record.envelope_digest)
                    .map(|p| size + p as u64)
            });
        if earlier.is_none() {
            fresh.push(a);
        }
        indices.push(earlier);
    }
    // Envelopes first: once a leaf is committed its envelope must be retrievable.
    for a in &fresh {
        log.put_envelope(&a.bytes)?;
    }
    let records: Vec<LeafRecord> = fresh.iter().map(|a| a.record.clone()).collect();
    let new = log.append_records(&records)?;
    let mut new = new.into_iter();
    let mut rows = Vec::new();
    for (a, earlier) in accepted.iter().zip(&indices) {
        let (index, added) = match earlier {
            Some(i) => (*i, false),
            None => (
                new.next()
                    .context("the log returned fewer indices than entries")?,
                true,
            ),
        };
        let receipt = match &args.receipts {
            Some(dir) => Some(write_receipt(&log, index, dir, &a.path)?),
            None => None,
        };
        rows.push((a, index, added, receipt));
    }

    let cp = log.checkpoint();
    if args.json {
        let entries: Vec<_> = rows
            .iter()
            .map(|(a, index, added, receipt)| {
                json!({
                    "envelope": a.path,
                    "index": index,
                    "added": added,
                    "envelope_sha256": merkle::hex(&a.record.envelope_digest),
                    "statement_sha256": merkle::hex(&a.record.statement_digest),
                    "signer_key_id": a.record.signer_key_id,
                    "receipt": receipt,
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "origin": cp.origin,
                "size": cp.size,
                "root": merkle::hex(&cp.root),
                "entries": entries,
            }))?
        );
    } else {
        let style = Style::stdout();
        for (a, index, added, receipt) in &rows {
            let label = if *added {
                style.good("logged")
            } else {
                style.dim("already logged")
            };
            outln!("{label} #{index} {}: {}", a.path.display(), a.what);
            if let Some(r) = receipt {
                outln!("  receipt {}", r.display());
            }
        }
        outln!(
            "{} {} size {} root {}",
            style.dim("checkpoint"),
            cp.origin,
            cp.size,
            merkle::hex(&cp.root)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A receipt for `index` as `DIR/<envelope file stem>.tlog-proof`, carrying the leaf record as
/// its extra data so the receipt alone can be checked against the envelope.
fn write_receipt(
    log: &Log<DirStorage>,
    index: u64,
    dir: &Path,
    envelope: &Path,
) -> Result<PathBuf> {
    let receipt = tlog::receipt_at(log.storage(), log.signed_checkpoint().as_bytes(), index)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = envelope
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("entry-{index}"));
    let stem = name
        .strip_suffix(".dsse.json")
        .or_else(|| name.strip_suffix(".json"))
        .unwrap_or(&name);
    let path = dir.join(format!("{stem}.tlog-proof"));
    std::fs::write(&path, receipt.encode())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

fn open_existing(dir: &Path) -> Result<(DirStorage, Checkpoint, String)> {
    let storage = DirStorage::open_read_only(dir)
        .with_context(|| format!("cannot open the log directory {}", dir.display()))?;
    let bytes = storage.read_checkpoint()?.with_context(|| {
        format!(
            "{} holds no log (no checkpoint); create one with `iotmark log append`",
            dir.display()
        )
    })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let cp = checkpoint::read_unverified(&bytes)
        .with_context(|| format!("{}: the checkpoint", dir.join("checkpoint").display()))?;
    Ok((storage, cp, text))
}

fn show_checkpoint(args: CheckpointArgs) -> Result<ExitCode> {
    let (_, cp, signed) = open_existing(&args.log)?;
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "origin": cp.origin,
                "size": cp.size,
                "root": merkle::hex(&cp.root),
                "note": signed,
            }))?
        );
    } else {
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(&mut out, signed.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn prove(args: ProveArgs) -> Result<ExitCode> {
    // The checkpoint on disk is used as it is: it was verified when written, and whoever
    // receives the proof verifies it again.
    let (storage, checkpoint, signed) = open_existing(&args.log)?;
    let size = checkpoint.size;
    if let Some(old) = args.consistency {
        if old > size {
            bail!("the log has {size} entries; a consistency proof needs OLD_SIZE ≤ {size}");
        }
        let mut reader = iotmark_log::storage::StorageTiles(&storage);
        let proof = iotmark_log::tiles::TileHashes::new(&mut reader, size)
            .consistency_proof(old)
            .map_err(LogError::from)?;
        let hashes: Vec<String> = proof.iter().map(|h| merkle::hex(h)).collect();
        let text = if args.json {
            serde_json::to_string_pretty(&json!({
                "old_size": old,
                "size": size,
                "root": merkle::hex(&checkpoint.root),
                "proof": hashes,
                "checkpoint": signed,
            }))? + "\n"
        } else {
            hashes.iter().map(|h| format!("{h}\n")).collect()
        };
        return emit(args.out.as_deref(), &text);
    }
    let index = match (args.index, &args.envelope) {
        (Some(i), _) => i,
        (None, Some(path)) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let digest = merkle::sha256(&bytes);
            match tlog::find_envelope(&storage, size, &digest)? {
                Some((i, _)) => i,
                None => bail!(
                    "{} (SHA-256 {}) is not in the log's {size} entries; append it with `iotmark log append`",
                    path.display(),
                    merkle::hex(&digest)
                ),
            }
        }
        (None, None) => unreachable!("clap requires --index, --envelope or --consistency"),
    };
    if index >= size {
        bail!(
            "the log has {size} entries (0 to {}); there is no entry {index}",
            size.saturating_sub(1)
        );
    }
    let receipt = tlog::receipt_at(&storage, signed.as_bytes(), index)?;
    let text = if args.json {
        serde_json::to_string_pretty(&json!({
            "index": index,
            "size": size,
            "root": merkle::hex(&checkpoint.root),
            "proof": receipt.proof.iter().map(|h| merkle::hex(h)).collect::<Vec<_>>(),
            "receipt": receipt.encode(),
        }))? + "\n"
    } else {
        receipt.encode()
    };
    emit(args.out.as_deref(), &text)
}

fn emit(out: Option<&Path>, text: &str) -> Result<ExitCode> {
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            std::io::Write::write_all(&mut stdout, text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The log verifiers the user trusts.
fn log_verifiers(args: &LogTrustArgs) -> Result<Vec<NoteVerifier>> {
    if let Some(vkey) = &args.log_key {
        let text = if Path::new(vkey).is_file() {
            std::fs::read_to_string(vkey).with_context(|| format!("cannot read {vkey}"))?
        } else {
            vkey.clone()
        };
        let verifier = NoteVerifier::parse(text.trim()).with_context(|| {
            format!("--log-key {vkey:?} is neither a verifier key nor a file holding one")
        })?;
        return Ok(vec![verifier]);
    }
    let Some(path) = &args.trust else {
        unreachable!("clap requires --log-key or --trust");
    };
    let policy = TrustPolicy::load(path)?;
    if policy.logs.is_empty() {
        bail!(
            "{} lists no logs; add a line `log <verifier key>`",
            path.display()
        );
    }
    policy
        .logs
        .iter()
        .map(|l| {
            NoteVerifier::parse(&l.vkey)
                .with_context(|| format!("{}: log key {:?}", path.display(), l.vkey))
        })
        .collect()
}

/// The trusted verifier whose name is `origin`.
fn verifier_for<'v>(verifiers: &'v [NoteVerifier], origin: &str) -> Result<&'v NoteVerifier> {
    verifiers
        .iter()
        .find(|v| v.name() == origin)
        .with_context(|| {
            format!(
                "the log {origin:?} is not trusted (trusted: {})",
                verifiers
                    .iter()
                    .map(|v| v.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// The origin a signed checkpoint claims (its first line), before any check.
fn claimed_origin(note: &[u8]) -> String {
    String::from_utf8_lossy(note)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn verify_receipt(args: VerifyReceiptArgs) -> Result<ExitCode> {
    let verifiers = log_verifiers(&args.trust)?;
    let bytes = std::fs::read(&args.receipt)
        .with_context(|| format!("cannot read {}", args.receipt.display()))?;
    let receipt = Receipt::parse(&bytes)
        .with_context(|| format!("{} is not a tlog-proof receipt", args.receipt.display()))?;
    let origin = claimed_origin(receipt.checkpoint.as_bytes());
    let verifier = verifier_for(&verifiers, &origin)?;
    let Some(entry) = &receipt.extra else {
        bail!(
            "{} carries no leaf record (extra line); iotmark writes it with `iotmark log prove`",
            args.receipt.display()
        );
    };
    let tampered = |message: String| -> Result<ExitCode> {
        eprintln!("{} {message}", Style::stderr().error("✗ not proven:"));
        Ok(ExitCode::from(EXIT_TAMPERED))
    };
    let record = match LeafRecord::decode(entry) {
        Ok(r) => r,
        Err(e) => return tampered(format!("the receipt's leaf record: {e}")),
    };
    if let Some(path) = &args.envelope {
        let envelope =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let digest = merkle::sha256(&envelope);
        if digest != record.envelope_digest {
            return tampered(format!(
                "the receipt is for the envelope with SHA-256 {}, but {} has {}",
                merkle::hex(&record.envelope_digest),
                path.display(),
                merkle::hex(&digest)
            ));
        }
        if let Ok(parsed) = iotmark_attest::dsse::Envelope::parse(&envelope)
            && merkle::sha256(&parsed.payload) != record.statement_digest
        {
            return tampered(format!(
                "the receipt records statement SHA-256 {}, but the envelope carries another statement",
                merkle::hex(&record.statement_digest)
            ));
        }
    }
    let cp = match receipt.verify(entry, &origin, std::slice::from_ref(verifier)) {
        Ok(cp) => cp,
        Err(e) => return tampered(e.to_string()),
    };
    // A time jiff cannot show is shown as the leaf holds it: the receipt is still proven.
    let logged = leaf_timestamp(record.time)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| record.time.to_string());
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "proven": true,
                "origin": cp.origin,
                "index": receipt.index,
                "size": cp.size,
                "root": merkle::hex(&cp.root),
                "kind": kind_name(record.kind),
                "envelope_sha256": merkle::hex(&record.envelope_digest),
                "statement_sha256": merkle::hex(&record.statement_digest),
                "signer_key_id": record.signer_key_id,
                "logged": logged,
            }))?
        );
    } else {
        outln!(
            "{} entry #{} of {} (tree size {}, signed by {}+{:08x})",
            Style::stdout().good("✓ logged:"),
            receipt.index,
            cp.origin,
            cp.size,
            verifier.name(),
            verifier.key_id()
        );
        outln!(
            "{} envelope sha256:{}, signer key {}, logged {logged}",
            kind_name(record.kind),
            merkle::hex(&record.envelope_digest),
            record.signer_key_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_name(kind: LeafKind) -> &'static str {
    match kind {
        LeafKind::Declaration => "conformity attestation",
        LeafKind::Status => "status change",
    }
}

fn audit(args: AuditArgs) -> Result<ExitCode> {
    let verifiers = log_verifiers(&args.trust)?;
    let storage: Box<dyn Storage> =
        if args.log.starts_with("http://") || args.log.starts_with("https://") {
            Box::new(HttpLog::new(&args.log)?)
        } else {
            Box::new(
                DirStorage::open_read_only(&args.log)
                    .with_context(|| format!("cannot open the log directory {}", args.log))?,
            )
        };
    let current = storage
        .read_checkpoint()
        .with_context(|| format!("cannot read the checkpoint of {}", args.log))?
        .with_context(|| format!("{} has no checkpoint", args.log))?;
    let (trusted, verifier) = match &args.from {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let origin = claimed_origin(&bytes);
            let verifier = verifier_for(&verifiers, &origin)?;
            let (cp, _) = checkpoint::open(&bytes, &origin, std::slice::from_ref(verifier))
                .with_context(|| format!("the trusted checkpoint {}", path.display()))?;
            (cp, verifier)
        }
        None => {
            let origin = claimed_origin(&current);
            let verifier = verifier_for(&verifiers, &origin)?;
            (Checkpoint::empty(&origin), verifier)
        }
    };
    let report = match tlog::audit(storage.as_ref(), verifier, &trusted) {
        Ok(r) => r,
        Err(e) => return audit_failed(&args, e),
    };
    let mut envelopes = 0u64;
    if args.envelopes {
        let checked = tlog::visit_records(storage.as_ref(), report.current.size, 0, |_, record| {
            tlog::read_envelope(storage.as_ref(), &record.envelope_digest)?;
            envelopes += 1;
            Ok(true)
        });
        if let Err(e) = checked {
            return audit_failed(&args, e);
        }
    }
    if let Some(path) = &args.save {
        // The note as read (verified by the audit), so it can be trusted next time.
        std::fs::write(path, &current)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "consistent": true,
                "origin": report.current.origin,
                "trusted_size": report.trusted.size,
                "size": report.current.size,
                "root": merkle::hex(&report.current.root),
                "tiles_checked": report.tiles_checked,
                "envelopes_checked": args.envelopes.then_some(envelopes),
            }))?
        );
    } else {
        outln!(
            "{} {}: {} entries, {} tiles checked, root {}",
            Style::stdout().good("✓ consistent"),
            report.current.origin,
            report.current.size,
            report.tiles_checked,
            merkle::hex(&report.current.root)
        );
        if report.trusted.size > 0 {
            outln!(
                "  grew from the trusted size {} without rewriting it",
                report.trusted.size
            );
        }
        if args.envelopes {
            outln!("  {envelopes} envelopes present with their recorded SHA-256");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An audit that found a problem: damage and inconsistency exit 3; failing to read exits 1.
fn audit_failed(args: &AuditArgs, err: LogError) -> Result<ExitCode> {
    if let LogError::Storage(e) = &err {
        // Could not read at all: not evidence about the log.
        bail!("cannot audit {}: {e}", args.log);
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(
                &json!({"consistent": false, "problem": err.to_string()})
            )?
        );
    } else {
        eprintln!("{} {err}", Style::stderr().error("✗ audit failed:"));
    }
    Ok(ExitCode::from(EXIT_TAMPERED))
}
