//! Any bytes as a firmware image: signatures, SquashFS, uImage and gzip parsing, the tree and
//! the analysis; regions and findings, never a panic, within the limits.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_scan(data);
});
