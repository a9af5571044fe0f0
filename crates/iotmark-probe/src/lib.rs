//! The live device probe: what a running product exposes on the network, checked the way a
//! test lab would, and written as evidence `iotmark assess` reads beside the firmware scan.
//!
//! Only what the user names is touched: one host (resolved once), the ports given (or the
//! default IoT list), every connection paced ([`conn::Limits`]: a rate, connect and read
//! timeouts, a deadline per exchange, a byte cap, a bound on the whole run).
//!
//! * [`scan`]: a TCP connect scan.
//! * [`service`]: what listens on each open port, from its banner or its answer to a TLS,
//!   HTTP or MQTT opening.
//! * [`tls`]: protocol versions (SSL 3.0 to TLS 1.3, from ClientHellos built here), accepted
//!   suites and the certificate chain; [`https`]: a whole session (rustls) for the certificate
//!   a TLS 1.3 server encrypts and the web interface behind TLS. [`ssh`]: the algorithms a server offers, and Terrapin;
//!   [`ssh_login`]: its host key and whether a default password opens it.
//! * [`upnp`]: SSDP discovery sent to the host, its description, and whether port mapping
//!   works without authentication; [`mdns`]: the services it advertises over mDNS / DNS-SD.
//! * [`declared`]: open ports against the services the declaration names.
//! * [`image`]: whether a key the device presents is one its firmware image holds.
//! * [`observe`]: the findings, by the check IDs the bundled rules name (`probe.tls.weak-version`
//!   …), as evidence records.
//!
//! Every parser of what a peer sends reads through [`wire::Cursor`] and has a fuzz target.

pub mod conn;
pub mod declared;
pub mod http;
pub mod https;
pub mod image;
pub mod mdns;
pub mod observe;
pub mod scan;
pub mod service;
pub mod ssh;
pub mod ssh_login;
pub mod suites;
pub mod telnet;
pub mod tls;
pub mod upnp;
pub mod wire;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

pub use conn::Limits;
pub use observe::Finding;
use service::Service;

/// The TCP ports probed when none are given: the services IoT devices expose most (remote
/// shells, web interfaces, MQTT, RTSP, UPnP, TR-069, vendor consoles).
pub const DEFAULT_PORTS: [u16; 36] = [
    21, 22, 23, 25, 53, 80, 81, 88, 110, 443, 554, 1080, 1883, 2323, 3000, 4443, 5000, 5001, 5555,
    7547, 8000, 8008, 8080, 8081, 8088, 8443, 8554, 8883, 8888, 9000, 9090, 9443, 37777, 49152,
    49153, 65534,
];

/// Open ports examined at once.
const EXAMINERS: usize = 16;

/// Why a probe could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error(
        "cannot resolve {host:?}: {message}; give an IP address or a name this machine resolves"
    )]
    Resolve { host: String, message: String },
    #[error("port list {0:?}: {1}")]
    Ports(String, String),
}

/// Parses `22,80,8000-8100` into ports (each once, in order).
pub fn parse_ports(list: &str) -> Result<Vec<u16>, ProbeError> {
    let bad = |m: String| ProbeError::Ports(list.to_owned(), m);
    let mut ports = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        let parse = |s: &str| -> Result<u16, ProbeError> {
            s.trim()
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad(format!("{s:?} is not a port (1 to 65535)")))
        };
        let (from, to) = (parse(from)?, parse(to)?);
        if from > to {
            return Err(bad(format!("the range {part} runs backwards")));
        }
        for p in from..=to {
            if !ports.contains(&p) {
                ports.push(p);
            }
        }
    }
    if ports.is_empty() {
        return Err(bad("no ports; give e.g. 22,80,8000-8100".to_owned()));
    }
    Ok(ports)
}

/// The one address `host` is probed at.
pub fn resolve(host: &str) -> Result<IpAddr, ProbeError> {
    if let Ok(ip) = host
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
    {
        return Ok(ip);
    }
    let mut addrs = (host, 0)
        .to_socket_addrs()
        .map_err(|e| ProbeError::Resolve {
            host: host.to_owned(),
            message: e.to_string(),
        })?;
    addrs
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| ProbeError::Resolve {
            host: host.to_owned(),
            message: "no address".to_owned(),
        })
}

/// A certificate of the chain after the leaf, where it stood in what the server sent.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum ChainEntry {
    Read(Box<observe::CertificateView>),
    /// Bytes that do not parse as X.509: who issued what cannot be followed across them.
    Unreadable {
        unreadable_bytes: usize,
    },
}

/// What was found on one open port.
#[derive(Debug, Clone, Serialize)]
pub struct PortReport {
    pub port: u16,
    #[serde(flatten)]
    pub service: Service,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<tls::TlsReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<observe::CertificateView>,
    /// The rest of the chain the server sent, in its order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<ssh::SshReport>,
    /// The SSH host key and what password logins allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_login: Option<ssh_login::SshLogin>,
    /// Web logins found on admin paths, and whether a default pair opened them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<http::LoginReport>,
    /// The CONNACK return code of an MQTT broker inside TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mqtt_over_tls: Option<u8>,
    /// The security headers of the web interface's page at `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<http::SecurityHeaders>,
    /// What the telnet login allowed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telnet: Option<telnet::TelnetLogin>,
    /// Why a deeper check of this port stopped, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The whole probe of one host.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub host: String,
    pub address: IpAddr,
    pub started: jiff::Timestamp,
    pub finished: jiff::Timestamp,
    pub ports_scanned: usize,
    /// The ports scanned, for comparisons after the run.
    #[serde(skip)]
    pub scanned: Vec<u16>,
    pub open: Vec<PortReport>,
    /// What UPnP showed (an SSDP search sent to the host itself), when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upnp: Option<upnp::UpnpReport>,
    /// Why the UPnP check stopped, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upnp_error: Option<String>,
    /// What the host advertises over mDNS (legacy unicast queries to it), when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mdns: Option<mdns::MdnsReport>,
    /// Why the mDNS check stopped, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mdns_error: Option<String>,
    /// Ports not probed because the run's time was up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_probed: Vec<u16>,
    pub findings: Vec<Finding>,
}

impl ProbeReport {
    /// Adds a finding per key the device presented: is it one of the image's?
    pub fn compare_keys_with(
        &mut self,
        images: &[iotmark_firmware::analyze::public_key::ImageKeys],
    ) {
        self.findings.extend(image::findings(&self.open, images));
    }
}

/// Progress of a probe: ports scanned, then open ports examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Scan,
    Examine,
}

/// Probes `host` at `address` on `ports` under `limits`, trying `credentials` where a login
/// asks for them. `progress` hears (stage, done, total).
pub fn probe(
    host: &str,
    address: IpAddr,
    ports: &[u16],
    credentials: &[http::Credential],
    limits: &Limits,
    progress: &(dyn Fn(Stage, usize, usize) + Sync),
) -> ProbeReport {
    let started = jiff::Timestamp::now();
    // UDP discovery (UPnP, mDNS) is mostly waiting: it runs beside the TCP work.
    std::thread::scope(|scope| {
        let upnp = scope.spawn(|| upnp::probe(address, host, limits));
        let mdns = scope.spawn(|| mdns::probe(address, limits));
        let mut report = probe_tcp(host, address, ports, credentials, limits, progress, started);
        (report.upnp, report.upnp_error) = joined(upnp.join(), "UPnP");
        (report.mdns, report.mdns_error) = joined(mdns.join(), "mDNS");
        report.findings.extend(observe::upnp_findings(
            report.upnp.as_ref(),
            report.upnp_error.as_deref(),
        ));
        report.findings.extend(observe::mdns_findings(
            report.mdns.as_ref(),
            report.mdns_error.as_deref(),
            &report.open,
        ));
        report
    })
}

/// What a discovery thread found, or why it stopped.
fn joined<T>(
    outcome: std::thread::Result<std::io::Result<Option<T>>>,
    what: &str,
) -> (Option<T>, Option<String>) {
    match outcome {
        Ok(Ok(found)) => (found, None),
        Ok(Err(e)) => (None, Some(e.to_string())),
        Err(_) => (None, Some(format!("the {what} check stopped unexpectedly"))),
    }
}

/// The TCP part: the connect scan, then each open port examined.
fn probe_tcp(
    host: &str,
    address: IpAddr,
    ports: &[u16],
    credentials: &[http::Credential],
    limits: &Limits,
    progress: &(dyn Fn(Stage, usize, usize) + Sync),
    started: jiff::Timestamp,
) -> ProbeReport {
    let scanned = scan::connect_scan(address, ports, limits, &|d, t| progress(Stage::Scan, d, t));
    // Open ports are examined side by side (each waits mostly on its peer), still paced
    // connection by connection by the limits.
    let total = scanned.open.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<PortReport>>> = (0..total).map(|_| Mutex::new(None)).collect();
    progress(Stage::Examine, 0, total);
    std::thread::scope(|scope| {
        for _ in 0..EXAMINERS.min(total) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&port) = scanned.open.get(i) else {
                        break;
                    };
                    if !limits.time_is_up() {
                        let report =
                            examine(host, SocketAddr::new(address, port), credentials, limits);
                        if let Ok(mut slot) = slots[i].lock() {
                            *slot = Some(report);
                        }
                    }
                    progress(
                        Stage::Examine,
                        done.fetch_add(1, Ordering::Relaxed) + 1,
                        total,
                    );
                }
            });
        }
    });
    let mut open = Vec::new();
    let mut not_probed = scanned.not_scanned.clone();
    for (slot, port) in slots.into_iter().zip(&scanned.open) {
        match slot.into_inner().ok().flatten() {
            Some(report) => open.push(report),
            None => not_probed.push(*port),
        }
    }
    let findings = observe::findings(&open);
    ProbeReport {
        host: host.to_owned(),
        address,
        started,
        finished: jiff::Timestamp::now(),
        ports_scanned: ports.len(),
        scanned: ports.to_vec(),
        open,
        upnp: None,
        upnp_error: None,
        mdns: None,
        mdns_error: None,
        not_probed,
        findings,
    }
}

/// Identifies the service on one open port and runs the checks for it.
fn examine(
    host: &str,
    addr: SocketAddr,
    credentials: &[http::Credential],
    limits: &Limits,
) -> PortReport {
    let mut report = PortReport {
        port: addr.port(),
        service: Service::Silent,
        tls: None,
        certificate: None,
        chain: Vec::new(),
        ssh: None,
        ssh_login: None,
        logins: Vec::new(),
        headers: None,
        mqtt_over_tls: None,
        telnet: None,
        error: None,
    };
    let service = match service::identify(addr, host, limits) {
        Ok(s) => s,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let deeper = match &service {
        Service::Tls => tls::probe(addr, Some(host), limits).map(|t| {
            let mut chain = t
                .as_ref()
                .map(|t| t.certificates.clone())
                .unwrap_or_default();
            // A session of rustls's own reads what TLS 1.3 encrypts, and what is served
            // inside: HTTP, or else MQTT (a broker closes on a request it cannot read).
            if let Ok(session) = https::session(addr, host, https::Inner::Http, limits) {
                if chain.is_empty() {
                    chain = session.certificates;
                }
                report.headers = session.headers;
                // A web interface behind TLS: its logins, as on plain HTTP.
                if session.status.is_some() {
                    let site = http::Site {
                        addr,
                        host,
                        tls: true,
                    };
                    match http::logins(&site, credentials, limits) {
                        Ok(w) => report.logins = w.logins,
                        Err(e) => report.error = Some(e.to_string()),
                    }
                }
                if session.status.is_none()
                    && let Ok(mqtt) = https::session(addr, host, https::Inner::Mqtt, limits)
                {
                    report.mqtt_over_tls = mqtt.mqtt_return_code;
                }
            }
            // Each certificate keeps its place: one that does not parse is recorded as such,
            // so the leaf is never an intermediate and the order check never skips a gap.
            report.certificate = chain
                .first()
                .and_then(|der| observe::CertificateView::read(der));
            report.chain = chain
                .iter()
                .skip(1)
                .map(|der| match observe::CertificateView::read(der) {
                    Some(c) => ChainEntry::Read(Box::new(c)),
                    None => ChainEntry::Unreadable {
                        unreadable_bytes: der.len(),
                    },
                })
                .collect();
            report.tls = t;
        }),
        Service::Ssh { .. } => ssh::probe(addr, limits).map(|s| {
            report.ssh = s;
            // A server whose algorithms the probe could not read is not logged in to either.
            if report.ssh.is_some() {
                match ssh_login::logins(addr, credentials, limits) {
                    Ok(l) => report.ssh_login = Some(l),
                    Err(e) => report.error = Some(e.to_string()),
                }
            }
        }),
        Service::Http { .. } => {
            let site = http::Site {
                addr,
                host,
                tls: false,
            };
            http::logins(&site, credentials, limits).map(|w| {
                report.logins = w.logins;
                report.headers = w.headers;
            })
        }
        Service::Telnet { .. } => {
            telnet::logins(addr, credentials, limits).map(|t| report.telnet = Some(t))
        }
        _ => Ok(()),
    };
    if let Err(e) = deeper {
        report.error = Some(e.to_string());
    }
    report.service = service;
    report
}
