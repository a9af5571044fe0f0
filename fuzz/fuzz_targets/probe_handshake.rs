//! Any bytes as what a probed peer sends: a TLS server's first flight (and the certificates
//! in it), an SSH greeting, a telnet stream, a banner, an HTTP response (its challenges,
//! login form and headers), an MQTT CONNACK, an SSDP answer, UPnP description or SOAP
//! fault, or an mDNS answer, as `iotmark probe` reads them: an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_probe::tls::fuzz_flight(data);
    iotmark_probe::ssh::fuzz_greeting(data);
    iotmark_probe::service::fuzz_banner(data);
    iotmark_probe::telnet::fuzz_stream(data);
    iotmark_probe::http::fuzz_response(data);
    iotmark_probe::upnp::fuzz_upnp(data);
    iotmark_probe::mdns::fuzz_answer(data);
});
