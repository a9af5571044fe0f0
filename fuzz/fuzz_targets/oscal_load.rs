//! Any bytes, read as JSON and as YAML: the loader returns a document or an error, never
//! panics, overflows or runs away.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_oscal::fuzz_load(data);
});
