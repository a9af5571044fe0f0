//! Connections under limits: a connect timeout, a read timeout, a deadline for the whole
//! exchange, a cap on the bytes read, and a rate at which new connections may start. A peer
//! that talks forever, trickles bytes or never answers costs at most these.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The bounds every probe runs under.
#[derive(Debug)]
pub struct Limits {
    /// To establish a TCP connection.
    pub connect_timeout: Duration,
    /// To wait for the next bytes.
    pub read_timeout: Duration,
    /// For one exchange (a connection from open to close).
    pub exchange_timeout: Duration,
    /// Most bytes read from one connection.
    pub max_response_bytes: usize,
    /// Connections started per second, at most.
    pub connections_per_second: u32,
    /// The whole run ends by then; work not started is skipped and reported.
    pub run_deadline: Instant,
    /// Whether a UPnP gateway may be asked for a (short-lived) port mapping; off, the probe
    /// changes nothing on the device but what its login attempts do.
    pub port_mapping: bool,
    started: Mutex<Option<Instant>>,
}

impl Limits {
    pub fn new(
        connect_timeout: Duration,
        read_timeout: Duration,
        connections_per_second: u32,
        run_time: Duration,
    ) -> Self {
        Self {
            connect_timeout,
            read_timeout,
            exchange_timeout: read_timeout.saturating_mul(4),
            max_response_bytes: 256 << 10,
            connections_per_second: connections_per_second.max(1),
            run_deadline: Instant::now() + run_time,
            port_mapping: true,
            started: Mutex::new(None),
        }
    }

    /// Waits until the next connection may start; an error once the run's time is up.
    pub fn pace(&self) -> std::io::Result<()> {
        let gap = Duration::from_secs(1) / self.connections_per_second;
        let wait = {
            let mut last = self
                .started
                .lock()
                .map_err(|_| std::io::Error::other("the rate limiter's lock was poisoned"))?;
            let now = Instant::now();
            let next = last.map_or(now, |t| (t + gap).max(now));
            *last = Some(next);
            next - now
        };
        if Instant::now() + wait >= self.run_deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the probe's time is up (--max-time)",
            ));
        }
        std::thread::sleep(wait);
        Ok(())
    }

    pub fn time_is_up(&self) -> bool {
        Instant::now() >= self.run_deadline
    }
}

impl Default for Limits {
    /// 2 s to connect, 3 s per read, 50 connections a second, 10 minutes in all.
    fn default() -> Self {
        Self::new(
            Duration::from_secs(2),
            Duration::from_secs(3),
            50,
            Duration::from_secs(600),
        )
    }
}

/// One connection under [`Limits`].
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    deadline: Instant,
    read_timeout: Duration,
    budget: usize,
}

impl Conn {
    /// Connects, paced by the limits' rate.
    pub fn open(addr: SocketAddr, limits: &Limits) -> std::io::Result<Conn> {
        limits.pace()?;
        let stream = TcpStream::connect_timeout(&addr, limits.connect_timeout)?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(limits.read_timeout))?;
        Ok(Conn {
            stream,
            deadline: (Instant::now() + limits.exchange_timeout).min(limits.run_deadline),
            read_timeout: limits.read_timeout,
            budget: limits.max_response_bytes,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The next bytes the peer sends: `None` when it closed. Times out after the read
    /// timeout, or at the exchange's deadline, and ends once the byte budget is spent.
    pub fn read_some(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the exchange's time is up",
            ));
        }
        if self.budget == 0 {
            return Ok(None);
        }
        self.stream
            .set_read_timeout(Some(self.read_timeout.min(left)))?;
        let mut buf = vec![0u8; self.budget.min(16 << 10)];
        let n = self.stream.read(&mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        self.budget -= n;
        Ok(Some(buf))
    }

    /// What a server that speaks first says within `wait`: its first bytes, and what follows
    /// them without a pause. Empty when it said nothing.
    pub fn read_banner(&mut self, wait: Duration) -> std::io::Result<Vec<u8>> {
        let read_timeout = self.read_timeout;
        self.read_timeout = wait;
        let first = self.read_some();
        self.read_timeout = read_timeout.min(Duration::from_millis(300));
        let mut bytes = match first {
            Ok(Some(b)) => b,
            Ok(None) => Vec::new(),
            Err(e) if quiet(&e) => Vec::new(),
            Err(e) => {
                self.read_timeout = read_timeout;
                return Err(e);
            }
        };
        while !bytes.is_empty() && bytes.len() < 4096 {
            match self.read_some() {
                Ok(Some(more)) => bytes.extend_from_slice(&more),
                _ => break,
            }
        }
        self.read_timeout = read_timeout;
        Ok(bytes)
    }

    /// Reads until `enough` says so, the peer closes or goes quiet, or a limit is reached;
    /// returns what came. Quiet is not an error: a banner may simply be all there is.
    pub fn read_until(&mut self, enough: impl Fn(&[u8]) -> bool) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        loop {
            match self.read_some() {
                Ok(Some(more)) => bytes.extend_from_slice(&more),
                Ok(None) => return Ok(bytes),
                Err(e) if quiet(&e) => return Ok(bytes),
                Err(e) => return Err(e),
            }
            if enough(&bytes) || self.budget == 0 {
                return Ok(bytes);
            }
        }
    }
}

/// A read that ended because the peer said nothing more in time, or reset the connection.
pub fn quiet(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::BrokenPipe
    )
}
