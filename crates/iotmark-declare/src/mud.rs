//! A Manufacturer Usage Description (RFC 8520) from a declaration: the network access the
//! product needs, as access lists a network can enforce.
//!
//! What it allows is exactly what the declaration says the product does: connections it
//! initiates to each declared cloud endpoint (by DNS name, protocol and port), and
//! connections from the local network to each service it offers there. Anything not
//! declared is not in the MUD file, so a network that enforces it refuses it. Services the
//! declaration marks `local` (loopback) never cross the network and are left out, as are the
//! services of apps and backends; services reachable from the internet are allowed from any
//! address to their port.
//!
//! Every rule is written twice, for IPv4 and IPv6, in the four lists RFC 8520's example uses
//! (from and to the device, per address family).

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Value, json};

use crate::model::{ComponentType, Declaration, Exposure, NetworkService, Transport};

/// What a MUD file says besides the declaration's facts.
#[derive(Debug, Clone)]
pub struct MudOptions {
    /// Where the MUD file is published (`https://…`): the URL the device emits (RFC 8520 §10).
    pub url: String,
    /// Where its signature is published (`mud-signature`); `None` leaves the leaf out.
    pub signature_url: Option<String>,
    /// When the file is written (`last-update`).
    pub now: Timestamp,
    /// The day support is judged on (`is-supported`).
    pub today: Date,
    /// Hours a MUD manager may cache the file (1–168; RFC 8520's default is 48).
    pub cache_validity: u8,
}

/// Why a MUD file cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MudError {
    #[error("the MUD URL `{0}` is not an https URL (RFC 8520 §10 requires https)")]
    NotHttps(String),
    #[error("cache validity {0} h is outside 1–168 h (RFC 8520 §3.5)")]
    CacheValidity(u8),
    #[error("`updates.support_end` `{0}` is not a date (YYYY-MM-DD)")]
    SupportEnd(String),
}

/// `systeminfo` is at most 60 characters (RFC 8520 §3.7).
const SYSTEMINFO_MAX: usize = 60;

/// ACL names are at most 63 characters in practice (RFC 8519 types them as strings; MUD
/// managers use them as keys), and RFC 8520's example prefixes them with `mud-`.
fn acl_name(product: &str, family: Family, from_device: bool) -> String {
    let short: String = product.chars().take(48).collect();
    format!(
        "mud-{short}-{}{}",
        family.short(),
        if from_device { "fr" } else { "to" }
    )
}

#[derive(Debug, Clone, Copy)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn short(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
    fn acl_type(self) -> &'static str {
        match self {
            Family::V4 => "ipv4-acl-type",
            Family::V6 => "ipv6-acl-type",
        }
    }
}

/// The IP protocol number of a transport.
fn protocol(transport: Transport) -> u8 {
    match transport {
        Transport::Tcp => 6,
        Transport::Udp => 17,
    }
}

fn transport_key(transport: Transport) -> &'static str {
    match transport {
        Transport::Tcp => "tcp",
        Transport::Udp => "udp",
    }
}

/// A port match: `{"operator": "eq", "port": N}`.
fn port(n: u16) -> Value {
    json!({"operator": "eq", "port": n})
}

/// One access-control entry that accepts what `matches` describes.
fn ace(name: String, matches: Value) -> Value {
    json!({"name": name, "matches": matches, "actions": {"forwarding": "accept"}})
}

/// The transport part of a match; `direction` is who opens a TCP connection, which only
/// TCP can say (`ietf-mud:direction-initiated`).
fn transport_match(
    transport: Transport,
    source_port: Option<u16>,
    destination_port: Option<u16>,
    direction: &str,
) -> (String, Value) {
    let mut m = serde_json::Map::new();
    if let Some(p) = source_port {
        m.insert("source-port".into(), port(p));
    }
    if let Some(p) = destination_port {
        m.insert("destination-port".into(), port(p));
    }
    if transport == Transport::Tcp {
        m.insert("ietf-mud:direction-initiated".into(), json!(direction));
    }
    (transport_key(transport).to_owned(), Value::Object(m))
}

/// The MUD file (RFC 8520 with the ACL model of RFC 8519, in the JSON encoding of RFC 7951)
/// for `d`. Its support status is today's: `is-supported` is false once `support_end` has
/// passed, or when the product is not updatable.
pub fn to_mud(d: &Declaration, options: &MudOptions) -> Result<Value, MudError> {
    if !options.url.starts_with("https://") {
        return Err(MudError::NotHttps(options.url.clone()));
    }
    if let Some(sig) = &options.signature_url
        && !sig.starts_with("https://")
    {
        return Err(MudError::NotHttps(sig.clone()));
    }
    if !(1..=168).contains(&options.cache_validity) {
        return Err(MudError::CacheValidity(options.cache_validity));
    }
    let supported = match &d.updates.support_end {
        Some(end) => {
            let end: Date = end.parse().map_err(|_| MudError::SupportEnd(end.clone()))?;
            d.updates.updatable && options.today <= end
        }
        None => d.updates.updatable,
    };
    let mut systeminfo = format!("{} {}", d.product.manufacturer.name, d.product.name);
    if systeminfo.chars().count() > SYSTEMINFO_MAX {
        systeminfo = systeminfo.chars().take(SYSTEMINFO_MAX - 1).collect();
        systeminfo.push('…');
    }

    let mut acls = Vec::new();
    let mut from_names = Vec::new();
    let mut to_names = Vec::new();
    for family in [Family::V4, Family::V6] {
        let mut from_device = Vec::new();
        let mut to_device = Vec::new();
        for (i, c) in d.interfaces.cloud.iter().enumerate() {
            let proto = protocol(c.transport);
            let (tkey, out) = transport_match(c.transport, None, Some(c.port), "from-device");
            from_device.push(ace(
                format!("cl{i}-frdev"),
                json!({
                    family.key(): {"ietf-acldns:dst-dnsname": c.host, "protocol": proto},
                    tkey: out,
                }),
            ));
            let (tkey, back) = transport_match(c.transport, Some(c.port), None, "from-device");
            to_device.push(ace(
                format!("cl{i}-todev"),
                json!({
                    family.key(): {"ietf-acldns:src-dnsname": c.host, "protocol": proto},
                    tkey: back,
                }),
            ));
        }
        // Services of the devices on the network only: an app's or a backend's are not the
        // device's to allow.
        let on_network: Vec<&str> = d
            .components
            .iter()
            .filter(|c| matches!(c.component_type, ComponentType::Device | ComponentType::Hub))
            .map(|c| c.id.as_str())
            .collect();
        let offered = d.interfaces.network.iter().filter(|s| {
            s.exposure != Exposure::Local && on_network.contains(&s.component.as_str())
        });
        for (i, s) in offered.enumerate() {
            let (inbound, outbound) = service_aces(family, i, s);
            to_device.push(inbound);
            from_device.push(outbound);
        }
        for (from, aces) in [(true, from_device), (false, to_device)] {
            if aces.is_empty() {
                continue;
            }
            let name = acl_name(&d.product.id, family, from);
            if from {
                from_names.push(json!({"name": name}));
            } else {
                to_names.push(json!({"name": name}));
            }
            acls.push(json!({
                "name": name,
                "type": family.acl_type(),
                "aces": {"ace": aces},
            }));
        }
    }

    let mut mud = serde_json::Map::new();
    mud.insert("mud-version".into(), json!(1));
    mud.insert("mud-url".into(), json!(options.url));
    mud.insert(
        "last-update".into(),
        json!(options.now.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
    );
    if let Some(sig) = &options.signature_url {
        mud.insert("mud-signature".into(), json!(sig));
    }
    mud.insert("cache-validity".into(), json!(options.cache_validity));
    mud.insert("is-supported".into(), json!(supported));
    mud.insert("systeminfo".into(), json!(systeminfo));
    mud.insert("mfg-name".into(), json!(d.product.manufacturer.name));
    mud.insert("model-name".into(), json!(d.product.model));
    if let Some(device) = d
        .components
        .iter()
        .find(|c| c.component_type == ComponentType::Device)
    {
        mud.insert("firmware-rev".into(), json!(device.version));
    }
    if let Some(url) = &d.product.manufacturer.url {
        mud.insert("documentation".into(), json!(url));
    }
    mud.insert(
        "from-device-policy".into(),
        json!({"access-lists": {"access-list": from_names}}),
    );
    mud.insert(
        "to-device-policy".into(),
        json!({"access-lists": {"access-list": to_names}}),
    );
    Ok(json!({
        "ietf-mud:mud": Value::Object(mud),
        "ietf-access-control-list:acls": {"acl": acls},
    }))
}

/// The two entries of a service the product offers: peers may reach its port (from the
/// local network only, unless it is declared reachable from the internet), and the device
/// may answer from it.
fn service_aces(family: Family, i: usize, s: &NetworkService) -> (Value, Value) {
    let proto = protocol(s.transport);
    let mut inbound = serde_json::Map::new();
    let mut outbound = serde_json::Map::new();
    inbound.insert(family.key().into(), json!({"protocol": proto}));
    outbound.insert(family.key().into(), json!({"protocol": proto}));
    if s.exposure == Exposure::Lan {
        let local = json!({"local-networks": [null]});
        inbound.insert("ietf-mud:mud".into(), local.clone());
        outbound.insert("ietf-mud:mud".into(), local);
    }
    let (tkey, to_port) = transport_match(s.transport, None, Some(s.port), "to-device");
    inbound.insert(tkey, to_port);
    let (tkey, from_port) = transport_match(s.transport, Some(s.port), None, "to-device");
    outbound.insert(tkey, from_port);
    (
        ace(format!("svc{i}-todev"), Value::Object(inbound)),
        ace(format!("svc{i}-frdev"), Value::Object(outbound)),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::CloudEndpoint;

    fn declaration() -> Declaration {
        let text = crate::scaffold::Scaffold {
            product_id: "acme-cam".into(),
            name: "SecureCam".into(),
            manufacturer: "Acme".into(),
            model: "SC-200".into(),
            category: "camera".into(),
            support_end: "2030-01-31".into(),
            contact: "security@acme.example".into(),
        }
        .render();
        let report = crate::check(
            std::path::Path::new("product.yaml"),
            text.as_bytes(),
            &|_| true,
            jiff::civil::date(2026, 12, 5),
        );
        let mut d = report.declaration.unwrap();
        d.interfaces.cloud.push(CloudEndpoint {
            host: "api.acme.example".into(),
            port: 443,
            transport: Transport::Tcp,
            protocol: "https".into(),
            purpose: None,
        });
        d
    }

    fn options(today: Date) -> MudOptions {
        MudOptions {
            url: "https://mud.acme.example/sc-200.json".into(),
            signature_url: None,
            now: "2026-12-05T10:00:00Z".parse().unwrap(),
            today,
            cache_validity: 48,
        }
    }

    #[test]
    fn support_ends_with_the_declared_date() {
        let d = declaration();
        let during = to_mud(&d, &options(jiff::civil::date(2030, 1, 31))).unwrap();
        assert_eq!(during["ietf-mud:mud"]["is-supported"], true);
        let after = to_mud(&d, &options(jiff::civil::date(2030, 2, 1))).unwrap();
        assert_eq!(after["ietf-mud:mud"]["is-supported"], false);
    }

    #[test]
    fn the_device_may_reach_only_its_declared_endpoints() {
        let d = declaration();
        let mud = to_mud(&d, &options(jiff::civil::date(2026, 12, 5))).unwrap();
        let acls = mud["ietf-access-control-list:acls"]["acl"]
            .as_array()
            .unwrap();
        let from: Vec<&Value> = acls
            .iter()
            .filter(|a| a["name"].as_str().unwrap().ends_with("fr"))
            .flat_map(|a| a["aces"]["ace"].as_array().unwrap())
            .collect();
        let hosts: Vec<&str> = from
            .iter()
            .filter_map(|ace| {
                ace["matches"]["ipv4"]["ietf-acldns:dst-dnsname"]
                    .as_str()
                    .or(ace["matches"]["ipv6"]["ietf-acldns:dst-dnsname"].as_str())
            })
            .collect();
        // The scaffold's endpoint and the one added, each for IPv4 and IPv6.
        let mut sorted = hosts.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            [
                "api.acme.example",
                "api.acme.example",
                "api.example.com",
                "api.example.com"
            ]
        );
        let first = from[0];
        assert_eq!(first["matches"]["tcp"]["destination-port"]["port"], 443);
        assert_eq!(
            first["matches"]["tcp"]["ietf-mud:direction-initiated"],
            "from-device"
        );
    }

    #[test]
    fn plain_http_urls_and_bad_cache_lifetimes_are_refused() {
        let d = declaration();
        let mut o = options(jiff::civil::date(2026, 12, 5));
        o.url = "http://mud.acme.example/x.json".into();
        assert!(matches!(to_mud(&d, &o), Err(MudError::NotHttps(_))));
        let mut o = options(jiff::civil::date(2026, 12, 5));
        o.cache_validity = 200;
        assert_eq!(to_mud(&d, &o), Err(MudError::CacheValidity(200)));
    }
}
