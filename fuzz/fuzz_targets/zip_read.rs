//! Any bytes as a ZIP archive, every entry inflated within the limits: never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::zip::fuzz_read(data);
});
