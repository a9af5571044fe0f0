//! `iotmark key generate` and `iotmark verify`: signing keys for attestations, and checking
//! an attestation offline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use iotmark_attest::keys::{PublicKey, generate_key_files};
use iotmark_attest::verify::{Trust, TrustPolicy, VerifyError, verify_with_status};
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an Ed25519 key pair: STEM.key (PKCS#8 PEM, mode 0600), STEM.pub (SPKI PEM)
    /// and STEM.vkey (the signed-note verifier key, for trust policies)
    #[command(
        after_help = "Examples:\n  iotmark key generate acme-psirt --out keys/acme\n  iotmark key generate lab.example --out keys/lab --json"
    )]
    Generate(GenerateArgs),
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The key's name, as verifiers will see it (no spaces or `+`), e.g. your domain
    name: String,
    /// Where to write the files: STEM.key, STEM.pub, STEM.vkey (never overwritten)
    #[arg(long, value_name = "STEM")]
    out: PathBuf,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn key(command: KeyCommand) -> Result<ExitCode> {
    match command {
        KeyCommand::Generate(args) => {
            let key = generate_key_files(&args.out, &args.name)
                .with_context(|| format!("cannot create the key {}", args.out.display()))?;
            if args.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "name": args.name,
                        "key_id": key.key_id,
                        "private_key": key.private_key,
                        "public_key": key.public_key,
                        "verifier_key_file": key.verifier_key_file,
                        "verifier_key": key.verifier_key,
                    }))?
                );
            } else {
                let style = Style::stdout();
                outln!(
                    "{} {} (mode 0600; keep it secret)",
                    style.good("private key"),
                    key.private_key.display()
                );
                outln!("public key   {}", key.public_key.display());
                outln!("verifier key {}", key.verifier_key);
                outln!("key id       {}", key.key_id);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Args)]
#[command(
    group = clap::ArgGroup::new("trusted").required(true).args(["key", "trust"]),
    after_help = "Examples:\n  iotmark verify camera.dsse.json --key keys/acme.pub\n  iotmark verify camera.dsse.json --trust policy.txt --status revocation.dsse.json --json\n\nExit status: 0 valid now, 3 signed but not valid now (expired, not yet valid, suspended,\nrevoked, end of support), 1 not verifiable (bad signature, unknown key, malformed)."
)]
pub struct VerifyArgs {
    /// The attestation: a DSSE envelope (JSON) as published
    envelope: PathBuf,
    /// Trust exactly this public key (SPKI PEM or verifier key file)
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Trust the signers a policy lists (C2SP tlog-policy form, plus `signer <vkey>` lines)
    #[arg(long, value_name = "POLICY")]
    trust: Option<PathBuf>,
    /// Status attestations (suspension, revocation, end of support) to apply
    #[arg(long, value_name = "ENVELOPE")]
    status: Vec<PathBuf>,
    /// Check validity at this time (RFC 3339) instead of now
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let read = |path: &PathBuf| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let envelope = read(&args.envelope)?;
    let statuses = args.status.iter().map(read).collect::<Result<Vec<_>>>()?;
    let statuses: Vec<&[u8]> = statuses.iter().map(Vec::as_slice).collect();
    let now = match &args.at {
        Some(at) => at
            .parse::<jiff::Timestamp>()
            .with_context(|| format!("--at {at:?} is not an RFC 3339 time"))?,
        None => jiff::Timestamp::now(),
    };
    let key;
    let policy;
    let trust = if let Some(path) = &args.key {
        key = PublicKey::load(path)?;
        Trust::Key(&key)
    } else if let Some(path) = &args.trust {
        policy = TrustPolicy::load(path)?;
        Trust::Policy(&policy)
    } else {
        unreachable!("clap requires --key or --trust");
    };
    match verify_with_status(&envelope, &statuses, trust, now) {
        Ok(verdict) => {
            if args.json {
                outln!("{}", serde_json::to_string_pretty(&verdict.to_json())?);
            } else {
                outln!("{} {}", Style::stdout().good("✓ valid"), verdict);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            // A genuine signature that is no longer (or not yet) valid still says what was
            // attested; the error carries the verdict then.
            let verdict = match &err {
                VerifyError::NotYetValid { verdict, .. }
                | VerifyError::Expired { verdict, .. }
                | VerifyError::StatusChanged { verdict, .. } => Some(verdict),
                _ => None,
            };
            match verdict {
                Some(verdict) => {
                    if args.json {
                        let mut value = verdict.to_json();
                        value["invalid_because"] = json!(err.to_string());
                        outln!("{}", serde_json::to_string_pretty(&value)?);
                    } else {
                        // The error's text ends with the verdict.
                        outln!("{} {err}", Style::stdout().error("✗ not valid now:"));
                    }
                    Ok(ExitCode::from(3))
                }
                None => Err(anyhow::Error::new(err)
                    .context(format!("cannot verify {}", args.envelope.display()))),
            }
        }
    }
}
