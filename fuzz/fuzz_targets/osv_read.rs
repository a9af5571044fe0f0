//! Any bytes as an OSV record, in JSON and in YAML: an advisory or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::osv::fuzz_read(data);
});
