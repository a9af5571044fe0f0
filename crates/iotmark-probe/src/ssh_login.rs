//! SSH password logins: whether the server takes passwords at all, and whether a
//! factory-default pair from the bounded list opens it (EN 303 645 5.1-1). The key exchange
//! and encryption are russh's (a full client, as a lab's `ssh` would be); the host key it
//! presents is kept for comparison with the keys baked into the firmware image.
//!
//! Each connection is paced and bounded like every other; a server that closes after some
//! failed attempts (dropbear after ten, OpenSSH after `MaxAuthTries`) is simply connected to
//! again for the pairs left.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::MethodKind;
use russh::client::{self, AuthResult, Handle};
use russh::keys::{HashAlg, PublicKeyOrCertificate};
use serde::Serialize;
use sha2::Digest as _;

use crate::conn::Limits;
use crate::http::Credential;

/// The key an SSH server proved it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostKey {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512` …
    pub algorithm: String,
    /// OpenSSH's form: `SHA256:` and the unpadded base64 of the key blob's digest.
    pub fingerprint: String,
    /// The SHA-256 of the public key blob, in hex: what the firmware scan records for the
    /// host keys it finds, so the two can be compared.
    pub sha256: String,
}

/// What the SSH service's authentication allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SshLogin {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_key: Option<HostKey>,
    /// The methods the server offered after `none` (RFC 4252 section 5.2).
    pub methods: Vec<String>,
    /// It let a user in with no authentication at all.
    pub open_without_password: bool,
    pub tried: usize,
    /// The user whose default password logged in (the password is never reported).
    pub opened_by: Option<String>,
    /// How long each refused password took, in milliseconds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusals_ms: Vec<u64>,
}

impl SshLogin {
    pub fn takes_passwords(&self) -> bool {
        self.methods.iter().any(|m| m == "password")
    }
}

/// Why the SSH login check stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("SSH connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("SSH handshake: {0}")]
    Ssh(String),
    #[error("the SSH exchange took longer than {0:?}")]
    Timeout(Duration),
}

impl From<russh::Error> for LoginError {
    fn from(e: russh::Error) -> Self {
        LoginError::Ssh(e.to_string())
    }
}

/// Records the server's host key and accepts it: the probe is not deciding whom to trust,
/// it is looking at what the device presents.
struct Recorder(Arc<Mutex<Option<HostKey>>>);

impl client::Handler for Recorder {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => c.public_key().clone().into(),
        };
        let blob = key.to_bytes().unwrap_or_default();
        let seen = HostKey {
            algorithm: key.algorithm().as_str().to_owned(),
            fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
            sha256: hex(&sha2::Sha256::digest(&blob)),
        };
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(seen);
        }
        Ok(true)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Tries `credentials` by password until one logs in, the server shows it takes no
/// passwords, or the run's time is up.
pub fn logins(
    addr: SocketAddr,
    credentials: &[Credential],
    limits: &Limits,
) -> Result<SshLogin, LoginError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(addr, credentials, limits))
}

async fn run(
    addr: SocketAddr,
    credentials: &[Credential],
    limits: &Limits,
) -> Result<SshLogin, LoginError> {
    let seen = Arc::new(Mutex::new(None));
    let mut report = SshLogin::default();
    let deadline = limits.exchange_timeout;
    // Servers refuse a second user name on one connection (dropbear fails every attempt
    // after the first user's, OpenSSH disconnects), so each user gets connections of its own.
    for (user, pairs) in by_user(credentials) {
        let mut left = pairs.iter().peekable();
        let mut connections = 0;
        while left.peek().is_some() && !limits.time_is_up() && connections <= pairs.len() {
            connections += 1;
            let mut session = connect(addr, limits, Arc::clone(&seen)).await?;
            if report.methods.is_empty() {
                match bounded(deadline, session.authenticate_none(user)).await? {
                    AuthResult::Success => {
                        report.open_without_password = true;
                        report.opened_by = Some(user.to_owned());
                        close(&session).await;
                        return Ok(finish(report, &seen));
                    }
                    AuthResult::Failure {
                        remaining_methods, ..
                    } => {
                        report.methods = remaining_methods
                            .iter()
                            .map(|m| <&str>::from(m).to_owned())
                            .collect();
                        if !remaining_methods.contains(&MethodKind::Password) {
                            close(&session).await;
                            return Ok(finish(report, &seen));
                        }
                    }
                }
            }
            while let Some(c) = left.peek() {
                if limits.time_is_up() {
                    break;
                }
                let asked = std::time::Instant::now();
                match bounded(
                    deadline,
                    session.authenticate_password(c.user.clone(), c.password.clone()),
                )
                .await
                {
                    Ok(AuthResult::Success) => {
                        report.tried += 1;
                        report.opened_by = Some(c.user.clone());
                        close(&session).await;
                        return Ok(finish(report, &seen));
                    }
                    Ok(AuthResult::Failure { .. }) => {
                        report.tried += 1;
                        report.refusals_ms.push(crate::http::elapsed_ms(asked));
                        left.next();
                    }
                    // The server closed after too many failures: the pair is tried again
                    // on a fresh connection.
                    Err(LoginError::Ssh(_)) => break,
                    Err(e) => return Err(e),
                }
            }
            close(&session).await;
        }
    }
    Ok(finish(report, &seen))
}

/// The pairs grouped by user name, users in the order they first appear.
fn by_user(credentials: &[Credential]) -> Vec<(&str, Vec<&Credential>)> {
    let mut groups: Vec<(&str, Vec<&Credential>)> = Vec::new();
    for c in credentials {
        match groups.iter_mut().find(|(u, _)| *u == c.user) {
            Some((_, pairs)) => pairs.push(c),
            None => groups.push((&c.user, vec![c])),
        }
    }
    groups
}

async fn close(session: &Handle<Recorder>) {
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "")
        .await;
}

fn finish(mut report: SshLogin, seen: &Mutex<Option<HostKey>>) -> SshLogin {
    report.host_key = seen.lock().ok().and_then(|k| k.clone());
    report
}

async fn connect(
    addr: SocketAddr,
    limits: &Limits,
    seen: Arc<Mutex<Option<HostKey>>>,
) -> Result<Handle<Recorder>, LoginError> {
    limits.pace()?;
    let stream = std::net::TcpStream::connect_timeout(&addr, limits.connect_timeout)?;
    stream.set_nodelay(true)?;
    stream.set_nonblocking(true)?;
    let stream = tokio::net::TcpStream::from_std(stream)?;
    let config = Arc::new(client::Config {
        inactivity_timeout: Some(limits.exchange_timeout),
        ..client::Config::default()
    });
    bounded(
        limits.exchange_timeout,
        client::connect_stream(config, stream, Recorder(seen)),
    )
    .await
}

async fn bounded<T>(
    limit: Duration,
    work: impl Future<Output = Result<T, russh::Error>>,
) -> Result<T, LoginError> {
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r.map_err(LoginError::from),
        Err(_) => Err(LoginError::Timeout(limit)),
    }
}
