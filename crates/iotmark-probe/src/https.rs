//! A whole TLS session (rustls), for what single ClientHellos cannot see: the certificate a
//! TLS 1.3 server sends encrypted, and what is served inside: a web interface (its
//! `Strict-Transport-Security` and other headers) or an MQTT broker (MQTT over TLS, and
//! whether it takes a CONNECT without credentials).
//!
//! The verifier records the chain instead of judging it: a device's certificate is what the
//! probe reports on, not a reason to stop. The handshake signature is still verified, so the
//! server has proved it holds the key of the certificate recorded.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::conn::Limits;
use crate::http::{Response, SecurityHeaders};
use crate::service::{Service, classify_mqtt, host_header, mqtt_connect};

/// What one TLS session showed.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// The chain the server sent, leaf first (DER).
    pub certificates: Vec<Vec<u8>>,
    /// The page at `/` over TLS, when the server speaks HTTP inside.
    pub headers: Option<SecurityHeaders>,
    pub status: Option<u16>,
    /// The CONNACK return code, when the server speaks MQTT inside.
    pub mqtt_return_code: Option<u8>,
}

/// What is asked inside a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner {
    /// `GET /`.
    Http,
    /// An MQTT CONNECT without credentials.
    Mqtt,
}

#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut chain) = self.chain.lock() {
            *chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.as_ref().to_vec())
                .collect();
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A TLS connection under the limits, its handshake done.
struct Connection {
    tls: rustls::ClientConnection,
    sock: std::net::TcpStream,
    deadline: Instant,
    chain: Vec<Vec<u8>>,
}

impl Connection {
    fn open(addr: SocketAddr, host: &str, limits: &Limits) -> std::io::Result<Connection> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let recorder = Arc::new(Recorder {
            chain: Mutex::new(Vec::new()),
            algorithms: provider.signature_verification_algorithms,
        });
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(std::io::Error::other)?
            .dangerous()
            .with_custom_certificate_verifier(recorder.clone())
            .with_no_client_auth();
        let name = match host.parse::<std::net::IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.to_owned())
                .unwrap_or(ServerName::IpAddress(addr.ip().into())),
        };
        let mut tls =
            rustls::ClientConnection::new(Arc::new(config), name).map_err(std::io::Error::other)?;
        limits.pace()?;
        let mut sock = std::net::TcpStream::connect_timeout(&addr, limits.connect_timeout)?;
        sock.set_read_timeout(Some(limits.read_timeout))?;
        sock.set_write_timeout(Some(limits.read_timeout))?;
        let deadline = (Instant::now() + limits.exchange_timeout).min(limits.run_deadline);
        while tls.is_handshaking() {
            if Instant::now() >= deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the TLS handshake's time is up",
                ));
            }
            let (read, _) = tls.complete_io(&mut sock)?;
            if read == 0 && tls.is_handshaking() && !tls.wants_write() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed during the TLS handshake",
                ));
            }
        }
        let chain = recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
        Ok(Connection {
            tls,
            sock,
            deadline,
            chain,
        })
    }

    /// Sends `request` and reads the answer until `enough`, the close, the deadline or
    /// `cap` bytes.
    fn exchange(
        &mut self,
        request: &[u8],
        cap: usize,
        enough: impl Fn(&[u8]) -> bool,
    ) -> std::io::Result<Vec<u8>> {
        let mut stream = rustls::Stream::new(&mut self.tls, &mut self.sock);
        stream.write_all(request)?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 16 << 10];
        while answer.len() < cap && Instant::now() < self.deadline {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
            if enough(&answer) {
                break;
            }
        }
        Ok(answer)
    }
}

/// One request over a TLS connection of its own: the answer until `enough`, the close or a
/// limit (what `http::request` uses for HTTPS).
pub fn exchange(
    addr: SocketAddr,
    host: &str,
    request: &[u8],
    limits: &Limits,
    enough: impl Fn(&[u8]) -> bool,
) -> std::io::Result<Vec<u8>> {
    Connection::open(addr, host, limits)?.exchange(request, limits.max_response_bytes, enough)
}

/// Opens a TLS session to `addr` (TLS 1.2 or 1.3, which is all rustls speaks), records the
/// chain, and asks `inner` once inside.
pub fn session(
    addr: SocketAddr,
    host: &str,
    inner: Inner,
    limits: &Limits,
) -> std::io::Result<Session> {
    let mut connection = Connection::open(addr, host, limits)?;
    let mut out = Session {
        certificates: connection.chain.clone(),
        ..Session::default()
    };
    let request = match inner {
        Inner::Http => format!(
            "GET / HTTP/1.1\r\nHost: {}\r\nUser-Agent: iotmark-probe\r\nConnection: close\r\n\r\n",
            host_header(host, addr.port())
        )
        .into_bytes(),
        Inner::Mqtt => mqtt_connect(),
    };
    let enough = |a: &[u8]| match inner {
        Inner::Http => a.windows(4).any(|w| w == b"\r\n\r\n"),
        Inner::Mqtt => a.len() >= 4,
    };
    let Ok(answer) = connection.exchange(&request, 16 << 10, enough) else {
        return Ok(out);
    };
    match inner {
        Inner::Http => {
            if let Some(r) = Response::parse(&answer) {
                out.status = Some(r.status);
                out.headers = Some(SecurityHeaders::of(&r));
            }
        }
        Inner::Mqtt => {
            if let Some(Service::Mqtt { return_code }) = classify_mqtt(&answer) {
                out.mqtt_return_code = Some(return_code);
            }
        }
    }
    Ok(out)
}
