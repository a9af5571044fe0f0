//! A TCP connect scan: a full connection to each port (no raw packets, no privileges), a
//! few at a time, paced by the limits' rate. Open is a completed handshake; refused and
//! timed-out ports are closed or filtered, and not reported.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::conn::Limits;

/// Connections attempted at once.
const WORKERS: usize = 32;

/// The ports found open, in the order given, and those the run's time left unscanned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    pub open: Vec<u16>,
    pub not_scanned: Vec<u16>,
}

/// Connects to each of `ports` on `address`.
pub fn connect_scan(
    address: IpAddr,
    ports: &[u16],
    limits: &Limits,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Scanned {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let open = Mutex::new(Vec::new());
    let not_scanned = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WORKERS.min(ports.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&port) = ports.get(i) else { break };
                    let is_open = match limits.pace() {
                        Ok(()) => TcpStream::connect_timeout(
                            &SocketAddr::new(address, port),
                            limits.connect_timeout,
                        )
                        .is_ok(),
                        Err(_) => {
                            if let Ok(mut n) = not_scanned.lock() {
                                n.push(port);
                            }
                            false
                        }
                    };
                    if is_open && let Ok(mut o) = open.lock() {
                        o.push(port);
                    }
                    progress(done.fetch_add(1, Ordering::Relaxed) + 1, ports.len());
                }
            });
        }
    });
    let order = |mut v: Vec<u16>| {
        v.sort_by_key(|p| ports.iter().position(|q| q == p));
        v
    };
    Scanned {
        open: order(open.into_inner().unwrap_or_default()),
        not_scanned: order(not_scanned.into_inner().unwrap_or_default()),
    }
}
