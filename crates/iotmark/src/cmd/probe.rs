//! `iotmark probe`: what a running device exposes on the network, as evidence for `assess`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use iotmark_evidence::ObservationResult;
use iotmark_probe::observe::{Binding, to_evidence};
use iotmark_probe::{Limits, ProbeReport, Stage};

use crate::style::Style;

/// Exit code when a check failed.
const EXIT_FAILED: u8 = 3;

#[derive(Debug, Args)]
#[command(after_help = "\
Only the host named is touched: on the TCP ports given (by default a list of the ports IoT
devices expose most), and on its own UDP ports 1900 (UPnP) and 5353 (mDNS), never a
multicast group. Every connection is paced (--rate), every read bounded (--connect-timeout,
--read-timeout), and the whole run ends by --max-time.

What it checks: open ports and the service on each (from banners, or a TLS, HTTP or MQTT
opening); for TLS the protocol versions from SSL 3.0 to TLS 1.3, the suites accepted and the
certificate chain (expiry, key size, signature hash); for SSH the algorithms offered,
Terrapin, the host key, and password logins with default pairs; telnet logins; MQTT in the
clear or over TLS, and without credentials; web interfaces (HTTP and HTTPS), their security
headers, and whether a factory-default password opens their Basic, Digest or form login
(--credentials), and whether refusals slow down; UPnP discovery and descriptions, and
whether a gateway maps a port without authentication; what mDNS advertises. With
--declaration, open ports against the declared services; with --image-evidence, whether the
device presents a key baked into its firmware image. Each finding names the check the
assessment rules use (probe.tls.weak-version …).

What it changes on the device: login attempts (at most the pairs given, 12 by default, per
login), and on a UPnP gateway that accepts it one port mapping to this machine, with a
60-second lease, deleted at once (--no-upnp-mapping leaves it out).

Exit codes:
  0  no check failed
  1  the host could not be resolved, or an argument is wrong
  3  at least one check failed

Examples:
  iotmark probe 192.168.1.20
  iotmark probe camera.local --ports 22,80,443,1883,8000-8100 --out evidence/
  iotmark probe 192.168.1.20 --credentials vendor-defaults.txt
  iotmark probe 192.168.1.20 --declaration product.yaml --component camera
  iotmark probe 192.168.1.20 --component camera --image-sha256 9f2c1e7b… --json
  iotmark scan camera.bin --out evidence/ && iotmark probe 192.168.1.20 --image-evidence evidence/ --out evidence/")]
pub struct ProbeArgs {
    /// The device: an IP address or a host name (resolved once)
    host: String,
    /// Ports to probe: a list and ranges, e.g. 22,80,8000-8100 [default: the IoT port list]
    #[arg(long, value_name = "LIST")]
    ports: Option<String>,
    /// The declared component the device is (its ID in the declaration)
    #[arg(long, value_name = "ID", default_value = "device")]
    component: String,
    /// The SHA-256 of the firmware image the device runs, to bind the evidence to it
    #[arg(long, value_name = "HEX")]
    image_sha256: Option<String>,
    /// Pairs to try where a login asks for credentials, `user:password` per line (at most
    /// 100) [default: a built-in list of 12 common factory defaults]
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Write the findings as evidence records into this directory (for `iotmark assess`)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The product declaration: each open port is judged against the network services it
    /// names for --component (undeclared ports fail; a service declared as encrypted must not
    /// answer in the clear)
    #[arg(long, value_name = "FILE")]
    declaration: Option<PathBuf>,
    /// The evidence directory of `iotmark scan IMAGE --out DIR`: the SSH host keys and TLS
    /// certificate keys the device presents are compared with the keys found in the image
    /// (and the evidence is bound to that image when --image-sha256 is not given)
    #[arg(long, value_name = "DIR")]
    image_evidence: Option<PathBuf>,
    /// Connections started per second, at most
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    rate: u32,
    /// Milliseconds to establish a connection
    #[arg(long, value_name = "MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    connect_timeout: u64,
    /// Milliseconds to wait for the next bytes of an answer
    #[arg(long, value_name = "MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    read_timeout: u64,
    /// Seconds the whole probe may take; what is left then is reported as not probed
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    max_time: u64,
    /// Do not ask a UPnP gateway for a port mapping (by default one is made, with a
    /// 60-second lease, and deleted at once, to see whether it needs authentication)
    #[arg(long)]
    no_upnp_mapping: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(args: ProbeArgs) -> Result<ExitCode> {
    let ports = match &args.ports {
        Some(list) => iotmark_probe::parse_ports(list)?,
        None => iotmark_probe::DEFAULT_PORTS.to_vec(),
    };
    if let Some(d) = &args.image_sha256
        && (d.len() != 64 || !d.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        anyhow::bail!("--image-sha256 {d:?} is not a SHA-256 digest: give 64 hexadecimal digits");
    }
    let credentials = match &args.credentials {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            iotmark_probe::http::parse_credentials(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => iotmark_probe::http::default_credentials(),
    };
    let declared = match &args.declaration {
        Some(path) => Some(declared_services(path, &args.component)?),
        None => None,
    };
    let images = match &args.image_evidence {
        Some(dir) => iotmark_probe::image::read(dir)?,
        None => Vec::new(),
    };
    let image_sha256 = match (&args.image_sha256, images.as_slice()) {
        (Some(d), _) => Some(d.to_ascii_lowercase()),
        (None, [one]) => Some(one.image_sha256.clone()),
        (None, _) => None,
    };
    let address = iotmark_probe::resolve(&args.host)?;
    let mut limits = Limits::new(
        Duration::from_millis(args.connect_timeout),
        Duration::from_millis(args.read_timeout),
        args.rate,
        Duration::from_secs(args.max_time),
    );
    limits.port_mapping = !args.no_upnp_mapping;
    let mut report = with_progress(|progress| {
        iotmark_probe::probe(&args.host, address, &ports, &credentials, &limits, progress)
    });
    if !images.is_empty() {
        report.compare_keys_with(&images);
    }
    if let Some(declared) = &declared {
        report.compare_with_declared(declared);
    }
    if let Some(dir) = &args.out {
        let bears_on = crate::inputs::bears_on()?;
        let collected_at = report.finished.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let evidence = to_evidence(
            &report.findings,
            &Binding {
                host: &args.host,
                component: &args.component,
                image_sha256: image_sha256.as_deref(),
            },
            &collected_at,
            &bears_on,
        );
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let name: String = args
            .host
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let path = dir.join(format!("probe-{name}.json"));
        crate::inputs::write_json(&path, &serde_json::to_value(&evidence)?)?;
        eprintln!(
            "wrote {} evidence record(s) to {}",
            evidence.len(),
            path.display()
        );
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_summary(&report)?;
    }
    let failed = report
        .findings
        .iter()
        .any(|f| f.result == ObservationResult::Fail);
    Ok(if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// The network services `path` declares for `component`.
fn declared_services(
    path: &std::path::Path,
    component: &str,
) -> Result<Vec<iotmark_probe::declared::Declared>> {
    use iotmark_declare::{Encryption, Transport};
    let (_, declaration) = crate::inputs::valid_declaration(path, None)?;
    if !declaration.components.iter().any(|c| c.id == component) {
        let ids: Vec<&str> = declaration
            .components
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        anyhow::bail!(
            "{} declares no component {component:?}; give --component one of: {}",
            path.display(),
            ids.join(", ")
        );
    }
    Ok(declaration
        .interfaces
        .network
        .iter()
        .filter(|s| s.component == component)
        .map(|s| iotmark_probe::declared::Declared {
            name: s.name.clone(),
            protocol: s.protocol.clone(),
            port: s.port,
            tcp: s.transport == Transport::Tcp,
            encrypted: matches!(s.encryption, Encryption::Tls | Encryption::Dtls),
            enabled_by_default: s.enabled_by_default,
        })
        .collect())
}

/// Runs `work` while a progress bar on stderr shows the ports scanned, then the open ports
/// examined (only on a terminal, and not under `NO_COLOR`).
fn with_progress<T>(work: impl FnOnce(&(dyn Fn(Stage, usize, usize) + Sync)) -> T) -> T {
    if !Style::progress_on_stderr() {
        return work(&|_, _, _| {});
    }
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg:<16} [{bar:30}] {pos}/{len} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(100));
    let result = work(&|stage, done, total| {
        bar.set_message(match stage {
            Stage::Scan => "scanning ports",
            Stage::Examine => "examining services",
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    result
}

fn print_summary(report: &ProbeReport) -> Result<()> {
    let style = Style::stdout();
    outln!(
        "{} {} ({}): {} of {} ports open, {:.1} s",
        style.bold("Probe of"),
        iotmark_declare::visible(&report.host),
        report.address,
        report.open.len(),
        report.ports_scanned,
        (report.finished - report.started)
            .total(jiff::Unit::Second)
            .unwrap_or_default()
    );
    for p in &report.open {
        outln!(
            "  {:>5}/tcp  {}",
            p.port,
            iotmark_declare::visible(&p.service.describe())
        );
    }
    if let Some(u) = &report.upnp {
        outln!(
            "  {:>5}/udp  UPnP: {} ({} answer(s))",
            iotmark_probe::upnp::SSDP_PORT,
            iotmark_declare::visible(u.answers.first().map_or("", |a| a.server.as_str())),
            u.answers.len()
        );
    }
    if let Some(m) = &report.mdns {
        outln!(
            "  {:>5}/udp  mDNS: {}",
            iotmark_probe::mdns::MDNS_PORT,
            iotmark_declare::visible(&m.service_types.join(", "))
        );
    }
    if !report.not_probed.is_empty() {
        outln!(
            "{}",
            style.warn(&format!(
                "not probed (the time was up): {}",
                report
                    .not_probed
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        );
    }
    outln!();
    for f in &report.findings {
        let result = match f.result {
            ObservationResult::Fail => style.error("FAIL"),
            ObservationResult::Pass => style.good("pass"),
            ObservationResult::Info => style.dim("info"),
        };
        outln!(
            "{result} {:<27} {:>5}/{:<6} {}",
            f.check,
            f.port,
            f.protocol,
            iotmark_declare::visible(&f.message)
        );
    }
    Ok(())
}
