//! Any bytes as an NVD CVE JSON 2.0 feed, API page or record (plain or gzip): records or errors, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::nvd::fuzz_read(data);
});
