//! Any bytes as apk's installed database: packages, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_apk_database(data);
});
