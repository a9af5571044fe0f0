//! `iotmark key generate`, `iotmark attest` and `iotmark verify`: signing keys, signing
//! conformity and status attestations, and checking an attestation offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use iotmark_attest::dsse::Envelope;
use iotmark_attest::keys::{FileSigner, PublicKey, Signer, generate_key_files};
use iotmark_attest::statement::{
    ConformityInput, Party, Predicate, Route, Statement, StatusKind, conformity_statement,
    status_statement,
};
use iotmark_attest::verify::{Trust, TrustPolicy, VerifyError, verify_with_status};
use iotmark_log::merkle::{hex, sha256};
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
    /// Suspend, revoke, end the support of, or reinstate an earlier attestation
    #[command(
        after_help = "Examples:\n  iotmark attest status cert.dsse.json --set suspension --reason \"under investigation\" --key keys/lab.key\n  iotmark attest status cert.dsse.json --set reinstatement --reason \"fixed in 2.1.1\" --key keys/lab.key\n  iotmark attest status decl.dsse.json --set end-of-support --reason \"support period ended\" \\\n      --effective 2031-07-01T00:00:00Z --key keys/acme.key"
    )]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The attestation (DSSE envelope) whose status changes, exactly as published
    envelope: PathBuf,
    /// The change
    #[arg(long = "set", value_name = "STATUS", value_parser = ["suspension", "revocation", "end-of-support", "reinstatement"])]
    status: String,
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

fn parse_time(flag: &str, value: Option<&str>) -> Result<jiff::Timestamp> {
    match value {
        Some(t) => t.parse::<jiff::Timestamp>().with_context(|| {
            format!("{flag} {t:?} is not an RFC 3339 time such as 2026-11-22T10:00:00Z")
        }),
        None => Ok(now_seconds()),
    }
}

/// Now, to the second: attestations are read by people, and sub-second precision in an issue
/// date only adds noise.
fn now_seconds() -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_default()
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
    let report = crate::cmd::declare::load_report(&declaration_path, None)?;
    let Some(declaration) = report.declaration.clone() else {
        eprint!("{}", report.render());
        bail!(
            "{} is not a valid declaration; fix it first (`iotmark check {}`)",
            declaration_path.display(),
            declaration_path.display()
        );
    };
    let results = std::fs::read(&results_path)
        .with_context(|| format!("cannot read {}", results_path.display()))?;
    let scheme_id = scheme_of_results(&results, &results_path)?;
    let bundle = iotmark_catalogs::Bundle::get();
    let scheme = match &args.scheme {
        Some(file) => {
            let scheme = iotmark_assess::Scheme::load(file, bundle)?;
            if scheme.id != scheme_id {
                bail!(
                    "{} defines scheme {:?}, but the results were assessed under {scheme_id:?}",
                    file.display(),
                    scheme.id
                );
            }
            scheme
        }
        None => crate::cmd::assess::resolve_scheme(&scheme_id, bundle).with_context(|| {
            format!(
                "the results were assessed under scheme {scheme_id:?}; pass its file with --scheme"
            )
        })?,
    };
    let organisation = match (args.organisation, route) {
        (Some(o), _) => o,
        (None, Route::Sdoc) => declaration.product.manufacturer.name.clone(),
        (None, Route::Certification) => bail!(
            "a certification is signed by the certification body: name it with --organisation"
        ),
    };
    let issued = parse_time("--issued", args.issued.as_deref())?;
    let valid_until = issued
        .to_zoned(jiff::tz::TimeZone::UTC)
        .checked_add(jiff::Span::new().months(i64::from(scheme.validity_months)))?
        .timestamp();
    let statement = conformity_statement(
        &results,
        &results_path,
        &declaration,
        &ConformityInput {
            route,
            profile: Some(scheme.catalog.clone()),
            organisation,
            key_id: signer.key_id(),
            issued,
            valid_until,
        },
    )?;
    let envelope = iotmark_attest::sign_statement(&statement, &signer)?.to_json();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.dsse.json", declaration.product.id)));
    write_envelope(&out, &envelope, args.force)?;
    report_signed(&out, &envelope, &statement, args.json)
}

/// The scheme ID `iotmark assess` recorded in the results' metadata.
fn scheme_of_results(results: &[u8], path: &Path) -> Result<String> {
    let value: serde_json::Value = serde_json::from_slice(results).with_context(|| {
        format!(
            "{} is not JSON; pass the assessment-results.json written by `iotmark assess --out DIR`",
            path.display()
        )
    })?;
    value["assessment-results"]["metadata"]["props"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "scheme")
        .and_then(|p| p["value"].as_str())
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "{} names no scheme (metadata prop `scheme`); was it written by `iotmark assess --out DIR`?",
                path.display()
            )
        })
}

fn attest_status(args: StatusArgs) -> Result<ExitCode> {
    let original = std::fs::read(&args.envelope)
        .with_context(|| format!("cannot read {}", args.envelope.display()))?;
    // The original's signature is not checked here (the signer may not hold the original
    // signer's public key); its statement only supplies the subject and default issuer.
    let parsed = Envelope::parse(&original)
        .with_context(|| format!("{} is not a DSSE envelope", args.envelope.display()))?;
    let statement = Statement::parse(&parsed.payload).with_context(|| {
        format!(
            "{} does not carry an iotmark statement",
            args.envelope.display()
        )
    })?;
    let Predicate::Conformity(conformity) = &statement.predicate else {
        bail!(
            "{} is itself a status attestation; a status change refers to the conformity attestation",
            args.envelope.display()
        );
    };
    let signer = FileSigner::load(&args.key)?;
    let kind = match args.status.as_str() {
        "suspension" => StatusKind::Suspension,
        "revocation" => StatusKind::Revocation,
        "end-of-support" => StatusKind::EndOfSupport,
        _ => StatusKind::Reinstatement,
    };
    let now = now_seconds();
    let effective = match &args.effective {
        Some(_) => parse_time("--effective", args.effective.as_deref())?,
        None => now,
    };
    let status = status_statement(
        &original,
        statement.subject.clone(),
        kind,
        &args.reason,
        effective,
        now,
        Party {
            organisation: args
                .organisation
                .unwrap_or_else(|| conformity.assessor.organisation.clone()),
            key_id: signer.key_id(),
        },
    )?;
    let envelope = iotmark_attest::sign_statement(&status, &signer)?.to_json();
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
            .with_file_name(format!("{stem}.{}.dsse.json", kind.as_str()))
    });
    write_envelope(&out, &envelope, args.force)?;
    report_signed(&out, &envelope, &status, args.json)
}

fn report_signed(
    out: &Path,
    envelope: &str,
    statement: &Statement,
    json: bool,
) -> Result<ExitCode> {
    let envelope_sha256 = hex(&sha256(envelope.as_bytes()));
    if json {
        let statement_json: serde_json::Value = serde_json::from_slice(&statement.to_json())?;
        outln!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "envelope": out,
                "envelope_sha256": envelope_sha256,
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
