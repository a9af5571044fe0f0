//! A web interface's login: whether it asks for credentials (HTTP Basic, RFC 7617; Digest,
//! RFC 7616; or an HTML form with a password field), and whether a default pair from a short,
//! bounded list opens it (EN 303 645 5.1-1, IR 8425 "no universal default passwords"). Tried
//! on plain HTTP, one request per pair, paced like every other connection. Also the security
//! headers of the page at `/`.
//!
//! A form login has no standard answer to a wrong password, so the probe first submits a
//! password nobody chose and keeps what came back; a default pair counts as opening the form
//! only when its answer leaves the login behind where the wrong one did not.

use std::net::SocketAddr;

use base64::Engine as _;
use serde::Serialize;
use sha2::Digest as _;

use crate::conn::{Conn, Limits};
use crate::service::{host_header, printable};

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

/// How a login asks for credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Basic,
    Digest,
    Form,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Basic => "HTTP Basic",
            Scheme::Digest => "HTTP Digest",
            Scheme::Form => "form",
        }
    }
}

/// What the login on one path showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginReport {
    pub path: String,
    pub scheme: Scheme,
    /// The realm of a Basic or Digest challenge; the path a form posts to.
    pub realm: String,
    /// The pairs tried.
    pub tried: usize,
    /// The pair that opened it, if one did (the password is never reported).
    pub opened_by: Option<String>,
    /// How long each refusal took, in milliseconds: a server that slows failed logins
    /// (EN 303 645 5.1-5) shows it here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusals_ms: Vec<u64>,
}

/// Paths where devices put their administration pages.
pub const ADMIN_PATHS: [&str; 4] = ["/", "/admin/", "/cgi-bin/", "/login.html"];

/// Most bytes of a page read for a form.
const MAX_PAGE: usize = 64 << 10;

/// An HTTP response: status, headers (names lower-cased) and as much body as came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// Reads a response: `None` when the bytes do not start with an HTTP status line.
    pub fn parse(bytes: &[u8]) -> Option<Response> {
        let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n");
        let head = String::from_utf8_lossy(&bytes[..head_end.unwrap_or(bytes.len())]);
        let mut lines = head.lines();
        let mut parts = lines.next()?.split_whitespace();
        if !parts.next()?.starts_with("HTTP/") {
            return None;
        }
        let status = parts.next()?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let body = head_end.map_or(Vec::new(), |e| bytes[e + 4..].to_vec());
        Some(Response {
            status,
            headers,
            body,
        })
    }

    /// The first value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether `bytes` hold a whole response: the head, and the body its `Content-Length` or
/// chunked encoding announces (otherwise the server's close ends it).
fn complete(bytes: &[u8]) -> bool {
    let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let Some(r) = Response::parse(&bytes[..end + 4]) else {
        return true;
    };
    let body = &bytes[end + 4..];
    if let Some(n) = r
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        return body.len() >= n.min(MAX_PAGE);
    }
    if r.header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        return body.ends_with(b"0\r\n\r\n") || body.len() >= MAX_PAGE;
    }
    // 1xx, 204 and 304 have no body; anything else runs to the close.
    r.status < 200 || r.status == 204 || r.status == 304 || body.len() >= MAX_PAGE
}

/// Where a web interface is: the address, the host name to send, and whether it is behind
/// TLS.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    pub addr: SocketAddr,
    pub host: &'a str,
    pub tls: bool,
}

/// One request on a connection of its own (a TLS session of its own for HTTPS).
pub fn request(
    site: &Site<'_>,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Option<&[u8]>,
    limits: &Limits,
) -> std::io::Result<Option<Response>> {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: iotmark-probe\r\nConnection: close\r\n",
        host_header(site.host, site.addr.port())
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    let answer = if site.tls {
        crate::https::exchange(site.addr, site.host, &bytes, limits, complete)?
    } else {
        let mut conn = Conn::open(site.addr, limits)?;
        conn.send(&bytes)?;
        conn.read_until(complete)?
    };
    Ok(Response::parse(&answer))
}

/// A `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic {
        realm: String,
    },
    Digest {
        realm: String,
        nonce: String,
        opaque: Option<String>,
        algorithm: DigestAlgorithm,
        /// `qop="auth"` offered (otherwise the RFC 2069 form).
        qop_auth: bool,
    },
}

impl Challenge {
    fn realm(&self) -> &str {
        match self {
            Challenge::Basic { realm } | Challenge::Digest { realm, .. } => realm,
        }
    }
    fn scheme(&self) -> Scheme {
        match self {
            Challenge::Basic { .. } => Scheme::Basic,
            Challenge::Digest { .. } => Scheme::Digest,
        }
    }
}

/// The hash of a Digest challenge (RFC 7616 section 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl DigestAlgorithm {
    fn parse(name: Option<&str>) -> Option<Self> {
        match name.map(str::to_ascii_uppercase).as_deref() {
            None | Some("MD5") => Some(Self::Md5),
            Some("MD5-SESS") => Some(Self::Md5Sess),
            Some("SHA-256") => Some(Self::Sha256),
            Some("SHA-256-SESS") => Some(Self::Sha256Sess),
            _ => None,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }
    fn hash(self, text: &str) -> String {
        let digest: Vec<u8> = match self {
            Self::Md5 | Self::Md5Sess => md5::Md5::digest(text.as_bytes()).to_vec(),
            Self::Sha256 | Self::Sha256Sess => sha2::Sha256::digest(text.as_bytes()).to_vec(),
        };
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
    fn session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }
}

/// The `name=value` and `name="quoted, value"` parameters of an authentication header.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        let Some(eq) = rest.find('=') else {
            return out;
        };
        let name = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            value = v;
            rest = &quoted[end.min(quoted.len())..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((name, value));
    }
}

/// The challenges of a 401 response, Digest first (the stronger of the two a server offers).
pub fn challenges(response: &Response) -> Vec<Challenge> {
    let mut out = Vec::new();
    for value in response.all("www-authenticate") {
        let (scheme, params) = value.split_once(' ').unwrap_or((value, ""));
        let params = auth_params(params);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let realm = printable(get("realm").unwrap_or_default().as_bytes());
        if scheme.eq_ignore_ascii_case("basic") {
            out.push(Challenge::Basic { realm });
        } else if scheme.eq_ignore_ascii_case("digest")
            && let (Some(nonce), Some(algorithm)) =
                (get("nonce"), DigestAlgorithm::parse(get("algorithm")))
        {
            out.push(Challenge::Digest {
                realm,
                nonce: nonce.to_owned(),
                opaque: get("opaque").map(str::to_owned),
                algorithm,
                qop_auth: get("qop")
                    .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth"))),
            });
        }
    }
    out.sort_by_key(|c| matches!(c, Challenge::Basic { .. }));
    out
}

/// The `response` of a Digest answer (RFC 7616 section 3.4.1); `qop` is the nonce count
/// and client nonce when `qop=auth` is used.
pub fn digest_response(
    algorithm: DigestAlgorithm,
    c: &Credential,
    realm: &str,
    nonce: &str,
    method: &str,
    uri: &str,
    qop: Option<(&str, &str)>,
) -> String {
    let mut ha1 = algorithm.hash(&format!("{}:{realm}:{}", c.user, c.password));
    if algorithm.session()
        && let Some((_, cnonce)) = qop
    {
        ha1 = algorithm.hash(&format!("{ha1}:{nonce}:{cnonce}"));
    }
    let ha2 = algorithm.hash(&format!("{method}:{uri}"));
    match qop {
        Some((nc, cnonce)) => algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")),
        None => algorithm.hash(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// The `Authorization` header answering `challenge` for `c` on `GET path`.
fn authorization(challenge: &Challenge, c: &Credential, path: &str, count: u32) -> String {
    match challenge {
        Challenge::Basic { .. } => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.user, c.password))
        ),
        Challenge::Digest {
            realm,
            nonce,
            opaque,
            algorithm,
            qop_auth,
        } => {
            let mut random = [0u8; 8];
            let _ = getrandom::fill(&mut random);
            let cnonce: String = random.iter().map(|b| format!("{b:02x}")).collect();
            let nc = format!("{count:08x}");
            let qop = qop_auth.then_some((nc.as_str(), cnonce.as_str()));
            let response = digest_response(*algorithm, c, realm, nonce, "GET", path, qop);
            let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
            let mut header = format!(
                "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", algorithm={}, response=\"{response}\"",
                quote(&c.user),
                quote(realm),
                quote(nonce),
                quote(path),
                algorithm.name()
            );
            if *qop_auth {
                header.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""));
            }
            if let Some(o) = opaque {
                header.push_str(&format!(", opaque=\"{}\"", quote(o)));
            }
            header
        }
    }
}

/// Tries `credentials` against the challenge of `path`, each answer on a connection of its
/// own; a Digest server's next challenge (a fresh nonce) is taken from each refusal.
fn challenge_login(
    site: &Site<'_>,
    path: &str,
    mut challenge: Challenge,
    credentials: &[Credential],
    limits: &Limits,
) -> std::io::Result<LoginReport> {
    let mut report = LoginReport {
        path: path.to_owned(),
        scheme: challenge.scheme(),
        realm: challenge.realm().to_owned(),
        tried: 0,
        opened_by: None,
        refusals_ms: Vec::new(),
    };
    for (n, c) in credentials.iter().enumerate() {
        if limits.time_is_up() {
            break;
        }
        report.tried += 1;
        let header = authorization(&challenge, c, path, n as u32 + 1);
        let asked = std::time::Instant::now();
        let Some(answer) = request(
            site,
            "GET",
            path,
            &[("Authorization", header)],
            None,
            limits,
        )?
        else {
            continue;
        };
        if (200..300).contains(&answer.status) {
            report.opened_by = Some(c.user.clone());
            break;
        }
        report.refusals_ms.push(elapsed_ms(asked));
        if let Some(next) = challenges(&answer)
            .into_iter()
            .find(|n| n.scheme() == report.scheme)
        {
            challenge = next;
        }
    }
    Ok(report)
}

/// An HTML form with a password field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginForm {
    /// Where it is sent: a path on the same server.
    pub action: String,
    /// `GET` or `POST`.
    pub method: String,
    pub user_field: Option<String>,
    pub password_field: String,
    /// Hidden fields sent along as they came (a token, a language).
    pub hidden: Vec<(String, String)>,
}

/// The attributes of one tag's text (after its name), names lower-cased.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() || rest.starts_with('>') {
            return out;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (v, left) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let close = inner.find(q).unwrap_or(inner.len());
                    (&inner[..close], inner.get(close + 1..).unwrap_or_default())
                }
                _ => {
                    let close = after
                        .find(|c: char| c.is_whitespace() || c == '>')
                        .unwrap_or(after.len());
                    (&after[..close], &after[close..])
                }
            };
            value = v.to_owned();
            rest = left;
        }
        if name.is_empty() {
            // Not an attribute at all: skip a character so the loop moves on.
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        out.push((name, value));
    }
}

/// The tags named `name` in `html` (`lower` is its ASCII lower-case copy), each as its
/// attributes, with their offsets.
fn tags(html: &str, lower: &str, name: &str) -> Vec<(usize, Vec<(String, String)>)> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    for (at, _) in lower.match_indices(open.as_str()) {
        let after = at + open.len();
        let Some(next) = lower[after..].chars().next() else {
            continue;
        };
        if !(next.is_whitespace() || next == '>' || next == '/') {
            continue;
        }
        let end = lower[after..].find('>').map_or(html.len(), |e| after + e);
        out.push((at, attributes(html.get(after..end).unwrap_or_default())));
    }
    out
}

/// The first form on a page that has a password field.
pub fn login_form(page: &[u8], path: &str) -> Option<LoginForm> {
    let html = String::from_utf8_lossy(&page[..page.len().min(MAX_PAGE)]).into_owned();
    // Lower-casing keeps byte offsets only for ASCII; other text is replaced first.
    let html: String = html
        .chars()
        .map(|c| if c.is_ascii() { c } else { ' ' })
        .collect();
    let lower = html.to_ascii_lowercase();
    let forms = tags(&html, &lower, "form");
    for (i, (at, attrs)) in forms.iter().enumerate() {
        let end = forms
            .get(i + 1)
            .map_or(html.len(), |(next, _)| *next)
            .min(lower[*at..].find("</form").map_or(html.len(), |e| at + e));
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut user_field = None;
        let mut password_field = None;
        let mut hidden = Vec::new();
        for (_, input) in tags(&html[*at..end], &lower[*at..end], "input") {
            let field = |k: &str| input.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let (Some(name), kind) = (field("name"), field("type").unwrap_or_default()) else {
                continue;
            };
            match kind.to_ascii_lowercase().as_str() {
                "password" if password_field.is_none() => password_field = Some(name),
                "hidden" => hidden.push((name, field("value").unwrap_or_default())),
                "" | "text" | "email" | "tel" if user_field.is_none() => user_field = Some(name),
                _ => {}
            }
        }
        let Some(password_field) = password_field else {
            continue;
        };
        let action = same_server_path(get("action").as_deref().unwrap_or_default(), path)?;
        let method = match get("method").map(|m| m.to_ascii_uppercase()).as_deref() {
            Some("POST") => "POST",
            _ => "GET",
        };
        return Some(LoginForm {
            action,
            method: method.to_owned(),
            user_field,
            password_field,
            hidden,
        });
    }
    None
}

/// A form's action as a path on the server the page came from: `None` for another host (the
/// probe goes nowhere it was not sent).
fn same_server_path(action: &str, page: &str) -> Option<String> {
    let action = action.trim();
    if action.is_empty() {
        return Some(page.to_owned());
    }
    if action.contains("://") || action.starts_with("//") {
        return None;
    }
    if action.starts_with('/') {
        return Some(action.to_owned());
    }
    let dir = &page[..page.rfind('/').map_or(0, |i| i + 1)];
    Some(format!(
        "{}{action}",
        if dir.is_empty() { "/" } else { dir }
    ))
}

/// `application/x-www-form-urlencoded` escaping.
fn form_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// What a form submission led to, as far as telling success from refusal goes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    status: u16,
    location: Option<String>,
    shows_login: bool,
}

/// Submits `c` to the form; the cookies the login page set are sent back (a session or a
/// token some forms need).
fn submit(
    site: &Site<'_>,
    form: &LoginForm,
    cookies: &str,
    c: &Credential,
    limits: &Limits,
) -> std::io::Result<Option<Outcome>> {
    let mut fields: Vec<(String, String)> = form.hidden.clone();
    if let Some(u) = &form.user_field {
        fields.push((u.clone(), c.user.clone()));
    }
    fields.push((form.password_field.clone(), c.password.clone()));
    let encoded = fields
        .iter()
        .map(|(k, v)| format!("{}={}", form_escape(k), form_escape(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = Vec::new();
    if !cookies.is_empty() {
        headers.push(("Cookie", cookies.to_owned()));
    }
    let answer = if form.method == "POST" {
        headers.push((
            "Content-Type",
            "application/x-www-form-urlencoded".to_owned(),
        ));
        request(
            site,
            "POST",
            &form.action,
            &headers,
            Some(encoded.as_bytes()),
            limits,
        )?
    } else {
        let sep = if form.action.contains('?') { '&' } else { '?' };
        request(
            site,
            "GET",
            &format!("{}{sep}{encoded}", form.action),
            &headers,
            None,
            limits,
        )?
    };
    Ok(answer.map(|r| Outcome {
        status: r.status,
        location: r.header("location").map(str::to_owned),
        shows_login: r.status == 401 || login_form(&r.body, &form.action).is_some(),
    }))
}

/// Whether `outcome` left the login behind where the wrong password's `refused` did not.
fn opened(outcome: &Outcome, refused: &Outcome) -> bool {
    if outcome == refused || outcome.shows_login || outcome.status >= 400 {
        return false;
    }
    match (outcome.status, refused.status) {
        (300..=399, 300..=399) => {
            outcome.location.is_some() && outcome.location != refused.location
        }
        (300..=399, _) => outcome.location.is_some(),
        _ => refused.shows_login || refused.status >= 400,
    }
}

fn form_login(
    site: &Site<'_>,
    path: &str,
    form: LoginForm,
    cookies: &str,
    credentials: &[Credential],
    limits: &Limits,
) -> std::io::Result<Option<LoginReport>> {
    let mut random = [0u8; 12];
    let _ = getrandom::fill(&mut random);
    let nobody = Credential {
        user: credentials.first().map_or("admin", |c| &c.user).to_owned(),
        password: random.iter().map(|b| format!("{b:02x}")).collect(),
    };
    let Some(refused) = submit(site, &form, cookies, &nobody, limits)? else {
        return Ok(None);
    };
    let mut report = LoginReport {
        path: path.to_owned(),
        scheme: Scheme::Form,
        realm: form.action.clone(),
        tried: 0,
        opened_by: None,
        refusals_ms: Vec::new(),
    };
    // A form that takes a password nobody chose cannot tell one login from another.
    if !refused.shows_login && refused.status < 400 && !(300..400).contains(&refused.status) {
        return Ok(None);
    }
    for c in credentials {
        if limits.time_is_up() {
            break;
        }
        report.tried += 1;
        let asked = std::time::Instant::now();
        if let Some(outcome) = submit(site, &form, cookies, c, limits)?
            && opened(&outcome, &refused)
        {
            report.opened_by = Some(c.user.clone());
            break;
        }
        report.refusals_ms.push(elapsed_ms(asked));
    }
    Ok(Some(report))
}

/// Milliseconds since `start`.
pub fn elapsed_ms(start: std::time::Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The cookies a response set, as a `Cookie` header value.
fn cookies_of(response: &Response) -> String {
    response
        .all("set-cookie")
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|v| v.contains('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The security headers of a web interface's page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecurityHeaders {
    /// `Content-Security-Policy` (its `frame-ancestors` also stops framing).
    pub content_security_policy: bool,
    /// `X-Frame-Options`, or a CSP with `frame-ancestors`.
    pub framing_denied: bool,
    /// `X-Content-Type-Options: nosniff`.
    pub nosniff: bool,
    /// `Strict-Transport-Security`, which only counts over HTTPS.
    pub strict_transport_security: bool,
}

impl SecurityHeaders {
    pub fn of(r: &Response) -> Self {
        let csp = r.header("content-security-policy");
        SecurityHeaders {
            content_security_policy: csp.is_some(),
            framing_denied: r.header("x-frame-options").is_some()
                || csp.is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors")),
            nosniff: r
                .header("x-content-type-options")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")),
            strict_transport_security: r.header("strict-transport-security").is_some(),
        }
    }

    /// The headers a web interface lacks; `Strict-Transport-Security` counts over HTTPS only
    /// (browsers ignore it on plain HTTP).
    pub fn missing(&self, https: bool) -> Vec<&'static str> {
        let mut out = Vec::new();
        if https && !self.strict_transport_security {
            out.push("Strict-Transport-Security");
        }
        if !self.content_security_policy {
            out.push("Content-Security-Policy");
        }
        if !self.framing_denied {
            out.push("X-Frame-Options (or CSP frame-ancestors)");
        }
        if !self.nosniff {
            out.push("X-Content-Type-Options: nosniff");
        }
        out
    }
}

/// What the web interface showed: its logins on admin paths, whether a pair of
/// `credentials` opens each, and the security headers of `/`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WebReport {
    pub logins: Vec<LoginReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<SecurityHeaders>,
}

/// Looks for a login on the admin paths (a challenge, or a page with a password form) and
/// tries `credentials` on the first found.
pub fn logins(
    site: &Site<'_>,
    credentials: &[Credential],
    limits: &Limits,
) -> std::io::Result<WebReport> {
    let mut report = WebReport::default();
    for path in ADMIN_PATHS {
        if limits.time_is_up() {
            break;
        }
        let Some(page) = request(site, "GET", path, &[], None, limits)? else {
            continue;
        };
        if path == "/" {
            report.headers = Some(SecurityHeaders::of(&page));
        }
        let login = if page.status == 401 {
            match challenges(&page).into_iter().next() {
                Some(challenge) => {
                    Some(challenge_login(site, path, challenge, credentials, limits)?)
                }
                None => None,
            }
        } else if (200..300).contains(&page.status)
            && let Some(form) = login_form(&page.body, path)
        {
            form_login(site, path, form, &cookies_of(&page), credentials, limits)?
        } else {
            None
        };
        if let Some(login) = login {
            report.logins.push(login);
            // One login says what the interface accepts; the other paths share it.
            break;
        }
    }
    Ok(report)
}

/// For the fuzz target: any bytes as an HTTP response, its challenges, its login form and
/// its security headers.
pub fn fuzz_response(bytes: &[u8]) {
    if let Some(r) = Response::parse(bytes) {
        let _ = challenges(&r);
        let _ = SecurityHeaders::of(&r).missing(true);
        let _ = login_form(&r.body, "/a/b");
    }
    let _ = login_form(bytes, "/");
    let _ = complete(bytes);
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
        let realm = |bytes: &[u8]| {
            challenges(&Response::parse(bytes).unwrap_or_else(|| panic!("a response")))
                .into_iter()
                .find_map(|c| match c {
                    Challenge::Basic { realm } => Some(realm),
                    Challenge::Digest { .. } => None,
                })
        };
        assert_eq!(
            realm(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"camera\", charset=\"UTF-8\"\r\n\r\n"),
            Some("camera".to_owned())
        );
        assert_eq!(
            realm(b"HTTP/1.1 401 x\r\nWWW-Authenticate: Digest realm=\"x\", nonce=\"n\"\r\n\r\n"),
            None
        );
    }

    /// RFC 7616 section 3.9.1: the same request answered with MD5 and with SHA-256.
    #[test]
    fn digest_answers_match_rfc_7616() {
        let c = Credential {
            user: "Mufasa".to_owned(),
            password: "Circle of Life".to_owned(),
        };
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
        let qop = Some(("00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"));
        let answer = |a| {
            digest_response(
                a,
                &c,
                "http-auth@example.org",
                nonce,
                "GET",
                "/dir/index.html",
                qop,
            )
        };
        assert_eq!(
            answer(DigestAlgorithm::Md5),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            answer(DigestAlgorithm::Sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let r = Response::parse(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"cam\"\r\nWWW-Authenticate: Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"\r\n\r\n",
        )
        .unwrap();
        let found = challenges(&r);
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            Challenge::Digest {
                realm: "http-auth@example.org".to_owned(),
                nonce: nonce.to_owned(),
                opaque: Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS".to_owned()),
                algorithm: DigestAlgorithm::Sha256,
                qop_auth: true,
            },
            "Digest comes before Basic"
        );
    }

    #[test]
    fn login_forms_are_found_and_their_answers_told_apart() {
        let page = br#"<html><body><FORM Method="post" action="login.cgi">
            <input type=hidden name=token value='a b'>
            <input name="user"><input type="password" name="pass"/>
            <input type="submit" value="Log in"></form>
            <form action="https://elsewhere.example/x"><input type=password name=p></form>"#;
        let form = login_form(page, "/admin/index.html").unwrap();
        assert_eq!(form.action, "/admin/login.cgi");
        assert_eq!(form.method, "POST");
        assert_eq!(form.user_field.as_deref(), Some("user"));
        assert_eq!(form.password_field, "pass");
        assert_eq!(form.hidden, [("token".to_owned(), "a b".to_owned())]);
        // A form that posts to another host is not followed.
        assert_eq!(
            login_form(
                b"<form action='//other/x'><input type=password name=p></form>",
                "/"
            ),
            None
        );
        assert_eq!(login_form(b"<form><input name=q></form>", "/"), None);
        let refused = Outcome {
            status: 200,
            location: None,
            shows_login: true,
        };
        let away = Outcome {
            status: 302,
            location: Some("/status.html".to_owned()),
            shows_login: false,
        };
        assert!(opened(&away, &refused));
        assert!(!opened(&refused, &refused));
        let back_to_login = Outcome {
            status: 302,
            location: Some("/login.html?error=1".to_owned()),
            shows_login: false,
        };
        assert!(!opened(&back_to_login, &back_to_login));
        assert!(opened(&away, &back_to_login));
        assert_eq!(form_escape("a b&c=d"), "a+b%26c%3Dd");
    }
}
