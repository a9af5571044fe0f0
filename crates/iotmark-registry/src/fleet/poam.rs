//! The devices a fleet check found needing action, as an OSCAL plan of action and milestones
//! for the organisation's own records: each product version a local component, each inventory
//! line an inventory item, and for each line whose label does not hold an open risk (with the
//! scheme's deadline to fix, or the end of support, as its deadline) and a POA&M item saying
//! what to do.

use super::{DeviceResult, DeviceStatus, FleetReport};

/// Namespace of iotmark's OSCAL properties (as `iotmark procure` writes them).
const NS: &str = "https://iotmark.dev/ns/oscal";

/// Why a POA&M could not be written: our own document failed NIST's schema, a bug to report.
#[derive(Debug, thiserror::Error)]
#[error("the fleet POA&M does not validate against NIST's schema at {pointer}: {message}")]
pub struct PoamError {
    pointer: String,
    message: String,
}

fn stable_uuid(name: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("{NS}/fleet/{name}").as_bytes(),
    )
    .to_string()
}

fn timestamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// What the organisation does about devices of `status`.
fn action(d: &DeviceResult) -> String {
    let what = d
        .product
        .as_deref()
        .map(|p| format!("{p} {}", d.version.as_deref().unwrap_or_default()))
        .unwrap_or_else(|| d.device.label());
    match d.status {
        DeviceStatus::Revoked | DeviceStatus::Suspended | DeviceStatus::Vulnerable => {
            let vulns: Vec<&str> = d.vulnerabilities.iter().map(|v| v.id.as_str()).collect();
            if vulns.is_empty() {
                format!(
                    "Update the devices from {what} to a version whose label holds, or isolate them from the network until the manufacturer restores the label."
                )
            } else {
                format!(
                    "Update the devices from {what} to a version that fixes {}, or isolate them from the network until the manufacturer ships one.",
                    vulns.join(", ")
                )
            }
        }
        DeviceStatus::EndOfSupport | DeviceStatus::Expired => {
            format!(
                "Replace the devices running {what}, or update them to a version that is still supported and labelled."
            )
        }
        DeviceStatus::Withdrawn => {
            format!("Update the devices from {what}, a version the manufacturer withdrew.")
        }
        DeviceStatus::NotAttested | DeviceStatus::UnknownImage | DeviceStatus::UnknownProduct => {
            format!(
                "Ask the manufacturer for an attestation of {what} in the registry, or update the devices to an attested version; until then, treat them as unassessed."
            )
        }
        DeviceStatus::NotYetValid | DeviceStatus::Valid => String::new(),
    }
}

/// The report's devices needing action, as a POA&M.
pub fn poam(report: &FleetReport) -> Result<iotmark_oscal::PlanOfActionAndMilestones, PoamError> {
    let mut components = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    let mut risks = Vec::new();
    let mut poam_items = Vec::new();
    for d in &report.devices {
        let name = match (&d.product, &d.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => d.device.label(),
        };
        let component = stable_uuid(&format!("component/{name}"));
        if seen.insert(component.clone()) {
            let mut props = vec![
                serde_json::json!({"name": "registry-status", "ns": NS, "value": d.status.as_str()}),
            ];
            if let Some(end) = d.support_end {
                props.push(
                    serde_json::json!({"name": "support-end", "ns": NS, "value": end.to_string()}),
                );
            }
            components.push(serde_json::json!({
                "uuid": component,
                "type": "hardware",
                "title": match (&d.product_name, &d.manufacturer) {
                    (Some(n), Some(m)) => format!("{n} ({m}), {}", d.version.as_deref().unwrap_or_default()),
                    _ => name.clone(),
                },
                "description": format!("{name}, as the registry {} records it.", report.registry),
                "props": props,
                "status": {"state": if d.status.holds() { "operational" } else { "other" }},
            }));
        }
        let item = stable_uuid(&format!("inventory/{}", d.device.key()));
        let mut props = vec![
            serde_json::json!({"name": "quantity", "ns": NS, "value": d.device.count.to_string()}),
        ];
        if !d.device.location.is_empty() {
            props.push(
                serde_json::json!({"name": "location", "ns": NS, "value": d.device.location}),
            );
        }
        let mut inventory = serde_json::json!({
            "uuid": item,
            "description": format!("{} × {name}{}{}", d.device.count,
                if d.device.location.is_empty() { String::new() } else { format!(" at {}", d.device.location) },
                if d.device.owner.is_empty() { String::new() } else { format!(", owned by {}", d.device.owner) }),
            "props": props,
            "implemented-components": [{"component-uuid": component}],
        });
        if !d.device.owner.is_empty() {
            inventory["remarks"] = serde_json::json!(format!("Owner: {}", d.device.owner));
        }
        items.push(inventory);
        if d.status.holds() || d.status == DeviceStatus::NotYetValid {
            continue;
        }
        let risk = stable_uuid(&format!("risk/{}", d.device.key()));
        let title = format!("{} devices of {name}: {}", d.device.count, d.status);
        let mut risk_value = serde_json::json!({
            "uuid": risk,
            "title": title,
            "description": d.why,
            "statement": format!(
                "The registry's label for {name} does not hold ({}), so these devices no longer carry the security the label stood for. Log entries: {}.",
                d.status,
                d.log_entries.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            ),
            "props": [
                {"name": "registry-status", "ns": NS, "value": d.status.as_str()},
            ],
            "status": "open",
        });
        let deadline = d.fix_deadline.or_else(|| {
            d.support_end
                .and_then(|e| e.to_zoned(jiff::tz::TimeZone::UTC).ok())
                .map(|z| z.timestamp())
                .filter(|t| *t > report.checked)
        });
        if let Some(t) = deadline {
            risk_value["deadline"] = serde_json::json!(timestamp(t));
        }
        risks.push(risk_value);
        poam_items.push(serde_json::json!({
            "uuid": stable_uuid(&format!("poam-item/{}", d.device.key())),
            "title": title,
            "description": action(d),
            "props": [{"name": "inventory-item", "ns": NS, "value": item}],
            "related-risks": [{"risk-uuid": risk}],
        }));
    }
    let mut plan = serde_json::json!({
        "uuid": uuid::Uuid::new_v4().to_string(),
        "metadata": {
            "title": format!("IoT fleet: devices needing action, checked against {}", report.registry),
            "last-modified": timestamp(report.checked),
            "version": "1",
            "oscal-version": iotmark_oscal::OSCAL_VERSION,
        },
        "local-definitions": {"components": components, "inventory-items": items},
        "poam-items": poam_items,
    });
    if !risks.is_empty() {
        plan["risks"] = serde_json::Value::Array(risks);
    }
    let document = serde_json::json!({"plan-of-action-and-milestones": plan});
    if let Some(v) = iotmark_oscal::validate_value(
        iotmark_oscal::ModelKind::PlanOfActionAndMilestones,
        &document,
    )
    .first()
    {
        return Err(PoamError {
            pointer: v.pointer.clone(),
            message: v.message.clone(),
        });
    }
    serde_json::from_value(plan).map_err(|e| PoamError {
        pointer: String::new(),
        message: e.to_string(),
    })
}
