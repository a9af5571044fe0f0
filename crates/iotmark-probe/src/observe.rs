//! What the probe found, by the check IDs the bundled assessment rules name, and as evidence
//! records bound to the declared component and the firmware image it runs.

use iotmark_evidence::{
    Body, Evidence, Location, Observation, ObservationResult, Severity, Subject, Tool,
};
use iotmark_firmware::analyze::keys::{self, Certificate};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::PortReport;
use crate::service::Service;

/// One finding about one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// A check ID of the bundled rules (`probe.tls.weak-version`).
    pub check: &'static str,
    pub result: ObservationResult,
    pub severity: Severity,
    pub port: u16,
    /// The protocol spoken there (`ssh`, `tls`, `http` …).
    pub protocol: &'static str,
    pub message: String,
}

/// What the server's certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateView {
    pub subject: String,
    pub issuer: String,
    pub self_signed: bool,
    pub key: String,
    pub signature: &'static str,
    pub not_before: String,
    pub not_after: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, hex: the key's identity.
    pub public_key_sha256: String,
    #[serde(skip)]
    facts: Certificate,
}

impl CertificateView {
    /// Reads a DER certificate; `None` when it is not one.
    pub fn read(der: &[u8]) -> Option<Self> {
        let c = keys::certificate(der)?;
        Some(Self {
            subject: c.subject.clone(),
            issuer: c.issuer.clone(),
            self_signed: c.self_issued,
            key: c.key.describe(),
            signature: c.signature,
            not_before: c.not_before_text.clone(),
            not_after: c.not_after_text.clone(),
            public_key_sha256: hex(&Sha256::digest(&c.public_key_info)),
            facts: c,
        })
    }

    /// Why the certificate fails, if it does, at `now` (seconds since the epoch).
    pub fn problems(&self, now: i64) -> Vec<String> {
        let c = &self.facts;
        let mut out = Vec::new();
        if c.not_after < now {
            out.push(format!("it expired on {}", c.not_after_text));
        }
        if c.not_before > now {
            out.push(format!("it is not valid until {}", c.not_before_text));
        }
        if let Some(why) = c.key.weakness() {
            out.push(format!("its key ({}): {why}", c.key.describe()));
        }
        if c.weak_signature() {
            out.push(format!(
                "it is signed with {}, a hash with practical collisions",
                c.signature
            ));
        }
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn finding(
    check: &'static str,
    failed: bool,
    severity: Severity,
    port: &PortReport,
    message: String,
) -> Finding {
    Finding {
        check,
        result: if failed {
            ObservationResult::Fail
        } else {
            ObservationResult::Pass
        },
        severity,
        port: port.port,
        protocol: protocol(port),
        message,
    }
}

fn protocol(port: &PortReport) -> &'static str {
    if port.tls.is_some() {
        "tls"
    } else {
        port.service.name()
    }
}

/// The findings for every open port.
pub fn findings(ports: &[PortReport]) -> Vec<Finding> {
    let now = jiff::Timestamp::now().as_second();
    let mut out = Vec::new();
    for p in ports {
        out.push(Finding {
            check: "probe.ports.open",
            result: ObservationResult::Info,
            severity: Severity::Low,
            port: p.port,
            protocol: protocol(p),
            message: format!("port {}/tcp is open: {}", p.port, p.service.describe()),
        });
        if let Some(t) = &p.tls {
            let accepted: Vec<&str> = t.accepted().map(|v| v.name()).collect();
            let old: Vec<&str> = t
                .accepted()
                .filter(|v| v.deprecated())
                .map(|v| v.name())
                .collect();
            out.push(finding(
                "probe.tls.weak-version",
                !old.is_empty(),
                Severity::High,
                p,
                if old.is_empty() {
                    format!("accepts {} only", accepted.join(", "))
                } else {
                    format!(
                        "accepts {}, deprecated by RFC 8996 (SSL 3.0 by RFC 7568); offers {}",
                        old.join(", "),
                        accepted.join(", ")
                    )
                },
            ));
            out.push(finding(
                "probe.tls.weak-cipher",
                !t.weak_suites.is_empty(),
                Severity::High,
                p,
                if t.weak_suites.is_empty() {
                    let n: usize = t.suites.values().map(Vec::len).sum();
                    format!("none of the {n} suites it accepts is broken or unauthenticated")
                } else {
                    format!(
                        "accepts {}",
                        t.weak_suites
                            .iter()
                            .map(|(s, why)| format!("{s} ({why})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            ));
            match &p.certificate {
                Some(c) => {
                    let problems = c.problems(now);
                    let what = format!(
                        "certificate `{}` issued by `{}`{} ({}, signed with {}, valid {} to {})",
                        c.subject,
                        c.issuer,
                        if c.self_signed { ", self-signed" } else { "" },
                        c.key,
                        c.signature,
                        c.not_before,
                        c.not_after
                    );
                    out.push(finding(
                        "probe.tls.certificate",
                        !problems.is_empty(),
                        Severity::Medium,
                        p,
                        if problems.is_empty() {
                            what
                        } else {
                            format!("{what}: {}", problems.join("; "))
                        },
                    ));
                }
                None => out.push(Finding {
                    check: "probe.tls.certificate",
                    result: ObservationResult::Info,
                    severity: Severity::Low,
                    port: p.port,
                    protocol: "tls",
                    message: if t.accepted().all(|v| v == crate::tls::Version::Tls13) {
                        "the certificate was not read: TLS 1.3 sends it encrypted".to_owned()
                    } else {
                        "the server sent no certificate the probe could read".to_owned()
                    },
                }),
            }
        }
        // The rest of the chain: each certificate's own problems, and an order that does
        // not lead from the leaf upwards.
        let mut below = p.certificate.as_ref();
        for (place, entry) in p.chain.iter().enumerate() {
            let c = match entry {
                crate::ChainEntry::Read(c) => &**c,
                crate::ChainEntry::Unreadable { unreadable_bytes } => {
                    out.push(finding(
                        "probe.tls.certificate",
                        true,
                        Severity::Medium,
                        p,
                        format!(
                            "the chain's certificate {} ({unreadable_bytes} bytes) does not parse as X.509: no client can follow the chain through it",
                            place + 2
                        ),
                    ));
                    below = None;
                    continue;
                }
            };
            let mut problems = c.problems(now);
            if let Some(child) = below
                && child.issuer != c.subject
            {
                problems.push(format!(
                    "it does not issue the certificate before it (`{}`, issued by `{}`)",
                    child.subject, child.issuer
                ));
            }
            if !problems.is_empty() {
                out.push(finding(
                    "probe.tls.certificate",
                    true,
                    Severity::Medium,
                    p,
                    format!(
                        "the chain's certificate `{}` issued by `{}` ({}, signed with {}): {}",
                        c.subject,
                        c.issuer,
                        c.key,
                        c.signature,
                        problems.join("; ")
                    ),
                ));
            }
            below = Some(c);
        }
        if p.tls.is_some() {
            out.extend(security_headers(p, true));
            out.extend(login_findings(p));
        }
        if let Some(code) = p.mqtt_over_tls {
            out.push(mqtt_anonymous(p, code, true));
            out.push(finding(
                "probe.mqtt.plaintext",
                false,
                Severity::High,
                p,
                format!("MQTT on port {} runs over TLS", p.port),
            ));
        }
        if let Some(s) = &p.ssh {
            let mut problems: Vec<String> = s
                .weak
                .iter()
                .map(|(a, why)| format!("{a} ({why})"))
                .collect();
            if s.terrapin {
                problems.push("open to Terrapin (CVE-2023-48795): ChaCha20-Poly1305 or an encrypt-then-MAC mode without strict key exchange".to_owned());
            }
            out.push(finding(
                "probe.ssh.weak-algorithms",
                !problems.is_empty(),
                Severity::Medium,
                p,
                if problems.is_empty() {
                    format!(
                        "{} offers no weak algorithm ({} key exchanges, {} ciphers, {} MACs)",
                        s.banner,
                        s.kex.len(),
                        s.ciphers.len(),
                        s.macs.len()
                    )
                } else {
                    format!("{} offers {}", s.banner, problems.join(", "))
                },
            ));
        }
        if let Some(l) = &p.ssh_login {
            out.extend(brute_force(p, "SSH", &l.refusals_ms));
            out.push(if l.takes_passwords() {
                Finding {
                    check: "probe.ssh.password-login",
                    result: ObservationResult::Info,
                    severity: Severity::Low,
                    port: p.port,
                    protocol: "ssh",
                    message: format!(
                        "SSH on port {} takes passwords, which can be guessed; whether it slows repeated attempts was not tested",
                        p.port
                    ),
                }
            } else {
                finding(
                    "probe.ssh.password-login",
                    false,
                    Severity::Low,
                    p,
                    format!("SSH on port {} takes no passwords", p.port),
                )
            });
            out.push(finding(
                "probe.auth.default-credentials",
                l.opened_by.is_some(),
                Severity::Critical,
                p,
                if l.open_without_password {
                    format!(
                        "SSH on port {} let a user in without any authentication",
                        p.port
                    )
                } else if let Some(user) = &l.opened_by {
                    format!(
                        "SSH on port {} logged in as \"{user}\" with a factory-default password",
                        p.port
                    )
                } else if !l.takes_passwords() {
                    format!(
                        "SSH on port {} takes no passwords (it offers {})",
                        p.port,
                        if l.methods.is_empty() {
                            "no method".to_owned()
                        } else {
                            l.methods.join(", ")
                        }
                    )
                } else {
                    format!(
                        "SSH on port {} refused all {} default pairs tried",
                        p.port, l.tried
                    )
                },
            ));
        }
        match &p.service {
            Service::Telnet { .. }
                if p.telnet
                    .as_ref()
                    .is_some_and(|t| t.shell_without_login || t.asks_for_login) =>
            {
                let t = p.telnet.clone().unwrap_or_default();
                out.push(finding(
                    "probe.auth.default-credentials",
                    t.shell_without_login || t.opened_by.is_some(),
                    Severity::Critical,
                    p,
                    if t.shell_without_login {
                        format!("telnet on port {} gives a shell without asking for a user name or password", p.port)
                    } else if let Some(user) = &t.opened_by {
                        format!("telnet on port {} logged in as \"{user}\" with a factory-default password", p.port)
                    } else {
                        format!("telnet on port {} refused all {} default pairs tried", p.port, t.tried)
                    },
                ));
                out.push(telnet_open(p));
            }
            Service::Telnet { .. } => out.push(telnet_open(p)),
            Service::Mqtt { return_code } => {
                out.push(mqtt_anonymous(p, *return_code, false));
                out.push(finding(
                    "probe.mqtt.plaintext",
                    true,
                    Severity::High,
                    p,
                    format!(
                        "MQTT on port {} runs in the clear: credentials and every message cross the network readable (MQTT over TLS is port 8883)",
                        p.port
                    ),
                ));
            }
            Service::Http {
                status, location, ..
            } => {
                out.extend(login_findings(p));
                let to_https = (300..400).contains(status)
                    && location
                        .as_deref()
                        .is_some_and(|l| l.to_ascii_lowercase().starts_with("https://"));
                // A page, or a login in front of one, is an interface; a 404 at / (a UPnP
                // control server, an API with no root) is not one a browser is sent to.
                let serves_a_page = (200..300).contains(status) || matches!(status, 401 | 403);
                if serves_a_page {
                    out.extend(security_headers(p, false));
                }
                out.push(if to_https || serves_a_page {
                    finding(
                        "probe.http.plaintext-admin",
                        !to_https,
                        Severity::Medium,
                        p,
                        if to_https {
                            format!("plain HTTP on port {} redirects to HTTPS", p.port)
                        } else {
                            format!(
                                "the web interface on port {} answers over plain HTTP (status {status}) without sending the browser to HTTPS",
                                p.port
                            )
                        },
                    )
                } else {
                    Finding {
                        check: "probe.http.plaintext-admin",
                        result: ObservationResult::Info,
                        severity: Severity::Low,
                        port: p.port,
                        protocol: "http",
                        message: format!(
                            "plain HTTP on port {} serves no page at / (status {status}); other paths were not crawled",
                            p.port
                        ),
                    }
                });
            }
            _ => {}
        }
    }
    out
}

/// The UPnP findings: whether port mapping works without authentication, and what the
/// device tells anyone who asks.
pub fn upnp_findings(upnp: Option<&crate::upnp::UpnpReport>, error: Option<&str>) -> Vec<Finding> {
    use crate::upnp::{Mapping, SSDP_PORT};
    let finding = |result, severity, message| Finding {
        check: "probe.upnp.exposed",
        result,
        severity,
        port: SSDP_PORT,
        protocol: "upnp",
        message,
    };
    let Some(u) = upnp else {
        return vec![match error {
            Some(e) => finding(
                ObservationResult::Info,
                Severity::Low,
                format!("the SSDP search could not be made: {e}"),
            ),
            None => finding(
                ObservationResult::Pass,
                Severity::High,
                format!("no answer to an SSDP M-SEARCH on UDP port {SSDP_PORT}"),
            ),
        }];
    };
    let device = u
        .descriptions
        .first()
        .map(|(_, d)| {
            let mut said: Vec<String> = [
                ("model", format!("{} {}", d.model_name, d.model_number)),
                ("serial number", d.serial_number.clone()),
            ]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k} {}", v.trim()))
            .collect();
            said.insert(0, format!("\"{}\"", d.friendly_name));
            format!(
                " describing {} with {} service(s)",
                said.join(", "),
                d.services.len()
            )
        })
        .unwrap_or_default();
    let answered = format!(
        "UPnP answers an SSDP search ({} answer(s), {}){device}",
        u.answers.len(),
        u.answers.first().map_or("", |a| a.server.as_str())
    );
    vec![match &u.mapping {
        Some(Mapping::Accepted {
            service_type,
            external_port,
            deleted,
        }) => finding(
            ObservationResult::Fail,
            Severity::Critical,
            format!(
                "{answered}; {service_type} accepted an AddPortMapping of TCP port {external_port} to the prober without any authentication, so any program on the network can open the firewall{}",
                if *deleted {
                    " (the mapping was deleted again)"
                } else {
                    "; deleting it failed, so it lapses with its 60-second lease"
                }
            ),
        ),
        Some(Mapping::Refused {
            service_type,
            code,
            description,
        }) => finding(
            ObservationResult::Info,
            Severity::Medium,
            format!(
                "{answered}; {service_type} refused an unauthenticated AddPortMapping ({code} {description})"
            ),
        ),
        Some(Mapping::NotTried { service_type }) => finding(
            ObservationResult::Info,
            Severity::Medium,
            format!(
                "{answered}; {service_type} offers port mapping; not tried (--no-upnp-mapping)"
            ),
        ),
        None => finding(ObservationResult::Info, Severity::Medium, answered),
    }]
}

/// What the device advertises over mDNS: the services, what their TXT records say, and
/// advertised TCP services the probe found closed (or not probed).
pub fn mdns_findings(
    mdns: Option<&crate::mdns::MdnsReport>,
    error: Option<&str>,
    open: &[PortReport],
) -> Vec<Finding> {
    use crate::mdns::MDNS_PORT;
    let finding = |result, message| Finding {
        check: "probe.discovery.mdns",
        result,
        severity: Severity::Low,
        port: MDNS_PORT,
        protocol: "mdns",
        message,
    };
    let Some(m) = mdns else {
        return vec![match error {
            Some(e) => finding(
                ObservationResult::Info,
                format!("the mDNS queries could not be made: {e}"),
            ),
            None => finding(
                ObservationResult::Pass,
                format!("no answer to an mDNS service enumeration on UDP port {MDNS_PORT}"),
            ),
        }];
    };
    let services: Vec<String> = m
        .services
        .iter()
        .map(|s| {
            let mut text = format!(
                "\"{}\" ({}{})",
                s.instance
                    .strip_suffix(&format!(".{}", s.service_type))
                    .unwrap_or(&s.instance),
                s.service_type.trim_end_matches(".local"),
                s.port.map(|p| format!(" on port {p}")).unwrap_or_default()
            );
            if !s.txt.is_empty() {
                text.push_str(&format!(" saying {}", s.txt.join(", ")));
            }
            text
        })
        .collect();
    let mut out = vec![finding(
        ObservationResult::Info,
        format!(
            "mDNS advertises {} service type(s) to anyone on the link: {}",
            m.service_types.len(),
            if services.is_empty() {
                m.service_types.join(", ")
            } else {
                services.join("; ")
            }
        ),
    )];
    let unseen: Vec<String> = m
        .services
        .iter()
        .filter(|s| s.service_type.contains("._tcp"))
        .filter_map(|s| s.port)
        .filter(|p| !open.iter().any(|o| o.port == *p))
        .map(|p| p.to_string())
        .collect();
    if !unseen.is_empty() {
        out.push(finding(
            ObservationResult::Info,
            format!(
                "mDNS advertises TCP port(s) {} that this probe did not find open (closed, filtered or not in --ports)",
                unseen.join(", ")
            ),
        ));
    }
    out
}

/// Whether a login slowed down after wrong passwords (EN 303 645 5.1-5): judged from how
/// long each refusal took; a few attempts cannot show a lockout, so a server that answered
/// fast is noted, not failed.
fn brute_force(p: &PortReport, what: &str, refusals_ms: &[u64]) -> Option<Finding> {
    if refusals_ms.len() < 3 {
        return None;
    }
    let mut sorted = refusals_ms.to_vec();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let n = sorted.len();
    Some(if median >= 500 {
        finding(
            "probe.auth.brute-force",
            false,
            Severity::Medium,
            p,
            format!(
                "{what} on port {} slows failed logins: the median of {n} refusals took {median} ms",
                p.port
            ),
        )
    } else {
        Finding {
            check: "probe.auth.brute-force",
            result: ObservationResult::Info,
            severity: Severity::Medium,
            port: p.port,
            protocol: protocol(p),
            message: format!(
                "{what} on port {} refused {n} wrong passwords in a median of {median} ms each, without slowing down; whether it locks out after more was not tested",
                p.port
            ),
        }
    })
}

/// Whether a default pair opened each web login found, and whether it slows guessing.
fn login_findings(p: &PortReport) -> Vec<Finding> {
    let mut out = Vec::new();
    for login in &p.logins {
        out.extend(brute_force(
            p,
            &format!("the {} login at {}", login.scheme.name(), login.path),
            &login.refusals_ms,
        ));
        out.push(finding(
            "probe.http.default-credentials",
            login.opened_by.is_some(),
            Severity::Critical,
            p,
            {
                let what = match login.scheme {
                    crate::http::Scheme::Form => format!(
                        "the login form at {} (posting to {})",
                        login.path, login.realm
                    ),
                    scheme => format!(
                        "the {} login at {} (realm \"{}\")",
                        scheme.name(),
                        login.path,
                        login.realm
                    ),
                };
                match &login.opened_by {
                    Some(user) => {
                        format!("{what} opened with a default password for user \"{user}\"")
                    }
                    None => format!("{what} refused all {} default pairs tried", login.tried),
                }
            },
        ));
    }
    out
}

/// Whether the broker took a CONNECT without credentials (inside TLS when `over_tls`).
fn mqtt_anonymous(p: &PortReport, return_code: u8, over_tls: bool) -> Finding {
    let broker = if over_tls {
        "MQTT broker (over TLS)"
    } else {
        "MQTT broker"
    };
    finding(
        "probe.mqtt.anonymous",
        return_code == 0,
        Severity::High,
        p,
        if return_code == 0 {
            format!(
                "the {broker} on port {} accepted a CONNECT with no user name or password",
                p.port
            )
        } else {
            format!(
                "the {broker} on port {} refused a CONNECT without credentials (return code {return_code})",
                p.port
            )
        },
    )
}

/// The security headers of the page at `/`, when one was read.
fn security_headers(p: &PortReport, https: bool) -> Option<Finding> {
    let h = p.headers.as_ref()?;
    let missing = h.missing(https);
    let scheme = if https { "HTTPS" } else { "HTTP" };
    Some(finding(
        "probe.http.security-headers",
        !missing.is_empty(),
        Severity::Low,
        p,
        if missing.is_empty() {
            format!(
                "the page at / over {scheme} on port {} sets {}Content-Security-Policy, framing and nosniff headers",
                p.port,
                if https {
                    "Strict-Transport-Security, "
                } else {
                    ""
                }
            )
        } else {
            format!(
                "the page at / over {scheme} on port {} lacks {}",
                p.port,
                missing.join(", ")
            )
        },
    ))
}

/// Telnet listening at all: everything typed crosses the network in the clear.
fn telnet_open(p: &PortReport) -> Finding {
    let said = match &p.service {
        Service::Telnet { prompt } if !prompt.is_empty() => format!(" (it says: {prompt})"),
        _ => String::new(),
    };
    finding(
        "probe.telnet.open",
        true,
        Severity::High,
        p,
        format!(
            "telnet listens on port {}: logins and everything typed cross the network in the clear{said}",
            p.port
        ),
    )
}

/// Where and about what the evidence is: the host's name or address, the component
/// declared, and the firmware image it runs when known.
#[derive(Debug, Clone)]
pub struct Binding<'a> {
    pub host: &'a str,
    pub component: &'a str,
    pub image_sha256: Option<&'a str>,
}

/// The findings as evidence records. `bears_on` gives the requirements a check bears on.
pub fn to_evidence(
    findings: &[Finding],
    binding: &Binding<'_>,
    collected_at: &str,
    bears_on: &dyn Fn(&str) -> Vec<String>,
) -> Vec<Evidence> {
    findings
        .iter()
        .enumerate()
        .map(|(i, f)| Evidence {
            id: format!(
                "probe-{}-{}-{i:03}-{}",
                binding
                    .host
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
                f.port,
                f.check.rsplit('.').next().unwrap_or("finding")
            ),
            collected_at: collected_at.to_owned(),
            subject: Subject {
                component: binding.component.to_owned(),
                sha256: binding.image_sha256.map(str::to_owned),
            },
            bears_on: bears_on(f.check),
            body: Body::Observation(Observation {
                tool: Tool {
                    name: "iotmark-probe".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                },
                check: f.check.to_owned(),
                result: f.result,
                severity: Some(f.severity),
                location: Location::Network {
                    host: binding.host.to_owned(),
                    port: f.port,
                    protocol: Some(f.protocol.to_owned()),
                },
                message: f.message.clone(),
            }),
        })
        .collect()
}
