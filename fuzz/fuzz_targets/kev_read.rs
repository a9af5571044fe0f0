//! Any bytes as a CISA KEV catalog: entries or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::kev::fuzz_read(data);
});
