//! mDNS / DNS-SD: what the device advertises to anyone on the link (RFC 6762, RFC 6763).
//! Queries go to the device's own address, UDP port 5353, from an ordinary port, which makes
//! them "legacy unicast" queries (RFC 6762 section 6.7): the responder answers that port
//! directly, so nothing is sent to the multicast group and only the named host is asked.
//!
//! First the service types (`_services._dns-sd._udp.local`), then the instances of each and
//! their SRV and TXT records, which often carry model names and firmware versions.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::conn::Limits;
use crate::service::printable;
use crate::wire::{Cursor, Short};

pub const MDNS_PORT: u16 = 5353;
/// Service types and instances followed, at most.
const MAX_TYPES: usize = 16;
const MAX_INSTANCES: usize = 32;
/// How long one answer is awaited.
const WAIT: Duration = Duration::from_millis(1500);

const TYPE_A: u16 = 1;
const TYPE_PTR: u16 = 12;
const TYPE_TXT: u16 = 16;
const TYPE_AAAA: u16 = 28;
const TYPE_SRV: u16 = 33;

/// What one resource record says, for the types DNS-SD uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    Ptr(String),
    Srv { port: u16, target: String },
    Txt(Vec<String>),
    Address(IpAddr),
    Other(u16),
}

/// A resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub name: String,
    pub data: Data,
}

/// Why an answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error(transparent)]
    Short(#[from] Short),
    #[error("a name at offset {0} points forward or loops")]
    Pointer(usize),
    #[error("a name at offset {0} is longer than 255 bytes")]
    LongName(usize),
    #[error("not an answer to our query (id {0:#06x})")]
    NotOurs(u16),
}

/// A name at the cursor, following compression pointers (each must point backwards, so a
/// loop cannot form).
fn name<'a>(message: &'a [u8], c: &mut Cursor<'a>) -> Result<String, DnsError> {
    let mut labels: Vec<String> = Vec::new();
    let mut length = 0;
    let mut jumped: Option<Cursor<'_>> = None;
    let mut here = c.clone();
    let mut limit = here.offset();
    loop {
        let start = here.offset();
        let len = here.u8("label length")?;
        match len {
            0 => break,
            l if l & 0xc0 == 0xc0 => {
                let low = here.u8("compression pointer")?;
                let target = usize::from(l & 0x3f) << 8 | usize::from(low);
                if target >= limit {
                    return Err(DnsError::Pointer(start));
                }
                limit = target;
                if jumped.is_none() {
                    jumped = Some(here);
                }
                let mut next = Cursor::new(message);
                next.take(target, "pointer target")?;
                here = next;
            }
            l if l & 0xc0 != 0 => return Err(DnsError::Pointer(start)),
            l => {
                let label = here.take(usize::from(l), "label")?;
                length += label.len() + 1;
                if length > 255 {
                    return Err(DnsError::LongName(start));
                }
                labels.push(printable(label));
            }
        }
    }
    *c = jumped.unwrap_or(here);
    Ok(labels.join("."))
}

/// The records of an answer to the query with `id` (answers, authority and additional).
pub fn parse(message: &[u8], id: u16) -> Result<Vec<Record>, DnsError> {
    let mut c = Cursor::new(message);
    let got = c.u16("id")?;
    if got != id {
        return Err(DnsError::NotOurs(got));
    }
    let _flags = c.u16("flags")?;
    let questions = c.u16("question count")?;
    let mut records = usize::from(c.u16("answer count")?);
    records += usize::from(c.u16("authority count")?);
    records += usize::from(c.u16("additional count")?);
    for _ in 0..questions {
        name(message, &mut c)?;
        c.take(4, "question type and class")?;
    }
    let mut out = Vec::new();
    for _ in 0..records.min(512) {
        let owner = name(message, &mut c)?;
        let kind = c.u16("record type")?;
        let _class = c.u16("record class")?;
        let _ttl = c.u32("record ttl")?;
        let length = usize::from(c.u16("record length")?);
        let start = c.offset();
        let mut rdata = c.sub(length, "record data")?;
        let data = match kind {
            TYPE_PTR => {
                let mut at = Cursor::new(message);
                at.take(start, "record data")?;
                Data::Ptr(name(message, &mut at)?)
            }
            TYPE_SRV => {
                rdata.take(4, "SRV priority and weight")?;
                let port = rdata.u16("SRV port")?;
                let mut at = Cursor::new(message);
                at.take(start + 6, "SRV target")?;
                Data::Srv {
                    port,
                    target: name(message, &mut at)?,
                }
            }
            TYPE_TXT => {
                let mut strings = Vec::new();
                while !rdata.is_empty() {
                    let s = rdata.vec8("TXT string")?;
                    if !s.is_empty() {
                        strings.push(printable(s));
                    }
                }
                Data::Txt(strings)
            }
            TYPE_A if length == 4 => {
                let b = rdata.take(4, "A address")?;
                Data::Address(IpAddr::from([b[0], b[1], b[2], b[3]]))
            }
            TYPE_AAAA if length == 16 => {
                let b = rdata.take(16, "AAAA address")?;
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                Data::Address(IpAddr::from(a))
            }
            other => Data::Other(other),
        };
        out.push(Record { name: owner, data });
    }
    Ok(out)
}

/// A one-question query for `qname` of `qtype` with `id`.
pub fn query(id: u16, qname: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in qname.split('.').filter(|l| !l.is_empty()) {
        let bytes = &label.as_bytes()[..label.len().min(63)];
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out
}

/// One advertised service instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Advertised {
    pub instance: String,
    pub service_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub txt: Vec<String>,
}

/// What the device advertises over mDNS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MdnsReport {
    pub service_types: Vec<String>,
    pub services: Vec<Advertised>,
    /// Host names the answers gave addresses for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub host_names: Vec<String>,
}

/// A connected socket to the responder, and the next query's id.
struct Asker {
    socket: UdpSocket,
    id: u16,
}

impl Asker {
    fn new(address: IpAddr) -> std::io::Result<Self> {
        let any: SocketAddr = match address {
            IpAddr::V4(_) => "0.0.0.0:0",
            IpAddr::V6(_) => "[::]:0",
        }
        .parse()
        .map_err(std::io::Error::other)?;
        let socket = UdpSocket::bind(any)?;
        socket.connect((address, MDNS_PORT))?;
        let mut random = [0u8; 2];
        let _ = getrandom::fill(&mut random);
        Ok(Self {
            socket,
            id: u16::from_be_bytes(random),
        })
    }

    /// The records answering `qname`: none when nothing answered in time.
    fn ask(&mut self, qname: &str, qtype: u16, limits: &Limits) -> std::io::Result<Vec<Record>> {
        limits.pace()?;
        self.id = self.id.wrapping_add(1);
        match self.socket.send(&query(self.id, qname, qtype)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Ok(Vec::new()),
            Err(e) => return Err(e),
        }
        let deadline = (Instant::now() + WAIT.min(limits.read_timeout)).min(limits.run_deadline);
        let mut buf = [0u8; 9000];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            self.socket.set_read_timeout(Some(left))?;
            match self.socket.recv(&mut buf) {
                Ok(n) => match parse(&buf[..n], self.id) {
                    Ok(records) => return Ok(records),
                    // A stray or broken answer: keep listening until the deadline.
                    Err(_) => continue,
                },
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::ConnectionRefused
                    ) =>
                {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

fn ptrs(records: &[Record], owner: &str) -> Vec<String> {
    let mut out: Vec<String> = records
        .iter()
        .filter(|r| r.name.eq_ignore_ascii_case(owner))
        .filter_map(|r| match &r.data {
            Data::Ptr(p) => Some(p.clone()),
            _ => None,
        })
        .collect();
    out.dedup();
    out
}

/// The whole mDNS check of `address`: `None` when it advertises nothing.
pub fn probe(address: IpAddr, limits: &Limits) -> std::io::Result<Option<MdnsReport>> {
    let mut asker = Asker::new(address)?;
    let types = ptrs(
        &asker.ask("_services._dns-sd._udp.local", TYPE_PTR, limits)?,
        "_services._dns-sd._udp.local",
    );
    if types.is_empty() {
        return Ok(None);
    }
    let mut report = MdnsReport {
        service_types: types.clone(),
        ..MdnsReport::default()
    };
    for service_type in types.iter().take(MAX_TYPES) {
        if limits.time_is_up() || report.services.len() >= MAX_INSTANCES {
            break;
        }
        let mut records = asker.ask(service_type, TYPE_PTR, limits)?;
        for instance in ptrs(&records, service_type) {
            if report.services.len() >= MAX_INSTANCES {
                break;
            }
            let mut details = |kind: u16, records: &mut Vec<Record>| -> std::io::Result<()> {
                let known = records.iter().any(|r| {
                    r.name.eq_ignore_ascii_case(&instance)
                        && matches!(
                            (&r.data, kind),
                            (Data::Srv { .. }, TYPE_SRV) | (Data::Txt(_), TYPE_TXT)
                        )
                });
                if !known {
                    records.extend(asker.ask(&instance, kind, limits)?);
                }
                Ok(())
            };
            details(TYPE_SRV, &mut records)?;
            details(TYPE_TXT, &mut records)?;
            let mut advertised = Advertised {
                instance: instance.clone(),
                service_type: service_type.clone(),
                port: None,
                target: String::new(),
                txt: Vec::new(),
            };
            for r in records
                .iter()
                .filter(|r| r.name.eq_ignore_ascii_case(&instance))
            {
                match &r.data {
                    Data::Srv { port, target } => {
                        advertised.port = Some(*port);
                        advertised.target = target.clone();
                    }
                    Data::Txt(t) => advertised.txt = t.clone(),
                    _ => {}
                }
            }
            for r in &records {
                if matches!(r.data, Data::Address(_)) && !report.host_names.contains(&r.name) {
                    report.host_names.push(r.name.clone());
                }
            }
            report.services.push(advertised);
        }
    }
    Ok(Some(report))
}

/// For the fuzz target: any bytes as an mDNS answer.
pub fn fuzz_answer(bytes: &[u8]) {
    let id = bytes
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let _ = parse(bytes, id);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_and_compressed_answers_are_read() {
        let q = query(0x1234, "_http._tcp.local", TYPE_PTR);
        assert_eq!(&q[..12], [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            &q[12..],
            b"\x05_http\x04_tcp\x05local\x00\x00\x0c\x00\x01".as_slice()
        );
        // An answer with one PTR whose target points back into the question.
        let mut a = q.clone();
        a[2] = 0x84;
        a[7] = 1;
        a.extend_from_slice(&[0xc0, 12, 0, 12, 0, 1, 0, 0, 0, 10, 0, 7]);
        a.extend_from_slice(&[4, b'c', b'a', b'm', b'1', 0xc0, 12]);
        let records = parse(&a, 0x1234).unwrap();
        assert_eq!(
            records,
            [Record {
                name: "_http._tcp.local".to_owned(),
                data: Data::Ptr("cam1._http._tcp.local".to_owned()),
            }]
        );
        assert!(matches!(parse(&a, 1), Err(DnsError::NotOurs(0x1234))));
        // A pointer to itself is refused, not followed forever.
        let mut looped = a.clone();
        let at = looped.len() - 2;
        looped[at + 1] = u8::try_from(at).unwrap();
        assert!(parse(&looped, 0x1234).is_err());
    }
}
