//! `iotmark key generate`, `iotmark attest` and `iotmark verify`: signing keys, signing
//! conformity and status attestations, and checking an attestation offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::builder::TypedValueParser as _;
use clap::{Args, Subcommand};
use iotmark_attest::keys::{FileSigner, PublicKey, generate_key_files};
use iotmark_attest::statement::{Predicate, StatusKind};
use iotmark_attest::verify::{Trust, TrustPolicy, VerifyError, verify_with_status};
use iotmark_conformity::attesting::{
    ConformityRequest, Signed, StatusRequest, attest as sign_conformity, change_status,
};
use serde_json::json;

use crate::inputs::{time_or_now, valid_declaration};
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

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Validity: the scheme's validity period (`iotmark scheme show ID`) from the issue time.\nThe route must be at least what the assessed tier requires: a tier that needs third-party\ntesting can only be attested as a certification, signed by the certification body.\n\nExamples:\n  iotmark attest --results report/assessment-results.json --declaration product.yaml \\\n      --route sdoc --key keys/acme.key\n  iotmark attest --results lab/assessment-results.json --declaration product.yaml \\\n      --route certification --organisation \"Example Test Lab\" --key keys/lab.key -o cert.dsse.json\n  iotmark attest status cert.dsse.json --set revocation --reason \"CVE-2026-1234 unpatched\" --key keys/lab.key"
)]
pub struct AttestArgs {
    #[command(subcommand)]
    status: Option<AttestCommand>,
    /// The OSCAL assessment results written by `iotmark assess --out DIR`
    #[arg(long, value_name = "FILE", required = true)]
    results: Option<PathBuf>,
    /// The product declaration the results were assessed from
    #[arg(long, value_name = "FILE", required = true)]
    declaration: Option<PathBuf>,
    /// sdoc: the manufacturer declares conformity; certification: a certification body certifies
    #[arg(long, value_name = "ROUTE", required = true)]
    route: Option<iotmark_attest::statement::Route>,
    /// The signing key (PKCS#8 PEM from `iotmark key generate`)
    #[arg(long, value_name = "FILE", required = true)]
    key: Option<PathBuf>,
    /// The signing organisation [default for sdoc: the declaration's manufacturer]
    #[arg(long, value_name = "NAME")]
    organisation: Option<String>,
    /// The scheme file the results were assessed under, when it is not a bundled scheme
    #[arg(long, value_name = "FILE")]
    scheme: Option<PathBuf>,
    /// Issue time (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    issued: Option<String>,
    /// The SBOM of the attested images (CycloneDX or SPDX JSON, e.g. from `iotmark scan
    /// --sbom`): its digest is signed in, so a registry can watch the version for new
    /// vulnerabilities against exactly this SBOM
    #[arg(long, value_name = "FILE")]
    sbom: Option<PathBuf>,
    /// Where to write the envelope [default: PRODUCT-ID.dsse.json]
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the output file if it exists
    #[arg(long)]
    force: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Suspend, revoke, end the support of, withdraw or reinstate an earlier attestation
    #[command(
        after_help = "Examples:\n  iotmark attest status cert.dsse.json --set suspension --reason \"under investigation\" --key keys/lab.key\n  iotmark attest status cert.dsse.json --set reinstatement --reason \"fixed in 2.1.1\" --key keys/lab.key\n  iotmark attest status cert.dsse.json --set reinstatement --trigger appeal-upheld --reason \"appeal 7 upheld: …\" --key keys/operator.key\n  iotmark attest status decl.dsse.json --set end-of-support --reason \"support period ended\" \\\n      --effective 2031-07-01T00:00:00Z --key keys/acme.key"
    )]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The attestation (DSSE envelope) whose status changes, exactly as published
    envelope: PathBuf,
    /// The change
    #[arg(long = "set", value_name = "STATUS", value_parser = clap::builder::PossibleValuesParser::new(["suspension", "revocation", "end-of-support", "reinstatement", "withdrawal"]).try_map(|s| s.parse::<StatusKind>()))]
    status: StatusKind,
    /// Why, in words a buyer understands
    #[arg(long)]
    reason: String,
    /// The signing key; verifiers accept a status change only from a key they trust
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The issuing organisation [default: the original attestation's assessor]
    #[arg(long, value_name = "NAME")]
    organisation: Option<String>,
    /// From when the change applies (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    effective: Option<String>,
    /// Why, in the lifecycle table's words (docs/LIFECYCLE.md), when the status alone does
    /// not say it: `appeal-upheld` for the operator's reinstatement after an upheld appeal
    #[arg(long, value_name = "TRIGGER", value_parser = clap::builder::PossibleValuesParser::new(["appeal-upheld", "lift-suspension", "suspend", "revoke", "support-ended", "withdrawn-by-manufacturer"]).try_map(|s| s.parse::<iotmark_attest::statement::Trigger>()))]
    trigger: Option<iotmark_attest::statement::Trigger>,
    /// Where to write the envelope [default: ENVELOPE's stem + .STATUS.dsse.json]
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace the output file if it exists
    #[arg(long)]
    force: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

/// Writes a signed envelope, refusing to replace an existing file unless asked.
fn write_envelope(path: &Path, envelope: &str, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!(
            "{} exists; choose another --out or pass --force to replace it",
            path.display()
        );
    }
    std::fs::write(path, envelope).with_context(|| format!("cannot write {}", path.display()))
}

pub fn attest(args: AttestArgs) -> Result<ExitCode> {
    if let Some(AttestCommand::Status(status)) = args.status {
        return attest_status(status);
    }
    let (Some(results_path), Some(declaration_path), Some(route), Some(key_path)) =
        (args.results, args.declaration, args.route, args.key)
    else {
        unreachable!("clap requires --results, --declaration, --route and --key");
    };
    let signer = FileSigner::load(&key_path)?;
    let (_, declaration) = valid_declaration(&declaration_path, None)?;
    let results = std::fs::read(&results_path)
        .with_context(|| format!("cannot read {}", results_path.display()))?;
    let sbom_sha256 = match &args.sbom {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            // Only an SBOM the registry's monitor can read is worth binding.
            iotmark_vulns::sbom::read_sbom(&path.display().to_string(), &bytes).with_context(|| {
                format!(
                    "{} is not a CycloneDX or SPDX JSON SBOM; pass the file `iotmark scan --sbom` wrote",
                    path.display()
                )
            })?;
            Some(iotmark_attest::Sha256::of(&bytes))
        }
        None => None,
    };
    let signed = sign_conformity(&ConformityRequest {
        results: &results,
        results_path: &results_path,
        declaration: &declaration,
        scheme_file: args.scheme.as_deref(),
        route,
        organisation: args.organisation,
        signer: &signer,
        issued: time_or_now("--issued", args.issued.as_deref())?,
        sbom_sha256,
    })?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.dsse.json", declaration.product.id)));
    write_envelope(&out, &signed.envelope, args.force)?;
    report_signed(&out, &signed, args.json)
}

fn attest_status(args: StatusArgs) -> Result<ExitCode> {
    let original = std::fs::read(&args.envelope)
        .with_context(|| format!("cannot read {}", args.envelope.display()))?;
    let signer = FileSigner::load(&args.key)?;
    let issued = time_or_now("--issued", None)?;
    let effective = match &args.effective {
        Some(t) => time_or_now("--effective", Some(t))?,
        None => issued,
    };
    let signed = change_status(&StatusRequest {
        envelope: &original,
        envelope_name: &args.envelope.display().to_string(),
        status: args.status,
        reason: &args.reason,
        effective,
        issued,
        organisation: args.organisation,
        signer: &signer,
        trigger: args.trigger,
    })?;
    let out = args.out.unwrap_or_else(|| {
        let name = args
            .envelope
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name
            .strip_suffix(".dsse.json")
            .or_else(|| name.strip_suffix(".json"))
            .unwrap_or(&name);
        args.envelope
            .with_file_name(format!("{stem}.{}.dsse.json", args.status.as_str()))
    });
    write_envelope(&out, &signed.envelope, args.force)?;
    report_signed(&out, &signed, args.json)
}

fn report_signed(out: &Path, signed: &Signed, json: bool) -> Result<ExitCode> {
    let (statement, envelope_sha256) = (&signed.statement, signed.envelope_sha256);
    if json {
        let statement_json: serde_json::Value = serde_json::from_slice(&statement.to_json())?;
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "envelope": out,
                "envelope_sha256": envelope_sha256.to_hex(),
                "statement": statement_json,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    match &statement.predicate {
        Predicate::Conformity(p) => {
            outln!(
                "{} {} for {} {} {} (firmware {})",
                style.good("signed"),
                p.route.describe(),
                p.product.manufacturer,
                p.product.name,
                p.product.model,
                p.product.version
            );
            outln!("scheme    {} (tier {})", p.scheme, p.tier);
            outln!(
                "assessor  {} (key {})",
                p.assessor.organisation,
                p.assessor.key_id
            );
            outln!("valid     {} until {}", p.issued, p.valid_until);
            if let Some(end) = &p.support_end {
                outln!("support   until {end}");
            }
        }
        Predicate::Status(p) => {
            outln!(
                "{} {} of the attestation with envelope SHA-256 {}",
                style.good("signed"),
                p.status.as_str(),
                p.refers_to.envelope_sha256
            );
            outln!("effective {}", p.effective);
            outln!("reason    {}", p.reason);
            outln!(
                "issuer    {} (key {})",
                p.issuer.organisation,
                p.issuer.key_id
            );
        }
    }
    for s in &statement.subject {
        outln!(
            "subject   {} sha256:{}",
            s.name,
            s.digest.get("sha256").map(String::as_str).unwrap_or("")
        );
    }
    outln!("envelope  {} (sha256 {envelope_sha256})", out.display());
    Ok(ExitCode::SUCCESS)
}
