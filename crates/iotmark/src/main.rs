//! The `iotmark` command line: parses arguments and hands each command to the library crates.
//!
//! Exit codes (also in `iotmark --help`):
//! 0 success; 1 the input is invalid or the thing asked for does not exist;
//! 2 the command line itself is wrong (clap's usage errors).

/// `println!` that returns the write error instead of panicking, so that `iotmark … | head`
/// ends quietly when the reader goes away.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

mod cmd;
mod inputs;
mod style;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// OSCAL documents become millions of small allocations (strings, vectors, maps); mimalloc
// loads NIST's 2 MB HIGH catalog measurably faster than the system allocator
// (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const AFTER_HELP: &str = "\
Exit codes:
  0  success (for assess: the product conforms)
  1  invalid input, or the requested item does not exist
  2  usage error (unknown flag, missing argument)
  3  assess: the product does not conform; vulns --fail-on: a finding of that kind is open;
     fleet check: some devices need action; probe: a check failed
  4  assess: mandatory requirements still need review; fleet check: the registry's
     answers disagree with its log

Examples:
  iotmark demo
  iotmark init -o product.yaml
  iotmark check product.yaml
  iotmark assess product.yaml --scheme en303645-self-declaration --out report/
  iotmark catalog list
  iotmark catalog show en303645-5.1-1
  iotmark catalog map en303645-5.1-1 --to ir8425
  iotmark catalog export en303645 --format csv -o en303645.csv
  iotmark catalog resolve my-profile.json -o resolved.json
  iotmark landscape cryptographic-techniques
  iotmark vulns import nvdcve-2.0-2024.json.gz known_exploited_vulnerabilities.json
  iotmark vulns camera.cdx.json --vex camera.openvex.json
  iotmark mud product.yaml --url https://mud.acme.example/sc-200.json -o sc-200.json
  iotmark procure --baseline moderate camera-a.yaml camera-b.yaml
  iotmark fleet check devices.csv --registry https://registry.example.org --log-key log.vkey
  iotmark probe 192.168.1.20 --out evidence/";

/// Conformity assessment and transparency for the cybersecurity of IoT products.
#[derive(Debug, Parser)]
#[command(name = "iotmark", version, about, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole flow on this machine: assess the example, sign, publish, serve the registry
    Demo(cmd::demo::DemoArgs),
    /// Browse, search, map and export the bundled requirement catalogs; import and resolve OSCAL
    #[command(subcommand)]
    Catalog(cmd::catalog::CatalogCommand),
    /// Query the NISTIR 8200 IoT cybersecurity standards landscape
    Landscape(cmd::landscape::LandscapeArgs),
    /// Write a complete, commented product declaration to start from
    Init(cmd::declare::InitArgs),
    /// Check a product declaration: every problem with its line, the expected form and a hint
    Check(cmd::declare::CheckArgs),
    /// Assess a product against a conformity scheme and write the reports
    Assess(cmd::assess::AssessArgs),
    /// List and show the conformity schemes
    #[command(subcommand)]
    Scheme(cmd::assess::SchemeCommand),
    /// Print the JSON Schema of product declarations (for editors)
    Schema,
    /// Unpack a firmware image, check it, and write evidence for `assess`
    Scan(cmd::scan::ScanArgs),
    /// Create signing keys for attestations
    #[command(subcommand)]
    Key(cmd::attest::KeyCommand),
    /// Sign a declaration of conformity or a certification bound to the firmware, or a status change
    Attest(cmd::attest::AttestArgs),
    /// Keep attestations in a tamper-evident log: append, checkpoint, prove, verify, audit
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Run and administer the registry: API, public product pages, labels, the log
    #[command(subcommand)]
    Registry(cmd::registry::RegistryCommand),
    /// Check a signed attestation offline: what it attests, who signed it, whether it is valid now
    Verify(cmd::attest::VerifyArgs),
    /// Match an SBOM, a scan or an image against vulnerability data; import feeds; triage
    Vulns(cmd::vulns::VulnsArgs),
    /// Write the product's Manufacturer Usage Description (RFC 8520), signed
    Mud(cmd::mud::MudArgs),
    /// Derive IoT device requirements from an SP 800-53 baseline and compare products (SP 800-213)
    Procure(cmd::procure::ProcureArgs),
    /// Check deployed devices against a registry, and the registry against its log
    #[command(subcommand)]
    Fleet(cmd::fleet::FleetCommand),
    /// Probe a running device's services for evidence (TLS, SSH, telnet, HTTP, MQTT, UPnP, mDNS)
    Probe(cmd::probe::ProbeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Catalog(c) => cmd::catalog::run(c),
        Command::Landscape(a) => cmd::landscape::run(a),
        Command::Init(a) => cmd::declare::init(a),
        Command::Check(a) => cmd::declare::check(a),
        Command::Assess(a) => cmd::assess::assess(a),
        Command::Scheme(c) => cmd::assess::scheme(c),
        Command::Schema => cmd::declare::schema(),
        Command::Scan(a) => cmd::scan::run(a),
        Command::Key(c) => cmd::attest::key(c),
        Command::Attest(a) => cmd::attest::attest(a),
        Command::Verify(a) => cmd::attest::verify(a),
        Command::Log(c) => cmd::log::run(c),
        Command::Registry(c) => cmd::registry::run(c),
        Command::Vulns(a) => cmd::vulns::run(a),
        Command::Mud(a) => cmd::mud::run(a),
        Command::Procure(a) => cmd::procure::run(a),
        Command::Fleet(c) => cmd::fleet::run(c),
        Command::Probe(a) => cmd::probe::run(a),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`): not an error of ours.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            // Errors quote paths and input; their own line breaks (hints) are kept, any other
            // control character is shown as an escape rather than sent to the terminal.
            let text = format!("{err:#}");
            let shown: Vec<_> = text.split('\n').map(iotmark_declare::visible).collect();
            let style = style::Style::stderr();
            eprintln!("{} {}", style.error("error:"), shown.join("\n"));
            ExitCode::from(1)
        }
    }
}
