//! TLS as a scanner speaks it: ClientHellos built here for every protocol version from SSL 3.0
//! to TLS 1.3 (no TLS library offers the old ones), and the server's first flight read as far
//! as it is in the clear: the ServerHello (version and suite chosen), an alert, and before
//! TLS 1.3 the certificate chain. No handshake is completed and no key is computed: a version
//! or suite counts as accepted when the server chooses it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use crate::conn::{Conn, Limits};
use crate::suites::{self, Suite};
use crate::wire::{Cursor, Short, put_vec};

/// A protocol version the probe asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Version {
    #[serde(rename = "SSLv3")]
    Ssl3,
    #[serde(rename = "TLSv1.0")]
    Tls10,
    #[serde(rename = "TLSv1.1")]
    Tls11,
    #[serde(rename = "TLSv1.2")]
    Tls12,
    #[serde(rename = "TLSv1.3")]
    Tls13,
}

impl Version {
    pub const ALL: [Version; 5] = [
        Version::Ssl3,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The wire code point.
    pub fn code(self) -> u16 {
        match self {
            Version::Ssl3 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    pub fn from_code(code: u16) -> Option<Self> {
        Version::ALL.into_iter().find(|v| v.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Version::Ssl3 => "SSLv3",
            Version::Tls10 => "TLSv1.0",
            Version::Tls11 => "TLSv1.1",
            Version::Tls12 => "TLSv1.2",
            Version::Tls13 => "TLSv1.3",
        }
    }

    /// Deprecated by RFC 7568 (SSL 3.0) and RFC 8996 (TLS 1.0 and 1.1).
    pub fn deprecated(self) -> bool {
        self < Version::Tls12
    }

    /// The suites a hello for this version offers.
    pub fn suites(self) -> Vec<u16> {
        suites::ALL
            .iter()
            .filter(|s| match self {
                Version::Tls13 => s.tls13(),
                Version::Tls12 => !s.tls13(),
                _ => !s.tls13() && !s.tls12_only(),
            })
            .map(|s| s.id)
            .collect()
    }
}

/// Named groups offered: x25519, P-256, P-384, P-521, ffdhe2048.
const GROUPS: [u16; 5] = [0x001d, 0x0017, 0x0018, 0x0019, 0x0100];
/// Signature schemes offered (TLS 1.2 and 1.3), including SHA-1 ones so old servers answer.
const SIGNATURE_SCHEMES: [u16; 12] = [
    0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203,
];

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    put_vec(out, 2, body);
}

fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

/// A ClientHello record for `version` offering `suites`, with SNI when `server_name` is a DNS
/// name. `random` fills the random, the TLS 1.3 session ID and the key share (any 32 bytes are
/// an X25519 public key; the probe never computes the shared secret).
pub fn client_hello(
    version: Version,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    let legacy = version.min(Version::Tls12).code();
    body.extend_from_slice(&legacy.to_be_bytes());
    body.extend_from_slice(&random);
    if version == Version::Tls13 {
        put_vec(&mut body, 1, &random);
    } else {
        body.push(0);
    }
    put_vec(&mut body, 2, &u16s(suites));
    put_vec(&mut body, 1, &[0]);
    if version > Version::Ssl3 {
        let mut ext = Vec::new();
        if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
            let mut entry = vec![0];
            put_vec(&mut entry, 2, name.as_bytes());
            let mut list = Vec::new();
            put_vec(&mut list, 2, &entry);
            extension(&mut ext, 0x0000, &list);
        }
        let mut groups = Vec::new();
        put_vec(&mut groups, 2, &u16s(&GROUPS));
        extension(&mut ext, 0x000a, &groups);
        extension(&mut ext, 0x000b, &[1, 0]);
        if version >= Version::Tls12 {
            let mut schemes = Vec::new();
            put_vec(&mut schemes, 2, &u16s(&SIGNATURE_SCHEMES));
            extension(&mut ext, 0x000d, &schemes);
        }
        extension(&mut ext, 0xff01, &[0]);
        if version == Version::Tls13 {
            extension(&mut ext, 0x002b, &[2, 0x03, 0x04]);
            let mut share = Vec::new();
            share.extend_from_slice(&0x001du16.to_be_bytes());
            put_vec(&mut share, 2, &random);
            let mut shares = Vec::new();
            put_vec(&mut shares, 2, &share);
            extension(&mut ext, 0x0033, &shares);
            extension(&mut ext, 0x002d, &[1, 1]);
        }
        put_vec(&mut body, 2, &ext);
    }
    let mut handshake = vec![1];
    put_vec(&mut handshake, 3, &body);
    let mut record = vec![22];
    let record_version = if version == Version::Ssl3 {
        0x0300u16
    } else {
        0x0301
    };
    record.extend_from_slice(&record_version.to_be_bytes());
    put_vec(&mut record, 2, &handshake);
    record
}

/// What the server chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    /// The version in effect: the supported_versions extension's, else the legacy field.
    pub version: u16,
    pub suite: u16,
    /// A TLS 1.3 HelloRetryRequest (it still chose the version and suite).
    pub retry: bool,
}

/// The server's first flight, as far as it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flight {
    pub hello: Option<ServerHello>,
    /// A fatal alert's description (RFC 8446 §6), when the server refused.
    pub alert: Option<u8>,
    /// The certificate chain, leaf first (before TLS 1.3 only: later it is encrypted).
    pub certificates: Vec<Vec<u8>>,
    /// Nothing more of interest will come in the clear.
    pub done: bool,
}

/// Why a response is not TLS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlightError {
    #[error("not TLS: record type {0} at the start")]
    NotTls(u8),
    #[error("a TLS record of {0} bytes, more than TLS allows")]
    RecordTooLong(usize),
    #[error("a malformed handshake: {0}")]
    Malformed(#[from] Short),
}

/// SHA-256 of "HelloRetryRequest", the random of a HelloRetryRequest (RFC 8446 §4.1.3).
const RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Most certificates kept from one chain.
const MAX_CERTIFICATES: usize = 16;

/// Reads as much of a server's first flight as `bytes` holds. An incomplete record or
/// message at the end is left for more bytes (the flight is not `done`).
pub fn parse_flight(bytes: &[u8]) -> Result<Flight, FlightError> {
    let mut flight = Flight::default();
    let mut records = Cursor::new(bytes);
    let mut handshake = Vec::new();
    while records.left() >= 5 && !flight.done {
        let at = records.offset();
        let kind = records.u8("record type")?;
        let major = records.u8("record version")?;
        records.u8("record version")?;
        let len = usize::from(records.u16("record length")?);
        if !(20..=23).contains(&kind) || major != 3 {
            if at == 0 {
                return Err(FlightError::NotTls(kind));
            }
            flight.done = true;
            break;
        }
        if len > 16_384 + 2_048 {
            return Err(FlightError::RecordTooLong(len));
        }
        if records.left() < len {
            break;
        }
        let body = records.take(len, "record")?;
        match kind {
            21 => {
                let mut alert = Cursor::new(body);
                alert.u8("alert level")?;
                flight.alert = Some(alert.u8("alert description")?);
                flight.done = true;
            }
            22 => {
                handshake.extend_from_slice(body);
                read_handshake(&handshake, &mut flight)?;
            }
            // ChangeCipherSpec or application data: what follows is encrypted.
            _ if flight.hello.is_some() => flight.done = true,
            _ => {}
        }
    }
    Ok(flight)
}

/// The complete handshake messages in `bytes` (the handshake records' bodies joined).
fn read_handshake(bytes: &[u8], flight: &mut Flight) -> Result<(), FlightError> {
    let mut messages = Cursor::new(bytes);
    flight.certificates.clear();
    while messages.left() >= 4 {
        let kind = messages.u8("handshake type")?;
        let len = messages.u24("handshake length")?;
        if messages.left() < len {
            return Ok(());
        }
        let mut body = messages.sub(len, "handshake message")?;
        match kind {
            2 => {
                let hello = server_hello(&mut body)?;
                let tls13 = hello.version == Version::Tls13.code();
                flight.hello = Some(hello);
                if tls13 {
                    flight.done = true;
                    return Ok(());
                }
            }
            11 => {
                let len = body.u24("certificate list length")?;
                let mut list = body.sub(len, "certificates")?;
                while !list.is_empty() && flight.certificates.len() < MAX_CERTIFICATES {
                    flight
                        .certificates
                        .push(list.vec24("certificate")?.to_vec());
                }
            }
            14 => {
                flight.done = true;
                return Ok(());
            }
            _ => {}
        }
    }
    Ok(())
}

fn server_hello(body: &mut Cursor<'_>) -> Result<ServerHello, FlightError> {
    let legacy = body.u16("server version")?;
    let random = body.take(32, "server random")?;
    body.vec8("session id")?;
    let suite = body.u16("cipher suite")?;
    body.u8("compression method")?;
    let mut version = legacy;
    if body.left() >= 2 {
        let len = usize::from(body.u16("extensions length")?);
        let mut extensions = body.sub(len, "extensions")?;
        while !extensions.is_empty() {
            let kind = extensions.u16("extension type")?;
            let mut data = Cursor::new(extensions.vec16("extension")?);
            if kind == 0x002b {
                version = data.u16("selected version")?;
            }
        }
    }
    Ok(ServerHello {
        version,
        suite,
        retry: random == RETRY_RANDOM,
    })
}

/// How one hello was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The server chose this version and suite.
    Chose(ServerHello, Vec<Vec<u8>>),
    /// A fatal alert, or the connection closed without a hello.
    Refused(Option<u8>),
    /// Bytes that are not TLS.
    NotTls(String),
}

/// Sends one hello and reads the answer, within `limits`.
pub fn ask(
    addr: SocketAddr,
    server_name: Option<&str>,
    version: Version,
    suites: &[u16],
    limits: &Limits,
) -> std::io::Result<Answer> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut conn = Conn::open(addr, limits)?;
    conn.send(&client_hello(version, suites, server_name, random))?;
    let mut bytes = Vec::new();
    loop {
        let more = match conn.read_some() {
            Ok(more) => more,
            // A server that stops talking mid-flight has said what it will say.
            Err(e) if crate::conn::quiet(&e) => None,
            Err(e) => return Err(e),
        };
        let closed = more.is_none();
        if let Some(more) = more {
            bytes.extend_from_slice(&more);
        }
        let flight = match parse_flight(&bytes) {
            Ok(f) => f,
            Err(e) => return Ok(Answer::NotTls(e.to_string())),
        };
        if flight.done || closed || bytes.len() >= limits.max_response_bytes {
            return Ok(match flight.hello {
                Some(hello) => Answer::Chose(hello, flight.certificates),
                None => Answer::Refused(flight.alert),
            });
        }
    }
}

/// What a TLS service accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TlsReport {
    /// Each version asked for and whether the server chose it.
    pub versions: BTreeMap<Version, bool>,
    /// The suites chosen at each accepted version, in the order found (the server's
    /// preference, when it has one).
    pub suites: BTreeMap<Version, Vec<String>>,
    /// The certificate chain (DER), leaf first, from a handshake before TLS 1.3.
    #[serde(skip)]
    pub certificates: Vec<Vec<u8>>,
    /// The suites accepted that give no real protection, with why.
    pub weak_suites: Vec<(String, &'static str)>,
}

impl TlsReport {
    pub fn accepted(&self) -> impl Iterator<Item = Version> + '_ {
        self.versions.iter().filter(|(_, ok)| **ok).map(|(v, _)| *v)
    }
}

/// Every version, then every suite of each accepted version: a new connection per hello.
/// `None` when the port does not speak TLS.
pub fn probe(
    addr: SocketAddr,
    server_name: Option<&str>,
    limits: &Limits,
) -> std::io::Result<Option<TlsReport>> {
    let mut report = TlsReport::default();
    let mut spoke_tls = false;
    for version in Version::ALL {
        let answer = ask(addr, server_name, version, &version.suites(), limits)?;
        let chosen = match &answer {
            Answer::Chose(hello, certificates) => {
                spoke_tls = true;
                if report.certificates.is_empty() {
                    report.certificates = certificates.clone();
                }
                hello.version == version.code()
            }
            Answer::Refused(alert) => {
                spoke_tls |= alert.is_some();
                false
            }
            Answer::NotTls(_) => false,
        };
        report.versions.insert(version, chosen);
        if chosen {
            let found = enumerate_suites(addr, server_name, version, limits)?;
            for id in &found {
                if let Some(why) = suites::by_id(*id).and_then(Suite::weakness) {
                    let name = suites::name(*id);
                    if !report.weak_suites.iter().any(|(n, _)| *n == name) {
                        report.weak_suites.push((name, why));
                    }
                }
            }
            report
                .suites
                .insert(version, found.into_iter().map(suites::name).collect());
        }
    }
    Ok(spoke_tls.then_some(report))
}

/// The suites the server chooses at `version`: offer all, take the chosen one out, offer the
/// rest, until the server refuses (how testssl.sh and sslyze enumerate). For TLS 1.3 each of
/// the five suites is offered alone.
fn enumerate_suites(
    addr: SocketAddr,
    server_name: Option<&str>,
    version: Version,
    limits: &Limits,
) -> std::io::Result<Vec<u16>> {
    let mut found = Vec::new();
    if version == Version::Tls13 {
        for id in version.suites() {
            if let Answer::Chose(hello, _) = ask(addr, server_name, version, &[id], limits)?
                && hello.version == version.code()
                && hello.suite == id
            {
                found.push(id);
            }
        }
        return Ok(found);
    }
    let mut offered = version.suites();
    while !offered.is_empty() {
        match ask(addr, server_name, version, &offered, limits)? {
            Answer::Chose(hello, _)
                if hello.version == version.code() && offered.contains(&hello.suite) =>
            {
                found.push(hello.suite);
                offered.retain(|s| *s != hello.suite);
            }
            _ => break,
        }
    }
    Ok(found)
}

/// For the fuzz target: any bytes as a server's first flight, which must never panic.
pub fn fuzz_flight(bytes: &[u8]) {
    if let Ok(flight) = parse_flight(bytes) {
        for der in &flight.certificates {
            let _ = iotmark_firmware::analyze::keys::certificate(der);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// A ServerHello record choosing `version` (legacy field, or supported_versions for 1.3)
    /// and `suite`.
    fn server_hello_record(version: u16, suite: u16) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&version.min(0x0303).to_be_bytes());
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&suite.to_be_bytes());
        body.push(0);
        if version == 0x0304 {
            let mut ext = Vec::new();
            extension(&mut ext, 0x002b, &0x0304u16.to_be_bytes());
            put_vec(&mut body, 2, &ext);
        }
        let mut hs = vec![2];
        put_vec(&mut hs, 3, &body);
        let mut record = vec![22, 3, 3];
        put_vec(&mut record, 2, &hs);
        record
    }

    #[test]
    fn a_hello_has_the_fields_each_version_needs() {
        let hello = client_hello(Version::Tls10, &[0x002f], Some("camera.local"), [9; 32]);
        assert_eq!(&hello[..3], &[22, 3, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([hello[3], hello[4]])),
            hello.len() - 5
        );
        assert_eq!(&hello[9..11], &[3, 1], "client version");
        assert!(hello.windows(12).any(|w| w == b"camera.local"));
        let ssl3 = client_hello(Version::Ssl3, &[0x000a], None, [9; 32]);
        assert_eq!(&ssl3[1..3], &[3, 0]);
        // SSL 3.0: no extensions after the compression methods.
        assert_eq!(ssl3.len(), 5 + 4 + 2 + 32 + 1 + 2 + 2 + 2);
        let tls13 = client_hello(Version::Tls13, &[0x1301], Some("10.0.0.1"), [9; 32]);
        assert_eq!(&tls13[9..11], &[3, 3], "legacy version 1.2");
        assert!(
            tls13.windows(5).any(|w| w == [0x00, 0x2b, 0, 3, 2]),
            "supported_versions"
        );
        assert!(
            !tls13.windows(8).any(|w| w == b"10.0.0.1"),
            "no SNI for an address"
        );
    }

    #[test]
    fn a_flight_reads_its_hello_chain_and_end_across_records() {
        let mut bytes = server_hello_record(0x0301, 0x002f);
        let mut certs = Vec::new();
        put_vec(&mut certs, 3, b"not really DER");
        let mut body = Vec::new();
        put_vec(&mut body, 3, &certs);
        let mut hs = vec![11];
        put_vec(&mut hs, 3, &body);
        hs.extend_from_slice(&[14, 0, 0, 0]);
        // The certificate message split over two records.
        let (a, b) = hs.split_at(6);
        for part in [a, b] {
            let mut record = vec![22, 3, 1];
            put_vec(&mut record, 2, part);
            bytes.extend_from_slice(&record);
        }
        let half = parse_flight(&bytes[..bytes.len() - 3]).unwrap();
        assert!(!half.done && half.hello.is_some());
        let flight = parse_flight(&bytes).unwrap();
        assert!(flight.done);
        assert_eq!(
            flight.hello,
            Some(ServerHello {
                version: 0x0301,
                suite: 0x002f,
                retry: false
            })
        );
        assert_eq!(flight.certificates, [b"not really DER".to_vec()]);

        let tls13 = parse_flight(&server_hello_record(0x0304, 0x1301)).unwrap();
        assert!(tls13.done);
        assert_eq!(tls13.hello.unwrap().version, 0x0304);
        let alert = parse_flight(&[21, 3, 3, 0, 2, 2, 70]).unwrap();
        assert_eq!((alert.alert, alert.done), (Some(70), true));
        assert_eq!(
            parse_flight(b"SSH-2.0-x\r\n"),
            Err(FlightError::NotTls(b'S'))
        );
        assert!(parse_flight(&[22, 3, 3, 0x7f, 0xff]).is_err());
    }
}
