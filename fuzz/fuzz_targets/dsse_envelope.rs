//! Any bytes as a DSSE envelope (with its payload as an in-toto Statement), as a Statement
//! and as a trust policy: precise errors, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_attest::verify::fuzz_dsse_envelope(data);
});
