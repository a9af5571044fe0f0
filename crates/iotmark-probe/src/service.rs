//! What listens on a port: the banner a server sends first (SSH, FTP, SMTP, telnet, RTSP …),
//! or, from a silent one, its answer to a TLS ClientHello, an HTTP request or an MQTT
//! CONNECT. The classifiers read bytes only and never panic (they have a fuzz target).

use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::conn::{Conn, Limits, quiet};
use crate::tls::{self, Version};

/// A service identified on a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "service", rename_all = "kebab-case")]
pub enum Service {
    Ssh {
        banner: String,
    },
    Telnet {
        prompt: String,
    },
    Ftp {
        banner: String,
    },
    Smtp {
        banner: String,
    },
    Http {
        status: u16,
        server: Option<String>,
        location: Option<String>,
    },
    Tls,
    Mqtt {
        return_code: u8,
    },
    /// It spoke, in no protocol the probe knows.
    Unknown {
        banner: String,
    },
    /// It accepted the connection and answered nothing the probe asked.
    Silent,
}

impl Service {
    pub fn name(&self) -> &'static str {
        match self {
            Service::Ssh { .. } => "ssh",
            Service::Telnet { .. } => "telnet",
            Service::Ftp { .. } => "ftp",
            Service::Smtp { .. } => "smtp",
            Service::Http { .. } => "http",
            Service::Tls => "tls",
            Service::Mqtt { .. } => "mqtt",
            Service::Unknown { .. } => "unknown",
            Service::Silent => "silent",
        }
    }

    /// One line for people: `ssh (SSH-2.0-dropbear_2022.83)`.
    pub fn describe(&self) -> String {
        match self {
            Service::Ssh { banner } | Service::Ftp { banner } | Service::Smtp { banner } => {
                format!("{} ({banner})", self.name())
            }
            Service::Telnet { prompt } if !prompt.is_empty() => format!("telnet ({prompt})"),
            Service::Http { status, server, .. } => match server {
                Some(s) => format!("http ({status}, {s})"),
                None => format!("http ({status})"),
            },
            Service::Mqtt { return_code } => format!("mqtt (CONNACK {return_code})"),
            Service::Unknown { banner } => format!("unknown ({banner})"),
            _ => self.name().to_owned(),
        }
    }
}

/// Printable text of a banner: control characters shown as `\xNN`, at most 120 characters.
pub fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    for c in text.trim().chars().take(120) {
        if c.is_control() {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// Telnet's "interpret as command" byte: option negotiation starts with it.
const IAC: u8 = 0xff;

/// What the bytes a server sent first say it is.
pub fn classify_banner(bytes: &[u8]) -> Service {
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(first_line);
    let lower = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    if let Some(at) = bytes.windows(4).position(|w| w == b"SSH-") {
        let line = bytes[at..]
            .split(|&b| b == b'\n')
            .next()
            .unwrap_or_default();
        return Service::Ssh {
            banner: printable(line),
        };
    }
    if bytes.first() == Some(&IAC) || lower.contains("login:") || lower.contains("username:") {
        let readable: Vec<u8> = telnet_text(bytes);
        return Service::Telnet {
            prompt: printable(&readable),
        };
    }
    if text.starts_with("220") {
        let banner = printable(first_line);
        return if lower.contains("smtp") || lower.contains("mail") {
            Service::Smtp { banner }
        } else {
            Service::Ftp { banner }
        };
    }
    if text.starts_with("HTTP/") {
        return classify_http(bytes).unwrap_or(Service::Unknown {
            banner: printable(first_line),
        });
    }
    Service::Unknown {
        banner: printable(first_line),
    }
}

/// The bytes of a telnet stream with option negotiation (`IAC` commands) taken out.
fn telnet_text(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            IAC => {
                // IAC WILL/WONT/DO/DONT option is three bytes; IAC SB … IAC SE runs to SE.
                match bytes.get(i + 1) {
                    Some(0xfa) => {
                        i += bytes[i..]
                            .windows(2)
                            .position(|w| w == [IAC, 0xf0])
                            .map_or(bytes.len() - i, |p| p + 2);
                    }
                    Some(0xfb..=0xfe) => i += 3,
                    _ => i += 2,
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// An HTTP response's status, `Server` and `Location`.
pub fn classify_http(bytes: &[u8]) -> Option<Service> {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..head_end]);
    let mut lines = head.lines();
    let status_line = lines.next()?;
    let mut parts = status_line.split_whitespace();
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let mut server = None;
    let mut location = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "server" => server = Some(printable(value.trim().as_bytes())),
                "location" => location = Some(printable(value.trim().as_bytes())),
                _ => {}
            }
        }
    }
    Some(Service::Http {
        status,
        server,
        location,
    })
}

/// An MQTT CONNACK (MQTT 3.1.1 §3.2): its return code.
pub fn classify_mqtt(bytes: &[u8]) -> Option<Service> {
    match bytes {
        [0x20, 0x02, _, code, ..] => Some(Service::Mqtt { return_code: *code }),
        _ => None,
    }
}

/// An MQTT 3.1.1 CONNECT with a clean session and no user name or password.
pub fn mqtt_connect() -> Vec<u8> {
    let client = b"iotmark-probe";
    let mut variable = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x02, 0, 10];
    variable.extend_from_slice(&(client.len() as u16).to_be_bytes());
    variable.extend_from_slice(client);
    let mut packet = vec![0x10, variable.len() as u8];
    packet.extend_from_slice(&variable);
    packet
}

/// One way to open a conversation with a silent server: the service, if it answered.
type Opening = fn(SocketAddr, &str, &Limits) -> std::io::Result<Option<Service>>;

/// Ports where TLS is expected first.
const TLS_PORTS: [u16; 8] = [443, 465, 993, 995, 5061, 8443, 8883, 9443];

/// How long a server that speaks first has to say something.
const BANNER_WAIT: Duration = Duration::from_millis(1500);

/// Identifies what listens at `addr`.
pub fn identify(addr: SocketAddr, host: &str, limits: &Limits) -> std::io::Result<Service> {
    let mut conn = Conn::open(addr, limits)?;
    let banner = conn.read_banner(BANNER_WAIT)?;
    if !banner.is_empty() {
        return Ok(classify_banner(&banner));
    }
    drop(conn);
    let port = addr.port();
    let order: [Opening; 3] = if TLS_PORTS.contains(&port) {
        [try_tls, try_http, try_mqtt]
    } else if port == 1883 {
        [try_mqtt, try_http, try_tls]
    } else {
        [try_http, try_tls, try_mqtt]
    };
    for attempt in order {
        if limits.time_is_up() {
            break;
        }
        match attempt(addr, host, limits) {
            Ok(Some(service)) => return Ok(service),
            Ok(None) => {}
            Err(e) if quiet(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Service::Silent)
}

fn try_tls(addr: SocketAddr, host: &str, limits: &Limits) -> std::io::Result<Option<Service>> {
    for version in [Version::Tls12, Version::Tls13, Version::Tls10] {
        match tls::ask(addr, Some(host), version, &version.suites(), limits)? {
            tls::Answer::Chose(..) | tls::Answer::Refused(Some(_)) => {
                return Ok(Some(Service::Tls));
            }
            tls::Answer::NotTls(_) => return Ok(None),
            tls::Answer::Refused(None) => {}
        }
    }
    Ok(None)
}

fn try_http(addr: SocketAddr, host: &str, limits: &Limits) -> std::io::Result<Option<Service>> {
    let mut conn = Conn::open(addr, limits)?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nUser-Agent: iotmark-probe\r\nConnection: close\r\n\r\n",
        host_header(host, addr.port())
    );
    conn.send(request.as_bytes())?;
    let bytes = conn.read_until(|b| b.windows(4).any(|w| w == b"\r\n\r\n"))?;
    Ok(classify_http(&bytes))
}

fn try_mqtt(addr: SocketAddr, _host: &str, limits: &Limits) -> std::io::Result<Option<Service>> {
    let mut conn = Conn::open(addr, limits)?;
    conn.send(&mqtt_connect())?;
    let bytes = conn.read_until(|b| b.len() >= 4)?;
    Ok(classify_mqtt(&bytes))
}

/// `host:port` for a Host header (an IPv6 address in brackets; the port left out when 80).
pub fn host_header(host: &str, port: u16) -> String {
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    };
    if port == 80 {
        host
    } else {
        format!("{host}:{port}")
    }
}

/// For the fuzz target: any bytes through every classifier, which must never panic.
pub fn fuzz_banner(bytes: &[u8]) {
    let _ = classify_banner(bytes).describe();
    let _ = classify_http(bytes);
    let _ = classify_mqtt(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_name_their_service() {
        assert_eq!(
            classify_banner(b"SSH-2.0-dropbear_2022.83\r\n"),
            Service::Ssh {
                banner: "SSH-2.0-dropbear_2022.83".into()
            }
        );
        assert_eq!(
            classify_banner(b"\xff\xfd\x18\xff\xfd\x20\xff\xfb\x01\r\nDebian GNU/Linux\r\nlogin: "),
            Service::Telnet {
                prompt: "Debian GNU/Linux\\x0d\\x0alogin:".into()
            }
        );
        assert!(matches!(
            classify_banner(b"220 (vsFTPd 3.0.3)\r\n"),
            Service::Ftp { .. }
        ));
        assert!(matches!(
            classify_banner(b"220 mail ESMTP Postfix\r\n"),
            Service::Smtp { .. }
        ));
        assert_eq!(
            classify_http(
                b"HTTP/1.1 301 Moved\r\nLocation: https://cam/\r\nServer: lighttpd/1.4.69\r\n\r\n"
            ),
            Some(Service::Http {
                status: 301,
                server: Some("lighttpd/1.4.69".into()),
                location: Some("https://cam/".into())
            })
        );
        assert_eq!(
            classify_mqtt(&[0x20, 2, 0, 5]),
            Some(Service::Mqtt { return_code: 5 })
        );
        assert_eq!(classify_mqtt(b"HTTP"), None);
        assert_eq!(
            classify_banner(b"\x00\x01garbage\x1b[31m"),
            Service::Unknown {
                banner: "\\x00\\x01garbage\\x1b[31m".into()
            }
        );
        assert_eq!(host_header("::1", 8080), "[::1]:8080");
        assert_eq!(mqtt_connect()[1] as usize, mqtt_connect().len() - 2);
    }
}
