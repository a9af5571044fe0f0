//! The running device against its declaration: every open port should be a service the
//! manufacturer declares for the component (EN 303 645 5.6-1, "unused interfaces disabled";
//! CRA Annex I 1.2(j)), and a service declared as encrypted should not answer in the clear.
//!
//! The declaration's services arrive as [`Declared`], so this crate needs no declaration
//! model; the command maps them.

use serde::Serialize;

use iotmark_evidence::{ObservationResult, Severity};

use crate::ProbeReport;
use crate::observe::Finding;
use crate::service::Service;

/// A network service the declaration names for the probed component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Declared {
    pub name: String,
    pub protocol: String,
    pub port: u16,
    /// TCP (the probe's scan) or not.
    pub tcp: bool,
    /// Declared as protected by TLS or DTLS.
    pub encrypted: bool,
    pub enabled_by_default: bool,
}

/// What a service answering in the clear would be called, or `None` when it is encrypted
/// or not understood.
fn cleartext(service: &Service) -> Option<&'static str> {
    match service {
        Service::Http { .. } => Some("plain HTTP"),
        Service::Telnet { .. } => Some("telnet"),
        Service::Mqtt { .. } => Some("plain MQTT"),
        Service::Ftp { .. } => Some("FTP"),
        Service::Smtp { .. } => Some("plain SMTP"),
        _ => None,
    }
}

impl ProbeReport {
    /// Judges each open port against `declared`: the port findings become a pass for a
    /// declared service and a failure for an undeclared one, and a service declared as
    /// encrypted that answers in the clear fails. Declared TCP services that were scanned
    /// and found closed are noted.
    pub fn compare_with_declared(&mut self, declared: &[Declared]) {
        let mut extra = Vec::new();
        for port in &self.open {
            let names: Vec<&Declared> = declared
                .iter()
                .filter(|d| d.tcp && d.port == port.port)
                .collect();
            let Some(f) = self
                .findings
                .iter_mut()
                .find(|f| f.check == "probe.ports.open" && f.port == port.port)
            else {
                continue;
            };
            if names.is_empty() {
                f.result = ObservationResult::Fail;
                f.severity = Severity::Medium;
                f.message = format!(
                    "{}, but the declaration names no service on {}/tcp for this component: an interface it does not document, to close or to declare",
                    f.message, port.port
                );
                continue;
            }
            f.result = ObservationResult::Pass;
            f.message = format!(
                "{}; declared as {}",
                f.message,
                names
                    .iter()
                    .map(|d| format!("\"{}\" ({})", d.name, d.protocol))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Some(plain) = cleartext(&port.service)
                && let Some(d) = names.iter().find(|d| d.encrypted)
            {
                extra.push(Finding {
                    check: "probe.declared.encryption",
                    result: ObservationResult::Fail,
                    severity: Severity::High,
                    port: port.port,
                    protocol: f.protocol,
                    message: format!(
                        "\"{}\" is declared as encrypted, but port {} answers in {plain}",
                        d.name, port.port
                    ),
                });
            }
        }
        for d in declared.iter().filter(|d| d.tcp) {
            if self.scanned.contains(&d.port) && !self.open.iter().any(|p| p.port == d.port) {
                extra.push(Finding {
                    check: "probe.ports.open",
                    result: ObservationResult::Info,
                    severity: Severity::Low,
                    port: d.port,
                    protocol: "tcp",
                    message: format!(
                        "the declared \"{}\" ({}) on {}/tcp is not open{}",
                        d.name,
                        d.protocol,
                        d.port,
                        if d.enabled_by_default {
                            ", though it is declared as enabled by default"
                        } else {
                            " (declared as off by default)"
                        }
                    ),
                });
            }
        }
        self.findings.extend(extra);
    }
}
