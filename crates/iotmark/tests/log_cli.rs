//! `iotmark log` as a registry operator and an auditor run it: attestations signed by the CLI
//! go into a log directory, receipts prove them offline, and `audit` (over a directory and over
//! HTTP from a real server) finds damaged tiles, a rewritten history and a forged checkpoint.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};

use assert_cmd::Command;
use common::{passing_results, repo};
use iotmark_log::leaf::{LeafKind, LeafRecord};
use iotmark_log::log::Log;
use iotmark_log::storage::DirStorage;

fn iotmark() -> Command {
    Command::cargo_bin("iotmark").unwrap()
}

/// (exit code, stdout, stderr)
fn run<I, S>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = iotmark().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(path: &Path) -> &OsStr {
    path.as_os_str()
}

fn generate(dir: &Path, name: &str, stem: &str) -> String {
    let (code, out, err) = run([
        OsStr::new("key"),
        OsStr::new("generate"),
        OsStr::new(name),
        OsStr::new("--json"),
        OsStr::new("--out"),
        p(&dir.join(stem)),
    ]);
    assert_eq!(code, 0, "{err}");
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    made["key_id"].as_str().unwrap().to_owned()
}

/// Signs the example as the manufacturer (SDoC) and the lab (certification), and the lab's
/// suspension of its certificate, all with the CLI. Returns the three envelope paths.
fn sign_attestations(d: &Path) -> [PathBuf; 3] {
    let results = d.join("results.json");
    std::fs::write(&results, passing_results()).unwrap();
    let declaration = repo().join("examples/acme-securecam/declaration.yaml");
    let decl = d.join("securecam.dsse.json");
    let cert = d.join("securecam-cert.dsse.json");
    for (route, key, out, org) in [
        ("sdoc", "acme.key", &decl, None),
        ("certification", "lab.key", &cert, Some("Example Test Lab")),
    ] {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("attest"),
            OsStr::new("--results"),
            p(&results),
            OsStr::new("--declaration"),
            p(&declaration),
            OsStr::new("--route"),
            OsStr::new(route),
            OsStr::new("-o"),
            p(out),
        ];
        let key = d.join(key);
        args.extend([OsStr::new("--key"), p(&key)]);
        if let Some(org) = org {
            args.extend([OsStr::new("--organisation"), OsStr::new(org)]);
        }
        let (code, _, err) = run(&args);
        assert_eq!(code, 0, "{err}");
    }
    let suspension = d.join("securecam-cert.suspension.dsse.json");
    let (code, _, err) = run([
        OsStr::new("attest"),
        OsStr::new("status"),
        p(&cert),
        OsStr::new("--set"),
        OsStr::new("suspension"),
        OsStr::new("--reason"),
        OsStr::new("under investigation"),
        OsStr::new("--key"),
        p(&d.join("lab.key")),
    ]);
    assert_eq!(code, 0, "{err}");
    [decl, cert, suspension]
}

#[test]
fn appended_attestations_get_receipts_that_prove_them_offline() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let acme_id = generate(d, "acme.example", "acme");
    let lab_id = generate(d, "lab.example", "lab");
    generate(d, "log.example.org", "log");
    let [decl, cert, suspension] = sign_attestations(d);
    let log_dir = d.join("log");
    let receipts = d.join("receipts");

    // An envelope signed by a key nobody trusts: refused, and nothing at all is appended.
    let (code, _, err) = run([
        OsStr::new("log"),
        OsStr::new("append"),
        p(&log_dir),
        p(&decl),
        p(&cert),
        OsStr::new("--key"),
        p(&d.join("log.key")),
        OsStr::new("--signer"),
        p(&d.join("acme.pub")),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("securecam-cert.dsse.json"), "{err}");
    assert!(err.contains("--signer"), "{err}");

    // Trusted: one batch, a receipt each. The log's name comes from log.vkey beside the key.
    let append = |envelopes: &[&Path]| {
        let mut args: Vec<&OsStr> = vec![OsStr::new("log"), OsStr::new("append"), p(&log_dir)];
        args.extend(envelopes.iter().map(|e| p(e)));
        let key = d.join("log.key");
        let acme = d.join("acme.pub");
        let lab = d.join("lab.pub");
        args.extend([
            OsStr::new("--key"),
            p(&key),
            OsStr::new("--signer"),
            p(&acme),
            OsStr::new("--signer"),
            p(&lab),
            OsStr::new("--receipts"),
            p(&receipts),
            OsStr::new("--json"),
        ]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let first = append(&[&decl, &cert, &suspension]);
    assert_eq!(first["origin"], "log.example.org");
    assert_eq!(first["size"], 3);
    let entries = first["entries"].as_array().unwrap();
    let signers: Vec<&str> = entries
        .iter()
        .map(|e| e["signer_key_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        signers,
        [acme_id.as_str(), lab_id.as_str(), lab_id.as_str()]
    );
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["index"], i);
        assert_eq!(e["added"], true);
    }
    // Appending again changes nothing and says where it already is.
    let again = append(&[&cert]);
    assert_eq!(again["size"], 3);
    assert_eq!(again["entries"][0]["index"], 1);
    assert_eq!(again["entries"][0]["added"], false);

    // The receipt proves the certificate is logged, against the log's verifier key.
    let receipt = receipts.join("securecam-cert.tlog-proof");
    let vkey = d.join("log.vkey");
    let verify = |receipt: &Path, envelope: &Path| {
        run([
            OsStr::new("log"),
            OsStr::new("verify"),
            p(receipt),
            OsStr::new("--log-key"),
            p(&vkey),
            OsStr::new("--envelope"),
            p(envelope),
        ])
    };
    let (code, out, err) = verify(&receipt, &cert);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("entry #1 of log.example.org"), "{out}");
    // …but not some other envelope.
    let (code, _, err) = verify(&receipt, &decl);
    assert_eq!(code, 3);
    assert!(err.contains("receipt is for the envelope"), "{err}");
    // A changed proof hash is caught.
    let text = std::fs::read_to_string(&receipt).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let proof_line = lines.iter().position(|l| l.starts_with("index ")).unwrap() + 1;
    let mut tampered: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    let flipped = if tampered[proof_line].starts_with('A') {
        "B"
    } else {
        "A"
    };
    tampered[proof_line].replace_range(0..1, flipped);
    let bad = d.join("bad.tlog-proof");
    std::fs::write(&bad, tampered.join("\n") + "\n").unwrap();
    let (code, _, err) = verify(&bad, &cert);
    assert_eq!(code, 3, "{err}");
    // A receipt from a log the verifier does not trust is not evidence.
    generate(d, "other.example.org", "other");
    let (code, _, err) = run([
        OsStr::new("log"),
        OsStr::new("verify"),
        p(&receipt),
        OsStr::new("--log-key"),
        p(&d.join("other.vkey")),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not trusted"), "{err}");

    // `prove` finds an envelope by digest and writes the same receipt as the append did.
    let (code, out, err) = run([
        OsStr::new("log"),
        OsStr::new("prove"),
        p(&log_dir),
        OsStr::new("--envelope"),
        p(&cert),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, text);
    // The checkpoint is a signed note naming the log and its size.
    let (code, out, _) = run([OsStr::new("log"), OsStr::new("checkpoint"), p(&log_dir)]);
    assert_eq!(code, 0);
    assert!(out.starts_with("log.example.org\n3\n"), "{out}");
    assert!(out.contains("\n— log.example.org "), "{out}");
}

/// Appends `count` leaf records in batches of `batch`, written by the library with the key the
/// CLI generated; `history` varies the records, so two histories differ from their first entry.
fn fill_log(dir: &Path, key: &Path, count: u64, batch: u64, history: &str) {
    let signer = iotmark_conformity::log_key::log_signer(key, "log.example.org").unwrap();
    let mut log = Log::open(DirStorage::open(dir).unwrap(), signer).unwrap();
    let start = log.checkpoint().size;
    let mut i = start;
    while i < start + count {
        let records: Vec<LeafRecord> = (i..(i + batch).min(start + count))
            .map(|n| LeafRecord {
                kind: LeafKind::Declaration,
                statement_digest: iotmark_log::merkle::sha256(&n.to_be_bytes()),
                envelope_digest: iotmark_log::merkle::sha256(
                    format!("{history} envelope {n}").as_bytes(),
                ),
                signer_key_id: "acme.example".to_owned(),
                time: 1_795_000_000 + n,
            })
            .collect();
        i += records.len() as u64;
        log.append_records(&records).unwrap();
    }
}

fn audit(log: &OsStr, vkey: &Path, extra: &[&OsStr]) -> (i32, String, String) {
    let mut args = vec![
        OsStr::new("log"),
        OsStr::new("audit"),
        log,
        OsStr::new("--log-key"),
        p(vkey),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn flip_byte(path: &Path, at: usize) -> Vec<u8> {
    let original = std::fs::read(path).unwrap();
    let mut bytes = original.clone();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
    original
}

#[test]
fn audit_checks_every_tile_and_that_the_log_only_grew() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, "log.example.org", "log");
    let (key, vkey) = (d.join("log.key"), d.join("log.vkey"));
    let log_dir = d.join("log");
    fill_log(&log_dir, &key, 700, 97, "real");
    let seen = d.join("seen.checkpoint");

    let (code, out, err) = audit(p(&log_dir), &vkey, &[OsStr::new("--save"), p(&seen)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("700 entries"), "{out}");
    assert!(seen.exists());

    // The log grows; auditing from the saved checkpoint proves it only grew.
    fill_log(&log_dir, &key, 300, 300, "real");
    let (code, out, err) = audit(p(&log_dir), &vkey, &[OsStr::new("--from"), p(&seen)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("grew from the trusted size 700"), "{out}");

    // One flipped bit in a full leaf tile: named, exit 3.
    let tile = log_dir.join("tile/0/001");
    let original = flip_byte(&tile, 40);
    let (code, _, err) = audit(p(&log_dir), &vkey, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("tile/0/001"), "{err}");
    std::fs::write(&tile, original).unwrap();
    // An entry changed in its bundle: named, exit 3.
    let bundle = log_dir.join("tile/entries/000");
    let original = flip_byte(&bundle, 10);
    let (code, _, err) = audit(p(&log_dir), &vkey, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("tile/entries/000"), "{err}");
    std::fs::write(&bundle, original).unwrap();
    let (code, _, err) = audit(p(&log_dir), &vkey, &[]);
    assert_eq!(code, 0, "restored: {err}");

    // A rewritten history signed with the log's own key (a forked log): the tiles agree with
    // its checkpoint, but it is inconsistent with what the auditor saw before.
    let fork = d.join("fork");
    fill_log(&fork, &key, 1000, 1000, "rewritten");
    let (code, out, err) = audit(p(&fork), &vkey, &[OsStr::new("--from"), p(&seen)]);
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        err.contains("inconsistent with the trusted checkpoint"),
        "{err}"
    );

    // A checkpoint signed by another key.
    generate(d, "log.example.org", "impostor");
    let impostor = d.join("impostor-log");
    fill_log(&impostor, &d.join("impostor.key"), 5, 5, "real");
    std::fs::copy(impostor.join("checkpoint"), log_dir.join("checkpoint")).unwrap();
    let (code, _, err) = audit(p(&log_dir), &vkey, &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("signature"), "{err}");
}

/// Python's http.server on 127.0.0.1 serving `dir`; killed on drop.
struct StaticServer {
    child: Child,
    url: String,
}

impl StaticServer {
    fn start(dir: &Path) -> Self {
        let mut child = Process::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 must be installed to serve the log over HTTP");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 43211 (http://127.0.0.1:43211/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("unexpected http.server banner {line:?}"))
            .to_owned();
        StaticServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn audit_reads_a_log_served_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    generate(d, "log.example.org", "log");
    let vkey = d.join("log.vkey");
    let log_dir = d.join("log");
    fill_log(&log_dir, &d.join("log.key"), 600, 256, "real");
    let server = StaticServer::start(&log_dir);

    let (code, out, err) = audit(OsStr::new(&server.url), &vkey, &[OsStr::new("--json")]);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["consistent"], true);
    assert_eq!(report["size"], 600);

    // The server now serves a damaged partial tile.
    flip_byte(&log_dir.join("tile/0/002.p/88"), 0);
    let (code, out, err) = audit(OsStr::new(&server.url), &vkey, &[OsStr::new("--json")]);
    assert_eq!(code, 3, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["consistent"], false);
    assert!(
        report["problem"]
            .as_str()
            .unwrap()
            .contains("tile/0/002.p/88"),
        "{report}"
    );

    // Nothing there: cannot audit (exit 1), which is not evidence of tampering.
    let (code, _, err) = audit(OsStr::new(&format!("{}/missing", server.url)), &vkey, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no checkpoint"), "{err}");
}
