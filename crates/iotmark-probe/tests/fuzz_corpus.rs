//! The `probe_handshake` fuzz target's seed corpus (`fuzz/corpus/`) runs here on stable, with
//! truncations and a sweep of byte flips of each seed: errors, no panics. The TLS, SSH,
//! MQTT, HTTP and UPnP seeds are real answers captured from Debian's openssl s_server,
//! dropbear, mosquitto, lighttpd (a Digest challenge, a login form), miniupnpd (an SSDP
//! answer, its description, a SOAP fault) and avahi-daemon (two mDNS answers) to our openings, so mutations reach deep into each
//! parser.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use iotmark_probe::service::{self, Service};
use iotmark_probe::{http, mdns, ssh, tls, upnp};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/probe_handshake")
}

fn run(data: &[u8]) {
    tls::fuzz_flight(data);
    ssh::fuzz_greeting(data);
    service::fuzz_banner(data);
    iotmark_probe::telnet::fuzz_stream(data);
    iotmark_probe::http::fuzz_response(data);
    iotmark_probe::upnp::fuzz_upnp(data);
    iotmark_probe::mdns::fuzz_answer(data);
}

#[test]
fn fuzz_corpus_and_its_mutations_run_without_panicking() {
    let mut count = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        run(&data);
        // Every offset of a small seed; about a thousand spread over a large one (a UPnP
        // description), which keeps each parser's every region covered in a few seconds.
        let step = data.len().div_ceil(1024).max(1);
        for len in (0..data.len()).step_by(step) {
            run(&data[..len]);
        }
        let mut mutated = data.clone();
        for i in (0..data.len()).step_by(step) {
            for b in [0x00, 0x7f, 0x80, 0xff] {
                let old = mutated[i];
                mutated[i] = b;
                run(&mutated);
                mutated[i] = old;
            }
        }
        count += 1;
    }
    assert!(
        count >= 14,
        "expected the seed corpus in {}",
        corpus().display()
    );
}

#[test]
fn the_seeds_are_genuine_answers() {
    let read = |name: &str| std::fs::read(corpus().join(name)).unwrap();
    let flight = tls::parse_flight(&read("tls10-flight.bin")).unwrap();
    assert!(flight.done);
    assert_eq!(flight.hello.as_ref().unwrap().version, 0x0301);
    let cert = iotmark_probe::observe::CertificateView::read(&flight.certificates[0]).unwrap();
    assert_eq!(
        (cert.subject.as_str(), cert.key.as_str()),
        ("CN=old.device.test", "RSA 1024-bit")
    );
    let hello = tls::parse_flight(&read("tls13-hello.bin"))
        .unwrap()
        .hello
        .unwrap();
    assert_eq!((hello.version, hello.suite), (0x0304, 0x1301));
    assert!(
        tls::parse_flight(&read("tls-alert.bin"))
            .unwrap()
            .alert
            .is_some()
    );
    let greeting = ssh::parse_greeting(&read("dropbear-greeting.bin"))
        .unwrap()
        .unwrap();
    assert!(
        greeting.banner.starts_with("SSH-2.0-dropbear"),
        "{greeting:?}"
    );
    assert_eq!(
        service::classify_mqtt(&read("mqtt-connack.bin")),
        Some(Service::Mqtt { return_code: 0 })
    );
    assert!(matches!(
        service::classify_banner(&read("telnet-login.bin")),
        Service::Telnet { prompt } if prompt.ends_with("camera login:")
    ));
    // lighttpd's Digest challenge and a login form; miniupnpd's SSDP answer, description and
    // SOAP fault.
    let digest = http::Response::parse(&read("http-digest-401.txt")).unwrap();
    assert!(matches!(
        http::challenges(&digest).first(),
        Some(http::Challenge::Digest { realm, .. }) if realm == "camera"
    ));
    let page = http::Response::parse(&read("http-login-form.txt")).unwrap();
    assert_eq!(
        http::login_form(&page.body, "/").unwrap().password_field,
        "password"
    );
    let answer = upnp::parse_answer(&read("ssdp-answer.txt")).unwrap();
    assert!(answer.server.contains("MiniUPnPd"), "{answer:?}");
    let description = http::Response::parse(&read("upnp-description.txt")).unwrap();
    let d = upnp::parse_description(&description.body);
    assert!(
        d.services
            .iter()
            .any(|s| s.service_type.contains("WANIPConnection")),
        "{d:?}"
    );
    let fault = String::from_utf8(read("upnp-soap-fault.txt")).unwrap();
    assert!(fault.contains("<errorCode>714</errorCode>"));
    let types = read("mdns-service-types.bin");
    let records = mdns::parse(&types, u16::from_be_bytes([types[0], types[1]])).unwrap();
    assert_eq!(records.len(), 2, "{records:?}");
    let instances = read("mdns-http-instances.bin");
    let records =
        mdns::parse(&instances, u16::from_be_bytes([instances[0], instances[1]])).unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.data == mdns::Data::Txt(vec!["model=SC200".into(), "fw=2.4.1".into()])),
        "{records:?}"
    );
}
