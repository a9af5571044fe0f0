//! UPnP: whether the device answers SSDP discovery (an M-SEARCH sent to its own address, UDP
//! port 1900, never to the multicast group), what its description reveals, and whether an
//! Internet Gateway Device's port-mapping action works without authentication (EN 303 645
//! 5.5-5 and 5.6-1, CRA Annex I 1.2(i)).
//!
//! The port-mapping test changes the device's state, as a lab's would: one `AddPortMapping`
//! of a random high TCP port to the probing machine's own address, with a 60-second lease,
//! and a `DeletePortMapping` at once if it was accepted. A description or control URL that
//! points at another host is not followed.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::conn::Limits;
use crate::http::{Response, Site, request};
use crate::service::printable;

/// SSDP's port.
pub const SSDP_PORT: u16 = 1900;
/// Most answers kept from one search (`ssdp:all` gets one per device and service type).
const MAX_ANSWERS: usize = 64;
/// How long answers are awaited: the search asks for them within a second (`MX: 1`).
const LISTEN: Duration = Duration::from_millis(2500);

/// One answer to an M-SEARCH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsdpAnswer {
    pub st: String,
    pub usn: String,
    pub location: String,
    pub server: String,
}

/// A service a description lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpnpService {
    pub service_type: String,
    pub control_url: String,
}

/// What a device description says of the device (the root device's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Description {
    pub device_type: String,
    pub friendly_name: String,
    pub manufacturer: String,
    pub model_name: String,
    pub model_number: String,
    pub serial_number: String,
    pub services: Vec<UpnpService>,
}

/// How the unauthenticated `AddPortMapping` went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Mapping {
    /// Offered but not called: the probe was told not to change the device's firewall
    /// (`--no-upnp-mapping`).
    NotTried { service_type: String },
    /// Accepted: the device forwarded `external_port` to the prober (then deleted).
    Accepted {
        service_type: String,
        external_port: u16,
        deleted: bool,
    },
    /// Refused with a UPnP error (606 Action not authorized …) or an HTTP status.
    Refused {
        service_type: String,
        code: String,
        description: String,
    },
}

/// What UPnP showed on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpnpReport {
    pub answers: Vec<SsdpAnswer>,
    /// The description each distinct location served.
    pub descriptions: Vec<(String, Description)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Mapping>,
    /// Why a step stopped short (a location on another host, an unreadable description).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An M-SEARCH for every device and service (UPnP Device Architecture 2.0, 1.3.2).
pub fn m_search() -> Vec<u8> {
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\nUSER-AGENT: iotmark-probe UPnP/2.0\r\n\r\n".to_vec()
}

/// One SSDP answer: a `200` with a `LOCATION`.
pub fn parse_answer(bytes: &[u8]) -> Option<SsdpAnswer> {
    let r = Response::parse(bytes)?;
    if r.status != 200 {
        return None;
    }
    let field = |n: &str| printable(r.header(n).unwrap_or_default().as_bytes());
    let location = field("location");
    if location.is_empty() {
        return None;
    }
    Some(SsdpAnswer {
        st: field("st"),
        usn: field("usn"),
        location,
        server: field("server"),
    })
}

/// Sends the search to `address` only and gathers the answers.
pub fn search(address: IpAddr, limits: &Limits) -> std::io::Result<Vec<SsdpAnswer>> {
    limits.pace()?;
    let any: SocketAddr = match address {
        IpAddr::V4(_) => "0.0.0.0:0",
        IpAddr::V6(_) => "[::]:0",
    }
    .parse()
    .map_err(std::io::Error::other)?;
    let socket = UdpSocket::bind(any)?;
    // Connected: answers from anyone but the device are dropped by the kernel.
    socket.connect((address, SSDP_PORT))?;
    let search = m_search();
    // Twice, as the architecture advises: UDP may lose one. A closed port answers the first
    // with an ICMP unreachable, which the second send reports: nothing listens.
    for _ in 0..2 {
        match socket.send(&search) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(Vec::new()),
            Err(e) => return Err(e),
        }
    }
    let deadline = (Instant::now()
        + LISTEN.min(limits.read_timeout.max(Duration::from_millis(500))))
    .min(limits.run_deadline);
    let mut answers: Vec<SsdpAnswer> = Vec::new();
    let mut buf = [0u8; 8192];
    while answers.len() < MAX_ANSWERS {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                if let Some(a) = parse_answer(&buf[..n])
                    && !answers.contains(&a)
                {
                    answers.push(a);
                }
            }
            // Nothing more in time, or the port is closed (an ICMP unreachable).
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                break;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(answers)
}

/// An `http://host[:port]/path` URL: the host, the port and the path.
fn split_url(url: &str) -> Option<(String, u16, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (
            h,
            after
                .strip_prefix(':')
                .map_or(Some(80), |p| p.parse().ok())?,
        )
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, 80),
        }
    };
    let path = if path.is_empty() { "/" } else { path };
    Some((host.to_owned(), port, path.to_owned()))
}

/// `url` resolved against the description at `base`, as a port and path on the device; `None`
/// when it names another host.
pub fn on_device(url: &str, base: &str, address: IpAddr, host: &str) -> Option<(u16, String)> {
    let (base_host, base_port, base_path) = split_url(base)?;
    let same = |h: &str| h.parse::<IpAddr>().ok() == Some(address) || h.eq_ignore_ascii_case(host);
    if !same(&base_host) {
        return None;
    }
    if url.starts_with("http://") {
        let (h, p, path) = split_url(url)?;
        return same(&h).then_some((p, path));
    }
    if url.contains("://") {
        return None;
    }
    if url.starts_with('/') {
        return Some((base_port, url.to_owned()));
    }
    let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
    Some((
        base_port,
        format!("{}{url}", if dir.is_empty() { "/" } else { dir }),
    ))
}

/// The text of each `<name>` element (any namespace prefix), entities decoded.
fn elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = xml[at..].find('<') {
        let start = at + found + 1;
        let Some(close) = xml[start..].find('>') else {
            break;
        };
        let tag = &xml[start..start + close];
        at = start + close + 1;
        let local = tag.split_whitespace().next().unwrap_or_default();
        let local = local.rsplit(':').next().unwrap_or_default();
        if local != name || tag.ends_with('/') {
            continue;
        }
        // A `<service>` ends at its own closing tag; the others are leaves, ending at the
        // first closing tag.
        let closing = if name == "service" { "service>" } else { "</" };
        let Some(end) = xml[at..].find(closing).map(|i| at + i) else {
            break;
        };
        out.push(&xml[at..end]);
        at = end;
    }
    out
}

fn text(xml: &str, name: &str) -> String {
    let raw = elements(xml, name).first().copied().unwrap_or_default();
    let decoded = raw
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    printable(decoded.trim().as_bytes())
}

/// A device description (UPnP Device Architecture 2.0, 2.3).
pub fn parse_description(body: &[u8]) -> Description {
    let xml = String::from_utf8_lossy(&body[..body.len().min(256 << 10)]);
    let services = elements(&xml, "service")
        .into_iter()
        .map(|s| UpnpService {
            service_type: text(s, "serviceType"),
            control_url: text(s, "controlURL"),
        })
        .filter(|s| !s.service_type.is_empty())
        .collect();
    Description {
        device_type: text(&xml, "deviceType"),
        friendly_name: text(&xml, "friendlyName"),
        manufacturer: text(&xml, "manufacturer"),
        model_name: text(&xml, "modelName"),
        model_number: text(&xml, "modelNumber"),
        serial_number: text(&xml, "serialNumber"),
        services,
    }
}

/// A SOAP action's request body.
fn soap(service_type: &str, action: &str, arguments: &[(&str, String)]) -> String {
    let args: String = arguments
        .iter()
        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body><u:{action} xmlns:u=\"{service_type}\">{args}</u:{action}></s:Body></s:Envelope>\r\n"
    )
}

/// Calls `action` at `path`; the response.
fn call(
    addr: SocketAddr,
    host: &str,
    path: &str,
    service_type: &str,
    action: &str,
    arguments: &[(&str, String)],
    limits: &Limits,
) -> std::io::Result<Option<Response>> {
    let body = soap(service_type, action, arguments);
    request(
        &Site {
            addr,
            host,
            tls: false,
        },
        "POST",
        path,
        &[
            ("Content-Type", "text/xml; charset=\"utf-8\"".to_owned()),
            ("SOAPAction", format!("\"{service_type}#{action}\"")),
        ],
        Some(body.as_bytes()),
        limits,
    )
}

/// The UPnP error of a SOAP fault, or the HTTP status when there is none.
fn fault(r: &Response) -> (String, String) {
    let xml = String::from_utf8_lossy(&r.body);
    let code = text(&xml, "errorCode");
    if code.is_empty() {
        (format!("HTTP {}", r.status), String::new())
    } else {
        (code, text(&xml, "errorDescription"))
    }
}

/// The address the device sees the prober at: where a mapping would send its traffic.
fn own_address(address: IpAddr) -> std::io::Result<IpAddr> {
    let any = match address {
        IpAddr::V4(_) => "0.0.0.0:0",
        IpAddr::V6(_) => "[::]:0",
    };
    let socket = UdpSocket::bind(any)?;
    socket.connect((address, SSDP_PORT))?;
    Ok(socket.local_addr()?.ip())
}

/// Tries an unauthenticated port mapping on the first WAN connection service, and removes
/// it at once when it was accepted.
fn try_mapping(
    address: IpAddr,
    host: &str,
    port: u16,
    path: &str,
    service_type: &str,
    limits: &Limits,
) -> std::io::Result<Option<Mapping>> {
    let addr = SocketAddr::new(address, port);
    let mut random = [0u8; 2];
    let _ = getrandom::fill(&mut random);
    let external = 40_000 + u16::from_be_bytes(random) % 20_000;
    let own = own_address(address)?.to_string();
    let key = |p: u16| {
        vec![
            ("NewRemoteHost", String::new()),
            ("NewExternalPort", p.to_string()),
            ("NewProtocol", "TCP".to_owned()),
        ]
    };
    let add = |lease: u32| {
        let mut args = key(external);
        args.extend([
            ("NewInternalPort", external.to_string()),
            ("NewInternalClient", own.clone()),
            ("NewEnabled", "1".to_owned()),
            ("NewPortMappingDescription", "iotmark-probe".to_owned()),
            ("NewLeaseDuration", lease.to_string()),
        ]);
        call(
            addr,
            host,
            path,
            service_type,
            "AddPortMapping",
            &args,
            limits,
        )
    };
    let mut answer = add(60)?;
    // 725 OnlyPermanentLeasesSupported: the device takes no lease; the delete below still
    // removes the mapping.
    if let Some(r) = &answer
        && fault(r).0 == "725"
    {
        answer = add(0)?;
    }
    let Some(r) = answer else {
        return Ok(None);
    };
    if (200..300).contains(&r.status) {
        let deleted = call(
            addr,
            host,
            path,
            service_type,
            "DeletePortMapping",
            &key(external),
            limits,
        )?
        .is_some_and(|d| (200..300).contains(&d.status));
        return Ok(Some(Mapping::Accepted {
            service_type: service_type.to_owned(),
            external_port: external,
            deleted,
        }));
    }
    let (code, description) = fault(&r);
    Ok(Some(Mapping::Refused {
        service_type: service_type.to_owned(),
        code,
        description,
    }))
}

/// The whole UPnP check of `address`: `None` when nothing answered the search.
pub fn probe(address: IpAddr, host: &str, limits: &Limits) -> std::io::Result<Option<UpnpReport>> {
    let answers = search(address, limits)?;
    if answers.is_empty() {
        return Ok(None);
    }
    let mut report = UpnpReport {
        answers,
        ..UpnpReport::default()
    };
    let mut locations: Vec<String> = report.answers.iter().map(|a| a.location.clone()).collect();
    locations.dedup();
    locations.sort();
    locations.dedup();
    for location in locations.into_iter().take(8) {
        let Some((port, path)) = on_device(&location, &location, address, host) else {
            report.notes.push(format!(
                "{location} is not on the probed host: not followed"
            ));
            continue;
        };
        match request(
            &Site {
                addr: SocketAddr::new(address, port),
                host,
                tls: false,
            },
            "GET",
            &path,
            &[],
            None,
            limits,
        )? {
            Some(r) if r.status == 200 => {
                let d = parse_description(&r.body);
                report.descriptions.push((location, d));
            }
            Some(r) => report
                .notes
                .push(format!("{location} answered HTTP {}", r.status)),
            None => report.notes.push(format!("{location} sent no HTTP answer")),
        }
    }
    let wan = report.descriptions.iter().find_map(|(location, d)| {
        d.services
            .iter()
            .find(|s| {
                s.service_type.contains(":service:WANIPConnection:")
                    || s.service_type.contains(":service:WANPPPConnection:")
            })
            .map(|s| (location.clone(), s.clone()))
    });
    if let Some((location, service)) = wan {
        match on_device(&service.control_url, &location, address, host) {
            Some(_) if !limits.port_mapping => {
                report.mapping = Some(Mapping::NotTried {
                    service_type: service.service_type,
                });
            }
            Some((port, path)) => {
                report.mapping =
                    try_mapping(address, host, port, &path, &service.service_type, limits)?;
            }
            None => report.notes.push(format!(
                "the control URL {} is not on the probed host: not called",
                service.control_url
            )),
        }
    }
    Ok(Some(report))
}

/// For the fuzz target: any bytes as an SSDP answer and as a description and a SOAP fault.
pub fn fuzz_upnp(bytes: &[u8]) {
    let _ = parse_answer(bytes);
    let _ = parse_description(bytes);
    if let Some(r) = Response::parse(bytes) {
        let _ = fault(&r);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        let _ = on_device(
            s,
            "http://192.0.2.1:5000/a/rootDesc.xml",
            [192, 0, 2, 1].into(),
            "x",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_descriptions_and_urls_are_read() {
        let a = parse_answer(b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:3f2a::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://192.168.77.1:5000/rootDesc.xml\r\n\r\n").unwrap();
        assert_eq!(a.location, "http://192.168.77.1:5000/rootDesc.xml");
        assert!(a.server.contains("MiniUPnPd/2.3.1"));
        assert_eq!(parse_answer(b"NOTIFY * HTTP/1.1\r\n\r\n"), None);

        let d = parse_description(br#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>Router &amp; AP</friendlyName><serialNumber>SN123</serialNumber><serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service></serviceList><deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType><serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><controlURL>/ctl/IPConn</controlURL></service></serviceList></device></deviceList></device></root>"#);
        assert_eq!(d.friendly_name, "Router & AP");
        assert_eq!(d.serial_number, "SN123");
        assert_eq!(
            d.device_type,
            "urn:schemas-upnp-org:device:InternetGatewayDevice:2"
        );
        assert_eq!(d.services.len(), 2);
        assert_eq!(d.services[1].control_url, "/ctl/IPConn");

        let device: IpAddr = [192, 168, 77, 1].into();
        let base = "http://192.168.77.1:5000/desc/root.xml";
        assert_eq!(
            on_device("/ctl/IPConn", base, device, "gw"),
            Some((5000, "/ctl/IPConn".to_owned()))
        );
        assert_eq!(
            on_device("ctl", base, device, "gw"),
            Some((5000, "/desc/ctl".to_owned()))
        );
        assert_eq!(on_device("http://192.168.77.9/x", base, device, "gw"), None);
        assert_eq!(
            on_device("/x", "http://10.0.0.1:80/d.xml", device, "gw"),
            None,
            "a description elsewhere is not followed"
        );
        let r = Response::parse(b"HTTP/1.1 500 Internal Server Error\r\n\r\n<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>606</errorCode><errorDescription>Action not authorized</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>").unwrap();
        assert_eq!(
            fault(&r),
            ("606".to_owned(), "Action not authorized".to_owned())
        );
    }
}
