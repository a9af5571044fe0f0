//! Any bytes as an rpm header blob and as an rpm database (SQLite, BerkeleyDB hash, ndb): packages or an error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_rpm_database(data);
});
