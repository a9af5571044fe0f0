//! `iotmark mud`: a Manufacturer Usage Description (RFC 8520) from a declaration, signed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use iotmark_conformity::mud::{MudFileError, MudSigner, mud_file};
use iotmark_declare::mud::MudOptions;
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Args)]
#[command(after_help = "\
The MUD file allows what the declaration says the product does: connections it opens to
each `interfaces.cloud` endpoint, and connections from the local network (or, for services
declared `internet`, from anywhere) to each service in `interfaces.network`. `is-supported`
is false once `updates.support_end` has passed.

With --sign-key and --sign-cert the file's exact bytes are signed as RFC 8520 §13 asks: a
detached CMS SignedData (DER) by an ECDSA P-256 or RSA key, with the certificate chain given
(the signer's certificate first). Check it with
  openssl cms -verify -binary -inform DER -in mud.p7s -content mud.json -CAfile ROOT.pem

Examples:
  iotmark mud product.yaml --url https://mud.acme.example/sc-200.json
  iotmark mud product.yaml --url https://mud.acme.example/sc-200.json -o sc-200.json \\
      --sign-key mud-signer.key --sign-cert mud-signer-chain.pem
  iotmark mud product.yaml --url https://mud.acme.example/sc-200.json -o sc-200.json --json")]
pub struct MudArgs {
    /// The product declaration (YAML or JSON)
    declaration: PathBuf,
    /// Where the MUD file will be published (https): the URL the device emits
    #[arg(long, value_name = "URL")]
    url: String,
    /// Where the signature will be published; with a signer, defaults to --url with `.json`
    /// replaced by `.p7s`
    #[arg(long, value_name = "URL")]
    signature_url: Option<String>,
    /// Write the MUD file here (default: standard output)
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The signer's private key (PKCS#8 PEM; PKCS#1 for RSA)
    #[arg(long, value_name = "FILE", requires_all = ["sign_cert", "output"])]
    sign_key: Option<PathBuf>,
    /// The signer's certificate, then any intermediates (PEM)
    #[arg(long, value_name = "FILE", requires = "sign_key")]
    sign_cert: Option<PathBuf>,
    /// Write the signature here (default: the output file with `.p7s`)
    #[arg(long, value_name = "FILE", requires = "sign_key")]
    signature: Option<PathBuf>,
    /// Hours a MUD manager may cache the file (1–168)
    #[arg(long, value_name = "HOURS", default_value_t = 48)]
    cache_validity: u8,
    /// Judge support against this day instead of today (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    date: Option<String>,
    /// Print a summary as JSON
    #[arg(long)]
    json: bool,
}

/// `https://x/y.json` → `https://x/y.p7s`; any other URL gets `.p7s` appended.
fn with_p7s(url: &str) -> String {
    match url.strip_suffix(".json") {
        Some(stem) => format!("{stem}.p7s"),
        None => format!("{url}.p7s"),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

pub fn run(args: MudArgs) -> Result<ExitCode> {
    let signer = match (&args.sign_key, &args.sign_cert) {
        (Some(key), Some(cert)) => Some(MudSigner {
            key: key.clone(),
            certificates: cert.clone(),
        }),
        _ => None,
    };
    let signature_url = match (&args.signature_url, &signer) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(_)) => Some(with_p7s(&args.url)),
        (None, None) => None,
    };
    let options = MudOptions {
        url: args.url.clone(),
        signature_url: signature_url.clone(),
        now: crate::inputs::time_or_now("--now", None)?,
        today: crate::inputs::today(args.date.as_deref())?,
        cache_validity: args.cache_validity,
    };
    let file = match mud_file(&args.declaration, &options, signer.as_ref()) {
        Ok(file) => file,
        Err(MudFileError::Invalid(report)) => {
            eprint!("{}", report.render());
            bail!(
                "{} is not a valid declaration; fix it first (`iotmark check {}`)",
                args.declaration.display(),
                args.declaration.display()
            )
        }
        Err(e) => return Err(e.into()),
    };
    let Some(output) = &args.output else {
        std::io::stdout().lock().write_all(&file.json)?;
        return Ok(ExitCode::SUCCESS);
    };
    write_file(output, &file.json)?;
    let signature_path = file.signature.as_ref().map(|sig| {
        let path = args
            .signature
            .clone()
            .unwrap_or_else(|| output.with_extension("p7s"));
        (path, sig)
    });
    if let Some((path, sig)) = &signature_path {
        write_file(path, sig)?;
    }
    if args.json {
        let summary = json!({
            "mud": output,
            "mud_url": args.url,
            "signature": signature_path.as_ref().map(|(p, _)| p),
            "signature_url": signature_url,
            "is_supported": file.supported,
            "access_control_entries": file.entries,
            "warnings": file.report.diagnostics,
        });
        serde_json::to_writer_pretty(std::io::stdout().lock(), &summary)?;
        println!();
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    println!(
        "{} {} ({} access-control entries, is-supported: {})",
        style.good("wrote"),
        output.display(),
        file.entries,
        if file.supported {
            style.good("true")
        } else {
            style.warn("false")
        }
    );
    if let Some((path, _)) = &signature_path {
        println!(
            "{} {} (detached CMS signature; publish it at {})",
            style.good("wrote"),
            path.display(),
            signature_url.as_deref().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
