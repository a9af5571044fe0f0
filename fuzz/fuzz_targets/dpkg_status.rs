//! Any bytes as dpkg's status file: installed packages, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    iotmark_firmware::fuzz_dpkg_status(data);
});
