//! Any bytes, checked as a product declaration in YAML and JSON: diagnostics, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_declare::fuzz_check(data);
});
