//! The fleet check as an HTML report: one self-contained file (the registry's stylesheet
//! inline, charts in SVG, no script), readable offline and printable. Each chart has a title
//! and a description, and a table beside it holds every number it shows.

use std::collections::BTreeMap;

use askama::Template;

use super::{DeviceStatus, FleetReport, Vulnerability};
use crate::pages::dashboard::{Bar, Chart};

const RED: &str = "#b3261e";
const AMBER: &str = "#a35200";
const GREY: &str = "#5b6470";
const GREEN: &str = "#1e7e3e";

fn colour(status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Revoked | DeviceStatus::Suspended | DeviceStatus::Vulnerable => RED,
        DeviceStatus::EndOfSupport | DeviceStatus::Expired | DeviceStatus::Withdrawn => AMBER,
        DeviceStatus::Valid => GREEN,
        _ => GREY,
    }
}

fn tone(status: DeviceStatus) -> &'static str {
    match colour(status) {
        RED => "bad",
        GREEN => "good",
        _ => "warn",
    }
}

struct Row {
    status: DeviceStatus,
    tone: &'static str,
    device: String,
    product: String,
    version: String,
    count: u64,
    location: String,
    owner: String,
    support_end: String,
    vulnerabilities: String,
    why: String,
    entries: String,
    agrees: bool,
}

struct CountRow {
    status: DeviceStatus,
    devices: u64,
}

struct TimelineRow {
    period: String,
    devices: u64,
}

#[derive(Template)]
#[template(path = "fleet_report.html")]
struct ReportPage<'a> {
    style: &'static str,
    report: &'a FleetReport,
    checked: String,
    root: String,
    needing_action: u64,
    counts: Vec<CountRow>,
    by_status: Chart,
    by_status_desc: String,
    timeline: Vec<TimelineRow>,
    support: Chart,
    support_desc: String,
    rows: Vec<Row>,
}

/// Renders `report` as a standalone HTML page.
pub fn render(report: &FleetReport) -> Result<String, askama::Error> {
    let total = u32::try_from(report.total_devices).unwrap_or(u32::MAX);
    let counts: Vec<CountRow> = report
        .counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| CountRow {
            status: *s,
            devices: *n,
        })
        .collect();
    let by_status = Chart::new(
        counts
            .iter()
            .map(|c| Bar {
                text: format!("{}: {} devices", c.status, c.devices),
                parts: vec![(
                    u32::try_from(c.devices).unwrap_or(u32::MAX),
                    colour(c.status),
                    format!("{} devices {}", c.devices, c.status),
                )],
            })
            .collect(),
        Some(total.max(1)),
    );
    let by_status_desc = counts
        .iter()
        .map(|c| format!("{} {}", c.devices, c.status))
        .collect::<Vec<_>>()
        .join(", ");

    // Devices by the half-year their security support ends.
    let today = report.checked.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut periods: BTreeMap<(i16, i8), u64> = BTreeMap::new();
    let mut ended = 0;
    let mut unstated = 0;
    for d in &report.devices {
        match d.support_end {
            Some(end) if end < today => ended += d.device.count,
            Some(end) => {
                *periods
                    .entry((end.year(), if end.month() <= 6 { 1 } else { 2 }))
                    .or_default() += d.device.count
            }
            None => unstated += d.device.count,
        }
    }
    let mut timeline = Vec::new();
    if ended > 0 {
        timeline.push(TimelineRow {
            period: "already ended".to_owned(),
            devices: ended,
        });
    }
    for ((year, half), devices) in &periods {
        timeline.push(TimelineRow {
            period: format!(
                "{year} {}",
                if *half == 1 {
                    "January–June"
                } else {
                    "July–December"
                }
            ),
            devices: *devices,
        });
    }
    if unstated > 0 {
        timeline.push(TimelineRow {
            period: "not stated (no attestation)".to_owned(),
            devices: unstated,
        });
    }
    let most = timeline.iter().map(|t| t.devices).max().unwrap_or(1);
    let support = Chart::new(
        timeline
            .iter()
            .map(|t| Bar {
                text: format!("{}: {} devices", t.period, t.devices),
                parts: vec![(
                    u32::try_from(t.devices).unwrap_or(u32::MAX),
                    if t.period == "already ended" {
                        RED
                    } else {
                        GREY
                    },
                    format!("{} devices, support ends {}", t.devices, t.period),
                )],
            })
            .collect(),
        Some(u32::try_from(most).unwrap_or(u32::MAX).max(1)),
    );
    let support_desc = timeline
        .iter()
        .map(|t| format!("{}: {}", t.period, t.devices))
        .collect::<Vec<_>>()
        .join("; ");

    let rows = report
        .devices
        .iter()
        .map(|d| Row {
            status: d.status,
            tone: tone(d.status),
            device: d.device.label(),
            product: match (&d.product_name, &d.manufacturer) {
                (Some(n), Some(m)) => format!("{n} ({m})"),
                _ => d.product.clone().unwrap_or_default(),
            },
            version: d.version.clone().unwrap_or_default(),
            count: d.device.count,
            location: d.device.location.clone(),
            owner: d.device.owner.clone(),
            support_end: d.support_end.map(|e| e.to_string()).unwrap_or_default(),
            vulnerabilities: d
                .vulnerabilities
                .iter()
                .map(Vulnerability::label)
                .collect::<Vec<_>>()
                .join(", "),
            why: d.why.clone(),
            entries: d
                .log_entries
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            agrees: d.registry_agrees,
        })
        .collect();
    ReportPage {
        style: crate::pages::STYLE,
        report,
        checked: report.checked.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        root: iotmark_log::merkle::hex(&report.log.root),
        needing_action: report.needing_action(),
        counts,
        by_status,
        by_status_desc,
        timeline,
        support,
        support_desc,
        rows,
    }
    .render()
}
