//! Any bytes as a CPE name: a precise error, never a panic; whatever parses binds back to a
//! formatted string that parses to the same name.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_vulns::cpe::fuzz_cpe_parse(data);
});
