//! A web interface's login: whether it asks for credentials (HTTP Basic, RFC 7617), and whether
//! a default pair from a short, bounded list opens it (EN 303 645 5.1-1, IR 8425 "no
//! universal default passwords"). Tried on plain HTTP, one request per pair, paced like every
//! other connection.

use std::net::SocketAddr;

use base64::Engine as _;
use serde::Serialize;

use crate::conn::{Conn, Limits};
use crate::service::{Service, classify_http, host_header};

/// A user name and password to try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credential {
    pub user: String,
    #[serde(skip)]
    pub password: String,
}

/// Pairs found as factory defaults across IoT devices (the public Mirai list and vendors'
/// manuals), tried when the user gives none.
pub const DEFAULT_CREDENTIALS: [(&str, &str); 12] = [
    ("admin", "admin"),
    ("admin", ""),
    ("admin", "password"),
    ("admin", "1234"),
    ("admin", "12345"),
    ("root", "root"),
    ("root", ""),
    ("root", "admin"),
    ("user", "user"),
    ("support", "support"),
    ("guest", "guest"),
    ("admin", "admin123"),
];

/// Most pairs read from a credentials file: the probe tests defaults, it does not guess.
pub const MAX_CREDENTIALS: usize = 100;

/// The built-in pairs.
pub fn default_credentials() -> Vec<Credential> {
    DEFAULT_CREDENTIALS
        .iter()
        .map(|(u, p)| Credential {
            user: (*u).to_owned(),
            password: (*p).to_owned(),
        })
        .collect()
}

/// Reads `user:password` lines (blank lines and `#` comments skipped; the password may be
/// empty and may contain colons). An error names the line.
pub fn parse_credentials(text: &str) -> Result<Vec<Credential>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((user, password)) = line.split_once(':') else {
            return Err(format!(
                "line {}: expected user:password, found {:?}",
                n + 1,
                line.chars().take(40).collect::<String>()
            ));
        };
        if user.is_empty() {
            return Err(format!("line {}: the user name is empty", n + 1));
        }
        out.push(Credential {
            user: user.to_owned(),
            password: password.to_owned(),
        });
        if out.len() > MAX_CREDENTIALS {
            return Err(format!(
                "more than {MAX_CREDENTIALS} pairs; the probe tests defaults, it does not guess passwords"
            ));
        }
    }
    Ok(out)
}

/// What the login on one path showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginReport {
    pub path: String,
    /// The realm of its Basic challenge.
    pub realm: String,
    /// The pairs tried.
    pub tried: usize,
    /// The pair that opened it, if one did (the password is never reported).
    pub opened_by: Option<String>,
}

/// Paths where devices put their administration pages.
pub const ADMIN_PATHS: [&str; 4] = ["/", "/admin/", "/cgi-bin/", "/login.html"];

/// One GET of `path`, with `credential` as Basic authentication when given.
fn get(
    addr: SocketAddr,
    host: &str,
    path: &str,
    credential: Option<&Credential>,
    limits: &Limits,
) -> std::io::Result<(Option<Service>, Option<String>)> {
    let mut conn = Conn::open(addr, limits)?;
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: iotmark-probe\r\nConnection: close\r\n",
        host_header(host, addr.port())
    );
    if let Some(c) = credential {
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password));
        request.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    conn.send(request.as_bytes())?;
    let bytes = conn.read_until(|b| b.windows(4).any(|w| w == b"\r\n\r\n"))?;
    Ok((classify_http(&bytes), basic_realm(&bytes)))
}

/// The realm of a `WWW-Authenticate: Basic` challenge in a response head.
pub fn basic_realm(response: &[u8]) -> Option<String> {
    let head_end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..head_end]);
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("www-authenticate") {
            return None;
        }
        let value = value.trim();
        if !value
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        {
            return None;
        }
        let realm = value
            .split("realm=")
            .nth(1)
            .map(|r| {
                r.trim_start_matches('"')
                    .split('"')
                    .next()
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        Some(crate::service::printable(realm.as_bytes()))
    })
}

/// The admin paths that ask for Basic credentials, and whether a pair of `credentials`
/// opens each.
pub fn logins(
    addr: SocketAddr,
    host: &str,
    credentials: &[Credential],
    limits: &Limits,
) -> std::io::Result<Vec<LoginReport>> {
    let mut out = Vec::new();
    for path in ADMIN_PATHS {
        if limits.time_is_up() {
            break;
        }
        let (answer, realm) = get(addr, host, path, None, limits)?;
        let (Some(Service::Http { status: 401, .. }), Some(realm)) = (answer, realm) else {
            continue;
        };
        let mut report = LoginReport {
            path: path.to_owned(),
            realm,
            tried: 0,
            opened_by: None,
        };
        for c in credentials {
            if limits.time_is_up() {
                break;
            }
            report.tried += 1;
            if let (Some(Service::Http { status, .. }), _) = get(addr, host, path, Some(c), limits)?
                && (200..300).contains(&status)
            {
                report.opened_by = Some(c.user.clone());
                break;
            }
        }
        out.push(report);
        // One protected path says what the login accepts; the others share it.
        break;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_files_and_challenges_read() {
        let c = parse_credentials("# factory\nadmin:admin\n\nroot:\nsvc:a:b\n").unwrap_or_default();
        assert_eq!(c.len(), 3);
        assert_eq!((c[2].user.as_str(), c[2].password.as_str()), ("svc", "a:b"));
        assert!(
            parse_credentials("admin\n")
                .unwrap_err()
                .starts_with("line 1")
        );
        assert!(parse_credentials(&"a:b\n".repeat(101)).is_err());
        assert_eq!(
            basic_realm(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"camera\", charset=\"UTF-8\"\r\n\r\n"),
            Some("camera".to_owned())
        );
        assert_eq!(
            basic_realm(b"HTTP/1.1 401 x\r\nWWW-Authenticate: Digest realm=\"x\"\r\n\r\n"),
            None
        );
    }
}
