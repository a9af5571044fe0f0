//! Any bytes as a CVE JSON 5 record: an advisory or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::cve5::fuzz_read(data);
});
